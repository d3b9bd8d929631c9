# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Where a rotation keeps its state beside the secret, and how two rotations of one secret exclude each other.

Two slots live beside the secret, in the same store, so they share its protection:

- the *pending* slot holds the new value (and the rotation's record) from ``create`` until ``finish``. It is
  written and read back before the target is touched, so a crash can never lose a value that a target accepted.
- the *previous* slot holds the value that was current before the last rotation, with when it was replaced, so
  the ``contract`` step can remove it from the target once the overlap has passed (and an operator can go back).

Slot locations (``<x>`` is the secret's location, ``<key>`` its ``#key`` if any)::

    vault://m/p, pass://e, gcp://proj/n, aws://n (no stages)   -> same scheme, <x>__pending / <x>__previous
    file:///p, dotenv:///p                                     -> file:///p__pending (dotenv: a JSON file beside it)
    k8s://ns/n, azure://v/n (names without '_')                -> <x>-pending / <x>-previous
    with #key                                                  -> <x>__pending__<key>

A slot holds a map of two strings, so every store can keep it: ``rotation`` (the JSON record: id, owner, times,
versions and fingerprints, never a value) and ``value`` (the JSON of the value).

Locking. A store with check-and-set: the pending slot itself is claimed with check-and-set (``CAS_CREATE``, or
the version of the empty slot's tombstone); whoever writes it owns the rotation, a second run sees it and fails
cleanly while the owner's lease is alive (same host: its PID is alive; elsewhere: until ``expires``), or takes it
over with check-and-set once the owner is gone (resume).
Stores without check-and-set on this host (``file``, ``dotenv``, ``pass``): an exclusive ``flock`` on a lock file
(``.<name>.rotate-lock`` beside the file, or one under ``~/.cache/agentarea-secrets/locks`` for pass). The kernel
drops it when the process dies, even on ``kill -9``, so a slot found while holding it is always stale.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import errno
import hashlib
import json
import os
import re
import socket
import time
import uuid

from ansible_collections.agentarea.secrets.plugins.module_utils.core._backend import (
    CAP_CAS,
    CAS_CREATE,
    decode_structured,
    iso,
    to_datetime,
)
from ansible_collections.agentarea.secrets.plugins.module_utils.core._errors import (
    InvalidOption,
    RotationFailed,
    SecretConflict,
    SecretDeleted,
    SecretError,
    SecretNotFound,
)
from ansible_collections.agentarea.secrets.plugins.module_utils.core._refs import SecretRef, parse_ref

FORMAT = 1
LOCAL_SCHEMES = ('file', 'dotenv')
DASH_SCHEMES = ('k8s', 'azure')
LOCK_DIR = os.path.join('~', '.cache', 'agentarea-secrets', 'locks')

_DURATION = re.compile(r'^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$')
_UNITS = {'': 1, 's': 1, 'm': 60, 'h': 3600, 'd': 86400, 'w': 604800}


class RotationInProgress(RotationFailed):
    """Another run holds the rotation of this secret (its lock or its pending slot)."""


def parse_duration(value, name='duration'):
    """``90``, ``'90s'``, ``'15m'``, ``'12h'``, ``'30d'``, ``'2w'`` -> seconds (float); None stays None."""
    if value is None or value == '':
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    match = _DURATION.match(str(value))
    if not match:
        raise InvalidOption("%s: '%s' is not a duration (write 90, 90s, 15m, 12h, 30d or 2w)" % (name, value))
    return float(match.group(1)) * _UNITS[match.group(2)]


def now_iso(now=None):
    return iso(now if now is not None else time.time())


def _pid_start(pid):
    """The process's start time in clock ticks since boot, so a recycled PID is not taken for the owner."""
    try:
        with open('/proc/%d/stat' % pid) as handle:
            return handle.read().rsplit(')', 1)[1].split()[19]
    except (IOError, OSError, IndexError):
        return None


def _pid_state(pid):
    try:
        with open('/proc/%d/stat' % pid) as handle:
            return handle.read().rsplit(')', 1)[1].split()[0]
    except (IOError, OSError, IndexError):
        return None


def owner_record():
    pid = os.getpid()
    return {'host': socket.gethostname(), 'pid': pid, 'pid_start': _pid_start(pid)}


def owner_alive(owner):
    """True/False for an owner on this host, None when it ran elsewhere (then only its lease says)."""
    if not isinstance(owner, dict) or owner.get('host') != socket.gethostname():
        return None
    pid = owner.get('pid')
    try:
        os.kill(int(pid), 0)
    except (TypeError, ValueError):
        return False
    except OSError as exc:
        if exc.errno == errno.ESRCH:
            return False
    start = _pid_start(int(pid))
    if start is None or _pid_state(int(pid)) in ('Z', 'X'):
        return False  # a killed owner stays a zombie until its parent (or init) reaps it: it is gone all the same
    return owner.get('pid_start') in (None, start)


def new_id():
    return uuid.uuid4().hex[:16]


def slot_ref(ref, slot, override=None):
    """The reference of the ``pending`` or ``previous`` slot of ``ref`` (see the module docstring)."""
    if override:
        return parse_ref(override)
    scheme = 'file' if ref.scheme == 'dotenv' else ref.scheme
    sep = '-' if ref.scheme in DASH_SCHEMES else '__'
    location = ref.location + sep + slot
    if ref.key:
        key = ref.key
        if ref.scheme in DASH_SCHEMES:
            key = re.sub(r'[^a-z0-9-]+', '-', key.lower()).strip('-') or 'key'
        location += sep + key
    params = dict((k, v) for k, v in ref.params if k not in ('version', 'stage'))
    return SecretRef(scheme, location, None, params)


class Envelope:
    """What a slot holds: ``record`` (value-free facts) and ``value`` (the credential, or None for a lock)."""

    def __init__(self, record, value=None, version=None):
        self.record = record
        self.value = value
        self.version = version

    def to_store(self):
        return {'rotation': json.dumps(self.record, sort_keys=True, separators=(',', ':')),
                'value': json.dumps(self.value, sort_keys=True, separators=(',', ':'))}

    @classmethod
    def from_secret(cls, secret, ref=None, backend=None):
        data = decode_structured(secret.value)
        if not isinstance(data, dict) or 'rotation' not in data:
            raise RotationFailed('the slot does not hold a rotation record (it was written by something else; '
                                 'move it away or name another slot)', ref=ref, backend=backend)
        try:
            record = data['rotation']
            record = json.loads(record) if isinstance(record, str) else record
            value = data.get('value')
            value = json.loads(value) if isinstance(value, str) else value
        except ValueError:
            raise RotationFailed('the slot holds a damaged rotation record', ref=ref, backend=backend)
        if not isinstance(record, dict):
            raise RotationFailed('the slot holds a damaged rotation record', ref=ref, backend=backend)
        return cls(record, value, secret.version)

    def stale(self, now=None):
        """Whether the run that wrote this is gone: dead PID on this host, or an expired lease elsewhere."""
        alive = owner_alive(self.record.get('owner'))
        if alive is not None:
            return not alive
        expires = to_datetime(self.record.get('expires'))
        current = to_datetime(now if now is not None else time.time())
        return expires is None or expires <= current

    def who(self):
        owner = self.record.get('owner') or {}
        return "rotation %s (%s) started %s by pid %s on %s" % (
            self.record.get('id'), self.record.get('purpose', 'rotate'), self.record.get('started'),
            owner.get('pid'), owner.get('host'))


TOMBSTONE = {'rotation': '{}', 'value': 'null'}


def holds(found, envelope):
    """Whether a slot read back holds ``envelope`` (same rotation id and value)."""
    return found is not None and found.record.get('id') == envelope.record.get('id') and \
        found.value == envelope.value


class Slot:
    """One slot (pending or previous) of a secret, in the secret's own store.

    On check-and-set stores an empty slot is a *tombstone* (an empty record) rather than a deleted secret: the
    next claim is a check-and-set on the tombstone's version, and nothing is ever deleted, which matters where a
    deleted name cannot be reused at once (Azure soft-delete, AWS recovery windows, Vault KV v2 metadata)."""

    def __init__(self, backend, ref):
        self.backend = backend
        self.ref = ref
        self.tombstones = CAP_CAS in backend.CAPABILITIES and ref.scheme not in LOCAL_SCHEMES
        self.empty_version = None

    def read(self):
        self.empty_version = None
        try:
            secret = self.backend.read(self.ref)
        except (SecretNotFound, SecretDeleted):
            return None
        if secret is None or secret.value in (None, '', {}):
            return None
        envelope = Envelope.from_secret(secret, self.ref, self.backend.NAME)
        if not envelope.record:
            self.empty_version = secret.version
            return None
        return envelope

    def write(self, envelope, cas=None):
        """Write and read back: the slot is durable once this returns. Returns the stored version.

        A write that reports an error may have landed all the same (its answer was lost): the slot is read back,
        and holding this envelope it counts as written; otherwise the write's own error is raised."""
        try:
            written = self.backend.write(self.ref, envelope.to_store(), cas=cas)
        except SecretError as exc:
            if not holds(self.read_quietly(), envelope):
                raise exc
            written = None
        back = self.read()
        if not holds(back, envelope):
            raise RotationFailed('the slot did not read back as written', ref=self.ref, backend=self.backend.NAME)
        envelope.version = back.version or (written.version if written is not None else None)
        return envelope.version

    def read_quietly(self):
        """The slot, or None when it cannot be read either (the caller raises its own error)."""
        try:
            return self.read()
        except SecretError:
            return None

    def clear(self):
        """Empty the slot. An error with the slot found empty afterwards (a lost answer) is success."""
        try:
            if self.tombstones:
                self.backend.write(self.ref, dict(TOMBSTONE))
                return True
            return bool(self.backend.delete(self.ref))
        except (SecretNotFound, SecretDeleted):
            return False
        except SecretError:
            try:
                if self.read() is None:
                    return True
            except SecretError:
                pass
            raise

    def claim_cas(self):
        """The check-and-set that claims this slot: CAS_CREATE, or the version of its tombstone."""
        found = self.read()
        if found is not None:
            return found
        return self.empty_version if self.empty_version is not None else CAS_CREATE


class FileLock:
    """An exclusive, non-blocking ``flock`` held for the whole run; the kernel drops it if the process dies."""

    def __init__(self, path):
        self.path = os.path.expanduser(path)
        self.fd = None

    def acquire(self, what):
        import fcntl
        from ansible_collections.agentarea.secrets.plugins.module_utils.core._fileio import safe_open
        # beside a .env in a directory the app user may own: never through a symbolic link
        self.fd = safe_open(self.path, os.O_RDWR | os.O_CREAT, 0o600, create_dirs=True, ref=what)
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except (IOError, OSError) as exc:
            os.close(self.fd)
            self.fd = None
            if exc.errno in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                raise RotationInProgress('another rotation of this secret is running on this host (it holds %s); '
                                         'nothing was changed' % self.path, ref=what)
            raise
        return self

    def release(self):
        if self.fd is not None:
            import fcntl
            try:
                fcntl.flock(self.fd, fcntl.LOCK_UN)
            finally:
                os.close(self.fd)
                self.fd = None


def lock_path(backend, ref):
    """The flock file for stores that need one, or None when the pending slot's check-and-set is the lock."""
    if ref.scheme in LOCAL_SCHEMES and hasattr(backend, 'path_of'):
        path = os.path.abspath(backend.path_of(ref))
        name = os.path.basename(path)
        return os.path.join(os.path.dirname(path), '%s%s.rotate-lock' % ('' if name.startswith('.') else '.', name))
    if CAP_CAS in backend.CAPABILITIES:
        return None
    ident = '%s|%s' % (backend.identity(), ref.without_key())
    return os.path.join(LOCK_DIR, hashlib.sha256(ident.encode('utf-8')).hexdigest()[:32] + '.lock')


class SlotLock:
    """Exclusion for one secret: a flock where the store has no check-and-set, else the pending slot's CAS."""

    def __init__(self, backend, ref, pending, lease_seconds):
        self.backend = backend
        self.ref = ref
        self.pending = pending
        self.lease = lease_seconds
        self.flock = None
        path = lock_path(backend, ref)
        self.uses_cas = path is None
        self._path = path

    @property
    def kind(self):
        return 'pending slot check-and-set' if self.uses_cas else 'flock %s' % self._path

    def hold_run(self):
        """Flock stores: take the lock for the whole run (before reading the pending slot)."""
        if not self.uses_cas:
            self.flock = FileLock(self._path).acquire(self.ref)

    def release(self):
        if self.flock is not None:
            self.flock.release()
            self.flock = None

    def stamp(self, record, now=None):
        now = time.time() if now is None else now
        record['owner'] = owner_record()
        record['expires'] = now_iso(now + self.lease)
        return record

    def claim(self, envelope):
        """Create the pending slot; with CAS only if none exists (else RotationInProgress)."""
        self.stamp(envelope.record)
        cas = None
        if self.uses_cas:
            cas = self.pending.claim_cas() if hasattr(self.pending, 'claim_cas') else CAS_CREATE
            if isinstance(cas, Envelope):
                raise RotationInProgress('another run holds the rotation of this secret: %s; nothing was changed'
                                         % cas.who(), ref=self.ref, backend=self.backend.NAME)
        try:
            return self.pending.write(envelope, cas=cas)
        except SecretConflict:
            found = self.pending.read()
            raise RotationInProgress('another run holds the rotation of this secret: %s; nothing was changed'
                                     % (found.who() if found else 'its pending slot'), ref=self.ref,
                                     backend=self.backend.NAME)

    def take_over(self, envelope):
        """Resume a stale pending slot: rewrite it as ours, with CAS on the version found."""
        if envelope.record.get('owner') and not self.flock and not envelope.stale():
            raise RotationInProgress('another run holds the rotation of this secret: %s; nothing was changed'
                                     % envelope.who(), ref=self.ref, backend=self.backend.NAME)
        envelope.record['resumed_from'] = dict(envelope.record.get('owner') or {})
        self.stamp(envelope.record)
        cas = envelope.version if self.uses_cas and envelope.version is not None else None
        try:
            return self.pending.write(envelope, cas=cas)
        except SecretConflict:
            raise RotationInProgress('another run took over the stale rotation of this secret first; nothing '
                                     'was changed', ref=self.ref, backend=self.backend.NAME)
