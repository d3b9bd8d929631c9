# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: vault_read
short_description: Read any Vault or OpenBao API path (not only KV)
version_added: 0.2.0
author:
  - agentarea.secrets contributors (@agentarea)
description:
  - Reads any path of the Vault/OpenBao HTTP API (C(GET /v1/<path>)) and returns the response's C(data), such as
    C(sys/mounts), C(transit/keys/<name>), C(auth/approle/role/<role>/role-id), C(pki/cert/ca) or C(ssh/config/ca).
    The counterpart of C(community.hashi_vault.vault_read).
  - Each term is the API path, without C(/v1/) (a C(vault://) prefix is accepted); C(#field) or O(key) returns one
    field of the data.
  - Connects and logs in as the P(agentarea.secrets.vault#lookup) lookup does (the same options, variables and
    auth methods). Through the run's broker (see O(cache)), each path is read once per
    run (a task of this collection that changes a store drops what was read; set O(cache=false) for a path that
    something else changes during the run).
  - A response that carries a lease (a dynamic credential read this way) has it revoked at the end of the run,
    with the run cache, unless O(keep_lease); the P(agentarea.secrets.vault#lookup) lookup with C(engine=dynamic)
    is the usual way to such credentials.
  - Only reads. Use M(agentarea.secrets.vault_write) to write (POST) to a path, and
    P(agentarea.secrets.vault_list#lookup) to list one.
requirements:
  - hvac (Python library) on the controller
options:
  _terms:
    description: API paths, such as C(sys/mounts) or C(transit/keys/app) (or C(vault://) references).
    type: list
    elements: str
    required: true
  key:
    description:
      - Return this field of the response's data instead of the whole data (a dict).
      - The same as C(#field) in a term; a C(#field) in the term wins.
    type: str
  keep_lease:
    description:
      - Keep a lease the response carries instead of revoking it at the end of the run (it ends at its TTL).
    type: bool
    default: false
  mount:
    description:
      - Not used by this lookup (a term is the full API path); declared so that the shared
        C(ansible_agentarea_secrets_vault_*) variables apply to it as to the P(agentarea.secrets.vault#lookup) lookup.
    type: str
  kv_version:
    description:
      - Not used by this lookup; declared for the same reason as O(mount).
    type: int
extends_documentation_fragment:
  - agentarea.secrets.lookup
  - agentarea.secrets.lookup.backend
  - agentarea.secrets.vault
  - agentarea.secrets.vault.plugins
  - agentarea.secrets.vault.lookup_shared
notes:
  - A path with nothing at it is reported as missing (see O(on_missing)), one the token's policies forbid as denied
    (O(on_denied)); a path under no mount is a configuration error. Errors name the path, namespace, auth method
    and URL, and Vault's own reason; never a token or a value.
seealso:
  - plugin: agentarea.secrets.vault_list
    plugin_type: lookup
  - module: agentarea.secrets.vault_write
  - module: agentarea.secrets.vault_read
"""

EXAMPLES = r"""
# VAULT_ADDR and VAULT_TOKEN in the environment (as AWX's Vault credential injects them)
- name: The secrets engines mounted (names and types)
  ansible.builtin.debug:
    msg: "{{ lookup('agentarea.secrets.vault_read', 'sys/mounts') | dict2items | map(attribute='key') }}"

- name: The latest version of a transit key
  ansible.builtin.set_fact:
    transit_version: "{{ lookup('agentarea.secrets.vault_read', 'transit/keys/app', key='latest_version') }}"

- name: An AppRole's role ID (one field)
  ansible.builtin.set_fact:
    role_id: "{{ lookup('agentarea.secrets.vault_read', 'auth/approle/role/deploy/role-id#role_id') }}"

- name: The PKI CA certificate, AppRole login
  ansible.builtin.set_fact:
    ca_pem: "{{ lookup('agentarea.secrets.vault_read', 'pki/cert/ca', key='certificate', auth_method='approle',
                       role_id=vault_role_id, secret_id=vault_secret_id) }}"
"""

RETURN = r"""
_raw:
  description:
    - One value per term, in order (terms skipped by O(on_missing) or O(on_denied) are left out).
    - The response's C(data) (a dict), or the field that O(key) or C(#field) names.
  type: list
  elements: raw
"""

from ansible_collections.agentarea.secrets.plugins.plugin_utils._bytecode import loading

with loading():  # our files with bytecode, not compiled again in every task (plugin_utils/_bytecode.py)
    from ansible_collections.agentarea.secrets.plugins.module_utils.backends.vault._api import API_READ
    from ansible_collections.agentarea.secrets.plugins.plugin_utils._lookup import SecretLookupBase


class LookupModule(SecretLookupBase):
    SCHEME = 'vault'
    REF_PARAMS = ()
    #: the backend's engine for any API path (not an option of this lookup: it reads any path, nothing else)
    ENGINE = API_READ

    def get_options(self, hostvars=None):
        options = super(LookupModule, self).get_options(hostvars=hostvars)
        options['engine'] = self.ENGINE
        return options
