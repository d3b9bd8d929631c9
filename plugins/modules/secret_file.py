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
  - The file is written through a temporary file in the same directory, created with mode 0600 and given its final
    owner and mode before any content, then renamed over the old one, so no reader ever sees a partial file or a
    moment of wider permissions.
  - An existing file keeps its owner, group and mode unless O(owner), O(group) or O(mode) are set; a new file is
    created 0600, owned by the user running the module.
  - A symbolic link at O(path) is refused unless O(follow=true), and so is a symbolic link in one of its directories
    that a user other than root or the user running the module owns, and a file with more than one hard link. Owner and mode are set on a descriptor opened
    without following links, so a link planted by the owner of the directory cannot redirect them.
  - With O(key), writers of the same file wait for each other (a C(flock) on C(.<name>.lock) beside it, 0600,
    left in place), re-read the file under the lock and check that it did not change before the rename, so
    concurrent tasks (several C(forks)) setting different keys keep every key.
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
    description:
      - Permissions, as M(ansible.builtin.file) reads them - an octal string such as V('0640') or V('640'), or a
        symbolic mode such as V(u=rw,g=r) (applied to the present mode). Quote octal modes - an unquoted V(0640)
        works, but V(644) is the decimal number 644 and is refused.
      - Only 0 to 0777; a mode that gives "other" users any access (V('0644')) is refused unless
        O(allow_world_access=true).
      - When not set, an existing file keeps its mode and a new file gets V('0600').
    type: raw
  allow_world_access:
    description:
      - Allow O(mode) to give users outside the owner and group (the "other" class) read, write or execute access
        to the secret file.
    type: bool
    default: false
  follow:
    description:
      - Write to the file a symbolic link at O(path) points to (as M(ansible.builtin.file)'s O(follow) does for
        its target), and follow symbolic links in the directories of O(path) whoever owns them; also allows a file
        with more than one hard link.
      - By default a symbolic link at O(path) (or one in its directories owned by another user than root or the
        user running the module) fails the task naming the path - a user who owns the directory could point it
        at any file root can write.
    type: bool
    default: false
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

- name: An entry of an app's .env; the file keeps its owner and mode (app:app 0640)
  agentarea.secrets.secret_file:
    path: /srv/agentarea/.env
    key: DATABASE_URL
    value: "{{ database_url }}"

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
import stat

from ansible_collections.agentarea.secrets.plugins.module_utils.core import _dotenv, _fileio
from ansible_collections.agentarea.secrets.plugins.module_utils.core._errors import SecretError
from ansible_collections.agentarea.secrets.plugins.module_utils.core._filemode import parse_mode
from ansible_collections.agentarea.secrets.plugins.module_utils.core._fingerprint import fingerprint
from ansible_collections.agentarea.secrets.plugins.module_utils.core._module import SecretModule

FOLLOW_HINT = 'set follow: true to write to the file it points to'


def resolve_id(module, value, kind):
    if value is None:
        return -1
    if str(value).isdigit():
        return int(value)
    try:
        return pwd.getpwnam(value).pw_uid if kind == 'owner' else grp.getgrnam(value).gr_gid
    except KeyError:
        module.fail_json(msg="%s '%s' does not exist on this host" % (kind, value))


def file_meta(st, mode=None, uid=-1, gid=-1):
    """Mode, uid and gid the file has (``st``) or will have: what is asked, else what it has, else the defaults."""
    return {
        'mode': '%04o' % (mode if mode is not None else stat.S_IMODE(st.st_mode) if st else 0o600),
        'uid': uid if uid != -1 else (st.st_uid if st else os.geteuid()),
        'gid': gid if gid != -1 else (st.st_gid if st else os.getegid()),
    }


def plan(p, key, current_text, fkey, result):
    """The new text (None: content unchanged) and whether the file is removed; fills the fingerprints."""
    if key is not None:
        current_values = _dotenv.parse(current_text or '')
        current, present = current_values.get(key), key in current_values
    else:
        current, present = current_text, current_text is not None
    if present and current is not None:
        result['previous_fingerprint'] = fingerprint(current, fkey)
    if p['state'] == 'absent':
        if present and key is not None:
            return _dotenv.remove_key(current_text, key), False
        return None, present
    desired = p['value']
    result['fingerprint'] = fingerprint(desired, fkey)
    if key is not None:
        return (_dotenv.set_key(current_text or '', key, desired) if current != desired or not present else None), False
    wanted = desired + ('\n' if p['newline'] else '')
    return (wanted if current_text != wanted else None), False


def run(module, result):
    p = module.params
    path, key = p['path'], p['key']
    uid, gid = resolve_id(module, p['owner'], 'owner'), resolve_id(module, p['group'], 'group')
    check = module.check_mode
    # with a key the file is read, changed and written back: writers of one file take turns (a lock beside it)
    with _fileio.SecretFile(path, follow=p['follow'], lock=key is not None and not check, create_dirs=not check,
                            ref=path, backend='secret_file', hint=FOLLOW_HINT) as handle:
        if key is not None and check:
            handle.check_lock()
        st = handle.lstat()
        mode = parse_mode(p['mode'], current=st.st_mode if st else None, allow_world=p['allow_world_access'])
        new_text, remove = plan(p, key, handle.read_text(), p['fingerprint_key'], result)
        exists_after = st is not None or new_text is not None
        if remove:
            exists_after = False
        meta_change = False
        if st is not None and exists_after and new_text is None:
            meta_change = file_meta(st) != file_meta(st, mode, uid, gid)
        result['changed'] = remove or new_text is not None or meta_change
        if result['changed'] and not check:
            if p['backup'] and st is not None:
                result['backup_file'] = handle.backup()
            if remove:
                handle.unlink()
            elif new_text is not None:
                handle.write(new_text, mode=mode, uid=uid, gid=gid)
            else:
                handle.set_meta(mode, uid, gid)
        result['diff'] = {
            'before': {'path': path, 'fingerprint': result.get('previous_fingerprint'),
                       'file': file_meta(st) if st else None},
            'after': {'path': path, 'fingerprint': result.get('fingerprint'),
                      'file': file_meta(st, mode, uid, gid) if exists_after else None},
        }


class SecretFileModule(SecretModule):
    NAME = 'secret_file'
    OPTIONS = dict(
        path=dict(type='path', required=True),
        value=dict(type='str', no_log=True),
        key=dict(type='str', no_log=False),
        newline=dict(type='bool', default=False),
        state=dict(type='str', default='present', choices=['present', 'absent']),
        owner=dict(type='str'),
        group=dict(type='str'),
        mode=dict(type='raw'),
        allow_world_access=dict(type='bool', default=False),
        follow=dict(type='bool', default=False),
        backup=dict(type='bool', default=False),
    )
    FINGERPRINT_KEY = True

    def __init__(self):
        super(SecretFileModule, self).__init__(required_if=[('state', 'present', ('value',))])

    def run(self):
        path, key = self.params['path'], self.params['key']
        result = self.result = {'changed': False, 'path': path}
        if key is not None:
            try:
                _dotenv.check_key(key)
            except ValueError as exc:
                self.fail('%s: %s' % (path, exc), **result)
        try:
            run(self.module, result)
        except SecretError as exc:
            self.fail(str(exc), **result)  # the message names the file; no error class, as always
        except (IOError, OSError) as exc:
            self.fail('%s: %s' % (path, os.strerror(exc.errno) if exc.errno else type(exc).__name__), **result)
        return result


def main():
    SecretFileModule().main()


if __name__ == '__main__':
    main()
