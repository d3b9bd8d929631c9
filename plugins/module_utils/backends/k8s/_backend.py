# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``k8s://namespace/name[#key]``: the keys of a Kubernetes Secret, decoded.

The Secret's ``resourceVersion`` is the version used for check-and-set; labels are ``metadata['tags']``. How the
backend connects (kubeconfig, host and token, in-cluster service account) and talks to the API (our own REST
client, no SDK) is in _client.py. The modules (k8s_secret, rollout, external_secret) and the RBAC of access_policy
reuse :meth:`K8sBackend.call` / :meth:`K8sBackend.api`.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import os
import time

from ansible_collections.agentarea.secrets.plugins.module_utils.core._backend import (
    CAP_CAS,
    CAP_DELETE,
    CAP_LIST,
    CAP_METADATA,
    CAP_READ,
    CAP_WRITE,
    CAS_CREATE,
    Secret,
    SecretBackend,
    decode_structured,
    encode_value,
)
from ansible_collections.agentarea.secrets.plugins.module_utils.core._errors import (
    BackendMisconfigured,
    InvalidOption,
    InvalidReference,
    NotSupported,
    SecretConflict,
    SecretError,
    SecretNotFound,
)
from ansible_collections.agentarea.secrets.plugins.module_utils.backends.k8s import _client as _k8s_client
from ansible_collections.agentarea.secrets.plugins.module_utils.backends.k8s._client import (
    DEFAULT_KUBECONFIG,
    api_error,
    to_bool,
)

#: read-modify-write attempts when someone else changes the Secret between our read and our write
CONFLICT_RETRIES = 5


def b64encode(value):
    if not isinstance(value, bytes):
        value = str(value).encode('utf-8')
    return base64.b64encode(value).decode('ascii')


def b64decode(text):
    """Decoded bytes as text where they are UTF-8, else bytes."""
    raw = base64.b64decode(text or '')
    try:
        return raw.decode('utf-8')
    except UnicodeDecodeError:
        return raw


class K8sBackend(SecretBackend):
    NAME = 'k8s'
    CAPABILITIES = frozenset((CAP_READ, CAP_WRITE, CAP_DELETE, CAP_CAS, CAP_LIST, CAP_METADATA))
    ARGSPEC = {
        'kubeconfig': {'type': 'path'},
        'context': {'type': 'str'},
        'host': {'type': 'str'},
        'api_key': {'type': 'str', 'no_log': True},
        'ca_cert': {'type': 'path'},
        'validate_certs': {'type': 'bool'},
        'in_cluster': {'type': 'bool'},
        'timeout': {'type': 'int', 'default': 30},
    }
    CONNECTION = tuple(ARGSPEC)  # every option connects
    ENV = {
        'kubeconfig': ('ANSIBLE_AGENTAREA_SECRETS_K8S_KUBECONFIG', 'K8S_AUTH_KUBECONFIG', 'KUBECONFIG'),
        'context': ('ANSIBLE_AGENTAREA_SECRETS_K8S_CONTEXT', 'K8S_AUTH_CONTEXT'),
        'host': ('ANSIBLE_AGENTAREA_SECRETS_K8S_HOST', 'K8S_AUTH_HOST'),
        'api_key': ('ANSIBLE_AGENTAREA_SECRETS_K8S_API_KEY', 'K8S_AUTH_API_KEY'),
        'ca_cert': ('ANSIBLE_AGENTAREA_SECRETS_K8S_CA_CERT', 'K8S_AUTH_SSL_CA_CERT'),
        'validate_certs': ('ANSIBLE_AGENTAREA_SECRETS_K8S_VALIDATE_CERTS', 'K8S_AUTH_VERIFY_SSL'),
        'in_cluster': ('ANSIBLE_AGENTAREA_SECRETS_K8S_IN_CLUSTER',),
    }

    def __init__(self, options=None, environ=None):
        super(K8sBackend, self).__init__(options, environ)
        self._environ = os.environ if environ is None else environ
        self._apis = {}
        self._namespaces = {}  # namespace -> whether it exists (asked when something in it was not found)

    # -- connection -------------------------------------------------------------------------------------------
    def validate(self):
        opts = self.options
        opts['validate_certs'] = to_bool(opts.get('validate_certs'), 'validate_certs')
        opts['in_cluster'] = to_bool(opts.get('in_cluster'), 'in_cluster')
        if opts.get('timeout') is not None:
            try:
                opts['timeout'] = int(opts['timeout'])
            except (TypeError, ValueError):
                raise InvalidOption('timeout must be a number of seconds', backend=self.NAME)
        if opts.get('host') and not str(opts['host']).startswith(('http://', 'https://')):
            raise InvalidOption("host must be a URL such as https://k8s.example.com:6443, got %r" % opts['host'],
                                backend=self.NAME)
        if opts.get('in_cluster') and (opts.get('kubeconfig') or opts.get('context')):
            raise InvalidOption('in_cluster cannot be combined with kubeconfig or context', backend=self.NAME)

    def source(self):
        """``host``, ``in_cluster`` or ``kubeconfig``: where the connection settings come from."""
        return _k8s_client.source(self.options, self._environ)

    def identity(self):
        source = self.source()
        if source == 'kubeconfig':
            where = '%s@%s' % (self.options.get('context') or '', self.options.get('kubeconfig') or DEFAULT_KUBECONFIG)
        elif source == 'host':
            where = self.options['host']
        else:
            where = self._environ.get('KUBERNETES_SERVICE_HOST', '')
        return 'k8s:%s:%s:%s' % (source, where, self.options.get('host') or '')

    def configuration(self):
        """A :class:`_client.Config` for the options (reads the kubeconfig or service account; no network)."""
        return _k8s_client.configuration(self.options, self._environ)

    def connect(self):
        return _k8s_client.Transport(self.configuration())

    def api(self, name):
        """``core``, ``apps``, ``rbac`` or ``custom`` (:class:`_client.Api`, the SDK's method names), sharing one
        connection."""
        if name not in self._apis:
            self._apis[name] = _k8s_client.Api(self.client(), name)
        return self._apis[name]

    def call(self, api, method, *args, **kwargs):
        """Call ``api.method`` with the request timeout; raise typed errors (``ref``/``what`` name the object)."""
        ref = kwargs.pop('_ref', None)
        what = kwargs.pop('_what', None)
        kwargs.setdefault('_request_timeout', self.options.get('timeout') or 30)
        try:
            return getattr(self.api(api), method)(*args, **kwargs)
        except SecretError:
            raise
        except Exception as exc:  # ApiError, socket, ssl and http.client errors alike
            error = api_error(exc, ref=ref, what=what, backend=self.NAME)
        if isinstance(error, SecretNotFound) and api in ('core', 'apps'):
            namespace = _namespace_arg(method, args)
            if namespace and self.namespace_exists(namespace) is False:
                error = BackendMisconfigured(
                    "%snamespace '%s' does not exist in the cluster (%s): wrong namespace or wrong cluster/context?"
                    % ('%s: ' % what if what else '', namespace, self._cluster()), ref=ref, backend=self.NAME)
        raise error

    def _cluster(self):
        source = self.source()
        if source == 'kubeconfig':
            return 'kubeconfig %s, context %s' % (self.options.get('kubeconfig') or DEFAULT_KUBECONFIG,
                                                  self.options.get('context') or 'current')
        return self.options.get('host') or source

    def namespace_exists(self, namespace):
        """True or False, or None when the API does not say (no RBAC to get namespaces, an error): asked once per
        namespace when something in it was not found. The API answers 404 alike for a missing Secret and for a
        Secret in a namespace that does not exist; the second is a configuration error, not a missing secret."""
        if namespace not in self._namespaces:
            try:
                self.api('core').read_namespace(namespace, _request_timeout=self.options.get('timeout') or 30)
                self._namespaces[namespace] = True
            except Exception as exc:  # pylint: disable=broad-except
                self._namespaces[namespace] = False if getattr(exc, 'status', None) == 404 else None
        return self._namespaces[namespace]

    def close(self):
        if self._client is not None:
            try:
                self._client.close()
            except Exception:  # pragma: no cover - best effort
                pass
        self._apis = {}
        super(K8sBackend, self).close()

    # -- references ---------------------------------------------------------------------------------------------
    def _where(self, ref):
        parts = ref.parts
        if len(parts) != 2:
            raise InvalidReference('expected k8s://namespace/name', ref=ref, backend=self.NAME)
        return parts[0], parts[1]

    def read_object(self, ref):
        """The Secret as a plain dict (``data`` still base64), or raise SecretNotFound."""
        namespace, name = self._where(ref)
        return self.call('core', 'read_namespaced_secret', name, namespace, _ref=ref)

    @staticmethod
    def secret_from_object(obj):
        meta = obj.get('metadata') or {}
        data = obj.get('data') or {}
        values = dict((k, b64decode(v)) for k, v in data.items())
        times = [m.get('time') for m in meta.get('managedFields') or [] if m.get('time')]
        metadata = {
            'tags': dict(meta.get('labels') or {}),
            'annotations': dict((k, v) for k, v in (meta.get('annotations') or {}).items()
                                if k != 'kubectl.kubernetes.io/last-applied-configuration'),
            'type': obj.get('type') or 'Opaque',
            'keys': sorted(values),
            'immutable': bool(obj.get('immutable')),
            'uid': meta.get('uid'),
        }
        if any(isinstance(v, bytes) for v in values.values()):
            metadata['cache'] = False  # the run cache stores JSON: binary keys are read each time
        return Secret(values, meta.get('resourceVersion'), meta.get('creationTimestamp'),
                      max(times) if times else None, metadata)

    # -- operations -------------------------------------------------------------------------------------------
    def read(self, ref):
        return self.secret_from_object(self.read_object(ref.without_key()))

    def select(self, secret, ref):
        """A whole Secret is its map of keys (no JSON decoding of the map); ``#key`` is one key, as stored."""
        if ref.key is None:
            return dict(secret.value)
        if ref.key not in secret.value:
            keys = ', '.join(sorted(secret.value)) or 'none'
            raise SecretNotFound("the Secret has no key '%s' (keys: %s)" % (ref.key, keys), ref=ref, backend=self.NAME)
        return secret.value[ref.key]

    def _patch(self, ref, body):
        namespace, name = self._where(ref)
        return self.call('core', 'patch_namespaced_secret', name, namespace, body, _ref=ref)

    def write(self, ref, value, cas=None, metadata=None):
        """``#key``: set that key, keep the others. No key: ``value`` (a dict, or a JSON object) is the whole
        Secret. ``cas``: the resourceVersion read before (or CAS_CREATE). ``metadata``: the labels."""
        namespace, name = self._where(ref)
        if ref.key is None:
            value = decode_structured(value)
            if not isinstance(value, dict):
                raise InvalidReference('a whole Secret is a map of keys: give a dict, or name one key with #key',
                                       ref=ref, backend=self.NAME)
            wanted = dict((k, encode_value(v)) for k, v in value.items())
        else:
            wanted = {ref.key: encode_value(value)}
        labels = None if metadata is None else dict((k, str(v)) for k, v in metadata.items())
        for attempt in range(CONFLICT_RETRIES):
            try:
                current = self.read_object(ref.without_key())
            except SecretNotFound:
                current = None
            if current is None:
                if cas not in (None, CAS_CREATE):
                    raise SecretConflict('the Secret was deleted since it was read (version %s)' % cas,
                                         ref=ref, backend=self.NAME)
                body = {'apiVersion': 'v1', 'kind': 'Secret', 'type': 'Opaque',
                        'metadata': {'name': name, 'namespace': namespace},
                        'data': dict((k, b64encode(v)) for k, v in wanted.items())}
                if labels:
                    body['metadata']['labels'] = labels
                try:
                    self.call('core', 'create_namespaced_secret', namespace, body, _ref=ref)
                except SecretConflict:
                    if cas == CAS_CREATE:
                        raise SecretConflict('the Secret was created by someone else meanwhile', ref=ref,
                                             backend=self.NAME)
                    continue
                return self.read(ref.without_key())
            version = current['metadata'].get('resourceVersion')
            if cas == CAS_CREATE:
                raise SecretConflict('the Secret exists already (check-and-set expected none)', ref=ref,
                                     backend=self.NAME)
            if cas is not None and cas != version:
                raise SecretConflict('the Secret changed since it was read (version %s, now %s)' % (cas, version),
                                     ref=ref, backend=self.NAME)
            if current.get('immutable'):
                raise NotSupported('the Secret is immutable: its data cannot change (delete it first, or use '
                                   'agentarea.secrets.k8s_secret with append_hash)', ref=ref, backend=self.NAME)
            data = {}
            for k, v in wanted.items():
                data[k] = b64encode(v)
            if ref.key is None:
                for k in (current.get('data') or {}):
                    if k not in wanted:
                        data[k] = None
            body = {'metadata': {'resourceVersion': version}, 'data': data}
            if labels is not None:
                body['metadata']['labels'] = label_patch(current['metadata'].get('labels') or {}, labels)
            try:
                self._patch(ref, body)
            except SecretConflict:
                if cas is not None:
                    raise SecretConflict('the Secret changed since it was read (version %s); nothing was written'
                                         % version, ref=ref, backend=self.NAME)
                time.sleep(0.05 * (attempt + 1))
                continue
            return self.read(ref.without_key())
        raise SecretConflict('the Secret kept changing; gave up after %d attempts' % CONFLICT_RETRIES, ref=ref,
                             backend=self.NAME)

    def delete(self, ref, **kwargs):
        namespace, name = self._where(ref)
        if ref.key is None:
            try:
                self.call('core', 'delete_namespaced_secret', name, namespace, _ref=ref)
            except SecretNotFound:
                return False
            return True
        for _attempt in range(CONFLICT_RETRIES):
            try:
                current = self.read_object(ref.without_key())
            except SecretNotFound:
                return False
            if ref.key not in (current.get('data') or {}):
                return False
            try:
                self._patch(ref, {'metadata': {'resourceVersion': current['metadata']['resourceVersion']},
                                  'data': {ref.key: None}})
            except SecretConflict:
                continue
            return True
        raise SecretConflict('the Secret kept changing; gave up after %d attempts' % CONFLICT_RETRIES, ref=ref,
                             backend=self.NAME)

    def set_tags(self, ref, tags):
        labels = dict((k, str(v)) for k, v in (tags or {}).items())
        for _attempt in range(CONFLICT_RETRIES):
            current = self.read_object(ref.without_key())
            body = {'metadata': {'resourceVersion': current['metadata']['resourceVersion'],
                                 'labels': label_patch(current['metadata'].get('labels') or {}, labels)}}
            try:
                self._patch(ref, body)
            except SecretConflict:
                continue
            return self.read(ref.without_key())
        raise SecretConflict('the Secret kept changing; gave up after %d attempts' % CONFLICT_RETRIES, ref=ref,
                             backend=self.NAME)

    def list(self, prefix=''):
        """``namespace`` or ``namespace/name-prefix`` -> ``namespace/name`` of each Secret."""
        parts = [p for p in (prefix or '').split('/') if p]
        if not parts:
            raise InvalidReference('listing needs a namespace (k8s://namespace)', backend=self.NAME)
        namespace, start = parts[0], '/'.join(parts[1:])
        found = self.call('core', 'list_namespaced_secret', namespace, _what='namespace %s' % namespace)
        names = [(s.get('metadata') or {}).get('name') or '' for s in (found or {}).get('items') or []]
        return sorted('%s/%s' % (namespace, n) for n in names if n and n.startswith(start))


def _namespace_arg(method, args):
    """The namespace argument of a ``*_namespaced_*`` call of CoreV1Api/AppsV1Api: ``(name, namespace, ...)`` for
    reads, patches, replaces and deletes, ``(namespace, ...)`` for creates and lists."""
    if '_namespaced_' not in method:
        return None
    index = 0 if method.startswith(('create_', 'list_', 'delete_collection_')) else 1
    return args[index] if len(args) > index and isinstance(args[index], str) else None


def label_patch(current, wanted):
    """A merge-patch map that makes ``current`` equal ``wanted`` (None removes a key)."""
    patch = dict(wanted)
    for k in current:
        if k not in wanted:
            patch[k] = None
    return patch
