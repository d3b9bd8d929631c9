# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Resume, a part of the rotation engine (``_engine.py``): a pending slot left by a run that is gone (crash,
kill -9) is tested against the target and the rotation completed (pending works) or rolled back (only current
works), and the result says which.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.agentarea.secrets.plugins.module_utils.rotation._steps import why


class ResumeSteps:
    """The ``resume`` phase of ``Rotation``."""

    def resume(self, found, current):
        """Resume a pending slot left by a run that is gone: ``completed``, ``rolled_back`` or ``cleared``."""
        target = self.target
        with self.phase('resume'):
            self.lock.take_over(found)
            self.owns_pending = True
            record, new, old = found.record, found.value, current.value
            self.rotation_id = record.get('id')
            self.result['rotation_id'] = self.rotation_id
            info = {'rotation_id': record.get('id'), 'purpose': record.get('purpose'), 'started': record.get('started'),
                    'owner': record.get('resumed_from'), 'outcome': None}
            self.result['resumed'] = info
            self.result['changed'] = True
            if new is None or record.get('purpose') == 'contract':
                self.pending.clear()
                info['outcome'] = 'cleared'
                return 'cleared'
            if old is not None and self.fp(old) == self.fp(new):
                self.pending.clear()  # promoted before the crash: only the clean-up was missing
                info['outcome'] = 'completed'
                self.result.update(action='resumed', new=self.facts(new, current.version))
                prev = self.previous.read()
                if prev is not None and prev.record.get('id') == record.get('id') and \
                        prev.record.get('strategy') == 'single' and not prev.record.get('contracted') and \
                        prev.value is not None:
                    target.prepare(new)
                    self.contract_single(prev, new)  # and the single strategy's contract
                return 'completed'
            target.prepare(old if old is not None else new)
            self.result['strategy_used'] = target.strategy_used
            info['pending_works'] = self.try_credential(new)
            info['current_works'] = self.try_credential(old) if old is not None else None
            moved = old is not None and self.fp(old) != record.get('old_fingerprint')
        self.result['old'] = self.facts(old, current.version)
        self.result['new'] = self.facts(new)
        nothing_before = old is None and not info['pending_works']  # a first credential that never took
        if record.get('purpose') == 'rehearse' or nothing_before or \
                (info['current_works'] and (not info['pending_works'] or moved)):
            return self._resume_rollback(info, current, new)
        if info['pending_works'] and not moved:
            self.committed = False
            self.wrote_previous = False
            self.previous_before = self.previous.read()
            try:
                if target.STORE_ONLY:
                    target.apply(new, old)
                self.finish(current, new)
            except Exception as exc:  # pylint: disable=broad-except
                if not self.committed:
                    self.target.note('completing the resumed rotation failed: %s' % why(exc))
                raise
            info['outcome'] = 'completed'
            self.result['action'] = 'resumed'
            return 'completed'
        self.fail('found the pending slot of rotation %s, but %s; the pending slot is kept, nothing was changed '
                  '(pending works: %s, current works: %s)' % (
                      record.get('id'), 'the store changed since it started' if moved else
                      'the target accepts neither credential or cannot be reached', info['pending_works'],
                      info['current_works']))

    def _resume_rollback(self, info, current, new):
        with self.phase('rollback'):
            self.target.revert(new, current.value, self.previous_value())
            if current.value is not None and not self.target.STORE_ONLY and self.try_credential(current.value) is False:
                self.fail('rolled back the resumed rotation, but the current credential does not work; the pending '
                          'slot is kept')
            prev = self.previous.read()
            if prev is not None and prev.record.get('id') == self.rotation_id:
                self.previous.clear()  # written by the crashed run just before it would have promoted
            self.pending.clear()
        self.owns_pending = False
        self.rotation_id = None  # a fresh rotation follows, under its own id
        info['outcome'] = 'rolled_back'
        self.target.touched = False
        return 'rolled_back'
