# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Redis 6+ ACL users, and ``requirepass`` for the default user.

Passwords are given to ``ACL SETUSER`` as SHA-256 hashes (``#<hash>`` adds, ``!<hash>`` removes), so the
plaintext never crosses the wire to the server. ``overlap`` adds the new password beside the old one; the
contract step removes the old one. ``single`` replaces every password (``resetpass``). Only password rules are
sent, so the user's other rules (and whether it is on or off) stay as they are — redis-py's ``acl_setuser``
would send ``off`` unless told ``enabled=True``, which is why it is not used.

The ``default`` user with ``single`` (or ``target.mode: requirepass``) is rotated with ``CONFIG SET
requirepass``, which is what ``redis.conf`` and ``CONFIG REWRITE`` know about. ``target.persist`` saves each
change: ``acl_save`` (ACL SAVE, with an aclfile) or ``config_rewrite`` (CONFIG REWRITE).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import hashlib

from ansible_collections.agentarea.secrets.plugins.module_utils.core._errors import InvalidOption
from ansible_collections.agentarea.secrets.plugins.module_utils.rotation.targets._base import (
    DatabaseTarget,
    TargetRejected,
    TargetUnavailable,
)


def acl_hash(password):
    return hashlib.sha256(password.encode('utf-8')).hexdigest()


class RedisTarget(DatabaseTarget):
    KIND = 'redis'
    STRATEGIES = ('single', 'overlap')
    DEFAULT_PORT = 6379
    ADMIN_USER = 'default'
    DRIVER = (('redis',), 'redis')
    CONNECTION = dict(
        tls=dict(type='bool', default=False),
    )
    OPTIONS = dict(
        mode=dict(type='str', default='auto', choices=['auto', 'acl', 'requirepass']),
        persist=dict(type='str', default='none', choices=['none', 'acl_save', 'config_rewrite']),
        acl_rules=dict(type='list', elements='str'),
    )

    def requirepass_mode(self, username):
        mode = self.opt('mode')
        if mode == 'requirepass':
            if username != 'default':
                raise InvalidOption("target.mode requirepass rotates the 'default' user only")
            return True
        return mode != 'acl' and username == 'default' and self.strategy == 'single'

    def connect(self, user, password):
        redis = self.driver()
        client = redis.Redis(host=self.opt('host') or 'localhost', port=int(self.opt('port', self.DEFAULT_PORT)),
                             username=user, password=password, ssl=bool(self.opt('tls', False)),
                             socket_connect_timeout=int(self.opt('connect_timeout', 10)),
                             socket_timeout=int(self.opt('connect_timeout', 10)))
        try:
            client.ping()
        except redis.exceptions.AuthenticationError:
            raise TargetRejected("Redis refused the login of user '%s'" % user)
        except redis.exceptions.NoPermissionError:
            pass  # logged in; the user may just not be allowed PING
        except redis.exceptions.ConnectionError as exc:
            raise TargetUnavailable('cannot reach Redis at %s:%s (%s)' % (
                self.opt('host'), self.opt('port', self.DEFAULT_PORT), type(exc).__name__))
        return client

    def _command(self, conn, args, what):
        redis = self.driver()
        self.touched = True
        try:
            return conn.execute_command(*args)
        except redis.exceptions.ConnectionError as exc:
            raise TargetUnavailable('Redis connection lost while trying to %s (%s)' % (what, type(exc).__name__))
        except redis.exceptions.RedisError as exc:
            # Redis error replies name the command and rule kind, never the argument values
            raise TargetRejected('Redis refused to %s (%s)' % (what, type(exc).__name__))

    def _persist(self, conn):
        persist = self.opt('persist', 'none')
        if persist == 'acl_save':
            self._command(conn, ('ACL', 'SAVE'), 'save the ACL file')
        elif persist == 'config_rewrite':
            self._command(conn, ('CONFIG', 'REWRITE'), 'rewrite its configuration file')

    def _setuser(self, conn, user, rules, what):
        self._command(conn, ('ACL', 'SETUSER', user) + tuple(rules), what)
        self._persist(conn)

    def _getuser(self, conn, user):
        redis = self.driver()
        try:
            return conn.acl_getuser(user)
        except redis.exceptions.ConnectionError as exc:
            raise TargetUnavailable('Redis connection lost (%s)' % type(exc).__name__)
        except redis.exceptions.RedisError as exc:
            raise TargetRejected("Redis refused ACL GETUSER for '%s' (%s)" % (user, type(exc).__name__))

    def _remove(self, conn, user, passwords):
        """``!<hash>`` rules for those of ``passwords`` the user still has (removing a missing one is an error)."""
        found = self._getuser(conn, user) or {}
        have = set(h.decode('ascii') if isinstance(h, bytes) else h for h in found.get('passwords') or [])
        return ['!' + acl_hash(p) for p in passwords if acl_hash(p) in have]

    def _ensure_user(self, conn, user):
        found = self._getuser(conn, user)
        if found:
            return []
        rules = self.opt('acl_rules')
        if not rules:
            raise InvalidOption("Redis has no ACL user '%s'; create it, or give target.acl_rules to create it with"
                                % user)
        self.note("created ACL user '%s'" % user)
        return ['on'] + list(rules)

    def prepare(self, current):
        cred = super(RedisTarget, self).prepare(current)
        if current is None and self.requirepass_mode(cred['username']):
            raise InvalidOption('the default user always has a password: write the current one to the store')
        if self.strategy == 'overlap' and self.requirepass_mode(cred['username']):
            raise InvalidOption('requirepass holds one password: rotate the default user with strategy overlap '
                                'through ACL (target.mode: acl)')
        return cred

    def apply(self, new, old):
        new_c, old_c = self.cred(new), self.cred(old)
        conn = self.admin_conn(old_c)
        user = new_c['username']
        if self.requirepass_mode(user):
            self._command(conn, ('CONFIG', 'SET', 'requirepass', new_c['password']), 'set requirepass')
            self._persist(conn)
            return
        create = self._ensure_user(conn, user)
        reset = ['resetpass'] if self.strategy == 'single' or old is None else []
        self._setuser(conn, user, create + reset + ['#' + acl_hash(new_c['password'])],
                      "add the new password of '%s'" % user)

    def _conn_any(self, first, second):
        try:
            return self.admin_conn(first)
        except TargetRejected:
            if self.admin() is not None:
                raise
            return self.admin_conn(second)

    def revert(self, new, old, previous=None):
        new_c, old_c = self.cred(new), self.cred(old)
        if old_c is None:  # a first credential: nothing to go back to, so no password at all
            self._setuser(self.admin_conn(None), new_c['username'], ['resetpass'],
                          "remove the password of '%s'" % new_c['username'])
            return
        conn = self._conn_any(old_c, new_c)
        user = old_c['username']
        if self.requirepass_mode(user):
            self._command(conn, ('CONFIG', 'SET', 'requirepass', old_c['password']), 'restore requirepass')
            self._persist(conn)
        elif self.strategy == 'single':
            self._setuser(conn, user, ['resetpass', '#' + acl_hash(old_c['password'])],
                          "restore the old password of '%s'" % user)
        else:
            rules = ['#' + acl_hash(old_c['password'])] + self._remove(conn, user, [new_c['password']])
            self._setuser(conn, user, rules, "remove the new password of '%s'" % user)

    def contract(self, previous, current):
        prev_c, cur_c = self.cred(previous), self.cred(current)
        if self.strategy != 'overlap' or prev_c['password'] == cur_c['password']:
            return None
        conn = self.admin_conn(cur_c)
        rules = self._remove(conn, cur_c['username'], [prev_c['password']])
        if rules:
            self._setuser(conn, cur_c['username'], rules, "remove the old password of '%s'" % cur_c['username'])
        else:
            self.note('the old password was already gone')
        return None
