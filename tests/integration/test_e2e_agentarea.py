# -*- coding: utf-8 -*-
"""The acceptance scenario of issue 7: AgentArea's secrets, Vault (OpenBao) the source of truth of each, consumed by
Kubernetes (a Secret read by a Deployment, a kubernetes.io/tls Secret), a real Docker swarm service reading
/run/secrets and a .env file. ``ansible-playbook agentarea.secrets.provision``, then ``rotate``, ``emergency`` and
``audit``, each checked with the systems' own SDKs: the database and Redis accept only the new credential, the key
service only the new API key, every consumer holds the new value, the workloads restarted, the audit is clean,
and no secret value shows up in any output or file a run left (canaries: every value the test knows).

The catalog holds references and no credential: the roles hand catalog entries around as loop items, facts and
module arguments, which end up in registered results (and AWX job events). So the key service's admin token is
read by the api_key hook command from a file rather than given as a hook header (see e2e_helpers.KeyService)."""
import json
from urllib.parse import quote

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from tests.harness.e2e_helpers import (
    API,
    DB_USER,
    ENTRIES,
    REDIS_USER,
    WEB,
    Stack,
    catalog,
    values_of,
)

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("swarm")]  # one swarm per host: one xdist worker
INCIDENT = "INC-7"


@pytest.fixture
def stack(harness, tmp_path):
    s = Stack(harness, tmp_path)
    try:
        s.setup()
        yield s
    finally:
        s.teardown()


def fixed_canaries(stack):
    """Credentials that are not rotated but must never show: the admins' (read from Vault by reference), the run's
    Vault token, the key service's admin token (read by the hook command from a file)."""
    return [stack.pg_info["password"], stack.redis_info["password"], stack.token, stack.keys.admin_token]


def run(ansible, stack, name, known, check=False, expect_rc=0, **extra):
    """``ansible-playbook agentarea.secrets.<name>`` with the catalog and the connections as extra vars; every
    value known before the run is a canary."""
    extra_vars = {"agentarea_secrets_catalog": catalog(stack), "agentarea_secrets_connection": stack.connection()}
    extra_vars.update(extra)
    return ansible.playbook("agentarea.secrets.%s" % name, extra_vars=extra_vars, check=check, expect_rc=expect_rc,
                            canaries=list(known) + fixed_canaries(stack), timeout=900)


def settle(ansible, stack, result):
    """Read every system; the values created by this run must not have leaked either."""
    snap = stack.snapshot()
    ansible.assert_no_leak(result, values_of(snap))
    return snap


def assert_consistent(stack, snap):
    """Every consumer holds the store's value; the targets accept it."""
    store, k8s, env = snap["store"], snap["k8s"], snap["env"]
    db, rd, tls = store["database"], store["redis"], store["tls"]
    pg, rinfo = stack.pg_info, stack.redis_info
    assert db["username"] == DB_USER and set(db) == {"username", "password", "url"}
    expected_url = "postgresql://%s:%s@%s:%d/agentarea" % (DB_USER, quote(db["password"], safe=""), pg["host"],
                                                           pg["port"])
    assert db["url"] == expected_url
    db_url = "postgresql://%s:%s@%s:%d/agentarea" % (DB_USER, quote(db["password"], safe=""), pg["host"], pg["port"])
    redis_url = "redis://%s:%s@%s:%d/0" % (REDIS_USER, quote(rd["password"], safe=""), rinfo["host"], rinfo["port"])
    jwt_k = snap["jwt_active"]["k"]
    assert snap["jwt_active"]["alg"] == "HS256"
    # the Kubernetes Secret read by the Deployment
    assert k8s == {"database-url": db_url, "jwt-secret": jwt_k, "openai-api-key": store["openai"]["api_key"],
                   "redis-url": redis_url, "webhook-secret": store["webhook"]["secret"]}
    # the TLS Secret keeps its type; its certificate and key are a pair, also as files
    assert snap["tls_type"] == "kubernetes.io/tls"
    assert snap["tls"] == {"tls.crt": tls["certificate"], "tls.key": tls["private_key"]}
    assert snap["files"] == snap["tls"]
    cert = x509.load_pem_x509_certificate(tls["certificate"].encode())
    key = serialization.load_pem_private_key(tls["private_key"].encode(), None)
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    assert (cert.public_key().public_bytes(serialization.Encoding.PEM, spki)
            == key.public_key().public_bytes(serialization.Encoding.PEM, spki))
    assert cert.subject.rfc4514_string() == "CN=agentarea.internal"
    # the .env file, other lines kept
    assert env == {"LOG_LEVEL": "info", "DATABASE_URL": db_url, "JWT_SECRET": jwt_k,
                   "OPENAI_API_KEY": store["openai"]["api_key"], "REDIS_PASSWORD": rd["password"],
                   "WEBHOOK_SECRET": store["webhook"]["secret"]}
    # the swarm service's running task reads the password from /run/secrets/db_password
    assert snap["mounted"] == db["password"]
    assert [target for _name, target in snap["service_secrets"]] == ["db_password"]
    # the targets accept the current credentials
    assert stack.pg_ok(DB_USER, db["password"])
    assert stack.redis_ok(REDIS_USER, rd["password"])
    assert stack.keys.works(store["openai"]["api_key"])


def assert_rotated(stack, before, after, names):
    """``names`` got new values everywhere and their old credentials are refused; the others did not move."""
    for entry in ENTRIES:
        moved = after["versions"][entry] > before["versions"][entry]
        assert moved == (entry in names), (entry, before["versions"][entry], after["versions"][entry])
        assert (after["store"][entry] != before["store"][entry]) == (entry in names), entry
    old, new = before["store"], after["store"]
    if "database" in names:
        assert not stack.pg_ok(DB_USER, old["database"]["password"]), "PostgreSQL still accepts the old password"
        assert after["mounted"] != before["mounted"] and after["container"] != before["container"]
        assert after["service_secrets"] != before["service_secrets"]  # a new swarm secret version
    else:
        assert after["container"] == before["container"]
    if "redis" in names:
        assert not stack.redis_ok(REDIS_USER, old["redis"]["password"]), "Redis still accepts the old password"
    if "openai" in names:
        assert not stack.keys.works(old["openai"]["api_key"]), "the old API key was not revoked"
        assert old["openai"]["api_key"] in stack.keys.revoked
    if "jwt" in names:
        assert after["jwt_active"]["kid"] != before["jwt_active"]["kid"]
        assert after["jwt_active"]["k"] != before["jwt_active"]["k"]
    # the API Deployment reads all of them; the web Deployment only the certificate
    api_b, api_a = before["deployments"][API], after["deployments"][API]
    web_b, web_a = before["deployments"][WEB], after["deployments"][WEB]
    assert api_a["generation"] > api_b["generation"] and api_a["restarted_at"] != api_b["restarted_at"]
    assert api_a["observed"] == api_a["generation"] and api_a["updated"] == 2  # rolled out
    if "tls" in names:
        assert web_a["generation"] > web_b["generation"] and web_a["restarted_at"] != web_b["restarted_at"]
        assert web_a["observed"] == web_a["generation"]
    else:
        assert web_a == web_b


def assert_unchanged(before, after):
    for key in ("store", "versions", "k8s", "tls", "env", "files", "container", "mounted", "service_secrets",
                "deployments"):
        assert after[key] == before[key], key


def test_agentarea_provision_rotate_emergency_audit(ansible, stack):
    # --- provision: --check creates nothing -------------------------------------------------------------------
    empty = stack.snapshot()
    assert all(v is None for v in empty["store"].values()) and empty["mounted"] is None
    plan = run(ansible, stack, "provision", [], check=True)
    assert_unchanged(empty, settle(ansible, stack, plan))

    # --- provision: every secret created in Vault, applied to its target, pushed to its consumers -----------------
    provisioned = run(ansible, stack, "provision", [])
    first = settle(ansible, stack, provisioned)
    assert "created: database, jwt, openai, redis, tls, webhook;" in provisioned.output, provisioned
    assert all(v == 1 for v in first["versions"].values()), first["versions"]
    assert first["k8s_type"] == "Opaque"
    assert_consistent(stack, first)
    assert first["container"] != empty["container"]  # the service was updated to mount its secret
    for name in (API, WEB):
        dep = first["deployments"][name]
        assert dep["generation"] > empty["deployments"][name]["generation"] and dep["restarted_at"]
    known = values_of(first)

    # --- provision again: nothing changes ------------------------------------------------------------------------
    again = run(ansible, stack, "provision", known)
    assert "changed=0" in again.stdout, again
    assert "created: none;" in again.output
    assert_unchanged(first, settle(ansible, stack, again))

    # --- rotate --check: the plan, nothing changes -----------------------------------------------------------------
    plan = run(ansible, stack, "rotate", known, check=True, rotate_tags=["agentarea"])
    assert "rotating database, jwt, openai, redis, tls, webhook (named or tagged)" in plan.output, plan
    assert_unchanged(first, settle(ansible, stack, plan))

    # --- rotate: nothing is due (a scheduled run), then the named entries ------------------------------------------
    idle = run(ansible, stack, "rotate", known)
    assert "rotating nothing (due)" in idle.output, idle
    assert_unchanged(first, settle(ansible, stack, idle))

    names = ["database", "jwt", "openai", "redis"]
    rotated = run(ansible, stack, "rotate", known, rotate_names=names)
    second = settle(ansible, stack, rotated)
    for name in names:
        assert "%s | rotated |" % name in rotated.output, rotated
    assert_consistent(stack, second)
    assert_rotated(stack, first, second, names)
    report = json.loads((rotated.workdir / "reports" / "rotate.json").read_text())
    assert [r["name"] for r in report["rotations"]] == names
    known += values_of(second)

    # --- emergency: everything, now; sessions opened with the leaked credentials are ended ------------------------
    leaked_db = stack.pg_login(DB_USER, second["store"]["database"]["password"])
    leaked_redis = stack.redis_login(REDIS_USER, second["store"]["redis"]["password"])
    leaked_redis.ping()
    assert stack.pg_sessions(DB_USER) >= 1 and stack.redis_sessions(REDIS_USER) >= 1
    refused = run(ansible, stack, "emergency", known, expect_rc=2, emergency_incident=INCIDENT, emergency_all=True)
    assert "Not confirmed: nothing was revoked or rotated" in refused.output
    assert_unchanged(second, stack.snapshot())

    emergency = run(ansible, stack, "emergency", known, emergency_confirm="YES", emergency_incident=INCIDENT,
                    emergency_all=True)
    third = settle(ansible, stack, emergency)
    assert_consistent(stack, third)
    assert_rotated(stack, second, third, list(ENTRIES))
    assert stack.pg_sessions(DB_USER) == 0, "the session opened with the leaked password is still open"
    assert stack.redis_sessions(REDIS_USER) == 0
    leaked_db.close()
    leaked_redis.close()
    incident = json.loads((emergency.workdir / "reports" / ("incident-%s.json" % INCIDENT)).read_text())
    assert sorted(incident["done"]) == sorted(ENTRIES) and incident["validation"]["consumers_in_sync"] is True
    assert all(d["action"] == "rotated" for d in incident["done"].values()), incident["done"]
    markdown = (emergency.workdir / "reports" / ("incident-%s.md" % INCIDENT)).read_text()
    for entry in ENTRIES:
        assert "| %s | rotated |" % entry in markdown
    known += values_of(third)

    # --- audit: every entry owned, described, present and young: compliant, rc 0 -----------------------------------
    audit = run(ansible, stack, "audit", known)
    assert_unchanged(third, settle(ansible, stack, audit))
    reports = audit.workdir / "reports"
    summary = json.loads((reports / "audit.json").read_text())
    assert int(summary["summary"]["total"]) == 6 and int(summary["summary"]["compliant"]) == 6 and summary["summary"]["with_findings"] == []
    assert summary["summary"]["missing"] == [] and summary["summary"]["due"] == []
    assert all(e["owner"] and e["exists"] and not e["findings"] for e in summary["entries"])
    assert "6 of 6 catalog entries are compliant." in (reports / "audit.md").read_text()
    assert 'failures="0"' in (reports / "audit.junit.xml").read_text()
    assert "6/6 entries compliant; findings: none; due for rotation: none" in audit.output
