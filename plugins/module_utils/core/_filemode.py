# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Permission modes of secret files, read the way ``ansible.builtin.file`` reads them, limited to 0..0777."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
import stat

from ansible_collections.agentarea.secrets.plugins.module_utils.core._errors import InvalidOption

_SYMBOLIC = re.compile(r'^([ugoa]*)([-+=])([rwx]*)$')
_CLASS_SHIFT = {'u': 6, 'g': 3, 'o': 0}


def parse_mode(mode, current=None, allow_world=False, what='mode', world_option='allow_world_access'):
    """A permission mode as ``ansible.builtin.file`` reads it - an int as is (so unquoted YAML ``0640`` works and
    ``644`` is the decimal 644), an octal string (``'0640'``, ``'640'``) or a symbolic one (``'u=rw,g=r'``,
    applied to ``current``, the file's present mode, or 0) - limited to 0..0777. A mode that gives other users
    any access is refused unless ``allow_world``; the message names ``world_option`` as the way to allow it (None: the
    caller has no such option). None stays None (keep the file's mode). Raises InvalidOption."""
    if mode is None or mode == '':
        return None
    if isinstance(mode, bool):
        raise InvalidOption('%s must be an octal string such as "0640" or a symbolic mode such as "u=rw,g=r"' % what)
    if isinstance(mode, int):
        value = mode
        if not 0 <= value <= 0o777:
            raise InvalidOption('%s %d is not a permission mode between 0 and 0777%s' % (
                what, value, '; an unquoted YAML number such as 644 is decimal: quote it ("0644")'
                if value > 0o777 else ''))
    else:
        text = str(mode).strip()
        if re.match(r'^(0o?)?[0-7]{1,4}$', text):
            value = int(text[2:] if text.startswith('0o') else text, 8)
        elif text and all(_SYMBOLIC.match(part) for part in text.split(',')):
            value = _symbolic(text, 0 if current is None else stat.S_IMODE(current))
        else:
            raise InvalidOption('%s %r is neither an octal mode such as "0640" nor a symbolic one such as "u=rw,g=r"'
                                % (what, text))
        if value > 0o777:
            raise InvalidOption('%s %s has set-user-ID, set-group-ID or sticky bits: only 0..0777 is accepted'
                                % (what, text))
    if value & 0o007 and not allow_world:
        raise InvalidOption('%s %04o gives every user of the host access to a secret file (world-%s); use a mode '
                            'without "other" permissions such as 0640%s'
                            % (what, value, 'writable' if value & 0o002 else 'readable' if value & 0o004
                               else 'executable', ', or set %s: true' % world_option if world_option else ''))
    return value


def _symbolic(text, value):
    for clause in text.split(','):
        who, op, perms = _SYMBOLIC.match(clause).groups()
        classes = 'ugo' if who in ('', 'a') or 'a' in who else who
        bits = (4 if 'r' in perms else 0) | (2 if 'w' in perms else 0) | (1 if 'x' in perms else 0)
        for cls in classes:
            shift = _CLASS_SHIFT[cls]
            if op == '=':
                value &= ~(7 << shift)
            if op in ('=', '+'):
                value |= bits << shift
            else:
                value &= ~(bits << shift)
    return value
