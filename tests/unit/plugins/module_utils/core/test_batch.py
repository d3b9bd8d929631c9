# -*- coding: utf-8 -*-
"""core/_module.SecretModule's batch machinery (issue 17): one module call for many entries (rotate's
``rotations``, secret's ``secrets``, distribute's ``distributions``), each entry with its own phases, result and
value-free failure; the single-entry form unchanged. The real modules over file:// stores, driven as
test_secret_module drives SecretModule (module input patched in, exit_json/fail_json caught)."""
import json

import pytest

from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args

from ansible_collections.agentarea.secrets.plugins.module_utils.core._audit import read_events
from ansible_collections.agentarea.secrets.plugins.module_utils.core._module import SecretModule, batch_item_spec
from ansible_collections.agentarea.secrets.plugins.modules import distribute, rotate, secret

KEY = 'k' * 32
CANARY = 'canary-batch-Xy7w'


class Exited(SystemExit):
    def __init__(self, kwargs):
        super(Exited, self).__init__(kwargs)
        self.result = kwargs


class Failed(Exited):
    pass


@pytest.fixture(autouse=True)
def caught(monkeypatch):
    def exit_json(self, **kwargs):
        raise Exited(kwargs)

    def fail_json(self, msg, **kwargs):
        kwargs['msg'] = msg
        raise Failed(kwargs)
    monkeypatch.setattr(basic.AnsibleModule, 'exit_json', exit_json)
    monkeypatch.setattr(basic.AnsibleModule, 'fail_json', fail_json)


def run(cls, **args):
    args.setdefault('fingerprint_key', KEY)
    with patch_module_args(args):
        with pytest.raises(Exited) as ended:
            cls().main()
    return ended.value


def test_item_spec_is_the_single_spec_without_required_and_defaults():
    spec = batch_item_spec(rotate.Rotate.OPTIONS, 'name')
    items = rotate.Rotate.argument_spec()['rotations']['options']
    assert set(items) == set(rotate.Rotate.BATCH_OPTIONS) | {'name'}
    assert items['target']['options'] == rotate.TARGET_SPEC  # suboptions kept whole, defaults included
    assert 'default' not in items['strategy'] and 'required' not in items['store']
    assert items['store']['aliases'] == ['ref']
    assert secret.Secret.argument_spec()['secrets']['options']['value']['no_log'] is True
    assert spec['name'] == {'type': 'str'}


def test_secret_batch_generates_each_once_and_names_results(tmp_path):
    refs = ['file://%s/s%d' % (tmp_path, i) for i in range(3)]
    items = [{'name': 'n%d' % i, 'ref': ref} for i, ref in enumerate(refs)]
    ended = run(secret.Secret, secrets=items, generate={'kind': 'hex', 'bits': 128}, concurrency=2,
                audit_log=str(tmp_path / 'audit.jsonl'))
    assert not isinstance(ended, Failed)
    res = ended.result
    assert res['changed'] and [r['name'] for r in res['results']] == ['n0', 'n1', 'n2']
    assert all(r['action'] == 'created' and r['fingerprint'] for r in res['results'])
    assert len(res['diff']) == 3 and res['failed_count'] == 0
    assert len(read_events(str(tmp_path / 'audit.jsonl'))) == 3
    again = run(secret.Secret, secrets=items, generate={'kind': 'hex', 'bits': 128}).result
    assert not again['changed'] and [r['action'] for r in again['results']] == ['none'] * 3


def test_secret_batch_item_values_and_a_failing_item(tmp_path):
    items = [{'name': 'good', 'ref': 'file://%s/good' % tmp_path, 'value': CANARY},
             {'name': 'bad', 'ref': 'nosuchscheme://x'},
             {'name': 'novalue', 'ref': 'file://%s/other' % tmp_path}]
    ended = run(secret.Secret, secrets=items)
    assert isinstance(ended, Failed)
    res = ended.result
    assert res['failed_count'] == 2 and res['results'][0]['action'] == 'created'
    assert res['results'][1]['failed'] and res['results'][1]['name'] == 'bad'
    assert 'value, generate' in res['results'][2]['msg']
    assert 'bad:' in res['msg'] and 'novalue:' in res['msg'] and 'good' not in res['msg']
    assert (tmp_path / 'good').read_text().strip() == CANARY
    assert CANARY not in json.dumps(res)


def test_single_entry_form_unchanged(tmp_path):
    res = run(secret.Secret, ref='file://%s/one' % tmp_path, generate={'kind': 'hex'}).result
    assert res['action'] == 'created' and 'results' not in res
    refused = run(secret.Secret, ref='file://%s/one' % tmp_path, secrets=[{'ref': 'file:///x'}], value='v')
    assert isinstance(refused, Failed) and 'mutually exclusive' in refused.result['msg']
    missing = run(rotate.Rotate, kind='static')
    assert isinstance(missing, Failed) and 'one of the following is required' in missing.result['msg']


def test_rotate_batch_check_mode_apply_and_a_missing_kind(tmp_path):
    for i in range(3):
        (tmp_path / ('r%d' % i)).write_text('old-%s-%d\n' % (CANARY, i))
    items = [{'name': 'r%d' % i, 'store': 'file://%s/r%d' % (tmp_path, i)} for i in range(3)]
    with patch_module_args({'rotations': items, 'kind': 'static', 'fingerprint_key': KEY, '_ansible_check_mode': True}):
        with pytest.raises(Exited) as ended:
            rotate.Rotate().main()
    plan = ended.value.result
    assert [r['action'] for r in plan['results']] == ['rotate'] * 3 and all('plan' in r for r in plan['results'])
    assert (tmp_path / 'r0').read_text() == 'old-%s-0\n' % CANARY
    done = run(rotate.Rotate, rotations=items, kind='static', concurrency=3).result
    assert [r['action'] for r in done['results']] == ['rotated'] * 3 and done['changed']
    assert all(r['old']['fingerprint'] != r['new']['fingerprint'] for r in done['results'])
    assert CANARY not in json.dumps(done)
    no_kind = run(rotate.Rotate, rotations=[{'name': 'x', 'store': 'file://%s/r0' % tmp_path}])
    assert isinstance(no_kind, Failed) and 'missing required option(s): kind' in no_kind.result['results'][0]['msg']


def test_distribute_batch_and_unexpected_errors_are_value_free(tmp_path, monkeypatch):
    (tmp_path / 'a').write_text(CANARY + '\n')
    env = tmp_path / 'app.env'
    items = [{'name': 'a', 'store': 'file://%s/a' % tmp_path, 'consumers': [{'env_file': {'path': str(env), 'key': 'A'}}]}]
    res = run(distribute.Distribute, distributions=items).result
    assert res['changed'] and res['results'][0]['name'] == 'a' and CANARY in env.read_text()
    assert CANARY not in json.dumps(res)

    def boom(self):
        raise RuntimeError(CANARY)
    monkeypatch.setattr(distribute.Distribute, 'run_one', boom)
    ended = run(distribute.Distribute, distributions=items)
    assert isinstance(ended, Failed) and 'distribute: unexpected error: RuntimeError' in ended.result['msg']
    assert CANARY not in json.dumps(ended.result)


def test_a_module_without_batch_keeps_run():
    assert SecretModule.BATCH is None
