# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The logic behind agentarea.secrets.k8s_secret: compare the wanted data (built in _k8s_secret_data.py) with the
Secret in the cluster and change only what differs, retrying resourceVersion conflicts; content-hashed names for
immutable rollouts. Results and diffs carry key names and keyed fingerprints, never values. Nothing here calls
``exit_json``."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import json
import time

from ansible_collections.agentarea.secrets.plugins.module_utils.core._errors import (
    InvalidOption,
    SecretConflict,
    SecretNotFound,
)
from ansible_collections.agentarea.secrets.plugins.module_utils.core._fingerprint import fingerprint
from ansible_collections.agentarea.secrets.plugins.module_utils.distribution._k8s_secret_data import TYPE_OPAQUE
from ansible_collections.agentarea.secrets.plugins.module_utils.backends.k8s._backend import (
    CONFLICT_RETRIES,
    b64encode,
)

#: label on Secrets created with append_hash: the name they were hashed from (state=absent removes them all)
HASHED_FROM_LABEL = 'agentarea.secrets/name'


def hashed_name(name, stype, data, key=None):
    """``name-<10 characters>`` from a keyed HMAC of the content, so that a new content gets a new name (immutable
    rollouts) while the name reveals nothing that could be checked against guesses. Characters as kustomize's
    ``secretGenerator`` uses them (no vowels, so no words)."""
    canonical = {'kind': 'Secret', 'name': name, 'type': stype,
                 'data': dict((k, base64.b64encode(v).decode('ascii')) for k, v in sorted(data.items()))}
    digest = fingerprint(canonical, key).split(':', 1)[1]
    table = {'0': 'g', '1': 'h', '3': 'k', 'a': 'm', 'e': 't'}
    return '%s-%s' % (name, ''.join(table.get(c, c) for c in digest[:10]))


def decoded(obj):
    return dict((k, base64.b64decode(v or '')) for k, v in ((obj or {}).get('data') or {}).items())


def describe(obj, key=None, name=None):
    """The value-free picture of a Secret for results and diffs."""
    if obj is None:
        return {'exists': False, 'name': name}
    meta = obj.get('metadata') or {}
    return {
        'exists': True,
        'name': meta.get('name'),
        'type': obj.get('type') or TYPE_OPAQUE,
        'immutable': bool(obj.get('immutable')),
        'keys': dict((k, fingerprint(v, key)) for k, v in sorted(decoded(obj).items())),
        'labels': dict(meta.get('labels') or {}),
        'annotations': dict((k, v) for k, v in (meta.get('annotations') or {}).items()
                            if k != 'kubectl.kubernetes.io/last-applied-configuration'),
    }


def plan(current, data, stype, labels, annotations, immutable, purge):
    """What must change. Returns a dict with ``action`` (create, update, recreate, none) and the key lists; raises
    InvalidOption for a change the API refuses unless the Secret is recreated (reported with ``needs_force``)."""
    if current is None:
        return {'action': 'create', 'added': sorted(data), 'updated': [], 'removed': []}
    have = decoded(current)
    meta = current.get('metadata') or {}
    added = sorted(k for k in data if k not in have)
    updated = sorted(k for k in data if k in have and have[k] != data[k])
    removed = sorted(k for k in have if k not in data) if purge else []
    label_changes = dict((k, v) for k, v in (labels or {}).items() if (meta.get('labels') or {}).get(k) != v)
    annotation_changes = dict((k, v) for k, v in (annotations or {}).items()
                              if (meta.get('annotations') or {}).get(k) != v)
    reasons = []
    if (current.get('type') or TYPE_OPAQUE) != stype:
        reasons.append("its type is %s, not %s (type cannot change)" % (current.get('type') or TYPE_OPAQUE, stype))
    if current.get('immutable') and (added or updated or removed):
        reasons.append('it is immutable and its data differs')
    if current.get('immutable') and immutable is False:
        reasons.append('it is immutable (that cannot be undone)')
    result = {'added': added, 'updated': updated, 'removed': removed, 'labels': label_changes,
              'annotations': annotation_changes, 'reasons': reasons}
    if reasons:
        result['action'] = 'recreate'
    elif added or updated or removed or label_changes or annotation_changes or (
            immutable and not current.get('immutable')):
        result['action'] = 'update'
    else:
        result['action'] = 'none'
    return result


class SecretRequest:
    """What the module asks for, already validated."""

    def __init__(self, namespace, name, data, stype, labels=None, annotations=None, immutable=None, purge=True,
                 append_hash=False, force=False, fingerprint_key=None):
        self.namespace, self.base_name = namespace, name
        self.data, self.type = data, stype
        self.labels = dict((k, str(v)) for k, v in (labels or {}).items())
        self.annotations = dict((k, str(v)) for k, v in (annotations or {}).items())
        self.immutable, self.purge, self.force = immutable, purge, force
        self.append_hash, self.key = append_hash, fingerprint_key
        self.name = hashed_name(name, stype, data, fingerprint_key) if append_hash else name
        if append_hash:
            self.labels[HASHED_FROM_LABEL] = name

    def body(self):
        meta = {'name': self.name, 'namespace': self.namespace}
        if self.labels:
            meta['labels'] = self.labels
        if self.annotations:
            meta['annotations'] = self.annotations
        body = {'apiVersion': 'v1', 'kind': 'Secret', 'metadata': meta, 'type': self.type,
                'data': dict((k, b64encode(v)) for k, v in self.data.items())}
        if self.immutable is not None:
            body['immutable'] = bool(self.immutable)
        return body

    def patch(self, current, steps):
        meta = current['metadata']
        body = {'metadata': {'resourceVersion': meta['resourceVersion']}}
        data = dict((k, b64encode(self.data[k])) for k in steps['added'] + steps['updated'])
        for k in steps['removed']:
            data[k] = None
        if data:
            body['data'] = data
        if steps['labels']:
            body['metadata']['labels'] = steps['labels']
        if steps['annotations']:
            body['metadata']['annotations'] = steps['annotations']
        if self.immutable and not current.get('immutable'):
            body['immutable'] = True
        return body


def predict(current, req, steps):
    """The Secret as it will be after ``steps`` (for check mode diffs)."""
    if steps['action'] in ('create', 'recreate'):
        return req.body()
    if steps['action'] == 'none':
        return current
    obj = json.loads(json.dumps(current))
    data = obj.setdefault('data', {})
    for k in steps['added'] + steps['updated']:
        data[k] = b64encode(req.data[k])
    for k in steps['removed']:
        data.pop(k, None)
    meta = obj['metadata']
    meta.setdefault('labels', {}).update(steps['labels'])
    meta.setdefault('annotations', {}).update(steps['annotations'])
    if req.immutable:
        obj['immutable'] = True
    return obj


def read_secret(backend, namespace, name):
    """The Secret as a plain dict (data still base64), or None."""
    try:
        return backend.call('core', 'read_namespaced_secret', name, namespace, _what='Secret %s/%s' % (namespace, name))
    except SecretNotFound:
        return None


def ensure_present(backend, req, check_mode=False, retries=CONFLICT_RETRIES):
    """Create or update the Secret; return (result dict, before, after) with values replaced by fingerprints."""
    what = 'Secret %s/%s' % (req.namespace, req.name)
    for attempt in range(retries + 1):
        current = read_secret(backend, req.namespace, req.name)
        steps = plan(current, req.data, req.type, req.labels, req.annotations, req.immutable, req.purge)
        if steps['action'] == 'recreate' and not req.force:
            raise InvalidOption('%s cannot be changed in place: %s. Set force=true to delete and recreate it, or '
                                'use append_hash for immutable rollouts' % (what, '; '.join(steps['reasons'])),
                                backend='k8s')
        result = {'action': steps['action'], 'name': req.name, 'namespace': req.namespace, 'type': req.type,
                  'keys': sorted(req.data), 'added_keys': steps['added'], 'updated_keys': steps['updated'],
                  'removed_keys': steps['removed'], 'changed': steps['action'] != 'none', 'conflicts': attempt}
        if steps['action'] == 'none':
            return result, current, current
        dry_run = {'dry_run': 'All'} if check_mode else {}
        if check_mode and steps['action'] == 'recreate':
            return result, current, predict(current, req, steps)
        try:
            # check mode asks the server (dryRun=All): a missing namespace, a key it refuses or missing RBAC
            # fail now, not on the real run
            if steps['action'] == 'create':
                after = backend.call('core', 'create_namespaced_secret', req.namespace, req.body(), _what=what,
                                     **dry_run)
            elif steps['action'] == 'recreate':
                backend.call('core', 'delete_namespaced_secret', req.name, req.namespace,
                             body={'preconditions': {'resourceVersion': current['metadata']['resourceVersion']}},
                             _what=what)
                after = backend.call('core', 'create_namespaced_secret', req.namespace, req.body(), _what=what)
            else:
                after = backend.call('core', 'patch_namespaced_secret', req.name, req.namespace,
                                     req.patch(current, steps), _what=what, **dry_run)
        except SecretConflict:
            # someone wrote (or created) it between our read and our write: read again and redo the plan
            time.sleep(min(0.05 * (2 ** attempt), 1.0))
            continue
        if check_mode:
            return result, current, predict(current, req, steps)
        result['resource_version'] = after['metadata'].get('resourceVersion')
        result['uid'] = after['metadata'].get('uid')
        return result, current, after
    raise SecretConflict('%s kept changing while we wrote it; gave up after %d conflicts' % (what, retries + 1),
                         backend='k8s')


def ensure_absent(backend, namespace, name, hashed=False, check_mode=False):
    """Delete the Secret (with append_hash: every Secret hashed from ``name``). Returns (result, before list)."""
    if hashed:
        found = backend.call('core', 'list_namespaced_secret', namespace,
                             label_selector='%s=%s' % (HASHED_FROM_LABEL, name),
                             _what='Secrets hashed from %s/%s' % (namespace, name))
        objects = (found or {}).get('items') or []
    else:
        obj = read_secret(backend, namespace, name)
        objects = [obj] if obj else []
    names = sorted(o['metadata']['name'] for o in objects)
    if not check_mode:
        for obj in objects:
            try:
                backend.call('core', 'delete_namespaced_secret', obj['metadata']['name'], namespace,
                             _what='Secret %s/%s' % (namespace, obj['metadata']['name']))
            except SecretNotFound:
                pass
    return {'action': 'deleted' if names else 'none', 'changed': bool(names), 'deleted': names,
            'namespace': namespace, 'name': name}, objects
