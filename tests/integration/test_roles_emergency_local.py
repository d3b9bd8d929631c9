# -*- coding: utf-8 -*-
"""emergency and drill on local stores: confirmation, scope (names, scan of a git repo), rotation, consumers,
validation, incident report, resumability; drill rehearsals. Database and cloud cases are in test_e2e_agentarea."""
import json
import subprocess

import dotenv


def catalog(base):
    return [
        {"name": "webhook", "owner": "platform", "purpose": "verifies webhooks", "kind": "static",
         "store": "dotenv://%s/store/.env#WEBHOOK_SECRET" % base, "generate": {"kind": "hex", "bits": 256},
         "consumers": [{"env_file": {"path": "%s/app/.env" % base, "key": "WEBHOOK_SECRET"}}], "tags": ["web"]},
        {"name": "session", "owner": "platform", "purpose": "session cookies", "kind": "fernet",
         "store": "dotenv://%s/store/.env#SESSION_KEY" % base,
         "consumers": [{"env_file": {"path": "%s/app/.env" % base, "key": "SESSION_KEY"}}]},
    ]


def play(ansible, name, base, expect_rc=0, canaries=(), **extra):
    extra_vars = {"agentarea_secrets_catalog": catalog(base), "agentarea_secrets_report_dir": str(base / "reports"),
                  "agentarea_secrets_audit_log": str(base / "reports" / "audit.jsonl")}
    extra_vars.update(extra)
    return ansible.playbook("agentarea.secrets.%s" % name, extra_vars=extra_vars, expect_rc=expect_rc,
                            canaries=list(canaries))


def test_emergency_and_drill(ansible, tmp_path):
    base = tmp_path
    play(ansible, "provision", base)
    store = dotenv.dotenv_values(base / "store" / ".env")
    canaries = list(store.values())

    refused = play(ansible, "emergency", base, expect_rc=2, canaries=canaries, emergency_incident="INC-1",
                   emergency_names=["webhook"])
    assert "Not confirmed: nothing was revoked or rotated" in refused.output
    assert dotenv.dotenv_values(base / "store" / ".env") == store

    empty = play(ansible, "emergency", base, expect_rc=2, canaries=canaries, emergency_incident="INC-1",
                 emergency_confirm="YES")
    assert "Nothing in scope" in empty.output

    # the webhook secret was pasted into a repository's config and committed: the scan puts it in scope
    repo = base / "repo"
    repo.mkdir()
    (repo / "config.yml").write_text("webhook:\n  secret: %s\n" % store["WEBHOOK_SECRET"])
    commit = ["git", "-c", "user.email=t@example.invalid", "-c", "user.name=t", "commit", "-qm", "config"]
    for cmd in (["git", "init", "-q"], ["git", "add", "."], commit):
        subprocess.run(cmd, cwd=repo, check=True)
    done = play(ansible, "emergency", base, canaries=canaries, emergency_incident="INC-1", emergency_confirm="YES",
                emergency_scan_paths=[str(repo)])
    after = dotenv.dotenv_values(base / "store" / ".env")
    assert after["WEBHOOK_SECRET"] != store["WEBHOOK_SECRET"] and after["SESSION_KEY"] == store["SESSION_KEY"]
    assert dotenv.dotenv_values(base / "app" / ".env")["WEBHOOK_SECRET"] == after["WEBHOOK_SECRET"]
    report = json.loads((base / "reports" / "incident-INC-1.json").read_text())
    assert list(report["done"]) == ["webhook"] and report["validation"]["consumers_in_sync"] is True
    assert any("rotated: webhook=rotated" in e["event"] for e in report["timeline"])
    markdown = (base / "reports" / "incident-INC-1.md").read_text()
    assert "| webhook | rotated |" in markdown
    for path in (base / "reports").iterdir():
        for value in canaries + [after["WEBHOOK_SECRET"]]:
            assert value not in path.read_text()
    assert "incident INC-1: rotated webhook" in done.output

    # a second run of the same incident resumes: nothing left, nothing rotated again
    again = play(ansible, "emergency", base, canaries=canaries, emergency_incident="INC-1", emergency_confirm="YES",
                 emergency_names=["webhook"])
    assert dotenv.dotenv_values(base / "store" / ".env") == after
    assert "to do now: nothing" in again.output

    drill = play(ansible, "drill", base, canaries=canaries + [after["WEBHOOK_SECRET"]])
    assert "2 rehearsal(s) passed" in drill.output
    assert dotenv.dotenv_values(base / "store" / ".env") == after


def test_emergency_fails_naming_what_it_could_not_rotate(ansible, tmp_path):
    """Issue 13 item 2: an entry in scope that its store reports missing is not rotated (nor created) and the run
    fails naming it, after rotating the rest and writing the report; unknown names and tags fail at once."""
    base = tmp_path
    play(ansible, "provision", base)
    store = dotenv.dotenv_values(base / "store" / ".env")
    canaries = list(store.values())
    dotenv.unset_key(str(base / "store" / ".env"), "WEBHOOK_SECRET")   # the store now reports webhook missing

    unknown = play(ansible, "emergency", base, expect_rc=2, canaries=canaries, emergency_incident="INC-2",
                   emergency_confirm="YES", emergency_tags=["nope"])
    assert "no catalog entry carries the tag(s): nope" in unknown.output, unknown
    unknown = play(ansible, "emergency", base, expect_rc=2, canaries=canaries, emergency_incident="INC-2",
                   emergency_confirm="YES", emergency_names=["nope"])
    assert "not in the catalog: nope" in unknown.output, unknown

    failed = play(ansible, "emergency", base, expect_rc=2, canaries=canaries, emergency_incident="INC-2",
                  emergency_confirm="YES", emergency_names="webhook, session", emergency_tags="")  # as a survey does
    assert "not rotated: webhook (missing)" in failed.output, failed
    after = dotenv.dotenv_values(base / "store" / ".env")
    assert "WEBHOOK_SECRET" not in after and after["SESSION_KEY"] != store["SESSION_KEY"]   # the rest was rotated
    report = json.loads((base / "reports" / "incident-INC-2.json").read_text())
    assert list(report["done"]) == ["session"] and report["not_rotated"] == ["webhook (missing)"]
    assert "Not rotated: webhook (missing)" in (base / "reports" / "incident-INC-2.md").read_text()

    tagged = play(ansible, "emergency", base, expect_rc=2, canaries=canaries + [after["SESSION_KEY"]],
                  emergency_incident="INC-3", emergency_confirm="YES", emergency_tags=["web"])
    assert "not rotated: webhook (missing)" in tagged.output, tagged


def test_emergency_rotates_in_one_call_and_resumes_after_a_failed_entry(ansible, tmp_path):
    """Issue 17: the runbook rotates every entry in one batched call (concurrency in the module, no async jobs). An
    entry whose rotation fails rolls back alone and stops the runbook naming it, after the others were recorded as
    done; the next run of the incident rotates only that entry, updates and validates every consumer."""
    base, n = tmp_path, 6
    entries = [{"name": "s%d" % i, "owner": "platform", "purpose": "leaked", "kind": "static", "tags": ["leak"],
                "store": "file://%s/store/s%d" % (base, i), "generate": {"kind": "hex", "bits": 128},
                "consumers": [{"env_file": {"path": "%s/app/.env" % base, "key": "S%d" % i}}]} for i in range(n)]
    entries.append({"name": "provider", "owner": "platform", "purpose": "leaked", "kind": "api_key", "tags": ["leak"],
                    "store": "file://%s/store/provider" % base,
                    "target": {"register": {"command": ["true"]}, "revoke": {"command": ["true"]},
                               "test": {"command": ["test", "!", "-e", "%s/broken" % base]}},
                    "consumers": [{"env_file": {"path": "%s/app/.env" % base, "key": "PROVIDER"}}]})
    extra = {"agentarea_secrets_catalog": entries, "agentarea_secrets_report_dir": str(base / "reports"),
             "agentarea_secrets_audit_log": str(base / "reports" / "audit.jsonl"), "emergency_confirm": "YES",
             "emergency_incident": "INC-17", "emergency_tags": "leak", "emergency_concurrency": 3}
    ansible.playbook("agentarea.secrets.provision", extra_vars=extra)
    names = ["s%d" % i for i in range(n)] + ["provider"]
    leaked = dict((name, (base / "store" / name).read_text().strip()) for name in names)
    canaries = list(leaked.values())

    (base / "broken").write_text("")
    failed = ansible.playbook("agentarea.secrets.emergency", extra_vars=extra, expect_rc=2, canaries=canaries)
    assert "rotation failed for provider:" in failed.output, failed
    assert (base / "store" / "provider").read_text().strip() == leaked["provider"]   # rolled back
    state = json.loads((base / "reports" / "incident-INC-17.state.json").read_text())
    assert sorted(state["done"]) == sorted(names[:-1])
    assert all(state["done"][name]["action"] == "rotated" for name in names[:-1])
    assert any(e["event"].startswith("rotated: s0=rotated") for e in state["timeline"]), state["timeline"]

    (base / "broken").unlink()
    done = ansible.playbook("agentarea.secrets.emergency", extra_vars=extra, canaries=canaries)
    assert "to do now: provider" in done.output, done
    now = dict((name, (base / "store" / name).read_text().strip()) for name in names)
    assert all(now[name] != leaked[name] for name in names)
    app = dotenv.dotenv_values(base / "app" / ".env")
    assert all(app[name.upper()] == now[name] for name in names)
    report = json.loads((base / "reports" / "incident-INC-17.json").read_text())
    assert sorted(report["done"]) == sorted(names) and report["validation"]["consumers_in_sync"] is True
    assert report["done"]["provider"]["store"] == "file://%s/store/provider" % base
    for path in (base / "reports").iterdir():
        assert not any(value in path.read_text() for value in canaries + list(now.values())), path
