# -*- coding: utf-8 -*-
"""Faults on the SSH fleet (issue 14, part of `make faults`): the controller killed while sync writes to 20 managed
hosts, and OpenBao restarted (or kept down) while sync writes 50 entries to 20 hosts. The hosts are those of
tests/harness/ssh_hosts.py; what the tests share with test_fleet_ssh.py is in tests/harness/fleet.py."""
import os
import pwd
import re
import time
import uuid

import dotenv
import pytest

from tests.harness.fleet import (
    changed_count, drift_report, fleet_hosts, hosts_in, mode_of, modules_running_as, owner_of, read_or_none,
    run_fleet,
)
from tests.integration.test_faults_host import kill_run, start_playbook, wait_for

pytest_plugins = ["tests.harness.ssh_hosts", "tests.harness.vault_fixtures"]  # ssh_fleet; vault, root

CANARY = "canary-5be0a9d4-fleet-faults"


def test_controller_killed_mid_sync_to_20_hosts(ansible, ssh_fleet, vault, root):
    """The controller (ansible-playbook and its workers) SIGKILLed while sync writes a changed secret to 20 managed
    hosts over SSH (forks 2): every host holds the old or the new complete file, never a part; a report-only sync
    names exactly the hosts that still hold the old value and writes nothing; sync repairs exactly those; a third
    run changes nothing."""
    fleet = ssh_fleet
    hosts = [h for h in fleet_hosts(fleet) if not fleet.hosts[h].get("ansible_become")][:20]
    assert len(hosts) == 20
    path_of = dict((h, fleet.hosts[h]["aa_app_dir"] + "/run/killed_token") for h in hosts)
    secret_path = "fleet-killed-%s/token" % uuid.uuid4().hex[:8]
    old, new = "%s-old-%s" % (CANARY, uuid.uuid4().hex), "%s-new-%s" % (CANARY, uuid.uuid4().hex)
    root.secrets.kv.v2.create_or_update_secret(secret_path, {"value": old})
    catalog = [{"name": "killed-token", "owner": "platform", "purpose": "issue 14: controller killed mid-sync",
                "kind": "static", "store": "vault://secret/%s#value" % secret_path,
                "consumers": [{"file": {"path": path_of[h]}, "hosts": h} for h in hosts]}]
    extra = {"agentarea_secrets_catalog": catalog, "agentarea_secrets_hosts": ":".join(hosts), "sync_restart": False}
    env = {"VAULT_ADDR": vault["url"], "VAULT_TOKEN": vault["token"]}
    canaries = [CANARY, old, new]
    run_fleet(ansible, fleet, "agentarea.secrets.sync", env=env, extra_vars=extra, canaries=canaries)
    assert all(read_or_none(p) == old for p in path_of.values())

    root.secrets.kv.v2.create_or_update_secret(secret_path, {"value": new})
    proc = start_playbook(ansible, "agentarea.secrets.sync", extra, env, args=["-i", fleet.inventory, "-f", "2"])
    wait_for(lambda: any(read_or_none(p) == new for p in path_of.values()), proc, timeout=600,
             what="a host to get the new value")
    kill_run(proc)

    # a module already running on a host is not the controller's process: it finishes its write on its own, as on
    # a real fleet; wait for those, then look
    # (an SSH session already under way when the controller died may still start its module: quiet for 3 s)
    uids = {pwd.getpwnam(fleet.hosts[h]["aa_app_user"]).pw_uid for h in hosts}
    quiet = {"since": None, "held": None}

    def settled():
        now = (bool(modules_running_as(uids)), dict((h, read_or_none(p)) for h, p in path_of.items()))
        if now[0] or now[1] != quiet["held"]:
            quiet.update(since=time.monotonic(), held=now[1])
            return False
        return time.monotonic() - quiet["since"] >= 3.0
    wait_for(settled, timeout=120, what="the hosts to be quiet after the controller died")

    held = dict((h, read_or_none(p)) for h, p in path_of.items())
    assert set(held.values()) <= {old, new}, "a host holds a partial file"
    drifted = {h for h, v in held.items() if v == old}
    assert drifted and len(drifted) < len(hosts), "the kill did not land mid-run: %d of 20 old" % len(drifted)
    for h in hosts:
        assert (owner_of(path_of[h]), mode_of(path_of[h])) == (fleet.hosts[h]["aa_app_user"], 0o600), h
        run_dir = os.path.dirname(path_of[h])
        assert not [n for n in os.listdir(run_dir) if n.startswith(".killed_token.") and n.endswith(".tmp")], h

    report = run_fleet(ansible, fleet, "agentarea.secrets.sync", env=env, canaries=canaries,
                       extra_vars=dict(extra, sync_report_only=True))
    assert hosts_in(drift_report(report), "drifted") == drifted, drift_report(report)
    assert dict((h, read_or_none(p)) for h, p in path_of.items()) == held

    repaired = run_fleet(ansible, fleet, "agentarea.secrets.sync", env=env, extra_vars=extra, canaries=canaries)
    assert hosts_in(drift_report(repaired), "drifted") == drifted, drift_report(repaired)
    assert all(read_or_none(p) == new for p in path_of.values())
    again = run_fleet(ansible, fleet, "agentarea.secrets.sync", env=env, extra_vars=extra, canaries=canaries)
    assert changed_count(again) == 0, again


# --- issue 14: OpenBao (on-disk storage) restarted, and kept down, while sync writes 50 entries to 20 hosts ----------

def restart_catalog(fleet, hosts, prefix):
    """50 static entries; entry i has one consumer on host i % 20: a key of the host's restart.env (even i) or a file
    (odd i). Returns the catalog and, per entry, (host, path, key or None)."""
    entries, where = [], {}
    for i in range(50):
        name, host = "r%02d" % i, hosts[i % len(hosts)]
        app = fleet.hosts[host]["aa_app_dir"]
        if i % 2 == 0:
            where[name] = (host, app + "/restart.env", name.upper())
            consumer = {"env_file": {"path": where[name][1], "key": name.upper()}, "hosts": host}
        else:
            where[name] = (host, "%s/run/%s.txt" % (app, name), None)
            consumer = {"file": {"path": where[name][1]}, "hosts": host}
        entries.append({"name": name, "owner": "platform", "purpose": "issue 14: store restarts mid-sync",
                        "kind": "static", "store": "vault://secret/%s/%s#value" % (prefix, name),
                        "rotation": {"every": "30d"}, "consumers": [consumer]})
    return entries, where


def held_on_hosts(fleet, where):
    held = {}
    for name, (host, path, key) in where.items():
        held[name] = (dotenv.dotenv_values(path).get(key) if os.path.exists(path) else None) if key \
            else read_or_none(path)
    return held


@pytest.mark.slow
def test_store_restarts_and_stays_down_mid_sync_to_20_hosts(ansible, ssh_fleet, tmp_path):
    """OpenBao with raft storage on disk (test_faults_vault.FileBao). 50 entries, their consumers spread over 20
    hosts, provisioned; then the store values change and sync (forks 10) runs twice:
    1. OpenBao is SIGKILLed, restarted and unsealed as soon as one host holds a new value: the run completes or
       fails naming the reference, the store and the cause; a second run completes; every consumer on every host
       equals the store, files keep their owner and mode.
    2. With a retry budget of seconds (retries 1, timeout 2), OpenBao is SIGKILLed at the same point and stays down:
       the run fails naming the reference, the store and the cause (no traceback, no value), each consumer holds its
       old or its new value, complete; after a restart and an unseal the next run completes and everything equals
       the store.
    The killed runs read on the hosts' tasks (run_cache off: each host task reads its values, so the outage meets
    reads in flight; with the run cache every value is read before the first host writes); the runs that repair run
    as users run them, with the run cache."""
    from tests.integration.test_faults_vault import FileBao, Background, assert_failed_cleanly, wait_until
    fleet = ssh_fleet
    hosts = [h for h in fleet_hosts(fleet) if not fleet.hosts[h].get("ansible_become")][:20]
    assert len(hosts) == 20
    prefix = "restart-%s" % uuid.uuid4().hex[:8]
    base = tmp_path / "bao"
    base.mkdir()
    bao = FileBao(base)
    try:
        root = bao.start().init()
        catalog, where = restart_catalog(fleet, hosts, prefix)
        env = {"VAULT_ADDR": bao.url, "VAULT_TOKEN": bao.root_token}
        extra = {"agentarea_secrets_catalog": catalog, "agentarea_secrets_hosts": ":".join(hosts),
                 "sync_restart": False}
        canaries = [bao.root_token, bao.key]

        def put_all(tag):
            values = dict((name, "%s-%s-%s" % (CANARY, tag, uuid.uuid4().hex)) for name in where)
            for name, value in values.items():
                root.secrets.kv.v2.create_or_update_secret("%s/%s" % (prefix, name), {"value": value})
            canaries.extend(values.values())
            return values

        def assert_files(values):
            assert held_on_hosts(fleet, where) == values  # nothing lost
            for name, (host, path, key) in where.items():
                assert (owner_of(path), mode_of(path)) == (fleet.hosts[host]["aa_app_user"], 0o600), (name, host)

        def sync_killing_the_store(old, new, restart, **kw):
            run = Background(lambda: run_fleet(ansible, fleet, "agentarea.secrets.sync", env=env, expect_rc=None,
                                               extra_vars=dict(extra, **kw), canaries=canaries, run_cache=False))
            assert wait_until(lambda: any(v == new[n] for n, v in held_on_hosts(fleet, where).items()), 300), \
                "no host got a new value"
            landed = sum(v == new[n] for n, v in held_on_hosts(fleet, where).items())
            if restart:
                bao.restart()
            else:
                bao.kill()
            result = run.join(600)
            held = held_on_hosts(fleet, where)
            assert all(held[n] in (old[n], new[n]) for n in where), "a consumer holds neither value"
            assert landed < len(where), "the store went down after the last write: not mid-run"
            return result, held, landed

        started = time.monotonic()
        v0 = put_all("v0")
        run_fleet(ansible, fleet, "agentarea.secrets.provision", env=env, extra_vars=extra, canaries=canaries)
        assert_files(v0)
        print("provision: %.1fs" % (time.monotonic() - started))

        # 1. killed, restarted and unsealed mid-run
        started = time.monotonic()
        v1 = put_all("v1")
        first, held, landed = sync_killing_the_store(v0, v1, restart=True)
        fresh = sum(held[n] == v1[n] for n in where)
        print("restart mid-sync (%d of 50 new when killed): rc=%s, %d new after, %.1fs"
              % (landed, first.rc, fresh, time.monotonic() - started))
        if first.rc != 0:
            assert_failed_cleanly(first, bao.url)
        run_fleet(ansible, fleet, "agentarea.secrets.sync", env=env, extra_vars=extra, canaries=canaries)
        assert_files(v1)

        # 2. killed and kept down longer than the retry budget
        started = time.monotonic()
        v2 = put_all("v2")
        # cache off: the run's broker would otherwise answer every host from the values it read before the outage
        # (a green, complete run); with it off every host's lookup reads the store, and the outage must fail cleanly
        budget = {"ansible_agentarea_secrets_retries": 1, "ansible_agentarea_secrets_timeout": 2,
                  "ansible_agentarea_secrets_cache": False}
        down, held, landed = sync_killing_the_store(v1, v2, restart=False, **budget)
        fresh = sum(held[n] == v2[n] for n in where)
        print("store down mid-sync (%d of 50 new when killed): rc=%s, %d new after, %.1fs"
              % (landed, down.rc, fresh, time.monotonic() - started))
        assert down.rc != 0, down
        assert_failed_cleanly(down, bao.url)
        out = down.output
        assert re.search(r"vault 'vault://secret/%s/r\d\d(#value)?'" % prefix, out), out[-3000:]
        assert "cannot reach Vault after 1 retry" in out, out[-3000:]
        assert any(held[n] == v1[n] for n in where), "the outage came too late to fail anything"
        bao.start()
        bao.unseal()
        run_fleet(ansible, fleet, "agentarea.secrets.sync", env=env, extra_vars=extra, canaries=canaries)
        assert_files(v2)
        assert dict((n, root.secrets.kv.v2.read_secret_version("%s/%s" % (prefix, n), raise_on_deleted_version=True)
                     ["data"]["data"]["value"]) for n in where) == v2
    finally:
        bao.stop()
