#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
module: secret_file
short_description: Write a secret file or one entry of a .env file, atomically and privately
version_added: 0.1.0
author:
  - agentarea.secrets contributors (@agentarea)
description:
  - Writes O(value) to the file at O(path) (a Compose or Docker secret file such as C(./secrets/db_password.txt)),
    or, with O(key), sets one variable of a C(.env) file and keeps every other line and comment.
  - The file is written through a temporary file in the same directory that has the final mode and owner from the
    start, then renamed over the old one, so no reader ever sees a partial file or a moment of wider permissions.
  - Unchanged content writes nothing; only owner, group or mode are corrected when they differ.
  - The value never appears in the result or the diff, which show keyed fingerprints.
options:
  path:
    description: The file.
    type: path
    required: true
  value:
    description:
      - The content (or the variable's value, with O(key)). Required with O(state=present).
    type: str
  key:
    description:
      - Treat O(path) as a C(.env) file and set (or, with O(state=absent), remove) this variable.
    type: str
  newline:
    description:
      - End a whole-file secret with a newline. Most consumers (C(*_FILE) variables, Docker secrets) expect none.
    type: bool
    default: false
  state:
    description: V(present) writes; V(absent) removes the file (or the O(key) variable).
    type: str
    choices: [present, absent]
    default: present
  owner:
    description: Owner of the file (name or uid). Default is the user running the module.
    type: str
  group:
    description: Group of the file (name or gid).
    type: str
  mode:
    description: Permissions, as an octal string.
    type: raw
    default: '0600'
  backup:
    description: Keep a timestamped copy of the previous file (with the same permissions) before changing it.
    type: bool
    default: false
  fingerprint_key:
    description:
      - Key of the returned HMAC-SHA256 fingerprints. Defaults to E(AGENTAREA_SECRETS_FINGERPRINT_KEY), then the key
        file C(~/.config/agentarea-secrets/fingerprint.key) on the managed host.
    type: str
attributes:
  check_mode:
    support: full
    description: Reports what would change without writing.
  diff_mode:
    support: full
    description: Fingerprints and modes before and after, never values.
seealso:
  - module: agentarea.secrets.secret
  - plugin: agentarea.secrets.dotenv
    plugin_type: lookup
"""

EXAMPLES = r"""
- name: Compose-style secret file read by the API through DATABASE_PASSWORD_FILE
  agentarea.secrets.secret_file:
    path: /srv/agentarea/secrets/db_password.txt
    value: "{{ lookup('agentarea.secrets.secret', 'vault://secret/agentarea/database#password') }}"
    owner: "1000"
    mode: "0400"

- name: One entry of the .env file, keeping the others
  agentarea.secrets.secret_file:
    path: /srv/agentarea/.env
    key: JWT_SECRET
    value: "{{ jwt_secret }}"
    backup: true
"""

RETURN = r"""
path:
  description: The file.
  returned: always
  type: str
fingerprint:
  description: Keyed fingerprint of the value now in the file.
  returned: when state is present
  type: str
previous_fingerprint:
  description: Keyed fingerprint of the value before, if there was one.
  returned: when there was a value
  type: str
backup_file:
  description: The backup copy, when one was made.
  returned: when a backup was made
  type: str
"""

import grp
import os
import pwd

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.agentarea.secrets.plugins.module_utils import _dotenv, _fileio
from ansible_collections.agentarea.secrets.plugins.module_utils._errors import SecretError, SecretNotFound
from ansible_collections.agentarea.secrets.plugins.module_utils._fingerprint import fingerprint


def resolve_id(module, value, kind):
    if value is None:
        return -1
    if str(value).isdigit():
        return int(value)
    try:
        return pwd.getpwnam(value).pw_uid if kind == 'owner' else grp.getgrnam(value).gr_gid
    except KeyError:
        module.fail_json(msg="%s '%s' does not exist on this host" % (kind, value))


def parse_mode(module, mode):
    if isinstance(mode, int):
        return mode
    try:
        return int(str(mode), 8)
    except ValueError:
        module.fail_json(msg="mode must be an octal string such as '0600', got %r" % (mode,))


def after_meta(st, mode, uid, gid):
    meta = {'mode': '%04o' % mode}
    if uid != -1 or gid != -1:
        meta.update(uid=uid if uid != -1 else (st.st_uid if st else os.getuid()),
                    gid=gid if gid != -1 else (st.st_gid if st else os.getgid()))
    return meta


def main():
    module = AnsibleModule(
        argument_spec=dict(
            path=dict(type='path', required=True),
            value=dict(type='str', no_log=True),
            key=dict(type='str', no_log=False),
            newline=dict(type='bool', default=False),
            state=dict(type='str', default='present', choices=['present', 'absent']),
            owner=dict(type='str'),
            group=dict(type='str'),
            mode=dict(type='raw', default='0600'),
            backup=dict(type='bool', default=False),
            fingerprint_key=dict(type='str', no_log=True),
        ),
        required_if=[('state', 'present', ('value',))],
        supports_check_mode=True,
    )
    p = module.params
    path, key, fkey = p['path'], p['key'], p['fingerprint_key']
    result = {'changed': False, 'path': path}
    mode = parse_mode(module, p['mode'])
    uid, gid = resolve_id(module, p['owner'], 'owner'), resolve_id(module, p['group'], 'group')
    if key is not None:
        try:
            _dotenv.check_key(key)
        except ValueError as exc:
            module.fail_json(msg='%s: %s' % (path, exc), **result)

    try:
        try:
            current_text = _fileio.read_text(path, path, 'secret_file')
        except SecretNotFound:
            current_text = None
        if key is not None:
            current_values = _dotenv.parse(current_text or '')
            current = current_values.get(key)
            present = key in current_values
        else:
            current, present = current_text, current_text is not None
        if present and current is not None:
            result['previous_fingerprint'] = fingerprint(current, fkey)

        new_text = None
        if p['state'] == 'absent':
            if present:
                new_text = _dotenv.remove_key(current_text, key) if key is not None else None
                result['changed'] = True
        else:
            desired = p['value']
            result['fingerprint'] = fingerprint(desired, fkey)
            if key is not None:
                if current != desired or not present:
                    new_text = _dotenv.set_key(current_text or '', key, desired)
            else:
                wanted = desired + ('\n' if p['newline'] else '')
                if current_text != wanted:
                    new_text = wanted
            result['changed'] = new_text is not None

        st = os.stat(path) if os.path.exists(path) else None
        meta_before = {'mode': '%04o' % (st.st_mode & 0o7777)} if st else None
        if st and (uid != -1 or gid != -1):
            meta_before.update(uid=st.st_uid, gid=st.st_gid)
        exists_after = not (p['state'] == 'absent' and key is None)
        if st is not None and exists_after and new_text is None:
            # content unchanged: correct mode/owner in place
            if (st.st_mode & 0o7777) != mode or (uid != -1 and st.st_uid != uid) or (gid != -1 and st.st_gid != gid):
                result['changed'] = True
                if not module.check_mode:
                    os.chown(path, uid, gid)
                    os.chmod(path, mode)

        if result['changed'] and not module.check_mode:
            if p['backup'] and st is not None:
                result['backup_file'] = module.backup_local(path)
            if p['state'] == 'absent' and key is None:
                os.unlink(path)
            elif new_text is not None:
                _fileio.atomic_write(path, new_text, mode=mode, ref=path, backend='secret_file', uid=uid, gid=gid)

        result['diff'] = {
            'before': {'path': path, 'fingerprint': result.get('previous_fingerprint'), 'file': meta_before},
            'after': {'path': path, 'fingerprint': result.get('fingerprint'),
                      'file': after_meta(st, mode, uid, gid) if exists_after else None},
        }
    except SecretError as exc:
        module.fail_json(msg=str(exc), **result)
    except (IOError, OSError) as exc:
        module.fail_json(msg='%s: %s' % (path, os.strerror(exc.errno) if exc.errno else type(exc).__name__),
                         **result)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
