# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""PostgreSQL roles. ``ALTER ROLE ... PASSWORD`` with a SCRAM-SHA-256 verifier computed on this host
(``PQencryptPasswordConn``), so the plaintext never reaches the server, its log or ``pg_stat_statements``.

Strategies: ``single`` changes the role's password (a role has one password, so there is no overlap);
``alternating`` keeps two login roles ``<username>_a`` and ``<username>_b`` and gives the new password to the
one not in use, then the store switches to it: consumers holding the old credential keep working until the
contract step disables the other role's password. Missing roles are created (``target.create_roles``) as
members of ``<username>`` that act as it (``SET ROLE``), so both own and reach the same objects.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.agentarea.secrets.plugins.module_utils.core._errors import InvalidOption
from ansible_collections.agentarea.secrets.plugins.module_utils.rotation.targets._base import (
    DatabaseTarget,
    TargetRejected,
    TargetUnavailable,
)


def _server_said(exc):
    """The server's FATAL/ERROR line (never holds a password), or None when the server was not reached."""
    text = str(exc)
    for marker in ('FATAL:', 'ERROR:'):
        if marker in text:
            return text.split(marker, 1)[1].strip().splitlines()[0][:120]
    return None


class PostgresTarget(DatabaseTarget):
    KIND = 'postgres'
    STRATEGIES = ('single', 'alternating')
    DEFAULT_PORT = 5432
    ADMIN_USER = 'postgres'
    ADMIN_PER_USER = True  # a role without an admin changes itself: the connection follows the role asked for
    DRIVER = (('psycopg', 'psycopg.sql'), 'psycopg')
    CONNECTION = dict(
        sslmode=dict(type='str', default='prefer'),
    )
    OPTIONS = dict(
        test_query=dict(type='str'),
        create_roles=dict(type='bool', default=True),
    )

    # -- connections --------------------------------------------------------------------------------------------
    def connect(self, user, password, dbname=None):
        psycopg, _sql = self.driver()
        host = self.opt('socket_dir') or self.opt('host') or 'localhost'
        try:
            return psycopg.connect(host=host, port=int(self.opt('port', self.DEFAULT_PORT)), user=user,
                                   password=password, dbname=dbname or self.opt('database') or 'postgres',
                                   connect_timeout=int(self.opt('connect_timeout', 10)),
                                   sslmode=self.opt('sslmode', 'prefer'), autocommit=True)
        except psycopg.Error as exc:
            said = _server_said(exc)
            if said is None:
                raise TargetUnavailable('cannot reach PostgreSQL at %s:%s (%s)'
                                        % (host, self.opt('port', self.DEFAULT_PORT), type(exc).__name__))
            raise TargetRejected("PostgreSQL refused the login of role '%s': %s" % (user, said))

    def _execute(self, conn, statement, what):
        psycopg, _sql = self.driver()
        try:
            conn.execute(statement)
        except psycopg.Error as exc:
            said = _server_said(exc) or getattr(getattr(exc, 'diag', None), 'message_primary', None)
            raise TargetRejected('PostgreSQL refused to %s: %s' % (what, said or type(exc).__name__))

    def set_password(self, conn, role, password):
        """ALTER ROLE with a verifier, or PASSWORD NULL (no password login) when ``password`` is None."""
        _psycopg_mod, sql = self.driver()
        if password is None:
            stmt = sql.SQL('ALTER ROLE {} PASSWORD NULL').format(sql.Identifier(role))
        else:
            verifier = conn.pgconn.encrypt_password(password.encode('utf-8'), role.encode('utf-8'),
                                                    b'scram-sha-256').decode('ascii')
            # alternating roles must be able to log in; otherwise the role's attributes are left as they are
            login = sql.SQL(' LOGIN') if self.strategy == 'alternating' else sql.SQL('')
            stmt = sql.SQL('ALTER ROLE {}{} PASSWORD {}').format(sql.Identifier(role), login, sql.Literal(verifier))
        self.touched = True
        self._execute(conn, stmt, "change the password of role '%s'" % role)

    def ensure_role(self, conn, role, member_of=None):
        _psycopg_mod, sql = self.driver()
        cur = conn.execute('SELECT 1 FROM pg_roles WHERE rolname = %s', (role,))
        if cur.fetchone():
            return
        if not self.opt('create_roles', True):
            raise InvalidOption("role '%s' does not exist and target.create_roles is false" % role)
        self.touched = True
        if member_of is None:
            self._execute(conn, sql.SQL('CREATE ROLE {} LOGIN').format(sql.Identifier(role)), "create role '%s'" % role)
            self.note("created role '%s'" % role)
            return
        self._execute(conn, sql.SQL('CREATE ROLE {} LOGIN INHERIT IN ROLE {}').format(
            sql.Identifier(role), sql.Identifier(member_of)), "create role '%s'" % role)
        self._execute(conn, sql.SQL('ALTER ROLE {} SET role TO {}').format(
            sql.Identifier(role), sql.Identifier(member_of)), "make role '%s' act as '%s'" % (role, member_of))
        self.note("created role '%s' (member of '%s')" % (role, member_of))

    # -- protocol ---------------------------------------------------------------------------------------------
    def prepare(self, current):
        cred = super(PostgresTarget, self).prepare(current)
        if self.strategy == 'alternating':
            if not self.opt('username'):
                raise InvalidOption('strategy alternating needs target.username (the base role of the pair)')
            if self.admin() is None:
                raise InvalidOption('strategy alternating needs an admin credential (target.admin) to change the '
                                    'other role')
        return cred

    def apply(self, new, old):
        new_c, old_c = self.cred(new), self.cred(old)
        conn = self.admin_conn(old_c)
        if self.strategy == 'alternating':
            if old_c is None:
                self.ensure_role(conn, self.opt('username'))
            self.ensure_role(conn, new_c['username'], member_of=self.opt('username'))
        elif old_c is None:
            self.ensure_role(conn, new_c['username'])
        self.set_password(conn, new_c['username'], new_c['password'])

    def probe(self, conn, cred, login_only):
        query = None if login_only else self.opt('test_query')
        if not query:
            conn.execute('SELECT 1')
            return True
        psycopg, _sql = self.driver()
        try:
            conn.execute(query)
        except psycopg.Error as exc:
            self.note('test_query failed as %s: %s' % (cred['username'], _server_said(exc) or type(exc).__name__))
            return False
        return True

    def revert(self, new, old, previous=None):
        new_c, old_c = self.cred(new), self.cred(old)
        if old_c is None:  # a first credential: nothing to go back to, so no password at all
            self.set_password(self.admin_conn(None), new_c['username'], None)
            return
        if self.strategy == 'alternating':
            if new_c['username'] == old_c['username']:
                return
            prev = self.cred(previous) if previous is not None else None
            restore = prev['password'] if prev and prev.get('username') == new_c['username'] else None
            conn = self.admin_conn(old_c)
            self.set_password(conn, new_c['username'], restore)
            return
        # single: the admin (or the role itself, now on the new password) puts the old password back
        admin = self.admin()
        if admin is None:
            try:
                conn = self.admin_conn(old_c)
            except TargetRejected:
                conn = self.admin_conn(new_c)
        else:
            conn = self.admin_conn(old_c)
        self.set_password(conn, old_c['username'], old_c['password'])

    def contract(self, previous, current):
        if self.strategy != 'alternating':
            return None
        prev_c, cur_c = self.cred(previous), self.cred(current)
        if prev_c['username'] != cur_c['username']:
            self.set_password(self.admin_conn(cur_c), prev_c['username'], None)
            self.note("role '%s' has no password now" % prev_c['username'])
        return None
