# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: dotenv
short_description: Read variables from a .env file
version_added: 0.1.0
author:
  - agentarea.secrets contributors (@agentarea)
description:
  - Returns the value of each variable named in the terms from a C(.env) file.
  - Reads quotes, C(export), comments, inline comments and values that span lines the way python-dotenv does,
    without interpolating C(${VAR}).
  - The file is read once per call however many variables are asked for.
options:
  _terms:
    description: Variable names. An empty list of terms is not allowed; use C(dotenv://path) with the
      P(agentarea.secrets.secret#lookup) lookup for the whole file as a dict.
    type: list
    elements: str
    required: true
  file:
    description:
      - The C(.env) file. A relative path is relative to the playbook directory.
    type: path
    default: .env
    env:
      - name: ANSIBLE_AGENTAREA_SECRETS_DOTENV_FILE
    vars:
      - name: ansible_agentarea_secrets_dotenv_file
extends_documentation_fragment:
  - agentarea.secrets.lookup
seealso:
  - module: agentarea.secrets.secret_file
"""

EXAMPLES = r"""
- name: Database URL and JWT secret from the project's .env.local
  ansible.builtin.set_fact:
    database_url: "{{ lookup('agentarea.secrets.dotenv', 'DATABASE_URL', file='.env.local') }}"
    jwt_secret: "{{ lookup('agentarea.secrets.dotenv', 'JWT_SECRET', file='.env.local') }}"
  no_log: true
"""

RETURN = r"""
_raw:
  description: The value of each variable, in order.
  type: list
  elements: str
"""

from ansible_collections.agentarea.secrets.plugins.plugin_utils._bytecode import loading

with loading():  # our files with bytecode, not compiled again in every task (plugin_utils/_bytecode.py)
    from ansible_collections.agentarea.secrets.plugins.module_utils.core._refs import SecretRef
    from ansible_collections.agentarea.secrets.plugins.plugin_utils._lookup import SecretLookupBase


class LookupModule(SecretLookupBase):
    SCHEME = 'dotenv'

    def _ref(self, term):
        return SecretRef('dotenv', self.get_option('file'), key=str(term))
