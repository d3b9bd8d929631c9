# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: vault_list
short_description: List any Vault or OpenBao API path (not only KV)
version_added: 0.2.0
author:
  - agentarea.secrets contributors (@agentarea)
description:
  - Lists a path of the Vault/OpenBao HTTP API (C(LIST /v1/<path>)) and returns its keys, such as
    C(transit/keys), C(auth/approle/role), C(pki/certs), C(sys/policies/acl) or the KV v2 C(secret/metadata/app).
    The counterpart of C(community.hashi_vault.vault_list), returning the keys rather than the raw response.
  - Each term is the API path, without C(/v1/) (a C(vault://) prefix is accepted). Names that end in C(/) are
    folders, as Vault returns them.
  - Connects and logs in as the P(agentarea.secrets.vault#lookup) lookup does (the same options, variables and
    auth methods); through the run's broker (see O(cache)) each path is listed once per
    run (set O(cache=false) for a path that something else changes during the run).
  - A path with nothing under it is missing (Vault answers 404); see O(on_missing).
requirements:
  - hvac (Python library) on the controller
options:
  _terms:
    description: API paths to list, such as C(transit/keys) (or C(vault://) references).
    type: list
    elements: str
    required: true
  mount:
    description:
      - Not used by this lookup (a term is the full API path); declared so that the shared
        C(ansible_agentarea_secrets_vault_*) variables apply to it as to the P(agentarea.secrets.vault#lookup) lookup.
    type: str
  kv_version:
    description:
      - Not used by this lookup; declared for the same reason as O(mount).
    type: int
  keep_lease:
    description:
      - Not used by this lookup (a list carries no lease); declared for the same reason as O(mount).
    type: bool
    default: false
extends_documentation_fragment:
  - agentarea.secrets.lookup
  - agentarea.secrets.lookup.backend
  - agentarea.secrets.vault
  - agentarea.secrets.vault.plugins
  - agentarea.secrets.vault.lookup_shared
notes:
  - Errors name the path, namespace, auth method and URL and Vault's own reason; never a token or a value.
seealso:
  - plugin: agentarea.secrets.vault_read
    plugin_type: lookup
  - module: agentarea.secrets.vault_write
"""

EXAMPLES = r"""
- name: Every transit key
  ansible.builtin.debug:
    msg: "{{ lookup('agentarea.secrets.vault_list', 'transit/keys') }}"

- name: The AppRole roles, nothing when there are none
  ansible.builtin.set_fact:
    roles: "{{ lookup('agentarea.secrets.vault_list', 'auth/approle/role', on_missing='skip') | default([], true) }}"

- name: One list per term (wantlist keeps each a list)
  ansible.builtin.set_fact:
    listed: "{{ query('agentarea.secrets.vault_list', 'sys/policies/acl', 'secret/metadata/app') }}"
"""

RETURN = r"""
_raw:
  description:
    - One list of keys per term, in order (terms skipped by O(on_missing) or O(on_denied) are left out).
  type: list
  elements: list
"""

from ansible_collections.agentarea.secrets.plugins.plugin_utils._bytecode import loading

with loading():  # our files with bytecode, not compiled again in every task (plugin_utils/_bytecode.py)
    from ansible_collections.agentarea.secrets.plugins.module_utils.backends.vault._api import API_LIST
    from ansible_collections.agentarea.secrets.plugins.plugin_utils._lookup import SecretLookupBase


class LookupModule(SecretLookupBase):
    SCHEME = 'vault'
    REF_PARAMS = ()
    ENGINE = API_LIST

    def get_options(self, hostvars=None):
        options = super(LookupModule, self).get_options(hostvars=hostvars)
        options['engine'] = self.ENGINE
        options['key'] = None  # a list has no fields
        return options
