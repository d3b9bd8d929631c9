# -*- coding: utf-8 -*-
"""The per-run broker, through ansible-playbook against OpenBao with no configuration (no run_cache callback): the
first remote lookup starts one broker per run, which logs in once per identity, reads each secret once (also when
20 forks ask at the same moment through a slow store), answers every host with its own value, gives errors the
usual message, and leaves nothing behind when the run ends, also when ansible-playbook is killed. Workers import
no SDK. A broker that cannot start costs one warning, and the lookups read directly."""
import glob
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.harness.ansible_runner import VENV_BIN
from tests.harness.faultproxy import FaultProxy
from tests.harness.leak import run_leak_suite
from tests.harness.vault_helpers import Audit, ensure_auth, env_for, read_policy, sha

pytest_plugins = ["tests.harness.vault_fixtures"]  # vault, root, prefix

CANARY = "canary-5e0b7d21-broker"
LOOKUP_PLUGINS = str(Path(__file__).parent / "lookup_plugins")
PREFIX = "agentarea-secrets-broker-%d-" % os.getuid()
SDKS = ["hvac", "requests", "urllib3", "boto3", "botocore", "google.cloud", "azure", "kubernetes"]


def env(vault, token=True, **extra):
    out = dict(env_for(vault, token=token), ANSIBLE_LOOKUP_PLUGINS=LOOKUP_PLUGINS)
    out.update(extra)
    return out


def broker_processes(directory=None):
    """Pids of broker processes (of the run directory ``directory``, or of any run)."""
    pids = []
    for cmdline in glob.glob("/proc/[0-9]*/cmdline"):
        try:
            argv = Path(cmdline).read_bytes().split(b"\0")
        except OSError:
            continue
        if any(b"_broker_server.main" in a for a in argv) and (directory is None or directory.encode() in argv):
            pids.append(int(cmdline.split("/")[2]))
    return pids


def run_dirs(owner):
    return glob.glob("/dev/shm/%s%d-*" % (PREFIX, owner))


def leftovers():
    """Run directories of ours whose ansible-playbook is gone (other runs may be in progress)."""
    return [p for p in glob.glob("/dev/shm/%s*" % PREFIX)
            if not os.path.exists("/proc/%s" % os.path.basename(p)[len(PREFIX):].split("-")[0])]


def settle(seconds=10.0):
    """Wait until the brokers of ended runs have finished (revoked their logins, removed their directories):
    without the callback that happens just after ansible-playbook exits."""
    deadline = time.time() + seconds
    while leftovers() and time.time() < deadline:
        time.sleep(0.1)
    return not leftovers()


def wait_gone(directory, seconds=10.0):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if not os.path.exists(directory) and not broker_processes(directory):
            return True
        time.sleep(0.1)
    return False


def approle(root, prefix, paths):
    read_policy(root, prefix, paths)
    ensure_auth(root, "approle")
    root.auth.approle.create_or_update_approle(prefix, token_policies=[prefix], token_ttl="5m", token_max_ttl="10m")
    return {"ansible_agentarea_secrets_vault_auth_method": "approle",
            "ansible_agentarea_secrets_vault_role_id": root.auth.approle.read_role_id(prefix)["data"]["role_id"],
            "ansible_agentarea_secrets_vault_secret_id":
                root.auth.approle.generate_secret_id(prefix)["data"]["secret_id"]}


def test_no_config_run_uses_one_broker_and_leaves_nothing(ansible, vault, root, prefix):
    """Three tasks read through the broker the first lookup started; workers import no SDK; after the run its
    process, socket and directory are gone and its login token is revoked."""
    root.secrets.kv.v2.create_or_update_secret(prefix + "/db", secret={"password": CANARY}, mount_point="secret")
    extra = approle(root, prefix, "secret/data/%s/*" % prefix)
    sdks = ", ".join("'%s'" % name for name in SDKS)
    play = """
    - hosts: localhost
      gather_facts: false
      vars:
        held: "{{ lookup('agentarea.secrets.vault', '%(p)s/db', key='password') }}"
      tasks:
        - name: first
          ansible.builtin.set_fact:
            first: "{{ [held | hash('sha256'), lookup('loaded_modules', %(sdks)s), lookup('broker_info')] }}"
        - name: second
          ansible.builtin.set_fact:
            second: "{{ [held | hash('sha256'), lookup('broker_info')] }}"
        - name: report
          ansible.builtin.debug:
            msg: "{{ {'first': first, 'second': second} | to_json }}"
    """ % {"p": prefix, "sdks": sdks}
    audit = Audit(vault["audit_log"])
    result = ansible.playbook(play, env=env(vault, token=False), extra_vars=extra, canaries=[CANARY],
                              run_cache=False)
    seen = json.loads(result.task("report")["msg"])
    first, second = seen["first"], seen["second"]
    assert first[0] == second[0] == sha(CANARY)
    assert first[1]["loaded"] == [], first[1]  # the worker that read Vault imported no SDK
    assert first[2]["socket"] and first[2]["pid"] and first[2]["pid"] == second[1]["pid"]
    assert first[2]["worker"] != second[1]["worker"]  # two workers, one broker
    assert first[2]["dir"] == second[1]["dir"]
    assert wait_gone(first[2]["dir"]), first[2]
    assert audit.count("auth/approle/login") == 1
    assert audit.count("secret/data/%s/db" % prefix) == 1
    assert audit.count("auth/token/revoke-self") == 1
    assert "run cache is not enabled" not in result.output and "could not be started" not in result.output


def test_sigkill_of_ansible_playbook_leaves_nothing(ansible, vault, root, prefix, tmp_path):
    """ansible-playbook (and its workers) killed with SIGKILL mid-run: the broker notices its owner is gone,
    revokes its login and removes its directory."""
    root.secrets.kv.v2.create_or_update_secret(prefix + "/db", secret={"password": CANARY}, mount_point="secret")
    extra = approle(root, prefix, "secret/data/%s/*" % prefix)
    (tmp_path / "vars.json").write_text(json.dumps(extra))
    (tmp_path / "playbook.yml").write_text("""
- hosts: localhost
  gather_facts: false
  tasks:
    - name: read
      ansible.builtin.assert:
        that: lookup('agentarea.secrets.vault', '%s/db', key='password') | length > 0
        quiet: true
    - name: wait to be killed
      ansible.builtin.command: sleep 60
""" % prefix)
    run_env = ansible.env(env(vault, token=False), run_cache=False)
    audit = Audit(vault["audit_log"])
    proc = subprocess.Popen([str(VENV_BIN / "ansible-playbook"), "-i", "localhost,",
                             "-c", "local", "-e", "@vars.json", "playbook.yml"], cwd=str(tmp_path), env=run_env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.time() + 120
        dirs = []
        while time.time() < deadline and not dirs:
            dirs = [d for d in run_dirs(proc.pid) if os.path.exists(os.path.join(d, "sock"))]
            time.sleep(0.1)
        assert dirs, "no broker started"
        while time.time() < deadline and audit.count("secret/data/%s/db" % prefix) < 1:
            time.sleep(0.1)
        assert broker_processes(dirs[0])
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # ansible-playbook, its workers and their sleep; not the broker
        output = proc.communicate(timeout=30)[0].decode(errors="replace")
    assert CANARY not in output
    assert wait_gone(dirs[0]), dirs
    assert audit.count("auth/approle/login") == 1
    assert audit.count("auth/token/revoke-self") == 1


def test_forks_20_through_a_slow_store_each_host_gets_its_own_values(ansible, vault, root, prefix):
    """20 hosts, forks 20, each reading 3 secrets of its own through a proxy that delays every read: the first
    workers race to start the broker (one wins: one login), every host gets its own values, none is lost."""
    hosts, per_host = 20, 3
    for h in range(hosts):
        for s in range(per_host):
            root.secrets.kv.v2.create_or_update_secret("%s/h%02d/s%d" % (prefix, h, s),
                                                       secret={"v": "%s-%02d-%d" % (CANARY, h, s)},
                                                       mount_point="secret")
    extra = approle(root, prefix, "secret/data/%s/*" % prefix)
    inventory = "[fleet]\n" + "".join("h%02d ansible_connection=local\n" % h for h in range(hosts))
    play = """
    - hosts: fleet
      gather_facts: false
      tasks:
        - name: read
          ansible.builtin.assert:
            that:
              - query('agentarea.secrets.vault', *names, key='v') | map('hash', 'sha256') | list == expected
            quiet: true
          vars:
            names: "{{ range(%(n)d) | map('string') | map('regex_replace', '^', '%(p)s/' ~ inventory_hostname ~ '/s') | list }}"
            expected: "{{ range(%(n)d) | map('string') | map('regex_replace', '^', '%(c)s-' ~ inventory_hostname[1:] ~ '-')
                          | map('hash', 'sha256') | list }}"
    """ % {"n": per_host, "p": prefix, "c": CANARY}
    with FaultProxy(vault["url"]) as proxy:
        rule = proxy.add("delay", method="GET", path="/v1/secret/data/", seconds=0.3, times=None)
        audit = Audit(vault["audit_log"])
        result = ansible.playbook(play, env=env(dict(vault, url=proxy.url), token=False), extra_vars=extra,
                                  files={"inventory.ini": inventory}, args=["-i", "inventory.ini", "--forks", "20"],
                                  canaries=[CANARY], run_cache=False)
        assert settle()  # the broker revokes its login through the proxy
    assert rule.fired == hosts * per_host  # each secret read once, none twice
    assert result.output.count("failed=0") == hosts, result.output
    assert audit.count("auth/approle/login") == 1
    assert audit.count("auth/token/revoke-self") == 1


def test_a_fleet_with_no_config_logs_in_once_and_reads_each_secret_once(ansible, vault, root, prefix):
    """12 hosts read the same 8 secrets with forks 10 and no callback: 1 login, 8 reads (coalesced), 1 revoke."""
    hosts, count = 12, 8
    names = ["%s/s%02d" % (prefix, i) for i in range(count)]
    for i, name in enumerate(names):
        root.secrets.kv.v2.create_or_update_secret(name, secret={"v": "%s-%02d" % (CANARY, i)}, mount_point="secret")
    extra = approle(root, prefix, "secret/data/%s/*" % prefix)
    inventory = "[fleet]\n" + "".join("h%02d ansible_connection=local\n" % i for i in range(hosts))
    play = """
    - hosts: fleet
      gather_facts: false
      vars:
        names: %(names)s
        expected: %(expected)s
      tasks:
        - name: read
          ansible.builtin.assert:
            that: lookup('agentarea.secrets.vault', item.0, key='v') | hash('sha256') == item.1
            quiet: true
          loop: "{{ names | zip(expected) | list }}"
          loop_control: {label: "{{ item.0 }}"}
    """ % {"names": json.dumps(names), "expected": json.dumps([sha("%s-%02d" % (CANARY, i)) for i in range(count)])}
    audit = Audit(vault["audit_log"])
    ansible.playbook(play, env=env(vault, token=False), files={"inventory.ini": inventory},
                     args=["-i", "inventory.ini", "--forks", "10"], canaries=[CANARY], extra_vars=extra,
                     run_cache=False)
    assert settle()
    assert audit.count("auth/approle/login") == 1
    assert [audit.count("secret/data/" + name) for name in names] == [1] * count
    assert audit.count("auth/token/revoke-self") == 1


@pytest.mark.parametrize("case", ["missing", "denied"])
def test_errors_reach_the_task_with_the_usual_message(ansible, vault, root, prefix, case, tmp_path):
    """The message through the broker is the one a direct read gives (reference, store, cause), no traceback."""
    root.secrets.kv.v2.create_or_update_secret(prefix + "/db", secret={"password": CANARY}, mount_point="secret")
    if case == "denied":
        extra = approle(root, prefix, "secret/data/%s/other" % prefix)
        path = prefix + "/db"
    else:
        extra = approle(root, prefix, "secret/data/%s/*" % prefix)
        path = prefix + "/nothing-here"
    play = """
    - hosts: localhost
      gather_facts: false
      tasks:
        - name: read
          ansible.builtin.debug:
            msg: "{{ lookup('agentarea.secrets.vault', '%s', key='password') | length }}"
    """ % path
    messages = []
    for broker in (True, False):
        extra_env = {} if broker else {"ANSIBLE_AGENTAREA_SECRETS_BROKER_DIR": str(tmp_path / "absent" / "x")}
        result = ansible.playbook(play, env=env(vault, token=False, **extra_env), extra_vars=extra,
                                  canaries=[CANARY], run_cache=False, expect_rc=2)
        assert "Traceback" not in result.output
        line = [ln for ln in result.output.splitlines() if ln.startswith("fatal:")]
        assert line, result.output
        messages.append(line[0])
    assert messages[0] == messages[1]
    assert "vault 'vault://secret/%s" % path in messages[0]
    assert ("no secret at this path" if case == "missing" else "denied") in messages[0].lower(), messages[0]


def test_a_broker_that_cannot_start_costs_one_warning(ansible, vault, root, prefix, tmp_path):
    """With no place for the run directory, every lookup reads directly; the run warns once and succeeds."""
    root.secrets.kv.v2.create_or_update_secret(prefix + "/db", secret={"password": CANARY}, mount_point="secret")
    tasks = "".join("""
        - name: use %d
          ansible.builtin.assert:
            that: lookup('agentarea.secrets.vault', '%s/db', key='password') | hash('sha256') == expected
            quiet: true""" % (i, prefix) for i in range(4))
    play = """
    - hosts: localhost
      gather_facts: false
      vars:
        expected: %s
      tasks:%s
    """ % (sha(CANARY), tasks)
    result = ansible.playbook(play, env=env(vault, ANSIBLE_AGENTAREA_SECRETS_BROKER_DIR=str(tmp_path / "no" / "x")),
                              canaries=[CANARY], run_cache=False)
    assert result.output.count("per-run broker could not be started") == 1, result.output
    assert "run cache is not enabled" not in result.output


@pytest.mark.parametrize("callback", [True, False])
def test_leak_suite_through_the_broker(ansible, vault, root, prefix, callback):
    """The canary stays out of every output (all verbosities) and every file when values cross the socket, with
    the broker the callback starts and with the one the first lookup starts."""
    root.secrets.kv.v2.create_or_update_secret(prefix + "/db", secret={"password": CANARY}, mount_point="secret")
    play = """
    - hosts: localhost
      gather_facts: false
      vars:
        held: "{{ lookup('agentarea.secrets.vault', '%s/db', key='password') }}"
      tasks:
        - name: use
          ansible.builtin.assert: {that: "held | length > 0", quiet: true}
        - name: again
          ansible.builtin.assert: {that: "held | hash('sha256') == expected", quiet: true}
          vars:
            expected: %s
    """ % (prefix, sha(CANARY))
    extra = {} if callback else {"ANSIBLE_CALLBACKS_ENABLED": "record_results"}
    run_leak_suite(ansible, play, [CANARY], env=env(vault, **extra))
    time.sleep(0.5)
    assert not leftovers()
