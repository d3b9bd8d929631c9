# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import yaml

from ansible_collections.agentarea.secrets.plugins.doc_fragments import (
    audit,
    aws,
    azure,
    docker,
    gcp,
    k8s,
    pass_store,
    vault,
)

# The module-side documentation of every backend, in one fragment for the modules that take any reference (their
# argument spec is the union of the backends' ARGSPEC). Each backend documents its options once, in its own
# fragment; this only puts them together, the first definition of a shared option winning as Ansible's own
# fragment merge does.
_PARTS = (
    audit.ModuleDocFragment.DOCUMENTATION,
    pass_store.ModuleDocFragment.DOCUMENTATION,
    vault.ModuleDocFragment.DOCUMENTATION, vault.ModuleDocFragment.MODULES,
    k8s.ModuleDocFragment.DOCUMENTATION,
    docker.ModuleDocFragment.DOCUMENTATION,
    aws.ModuleDocFragment.DOCUMENTATION, aws.ModuleDocFragment.MODULES,
    azure.ModuleDocFragment.DOCUMENTATION, azure.ModuleDocFragment.MODULES,
    gcp.ModuleDocFragment.DOCUMENTATION,
)


def _merge(parts):
    options = {}
    for part in parts:
        for name, spec in (yaml.safe_load(part).get('options') or {}).items():
            options.setdefault(name, spec)
    return yaml.safe_dump({'options': options}, default_flow_style=False, sort_keys=True)


class ModuleDocFragment:
    DOCUMENTATION = _merge(_PARTS)
