#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: secret_list
short_description: List the secrets of a store with their properties, never their values
version_added: 0.2.0
author:
  - agentarea.secrets contributors (@agentarea)
description:
  - Lists the secrets in O(store) (an Azure Key Vault, or an AWS Secrets Manager region) with what the store says
    of each without reading it out (name, reference, tags, enabled, expiry, content type, times), filtered by
    name and tags.
  - One listing call (paged) per run; values are never requested, so no value can appear in the result.
  - M(agentarea.secrets.secret_info) describes one secret (with its fingerprint and versions); this module finds
    secrets.
options:
  store:
    description:
      - What to list. V(azure://<vault name or host>) lists that Key Vault (C(GET {vault}/secrets), certificate-backed
        secrets left out). V(aws://) lists the Secrets Manager secrets of O(region) (C(ListSecrets)).
    type: str
    required: true
  name_prefix:
    description: Only secrets whose name starts with this (filtered by the store where it can).
    type: str
  name_regex:
    description: Only secrets whose name matches this Python regular expression (searched, not anchored).
    type: str
  tags:
    description:
      - Only secrets that carry every one of these tags with this value; a tag given with an empty value (V(null))
        only has to be present.
    type: dict
  enabled:
    description: Only enabled (V(true)) or disabled (V(false)) secrets, where the store has that state (Azure).
    type: bool
  fingerprint_key:
    description:
      - Not used (no value is read, so nothing is fingerprinted); accepted so that C(module_defaults) for the
        C(group/agentarea.secrets.secrets) action group apply to this module too.
    type: str
extends_documentation_fragment:
  - agentarea.secrets.stores
attributes:
  check_mode:
    support: full
    description: Only reads.
  diff_mode:
    support: none
    description: Nothing changes.
seealso:
  - module: agentarea.secrets.secret_info
"""

EXAMPLES = r"""
- name: The platform team's secrets in the vault
  agentarea.secrets.secret_list:
    store: azure://agentarea-vault
    name_prefix: platform-
    tags: {owner: platform-team}
  register: listed
  delegate_to: localhost

- name: Secrets that expire within 30 days
  ansible.builtin.debug:
    msg: "{{ listed.secrets | selectattr('expires') | selectattr('expires', '<', soon) | map(attribute='name') }}"
  vars:
    soon: "{{ '%Y-%m-%dT%H:%M:%SZ' | strftime(now().timestamp() + 30 * 86400, utc=true) }}"
"""

RETURN = r"""
store:
  description: The store that was listed.
  returned: always
  type: str
secrets:
  description:
    - One dict per secret that passed the filters, sorted by name, with C(name), C(ref) (its reference) and C(tags);
      Azure adds C(enabled), C(expires), C(not_before), C(content_type), C(created), C(updated); AWS adds
      C(description), C(rotation_enabled), C(created), C(updated).
  returned: always
  type: list
  elements: dict
count:
  description: How many secrets passed the filters.
  returned: always
  type: int
"""

import re

from ansible_collections.agentarea.secrets.plugins.module_utils.core._errors import InvalidOption
from ansible_collections.agentarea.secrets.plugins.module_utils.core._module import SecretModule


def matches(row, prefix=None, regex=None, tags=None, enabled=None):
    """Whether a listed row passes the filters (also applied when the store filtered by prefix already)."""
    if prefix and not row['name'].startswith(prefix):
        return False
    if regex is not None and not regex.search(row['name']):
        return False
    if enabled is not None and row.get('enabled') is not None and bool(row['enabled']) != enabled:
        return False
    have = row.get('tags') or {}
    for key, want in (tags or {}).items():
        if key not in have or (want not in (None, '') and have[key] != str(want)):
            return False
    return True


class SecretList(SecretModule):
    NAME = 'secret_list'
    OPTIONS = dict(
        store=dict(type='str', required=True),
        name_prefix=dict(type='str'),
        name_regex=dict(type='str'),
        tags=dict(type='dict'),
        enabled=dict(type='bool'),
    )
    STORES = True
    FINGERPRINT_KEY = True  # accepted for the action group's module_defaults; unused

    def run(self):
        params = self.params
        result = self.result = {'changed': False, 'store': params['store'], 'secrets': [], 'count': 0}
        scheme, sep, location = params['store'].partition('://')
        location = location.strip('/')
        if not sep or scheme not in ('azure', 'aws'):
            raise InvalidOption('store must be azure://<vault> or aws:// (listing with properties is not offered '
                                'for %s stores)' % (scheme if sep else params['store']), backend=scheme or None)
        if scheme == 'azure' and (not location or '/' in location):
            raise InvalidOption('store must name one vault: azure://<vault name or host>', backend='azure')
        try:
            regex = re.compile(params['name_regex']) if params['name_regex'] is not None else None
        except re.error as exc:
            raise InvalidOption('name_regex is not a valid regular expression: %s' % exc, backend=scheme)
        self.primary = scheme
        backend = self.pool.scheme(scheme)
        rows = backend.inventory(location, params['name_prefix'] or '')
        result['secrets'] = [r for r in rows if matches(r, params['name_prefix'], regex, params['tags'],
                                                        params['enabled'])]
        result['count'] = len(result['secrets'])
        return result


def main():
    SecretList().main()


if __name__ == '__main__':
    main()
