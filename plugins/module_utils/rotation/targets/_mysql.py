# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""MySQL and MariaDB accounts (``'user'@'host'``, host from ``target.user_host``, default ``%``).

``overlap`` uses MySQL's dual passwords (``RETAIN CURRENT PASSWORD``, MySQL 8.0.14+): both passwords work until
the contract step sends ``DISCARD OLD PASSWORD``. MariaDB has no dual passwords (10.11, tested here, rejects
the clause), so on any server whose version names MariaDB ``overlap`` falls back to ``single`` and the result
says so.

On MariaDB the new password is sent as its ``mysql_native_password`` hash (``IDENTIFIED BY PASSWORD '*...'``),
computed here, so the plaintext never reaches the server or its general log. MySQL 8's
``caching_sha2_password`` has no such form; MySQL redacts the statement in its logs instead.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib
import re
import secrets

from ansible_collections.agentarea.secrets.plugins.module_utils.rotation.targets._base import (
    DatabaseTarget,
    TargetRejected,
    TargetUnavailable,
)

UNREACHABLE = (2002, 2003, 2005, 2006, 2013)


def native_hash(password):
    """MariaDB/MySQL ``mysql_native_password`` hash: ``*`` + upper hex SHA1(SHA1(password))."""
    return '*' + hashlib.sha1(hashlib.sha1(password.encode('utf-8')).digest()).hexdigest().upper()


def supports_dual_passwords(version):
    if 'mariadb' in version.lower():
        return False
    match = re.match(r'(\d+)\.(\d+)\.(\d+)', version)
    return bool(match) and tuple(int(x) for x in match.groups()) >= (8, 0, 14)


class MysqlTarget(DatabaseTarget):
    KIND = 'mysql'
    STRATEGIES = ('single', 'overlap')
    DEFAULT_PORT = 3306
    ADMIN_USER = 'root'
    DRIVER = (('pymysql',), 'PyMySQL')
    CONNECTION = dict(
        user_host=dict(type='str', default='%'),
    )
    OPTIONS = dict(
        test_query=dict(type='str'),
    )

    def __init__(self, *args, **kwargs):
        super(MysqlTarget, self).__init__(*args, **kwargs)
        self.version = None

    def connect(self, user, password):
        pymysql = self.driver()
        kwargs = dict(user=user, password=password, connect_timeout=int(self.opt('connect_timeout', 10)),
                      database=self.opt('database') or None, autocommit=True)
        if self.opt('socket'):
            kwargs['unix_socket'] = self.opt('socket')
        else:
            kwargs.update(host=self.opt('host') or 'localhost', port=int(self.opt('port', self.DEFAULT_PORT)))
        try:
            return pymysql.connect(**kwargs)
        except pymysql.err.MySQLError as exc:
            code = exc.args[0] if exc.args else None
            if code in UNREACHABLE or not isinstance(code, int):
                raise TargetUnavailable('cannot reach MySQL/MariaDB at %s (%s %s)' % (
                    self.opt('socket') or '%s:%s' % (self.opt('host'), self.opt('port', self.DEFAULT_PORT)),
                    type(exc).__name__, code))
            raise TargetRejected("MySQL/MariaDB refused the login of '%s' (error %s)" % (user, code))

    def _run(self, conn, statement, args, what):
        pymysql = self.driver()
        try:
            with conn.cursor() as cur:
                cur.execute(statement, args)
                return cur.fetchall()
        except pymysql.err.MySQLError as exc:
            raise TargetRejected('MySQL/MariaDB refused to %s (error %s)' % (what, exc.args[0] if exc.args else '?'))

    def server_version(self, conn):
        if self.version is None:
            self.version = str(self._run(conn, 'SELECT VERSION()', None, 'report its version')[0][0])
        return self.version

    def account(self, cred):
        return cred['username'], self.opt('user_host', '%')

    def prepare(self, current):
        cred = super(MysqlTarget, self).prepare(current)
        if self.strategy == 'overlap':
            version = self.server_version(self.admin_conn(cred))
            if not supports_dual_passwords(version):
                self.strategy_used = 'single'
                self.note('%s has no dual passwords (RETAIN CURRENT PASSWORD is MySQL 8.0.14+ only): rotated with '
                          'strategy single, the old password stops working at set' % version.split('-', 1)[0] +
                          (' (MariaDB)' if 'mariadb' in version.lower() else ''))
        return cred

    def set_password(self, conn, cred, retain=False):
        user, host = self.account(cred)
        what = "change the password of '%s'@'%s'" % (user, host)
        mariadb = 'mariadb' in self.server_version(conn).lower()
        self.touched = True
        if mariadb and self.self_service:
            # an account may always SET its own password; ALTER USER needs the CREATE USER privilege
            self._run(conn, 'SET PASSWORD = %s', (native_hash(cred['password']),), what)
        elif mariadb:
            self._run(conn, 'ALTER USER %s@%s IDENTIFIED BY PASSWORD %s', (user, host, native_hash(cred['password'])),
                      what)
        else:
            account = 'CURRENT_USER()' if self.self_service else '%s@%s'
            args = (cred['password'],) if self.self_service else (user, host, cred['password'])
            retain_clause = ' RETAIN CURRENT PASSWORD' if retain else ''
            self._run(conn, 'ALTER USER %s IDENTIFIED BY %%s%s' % (account, retain_clause), args, what)

    def apply(self, new, old):
        conn = self.admin_conn(self.cred(old))
        new_c = self.cred(new)
        if old is None:  # a first credential: create the account if it is missing, with the new password
            user, host = self.account(new_c)
            self.touched = True
            if 'mariadb' in self.server_version(conn).lower():
                self._run(conn, 'CREATE USER IF NOT EXISTS %s@%s IDENTIFIED BY PASSWORD %s',
                          (user, host, native_hash(new_c['password'])), "create '%s'@'%s'" % (user, host))
            else:
                self._run(conn, 'CREATE USER IF NOT EXISTS %s@%s IDENTIFIED BY %s', (user, host, new_c['password']),
                          "create '%s'@'%s'" % (user, host))
        self.set_password(conn, new_c, retain=self.strategy_used == 'overlap' and old is not None)

    def probe(self, conn, cred, login_only):
        query = 'SELECT 1' if login_only else (self.opt('test_query') or 'SELECT 1')
        try:
            self._run(conn, query, None, 'run the test query')
        except TargetRejected as exc:
            self.note(str(exc))
            return False
        return True

    def _conn_for_revert(self, new_c, old_c):
        try:
            return self.admin_conn(old_c)
        except TargetRejected:
            if self.admin() is not None:
                raise
            self.close()
            return self.admin_conn(new_c)

    def revert(self, new, old, previous=None):
        new_c, old_c = self.cred(new), self.cred(old)
        if old_c is None:  # a first credential: nothing to go back to; a password no one knows locks it
            self.set_password(self.admin_conn(None), dict(new_c, password=secrets.token_urlsafe(32)))
            return
        conn = self._conn_for_revert(new_c, old_c)
        self.set_password(conn, old_c)
        if self.strategy_used == 'overlap':
            user, host = self.account(old_c)
            self._run(conn, 'ALTER USER %s@%s DISCARD OLD PASSWORD', (user, host), 'discard the new password')

    def contract(self, previous, current):
        if self.strategy_used != 'overlap':
            return None
        cur_c = self.cred(current)
        conn = self.admin_conn(cur_c)
        if not supports_dual_passwords(self.server_version(conn)):
            return None
        user, host = self.account(cur_c)
        self.touched = True
        self._run(conn, 'ALTER USER %s@%s DISCARD OLD PASSWORD', (user, host), "discard the old password")
        return None
