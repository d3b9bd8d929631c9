# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""File helpers for secret files: typed errors, safe opens, atomic and locked writes, modes.

Root often writes into a directory that an application user owns (``/srv/app/.env``), so that user can plant
symbolic links there. Every file the collection writes or creates is therefore reached through a directory
descriptor (``openat``): a symbolic link at the file itself is never followed (``O_NOFOLLOW``) unless the task
says ``follow``, a symbolic link in a directory component is followed only when root or the running user owns
it, ownership and mode are set on the open descriptor (``fchown``/``fchmod``), and a new file is created
``O_EXCL`` with mode 0600 before it gets its final owner and mode. :func:`safe_open` is the one entry point for
files created with ``O_CREAT`` (the rotation lock, the audit log, the fingerprint key); :class:`SecretFile` does
read-modify-write: a ``flock`` on ``.<name>.lock`` beside the file, a re-read under it, a check that the file did
not change before the rename, and the owner, group and mode of the file kept unless the caller sets them.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import binascii
import errno
import os
import re
import stat
import time
import zlib

from ansible_collections.agentarea.secrets.plugins.module_utils.core._errors import (
    BackendUnavailable,
    InvalidReference,
    SecretAccessDenied,
    SecretConflict,
    SecretNotFound,
)

_CLOEXEC = getattr(os, 'O_CLOEXEC', 0)
_NOFOLLOW = getattr(os, 'O_NOFOLLOW', 0)
# O_PATH: walking a directory needs only search permission, as resolving a path does (not read permission)
_DIR_FLAGS = (getattr(os, 'O_PATH', 0) or os.O_RDONLY) | getattr(os, 'O_DIRECTORY', 0) | _CLOEXEC
_READ_FLAGS = os.O_RDONLY | getattr(os, 'O_NONBLOCK', 0) | _CLOEXEC  # a planted FIFO must not block us
_MAX_LINKS = 40
LOCK_TIMEOUT = 60
# A temporary file is named after the file, this host and the writing process: ``.<name>.<host>-<pid>-<rand>.tmp``.
# A writer killed between creating it and the rename (SIGKILL, a controller killed with its workers) cannot remove
# it; the next write of the same file on the same host removes the ones whose process is gone.
_TMP_RE = re.compile(r'^\.(?P<name>.+)\.(?P<host>[0-9a-f]{8})-(?P<pid>[0-9]+)-[0-9a-f]{12}\.tmp$')


def _trusted_owner(uid):
    return uid in (0, os.geteuid())


def _open_dir(directory, create=False, ref=None, backend=None):
    """A descriptor of ``directory`` reached component by component without following a symbolic link that
    another (non-root) user owns. Missing components are created 0700 when ``create``."""
    directory = os.path.abspath(directory)
    todo = list(reversed(directory.split('/')))
    fd, walked, links = os.open('/', _DIR_FLAGS), '/', 0
    try:
        while todo:
            part = todo.pop()
            if part in ('', '.'):
                continue
            try:
                nfd = os.open(part, _DIR_FLAGS | _NOFOLLOW, dir_fd=fd)
            except OSError as exc:
                if exc.errno == errno.ENOENT and create:
                    try:
                        os.mkdir(part, 0o700, dir_fd=fd)
                    except OSError as mkexc:
                        if mkexc.errno != errno.EEXIST:
                            raise
                    todo.append(part)
                    continue
                if exc.errno not in (errno.ELOOP, errno.ENOTDIR):
                    raise
                st = os.stat(part, dir_fd=fd, follow_symlinks=False)
                if not stat.S_ISLNK(st.st_mode):
                    raise
                here = os.path.join(walked, part)
                if not _trusted_owner(st.st_uid):
                    raise SecretAccessDenied('refusing to follow the symbolic link %s: uid %d owns it (only links '
                                             'owned by root or the running user are followed in a path)'
                                             % (here, st.st_uid), ref=ref, backend=backend)
                links += 1
                if links > _MAX_LINKS:
                    raise OSError(errno.ELOOP, os.strerror(errno.ELOOP), here)
                target = os.readlink(part, dir_fd=fd)
                if target.startswith('/'):
                    os.close(fd)
                    fd, walked = os.open('/', _DIR_FLAGS), '/'
                todo.extend(reversed(target.split('/')))
                continue
            os.close(fd)
            fd, walked = nfd, os.path.normpath(os.path.join(walked, part))
        return fd
    except BaseException:
        os.close(fd)
        raise


def _link_error(path, ref=None, backend=None, hint=None):
    return SecretAccessDenied('%s is a symbolic link: refusing to follow it%s' % (path, '; ' + hint if hint else ''),
                              ref=ref, backend=backend)


def _open_in(dir_fd, name, flags, mode, path, ref=None, backend=None, hint=None):
    """``openat`` that never follows a link at ``name`` and accepts only a regular file."""
    try:
        fd = os.open(name, flags | _NOFOLLOW | _CLOEXEC, mode, dir_fd=dir_fd)
    except OSError as exc:
        if exc.errno == errno.ELOOP or (exc.errno == errno.EEXIST and _is_link(dir_fd, name)):
            raise _link_error(path, ref, backend, hint)
        raise
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        os.close(fd)
        raise InvalidReference('%s is %s' % (path, 'a directory, not a secret file' if stat.S_ISDIR(st.st_mode)
                                             else 'not a regular file'), ref=ref, backend=backend)
    return fd


def _is_link(dir_fd, name):
    try:
        return stat.S_ISLNK(os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode)
    except OSError:
        return False


def safe_open(path, flags, mode=0o600, follow=False, create_dirs=False, ref=None, backend=None, hint=None):
    """``os.open`` for files in directories other users may write: no symbolic link at ``path`` (unless
    ``follow``), none owned by another user in its directories, only a regular file; new files get ``mode``
    (0600 by default). Raises SecretAccessDenied naming the path for a link; OSError otherwise."""
    path = os.path.expanduser(path)
    path = os.path.realpath(path) if follow else os.path.abspath(path)
    dir_fd = _open_dir(os.path.dirname(path), create=create_dirs, ref=ref, backend=backend)
    try:
        return _open_in(dir_fd, os.path.basename(path), flags, mode, path, ref, backend, hint)
    finally:
        os.close(dir_fd)


def _fsync_dir(dir_fd):
    """Make a rename durable; best effort (an O_PATH descriptor cannot be synced, a reopen needs read access)."""
    try:
        fd = os.open('.', os.O_RDONLY | getattr(os, 'O_DIRECTORY', 0) | _CLOEXEC, dir_fd=dir_fd)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _host_tag():
    return '%08x' % (zlib.crc32(os.uname()[1].encode('utf-8', 'replace')) & 0xffffffff)


def _pid_gone(pid):
    try:
        os.kill(pid, 0)
    except OSError as exc:
        return exc.errno == errno.ESRCH
    return False


def _remove_stale_tmp(dir_fd, name):
    """Remove the temporary files of ``name`` that a writer on this host left when it was killed (its process is
    gone). Best effort: a directory we may not list, or a file we do not own, is left alone."""
    try:
        fd = os.open('.', os.O_RDONLY | getattr(os, 'O_DIRECTORY', 0) | _CLOEXEC, dir_fd=dir_fd)
    except OSError:
        return
    try:
        names = os.listdir(fd)
    except OSError:
        names = []
    finally:
        os.close(fd)
    host = _host_tag()
    for entry in names:
        found = _TMP_RE.match(entry)
        if not found or found.group('name') != name or found.group('host') != host:
            continue
        try:
            st = os.stat(entry, dir_fd=dir_fd, follow_symlinks=False)
            if stat.S_ISREG(st.st_mode) and st.st_uid == os.geteuid() and _pid_gone(int(found.group('pid'))):
                os.unlink(entry, dir_fd=dir_fd)
        except OSError:
            pass


def _identity(st):
    return None if st is None else (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


class SecretFile:
    """One file opened for a careful update: ``with SecretFile(path, lock=True) as f: data = f.read(); ...
    f.write(new)``. ``write`` keeps the file's owner, group and mode unless given, and refuses (SecretConflict)
    when the file changed since ``read`` - by a writer that does not take the lock."""

    def __init__(self, path, follow=False, lock=True, create_dirs=True, ref=None, backend=None, hint=None,
                 timeout=LOCK_TIMEOUT):
        path = os.path.expanduser(path)
        self.path = os.path.realpath(path) if follow else os.path.abspath(path)
        self.name = os.path.basename(self.path)
        self.ref, self.backend, self.hint, self.follow = ref, backend, hint, follow
        self.want_lock, self.create_dirs, self.timeout = lock, create_dirs, timeout
        self.dir_fd = self.lock_fd = None
        self.seen = False  # identity of the file at read(); False before any read
        self.data = None

    def __enter__(self):
        try:
            self.dir_fd = _open_dir(os.path.dirname(self.path), self.create_dirs, self.ref, self.backend)
        except OSError as exc:
            if exc.errno == errno.ENOENT and not self.create_dirs:
                return self  # nothing there yet: reads find no file, writes are not expected
            raise self.error(exc, 'open')
        if self.want_lock:
            self._lock()
        return self

    def __exit__(self, *exc_info):
        for fd in (self.lock_fd, self.dir_fd):
            if fd is not None:
                os.close(fd)  # closing the lock descriptor releases the flock
        self.lock_fd = self.dir_fd = None

    @property
    def lock_path(self):
        dot = '' if self.name.startswith('.') else '.'
        return os.path.join(os.path.dirname(self.path), '%s%s.lock' % (dot, self.name))

    def _lock(self):
        import fcntl
        name = os.path.basename(self.lock_path)
        try:
            self.lock_fd = _open_in(self.dir_fd, name, os.O_RDWR | os.O_CREAT, 0o600, self.lock_path, self.ref,
                                    self.backend)
        except OSError as exc:
            raise self.error(exc, 'lock')
        deadline = time.time() + self.timeout
        while True:
            try:
                fcntl.flock(self.lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except (IOError, OSError) as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK) or time.time() > deadline:
                    raise BackendUnavailable('another writer held %s for more than %d seconds; nothing was written'
                                             % (self.lock_path, self.timeout), ref=self.ref, backend=self.backend)
                time.sleep(0.02)

    def check_lock(self):
        """Check mode: what taking the lock would meet (a symbolic link there fails), without creating it."""
        if self.dir_fd is not None and _is_link(self.dir_fd, os.path.basename(self.lock_path)):
            raise _link_error(self.lock_path, self.ref, self.backend)

    def lstat(self):
        """The file's stat, or None when absent; a symbolic link or a non-regular file is refused."""
        if self.dir_fd is None:
            return None
        try:
            st = os.stat(self.name, dir_fd=self.dir_fd, follow_symlinks=False)
        except OSError as exc:
            if exc.errno == errno.ENOENT:
                return None
            raise self.error(exc, 'read')
        if stat.S_ISLNK(st.st_mode):
            raise _link_error(self.path, self.ref, self.backend, self.hint)
        if not stat.S_ISREG(st.st_mode):
            raise InvalidReference('%s is not a regular file' % self.path, ref=self.ref, backend=self.backend)
        return self._single_link(st)

    def _single_link(self, st):
        if st.st_nlink > 1 and not self.follow:
            # another name of the same file may be one the directory's owner must not get (where the kernel
            # allows linking others' files): never read it into, nor re-own, a file that user controls
            raise SecretAccessDenied('%s has %d hard links: refusing to read or change it through this name%s'
                                     % (self.path, st.st_nlink, '; set follow: true if that is intended'
                                        if self.hint else ''),
                                     ref=self.ref, backend=self.backend)
        return st

    def read(self):
        """The content as bytes, or None when there is no file. Remembers what it read for ``write``."""
        self.seen, self.data = None, None
        if self.dir_fd is None or self.lstat() is None:
            return None
        try:
            fd = _open_in(self.dir_fd, self.name, _READ_FLAGS, 0, self.path, self.ref, self.backend, self.hint)
        except OSError as exc:
            if exc.errno == errno.ENOENT:
                return None
            raise self.error(exc, 'read')
        with os.fdopen(fd, 'rb') as handle:
            self.seen = _identity(os.fstat(handle.fileno()))
            self.data = handle.read()
        return self.data

    def read_text(self):
        data = self.read()
        if data is None:
            return None
        try:
            return data.decode('utf-8')
        except UnicodeDecodeError:
            raise InvalidReference('%s is not UTF-8 text' % self.path, ref=self.ref, backend=self.backend)

    def _ids(self, st, mode, uid, gid):
        """Final (mode, uid, gid): what was asked, else what the file has, else 0600 and the running user."""
        if mode is None:
            mode = stat.S_IMODE(st.st_mode) if st is not None else 0o600
        explicit = (uid != -1, gid != -1)
        if uid == -1:
            uid = st.st_uid if st is not None else os.geteuid()
        if gid == -1:
            gid = st.st_gid if st is not None else os.getegid()
        return mode, uid, gid, explicit

    def _set_ids(self, fd, st_now, mode, uid, gid, explicit):
        if (st_now.st_uid, st_now.st_gid) != (uid, gid):
            try:
                os.fchown(fd, uid, gid)
            except OSError as exc:
                if exc.errno != errno.EPERM or any(explicit):
                    raise
                # not root: keep what we may (the group, when we are a member), else our own ids
                try:
                    os.fchown(fd, -1, gid)
                except OSError:
                    pass
        os.fchmod(fd, mode)  # after fchown, which may clear set-id bits

    def write(self, data, mode=None, uid=-1, gid=-1):
        """Replace the file atomically: a temporary file ``O_EXCL`` 0600 in the same directory, final owner and
        mode set on its descriptor, fsync, a check that the file is still what ``read`` saw, rename."""
        if isinstance(data, str):
            data = data.encode('utf-8')
        st = self.lstat()
        mode, uid, gid, explicit = self._ids(st, mode, uid, gid)
        tmp = None
        _remove_stale_tmp(self.dir_fd, self.name)
        try:
            for _attempt in range(100):
                tmp = '.%s.%s-%d-%s.tmp' % (self.name, _host_tag(), os.getpid(),
                                            binascii.hexlify(os.urandom(6)).decode('ascii'))
                try:
                    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC, 0o600,
                                 dir_fd=self.dir_fd)
                    break
                except OSError as exc:
                    if exc.errno != errno.EEXIST:
                        raise
            else:
                raise OSError(errno.EEXIST, os.strerror(errno.EEXIST), tmp)
            with os.fdopen(fd, 'wb') as handle:
                self._set_ids(handle.fileno(), os.fstat(handle.fileno()), mode, uid, gid, explicit)
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            if self.seen is not False and _identity(self.lstat()) != self.seen:
                raise SecretConflict('%s changed while it was being updated; nothing was written' % self.path,
                                     ref=self.ref, backend=self.backend)
            os.rename(tmp, self.name, src_dir_fd=self.dir_fd, dst_dir_fd=self.dir_fd)
            tmp = None
            _fsync_dir(self.dir_fd)
        except (IOError, OSError) as exc:
            raise self.error(exc, 'write')
        finally:
            if tmp is not None:
                try:
                    os.unlink(tmp, dir_fd=self.dir_fd)
                except OSError:
                    pass
        self.seen = _identity(self.lstat())
        return mode, uid, gid

    def set_meta(self, mode=None, uid=-1, gid=-1):
        """Correct owner, group and mode in place, on a descriptor opened without following links."""
        try:
            fd = _open_in(self.dir_fd, self.name, _READ_FLAGS, 0, self.path, self.ref, self.backend, self.hint)
            try:
                st = self._single_link(os.fstat(fd))
                mode, uid, gid, explicit = self._ids(st, mode, uid, gid)
                self._set_ids(fd, st, mode, uid, gid, explicit)
            finally:
                os.close(fd)
        except (IOError, OSError) as exc:
            raise self.error(exc, 'write')

    def unlink(self):
        self.lstat()
        try:
            os.unlink(self.name, dir_fd=self.dir_fd)
        except OSError as exc:
            if exc.errno != errno.ENOENT:
                raise self.error(exc, 'delete')
            return False
        return True

    def backup(self):
        """A copy of what ``read`` found, beside the file with its owner and mode (as ansible's backup_local
        names it); returns its path, or None when there was no file."""
        st = self.lstat()
        if st is None or self.data is None:
            return None
        name = '%s.%d.%s' % (self.name, os.getpid(), time.strftime('%Y-%m-%d@%H:%M:%S~'))
        created = False
        try:
            fd = _open_in(self.dir_fd, name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600,
                          os.path.join(os.path.dirname(self.path), name), self.ref, self.backend)
            created = True
            with os.fdopen(fd, 'wb') as handle:
                self._set_ids(handle.fileno(), os.fstat(handle.fileno()), stat.S_IMODE(st.st_mode), st.st_uid,
                              st.st_gid, (False, False))
                handle.write(self.data)
        except (IOError, OSError) as exc:
            if created:  # a partial copy (a full disk) is no backup: remove it
                try:
                    os.unlink(name, dir_fd=self.dir_fd)
                except OSError:
                    pass
            raise _write_error(exc, os.path.join(os.path.dirname(self.path), name), self.ref, self.backend,
                               'write the backup')
        return os.path.join(os.path.dirname(self.path), name)

    def error(self, exc, action):
        if action == 'read':
            return file_error(exc, self.path, self.ref, self.backend)
        return _write_error(exc, self.path, self.ref, self.backend, action)


def update_text(path, change, mode=None, uid=-1, gid=-1, follow=False, ref=None, backend=None, retries=3):
    """Read-modify-write of a text file under its lock: ``change(text or None)`` returns the new text, or None
    to leave the file alone. Returns True when it wrote."""
    for attempt in range(retries):
        with SecretFile(path, follow=follow, ref=ref, backend=backend) as handle:
            new = change(handle.read_text())
            if new is None:
                return False
            try:
                handle.write(new, mode=mode, uid=uid, gid=gid)
                return True
            except SecretConflict:
                if attempt == retries - 1:
                    raise
    return False


def open_for_read(path, ref=None, backend=None):
    """A descriptor for reading ``path``. Reading may follow a symbolic link (a ``.env`` linked to
    ``.env.development``), but only one that root or the running user owns: a link another user planted could
    point at a file only we may read. Raises OSError, or SecretAccessDenied for such a link."""
    path = os.path.abspath(os.path.expanduser(path))
    for _hop in range(_MAX_LINKS):
        dir_fd = _open_dir(os.path.dirname(path), ref=ref, backend=backend)
        try:
            name = os.path.basename(path)
            try:
                st = os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
            except OSError:
                st = None  # let the open say why
            if st is None or not stat.S_ISLNK(st.st_mode):
                return _open_in(dir_fd, name, _READ_FLAGS, 0, path, ref, backend)
            if not _trusted_owner(st.st_uid):
                raise SecretAccessDenied('%s is a symbolic link that uid %d owns: refusing to follow it'
                                         % (path, st.st_uid), ref=ref, backend=backend)
            path = os.path.normpath(os.path.join(os.path.dirname(path), os.readlink(name, dir_fd=dir_fd)))
        finally:
            os.close(dir_fd)
    raise OSError(errno.ELOOP, os.strerror(errno.ELOOP), path)


def read_bytes(path, ref=None, backend=None):
    try:
        fd = open_for_read(path, ref, backend)
        with os.fdopen(fd, 'rb') as handle:
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


def atomic_write(path, data, mode=None, ref=None, backend=None, uid=-1, gid=-1, follow=False):
    """Write ``data`` (bytes or text) to ``path`` through a temporary file in the same directory and a rename,
    so a reader sees the old or the new content, never a mix. The temporary file is private from the start; an
    existing file keeps its owner, group and mode unless given (a new one: 0600, the running user). Never
    follows a symbolic link at ``path`` unless ``follow``."""
    # a whole-file replace needs no lock (the last rename wins, nothing is merged): no lock file beside it
    with SecretFile(path, follow=follow, lock=False, ref=ref, backend=backend) as handle:
        handle.write(data, mode=mode, uid=uid, gid=gid)


# a file system that takes no more data: the message says so plainly, and that nothing was written (every write
# goes through a temporary file, removed on failure, and a rename; a partial backup is removed)
_NO_ROOM = {
    errno.ENOSPC: 'no space left on device (the file system is full)',
    getattr(errno, 'EDQUOT', -1): 'disk quota exceeded',
    errno.EFBIG: 'file too large for the file system',
}


def _write_error(exc, path, ref, backend, action='write'):
    code = getattr(exc, 'errno', None)
    if code in _NO_ROOM:
        return BackendUnavailable('cannot %s %s: %s; nothing was written (free space and run again)'
                                  % (action, path, _NO_ROOM[code]), ref=ref, backend=backend)
    if code == errno.EROFS:
        return SecretAccessDenied('cannot %s %s: read-only file system; nothing was written' % (action, path),
                                  ref=ref, backend=backend)
    if code in (errno.EACCES, errno.EPERM):
        return SecretAccessDenied('cannot %s %s: %s' % (action, path, os.strerror(code)), ref=ref, backend=backend)
    return BackendUnavailable('cannot %s %s: %s' % (action, path, os.strerror(code) if code else type(exc).__name__),
                              ref=ref, backend=backend)


def file_mtime(path):
    try:
        return os.stat(path).st_mtime
    except OSError:
        return None
