# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""File helpers for secret files: read with typed errors, write atomically with a private mode."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import os
import tempfile

from ansible_collections.agentarea.secrets.plugins.module_utils._errors import (
    BackendUnavailable,
    InvalidReference,
    SecretAccessDenied,
    SecretNotFound,
)


def read_bytes(path, ref=None, backend=None):
    try:
        with open(path, 'rb') as handle:
            return handle.read()
    except (IOError, OSError) as exc:
        raise file_error(exc, path, ref, backend)


def read_text(path, ref=None, backend=None):
    data = read_bytes(path, ref, backend)
    try:
        return data.decode('utf-8')
    except UnicodeDecodeError:
        raise InvalidReference('%s is not UTF-8 text' % path, ref=ref, backend=backend)


def file_error(exc, path, ref=None, backend=None):
    code = getattr(exc, 'errno', None)
    if code == errno.ENOENT:
        return SecretNotFound('no such file: %s' % path, ref=ref, backend=backend)
    if code in (errno.EACCES, errno.EPERM):
        return SecretAccessDenied('permission denied reading %s (running as uid %s)'
                                  % (path, os.getuid() if hasattr(os, 'getuid') else '?'), ref=ref, backend=backend)
    if code == errno.EISDIR:
        return InvalidReference('%s is a directory, not a secret file' % path, ref=ref, backend=backend)
    return BackendUnavailable('cannot read %s: %s' % (path, os.strerror(code) if code else type(exc).__name__),
                              ref=ref, backend=backend)


def atomic_write(path, data, mode=0o600, ref=None, backend=None, uid=-1, gid=-1):
    """Write ``data`` (bytes or text) to ``path`` through a temporary file in the same directory and a rename,
    so a reader sees the old or the new content, never a mix. The file is created with ``mode`` from the start
    (the value is never readable by others, not even briefly)."""
    if isinstance(data, str):
        data = data.encode('utf-8')
    directory = os.path.dirname(os.path.abspath(path)) or '.'
    try:
        if not os.path.isdir(directory):
            os.makedirs(directory, mode=0o700)
        fd, tmp = tempfile.mkstemp(prefix='.%s.' % os.path.basename(path), suffix='.tmp', dir=directory)
    except (IOError, OSError) as exc:
        raise _write_error(exc, path, ref, backend)
    try:
        os.fchmod(fd, mode)
        if uid != -1 or gid != -1:
            os.fchown(fd, uid, gid)
        with os.fdopen(fd, 'wb') as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.rename(tmp, path)
        try:
            dir_fd = os.open(directory, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)
        except OSError:
            pass
    except (IOError, OSError) as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise _write_error(exc, path, ref, backend)


def _write_error(exc, path, ref, backend):
    code = getattr(exc, 'errno', None)
    if code in (errno.EACCES, errno.EPERM, errno.EROFS):
        return SecretAccessDenied('cannot write %s: %s' % (path, os.strerror(code)), ref=ref, backend=backend)
    return BackendUnavailable('cannot write %s: %s' % (path, os.strerror(code) if code else type(exc).__name__),
                              ref=ref, backend=backend)


def file_mtime(path):
    try:
        return os.stat(path).st_mtime
    except OSError:
        return None
