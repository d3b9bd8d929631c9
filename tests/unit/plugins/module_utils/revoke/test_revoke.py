# -*- coding: utf-8 -*-
"""Revocation logic against in-memory Vault, IAM and database fakes: what is found, what is revoked (nothing in
check mode), the order of steps, idempotence, errors that do not stop the other steps, and value-free results."""
import datetime
import json

import hvac
import pytest
import yaml
from botocore.exceptions import ClientError

from ansible_collections.agentarea.secrets.plugins.module_utils.revoke import _sessions as _revoke_sessions
from ansible_collections.agentarea.secrets.plugins.module_utils.core._errors import SecretError
from ansible_collections.agentarea.secrets.plugins.module_utils.revoke._revoke import (
    MAX_IDS, Report, VaultRevoker, diff, revoke_vault, token_matches,
)
from ansible_collections.agentarea.secrets.plugins.module_utils.revoke._iam import revoke_access_keys
from ansible_collections.agentarea.secrets.plugins.module_utils.revoke._sessions import revoke_sessions, target_for
from ansible_collections.agentarea.secrets.plugins.module_utils.backends.vault._backend import VaultBackend
from ansible_collections.agentarea.secrets.plugins.module_utils.rotation.targets._base import TargetUnavailable
from tests.unit.plugins.module_utils.rotation.rotation_fakes import RecordingAudit

URL = 'http://vault.test:8200'
SECRET_TOKEN = 's.canary-token-value'


def _err(cls, *errors):
    return cls(errors=list(errors), method='post', url=URL + '/v1/x')


# -- a Vault that keeps tokens and leases in dicts -----------------------------------------------------------------
class FakeVault:
    def __init__(self):
        self.tokens = {}     # accessor -> lookup data (with the token id, which must never be returned)
        self.leases = set()
        self.calls = []
        self.deny = set()    # operation names answered with 403
        self.own = 'acc-own'
        outer = self

        class Token:
            def lookup_accessor(self, accessor):
                outer.calls.append(('lookup', accessor))
                if accessor not in outer.tokens:
                    raise _err(hvac.exceptions.InvalidRequest, '1 error occurred:\n\t* invalid accessor\n\n')
                return {'data': dict(outer.tokens[accessor])}

            def revoke_accessor(self, accessor):
                outer.calls.append(('revoke_accessor', accessor))
                if 'revoke_accessor' in outer.deny:
                    raise _err(hvac.exceptions.Forbidden, 'permission denied')
                outer.leases.discard((outer.tokens.pop(accessor, None) or {}).get('lease'))

            def list_accessors(self):
                outer.calls.append(('list_accessors',))
                return {'data': {'keys': list(outer.tokens)}}

            def lookup_self(self):
                return {'data': {'accessor': outer.own, 'id': SECRET_TOKEN}}

        class Sys:
            def list_leases(self, path):
                outer.calls.append(('list', path))
                if 'list' in outer.deny:
                    raise _err(hvac.exceptions.Forbidden, 'permission denied')
                keys = set()
                for lease in outer.leases:
                    if lease.startswith(path):
                        rest = lease[len(path):]
                        keys.add(rest.split('/', 1)[0] + ('/' if '/' in rest else ''))
                if not keys:
                    raise _err(hvac.exceptions.InvalidPath)
                return {'data': {'keys': sorted(keys)}}

            def read_lease(self, lease_id):
                if lease_id not in outer.leases:
                    raise _err(hvac.exceptions.InvalidRequest, 'invalid lease')
                return {'data': {'id': lease_id}}

            def _revoke(self, kind, prefix):
                outer.calls.append((kind, prefix))
                if prefix in outer.leases:
                    outer.leases.discard(prefix)
                    return
                for lease in [x for x in outer.leases if x.startswith(prefix.rstrip('/') + '/')]:
                    outer.leases.discard(lease)
                    for acc, data in list(outer.tokens.items()):
                        if data.get('lease') == lease:
                            del outer.tokens[acc]

            def revoke_prefix(self, prefix):
                self._revoke('revoke_prefix', prefix)

            def revoke_force(self, prefix):
                self._revoke('revoke_force', prefix)

        self.auth = type('Auth', (), {'token': Token()})()
        self.sys = Sys()

    def add_token(self, accessor, path, meta=None, role=None):
        lease = '%s/h%s' % (path, accessor)
        self.tokens[accessor] = {'id': SECRET_TOKEN + accessor, 'accessor': accessor, 'path': path, 'meta': meta,
                                 'role': role, 'policies': ['default'], 'display_name': 'approle', 'lease': lease}
        self.leases.add(lease)

    def writes(self):
        return [c for c in self.calls if c[0] in ('revoke_accessor', 'revoke_prefix', 'revoke_force')]


@pytest.fixture
def vault():
    fake = FakeVault()
    fake.add_token('acc-1', 'auth/approle/login', {'role_name': 'leaked'})
    fake.add_token('acc-2', 'auth/approle/login', {'role_name': 'leaked'})
    fake.add_token('acc-3', 'auth/approle/login', {'role_name': 'other'})
    fake.add_token('acc-4', 'auth/token/create/tr', role='tr')
    fake.add_token('acc-5', 'auth/kubernetes/login', {'role': 'leaked'})
    fake.add_token(fake.own, 'auth/approle/login', {'role_name': 'leaked'})
    fake.leases.update({'database/creds/ro/l1', 'database/creds/ro/l2', 'database/creds/rw/l3'})
    backend = VaultBackend({'url': URL, 'token': 'x'})
    backend._client = fake
    return fake, backend


def run_vault(backend, spec, check=False):
    report = Report(check, RecordingAudit())
    return report, revoke_vault(VaultRevoker(backend, report), spec)


def test_accessors_revoked_once_absent_ones_reported(vault):
    fake, backend = vault
    report, out = run_vault(backend, {'accessors': ['acc-4', 'gone']})
    assert [a['state'] for a in out['accessors']] == ['revoked', 'none']
    assert out['accessors'][0]['role'] == 'tr' and out['accessors'][0]['path'] == 'auth/token/create/tr'
    assert report.changed and report.summary['vault_tokens'] == 1 and 'acc-4' not in fake.tokens
    assert report.audit.actions() == ['revoke.vault_token']
    report, out = run_vault(backend, {'accessors': ['acc-4']})
    assert not report.changed and out['accessors'][0]['state'] == 'none' and report.audit.events == []


def test_check_mode_finds_the_same_and_writes_nothing(vault):
    fake, backend = vault
    spec = {'accessors': ['acc-3'], 'roles': [{'mount': 'approle', 'name': 'leaked'}],
            'prefixes': ['database/creds/ro']}
    report, plan = run_vault(backend, spec, check=True)
    assert fake.writes() == [] and report.audit.events == []
    assert plan['accessors'][0]['state'] == 'would_revoke' and plan['prefixes'][0]['state'] == 'would_revoke'
    assert report.summary == {'vault_tokens': 3, 'vault_leases': 2, 'aws_access_keys': 0, 'db_sessions': 0,
                              'logins_disabled': 0}
    applied, out = run_vault(backend, spec)
    assert applied.summary == report.summary and applied.changed
    assert [x['state'] for x in (out['accessors'][0], out['roles'][0], out['prefixes'][0])] == ['revoked'] * 3
    again, dummy = run_vault(backend, spec)
    assert not again.changed and fake.leases == {'database/creds/rw/l3'} | {
        t['lease'] for t in fake.tokens.values()}


def test_role_of_a_login_method_matches_path_and_metadata_and_spares_the_own_token(vault):
    fake, backend = vault
    report, out = run_vault(backend, {'roles': [{'mount': 'approle', 'name': 'leaked'}]})
    role = out['roles'][0]
    assert role['tokens'] == 2 and sorted(role['accessors']) == ['acc-1', 'acc-2'] and role['skipped_own_token']
    assert set(fake.tokens) == {'acc-3', 'acc-4', 'acc-5', fake.own}       # kubernetes 'leaked' is another mount
    assert any('not revoked' in n for n in report.notes)


def test_token_store_role_is_a_prefix(vault):
    fake, backend = vault
    report, out = run_vault(backend, {'roles': [{'mount': 'auth/token', 'name': 'tr'}]})
    assert out['roles'][0] == {'mount': 'token', 'name': 'tr', 'tokens': 1, 'state': 'revoked'}
    assert ('revoke_prefix', 'auth/token/create/tr') in fake.calls and 'acc-4' not in fake.tokens
    assert ('list_accessors',) not in fake.calls


def test_prefixes_walk_nested_leases_and_hide_auth_lease_ids(vault):
    fake, backend = vault
    report, out = run_vault(backend, {'prefixes': ['database/creds/', 'auth/approle/login']})
    db, auth = out['prefixes']
    assert db['prefix'] == 'database/creds' and db['leases'] == 3
    assert sorted(db['lease_ids']) == ['database/creds/ro/l1', 'database/creds/ro/l2', 'database/creds/rw/l3']
    assert auth['leases'] == 4 and 'lease_ids' not in auth
    assert report.summary['vault_leases'] == 3 and report.summary['vault_tokens'] == 4


def test_a_single_lease_id_and_force(vault):
    fake, backend = vault
    report, out = run_vault(backend, {'prefixes': ['database/creds/ro/l1'], 'force': True})
    assert out['prefixes'][0]['leases'] == 1 and ('revoke_force', 'database/creds/ro/l1') in fake.calls
    assert 'database/creds/ro/l2' in fake.leases


def test_listing_denied_still_revokes_and_says_the_count_is_unknown(vault):
    fake, backend = vault
    fake.deny.add('list')
    report, out = run_vault(backend, {'prefixes': ['database/creds/ro']})
    assert out['prefixes'][0]['leases'] is None and out['prefixes'][0]['state'] == 'revoked'
    assert report.changed and report.summary['vault_leases'] == 0 and 'unknown' in report.notes[0]


def test_a_denied_revocation_fails_that_item_only(vault):
    fake, backend = vault
    fake.deny.add('revoke_accessor')
    report, out = run_vault(backend, {'accessors': ['acc-3'], 'prefixes': ['database/creds/ro']})
    assert out['accessors'][0]['state'] == 'failed' and 'permission denied' in out['accessors'][0]['error']
    assert out['prefixes'][0]['state'] == 'revoked' and len(report.errors) == 1
    assert "vault accessor 'acc-3'" in report.errors[0]
    assert [e['outcome'] for e in report.audit.events] == ['failed', 'revoked']


def test_results_never_hold_a_token(vault):
    fake, backend = vault
    spec = {'accessors': ['acc-1', 'acc-4'], 'roles': [{'mount': 'approle', 'name': 'leaked'}]}
    report, out = run_vault(backend, spec)
    text = json.dumps([out, report.audit.events, report.notes, diff({'vault': out})])
    assert 's.canary' not in text and '"id"' not in text


def test_token_matches():
    info = {'path': 'auth/approle/login', 'meta': {'role_name': 'api'}}
    assert token_matches(info, 'approle', 'api')
    assert not token_matches(info, 'approle2', 'api') and not token_matches(info, 'approle', 'ap')
    assert token_matches({'path': 'auth/userpass/login/bob', 'meta': {'username': 'bob'}}, 'userpass', 'bob')


# -- IAM -----------------------------------------------------------------------------------------------------------
class FakeIam:
    def __init__(self, keys, page=1):
        self.keys = keys     # id -> status
        self.page = page
        self.calls = []

    def list_access_keys(self, UserName, Marker=None):
        if UserName != 'leaked':
            raise ClientError({'Error': {'Code': 'NoSuchEntity', 'Message': 'no user'}}, 'ListAccessKeys')
        ids = sorted(self.keys)
        start = int(Marker or 0)
        chunk = ids[start:start + self.page]
        more = start + self.page < len(ids)
        return {'AccessKeyMetadata': [{'AccessKeyId': i, 'Status': self.keys[i],
                                       'CreateDate': datetime.datetime(2026, 1, 2, tzinfo=datetime.timezone.utc)}
                                      for i in chunk], 'IsTruncated': more, 'Marker': str(start + self.page)}

    def get_access_key_last_used(self, AccessKeyId):
        return {'AccessKeyLastUsed': {'ServiceName': 'N/A', 'Region': 'N/A'}} if AccessKeyId.endswith('1') else {
            'AccessKeyLastUsed': {'LastUsedDate': datetime.datetime(2026, 3, 1, tzinfo=datetime.timezone.utc),
                                  'ServiceName': 's3', 'Region': 'eu-west-1'}}

    def update_access_key(self, UserName, AccessKeyId, Status):
        self.calls.append(('update', AccessKeyId))
        self.keys[AccessKeyId] = Status

    def delete_access_key(self, UserName, AccessKeyId):
        self.calls.append(('delete', AccessKeyId))
        del self.keys[AccessKeyId]


def test_iam_deactivate_keeps_listed_keys_and_pages():
    iam = FakeIam({'AKIA1': 'Active', 'AKIA2': 'Active', 'AKIA3': 'Inactive'})
    spec = {'user': 'leaked', 'keep_access_key_ids': ['AKIA2', 'AKIAX']}
    report = Report(True)
    plan = revoke_access_keys(iam, spec, report)
    assert iam.calls == [] and report.summary['aws_access_keys'] == 1
    assert [k['state'] for k in plan['keys']] == ['would_deactivate', 'kept', 'none']
    assert plan['keys'][0]['last_used'] is None and 'last_used_service' not in plan['keys'][0]
    assert plan['keys'][1]['last_used'] == '2026-03-01T00:00:00Z' and plan['keys'][1]['last_used_service'] == 's3'
    assert plan['keep_not_found'] == ['AKIAX'] and plan['kept'] == ['AKIA2'] and report.notes
    report = Report(False, RecordingAudit())
    out = revoke_access_keys(iam, spec, report)
    assert iam.keys == {'AKIA1': 'Inactive', 'AKIA2': 'Active', 'AKIA3': 'Inactive'}
    assert out['state'] == 'revoked' and report.audit.events[0]['access_key_id'] == 'AKIA1'
    again = Report(False)
    revoke_access_keys(iam, spec, again)
    assert not again.changed


def test_iam_delete_removes_inactive_keys_too_and_its_own_key_last():
    iam = FakeIam({'AKIA1': 'Active', 'AKIA2': 'Inactive', 'AKIA3': 'Active'}, page=10)
    report = Report(False)
    out = revoke_access_keys(iam, {'user': 'leaked', 'action': 'delete'}, report, own_key_id='AKIA1')
    assert iam.calls == [('delete', 'AKIA2'), ('delete', 'AKIA3'), ('delete', 'AKIA1')]
    assert [k['state'] for k in out['keys']] == ['deleted'] * 3 and 'last' in report.notes[0]


def test_iam_unknown_user_is_an_error_not_a_crash():
    report = Report(False)
    out = revoke_access_keys(FakeIam({}), {'user': 'typo'}, report)
    assert out['state'] == 'failed' and "IAM user 'typo'" in report.errors[0] and 'no such IAM user' in out['error']


# -- database sessions ----------------------------------------------------------------------------------------------
class FakeDb:
    def __init__(self, users, sessions):
        self.users, self.sessions, self.log = users, sessions, []

    def close(self):
        self.log.append('close')


class FakeKind:
    def __init__(self, target, username):
        self.target, self.username = target, username

    def open(self, admin):
        self.target.db.log.append(('open', admin[0]))
        return self.target.db

    def login(self, conn):
        return (self.username in conn.users, conn.users.get(self.username, False))

    def disable(self, conn):
        conn.log.append('disable')
        conn.users[self.username] = False

    def sessions(self, conn):
        return [{'id': i} for i in conn.sessions.get(self.username, [])]

    def kill(self, conn, found):
        conn.log.append('kill')
        return [s['id'] for s in found if conn.sessions[self.username].remove(s['id']) is None]


class FakeTarget:
    def __init__(self, db, admin=('adm', 'admin-canary')):
        self.db, self._admin = db, admin

    def admin(self):
        return self._admin


def run_sessions(db, spec, check=False, admin=('adm', 'admin-canary')):
    report = Report(check, RecordingAudit())
    spec = dict({'kind': 'postgres', 'host': 'db', 'port': 5432}, **spec)
    item = revoke_sessions(spec, None, report, kinds={'postgres': FakeKind},
                           target_factory=lambda s, stores: FakeTarget(db, admin))
    return report, item


def test_sessions_login_disabled_before_the_kill_then_nothing_to_do():
    db = FakeDb({'app': True}, {'app': [11, 12]})
    report, plan = run_sessions(db, {'username': 'app', 'disable_login': True}, check=True)
    assert plan['state'] == 'would_revoke' and plan['login'] == 'would_disable' and plan['ended'] == 2
    assert 'disable' not in db.log and 'kill' not in db.log and db.log[-1] == 'close'
    report, item = run_sessions(db, {'username': 'app', 'disable_login': True})
    assert [x for x in db.log if x in ('disable', 'kill')] == ['disable', 'kill']
    assert item['ended'] == 2 and item['login'] == 'disabled' and report.summary['db_sessions'] == 2
    assert report.summary['logins_disabled'] == 1 and report.audit.actions() == ['revoke.db_login',
                                                                                 'revoke.db_sessions']
    again, item = run_sessions(db, {'username': 'app', 'disable_login': True})
    assert not again.changed and item['state'] == 'none' and item['login'] == 'disabled'
    text = json.dumps([plan, item, report.audit.events])
    assert 'admin-canary' not in text


def test_sessions_need_an_admin_and_never_lock_out_the_admin():
    db = FakeDb({'app': True}, {'app': [1]})
    report, item = run_sessions(db, {'username': 'app'}, admin=None)
    assert item['state'] == 'failed' and 'admin' in report.errors[0]
    report, item = run_sessions(db, {'username': 'app', 'disable_login': True}, admin=('app', 'pw'))
    assert item['state'] == 'failed' and 'lock out the admin' in item['error'] and db.users['app']


def test_sessions_of_a_missing_user_are_still_looked_for():
    db = FakeDb({}, {'ghost': [5]})
    report, item = run_sessions(db, {'username': 'ghost', 'disable_login': True})
    assert item['exists'] is False and 'login' not in item and item['ended'] == 1 and report.notes


def test_an_unreachable_server_is_a_failed_item():
    class Down(FakeKind):
        def open(self, admin):
            raise TargetUnavailable('cannot reach PostgreSQL at db:5432 (OperationalError)')
    report = Report(False)
    item = revoke_sessions({'kind': 'postgres', 'username': 'app', 'host': 'db', 'port': 5432}, None, report,
                           kinds={'postgres': Down}, target_factory=lambda s, st: FakeTarget(None))
    assert item['state'] == 'failed' and 'cannot reach' in report.errors[0]


def test_target_for_uses_the_rotation_targets_and_their_admin_reference():
    class Stores:
        def read(self, text):
            assert text == 'vault://secret/agentarea/db-admin'
            return {'username': 'adm', 'password': 'pw'}
    spec = {'kind': 'postgres', 'username': 'app', 'socket': '/run/pg', 'port': 5433, 'host': None,
            'admin': 'vault://secret/agentarea/db-admin', 'disable_login': True}
    target = target_for(spec, Stores())
    assert type(target).__name__ == 'PostgresTarget' and target.opt('socket_dir') == '/run/pg'
    assert target.admin() == ('adm', 'pw') and target.opt('disable_login') is None
    mysql = target_for({'kind': 'mysql', 'username': 'app', 'admin': 'root', 'admin_password': 'pw',
                        'user_host': 'localhost'}, None)
    assert mysql.admin() == ('root', 'pw') and _revoke_sessions.MysqlSessions(mysql, 'app').host == 'localhost'
    redis_t = target_for({'kind': 'redis', 'username': 'app', 'admin_password': 'pw'}, None)
    assert redis_t.admin() == ('default', 'pw')


# -- report, diff, module docs ----------------------------------------------------------------------------------------
def test_ids_are_capped_but_counts_are_exact(vault):
    fake, backend = vault
    fake.leases.update('database/creds/big/l%03d' % i for i in range(MAX_IDS + 5))
    report, out = run_vault(backend, {'prefixes': ['database/creds/big']}, check=True)
    assert out['prefixes'][0]['leases'] == MAX_IDS + 5 and len(out['prefixes'][0]['lease_ids']) == MAX_IDS


def test_diff_shows_counts_and_statuses_before_and_after():
    result = {
        'vault': {'accessors': [{'accessor': 'a', 'state': 'revoked', 'path': 'auth/x'},
                                {'accessor': 'b', 'state': 'none'}],
                  'roles': [{'mount': 'approle', 'name': 'r', 'tokens': 2, 'state': 'would_revoke'}],
                  'prefixes': [{'prefix': 'p', 'leases': None, 'state': 'revoked'}]},
        'aws_iam': {'user': 'u', 'keys': [{'access_key_id': 'K1', 'status': 'Active', 'state': 'deactivated'},
                                          {'access_key_id': 'K2', 'status': 'Active', 'state': 'kept'},
                                          {'access_key_id': 'K3', 'status': 'Inactive', 'state': 'deleted'}]},
        'sessions': [{'kind': 'redis', 'username': 'app', 'endpoint': 'h:1', 'sessions': 3, 'ended': 3,
                      'login': 'disabled', 'login_changed': True}],
    }
    d = diff(result)
    assert d['before']['vault accessor a'] == {'live_tokens': 1} and d['after']['vault accessor a'] == {
        'live_tokens': 0}
    assert d['before']['vault accessor b'] == d['after']['vault accessor b'] == {'live_tokens': 0}
    assert d['after']['vault role approle/r'] == {'live_tokens': 0}
    assert d['before']['vault prefix p'] == {'leases': 'unknown'}
    assert d['after']['aws_iam user u'] == {'access_keys': {'K1': 'Inactive', 'K2': 'Active'}}
    assert d['before']['redis sessions of app at h:1'] == {'sessions': 3, 'login': 'enabled'}
    assert d['after']['redis sessions of app at h:1'] == {'sessions': 0, 'login': 'disabled'}


def test_module_docs_match_its_argspec():
    from ansible_collections.agentarea.secrets.plugins.modules import revoke
    doc = yaml.safe_load(revoke.DOCUMENTATION)
    opts = doc['options']
    for name, spec in (('vault', revoke.VAULT_SPEC), ('aws_iam', revoke.AWS_IAM_SPEC),
                       ('sessions', revoke.SESSION_SPEC)):
        documented = opts[name]['suboptions']
        assert set(documented) == set(spec), name
        for key, arg in spec.items():
            assert documented[key].get('default') == arg.get('default'), (name, key)
            assert documented[key]['type'] == arg['type'], (name, key)
    assert doc['author'] == ['agentarea.secrets contributors (@agentarea)']
    assert set(doc['attributes']) == {'check_mode', 'diff_mode'}
    assert yaml.safe_load(revoke.RETURN)['summary']['returned'] == 'always'
    yaml.safe_load(revoke.EXAMPLES)


def test_error_text_never_uses_a_foreign_message():
    from ansible_collections.agentarea.secrets.plugins.module_utils.revoke._revoke import error_text
    assert error_text(ValueError('password=hunter2')) == 'ValueError'
    assert error_text(SecretError('x', backend='vault')) == 'vault: x'
