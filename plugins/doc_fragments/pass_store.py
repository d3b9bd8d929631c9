# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type


class ModuleDocFragment:
    # Options of the pass backend (pass:// references).
    DOCUMENTATION = r"""
options:
  password_store_dir:
    description:
      - The password store directory of C(pass) (pass:// references).
      - Defaults to E(PASSWORD_STORE_DIR), then C(~/.password-store).
    type: path
  gnupghome:
    description:
      - The GnuPG home that holds the key to decrypt C(pass) entries (pass:// references).
      - Defaults to E(GNUPGHOME), then C(~/.gnupg).
    type: path
  pass_command:
    description:
      - The C(pass) executable (pass:// references).
    type: str
    default: pass
  timeout:
    description:
      - Seconds to wait for the store to answer.
    type: int
    default: 30
"""

    PLUGINS = r"""
options:
  password_store_dir:
    env:
      - name: ANSIBLE_AGENTAREA_SECRETS_PASS_PASSWORD_STORE_DIR
    vars:
      - name: ansible_agentarea_secrets_pass_password_store_dir
    ini:
      - section: agentarea_secrets_pass
        key: password_store_dir
  gnupghome:
    env:
      - name: ANSIBLE_AGENTAREA_SECRETS_PASS_GNUPGHOME
    vars:
      - name: ansible_agentarea_secrets_pass_gnupghome
  pass_command:
    env:
      - name: ANSIBLE_AGENTAREA_SECRETS_PASS_COMMAND
    vars:
      - name: ansible_agentarea_secrets_pass_command
  timeout:
    env:
      - name: ANSIBLE_AGENTAREA_SECRETS_TIMEOUT
    vars:
      - name: ansible_agentarea_secrets_timeout
"""
