# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Vault/OpenBao connection: the hvac client (TLS, proxies, timeout, retries with back-off), one login per
identity per run (the token lives in the run cache, renewed near its TTL, revoked at the end unless
``keep_token``), the end-of-run clean-up of tokens and leases, and the mapping of hvac/requests exceptions to
the collection's typed errors. Messages name the URL, namespace, auth method, mount and path; never a token,
a credential or a value (Vault's own error text is reduced to a few known reasons)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import atexit
import hashlib
import hmac
import os
import time

from ansible_collections.agentarea.secrets.plugins.module_utils._errors import (
    BackendMisconfigured,
    BackendUnavailable,
    SecretAccessDenied,
    SecretConflict,
    SecretError,
    SecretNotFound,
    describe_exception,
    missing_dependency,
)
from ansible_collections.agentarea.secrets.plugins.module_utils.backends._vault_auth import auth_method

#: options that describe the connection (also kept in clean-up records: paths and flags only, no credentials)
CONN_OPTIONS = ('url', 'namespace', 'ca_cert', 'validate_certs', 'client_cert', 'client_key', 'timeout',
                'retries', 'proxies')
#: answers worth retrying: a standby not caught up (412), rate limits, server errors
RETRY_STATUS = (412, 429, 500, 502, 503, 504)
#: methods retried after an error or one of RETRY_STATUS: reads only. A write (POST/PUT, a check-and-set write
#: included) may have landed although its answer was lost; sent again it fails its check-and-set or writes twice,
#: so the caller is told instead, and reads the store back (the rotation engine does). Connection errors before
#: the request was sent are retried for every method (urllib3 ``connect``).
RETRY_METHODS = frozenset(('GET', 'HEAD', 'OPTIONS', 'LIST'))
BACKOFF_FACTOR = 0.5
#: renew a cached login token when less than this share of its TTL is left
RENEW_BELOW = 1.0 / 3
TOKEN_KIND = 'vault-token'

# Fallback key for identities when there is no run cache (one process, so a per-process key is enough).
_PROCESS_KEY = os.urandom(32)

# Vault error texts we recognise -> what we say (Vault's own text may echo request data, so it is not shown).
_REASONS = (
    ('check-and-set', 'check-and-set version did not match'),
    ('permission denied', 'permission denied'),
    ('invalid token', 'the token is invalid or expired'),
    ('bad token', 'the token is invalid or expired'),
    ('invalid role or secret id', 'invalid role_id or secret_id'),
    ('invalid secret id', 'invalid role_id or secret_id'),
    ('invalid role id', 'invalid role_id or secret_id'),
    ('invalid username or password', 'invalid username or password'),
    ('invalid credentials', 'invalid credentials'),
    ('unknown role', 'no such role'),
    ('role not found', 'no such role'),
    ('could not be found', 'no such role'),
    ('no namespace', 'no such namespace'),
    ('namespace not found', 'no such namespace'),
    ('unsupported path', 'no such endpoint (wrong mount or secrets engine?)'),
    ('no handler for route', 'no such endpoint (wrong mount or secrets engine?)'),
    ('audience', 'the JWT was rejected (audience)'),
    ('claim', 'the JWT was rejected (bound claims, issuer or expiry)'),
    ('error validating token', 'the JWT was rejected (signature or expiry)'),
    ('service account', 'the Kubernetes service-account token was rejected'),
    ('lookup failed', 'the Kubernetes TokenReview failed'),
    ('client certificate', 'no client certificate was accepted'),
    ('invalid certificate', 'no client certificate was accepted'),
)


def import_hvac():
    """hvac, requests and urllib3's Retry, imported when a Vault backend is used (never at import time)."""
    try:
        import hvac  # pylint: disable=import-outside-toplevel
        import requests  # pylint: disable=import-outside-toplevel
        from urllib3.util.retry import Retry  # pylint: disable=import-outside-toplevel
    except ImportError as exc:
        raise missing_dependency('hvac', backend='vault', import_error=exc)
    return hvac, requests, Retry


def _proxies(value):
    if not value:
        return None
    if isinstance(value, dict):
        return dict((str(k), str(v)) for k, v in value.items())
    return {'http': str(value), 'https': str(value)}


def new_client(conn, token=''):
    """An hvac client for ``conn`` (a dict of CONN_OPTIONS). ``token=''`` keeps hvac from falling back to
    VAULT_TOKEN or ~/.vault-token behind our back: the token is always ours to choose."""
    hvac, requests, Retry = import_hvac()
    from requests.adapters import HTTPAdapter  # pylint: disable=import-outside-toplevel
    retries = max(0, int(conn.get('retries') or 0))
    retry = Retry(total=retries, connect=retries, read=retries, status=retries, backoff_factor=BACKOFF_FACTOR,
                  status_forcelist=RETRY_STATUS, allowed_methods=RETRY_METHODS, raise_on_status=False)
    session = requests.Session()
    adapter = HTTPAdapter(max_retries=retry)
    session.mount('http://', adapter)
    session.mount('https://', adapter)
    verify = False if conn.get('validate_certs') is False else (conn.get('ca_cert') or True)
    cert = None
    if conn.get('client_cert'):
        cert = (conn['client_cert'], conn['client_key']) if conn.get('client_key') else conn['client_cert']
    session.verify, session.cert = verify, cert
    proxies = _proxies(conn.get('proxies'))
    # requests would look the environment up again for every request (HTTP(S)_PROXY and NO_PROXY, the CA bundle
    # variables, ~/.netrc): a quarter of a KV read's CPU. This session only talks to conn['url'], so resolve what
    # applies to it once, the way requests does (given proxies win), and switch the per-request look-up off.
    env_proxies = requests.utils.get_environ_proxies(conn['url'], no_proxy=(proxies or {}).get('no_proxy'))
    if env_proxies:
        proxies = dict(env_proxies, **(proxies or {}))
    if verify is True:
        verify = os.environ.get('REQUESTS_CA_BUNDLE') or os.environ.get('CURL_CA_BUNDLE') or True
    session.verify, session.trust_env = verify, False
    if proxies:
        session.proxies.update(proxies)
    if verify is False:
        import urllib3  # pylint: disable=import-outside-toplevel
        urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
    return hvac.Client(url=conn['url'], token=token or '', verify=verify, cert=cert,
                       timeout=int(conn.get('timeout') or 30), proxies=proxies, session=session,
                       namespace=conn.get('namespace') or None)


def warm():
    """Main process, before workers fork (``VaultBackend.preload``): one KV v2 read through hvac, requests and
    urllib3 against a loopback server, never Vault, so that forked workers inherit what a first request builds."""
    # pylint: disable=import-outside-toplevel
    import json

    from ansible_collections.agentarea.secrets.plugins.module_utils._warmup import loopback
    hvac, requests, Retry = import_hvac()
    from requests.adapters import HTTPAdapter
    metadata = {'version': 1, 'created_time': '2026-01-01T00:00:00Z', 'custom_metadata': None, 'destroyed': False}
    body = json.dumps({'data': {'data': {}, 'metadata': metadata}})
    with loopback(body.encode('utf-8')) as url:
        session = requests.Session()
        session.trust_env = False  # no proxy from the environment for a loopback request
        session.mount('http://', HTTPAdapter(max_retries=Retry(total=0, raise_on_status=False)))
        try:
            hvac.Client(url=url, token='warm-up', timeout=2, session=session).secrets.kv.v2.read_secret_version(
                'warm-up', mount_point='secret', raise_on_deleted_version=True)
        finally:
            session.close()


def reason(exc):
    """A value-free reason for an hvac exception: one of the known texts, else the HTTP status."""
    text = ' '.join(str(e) for e in (getattr(exc, 'errors', None) or [])).lower()
    for needle, said in _REASONS:
        if needle in text:
            return said
    return describe_exception(exc)


def misconfigured(exc, where, ref=None):
    """A BackendMisconfigured for a 404 that is about the configuration, not the secret, else None.

    OpenBao/Vault answer a path under a namespace that does not exist with ``namespace not found``, and a path
    under a mount that does not exist (or an auth method not enabled there) with ``no handler for route``; a
    missing secret under a real KV mount is a 404 with no error text."""
    hvac, _requests, _retry = import_hvac()
    if not isinstance(exc, hvac.exceptions.InvalidPath):
        return None
    why = reason(exc)
    kw = {'ref': ref, 'backend': 'vault'}
    if why == 'no such namespace':
        return BackendMisconfigured('the namespace does not exist (%s): a configuration error (namespace or '
                                    'VAULT_NAMESPACE), not a missing secret' % where, **kw)
    if why.startswith('no such endpoint'):
        return BackendMisconfigured('nothing is mounted there: the mount does not exist in this namespace (%s): '
                                    'a configuration error (the reference, mount or mount_point), not a missing '
                                    'secret' % where, **kw)
    return None


def map_error(exc, where, ref=None, login=False):
    """The typed error for an hvac or requests exception raised while doing ``where``."""
    hvac, requests, _retry = import_hvac()
    err = hvac.exceptions
    kw = {'ref': ref, 'backend': 'vault'}
    config = misconfigured(exc, where, ref)
    if config is not None:
        return config
    if isinstance(exc, requests.exceptions.SSLError):
        return BackendUnavailable('TLS verification failed (%s): set ca_cert (or VAULT_CACERT) to the CA that '
                                  'signed the server certificate' % where, **kw)
    if isinstance(exc, requests.exceptions.RequestException):
        return BackendUnavailable('cannot reach Vault (%s): %s' % (where, describe_exception(exc)), **kw)
    why = reason(exc)
    if login and isinstance(exc, (err.InvalidRequest, err.Forbidden, err.Unauthorized, err.InvalidPath)):
        return SecretAccessDenied('login failed (%s): %s' % (where, why), **kw)
    if isinstance(exc, err.InvalidPath):
        return SecretNotFound('not found (%s)' % where, **kw)
    if isinstance(exc, (err.Forbidden, err.Unauthorized)):
        return SecretAccessDenied('%s (%s)' % (why, where), **kw)
    if isinstance(exc, err.InvalidRequest) and why.startswith('check-and-set'):
        return SecretConflict('the secret changed since it was read (%s): nothing was written; read it again '
                              'and retry' % where, **kw)
    if isinstance(exc, (err.PreconditionFailed, err.RateLimitExceeded, err.InternalServerError, err.VaultDown,
                        err.BadGateway, err.VaultNotInitialized, err.UnexpectedError)):
        return BackendUnavailable('Vault is unavailable (%s): %s' % (where, why), **kw)
    return SecretError('Vault rejected the request (%s): %s' % (where, why), **kw)


class VaultConnection:
    """Mixin of the Vault backend: everything about reaching Vault and being someone there."""

    _login_entry = None   # the cached login of this process: token, ttl, expires, renewable
    _owned = None         # a login made without a run cache, revoked by _release() unless kept

    # -- who and where ------------------------------------------------------------------------------------------
    def conn(self):
        return dict((name, self.options.get(name)) for name in CONN_OPTIONS)

    def auth(self):
        return auth_method(self.options)

    def run_cache(self):
        cache = self.cache
        return cache if cache is not None and getattr(cache, 'enabled', False) else None

    def _hmac_key(self):
        base = getattr(self.run_cache(), 'key', None) or _PROCESS_KEY
        return hmac.new(base, b'agentarea.secrets vault identity', hashlib.sha256).digest()

    def login_identity(self):
        """URL, namespace, auth method and mount, who (role, username ...) and an HMAC of the credential."""
        auth = self.auth()
        tag = hmac.new(self._hmac_key(), auth.secret_material().encode('utf-8'), hashlib.sha256).hexdigest()[:16]
        url = (self.options.get('url') or '').rstrip('/')
        return 'vault|%s|ns=%s|%s|%s|%s' % (url, self.options.get('namespace') or '', auth.describe(), auth.who(), tag)

    def where(self, mount=None, path=None, what=None):
        parts = []
        if what:
            parts.append(what)
        if mount is not None:
            parts.append("mount '%s'" % mount)
        if path is not None:
            parts.append("path '%s'" % path)
        ns = self.options.get('namespace')
        parts.append("namespace '%s'" % ns if ns else 'root namespace')
        parts.append('auth %s' % self.auth().describe())
        parts.append('at %s' % self.options.get('url'))
        return ', '.join(parts)

    # -- login ------------------------------------------------------------------------------------------------
    def connect(self):
        client = new_client(self.conn())
        auth = self.auth()
        if auth.NAME == 'token':
            auth.authenticate(client)
            return client
        cache = self.run_cache()
        if cache is None:
            entry = self._owned = self._login(client, auth)
            atexit.register(self._release)
        else:
            ident = self.login_identity()
            with cache.lock(TOKEN_KIND, ident):
                cached = cache.get(TOKEN_KIND, ident)
                entry = self._reuse(client, cached)
                if entry is None:
                    entry = self._login(client, auth)
                    if not self.options.get('keep_token'):
                        cache.on_finish('%s|%s' % (TOKEN_KIND, ident), dict(
                            backend='vault', kind='token', conn=self.conn(), token=entry['token'],
                            what='the Vault token of the %s login' % auth.describe()))
                if entry is not cached:
                    cache.put(TOKEN_KIND, ident, entry)
        self._login_entry = entry
        client.token = entry['token']
        return client

    def _login(self, client, auth):
        hvac, requests, _retry = import_hvac()
        try:
            data = auth.authenticate(client)
        except (hvac.exceptions.VaultError, requests.exceptions.RequestException) as exc:
            raise map_error(exc, self.where(what='login'), login=True) from None
        except (IOError, OSError) as exc:
            raise SecretAccessDenied('login failed (%s): cannot read the token file: %s'
                                     % (self.where(what='login'), describe_exception(exc)), backend='vault')
        ttl = int(data.get('lease_duration') or 0)
        return {'token': data['client_token'], 'ttl': ttl, 'expires': time.time() + ttl if ttl else 0,
                'renewable': bool(data.get('renewable')), 'renewals': 0}

    def _reuse(self, client, entry):
        """The cached login, renewed when it nears its TTL; None when a new login is needed."""
        if not entry:
            return None
        if not entry.get('expires'):
            return entry
        left = entry['expires'] - time.time()
        if left < min(5.0, entry['ttl'] * 0.1):
            return None  # too close to expiry to trust: log in again
        if left > entry['ttl'] * RENEW_BELOW:
            return entry
        if not entry.get('renewable'):
            return entry
        hvac, requests, _retry = import_hvac()
        client.token = entry['token']
        try:
            data = client.auth.token.renew_self()['auth']
        except (hvac.exceptions.VaultError, requests.exceptions.RequestException):
            return None
        ttl = int(data.get('lease_duration') or 0)
        renewed = dict(entry, ttl=ttl, expires=time.time() + ttl if ttl else 0, renewals=entry.get('renewals', 0) + 1)
        return renewed

    def keep_login_token(self):
        """A lease that is kept must outlive the run, and Vault revokes a token's leases with the token."""
        cache = self.run_cache()
        if self._owned is not None:
            self._owned['kept'] = True
        elif cache is not None and self._login_entry is not None:
            cache.forget_finish('%s|%s' % (TOKEN_KIND, self.login_identity()))

    def token_is_run_owned(self):
        return self._login_entry is not None and not self.options.get('keep_token')

    def _release(self):
        """Revoke a token this process logged in for (no run cache: modules, lookups with cache=false)."""
        entry, self._owned = self._owned, None
        if entry is None or entry.get('kept') or self.options.get('keep_token'):
            return
        self._client = None
        try:
            new_client(self.conn(), entry['token']).auth.token.revoke_self()
        except Exception:  # pylint: disable=broad-except
            pass  # best effort at exit: the token still expires at its TTL

    @classmethod
    def cleanup_run(cls, record):
        """End of the run: revoke a login token or a lease the run created (see ``cache.on_finish``)."""
        hvac, requests, _retry = import_hvac()
        client = new_client(record['conn'], record['token'])
        what = record.get('what') or record.get('kind')
        try:
            if record.get('kind') == 'token':
                client.auth.token.revoke_self()
            elif record.get('kind') == 'lease':
                client.sys.revoke_lease(record['lease_id'])
            else:
                return None
        except hvac.exceptions.Forbidden:
            if record.get('kind') == 'token':
                return 'vault: %s had already expired or been revoked' % what
            if record.get('via_run_token'):
                return 'vault: %s was revoked with the token that created it' % what
            return {'record': what, 'error': 'permission denied: the token may not update sys/leases/revoke, so '
                                             'the lease ends at its TTL'}
        except (hvac.exceptions.VaultError, requests.exceptions.RequestException) as exc:
            return {'record': what, 'error': describe_exception(exc)}
        return 'vault: revoked %s' % what
