# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The rotation engine: create -> set -> test -> finish, with rollback and resume, for every store and target.

1. create: generate the new value and write it to the pending slot (read back: durable) before anything else.
   Creating the slot is also the lock (check-and-set create; a flock where the store has no check-and-set).
2. set: apply it to the target (``targets/``), keeping the old credential valid where the strategy allows.
3. test: log in or verify with it.
4. finish: write the previous slot (the value being replaced), promote the new value with check-and-set, clear
   the pending slot; ``single`` contracts at once, other strategies when ``contract`` is called after the overlap.

Any failure before finish reverts the target to the old credential, proves the old one works and clears the
pending slot. A run that finds a stale pending slot (crash, kill -9) resumes: it tests pending and current
against the target and completes (pending works) or rolls back (only current works), and says which.
``rehearse`` runs create, set and test, then rolls back on purpose and proves the old credential again.
Every phase emits a value-free audit event and is timed. See ``_state.py`` for slots and locks; the phases are
methods of ``Rotation`` written in ``_steps.py``, ``_resume.py`` and ``_contract.py``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import time

from ansible_collections.agentarea.secrets.plugins.module_utils.core._backend import (
    CAP_CAS, CAP_STAGES, CAS_CREATE, decode_structured, encode_value, iso, to_datetime,
)
from ansible_collections.agentarea.secrets.plugins.module_utils.core._errors import (
    InvalidOption, RotationFailed, SecretConflict, SecretDeleted, SecretError, SecretNotFound,
)
from ansible_collections.agentarea.secrets.plugins.module_utils.core._fingerprint import fingerprint
from ansible_collections.agentarea.secrets.plugins.module_utils.core._refs import parse_ref
from ansible_collections.agentarea.secrets.plugins.module_utils.core._registry import backend_class
from ansible_collections.agentarea.secrets.plugins.module_utils.rotation._stages import (
    StagePendingSlot, StagePreviousSlot,
)
from ansible_collections.agentarea.secrets.plugins.module_utils.rotation._contract import ContractSteps
from ansible_collections.agentarea.secrets.plugins.module_utils.rotation._resume import ResumeSteps
from ansible_collections.agentarea.secrets.plugins.module_utils.rotation._state import (
    Envelope, RotationInProgress, Slot, SlotLock, new_id, now_iso, parse_duration, slot_ref,
)
from ansible_collections.agentarea.secrets.plugins.module_utils.rotation._steps import Phase, RotationSteps
from ansible_collections.agentarea.secrets.plugins.module_utils.rotation.targets._base import merge_option_specs

KINDS = ('postgres', 'mysql', 'redis', 'jwt', 'api_key', 'static', 'tls')
MAP_KINDS = ('postgres', 'mysql', 'redis')
STRING_STORES = ('pass', 'dotenv', 'env', 'docker')
#: test-only fault injection, e.g. ``set:exit`` (die like kill -9 right after set) or ``create:sleep=5``
FAULT_ENV = 'AGENTAREA_SECRETS_ROTATION_FAULT'


def target_class(kind):
    # pylint: disable=import-outside-toplevel
    if kind == 'postgres':
        from ansible_collections.agentarea.secrets.plugins.module_utils.rotation.targets._postgres import PostgresTarget
        return PostgresTarget
    if kind == 'mysql':
        from ansible_collections.agentarea.secrets.plugins.module_utils.rotation.targets._mysql import MysqlTarget
        return MysqlTarget
    if kind == 'redis':
        from ansible_collections.agentarea.secrets.plugins.module_utils.rotation.targets._redis import RedisTarget
        return RedisTarget
    if kind == 'jwt':
        from ansible_collections.agentarea.secrets.plugins.module_utils.rotation.targets._jwt import JwtTarget
        return JwtTarget
    if kind == 'api_key':
        from ansible_collections.agentarea.secrets.plugins.module_utils.rotation.targets._api_key import ApiKeyTarget
        return ApiKeyTarget
    if kind == 'static':
        from ansible_collections.agentarea.secrets.plugins.module_utils.rotation.targets._static import StaticTarget
        return StaticTarget
    if kind == 'tls':
        from ansible_collections.agentarea.secrets.plugins.module_utils.rotation.targets._tls import TlsTarget
        return TlsTarget
    raise InvalidOption("unknown kind '%s' (known: %s)" % (kind, ', '.join(KINDS)))


def target_option_spec():
    """The suboptions of the rotate module's ``target``: the union of what each kind's target declares
    (``OPTIONS`` and ``CONNECTION`` in ``targets/``)."""
    return merge_option_specs([target_class(kind) for kind in KINDS])


class StoreAccess:
    """Other references a target reads or writes (an admin credential, a published copy), one backend per
    scheme, built by ``factory(ref)`` with the module's backend options."""

    def __init__(self, factory, known=None):
        self.factory = factory
        self._backends = dict((b.NAME, b) for b in (known or ()))

    def backend(self, ref):
        if ref.scheme not in self._backends:
            self._backends[ref.scheme] = self.factory(ref)
        return self._backends[ref.scheme]

    def read(self, text):
        ref = parse_ref(text)
        backend = self.backend(ref)
        return decode_structured(backend.select(backend.read(ref.without_key()), ref))

    def state(self, text):
        try:
            return self.read(text)
        except (SecretNotFound, SecretDeleted):
            return None

    def write(self, text, value):
        ref = parse_ref(text)
        value = encode_value(value) if ref.key or ref.scheme in STRING_STORES else value
        return self.backend(ref).write(ref, value)

    def delete(self, text):
        ref = parse_ref(text)
        try:
            return self.backend(ref).delete(ref)
        except (SecretNotFound, SecretDeleted):
            return False


class Current:
    """The store's current value as read: the Secret (version, times) and the value the target works with."""

    def __init__(self, secret, value, native_dict):
        self.secret = secret
        self.value = value
        self.native_dict = native_dict

    @property
    def version(self):
        return self.secret.version if self.secret is not None else None


class Rotation(RotationSteps, ResumeSteps, ContractSteps):
    """One rotation (or rehearsal, or contract) of the secret at ``ref`` in ``backend``: the entry points, the
    store and the state the phases share are here; the phases are the methods of ``RotationSteps`` (``_steps.py``:
    create, set, test, finish, rollback), ``ResumeSteps`` (``_resume.py``) and ``ContractSteps``
    (``_contract.py``: the contract and the ``min_age`` gate)."""

    def __init__(self, backend, ref, kind, strategy='single', target_options=None, policy=None, stores=None,
                 fingerprint_key=None, audit=None, overlap=None, min_age=None, lock_timeout=300,
                 pending_ref=None, previous_ref=None, environ=None, force=False):
        self.backend, self.ref, self.kind = backend, ref, kind
        self.policy = policy
        self.fkey = fingerprint_key
        self.audit = audit
        self.environ = os.environ if environ is None else environ
        self.overlap = parse_duration(overlap, 'overlap') or 0.0
        self.min_age = parse_duration(min_age, 'min_age')
        self.force = bool(force)  # rotate even when min_age or the target (a certificate far from expiry) says not due
        options = dict(target_options or {})
        options.setdefault('overlap_seconds', self.overlap)
        self.target = target_class(kind)(options, strategy, stores, self.fp)
        if ref.key is not None and hasattr(self.target, 'empty_shape'):
            self.target.empty_shape = 'password'  # a first credential at a #key is a bare password
        if CAP_STAGES in backend.CAPABILITIES and hasattr(backend, 'put_pending') and not (pending_ref or previous_ref):
            # AWS: AWSPENDING and AWSPREVIOUS are the slots (see _rotation_stages.py)
            self.pending, self.previous = StagePendingSlot(backend, ref), StagePreviousSlot(backend, ref)
        else:
            pending, previous = slot_ref(ref, 'pending', pending_ref), slot_ref(ref, 'previous', previous_ref)
            self.pending = Slot(self.slot_backend(pending, stores), pending)
            self.previous = Slot(self.slot_backend(previous, stores), previous)
        self.lock = SlotLock(backend, ref, self.pending, float(lock_timeout or 300))
        self.owns_pending = False
        self.rotation_id = None
        self.previous_before = None   # the previous slot as this run found it (restored on rollback)
        self.committed = False        # the new value is the store's current value: no rollback after this
        self.in_doubt = False         # a write failed and the store could not tell what it holds: no rollback
        self.wrote_previous = False
        self.result = {
            'changed': False, 'action': None, 'phase': 'none', 'ref': str(ref), 'kind': kind,
            'strategy': strategy, 'strategy_used': strategy, 'rotation_id': None,
            'pending_ref': str(self.pending.ref), 'previous_ref': str(self.previous.ref), 'lock': self.lock.kind,
            'old': None, 'new': None, 'rolled_back': None, 'resumed': None, 'contract': None, 'rehearsal': None,
            'timings': {}, 'notes': self.target.notes,
        }

    # -- small helpers -------------------------------------------------------------------------------------------
    def slot_backend(self, ref, stores):
        """The store's own backend, or (a dotenv secret's slots are JSON files) the backend of the slot's scheme."""
        if ref.scheme == self.ref.scheme:
            return self.backend
        if stores is not None:
            return stores.backend(ref)
        backend = backend_class(ref.scheme)()
        backend.basedir = getattr(self.backend, 'basedir', None)
        return backend

    def fp(self, value):
        return None if value is None else fingerprint(value, self.fkey)

    def facts(self, value, version=None):
        out = {'version': version, 'fingerprint': self.fp(value)}
        out.update(self.target.describe(value) if value is not None else {})
        return out

    def emit(self, phase, outcome, **fields):
        if self.audit is not None:
            fields.setdefault('rotation_id', self.rotation_id)
            self.audit.emit('rotate.' + phase, outcome, backend=self.backend.NAME, ref=str(self.ref), kind=self.kind,
                            strategy=self.target.strategy_used, **fields)

    def fault_point(self, point):
        """Test-only (see FAULT_ENV): exit hard like kill -9, or pause, at a phase boundary."""
        for item in (self.environ.get(FAULT_ENV) or '').split(','):
            name, _sep, action = item.strip().rpartition(':')
            if name != point:
                continue
            if action == 'exit':
                os._exit(137)  # pylint: disable=protected-access
            if action.startswith('sleep='):
                time.sleep(float(action[6:]))

    def phase(self, name, **fields):
        return Phase(self, name, fields)

    # -- the store ----------------------------------------------------------------------------------------------
    def read_current(self):
        try:
            secret = self.backend.read(self.ref.without_key())
        except (SecretNotFound, SecretDeleted):
            return Current(None, None, False)
        if self.kind in MAP_KINDS and self.ref.key is None:
            raw = secret.value
        else:
            try:
                raw = self.backend.select(secret, self.ref)
            except SecretNotFound:
                return Current(secret, None, False)
        return Current(secret, decode_structured(raw), isinstance(raw, dict))

    def leave_lambda_managed(self, current):
        """A secret AWS rotates with its own Lambda function (RotationEnabled) is left alone: two rotators would undo
        each other's work. The store option ``rotate_lambda_managed: true`` rotates it anyway."""
        facts = current.secret.metadata if current.secret is not None else {}
        if facts.get('rotation_enabled') and not (getattr(self.backend, 'options', None) or {}).get('rotate_lambda_managed'):
            self.fail('%s is rotated by AWS Secrets Manager with the Lambda function %s (RotationEnabled): left alone, '
                      'nothing was changed; turn its rotation off (rotation_lambda: "") or set rotate_lambda_managed: '
                      'true to rotate it here anyway' % (self.ref.without_key(), facts.get('rotation_lambda') or '(unknown)'),
                      cls=InvalidOption)

    def store_form(self, value, current):
        if not isinstance(value, dict):
            return value
        if current is not None and current.value is not None:
            return value if current.native_dict else encode_value(value)
        if self.ref.key is None and (self.ref.scheme not in STRING_STORES or
                                     (self.kind in MAP_KINDS and self.ref.scheme == 'pass')):
            return value
        return encode_value(value)

    def write_current(self, value, current, from_pending=False):
        """Write ``value`` as the current value with check-and-set against ``current`` (what this run read); with
        ``from_pending`` on a store with stages, move AWSCURRENT to the AWSPENDING version instead. The phases
        call ``promote_checked``, which reads the store back when this write fails."""
        again = self.read_current()
        if self.fp(again.value) != self.fp(current.value) or again.version != current.version:
            raise SecretConflict('the secret changed since this rotation read it (now version %s, fingerprint %s); '
                                 'nothing was promoted' % (again.version, self.fp(again.value)), ref=self.ref,
                                 backend=self.backend.NAME)
        if from_pending and hasattr(self.pending, 'promote'):
            return self.pending.promote(current.version)
        cas = None
        if CAP_CAS in self.backend.CAPABILITIES:
            cas = current.version if current.secret is not None else CAS_CREATE
        written = self.backend.write(self.ref, self.store_form(value, current), cas=cas)
        return written.version if written is not None else None

    # -- entry points -------------------------------------------------------------------------------------------
    def rotate(self, rehearse=False):
        self.result['action'] = 'rehearse' if rehearse else 'rotate'
        try:
            with self.phase('lock'):
                self.lock.hold_run()
            current = self.read_current()
            self.leave_lambda_managed(current)
            found = self.pending.read()
            if found is not None:
                if self.resume(found, current) == 'completed':
                    return self.result
                current = self.read_current()
            self.result['old'] = self.facts(current.value, current.version)
            if not rehearse and not self.force and (self.too_young(current) or self.not_due(current)):
                return self.result
            if not rehearse:
                self.settle_previous(current)
            self.previous_before = self.previous.read()
            self.target.prepare(current.value)
            self.result['strategy_used'] = self.target.strategy_used
            self.run_phases(current, rehearse)
            return self.result
        finally:
            self.lock.release()
            self.target.close()

    def contract(self):
        self.result['action'] = 'contract'
        try:
            with self.phase('lock'):
                self.lock.hold_run()
            return self.contract_only()
        finally:
            self.lock.release()
            self.target.close()

    def plan(self, contract=False, rehearse=False):
        """Check mode: what would happen, from reads of the store only (the target is not contacted)."""
        current = self.read_current()
        self.leave_lambda_managed(current)
        found = self.pending.read()
        prev = self.previous.read()
        result = self.result
        result['old'] = self.facts(current.value, current.version)
        info = {'exists': current.value is not None, 'lock': self.lock.kind, 'pending_slot': None,
                'previous_slot': None, 'steps': []}
        if found is not None:
            info['pending_slot'] = {'rotation_id': found.record.get('id'), 'purpose': found.record.get('purpose'),
                                    'started': found.record.get('started'), 'stale': found.stale()}
        if prev is not None:
            info['previous_slot'] = {'rotation_id': prev.record.get('id'), 'finished': prev.record.get('finished'),
                                     'contracted': bool(prev.record.get('contracted')),
                                     'overlap_ends': self.overlap_end(prev)}
        todo = info['steps']
        if contract:
            result['action'] = 'contract'
            if found is None and prev is not None and not prev.record.get('contracted') and \
                    prev.record.get('new_fingerprint') == self.fp(current.value) and self.overlap_left(prev) <= 0:
                todo.append('contract: remove the previous credential from the target')
        else:
            result['action'] = 'rehearse' if rehearse else 'rotate'
            if found is not None:
                todo.append('resume rotation %s: test pending and current against the target, then complete or roll '
                            'back' % found.record.get('id'))
            if not rehearse and not self.force and found is None and \
                    (self.too_young(current, False) or self.not_due(current, False)):
                todo[:] = []
            else:
                if not rehearse and prev is not None and not prev.record.get('contracted') and \
                        prev.record.get('new_fingerprint') == self.fp(current.value):
                    todo.append('contract the previous rotation first' if self.overlap_left(prev) <= 0 else
                                'stop: the previous rotation is in its overlap until %s' % self.overlap_end(prev))
                todo += ['create: generate and write the pending slot %s' % self.pending.ref,
                         'set: apply to the %s target (strategy %s)' % (self.kind, self.target.strategy),
                         'test: verify the new credential']
                todo.append('rollback on purpose and prove the old credential' if rehearse else
                            'finish: keep the previous value, promote with check-and-set, clear the pending slot')
        if self.kind == 'mysql' and self.target.strategy == 'overlap':
            self.target.note('on MariaDB, overlap falls back to single (checked when it runs)')
        result['plan'] = info
        result['changed'] = bool(todo) and not (rehearse and found is None)
        return result

    # -- shared by the steps ------------------------------------------------------------------------------------
    def new_record(self, purpose, current, new_value=None):
        self.rotation_id = self.rotation_id or new_id()
        self.result['rotation_id'] = self.rotation_id
        return {'format': 1, 'id': self.rotation_id, 'purpose': purpose, 'kind': self.kind,
                'strategy': self.target.strategy_used, 'store': str(self.ref), 'started': now_iso(),
                'old_version': current.version if current else None,
                'old_fingerprint': self.fp(current.value) if current else None,
                'new_fingerprint': self.fp(new_value)}

    def previous_value(self):
        """The value before the current one, when the store kept it (alternating roles go back to it)."""
        prev = self.previous_before if self.previous_before is not None else self.previous.read()
        if prev is None or prev.record.get('id') == self.rotation_id:
            return None
        return prev.value

    def claim(self, envelope):
        self.lock.claim(envelope)
        self.owns_pending = True

    def finished_at(self, envelope):
        return to_datetime(envelope.record.get('finished')) if envelope is not None else None

    def overlap_left(self, envelope):
        finished = self.finished_at(envelope)
        if finished is None:
            return 0.0
        return max(0.0, finished.timestamp() + self.overlap - time.time())

    def overlap_end(self, envelope):
        finished = self.finished_at(envelope)
        return iso(finished.timestamp() + self.overlap) if finished is not None else None

    def fail(self, message, cls=RotationFailed):
        raise cls(message, ref=self.ref, backend=self.backend.NAME)


__all__ = ['Rotation', 'StoreAccess', 'target_class', 'target_option_spec', 'KINDS', 'RotationInProgress', 'SecretError', 'Envelope',
           'FAULT_ENV']
