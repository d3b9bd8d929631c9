# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: env
short_description: Read a secret from an environment variable or the file its _FILE twin names
version_added: 0.1.0
author:
  - agentarea.secrets contributors (@agentarea)
description:
  - For each variable name, returns the variable's value from the controller's environment or, when it is not set,
    the content of the file named by C(<NAME>_FILE) (the convention of the official Docker images, such as
    C(POSTGRES_PASSWORD_FILE)).
  - Unlike C(ansible.builtin.env), a variable that is set nowhere is an error (see O(on_missing)), not an empty
    string.
options:
  _terms:
    description: Variable names.
    type: list
    elements: str
    required: true
  key:
    description: Return this field of a JSON object value.
    type: str
extends_documentation_fragment:
  - agentarea.secrets.lookup
"""

EXAMPLES = r"""
- name: The OpenAI key from OPENAI_API_KEY, or from the file OPENAI_API_KEY_FILE names
  ansible.builtin.set_fact:
    openai_api_key: "{{ lookup('agentarea.secrets.env', 'OPENAI_API_KEY') }}"
  no_log: true
"""

RETURN = r"""
_raw:
  description: One value per variable.
  type: list
  elements: raw
"""

from ansible_collections.agentarea.secrets.plugins.plugin_utils._bytecode import loading

with loading():  # our files with bytecode, not compiled again in every task (plugin_utils/_bytecode.py)
    from ansible_collections.agentarea.secrets.plugins.plugin_utils._lookup import SecretLookupBase


class LookupModule(SecretLookupBase):
    SCHEME = 'env'
    REF_PARAMS = ()
