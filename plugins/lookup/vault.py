# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: vault
short_description: Read secrets and dynamic credentials from HashiCorp Vault or OpenBao
version_added: 0.1.0
author:
  - agentarea.secrets contributors (@agentarea)
description:
  - Reads KV v1 and v2 secrets. Each term is a path under O(mount) (C(agentarea/database)) or a full reference
    (C(vault://secret/agentarea/database#url?version=3)). Without O(key) a secret comes back as a dict.
  - The KV version of the mount is detected from the server unless O(kv_version) says it.
  - With O(engine=dynamic), reads a dynamic credential such as C(database/creds/agentarea-ro) and returns it with
    its lease (C(lease_id), C(lease_duration), C(renewable)); the lease is revoked when the playbook run ends.
  - Logs in with any of the auth methods AWX uses (token, AppRole, userpass, JWT, Kubernetes, TLS certificate).
    Through the run's broker (see O(cache); no configuration needed), a run logs in once per identity and reads
    each secret once, even when the lookup sits in C(group_vars) and every task refers to it; the token is renewed
    when it nears its TTL and revoked at the end of the run (unless O(keep_token)).
  - Several terms in one call are read with one client and one login.
  - Only reads. Writing, deleting and destroying versions is the job of the M(agentarea.secrets.secret) module.
requirements:
  - hvac (Python library) on the controller
options:
  _terms:
    description: Paths under O(mount), or C(vault://) references (for O(engine=dynamic), API paths).
    type: list
    elements: str
    required: true
  key:
    description:
      - Return this field of the secret instead of the whole secret (a dict).
      - The same as C(#key) in a reference; a C(#key) in the term wins.
    type: str
  version:
    description:
      - Read this KV v2 version instead of the current one. C(?version=) in a term wins.
    type: str
extends_documentation_fragment:
  - agentarea.secrets.lookup
  - agentarea.secrets.lookup.backend
  - agentarea.secrets.vault
  - agentarea.secrets.vault.read
  - agentarea.secrets.vault.plugins
  - agentarea.secrets.vault.lookup_shared
notes:
  - A deleted or destroyed version is reported as deleted (see O(on_deleted)), a missing path as missing
    (O(on_missing)), a path the token's policies forbid as denied (O(on_denied)).
  - Errors name the URL, namespace, auth method, mount and path; never a token, a credential or a value.
"""

EXAMPLES = r"""
# VAULT_ADDR and VAULT_TOKEN in the environment (as AWX's Vault credential injects them)
- name: The database URL, one field of secret/agentarea/database
  ansible.builtin.set_fact:
    database_url: "{{ lookup('agentarea.secrets.vault', 'agentarea/database', key='url') }}"
  no_log: true

- name: The whole secret as a dict, and version 3 of it
  ansible.builtin.set_fact:
    database: "{{ lookup('agentarea.secrets.vault', 'agentarea/database') }}"
    database_v3: "{{ lookup('agentarea.secrets.vault', 'agentarea/database', version=3) }}"
  no_log: true

- name: AppRole login (one login per run with the run_cache callback), KV v1 mount
  ansible.builtin.set_fact:
    api_key: "{{ lookup('agentarea.secrets.vault', 'agentarea/openai', key='api_key', mount='kv',
                        kv_version=1, auth_method='approle', role_id=vault_role_id, secret_id=vault_secret_id) }}"
  no_log: true

- name: Short-lived database credentials, revoked when the playbook run ends
  ansible.builtin.set_fact:
    db: "{{ lookup('agentarea.secrets.vault', 'database/creds/agentarea-ro', engine='dynamic') }}"
  no_log: true

# In group_vars: evaluated lazily by every task that uses it, read once per run with the run cache
# agentarea_database_url: "{{ lookup('agentarea.secrets.vault', 'agentarea/database', key='url') }}"
"""

RETURN = r"""
_raw:
  description:
    - One value per term, in order (terms skipped by O(on_missing), O(on_denied) or O(on_deleted) are left out).
    - A dict for a whole secret; the field's value with O(key); for O(engine=dynamic) a dict with the credential's
      fields and C(lease_id), C(lease_duration) and C(renewable).
  type: list
  elements: raw
"""

from ansible_collections.agentarea.secrets.plugins.plugin_utils._bytecode import loading

with loading():  # our files with bytecode, not compiled again in every task (plugin_utils/_bytecode.py)
    from ansible_collections.agentarea.secrets.plugins.plugin_utils._lookup import SecretLookupBase


class LookupModule(SecretLookupBase):
    SCHEME = 'vault'
    REF_PARAMS = ('version',)
