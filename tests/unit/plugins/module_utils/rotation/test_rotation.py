# -*- coding: utf-8 -*-
"""The rotation engine against an in-memory store and target: phase order, rollback, resume, locks, contract."""

import json
import os

import pytest

from ansible_collections.agentarea.secrets.plugins.module_utils.rotation import _engine as _rotation, _state as _rotation_state
from ansible_collections.agentarea.secrets.plugins.module_utils.core._errors import RotationFailed, SecretError
from ansible_collections.agentarea.secrets.plugins.module_utils.core._refs import parse_ref
from ansible_collections.agentarea.secrets.plugins.module_utils.rotation._state import (
    RotationInProgress, parse_duration, slot_ref,
)
from tests.unit.plugins.module_utils.rotation.rotation_fakes import FakeServer, FakeTarget, MemoryBackend, RecordingAudit

REF = parse_ref('vault://secret/app/db')
OLD = {'username': 'app', 'password': 'old-password-1', 'url': 'x'}
FKEY = 'unit-test-key'


class Crash(BaseException):
    """Stands in for kill -9: nothing after it runs except ``finally`` blocks (which a real kill skips too,
    and which only release a lock the kernel would drop anyway)."""


@pytest.fixture
def world(monkeypatch):
    server = FakeServer({'app': {'old-password-1'}})
    FakeTarget.server = server
    FakeTarget.faults = set()
    monkeypatch.setattr(_rotation, 'target_class', lambda kind: FakeTarget)
    store = MemoryBackend({'secret/app/db': dict(OLD)})
    return store, server


def engine(store, strategy='single', audit=None, **kw):
    kw.setdefault('target_options', {'url_template': '{username}:{password}@db'})
    return _rotation.Rotation(store, REF, 'postgres', strategy=strategy, fingerprint_key=FKEY,
                              audit=audit or RecordingAudit(), environ={}, **kw)


def crash_at(monkeypatch, point):
    def fault(self, name):
        if name == point:
            raise Crash(point)
    monkeypatch.setattr(_rotation.Rotation, 'fault_point', fault)


def owner_gone(monkeypatch):
    monkeypatch.setattr(_rotation_state, 'owner_alive', lambda owner: False)


def live(store, location):
    """The slot's record and value, or None when it is missing or an empty tombstone."""
    data = store.current(location)
    if data is None or json.loads(data['rotation']) == {}:
        return None
    return data


def values_in(obj):
    return json.dumps(obj, default=str)


# -- the happy path ------------------------------------------------------------------------------------------
def test_phases_in_order_and_state_after(world):
    store, server = world
    audit = RecordingAudit()
    eng = engine(store, audit=audit)
    result = eng.rotate()
    assert audit.actions() == ['rotate.lock', 'rotate.create', 'rotate.set', 'rotate.test', 'rotate.finish',
                               'rotate.contract']
    new = store.current('secret/app/db')
    assert new['password'] != OLD['password'] and new['username'] == 'app'
    assert new['url'] == 'app:%s@db' % new['password']                      # rebuilt from the template
    assert server.users['app'] == {new['password']}                         # single: old gone
    assert live(store, 'secret/app/db__pending') is None                  # cleared
    prev = store.current('secret/app/db__previous')
    assert json.loads(prev['value']) is None                                # contracted: the old value is gone,
    assert json.loads(prev['rotation'])['contracted'] is True               # the record stays
    assert OLD['password'] in store.data['secret/app/db__previous'][0]['value']   # (kept until the contract)
    assert result['action'] == 'rotated' and result['phase'] == 'contract' and result['changed']
    assert result['old']['version'] == '1' and result['new']['version'] == '2'
    assert result['old']['fingerprint'] != result['new']['fingerprint']
    assert set(result['timings']) >= {'lock', 'create', 'set', 'test', 'finish'}
    text = values_in(result) + values_in(audit.events)
    assert OLD['password'] not in text and new['password'] not in text


def test_pending_slot_is_written_before_the_target_is_touched(world, monkeypatch):
    store, server = world
    seen = {}
    real_apply = FakeTarget.apply

    def apply(self, new, old):
        seen['pending'] = store.current('secret/app/db__pending')
        return real_apply(self, new, old)
    monkeypatch.setattr(FakeTarget, 'apply', apply)
    engine(store).rotate()
    pending = seen['pending']
    assert pending is not None
    assert json.loads(pending['value'])['password'] == store.current('secret/app/db')['password']
    assert json.loads(pending['rotation'])['owner']['pid'] == os.getpid()


# -- rollback ------------------------------------------------------------------------------------------------
def test_failed_test_rolls_back(world):
    store, server = world
    FakeTarget.faults = {'reject_new'}
    eng = engine(store)
    with pytest.raises(RotationFailed):
        eng.rotate()
    rb = eng.result['rolled_back']
    assert rb['failed_in'] == 'test' and rb['target_reverted'] is True and rb['old_credential_works'] is True
    assert rb['pending_cleared'] is True
    assert server.users['app'] == {OLD['password']}
    assert store.current('secret/app/db') == OLD and len(store.data['secret/app/db']) == 1
    assert live(store, 'secret/app/db__pending') is None


def test_store_refusing_the_final_write_rolls_back(world):
    store, server = world
    store.refuse.add('secret/app/db')
    eng = engine(store)
    with pytest.raises(SecretError):
        eng.rotate()
    assert eng.result['rolled_back']['failed_in'] == 'finish'
    assert server.users['app'] == {OLD['password']}
    assert store.current('secret/app/db') == OLD
    assert live(store, 'secret/app/db__pending') is None
    assert live(store, 'secret/app/db__previous') is None               # restored to what it was (nothing)


def test_unreachable_target_needs_no_revert(world):
    store, server = world
    server.reachable = False
    eng = engine(store)
    with pytest.raises(SecretError):
        eng.rotate()
    rb = eng.result['rolled_back']
    assert rb['target_reverted'].startswith('not needed') and rb['pending_cleared'] is True
    assert 'revert' not in server.calls
    assert live(store, 'secret/app/db__pending') is None


def test_failed_revert_keeps_the_pending_slot_and_the_next_run_resumes(world, monkeypatch):
    store, server = world
    FakeTarget.faults = {'reject_new', 'revert'}
    eng = engine(store)
    with pytest.raises(RotationFailed):
        eng.rotate()
    assert eng.result['rolled_back']['pending_cleared'] is False
    pending = json.loads(store.current('secret/app/db__pending')['value'])
    assert server.users['app'] == {pending['password']}                   # the target is on the new one
    FakeTarget.faults = set()
    owner_gone(monkeypatch)
    result = engine(store).rotate()
    assert result['resumed']['outcome'] == 'completed' and result['resumed']['pending_works'] is True
    assert store.current('secret/app/db')['password'] == pending['password']
    assert live(store, 'secret/app/db__pending') is None


# -- resume after a crash -------------------------------------------------------------------------------------
@pytest.mark.parametrize('point, outcome', [('create', 'rolled_back'), ('set', 'completed'), ('test', 'completed'),
                                            ('finish:previous', 'completed'), ('finish:promote', 'completed')])
def test_resume_after_a_crash(world, monkeypatch, point, outcome):
    store, server = world
    crash_at(monkeypatch, point)
    with pytest.raises(Crash):
        engine(store).rotate()
    crashed = json.loads(store.current('secret/app/db__pending')['value'])
    monkeypatch.undo()
    monkeypatch.setattr(_rotation, 'target_class', lambda kind: FakeTarget)
    owner_gone(monkeypatch)
    # between the crash and the resume: the target accepts the old or the new credential
    assert server.login('app', OLD['password']) or server.login('app', crashed['password'])
    result = engine(store).rotate()
    assert result['resumed']['outcome'] == outcome
    current = store.current('secret/app/db')
    assert server.login('app', current['password'])                        # the store works
    assert live(store, 'secret/app/db__pending') is None
    if outcome == 'completed':
        assert current['password'] == crashed['password']
        assert result['action'] == 'resumed'
    else:  # rolled back, then rotated afresh in the same run
        assert current['password'] not in (OLD['password'], crashed['password'])
        assert result['action'] == 'rotated'


def test_live_owner_makes_the_second_run_fail_cleanly(world, monkeypatch):
    store, server = world
    crash_at(monkeypatch, 'set')
    with pytest.raises(Crash):
        engine(store).rotate()          # our own PID owns the slot and is alive: a run "in progress"
    monkeypatch.undo()
    monkeypatch.setattr(_rotation, 'target_class', lambda kind: FakeTarget)
    before = dict((k, list(v)) for k, v in store.data.items())
    eng = engine(store)
    with pytest.raises(RotationInProgress) as err:
        eng.rotate()
    assert 'another run holds the rotation' in str(err.value)
    assert dict((k, list(v)) for k, v in store.data.items()) == before    # nothing changed


def test_concurrent_create_loses_on_check_and_set(world, monkeypatch):
    store, server = world
    first = engine(store)
    second = engine(store)
    real_claim = _rotation.Rotation.claim

    def claim(self, envelope):
        if self is second:
            # the first run claims the slot between the second's read and its create
            first_env = _rotation_state.Envelope(first.new_record('rotate', None, None), {'x': 1})
            first.lock.claim(first_env)
        return real_claim(self, envelope)
    monkeypatch.setattr(_rotation.Rotation, 'claim', claim)
    with pytest.raises(RotationInProgress):
        second.rotate()
    assert second.result['rolled_back'] is None
    assert store.current('secret/app/db') == OLD


# -- overlap, contract, rehearse, plan --------------------------------------------------------------------------
def test_overlap_keeps_old_until_contract_which_is_idempotent(world):
    store, server = world
    engine(store, strategy='overlap', overlap='1h').rotate()
    new = store.current('secret/app/db')
    assert server.users['app'] == {OLD['password'], new['password']}
    early = engine(store, strategy='overlap', overlap='1h').contract()
    assert early['contract']['performed'] is False and 'overlap runs until' in early['contract']['reason']
    with pytest.raises(RotationInProgress):                                 # a new rotation waits too
        engine(store, strategy='overlap', overlap='1h').rotate()
    done = engine(store, strategy='overlap', overlap='0').contract()
    assert done['contract']['performed'] is True and done['changed']
    assert server.users['app'] == {new['password']}
    again = engine(store, strategy='overlap').contract()
    assert again['contract']['performed'] is False and not again['changed']


def test_contract_follows_the_strategy_the_rotation_used(world):
    store, server = world
    engine(store, strategy='overlap').rotate()
    new = store.current('secret/app/db')
    done = engine(store).contract()                  # strategy not repeated: single by default
    assert done['contract']['performed'] and done['strategy_used'] == 'overlap'
    assert server.users['app'] == {new['password']}


def test_rotation_contracts_the_last_one_when_its_overlap_is_over(world):
    store, server = world
    engine(store, strategy='overlap').rotate()
    second = engine(store, strategy='overlap').rotate()
    assert second['contract']['performed'] is True
    assert len(server.users['app']) == 2                                    # the last two only


def test_rehearse_rolls_back_on_purpose(world):
    store, server = world
    audit = RecordingAudit()
    result = engine(store, audit=audit).rotate(rehearse=True)
    assert result['action'] == 'rehearsed' and not result['changed']
    assert result['rehearsal'] == {'rotation': 'ok', 'rollback': 'ok', 'old_credential_works': True,
                                   'new_credential_rejected': True}
    assert store.data['secret/app/db'] == [OLD]
    assert server.users['app'] == {OLD['password']}
    assert live(store, 'secret/app/db__pending') is None
    assert audit.actions()[-1] == 'rotate.rollback'


def test_plan_changes_nothing(world):
    store, server = world
    before = json.dumps(store.data, sort_keys=True)
    result = engine(store).plan()
    assert result['changed'] and result['plan']['steps'][0].startswith('create')
    assert json.dumps(store.data, sort_keys=True) == before and server.calls == []


def test_min_age_skips_a_young_value(world):
    store, server = world
    engine(store).rotate()
    result = engine(store, min_age='30d').rotate()
    assert result['action'] == 'skipped' and not result['changed'] and result['next_due']


def test_min_age_in_check_mode_plans_a_skip(world):
    """Issue 16: the plan's local list of steps shadowed the steps module (AttributeError with min_age)."""
    store, server = world
    engine(store).rotate()
    before = json.dumps(store.data, sort_keys=True)
    young = engine(store, min_age='30d').plan()
    assert not young['changed'] and young['plan']['steps'] == [] and young['next_due']
    due = engine(store, min_age='0s').plan()
    assert due['changed'] and due['plan']['steps'][0].startswith('create')
    assert json.dumps(store.data, sort_keys=True) == before


def test_missing_credential_needs_an_admin_and_a_username(world):
    store, server = world
    store.data.clear()
    with pytest.raises(SecretError, match='holds no credential yet'):
        engine(store).rotate()
    assert server.calls == []


@pytest.mark.parametrize('fault', [None, 'reject_new'])
def test_first_credential_is_created_by_the_admin(world, monkeypatch, fault):
    store, server = world
    store.data.clear()
    FakeTarget.faults = {fault} if fault else set()
    opts = {'username': 'fresh', 'admin_username': 'root', 'admin_password': 'admin-pw'}
    eng = engine(store, target_options=opts)
    if fault:
        with pytest.raises(RotationFailed):
            eng.rotate()
        assert eng.result['rolled_back']['pending_cleared'] and not server.users.get('fresh')
        assert store.current('secret/app/db') is None
        return
    result = eng.rotate()
    cur = store.current('secret/app/db')
    assert result['action'] == 'rotated' and cur['username'] == 'fresh' and server.login('fresh', cur['password'])
    assert live(store, 'secret/app/db__previous') is None           # nothing was replaced


def test_alternating_switches_user(world):
    store, server = world
    eng = engine(store, strategy='alternating', target_options={'username': 'app'})
    eng.rotate()
    cur = store.current('secret/app/db')
    assert cur['username'] == 'app_a' and server.login('app_a', cur['password'])
    assert server.login('app', OLD['password'])                             # old still works until contract
    engine(store, strategy='alternating', target_options={'username': 'app'}).rotate()
    assert store.current('secret/app/db')['username'] == 'app_b'
    assert not server.login('app', OLD['password'])                         # contracted before the 2nd


# -- local stores: flock ------------------------------------------------------------------------------------------
def test_flock_excludes_a_second_rotation_of_a_file(tmp_path, monkeypatch):
    from ansible_collections.agentarea.secrets.plugins.module_utils.backends._files import FileBackend
    path = tmp_path / 'db.json'
    path.write_text(json.dumps(OLD))
    FakeTarget.server = FakeServer({'app': {'old-password-1'}})
    FakeTarget.faults = set()
    monkeypatch.setattr(_rotation, 'target_class', lambda kind: FakeTarget)
    ref = parse_ref('file://%s' % path)
    first = _rotation.Rotation(FileBackend(), ref, 'postgres', fingerprint_key=FKEY, environ={})
    first.lock.hold_run()
    try:
        with pytest.raises(RotationInProgress, match='another rotation'):
            _rotation.Rotation(FileBackend(), ref, 'postgres', fingerprint_key=FKEY, environ={}).rotate()
    finally:
        first.lock.release()
    result = _rotation.Rotation(FileBackend(), ref, 'postgres', fingerprint_key=FKEY, environ={}).rotate()
    assert result['action'] == 'rotated'
    assert json.loads(path.read_text())['password'] != OLD['password']
    previous = json.loads((tmp_path / 'db.json__previous').read_text())
    assert previous['value'] == 'null' and json.loads(previous['rotation'])['contracted'] is True   # single
    assert OLD['password'] not in (tmp_path / 'db.json__previous').read_text()
    assert not (tmp_path / 'db.json__pending').exists()


# -- helpers ----------------------------------------------------------------------------------------------------
@pytest.mark.parametrize('ref, slot', [
    ('vault://secret/agentarea/database', 'vault://secret/agentarea/database__pending'),
    ('vault://secret/agentarea/database#password?version=3', 'vault://secret/agentarea/database__pending__password'),
    ('dotenv:///srv/.env#JWT_SECRET', 'file:///srv/.env__pending__JWT_SECRET'),
    ('file:///srv/keys.json', 'file:///srv/keys.json__pending'),
    ('k8s://agentarea/app-secrets#DATABASE_URL', 'k8s://agentarea/app-secrets-pending-database-url'),
    ('pass://agentarea/db', 'pass://agentarea/db__pending'),
])
def test_slot_locations(ref, slot):
    assert str(slot_ref(parse_ref(ref), 'pending')) == slot


def test_durations():
    assert parse_duration('90') == 90 and parse_duration('15m') == 900 and parse_duration('2d') == 172800
    assert parse_duration(None) is None
    with pytest.raises(SecretError):
        parse_duration('soon')


def test_empty_slot_is_a_tombstone_claimed_with_check_and_set(world):
    store, server = world
    engine(store).rotate()
    tomb = store.data['secret/app/db__pending']
    assert json.loads(tomb[-1]['rotation']) == {} and 'secret/app/db__pending' in store.data   # never deleted
    second = engine(store)
    stale = second.pending.claim_cas()
    assert stale == str(len(tomb))

    def racing_claim_cas():
        # another run claims the slot right after this one read the tombstone
        record = json.dumps({'id': 'other', 'owner': _rotation_state.owner_record()})
        store.write(parse_ref('vault://secret/app/db__pending'), {'rotation': record, 'value': 'null'})
        return stale
    second.pending.claim_cas = racing_claim_cas
    with pytest.raises(RotationInProgress, match='rotation other'):
        second.rotate()
    assert second.result['rolled_back'] is None
    assert server.users['app'] == {store.current('secret/app/db')['password']}


# -- lost answers (issue 12): a write lands, its answer does not ----------------------------------------------------
class LostAnswers(MemoryBackend):
    """Writes to ``lose`` land, then raise as if the answer had been lost; with ``blind`` every read after that
    fails too."""

    def __init__(self, data, lose, blind=False):
        super(LostAnswers, self).__init__(data)
        self.lose, self.blind, self.lost = dict(lose), blind, False

    def write(self, ref, value, cas=None, metadata=None):
        out = super(LostAnswers, self).write(ref, value, cas=cas, metadata=metadata)
        if self.lose.get(ref.location):
            self.lose[ref.location] -= 1
            self.lost = True
            from ansible_collections.agentarea.secrets.plugins.module_utils.core._errors import BackendUnavailable
            raise BackendUnavailable('HTTP 502 (injected: the answer was lost)', ref=ref, backend=self.NAME)
        return out

    def read(self, ref):
        if self.lost and self.blind:
            from ansible_collections.agentarea.secrets.plugins.module_utils.core._errors import BackendUnavailable
            raise BackendUnavailable('cannot be read (injected)', ref=ref, backend=self.NAME)
        return super(LostAnswers, self).read(ref)


@pytest.mark.parametrize('location', ['secret/app/db__pending', 'secret/app/db__previous', 'secret/app/db'])
def test_a_lost_answer_at_a_write_is_settled_by_reading_back(world, location):
    store, server = world
    lossy = LostAnswers({'secret/app/db': dict(OLD)}, {location: 1})
    result = engine(lossy).rotate()
    new = lossy.current('secret/app/db')
    assert lossy.lost and result['action'] == 'rotated' and result['rolled_back'] is None
    assert new['password'] != OLD['password'] and server.users['app'] == {new['password']}
    assert live(lossy, 'secret/app/db__pending') is None
    if location == 'secret/app/db':
        assert any('the rotation is committed' in note for note in result['notes'])


def test_a_lost_promotion_with_the_store_unreadable_revokes_nothing_and_resumes(world, monkeypatch):
    store, server = world
    lossy = LostAnswers({'secret/app/db': dict(OLD)}, {'secret/app/db': 1}, blind=True)
    eng = engine(lossy)
    with pytest.raises(RotationFailed, match='could not be read back') as err:
        eng.rotate()
    new = lossy.current('secret/app/db')
    assert 'nothing was revoked' in str(err.value) and eng.result['rolled_back'] is None
    assert server.users['app'] == {new['password']} and 'revert' not in server.calls       # the target kept it
    assert json.loads(lossy.current('secret/app/db__pending')['value']) == new              # resumable
    lossy.blind = False
    owner_gone(monkeypatch)
    again = engine(lossy).rotate()
    assert again['resumed']['outcome'] == 'completed' and lossy.current('secret/app/db') == new
    assert live(lossy, 'secret/app/db__pending') is None


def test_a_promotion_refused_before_it_landed_still_rolls_back(world):
    store, server = world
    store.refuse.add('secret/app/db')
    eng = engine(store)
    with pytest.raises(SecretError):
        eng.rotate()
    assert eng.result['rolled_back']['target_reverted'] is True and store.current('secret/app/db') == OLD


def test_contract_drops_the_retired_value_from_the_previous_slot(world):
    store, server = world
    engine(store, strategy='overlap').rotate()
    assert json.loads(store.current('secret/app/db__previous')['value']) == OLD        # kept for the overlap
    engine(store, strategy='overlap').contract()
    prev = store.current('secret/app/db__previous')
    assert json.loads(prev['value']) is None and json.loads(prev['rotation'])['contracted'] is True
    again = engine(store, strategy='overlap').contract()
    assert not again['changed'] and 'already contracted' in again['contract']['reason']


class LambdaManaged(MemoryBackend):
    """A store whose secret says AWS rotates it with its own Lambda function (as AwsBackend.read reports it)."""

    def read(self, ref):
        secret = super(LambdaManaged, self).read(ref)
        if ref.location == 'secret/app/db':
            secret.metadata = {'rotation_enabled': True, 'rotation_lambda': 'arn:aws:lambda:eu-west-1:1:function:rot'}
        return secret


def test_a_lambda_managed_secret_is_left_alone_unless_told(world):
    _store, server = world
    store = LambdaManaged({'secret/app/db': dict(OLD)})
    for run in (lambda e: e.rotate(), lambda e: e.plan()):
        with pytest.raises(SecretError, match=r"vault://secret/app/db' is rotated by AWS Secrets Manager|"
                                              r"vault://secret/app/db is rotated by AWS Secrets Manager") as info:
            run(engine(store))
        assert 'function:rot' in str(info.value) and 'rotate_lambda_managed: true' in str(info.value)
        assert store.current('secret/app/db') == OLD and server.users['app'] == {'old-password-1'}
        assert store.current('secret/app/db__pending') is None
    store.options['rotate_lambda_managed'] = True
    assert engine(store).rotate()['action'] == 'rotated'
    assert store.current('secret/app/db')['password'] != OLD['password']
