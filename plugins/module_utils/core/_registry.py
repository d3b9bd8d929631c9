# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Scheme -> backend class. Imports are explicit (AnsiballZ packs what it sees imported) and happen only for the
scheme asked for, so a playbook that reads Vault never imports boto3."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.agentarea.secrets.plugins.module_utils.core._errors import InvalidReference

# every scheme a reference may use; those without a backend here yet are reported as such
SCHEMES = ('vault', 'aws', 'ssm', 'azure', 'gcp', 'k8s', 'docker', 'pass', 'dotenv', 'file', 'env')


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
        from ansible_collections.agentarea.secrets.plugins.module_utils.backends.vault._backend import VaultBackend
        return VaultBackend
    if scheme == 'pass':
        from ansible_collections.agentarea.secrets.plugins.module_utils.backends._pass import PassBackend
        return PassBackend
    if scheme == 'k8s':
        from ansible_collections.agentarea.secrets.plugins.module_utils.backends.k8s._backend import K8sBackend
        return K8sBackend
    if scheme == 'docker':
        from ansible_collections.agentarea.secrets.plugins.module_utils.backends._docker import DockerBackend
        return DockerBackend
    if scheme == 'aws':
        from ansible_collections.agentarea.secrets.plugins.module_utils.backends.aws._backend import AwsBackend
        return AwsBackend
    if scheme == 'ssm':
        from ansible_collections.agentarea.secrets.plugins.module_utils.backends.aws._ssm import SsmBackend
        return SsmBackend
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


#: options that keep one name across every store because they mean the same everywhere
COMMON_OPTIONS = ('timeout', 'retries')


_SHARED = []


def shared_options():
    """``{option: [backend names]}`` for options that several stores declare under one name with a meaning of their
    own (a CA file, TLS verification, a token). Modules that take any reference also offer them per store
    (``k8s_validate_certs``) so one store's setting never reaches another; see ``_module.backend_options``. Stores of
    one ``FAMILY`` (aws and ssm: one AWS identity) share their options as one store does."""
    if not _SHARED:
        owners = {}
        for cls in all_backend_classes():
            for name in cls.ARGSPEC:
                owners.setdefault(name, []).append(cls.NAME)
        families = dict((cls.NAME, getattr(cls, 'FAMILY', None) or cls.NAME) for cls in all_backend_classes())
        _SHARED.append(dict((name, names) for name, names in owners.items()
                            if len(set(families[n] for n in names)) > 1 and name not in COMMON_OPTIONS))
    return _SHARED[0]


def store_option(backend, name):
    """The per-store name of a shared option: ``store_option('k8s', 'validate_certs')`` is ``k8s_validate_certs``."""
    return '%s_%s' % (backend, name)


def union_argspec():
    """The union of the backends' options, for modules that take any reference, plus the per-store form of every
    shared option (without a default: unset means "not given for this store"). Two backends that declare the same
    option name must declare it the same way (a unit test holds them to it)."""
    spec = {}
    for cls in all_backend_classes():
        for name, opt in cls.ARGSPEC.items():
            spec.setdefault(name, dict(opt))
    for name, owners in shared_options().items():
        for owner in owners:
            spec[store_option(owner, name)] = dict((k, v) for k, v in spec[name].items() if k != 'default')
    return spec


def union_env():
    env = {}
    for cls in all_backend_classes():
        for name, variables in cls.ENV.items():
            env.setdefault(name, tuple(variables))
    return env


def connection_argspec(schemes):
    """The argument spec of a module that talks to the stores ``schemes`` without reading secrets (access_policy,
    vault_audit): each backend's connection and auth options only (its ``CONNECTION``), plus the per-store form
    (``vault_ca_cert``, ``k8s_validate_certs``) of every option stores share a name for, as :func:`union_argspec`
    offers it. The plain form applies to every store of the module; the per-store form wins for its store."""
    shared = shared_options()
    spec = {}
    for scheme in schemes:
        cls = backend_class(scheme)
        for name in getattr(cls, 'CONNECTION', ()):
            spec.setdefault(name, dict(cls.ARGSPEC[name]))
            if name in shared:
                own = dict((k, v) for k, v in cls.ARGSPEC[name].items() if k != 'default')
                spec[store_option(cls.NAME, name)] = own
    return spec


def non_connection_options(schemes):
    """The options of ``schemes`` that :func:`connection_argspec` leaves out (an action plugin fills none of them)."""
    spec = connection_argspec(schemes)
    return tuple(sorted(set(name for scheme in schemes for name in backend_class(scheme).ARGSPEC if name not in spec)))
