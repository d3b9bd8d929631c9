# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The phases of the rotation engine (``_engine.py``): create, set, test, finish, and the rollback.

``RotationSteps`` is a part of ``Rotation`` (with ``ResumeSteps`` from ``_resume.py`` and ``ContractSteps`` from
``_contract.py``): its methods keep the engine's ``result`` up to date as they go, so a failure still reports how
far the rotation got and what was rolled back. ``Phase`` times one phase and emits its audit event.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible_collections.agentarea.secrets.plugins.module_utils.core._errors import SecretError, describe_exception
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


class RotationSteps:
    """create -> set -> test -> finish (or the rehearsal's rollback), and the rollback after a failure."""

    def try_credential(self, value, login_only=True):
        """True / False / None (target unreachable) for one value against the target."""
        try:
            return bool(self.target.check(value, login_only=login_only))
        except TargetUnavailable as exc:
            self.target.note('test skipped: %s' % exc)
        except Exception as exc:  # pylint: disable=broad-except
            self.target.note('test failed to run: %s' % why(exc))
        return None

    # -- create, set, test, finish -------------------------------------------------------------------------------------
    def run_phases(self, current, rehearse):
        target, old = self.target, current.value
        new = None
        self.committed = self.in_doubt = False
        self.wrote_previous = False
        try:
            with self.phase('create') as ph:
                new = target.new_value(old, self.policy)
                envelope = Envelope(self.new_record('rehearse' if rehearse else 'rotate', current, new), new)
                self.claim(envelope)
                ph.fields.update(fingerprint=self.fp(new))
            self.result['new'] = self.facts(new)
            self.result['changed'] = True
            with self.phase('set'):
                target.apply(new, old)
            with self.phase('test', fingerprint=self.fp(new)):
                if not target.check(new):
                    self.fail('the new credential failed its test against the target')
            if rehearse:
                return self.rehearsal_rollback(current, new)
            return self.finish(current, new)
        except RotationInProgress:
            raise
        except Exception as exc:  # pylint: disable=broad-except
            if self.owns_pending and not self.committed and not self.in_doubt:
                self.rollback(current, new, exc)
            raise

    def finish(self, current, new):
        target, old = self.target, current.value
        with self.phase('finish', fingerprint=self.fp(new)) as ph:
            # contracted once the old credential is gone from the target (single: just below), not before
            record = {'format': 1, 'id': self.rotation_id, 'kind': self.kind, 'strategy': target.strategy_used,
                      'finished': now_iso(), 'contracted': False,
                      'old_version': current.version, 'old_fingerprint': self.fp(old),
                      'new_fingerprint': self.fp(new)}
            retired = Envelope(record, old)
            if old is not None:
                self.wrote_previous = True  # before writing: a write whose answer is lost may have landed
                self.previous.write(retired)
            self.fault_point('finish:previous')
            version = self.promote_checked(new, current, from_pending=True)
            self.committed = True
            ph.fields['version'] = version
        self.result['new'] = self.facts(new, version)
        self.fault_point('finish:promote')
        # committed: what follows is clean-up; a failure is reported, never rolled back
        try:
            self.pending.clear()
        except SecretError as exc:
            self.target.note('the pending slot was not cleared (%s); the next run clears it' % why(exc))
        if target.strategy_used == 'single' and old is not None:
            self.contract_single(retired, new)
        self.result['action'] = 'rotated'
        return self.result

    def promote_checked(self, value, current, from_pending=False):
        """Promote ``value`` with check-and-set; after an error, read the store back to learn what happened.

        A write may land although its answer is lost (a proxy's 502, a reset connection): the store holding ``value``
        means the promotion is done, and the version is returned. Only a store that provably holds what this run read
        (``current``) lets the error through to the rollback. A store that cannot be read, or holds a third value,
        is in doubt: nothing may be revoked or cleared, so the run fails keeping the pending slot and the target's new
        credential, and the next run resumes (it reads the store and tests both credentials)."""
        try:
            return self.write_current(value, current, from_pending=from_pending)
        except RotationInProgress:
            raise
        except Exception as exc:  # pylint: disable=broad-except
            cause = exc
        try:
            again = self.read_current()
        except Exception as err:  # pylint: disable=broad-except
            self.in_doubt = True
            self.fail('promoting the new value failed (%s) and the store could not be read back (%s), so it may '
                      'hold the new value or the old one: nothing was revoked and nothing rolled back, the pending '
                      'slot %s and the new credential at the target are kept; run again to resume (it reads the '
                      'store and completes or rolls back)' % (why(cause), why(err), self.pending.ref))
        if self.fp(again.value) == self.fp(value):
            self.target.note('the promoting write reported an error (%s), but the store holds the new value '
                             '(version %s): the rotation is committed' % (why(cause), again.version))
            self.emit('promote', 'recovered', version=again.version, error=why(cause))
            return again.version
        if self.fp(again.value) == self.fp(current.value):
            raise cause  # the store provably holds what this run read: the rollback is safe
        self.in_doubt = True
        self.fail('promoting the new value failed (%s) and the store now holds another value (version %s, '
                  'fingerprint %s) than this run read or wrote: nothing was revoked and nothing rolled back, the '
                  'pending slot %s and the new credential at the target are kept; run again to resume'
                  % (why(cause), again.version, self.fp(again.value), self.pending.ref))

    def rollback(self, current, new, exc):
        """Put the target back on the old credential, prove it, clear the pending slot (only when that is safe)."""
        target, old = self.target, current.value
        info = {'performed': True, 'reason': why(exc), 'failed_in': self._failed_phase(), 'target_reverted': None,
                'old_credential_works': None, 'pending_cleared': False}
        self.result['rolled_back'] = info
        with self.phase('rollback') as ph:
            if new is not None and target.touched:
                try:
                    target.revert(new, old, self.previous_value())
                    info['target_reverted'] = True
                except Exception as err:  # pylint: disable=broad-except
                    info['target_reverted'] = False
                    info['revert_error'] = why(err)
            else:
                info['target_reverted'] = 'not needed: the target was not changed'
            if old is not None and not target.STORE_ONLY:
                info['old_credential_works'] = self.try_credential(old)
            safe = not target.touched or (info['target_reverted'] is True and info['old_credential_works'] is not False)
            if self.wrote_previous:
                self._restore_previous()
            if safe:
                try:
                    self.pending.clear()
                    info['pending_cleared'] = True
                except SecretError as err:  # the target is back on the old credential; the next run clears the slot
                    info['pending_clear_error'] = why(err)
                    ph.outcome = 'incomplete'
            else:
                ph.outcome = 'incomplete'
                target.note('the pending slot is kept: the target may hold the new credential; run again to resume '
                            '(it tests both and completes or rolls back)')
        self.result['action'] = 'rolled_back'

    def _failed_phase(self):
        order = ['lock', 'resume', 'create', 'set', 'test', 'finish']
        reached = self.result['phase']
        return order[order.index(reached) + 1] if reached in order[:-1] else reached

    def _restore_previous(self):
        before = self.previous_before
        try:
            if before is None:
                self.previous.clear()
            else:
                self.previous.write(before)
        except SecretError as exc:
            self.target.note('the previous slot could not be restored (%s)' % why(exc))

    def rehearsal_rollback(self, current, new):
        target, old = self.target, current.value
        with self.phase('rollback'):
            target.revert(new, old, self.previous_value())
            old_works = self.try_credential(old) if old is not None and not target.STORE_ONLY else True
            new_gone = None if target.STORE_ONLY else self.try_credential(new) is False
            self.pending.clear()
        self.result['rehearsal'] = {'rotation': 'ok', 'rollback': 'ok' if old_works else 'failed',
                                    'old_credential_works': old_works, 'new_credential_rejected': new_gone}
        self.result['action'] = 'rehearsed'
        self.result['changed'] = False
        if not old_works:
            self.fail('rehearsal: after the rollback the old credential does not work against the target')
        return self.result
