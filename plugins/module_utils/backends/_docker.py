# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``docker://name``: a Docker swarm secret. Write-only: the swarm never returns secret data.

A swarm secret's data cannot change, so one logical secret is a family of versions: ``name`` (version 1), then
``name_v2``, ``name_v3`` ... each labelled with the logical name, its version number and a keyed HMAC fingerprint
of its value (never a bare hash, see _fingerprint.py). The fingerprint label is what makes writers idempotent: an
unchanged value is not recreated. Writing a changed value creates the next version and removes older versions
that no service uses; a version in use is never removed (agentarea.secrets.docker_secret also moves services onto
the new version and waits for them). ``describe`` reports the newest version.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.agentarea.secrets.plugins.module_utils.core._backend import (
    CAP_DELETE,
    CAP_LIST,
    CAP_METADATA,
    CAP_WRITE,
    Secret,
    SecretBackend,
    encode_value,
)
from ansible_collections.agentarea.secrets.plugins.module_utils.core._errors import (
    BackendUnavailable,
    InvalidOption,
    InvalidReference,
    SecretAccessDenied,
    SecretConflict,
    SecretError,
    SecretNotFound,
    describe_exception,
)
from ansible_collections.agentarea.secrets.plugins.module_utils.core._deps import requires
from ansible_collections.agentarea.secrets.plugins.module_utils.core._fingerprint import fingerprint

LABEL_PREFIX = 'agentarea.secrets.'
LABEL_FINGERPRINT = LABEL_PREFIX + 'fingerprint'
LABEL_NAME = LABEL_PREFIX + 'name'
LABEL_VERSION = LABEL_PREFIX + 'version'
NAME_RE = re.compile(r'^[a-zA-Z0-9][a-zA-Z0-9_.-]*$')
MAX_NAME = 64

_TRUE = ('1', 'true', 'yes', 'on', 'y', 't')
_FALSE = ('0', 'false', 'no', 'off', 'n', 'f', '')


def version_name(name, number):
    return name if number <= 1 else '%s_v%d' % (name, number)


def user_labels(labels):
    return dict((k, v) for k, v in (labels or {}).items() if not k.startswith(LABEL_PREFIX))


def to_bytes(value):
    value = encode_value(value)
    if isinstance(value, bytes):
        return value
    return str(value).encode('utf-8')


class SecretVersion:
    """One swarm secret of a family (metadata only)."""

    __slots__ = ('id', 'name', 'number', 'fingerprint', 'labels', 'created', 'updated', 'index')

    def __init__(self, info, logical):
        spec = info.get('Spec') or {}
        labels = spec.get('Labels') or {}
        self.id = info['ID']
        self.name = spec.get('Name')
        try:
            self.number = int(labels.get(LABEL_VERSION) or 0)
        except ValueError:
            self.number = 0
        if not self.number:
            self.number = 1 if self.name == logical else 0
        self.fingerprint = labels.get(LABEL_FINGERPRINT)
        self.labels = labels
        self.created = info.get('CreatedAt')
        self.updated = info.get('UpdatedAt')
        self.index = (info.get('Version') or {}).get('Index')

    def __repr__(self):
        return 'SecretVersion(%s, v%d)' % (self.name, self.number)


def docker_error(exc, ref=None, what=None):
    """A typed error for a docker SDK exception. The daemon's explanation names objects, not secret data."""
    if isinstance(exc, SecretError):
        return exc
    prefix = '%s: ' % what if what else ''
    status = getattr(exc, 'status_code', None)
    explanation = getattr(exc, 'explanation', None)
    if isinstance(explanation, bytes):
        explanation = explanation.decode('utf-8', 'replace')
    detail = (explanation or describe_exception(exc))[:400]
    if status is None:
        return BackendUnavailable('%scannot reach the Docker daemon: %s' % (prefix, describe_exception(exc)),
                                  ref=ref, backend='docker')
    if status == 404:
        return SecretNotFound(prefix + detail, ref=ref, backend='docker')
    if status in (401, 403):
        return SecretAccessDenied(prefix + detail, ref=ref, backend='docker')
    if status == 409:
        return SecretConflict(prefix + detail, ref=ref, backend='docker')
    if status == 503 and 'swarm' in detail.lower():
        return BackendUnavailable('%sthis Docker daemon is not a swarm manager (docker swarm init, or point '
                                  'docker_host at a manager): %s' % (prefix, detail), ref=ref, backend='docker')
    if 400 <= status < 500:
        return InvalidOption(prefix + detail, ref=ref, backend='docker')
    return BackendUnavailable('%s%s (HTTP %s)' % (prefix, detail, status), ref=ref, backend='docker')


class DockerBackend(SecretBackend):
    NAME = 'docker'
    CAPABILITIES = frozenset((CAP_WRITE, CAP_DELETE, CAP_LIST, CAP_METADATA))
    ARGSPEC = {
        'docker_host': {'type': 'str'},
        'docker_tls': {'type': 'bool'},
        'docker_tls_verify': {'type': 'bool'},
        'docker_cert_path': {'type': 'path'},
        'docker_api_version': {'type': 'str'},
        'timeout': {'type': 'int', 'default': 30},
        # the fingerprint label is computed with the caller's key, so that the module that compares it agrees
        'fingerprint_key': {'type': 'str', 'no_log': True},
    }
    ENV = {
        'docker_host': ('ANSIBLE_AGENTAREA_SECRETS_DOCKER_HOST', 'DOCKER_HOST'),
        'docker_tls': ('ANSIBLE_AGENTAREA_SECRETS_DOCKER_TLS', 'DOCKER_TLS'),
        'docker_tls_verify': ('ANSIBLE_AGENTAREA_SECRETS_DOCKER_TLS_VERIFY', 'DOCKER_TLS_VERIFY'),
        'docker_cert_path': ('ANSIBLE_AGENTAREA_SECRETS_DOCKER_CERT_PATH', 'DOCKER_CERT_PATH'),
        'docker_api_version': ('ANSIBLE_AGENTAREA_SECRETS_DOCKER_API_VERSION', 'DOCKER_API_VERSION'),
    }

    # -- connection -------------------------------------------------------------------------------------------
    def validate(self):
        for name in ('docker_tls', 'docker_tls_verify'):
            value = self.options.get(name)
            if value is not None and not isinstance(value, bool):
                text = str(value).strip().lower()
                if text not in _TRUE + _FALSE:
                    raise InvalidOption('%s must be a boolean, got %r' % (name, value), backend=self.NAME)
                self.options[name] = text in _TRUE
        try:
            self.options['timeout'] = int(self.options.get('timeout') or 30)
        except (TypeError, ValueError):
            raise InvalidOption('timeout must be a number of seconds', backend=self.NAME)

    def identity(self):
        return 'docker:%s' % (self.options.get('docker_host') or 'unix:///var/run/docker.sock')

    def connect(self):
        docker, docker_tls = requires('docker', 'docker.tls', backend=self.NAME)
        opts = self.options
        kwargs = {'version': opts.get('docker_api_version') or 'auto', 'timeout': opts['timeout']}
        if opts.get('docker_host'):
            kwargs['base_url'] = opts['docker_host']
        verify, tls = opts.get('docker_tls_verify'), opts.get('docker_tls')
        if verify or tls:
            import os  # pylint: disable=import-outside-toplevel
            cert_path = os.path.expanduser(opts.get('docker_cert_path') or os.path.join('~', '.docker'))
            client_cert = (os.path.join(cert_path, 'cert.pem'), os.path.join(cert_path, 'key.pem'))
            kwargs['tls'] = docker_tls.TLSConfig(client_cert=client_cert if os.path.exists(client_cert[0]) else None,
                                                 ca_cert=os.path.join(cert_path, 'ca.pem') if verify else None,
                                                 verify=bool(verify))
        try:
            return docker.APIClient(**kwargs)
        except Exception as exc:
            raise docker_error(exc, what='connecting to %s' % (opts.get('docker_host') or 'the local daemon'))

    def api(self, method, *args, **kwargs):
        """``APIClient.method(*args)`` with typed errors (``_ref``/``_what`` name the object)."""
        ref = kwargs.pop('_ref', None)
        what = kwargs.pop('_what', None)
        try:
            return getattr(self.client(), method)(*args, **kwargs)
        except SecretError:
            raise
        except Exception as exc:
            raise docker_error(exc, ref=ref, what=what)

    def close(self):
        if self._client is not None:
            try:
                self._client.close()
            except Exception:  # pragma: no cover - best effort
                pass
        super(DockerBackend, self).close()

    # -- families of versions ------------------------------------------------------------------------------------
    def logical_name(self, ref):
        if ref.key is not None:
            raise InvalidReference('a Docker secret is one value: #key is not supported', ref=ref,
                                   backend=self.NAME)
        name = ref.location
        if not NAME_RE.match(name) or len(name) > MAX_NAME - 5:
            raise InvalidReference('a Docker secret name is letters, digits, _ . - (at most %d characters, room '
                                   'kept for a _v<N> suffix)' % (MAX_NAME - 5), ref=ref, backend=self.NAME)
        return name

    def family(self, name, ref=None):
        """Every version of the logical secret ``name``, oldest first."""
        found = {}
        for info in self.api('secrets', filters={'label': '%s=%s' % (LABEL_NAME, name)}, _ref=ref):
            found[info['ID']] = SecretVersion(info, name)
        for info in self.api('secrets', filters={'name': name}, _ref=ref):
            if (info.get('Spec') or {}).get('Name') == name:  # the name filter matches prefixes too
                found[info['ID']] = SecretVersion(info, name)
        return sorted((v for v in found.values() if v.number), key=lambda v: v.number)

    def fp(self, value):
        return fingerprint(value, self.options.get('fingerprint_key'))

    def create_version(self, name, value, tags=None, number=1, ref=None):
        """Create version ``number`` of ``name`` holding ``value``; return its SecretVersion."""
        data = to_bytes(value)
        labels = dict((k, str(v)) for k, v in (tags or {}).items())
        labels.update({LABEL_NAME: name, LABEL_VERSION: str(number), LABEL_FINGERPRINT: self.fp(data)})
        secret_name = version_name(name, number)
        created = self.api('create_secret', secret_name, data, labels=labels, _ref=ref,
                           _what='creating %s' % secret_name)
        return SecretVersion(self.api('inspect_secret', created['ID'], _ref=ref), name)

    def usage(self):
        """{secret ID: [names of the services whose spec references it]} across the swarm."""
        used = {}
        for svc in self.api('services', _what='listing services'):
            spec = svc.get('Spec') or {}
            for item in ((spec.get('TaskTemplate') or {}).get('ContainerSpec') or {}).get('Secrets') or []:
                used.setdefault(item.get('SecretID'), []).append(spec.get('Name'))
        return used

    def remove(self, version, ref=None):
        self.api('remove_secret', version.id, _ref=ref, _what='removing %s' % version.name)

    def prune(self, versions, keep=0, usage=None, check_mode=False, ref=None):
        """Remove old ``versions`` (newest first is kept) beyond ``keep`` that no service uses.
        Returns (removed names, kept-in-use {name: [services]})."""
        usage = self.usage() if usage is None else usage
        removed, in_use = [], {}
        for i, version in enumerate(sorted(versions, key=lambda v: -v.number)):
            if version.id in usage:
                in_use[version.name] = sorted(usage[version.id])
                continue
            if i < keep:
                continue
            if not check_mode:
                try:
                    self.remove(version, ref=ref)
                except SecretConflict:  # became used meanwhile: keep it, as promised
                    in_use[version.name] = ['(a service that started using it meanwhile)']
                    continue
            removed.append(version.name)
        return removed, in_use

    def set_labels(self, version, tags, ref=None):
        """Replace the user labels of a version (the swarm allows label-only updates); keep ours."""
        labels = dict((k, v) for k, v in version.labels.items() if k.startswith(LABEL_PREFIX))
        labels.update(dict((k, str(v)) for k, v in (tags or {}).items()))
        client = self.client()
        try:
            # The SDK has no call for it; this is the documented POST /secrets/{id}/update. The spec must not
            # carry Data (the daemon answers "only updates to Labels are allowed").
            res = client._post_json(client._url('/secrets/{0}/update', version.id),
                                    data={'Name': version.name, 'Labels': labels},
                                    params={'version': version.index})
            client._raise_for_status(res)
        except Exception as exc:
            raise docker_error(exc, ref=ref, what='updating the labels of %s' % version.name)

    # -- the backend contract -----------------------------------------------------------------------------------
    def describe(self, ref):
        name = self.logical_name(ref)
        versions = self.family(name, ref)
        if not versions:
            raise SecretNotFound('no such swarm secret', ref=ref, backend=self.NAME)
        current = versions[-1]
        metadata = {'tags': user_labels(current.labels), 'secret_name': current.name, 'id': current.id,
                    'versions': [v.name for v in versions]}
        if current.fingerprint:
            metadata['fingerprint'] = current.fingerprint
        return Secret(None, str(current.number), current.created, current.updated, metadata)

    def write(self, ref, value, cas=None, metadata=None):
        """Create the next version (or the first) and remove older versions no service uses. Services keep the
        version they use until moved (agentarea.secrets.docker_secret with ``services`` does that)."""
        name = self.logical_name(ref)
        versions = self.family(name, ref)
        if cas is not None:
            current = str(versions[-1].number) if versions else None
            if (cas == 'create' and current is not None) or (cas != 'create' and cas != current):
                raise SecretConflict('the secret changed since it was read (version %s, now %s)' % (cas, current),
                                     ref=ref, backend=self.NAME)
        tags = metadata if metadata is not None else (user_labels(versions[-1].labels) if versions else {})
        new = self.create_version(name, value, tags, versions[-1].number + 1 if versions else 1, ref)
        if versions:
            self.prune(versions, keep=0, ref=ref)
        return Secret(None, str(new.number), new.created, new.updated,
                      {'secret_name': new.name, 'id': new.id, 'fingerprint': new.fingerprint})

    def set_tags(self, ref, tags):
        name = self.logical_name(ref)
        versions = self.family(name, ref)
        if not versions:
            raise SecretNotFound('no such swarm secret', ref=ref, backend=self.NAME)
        self.set_labels(versions[-1], tags, ref)
        return self.describe(ref)

    def delete(self, ref, **kwargs):
        """Remove every version; refuse (naming the services) while any is in use."""
        name = self.logical_name(ref)
        versions = self.family(name, ref)
        if not versions:
            return False
        usage = self.usage()
        busy = dict((v.name, sorted(usage[v.id])) for v in versions if v.id in usage)
        if busy:
            raise SecretConflict('in use, not removed: %s' % '; '.join(
                '%s by %s' % (k, ', '.join(v)) for k, v in sorted(busy.items())), ref=ref, backend=self.NAME)
        for version in versions:
            self.remove(version, ref)
        return True

    def list(self, prefix=''):
        names = set()
        for info in self.api('secrets'):
            spec = info.get('Spec') or {}
            labels = spec.get('Labels') or {}
            name = labels.get(LABEL_NAME) or spec.get('Name')
            if name and name.startswith(prefix or ''):
                names.add(name)
        return sorted(names)
