#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: vault_audit
short_description: Enable and verify a file audit device on Vault or OpenBao
version_added: 0.1.0
author:
  - agentarea.secrets contributors (@agentarea)
description:
  - Ensures a C(file) audit device is enabled at O(path), so that the store itself records who read which secret,
    and reports every audit device that is enabled.
  - HashiCorp Vault enables audit devices through the API (C(sys/audit), with a token that has C(sudo) there).
    OpenBao refuses that ("cannot enable audit device via API") unless its configuration sets
    C(unsafe_allow_api_audit_creation); the module detects the refusal and reports that the device must be
    declared in the server configuration, returning the block to add in RV(declaration). With O(on_refused=warn)
    it only warns, so a play can go on and still see in RV(file_audit_enabled) whether one is enabled.
  - An audit device is never changed in place; one at O(path) that writes elsewhere is reported as an error.
options:
  path:
    description: Path (name) of the audit device.
    type: str
    default: file
  file_path:
    description:
      - File the device writes to, on the Vault server. Needed to enable one; without it the module only verifies
        that a file device is enabled at O(path).
    type: path
  description:
    description: Description of a device enabled by the module.
    type: str
    default: agentarea.secrets audit trail
  state:
    description: V(present) enables the device when missing; V(absent) disables it.
    type: str
    choices: [present, absent]
    default: present
  on_refused:
    description: What to do when the server manages audit devices in its configuration only.
    type: str
    choices: [error, warn]
    default: error
  probe:
    description:
      - Make a harmless request (token lookup-self) and check that O(file_path) grew. Only meaningful where the
        audit file is readable by the module (Vault on the same host); elsewhere RV(probe) is null.
    type: bool
    default: false
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
    description: Lists the devices and reports whether one would be enabled or disabled.
  diff_mode:
    support: full
    description: Shows the device before and after.
requirements:
  - hvac
seealso:
  - module: agentarea.secrets.audit_report
  - module: agentarea.secrets.access_policy
"""

EXAMPLES = r"""
- name: Make sure the store keeps an audit trail
  agentarea.secrets.vault_audit:
    file_path: /var/log/vault/audit.log
  delegate_to: localhost
  run_once: true

- name: Only verify (OpenBao declares it in its configuration)
  agentarea.secrets.vault_audit:
    on_refused: warn
  register: store_audit
"""

RETURN = r"""
devices:
  description: Every enabled audit device (no secrets; the file path is on the server).
  returned: success
  type: list
  elements: dict
  sample: [{path: file, type: file, file_path: /var/log/bao/audit.log, local: false, description: ""}]
file_audit_enabled:
  description: Whether at least one file audit device is enabled (after the change, in check mode as planned).
  returned: always
  type: bool
api_refused:
  description: Whether the server refused to manage the device through the API (OpenBao).
  returned: always
  type: bool
declaration:
  description: The block to add to the server configuration when the API refused.
  returned: when api_refused
  type: str
probe:
  description: Whether the probe request reached the audit file; null when it was not checked.
  returned: always
  type: bool
"""

from ansible_collections.agentarea.secrets.plugins.module_utils.core._module import SecretModule
from ansible_collections.agentarea.secrets.plugins.module_utils.access._apply import configured_backend
from ansible_collections.agentarea.secrets.plugins.module_utils.audit._vault_audit import (
    AuditDeviceRefused,
    declaration,
    devices,
    ensure,
    probe,
)


class VaultAudit(SecretModule):
    NAME = 'vault_audit'
    OPTIONS = dict(
        path=dict(type='str', default='file'),
        file_path=dict(type='path'),
        description=dict(type='str', default='agentarea.secrets audit trail'),
        state=dict(type='str', choices=['present', 'absent'], default='present'),
        on_refused=dict(type='str', choices=['error', 'warn'], default='error'),
        probe=dict(type='bool', default=False),
    )
    CONNECTIONS = ('vault',)

    def run(self):
        params = self.params
        result = self.result = {'changed': False, 'api_refused': False, 'file_audit_enabled': False, 'probe': None}
        client = configured_backend(params, 'vault').client()
        before = dict((d['path'], d) for d in devices(client))
        try:
            result['changed'], device = ensure(client, params['path'], params['file_path'], params['state'],
                                               self.check_mode, params['description'])
        except AuditDeviceRefused as exc:
            result['api_refused'] = True
            result['declaration'] = exc.declaration or declaration(params['path'], params['file_path'])
            result['devices'] = list(before.values())
            result['file_audit_enabled'] = any(d['type'] == 'file' for d in before.values())
            message = '%s. Add this to the server configuration:\n%s' % (exc, result['declaration'])
            if params['on_refused'] == 'error':
                self.fail(message, error=type(exc).__name__, **result)
            self.warn(message)
            return result
        after = dict(before)
        after.pop(params['path'].strip('/'), None)
        if device is not None:
            after[device['path']] = device
        result['devices'] = sorted(after.values(), key=lambda d: d['path'])
        result['file_audit_enabled'] = any(d['type'] == 'file' for d in after.values())
        if params['probe'] and params['file_path'] and not self.check_mode and device is not None:
            result['probe'] = probe(client, params['file_path'])
        result['diff'] = {'before': before.get(params['path'].strip('/')) or {},
                          'after': device or {}}
        return result


def main():
    VaultAudit().main()


if __name__ == '__main__':
    main()
