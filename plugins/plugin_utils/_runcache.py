# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The run cache: one login per backend identity and one read per (reference, version) per playbook run.

Ansible runs every task in a worker forked from the main process, and creates the lookup object again for every
call, so nothing a lookup keeps in memory outlives its task. What the main process holds *before* the fork is
inherited, though. The ``agentarea.secrets.run_cache`` callback (enabled by one line of configuration) calls
:func:`start` in the main process: it creates a random 256-bit key that lives only in this module's memory, and
a private directory (0700, on tmpfs where there is one). Workers inherit both; each entry is a file encrypted
with AES-256-GCM under that key, named by an HMAC of what it holds. When the run ends, :func:`finish` runs the
backends' clean-ups (revoking tokens and leases the run created) and removes the directory. Files left behind
by a killed run are useless without the key, which died with the process, and are removed by the next run.

Workers also :func:`learn` which backends and lookup plugins the run uses (a name per empty file under ``used/``,
never a value or an option); the callback imports them in the main process before the next task forks, so only
the first task that uses a backend pays for importing its SDK.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import atexit
import contextlib
import fcntl
import glob
import hashlib
import hmac
import json
import os
import re
import shutil
import tempfile

_PREFIX = 'agentarea-secrets-run-'
_STATE = {}
#: ``kind@name`` already noted by this process (or imported by the main process before this worker forked)
_LEARNED = set()
_NAME = re.compile(r'^[a-z_]+@[A-Za-z0-9_.]+$')
_USED = 'used'
_LOCKS = 'locks'


def _base_dir():
    shm = '/dev/shm'
    if os.path.isdir(shm) and os.access(shm, os.W_OK):
        return shm
    return tempfile.gettempdir()


def _remove_stale(base):
    """Directories of runs whose main process is gone (killed runs)."""
    for path in glob.glob(os.path.join(base, _PREFIX + '*')):
        try:
            pid = int(os.path.basename(path)[len(_PREFIX):].split('-', 1)[0])
            if os.stat(path).st_uid != os.getuid():
                continue
            os.kill(pid, 0)
        except (ValueError, OSError) as exc:
            if isinstance(exc, ProcessLookupError) or isinstance(exc, ValueError):
                shutil.rmtree(path, ignore_errors=True)


def start():
    """Called once in the controller's main process, before any worker forks."""
    if _STATE.get('pid') == os.getpid():
        return _STATE['dir']
    base = _base_dir()
    _remove_stale(base)
    directory = tempfile.mkdtemp(prefix='%s%d-' % (_PREFIX, os.getpid()), dir=base)
    os.chmod(directory, 0o700)
    _STATE.update(key=os.urandom(32), dir=directory, pid=os.getpid())
    atexit.register(finish)
    try:
        _aead(_STATE['key'])  # imported and keyed here once, inherited by every worker
    except ImportError:
        pass  # reported by the first get or put
    return directory


def active():
    return bool(_STATE.get('key')) and os.path.isdir(_STATE.get('dir', ''))


def learn(kind, name):
    """Note that this run uses ``name`` (``backend@vault``, ``lookup@agentarea.secrets.vault``): one empty file,
    created once per run. Costs nothing when this process (or the main process before the fork) knew it already."""
    entry = '%s@%s' % (kind, name)
    if entry in _LEARNED or not _STATE.get('dir'):
        return
    _LEARNED.add(entry)
    if not _NAME.match(entry):
        return
    directory = os.path.join(_STATE['dir'], _USED)
    try:
        os.mkdir(directory, 0o700)
    except OSError:
        pass
    try:
        os.close(os.open(os.path.join(directory, entry), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except OSError:
        pass


def learned():
    """``(kind, name)`` pairs that workers noted since the last call (main process: what to import next)."""
    try:
        names = os.listdir(os.path.join(_STATE['dir'], _USED))
    except (KeyError, OSError):
        return []
    fresh = sorted(n for n in names if n not in _LEARNED and _NAME.match(n))
    _LEARNED.update(fresh)
    return [tuple(n.split('@', 1)) for n in fresh]


def finish(cleanup=None):
    """Run clean-ups (``cleanup(record)`` for every record registered with :meth:`RunCache.on_finish`), then
    remove the directory. Only the process that started the run does this."""
    if _STATE.get('pid') != os.getpid() or not _STATE.get('dir'):
        return []
    results = []
    cache = RunCache()
    if cleanup is not None:
        for record in cache.records('cleanup'):
            try:
                results.append(cleanup(record))
            except Exception as exc:  # pylint: disable=broad-except
                results.append({'record': record.get('what'), 'error': type(exc).__name__})
    shutil.rmtree(_STATE['dir'], ignore_errors=True)
    _STATE.clear()
    _LEARNED.clear()
    _AEAD.clear()
    return results


_AEAD = {}


def _aead(key):
    """One AESGCM per key and process (the import and the key schedule are paid once)."""
    aead = _AEAD.get(key)
    if aead is None:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM  # pylint: disable=import-outside-toplevel
        aead = _AEAD[key] = AESGCM(key)
    return aead


class RunCache:
    """Encrypted entries shared by the workers of one run. All methods are no-ops when the run cache is off."""

    def __init__(self):
        self.key = _STATE.get('key')
        self.dir = _STATE.get('dir')
        self._seen = False

    @property
    def enabled(self):
        if not (self.key and self.dir):
            return False
        if not self._seen:  # one stat per lookup call, not one per entry
            self._seen = os.path.isdir(self.dir)
        return self._seen

    def _path(self, kind, ident):
        name = hmac.new(self.key, ('%s\0%s' % (kind, ident)).encode('utf-8'), hashlib.sha256).hexdigest()
        return os.path.join(self.dir, kind, name)

    def _aead(self):
        return _aead(self.key)

    def get(self, kind, ident):
        if not self.enabled:
            return None
        path = self._path(kind, ident)
        try:
            with open(path, 'rb') as handle:
                blob = handle.read()
        except (IOError, OSError):
            return None
        try:
            plain = self._aead().decrypt(blob[:12], blob[12:], os.path.basename(path).encode('ascii'))
            return json.loads(plain.decode('utf-8'))
        except Exception:  # pylint: disable=broad-except
            return None  # tampered or torn: read again from the store

    def put(self, kind, ident, obj):
        if not self.enabled:
            return
        path = self._path(kind, ident)
        self._write(path, obj)

    @staticmethod
    def _subdir(directory):
        # mkdir, not makedirs: a run directory removed at the end of the run is never created again
        try:
            os.mkdir(directory, 0o700)
        except OSError:
            pass

    def _write(self, path, obj):
        directory = os.path.dirname(path)
        nonce = os.urandom(12)
        blob = nonce + self._aead().encrypt(nonce, json.dumps(obj, default=str).encode('utf-8'),
                                            os.path.basename(path).encode('ascii'))
        try:
            fd, tmp = tempfile.mkstemp(dir=directory)
        except (IOError, OSError):
            self._subdir(directory)
            try:
                fd, tmp = tempfile.mkstemp(dir=directory)
            except (IOError, OSError):
                return  # the run has ended: nothing to keep
        with os.fdopen(fd, 'wb') as handle:
            handle.write(blob)
        try:
            os.rename(tmp, path)
        except OSError:
            # the directory was flushed meanwhile (a task of ours changed a store): this value is not kept
            try:
                os.unlink(tmp)
            except OSError:
                pass

    def delete(self, kind, ident):
        if self.enabled:
            try:
                os.unlink(self._path(kind, ident))
            except OSError:
                pass

    @contextlib.contextmanager
    def lock(self, kind, ident):
        """Serialise workers that would fetch the same entry, so it is fetched once (single flight): take the
        lock, look in the cache again, fetch only if it is still missing."""
        with self.lock_many(kind, [ident]):
            yield

    @contextlib.contextmanager
    def lock_many(self, kind, idents):
        """The locks of several entries, always taken in the same (sorted) order, so two workers that want
        overlapping sets wait for each other instead of deadlocking. Lock files live under ``locks/``, which
        :meth:`flush` never removes: a worker holding a lock keeps the file that later workers open."""
        fds = []
        try:
            if self.enabled:
                directory = os.path.join(self.dir, _LOCKS)
                for name in sorted(set(os.path.basename(self._path(kind, ident)) for ident in idents)):
                    fd = self._open_lock(directory, name)
                    if fd is None:
                        break  # the run has ended: nothing left to share
                    fds.append(fd)
                    fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            for fd in reversed(fds):
                try:
                    fcntl.flock(fd, fcntl.LOCK_UN)
                finally:
                    os.close(fd)

    def _open_lock(self, directory, name):
        path = os.path.join(directory, name + '.lock')
        for _attempt in (1, 2):
            try:
                return os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, 'O_NOFOLLOW', 0), 0o600)
            except OSError:
                self._subdir(directory)
        return None

    def flush(self, kind):
        """Forget every entry of a kind (values, after a task of ours changed a store)."""
        if not self.enabled:
            return
        # entry by entry, the directory stays: a worker may be renaming a value into it right now
        directory = os.path.join(self.dir, kind)
        try:
            names = os.listdir(directory)
        except OSError:
            return
        for name in names:
            try:
                os.unlink(os.path.join(directory, name))
            except OSError:
                pass

    def on_finish(self, ident, record):
        """Register a clean-up for the end of the run (a dict with 'backend' and backend-specific fields)."""
        self.put('cleanup', ident, record)

    def forget_finish(self, ident):
        self.delete('cleanup', ident)

    def records(self, kind):
        if not self.enabled:
            return []
        out = []
        for path in sorted(glob.glob(os.path.join(self.dir, kind, '*'))):
            if path.endswith('.lock'):
                continue
            name = os.path.basename(path)
            try:
                with open(path, 'rb') as handle:
                    blob = handle.read()
                out.append(json.loads(self._aead().decrypt(blob[:12], blob[12:], name.encode('ascii'))))
            except Exception:  # pylint: disable=broad-except
                continue
        return out
