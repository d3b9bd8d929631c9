# -*- coding: utf-8 -*-
"""provision -> rotate -> sync through `ansible-playbook agentarea.secrets.<name>` on local stores and consumers:
check mode, idempotence, consumers follow the store, drift is found and repaired, nothing leaks."""
import json

import dotenv


def catalog(base):
    return [
        {"name": "jwt", "owner": "platform", "purpose": "signs API tokens", "kind": "jwt",
         "store": "file://%s/store/jwt_secret.txt" % base, "generate": {"kind": "base64url", "bits": 512},
         "rotation": {"every": "30d"}, "tags": ["auth"],
         "consumers": [{"env_file": {"path": "%s/app/.env" % base, "key": "JWT_SECRET", "field": "active_k"}},
                       {"file": {"path": "%s/app/secrets/jwt_secret.txt" % base, "field": "active_k"}}]},
        {"name": "session", "owner": "platform", "purpose": "session cookies", "kind": "fernet",
         "store": "dotenv://%s/store/.env#SESSION_KEY" % base, "rotation": {"every": "90d"},
         "consumers": [{"env_file": {"path": "%s/app/.env" % base, "key": "SESSION_KEY"}}]},
    ]


def run(ansible, name, base, canaries=(), **kw):
    extra = {"agentarea_secrets_catalog": catalog(base), "agentarea_secrets_audit_log": "%s/audit.jsonl" % base}
    extra.update(kw.pop("extra", {}))
    return ansible.playbook("agentarea.secrets.%s" % name, extra_vars=extra, canaries=list(canaries), **kw)


def read(base):
    keyset = json.loads((base / "store" / "jwt_secret.txt").read_text())
    store = {"jwt": [k["k"] for k in keyset["keys"] if k["kid"] == keyset["active"]][0],
             "session": dotenv.dotenv_values(base / "store" / ".env")["SESSION_KEY"]}
    app = dotenv.dotenv_values(base / "app" / ".env")
    return store, app


def test_provision_rotate_sync(ansible, tmp_path):
    base = tmp_path
    check = run(ansible, "provision", base, check=True)
    assert not (base / "store").exists() or not any((base / "store").iterdir())

    run(ansible, "provision", base)
    store, app = read(base)
    canaries = list(store.values())
    assert app["JWT_SECRET"] == store["jwt"] and app["SESSION_KEY"] == store["session"]
    assert (base / "app" / "secrets" / "jwt_secret.txt").read_text() == store["jwt"]

    again = run(ansible, "provision", base, canaries=canaries)
    assert "changed=0" in again.stdout, again
    assert read(base) == (store, app)

    # rotate: nothing is due yet
    idle = run(ansible, "rotate", base, canaries=canaries)
    assert "rotating nothing (due)" in idle.output and read(base)[0] == store

    plan = run(ansible, "rotate", base, canaries=canaries, check=True, extra={"rotate_names": ["jwt"]})
    assert read(base)[0] == store

    rotated = run(ansible, "rotate", base, canaries=canaries, extra={"rotate_names": ["jwt"]})
    new_store, new_app = read(base)
    assert new_store["jwt"] != store["jwt"] and new_store["session"] == store["session"]
    assert new_app["JWT_SECRET"] == new_store["jwt"]
    summary = json.loads((base / "reports" / "rotate.json").read_text()) if (base / "reports").exists() else None
    assert "jwt | rotated" in rotated.output
    canaries.append(new_store["jwt"])

    # drift: a hand edit is reported in report-only mode, then repaired
    dotenv.set_key(str(base / "app" / ".env"), "SESSION_KEY", "tampered-by-hand")
    report = run(ansible, "sync", base, canaries=canaries, expect_rc=2,
                 extra={"sync_report_only": True, "sync_fail_on_drift": True})
    assert "session had consumers out of sync (not repaired: report-only)" in report.output
    assert dotenv.dotenv_values(base / "app" / ".env")["SESSION_KEY"] == "tampered-by-hand"
    run(ansible, "sync", base, canaries=canaries)
    assert dotenv.dotenv_values(base / "app" / ".env")["SESSION_KEY"] == store["session"]

    events = [json.loads(line) for line in (base / "audit.jsonl").read_text().splitlines()]
    assert {"write", "distribute"} <= {e["action"] for e in events}
    assert summary is None or summary["rotations"][0]["name"] == "jwt"


def test_rotation_summary_filter(ansible, tmp_path):
    store = tmp_path / "store.env"
    store.write_text("WEBHOOK=canary-a1b2c3d4-summary\n")
    play = """
    - hosts: localhost
      gather_facts: false
      tasks:
        - name: rotate
          agentarea.secrets.rotate:
            store: "dotenv://%s#WEBHOOK"
            kind: static
            generate: {kind: hex, bits: 128}
          loop: [webhook]
          register: rotated
        - name: summary
          ansible.builtin.set_fact:
            rows: "{{ rotated.results | map('agentarea.secrets.rotation_summary') | list }}"
        - name: check
          ansible.builtin.assert:
            that:
              - rows[0].name == 'webhook' and rows[0].action == 'rotated'
              - rows[0].old_fingerprint != rows[0].new_fingerprint
              - rows[0].line.startswith('webhook | rotated | ')
    """ % store
    result = ansible.playbook(play, canaries=["canary-a1b2c3d4-summary"], verbosity=2)
    new = dotenv.dotenv_values(store)["WEBHOOK"]
    assert new != "canary-a1b2c3d4-summary" and new not in result.output


def test_batch_items_filter_feeds_one_rotate_call(ansible, tmp_path):
    """agentarea.secrets.batch_items turns catalog_info's entries and the catalog into one batched rotate call (as the
    roles use it); the old values never show."""
    store = tmp_path / "store.env"
    store.write_text("WEBHOOK=canary-b7c8d9e0-batch\nAPI=canary-f1e2d3c4-batch\n")
    play = """
    - hosts: localhost
      gather_facts: false
      vars:
        entries:
          - {name: webhook, store: "dotenv://%(store)s#WEBHOOK", rotate_kind: static, policy: {kind: hex, bits: 128}}
          - {name: api, store: "dotenv://%(store)s#API", rotate_kind: static, policy: {kind: hex, bits: 128}}
        by_name: {webhook: {}, api: {}}
      tasks:
        - name: one call for both
          agentarea.secrets.rotate:
            rotations: "{{ entries | agentarea.secrets.batch_items(by_name, 'rotate') }}"
          register: rotated
        - name: check
          ansible.builtin.assert:
            that:
              - rotated.results | map(attribute='name') | list == ['webhook', 'api']
              - rotated.results | map('agentarea.secrets.rotation_summary') | map(attribute='action') | unique | list
                == ['rotated']
    """ % {"store": store}
    result = ansible.playbook(play, canaries=["canary-b7c8d9e0-batch", "canary-f1e2d3c4-batch"], verbosity=2)
    values = dotenv.dotenv_values(store)
    assert "canary" not in values["WEBHOOK"] + values["API"]
    assert values["WEBHOOK"] not in result.output and values["API"] not in result.output


def test_named_rotation_that_rotates_nothing_fails(ansible, tmp_path):
    """Issue 13 item 2: what an operator names must rotate or the job fails naming it; unknown names and tags fail;
    a scheduled run keeps going but its report lists what is missing."""
    base = tmp_path
    run(ansible, "provision", base)
    store, _app = read(base)
    canaries = list(store.values())
    (base / "store" / "jwt_secret.txt").unlink()  # the store now reports the jwt entry missing

    for check in (True, False):
        # as a list, and as an AWX survey passes it (comma-separated)
        names = ["jwt", "session"] if check else "jwt, session"
        named = run(ansible, "rotate", base, canaries=canaries, expect_rc=2, check=check,
                    extra={"rotate_names": names, "rotate_tags": [] if check else ""})
        assert "named or tagged but not rotated: jwt (missing)" in named.output, named
    assert dotenv.dotenv_values(base / "store" / ".env")["SESSION_KEY"] != store["session"]   # the rest rotated
    canaries.append(dotenv.dotenv_values(base / "store" / ".env")["SESSION_KEY"])
    assert not (base / "store" / "jwt_secret.txt").exists()

    tagged = run(ansible, "rotate", base, canaries=canaries, expect_rc=2, extra={"rotate_tags": ["auth"]})
    assert "named or tagged but not rotated: jwt (missing)" in tagged.output, tagged
    unknown_tag = run(ansible, "rotate", base, canaries=canaries, expect_rc=2, extra={"rotate_tags": ["nope"]})
    assert "no catalog entry carries the tag(s): nope" in unknown_tag.output, unknown_tag
    unknown_name = run(ansible, "rotate", base, canaries=canaries, expect_rc=2, extra={"rotate_names": ["nope"]})
    assert "not in the catalog: nope" in unknown_name.output, unknown_name

    # a scheduled run ("what is due") is not a failure, but says and reports what is missing
    scheduled = run(ansible, "rotate", base, canaries=canaries)
    assert "missing, not rotated: jwt (missing)" in scheduled.output
    report = json.loads((scheduled.workdir / "reports" / "rotate.json").read_text())
    assert report["missing"] == ["jwt (missing)"]


def scale_catalog(base, n):
    entries = [{"name": "s%02d" % i, "owner": "platform", "purpose": "scale", "kind": "static", "tags": ["scale"],
                "store": "file://%s/store/s%02d" % (base, i), "generate": {"kind": "hex", "bits": 128},
                "consumers": [{"env_file": {"path": "%s/app/.env" % base, "key": "S%02d" % i}}]} for i in range(n)]
    # an API key whose test hook fails once the file `broken` exists: its rotation rolls back alone
    entries.append({"name": "provider", "owner": "platform", "purpose": "scale", "kind": "api_key", "tags": ["bad"],
                    "store": "file://%s/store/provider" % base,
                    "target": {"register": {"command": ["true"]}, "revoke": {"command": ["true"]},
                               "test": {"command": ["test", "!", "-e", "%s/broken" % base]}},
                    "consumers": [{"env_file": {"path": "%s/app/.env" % base, "key": "PROVIDER"}}]})
    return entries


def test_roles_at_catalog_scale_make_one_module_call_per_step(ansible, tmp_path):
    """Issue 17: provision and rotate over many entries make one module call per step (results named by entry, no
    loop items), keep check mode, idempotence and per-entry failures by name (only that entry rolls back)."""
    base, n = tmp_path, 12
    extra = {"agentarea_secrets_catalog": scale_catalog(base, n), "agentarea_secrets_audit_log": "%s/audit.jsonl" % base,
             "agentarea_secrets_report_dir": "%s/reports" % base}

    def play(name, **kw):
        more = kw.pop("extra", {})
        return ansible.playbook("agentarea.secrets.%s" % name, extra_vars=dict(extra, **more), **kw)

    play("provision", check=True)
    assert not (base / "store").exists() or not any((base / "store").iterdir())
    first = play("provision")
    generated = first.task("agentarea.secrets.provision : Generate missing secrets that live only in their store")
    assert [r["name"] for r in generated["results"]] == ["s%02d" % i for i in range(n)]
    assert all("item" not in r and r["action"] == "created" for r in generated["results"])
    created = first.task("agentarea.secrets.provision : Create and apply missing credentials that have a target "
                         "(database roles, Redis users, JWT key sets, API keys)")
    assert [r["name"] for r in created["results"]] == ["provider"]
    pushed = first.task("agentarea.secrets.provision : Push each secret to its consumers on the controller and restart what changed")
    assert len(pushed["results"]) == n + 1 and all(r["changed"] for r in pushed["results"])
    store = dict(("s%02d" % i, (base / "store" / ("s%02d" % i)).read_text().strip()) for i in range(n))
    app = dotenv.dotenv_values(base / "app" / ".env")
    assert all(app["S%02d" % i] == store["s%02d" % i] for i in range(n))
    canaries = list(store.values()) + [(base / "store" / "provider").read_text().strip()]
    again = play("provision", canaries=canaries)
    assert "changed=0" in again.stdout, again

    (base / "broken").write_text("")
    rotated = play("rotate", canaries=canaries, extra={"rotate_tags": ["scale", "bad"]}, expect_rc=2)
    assert "rotation failed for provider:" in rotated.output, rotated
    results = rotated.task("agentarea.secrets.rotate : Rotate the selected secrets "
                           "(each - create, set, test, finish; rollback on failure - on its own)")["results"]
    by_name = dict((r["name"], r) for r in results)
    assert by_name["provider"]["rolled_back"]["performed"] and by_name["provider"]["failed"]
    assert (base / "store" / "provider").read_text().strip() == canaries[-1]
    assert all(by_name["s%02d" % i]["action"] == "rotated" for i in range(n))
    assert all((base / "store" / ("s%02d" % i)).read_text().strip() != store["s%02d" % i] for i in range(n))

    ok = play("rotate", canaries=canaries, extra={"rotate_tags": ["scale"]})
    new = dict(("s%02d" % i, (base / "store" / ("s%02d" % i)).read_text().strip()) for i in range(n))
    app = dotenv.dotenv_values(base / "app" / ".env")
    assert all(app["S%02d" % i] == new["s%02d" % i] for i in range(n))
    report = json.loads((base / "reports" / "rotate.json").read_text())
    assert [r["name"] for r in report["rotations"]] == ["s%02d" % i for i in range(n)]
    assert all(r["action"] == "rotated" for r in report["rotations"])
    assert "s00 | rotated" in ok.output
