# -*- coding: utf-8 -*-
"""Store audit and secret access monitoring through ansible-playbook: Vault's file audit device against OpenBao
(declared in its configuration; the API refuses new ones) and the report of the collection's own audit trail."""
import json
import secrets
import uuid

import pytest

CANARY_A = "canary-%s-audit" % secrets.token_hex(8)


def uid():
    return uuid.uuid4().hex[:8]


@pytest.fixture
def vault(harness):
    import hvac

    info = harness.start("vault")
    return info, hvac.Client(url=info["url"], token=info["token"])


AUDIT_PLAY = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: audit device
      agentarea.secrets.vault_audit:
        path: "{{ device }}"
        file_path: "{{ file_path | default(omit) }}"
        on_refused: "{{ on_refused | default('error') }}"
        probe: "{{ probe | default(false) }}"
"""


def test_vault_audit_device(ansible, vault):
    info, _admin = vault
    env = info["env"]
    # the harness declares a file device in OpenBao's configuration: verified, unchanged, and it records requests
    ok = ansible.playbook(AUDIT_PLAY, extra_vars={"device": "file", "file_path": info["audit_log"], "probe": True},
                          env=env, canaries=[info["token"]])
    device = ok.task("audit device")
    assert not device["changed"] and device["file_audit_enabled"] and device["probe"] is True
    assert {"path": "file", "type": "file", "file_path": info["audit_log"]}.items() <= device["devices"][0].items()

    # OpenBao refuses a new device through the API: the module says it must go into the server configuration
    other = {"device": "aa-%s" % uid(), "file_path": str(ansible.base / "audit.log")}
    check = ansible.playbook(AUDIT_PLAY, extra_vars=other, env=env, check=True, canaries=[info["token"]])
    assert check.task("audit device")["changed"]
    refused = ansible.playbook(AUDIT_PLAY, extra_vars=other, env=env, expect_rc=2, canaries=[info["token"]])
    result = refused.task("audit device")
    assert result["api_refused"] and "server configuration" in result["msg"]
    assert 'audit "file" "%s"' % other["device"] in result["declaration"]
    assert result["file_audit_enabled"]  # the declared one is still there
    warned = ansible.playbook(AUDIT_PLAY, extra_vars=dict(other, on_refused="warn"), env=env,
                              canaries=[info["token"]])
    assert warned.task("audit device")["api_refused"] and "server configuration" in warned.output
    assert not warned.task("audit device")["changed"]


# --- secret access monitoring ------------------------------------------------------------------------------
REPORT_PLAY = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: read through a lookup (writes an audit event)
      ansible.builtin.set_fact:
        value: "{{ lookup('agentarea.secrets.secret', store, audit_log=log) }}"
      no_log: true
    - name: report
      agentarea.secrets.audit_report:
        path: "{{ log }}"
        catalog: "{{ catalog }}"
        until: "{{ until | default(omit) }}"
        days: 10
        usual_hours: "{{ hours }}"
        fail_on_unusual: "{{ strict | default(false) }}"
"""


def audit_events(actor):
    def event(day, hour, who, ref, outcome="ok"):
        return {"time": "2026-05-%02dT%02d:15:00Z" % (day, hour), "actor": who, "action": "read", "backend": "vault",
                "ref": ref, "version": "3", "fingerprint": "hmac-sha256:%032x" % day, "outcome": outcome}
    db, jwt = "vault://secret/agentarea/database#password", "vault://secret/agentarea/jwt"
    events = [event(d, 10, actor, db) for d in range(2, 9)] + [event(5, 11, actor, jwt + "?version=2")]
    events += [event(3, 9, "ci@runner", db), event(9, 14, "ci@runner", jwt),            # new reader of jwt
               event(10, 3, "mallory@laptop", db), event(10, 4, "mallory@laptop", jwt, "denied")]
    return events


def test_audit_report(ansible, tmp_path):
    import getpass
    import socket

    actor = "%s@%s" % (getpass.getuser(), socket.gethostname())
    log = tmp_path / "audit.jsonl"
    log.write_text("".join(json.dumps(e) + "\n" for e in audit_events(actor)) + "not json\n")
    store = tmp_path / "db_password"
    store.write_text(CANARY_A)
    catalog = [{"name": "database", "store": "vault://secret/agentarea/database"},
               {"name": "jwt", "store": "vault://secret/agentarea/jwt"},
               {"name": "local", "store": "file://%s" % store}]
    evars = {"log": str(log), "store": "file://%s" % store, "catalog": catalog, "until": "2026-05-10T12:00:00Z",
             "hours": [7, 19]}
    res = ansible.playbook(REPORT_PLAY, extra_vars=evars, canaries=[CANARY_A])
    report = res.task("report")
    assert not report["changed"] and report["invalid_lines"] == 1
    per_secret = {s["secret"]: s for s in report["per_secret"]}
    assert per_secret["database"]["reads"] == 9 and per_secret["jwt"]["reads"] == 2
    assert per_secret["jwt"]["denied"] == 1 and "local" not in per_secret  # the lookup's read is after `until`
    assert {a["actor"]: a["reads"] for a in report["per_actor"]} == {actor: 8, "ci@runner": 2, "mallory@laptop": 1}
    assert [d["day"] for d in report["per_day"]][-1] == "2026-05-10"
    unusual = {(u["actor"], u["secret"]): u["reasons"] for u in report["unusual"]}
    assert unusual == {("ci@runner", "jwt"): ["new_reader"],
                       ("mallory@laptop", "database"): ["new_actor", "off_hours"],
                       ("mallory@laptop", "jwt"): ["new_actor", "off_hours", "denied"]}
    assert "hmac-sha256" not in json.dumps(report)

    strict = ansible.playbook(REPORT_PLAY, extra_vars=dict(evars, strict=True), expect_rc=2, canaries=[CANARY_A])
    assert "unusual read" in strict.task("report")["msg"]
    # now: the lookup's own read is in the trail, by this actor, named by its catalog entry
    now = ansible.playbook(REPORT_PLAY, extra_vars=dict(evars, until=None, hours=[]), canaries=[CANARY_A])
    local = {s["secret"]: s for s in now.task("report")["per_secret"]}["local"]
    assert local["reads"] >= 1 and local["actors"] == [actor]
