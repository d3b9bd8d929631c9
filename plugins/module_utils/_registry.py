# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Scheme -> backend class. Imports are explicit (AnsiballZ packs what it sees imported) and happen only for the
scheme asked for, so a playbook that reads Vault never imports boto3."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.agentarea.secrets.plugins.module_utils._errors import InvalidReference

# every scheme a reference may use; those without a backend here yet are reported as such
SCHEMES = ('vault', 'aws', 'azure', 'gcp', 'k8s', 'docker', 'pass', 'dotenv', 'file', 'env')


def backend_class(scheme):
    # pylint: disable=import-outside-toplevel
    if scheme == 'file':
        from ansible_collections.agentarea.secrets.plugins.module_utils.backends._files import FileBackend
        return FileBackend
    if scheme == 'env':
        from ansible_collections.agentarea.secrets.plugins.module_utils.backends._files import EnvBackend
        return EnvBackend
    if scheme == 'dotenv':
        from ansible_collections.agentarea.secrets.plugins.module_utils.backends._dotenv import DotenvBackend
        return DotenvBackend
    if scheme == 'vault':
        from ansible_collections.agentarea.secrets.plugins.module_utils.backends._vault import VaultBackend
        return VaultBackend
    if scheme == 'pass':
        from ansible_collections.agentarea.secrets.plugins.module_utils.backends._pass import PassBackend
        return PassBackend
    if scheme == 'k8s':
        from ansible_collections.agentarea.secrets.plugins.module_utils.backends._k8s import K8sBackend
        return K8sBackend
    if scheme == 'docker':
        from ansible_collections.agentarea.secrets.plugins.module_utils.backends._docker import DockerBackend
        return DockerBackend
    if scheme == 'aws':
        from ansible_collections.agentarea.secrets.plugins.module_utils.backends._aws import AwsBackend
        return AwsBackend
    if scheme == 'azure':
        from ansible_collections.agentarea.secrets.plugins.module_utils.backends._azure import AzureBackend
        return AzureBackend
    if scheme == 'gcp':
        from ansible_collections.agentarea.secrets.plugins.module_utils.backends._gcp import GcpBackend
        return GcpBackend
    raise InvalidReference("no backend for scheme '%s' in this version of agentarea.secrets" % scheme)


def all_backend_classes():
    """Every backend that exists (for argspec unions and docs tests)."""
    classes = []
    for scheme in SCHEMES:
        try:
            cls = backend_class(scheme)
        except InvalidReference:
            continue
        if cls not in classes:
            classes.append(cls)
    return classes


def union_argspec():
    """The union of the backends' options, for modules that take any reference. Two backends that declare
    the same option name must declare it the same way (a unit test holds them to it)."""
    spec = {}
    for cls in all_backend_classes():
        for name, opt in cls.ARGSPEC.items():
            spec.setdefault(name, dict(opt))
    return spec


def union_env():
    env = {}
    for cls in all_backend_classes():
        for name, variables in cls.ENV.items():
            env.setdefault(name, tuple(variables))
    return env
