#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: catalog_info
short_description: Validate the secrets catalog and describe every entry's secret in its store
version_added: 0.1.0
author:
  - agentarea.secrets contributors (@agentarea)
description:
  - Validates O(catalog) (the C(agentarea_secrets_catalog) list that drives the roles) and fails with every problem
    named by entry and field.
  - For each entry in scope (O(names), O(tags) or all), reports whether its secret exists in its store, its version,
    last change, age in days, a keyed fingerprint, whether it is due for rotation (C(rotation.every) against the
    store's last change) and the compliance findings the audit role reports (missing owner or purpose, missing
    secret, age over policy, unknown age).
  - Never returns a value.
options:
  catalog:
    description: The catalog entries (see the collection README for the schema).
    type: list
    elements: dict
    required: true
  names:
    description: Only these entries.
    type: list
    elements: str
    default: []
  tags:
    description: Only entries with any of these tags.
    type: list
    elements: str
    default: []
  describe:
    description: Look each secret up in its store (V(false) only validates and selects).
    type: bool
    default: true
  fingerprint_key:
    description: Key of the fingerprints. Defaults to E(AGENTAREA_SECRETS_FINGERPRINT_KEY), then the key file.
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
  - module: agentarea.secrets.secret_info
"""

EXAMPLES = r"""
- name: Which secrets are due?
  agentarea.secrets.catalog_info:
    catalog: "{{ agentarea_secrets_catalog }}"
    tags: [prod]
  register: catalog
  delegate_to: localhost

- name: Show them
  ansible.builtin.debug:
    msg: "{{ catalog.entries | selectattr('due') | map(attribute='name') | list }}"
"""

RETURN = r"""
entries:
  description: One item per entry in scope, in catalog order.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: The entry's name.
      type: str
    store:
      description: The store reference.
      type: str
    kind:
      description: The entry's kind.
      type: str
    policy:
      description: The generation policy (the entry's C(generate), else the kind's default).
      type: dict
    rotate_kind:
      description: The M(agentarea.secrets.rotate) kind for the entry.
      type: str
    strategy:
      description: The rotation strategy.
      type: str
    overlap:
      description: The rotation overlap (a duration) or null.
      type: str
    exists:
      description: Whether the secret exists in its store.
      type: bool
    state:
      description: V(present), V(missing), V(deleted), V(denied) or V(error).
      type: str
    version:
      description: The store's current version.
      type: str
    updated:
      description: Last change (ISO 8601).
      type: str
    age_days:
      description: Days since the last change.
      type: float
    fingerprint:
      description: Keyed fingerprint of the current value.
      type: str
    due:
      description:
        - Whether C(rotation.every) has passed since the last change.
        - For C(kind=tls) also when the certificate is close to its expiry (C(target.renew_before), by default a third
          of its lifetime; see C(renew_due)).
      type: bool
    renew_due:
      description: For C(kind=tls) - when the certificate is due for renewal (ISO 8601), null when it is due now.
      type: str
    findings:
      description: Compliance findings, each with C(check), C(severity) and C(detail).
      type: list
      elements: dict
    error:
      description: Why the store could not be asked (value-free).
      type: str
names:
  description: The names of the entries in scope.
  returned: always
  type: list
  elements: str
"""

from ansible_collections.agentarea.secrets.plugins.module_utils import _catalog
from ansible_collections.agentarea.secrets.plugins.module_utils.core._backend import observe
from ansible_collections.agentarea.secrets.plugins.module_utils.core._errors import SecretAccessDenied, SecretError
from ansible_collections.agentarea.secrets.plugins.module_utils.core._module import SecretModule, protect_catalog
from ansible_collections.agentarea.secrets.plugins.module_utils.core._refs import parse_ref


class CatalogInfo(SecretModule):
    NAME = 'catalog_info'
    # audit_log: documented (the audit fragment) though this module reads and logs nothing
    OPTIONS = dict(
        catalog=dict(type='list', elements='dict', required=True),
        names=dict(type='list', elements='str', default=[]),
        tags=dict(type='list', elements='str', default=[]),
        describe=dict(type='bool', default=True),
    )
    STORES = True
    FINGERPRINT_KEY = True
    AUDIT_LOG = True

    def describe(self, entry):
        ref = parse_ref(entry['store'])
        info = {'exists': False}
        try:
            seen = observe(self.backend(ref), ref, self.fingerprint)
        except SecretAccessDenied as exc:
            info.update(state='denied', error=str(exc))
            return info
        except SecretError as exc:
            info.update(state='error', error=str(exc))
            return info
        info['state'] = seen.state
        if seen.exists:
            described = seen.secret.describe()
            info.update(exists=True, fingerprint=seen.fingerprint, version=seen.secret.version,
                        updated=described['updated'], age_days=described['age_days'])
            if entry.get('kind') == 'tls':
                # a certificate is due by its own expiry too (the rotate module skips it until then unless forced)
                from ansible_collections.agentarea.secrets.plugins.module_utils.rotation.targets._tls import TlsTarget
                later = TlsTarget(entry.get('target') or {}, 'single').renewal(seen.value)
                info['renew_due'] = later['next_due'] if later else None
        return info

    def run(self):
        catalog = self.params['catalog']
        protect_catalog(self.module, catalog)
        problems = _catalog.validate_catalog(catalog)
        if problems:
            self.fail('the catalog has %d problem(s): %s' % (len(problems), '; '.join(problems)), problems=problems)
        try:
            scope = _catalog.select(catalog, self.params['names'], self.params['tags'])
        except ValueError as exc:
            self.fail(str(exc))
        # each entry's store is its own (primary None): the plain form of a shared option (validate_certs) applies
        # to every store
        entries = []
        for entry in scope:
            kind = entry.get('kind', 'static')
            item = {'name': entry['name'], 'store': entry['store'], 'kind': kind, 'tags': entry.get('tags') or [],
                    'owner': entry.get('owner'), 'policy': _catalog.policy_for(entry),
                    'rotate_kind': kind if kind in _catalog.ROTATE_KINDS else 'static',
                    'strategy': (entry.get('rotation') or {}).get('strategy', 'single'),
                    'overlap': (entry.get('rotation') or {}).get('overlap')}
            info = self.describe(entry) if self.params['describe'] else None
            if info is not None:
                item.update(info)
                item['due'] = bool(info.get('exists')) and (_catalog.is_due(entry, info.get('age_days')) or
                                                            ('renew_due' in info and info['renew_due'] is None))
            item['findings'] = _catalog.compliance(entry, info)
            entries.append(item)
        return {'changed': False, 'entries': entries, 'names': [e['name'] for e in entries]}


def main():
    CatalogInfo().main()


if __name__ == '__main__':
    main()
