# -*- coding: utf-8 -*-
"""core/_module.SecretModule, the base of the modules (issue 16): the options it offers follow its flags, and a run
ends in exit_json or in fail_json with a clear, value-free message - never a traceback. Driven the way ansible-core
tests its own modules: the module's input patched in (ansible.module_utils.testing.patch_module_args), exit_json and
fail_json caught."""
import json

import pytest

from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args

from ansible_collections.agentarea.secrets.plugins.module_utils.core import _registry
from ansible_collections.agentarea.secrets.plugins.module_utils.core._audit import AUDIT_ENV, read_events
from ansible_collections.agentarea.secrets.plugins.module_utils.core._errors import SecretNotFound
from ansible_collections.agentarea.secrets.plugins.module_utils.core._fingerprint import fingerprint
from ansible_collections.agentarea.secrets.plugins.module_utils.core._module import SecretModule

CANARY = 'canary-Zq8v-value'
KEY = 'k' * 32


class Exited(SystemExit):
    """exit_json/fail_json end the process (SystemExit): a module's ``except Exception`` never catches them."""

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
    """Run ``cls`` with the module input ``args``; the Exited/Failed it ended with."""
    with patch_module_args(args):
        with pytest.raises(Exited) as ended:
            cls().main()
    return ended.value


class Bare(SecretModule):
    NAME = 'bare'
    OPTIONS = dict(name=dict(type='str', default='x'))

    def run(self):
        return {'changed': False, 'name': self.params['name'], 'check_mode': self.check_mode}


class AnyStore(SecretModule):
    NAME = 'any_store'
    OPTIONS = dict(ref=dict(type='str', required=True), boom=dict(type='str'))
    STORES = True
    FINGERPRINT_KEY = True
    AUDIT_LOG = True

    def run(self):
        self.result = {'changed': False, 'ref': self.params['ref']}
        ref = self.parse_ref(self.params['ref'], **self.result)
        self.primary = ref.scheme
        if self.params['boom'] == 'unexpected':
            raise ValueError('the value was %s' % CANARY)  # an SDK's message may quote a value
        backend = self.backend(ref)
        assert self.backend(ref) is backend, 'one backend per scheme for a run'
        value = backend.select(backend.read(ref), ref)
        fp = self.fingerprint(value)
        if not self.check_mode:
            self.audit.emit('read', 'ok', backend=ref.scheme, ref=ref, fingerprint=fp)
        self.result.update(changed=True, fingerprint=fp)
        return self.result


class OneStore(SecretModule):
    NAME = 'one_store'
    OPTIONS = dict(timeout=dict(type='int', default=300))
    STORES = ('k8s',)

    def run(self):
        return {'timeout': self.params['timeout']}


def spec_of(cls):
    return cls.argument_spec()


def test_options_follow_the_flags():
    bare, any_store, one = spec_of(Bare), spec_of(AnyStore), spec_of(OneStore)
    assert set(bare) == {'name'}
    assert set(_registry.union_argspec()) - {'fingerprint_key'} <= set(any_store)
    assert any_store['fingerprint_key'] == {'type': 'str', 'no_log': True}
    assert any_store['audit_log'] == {'type': 'path'}
    assert 'kubeconfig' in one and 'url' not in one, 'only the Kubernetes store options'
    assert 'fingerprint_key' not in one and 'audit_log' not in one
    assert one['timeout'] == {'type': 'int', 'default': 300}, "the module's own option wins over the store's"


def test_an_option_the_module_does_not_use_is_refused():
    ended = run(Bare, fingerprint_key=KEY)
    assert isinstance(ended, Failed)
    assert 'fingerprint_key' in ended.result['msg'] and 'Unsupported' in ended.result['msg']


def test_run_result_is_the_exit_and_changed_defaults_to_false():
    ended = run(Bare, name='n')
    assert not isinstance(ended, Failed)
    assert ended.result == {'changed': False, 'name': 'n', 'check_mode': False}
    assert run(Bare, _ansible_check_mode=True).result['check_mode'] is True
    assert run(OneStore).result == {'changed': False, 'timeout': 300}


def test_backend_fingerprint_and_audit_log(tmp_path, monkeypatch):
    monkeypatch.setenv('AGENTAREA_TEST_SECRET', CANARY)
    log = tmp_path / 'audit.jsonl'
    ended = run(AnyStore, ref='env://AGENTAREA_TEST_SECRET', fingerprint_key=KEY, audit_log=str(log))
    assert not isinstance(ended, Failed)
    assert ended.result['fingerprint'] == fingerprint(CANARY, KEY)
    events = read_events(str(log))
    assert [(e['action'], e['ref'], e['fingerprint']) for e in events] == [
        ('read', 'env://AGENTAREA_TEST_SECRET', fingerprint(CANARY, KEY))]
    assert CANARY not in json.dumps(ended.result) + log.read_text()


def test_audit_log_from_the_environment_and_none_in_check_mode(tmp_path, monkeypatch):
    monkeypatch.setenv('AGENTAREA_TEST_SECRET', CANARY)
    log = tmp_path / 'env-audit.jsonl'
    monkeypatch.setenv(AUDIT_ENV, str(log))
    run(AnyStore, ref='env://AGENTAREA_TEST_SECRET', fingerprint_key=KEY, _ansible_check_mode=True)
    assert not log.exists()
    run(AnyStore, ref='env://AGENTAREA_TEST_SECRET', fingerprint_key=KEY)
    assert len(read_events(str(log))) == 1


def test_a_module_without_audit_log_writes_none(tmp_path, monkeypatch):
    monkeypatch.setenv(AUDIT_ENV, str(tmp_path / 'never.jsonl'))

    class Quiet(Bare):
        def run(self):
            assert not self.audit.enabled
            self.audit.emit('read', 'ok')
            return {}
    run(Quiet)
    assert not (tmp_path / 'never.jsonl').exists()


def test_typed_error_fails_with_its_message_and_the_result():
    ended = run(AnyStore, ref='env://AGENTAREA_NO_SUCH_VARIABLE_16', fingerprint_key=KEY)
    assert isinstance(ended, Failed)
    res = ended.result
    assert res['error'] == 'SecretNotFound'
    assert "'env://AGENTAREA_NO_SUCH_VARIABLE_16'" in res['msg'], 'the message names the reference'
    assert res['ref'] == 'env://AGENTAREA_NO_SUCH_VARIABLE_16' and res['changed'] is False
    assert 'exception' not in res and 'Traceback' not in res['msg']


def test_invalid_reference_fails_cleanly():
    ended = run(AnyStore, ref='nosuchscheme://x')
    assert isinstance(ended, Failed)
    assert ended.result['error'] in ('InvalidReference',) and 'nosuchscheme' in ended.result['msg']


def test_unexpected_exception_names_the_module_never_the_value():
    ended = run(AnyStore, ref='env://X', boom='unexpected')
    assert isinstance(ended, Failed)
    res = ended.result
    assert res['msg'] == 'any_store: unexpected error: ValueError'
    assert res['error'] == 'ValueError' and res['ref'] == 'env://X'
    assert CANARY not in json.dumps(res)


def test_fail_with_a_message_and_exit_with_changed():
    class Explicit(Bare):
        def run(self):
            if self.params['name'] == 'fail':
                self.fail('bare: told to fail', detail=1)
            self.exit(changed=True, done=1)
    failed = run(Explicit, name='fail')
    assert isinstance(failed, Failed) and failed.result == {'msg': 'bare: told to fail', 'detail': 1, 'changed': False}
    done = run(Explicit)
    assert not isinstance(done, Failed) and done.result == {'changed': True, 'done': 1}


def test_fail_keeps_a_typed_error_reference():
    class Missing(Bare):
        def run(self):
            self.result = {'changed': False, 'ref': 'vault://secret/app'}
            raise SecretNotFound('no such secret', backend='vault')
    res = run(Missing).result
    assert res['msg'] == "vault 'vault://secret/app': no such secret"
