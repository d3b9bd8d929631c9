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
import json
import os
import time

from ansible_collections.agentarea.secrets.plugins.module_utils.core._errors import (
    BackendMisconfigured,
    BackendUnavailable,
    InvalidOption,
    SecretAccessDenied,
    SecretConflict,
    SecretError,
    SecretNotFound,
    describe_exception,
    exception_chain,
)
from ansible_collections.agentarea.secrets.plugins.module_utils.core._deps import requires
from ansible_collections.agentarea.secrets.plugins.module_utils.backends.vault._auth import (
    IdentityError,
    auth_method,
    file_stamp,
    token_file_path,
)

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
#: the keys of the dict form of ``retries`` (community.hashi_vault's, passed on to urllib3's Retry)
RETRY_KEYS = ('total', 'connect', 'read', 'status', 'backoff_factor', 'status_forcelist', 'allowed_methods',
              'respect_retry_after_header')
_RETRY_INTS = ('total', 'connect', 'read', 'status')
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
    ('invalid role or secret id', 'invalid role_id or secret_id (a secret_id may also be expired or used up: '
                                  'secret_id_ttl, secret_id_num_uses)'),
    ('invalid secret id', 'invalid role_id or secret_id (a secret_id may also be expired or used up: '
                          'secret_id_ttl, secret_id_num_uses)'),
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


class LoginFailed(SecretAccessDenied):
    """The login itself failed (wrong or used-up credentials, no such role): not a secret the store denied, so
    ``on_denied: skip`` of a lookup does not skip it -- a run whose every read would be skipped is not a success."""

    category = 'error'


def import_hvac():
    """hvac, requests and urllib3's Retry, imported when a Vault backend is used (never at import time)."""
    hvac, requests, retry = requires('hvac', 'requests', 'urllib3.util.retry', package='hvac', backend='vault')
    return hvac, requests, retry.Retry


_RETRY_CLASS = []


def counting_retry_class(Retry):
    """urllib3's Retry that counts the retries it allows into ``tally`` (a dict shared by every Retry derived from
    the adapter's), so that the backend can tell which reads were retried (the audit event's ``retries``)."""
    if not _RETRY_CLASS:
        class CountingRetry(Retry):
            tally = None

            def new(self, **kw):
                fresh = super(CountingRetry, self).new(**kw)
                fresh.tally = self.tally
                return fresh

            def increment(self, *args, **kwargs):
                fresh = super(CountingRetry, self).increment(*args, **kwargs)  # MaxRetryError when exhausted
                if self.tally is not None:
                    self.tally['retries'] = self.tally.get('retries', 0) + 1
                return fresh
        _RETRY_CLASS.append(CountingRetry)
    return _RETRY_CLASS[0]


def parse_retries(value, default=3):
    """``retries`` as a count (``3``, ``'3'``) or community.hashi_vault's dict form (``{total: 5, backoff_factor: 1,
    status_forcelist: [429, 503], allowed_methods: [GET]}``, also as JSON text from the environment), normalised:
    an int, or a dict of RETRY_KEYS. Raises InvalidOption naming what is wrong."""
    def fail(why):
        raise InvalidOption('retries %s' % why, backend='vault')
    if value is None or value == '':
        value = default
    if isinstance(value, str) and value.strip().startswith('{'):
        try:
            value = json.loads(value)
        except ValueError:
            fail('is neither a count nor a dict (JSON text that does not parse)')
    if isinstance(value, bool):
        fail('must be a count or a dict')
    if not isinstance(value, dict):
        try:
            value = int(value)
        except (TypeError, ValueError):
            fail('must be an integer, or a dict with %s' % ', '.join(RETRY_KEYS))
        if value < 0:
            fail('must be at least 0')
        return value
    value = dict(value)
    if 'method_whitelist' in value and 'allowed_methods' not in value:  # urllib3 < 1.26's name
        value['allowed_methods'] = value.pop('method_whitelist')
    unknown = sorted(set(value) - set(RETRY_KEYS))
    if unknown:
        fail('has unknown keys %s (known: %s)' % (', '.join(str(k) for k in unknown), ', '.join(RETRY_KEYS)))
    out = {}
    for key in _RETRY_INTS:
        if value.get(key) is not None:
            try:
                out[key] = int(value[key])
            except (TypeError, ValueError):
                fail('%s must be an integer' % key)
            if out[key] < 0 or isinstance(value[key], bool):
                fail('%s must be an integer of at least 0' % key)
    if value.get('backoff_factor') is not None:
        try:
            out['backoff_factor'] = float(value['backoff_factor'])
        except (TypeError, ValueError):
            fail('backoff_factor must be a number')
        if out['backoff_factor'] < 0:
            fail('backoff_factor must be at least 0')
    if value.get('status_forcelist') is not None:
        codes = value['status_forcelist']
        try:
            out['status_forcelist'] = sorted(set(int(c) for c in (codes if isinstance(codes, (list, tuple)) else [codes])))
        except (TypeError, ValueError):
            fail('status_forcelist must be a list of HTTP status codes')
        if any(not 100 <= c <= 599 for c in out['status_forcelist']):
            fail('status_forcelist must be a list of HTTP status codes')
    if 'allowed_methods' in value:
        methods = value['allowed_methods']
        if methods is None or methods is False:
            out['allowed_methods'] = None  # urllib3: every method, writes included (the dict form's choice)
        elif isinstance(methods, (list, tuple)) and all(isinstance(m, str) and m.strip() for m in methods):
            out['allowed_methods'] = sorted(set(m.strip().upper() for m in methods))
        else:
            fail('allowed_methods must be a list of HTTP methods (or null for every method)')
    if value.get('respect_retry_after_header') is not None:
        if not isinstance(value['respect_retry_after_header'], bool):
            fail('respect_retry_after_header must be a boolean')
        out['respect_retry_after_header'] = value['respect_retry_after_header']
    return out


def retry_kwargs(retries):
    """The keyword arguments of urllib3's Retry for a ``parse_retries`` result: a count retries connection errors,
    timeouts and RETRY_STATUS answers of reads (RETRY_METHODS) with BACKOFF_FACTOR; the dict form overrides what
    it names (``total`` alone sets every count)."""
    if not isinstance(retries, dict):
        retries = {'total': max(0, int(retries or 0))}
    total = retries.get('total', 3)
    kwargs = {'total': total, 'connect': total, 'read': total, 'status': total, 'backoff_factor': BACKOFF_FACTOR,
              'status_forcelist': RETRY_STATUS, 'allowed_methods': RETRY_METHODS, 'raise_on_status': False}
    for key in RETRY_KEYS:
        if key in retries:
            kwargs[key] = retries[key]
    if kwargs['allowed_methods'] is not None:
        kwargs['allowed_methods'] = frozenset(kwargs['allowed_methods'])
    kwargs['status_forcelist'] = tuple(kwargs['status_forcelist'] or ())
    return kwargs


def _proxies(value):
    if not value:
        return None
    if isinstance(value, dict):
        return dict((str(k), str(v)) for k, v in value.items())
    return {'http': str(value), 'https': str(value)}


def new_client(conn, token='', tally=None):
    """An hvac client for ``conn`` (a dict of CONN_OPTIONS). ``token=''`` keeps hvac from falling back to
    VAULT_TOKEN or ~/.vault-token behind our back: the token is always ours to choose. ``tally`` (a dict) counts
    the retries of the client's requests under ``'retries'``."""
    hvac, requests, Retry = import_hvac()
    from requests.adapters import HTTPAdapter  # pylint: disable=import-outside-toplevel
    retry = counting_retry_class(Retry)(**retry_kwargs(parse_retries(conn.get('retries'))))
    retry.tally = tally
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

    from ansible_collections.agentarea.secrets.plugins.module_utils.core._warmup import loopback
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


def _errors_text(exc):
    return ' '.join(str(e) for e in (getattr(exc, 'errors', None) or [])).lower()


def timed_out(exc):
    """Whether a requests exception is a timeout (also when urllib3 gave up retrying timeouts: requests then
    raises a ConnectionError around urllib3's MaxRetryError)."""
    _hvac, requests, _retry = import_hvac()
    if isinstance(exc, requests.exceptions.Timeout):
        return True
    return any('Timeout' in type(item).__name__ for item in exception_chain(exc))


def _tries(retried):
    if not retried:
        return ''
    return ' after %d %s with back-off' % (retried, 'retry' if retried == 1 else 'retries')


def unavailable(exc, where, retried=None):
    """The message of a status that says "not now": sealed, standby, rate-limited, a server error."""
    hvac, _requests, _retry = import_hvac()
    err = hvac.exceptions
    text = _errors_text(exc)
    tries = _tries(retried)
    if isinstance(exc, err.RateLimitExceeded):
        return ('rate-limited (HTTP 429): Vault throttled the request%s; lower the run\'s concurrency (forks) or '
                'raise the rate-limit quota (%s)' % (tries or ' (retries=0)', where))
    if isinstance(exc, err.VaultDown) or 'sealed' in text:
        if 'sealed' in text:
            return ('Vault is sealed (HTTP 503), so unavailable%s: unseal it (or wait for auto-unseal) and run '
                    'again (%s)'
                    % (tries, where))
        if 'standby' in text or 'not active' in text or 'active cluster node' in text or 'perf' in text:
            return ('Vault is on standby or unavailable (HTTP 503)%s: the node is not the active one and could not '
                    'reach an active node; point url at the active node or the load balancer (%s)' % (tries, where))
        return 'Vault is unavailable (HTTP 503)%s: %s (%s)' % (tries, reason(exc), where)
    if isinstance(exc, err.PreconditionFailed):
        return ('Vault is unavailable (HTTP 412)%s: a standby node has not caught up with the active one (%s)'
                % (tries, where))
    if isinstance(exc, err.VaultNotInitialized):
        return 'Vault is not initialized (HTTP 501) (%s)' % where
    return 'Vault is unavailable (%s)%s: %s' % (where, tries, reason(exc))


def map_error(exc, where, ref=None, login=False, retried=None, timeout=None):
    """The typed error for an hvac or requests exception raised while doing ``where``. ``retried`` (how many
    retries the request took) and ``timeout`` (seconds) go into the message when known."""
    hvac, requests, _retry = import_hvac()
    err = hvac.exceptions
    kw = {'ref': ref, 'backend': 'vault'}
    config = misconfigured(exc, where, ref)
    if config is not None:
        return config
    if isinstance(exc, requests.exceptions.SSLError):
        return BackendUnavailable('TLS verification failed (%s): set ca_cert (or VAULT_CACERT) to the CA that '
                                  'signed the server certificate' % where, **kw)
    if isinstance(exc, requests.exceptions.RequestException) and timed_out(exc):
        limit = ' within timeout=%s s' % timeout if timeout else ''
        return BackendUnavailable('timed out: Vault did not answer%s%s (%s)' % (limit, _tries(retried), where),
                                  **kw)
    if isinstance(exc, requests.exceptions.RequestException):
        return BackendUnavailable('cannot reach Vault%s (%s): %s' % (_tries(retried), where,
                                                                     describe_exception(exc)), **kw)
    why = reason(exc)
    if login and isinstance(exc, (err.InvalidRequest, err.Forbidden, err.Unauthorized, err.InvalidPath)):
        return LoginFailed('login failed (%s): %s' % (where, why), **kw)
    if isinstance(exc, err.InvalidPath):
        return SecretNotFound('not found (%s)' % where, **kw)
    if isinstance(exc, (err.Forbidden, err.Unauthorized)):
        return SecretAccessDenied('%s (%s)' % (why, where), **kw)
    if isinstance(exc, err.InvalidRequest) and why.startswith('check-and-set'):
        return SecretConflict('the secret changed since it was read (%s): nothing was written; read it again '
                              'and retry' % where, **kw)
    if isinstance(exc, (err.PreconditionFailed, err.RateLimitExceeded, err.InternalServerError, err.VaultDown,
                        err.BadGateway, err.VaultNotInitialized, err.UnexpectedError)):
        return BackendUnavailable(unavailable(exc, where, retried), **kw)
    return SecretError('Vault rejected the request (%s): %s' % (where, why), **kw)


class VaultConnection:
    """Mixin of the Vault backend: everything about reaching Vault and being someone there."""

    _login_entry = None   # the cached login of this process: token, ttl, expires, renewable
    _owned = None         # a login made without a run cache, revoked by _release() unless kept
    _token_stamp = None   # (device, inode, mtime, size) of the token_file whose token the client holds

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

    # -- retries and errors ---------------------------------------------------------------------------------
    def retry_tally(self):
        """How many retries this backend's requests have taken so far (see ``counting_retry_class``)."""
        tally = self.__dict__.setdefault('_tally', {'retries': 0})
        return tally.get('retries', 0)

    def error(self, exc, where, ref=None, login=False, since=None):
        """``map_error`` with the retries taken since ``since`` (a ``retry_tally()``) and the timeout."""
        retried = self.retry_tally() - since if since is not None else None
        return map_error(exc, where, ref=ref, login=login, retried=retried, timeout=self.options.get('timeout'))

    # -- login ------------------------------------------------------------------------------------------------
    def client(self):
        """The connected client; a login token near the end of its TTL is renewed (or the login redone) first,
        so that a run that outlasts the token's TTL keeps working."""
        client = super(VaultConnection, self).client()
        if self._token_stamp is not None:
            self._reread_token_file(client)
        entry = self._login_entry
        if entry is not None and entry.get('expires') and \
                entry['expires'] - time.time() <= entry.get('ttl', 0) * RENEW_BELOW:
            self._refresh(client)
        return client

    def _refresh(self, client, lost=False):
        """Renew the login token when it is renewable (else, or when it is ``lost``: log in again)."""
        auth = self.auth()
        cache = self.run_cache()
        entry = self._login_entry
        if cache is None:
            fresh = None if lost else self._renewed(client, entry)
            if fresh is None:
                fresh = self._login(client, auth)
            if self._owned is not None and self._owned.get('kept'):
                fresh['kept'] = True
            self._owned = fresh
        else:
            ident = self.login_identity()
            with cache.lock(TOKEN_KIND, ident):
                cached = cache.get(TOKEN_KIND, ident)
                fresh = None
                if cached and cached.get('token') != entry.get('token'):
                    fresh = self._reuse(client, cached)  # another task has renewed or logged in again meanwhile
                if fresh is None and not lost:
                    fresh = self._renewed(client, entry)
                if fresh is None:
                    fresh = self._login(client, auth)
                    if not self.options.get('keep_token'):
                        cache.on_finish('%s|%s' % (TOKEN_KIND, ident), dict(
                            backend='vault', kind='token', conn=self.conn(), token=fresh['token'],
                            what='the Vault token of the %s login' % auth.describe()))
                cache.put(TOKEN_KIND, ident, fresh)
        self._login_entry = fresh
        client.token = fresh['token']
        return fresh

    def _renewed(self, client, entry):
        """The login renewed (None when it cannot be: not renewable, too close to expiry, or refused)."""
        if not entry or not entry.get('renewable'):
            return None
        if entry.get('expires') and entry['expires'] - time.time() < min(5.0, entry['ttl'] * 0.1):
            return None
        hvac, requests, _retry = import_hvac()
        client.token = entry['token']
        try:
            data = client.auth.token.renew_self()['auth']
        except (hvac.exceptions.VaultError, requests.exceptions.RequestException):
            return None
        ttl = int(data.get('lease_duration') or 0)
        if ttl and ttl < min(5.0, entry['ttl'] * 0.1):
            return None  # at its max TTL: renewing gave no time, log in again
        return dict(entry, ttl=ttl, expires=time.time() + ttl if ttl else 0, renewals=entry.get('renewals', 0) + 1)

    def login_lost(self):
        """After a 403: whether our login token is gone (expired, revoked, lost by a store restored from an older
        backup) rather than denied the path. Always False for a given token (never ours to replace)."""
        if self._login_entry is None or self._client is None:
            return False
        hvac, requests, _retry = import_hvac()
        try:
            self._client.auth.token.lookup_self()
        except hvac.exceptions.Forbidden:
            return True
        except (hvac.exceptions.VaultError, requests.exceptions.RequestException):
            return False
        return False

    def _reread_token_file(self, client):
        """Take the token_file's token again when the file changed since it was read (Vault Agent rewrites its sink
        when it renews or re-authenticates); True when the token changed. A file that is missing or empty for a
        moment (being replaced) keeps the token the client has."""
        path = token_file_path(self.options)
        try:
            if file_stamp(path) == self._token_stamp:
                return False
            token, stamp = self.auth().token()
        except (InvalidOption, OSError):
            return False
        changed = token != client.token
        client.token, self._token_stamp = token, stamp
        return changed

    def with_login(self, func, *args, **kwargs):
        """``func(*args, **kwargs)``, once more after logging in again when a 403 was caused by a lost login (or,
        with token_file, after the file got a new token)."""
        hvac, _requests, _retry = import_hvac()
        try:
            return func(*args, **kwargs)
        except hvac.exceptions.Forbidden:
            if self._token_stamp is not None and self._client is not None and self._reread_token_file(self._client):
                return func(*args, **kwargs)
            if not self.login_lost():
                raise
        self._refresh(self._client, lost=True)
        return func(*args, **kwargs)

    def connect(self):
        client = new_client(self.conn(), tally=self.__dict__.setdefault('_tally', {'retries': 0}))
        auth = self.auth()
        if auth.NAME in ('token', 'none'):
            if auth.NAME == 'token':
                try:
                    client.token, self._token_stamp = auth.token()
                except InvalidOption as exc:  # the file changed since validate()
                    raise LoginFailed('%s (%s)' % (exc.cause, self.where(what='login')), backend='vault') from None
            else:
                auth.authenticate(client)
            if self.options.get('token_validate'):
                self._validate_token(client, auth)
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

    def _validate_token(self, client, auth):
        """token_validate: ``auth/token/lookup-self`` before the token is used, so that an invalid, expired or revoked
        token fails as that, not as a denied read."""
        hvac, requests, _retry = import_hvac()
        where = self.where(what='token_validate (lookup-self)')
        since = self.retry_tally()
        try:
            client.auth.token.lookup_self()
        except (hvac.exceptions.Forbidden, hvac.exceptions.Unauthorized):
            source = {'none': 'the token the proxy in front of Vault adds (auth_method=none)'}.get(
                auth.NAME, 'the token from token_file' if self.options.get('token_file') else 'the token')
            raise LoginFailed('token_validate failed (%s): %s is invalid, expired or revoked (lookup-self was '
                              'denied)' % (where, source), backend='vault') from None
        except (hvac.exceptions.VaultError, requests.exceptions.RequestException) as exc:
            raise self.error(exc, where, login=True, since=since) from None

    def _login(self, client, auth):
        hvac, requests, _retry = import_hvac()
        try:
            data = auth.authenticate(client)
        except (hvac.exceptions.VaultError, requests.exceptions.RequestException) as exc:
            raise self.error(exc, self.where(what='login'), login=True) from None
        except IdentityError as exc:
            # the identity token of an azure or gcp login: the endpoint did not answer (unavailable) or said no
            cls = BackendUnavailable if exc.unavailable else LoginFailed
            raise cls('login failed (%s): %s' % (self.where(what='login'), exc.cause), backend='vault') from None
        except (IOError, OSError) as exc:
            raise LoginFailed('login failed (%s): cannot read the token file: %s'
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
        return self._renewed(client, entry)

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
