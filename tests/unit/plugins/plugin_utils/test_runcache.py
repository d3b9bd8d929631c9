# -*- coding: utf-8 -*-
"""The run cache and what keeps lookups cheap, without Ansible running: the hit path (no lock, one AES key
schedule per process), learning which backends a run uses across a fork, the worker's pool of backends, the
callback's playbook scan, and the shared botocore loader that the main process warms for its workers."""
import glob
import os
import time

import pytest

from ansible_collections.agentarea.secrets.plugins.module_utils.core._backend import Secret
from ansible_collections.agentarea.secrets.plugins.module_utils.core._refs import parse_ref
from ansible_collections.agentarea.secrets.plugins.plugin_utils import _lookup, _runcache

CANARY = "canary-4f0e2a77-runcache"


@pytest.fixture
def run():
    directory = _runcache.start()
    yield directory
    _runcache.finish()
    assert not os.path.exists(directory)


def in_child(func):
    """Run ``func`` in a forked child (as Ansible runs a task) and return what it wrote to the pipe."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        os.close(read_fd)
        try:
            out = func() or ""
        except BaseException as exc:  # noqa: BLE001
            out = "error: %r" % (exc,)
        os.write(write_fd, out.encode())
        os._exit(0)
    os.close(write_fd)
    with os.fdopen(read_fd) as handle:
        data = handle.read()
    os.waitpid(pid, 0)
    return data


class FakeBackend:
    NAME = "fake"
    CACHEABLE = True

    def __init__(self):
        self.reads = []

    def identity(self):
        return "fake|who"

    def freshness(self, ref):
        return None

    def read_many(self, refs):
        self.reads.append([str(r) for r in refs])
        return [Secret({"password": CANARY}, "1") for _ref in refs]


def test_values_are_encrypted_and_a_hit_takes_no_lock(run, monkeypatch):
    locks = []
    real_flock = _runcache.fcntl.flock
    monkeypatch.setattr(_runcache.fcntl, "flock", lambda fd, op: locks.append(op) or real_flock(fd, op))
    lookup = _lookup.SecretLookupBase()
    lookup._cache = _runcache.RunCache()
    backend = FakeBackend()
    ref = parse_ref("vault://secret/app#password")
    first = lookup._read_all(backend, [ref])
    assert first[0].value == {"password": CANARY} and len(backend.reads) == 1
    assert len(locks) == 2  # a miss: lock, read, unlock - another worker waits instead of reading twice
    again = lookup._read_all(backend, [ref, ref.replace(key=None)])
    assert again[0].value == {"password": CANARY} and len(backend.reads) == 1
    assert len(locks) == 2  # hits take no lock
    for path in glob.glob(os.path.join(run, "**", "*"), recursive=True):
        if os.path.isfile(path):
            with open(path, "rb") as handle:
                assert CANARY.encode() not in handle.read()


def test_one_aes_key_schedule_per_process(run):
    assert _runcache.RunCache()._aead() is _runcache.RunCache()._aead()


def test_a_cache_object_that_outlives_its_run_writes_nothing(run):
    cache = _runcache.RunCache()
    assert cache.enabled
    _runcache.finish()
    cache.put("value", "late", {"secret": CANARY})
    with cache.lock("value", "late"):
        pass
    assert not os.path.exists(run)


def test_workers_teach_the_main_process_which_backends_the_run_uses(run):
    def worker():
        _runcache.learn("backend", "vault")
        _runcache.learn("lookup", "agentarea.secrets.vault")
        _runcache.learn("backend", "vault")  # once per process
        _runcache.learn("backend", "../../etc/passwd")  # not a name: ignored
        return ""
    assert in_child(worker) == ""
    assert _runcache.learned() == [("backend", "vault"), ("lookup", "agentarea.secrets.vault")]
    assert _runcache.learned() == []  # only what is new since the last call
    # a worker forked after the main process took them does not write them again
    assert in_child(lambda: "%s" % sorted(os.listdir(os.path.join(run, "used")))) == \
        "['backend@vault', 'lookup@agentarea.secrets.vault']"


def test_learning_outside_a_run_does_nothing():
    assert not _runcache.active()
    _runcache.learn("backend", "vault")
    assert _runcache.learned() == []


def test_the_callback_preloads_what_workers_learned(run):
    from ansible.utils.display import Display
    from ansible_collections.agentarea.secrets.plugins.callback.run_cache import CallbackModule
    callback = CallbackModule.__new__(CallbackModule)
    callback._learn, callback._preloaded, callback._display = True, set(), Display()
    calls = []
    callback._preload = lambda kind, name: calls.append((kind, name))
    in_child(lambda: _runcache.learn("backend", "dotenv"))
    callback.v2_playbook_on_task_start(None, False)
    assert calls == [("backend", "dotenv")]
    callback.v2_playbook_on_task_start(None, False)
    assert calls == [("backend", "dotenv")]
    # unknown names and missing SDKs are not errors: the task that needs them reports them
    real = CallbackModule.__new__(CallbackModule)
    real._learn, real._preloaded, real._display = True, set(), Display()
    real._preload("backend", "no-such-backend")
    real._preload("backend", "file")
    assert ("backend", "file") in real._preloaded


def test_the_playbook_scan_finds_lookup_calls_only():
    from ansible_collections.agentarea.secrets.plugins.callback.run_cache import lookups_in
    assert lookups_in("x: \"{{ lookup('agentarea.secrets.vault', 'a/b') }}\"") == (["vault"], ["vault"])
    assert lookups_in('y: "{{ query( "agentarea.secrets.aws" , \'n\') }}"') == (["aws"], ["aws"])
    text = "z: \"{{ q('agentarea.secrets.secret', 'vault://secret/a', \"dotenv:///srv/.env#K\") }}\""
    assert lookups_in(text) == (["secret"], ["dotenv", "vault"])
    # a module of the same name, a reference in module arguments, a name in a variable: not lookups
    assert lookups_in("- agentarea.secrets.secret:\n    ref: aws://db\n- debug: msg={{ lookup(name) }}") == ([], [])
    assert lookups_in("lookup('agentarea.secrets.nope', 'x')") == ([], [])


def test_a_worker_keeps_backends_for_a_minute_and_never_across_a_fork(monkeypatch):
    _lookup._POOL.clear()
    backend = object()
    key = (os.getpid(), "vault", None, True, "{}")
    _lookup._POOL[key] = (time.time(), backend)
    assert _lookup.SecretLookupBase._pooled(key) is backend
    assert in_child(lambda: str(_lookup.SecretLookupBase._pooled(key) is None)) == "True"
    _lookup._POOL[key] = (time.time() - _lookup.POOL_TTL - 1, backend)
    assert _lookup.SecretLookupBase._pooled(key) is None and key not in _lookup._POOL
    lookup = _lookup.SecretLookupBase()
    lookup._cache = None
    with_cache_off = lookup._pool_key("vault", {"url": "u"}, "/srv")
    lookup._cache = object()
    assert lookup._pool_key("vault", {"url": "u"}, "/srv") != with_cache_off  # cache: false never shares


def test_the_main_process_warms_botocore_for_its_workers():
    pytest.importorskip("boto3")
    from ansible_collections.agentarea.secrets.plugins.module_utils.backends.aws import _auth as _aws_auth
    _aws_auth.warm()
    warm = _aws_auth._WARM[os.getpid()]
    assert _aws_auth._botocore_session() is not warm  # never taken in the process that made it
    assert warm.get_component("data_loader") is _aws_auth._LOADER[0]

    def worker():
        first, second = _aws_auth._botocore_session(), _aws_auth._botocore_session()
        return "%s %s" % (first is warm, second is warm)
    assert in_child(worker) == "True False"  # each forked worker takes the warm session once
    session = _aws_auth.make_session({"region": "eu-west-1", "access_key": "AKIAEXAMPLE", "secret_key": CANARY})
    paths = session._loader.search_paths
    assert len(paths) == len(set(paths))
    assert session.get_credentials().access_key == "AKIAEXAMPLE"


def test_warm_ups_talk_to_the_loopback_only_and_leave_nothing_running(monkeypatch):
    """Preloading sends one request of each kind to a server of its own on 127.0.0.1, even when the environment
    names a proxy, and stops it."""
    import threading
    pytest.importorskip("hvac")
    from ansible_collections.agentarea.secrets.plugins.module_utils.backends.vault._backend import VaultBackend
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # discard port: a request sent there would fail
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    VaultBackend.preload()
    if pytest.importorskip("boto3"):
        from ansible_collections.agentarea.secrets.plugins.module_utils.backends.aws._backend import AwsBackend
        AwsBackend.preload()
    assert not [t for t in threading.enumerate() if t.name == "agentarea-secrets-warmup"]
