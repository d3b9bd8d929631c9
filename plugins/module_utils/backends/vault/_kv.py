# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The changing side of the Vault backend's KV support: check-and-set writes (``CAS_CREATE`` included), custom
metadata as tags, soft delete, destroy, and the version list. A mixin of ``VaultBackend`` (``_vault.py``), which
provides ``locate``, ``read``, ``client`` and the error mapping ``_call``."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.agentarea.secrets.plugins.module_utils.core._backend import (
    CAS_CREATE,
    Secret,
    decode_structured,
    iso,
)
from ansible_collections.agentarea.secrets.plugins.module_utils.core._errors import (
    InvalidReference,
    NotSupported,
    SecretConflict,
    SecretDeleted,
    SecretError,
    SecretNotFound,
)


class VaultKvChanges:
    """Writes, tags, deletes and versions of KV v1/v2 secrets."""

    # -- writing ----------------------------------------------------------------------------------------------
    def _kv(self, ref, action):
        if self.dynamic():
            raise NotSupported('%s dynamic credentials is not possible (engine=dynamic reads only)' % action,
                               ref=ref, backend=self.NAME)
        if ref.version is not None and action != 'deleting':
            raise InvalidReference('?version= pins reads; %s always makes a new version' % action, ref=ref,
                                   backend=self.NAME)
        return self.locate(ref)

    def _current(self, ref):
        """The live secret at ``ref`` (whole), or None when missing, deleted or destroyed."""
        try:
            return self.read(ref.without_key().replace(params={'version': None}))
        except (SecretNotFound, SecretDeleted):
            return None

    def _create_cas(self, ref, mount, path):
        """The check-and-set version that means "only if no live version exists": 0 for a new secret, the
        current version when that one is deleted or destroyed (KV v2 refuses cas=0 once metadata exists)."""
        client = self.client()
        try:
            meta = self._call(ref, mount, path, 'read metadata', client.secrets.kv.v2.read_secret_metadata, path,
                              mount_point=mount)['data']
        except SecretError:
            return 0  # no metadata (new secret), or not allowed to read it: cas=0 still refuses to overwrite
        current = meta.get('current_version') or 0
        state = (meta.get('versions') or {}).get(str(current)) or {}
        if current and not state.get('deletion_time') and not state.get('destroyed'):
            raise SecretConflict('the secret exists (version %s) although it was missing when read (%s): nothing '
                                 'was written' % (current, self.where(mount, path)), ref=ref, backend=self.NAME)
        return current

    def write(self, ref, value, cas=None, metadata=None):
        mount, path, kv = self._kv(ref, 'writing')
        client = self.client()
        if ref.key is not None:
            current = self._current(ref)
            data = dict(current.value) if current is not None else {}
            data[ref.key] = value
            if cas is None and kv == 2:
                cas = current.version if current is not None else CAS_CREATE
        else:
            data = decode_structured(value)
            if not isinstance(data, dict):
                raise InvalidReference('a Vault KV secret is a map: give a dict (or JSON object) value, or name '
                                       'the field with #key', ref=ref, backend=self.NAME)
        if kv == 1:
            if metadata:
                raise NotSupported('KV v1 has no custom metadata for tags (mount %s)' % mount, ref=ref,
                                   backend=self.NAME)
            if cas == CAS_CREATE and self._current(ref) is not None:
                raise SecretConflict('the secret exists although it was missing when read (%s): nothing was '
                                     'written' % self.where(mount, path), ref=ref, backend=self.NAME)
            self._call(ref, mount, path, 'write', client.secrets.kv.v1.create_or_update_secret, path, data,
                       mount_point=mount)
            return Secret(None, None, metadata=self._meta(mount, path, 1))
        if cas == CAS_CREATE:
            cas = self._create_cas(ref, mount, path)
        resp = self._call(ref, mount, path, 'write (check-and-set %s)' % cas,
                          client.secrets.kv.v2.create_or_update_secret, path, data,
                          cas=int(cas) if cas is not None else None, mount_point=mount)
        tags = None
        if metadata is not None:
            tags = self._set_custom_metadata(ref, mount, path, metadata)
        written = (resp or {}).get('data') or {}
        return Secret(None, written.get('version'), None, written.get('created_time'),
                      dict(self._meta(mount, path, 2), **({'tags': tags} if tags is not None else {})))

    def _set_custom_metadata(self, ref, mount, path, tags):
        tags = dict((str(k), str(v)) for k, v in (tags or {}).items())
        self._call(ref, mount, path, 'write metadata', self.client().secrets.kv.v2.update_metadata, path,
                   custom_metadata=tags, mount_point=mount)
        return tags

    def set_tags(self, ref, tags):
        mount, path, kv = self._kv(ref, 'tagging')
        if kv == 1:
            raise NotSupported('KV v1 has no custom metadata for tags (mount %s)' % mount, ref=ref,
                               backend=self.NAME)
        self._set_custom_metadata(ref, mount, path, tags)
        return None

    def delete(self, ref, **kwargs):
        """Soft-delete the latest version (or ``?version=N``); with ``destroy_versions`` destroy those versions
        (``all``: every version and the metadata). KV v1 deletes for good. ``#key`` removes one field."""
        mount, path, kv = self._kv(ref, 'deleting')
        client = self.client()
        destroy = self.destroy_versions()
        if ref.key is not None:
            if destroy:
                raise InvalidReference('destroy_versions destroys whole versions; remove #key', ref=ref,
                                       backend=self.NAME)
            current = self._current(ref)
            if current is None or ref.key not in current.value:
                return False
            data = dict((k, v) for k, v in current.value.items() if k != ref.key)
            self.write(ref.without_key(), data, cas=current.version if kv == 2 else None)
            return True
        if kv == 1:
            if destroy:
                raise InvalidReference('KV v1 keeps no versions to destroy (mount %s)' % mount, ref=ref,
                                       backend=self.NAME)
            self._call(ref, mount, path, 'delete', client.secrets.kv.v1.delete_secret, path, mount_point=mount)
            return True
        v2 = client.secrets.kv.v2
        if destroy == 'all':
            self._call(ref, mount, path, 'destroy all versions', v2.delete_metadata_and_all_versions, path,
                       mount_point=mount)
        elif destroy:
            self._call(ref, mount, path, 'destroy versions %s' % destroy, v2.destroy_secret_versions, path,
                       destroy, mount_point=mount)
        elif ref.version is not None:
            self._call(ref, mount, path, 'delete version %s' % ref.version, v2.delete_secret_versions, path,
                       [int(ref.version)], mount_point=mount)
        else:
            self._call(ref, mount, path, 'delete', v2.delete_latest_version_of_secret, path, mount_point=mount)
        return True

    # -- metadata ---------------------------------------------------------------------------------------------
    def versions(self, ref):
        """Oldest first: version, created, deleted, destroyed, state (current, previous, deleted, destroyed)."""
        if self.dynamic():
            return []
        mount, path, kv = self.locate(ref)
        if kv == 1:
            return []
        meta = self._call(ref, mount, path, 'read metadata', self.client().secrets.kv.v2.read_secret_metadata,
                          path, mount_point=mount)['data']
        current = meta.get('current_version')
        out = []
        for number in sorted(int(v) for v in (meta.get('versions') or {})):
            info = meta['versions'][str(number)]
            deleted, destroyed = bool(info.get('deletion_time')), bool(info.get('destroyed'))
            state = 'destroyed' if destroyed else 'deleted' if deleted else \
                'current' if number == current else 'previous'
            out.append({'version': str(number), 'created': iso(info.get('created_time')), 'deleted': deleted,
                        'destroyed': destroyed, 'state': state})
        return out

    def list(self, prefix=''):
        """Keys under ``mount/prefix`` (names ending in ``/`` are folders)."""
        loc = prefix.strip('/')
        kv = self.options.get('kv_version')
        mount, kv = self._preflight(loc) if kv is None else (loc.split('/', 1)[0], kv)
        sub = loc[len(mount) + 1:]
        client = self.client()
        engine = client.secrets.kv.v1 if kv == 1 else client.secrets.kv.v2
        try:
            resp = self._call(None, mount, sub, 'list', engine.list_secrets, sub, mount_point=mount)
        except SecretNotFound:
            return []
        return sorted('%s/%s' % (loc, key) for key in (resp.get('data') or {}).get('keys') or [])
