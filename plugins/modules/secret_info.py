#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: secret_info
short_description: Describe a secret in any store without reading it out
version_added: 0.1.0
author:
  - agentarea.secrets contributors (@agentarea)
description:
  - Reports whether the secret at O(ref) exists, its version, when it was created and last changed, its age in
    days, its versions (where the store keeps them), tags, and a keyed fingerprint of the current value.
  - Never returns the value.
options:
  ref:
    description: The secret reference.
    type: str
    required: true
  versions:
    description: List the secret's versions (where the store keeps them).
    type: bool
    default: true
  fingerprint_key:
    description:
      - Key of the returned HMAC-SHA256 fingerprint. Defaults to E(AGENTAREA_SECRETS_FINGERPRINT_KEY), then the key
        file C(~/.config/agentarea-secrets/fingerprint.key) on the host that runs the module.
    type: str
extends_documentation_fragment:
  - agentarea.secrets.audit
  - agentarea.secrets.stores
attributes:
  check_mode:
    support: full
    description: Only reads.
  diff_mode:
    support: none
    description: Nothing changes.
seealso:
  - module: agentarea.secrets.secret
"""

EXAMPLES = r"""
- name: How old is the JWT secret?
  agentarea.secrets.secret_info:
    ref: "dotenv://{{ playbook_dir }}/.env.local#JWT_SECRET"
  register: jwt
  delegate_to: localhost

- name: Fail when it is older than 90 days
  ansible.builtin.assert:
    that: jwt.age_days < 90
"""

RETURN = r"""
ref:
  description: The reference in canonical form.
  returned: always
  type: str
exists:
  description: Whether the secret (and the C(#key) field, when given) exists.
  returned: always
  type: bool
state:
  description: C(present), C(missing), C(deleted) (deleted, destroyed or disabled) or C(denied).
  returned: always
  type: str
version:
  description: Current version, where the store has versions.
  returned: when it exists
  type: str
created:
  description: When the secret was created (ISO 8601, UTC), where known.
  returned: when it exists
  type: str
updated:
  description: When the current value was written (ISO 8601, UTC), where known.
  returned: when it exists
  type: str
age_days:
  description: Days since the current value was written, where known.
  returned: when it exists
  type: float
fingerprint:
  description: Keyed fingerprint of the current value (of the C(#key) field, when given).
  returned: when it exists and the store can return values
  type: str
metadata:
  description: Value-free facts from the store (tags, labels, stages, path ...).
  returned: when it exists
  type: dict
versions:
  description: The secret's versions, oldest first, each with C(version), C(created) and store facts.
  returned: when the store keeps versions and O(versions=true)
  type: list
  elements: dict
capabilities:
  description: What the backend can do with this secret (read, write, versions, stages, cas, ...).
  returned: always
  type: list
  elements: str
"""

from ansible_collections.agentarea.secrets.plugins.module_utils.core._backend import CAP_VERSIONS, observe
from ansible_collections.agentarea.secrets.plugins.module_utils.core._errors import SecretAccessDenied
from ansible_collections.agentarea.secrets.plugins.module_utils.core._module import SecretModule


class SecretInfo(SecretModule):
    NAME = 'secret_info'
    # audit_log: documented (the audit fragment) though this module reads and logs nothing
    OPTIONS = dict(
        ref=dict(type='str', required=True),
        versions=dict(type='bool', default=True),
    )
    STORES = True
    FINGERPRINT_KEY = True
    AUDIT_LOG = True

    def run(self):
        result = self.result = {'changed': False, 'ref': self.params['ref'], 'exists': False}
        ref = self.parse_ref(self.params['ref'], **result)
        result['ref'] = str(ref)
        self.primary = ref.scheme
        backend = self.backend(ref)
        result['capabilities'] = sorted(backend.CAPABILITIES)
        try:
            seen = observe(backend, ref, self.fingerprint)
        except SecretAccessDenied:
            result['state'] = 'denied'
            raise
        if not seen.exists:
            result['state'] = seen.state
            return result
        secret = seen.secret
        if seen.fingerprint:
            result['fingerprint'] = seen.fingerprint
        result.update(exists=True, state='present', **secret.describe())
        if self.params['versions'] and CAP_VERSIONS in backend.CAPABILITIES:
            result['versions'] = backend.versions(ref)
        return result


def main():
    SecretInfo().main()


if __name__ == '__main__':
    main()
