# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment:
    # Options that every lookup of the collection has.
    DOCUMENTATION = r"""
options:
  on_missing:
    description:
      - What to do when a secret, a version or a C(#key) does not exist.
      - C(error) fails the task, C(warn) warns and leaves the term out of the result, C(skip) leaves it out quietly.
    type: str
    choices: [error, warn, skip]
    default: error
    env:
      - name: ANSIBLE_AGENTAREA_SECRETS_ON_MISSING
    vars:
      - name: ansible_agentarea_secrets_on_missing
  on_denied:
    description:
      - What to do when the store denies access to a secret (C(error), C(warn) or C(skip), as for O(on_missing)).
    type: str
    choices: [error, warn, skip]
    default: error
    env:
      - name: ANSIBLE_AGENTAREA_SECRETS_ON_DENIED
    vars:
      - name: ansible_agentarea_secrets_on_denied
  on_deleted:
    description:
      - What to do when the secret or the requested version is deleted, destroyed or disabled
        (C(error), C(warn) or C(skip), as for O(on_missing)).
    type: str
    choices: [error, warn, skip]
    default: error
    env:
      - name: ANSIBLE_AGENTAREA_SECRETS_ON_DELETED
    vars:
      - name: ansible_agentarea_secrets_on_deleted
  cache:
    description:
      - Use the run cache, so that each secret is read once per playbook run however many tasks refer to it.
      - Remote stores (Vault, AWS, Azure, Google, Kubernetes) keep it in the run's broker, a process that the first
        such lookup of a run starts (or the P(agentarea.secrets.run_cache#callback) callback, before the first
        task) and that ends with C(ansible-playbook); nothing to configure. Local stores (files, C(.env), C(pass))
        need the callback; without it they are read on every call, with one hint how to enable it. V(false) reads
        the store every time.
    type: bool
    default: true
    env:
      - name: ANSIBLE_AGENTAREA_SECRETS_CACHE
    ini:
      - section: agentarea_secrets
        key: cache
    vars:
      - name: ansible_agentarea_secrets_cache
  audit_log:
    description:
      - Append a value-free audit event (time, actor, AWX job, reference, version, fingerprint, outcome) for every
        read to this file, as JSON lines. Off when not set.
    type: path
    env:
      - name: ANSIBLE_AGENTAREA_SECRETS_AUDIT_LOG
    ini:
      - section: agentarea_secrets
        key: audit_log
    vars:
      - name: ansible_agentarea_secrets_audit_log
  fingerprint_key:
    description:
      - Key of the HMAC-SHA256 fingerprints written to the audit log.
      - When not set, C(AGENTAREA_SECRETS_FINGERPRINT_KEY), then the key file
        C(~/.config/agentarea-secrets/fingerprint.key) (created on first use).
    type: str
    env:
      - name: ANSIBLE_AGENTAREA_SECRETS_FINGERPRINT_KEY
    vars:
      - name: ansible_agentarea_secrets_fingerprint_key
"""

    # A backend lookup's own key/version options.
    KEY_VERSION = r"""
options:
  key:
    description:
      - Return this field of a map or JSON secret instead of the whole secret (a dict).
      - The same as C(#key) in a reference; a C(#key) in the term wins.
    type: str
  version:
    description:
      - Read this version instead of the current one (where the store keeps versions).
    type: str
"""

    # What a single-store lookup (aws, azure, gcp, vault) points to: the lookup and the modules for any store.
    BACKEND = r"""
options: {}
seealso:
  - plugin: agentarea.secrets.secret
    plugin_type: lookup
  - module: agentarea.secrets.secret
  - module: agentarea.secrets.secret_info
"""
