#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: vault_read
short_description: Read any Vault or OpenBao API path, returning only the fields asked for
version_added: 0.2.0
author:
  - agentarea.secrets contributors (@agentarea)
description:
  - Reads any path of the Vault/OpenBao HTTP API (C(GET /v1/<path>)) where the task runs (a managed host, or the
    controller with C(delegate_to)), and returns the response fields named in O(return_fields) in RV(data).
    The module counterpart of C(community.hashi_vault.vault_read) and of the P(agentarea.secrets.vault_read#lookup)
    lookup (which reads on the controller, with the run cache).
  - Value-free unless asked. Without O(return_fields) only the names of the fields the response has come back
    (RV(fields)); a field named is returned as it is (put C(no_log=true) on a task that asks for a secret).
  - Connects and logs in with the same options as the P(agentarea.secrets.vault#lookup) lookup; a login made for
    the task is revoked when it ends unless O(keep_token).
options:
  path:
    description: The API path, without C(/v1/), such as C(sys/mounts) or C(transit/keys/app).
    type: str
    required: true
  return_fields:
    description:
      - The response fields to return in RV(data), fields of the response's C(data), or C(auth.<name>),
        C(wrap_info.<name>), C(lease_id), C(lease_duration), C(renewable) and C(warnings) of the response itself.
      - A named field the response does not have fails the task, listing the names it has (names only).
    type: list
    elements: str
    default: []
  wrap_ttl:
    description:
      - Ask Vault to wrap the response (response wrapping, C(X-Vault-Wrap-TTL)) for this long, such as V(5m), to hand a
        secret on without it passing through this run - a KV secret, a dynamic credential, an AppRole role ID. The
        response then holds only C(wrap_info), so name C(wrap_info.token) (a secret, so put C(no_log=true) on the task),
        C(wrap_info.accessor) and C(wrap_info.ttl) in O(return_fields). Whoever gets the token unwraps it once
        (C(sys/wrapping/unwrap)); if someone else did first, the unwrap fails and shows the token was intercepted.
    type: str
  # The other Vault connection options come from the vault fragment (below), as the argument spec takes them from
  # the backend.
  vault_ca_cert:
    description: The same as O(ca_cert), in the per-store form the modules that take any reference use; wins over O(ca_cert).
    type: path
  vault_validate_certs:
    description: The same as O(validate_certs), in the per-store form; wins over O(validate_certs).
    type: bool
extends_documentation_fragment:
  - agentarea.secrets.vault
attributes:
  check_mode:
    support: full
    description: Reads as usual (a read changes nothing).
  diff_mode:
    support: none
    description: Nothing changes.
notes:
  - A path with nothing at it fails with a "not found" error, a forbidden one with "permission denied", both naming
    the path, namespace, auth method and URL. A response that carries a lease (a dynamic credential) is not
    revoked by this module; use the P(agentarea.secrets.vault#lookup) lookup with C(engine=dynamic) for those.
requirements:
  - hvac
seealso:
  - plugin: agentarea.secrets.vault_read
    plugin_type: lookup
  - module: agentarea.secrets.vault_write
"""

EXAMPLES = r"""
- name: The latest version of a transit key, read on the managed host
  agentarea.secrets.vault_read:
    path: transit/keys/app
    return_fields: [latest_version, type]
  register: transit_key

- name: Hand a KV secret to a machine that unwraps it once (this run never sees the value)
  agentarea.secrets.vault_read:
    path: secret/data/agentarea/bootstrap
    wrap_ttl: 10m
    return_fields: [wrap_info.token]
  no_log: true
  register: wrapped

- name: Which fields does the response have? (names only)
  agentarea.secrets.vault_read:
    path: sys/auth
  register: auth_methods
"""

RETURN = r"""
data:
  description: The response fields named in O(return_fields), and nothing else.
  returned: always
  type: dict
  sample: {latest_version: 2, type: aes256-gcm96}
fields:
  description: The names of the fields the response has (C(data) fields, then those of the response itself); never values.
  returned: always
  type: list
  elements: str
  sample: [keys, latest_version, name, type]
path:
  description: The API path read.
  returned: always
  type: str
"""

from ansible_collections.agentarea.secrets.plugins.module_utils.core._module import SecretModule, backend_of
from ansible_collections.agentarea.secrets.plugins.module_utils.core._registry import backend_class
from ansible_collections.agentarea.secrets.plugins.module_utils.backends.vault._api import (
    api_path,
    field_names,
    pick_fields,
)


class VaultRead(SecretModule):
    NAME = 'vault_read'
    OPTIONS = dict(
        path=dict(type='str', required=True),
        return_fields=dict(type='list', elements='str', default=[], no_log=False),
        wrap_ttl=dict(type='str'),
    )
    CONNECTIONS = ('vault',)

    def run(self):
        params = self.params
        self.result = {'changed': False, 'data': {}, 'fields': [], 'path': params['path']}
        path = self.result['path'] = api_path(params['path'])
        backend = backend_of(backend_class('vault'), params)
        response = backend.api_read(path, wrap_ttl=params['wrap_ttl'])
        self.result['fields'] = field_names(response)
        picked, missing = pick_fields(response, params['return_fields'])
        if missing:
            self.fail("vault 'vault://%s': the response has no field %s (it has: %s)"
                      % (path, ', '.join(repr(m) for m in missing), ', '.join(self.result['fields']) or 'none'),
                      **self.result)
        self.result['data'] = picked
        return self.result


def argument_spec():
    return VaultRead.argument_spec()


def main():
    VaultRead().main()


if __name__ == '__main__':
    main()
