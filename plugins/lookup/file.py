# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: file
short_description: Read secret files such as /run/secrets/db_password
version_added: 0.1.0
author:
  - agentarea.secrets contributors (@agentarea)
description:
  - Returns the content of each secret file named in the terms, without its final newline.
  - Made for Docker and Kubernetes secret mounts and Compose C(secrets:) files. A JSON object file is returned as a
    dict, or one field of it with O(key).
  - An unreadable file fails with the path and the reason, never with the content.
options:
  _terms:
    description: Paths of secret files. A relative path is relative to the playbook directory.
    type: list
    elements: str
    required: true
  key:
    description: Return this field of a JSON object file.
    type: str
extends_documentation_fragment:
  - agentarea.secrets.lookup
"""

EXAMPLES = r"""
- name: The database password that Compose mounts for the API
  ansible.builtin.set_fact:
    db_password: "{{ lookup('agentarea.secrets.file', '/run/secrets/db_password') }}"
  no_log: true
"""

RETURN = r"""
_raw:
  description: The content of each file (a dict for a JSON object without O(key)).
  type: list
  elements: raw
"""

from ansible_collections.agentarea.secrets.plugins.plugin_utils._bytecode import loading

with loading():  # our files with bytecode, not compiled again in every task (plugin_utils/_bytecode.py)
    from ansible_collections.agentarea.secrets.plugins.module_utils.core._refs import SecretRef
    from ansible_collections.agentarea.secrets.plugins.plugin_utils._lookup import SecretLookupBase


class LookupModule(SecretLookupBase):
    SCHEME = 'file'

    def _ref(self, term):
        term = str(term)
        if term.startswith('file://'):
            return super(LookupModule, self)._ref(term)
        return SecretRef('file', term, key=self.get_option('key'))
