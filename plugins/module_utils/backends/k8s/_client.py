# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""How the Kubernetes backend reaches a cluster: our own thin REST client (the standard library's http.client and
ssl, no SDK), the kubeconfig and service-account loaders, and how the API's answers become typed errors.

Connection, first that applies: ``in_cluster: true``; a kubeconfig (the option or ``context``); ``host`` (with
``api_key``, ``ca_cert``, ``validate_certs``) without a kubeconfig; the service account of the pod we run in (AWX or
an execution environment on Kubernetes: ``KUBERNETES_SERVICE_HOST`` and a mounted token) unless
``in_cluster: false``; ``~/.kube/config``. ``host``/``api_key``/``ca_cert``/``validate_certs`` given together with a
kubeconfig override what it says, as in kubernetes.core.

A kubeconfig is read as kubectl reads it: several files (``KUBECONFIG`` joined with ``:``) are merged, the first file
that names a cluster, user or context (or sets ``current-context``) wins, and relative paths are relative to the
file that holds them. Clusters: ``server``, ``certificate-authority(-data)``, ``insecure-skip-tls-verify``,
``tls-server-name``, ``proxy-url`` (http proxies). Users: ``token``, ``tokenFile``, ``client-certificate(-data)``,
``client-key(-data)``, ``username``/``password``, ``exec`` credential plugins (client.authentication.k8s.io v1 and
v1beta1; the ExecCredential is kept until its ``expirationTimestamp``) and the ``access-token``/``id-token`` an
``auth-provider`` has stored (never refreshed here).

:class:`Api` offers the calls the collection makes under the names of the kubernetes SDK's methods
(``read_namespaced_secret(name, namespace)``, ``patch_namespaced_custom_object(group, version, namespace, plural,
name, body)`` ...), and answers with the decoded JSON of the response.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import datetime
import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import tempfile
import time

import http.client as http_client
from urllib.parse import quote, urlencode, urlsplit, unquote

from ansible_collections.agentarea.secrets.plugins.module_utils.core._errors import (
    BackendMisconfigured,
    BackendUnavailable,
    InvalidOption,
    SecretAccessDenied,
    SecretConflict,
    SecretError,
    SecretNotFound,
    describe_exception,
)
from ansible_collections.agentarea.secrets.plugins.module_utils.core._deps import requires

SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount'
DEFAULT_KUBECONFIG = os.path.join('~', '.kube', 'config')
USER_AGENT = 'agentarea.secrets'
#: how long a token file (the service account's, a kubeconfig's tokenFile) is used before it is read again
TOKEN_FILE_TTL = 60
#: extra attempts when the connection cannot be made (as the kubernetes SDK's ``retries = 2``)
CONNECT_RETRIES = 2
#: seconds an exec credential plugin may take (a browser login is not waited for: interactive plugins get no stdin)
EXEC_TIMEOUT = 120
EXEC_API_VERSIONS = ('client.authentication.k8s.io/v1', 'client.authentication.k8s.io/v1beta1')

_RFC3339 = re.compile(r'^(\d{4}-\d\d-\d\d[Tt ]\d\d:\d\d:\d\d)(?:\.\d+)?([Zz]|[+-]\d\d:\d\d)$')
_TRUE = ('1', 'true', 'yes', 'on', 'y', 't')
_FALSE = ('0', 'false', 'no', 'off', 'n', 'f')


class ConfigError(Exception):
    """A kubeconfig or service account that cannot be used (names files, contexts and fields, never a credential)."""


class ApiError(Exception):
    """An answer of the API server with an HTTP error status: ``status``, ``reason`` and ``body`` (its ``Status``
    object as text; never shown as a whole, it may echo what was sent)."""

    def __init__(self, status, reason, body=None):
        super(ApiError, self).__init__('HTTP %s %s' % (status, reason))
        self.status = status
        self.reason = reason
        self.body = body


def to_bool(value, name):
    """Options from the environment arrive as strings."""
    if value is None or isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise InvalidOption("%s must be a boolean, got %r" % (name, value), backend='k8s')


def source(opts, environ):
    """``in_cluster``, ``kubeconfig`` or ``host``: where the connection settings come from (no I/O but a stat)."""
    if opts.get('in_cluster'):
        return 'in_cluster'
    if opts.get('kubeconfig') or opts.get('context'):
        return 'kubeconfig'
    if opts.get('host'):
        return 'host'
    if opts.get('in_cluster') is None and environ.get('KUBERNETES_SERVICE_HOST') \
            and os.path.exists(os.path.join(SA_DIR, 'token')):
        return 'in_cluster'
    return 'kubeconfig'


# -- configuration ----------------------------------------------------------------------------------------------
class Config:
    """Where the API server is and how we authenticate: what a kubeconfig, the service account or the options say.

    ``host`` (URL, maybe with a path prefix), ``verify``, ``ca_file`` / ``ca_data`` (PEM text), ``tls_server_name``,
    ``proxy`` (an http:// URL), ``cert_file``/``key_file`` or ``cert_data``/``key_data`` (PEM), and one of ``token``,
    ``token_file``, ``username``/``password`` or ``exec_plugin`` (the kubeconfig's ``exec`` map, with ``base`` the
    directory of its file)."""

    def __init__(self, host=None):
        self.host = host
        self.verify = True
        self.ca_file = None
        self.ca_data = None
        self.tls_server_name = None
        self.proxy = None
        self.cert_file = None
        self.key_file = None
        self.cert_data = None
        self.key_data = None
        self.token = None
        self.token_file = None
        self.username = None
        self.password = None
        self.exec_plugin = None
        self.exec_base = None
        self._file_token = None
        self._file_read = 0
        self._exec_cred = None
        self._exec_expires = None

    def __repr__(self):
        return 'Config(host=%r)' % self.host  # never the credentials

    def set_token(self, token):
        """A bearer token given as an option: it replaces every other way the user authenticates."""
        self.token = token[7:] if token.lower().startswith('bearer ') else token
        self.token_file = self.username = self.password = self.exec_plugin = None

    # credentials, read when a request needs them
    def credentials(self):
        """``(authorization header or None, (cert PEM, key PEM) or None)`` from the exec plugin where there is one."""
        header = None
        cert = None
        if self.exec_plugin is not None:
            status = self.exec_credential()
            if status.get('clientCertificateData') and status.get('clientKeyData'):
                cert = (status['clientCertificateData'], status['clientKeyData'])
            if status.get('token'):
                header = 'Bearer %s' % status['token']
        if header is None:
            token = self.token
            if token is None and self.token_file:
                token = self.read_token_file()
            if token:
                header = 'Bearer %s' % token
            elif self.username is not None and self.password is not None:
                pair = ('%s:%s' % (self.username, self.password)).encode('utf-8')
                header = 'Basic %s' % base64.b64encode(pair).decode('ascii')
        return header, cert

    def read_token_file(self):
        now = time.time()
        if self._file_token is None or now - self._file_read > TOKEN_FILE_TTL:
            try:
                with open(self.token_file) as f:
                    self._file_token = f.read().strip()
            except (IOError, OSError) as exc:
                raise ConfigError('cannot read the token file %s: %s' % (self.token_file, describe_exception(exc)))
            self._file_read = now
        return self._file_token

    def forget(self):
        """Drop cached credentials (after a 401: the exec plugin and the token file are asked again)."""
        self._exec_cred = self._exec_expires = None
        self._file_token = None

    def exec_credential(self):
        """The ``status`` of the exec plugin's ExecCredential, kept until its ``expirationTimestamp``."""
        if self._exec_cred is not None and (self._exec_expires is None or time.time() < self._exec_expires - 10):
            return self._exec_cred
        spec = self.exec_plugin
        api_version = spec.get('apiVersion') or EXEC_API_VERSIONS[0]
        if api_version not in EXEC_API_VERSIONS:
            raise ConfigError('exec plugin apiVersion %s is not supported (use %s)'
                              % (api_version, ' or '.join(EXEC_API_VERSIONS)))
        command = spec.get('command')
        if not command:
            raise ConfigError('the exec plugin of the kubeconfig user has no command')
        if os.sep in command and not os.path.isabs(command) and self.exec_base:
            command = os.path.join(self.exec_base, command)  # as kubectl: relative to the kubeconfig's directory
        env = dict(os.environ)
        for item in spec.get('env') or []:
            if isinstance(item, dict) and item.get('name'):
                env[str(item['name'])] = str(item.get('value', ''))
        env['KUBERNETES_EXEC_INFO'] = json.dumps({'apiVersion': api_version, 'kind': 'ExecCredential',
                                                  'spec': {'interactive': False}})
        argv = [command] + [str(a) for a in spec.get('args') or []]
        name = os.path.basename(command)
        try:
            proc = subprocess.run(argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, timeout=EXEC_TIMEOUT, check=False)
        except subprocess.TimeoutExpired:
            raise ConfigError('the exec plugin %s did not answer within %d seconds' % (name, EXEC_TIMEOUT))
        except (IOError, OSError) as exc:
            raise ConfigError('cannot run the exec plugin %s: %s' % (name, describe_exception(exc)))
        out = proc.stdout
        if proc.returncode != 0:
            # its stderr is not shown: a credential helper may print what it was given
            raise ConfigError('the exec plugin %s failed (exit status %s)' % (name, proc.returncode))
        try:
            cred = json.loads(out.decode('utf-8'))
        except (UnicodeDecodeError, ValueError):
            raise ConfigError('the exec plugin %s did not print an ExecCredential (JSON)' % name)
        status = cred.get('status') if isinstance(cred, dict) else None
        if cred.get('kind') != 'ExecCredential' or not isinstance(status, dict):
            raise ConfigError('the exec plugin %s did not print an ExecCredential with a status' % name)
        if cred.get('apiVersion') not in (None, api_version):
            raise ConfigError('the exec plugin %s answered apiVersion %s, expected %s'
                              % (name, cred.get('apiVersion'), api_version))
        if not status.get('token') and not (status.get('clientCertificateData') and status.get('clientKeyData')):
            raise ConfigError('the ExecCredential of the exec plugin %s has neither a token nor a client certificate'
                              % name)
        self._exec_cred = status
        self._exec_expires = parse_time(status.get('expirationTimestamp'))
        return status


def parse_time(text):
    """Seconds since the epoch of an RFC 3339 time (``2026-01-02T03:04:05Z``, fractions and offsets allowed), or
    None."""
    match = _RFC3339.match(str(text or '').strip())
    if not match:
        return None
    when = datetime.datetime.strptime(match.group(1).replace('t', 'T').replace(' ', 'T'), '%Y-%m-%dT%H:%M:%S')
    seconds = (when - datetime.datetime(1970, 1, 1)).total_seconds()
    zone = match.group(2).upper()
    if zone != 'Z':
        sign = -1 if zone[0] == '+' else 1
        seconds += sign * (int(zone[1:3]) * 3600 + int(zone[4:6]) * 60)
    return seconds


def _load_file(path):
    with open(path, 'rb') as f:
        raw = f.read()
    text = raw.decode('utf-8-sig')
    if not text.strip():
        return {}
    try:
        data = json.loads(text)  # JSON is YAML, and needs no parser
    except ValueError:
        yaml = requires('yaml', package='PyYAML', backend='k8s')
        loader = getattr(yaml, 'CSafeLoader', None) or yaml.SafeLoader
        try:
            data = yaml.load(text, Loader=loader)  # nosec - a safe loader
        except yaml.YAMLError as exc:
            mark = getattr(exc, 'problem_mark', None)
            raise ConfigError('the kubeconfig %s is not valid YAML%s' % (
                path, ' (line %d)' % (mark.line + 1) if mark is not None else ''))
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError('the kubeconfig %s is not a map' % path)
    return data


def merge_kubeconfigs(paths):
    """The files merged as kubectl merges ``KUBECONFIG``: the first to name a cluster, user or context, or to set
    ``current-context``, wins. Each entry remembers the directory of its file (``_base``) for relative paths.
    Missing files are skipped."""
    merged = {'clusters': {}, 'users': {}, 'contexts': {}, 'current-context': None}
    for path in paths:
        if not os.path.exists(path):
            continue
        data = _load_file(path)
        base = os.path.dirname(os.path.abspath(path))
        if merged['current-context'] is None and data.get('current-context'):
            merged['current-context'] = data['current-context']
        for section, field in (('clusters', 'cluster'), ('users', 'user'), ('contexts', 'context')):
            for entry in data.get(section) or []:
                if not isinstance(entry, dict) or not entry.get('name') or entry['name'] in merged[section]:
                    continue
                body = entry.get(field)
                merged[section][entry['name']] = (body if isinstance(body, dict) else {}, base)
    return merged


def _path(base, value):
    value = os.path.expanduser(str(value))
    return value if os.path.isabs(value) else os.path.join(base, value)


def _b64(value, what):
    try:
        return base64.b64decode(value).decode('utf-8')
    except (TypeError, ValueError):
        raise ConfigError('%s is not base64-encoded PEM' % what)


def from_kubeconfig(merged, context=None, files=''):
    """A :class:`Config` for ``context`` (default: the current context) of merged kubeconfigs."""
    name = context or merged['current-context']
    if not name:
        raise ConfigError('Invalid kube-config file. Expected key current-context in kube-config (%s)' % files)
    if name not in merged['contexts']:
        raise ConfigError('Invalid kube-config file. Expected object with name %s in kube-config/contexts list'
                          % name)
    ctx, _base = merged['contexts'][name]
    cluster_name, user_name = ctx.get('cluster'), ctx.get('user')
    if cluster_name not in merged['clusters']:
        raise ConfigError('Invalid kube-config file. Expected object with name %s in kube-config/clusters list'
                          % cluster_name)
    cluster, cbase = merged['clusters'][cluster_name]
    if not cluster.get('server'):
        raise ConfigError('Invalid kube-config file. Expected key server in the cluster %s' % cluster_name)
    cfg = Config(str(cluster['server']).rstrip('/'))
    if cluster.get('certificate-authority-data'):
        cfg.ca_data = _b64(cluster['certificate-authority-data'], 'certificate-authority-data of cluster %s'
                           % cluster_name)
    elif cluster.get('certificate-authority'):
        cfg.ca_file = _path(cbase, cluster['certificate-authority'])
    if cluster.get('insecure-skip-tls-verify'):
        cfg.verify = False
    cfg.tls_server_name = cluster.get('tls-server-name') or None
    cfg.proxy = cluster.get('proxy-url') or None
    if user_name is None:
        return cfg
    if user_name not in merged['users']:
        raise ConfigError('Invalid kube-config file. Expected object with name %s in kube-config/users list'
                          % user_name)
    user, ubase = merged['users'][user_name]
    if user.get('client-certificate-data'):
        cfg.cert_data = _b64(user['client-certificate-data'], 'client-certificate-data of user %s' % user_name)
    elif user.get('client-certificate'):
        cfg.cert_file = _path(ubase, user['client-certificate'])
    if user.get('client-key-data'):
        cfg.key_data = _b64(user['client-key-data'], 'client-key-data of user %s' % user_name)
    elif user.get('client-key'):
        cfg.key_file = _path(ubase, user['client-key'])
    provider = user.get('auth-provider')
    provider_token = None
    if isinstance(provider, dict) and isinstance(provider.get('config'), dict):
        # what the provider stored (gcp: access-token, oidc: id-token); refreshing it is kubectl's job
        provider_token = provider['config'].get('id-token') or provider['config'].get('access-token')
    if user.get('exec'):
        if not isinstance(user['exec'], dict):
            raise ConfigError('the exec entry of the kubeconfig user %s is not a map' % user_name)
        cfg.exec_plugin, cfg.exec_base = user['exec'], ubase
    elif user.get('token') or provider_token:
        cfg.token = str(user.get('token') or provider_token)
    elif user.get('tokenFile'):
        cfg.token_file = _path(ubase, user['tokenFile'])
    elif user.get('username') is not None and user.get('password') is not None:
        cfg.username, cfg.password = str(user['username']), str(user['password'])
    return cfg


def in_cluster(environ):
    """A :class:`Config` from the pod's service account (its token is read again every minute)."""
    host, port = environ.get('KUBERNETES_SERVICE_HOST'), environ.get('KUBERNETES_SERVICE_PORT')
    if not host or not port:
        raise ConfigError('Service host/port is not set.')
    token = os.path.join(SA_DIR, 'token')
    ca = os.path.join(SA_DIR, 'ca.crt')
    if not os.path.exists(token):
        raise ConfigError('Service token file does not exist.')
    if not os.path.exists(ca):
        raise ConfigError('Service certification file does not exist.')
    if ':' in host and not host.startswith('['):
        host = '[%s]' % host  # IPv6
    cfg = Config('https://%s:%s' % (host, port))
    cfg.token_file = token
    if not cfg.read_token_file():
        raise ConfigError('Token file exists but empty.')
    cfg.ca_file = ca
    return cfg


def configuration(opts, environ):
    """A :class:`Config` for the options (reads the kubeconfig or the service account; no network)."""
    where = source(opts, environ)
    paths = []
    try:
        if where == 'in_cluster':
            cfg = in_cluster(environ)
        elif where == 'kubeconfig':
            path = opts.get('kubeconfig') or DEFAULT_KUBECONFIG
            paths = [os.path.expanduser(p) for p in path.split(os.pathsep) if p]
            if not any(os.path.exists(p) for p in paths):
                raise InvalidOption('no Kubernetes connection: the kubeconfig %s does not exist; set kubeconfig (or '
                                    'K8S_AUTH_KUBECONFIG / KUBECONFIG), host and api_key, or in_cluster' % path,
                                    backend='k8s')
            merged = merge_kubeconfigs(paths)
            if opts.get('context') and opts['context'] not in merged['contexts']:
                raise InvalidOption("cannot load the Kubernetes configuration (kubeconfig): the kubeconfig %s has no "
                                    "context '%s' (it has: %s): wrong context or wrong kubeconfig?"
                                    % (os.pathsep.join(paths), opts['context'],
                                       ', '.join(sorted(merged['contexts'])) or 'none'), backend='k8s')
            cfg = from_kubeconfig(merged, opts.get('context'), os.pathsep.join(paths))
        else:
            cfg = Config()
    except ConfigError as exc:
        # its messages name files, contexts and missing fields, not credentials
        raise InvalidOption('cannot load the Kubernetes configuration (%s): %s' % (where, str(exc)[:300]),
                            backend='k8s')
    except (IOError, OSError) as exc:
        raise InvalidOption('cannot read the Kubernetes configuration (%s): %s' % (where, describe_exception(exc)),
                            backend='k8s')
    if opts.get('host'):
        cfg.host = opts['host'].rstrip('/')
    if opts.get('api_key'):
        cfg.set_token(opts['api_key'])
    if opts.get('ca_cert'):
        cfg.ca_file, cfg.ca_data = os.path.expanduser(opts['ca_cert']), None
    if opts.get('validate_certs') is not None:
        cfg.verify = opts['validate_certs']
    if not cfg.host:
        raise InvalidOption('no Kubernetes connection: set host (K8S_AUTH_HOST), kubeconfig or in_cluster',
                            backend='k8s')
    return cfg


# -- HTTP -------------------------------------------------------------------------------------------------------
class _HTTPSConnection(http_client.HTTPSConnection):
    """HTTPS with our SSL context and, where the kubeconfig says ``tls-server-name``, that name for SNI and the
    certificate check."""

    def __init__(self, host, port, context, server_name=None, timeout=None):
        http_client.HTTPSConnection.__init__(self, host, port, timeout=timeout, context=context)
        self._server_name = server_name

    def connect(self):
        http_client.HTTPConnection.connect(self)  # the socket (and a proxy's CONNECT tunnel)
        name = self._server_name or getattr(self, '_tunnel_host', None) or self.host
        self.sock = self._context.wrap_socket(self.sock, server_hostname=name)


def ssl_context(cfg, cert=None):
    """An SSL context for ``cfg``: its CA (file or data) or the system's, verification, and the client certificate
    (files, or PEM data written for a moment to a private directory, mode 0600, and removed)."""
    ctx = ssl.create_default_context(cafile=cfg.ca_file if cfg.verify else None,
                                     cadata=cfg.ca_data if cfg.verify and cfg.ca_data else None)
    if not cfg.verify:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    cert_pem, key_pem = cert or (cfg.cert_data, cfg.key_data)
    if cert_pem or key_pem or cfg.cert_file or cfg.key_file:
        if cert_pem or key_pem:
            load_cert_data(ctx, cert_pem or _read(cfg.cert_file), key_pem or _read(cfg.key_file))
        else:
            ctx.load_cert_chain(cfg.cert_file, cfg.key_file or None)
    return ctx


def _read(path):
    if not path:
        return None
    with open(path) as f:
        return f.read()


def load_cert_data(ctx, cert_pem, key_pem):
    """``ssl`` loads a client certificate from files only: write both to a fresh private directory (0700, files
    0600), load them, remove them at once."""
    tmp = tempfile.mkdtemp(prefix='agentarea-k8s-')
    try:
        paths = []
        for name, text in (('client.crt', cert_pem), ('client.key', key_pem)):
            if text is None:
                paths.append(None)
                continue
            path = os.path.join(tmp, name)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, 'w') as f:
                f.write(text if isinstance(text, str) else text.decode('utf-8'))
            paths.append(path)
        ctx.load_cert_chain(paths[0], paths[1])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


class Transport:
    """Requests to one API server over one kept-alive connection (made again when it drops)."""

    def __init__(self, cfg):
        self.cfg = cfg
        parts = urlsplit(cfg.host)
        if parts.scheme not in ('http', 'https') or not parts.hostname:
            raise InvalidOption('the Kubernetes API URL %s is not an http(s) URL' % cfg.host, backend='k8s')
        self.scheme = parts.scheme
        self.hostname = parts.hostname
        self.port = parts.port or (443 if parts.scheme == 'https' else 80)
        self.prefix = parts.path.rstrip('/')
        self._conn = None
        self._ctx = None
        self._ctx_cert = None
        self._proxy_headers = None

    def close(self):
        if self._conn is not None:
            try:
                self._conn.close()
            except Exception:  # pragma: no cover - best effort
                pass
            self._conn = None

    def _connection(self, cert, timeout):
        if self._conn is not None and (self.scheme == 'http' or cert == self._ctx_cert):
            self._conn.timeout = timeout
            if self._conn.sock is not None:
                self._conn.sock.settimeout(timeout)
            return self._conn, True
        self.close()
        host, port, tunnel, headers = self.hostname, self.port, False, None
        if self.cfg.proxy:
            proxy = urlsplit(self.cfg.proxy)
            if proxy.scheme != 'http' or not proxy.hostname:
                raise InvalidOption('proxy-url %s is not supported (only http:// proxies)' % proxy.hostname,
                                    backend='k8s')
            host, port, tunnel = proxy.hostname, proxy.port or 80, True
            if proxy.username is not None:
                pair = ('%s:%s' % (unquote(proxy.username), unquote(proxy.password or ''))).encode('utf-8')
                headers = {'Proxy-Authorization': 'Basic %s' % base64.b64encode(pair).decode('ascii')}
        if self.scheme == 'https':
            if self._ctx is None or cert != self._ctx_cert:
                self._ctx, self._ctx_cert = ssl_context(self.cfg, cert), cert
            conn = _HTTPSConnection(host, port, self._ctx, self.cfg.tls_server_name, timeout=timeout)
            if tunnel:
                conn.set_tunnel(self.hostname, self.port, headers=headers)
        else:
            conn = http_client.HTTPConnection(host, port, timeout=timeout)
            self._proxy_headers = headers if tunnel else None
        self._conn = conn
        return conn, False

    def request(self, method, path, query=None, body=None, content_type=None, timeout=30):
        """The decoded JSON answer (None when empty); raises :class:`ApiError` for an HTTP error status, and
        socket/ssl/http.client errors when the server cannot be reached."""
        url = self.prefix + path
        if query:
            url += '?' + urlencode(query)
        data = None
        headers = {'Accept': 'application/json', 'User-Agent': USER_AGENT}
        if body is not None:
            data = json.dumps(body).encode('utf-8')
            headers['Content-Type'] = content_type or 'application/json'
        refreshed = False
        attempt = 0
        while True:
            try:
                auth, cert = self.cfg.credentials()
            except ConfigError as exc:
                raise InvalidOption('cannot load the Kubernetes credentials: %s' % str(exc)[:300], backend='k8s')
            if auth:
                headers['Authorization'] = auth
            else:
                headers.pop('Authorization', None)
            conn, reused = self._connection(cert, timeout)
            target = url
            if self.scheme == 'http' and self.cfg.proxy:
                target = 'http://%s:%s%s' % (self.hostname, self.port, url)
                for k, v in (self._proxy_headers or {}).items():
                    headers[k] = v
            try:
                if conn.sock is None:
                    try:
                        conn.connect()
                    except (socket.timeout, ssl.SSLError):
                        self.close()
                        raise
                    except (OSError, http_client.HTTPException):
                        self.close()
                        if attempt < CONNECT_RETRIES:
                            attempt += 1
                            continue
                        raise
                conn.request(method, target, body=data, headers=headers)
                resp = conn.getresponse()
                raw = resp.read()
            except (http_client.RemoteDisconnected, ConnectionResetError, BrokenPipeError, http_client.BadStatusLine):
                self.close()
                if reused:  # the server closed the kept-alive connection: once more, on a new one
                    continue
                raise
            except Exception:
                self.close()
                raise
            if resp.getheader('Connection', '').lower() == 'close' or resp.will_close:
                self.close()
            if resp.status == 401 and not refreshed and (self.cfg.exec_plugin is not None or self.cfg.token_file):
                self.cfg.forget()  # an expired credential: ask the plugin (or read the file) again, once
                refreshed = True
                continue
            if resp.status >= 400:
                raise ApiError(resp.status, resp.reason, raw.decode('utf-8', 'replace'))
            if not raw:
                return None
            try:
                return json.loads(raw.decode('utf-8'))
            except (UnicodeDecodeError, ValueError):
                raise ApiError(resp.status, 'the API server answered something that is not JSON')


# -- the API, under the SDK's method names ------------------------------------------------------------------------
GROUPS = {
    'core': '/api/v1',
    'apps': '/apis/apps/v1',
    'rbac': '/apis/rbac.authorization.k8s.io/v1',
}
#: resources whose plural is not the name without underscores plus ``s``
PLURALS = {'endpoints': 'endpoints', 'ingress': 'ingresses', 'network_policy': 'networkpolicies'}
VERBS = {'read': 'GET', 'get': 'GET', 'list': 'GET', 'create': 'POST', 'patch': 'PATCH', 'replace': 'PUT',
         'delete': 'DELETE'}
PATCH_TYPES = {'json': 'application/json-patch+json', 'merge': 'application/merge-patch+json',
               'strategic': 'application/strategic-merge-patch+json', 'apply': 'application/apply-patch+yaml'}


def _camel(name):
    head, _sep, tail = name.partition('_')
    return head + ''.join(p[:1].upper() + p[1:] for p in tail.split('_')) if tail else head


def _query_value(value):
    if isinstance(value, bool):
        return 'true' if value else 'false'
    return str(value)


class Api:
    """``core``, ``apps``, ``rbac`` or ``custom`` calls through a :class:`Transport`, named as the kubernetes SDK
    names them: ``<verb>_namespaced_<kind>(name, namespace[, body])``, ``<verb>_namespaced_<kind>(namespace[, body])``
    for create/list, ``<verb>_<kind>(name)`` for cluster-scoped kinds, ``list_<kind>_for_all_namespaces()``, and
    ``<verb>_namespaced_custom_object(group, version, namespace, plural[, name][, body])`` /
    ``<verb>_cluster_custom_object(group, version, plural[, name][, body])``. Keyword arguments: ``body`` (delete
    options), ``_request_timeout``, ``_content_type``, ``_preload_content`` (ignored: the answer is always the
    decoded JSON) and query parameters in snake case (``dry_run``, ``label_selector``, ``field_manager`` ...)."""

    def __init__(self, transport, group):
        if group not in GROUPS and group != 'custom':
            raise ValueError('unknown API group %r' % group)
        self.transport = transport
        self.group = group

    def __getattr__(self, method):
        if method.startswith('_'):
            raise AttributeError(method)
        verb = method.split('_', 1)[0]
        if verb not in VERBS or '_' not in method:
            raise AttributeError(method)

        def call(*args, **kwargs):
            return self.request(method, args, kwargs)
        call.__name__ = method
        return call

    def request(self, method, args, kwargs):
        verb, rest = method.split('_', 1)
        args = list(args)
        timeout = kwargs.pop('_request_timeout', None) or 30
        if isinstance(timeout, (tuple, list)):
            timeout = max(t for t in timeout if t is not None)
        content_type = kwargs.pop('_content_type', None)
        kwargs.pop('_preload_content', None)
        body = kwargs.pop('body', None)
        collection = verb in ('create', 'list')
        if self.group == 'custom':
            scope, _sep, _kind = rest.partition('_')
            group, version = args.pop(0), args.pop(0)
            namespace = args.pop(0) if scope == 'namespaced' else None
            plural = args.pop(0)
            path = '/apis/%s/%s' % (group, version)
            default_patch = PATCH_TYPES['merge']
        else:
            path = GROUPS[self.group]
            namespace = None
            all_namespaces = rest.endswith('_for_all_namespaces')
            if all_namespaces:
                rest = rest[:-len('_for_all_namespaces')]
            if rest.startswith('namespaced_'):
                rest = rest[len('namespaced_'):]
                if not all_namespaces:
                    namespace = args.pop(1) if not collection else args.pop(0)
            plural = PLURALS.get(rest) or rest.replace('_', '') + 's'
            default_patch = PATCH_TYPES['strategic']
        if namespace is not None:
            path += '/namespaces/%s' % quote(str(namespace), safe='')
        path += '/%s' % plural
        if not collection:
            path += '/%s' % quote(str(args.pop(0)), safe='')
        if verb in ('create', 'patch', 'replace'):
            body = args.pop(0) if args else body
        if args:
            raise TypeError('%s() got unexpected arguments' % method)
        if verb == 'patch' and content_type is None:
            content_type = PATCH_TYPES['json'] if isinstance(body, list) else default_patch
        query = [(_camel(k), _query_value(v)) for k, v in sorted(kwargs.items()) if v is not None]
        return self.transport.request(VERBS[verb], path, query=query, body=body, content_type=content_type,
                                      timeout=timeout)


# -- errors -----------------------------------------------------------------------------------------------------
def status_of(exc):
    """HTTP status and the Kubernetes ``Status`` reason/message of an ApiError (never its body as a whole).

    The API server's Status messages name objects, fields and keys, not Secret values, so the message is kept;
    the rest of the body (which may echo what was sent) is not."""
    status = getattr(exc, 'status', None)
    reason, message = getattr(exc, 'reason', None), None
    body = getattr(exc, 'body', None)
    if body:
        try:
            data = json.loads(body)
        except (TypeError, ValueError):
            data = None
        if isinstance(data, dict):
            reason = data.get('reason') or reason
            message = data.get('message')
    return status, reason, (message or '')[:400]


def _kind_of(exc):
    """``details.kind`` of a Kubernetes Status body (``namespaces`` when the namespace is what is missing)."""
    try:
        data = json.loads(getattr(exc, 'body', None) or '')
    except (TypeError, ValueError):
        return None
    details = data.get('details') if isinstance(data, dict) else None
    return details.get('kind') if isinstance(details, dict) else None


def api_error(exc, ref=None, what=None, backend='k8s'):
    """A typed error for an exception of the client (an :class:`ApiError`, or what the network raised)."""
    if isinstance(exc, SecretError):
        return exc
    status, reason, message = status_of(exc)
    prefix = '%s: ' % what if what else ''
    if status == 404 and _kind_of(exc) == 'namespaces':
        # creating in (or acting on) a namespace that does not exist: the configuration points nowhere
        return BackendMisconfigured('%s%s: wrong namespace or wrong cluster?' % (prefix, message or 'namespace not found'),
                                    ref=ref, backend=backend)
    if status is None or not isinstance(status, int):
        return BackendUnavailable('%scannot reach the Kubernetes API: %s' % (prefix, describe_exception(exc)),
                                  ref=ref, backend=backend)
    detail = message or reason or 'HTTP %s' % status
    if status == 404:
        return SecretNotFound('%s%s' % (prefix, detail), ref=ref, backend=backend)
    if status in (401, 403):
        return SecretAccessDenied('%s%s (HTTP %s; check the credentials and RBAC of the user or service account)'
                                  % (prefix, detail, status), ref=ref, backend=backend)
    if status == 409:
        return SecretConflict('%s%s' % (prefix, detail), ref=ref, backend=backend)
    if status in (400, 415, 422):
        return InvalidOption('%s%s' % (prefix, detail), ref=ref, backend=backend)
    return BackendUnavailable('%s%s (HTTP %s)' % (prefix, detail, status), ref=ref, backend=backend)
