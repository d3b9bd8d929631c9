# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every rotation target implements, and the credential-map helpers the database targets share.

A target is where a credential is applied and tested. The engine (``_engine.py``) calls, in order:
``prepare(current)`` -> ``new_value(current, policy)`` -> ``apply(new, old)`` -> ``check(new)`` ->
(``revert(new, old)`` on any failure before finish) ... and later ``contract(previous, current)``.
Targets never see the store and never put a value into a message.

A target declares the options it reads: ``OPTIONS`` (and, for a database, ``CONNECTION``: how to reach the server
and log in as its admin, which revoke's ``sessions`` use too) hold Ansible argspec entries; a class adds to those
of the classes it extends. The rotate module's ``target`` option is the union over all targets
(``target_option_spec()`` in ``_engine.py``); two targets that declare the same option declare it identically.
A driver's SDK is named in ``DRIVER`` and imported by ``driver()`` (``core/_deps.requires()``), never at import time.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

try:
    from urllib.parse import quote
except ImportError:  # pragma: no cover
    from urllib import quote  # type: ignore

import copy

from ansible_collections.agentarea.secrets.plugins.module_utils.core._backend import decode_structured
from ansible_collections.agentarea.secrets.plugins.module_utils.core._deps import requires
from ansible_collections.agentarea.secrets.plugins.module_utils.core._errors import (
    InvalidOption,
    RotationFailed,
)
from ansible_collections.agentarea.secrets.plugins.module_utils.core._generate import generate


class TargetUnavailable(RotationFailed):
    """The target could not be reached (connection refused, timeout): nothing is known about its state."""


class TargetRejected(RotationFailed):
    """The target answered and refused (wrong password, no privilege)."""


class Target:
    """Base class. ``KIND`` names it, ``STRATEGIES`` lists what it supports, ``STORE_ONLY`` is true when the
    store itself is where consumers find the value (static, jwt), so there is no outside system to apply to."""

    KIND = None
    STRATEGIES = ('single',)
    STORE_ONLY = False
    DEFAULT_POLICY = {'length': 32, 'symbols': False}
    #: this class's own suboptions of ``target`` (argspec entries), added to those of the classes it extends
    OPTIONS = {}
    #: the same for how to reach the target and log in (database targets; revoke's ``sessions`` use these)
    CONNECTION = {}
    #: ``(module names, pip package)`` of the SDK the target talks through, for ``driver()``
    DRIVER = None

    def __init__(self, options, strategy, stores=None, fingerprint=None):
        self.options = dict((k, v) for k, v in (options or {}).items() if v is not None)
        self.strategy = strategy
        self.strategy_used = strategy
        self.stores = stores            # read/write/delete other references (admin credential, published copies)
        self.fingerprint = fingerprint  # value -> keyed fingerprint
        self.touched = False            # set right before the first change is sent to the target
        self.notes = []                 # value-free remarks for the result (fallbacks, skipped steps)
        if strategy not in self.STRATEGIES:
            raise InvalidOption("kind '%s' supports strategy %s, not '%s'"
                                % (self.KIND, ' | '.join(self.STRATEGIES), strategy))

    # -- what the engine calls ----------------------------------------------------------------------------------
    def prepare(self, current):
        """Check the current value's shape and settle the effective strategy (may connect, read-only)."""

    def new_value(self, current, policy):
        raise NotImplementedError

    def apply(self, new, old):
        """``set``: make ``new`` valid on the target (keeping ``old`` valid where the strategy allows)."""

    def check(self, value, login_only=False):
        """``test``: True when ``value`` works against the target, False when refused; TargetUnavailable when
        the target cannot be reached. ``login_only`` skips extra proofs (a test query): it asks only whether the
        credential is accepted (used to prove the old one after a rollback and to decide a resume)."""
        return True

    def revert(self, new, old, previous=None):
        """Put the target back on ``old`` and make ``new`` invalid again (idempotent). ``previous`` is the value
        before ``old`` when the store kept one (alternating roles restore it)."""

    def contract(self, previous, current):
        """Remove ``previous`` from the target after the overlap. May return a new store value (key sets)."""
        return None

    def renewal(self, current):
        """None when ``current`` is due for rotation as far as the target knows; else ``{'next_due': <iso>,
        'reason': <value-free text>}`` and the rotation is skipped unless forced (a certificate far from expiry)."""
        return None

    def close(self):
        """Drop connections."""

    def describe(self, value):
        """Value-free facts about a value for the result (a username, the active kid)."""
        return {}

    # -- declarations -------------------------------------------------------------------------------------------
    @classmethod
    def connection_spec(cls):
        """The ``CONNECTION`` options of this class and the classes it extends (theirs first)."""
        return _collect(cls, 'CONNECTION')

    @classmethod
    def option_spec(cls):
        """Every suboption of ``target`` this target reads: its connection options, then the others."""
        spec = cls.connection_spec()
        spec.update(_collect(cls, 'OPTIONS'))
        return spec

    @classmethod
    def driver(cls):
        """The imported SDK module (a tuple when ``DRIVER`` names several), or MissingDependency naming the pip
        package and the target."""
        names, package = cls.DRIVER
        return requires(*names, package=package, backend=cls.KIND)

    # -- helpers ------------------------------------------------------------------------------------------------
    def opt(self, name, default=None):
        return self.options.get(name, default)

    def policy(self, policy):
        return dict(self.DEFAULT_POLICY) if policy is None else policy

    def generate(self, policy):
        return generate(self.policy(policy))

    def note(self, text):
        if text not in self.notes:
            self.notes.append(text)


def _collect(cls, attr):
    spec = {}
    for klass in reversed(cls.__mro__):
        spec.update(copy.deepcopy(vars(klass).get(attr) or {}))
    return spec


def merge_option_specs(classes, attr='option_spec'):
    """The union of the option specs of ``classes`` (``option_spec`` or ``connection_spec``), in their order; an
    option declared by two of them must be declared identically (one ``target`` option serves every kind)."""
    merged, owner = {}, {}
    for cls in classes:
        for name, spec in getattr(cls, attr)().items():
            if name in merged and merged[name] != spec:
                raise ValueError('target option %s is declared differently by %s and %s'
                                 % (name, owner[name].__name__, cls.__name__))
            merged.setdefault(name, spec)
            owner.setdefault(name, cls)
    return merged


def credential_map(value, default_username=None, what='the credential'):
    """A database credential as ``(map, shape)``: shape is ``'map'`` for a map/JSON object, ``'password'`` when
    the store holds the bare password (the username then comes from the target options)."""
    data = decode_structured(value)
    if isinstance(data, dict):
        data = dict(data)
        if not data.get('username') and default_username:
            data['username'] = default_username
        if 'password' not in data:
            raise InvalidOption("%s is a map without a 'password' key (keys: %s)"
                                % (what, ', '.join(sorted(data)) or 'none'))
        return data, 'map'
    if isinstance(data, str):
        if not default_username:
            raise InvalidOption('%s is a bare password: give target.username' % what)
        return {'username': default_username, 'password': data}, 'password'
    raise InvalidOption('%s must be a map with username and password, or a password string' % what)


class DatabaseTarget(Target):
    """Shared by postgres, mysql and redis: the credential map, URL rebuilding and the admin credential."""

    DEFAULT_PORT = None
    ADMIN_USER = None
    #: log in again when the admin connection is asked for as another user (postgres: the role itself, then admin)
    ADMIN_PER_USER = False
    #: the shape of a first credential, when the store holds none yet (the engine sets 'password' for #key refs)
    empty_shape = 'map'
    CONNECTION = dict(
        host=dict(type='str'),
        port=dict(type='int'),
        socket=dict(type='path'),
        database=dict(type='str'),
        username=dict(type='str'),
        admin=dict(type='str'),
        admin_username=dict(type='str'),
        admin_password=dict(type='str', no_log=True),
        connect_timeout=dict(type='int', default=10),
    )
    OPTIONS = dict(
        url_template=dict(type='str'),
        url_key=dict(type='str', default='url', no_log=False),
    )

    def __init__(self, options, strategy, stores=None, fingerprint=None):
        super(DatabaseTarget, self).__init__(options, strategy, stores, fingerprint)
        self.shape = 'map'
        self._admin = None          # the admin connection (see admin_conn)
        self._admin_as = None
        self.self_service = False   # the admin connection is the credential itself (no admin credential given)

    # -- connections --------------------------------------------------------------------------------------------
    def connect(self, user, password):
        """A connection logged in as ``user``: TargetUnavailable when the server is not reached, TargetRejected
        when it refuses the login."""
        raise NotImplementedError

    def admin_conn(self, fallback):
        """The admin connection, opened once (``ADMIN_PER_USER``: again when another user is asked for); without
        an admin credential, the credential changes itself, logged in with ``fallback`` (the one that works now)."""
        if self._admin is not None and not self.ADMIN_PER_USER:
            return self._admin
        admin = self.admin()
        creds = admin if admin is not None else (fallback['username'], fallback['password'])
        if self._admin is None or self._admin_as != creds[0]:
            self.close()
            self._admin = self.connect(creds[0], creds[1])
            self._admin_as = creds[0]
            self.self_service = admin is None
        return self._admin

    def close(self):
        if self._admin is not None:
            try:
                self._admin.close()
            except Exception:  # pylint: disable=broad-except
                pass
        self._admin = None

    def check(self, value, login_only=False):
        """Log in with ``value`` (refused: False), then, on that connection, the target's own test (``probe``)."""
        cred = self.cred(value)
        try:
            conn = self.connect(cred['username'], cred['password'])
        except TargetRejected:
            return False
        try:
            return self.probe(conn, cred, login_only)
        finally:
            conn.close()

    def probe(self, conn, cred, login_only):
        """True when the logged-in credential passes the target's test (``target.test_query``, unless
        ``login_only``); a failed test is a note and False."""
        return True

    def prepare(self, current):
        if current is None:
            # a first credential: the admin sets it (there is no old one to change itself or to go back to)
            if not self.opt('username') or self.admin() is None:
                raise InvalidOption('the store holds no credential yet: give target.username and an admin credential '
                                    '(target.admin) to create the first one, or write the current one to the store')
            self.shape = 'map' if self.strategy == 'alternating' else self.empty_shape
            return {'username': self.opt('username'), 'password': None}
        cred, self.shape = credential_map(current, self.opt('username'))
        if self.shape == 'password' and self.strategy == 'alternating':
            raise InvalidOption('strategy alternating switches the username, so the store must hold a map with '
                                'username and password, not a bare password')
        return cred

    def to_store(self, cred):
        """A credential map back in the store's shape, with ``url`` (or ``url_key``) rebuilt."""
        if self.shape == 'password':
            return cred['password']
        cred = dict(cred)
        template = self.opt('url_template')
        if template:
            cred[self.opt('url_key', 'url')] = self.render(template, cred)
        return cred

    def render(self, template, cred):
        fields = {'host': self.opt('host', ''), 'port': self.opt('port', self.DEFAULT_PORT) or '',
                  'database': self.opt('database', ''), 'username': cred.get('username', ''),
                  'password': cred.get('password', ''),
                  'username_url': quote(str(cred.get('username', '')), safe=''),
                  'password_url': quote(str(cred.get('password', '')), safe='')}
        for key, val in cred.items():
            fields.setdefault(key, val)
        try:
            return template.format(**fields)
        except (KeyError, IndexError, ValueError) as exc:
            raise InvalidOption('target.url_template names an unknown field or is malformed (%s); fields: %s'
                                % (type(exc).__name__, ', '.join(sorted(fields))))

    def new_value(self, current, policy):
        cred = self.prepare(current)
        new = dict(cred)
        new['password'] = self.generate(policy)
        if self.strategy == 'alternating':
            new['username'] = self.other_user(cred['username'])
        return self.to_store(new)

    def cred(self, value):
        """The credential map of a value (None stays None: no credential yet)."""
        return None if value is None else credential_map(value, self.opt('username'))[0]

    def other_user(self, username):
        base = self.opt('username') or username
        for suffix in ('_a', '_b'):
            if base.endswith(suffix):
                base = base[:-2]
        if username == base + '_a':
            return base + '_b'
        return base + '_a'

    def describe(self, value):
        try:
            return {'username': self.cred(value).get('username')}
        except InvalidOption:
            return {}

    def admin(self):
        """(username, password) of the admin credential, or None to let the credential change itself.

        ``target.admin`` may be a reference (``vault://secret/agentarea/db-admin``: a map with username and
        password, or a bare password) or a username with ``target.admin_password``."""
        ref_text = self.opt('admin')
        password = self.opt('admin_password')
        user = self.opt('admin_username')
        if ref_text and '://' in str(ref_text):
            if self.stores is None:
                raise InvalidOption('target.admin is a reference, but no store is configured to read it')
            data = decode_structured(self.stores.read(ref_text))
            if isinstance(data, dict):
                return data.get('username') or user or self.ADMIN_USER, data.get('password')
            return user or self.ADMIN_USER, data
        if ref_text:
            user = ref_text
        if password is None:
            return None
        return user or self.ADMIN_USER, password
