# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""``file://`` secret files (Docker and Kubernetes mounts, Compose ``secrets:``) and ``env://`` variables."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

from ansible_collections.agentarea.secrets.plugins.module_utils.core._backend import (
    CAP_DELETE,
    CAP_READ,
    CAP_WRITE,
    Secret,
    SecretBackend,
    decode_structured,
    encode_value,
)
from ansible_collections.agentarea.secrets.plugins.module_utils.core._errors import SecretNotFound
from ansible_collections.agentarea.secrets.plugins.module_utils.core import _fileio


def strip_newline(text):
    """Secret files written by ``echo`` end in a newline that is not part of the secret."""
    if text.endswith('\r\n'):
        return text[:-2]
    if text.endswith('\n'):
        return text[:-1]
    return text


def stat_token(path):
    try:
        st = os.stat(path)
    except OSError:
        return 'absent'
    return '%d:%d:%d' % (st.st_ino, st.st_size, st.st_mtime_ns)


class LocalBackend(SecretBackend):
    """Relative paths resolve against ``basedir`` (lookups set it to the playbook directory)."""

    basedir = None

    def path_of(self, ref):
        path = os.path.expanduser(ref.location)
        if not os.path.isabs(path) and self.basedir:
            path = os.path.join(self.basedir, path)
        return path

    def identity(self):
        return '%s:%s' % (self.NAME, self.basedir or os.getcwd())

    def freshness(self, ref):
        return stat_token(self.path_of(ref))


class FileBackend(LocalBackend):
    """A whole file is one secret; a JSON object file is a map (``#key`` selects a field)."""

    NAME = 'file'
    CAPABILITIES = frozenset((CAP_READ, CAP_WRITE, CAP_DELETE))

    def read(self, ref):
        path = self.path_of(ref)
        text = strip_newline(_fileio.read_text(path, ref, self.NAME))
        mtime = _fileio.file_mtime(path)
        return Secret(text, None, mtime, mtime, {'path': path})

    def write(self, ref, value, cas=None, metadata=None, mode=None, uid=-1, gid=-1):
        """Replace the file atomically; it keeps its owner, group and mode unless given (a new file: 0600).
        With ``#key`` one field of a JSON object file changes, under the file's lock."""
        path = self.path_of(ref)
        if ref.key is None:
            _fileio.atomic_write(path, encode_value(value), mode=mode, uid=uid, gid=gid, ref=ref, backend=self.NAME)
        else:
            def change(text):
                current = decode_structured(strip_newline(text)) if text else {}
                current = dict(current) if isinstance(current, dict) else {}
                current[ref.key] = value
                return encode_value(current)

            _fileio.update_text(path, change, mode=mode, uid=uid, gid=gid, ref=ref, backend=self.NAME)
        mtime = _fileio.file_mtime(path)
        return Secret(None, None, mtime, mtime, {'path': path})

    def delete(self, ref, **kwargs):
        path = self.path_of(ref)
        if ref.key is not None:
            def change(text):
                current = decode_structured(strip_newline(text)) if text else None
                if not isinstance(current, dict) or ref.key not in current:
                    return None
                current = dict(current)
                del current[ref.key]
                return encode_value(current)

            return _fileio.update_text(path, change, ref=ref, backend=self.NAME)
        with _fileio.SecretFile(path, lock=False, create_dirs=False, ref=ref, backend=self.NAME) as handle:
            return handle.unlink() if handle.lstat() is not None else False


class EnvBackend(SecretBackend):
    """``env://NAME``: the variable, else the file that ``NAME_FILE`` names (the Docker image convention)."""

    NAME = 'env'
    CAPABILITIES = frozenset((CAP_READ,))
    CACHEABLE = False  # reading the environment costs nothing; a cache could only be stale

    def __init__(self, options=None, environ=None):
        super(EnvBackend, self).__init__(options, environ)
        self.environ = os.environ if environ is None else environ

    def read(self, ref):
        name = ref.location
        if self.environ.get(name) is not None:
            return Secret(self.environ[name], None, None, None, {'source': 'variable'})
        file_var = name + '_FILE'
        path = self.environ.get(file_var)
        if path:
            text = strip_newline(_fileio.read_text(path, ref, self.NAME))
            mtime = _fileio.file_mtime(path)
            return Secret(text, None, mtime, mtime, {'source': 'file', 'path': path})
        raise SecretNotFound('neither %s nor %s is set in the environment' % (name, file_var), ref=ref,
                             backend=self.NAME)
