# -*- coding: utf-8 -*-
"""Managed hosts over SSH (issue 13): a fleet of >= 50 inventory hosts behind a private sshd on a loopback port
(tests/harness/ssh_hosts.py), unprivileged users, ``become``, a Python 3.8 host and hosts without any of our SDKs.

- Modules on the hosts: secret_file and secret (dotenv backend) work on a host without SDKs and on Python 3.8; a
  module that needs an SDK fails there naming the package, without a traceback.
- The fleet: secrets from OpenBao (and a dotenv store on the controller) land in each host's .env and secret file,
  owned by the host's user, 0600, the .env's other lines kept byte for byte, values read back independently; a
  second run changes nothing; logins and reads counted in OpenBao's audit log.
- The provision, sync, rotate and emergency playbooks, as users run them, with the fleet inventory and forks 10.

Every host is this machine, so files are checked directly on disk (as root), independently of the modules.
"""
import os
import pwd
import time
import uuid

import dotenv
import pytest

from tests.harness.fleet import (
    ENV_OTHER_LINES, changed_count, fleet_hosts, mode_of, no_traceback, owner_of, run_fleet,
)
from tests.harness.vault_helpers import Audit, ensure_auth, read_policy

pytest_plugins = ["tests.harness.ssh_hosts", "tests.harness.vault_fixtures"]  # ssh_fleet; vault, root

CANARY = "canary-3d41c7e2-fleet"
# --- modules on hosts without SDKs and on Python 3.8 -------------------------------------------------------------

MODULES_PLAY = """
- name: Modules on managed hosts
  hosts: "%(hosts)s"
  gather_facts: false
  tasks:
    - name: secret file
      agentarea.secrets.secret_file:
        path: "{{ aa_app_dir }}/secrets/api_token.txt"
        value: "%(canary)s-file-{{ inventory_hostname }}"
        owner: "{{ aa_app_user }}"
        group: "{{ aa_app_group }}"
    - name: env entry
      agentarea.secrets.secret_file:
        path: "{{ aa_app_dir }}/.env"
        key: API_TOKEN
        value: "%(canary)s-env-{{ inventory_hostname }}"
        owner: "{{ aa_app_user }}"
        group: "{{ aa_app_group }}"
    - name: dotenv store on the host
      agentarea.secrets.secret:
        ref: "dotenv://{{ aa_app_dir }}/store.env#SESSION_KEY"
        generate: {length: 40, symbols: false}
    - name: python
      ansible.builtin.command: "{{ ansible_python_interpreter }} -c 'import sys; print(sys.version_info[:2])'"
      changed_when: false
      check_mode: false
      register: python
    - name: report python
      ansible.builtin.debug:
        msg: "python {{ python.stdout }}"
"""


def module_hosts(fleet):
    hosts = [fleet.group("ssh_nosdk")[0], fleet.group("ssh_become")[0]] + fleet.group("ssh_py38")
    return hosts


def test_modules_on_hosts_without_sdks_and_python38(ansible, ssh_fleet):
    fleet = ssh_fleet
    assert fleet.group("ssh_py38"), "no pyenv Python 3.8 on this machine: the oldest promised Python is not tested"
    hosts = module_hosts(fleet)
    for host in hosts:
        app = fleet.hosts[host]["aa_app_dir"]
        assert not os.path.exists(os.path.join(app, ".env"))
        with open(os.path.join(app, ".env"), "w") as f:
            f.write(ENV_OTHER_LINES)
        os.chown(os.path.join(app, ".env"), pwd.getpwnam(fleet.hosts[host]["aa_app_user"]).pw_uid, -1)
        os.chmod(os.path.join(app, ".env"), 0o600)
    playbook = MODULES_PLAY % {"hosts": ",".join(hosts), "canary": CANARY}
    canaries = [CANARY]

    check = run_fleet(ansible, fleet, playbook, check=True, canaries=canaries)
    for host in hosts:
        app = fleet.hosts[host]["aa_app_dir"]
        assert not os.path.exists(os.path.join(app, "secrets", "api_token.txt")), check
        assert not os.path.exists(os.path.join(app, "store.env")), check

    first = run_fleet(ansible, fleet, playbook, canaries=canaries)
    assert "python (3, 8)" in first.stdout and "python (3, 11)" in first.stdout, first
    generated = []
    for host in hosts:
        app, user = fleet.hosts[host]["aa_app_dir"], fleet.hosts[host]["aa_app_user"]
        token = os.path.join(app, "secrets", "api_token.txt")
        with open(token) as f:
            assert f.read() == "%s-file-%s" % (CANARY, host)
        env_file = os.path.join(app, ".env")
        with open(env_file) as f:
            text = f.read()
        assert text.startswith(ENV_OTHER_LINES), text.replace(CANARY, "<CANARY>")
        assert dotenv.dotenv_values(env_file)["API_TOKEN"] == "%s-env-%s" % (CANARY, host)
        store = dotenv.dotenv_values(os.path.join(app, "store.env"))
        assert len(store["SESSION_KEY"]) == 40
        generated.append(store["SESSION_KEY"])
        for path in (token, env_file):
            assert (owner_of(path), mode_of(path)) == (user, 0o600), (host, path)
        # the secret module has no owner option: a new store file belongs to whoever ran the module
        runs_as = "root" if fleet.hosts[host].get("ansible_become") else user
        assert (owner_of(os.path.join(app, "store.env")), mode_of(os.path.join(app, "store.env"))) == (runs_as, 0o600)
    assert first.stdout.count("changed=3") == len(hosts), first

    again = run_fleet(ansible, fleet, playbook, canaries=canaries + generated)
    assert changed_count(again) == 0, again


NEEDS_SDK_PLAY = """
- name: A module that needs an SDK, on a host without it
  hosts: "%(hosts)s"
  gather_facts: false
  tasks:
    - name: describe a Vault secret
      agentarea.secrets.secret_info:
        ref: vault://secret/agentarea/fleet-missing-sdk
        url: "%(url)s"
        token: "%(token)s"
"""


def test_sdk_module_on_host_without_sdk_fails_clearly(ansible, ssh_fleet, vault):
    fleet = ssh_fleet
    hosts = [fleet.group("ssh_nosdk")[0]] + fleet.group("ssh_py38")
    playbook = NEEDS_SDK_PLAY % {"hosts": ",".join(hosts), "url": vault["url"], "token": vault["token"]}
    result = run_fleet(ansible, fleet, playbook, expect_rc=2, canaries=[vault["token"]])
    for host in hosts:
        res = result.task("describe a Vault secret", host=host)
        assert res["_status"] == "failed" and res["error"] == "MissingDependency", res
        assert "hvac" in res["msg"] and "Traceback" not in res["msg"], res["msg"]
        # ansible-core 2.19+ puts "(traceback unavailable)" in ``exception`` of every fail_json without one
        assert not res.get("module_stderr") and "Traceback" not in str(res.get("exception", "")), res
        print("%s: %s" % (host, res["msg"]))
    assert no_traceback(result), result


# --- the fleet: lookups on the controller, files on every host ---------------------------------------------------

N_SECRETS = 3
OPTION = "ansible_agentarea_secrets_vault_"

FLEET_PLAY = """
- name: Secrets to the fleet
  hosts: fleet
  gather_facts: false
  vars:
    fleet_secrets: %(names)s
  tasks:
    - name: env entries from Vault
      agentarea.secrets.secret_file:
        path: "{{ aa_app_dir }}/fleet.env"
        key: "{{ item | upper }}"
        value: "{{ lookup('agentarea.secrets.vault', '%(prefix)s/' ~ item, key='v') }}"
        owner: "{{ aa_app_user }}"
        group: "{{ aa_app_group }}"
      loop: "{{ fleet_secrets }}"
    - name: env entry from the controller's dotenv store
      agentarea.secrets.secret_file:
        path: "{{ aa_app_dir }}/fleet.env"
        key: SESSION_KEY
        value: "{{ lookup('agentarea.secrets.secret', 'dotenv://%(store)s#SESSION_KEY') }}"
        owner: "{{ aa_app_user }}"
        group: "{{ aa_app_group }}"
    - name: secret file from Vault
      agentarea.secrets.secret_file:
        path: "{{ aa_app_dir }}/secrets/fleet_password.txt"
        value: "{{ lookup('agentarea.secrets.vault', '%(prefix)s/s1', key='v') }}"
        owner: "{{ aa_app_user }}"
        group: "{{ aa_app_group }}"
"""


@pytest.fixture(scope="module")
def world(ssh_fleet, vault, root, tmp_path_factory):
    """Vault secrets and an AppRole identity, a dotenv store on the controller, and on half of the hosts an existing
    fleet.env with other lines. Set up with hvac and plain files, never with the code under test."""
    prefix = "fleet-%s" % uuid.uuid4().hex[:8]
    values = {"s%d" % i: "%s-s%d-%s" % (CANARY, i, uuid.uuid4().hex[:6]) for i in range(1, N_SECRETS + 1)}
    for name, value in values.items():
        root.secrets.kv.v2.create_or_update_secret("%s/%s" % (prefix, name), {"v": value})
    read_policy(root, prefix, "secret/data/%s/*" % prefix)
    ensure_auth(root, "approle")
    root.auth.approle.create_or_update_approle(prefix, token_policies=[prefix], token_ttl="10m")
    options = {OPTION + "auth_method": "approle",
               OPTION + "role_id": root.auth.approle.read_role_id(prefix)["data"]["role_id"],
               OPTION + "secret_id": root.auth.approle.generate_secret_id(prefix)["data"]["secret_id"]}
    controller = tmp_path_factory.mktemp("fleet-controller")
    session = "%s-session-%s" % (CANARY, uuid.uuid4().hex[:6])
    (controller / "store.env").write_text("SESSION_KEY=%s\n" % session)
    os.chmod(controller / "store.env", 0o600)
    existing = fleet_hosts(ssh_fleet)[::2]
    for host in existing:
        path = os.path.join(ssh_fleet.hosts[host]["aa_app_dir"], "fleet.env")
        with open(path, "w") as f:
            f.write(ENV_OTHER_LINES)
        os.chown(path, pwd.getpwnam(ssh_fleet.hosts[host]["aa_app_user"]).pw_uid, -1)
        os.chmod(path, 0o600)
    return {"prefix": prefix, "values": values, "options": options, "session": session,
            "store": str(controller / "store.env"), "existing": existing, "counts": {},
            "canaries": [CANARY] + list(values.values()) + [session, options[OPTION + "secret_id"]]}


def vault_env(vault):
    return {"VAULT_ADDR": vault["url"]}


def run_fleet_play(ansible, fleet, vault, world, **kw):
    playbook = FLEET_PLAY % {"names": ["s%d" % i for i in range(1, N_SECRETS + 1)], "prefix": world["prefix"],
                             "store": world["store"]}
    return run_fleet(ansible, fleet, playbook, env=vault_env(vault), extra_vars=world["options"],
                     canaries=world["canaries"], **kw)


def assert_fleet_files(fleet, world):
    for host in fleet_hosts(fleet):
        app, user = fleet.hosts[host]["aa_app_dir"], fleet.hosts[host]["aa_app_user"]
        env_file, secret = os.path.join(app, "fleet.env"), os.path.join(app, "secrets", "fleet_password.txt")
        for path in (env_file, secret):
            assert (owner_of(path), mode_of(path)) == (user, 0o600), (host, path)
        with open(env_file) as f:
            text = f.read()
        if host in world["existing"]:
            assert text.startswith(ENV_OTHER_LINES), (host, text.replace(CANARY, "<CANARY>"))
        values = dotenv.dotenv_values(env_file)
        for name, value in world["values"].items():
            assert values[name.upper()] == value, (host, name)
        assert values["SESSION_KEY"] == world["session"], host
        with open(secret) as f:
            assert f.read() == world["values"]["s1"], host


def check_sample(fleet, world):
    every = fleet_hosts(fleet)
    kinds = [fleet.group("ssh_become")[:1], fleet.group("ssh_py38")[:1], fleet.group("ssh_nosdk")[:1],
             world["existing"][:1], [h for h in every if h not in world["existing"]][:1]]
    return sorted(set(h for kind in kinds for h in kind), key=every.index)


def test_fleet_secrets_to_every_host(ansible, ssh_fleet, vault, world):
    fleet = ssh_fleet
    assert len(fleet_hosts(fleet)) >= int(os.environ.get("AGENTAREA_TEST_FLEET_HOSTS", "40"))
    # check mode writes nothing (an earlier test of the session may already have used some hosts' directories)
    # on one host of each kind (become, Python 3.8, no SDK, an existing fleet.env or none): what check mode does on a
    # host does not change with the fleet's size, which the two runs after it cover
    sample = check_sample(fleet, world)
    before = dict((host, sorted(os.listdir(fleet.hosts[host]["aa_app_dir"]))) for host in sample)
    check = run_fleet_play(ansible, fleet, vault, world, check=True, args=["--limit", ",".join(sample)])
    assert check.output.count("failed=0") == len(sample), check
    for host in sample:
        assert sorted(os.listdir(fleet.hosts[host]["aa_app_dir"])) == before[host], check

    audit = Audit(vault["audit_log"])
    first = run_fleet_play(ansible, fleet, vault, world)
    world["counts"]["logins"] = audit.count("auth/approle/login")
    world["counts"]["reads"] = {name: audit.count("secret/data/%s/%s" % (world["prefix"], name))
                                for name in world["values"]}
    assert_fleet_files(fleet, world)
    assert changed_count(first) == len(fleet_hosts(fleet)) * 3, first  # loop, session key, file: one each

    audit = Audit(vault["audit_log"])
    again = run_fleet_play(ansible, fleet, vault, world)
    world["counts"]["logins unchanged run"] = audit.count("auth/approle/login")
    world["counts"]["reads unchanged run"] = {name: audit.count("secret/data/%s/%s" % (world["prefix"], name))
                                              for name in world["values"]}
    print("fleet of %d hosts, forks 10: %s" % (len(fleet_hosts(fleet)), world["counts"]))
    assert changed_count(again) == 0, again
    assert_fleet_files(fleet, world)

    # issue 13 item 6: one login per identity and one read per reference per run, at forks 10
    for run in ("", " unchanged run"):
        assert world["counts"]["logins" + run] == 1, world["counts"]
        assert set(world["counts"]["reads" + run].values()) == {1}, world["counts"]


# --- the playbooks, as users run them, with the fleet inventory ---------------------------------------------------
#
# The store work of the playbooks runs once, delegated to localhost; with -e agentarea_secrets_hosts=fleet every host
# of the fleet is in the play and writes the catalog consumers that name it (`hosts:`) with secret_file, over SSH,
# as its user (or become root on the ssh_become hosts, where the consumer names the owner). Every host of this
# fleet is this machine with its own app directory, so each consumer names one host; a group pattern is the same.

PLAYBOOK_HOSTS = int(os.environ.get("AGENTAREA_TEST_PLAYBOOK_HOSTS", "16"))


def playbook_hosts(fleet):
    """The hosts the playbooks play on: every ``become`` host, the Python 3.8 host and the first others, 16 in all
    (more than forks 10, so hosts run in two batches). What a playbook does on a host is the same on 16 hosts as on
    40; the whole fleet's scale (one login, one read per reference at forks 10) is test_fleet_secrets_to_every_host.
    AGENTAREA_TEST_PLAYBOOK_HOSTS=40 plays on the whole fleet."""
    every = fleet_hosts(fleet)
    special = [h for h in every if fleet.hosts[h].get("ansible_become")] + fleet.group("ssh_py38")
    others = [h for h in every if h not in special]
    return sorted(set(special + others[:max(PLAYBOOK_HOSTS - len(special), 0)]), key=every.index)


def playbook_catalog(fleet, world):
    hosts = playbook_hosts(fleet)
    token_consumers, session_consumers = [], []
    for host in hosts:
        app = fleet.hosts[host]["aa_app_dir"]
        # a host that becomes root creates files as root: the consumer names who owns a new file
        owner = {"owner": fleet.hosts[host]["aa_app_user"]} if fleet.hosts[host].get("ansible_become") else {}
        token_consumers += [{"env_file": {"path": app + "/app.env", "key": "FLEET_TOKEN"}, "hosts": host},
                            {"file": dict({"path": app + "/run/fleet_token"}, **owner), "hosts": [host]}]
        session_consumers.append({"env_file": {"path": app + "/app.env", "key": "SESSION_KEY"}, "hosts": host})
    return [
        {"name": "fleet-token", "owner": "platform", "purpose": "fleet test: Vault to every host", "kind": "static",
         "store": "vault://secret/%s/token#value" % world["prefix"], "rotation": {"every": "30d"},
         "tags": ["fleet"], "consumers": token_consumers},
        {"name": "fleet-session", "owner": "platform", "purpose": "fleet test: controller dotenv to every host",
         "kind": "static", "store": "dotenv://%s#FLEET_SESSION" % world["pb_store"], "rotation": {"every": "30d"},
         "tags": ["fleet"], "consumers": session_consumers},
    ]


def run_playbook(ansible, fleet, vault, world, name, extra=None, **kw):
    extra_vars = {"agentarea_secrets_catalog": world["catalog"], "agentarea_secrets_hosts": ":".join(playbook_hosts(fleet))}
    extra_vars.update(extra or {})
    env = {"VAULT_ADDR": vault["url"], "VAULT_TOKEN": vault["token"]}
    started = time.monotonic()
    result = run_fleet(ansible, fleet, "agentarea.secrets.%s" % name, env=env, extra_vars=extra_vars,
                       canaries=world["canaries"] + world.setdefault("pb_canaries", []), **kw)
    print("%s%s: %.1fs" % (name, " (check)" if kw.get("check") else "", time.monotonic() - started))
    return result


def store_values(root, world):
    token = root.secrets.kv.v2.read_secret_version("%s/token" % world["prefix"],
                                                   raise_on_deleted_version=True)["data"]["data"]["value"]
    session = dotenv.dotenv_values(world["pb_store"])["FLEET_SESSION"]
    world["pb_canaries"] += [v for v in (token, session) if v not in world["pb_canaries"]]
    return token, session


def assert_consumers(fleet, world, token, session):
    for host in playbook_hosts(fleet):
        app, user = fleet.hosts[host]["aa_app_dir"], fleet.hosts[host]["aa_app_user"]
        env_file = app + "/app.env"
        with open(env_file) as f:
            text = f.read()
        assert text.startswith(ENV_OTHER_LINES), (host, text.replace(token, "<T>").replace(session, "<S>"))
        values = dotenv.dotenv_values(env_file)
        assert (values["FLEET_TOKEN"], values["SESSION_KEY"]) == (token, session), host
        # an existing file keeps its owner and mode
        assert (owner_of(env_file), mode_of(env_file)) == (user, world["pb_modes"][host]), host
        with open(app + "/run/fleet_token") as f:
            assert f.read() == token, host
        # a new file, created over SSH by the host's user (or, on a become host, for the owner its consumer names)
        assert (owner_of(app + "/run/fleet_token"), mode_of(app + "/run/fleet_token")) == (user, 0o600), host


def needs(world, key, test):
    if key not in world:
        pytest.skip("needs %s" % test)


# Three tests (each within the suite's per-test timeout: a playbook run on 40 hosts takes a minute or two), in order.
def test_playbooks_with_fleet_inventory(ansible, ssh_fleet, vault, root, world):
    """provision: check mode writes nothing on any host, then every host gets its consumers, then nothing changes."""
    fleet = ssh_fleet
    # a store file that does not exist yet (see test_provision_check_mode_dotenv_store_without_the_variable)
    world["pb_store"] = os.path.join(os.path.dirname(world["store"]), "playbook-store.env")
    world["catalog"] = playbook_catalog(fleet, world)
    world["pb_modes"] = {}
    for i, host in enumerate(playbook_hosts(fleet)):
        path = fleet.hosts[host]["aa_app_dir"] + "/app.env"
        with open(path, "w") as f:
            f.write(ENV_OTHER_LINES)
        os.chown(path, pwd.getpwnam(fleet.hosts[host]["aa_app_user"]).pw_uid, -1)
        world["pb_modes"][host] = 0o640 if i % 2 else 0o600
        os.chmod(path, world["pb_modes"][host])
    token_path = "secret/data/%s/token" % world["prefix"]

    check = run_playbook(ansible, fleet, vault, world, "provision", check=True)
    for host in playbook_hosts(fleet):
        assert not os.path.exists(fleet.hosts[host]["aa_app_dir"] + "/run/fleet_token"), check
    audit = Audit(vault["audit_log"])
    run_playbook(ansible, fleet, vault, world, "provision")
    counts = {"provision": audit.count(token_path, "read")}
    token, session = store_values(root, world)
    assert_consumers(fleet, world, token, session)

    audit = Audit(vault["audit_log"])
    again = run_playbook(ansible, fleet, vault, world, "provision")
    assert changed_count(again) == 0, again
    counts["provision again"] = audit.count(token_path, "read")
    world["pb_counts"], world["pb_values"] = counts, (token, session)


def test_fleet_sync_reports_and_repairs_drift_per_host(ansible, ssh_fleet, vault, root, world):
    needs(world, "pb_values", "test_playbooks_with_fleet_inventory")
    fleet, counts, (token, session) = ssh_fleet, world["pb_counts"], world["pb_values"]
    token_path = "secret/data/%s/token" % world["prefix"]
    audit = Audit(vault["audit_log"])
    synced = run_playbook(ansible, fleet, vault, world, "sync")
    assert changed_count(synced) == 0, synced
    counts["sync"] = audit.count(token_path, "read")
    assert store_values(root, world) == (token, session)

    # drift on one host: report-only (check mode on the hosts) names it and changes nothing; sync repairs it
    drifted = playbook_hosts(fleet)[1]
    env_file = fleet.hosts[drifted]["aa_app_dir"] + "/app.env"
    with open(env_file) as f:
        tampered = f.read().replace(token, "tampered-" + uuid.uuid4().hex)
    with open(env_file, "w") as f:
        f.write(tampered)
    report = run_playbook(ansible, fleet, vault, world, "sync", extra={"sync_report_only": True})
    assert "%s: fleet-token: env_file %s#FLEET_TOKEN: drifted" % (drifted, env_file) in report.stdout, report
    with open(env_file) as f:
        assert f.read() == tampered
    repaired = run_playbook(ansible, fleet, vault, world, "sync")
    assert changed_count(repaired) == 1, repaired
    assert_consumers(fleet, world, token, session)
    world["pb_synced"] = True


def test_fleet_rotate_and_emergency_reach_every_host(ansible, ssh_fleet, vault, root, world):
    needs(world, "pb_synced", "test_fleet_sync_reports_and_repairs_drift_per_host")
    fleet, counts, (token, session) = ssh_fleet, world["pb_counts"], world["pb_values"]
    token_path = "secret/data/%s/token" % world["prefix"]
    audit = Audit(vault["audit_log"])
    run_playbook(ansible, fleet, vault, world, "rotate", extra={"rotate_names": ["fleet-token"]})
    counts["rotate"] = audit.count(token_path, "read")
    new_token, same_session = store_values(root, world)
    assert new_token != token and same_session == session
    assert_consumers(fleet, world, new_token, session)

    audit = Audit(vault["audit_log"])
    run_playbook(ansible, fleet, vault, world, "emergency",
                 extra={"emergency_confirm": "YES", "emergency_incident": "INC-FLEET",
                        "emergency_names": ["fleet-session"]})
    counts["emergency"] = audit.count(token_path, "read")
    final_token, new_session = store_values(root, world)
    assert final_token == new_token and new_session != session
    assert_consumers(fleet, world, new_token, new_session)
    print("Vault reads of the token per playbook run (%d hosts, 1 entry in Vault): %s"
          % (len(playbook_hosts(fleet)), counts))
    # token auth: no logins; reads are per module call that needs the value, not per host
    assert all(n <= 6 for n in counts.values()), counts
    # sync reads the token only for the hosts' consumers: one lookup read for all the hosts at forks 10 (the run cache)
    assert counts["sync"] == 1, counts


def test_playbook_consumers_are_written_on_the_managed_hosts(ssh_fleet, world):
    """The consumers were written over SSH by each host's user: the controller runs as root, so a new file it wrote
    would be root's; only the become hosts' consumers name an owner."""
    if "catalog" not in world:
        pytest.skip("needs test_playbooks_with_fleet_inventory")
    for host in playbook_hosts(ssh_fleet):
        path = ssh_fleet.hosts[host]["aa_app_dir"] + "/run/fleet_token"
        assert (owner_of(path), mode_of(path)) == (ssh_fleet.hosts[host]["aa_app_user"], 0o600), host
    become = set(ssh_fleet.group("ssh_become"))
    named = set(c["hosts"][0] for c in world["catalog"][0]["consumers"] if "owner" in c.get("file", {}))
    assert named == become, named


def test_provision_check_mode_dotenv_store_without_the_variable(ansible, tmp_path):
    store = tmp_path / "store.env"
    store.write_text("OTHER=1\n")
    catalog = [{"name": "session", "owner": "platform", "purpose": "check mode", "kind": "static",
                "store": "dotenv://%s#SESSION_KEY" % store,
                "consumers": [{"env_file": {"path": str(tmp_path / "app.env"), "key": "SESSION_KEY"}}]}]
    result = ansible.playbook("agentarea.secrets.provision", check=True, expect_rc=None,
                              extra_vars={"agentarea_secrets_catalog": catalog})
    assert result.rc == 0, result


FILTERS_PLAY = """
- name: The filters the roles use for consumers on hosts, on their own
  hosts: localhost
  gather_facts: false
  vars:
    catalog:
      - name: db
        store: "dotenv://%(store)s#DB_PASSWORD"
        consumers:
          - env_file: {path: "%(app)s/.env", key: DATABASE_URL, template: "postgresql://app:{value:url}@db/app"}
            hosts: localhost
          - file: {path: "%(app)s/nowhere", mode: "0400"}
            hosts: "no_such_group"
  tasks:
    - name: consumers of this host
      ansible.builtin.set_fact:
        mine: "{{ catalog | agentarea.secrets.host_consumers(groups, inventory_hostname) }}"
        everywhere: "{{ catalog | agentarea.secrets.host_consumers(groups, play_hosts=ansible_play_hosts_all) }}"
    - name: write them
      agentarea.secrets.secret_file:
        path: "{{ item.path }}"
        key: "{{ item.key or omit }}"
        value: "{{ lookup('agentarea.secrets.secret', item.store) | agentarea.secrets.consumer_value(item) }}"
      loop: "{{ mine }}"
      register: written
      no_log: true
    - name: summary
      ansible.builtin.debug:
        msg: "{{ ansible_play_hosts_all | agentarea.secrets.host_consumer_summary(hostvars, 'written') }}"
    - name: where
      ansible.builtin.debug:
        msg: "{{ everywhere | map(attribute='label') | zip(everywhere | map(attribute='in_play')) | list }}"
"""


def test_host_consumer_filters_on_localhost(ansible, tmp_path):
    password = "%s-p@ss/%s" % (CANARY, uuid.uuid4().hex[:6])
    store = tmp_path / "store.env"
    store.write_text("DB_PASSWORD='%s'\n" % password)
    app = tmp_path / "app"
    app.mkdir()
    playbook = FILTERS_PLAY % {"store": store, "app": app}
    result = ansible.playbook(playbook, canaries=[password, password.replace("@", "%40").replace("/", "%2F")])
    url = "postgresql://app:%s@db/app" % password.replace("@", "%40").replace("/", "%2F")
    assert dotenv.dotenv_values(str(app / ".env"))["DATABASE_URL"] == url
    assert mode_of(str(app / ".env")) == 0o600
    summary = result.task("summary")["msg"]
    assert (summary["consumers"], summary["changed"], summary["failed"]) == (1, 1, 0), summary
    assert summary["changed_on"] == ["localhost: db: env_file %s/.env#DATABASE_URL" % app], summary
    assert result.task("where")["msg"] == [["db: env_file %s/.env#DATABASE_URL" % app, ["localhost"]],
                                           ["db: file %s/nowhere" % app, []]], result
    assert not os.path.exists(str(app / "nowhere"))
