#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: vault_write
short_description: Write (POST) to any Vault or OpenBao API path, returning only the fields asked for
version_added: 0.2.0
author:
  - agentarea.secrets contributors (@agentarea)
description:
  - Sends O(data) to any path of the Vault/OpenBao HTTP API (C(POST /v1/<path>)), such as Transit C(encrypt), C(decrypt),
    C(datakey) and C(rewrap), SSH C(sign), AppRole C(secret-id), token creation, C(sys/) endpoints, engine
    configuration. The counterpart of C(community.hashi_vault.vault_write).
  - Returns only the response fields named in O(return_fields), in RV(data); the rest of the response is dropped,
    and O(data) is never returned or printed (it is C(no_log), and Vault's error text has every value of it cut
    out). A field that is itself a secret (a plaintext, a C(secret_id), a token) is returned when named, since that
    is what it is asked for; put C(no_log=true) on such a task.
  - Connects and logs in with the same options as the P(agentarea.secrets.vault#lookup) lookup (every auth method);
    a login made for the task is revoked when it ends unless O(keep_token).
  - For KV secrets use M(agentarea.secrets.secret) (check-and-set, idempotent, diffs by fingerprint).
options:
  path:
    description:
      - The API path, without C(/v1/), such as C(transit/encrypt/app) or C(auth/approle/role/deploy/secret-id).
    type: str
    required: true
  data:
    description:
      - The request body (a dict), sent as JSON. Never printed or returned, at any verbosity.
    type: dict
    default: {}
  wrap_ttl:
    description:
      - Ask Vault to wrap the response (response wrapping, C(X-Vault-Wrap-TTL)) for this long, such as V(5m). The
        response then holds only C(wrap_info), so name C(wrap_info.token) (a secret, so put C(no_log=true) on the task),
        C(wrap_info.accessor) and C(wrap_info.ttl) in O(return_fields).
      - To put a new token straight into a store instead, see M(agentarea.secrets.vault_token).
    type: str
  return_fields:
    description:
      - The response fields to return in RV(data). A name is a field of the response's C(data)
        (C(ciphertext), C(plaintext), C(signed_key), C(secret_id)); C(auth.<name>) and C(wrap_info.<name>) name
        fields of the response's C(auth) and C(wrap_info) (C(auth.client_token) of C(auth/token/create)), and
        C(lease_id), C(lease_duration), C(renewable) and C(warnings) those of the response itself.
      - A named field the response does not have fails the task after the write, listing the names the response
        has (names only).
      - Empty (the default) returns nothing of the response.
    type: list
    elements: str
    default: []
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
    description:
      - Checks the options and reports the write as a change without sending anything (nothing is computed, so
        RV(data) is empty).
  diff_mode:
    support: none
    description: A write to an arbitrary path has no before and after to show; the data is never shown.
  idempotent:
    support: none
    description:
      - Whether a write to an arbitrary path changes anything cannot be told in general, so every write reports
        C(changed=true). Operations that change nothing stored (Transit C(encrypt)/C(decrypt)/C(datakey), SSH
        C(sign)) take C(changed_when=false); a changed result makes the run cache drop what lookups read.
notes:
  - A write is never retried after Vault answered or the connection broke mid-request (it may have landed), reads
    are. Errors name the path, namespace, auth method and URL and Vault's own reason (403, 404, 400 with its text,
    less any value of O(data)).
requirements:
  - hvac
seealso:
  - module: agentarea.secrets.vault_read
  - plugin: agentarea.secrets.vault_read
    plugin_type: lookup
  - plugin: agentarea.secrets.vault_list
    plugin_type: lookup
  - module: agentarea.secrets.secret
"""

EXAMPLES = r"""
- name: Encrypt with Transit (only the ciphertext comes back)
  agentarea.secrets.vault_write:
    path: transit/encrypt/app
    data:
      plaintext: "{{ card_number | b64encode }}"
    return_fields: [ciphertext]
  changed_when: false
  register: encrypted

- name: Decrypt it again (the plaintext is a secret, hence no_log)
  agentarea.secrets.vault_write:
    path: transit/decrypt/app
    data:
      ciphertext: "{{ encrypted.data.ciphertext }}"
    return_fields: [plaintext]
  changed_when: false
  no_log: true
  register: decrypted

- name: A wrapped data key for envelope encryption
  agentarea.secrets.vault_write:
    path: transit/datakey/wrapped/app
    return_fields: [ciphertext]
  changed_when: false
  register: datakey

- name: Issue an AppRole secret ID for a deploy job (AppRole login of the controller)
  agentarea.secrets.vault_write:
    path: auth/approle/role/deploy/secret-id
    data:
      metadata: '{"job": "{{ awx_job_id | default(0) }}"}'
    return_fields: [secret_id, secret_id_accessor]
    auth_method: approle
    role_id: "{{ vault_role_id }}"
    secret_id: "{{ vault_secret_id }}"
  no_log: true
  register: deploy_secret

- name: Sign an SSH public key
  agentarea.secrets.vault_write:
    path: ssh-client-signer/sign/ops
    data:
      public_key: "{{ lookup('ansible.builtin.file', '~/.ssh/id_ed25519.pub') }}"
      valid_principals: ops
    return_fields: [signed_key, serial_number]
  changed_when: false
  register: signed

- name: An AppRole secret ID, response-wrapped for the machine that will unwrap it (only the wrapping token leaves)
  agentarea.secrets.vault_write:
    path: auth/approle/role/deploy/secret-id
    wrap_ttl: 10m
    return_fields: [wrap_info.token, wrap_info.accessor]
  no_log: true
  register: wrapped_secret_id

- name: Enable a secrets engine (a sys endpoint)
  agentarea.secrets.vault_write:
    path: sys/mounts/transit
    data:
      type: transit
"""

RETURN = r"""
data:
  description:
    - The response fields named in O(return_fields), and nothing else (empty in check mode).
  returned: always
  type: dict
  sample: {ciphertext: "vault:v1:8SDd3WHDOjf7mq69CyCqYjBXAiQQAVZRkFM13ok481zoCmHnSeDX9vyf7w=="}
path:
  description: The API path written to.
  returned: always
  type: str
  sample: transit/encrypt/app
"""

from ansible_collections.agentarea.secrets.plugins.module_utils.core._module import SecretModule, backend_of
from ansible_collections.agentarea.secrets.plugins.module_utils.core._registry import backend_class
from ansible_collections.agentarea.secrets.plugins.module_utils.backends.vault._api import (
    api_path,
    field_names,
    pick_fields,
)


class VaultWrite(SecretModule):
    NAME = 'vault_write'
    OPTIONS = dict(
        path=dict(type='str', required=True),
        data=dict(type='dict', default={}, no_log=True),
        return_fields=dict(type='list', elements='str', default=[], no_log=False),
        wrap_ttl=dict(type='str'),
    )
    CONNECTIONS = ('vault',)

    def run(self):
        params = self.params
        self.result = {'changed': False, 'data': {}, 'path': params['path']}
        path = self.result['path'] = api_path(params['path'])
        backend = backend_of(backend_class('vault'), params)  # checks the options, no network yet
        if self.check_mode:
            self.result['changed'] = True
            return self.result
        response = backend.api_write(path, params['data'], wrap_ttl=params['wrap_ttl'])
        self.result['changed'] = True
        picked, missing = pick_fields(response, params['return_fields'])
        if missing:
            self.fail("vault 'vault://%s': written, but the response has no field %s (it has: %s)"
                      % (path, ', '.join(repr(m) for m in missing), ', '.join(field_names(response)) or 'none'),
                      **self.result)
        self.result['data'] = picked
        return self.result


def argument_spec():
    return VaultWrite.argument_spec()


def main():
    VaultWrite().main()


if __name__ == '__main__':
    main()
