# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: pass
short_description: Read entries of the standard Unix password store (pass)
version_added: 0.1.0
author:
  - agentarea.secrets contributors (@agentarea)
description:
  - "Returns the first line (the password) of each C(pass) entry, or the value of a C(field: value) line with
    O(field)."
  - Only reads. Writing is the job of the M(agentarea.secrets.secret) module (C(pass://) references); unlike
    C(community.general.passwordstore), a lookup never creates or overwrites an entry as a side effect.
  - gpg runs in batch mode and never waits for a passphrase prompt; a missing key is reported as access denied.
requirements:
  - pass and GnuPG on the controller
options:
  _terms:
    description: Entry names, such as C(agentarea/database).
    type: list
    elements: str
    required: true
  field:
    description:
      - "Return the value of this C(field: value) line instead of the first line."
      - C(password) is the first line. C(pass://entry#field) in a term does the same.
    type: str
extends_documentation_fragment:
  - agentarea.secrets.lookup
  - agentarea.secrets.pass_store
  - agentarea.secrets.pass_store.plugins
"""

EXAMPLES = r"""
- name: The database password and its user from one entry
  ansible.builtin.set_fact:
    db_password: "{{ lookup('agentarea.secrets.pass', 'agentarea/database') }}"
    db_user: "{{ lookup('agentarea.secrets.pass', 'agentarea/database', field='user') }}"
  no_log: true

- name: With a dedicated store and GnuPG home
  ansible.builtin.set_fact:
    openai_api_key: "{{ lookup('agentarea.secrets.pass', 'agentarea/openai', password_store_dir='/srv/pass',
                              gnupghome='/srv/gnupg') }}"
  no_log: true
"""

RETURN = r"""
_raw:
  description: The password or field of each entry.
  type: list
  elements: str
"""

from ansible_collections.agentarea.secrets.plugins.plugin_utils._bytecode import loading

with loading():  # our files with bytecode, not compiled again in every task (plugin_utils/_bytecode.py)
    from ansible_collections.agentarea.secrets.plugins.plugin_utils._lookup import SecretLookupBase


class LookupModule(SecretLookupBase):
    SCHEME = 'pass'
    REF_PARAMS = ()
    KEY_OPTION = 'field'
