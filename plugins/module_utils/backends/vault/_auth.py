# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Vault/OpenBao auth methods, one small class each: ``NAME``, ``validate()`` without network, and
``authenticate(client)`` which logs in and returns Vault's ``auth`` block (``None`` for a given token).

The backend (``_vault.py``) decides when to log in, caches the token in the run cache and revokes it; these
classes only know what each method needs and how it logs in. ``who()`` names the identity without a credential
(it goes into cache keys and error messages); ``secret_material()`` is what distinguishes two identities that
look alike (it is only ever HMAC'd).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.agentarea.secrets.plugins.module_utils.core._errors import InvalidOption

DEFAULT_K8S_TOKEN_PATH = '/var/run/secrets/kubernetes.io/serviceaccount/token'


class AuthMethod:
    NAME = None
    #: where the method is mounted when ``mount_point`` is not set
    DEFAULT_MOUNT = None
    #: options that must be set (after environment defaults)
    REQUIRED = ()
    #: options that carry credentials (HMAC'd into the identity, never shown)
    SECRET_OPTIONS = ()
    #: options that name the identity and may be shown
    WHO_OPTIONS = ()

    def __init__(self, options):
        self.options = options

    @property
    def mount(self):
        return (self.options.get('mount_point') or self.DEFAULT_MOUNT or '').strip('/')

    def describe(self):
        """``approle at auth/approle`` — for error messages."""
        if self.DEFAULT_MOUNT is None:
            return self.NAME
        return '%s at auth/%s' % (self.NAME, self.mount)

    def _fail(self, message):
        raise InvalidOption('auth_method=%s %s' % (self.NAME, message), backend='vault')

    def validate(self):
        missing = [name for name in self.REQUIRED if not self.options.get(name)]
        if missing:
            self._fail('needs %s' % ' and '.join(missing))

    def who(self):
        return ','.join('%s=%s' % (name, self.options.get(name)) for name in self.WHO_OPTIONS
                        if self.options.get(name))

    def secret_material(self):
        return '\0'.join(str(self.options.get(name) or '') for name in self.SECRET_OPTIONS)

    def authenticate(self, client):
        raise NotImplementedError


class TokenAuth(AuthMethod):
    """A token given as ``token`` or ``VAULT_TOKEN`` (AWX's Vault credential): no login, and never revoked."""

    NAME = 'token'
    REQUIRED = ('token',)
    SECRET_OPTIONS = ('token',)

    def validate(self):
        if not self.options.get('token'):
            self._fail('needs a token: set token, or VAULT_TOKEN in the environment')

    def authenticate(self, client):
        client.token = self.options['token']
        return None


class AppRoleAuth(AuthMethod):
    NAME = 'approle'
    DEFAULT_MOUNT = 'approle'
    REQUIRED = ('role_id',)
    SECRET_OPTIONS = ('secret_id',)
    WHO_OPTIONS = ('role_id',)

    def authenticate(self, client):
        # secret_id may be absent for roles created with bind_secret_id=false
        return client.auth.approle.login(self.options['role_id'], self.options.get('secret_id'), use_token=False,
                                         mount_point=self.mount)['auth']


class UserpassAuth(AuthMethod):
    NAME = 'userpass'
    DEFAULT_MOUNT = 'userpass'
    REQUIRED = ('username', 'password')
    SECRET_OPTIONS = ('password',)
    WHO_OPTIONS = ('username',)

    def authenticate(self, client):
        return client.auth.userpass.login(self.options['username'], self.options['password'], use_token=False,
                                          mount_point=self.mount)['auth']


class JwtAuth(AuthMethod):
    NAME = 'jwt'
    DEFAULT_MOUNT = 'jwt'
    REQUIRED = ('role', 'jwt')
    SECRET_OPTIONS = ('jwt',)
    WHO_OPTIONS = ('role',)

    def authenticate(self, client):
        return client.auth.jwt.jwt_login(self.options['role'], self.options['jwt'], use_token=False,
                                         path=self.mount)['auth']


class KubernetesAuth(AuthMethod):
    """The pod's service-account token (``kubernetes_token_path``), or ``jwt`` when given."""

    NAME = 'kubernetes'
    DEFAULT_MOUNT = 'kubernetes'
    REQUIRED = ('role',)
    WHO_OPTIONS = ('role', 'kubernetes_token_path')

    def _token_path(self):
        return os.path.expanduser(self.options.get('kubernetes_token_path') or DEFAULT_K8S_TOKEN_PATH)

    def validate(self):
        super(KubernetesAuth, self).validate()
        if not self.options.get('jwt') and not os.access(self._token_path(), os.R_OK):
            self._fail("needs a service-account token: '%s' is not readable (set kubernetes_token_path, or jwt)"
                       % self._token_path())

    def _jwt(self):
        if self.options.get('jwt'):
            return self.options['jwt']
        with open(self._token_path()) as handle:
            return handle.read().strip()

    def secret_material(self):
        # the file's token rotates during a run; the path (in who()) names the identity
        return self.options.get('jwt') or ''

    def authenticate(self, client):
        return client.auth.kubernetes.login(self.options['role'], self._jwt(), use_token=False,
                                            mount_point=self.mount)['auth']


class CertAuth(AuthMethod):
    """TLS client certificate: the certificate and key are those of the connection (``client_cert``/``client_key``)."""

    NAME = 'cert'
    DEFAULT_MOUNT = 'cert'
    REQUIRED = ('client_cert',)
    WHO_OPTIONS = ('role', 'client_cert')

    def authenticate(self, client):
        # hvac's cert.login() insists on its own CA argument; the connection already carries cert and verify.
        payload = {'name': self.options['role']} if self.options.get('role') else {}
        return client.adapter.post('/v1/auth/%s/login' % self.mount, json=payload)['auth']


METHODS = dict((cls.NAME, cls) for cls in (TokenAuth, AppRoleAuth, UserpassAuth, JwtAuth, KubernetesAuth, CertAuth))


def auth_method(options):
    name = options.get('auth_method') or 'token'
    if name not in METHODS:
        raise InvalidOption("unknown auth_method '%s' (choose from %s)" % (name, ', '.join(sorted(METHODS))),
                            backend='vault')
    return METHODS[name](options)
