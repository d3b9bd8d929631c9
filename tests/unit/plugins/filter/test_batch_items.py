# -*- coding: utf-8 -*-
"""batch_items (issue 17): the items of one batched rotate/secret/distribute call from catalog_info's entries and the
catalog by name; rotation_summary names a batched result by its own name."""
import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.agentarea.secrets.plugins.filter.batch_items import batch_items
from ansible_collections.agentarea.secrets.plugins.filter.rotation_summary import rotation_summary

INFO = [{'name': 'db', 'store': 'vault://kv/db', 'rotate_kind': 'postgres', 'strategy': 'overlap', 'overlap': '1h',
         'policy': {'length': 32}},
        {'name': 'hook', 'store': 'file:///s/hook', 'rotate_kind': 'static', 'strategy': 'single', 'policy': None}]
CATALOG = {'db': {'name': 'db', 'target': {'host': 'h', 'admin_password': 'x'},
                  'consumers': [{'env_file': {'path': '/a/.env', 'key': 'DB'}}, {'file': {'path': '/b'}, 'hosts': 'web'}]},
           'hook': {'name': 'hook', 'consumers': [{'file': {'path': '/c'}, 'hosts': 'web'}]}}


def test_rotate_items():
    items = batch_items(INFO, CATALOG, 'rotate')
    assert items[0] == {'name': 'db', 'store': 'vault://kv/db', 'kind': 'postgres', 'strategy': 'overlap',
                        'target': {'host': 'h', 'admin_password': 'x'}, 'generate': {'length': 32}, 'overlap': '1h'}
    assert items[1]['target'] == {} and 'overlap' not in items[1]
    single = batch_items(INFO, CATALOG, 'rotate', strategy='single', overlap=False)
    assert [i['strategy'] for i in single] == ['single', 'single'] and 'overlap' not in single[0]


def test_secret_and_distribute_items():
    assert batch_items(INFO, CATALOG, 'secret')[1] == {'name': 'hook', 'ref': 'file:///s/hook', 'generate': None}
    dist = batch_items(INFO, CATALOG, 'distribute', without='hosts')
    assert dist == [{'name': 'db', 'store': 'vault://kv/db', 'consumers': [{'env_file': {'path': '/a/.env', 'key': 'DB'}}]}]
    assert len(batch_items(INFO, CATALOG, 'distribute')) == 2


def test_unknown_entry_or_module():
    with pytest.raises(AnsibleFilterError, match='nope is not in the catalog'):
        batch_items([{'name': 'nope'}], CATALOG, 'rotate')
    with pytest.raises(AnsibleFilterError, match='unknown module'):
        batch_items(INFO, CATALOG, 'other')


def test_rotation_summary_of_a_batched_result():
    row = rotation_summary({'name': 'hook', 'action': 'rotated', 'phase': 'finish', 'old': {'fingerprint': 'a'},
                            'new': {'fingerprint': 'b'}, 'timings': {'set': 0.5}}, {'hook': 'file:///s/hook'})
    assert row['name'] == 'hook' and row['store'] == 'file:///s/hook' and row['seconds'] == 0.5
    failed = rotation_summary({'name': 'db', 'failed': True, 'msg': 'vault: kv/db: denied'})
    assert failed['action'] == 'failed' and failed['error'] == 'vault: kv/db: denied' and 'store' not in failed
