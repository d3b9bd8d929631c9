# -*- coding: utf-8 -*-
"""An in-memory store (with check-and-set and versions) and an in-memory database target, both with faults to
inject, for the rotation engine's unit tests."""

import copy

from ansible_collections.agentarea.secrets.plugins.module_utils.core._backend import (
    CAP_CAS, CAP_DELETE, CAP_READ, CAP_VERSIONS, CAP_WRITE, CAS_CREATE, Secret, SecretBackend,
)
from ansible_collections.agentarea.secrets.plugins.module_utils.core._errors import (
    SecretAccessDenied, SecretConflict, SecretNotFound,
)
from ansible_collections.agentarea.secrets.plugins.module_utils.rotation.targets._base import (
    DatabaseTarget, TargetRejected, TargetUnavailable,
)


class MemoryBackend(SecretBackend):
    """Locations -> list of versions. ``refuse`` holds locations whose writes are denied."""

    NAME = 'memory'
    CAPABILITIES = frozenset((CAP_READ, CAP_WRITE, CAP_DELETE, CAP_CAS, CAP_VERSIONS))

    def __init__(self, data=None):
        super(MemoryBackend, self).__init__({})
        self.data = {}
        self.refuse = set()
        self.writes = []
        for loc, value in (data or {}).items():
            self.data[loc] = [copy.deepcopy(value)]

    def read(self, ref):
        if not self.data.get(ref.location):
            raise SecretNotFound('no such secret', ref=ref, backend=self.NAME)
        versions = self.data[ref.location]
        return Secret(copy.deepcopy(versions[-1]), len(versions))

    def write(self, ref, value, cas=None, metadata=None):
        if ref.location in self.refuse:
            raise SecretAccessDenied('permission denied', ref=ref, backend=self.NAME)
        versions = self.data.get(ref.location) or []
        if cas == CAS_CREATE and versions:
            raise SecretConflict('check-and-set: exists', ref=ref, backend=self.NAME)
        if cas not in (None, CAS_CREATE) and str(cas) != str(len(versions)):
            raise SecretConflict('check-and-set parameter did not match', ref=ref, backend=self.NAME)
        if ref.key is not None:
            base = copy.deepcopy(versions[-1]) if versions else {}
            base[ref.key] = value
            value = base
        self.data.setdefault(ref.location, []).append(copy.deepcopy(value))
        self.writes.append(ref.location)
        return Secret(None, len(self.data[ref.location]))

    def delete(self, ref, **kwargs):
        return bool(self.data.pop(ref.location, None))

    def current(self, location):
        return self.data[location][-1] if self.data.get(location) else None


class FakeServer:
    """What a database knows: each user's valid passwords."""

    def __init__(self, users=None):
        self.users = dict((u, set(p)) for u, p in (users or {}).items())
        self.reachable = True
        self.calls = []

    def login(self, user, password):
        if not self.reachable:
            raise TargetUnavailable('fake server unreachable')
        return password in self.users.get(user, set())


class FakeTarget(DatabaseTarget):
    """A database target on a FakeServer. ``faults``: 'apply' / 'revert' raise, 'reject_new' fails the test."""

    KIND = 'fake'
    STRATEGIES = ('single', 'overlap', 'alternating')
    server = None
    faults = set()

    def apply(self, new, old):
        new_c = self.cred(new)
        self.server.calls.append('apply')
        if not self.server.reachable:
            raise TargetUnavailable('fake server unreachable')
        if 'apply' in self.faults:
            self.touched = True
            raise TargetRejected('fake apply failure')
        self.touched = True
        pw = self.server.users.setdefault(new_c['username'], set())
        if self.strategy == 'single':
            pw.clear()
        pw.add(new_c['password'])

    def check(self, value, login_only=False):
        cred = self.cred(value)
        self.server.calls.append('check')
        ok = self.server.login(cred['username'], cred['password'])
        if ok and 'reject_new' in self.faults and getattr(self, '_new_pw', None) == cred['password']:
            return False
        return ok

    def new_value(self, current, policy):
        value = super(FakeTarget, self).new_value(current, policy)
        self._new_pw = self.cred(value)['password']
        return value

    def revert(self, new, old, previous=None):
        self.server.calls.append('revert')
        if 'revert' in self.faults or not self.server.reachable:
            raise TargetUnavailable('fake revert failure')
        new_c, old_c = self.cred(new), self.cred(old)
        self.server.users.setdefault(new_c['username'], set()).discard(new_c['password'])
        if old_c is not None:
            self.server.users.setdefault(old_c['username'], set()).add(old_c['password'])

    def contract(self, previous, current):
        self.server.calls.append('contract')
        prev_c, cur_c = self.cred(previous), self.cred(current)
        if prev_c['password'] != cur_c['password'] or prev_c['username'] != cur_c['username']:
            self.server.users.get(prev_c['username'], set()).discard(prev_c['password'])
        return None


class RecordingAudit:
    def __init__(self):
        self.events = []

    def emit(self, action, outcome, **fields):
        self.events.append(dict(fields, action=action, outcome=outcome))

    def actions(self):
        return [e['action'] for e in self.events]
