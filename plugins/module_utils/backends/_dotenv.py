# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``dotenv://path#KEY``: entries of a ``.env`` file. Writes keep comments and every other line."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.agentarea.secrets.plugins.module_utils._backend import (
    CAP_DELETE,
    CAP_LIST,
    CAP_READ,
    CAP_WRITE,
    Secret,
)
from ansible_collections.agentarea.secrets.plugins.module_utils._errors import (
    InvalidReference,
    SecretNotFound,
)
from ansible_collections.agentarea.secrets.plugins.module_utils import _dotenv, _fileio
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

    def write(self, ref, value, cas=None, metadata=None):
        path = self.path_of(ref)
        try:
            text = _fileio.read_text(path, ref, self.NAME)
        except SecretNotFound:
            text = ''
        if ref.key is not None:
            updates = {ref.key: value}
        elif isinstance(value, dict):
            updates = value
        else:
            raise InvalidReference('writing a .env file needs #KEY, or a map of keys to values', ref=ref,
                                   backend=self.NAME)
        for key, val in updates.items():
            try:
                text = _dotenv.set_key(text, key, '' if val is None else val)
            except ValueError as exc:
                raise InvalidReference(str(exc), ref=ref, backend=self.NAME)
        _fileio.atomic_write(path, text, mode=0o600, ref=ref, backend=self.NAME)
        mtime = _fileio.file_mtime(path)
        return Secret(None, None, mtime, mtime, {'path': path})

    def delete(self, ref, **kwargs):
        if ref.key is None:
            raise InvalidReference('deleting from a .env file needs #KEY', ref=ref, backend=self.NAME)
        path = self.path_of(ref)
        try:
            text = _fileio.read_text(path, ref, self.NAME)
        except SecretNotFound:
            return False
        if ref.key not in _dotenv.parse(text):
            return False
        _fileio.atomic_write(path, _dotenv.remove_key(text, ref.key), mode=0o600, ref=ref, backend=self.NAME)
        return True

    def list(self, prefix=''):
        path = os.path.expanduser(prefix or '.env')
        text = _fileio.read_text(path, None, self.NAME)
        return sorted(_dotenv.parse(text))
