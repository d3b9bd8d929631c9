# -*- coding: utf-8 -*-
# Copyright (c) 2026 agentarea.secrets contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The contract and the gates before a new rotation, a part of the rotation engine (``_engine.py``).

``min_age`` skips a value that is too young, the target's ``renewal()`` one that is not due (a certificate far from
its expiry), unless the rotation is forced; the last rotation's old credential is contracted before a new one
starts (at once when its overlap is over); ``contract: true`` runs the contract alone; ``single`` contracts right
after finish. After a contract the previous slot keeps the record but no longer the retired credential.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import time

from ansible_collections.agentarea.secrets.plugins.module_utils.core._backend import iso
from ansible_collections.agentarea.secrets.plugins.module_utils.core._errors import SecretError
from ansible_collections.agentarea.secrets.plugins.module_utils.rotation._state import (
    Envelope, RotationInProgress, now_iso,
)
from ansible_collections.agentarea.secrets.plugins.module_utils.rotation._steps import why


class ContractSteps:
    """The ``contract`` phase of ``Rotation``, and the ``min_age`` gate."""

    def too_young(self, current, record=True):
        if self.min_age is None or current.value is None:
            return False
        prev = self.previous.read()
        when = None
        if prev is not None and prev.record.get('new_fingerprint') == self.fp(current.value):
            when = self.finished_at(prev)
        if when is None and current.secret is not None:
            when = current.secret.updated
        if when is None:
            return False
        due = when.timestamp() + self.min_age
        if time.time() >= due:
            return False
        self.result.update(action='skipped', changed=False, next_due=iso(due),
                           reason='the current value is younger than min_age')
        if record:
            self.emit('skip', 'ok', next_due=iso(due))
        return True

    def not_due(self, current, record=True):
        """The target's own gate (``Target.renewal``: a certificate far from its expiry): skipped, with when it is due."""
        if current.value is None:
            return False
        later = self.target.renewal(current.value)
        if not later:
            return False
        self.result.update(action='skipped', changed=False, next_due=later['next_due'], reason=later['reason'])
        if record:
            self.emit('skip', 'ok', next_due=later['next_due'])
        return True

    def settle_previous(self, current):
        """Before a new rotation: the last one's old credential must be contracted (at once when its overlap is over)."""
        prev = self.previous.read()
        self.previous_before = prev
        if prev is None or prev.record.get('contracted'):
            return
        if prev.record.get('new_fingerprint') != self.fp(current.value):
            self.target.note('the previous slot describes a value that is no longer current; it is replaced')
            return
        if self.overlap_left(prev) > 0:
            self.fail("the previous rotation's overlap runs until %s, so its old credential may still be in use: "
                      "contract it after that (contract: true), or rotate with a shorter overlap to remove it now; "
                      "nothing was changed" % self.overlap_end(prev), cls=RotationInProgress)
        self.do_contract(prev, current)
        self.previous_before = self.previous.read()

    def do_contract(self, prev, current):
        target = self.target
        recorded = prev.record.get('strategy')
        if recorded in target.STRATEGIES and recorded != target.strategy:
            # contract what that rotation did (a contract call need not repeat its strategy)
            target.strategy = target.strategy_used = recorded
        with self.phase('contract', fingerprint=self.fp(prev.value)):
            target.prepare(current.value)
            self.result['strategy_used'] = target.strategy_used
            new_store = target.contract(prev.value, current.value)
            if new_store is not None:
                version = self.promote_checked(new_store, current)
                self.result['new'] = self.facts(new_store, version)
            self.forget_retired(prev)
        self.result['contract'] = {'performed': True, 'removed': self.facts(prev.value, prev.record.get('old_version')),
                                   'rotation_id': prev.record.get('id')}
        self.result['changed'] = True

    def contract_only(self):
        current = self.read_current()
        found = self.pending.read()
        if found is not None:
            self.fail('a rotation is pending (%s): run the rotation again to resume it, then contract' % found.who(),
                      cls=RotationInProgress)
        self.result['old'] = self.facts(current.value, current.version)
        prev = self.previous.read()
        reason = None
        if prev is None:
            reason = 'nothing to contract: no previous value is recorded'
        elif prev.record.get('contracted'):
            reason = 'already contracted at %s' % prev.record.get('contracted_at', prev.record.get('finished'))
        elif prev.record.get('new_fingerprint') != self.fp(current.value):
            reason = 'the current value is not the one that replaced the previous value; nothing removed'
        elif self.overlap_left(prev) > 0:
            reason = 'the overlap runs until %s' % self.overlap_end(prev)
            self.result['next_due'] = self.overlap_end(prev)
        if reason:
            self.result['contract'] = {'performed': False, 'reason': reason}
            return self.result
        if self.lock.uses_cas:
            self.claim(Envelope(self.new_record('contract', current), None))
        try:
            self.do_contract(prev, current)
        finally:
            if self.owns_pending:
                self.pending.clear()
        self.result['action'] = 'contracted'
        return self.result

    def contract_single(self, retired, new):
        """Strategy single: the old credential goes at once, after the promotion (a failure is reported; the next
        run, or ``contract``, tries again, since the previous slot is not marked contracted)."""
        try:
            with self.phase('contract'):
                self.target.contract(retired.value, new)
                self.forget_retired(retired)
            self.result['contract'] = {'performed': True, 'reason': 'strategy single: the old credential is '
                                                                    'gone at once'}
        except (SecretError, Exception) as exc:  # pylint: disable=broad-except
            self.result['contract'] = {'performed': False, 'reason': why(exc)}

    def forget_retired(self, retired):
        """After the contract: the previous slot keeps the record (when, which fingerprints) but no longer the
        retired credential itself, which nothing may use any more."""
        record = dict(retired.record, contracted=True, contracted_at=now_iso())
        self.previous.write(Envelope(record, None))
