# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``dotenv://path#KEY``: entries of a ``.env`` file. Writes keep comments and every other line, the file's owner,
group and mode, and are serialised by a lock beside the file (see _fileio.SecretFile)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.agentarea.secrets.plugins.module_utils.core._backend import (
    CAP_DELETE,
    CAP_LIST,
    CAP_READ,
    CAP_WRITE,
    Secret,
    encode_value,
)
from ansible_collections.agentarea.secrets.plugins.module_utils.core._errors import (
    InvalidReference,
    SecretNotFound,
)
from ansible_collections.agentarea.secrets.plugins.module_utils.core import _dotenv, _fileio
from ansible_collections.agentarea.secrets.plugins.module_utils.backends._files import LocalBackend


class DotenvBackend(LocalBackend):
    NAME = 'dotenv'
    CAPABILITIES = frozenset((CAP_READ, CAP_WRITE, CAP_DELETE, CAP_LIST))

    def _load(self, ref):
        path = self.path_of(ref)
        text = _fileio.read_text(path, ref, self.NAME)
        return path, text

    def read(self, ref):
        path, text = self._load(ref)
        values = _dotenv.parse(text)
        mtime = _fileio.file_mtime(path)
        if ref.key is not None:
            if ref.key not in values:
                raise SecretNotFound('%s has no variable %s' % (path, ref.key), ref=ref, backend=self.NAME)
            if values[ref.key] is None:
                raise SecretNotFound('%s names %s without a value' % (path, ref.key), ref=ref, backend=self.NAME)
            # the caller selects ref.key from this map
        return Secret(dict((k, v) for k, v in values.items() if v is not None), None, mtime, mtime,
                      {'path': path})

    def select(self, secret, ref):
        """One variable; a missing one is named alone, never with the others (in a malformed file, say an unquoted
        PEM, the parsed "names" are key material)."""
        if ref.key is not None and (not isinstance(secret.value, dict) or ref.key not in secret.value):
            raise SecretNotFound('%s has no variable %s' % (secret.metadata.get('path') or ref.location, ref.key),
                                 ref=ref, backend=self.NAME)
        return super(DotenvBackend, self).select(secret, ref)

    def write(self, ref, value, cas=None, metadata=None):
        """Set ``#KEY`` (or every key of a map) under the file's lock, re-reading it there; the file keeps its
        owner, group and mode (a new one is 0600). Maps and lists are written as JSON."""
        path = self.path_of(ref)
        if ref.key is not None:
            updates = {ref.key: value}
        elif isinstance(value, dict):
            updates = value
        else:
            raise InvalidReference('writing a .env file needs #KEY, or a map of keys to values', ref=ref,
                                   backend=self.NAME)
        for key in updates:
            try:
                _dotenv.check_key(key)
            except ValueError as exc:
                raise InvalidReference(str(exc), ref=ref, backend=self.NAME)

        def change(text):
            new = text or ''
            for key, val in updates.items():
                new = _dotenv.set_key(new, key, '' if val is None else encode_value(val))
            return None if new == text else new

        _fileio.update_text(path, change, ref=ref, backend=self.NAME)
        mtime = _fileio.file_mtime(path)
        return Secret(None, None, mtime, mtime, {'path': path})

    def delete(self, ref, **kwargs):
        if ref.key is None:
            raise InvalidReference('deleting from a .env file needs #KEY', ref=ref, backend=self.NAME)

        def change(text):
            if text is None or ref.key not in _dotenv.parse(text):
                return None
            return _dotenv.remove_key(text, ref.key)

        return _fileio.update_text(self.path_of(ref), change, ref=ref, backend=self.NAME)

    def list(self, prefix=''):
        path = os.path.expanduser(prefix or '.env')
        text = _fileio.read_text(path, None, self.NAME)
        return sorted(_dotenv.parse(text))
