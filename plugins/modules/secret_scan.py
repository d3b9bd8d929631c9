#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: secret_scan
short_description: Find committed secrets in a directory or a git repository, history included
version_added: 0.1.0
author:
  - agentarea.secrets contributors (@agentarea)
description:
  - Scans every file that is or could be committed under O(path) (tracked files, and untracked files that
    C(.gitignore) does not ignore) and, in a git work tree, every file version that any commit on any branch
    added (O(history)), so a secret committed and later deleted is still found.
  - "Two detectors: L(detect-secrets,https://github.com/Yelp/detect-secrets) with its default plugins and
    filters (AWS keys, private keys, JWTs, high-entropy strings, password assignments, ...), and the catalog:
    every token-like substring of each line (split on whitespace, quotes, C(=), C(:) and URL punctuation, and
    every quoted string) is
    fingerprinted with the keyed HMAC of M(agentarea.secrets.secret) and compared with O(catalog_fingerprints),
    so a match is a confirmed leak of that catalog entry. Values never travel to the scan: only fingerprints do."
  - Checks that C(.gitignore) covers C(.env*) (while C(.env.example) stays committable), C(secrets/), C(*.pem)
    and C(*.key), reports C(.env) files that are committed or not ignored, and with O(fix_gitignore) appends
    the missing rules to the C(.gitignore) at O(path) (files already committed stay so; remove them with
    C(git rm --cached) and rotate what they held).
  - Findings name the file, line, commit (history), kind and detector, never the value or any part of it.
options:
  path:
    description: The directory or git work tree to scan.
    type: path
    required: true
  history:
    description: Also scan the history of a git work tree (every branch and tag, C(git log --all)).
    type: bool
    default: true
  catalog_fingerprints:
    description:
      - "Fingerprints of the catalog's current values, computed on the controller with the
        C(agentarea.secrets.fingerprint) filter: a list of C({name, fingerprint}) or C({name, fingerprints})."
      - They must be computed with the same fingerprint key as O(fingerprint_key) here.
    type: list
    elements: dict
    default: []
  fingerprint_key:
    description:
      - Key of the fingerprints. Defaults to E(AGENTAREA_SECRETS_FINGERPRINT_KEY), then the key file
        C(~/.config/agentarea-secrets/fingerprint.key) of the host that runs the module.
    type: str
  detect:
    description: Run detect-secrets. Without it only the catalog and C(.gitignore) checks run.
    type: bool
    default: true
  check_gitignore:
    description: Check the C(.gitignore) coverage and C(.env) files.
    type: bool
    default: true
  fix_gitignore:
    description: Append the missing rules to C(<path>/.gitignore).
    type: bool
    default: false
  exclude:
    description: Shell-style patterns of paths (or file names) not to scan, such as C(tests/fixtures/*).
    type: list
    elements: str
    default: []
  max_file_size:
    description: Files and blobs larger than this many bytes are skipped (and counted).
    type: int
    default: 1048576
  min_token_length:
    description: Shorter substrings are not compared with the catalog.
    type: int
    default: 8
  git_timeout:
    description: Seconds all git commands of one scan may take together.
    type: int
    default: 300
  fail_on_findings:
    description: Fail when an open finding remains (after applying O(fix_gitignore)).
    type: bool
    default: true
attributes:
  check_mode:
    support: full
    description: Scans, and reports the C(.gitignore) change it would make without writing it.
  diff_mode:
    support: full
    description: Shows the C(.gitignore) before and after.
requirements:
  - detect-secrets (with O(detect)) and git (for history) on the host that runs the module
notes:
  - A finding with RV(findings[].status) C(fixed) is resolved by the C(.gitignore) change (an untracked file that
    is now ignored). History findings stay open; the emergency runbook takes RV(leaked_catalog_entries) as scope.
  - "Inline C(# pragma: allowlist secret) comments silence detect-secrets for a line, as detect-secrets does."
seealso:
  - module: agentarea.secrets.access_policy
"""

EXAMPLES = r"""
- name: Fingerprint the catalog's values on the controller
  ansible.builtin.set_fact:
    scan_fingerprints: "{{ scan_fingerprints | default([]) + [{'name': item.name,
      'fingerprint': lookup('agentarea.secrets.secret', item.store) | agentarea.secrets.fingerprint}] }}"
  loop: "{{ agentarea_secrets_catalog }}"
  loop_control:
    label: "{{ item.name }}"
  no_log: true

- name: Scan the repository, its history included
  agentarea.secrets.secret_scan:
    path: /srv/src/agentarea
    catalog_fingerprints: "{{ scan_fingerprints }}"
    fix_gitignore: true
  register: scan
"""

RETURN = r"""
findings:
  description: Every finding; never a value.
  returned: always
  type: list
  elements: dict
  contains:
    file:
      description: Path relative to O(path).
      type: str
    line:
      description: Line number (in that commit's version of the file, for history); null for file-level findings.
      type: int
    commit:
      description: The oldest commit that introduced it (history findings).
      type: str
    source:
      description: C(tree) (the files as they are) or C(history).
      type: str
    kind:
      description: What was found (C(AWS Access Key), C(catalog secret), C(env file not ignored), ...).
      type: str
    detector:
      description: C(detect-secrets:<plugin>), C(catalog-fingerprint) or C(gitignore).
      type: str
    catalog_entry:
      description: The catalog entry whose value this is (confirmed leaks).
      type: str
    in_working_tree:
      description: For history findings, whether the same secret is still in that file.
      type: bool
    status:
      description: C(open), or C(fixed) by the C(.gitignore) change.
      type: str
  sample:
    - {file: app/settings.py, line: 3, commit: 4b1e0c2d..., source: history, kind: AWS Access Key,
       detector: "detect-secrets:AWSKeyDetector", in_working_tree: false, status: open}
open_findings:
  description: Number of findings with status C(open).
  returned: always
  type: int
leaked_catalog_entries:
  description:
    - Names of the catalog entries whose value was found in an open finding (committed, in history, or in a file
      that is not ignored). This is the scope the emergency runbook rotates.
  returned: always
  type: list
  elements: str
gitignore:
  description: The C(.gitignore) check (path, the rules it lacked, the rules added).
  returned: when check_gitignore
  type: dict
stats:
  description: Files, blobs and commits scanned, files skipped as too large, whether it is a git work tree.
  returned: always
  type: dict
"""

import os

from ansible_collections.agentarea.secrets.plugins.module_utils.core._fileio import atomic_write
from ansible_collections.agentarea.secrets.plugins.module_utils.hygiene._gitignore import coverage, fixed_text, plan_fix
from ansible_collections.agentarea.secrets.plugins.module_utils.core._module import SecretModule
from ansible_collections.agentarea.secrets.plugins.module_utils.hygiene._scan import (
    GITIGNORE,
    CatalogIndex,
    Detector,
    Scanner,
)


class SecretScan(SecretModule):
    NAME = 'secret_scan'
    OPTIONS = dict(
        path=dict(type='path', required=True),
        history=dict(type='bool', default=True),
        catalog_fingerprints=dict(type='list', elements='dict', default=[]),
        detect=dict(type='bool', default=True),
        check_gitignore=dict(type='bool', default=True),
        fix_gitignore=dict(type='bool', default=False),
        exclude=dict(type='list', elements='str', default=[]),
        max_file_size=dict(type='int', default=1048576),
        min_token_length=dict(type='int', default=8, no_log=False),
        git_timeout=dict(type='int', default=300),
        fail_on_findings=dict(type='bool', default=True),
    )
    FINGERPRINT_KEY = True

    def run(self):
        params = self.params
        root = params['path']
        result = self.result = {'changed': False, 'findings': [], 'open_findings': 0, 'leaked_catalog_entries': [],
                                'stats': {}}
        index = CatalogIndex(params['catalog_fingerprints'], params['fingerprint_key'], params['min_token_length'])
        detector = Detector() if params['detect'] else None
        missing, added, still = [], [], []
        if params['check_gitignore'] and os.path.isdir(root):
            missing = coverage(root)
            added, still = plan_fix(root) if params['fix_gitignore'] else ([], missing)
        scanner = Scanner(root, index, detector, params['exclude'], params['max_file_size'], params['git_timeout'],
                          extra_rules=added)
        findings = scanner.run(history=params['history'])
        if not params['check_gitignore']:
            findings = [f for f in findings if f['detector'] != GITIGNORE]
        for rule in missing:
            findings.append({'file': '.gitignore', 'line': None, 'source': 'tree', 'detector': GITIGNORE,
                             'kind': 'gitignore lacks %s' % rule, 'status': 'open' if rule in still else 'fixed'})
        if params['check_gitignore']:
            path = os.path.join(root, '.gitignore')
            try:
                with open(path, 'r') as handle:
                    before = handle.read()
                mode = os.stat(path).st_mode & 0o777
            except (IOError, OSError):
                before, mode = None, 0o644
            after = fixed_text(before, added)
            result['gitignore'] = {'path': path, 'missing': missing, 'added': added, 'changed': bool(added)}
            if added:
                result['changed'] = True
                result['diff'] = {'before_header': path, 'after_header': path, 'before': before or '',
                                  'after': after}
                if not self.check_mode:
                    atomic_write(path, after, mode=mode, backend='secret_scan')
        findings.sort(key=lambda f: (f['source'], f['file'], f['line'] or 0, f['kind']))
        result['findings'] = findings
        result['open_findings'] = len([f for f in findings if f['status'] == 'open'])
        result['leaked_catalog_entries'] = sorted(set(
            f['catalog_entry'] for f in findings if f.get('catalog_entry') and f['status'] == 'open'))
        result['stats'] = scanner.stats
        if params['fail_on_findings'] and result['open_findings']:
            where = sorted(set('%s%s' % (f['file'], ':%s' % f['line'] if f['line'] else '')
                               for f in findings if f['status'] == 'open'))
            self.fail('secret_scan: %d open finding(s) in %s: %s%s' % (
                result['open_findings'], root, ', '.join(where[:10]), ' ...' if len(where) > 10 else ''), **result)
        return result


def main():
    SecretScan().main()


if __name__ == '__main__':
    main()
