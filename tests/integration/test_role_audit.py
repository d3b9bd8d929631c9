# -*- coding: utf-8 -*-
"""ansible-playbook agentarea.secrets.audit: reports in three formats, no values, fails on a violation."""
import json
import os
import time
import xml.etree.ElementTree as ET

CANARY = "canary-c0ffee-audit"


def catalog(env_file):
    return [
        {"name": "jwt", "owner": "platform", "purpose": "signs API tokens", "store": "dotenv://%s#JWT_SECRET" % env_file,
         "kind": "jwt", "rotation": {"every": "30d"}, "tags": ["auth"]},
        {"name": "webhook", "owner": "platform", "purpose": "verifies webhooks",
         "store": "dotenv://%s#WEBHOOK_SECRET" % env_file, "rotation": {"every": "90d"}},
    ]


def test_audit_clean_then_violations(ansible, tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("JWT_SECRET=%s\nWEBHOOK_SECRET=%s-w\n" % (CANARY, CANARY))
    reports = tmp_path / "reports"
    extra = {"agentarea_secrets_catalog": catalog(env_file), "audit_report_dir": str(reports)}
    ok = ansible.playbook("agentarea.secrets.audit", extra_vars=extra, canaries=[CANARY])
    assert "2/2 entries compliant" in ok.output
    data = json.loads((reports / "audit.json").read_text())
    assert data["summary"]["compliant"] in (2, "2") and data["entries"][0]["fingerprint"].startswith("hmac-sha256:")
    suite = ET.parse(reports / "audit.junit.xml").getroot()
    assert suite.get("tests") == "2" and suite.get("failures") == "0"
    assert "| jwt | platform |" in (reports / "audit.md").read_text()
    for path in reports.iterdir():
        assert CANARY not in path.read_text()

    old = time.time() - 45 * 86400
    os.utime(env_file, (old, old))
    entries = catalog(env_file) + [{"name": "orphan", "store": "dotenv://%s#MISSING" % env_file}]
    bad = ansible.playbook("agentarea.secrets.audit", canaries=[CANARY], expect_rc=2,
                           extra_vars={"agentarea_secrets_catalog": entries, "audit_report_dir": str(reports)})
    assert "policy violation(s)" in bad.output
    assert "jwt (older than rotation.every (30d)" in bad.output
    assert "orphan (no owner; no purpose; missing from its store)" in bad.output
    suite = ET.parse(reports / "audit.junit.xml").getroot()
    assert suite.get("failures") == "2"
