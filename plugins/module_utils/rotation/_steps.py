# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The steps of the rotation engine (``_rotation.py``): the phases, rollback, resume, contract and the plan.

Functions take the engine (``Rotation``) as first argument; they keep its ``result`` up to date as they go, so a
failure still reports how far the rotation got and what was rolled back.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible_collections.agentarea.secrets.plugins.module_utils.core._backend import iso
from ansible_collections.agentarea.secrets.plugins.module_utils.core._errors import (
    SecretConflict, SecretError, describe_exception,
)
from ansible_collections.agentarea.secrets.plugins.module_utils.rotation._state import (
    Envelope, RotationInProgress, now_iso,
)
from ansible_collections.agentarea.secrets.plugins.module_utils.rotation.targets._base import TargetUnavailable


def why(exc):
    """A value-free reason: our typed errors carry value-free messages, anything else only its class."""
    return str(exc) if isinstance(exc, SecretError) else describe_exception(exc)


class Phase:
    """Times a phase, records it as reached, emits its audit event, then passes the test-only fault point."""

    def __init__(self, engine, name, fields):
        self.engine, self.name, self.fields = engine, name, dict(fields)
        self.outcome = 'ok'

    def __enter__(self):
        self.started = time.time()
        return self

    def __exit__(self, exc_type, exc, _tb):
        seconds = round(time.time() - self.started, 3)
        timings = self.engine.result['timings']
        timings[self.name] = round(timings.get(self.name, 0.0) + seconds, 3)
        if exc_type is None:
            self.engine.result['phase'] = self.name
            self.engine.emit(self.name, self.outcome, seconds=seconds, **self.fields)
            self.engine.fault_point(self.name)
        else:
            self.engine.emit(self.name, 'failed', seconds=seconds, error=why(exc), **self.fields)
        return False


def check(engine, value, login_only=True):
    """True / False / None (target unreachable) for one value against the target."""
    try:
        return bool(engine.target.check(value, login_only=login_only))
    except TargetUnavailable as exc:
        engine.target.note('test skipped: %s' % exc)
    except Exception as exc:  # pylint: disable=broad-except
        engine.target.note('test failed to run: %s' % why(exc))
    return None


# -- create, set, test, finish -------------------------------------------------------------------------------------
def run_phases(engine, current, rehearse):
    target, old = engine.target, current.value
    new = None
    engine.committed = engine.in_doubt = False
    engine.wrote_previous = False
    try:
        with engine.phase('create') as ph:
            new = target.new_value(old, engine.policy)
            envelope = Envelope(engine.new_record('rehearse' if rehearse else 'rotate', current, new), new)
            engine.claim(envelope)
            ph.fields.update(fingerprint=engine.fp(new))
        engine.result['new'] = engine.facts(new)
        engine.result['changed'] = True
        with engine.phase('set'):
            target.apply(new, old)
        with engine.phase('test', fingerprint=engine.fp(new)):
            if not target.check(new):
                engine.fail('the new credential failed its test against the target')
        if rehearse:
            return rehearsal_rollback(engine, current, new)
        return finish(engine, current, new)
    except RotationInProgress:
        raise
    except Exception as exc:  # pylint: disable=broad-except
        if engine.owns_pending and not engine.committed and not engine.in_doubt:
            rollback(engine, current, new, exc)
        raise


def finish(engine, current, new):
    target, old = engine.target, current.value
    with engine.phase('finish', fingerprint=engine.fp(new)) as ph:
        # contracted once the old credential is gone from the target (single: just below), not before
        record = {'format': 1, 'id': engine.rotation_id, 'kind': engine.kind, 'strategy': target.strategy_used,
                  'finished': now_iso(), 'contracted': False,
                  'old_version': current.version, 'old_fingerprint': engine.fp(old),
                  'new_fingerprint': engine.fp(new)}
        retired = Envelope(record, old)
        if old is not None:
            engine.wrote_previous = True  # before writing: a write whose answer is lost may have landed
            engine.previous.write(retired)
        engine.fault_point('finish:previous')
        version = promote(engine, new, current, from_pending=True)
        engine.committed = True
        ph.fields['version'] = version
    engine.result['new'] = engine.facts(new, version)
    engine.fault_point('finish:promote')
    # committed: what follows is clean-up; a failure is reported, never rolled back
    try:
        engine.pending.clear()
    except SecretError as exc:
        engine.target.note('the pending slot was not cleared (%s); the next run clears it' % why(exc))
    if target.strategy_used == 'single' and old is not None:
        contract_single(engine, retired, new)
    engine.result['action'] = 'rotated'
    return engine.result


def contract_single(engine, retired, new):
    """Strategy single: the old credential goes at once, after the promotion (a failure is reported; the next
    run, or ``contract``, tries again, since the previous slot is not marked contracted)."""
    try:
        with engine.phase('contract'):
            engine.target.contract(retired.value, new)
            forget_retired(engine, retired)
        engine.result['contract'] = {'performed': True, 'reason': 'strategy single: the old credential is '
                                                                  'gone at once'}
    except (SecretError, Exception) as exc:  # pylint: disable=broad-except
        engine.result['contract'] = {'performed': False, 'reason': why(exc)}


def forget_retired(engine, retired):
    """After the contract: the previous slot keeps the record (when, which fingerprints) but no longer the
    retired credential itself, which nothing may use any more."""
    record = dict(retired.record, contracted=True, contracted_at=now_iso())
    engine.previous.write(Envelope(record, None))


def promote(engine, value, current, from_pending=False):
    """Promote ``value`` with check-and-set; after an error, read the store back to learn what happened.

    A write may land although its answer is lost (a proxy's 502, a reset connection): the store holding ``value``
    means the promotion is done, and the version is returned. Only a store that provably holds what this run read
    (``current``) lets the error through to the rollback. A store that cannot be read, or holds a third value,
    is in doubt: nothing may be revoked or cleared, so the run fails keeping the pending slot and the target's new
    credential, and the next run resumes (it reads the store and tests both credentials)."""
    try:
        return engine.promote(value, current, from_pending=from_pending)
    except RotationInProgress:
        raise
    except Exception as exc:  # pylint: disable=broad-except
        cause = exc
    try:
        again = engine.read_current()
    except Exception as err:  # pylint: disable=broad-except
        engine.in_doubt = True
        engine.fail('promoting the new value failed (%s) and the store could not be read back (%s), so it may '
                    'hold the new value or the old one: nothing was revoked and nothing rolled back, the pending '
                    'slot %s and the new credential at the target are kept; run again to resume (it reads the '
                    'store and completes or rolls back)' % (why(cause), why(err), engine.pending.ref))
    if engine.fp(again.value) == engine.fp(value):
        engine.target.note('the promoting write reported an error (%s), but the store holds the new value '
                           '(version %s): the rotation is committed' % (why(cause), again.version))
        engine.emit('promote', 'recovered', version=again.version, error=why(cause))
        return again.version
    if engine.fp(again.value) == engine.fp(current.value):
        raise cause  # the store provably holds what this run read: the rollback is safe
    engine.in_doubt = True
    engine.fail('promoting the new value failed (%s) and the store now holds another value (version %s, '
                'fingerprint %s) than this run read or wrote: nothing was revoked and nothing rolled back, the '
                'pending slot %s and the new credential at the target are kept; run again to resume'
                % (why(cause), again.version, engine.fp(again.value), engine.pending.ref))


def rollback(engine, current, new, exc):
    """Put the target back on the old credential, prove it, clear the pending slot (only when that is safe)."""
    target, old = engine.target, current.value
    info = {'performed': True, 'reason': why(exc), 'failed_in': _failed_phase(engine), 'target_reverted': None,
            'old_credential_works': None, 'pending_cleared': False}
    engine.result['rolled_back'] = info
    with engine.phase('rollback') as ph:
        if new is not None and target.touched:
            try:
                target.revert(new, old, engine.previous_value())
                info['target_reverted'] = True
            except Exception as err:  # pylint: disable=broad-except
                info['target_reverted'] = False
                info['revert_error'] = why(err)
        else:
            info['target_reverted'] = 'not needed: the target was not changed'
        if old is not None and not target.STORE_ONLY:
            info['old_credential_works'] = check(engine, old)
        safe = not target.touched or (info['target_reverted'] is True and info['old_credential_works'] is not False)
        if engine.wrote_previous:
            _restore_previous(engine)
        if safe:
            try:
                engine.pending.clear()
                info['pending_cleared'] = True
            except SecretError as err:  # the target is back on the old credential; the next run clears the slot
                info['pending_clear_error'] = why(err)
                ph.outcome = 'incomplete'
        else:
            ph.outcome = 'incomplete'
            target.note('the pending slot is kept: the target may hold the new credential; run again to resume '
                        '(it tests both and completes or rolls back)')
    engine.result['action'] = 'rolled_back'


def _failed_phase(engine):
    order = ['lock', 'resume', 'create', 'set', 'test', 'finish']
    reached = engine.result['phase']
    return order[order.index(reached) + 1] if reached in order[:-1] else reached


def _restore_previous(engine):
    before = getattr(engine, 'previous_before', None)
    try:
        if before is None:
            engine.previous.clear()
        else:
            engine.previous.write(before)
    except SecretError as exc:
        engine.target.note('the previous slot could not be restored (%s)' % why(exc))


def rehearsal_rollback(engine, current, new):
    target, old = engine.target, current.value
    with engine.phase('rollback'):
        target.revert(new, old, engine.previous_value())
        old_works = check(engine, old) if old is not None and not target.STORE_ONLY else True
        new_gone = None if target.STORE_ONLY else check(engine, new) is False
        engine.pending.clear()
    engine.result['rehearsal'] = {'rotation': 'ok', 'rollback': 'ok' if old_works else 'failed',
                                  'old_credential_works': old_works, 'new_credential_rejected': new_gone}
    engine.result['action'] = 'rehearsed'
    engine.result['changed'] = False
    if not old_works:
        engine.fail('rehearsal: after the rollback the old credential does not work against the target')
    return engine.result


# -- resume -----------------------------------------------------------------------------------------------------
def resume(engine, found, current):
    """Resume a pending slot left by a run that is gone: ``completed``, ``rolled_back`` or ``cleared``."""
    target = engine.target
    with engine.phase('resume'):
        engine.lock.take_over(found)
        engine.owns_pending = True
        record, new, old = found.record, found.value, current.value
        engine.rotation_id = record.get('id')
        engine.result['rotation_id'] = engine.rotation_id
        info = {'rotation_id': record.get('id'), 'purpose': record.get('purpose'), 'started': record.get('started'),
                'owner': record.get('resumed_from'), 'outcome': None}
        engine.result['resumed'] = info
        engine.result['changed'] = True
        if new is None or record.get('purpose') == 'contract':
            engine.pending.clear()
            info['outcome'] = 'cleared'
            return 'cleared'
        if old is not None and engine.fp(old) == engine.fp(new):
            engine.pending.clear()  # promoted before the crash: only the clean-up was missing
            info['outcome'] = 'completed'
            engine.result.update(action='resumed', new=engine.facts(new, current.version))
            prev = engine.previous.read()
            if prev is not None and prev.record.get('id') == record.get('id') and \
                    prev.record.get('strategy') == 'single' and not prev.record.get('contracted') and \
                    prev.value is not None:
                target.prepare(new)
                contract_single(engine, prev, new)  # and the single strategy's contract
            return 'completed'
        target.prepare(old if old is not None else new)
        engine.result['strategy_used'] = target.strategy_used
        info['pending_works'] = check(engine, new)
        info['current_works'] = check(engine, old) if old is not None else None
        moved = old is not None and engine.fp(old) != record.get('old_fingerprint')
    engine.result['old'] = engine.facts(old, current.version)
    engine.result['new'] = engine.facts(new)
    nothing_before = old is None and not info['pending_works']  # a first credential that never took
    if record.get('purpose') == 'rehearse' or nothing_before or \
            (info['current_works'] and (not info['pending_works'] or moved)):
        return _resume_rollback(engine, info, current, new)
    if info['pending_works'] and not moved:
        engine.committed = False
        engine.wrote_previous = False
        engine.previous_before = engine.previous.read()
        try:
            if target.STORE_ONLY:
                target.apply(new, old)
            finish(engine, current, new)
        except Exception as exc:  # pylint: disable=broad-except
            if not engine.committed:
                engine.target.note('completing the resumed rotation failed: %s' % why(exc))
            raise
        info['outcome'] = 'completed'
        engine.result['action'] = 'resumed'
        return 'completed'
    engine.fail('found the pending slot of rotation %s, but %s; the pending slot is kept, nothing was changed '
                '(pending works: %s, current works: %s)' % (
                    record.get('id'), 'the store changed since it started' if moved else
                    'the target accepts neither credential or cannot be reached', info['pending_works'],
                    info['current_works']))


def _resume_rollback(engine, info, current, new):
    with engine.phase('rollback'):
        engine.target.revert(new, current.value, engine.previous_value())
        if current.value is not None and not engine.target.STORE_ONLY and check(engine, current.value) is False:
            engine.fail('rolled back the resumed rotation, but the current credential does not work; the pending '
                        'slot is kept')
        prev = engine.previous.read()
        if prev is not None and prev.record.get('id') == engine.rotation_id:
            engine.previous.clear()  # written by the crashed run just before it would have promoted
        engine.pending.clear()
    engine.owns_pending = False
    engine.rotation_id = None  # a fresh rotation follows, under its own id
    info['outcome'] = 'rolled_back'
    engine.target.touched = False
    return 'rolled_back'


# -- gates and the contract step -------------------------------------------------------------------------------------
def too_young(engine, current, record=True):
    if engine.min_age is None or current.value is None:
        return False
    prev = engine.previous.read()
    when = None
    if prev is not None and prev.record.get('new_fingerprint') == engine.fp(current.value):
        when = engine.finished_at(prev)
    if when is None and current.secret is not None:
        when = current.secret.updated
    if when is None:
        return False
    due = when.timestamp() + engine.min_age
    if time.time() >= due:
        return False
    engine.result.update(action='skipped', changed=False, next_due=iso(due),
                         reason='the current value is younger than min_age')
    if record:
        engine.emit('skip', 'ok', next_due=iso(due))
    return True


def settle_previous(engine, current):
    """Before a new rotation: the last one's old credential must be contracted (at once when its overlap is over)."""
    prev = engine.previous.read()
    engine.previous_before = prev
    if prev is None or prev.record.get('contracted'):
        return
    if prev.record.get('new_fingerprint') != engine.fp(current.value):
        engine.target.note('the previous slot describes a value that is no longer current; it is replaced')
        return
    if engine.overlap_left(prev) > 0:
        engine.fail("the previous rotation's overlap runs until %s, so its old credential may still be in use: "
                    "contract it after that (contract: true), or rotate with a shorter overlap to remove it now; "
                    "nothing was changed" % engine.overlap_end(prev), cls=RotationInProgress)
    do_contract(engine, prev, current)
    engine.previous_before = engine.previous.read()


def do_contract(engine, prev, current):
    target = engine.target
    recorded = prev.record.get('strategy')
    if recorded in target.STRATEGIES and recorded != target.strategy:
        # contract what that rotation did (a contract call need not repeat its strategy)
        target.strategy = target.strategy_used = recorded
    with engine.phase('contract', fingerprint=engine.fp(prev.value)):
        target.prepare(current.value)
        engine.result['strategy_used'] = target.strategy_used
        new_store = target.contract(prev.value, current.value)
        if new_store is not None:
            version = promote(engine, new_store, current)
            engine.result['new'] = engine.facts(new_store, version)
        forget_retired(engine, prev)
    engine.result['contract'] = {'performed': True, 'removed': engine.facts(prev.value, prev.record.get('old_version')),
                                 'rotation_id': prev.record.get('id')}
    engine.result['changed'] = True


def contract_only(engine):
    current = engine.read_current()
    found = engine.pending.read()
    if found is not None:
        engine.fail('a rotation is pending (%s): run the rotation again to resume it, then contract' % found.who(),
                    cls=RotationInProgress)
    engine.result['old'] = engine.facts(current.value, current.version)
    prev = engine.previous.read()
    reason = None
    if prev is None:
        reason = 'nothing to contract: no previous value is recorded'
    elif prev.record.get('contracted'):
        reason = 'already contracted at %s' % prev.record.get('contracted_at', prev.record.get('finished'))
    elif prev.record.get('new_fingerprint') != engine.fp(current.value):
        reason = 'the current value is not the one that replaced the previous value; nothing removed'
    elif engine.overlap_left(prev) > 0:
        reason = 'the overlap runs until %s' % engine.overlap_end(prev)
        engine.result['next_due'] = engine.overlap_end(prev)
    if reason:
        engine.result['contract'] = {'performed': False, 'reason': reason}
        return engine.result
    if engine.lock.uses_cas:
        engine.claim(Envelope(engine.new_record('contract', current), None))
    try:
        do_contract(engine, prev, current)
    finally:
        if engine.owns_pending:
            engine.pending.clear()
    engine.result['action'] = 'contracted'
    return engine.result


__all__ = ['Phase', 'run_phases', 'resume', 'contract_only', 'too_young', 'SecretConflict']
