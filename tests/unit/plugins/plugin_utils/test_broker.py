# -*- coding: utf-8 -*-
"""The per-run broker without Ansible running: its in-memory run cache, coalesced reads (one store read for
concurrent requests of the same reference), ``cache: false``, invalidation racing a read, typed errors over the
wire (never an SDK's text), the run directory's checks, which tasks drop cached values, and a real broker process
that ends when it is stopped or when its owner dies, leaving nothing behind."""
import fcntl
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time

import pytest

from ansible_collections.agentarea.secrets.plugins.module_utils.core import _registry
from ansible_collections.agentarea.secrets.plugins.module_utils.core._backend import Secret
from ansible_collections.agentarea.secrets.plugins.module_utils.core._errors import SecretError, SecretNotFound
from ansible_collections.agentarea.secrets.plugins.module_utils.core._refs import parse_ref
from ansible_collections.agentarea.secrets.plugins.plugin_utils import _broker, _broker_server

CANARY = "canary-93d1c4aa-broker-unit"


class FakeBackend:
    """A slow store that counts its reads and logins; values name their reference."""

    NAME = "vault"
    CACHEABLE = True
    reads = []
    logins = []
    cleaned = []
    delay = 0.2
    cache = None
    basedir = None

    def __init__(self, options):
        self.options = options
        self._client = None

    def validate(self):
        if self.options.get("bad"):
            raise SecretError("bad option", backend="vault")

    def client(self):
        if self._client is None:
            FakeBackend.logins.append(1)
            self.cache.on_finish("token|x", {"backend": "vault", "what": "the token"})
            self._client = object()
        return self._client

    def freshness(self, ref):
        return None

    def read_many(self, refs):
        time.sleep(self.delay)
        out = []
        for ref in refs:
            FakeBackend.reads.append(str(ref))
            if "missing" in ref.location:
                out.append(SecretNotFound("no secret at this path", ref=ref, backend="vault"))
            elif "boom" in ref.location:
                raise RuntimeError("SDK said: " + CANARY)
            else:
                out.append(Secret({"v": "%s-%s" % (CANARY, ref.location)}, "1"))
        return out

    def close(self):
        self._client = None

    @classmethod
    def cleanup_run(cls, record):
        cls.cleaned.append(record["what"])
        return "revoked"


@pytest.fixture
def broker(monkeypatch, tmp_path):
    FakeBackend.reads, FakeBackend.logins, FakeBackend.cleaned = [], [], []
    monkeypatch.setattr(_registry, "backend_class", lambda scheme: FakeBackend)
    directory = tmp_path / "run"
    directory.mkdir(mode=0o700)
    return _broker_server.Broker(str(directory), os.getpid(), _broker.start_time(os.getpid()))


def request(refs, cache=True, **options):
    return {"op": "read", "scheme": "vault", "options": options, "basedir": None, "refs": refs, "cache": cache}


def concurrently(func, count):
    results = [None] * count

    def run(i):
        results[i] = func(i)
    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return results


def test_concurrent_requests_for_one_secret_read_it_once(broker):
    results = concurrently(lambda i: broker.read(request(["vault://secret/db"])), 12)
    assert FakeBackend.reads == ["vault://secret/db"] and len(FakeBackend.logins) == 1
    assert all(r == [{"secret": Secret({"v": CANARY + "-secret/db"}, "1").to_dict()}] for r in results)
    broker.read(request(["vault://secret/db"]))  # cached now
    assert len(FakeBackend.reads) == 1


def test_each_request_gets_its_own_values(broker):
    results = concurrently(lambda i: broker.read(request(["vault://secret/h%02d" % i, "vault://secret/common"])), 16)
    for i, result in enumerate(results):
        assert result[0]["secret"]["value"] == {"v": "%s-secret/h%02d" % (CANARY, i)}
        assert result[1]["secret"]["value"] == {"v": CANARY + "-secret/common"}
    assert sorted(FakeBackend.reads).count("vault://secret/common") == 1
    assert len(FakeBackend.reads) == 17 and len(FakeBackend.logins) == 1


def test_cache_false_reads_the_store_every_time(broker):
    for _i in range(3):
        broker.read(request(["vault://secret/db"], cache=False))
    assert len(FakeBackend.reads) == 3
    broker.read(request(["vault://secret/db"]))
    broker.read(request(["vault://secret/db"]))
    assert len(FakeBackend.reads) == 4


def test_a_read_racing_an_invalidation_is_not_kept(broker):
    thread = threading.Thread(target=broker.read, args=(request(["vault://secret/db"]),))
    thread.start()
    time.sleep(0.05)
    broker.invalidate()  # a task of ours changed the store while the read was in flight
    thread.join(10)
    broker.read(request(["vault://secret/db"]))
    assert len(FakeBackend.reads) == 2


def test_errors_cross_typed_and_without_sdk_text(broker):
    missing, = broker.read(request(["vault://secret/missing"]))
    exc = _broker.error_from_wire(missing)
    assert isinstance(exc, SecretNotFound) and exc.category == "missing"
    assert str(exc) == "vault 'vault://secret/missing': no secret at this path"
    boom, = broker.read(request(["vault://secret/boom"]))
    assert CANARY not in str(boom) and "RuntimeError" in boom["cause"]
    bad, = broker.read(request(["vault://secret/db"], bad=True))
    assert str(_broker.error_from_wire(bad)) == "vault: bad option"
    # errors are not cached: the next request reads again
    broker.read(request(["vault://secret/missing"]))
    assert FakeBackend.reads.count("vault://secret/missing") == 2


def test_finish_runs_the_clean_ups_and_removes_the_directory(broker):
    broker.read(request(["vault://secret/db"]))
    assert broker.finish() == ["revoked"]
    assert FakeBackend.cleaned == ["the token"] and not os.path.exists(broker.dir)
    assert broker.finish() == ["revoked"]  # once


def test_memory_cache_hands_out_copies():
    cache = _broker_server.MemoryCache()
    entry = {"token": "t"}
    cache.put("token", "id", entry)
    entry["token"] = "changed"
    assert cache.get("token", "id") == {"token": "t"}
    cache.on_finish("a", {"what": "a"})
    cache.on_finish("b", {"what": "b"})
    cache.forget_finish("a")
    assert cache.records("cleanup") == [{"what": "b"}]
    with cache.lock_many("value", ["x", "y", "x"]):
        pass
    cache.flush("token")
    assert cache.get("token", "id") is None


def test_run_directory_must_be_ours_and_private(tmp_path):
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    _broker.check_dir(str(private))
    shared = tmp_path / "shared"
    shared.mkdir()
    shared.chmod(0o755)
    with pytest.raises(_broker.BrokerUnavailable, match="not private"):
        _broker.check_dir(str(shared))
    link = tmp_path / "link"
    link.symlink_to(private)
    with pytest.raises(_broker.BrokerUnavailable, match="not a directory"):
        _broker.check_dir(str(link))


def test_run_directory_names_the_owner_and_its_start_time():
    path = _broker.run_dir(os.getpid())
    assert os.path.basename(path) == "agentarea-secrets-broker-%d-%d-%d" % (
        os.getuid(), os.getpid(), _broker.start_time(os.getpid()))


@pytest.mark.parametrize("action, result, check_mode, expected", [
    ("agentarea.secrets.secret", {"changed": True}, False, True),
    ("agentarea.secrets.secret", {"changed": False}, False, False),
    ("agentarea.secrets.secret", {"failed": True}, False, True),
    ("agentarea.secrets.rotate", {"changed": True}, True, False),
    ("agentarea.secrets.secret_info", {"failed": True}, False, False),
    ("ansible.builtin.copy", {"changed": True}, False, False),
])
def test_which_tasks_drop_cached_values(action, result, check_mode, expected):
    assert _broker.changes_store(action, result, check_mode) is expected


@pytest.fixture
def short_base(monkeypatch):
    base = tempfile.mkdtemp(prefix="aab-", dir="/tmp")  # a socket path must stay under 108 bytes
    monkeypatch.setenv(_broker.DIR_ENV, base)
    _broker._CLIENT.clear()  # pylint: disable=protected-access
    yield base
    _broker._CLIENT.clear()  # pylint: disable=protected-access
    shutil.rmtree(base, ignore_errors=True)


def broker_pid(directory):
    client = _broker.Client(_broker._connect(os.path.join(directory, _broker.SOCKET)))  # pylint: disable=protected-access
    try:
        return client.call({"op": "ping"})["pid"]
    finally:
        client.sock.close()


def gone(pid, seconds=10.0):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        try:
            if os.waitpid(pid, os.WNOHANG)[0] == pid:
                return True
        except ChildProcessError:
            pass
        time.sleep(0.05)
    return False


def test_a_real_broker_starts_once_and_stops_clean(short_base):
    directory = _broker.run_dir()
    first = _broker.client()
    assert oct(os.stat(directory).st_mode & 0o777) == "0o700"
    assert oct(os.stat(os.path.join(directory, "sock")).st_mode & 0o777) == "0o600"
    pid = first.call({"op": "ping"})["pid"]
    # more clients (as other workers) reach the same broker
    sock = _broker.connect(start=True)
    assert _broker.peer_uid(sock) == os.getuid()
    sock.close()
    assert broker_pid(directory) == pid
    assert _broker.stop() == []
    assert gone(pid) and not os.path.exists(directory) and os.listdir(short_base) == []


def test_a_broker_ends_with_its_owner_also_on_sigkill(short_base):
    owner = subprocess.Popen(["sleep", "60"])
    try:
        directory = _broker.run_dir(owner.pid)
        results = concurrently(lambda i: _broker.connect(start=True, owner=owner.pid), 8)  # racing first workers
        pids = set()
        for sock in results:
            send_ping = {"op": "ping"}
            _broker.send(sock, send_ping)
            pids.add(_broker.recv(sock)["pid"])
            sock.close()
        assert len(pids) == 1  # exactly one broker
        owner.kill()
        owner.wait()
        assert gone(pids.pop())
        assert not os.path.exists(directory)
    finally:
        owner.kill()
        owner.wait()


def test_an_unusable_base_means_broker_unavailable(monkeypatch, tmp_path):
    monkeypatch.setenv(_broker.DIR_ENV, str(tmp_path / "absent" / "x"))
    _broker._CLIENT.clear()  # pylint: disable=protected-access
    with pytest.raises(_broker.BrokerUnavailable):
        _broker.client()
    assert _broker.client(start=False) is None
    _broker.invalidate()  # never raises, never starts one


def test_peer_uid_of_a_socket_pair():
    left, right = socket.socketpair(socket.AF_UNIX)
    try:
        assert _broker.peer_uid(left) in (None, os.getuid())
    finally:
        left.close()
        right.close()


def test_refs_cross_the_wire_unchanged():
    for text in ("vault://secret/a b/c#key?version=3", "aws://prod/db#password", "k8s://ns/name#k"):
        ref = parse_ref(text)
        assert parse_ref(str(ref)) == ref


def test_a_run_directory_that_is_not_private_is_never_used(short_base):
    directory = _broker.run_dir()
    os.mkdir(directory)
    os.chmod(directory, 0o755)  # as another process of ours could have left it, or someone made it for us
    with pytest.raises(_broker.BrokerUnavailable, match="not private"):
        _broker.client()
    with pytest.raises(_broker.BrokerUnavailable, match="not private"):
        _broker.client(start=False)
    assert os.listdir(directory) == []  # no socket, no lock file made in it


def test_a_finishing_broker_keeps_its_directory_until_it_is_done(short_base):
    """The owner is gone, its broker still revokes the run's logins: another run's start (remove_stale) must not
    remove the directory under it (the fleet tests wait for the directory to go before counting revocations)."""
    owner = subprocess.Popen(["sleep", "60"])
    try:
        sock = _broker.connect(start=True, owner=owner.pid)
        sock.close()
        directory = _broker.run_dir(owner.pid)
        started = _broker.start_time(owner.pid)
        owner.kill()
        owner.wait()
        # as if the owner had ended and its broker were still finishing: the alive lock is held
        stale = os.path.join(short_base, "%s%d-%d-%s" % (_broker.PREFIX, os.getuid(), owner.pid + 100000, started))
        os.mkdir(stale, 0o700)
        holder = os.open(os.path.join(stale, _broker.ALIVE), os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(holder, fcntl.LOCK_EX)
        try:
            _broker.remove_stale()
            assert os.path.isdir(stale)
        finally:
            os.close(holder)
        _broker.remove_stale()
        assert not os.path.exists(stale)
        assert gone_dir(directory)
    finally:
        owner.kill()
        owner.wait()


def gone_dir(path, seconds=10.0):
    deadline = time.time() + seconds
    while os.path.exists(path) and time.time() < deadline:
        time.sleep(0.05)
    return not os.path.exists(path)


class FrontBackend(FakeBackend):
    """FakeBackend with the front a lookup call needs: its options, references from terms, selection."""

    ARGSPEC = {"url": {}, "bad": {}}
    seen_options = []

    def __init__(self, options):
        FrontBackend.seen_options.append(dict(options))
        super(FrontBackend, self).__init__(options)

    def ref_from_term(self, term, key=None, version=None, **params):
        return parse_ref("vault://secret/%s%s" % (term, "#" + key if key else ""))

    def read_many(self, refs):
        out = super(FrontBackend, self).read_many(refs)
        return [Secret(b"\x00binary", "1") if "binary" in ref.location else
                Secret({"v": object()}, "1") if "odd" in ref.location else secret
                for ref, secret in zip(refs, out)]

    def select(self, secret, ref):
        return secret.select(ref.key, ref=ref, backend="vault")


@pytest.fixture
def front(monkeypatch, broker):
    FrontBackend.seen_options = []
    monkeypatch.setattr(_registry, "backend_class", lambda scheme: FrontBackend)
    monkeypatch.setattr(FakeBackend, "delay", 0)
    return broker


def lookup(terms, scheme="vault", **options):
    return {"op": "lookup", "scheme": scheme, "terms": terms, "options": options, "key_option": "key",
            "ref_params": ["version"], "basedir": None, "cache": True}


def test_a_lookup_call_is_done_whole_with_each_terms_outcome(front):
    """References built from the lookup's options, read (one store read for a repeated secret), selected; only the
    backend's own options reach it; an error per term with its category and the usual message."""
    answer = front.lookup(lookup(["db", "missing", "db"], key="v", url="http://vault", on_missing="warn"))
    assert answer["results"][0] == {"value": CANARY + "-secret/db"} == answer["results"][2]
    assert answer["results"][1] == {"category": "missing",
                                    "message": "vault 'vault://secret/missing': no secret at this path"}
    assert FakeBackend.reads == ["vault://secret/db", "vault://secret/missing"]
    assert all(options == {"url": "http://vault"} for options in FrontBackend.seen_options)
    nokey, = front.lookup(lookup(["db"], key="nope"))["results"]
    assert nokey["category"] == "missing" and "has no key 'nope' (keys: v)" in nokey["message"]
    # the any-reference lookup (agentarea.secrets.secret): full references, no key option
    whole, = front.lookup(lookup(["vault://secret/db#v"], scheme=None))["results"]
    assert whole == {"value": CANARY + "-secret/db"}


def test_a_lookup_call_refused_before_reading_is_fatal(front):
    answer = front.lookup(lookup(["db"], bad=True))
    assert answer == {"fatal": "vault 'db': bad option"} and FakeBackend.reads == []
    answer = front.lookup(lookup(["not a ref"], scheme=None))
    assert "fatal" in answer and FakeBackend.reads == []


def test_values_json_cannot_carry_go_back_to_the_worker(front):
    binary, = front.lookup(lookup(["binary"]))["results"]
    assert binary == {"bytes": "AGJpbmFyeQ=="}
    assert front.lookup(lookup(["odd"], key="v")) == {"thick": True}
