# -*- coding: utf-8 -*-
"""The local backends (dotenv, file, env, pass) through ansible-playbook: lookups, modules, errors, leaks, cache."""
import hashlib
import os
import stat
import subprocess

import dotenv
import pytest

from tests.harness.leak import run_leak_suite

CANARY = "canary-7f3e9a1c-local"
CANARY2 = "canary-b55d02ee-json"


def sha(text):
    """Tests compare values by hash, so the playbook itself never holds a canary."""
    return hashlib.sha256(text.encode()).hexdigest()


@pytest.fixture
def pass_store(harness):
    info = harness.start("pass")
    env = {"PASSWORD_STORE_DIR": info["store_dir"], "GNUPGHOME": info["gnupghome"]}
    run_env = dict(os.environ, **env)
    entry = "agentarea/database-%d" % os.getpid()
    subprocess.run(["pass", "insert", "--multiline", "--force", entry], input="%s\nuser: agentarea\nurl: postgresql://db\n"
                   % CANARY, text=True, env=run_env, check=True, capture_output=True)
    yield {"env": env, "entry": entry, "run_env": run_env}
    subprocess.run(["pass", "rm", "-f", entry], env=run_env, check=False, capture_output=True)


def test_lookups_read_every_local_backend(ansible, pass_store):
    files = {
        ".env.local": 'export DATABASE_URL="postgresql://agentarea:%s@db:5432/agentarea" # main db\n'
                      "JSON_SECRET='{\"user\": \"bob\", \"password\": \"%s\"}'\n" % (CANARY, CANARY2),
        "secrets/db_password.txt": CANARY + "\n",
        "secrets/api.json": '{"key": "%s"}' % CANARY2,
    }
    play = """
    - hosts: localhost
      gather_facts: false
      vars:
        entry: %(entry)s
      tasks:
        - name: read
          ansible.builtin.set_fact:
            url: "{{ lookup('agentarea.secrets.dotenv', 'DATABASE_URL', file='.env.local') }}"
            whole: "{{ lookup('agentarea.secrets.secret', 'dotenv://.env.local') }}"
            json_field: "{{ lookup('agentarea.secrets.secret', 'dotenv://.env.local#JSON_SECRET') | from_json }}"
            file_value: "{{ lookup('agentarea.secrets.file', 'secrets/db_password.txt') }}"
            file_key: "{{ lookup('agentarea.secrets.file', 'secrets/api.json', key='key') }}"
            file_ref: "{{ lookup('agentarea.secrets.secret', 'file://secrets/api.json') }}"
            env_value: "{{ lookup('agentarea.secrets.env', 'APP_TOKEN') }}"
            env_file: "{{ lookup('agentarea.secrets.env', 'DB_PASSWORD') }}"
            pass_first: "{{ lookup('agentarea.secrets.pass', entry) }}"
            pass_field: "{{ lookup('agentarea.secrets.pass', entry, field='user') }}"
            pass_ref: "{{ lookup('agentarea.secrets.secret', 'pass://' ~ entry ~ '#url') }}"
            many: "{{ query('agentarea.secrets.secret', 'env://APP_TOKEN', 'env://NOPE', 'file://secrets/db_password.txt',
                            on_missing='skip') }}"
          no_log: true
        - name: check
          ansible.builtin.assert:
            that:
              - url | hash('sha256') == '%(url)s'
              - whole.DATABASE_URL == url and whole | length == 2
              - json_field.password | hash('sha256') == '%(c2)s'
              - file_value | hash('sha256') == '%(c1)s'
              - file_key | hash('sha256') == '%(c2)s'
              - file_ref.key | hash('sha256') == '%(c2)s'
              - env_value | hash('sha256') == '%(c2)s'
              - env_file | hash('sha256') == '%(c1)s'
              - pass_first | hash('sha256') == '%(c1)s'
              - pass_field == 'agentarea'
              - pass_ref == 'postgresql://db'
              - many | map('hash', 'sha256') | list == ['%(c2)s', '%(c1)s']
            quiet: true
    """ % {"entry": pass_store["entry"], "c1": sha(CANARY), "c2": sha(CANARY2),
           "url": sha("postgresql://agentarea:%s@db:5432/agentarea" % CANARY)}
    env = dict(pass_store["env"], APP_TOKEN=CANARY2, DB_PASSWORD_FILE="secrets/db_password.txt")
    run_leak_suite(ansible, play, [CANARY, CANARY2], env=env, files=files,
                   allowed_files=[".env.local", "secrets/db_password.txt", "secrets/api.json"])


def test_modules_check_apply_idempotent_cleanup(ansible, tmp_path):
    base = tmp_path / "app"
    env_file, secret_file = base / ".env", base / "secrets" / "jwt.txt"
    base.mkdir()
    env_file.write_text("# AgentArea\nexport KEEP=1 # keep\n")
    env_file.chmod(0o640)  # an existing file keeps its mode; a new one is 0600
    play = """
    - hosts: localhost
      gather_facts: false
      tasks:
        - name: generate
          agentarea.secrets.secret:
            ref: "dotenv://%(env)s#JWT_SECRET"
            generate: {kind: base64url, bits: 256}
          register: gen
        - name: value
          agentarea.secrets.secret:
            ref: "file://%(file)s"
            value: "%(canary)s"
          register: val
        - name: env entry
          agentarea.secrets.secret_file:
            path: "%(env)s"
            key: WEBHOOK_SECRET
            value: "%(canary2)s"
          register: entry
        - name: info
          agentarea.secrets.secret_info:
            ref: "file://%(file)s"
          register: info
    """ % {"env": env_file, "file": secret_file, "canary": CANARY, "canary2": CANARY2}
    check = ansible.playbook(play, check=True, diff=True, canaries=[CANARY, CANARY2])
    assert check.task("generate")["changed"] and check.task("value")["changed"] and check.task("env entry")["changed"]
    assert not secret_file.exists() and "JWT_SECRET" not in env_file.read_text()

    first = ansible.playbook(play, diff=True, canaries=[CANARY, CANARY2])
    assert first.task("generate")["changed"] and first.task("generate")["action"] == "created"
    assert first.task("value")["fingerprint"].startswith("hmac-sha256:")
    values = dotenv.dotenv_values(env_file)
    assert values["KEEP"] == "1" and values["WEBHOOK_SECRET"] == CANARY2 and len(values["JWT_SECRET"]) == 43
    assert env_file.read_text().startswith("# AgentArea\nexport KEEP=1 # keep\n")
    assert secret_file.read_text() == CANARY
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o640 and stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    assert first.task("info")["exists"] and first.task("info")["fingerprint"] == first.task("value")["fingerprint"]

    second = ansible.playbook(play, diff=True, canaries=[CANARY, CANARY2])
    for name in ("generate", "value", "env entry"):
        assert not second.task(name)["changed"], name
    assert dotenv.dotenv_values(env_file)["JWT_SECRET"] == values["JWT_SECRET"]

    cleanup = """
    - hosts: localhost
      gather_facts: false
      tasks:
        - name: remove entry
          agentarea.secrets.secret:
            ref: "dotenv://%(env)s#JWT_SECRET"
            state: absent
          register: removed
        - name: remove file
          agentarea.secrets.secret_file:
            path: "%(file)s"
            state: absent
    """ % {"env": env_file, "file": secret_file}
    result = ansible.playbook(cleanup, canaries=[CANARY, CANARY2])
    assert result.task("remove entry")["changed"]
    assert "JWT_SECRET" not in dotenv.dotenv_values(env_file) and not secret_file.exists()
    assert ansible.playbook(cleanup).task("remove entry")["changed"] is False


def test_pass_module_writes_fields(ansible, pass_store):
    entry = pass_store["entry"] + "-w"
    play = """
    - hosts: localhost
      gather_facts: false
      tasks:
        - name: password
          agentarea.secrets.secret:
            ref: "pass://%(entry)s"
            value: "%(canary)s"
        - name: field
          agentarea.secrets.secret:
            ref: "pass://%(entry)s#user"
            value: agentarea
          register: field
    """ % {"entry": entry, "canary": CANARY}
    env = pass_store["env"]
    assert ansible.playbook(play, env=env, canaries=[CANARY]).task("field")["changed"]
    shown = subprocess.run(["pass", "show", entry], env=pass_store["run_env"], capture_output=True, text=True,
                           check=True).stdout
    assert shown == "%s\nuser: agentarea\n" % CANARY
    assert not ansible.playbook(play, env=env, canaries=[CANARY]).task("field")["changed"]
    subprocess.run(["pass", "rm", "-f", entry], env=pass_store["run_env"], check=True, capture_output=True)


ERRORS = [
    ("lookup('agentarea.secrets.secret', 'vault:/secret/x')", "not a reference: expected scheme://location"),
    ("lookup('agentarea.secrets.secret', 'nope://x')", "unknown scheme 'nope'"),
    ("lookup('agentarea.secrets.secret', 'dotenv://.env#MISSING')", ".env has no variable MISSING"),
    ("lookup('agentarea.secrets.file', 'does/not/exist')", "no such file"),
    ("lookup('agentarea.secrets.file', 'adir')", "is a directory, not a secret file"),
    ("lookup('agentarea.secrets.env', 'AGENTAREA_UNSET_VAR')", "neither AGENTAREA_UNSET_VAR nor AGENTAREA_UNSET_VAR_FILE"),
    ("lookup('agentarea.secrets.pass', 'x', pass_command='/nonexistent/pass')", "command is not installed"),
    ("lookup('agentarea.secrets.secret', 'dotenv://.env#A', on_missing='explode')", "on_missing"),
]


@pytest.mark.parametrize("expr,message", ERRORS)
def test_errors_are_one_clear_message(ansible, expr, message):
    play = """
    - hosts: localhost
      gather_facts: false
      tasks:
        - name: fail
          ansible.builtin.set_fact:
            x: "{{ %s }}"
    """ % expr
    files = {".env": "A=%s\n" % CANARY, "adir/.keep": ""}
    result = ansible.playbook(play, files=files, canaries=[CANARY], expect_rc=2, allowed_files=[".env"])
    assert message in result.output
    assert "Traceback" not in result.output
    assert "keys:" not in result.output  # a missing .env variable is named alone, never with the parsed names


@pytest.mark.parametrize("policy,expect_rc,expected", [("error", 2, ".env has no variable MISSING"),
                                                       ("warn", 0, "(skipped)"), ("skip", 0, None)])
def test_on_missing(ansible, policy, expect_rc, expected):
    play = """
    - hosts: localhost
      gather_facts: false
      tasks:
        - name: read
          ansible.builtin.set_fact:
            found: "{{ query('agentarea.secrets.secret', 'dotenv://.env#A', 'dotenv://.env#MISSING', on_missing='%s') }}"
          no_log: true
        - name: count
          ansible.builtin.assert:
            that: found | length == 1
    """ % policy
    result = ansible.playbook(play, files={".env": "A=%s\n" % CANARY}, canaries=[CANARY], expect_rc=expect_rc,
                              allowed_files=[".env"])
    if expected:
        assert expected in result.output
    if policy == "skip":
        assert "MISSING" not in result.output


def test_module_errors_leave_nothing_half_written(ansible, tmp_path):
    readonly = tmp_path / "ro"
    readonly.mkdir()
    (readonly / ".env").write_text("A=1\n")
    play = """
    - hosts: localhost
      gather_facts: false
      tasks:
        - name: bad ref
          agentarea.secrets.secret:
            ref: "dotenv:/nope"
            value: "%(canary)s"
          ignore_errors: true
          register: bad
        - name: bad policy
          agentarea.secrets.secret:
            ref: "dotenv://%(dir)s/.env#B"
            generate: {length: 2, lower: 2, upper: 2}
          ignore_errors: true
          register: policy
        - name: bad key
          agentarea.secrets.secret_file:
            path: "%(dir)s/.env"
            key: "1BAD"
            value: "%(canary)s"
          ignore_errors: true
          register: key
        - name: check
          ansible.builtin.assert:
            that:
              - bad is failed and 'not a reference' in bad.msg
              - policy is failed and 'minimum counts add up to' in policy.msg
              - key is failed and 'not a valid variable name' in key.msg
    """ % {"canary": CANARY, "dir": readonly}
    result = ansible.playbook(play, verbosity=4, canaries=[CANARY])
    assert "Traceback" not in result.stdout
    assert (readonly / ".env").read_text() == "A=1\n"


def test_run_cache_reads_each_secret_once(ansible, pass_store, tmp_path):
    """A lookup held in a play variable and referenced by 20 tasks: one `pass show` with the run cache, 20 without."""
    log = tmp_path / "calls.log"
    wrapper = tmp_path / "pass-wrapper"
    wrapper.write_text('#!/bin/sh\necho "$1" >> %s\nexec pass "$@"\n' % log)
    wrapper.chmod(0o755)
    tasks = "\n".join("""
        - name: use %d
          ansible.builtin.assert:
            that: db_password | length > 0
            quiet: true""" % i for i in range(20))
    play = """
    - hosts: localhost
      gather_facts: false
      vars:
        db_password: "{{ lookup('agentarea.secrets.pass', '%s', pass_command='%s') }}"
      tasks:%s
    """ % (pass_store["entry"], wrapper, tasks)
    result = ansible.playbook(play, env=pass_store["env"], canaries=[CANARY])
    assert log.read_text().split().count("show") == 1, result
    assert "run cache is not enabled" not in result.output
    log.unlink()
    result = ansible.playbook(play, env=pass_store["env"], canaries=[CANARY], run_cache=False)
    assert log.read_text().split().count("show") == 20
    assert result.output.count("run cache is not enabled") == 1
    # nothing is left behind by runs that ended (other runs on this machine may be in progress)
    leftovers = [p for p in os.listdir("/dev/shm") if p.startswith("agentarea-secrets-run-")
                 and not os.path.exists("/proc/%s" % p.split("-")[3])]
    assert not leftovers


def test_report_file_writes_on_the_controller_without_a_module(ansible, tmp_path):
    """agentarea.secrets.report_file: check mode writes nothing, a write creates the directory and the file with
    their modes, a second run changes nothing, a mode drift is corrected, a symbolic link is refused without being
    followed; no module is started (the run leaves no AnsiballZ payload), and the report text reaches nothing else."""
    reports = tmp_path / "reports" / "nested"
    target = reports / "state.json"
    victim = tmp_path / "victim.txt"
    victim.write_text("not yours\n")
    os.symlink(str(victim), str(tmp_path / "link.json"))
    task = {"agentarea.secrets.report_file": {"path": str(target), "content": "{{ report | to_nice_json }}\n",
                                              "mode": "0640", "directory_mode": "0750"}}
    play = [{"hosts": "localhost", "gather_facts": False, "vars": {"report": {"incident": CANARY}}, "tasks": [
        dict(task, name="check", check_mode=True, register="check"),
        {"name": "nothing written in check mode", "ansible.builtin.assert": {"that": [
            "check is changed", "query('ansible.builtin.fileglob', '%s') | length == 0" % target]}},
        dict(task, name="write", register="write"),
        dict(task, name="again", register="again"),
        {"name": "results", "ansible.builtin.assert": {"that": [
            "write is changed", "again is not changed", "write.mode == '0640'", "write.path == '%s'" % target]}},
        {"name": "through a link", "register": "link", "ignore_errors": True,
         "agentarea.secrets.report_file": {"path": str(tmp_path / "link.json"), "content": "replaced\n"}},
        {"name": "the link is refused", "ansible.builtin.assert": {"that": [
            "link is failed", "'symbolic link' in link.msg", "'link.json' in link.msg"]}},
    ]}]
    remote_tmp = tmp_path / "remote-tmp"
    ansible.playbook(play, env={"ANSIBLE_KEEP_REMOTE_FILES": "1", "ANSIBLE_REMOTE_TEMP": str(remote_tmp)},
                     canaries=[CANARY])
    assert CANARY in target.read_text()
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert stat.S_IMODE(reports.stat().st_mode) == 0o750
    assert stat.S_IMODE(reports.parent.stat().st_mode) == 0o750
    assert victim.read_text() == "not yours\n"
    assert not list(remote_tmp.glob("**/AnsiballZ_*")), "a module was started"
    target.chmod(0o600)
    again = ansible.playbook([{"hosts": "localhost", "gather_facts": False, "vars": {"report": {"incident": CANARY}},
                               "tasks": [dict(task, name="mode", register="mode")]}])
    assert again.task("mode")["changed"] and stat.S_IMODE(target.stat().st_mode) == 0o640
