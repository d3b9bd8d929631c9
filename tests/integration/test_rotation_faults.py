# -*- coding: utf-8 -*-
"""Lost responses at every write of the rotation protocol (issue 12, item 2), through ansible-playbook: OpenBao and
moto behind the harness's fault proxy (tests/harness/faultproxy.py) forward a write and answer 502 (or reset the
connection), so the write lands and the client does not know. The rotation must then finish (the store holds the
new value) or roll back (the store provably holds the old one), or fail naming the cause while keeping the pending
slot and the new credential for the next run: never a store that holds a revoked key. An API-key provider of our
own counts which keys are valid; set-up and checks use hvac and boto3, never the code under test."""
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.harness.faultproxy import FaultProxy
# aws and bao are fixtures
from tests.harness.rotate_helpers import (  # noqa: F401 pylint: disable=unused-import
    aws, aws_stage, bao, bao_read, bao_slot_value, rotate, token, uid,
)

pytest_plugins = ["tests.harness.conftest_plugin"]
pytestmark = pytest.mark.integration

WRITE = "POST|PUT"


class Provider:
    """A third party's API keys: register, revoke, and /me that only a valid key may call."""

    def __init__(self, keys):
        self.keys = set(keys)
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                if self.path == "/register":
                    provider.keys.add(body["key"])
                elif self.path == "/revoke":
                    provider.keys.discard(body["key"])
                self.send_response(204 if self.path in ("/register", "/revoke") else 404)
                self.end_headers()

            def do_GET(self):  # noqa: N802
                ok = self.path == "/me" and self.headers.get("X-Api-Key") in provider.keys
                self.send_response(200 if ok else 401)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        base = "http://127.0.0.1:%d" % self.server.server_address[1]
        hook = {"method": "POST", "body": {"key": "{secret}"}}
        self.target = {"register": dict(hook, url=base + "/register"), "revoke": dict(hook, url=base + "/revoke"),
                       "test": {"url": base + "/me", "headers": {"X-Api-Key": "{secret}"}}}

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def provider():
    old = token()
    p = Provider({old})
    p.old = old
    yield p
    p.close()


# -- OpenBao ------------------------------------------------------------------------------------------------------
@pytest.fixture
def vcase(bao, provider):
    info, client = bao
    prefix = "agentarea-faults-" + uid()
    client.secrets.kv.v2.create_or_update_secret(prefix + "/webhook", mount_point="secret",
                                                 secret={"key": provider.old, "note": "kept"})
    proxy = FaultProxy(info["url"]).start()
    case = type("Case", (), {})()
    case.client, case.proxy, case.prefix, case.provider = client, proxy, prefix, provider
    case.env = {"VAULT_ADDR": proxy.url, "VAULT_TOKEN": info["token"]}
    case.args = {"store": "vault://secret/%s/webhook#key" % prefix, "kind": "api_key", "target": provider.target}
    case.path = "/v1/secret/data/%s/webhook" % prefix
    case.current = lambda: (bao_read(client, prefix + "/webhook") or {}).get("key")
    case.pending = lambda: bao_slot_value(client, prefix + "/webhook__pending__key")
    case.previous = lambda: bao_slot_value(client, prefix + "/webhook__previous__key")
    yield case
    proxy.stop()
    for path in ("webhook", "webhook__pending__key", "webhook__previous__key"):
        try:
            client.secrets.kv.v2.delete_metadata_and_all_versions(prefix + "/" + path, mount_point="secret")
        except Exception:  # noqa: BLE001
            pass


def writes_to(proxy, path):
    return [r for r in proxy.requests if r[0] in ("POST", "PUT") and r[1] == path]


def assert_not_repeated(proxy):
    """No write whose answer was lost was sent again at once (a blind retry of a non-idempotent write)."""
    log = list(proxy.requests)
    for i, (method, path, what) in enumerate(log[:-1]):
        if what.startswith("lost"):
            assert log[i + 1][:2] != (method, path), "the %s %s was retried blindly: %s" % (method, path, log)


# (name, path suffix, which matching write) for every write of the protocol
VAULT_WRITES = [
    ("claim of the pending slot", "__pending__key", 0),
    ("previous slot", "__previous__key", 0),
    ("promotion", "", 0),
    ("clearing the pending slot", "__pending__key", 1),
]


@pytest.mark.parametrize("status", [502, None], ids=["502", "reset"])
@pytest.mark.parametrize("name, suffix, skip", VAULT_WRITES, ids=[w[0].split()[0] for w in VAULT_WRITES])
def test_vault_lost_response_at_each_write(ansible, vcase, name, suffix, skip, status):
    case, provider = vcase, vcase.provider
    rule = case.proxy.add("lost", method=WRITE, path="^%s%s$" % (case.path, suffix), skip=skip, status=status)
    r = rotate(ansible, case.args, env=case.env, canaries=[provider.old])
    new = case.current()
    assert rule.fired == 1, "the fault proxy never saw the %s" % name
    assert r["action"] == "rotated" and r["changed"], r
    assert new != provider.old and provider.keys == {new}           # the store's key works, the old one is revoked
    assert case.pending() is None
    assert bao_read(case.client, case.prefix + "/webhook")["note"] == "kept"
    assert_not_repeated(case.proxy)


def test_vault_promotion_lost_and_store_unreadable_keeps_everything_then_resumes(ansible, vcase):
    case, provider = vcase, vcase.provider
    lost = case.proxy.add("lost", method=WRITE, path="^%s$" % case.path)
    case.proxy.add("status", status=503, times=None, after=lost)   # from then on: the store cannot be read back
    r = rotate(ansible, case.args, env=case.env, expect_rc=2, canaries=[provider.old])
    new = case.current()                                   # the promotion landed
    assert new != provider.old
    assert "could not be read back" in r["msg"] and "nothing was revoked" in r["msg"], r["msg"]
    assert provider.keys == {provider.old, new}            # nothing revoked: both keys still work
    assert case.pending() == new                           # resumable
    case.proxy.clear()
    again = rotate(ansible, case.args, env=case.env, canaries=[provider.old])
    assert again["resumed"]["outcome"] == "completed", again
    assert case.current() == new and provider.keys == {new} and case.pending() is None


def test_vault_promotion_lost_before_it_landed_rolls_back(ansible, vcase):
    """The proxy answers 502 without forwarding: the store provably holds the old key, so the rollback is right."""
    case, provider = vcase, vcase.provider
    case.proxy.add("status", status=502, method=WRITE, path="^%s$" % case.path)
    r = rotate(ansible, case.args, env=case.env, expect_rc=2, canaries=[provider.old])
    assert r["rolled_back"]["target_reverted"] is True, r
    assert case.current() == provider.old and provider.keys == {provider.old}
    assert case.pending() is None
    assert len(writes_to(case.proxy, case.path)) == 1       # a 502 on a write is not retried


# -- AWS Secrets Manager: the staging labels are the slots ------------------------------------------------------------
@pytest.fixture
def acase(aws, provider):
    info, client = aws
    name = "agentarea/faults-%s/webhook" % uid()
    client.create_secret(Name=name, SecretString=provider.old)
    proxy = FaultProxy(info["url"]).start()
    case = type("Case", (), {})()
    case.client, case.proxy, case.name, case.provider = client, proxy, name, provider
    case.env = dict(info["env"], AWS_ENDPOINT_URL=proxy.url)
    case.args = {"store": "aws://" + name, "kind": "api_key", "target": provider.target}
    case.stage = lambda stage: aws_stage(client, name, stage)
    case.tags = lambda: dict((t["Key"], t["Value"]) for t in client.describe_secret(SecretId=name).get("Tags") or [])
    yield case
    proxy.stop()
    client.delete_secret(SecretId=name, ForceDeleteWithoutRecovery=True)


def amz(operation):
    return {"X-Amz-Target": r"^secretsmanager\.%s$" % operation}


# (name, operation, body pattern) of every write of the protocol on AWS
AWS_WRITES = [
    ("tag-pending", "TagResource", "agentarea-rotation"),
    ("put-pending", "PutSecretValue", "AWSPENDING"),
    ("tag-previous", "TagResource", "agentarea-previous"),
    ("promotion", "UpdateSecretVersionStage", "AWSCURRENT"),
    ("unlabel-pending", "UpdateSecretVersionStage", '"VersionStage": "AWSPENDING"'),
    ("untag-pending", "UntagResource", "agentarea-rotation"),
]


@pytest.mark.parametrize("name, operation, body", AWS_WRITES, ids=[w[0] for w in AWS_WRITES])
def test_aws_lost_response_at_each_write(ansible, acase, name, operation, body):
    case, provider = acase, acase.provider
    rule = case.proxy.add("lost", method="POST", headers=amz(operation), body=body)
    r = rotate(ansible, case.args, env=case.env, canaries=[provider.old])
    new = case.stage("AWSCURRENT")
    assert rule.fired == 1, "the fault proxy never saw the %s: %s" % (name, case.proxy.requests)
    assert r["action"] == "rotated" and r["changed"], r
    assert new != provider.old and provider.keys == {new}
    assert case.stage("AWSPREVIOUS") == provider.old and case.stage("AWSPENDING") is None
    assert "agentarea-rotation" not in case.tags()


def test_aws_promotion_lost_and_store_unreadable_then_resumes(ansible, acase):
    case, provider = acase, acase.provider
    lost = case.proxy.add("lost", method="POST", headers=amz("UpdateSecretVersionStage"), body="AWSCURRENT")
    case.proxy.add("status", status=503, times=None, after=lost)
    r = rotate(ansible, case.args, env=case.env, expect_rc=2, canaries=[provider.old])
    new = case.stage("AWSCURRENT")
    assert new != provider.old and "nothing was revoked" in r["msg"], r["msg"]
    assert provider.keys == {provider.old, new} and "agentarea-rotation" in case.tags()
    case.proxy.clear()
    again = rotate(ansible, case.args, env=case.env, canaries=[provider.old])
    assert again["resumed"]["outcome"] == "completed", again
    assert case.stage("AWSCURRENT") == new and provider.keys == {new}
    assert case.stage("AWSPENDING") is None and "agentarea-rotation" not in case.tags()


# -- the engine on every store: a lost answer at each write, whichever it is ------------------------------------------
# The engine is driven directly (no playbook) with the stores' real backends against the harness's servers (or a
# temporary directory). A wrapper around each writing method of the backends does the real write, then raises as if
# the answer had been lost (a dotenv or file store: after the rename). A clean rotation first counts the writes of
# the protocol on that store; then one rotation per write loses exactly that one.
from ansible_collections.agentarea.secrets.plugins.module_utils.rotation import _engine as _rotation, _state as _rotation_state  # noqa: E402
from ansible_collections.agentarea.secrets.plugins.module_utils.core._errors import (  # noqa: E402
    BackendUnavailable, SecretError,
)
from ansible_collections.agentarea.secrets.plugins.module_utils.core._refs import parse_ref  # noqa: E402
from ansible_collections.agentarea.secrets.plugins.module_utils.core._registry import backend_class  # noqa: E402
from ansible_collections.agentarea.secrets.plugins.module_utils.rotation.targets._base import Target  # noqa: E402

WRITING = ("write", "delete", "set_tags", "put_pending", "promote", "clear_pending")


class Keys(Target):
    """A provider's API keys, in memory: what the target accepts."""

    KIND = "api_key"
    STRATEGIES = ("single", "overlap")
    valid = set()

    def new_value(self, current, policy):
        return self.generate(policy)

    def apply(self, new, old):
        self.touched = True
        self.valid.add(new)

    def check(self, value, login_only=False):
        return value in self.valid

    def revert(self, new, old, previous=None):
        self.valid.discard(new)

    def contract(self, previous, current):
        if previous != current:
            self.valid.discard(previous)


class Faults:
    """Counts the writing calls of every backend it wraps; call number ``lose`` lands, then raises. With
    ``blind``, every read after that call fails too (the store cannot be read back)."""

    def __init__(self, lose=None, blind=False):
        self.calls, self.lose, self.blind, self.lost = [], lose, blind, False

    def wrap(self, backend):
        for name in WRITING + ("read",):
            if not hasattr(backend, name):
                continue
            real = getattr(backend, name)

            def call(*args, _real=real, _name=name, **kwargs):
                if _name == "read":
                    if self.lost and self.blind:
                        raise BackendUnavailable("the store cannot be read (injected)", backend=backend.NAME)
                    return _real(*args, **kwargs)
                self.calls.append("%s %s" % (_name, args[0] if args else ""))
                out = _real(*args, **kwargs)
                if len(self.calls) - 1 == self.lose:
                    self.lost = True
                    raise BackendUnavailable("the answer was lost (injected)", backend=backend.NAME)
                return out
            setattr(backend, name, call)
        return backend


def store_for(svc, harness, tmp_path):
    """(reference, options, environment) of a fresh secret on ``svc``."""
    name = "faults-" + uid()
    if svc == "vault":
        info = harness.start("vault")
        return "vault://secret/%s#key" % name, {"url": info["url"], "token": info["token"]}, {}
    if svc == "aws":
        info = harness.start("aws")
        return "aws://agentarea/%s" % name, {"endpoint_url": info["url"], "region": info["region"],
                                             "access_key": info["access_key"], "secret_key": info["secret_key"]}, {}
    if svc == "gcp":
        info = harness.start("gcp")
        return "gcp://%s/%s" % (info["project"], name), {"api_endpoint": info["url"]}, {
            "CLOUDSDK_AUTH_ACCESS_TOKEN": "ya29.test", "GOOGLE_CLOUD_PROJECT": info["project"]}
    if svc == "azure":
        info = harness.start("azure")
        return "azure://%s/%s" % (info["url"].split("://", 1)[1], name), {
            "access_token": "eyJ0.test", "ca_cert": info["ca_cert"]}, {}
    if svc == "k8s":
        info = harness.start("k8s")
        return "k8s://default/%s#session" % name, {}, dict(info["env"])
    if svc == "dotenv":
        path = tmp_path / (name + ".env")
        path.write_text("OTHER=keep\n")
        return "dotenv://%s#API_KEY" % path, {}, {}
    path = tmp_path / name
    return "file://%s" % path, {}, {}


class World:
    def __init__(self, svc, harness, tmp_path, monkeypatch):
        self.text, self.options, env = store_for(svc, harness, tmp_path)
        self.ref = parse_ref(self.text)
        self.environ = dict(env)
        monkeypatch.setattr(_rotation, "target_class", lambda kind: Keys)
        self.old = token()
        Keys.valid = {self.old}
        self.make().write(self.ref, self.old)

    def make(self, faults=None, scheme=None):
        same = scheme in (None, self.ref.scheme)
        backend = backend_class(scheme or self.ref.scheme)(dict(self.options) if same else {}, environ=self.environ)
        backend.validate()
        return faults.wrap(backend) if faults is not None else backend

    def rotation(self, faults=None):
        backend = self.make(faults)
        stores = _rotation.StoreAccess(lambda ref: self.make(faults, ref.scheme), known=[backend])
        return _rotation.Rotation(backend, self.ref, "api_key", stores=stores, fingerprint_key="k" * 32,
                                  environ={})

    def current(self):
        return _rotation.StoreAccess(lambda ref: self.make(None, ref.scheme)).read(self.text)

    def pending(self):
        return self.rotation().pending.read()


STORES = ["vault", "aws", "gcp", "azure", "k8s", "dotenv", "file"]


@pytest.mark.parametrize("svc", STORES)
def test_engine_lost_answer_at_each_write_on_every_store(harness, tmp_path, monkeypatch, svc):
    counted = Faults()
    first = World(svc, harness, tmp_path, monkeypatch)
    assert first.rotation(counted).rotate()["action"] == "rotated"
    writes = list(counted.calls)
    assert len(writes) >= 3, writes
    outcomes = []
    for index, call in enumerate(writes):
        world = World(svc, harness, tmp_path, monkeypatch)
        faults = Faults(lose=index)
        try:
            result = world.rotation(faults).rotate()
            outcome = result["action"]
        except SecretError as exc:
            outcome = "failed: %s" % exc
        assert faults.lost, "write %d (%s) was not reached" % (index, call)
        current = world.current()
        # whatever happened, the key in the store works at the provider
        assert current in Keys.valid, "after losing the answer of %s: %s" % (call, outcome)
        if outcome == "rotated":
            assert current != world.old and Keys.valid == {current} and world.pending() is None, call
        else:
            monkeypatch.setattr(_rotation_state, "owner_alive", lambda owner: False)   # the failed run is gone
            again = world.rotation().rotate()
            monkeypatch.undo()
            monkeypatch.setattr(_rotation, "target_class", lambda kind: Keys)
            current = world.current()
            assert again["action"] in ("rotated", "resumed"), (call, again)
            assert current != world.old and Keys.valid == {current} and world.pending() is None, call
        outcomes.append((call.split(" ")[0], outcome.split(":")[0]))
    # the promotion's lost answer never rolls back
    assert all(o == "rotated" for c, o in outcomes if c == "promote"), outcomes


@pytest.mark.parametrize("svc", ["vault", "aws", "dotenv"])
def test_engine_store_unreadable_after_a_lost_promotion_keeps_everything(harness, tmp_path, monkeypatch, svc):
    counted = Faults()
    World(svc, harness, tmp_path, monkeypatch).rotation(counted).rotate()
    promotion = [i for i, c in enumerate(counted.calls) if c.startswith("promote ") or
                 (c.startswith("write ") and "__" not in c and "-pending" not in c and "-previous" not in c)]
    world = World(svc, harness, tmp_path, monkeypatch)
    faults = Faults(lose=promotion[0], blind=True)
    with pytest.raises(SecretError, match="could not be read back"):
        world.rotation(faults).rotate()
    pending = world.pending()
    assert pending is not None and pending.value in Keys.valid and world.old in Keys.valid   # nothing revoked
    monkeypatch.setattr(_rotation_state, "owner_alive", lambda owner: False)   # the failed run is gone
    again = world.rotation().rotate()
    assert again["resumed"]["outcome"] == "completed"
    current = world.current()
    assert current == pending.value and Keys.valid == {current} and world.pending() is None
