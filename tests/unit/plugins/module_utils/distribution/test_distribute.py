# -*- coding: utf-8 -*-
"""Distributor drift detection against real local consumers (secret files, .env entries)."""
import hashlib

from ansible_collections.agentarea.secrets.plugins.module_utils.distribution._distribute import Distributor
from ansible_collections.agentarea.secrets.plugins.module_utils.backends._dotenv import DotenvBackend
from ansible_collections.agentarea.secrets.plugins.module_utils.backends._files import FileBackend

PEM = "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49\n-----END PRIVATE KEY-----\n"


def distributor():
    backends = {'file': FileBackend({}), 'dotenv': DotenvBackend({})}
    return Distributor(backends.__getitem__, lambda v: hashlib.sha256(str(v).encode()).hexdigest())


def test_a_file_value_ending_in_a_newline_is_in_sync_after_it_was_written(tmp_path):
    consumers = [{'file': {'path': str(tmp_path / 'tls.key'), 'field': 'private_key'}},
                 {'env_file': {'path': str(tmp_path / '.env'), 'key': 'WEBHOOK', 'field': 'webhook'}}]
    value = {'private_key': PEM, 'webhook': 'w1'}
    first, _restarts = distributor().run('tls', value, consumers)
    assert [c['state'] for c in first] == ['updated', 'updated']
    assert (tmp_path / 'tls.key').read_text() == PEM
    second, restarts = distributor().run('tls', value, consumers)
    assert [(c['state'], c['changed']) for c in second] == [('in_sync', False), ('in_sync', False)]
    # a real change is still seen
    third, _restarts = distributor().run('tls', dict(value, private_key=PEM.replace('MIGH', 'XXXX')), consumers)
    assert [c['state'] for c in third] == ['updated', 'in_sync']
