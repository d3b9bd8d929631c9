# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: secret
short_description: Read secrets from any store by reference
version_added: 0.1.0
author:
  - agentarea.secrets contributors (@agentarea)
description:
  - Reads each term, a secret reference such as C(vault://secret/agentarea/database#url), from the store its scheme
    names, with the same options, errors and result shape for every backend.
  - "References: C(scheme://location[#key][?param=value]). Schemes: C(vault), C(aws), C(ssm), C(azure), C(gcp), C(k8s),
    C(pass), C(dotenv), C(file), C(env) (C(docker) secrets cannot be read back). See the collection README."
  - Without C(#key) a map or JSON secret comes back as a dict; with it, that one field.
  - Each backend is built once per call, so several terms of one store share one client and one login;
    through the run's broker (see O(cache)), one login and one read per playbook run for the remote stores.
  - Connection options are those of each backend and are read only by that backend.
options:
  _terms:
    description: Secret references.
    type: list
    elements: str
    required: true
  retries:
    env:
      - name: ANSIBLE_AGENTAREA_SECRETS_RETRIES
    vars:
      - name: ansible_agentarea_secrets_retries
extends_documentation_fragment:
  - agentarea.secrets.lookup
  - agentarea.secrets.stores.secret_lookup
notes:
  - Values are never written to the audit log, to the run cache in clear, or to any output of the collection.
seealso:
  - plugin: agentarea.secrets.dotenv
    plugin_type: lookup
  - module: agentarea.secrets.secret
"""

EXAMPLES = r"""
- name: One field of a JSON secret in a .env file entry, a Docker secret file and a pass entry
  ansible.builtin.debug:
    msg: "{{ item | agentarea.secrets.fingerprint }}"
  loop:
    - "{{ lookup('agentarea.secrets.secret', 'dotenv://.env.local#DATABASE_URL') }}"
    - "{{ lookup('agentarea.secrets.secret', 'file:///run/secrets/db_password') }}"
    - "{{ lookup('agentarea.secrets.secret', 'pass://agentarea/openai#api_key') }}"
  no_log: true

- name: A missing optional secret is left out instead of failing
  ansible.builtin.set_fact:
    webhook_secret: "{{ lookup('agentarea.secrets.secret', 'env://WEBHOOK_SECRET', on_missing='skip') | default('', true) }}"
  no_log: true

- name: Several references in one call (one client per store)
  ansible.builtin.set_fact:
    app_secrets: "{{ query('agentarea.secrets.secret', 'dotenv://.env.local#JWT_SECRET', 'dotenv://.env.local#SESSION_KEY') }}"
  no_log: true
"""

RETURN = r"""
_raw:
  description:
    - One value per term, in order (terms skipped by O(on_missing), O(on_denied) or O(on_deleted) are left out).
    - A string, or a dict for a map or JSON secret read without C(#key).
  type: list
  elements: raw
"""

from ansible_collections.agentarea.secrets.plugins.plugin_utils._bytecode import loading

with loading():  # our files with bytecode, not compiled again in every task (plugin_utils/_bytecode.py)
    from ansible_collections.agentarea.secrets.plugins.plugin_utils._lookup import SecretLookupBase


class LookupModule(SecretLookupBase):
    SCHEME = None
