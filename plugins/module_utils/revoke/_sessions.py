# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""End the database sessions of a leaked user, and optionally stop it from logging in until the next rotation.

A changed password does not end sessions that are already open (PostgreSQL, MariaDB and Redis all keep them),
so an attacker who logged in with a leaked credential stays connected after the rotation unless the sessions are
killed. Connections, drivers and the admin credential (a reference read through the stores, or a name and
password) are the rotation targets' own (``targets/_postgres.py``, ``_mysql.py``, ``_redis.py``), and so are the
options that say how to reach the server (``session_option_spec()``: the targets' ``CONNECTION``).

``disable_login`` runs before the kill, so the user cannot reconnect in between:

- PostgreSQL: ``ALTER ROLE ... NOLOGIN`` (it blocks every auth method and is readable in ``pg_roles``, so a second
  run knows; ``PASSWORD NULL`` is not, without superuser). The rotate module gives ``LOGIN`` back only to
  alternating roles: before a ``single`` rotation, ``ALTER ROLE ... LOGIN``.
- Redis: ``ACL SETUSER <user> resetpass`` (no password is valid); rotating adds the new one. (``off`` would
  survive a rotation, which only sends password rules.)
- MySQL/MariaDB: ``ALTER USER ... ACCOUNT LOCK``. The rotate module does not unlock accounts: run
  ``ALTER USER ... ACCOUNT UNLOCK`` once the credential is rotated.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.agentarea.secrets.plugins.module_utils.core._backend import iso
from ansible_collections.agentarea.secrets.plugins.module_utils.core._errors import InvalidOption
from ansible_collections.agentarea.secrets.plugins.module_utils.revoke._revoke import capped
from ansible_collections.agentarea.secrets.plugins.module_utils.rotation._engine import target_class
from ansible_collections.agentarea.secrets.plugins.module_utils.rotation.targets._base import merge_option_specs

#: PostgreSQL 14+ waits this long (ms) for each terminated backend to be gone
PG_TERMINATE_WAIT_MS = 5000
MYSQL_UNKNOWN_THREAD = 1094
MYSQL_NO_SUCH_USER = (1396, 1133)


class PostgresSessions:
    """Backends of a role in ``pg_stat_activity`` (cluster-wide), ended with ``pg_terminate_backend``."""

    def __init__(self, target, username):
        self.target, self.username = target, username

    def open(self, admin):
        return self.target.connect(admin[0], admin[1])

    def login(self, conn):
        row = conn.execute('SELECT rolcanlogin FROM pg_roles WHERE rolname = %s', (self.username,)).fetchone()
        return (False, False) if row is None else (True, bool(row[0]))

    def disable(self, conn):
        _psycopg, sql = self.target.driver()
        self.target._execute(conn, sql.SQL('ALTER ROLE {} NOLOGIN').format(sql.Identifier(self.username)),
                             "disable the login of role '%s'" % self.username)

    def sessions(self, conn):
        rows = conn.execute(
            'SELECT pid, client_addr::text, datname, application_name, backend_start FROM pg_stat_activity '
            'WHERE usename = %s AND pid <> pg_backend_pid() ORDER BY pid', (self.username,)).fetchall()
        return [{'id': r[0], 'addr': r[1], 'database': r[2], 'application': r[3] or None, 'started': iso(r[4])}
                for r in rows]

    def kill(self, conn, found):
        wait = int(conn.execute("SELECT current_setting('server_version_num')::int").fetchone()[0]) >= 140000
        call = 'pg_terminate_backend(pid, %d)' % PG_TERMINATE_WAIT_MS if wait else 'pg_terminate_backend(pid)'
        psycopg, _sql = self.target.driver()
        try:
            rows = conn.execute('SELECT pid, %s FROM pg_stat_activity WHERE usename = %%s AND pid <> pg_backend_pid()'
                                % call, (self.username,)).fetchall()
        except psycopg.Error as exc:
            diag = getattr(getattr(exc, 'diag', None), 'message_primary', None)
            raise InvalidOption("PostgreSQL refused to terminate the backends of role '%s': %s (the admin needs "
                                "pg_signal_backend, or superuser for a superuser's backends)"
                                % (self.username, diag or type(exc).__name__))
        return [r[0] for r in rows if r[1]]


class MysqlSessions:
    """Threads of a user name (any host) in ``information_schema.PROCESSLIST``, ended with ``KILL CONNECTION``.
    ``disable_login`` locks the account ``'<username>'@'<user_host>'``."""

    def __init__(self, target, username):
        self.target, self.username = target, username
        self.host = target.opt('user_host', '%')

    def open(self, admin):
        return self.target.connect(admin[0], admin[1])

    def login(self, conn):
        pymysql = self.target.driver()
        try:
            with conn.cursor() as cur:
                cur.execute('SHOW CREATE USER %s@%s', (self.username, self.host))
                text = str(cur.fetchone()[0])  # holds the password hash: only searched, never returned
        except pymysql.err.MySQLError as exc:
            if exc.args and exc.args[0] in MYSQL_NO_SUCH_USER:
                return False, False
            raise InvalidOption("MySQL/MariaDB refused SHOW CREATE USER for '%s'@'%s' (error %s)"
                                % (self.username, self.host, exc.args[0] if exc.args else '?'))
        return True, 'ACCOUNT LOCK' not in text.upper()

    def disable(self, conn):
        self.target._run(conn, 'ALTER USER %s@%s ACCOUNT LOCK', (self.username, self.host),
                         "lock the account '%s'@'%s'" % (self.username, self.host))

    def sessions(self, conn):
        rows = self.target._run(conn, 'SELECT ID, HOST, DB, COMMAND, TIME FROM information_schema.PROCESSLIST '
                                      'WHERE USER = %s AND ID <> CONNECTION_ID() ORDER BY ID', (self.username,),
                                'list the connections of %s' % self.username)
        return [{'id': int(r[0]), 'addr': r[1], 'database': r[2], 'command': r[3], 'seconds': r[4]} for r in rows]

    def kill(self, conn, found):
        pymysql = self.target.driver()
        killed = []
        for session in found:
            try:
                with conn.cursor() as cur:
                    cur.execute('KILL CONNECTION %s', (int(session['id']),))
                killed.append(session['id'])
            except pymysql.err.MySQLError as exc:
                if exc.args and exc.args[0] == MYSQL_UNKNOWN_THREAD:
                    continue  # gone already
                raise InvalidOption("MySQL/MariaDB refused to kill a connection of '%s' (error %s; the admin needs "
                                    "CONNECTION ADMIN or SUPER)" % (self.username, exc.args[0] if exc.args else '?'))
        return killed


class RedisSessions:
    """Clients authenticated as an ACL user (``CLIENT LIST``), ended with ``CLIENT KILL USER``."""

    def __init__(self, target, username):
        self.target, self.username = target, username

    def open(self, admin):
        return self.target.connect(admin[0], admin[1])

    def login(self, conn):
        found = self.target._getuser(conn, self.username)
        if not found:
            return False, False
        flags = [f.decode() if isinstance(f, bytes) else f for f in found.get('flags') or []]
        can = 'on' in flags and (bool(found.get('passwords')) or 'nopass' in flags)
        return True, can

    def disable(self, conn):
        self.target._command(conn, ('ACL', 'SETUSER', self.username, 'resetpass'),
                             "remove every password of '%s'" % self.username)

    def sessions(self, conn):
        own = conn.client_id()
        return [{'id': int(c['id']), 'addr': c.get('addr'), 'name': c.get('name') or None, 'seconds': int(c['age'])}
                for c in conn.client_list() if c.get('user') == self.username and int(c['id']) != own]

    def kill(self, conn, found):
        count = int(self.target._command(conn, ('CLIENT', 'KILL', 'USER', self.username),
                                         "kill the clients of '%s'" % self.username) or 0)
        return [s['id'] for s in found][:count]


KINDS = {'postgres': PostgresSessions, 'mysql': MysqlSessions, 'redis': RedisSessions}


def session_option_spec():
    """The suboptions of one item of the revoke module's ``sessions``: the kind, the user, how to reach the server
    and log in as its admin (the targets' ``CONNECTION`` options), and ``disable_login``."""
    connection = merge_option_specs([target_class(kind) for kind in KINDS], 'connection_spec')
    spec = dict(kind=dict(type='str', required=True, choices=list(KINDS)),
                username=dict(connection.pop('username'), required=True))
    spec.update(connection)
    spec['disable_login'] = dict(type='bool', default=False)
    return spec


def target_for(spec, stores):
    options = dict((k, v) for k, v in spec.items() if v is not None and k not in ('kind', 'disable_login'))
    if 'socket' in options and spec['kind'] == 'postgres':
        options['socket_dir'] = options.pop('socket')
    return target_class(spec['kind'])(options, 'single', stores)


def revoke_sessions(spec, stores, report, kinds=None, target_factory=None):
    """Disable the login (when asked), then end every session of ``spec['username']``."""
    kind, username = spec['kind'], spec['username']
    endpoint = spec.get('socket') or '%s:%s' % (spec.get('host') or 'localhost', spec.get('port') or 'default')
    item = {'kind': kind, 'username': username, 'endpoint': endpoint, 'sessions': 0}
    event = dict(backend=kind, user=username, endpoint=endpoint)
    conn = None
    try:
        target = (target_factory or target_for)(spec, stores)
        admin = target.admin()
        if admin is None:
            raise InvalidOption('sessions: give admin (a reference, or a user name with admin_password) or '
                                'admin_username and admin_password')
        impl = (kinds or KINDS)[kind](target, username)
        conn = impl.open(admin)
        exists, can_login = impl.login(conn)
        item['exists'] = exists
        if not exists:
            report.note("%s has no user '%s' at %s: only sessions were looked for" % (kind, username, endpoint))
        if exists:
            item['login'] = 'enabled' if can_login else 'disabled'
        if spec.get('disable_login') and can_login:
            if admin[0] == username:
                raise InvalidOption("disable_login would lock out the admin '%s' this task connects as" % username)
            if not report.check_mode:
                impl.disable(conn)
            item['login'] = 'would_disable' if report.check_mode else 'disabled'
            item['login_changed'] = True
            report.done('logins_disabled', 1, 'revoke.db_login', **event)
        found = impl.sessions(conn)
        item['sessions'] = len(found)
        item['clients'] = capped(found)
        ended = [s['id'] for s in found] if report.check_mode or not found else impl.kill(conn, found)
        item['ended'] = len(ended)
    except Exception as exc:  # pylint: disable=broad-except
        # a driver error (privileges, a lost connection) fails this user only; error_text keeps it value-free
        return report.failed("%s sessions of '%s' at %s" % (kind, username, endpoint), exc, 'revoke.db_sessions',
                             item, **event)
    finally:
        if conn is not None:
            try:
                conn.close()
            except Exception:  # pylint: disable=broad-except
                pass
    item['state'] = report.state(len(ended) + (1 if item.get('login_changed') else 0))
    report.done('db_sessions', len(ended), 'revoke.db_sessions', ids=capped(ended), **event)
    return item
