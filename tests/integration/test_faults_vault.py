# -*- coding: utf-8 -*-
"""Faults at run time in front of Vault/OpenBao (issue 14): a store that restarts, slows down, throttles, seals or
goes to standby; a login token whose TTL ends during the run; a secret_id that is used up; a configuration error
that ``on_missing: skip`` must not hide. Every case drives the collection through ansible-playbook against a real
OpenBao (the harness's, or one with file storage started here for the restart) while faults are injected by the
harness's fault proxy (tests/harness/faultproxy.py) -- never waited for -- and ends one of two ways: the run
completes correctly, or it fails naming the reference, the store and the cause; the store and the consumers then
agree and a second run completes. Set-up and checks use hvac and the files, never the code under test.
Lost responses of rotation writes are test_rotation_faults.py's, a missing namespace or mount with on_missing
test_vault_misconfig.py's: not repeated here."""
import json
import os
import secrets
import signal
import subprocess
import threading
import time
import urllib.request

import dotenv
import hvac
import pytest

from tests.harness.faultproxy import FaultProxy
from tests.harness.servers import free_port, http_ok, kill_pid, which
from tests.harness.vault_helpers import Audit, Proxy, ensure_auth, read_policy

pytest_plugins = ["tests.harness.vault_fixtures"]  # vault, root, prefix
pytestmark = pytest.mark.integration

BACKOFF = 0.5  # _vault_client.BACKOFF_FACTOR


def canary():
    return "cv" + secrets.token_hex(12)


def play(tasks, vars_=None):
    text = {"hosts": "localhost", "gather_facts": False, "tasks": tasks}
    if vars_:
        text["vars"] = vars_
    return [text]


def lookup(terms, name="read", **options):
    """A set_fact task that reads ``terms`` (a list of paths under the secret mount) through the vault lookup."""
    opts = "".join(", %s=%s" % (k, json.dumps(v)) for k, v in sorted(options.items()))
    expr = "{{ query('agentarea.secrets.vault', *%s%s) | length }}" % (json.dumps(terms), opts)
    return {"name": name, "ansible.builtin.set_fact": {"found_%s" % name.replace(" ", "_"): expr}}


def backoff_total(retries):
    """urllib3 2's sleeps between ``retries`` retries: none before the first, then BACKOFF * 2 ** (n - 1)."""
    return sum(BACKOFF * 2 ** (n - 1) for n in range(2, retries + 1))


def put(client, path, value, mount="secret"):
    client.secrets.kv.v2.create_or_update_secret(path, {"value": value}, mount_point=mount)


def get(client, path, mount="secret"):
    return client.secrets.kv.v2.read_secret_version(path, mount_point=mount,
                                                    raise_on_deleted_version=True)["data"]["data"]["value"]


def audit_events(path):
    if not os.path.exists(path):
        return []
    return [json.loads(line) for line in open(path).read().splitlines() if line.strip()]


# -- an OpenBao with persistent storage (the harness's runs in dev mode: in memory, a restart would lose everything;
# OpenBao 2 has no "file" backend any more, so this is integrated storage (raft) with one node) -----------------
class FileBao:
    """OpenBao with on-disk (raft) storage on a fixed port, one unseal key; kill -9, restart, unseal."""

    def __init__(self, base):
        self.base = str(base)
        self.port = free_port(also_next=True)
        self.url = "http://127.0.0.1:%d" % self.port
        self.audit_log = os.path.join(self.base, "audit.log")
        self.hcl = os.path.join(self.base, "bao.hcl")
        with open(self.hcl, "w") as handle:
            handle.write('storage "raft" {\n  path = %s\n  node_id = "n1"\n}\n'
                         'listener "tcp" {\n  address = "127.0.0.1:%d"\n  tls_disable = true\n}\n'
                         'api_addr = "%s"\ncluster_addr = "http://127.0.0.1:%d"\n'
                         'audit "file" "file" {\n  options { file_path = %s }\n}\n'
                         % (json.dumps(os.path.join(self.base, "data")), self.port, self.url, self.port + 1,
                            json.dumps(self.audit_log)))
        os.makedirs(os.path.join(self.base, "data"), mode=0o700)
        self.proc = None
        self.key = self.root_token = None

    def start(self):
        env = dict(os.environ, HOME=self.base, VAULT_ADDR="", VAULT_TOKEN="", BAO_ADDR="", BAO_TOKEN="")
        with open(os.path.join(self.base, "bao.log"), "ab") as log:
            self.proc = subprocess.Popen([which("bao"), "server", "-config=" + self.hcl], stdout=log,
                                         stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
                                         cwd=self.base, start_new_session=True)
        deadline = time.monotonic() + 30
        while not http_ok(self.url + "/v1/sys/seal-status", any_status=True):
            assert self.proc.poll() is None and time.monotonic() < deadline, open(
                os.path.join(self.base, "bao.log")).read()[-2000:]
            time.sleep(0.05)
        return self

    def _put(self, path, body):
        req = urllib.request.Request(self.url + path, data=json.dumps(body).encode(), method="PUT")
        with urllib.request.urlopen(req, timeout=90) as resp:  # raft init is slow on a loaded machine
            return json.loads(resp.read() or b"{}")

    def init(self):
        out = self._put("/v1/sys/init", {"secret_shares": 1, "secret_threshold": 1})
        self.key, self.root_token = out["keys"][0], out["root_token"]
        self.unseal()
        client = self.client()
        client.sys.enable_secrets_engine("kv", path="secret", options={"version": "2"})
        deadline = time.monotonic() + 30
        while True:  # a new KV v2 mount upgrades itself first ("Upgrading from non-versioned to versioned data")
            try:
                put(client, "ready", "yes")
                return client
            except hvac.exceptions.InvalidRequest:
                assert time.monotonic() < deadline, "the KV v2 mount never became ready"
                time.sleep(0.1)

    def unseal(self):
        self._put("/v1/sys/unseal", {"key": self.key})
        deadline = time.monotonic() + 30
        while not http_ok(self.url + "/v1/sys/health"):
            assert time.monotonic() < deadline, "OpenBao did not become active after the unseal"
            time.sleep(0.05)

    def client(self):
        return hvac.Client(url=self.url, token=self.root_token)

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def restart(self):
        self.kill()
        self.start()
        self.unseal()

    def stop(self):
        if self.proc is not None:
            kill_pid(self.proc.pid)
            self.proc = None


@pytest.fixture
def filebao(tmp_path):
    base = tmp_path / "bao"
    base.mkdir()
    bao = FileBao(base)
    try:
        bao.start().init()
        yield bao
    finally:
        bao.stop()


ENTRIES = 50


def catalog(prefix, app):
    """``ENTRIES`` entries in the store, each with one local consumer: a .env key (even) or a file (odd)."""
    entries = []
    for i in range(ENTRIES):
        name = "e%02d" % i
        consumer = ({"env_file": {"path": "%s/.env" % app, "key": name.upper()}} if i % 2 == 0
                    else {"file": {"path": "%s/secrets/%s.txt" % (app, name)}})
        entries.append({"name": name, "owner": "platform", "purpose": "fault test", "kind": "static",
                        "store": "vault://secret/%s/%s#value" % (prefix, name),
                        "generate": {"kind": "hex", "bits": 128}, "rotation": {"every": "30d"},
                        "consumers": [consumer]})
    return entries


def consumers(app):
    env = dotenv.dotenv_values(os.path.join(app, ".env")) if os.path.exists(os.path.join(app, ".env")) else {}
    held = {}
    for i in range(ENTRIES):
        name = "e%02d" % i
        if i % 2 == 0:
            held[name] = env.get(name.upper())
        else:
            path = os.path.join(app, "secrets", name + ".txt")
            held[name] = open(path).read() if os.path.exists(path) else None
    return held


def store_values(client, prefix):
    return dict(("e%02d" % i, get(client, "%s/e%02d" % (prefix, i))) for i in range(ENTRIES))


class Background:
    """ansible.playbook(...) in a thread; ``join()`` returns its result."""

    def __init__(self, fn):
        self.result, self.error = None, None

        def run():
            try:
                self.result = fn()
            except Exception as exc:  # noqa: BLE001 - re-raised by join()
                self.error = exc
        self.thread = threading.Thread(target=run, daemon=True)
        self.thread.start()

    def join(self, timeout=300):
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "the playbook did not finish"
        if self.error:
            raise self.error
        return self.result


def wait_until(predicate, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def assert_failed_cleanly(result, url):
    """A failed run names the store and a cause, shows no traceback."""
    out = result.output
    assert "Traceback" not in out, out[-3000:]
    assert url in out, out[-3000:]
    assert "vault 'vault://" in out, out[-3000:]


@pytest.mark.slow
def test_store_restarts_mid_sync_and_rotate(ansible, filebao, prefix, tmp_path, auth="token"):
    """OpenBao (on-disk storage) is killed and restarted, then unsealed, while sync works through 50 entries and
    while rotate rotates three. A token created for the run survives the restart (its store is on disk); the
    modules log in per task, so the AppRole variant of the cached login is the lookups' test below."""
    root = filebao.client()
    app = str(tmp_path / "app")
    values = {}
    for i in range(ENTRIES):
        values["e%02d" % i] = canary()
        put(root, "%s/e%02d" % (prefix, i), values["e%02d" % i])
    root.sys.create_or_update_policy("sync", 'path "secret/*" { capabilities = ["create", "read", "update", '
                                             '"list", "delete"] }\npath "sys/internal/ui/mounts/*" '
                                             '{ capabilities = ["read"] }')
    if auth == "token":
        env = {"VAULT_ADDR": filebao.url,
               "VAULT_TOKEN": root.auth.token.create(policies=["sync"], ttl="1h")["auth"]["client_token"]}
    else:
        ensure_auth(root, "approle")
        root.auth.approle.create_or_update_approle("sync", token_policies=["sync"], token_ttl="10m")
        role_id = root.auth.approle.read_role_id("sync")["data"]["role_id"]
        secret_id = root.auth.approle.generate_secret_id("sync")["data"]["secret_id"]
        env = {"VAULT_ADDR": filebao.url, "ANSIBLE_AGENTAREA_SECRETS_VAULT_AUTH_METHOD": "approle",
               "ANSIBLE_AGENTAREA_SECRETS_VAULT_ROLE_ID": role_id,
               "ANSIBLE_AGENTAREA_SECRETS_VAULT_SECRET_ID": secret_id}
    extra = {"agentarea_secrets_catalog": catalog(prefix, app),
             "agentarea_secrets_audit_log": str(tmp_path / "audit.jsonl"), "sync_restart": False}
    marks = list(values.values())

    def restart_when(predicate):
        assert wait_until(predicate, 120), "the run never got that far"
        if auth == "approle":  # the restored store has none of the tokens issued so far
            root.sys.revoke_prefix("auth/approle/login")
        filebao.restart()

    # sync: the restart comes when a fifth of the consumers were written
    def done():
        return sum(1 for v in consumers(app).values() if v) >= ENTRIES // 5

    run = Background(lambda: ansible.playbook("agentarea.secrets.sync", extra_vars=extra, env=env,
                                              canaries=marks, expect_rc=None))
    restart_when(done)
    first = run.join()
    if first.rc != 0:
        assert_failed_cleanly(first, filebao.url)
    again = ansible.playbook("agentarea.secrets.sync", extra_vars=extra, env=env, canaries=marks)
    assert again.rc == 0
    root = filebao.client()
    assert store_values(root, prefix) == values and consumers(app) == values  # nothing lost

    # rotate three entries; the restart comes after the first write of the rotation
    names = ["e01", "e02", "e03"]
    audit = Audit(filebao.audit_log)
    rextra = dict(extra, rotate_names=names, rotate_restart=False)
    run = Background(lambda: ansible.playbook("agentarea.secrets.rotate", extra_vars=rextra, env=env,
                                              canaries=marks, expect_rc=None))
    restart_when(lambda: any(r.get("operation") in ("create", "update") for r in audit.requests()))
    first = run.join()
    if first.rc != 0:  # the second run resumes (a rotation that completed is not run again: it would rotate twice)
        assert_failed_cleanly(first, filebao.url)
        again = ansible.playbook("agentarea.secrets.rotate", extra_vars=rextra, env=env, canaries=marks,
                                 expect_rc=None)
        assert again.rc == 0, again.output[-3000:]
    root = filebao.client()
    now = store_values(root, prefix)
    held = consumers(app)
    for name in names:
        assert now[name] != values[name], "%s was not rotated" % name
    assert dict((n, v) for n, v in now.items() if n not in names) == \
        dict((n, v) for n, v in values.items() if n not in names)
    assert held == now  # every consumer holds the store's value: nothing lost


def sha1s(values):
    import hashlib
    return [hashlib.sha1(v.encode()).hexdigest() for v in values]


def test_store_restarts_and_loses_the_cached_approle_token(ansible, filebao, prefix, tmp_path):
    """Lookups share one AppRole login through the run cache. Mid-run, OpenBao is killed, restarted and
    unsealed, and the login's token is gone (revoked: a store restored from a backup): the next reads find the
    token invalid, log in again once and read every value."""
    root = filebao.client()
    values = [canary() for _i in range(ENTRIES)]
    for i, value in enumerate(values):
        put(root, "%s/e%02d" % (prefix, i), value)
    read_policy(root, "reader", "secret/data/%s/*" % prefix, "sys/internal/ui/mounts/*")
    ensure_auth(root, "approle")
    root.auth.approle.create_or_update_approle("reader", token_policies=["reader"], token_ttl="10m")
    env = {"VAULT_ADDR": filebao.url, "ANSIBLE_AGENTAREA_SECRETS_VAULT_AUTH_METHOD": "approle",
           "ANSIBLE_AGENTAREA_SECRETS_VAULT_ROLE_ID": root.auth.approle.read_role_id("reader")["data"]["role_id"],
           "ANSIBLE_AGENTAREA_SECRETS_VAULT_SECRET_ID":
               root.auth.approle.generate_secret_id("reader")["data"]["secret_id"]}
    half = ENTRIES // 2
    first = ["%s/e%02d" % (prefix, i) for i in range(half)]
    second = ["%s/e%02d" % (prefix, i) for i in range(half, ENTRIES)]
    ready, go = tmp_path / "ready", tmp_path / "go"
    tasks = [
        {"name": "first half", "ansible.builtin.set_fact": {
            "a": "{{ query('agentarea.secrets.vault', *%s, key='value') | map('hash', 'sha1') | list }}"
                 % json.dumps(first)}},
        {"name": "ready", "ansible.builtin.file": {"path": str(ready), "state": "touch", "mode": "0600"}},
        {"name": "wait for the restart", "ansible.builtin.wait_for": {"path": str(go), "timeout": 120}},
        {"name": "second half", "ansible.builtin.set_fact": {
            "b": "{{ query('agentarea.secrets.vault', *%s, key='value') | map('hash', 'sha1') | list }}"
                 % json.dumps(second)}},
        {"name": "show", "ansible.builtin.debug": {"msg": "{{ a + b }}"}},
    ]
    audit = Audit(filebao.audit_log)
    run = Background(lambda: ansible.playbook(play(tasks), env=env, canaries=values, expect_rc=None))
    assert wait_until(ready.exists, 120), "the first half was never read"
    root.sys.revoke_prefix("auth/approle/login")  # the token the run cache holds is gone
    filebao.restart()
    go.touch()
    result = run.join()
    assert result.rc == 0, result.output[-3000:]
    assert result.task("show")["msg"] == sha1s(values)  # every value read: nothing lost
    logins = audit.count("auth/approle/login")
    assert logins == 2, "one login, and one more after the token was lost (%d)" % logins


# -- slow store ------------------------------------------------------------------------------------------------
def test_slow_store_timeouts_are_honoured_and_bounded(ansible, vault, root, prefix, tmp_path):
    """2 s added to every response: with timeout 1 s every request times out, is retried with back-off, and the
    run fails within timeout x (retries + 1) + back-off per request, naming the reference and saying it timed
    out; with timeout 5 s the same run succeeds."""
    value = canary()
    put(root, prefix + "/slow", value)
    log = str(tmp_path / "audit.jsonl")
    retries = 2
    with FaultProxy(vault["url"]) as proxy:
        proxy.add("delay", seconds=2, path="^/v1/", times=None)
        env = {"VAULT_ADDR": proxy.url, "VAULT_TOKEN": vault["token"]}
        task = lookup([prefix + "/slow"], name="slow", key="value", timeout=1, retries=retries, audit_log=log)
        started = time.monotonic()
        res = ansible.playbook(play([task]), env=env, canaries=[value], expect_rc=2)
        elapsed = time.monotonic() - started
        out = res.output
        assert "timed out" in out and "timeout=1 s" in out and "after %d retries" % retries in out, out[-2000:]
        assert "vault://secret/%s/slow" % prefix in out and proxy.url in out, out[-2000:]
        # two requests (the mount's KV version, then the read: the first fails) at most; at least one
        per_request = 1 * (retries + 1) + backoff_total(retries)
        assert elapsed >= per_request, elapsed
        assert elapsed < per_request * 2 + 30, "not bounded by the timeouts: %.1f s" % elapsed
        events = [e for e in audit_events(log) if e["action"] == "read"]
        assert events and events[-1]["outcome"] == "error" and events[-1]["retries"] == retries, events
        ok = ansible.playbook(play([lookup([prefix + "/slow"], name="slow", key="value", timeout=5,
                                           audit_log=log)]), env=env, canaries=[value])
        assert ok.rc == 0
        events = [e for e in audit_events(log) if e["action"] == "read"]
        assert events[-1]["outcome"] == "ok" and "retries" not in events[-1], events[-1]


def test_audit_says_which_reads_were_retried(ansible, vault, root, prefix, tmp_path):
    """Every third read is slower than the timeout: it is retried and succeeds; the audit events of those reads
    carry ``retries``, the others do not."""
    values = [canary() for _i in range(6)]
    for i, value in enumerate(values):
        put(root, "%s/r%d" % (prefix, i), value)
    log = str(tmp_path / "audit.jsonl")
    with FaultProxy(vault["url"]) as proxy:
        proxy.add("delay", seconds=2, method="GET", path="^/v1/secret/data/%s/" % prefix, every=3, times=None)
        env = {"VAULT_ADDR": proxy.url, "VAULT_TOKEN": vault["token"]}
        terms = ["%s/r%d" % (prefix, i) for i in range(6)]
        res = ansible.playbook(play([lookup(terms, name="all", key="value", timeout=1, audit_log=log)]), env=env,
                               canaries=values)
        assert res.rc == 0
    retried = dict((e["ref"], e.get("retries", 0)) for e in audit_events(log) if e["action"] == "read")
    assert retried == {"vault://secret/%s/r0#value" % prefix: 0, "vault://secret/%s/r1#value" % prefix: 0,
                       "vault://secret/%s/r2#value" % prefix: 1, "vault://secret/%s/r3#value" % prefix: 0,
                       "vault://secret/%s/r4#value" % prefix: 1, "vault://secret/%s/r5#value" % prefix: 0}, retried


# -- throttling, sealed, standby -------------------------------------------------------------------------------
def test_throttling_on_a_share_of_requests_is_retried(ansible, vault, root, prefix, tmp_path):
    values = [canary() for _i in range(4)]
    for i, value in enumerate(values):
        put(root, "%s/t%d" % (prefix, i), value)
    log = str(tmp_path / "audit.jsonl")
    with FaultProxy(vault["url"]) as proxy:
        rule = proxy.add("status", status=429, path="^/v1/secret/data/%s/" % prefix, every=2, times=None)
        env = {"VAULT_ADDR": proxy.url, "VAULT_TOKEN": vault["token"]}
        terms = ["%s/t%d" % (prefix, i) for i in range(4)]
        res = ansible.playbook(play([lookup(terms, name="all", key="value", audit_log=log)]), env=env,
                               canaries=values)
        assert res.rc == 0 and rule.fired >= 3
        assert res.task("all")["ansible_facts"]["found_all"] == 4
    assert sum(e.get("retries", 0) for e in audit_events(log) if e["action"] == "read") == rule.fired


def test_throttling_sealed_and_standby_are_told_apart(ansible, vault, root, prefix):
    """429 on every request: rate-limited (429) after the retries; 503 with OpenBao's sealed and standby bodies:
    "sealed" and "standby or unavailable", never confused with each other or with a rate limit."""
    value = canary()
    put(root, prefix + "/x", value)
    term = prefix + "/x"
    with FaultProxy(vault["url"]) as proxy:
        proxy.add("status", status=429, times=None)
        res = ansible.playbook(play([lookup([term], key="value", retries=1)]),
                               env={"VAULT_ADDR": proxy.url, "VAULT_TOKEN": vault["token"]}, canaries=[value],
                               expect_rc=2)
        out = res.output
        assert "rate-limited (HTTP 429)" in out and "after 1 retry" in out, out[-2000:]
        assert "Vault is sealed" not in out and "standby or unavailable" not in out
        assert "vault://secret/%s/x" % prefix in out and proxy.url in out
    bodies = {"sealed": {"errors": ["Vault is sealed"]},
              "standby": {"errors": ["local node not active but active cluster node not found"]}}
    for kind, body in bodies.items():
        with Proxy(vault["url"], lambda method, path, body=body: (503, body)) as proxy:
            res = ansible.playbook(play([lookup([term], key="value", retries=0)]),
                                   env={"VAULT_ADDR": proxy.url, "VAULT_TOKEN": vault["token"]}, canaries=[value],
                                   expect_rc=2)
        out = res.output
        assert "vault://secret/%s/x" % prefix in out and proxy.url in out, out[-2000:]
        if kind == "sealed":
            assert "Vault is sealed (HTTP 503)" in out and "standby or unavailable" not in out
        else:
            assert "standby or unavailable (HTTP 503)" in out and "Vault is sealed" not in out
        assert "rate-limited" not in out


# -- token expiry, used-up secret_id ---------------------------------------------------------------------------
def approle(root, name, policy, **role):
    ensure_auth(root, "approle")
    root.auth.approle.create_or_update_approle(name, token_policies=[policy], **role)
    return root.auth.approle.read_role_id(name)["data"]["role_id"]


def approle_env(url, role_id, secret_id):
    return {"VAULT_ADDR": url, "ANSIBLE_AGENTAREA_SECRETS_VAULT_AUTH_METHOD": "approle",
            "ANSIBLE_AGENTAREA_SECRETS_VAULT_ROLE_ID": role_id, "ANSIBLE_AGENTAREA_SECRETS_VAULT_SECRET_ID": secret_id}


def slow_reads_play(prefix, count):
    """``count`` tasks, each reading one secret through the vault lookup (the run cache shares the login)."""
    tasks = [{"name": "read %d" % i, "ansible.builtin.set_fact": {
        "v%d" % i: "{{ lookup('agentarea.secrets.vault', '%s/k%d', key='value') | hash('sha1') }}" % (prefix, i)}}
        for i in range(count)]
    tasks.append({"name": "show", "ansible.builtin.debug": {
        "msg": "{{ [%s] }}" % ", ".join("v%d" % i for i in range(count))}})
    return play(tasks)


@pytest.mark.parametrize("renewable", [True, False], ids=["renewed", "relogin"])
def test_token_expiry_mid_run(ansible, vault, root, prefix, renewable):
    """A login token with a 4 s TTL and a run of about 8 s (every read delayed 1 s by the proxy): a renewable
    token is renewed, a non-renewable (batch) one is replaced by a new login; every read succeeds."""
    count = 7
    values = [canary() for _i in range(count)]
    for i, value in enumerate(values):
        put(root, "%s/k%d" % (prefix, i), value)
    policy = read_policy(root, "exp-" + prefix, "secret/data/%s/*" % prefix, "sys/internal/ui/mounts/*")
    role = "exp-%s-%s" % (prefix, renewable)
    extra = {"token_ttl": "4s", "token_max_ttl": "60s"} if renewable else {"token_ttl": "4s", "token_type": "batch"}
    role_id = approle(root, role, policy, **extra)
    secret_id = root.auth.approle.generate_secret_id(role)["data"]["secret_id"]
    audit = Audit(vault["audit_log"])
    with FaultProxy(vault["url"]) as proxy:
        proxy.add("delay", seconds=1, method="GET", path="^/v1/secret/data/%s/" % prefix, times=None)
        started = time.monotonic()
        res = ansible.playbook(slow_reads_play(prefix, count), env=approle_env(proxy.url, role_id, secret_id),
                               canaries=values + [secret_id])
    assert time.monotonic() - started > 4, "the run did not outlast the token"
    assert res.task("show")["msg"] == sha1s(values)
    logins = audit.count("auth/approle/login")
    renewals = audit.count("auth/token/renew-self")
    if renewable:
        # renewed near its TTL; on a loaded machine a gap between two reads may still outlast the token, and then
        # the client logs in again rather than failing: at most one more login
        assert renewals >= 1 and logins <= 2, (logins, renewals)
    else:
        assert logins >= 2 and renewals == 0, (logins, renewals)


def test_used_up_secret_id_is_a_clear_login_error(ansible, vault, root, prefix):
    """A secret_id with secret_id_num_uses=1: the first run logs in and reads; the second login fails naming the
    auth method and the cause, and nothing is read or skipped."""
    value = canary()
    put(root, prefix + "/once", value)
    policy = read_policy(root, "once-" + prefix, "secret/data/%s/*" % prefix, "sys/internal/ui/mounts/*")
    role = "once-" + prefix
    role_id = approle(root, role, policy, secret_id_num_uses=1)
    secret_id = root.auth.approle.generate_secret_id(role)["data"]["secret_id"]
    env = approle_env(vault["url"], role_id, secret_id)
    task = lookup([prefix + "/once"], key="value", on_missing="skip", on_denied="skip")
    ok = ansible.playbook(play([dict(task, name="read")]), env=env, canaries=[value, secret_id])
    assert ok.task("read")["ansible_facts"]["found_read"] == 1
    res = ansible.playbook(play([dict(task, name="read")]), env=env, canaries=[value, secret_id], expect_rc=2)
    out = res.output
    assert "login failed" in out and "approle at auth/approle" in out and "used up" in out, out[-2000:]
    assert "vault://secret/%s/once" % prefix in out and vault["url"] in out


# -- misconfiguration that must not look like success ----------------------------------------------------------
def test_on_missing_skip_never_hides_a_denied_path_or_a_mount_it_may_not_see(ansible, vault, root, prefix):
    """``on_missing: skip`` with a token that may read only ``<prefix>/ok``: a path it may not read, and a mount
    that does not exist (which such a token cannot tell from a forbidden one), are errors, not skipped; a
    secret that really is missing is skipped."""
    value = canary()
    put(root, prefix + "/ok", value)
    put(root, prefix + "/forbidden", value)
    policy = read_policy(root, "narrow-" + prefix, "secret/data/%s/ok" % prefix, "secret/data/%s/gone" % prefix)
    token = root.auth.token.create(policies=[policy], ttl="10m")["auth"]["client_token"]
    env = {"VAULT_ADDR": vault["url"], "VAULT_TOKEN": token}
    ok = ansible.playbook(play([lookup([prefix + "/ok", prefix + "/gone"], name="both", key="value",
                                       on_missing="skip")]), env=env, canaries=[value, token])
    assert ok.task("both")["ansible_facts"]["found_both"] == 1
    for term, what in ((prefix + "/forbidden", "permission denied"),
                       ("vault://nomount-%s/app" % prefix[-8:], "permission denied")):
        res = ansible.playbook(play([lookup([term], name="bad", key="value", on_missing="skip")]), env=env,
                               canaries=[value, token], expect_rc=2)
        out = res.output
        assert what in out and vault["url"] in out, out[-2000:]
        assert term.split("://")[-1] in out
