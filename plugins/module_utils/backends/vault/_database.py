# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The database secrets engine's set-up as desired state, for the ``vault_database`` module: a connection, its
dynamic and static roles, and the actions on them (rotate the root credential, rotate static roles now, reset).

Each object is read first (``database/config/<name>``, ``database/roles/<name>``, ``database/static-roles/<name>``)
and compared field by field with what the task gives, after normalising what Vault normalises (durations come back
as seconds); only what differs is written, so a second run changes nothing. The connection's password is never
read back by Vault: it is written when the connection is created, and on every run only with
``update_password: always``. Plans and results hold field names and non-secret settings, never a password.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.agentarea.secrets.plugins.module_utils.core._errors import InvalidOption, SecretNotFound

#: the connection's own fields (the rest of ``connection_details`` goes through ``options``)
CONNECTION_FIELDS = ('plugin_name', 'plugin_version', 'connection_url', 'username', 'allowed_roles',
                     'password_policy', 'root_rotation_statements')
#: how Vault names a field when it reads the connection back (``root_rotation_statements`` is written under that name
#: and read as ``root_credentials_rotate_statements``; the connection's own settings sit in ``connection_details``)
_READ_AS = {'root_rotation_statements': 'root_credentials_rotate_statements'}
_DETAILS = ('connection_url', 'username')
ROLE_FIELDS = ('db_name', 'creation_statements', 'revocation_statements', 'rollback_statements', 'renew_statements',
               'default_ttl', 'max_ttl', 'credential_type', 'credential_config')
STATIC_ROLE_FIELDS = ('db_name', 'username', 'rotation_period', 'rotation_schedule', 'rotation_window',
                      'rotation_statements', 'credential_type', 'credential_config')
DURATIONS = ('default_ttl', 'max_ttl', 'rotation_period', 'rotation_window')
#: what a diff or a result may show of a connection's ``options`` (``connection_details`` may hold TLS keys or
#: a plugin's private key): names, never values
_HIDDEN = '<hidden>'
_GO_DURATION = re.compile(r'(\d+(?:\.\d+)?)(ms|s|m|h|d)')
_UNITS = {'ms': 0.001, 's': 1, 'm': 60, 'h': 3600, 'd': 86400}


def seconds(value, name='duration'):
    """A Vault duration (``3600``, ``'3600'``, ``'90m'``, ``'1h30m'``, ``'7d'``) as whole seconds, as Vault
    reads it back; InvalidOption when it is not one."""
    if value is None or value == '':
        return None
    if isinstance(value, bool):
        raise InvalidOption("%s: '%s' is not a duration" % (name, value), backend='vault')
    if isinstance(value, (int, float)):
        return int(value)
    text = str(value).strip()
    if text.isdigit():
        return int(text)
    parts = _GO_DURATION.findall(text)
    if not parts or ''.join(n + u for n, u in parts) != text:
        raise InvalidOption("%s: '%s' is not a duration (write 3600, 90m, 1h30m or 7d)" % (name, value),
                            backend='vault')
    return int(sum(float(n) * _UNITS[u] for n, u in parts))


def _norm(name, value):
    if name in DURATIONS:
        return seconds(value, name)
    return value


def _differs(want, have):
    """The names of the fields of ``want`` (the task's, None meaning "not given") whose value ``have`` (what Vault
    read back) does not already hold."""
    out = []
    for name, value in want.items():
        if value is None:
            continue
        if _norm(name, value) != _norm(name, have.get(name)):
            out.append(name)
    return out


class DatabaseEngine:
    """The engine mounted at ``mount``, set up through a Vault backend's ``api_read``/``api_write``/``api_delete``.

    ``apply(spec, check)`` returns the module's result (what changed, per object) and its diff; nothing is written
    in check mode."""

    def __init__(self, vault, mount='database'):
        self.vault = vault
        self.mount = str(mount or 'database').strip('/')
        if not self.mount:
            raise InvalidOption('mount must name the database secrets engine', backend='vault')

    def path(self, *parts):
        return '/'.join((self.mount,) + tuple(str(p).strip('/') for p in parts))

    def read(self, *parts):
        """The ``data`` of GET on the path, or None when there is nothing."""
        try:
            response = self.vault.api_read(self.path(*parts))
        except SecretNotFound:
            return None
        data = response.get('data')
        return data if isinstance(data, dict) else {}

    # -- the connection -------------------------------------------------------------------------------------------
    def connection_state(self, name):
        """What Vault holds of connection ``name`` in the task's field names (None when there is none)."""
        data = self.read('config', name)
        if data is None:
            return None
        details = data.get('connection_details') if isinstance(data.get('connection_details'), dict) else {}
        have = {}
        for field in CONNECTION_FIELDS:
            have[field] = details.get(field) if field in _DETAILS else data.get(_READ_AS.get(field, field))
        have['options'] = dict((k, v) for k, v in details.items() if k not in _DETAILS)
        return have

    def plan_connection(self, conn):
        """(action, changed field names, body) for the connection; action is one of created, updated, unchanged,
        deleted, absent."""
        name = conn['name']
        have = self.connection_state(name)
        if conn.get('state') == 'absent':
            return ('deleted' if have is not None else 'absent'), [], None, have
        want = dict((f, conn.get(f)) for f in CONNECTION_FIELDS)
        options = conn.get('options') or {}
        if have is None:
            missing = [f for f in ('plugin_name', 'connection_url') if not conn.get(f)]
            if missing:
                raise InvalidOption("connection '%s' does not exist in 'vault://%s' and creating it needs %s"
                                    % (name, self.path('config', name), ' and '.join(missing)), backend='vault')
            changed = [f for f, v in want.items() if v is not None] + sorted(options)
            write_password = conn.get('password') is not None
        else:
            changed = _differs(want, have)
            changed += sorted(k for k, v in options.items() if have['options'].get(k) != v)
            write_password = conn.get('password') is not None and conn.get('update_password') == 'always'
        if write_password:
            changed.append('password')
        if not changed:
            return 'unchanged', [], None, have
        body = dict((f, v) for f, v in want.items() if v is not None)
        body.update(options)
        if write_password:
            body['password'] = conn['password']
        elif 'password' in body:
            del body['password']
        if conn.get('verify_connection') is not None:
            body['verify_connection'] = conn['verify_connection']
        return ('created' if have is None else 'updated'), changed, body, have

    # -- dynamic and static roles ---------------------------------------------------------------------------------
    def plan_role(self, kind, role, db_name):
        """(action, changed field names, body) of a role; ``kind`` is ``roles`` or ``static-roles``."""
        fields = ROLE_FIELDS if kind == 'roles' else STATIC_ROLE_FIELDS
        name = role['name']
        have = self.read(kind, name)
        if role.get('state') == 'absent':
            return ('deleted' if have is not None else 'absent'), [], None, have
        want = dict((f, role.get(f)) for f in fields)
        if want.get('db_name') is None:
            want['db_name'] = db_name
        if not want.get('db_name'):
            raise InvalidOption("%s '%s' needs db_name (or a connection in the same task)"
                                % (_label(kind), name), backend='vault')
        if kind == 'static-roles' and have is None and not want.get('username'):
            raise InvalidOption("static role '%s' needs username, the database user whose password Vault rotates"
                                % name, backend='vault')
        if kind == 'roles' and have is None and not want.get('creation_statements'):
            raise InvalidOption("role '%s' needs creation_statements" % name, backend='vault')
        if have is None:
            changed = [f for f, v in want.items() if v is not None]
        else:
            changed = _differs(want, have)
        if not changed:
            return 'unchanged', [], None, have
        body = dict((f, v) for f, v in want.items() if v is not None)
        return ('created' if have is None else 'updated'), changed, body, have

    # -- the whole task -------------------------------------------------------------------------------------------
    def apply(self, spec, check):
        """Bring the engine to ``spec`` (the module's parameters): the connection, then its roles (the roles first
        when the connection is removed). Returns (result, before, after); nothing is written in ``check``."""
        conn = spec.get('connection')
        db_name = conn['name'] if conn else None
        result = {'changed': False, 'mount': self.mount, 'connection': None, 'roles': [], 'static_roles': [],
                  'rotated_root': False, 'rotated_static_roles': [], 'reset': False}
        before, after = {}, {}
        steps = []
        if conn:
            steps.append(('config', conn, self.plan_connection(conn)))
        for kind, option in (('roles', 'roles'), ('static-roles', 'static_roles')):
            for role in spec.get(option) or []:
                steps.append((kind, role, self.plan_role(kind, role, db_name)))
        if conn and conn.get('state') == 'absent':
            steps = steps[1:] + steps[:1]  # roles would be left pointing at a connection that is gone
        for kind, obj, (action, changed, body, have) in steps:
            entry = {'name': obj['name'], 'action': action, 'changed_fields': changed}
            if kind == 'config':
                entry['password_written'] = 'password' in changed
                result['connection'] = entry
            else:
                result['roles' if kind == 'roles' else 'static_roles'].append(entry)
            if action in ('unchanged', 'absent'):
                continue
            result['changed'] = True
            key = '%s/%s' % (kind, obj['name'])
            before[key] = 'absent' if have is None else _shown(have, changed or sorted(have))
            after[key] = 'absent' if action == 'deleted' else _shown(body, changed)
            if check:
                continue
            if action == 'deleted':
                if kind != 'static-roles' and spec.get('revoke_leases', True):
                    self.revoke_leases(kind, obj['name'])
                self.vault.api_delete(self.path(kind, obj['name']))
            else:
                self.vault.api_write(self.path(kind, obj['name']), body)
        self.actions(spec, conn, steps, result, check)
        return result, before, after

    def revoke_leases(self, kind, name):
        """Before a dynamic role or a connection is deleted: revoke the leases of its credentials, since Vault can
        no longer revoke them (nor drop their database users) once the connection is gone. For a connection, the
        roles that use it are found by listing the engine's roles."""
        if kind == 'roles':
            roles = [name]
        else:
            try:
                listed = self.vault.api_list(self.path('roles'))
            except SecretNotFound:
                listed = []
            roles = [r for r in listed if (self.read('roles', r) or {}).get('db_name') == name]
        for role in roles:
            self.vault.api_write('sys/leases/revoke-prefix/%s' % self.path('creds', role), {'sync': True})

    def actions(self, spec, conn, steps, result, check):
        """Rotate the root credential, rotate static roles, reset the connection: actions, each a change."""
        rotate_root = spec.get('rotate_root') or 'never'
        if conn and conn.get('state') != 'absent':
            wrote = bool(result['connection'] and result['connection']['password_written'])
            if rotate_root == 'always' or (rotate_root == 'on_write' and wrote):
                result['rotated_root'] = result['changed'] = True
                if not check:
                    self.vault.api_write(self.path('rotate-root', conn['name']), {})
            if spec.get('reset_connection'):
                result['reset'] = result['changed'] = True
                if not check:
                    self.vault.api_write(self.path('reset', conn['name']), {})
        elif rotate_root != 'never' or spec.get('reset_connection'):
            raise InvalidOption('rotate_root and reset_connection act on the connection: give connection.name '
                                '(with state present)', backend='vault')
        for name in spec.get('rotate_static_roles') or []:
            result['rotated_static_roles'].append(name)
            result['changed'] = True
            if not check:
                self.vault.api_write(self.path('rotate-role', name), {})


def _label(kind):
    return 'role' if kind == 'roles' else 'static role'


_URL_PASSWORD = re.compile(r'(://[^:/@\s]*:)([^@\s]+)(@)')


def _shown(fields, names):
    """What a diff shows of ``fields`` (a write's body or what Vault held): the values of ``names``, except the
    password and a connection's plugin ``options`` (which may hold keys), shown as ``<hidden>``, and a password
    written into a connection URL (rather than Vault's ``{{password}}`` template)."""
    shown = {}
    for name in names:
        if name == 'password' or name == 'options' or name not in CONNECTION_FIELDS + ROLE_FIELDS + STATIC_ROLE_FIELDS:
            shown[name] = _HIDDEN
            continue
        value = fields.get(name)
        if name == 'connection_url' and isinstance(value, str):
            value = _URL_PASSWORD.sub(lambda m: m.group(1) + (m.group(2) if m.group(2) == '{{password}}'
                                                              else _HIDDEN) + m.group(3), value)
        shown[name] = value
    return shown
