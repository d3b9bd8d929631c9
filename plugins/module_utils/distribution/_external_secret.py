# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""External Secrets Operator objects from a short description: SecretStore / ClusterSecretStore for the Vault,
AWS, Azure and GCP providers, ExternalSecret objects, applied idempotently (a merge patch of what differs, with
resourceVersion, retried on 409), and ``force-sync`` to make the operator fetch again after a rotation.

The objects carry no secret values (only references to Secrets that hold credentials), so they are returned as
rendered. Nothing here calls exit_json."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import copy
import json
import re
import time

from ansible_collections.agentarea.secrets.plugins.module_utils.core._backend import to_datetime
from ansible_collections.agentarea.secrets.plugins.module_utils.core._errors import (
    InvalidOption,
    SecretConflict,
    SecretNotFound,
)
from ansible_collections.agentarea.secrets.plugins.module_utils.backends.k8s._backend import CONFLICT_RETRIES

GROUP = 'external-secrets.io'
FORCE_SYNC = 'force-sync'
PROVIDER_KEYS = {'vault': 'vault', 'aws': 'aws', 'azure': 'azurekv', 'gcp': 'gcpsm'}
STORE_KINDS = {'SecretStore': 'secretstores', 'ClusterSecretStore': 'clustersecretstores'}
#: spec fields the module renders: one present in the cluster but no longer described is removed
MANAGED_SPEC_KEYS = ('provider', 'data', 'dataFrom', 'target', 'refreshInterval', 'secretStoreRef')


#: a Kubernetes Secret's name (DNS-1123 subdomain) and data key: a credential pasted in their place fails them
SECRET_NAME = re.compile(r'^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$')
SECRET_KEY = re.compile(r'^[-._a-zA-Z0-9]{1,253}$')


def _invalid(msg):
    return InvalidOption(msg, backend='external-secrets')


def secret_key_ref(value, what, namespace=None, default_key=None):
    """``name#key``, ``namespace/name#key`` or ``{name, key, namespace}`` -> a SecretKeySelector."""
    if isinstance(value, dict):
        ref = dict((k, value[k]) for k in ('name', 'key', 'namespace') if value.get(k))
    else:
        text = str(value or '')
        name, _sep, key = text.partition('#')
        ref = {'name': name, 'key': key or default_key}
        if '/' in name:
            ref['namespace'], ref['name'] = name.split('/', 1)
    if not ref.get('name') or not ref.get('key') or not SECRET_NAME.match(str(ref['name'])) \
            or not SECRET_KEY.match(str(ref['key'])) or not SECRET_NAME.match(str(ref.get('namespace') or 'x')):
        # never the value: what was given instead of name#key is often the credential itself
        given = ('a map without a valid name and key' if isinstance(value, dict)
                 else 'a value that is not a Secret name and key')
        raise _invalid('%s: give the Kubernetes Secret holding the credential as name#key, not the credential '
                       'itself (got %s)' % (what, given))
    if namespace and 'namespace' not in ref:
        ref['namespace'] = namespace
    return ref


def _auth(desc, provider, cluster_ns):
    auth = desc.get('auth') or {}
    if not isinstance(auth, dict):
        raise _invalid('store.auth must be a dict')

    def sref(key, default_key=None):
        return secret_key_ref(auth[key], 'store.auth.%s' % key, cluster_ns, default_key)

    def sa(value):
        out = {'name': value['name'] if isinstance(value, dict) else value}
        if cluster_ns:
            out['namespace'] = (value.get('namespace') if isinstance(value, dict) else None) or cluster_ns
        return out

    if provider == 'vault':
        if 'token' in auth:
            return {'tokenSecretRef': sref('token', 'token')}
        if 'kubernetes' in auth:
            k = auth['kubernetes'] or {}
            out = {'mountPath': k.get('mount_path', 'kubernetes'), 'role': k.get('role')}
            if not out['role']:
                raise _invalid('store.auth.kubernetes needs a role')
            if k.get('service_account'):
                out['serviceAccountRef'] = sa(k['service_account'])
            return {'kubernetes': out}
        if 'approle' in auth:
            a = auth['approle'] or {}
            if not a.get('role_id') or not a.get('secret'):
                raise _invalid('store.auth.approle needs role_id and secret (name#key of the secret_id)')
            return {'appRole': {'path': a.get('path', 'approle'), 'roleId': a['role_id'],
                                'secretRef': secret_key_ref(a['secret'], 'store.auth.approle.secret', cluster_ns)}}
        raise _invalid('store.auth for vault: one of token, kubernetes, approle')
    if provider == 'aws':
        if 'access_key_id' in auth or 'secret_access_key' in auth:
            return {'secretRef': {'accessKeyIDSecretRef': sref('access_key_id'),
                                  'secretAccessKeySecretRef': sref('secret_access_key')}}
        if 'service_account' in auth:
            return {'jwt': {'serviceAccountRef': sa(auth['service_account'])}}
        return None  # the operator's own credentials (instance profile, pod identity)
    if provider == 'gcp':
        if 'credentials' in auth:
            return {'secretRef': {'secretAccessKeySecretRef': sref('credentials')}}
        if 'workload_identity' in auth:
            w = auth['workload_identity'] or {}
            out = dict((dst, w[src]) for src, dst in (('cluster_location', 'clusterLocation'),
                                                      ('cluster_name', 'clusterName'),
                                                      ('cluster_project_id', 'clusterProjectID')) if w.get(src))
            out['serviceAccountRef'] = sa(w.get('service_account') or 'default')
            return {'workloadIdentity': out}
        return None
    return None


def render_store(desc, namespace=None):
    """A SecretStore or ClusterSecretStore object (without apiVersion) from its short description."""
    desc = dict(desc or {})
    kind = desc.get('kind') or 'SecretStore'
    provider = desc.get('provider')
    if kind not in STORE_KINDS:
        raise _invalid('store.kind must be SecretStore or ClusterSecretStore')
    if provider not in PROVIDER_KEYS:
        raise _invalid('store.provider must be one of %s' % ', '.join(sorted(PROVIDER_KEYS)))
    if not desc.get('name'):
        raise _invalid('store.name is required')
    if kind == 'SecretStore' and not namespace:
        raise _invalid('a SecretStore needs namespace')
    cluster_ns = namespace if kind == 'ClusterSecretStore' else None

    def need(key):
        if not desc.get(key):
            raise _invalid('store.%s is required for the %s provider' % (key, provider))
        return desc[key]

    if provider == 'vault':
        spec = {'server': need('server'), 'path': desc.get('path') or 'secret', 'version': desc.get('version') or 'v2'}
        if desc.get('vault_namespace'):
            spec['namespace'] = desc['vault_namespace']
        if desc.get('ca_bundle'):
            spec['caBundle'] = base64.b64encode(desc['ca_bundle'].encode('utf-8')).decode('ascii')
        spec['auth'] = _auth(desc, provider, cluster_ns)
    elif provider == 'aws':
        spec = {'service': desc.get('service') or 'SecretsManager', 'region': need('region')}
        if desc.get('role'):
            spec['role'] = desc['role']
        auth = _auth(desc, provider, cluster_ns)
        if auth:
            spec['auth'] = auth
    elif provider == 'azure':
        spec = {'vaultUrl': need('vault_url'), 'authType': desc.get('auth_type') or 'WorkloadIdentity'}
        if desc.get('tenant_id'):
            spec['tenantId'] = desc['tenant_id']
        auth = desc.get('auth') or {}
        if spec['authType'] == 'ServicePrincipal':
            if not auth.get('client_id') or not auth.get('client_secret'):
                raise _invalid('store.auth needs client_id and client_secret (name#key) for ServicePrincipal')
            spec['authSecretRef'] = {
                'clientId': secret_key_ref(auth['client_id'], 'store.auth.client_id', cluster_ns),
                'clientSecret': secret_key_ref(auth['client_secret'], 'store.auth.client_secret', cluster_ns)}
        elif spec['authType'] == 'ManagedIdentity' and desc.get('identity_id'):
            spec['identityId'] = desc['identity_id']
        elif spec['authType'] == 'WorkloadIdentity' and auth.get('service_account'):
            spec['serviceAccountRef'] = {'name': auth['service_account']}
            if cluster_ns:
                spec['serviceAccountRef']['namespace'] = cluster_ns
    else:
        spec = {'projectID': need('project_id')}
        auth = _auth(desc, provider, cluster_ns)
        if auth:
            spec['auth'] = auth
    spec = merge(spec, desc.get('provider_spec') or {})
    if kind == 'ClusterSecretStore':
        unplaced = refs_without_namespace(spec)
        if unplaced:
            raise _invalid('a ClusterSecretStore must say the namespace of each Secret or service account it names '
                           '(namespace/name#key, or the namespace option): %s' % ', '.join(unplaced))
    meta = {'name': desc['name']}
    if kind == 'SecretStore':
        meta['namespace'] = namespace
    return {'kind': kind, 'metadata': meta, 'spec': {'provider': {PROVIDER_KEYS[provider]: spec}}}


def refs_without_namespace(obj, path='spec.provider'):
    """Paths of Secret key selectors and service account references that name no namespace."""
    found = []
    if isinstance(obj, dict):
        is_ref = 'name' in obj and ('key' in obj or path.endswith('serviceAccountRef'))
        if is_ref and not obj.get('namespace'):
            found.append(path)
        for k, v in obj.items():
            found.extend(refs_without_namespace(v, '%s.%s' % (path, k)))
    return found


def remote_ref(value, what):
    """``key#property`` (``?version=v`` optional) or ``{key, property, version}`` -> an ESO remoteRef."""
    if isinstance(value, dict):
        ref = dict((k, value[k]) for k in ('key', 'property', 'version') if value.get(k) is not None)
        for extra in ('decoding_strategy', 'conversion_strategy'):
            if value.get(extra):
                ref[extra.split('_', 1)[0] + 'Strategy'] = value[extra]
    else:
        text = str(value or '')
        text, _sep, query = text.partition('?')
        key, _sep, prop = text.partition('#')
        ref = {'key': key}
        if prop:
            ref['property'] = prop
        if query.startswith('version='):
            ref['version'] = query[len('version='):]
    if not ref.get('key'):
        raise _invalid('%s: a remote key is required' % what)
    return ref


def render_external_secret(p):
    """An ExternalSecret object (without apiVersion) from the module's parameters."""
    if not p.get('secret_store'):
        raise _invalid('secret_store (or store) names the store the ExternalSecret reads from')
    data = [{'secretKey': k, 'remoteRef': remote_ref(v, 'data.%s' % k)} for k, v in sorted((p.get('data') or
                                                                                           {}).items())]
    data_from = []
    for item in p.get('data_from') or []:
        data_from.append(item if isinstance(item, dict) else {'extract': remote_ref(item, 'data_from')})
    if not data and not data_from:
        raise _invalid('an ExternalSecret needs data or data_from')
    target = {'name': p.get('target') or p['name'], 'creationPolicy': p.get('creation_policy') or 'Owner'}
    if p.get('deletion_policy'):
        target['deletionPolicy'] = p['deletion_policy']
    if p.get('template'):
        target['template'] = p['template']
    spec = {'refreshInterval': p.get('refresh_interval') or '1h',
            'secretStoreRef': {'name': p['secret_store'], 'kind': p.get('secret_store_kind') or 'SecretStore'},
            'target': target}
    if data:
        spec['data'] = data
    if data_from:
        spec['dataFrom'] = data_from
    return {'kind': 'ExternalSecret', 'metadata': {'name': p['name'], 'namespace': p['namespace']}, 'spec': spec}


def merge(base, extra):
    out = copy.deepcopy(base)
    for k, v in (extra or {}).items():
        out[k] = merge(out.get(k) or {}, v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def contains(have, want):
    """Whether ``have`` holds everything in ``want`` (server-side defaults in ``have`` are fine)."""
    if isinstance(want, dict):
        return isinstance(have, dict) and all(contains(have.get(k), v) for k, v in want.items())
    if isinstance(want, list):
        return isinstance(have, list) and len(have) == len(want) and all(contains(h, w) for h, w in zip(have, want))
    return have == want


def merge_patch(have, want):
    """An RFC 7386 patch that turns ``have`` into ``want`` (keys only in ``have`` become None, so fields the
    server defaulted are defaulted again)."""
    if not isinstance(have, dict) or not isinstance(want, dict):
        return copy.deepcopy(want)
    patch = dict((k, None) for k in have if k not in want)
    for k, v in want.items():
        if have.get(k) != v:
            patch[k] = merge_patch(have.get(k), v)
    return patch


class CustomObjects:
    """get / create / merge-patch / delete of one custom resource type through CustomObjectsApi."""

    def __init__(self, backend, plural, version, namespaced=True):
        self.b, self.plural, self.version, self.namespaced = backend, plural, version, namespaced

    def _call(self, verb, namespace, *args, **kwargs):
        what = kwargs.pop('what')
        method = '%s_%s_custom_object' % (verb, 'namespaced' if self.namespaced else 'cluster')
        lead = (GROUP, self.version) + ((namespace,) if self.namespaced else ()) + (self.plural,)
        return self.b.call('custom', method, *(lead + args), _what=what, **kwargs)

    def label(self, name, namespace):
        return '%s %s%s' % (self.plural, '%s/' % namespace if self.namespaced else '', name)

    def get(self, name, namespace=None):
        try:
            return self._call('get', namespace, name, what=self.label(name, namespace))
        except SecretNotFound as exc:
            if 'the server could not find the requested resource' in str(exc) or 'page not found' in str(exc):
                raise SecretNotFound('the External Secrets Operator CRDs (%s/%s %s) are not installed in this '
                                     'cluster' % (GROUP, self.version, self.plural), backend='external-secrets')
            return None

    def ensure(self, obj, labels=None, annotations=None, check_mode=False):
        """Create or patch to ``obj`` (spec, plus labels/annotations merged in). Returns (action, before, after)."""
        meta = obj['metadata']
        name, namespace = meta['name'], meta.get('namespace')
        meta = dict(meta)
        if labels:
            meta['labels'] = dict((k, str(v)) for k, v in labels.items())
        if annotations:
            meta['annotations'] = dict((k, str(v)) for k, v in annotations.items())
        body = dict(obj, metadata=meta, apiVersion='%s/%s' % (GROUP, self.version))
        for attempt in range(CONFLICT_RETRIES + 1):
            have = self.get(name, namespace)
            if have is None:
                if not check_mode:
                    try:
                        have_after = self._call('create', namespace, body, what=self.label(name, namespace))
                    except SecretConflict:
                        continue
                    return 'created', None, have_after
                return 'created', None, body
            hmeta = have.get('metadata') or {}
            have_spec = have.get('spec') or {}
            same = (contains(have_spec, body['spec'])
                    and not any(k in have_spec and k not in body['spec'] for k in MANAGED_SPEC_KEYS)
                    and contains(hmeta.get('labels') or {}, meta.get('labels') or {})
                    and contains(hmeta.get('annotations') or {}, meta.get('annotations') or {}))
            if same:
                return 'none', have, have
            patch = {'metadata': {'resourceVersion': hmeta.get('resourceVersion')},
                     'spec': merge_patch(have.get('spec') or {}, body['spec'])}
            for field in ('labels', 'annotations'):
                if meta.get(field):
                    patch['metadata'][field] = meta[field]
            if check_mode:
                return 'updated', have, merge(have, {'spec': body['spec'], 'metadata': patch['metadata']})
            try:
                after = self._call('patch', namespace, name, patch, _content_type='application/merge-patch+json',
                                   what=self.label(name, namespace))
            except SecretConflict:
                time.sleep(min(0.05 * (2 ** attempt), 1.0))
                continue
            return 'updated', have, after
        raise SecretConflict('%s kept changing while we wrote it' % self.label(name, namespace),
                             backend='external-secrets')

    def annotate(self, name, namespace, annotations):
        return self._call('patch', namespace, name, {'metadata': {'annotations': annotations}},
                          _content_type='application/merge-patch+json', what=self.label(name, namespace))

    def delete(self, name, namespace=None, check_mode=False):
        if self.get(name, namespace) is None:
            return False
        if not check_mode:
            try:
                self._call('delete', namespace, name, what=self.label(name, namespace))
            except SecretNotFound:
                return False
        return True


def ready(obj):
    for cond in ((obj or {}).get('status') or {}).get('conditions') or []:
        if cond.get('type') == 'Ready':
            return cond.get('status') == 'True', cond.get('reason'), cond.get('message')
    return False, None, 'no Ready condition yet'


def synced_since(obj, before_version, forced_at):
    """Ready, and synced after the force-sync: a new syncedResourceVersion or a refreshTime at or after it."""
    ok, _reason, _msg = ready(obj)
    if not ok:
        return False
    status = obj.get('status') or {}
    if before_version is not None and status.get('syncedResourceVersion') not in (None, before_version):
        return True
    refreshed = to_datetime(status.get('refreshTime'))
    return refreshed is not None and refreshed.timestamp() >= int(forced_at)


def force_sync_value(now=None):
    """The annotation value (epoch seconds, as ``kubectl annotate es X force-sync=$(date +%s)``; with a fraction so
    that two runs in one second still change it)."""
    return '%.3f' % (time.time() if now is None else now)


def describe(obj):
    """What the result shows of an object: it holds references, never values."""
    if obj is None:
        return None
    meta = obj.get('metadata') or {}
    out = {'kind': obj.get('kind'), 'name': meta.get('name'), 'spec': obj.get('spec')}
    if meta.get('namespace'):
        out['namespace'] = meta['namespace']
    if obj.get('status'):
        out['status'] = obj['status']
    return json.loads(json.dumps(out))
