# -*- coding: utf-8 -*-
"""How a lookup resolves its options, without Ansible running: option variables are templated before use, the
public option API only (ansible-core 2.17 has no ``_origins``), a worker remembers resolved options for the same
arguments and variable values; single-flight locks of the run cache; the callback drops values after a failed
write."""
import os
import time

import pytest

from ansible_collections.agentarea.secrets.plugins.plugin_utils import _lookup, _runcache

CANARY = "canary-2d9f61b4-options"


class FakeTemplar:
    """Renders ``{{ name }}`` from its variables, as Ansible's templar does for a trusted template."""

    def __init__(self, variables):
        self.variables = variables
        self.calls = 0

    def template(self, value):
        self.calls += 1
        if isinstance(value, str) and value.startswith("{{ ") and value.endswith(" }}"):
            name = value[3:-3]
            if name not in self.variables:
                raise ValueError("'%s' is undefined; template was %s" % (name, value))
            return self.template(self.variables[name])
        return value


class Lookup(_lookup.SecretLookupBase):
    """The option API of ansible-core 2.17 (``set_options``/``get_options``, no ``_origins``), recorded."""

    DEFS = {"url": {"vars": [{"name": "ansible_agentarea_secrets_vault_url"}]},
            "secret_id": {"vars": [{"name": "ansible_agentarea_secrets_vault_secret_id"}]},
            "cache": {"vars": [{"name": "ansible_agentarea_secrets_cache"}]}}

    def __init__(self, variables):
        # no LookupBase.__init__: no private attribute of Ansible's exists on this object
        self._templar = FakeTemplar(variables)
        self._load_name = "agentarea.secrets.fake"
        self.resolved = 0

    @property
    def option_definitions(self):
        return self.DEFS

    def set_options(self, task_keys=None, var_options=None, direct=None):
        self.resolved += 1
        self.current = {}
        for option, definition in self.DEFS.items():
            for entry in definition["vars"]:
                if entry["name"] in (var_options or {}):
                    self.current[option] = var_options[entry["name"]]
        self.current.update(direct or {})

    def get_options(self, hostvars=None):
        return dict((name, self.current.get(name)) for name in self.DEFS)


@pytest.fixture(autouse=True)
def fresh_memo():
    _lookup._OPTIONS.clear()
    _lookup._OPTION_VARS.clear()
    yield
    _lookup._OPTIONS.clear()
    _lookup._OPTION_VARS.clear()


def test_option_variables_are_templated_before_use():
    variables = {"ansible_agentarea_secrets_vault_url": "{{ vault_url }}", "vault_url": "{{ env_url }}",
                 "env_url": "https://vault.example:8200",
                 "ansible_agentarea_secrets_vault_secret_id": "{{ vault_secret_id }}", "vault_secret_id": CANARY,
                 "unrelated": "{{ never_rendered }}"}
    lookup = Lookup(variables)
    lookup.resolve_options(variables, {})
    assert lookup.get_option("url") == "https://vault.example:8200"
    assert lookup.get_option("secret_id") == CANARY
    assert lookup._has_option("url") and not lookup._has_option("nope")


def test_a_worker_resolves_the_same_options_once_with_public_api_only():
    variables = {"ansible_agentarea_secrets_vault_url": "{{ u }}", "u": "https://a.example"}
    first = Lookup(variables)
    first.resolve_options(variables, {"cache": True})
    again = Lookup(variables)  # the next loop item: a new plugin object
    again.resolve_options(variables, {"cache": True})
    assert (first.resolved, again.resolved) == (1, 0)
    assert again.get_option("url") == "https://a.example"
    assert not hasattr(again, "_origins") and not hasattr(again, "_options")
    # another value of a variable the options read (after templating), or other arguments: resolved again
    variables["u"] = "https://b.example"
    other = Lookup(variables)
    other.resolve_options(variables, {"cache": True})
    assert other.resolved == 1 and other.get_option("url") == "https://b.example"
    third = Lookup(variables)
    third.resolve_options(variables, {"cache": False})
    assert third.resolved == 1


def test_a_template_that_fails_names_the_variable_never_its_text():
    from ansible.errors import AnsibleLookupError
    variables = {"ansible_agentarea_secrets_vault_secret_id": "{{ missing_%s }}" % CANARY}
    lookup = Lookup(variables)
    with pytest.raises(AnsibleLookupError) as info:
        lookup.resolve_options(variables, {})
    assert "ansible_agentarea_secrets_vault_secret_id" in str(info.value)
    assert CANARY not in str(info.value)
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_the_real_templar_renders_option_variables():
    """ansible-core's own templar (2.19+ renders trusted templates only: group_vars and play vars are trusted)."""
    from ansible.parsing.dataloader import DataLoader
    from ansible.template import Templar
    try:
        from ansible._internal._datatag._tags import TrustedAsTemplate
        trusted = TrustedAsTemplate().tag
    except ImportError:  # 2.17, 2.18: every string is a template
        trusted = str
    variables = {"ansible_agentarea_secrets_vault_url": trusted("{{ base }}:8200"), "base": "https://v.example"}
    lookup = Lookup(variables)
    lookup._templar = Templar(loader=DataLoader(), variables=variables)
    lookup.resolve_options(variables, {})
    assert lookup.get_option("url") == "https://v.example:8200"


def in_child(func):
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        code = 1
        try:
            func()
            code = 0
        finally:
            os._exit(code)
    return pid


@pytest.fixture
def run():
    directory = _runcache.start()
    yield directory
    _runcache.finish()


def test_overlapping_lock_sets_never_deadlock_and_flush_keeps_the_locks(run):
    """Two workers want the same keys in opposite orders: sorted acquisition, so both finish. A flush of values
    while a lock is held removes no lock file."""
    cache = _runcache.RunCache()
    keys = ["k%02d" % i for i in range(8)]

    def worker(order):
        def body():
            for _round in range(20):
                with _runcache.RunCache().lock_many("value", order):
                    time.sleep(0.001)
        return body
    pids = [in_child(worker(keys)), in_child(worker(list(reversed(keys))))]
    deadline = time.time() + 20
    codes = []
    for pid in pids:
        while True:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                codes.append(os.waitstatus_to_exitcode(status))
                break
            if time.time() > deadline:
                os.kill(pid, 9)
                pytest.fail("workers deadlocked")
            time.sleep(0.01)
    assert codes == [0, 0]
    with cache.lock("value", "k00"):
        cache.flush("value")
        assert len(os.listdir(os.path.join(run, "locks"))) == 8


def test_concurrent_misses_read_once(run):
    """Single flight: workers that miss the same secrets at once wait for the first reader and take its values."""
    from ansible_collections.agentarea.secrets.plugins.module_utils.core._backend import Secret
    from ansible_collections.agentarea.secrets.plugins.module_utils.core._refs import parse_ref
    log = os.path.join(run, "reads.log")

    class SlowBackend:
        NAME = "fake"
        CACHEABLE = True

        def identity(self):
            return "fake|who"

        def freshness(self, ref):
            return None

        def read_many(self, refs):
            with open(log, "a") as handle:
                handle.write("".join("%s\n" % r for r in refs))
            time.sleep(0.2)
            return [Secret({"v": CANARY}, "1") for _ref in refs]

    refs = [parse_ref("vault://secret/app/s%d#v" % i) for i in range(5)]

    def worker():
        lookup = _lookup.SecretLookupBase()
        lookup._cache = _runcache.RunCache()
        assert [s.value for s in lookup._read_all(SlowBackend(), refs)] == [{"v": CANARY}] * 5
    pids = [in_child(worker) for _i in range(4)]
    assert [os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) for pid in pids] == [0] * 4
    with open(log) as handle:
        assert sorted(handle.read().split()) == sorted(str(r.without_key()) for r in refs)


class Result:
    def __init__(self, action, result):
        self._task = type("Task", (), {"resolved_action": action, "action": action})()
        self._result = result


@pytest.mark.parametrize("action, result, flushed", [
    ("agentarea.secrets.rotate", {"failed": True, "changed": False}, True),   # may have committed before failing
    ("agentarea.secrets.secret", {"failed": True, "changed": True}, True),
    ("agentarea.secrets.secret_info", {"failed": True}, False),               # never writes
    ("ansible.builtin.command", {"failed": True, "changed": True}, False),
])
def test_a_failed_write_drops_cached_values(run, action, result, flushed):
    from ansible_collections.agentarea.secrets.plugins.callback.run_cache import CallbackModule
    callback = CallbackModule.__new__(CallbackModule)
    cache = _runcache.RunCache()
    cache.put("value", "x", {"v": 1})
    callback.v2_runner_on_failed(Result(action, result), ignore_errors=True)
    assert (cache.get("value", "x") is None) == flushed
    cache.put("value", "x", {"v": 1})
    callback.v2_runner_item_on_failed(Result(action, result))
    assert (cache.get("value", "x") is None) == flushed


def test_concurrent_workers_assume_an_aws_role_once(run):
    """Logins are single flight too: workers that miss the role's credentials together call STS once."""
    pytest.importorskip("boto3")
    import datetime
    from ansible_collections.agentarea.secrets.plugins.module_utils.backends.aws import _auth as _aws_auth
    log = os.path.join(run, "sts.log")

    class Sts:
        def assume_role(self, **kwargs):
            with open(log, "a") as handle:
                handle.write("call\n")
            time.sleep(0.2)
            expires = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)
            return {"Credentials": {"AccessKeyId": "AKIAEXAMPLE", "SecretAccessKey": CANARY, "SessionToken": "t",
                                    "Expiration": expires}}

    class Session:
        def client(self, name, config=None):
            return Sts()

    options = {"assume_role_arn": "arn:aws:iam::123456789012:role/r", "assume_role_session_name": None,
               "timeout": 5, "retries": 0}

    def worker():
        creds = _aws_auth.role_credentials(Session(), options, _runcache.RunCache(), "aws|who")
        assert creds["SecretAccessKey"] == CANARY
    pids = [in_child(worker) for _i in range(4)]
    assert [os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) for pid in pids] == [0] * 4
    with open(log) as handle:
        assert handle.read().split() == ["call"]
