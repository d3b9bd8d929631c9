#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: audit_report
short_description: Secret access monitoring from the agentarea.secrets audit trail
version_added: 0.1.0
author:
  - agentarea.secrets contributors (@agentarea)
description:
  - Summarises the value-free audit events that lookups write (their C(audit_log) option) into reads per
    secret, per identity (actor, C(user@host)) and per day, and flags unusual readers.
  - The window of O(days) before O(until) is split in a baseline and the last O(recent_days). A recent read is
    unusual when its actor does not appear in the baseline (C(new_actor)), when a known actor reads a secret it
    did not read in the baseline (C(new_reader)), when it happens outside O(usual_hours) (C(off_hours)), or when
    it was denied (C(denied)).
  - Secrets are named by their catalog entry when O(catalog) is given, else by their reference without C(#key).
  - The report holds no value and no fingerprint.
options:
  path:
    description:
      - The audit log (JSON lines). Defaults to E(ANSIBLE_AGENTAREA_SECRETS_AUDIT_LOG), then
        E(AGENTAREA_SECRETS_AUDIT_LOG).
    type: path
  days:
    description: Length of the window, in days.
    type: int
    default: 30
  recent_days:
    description: The last part of the window whose reads are checked against the rest (the baseline).
    type: int
    default: 1
  usual_hours:
    description:
      - The usual hours of reads, C([start, end)) in UTC (C([22, 6]) wraps midnight). An empty list turns the
        off-hours check off.
    type: list
    elements: int
    default: [7, 19]
  until:
    description: End of the window, ISO 8601 (default now).
    type: str
  actions:
    description: The audit actions that count as reads.
    type: list
    elements: str
    default: [read]
  catalog:
    description: The catalog, to name secrets by their entry (C(name) and C(store) are used).
    type: list
    elements: dict
  fail_on_unusual:
    description: Fail when an unusual read is found (after returning the report).
    type: bool
    default: false
attributes:
  check_mode:
    support: full
    description: Read-only; the same report in check mode.
  diff_mode:
    support: none
    description: Nothing changes, so there is no diff.
notes:
  - "Run it where the audit log is, usually C(delegate_to: localhost)."
seealso:
  - module: agentarea.secrets.vault_audit
"""

EXAMPLES = r"""
- name: Who read which secret in the last 30 days, and who is new today
  agentarea.secrets.audit_report:
    path: /var/log/agentarea-secrets/audit.jsonl
    catalog: "{{ agentarea_secrets_catalog }}"
    usual_hours: [6, 20]
  delegate_to: localhost
  run_once: true
  register: access

- name: Show unusual readers
  ansible.builtin.debug:
    var: access.unusual
"""

RETURN = r"""
window:
  description: The window analysed (since, until, recent_since, usual_hours_utc).
  returned: success
  type: dict
reads:
  description: Successful reads in the window.
  returned: success
  type: int
denied:
  description: Denied reads in the window.
  returned: success
  type: int
per_secret:
  description: Per secret, its reads, denied and failed reads, actors and last read.
  returned: success
  type: list
  elements: dict
per_actor:
  description: Per actor, its reads, denied reads, the secrets it read, first and last seen.
  returned: success
  type: list
  elements: dict
per_day:
  description: Per day (UTC), reads, denied reads, secrets and actors.
  returned: success
  type: list
  elements: dict
daily:
  description: Reads per day, secret and actor.
  returned: success
  type: list
  elements: dict
unusual:
  description: Recent reads that are unusual, with the reasons.
  returned: success
  type: list
  elements: dict
  sample: [{time: "2026-05-04T02:13:00Z", actor: "mallory@build-7", secret: database, outcome: ok,
            reasons: [new_actor, off_hours]}]
invalid_lines:
  description: Lines of the log that were not JSON objects (skipped).
  returned: success
  type: int
"""

import os

from ansible_collections.agentarea.secrets.plugins.module_utils.audit._report import load, summarise
from ansible_collections.agentarea.secrets.plugins.module_utils.core._module import SecretModule


class AuditReport(SecretModule):
    NAME = 'audit_report'
    OPTIONS = dict(
        path=dict(type='path'),
        days=dict(type='int', default=30),
        recent_days=dict(type='int', default=1),
        usual_hours=dict(type='list', elements='int', default=[7, 19]),
        until=dict(type='str'),
        actions=dict(type='list', elements='str', default=['read']),
        catalog=dict(type='list', elements='dict'),
        fail_on_unusual=dict(type='bool', default=False),
    )

    def run(self):
        params = self.params
        path = params['path'] or os.environ.get('ANSIBLE_AGENTAREA_SECRETS_AUDIT_LOG') or \
            os.environ.get('AGENTAREA_SECRETS_AUDIT_LOG')
        if not path:
            self.fail('audit_report: no audit log given (path, or ANSIBLE_AGENTAREA_SECRETS_AUDIT_LOG)')
        try:
            events, bad = load(path)
        except (IOError, OSError) as exc:
            self.fail('audit_report: cannot read the audit log %s: %s (lookups write it when their audit_log '
                      'option is set)' % (path, exc.strerror or type(exc).__name__))
        report = summarise(events, params['until'], params['days'], params['recent_days'], params['usual_hours'],
                           tuple(params['actions']), params['catalog'])
        report.update(changed=False, invalid_lines=bad, path=path)
        if params['fail_on_unusual'] and report['unusual']:
            self.fail('audit_report: %d unusual read(s) of secrets in the last %d day(s)'
                      % (len(report['unusual']), params['recent_days']), **report)
        return report


def main():
    AuditReport().main()


if __name__ == '__main__':
    main()
