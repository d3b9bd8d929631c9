# -*- coding: utf-8 -*-
"""Faults on the host at run time (issue 14): a disk that fills while `.env` files and secret files are written,
and a controller killed (SIGKILL of ansible-playbook and its workers) in the middle of `sync` to many consumers and
in the middle of the emergency runbook. Every case ends in one of two ways: the run completes correctly, or it fails
with a message naming the path or reference, the store and the cause; nothing is lost, and the next run repairs or
resumes. Stores: OpenBao from the harness (behind the fault proxy, which slows it down so that the kill lands in the
middle of the run) or a local dotenv store; set-up and checks with hvac, python-dotenv and the file system."""
import errno
import json
import os
import re
import signal
import subprocess
import time

import dotenv
import pytest

from tests.harness.faultproxy import FaultProxy
from tests.harness.ansible_runner import VENV_BIN

pytest_plugins = ["tests.harness.vault_fixtures"]  # vault, root, prefix
pytestmark = pytest.mark.integration

TMP_NAME = re.compile(r"^\..*\.tmp$")


# --- helpers ---------------------------------------------------------------------------------------------------

def start_playbook(ansible, playbook, extra_vars=None, env=None, args=("-i", "localhost,", "-c", "local")):
    """ansible-playbook as the ``ansible`` fixture runs it (same command line, private HOME, environment), but in
    the background and in its own session, so that ``kill_run`` can SIGKILL it together with its workers. ``args``:
    the inventory and connection (a fleet's inventory and forks)."""
    ansible.count += 1
    workdir = ansible.base / ("run%03d" % ansible.count)
    workdir.mkdir()
    cmd = [str(VENV_BIN / "ansible-playbook")] + list(args) + [playbook]
    if extra_vars:
        (workdir / "_extra_vars.json").write_text(json.dumps(extra_vars))
        cmd += ["-e", "@%s" % (workdir / "_extra_vars.json")]
    run_env = ansible.env(env)
    run_env["AGENTAREA_TEST_RESULTS"] = str(workdir / "_results.jsonl")
    run_env["PWD"] = str(workdir)
    out = open(workdir / "_output.txt", "w")  # pylint: disable=consider-using-with
    try:
        proc = subprocess.Popen(cmd, cwd=str(workdir), env=run_env, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
    finally:
        out.close()
    proc.workdir = workdir
    return proc


def wait_for(predicate, proc=None, timeout=120.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        if proc is not None and proc.poll() is not None:
            raise AssertionError("the playbook ended (rc=%s) before %s:\n%s" % (
                proc.returncode, what, (proc.workdir / "_output.txt").read_text()[-4000:]))
        time.sleep(0.02)
    raise AssertionError("timed out waiting for %s" % what)


def alive(pid):
    """Whether the process runs (a zombie waiting for its reaper does not)."""
    try:
        with open("/proc/%d/stat" % pid) as handle:
            return handle.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def processes_under(base):
    """PIDs of processes whose command line names a path under ``base`` (the run's temporary directories)."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as handle:
                cmdline = handle.read()
        except OSError:
            continue
        if str(base).encode() in cmdline and alive(int(pid)):
            found.append(int(pid))
    return found


def children():
    """{parent pid: [child pids]} of every process now."""
    tree = {}
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                with open("/proc/%s/stat" % pid) as handle:
                    ppid = int(handle.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            tree.setdefault(ppid, []).append(int(pid))
    return tree


def descendants(pid):
    tree, todo, found = children(), [pid], set()
    while todo:
        for child in tree.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def signal_quietly(pid, sig):
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


def kill_run(proc):
    """SIGKILL the controller: ansible-playbook, its process group and its workers (ansible-core puts each worker
    in a session of its own, so the group alone would leave the worker of the running task writing on), stopped
    first so that nothing forks away in between. What the playbook had already detached (an async job) is not its
    process tree any more and runs on. Checks that none of the killed processes is left."""
    os.killpg(proc.pid, signal.SIGSTOP)
    stopped = set()
    while True:
        found = descendants(proc.pid) - stopped
        if not found:
            break
        for pid in found:
            signal_quietly(pid, signal.SIGSTOP)
        stopped |= found
    os.killpg(proc.pid, signal.SIGKILL)
    for pid in stopped:
        signal_quietly(pid, signal.SIGKILL)
    proc.wait(timeout=30)

    def all_gone():
        try:
            os.killpg(proc.pid, 0)
            return False
        except ProcessLookupError:
            pass
        return not any(alive(pid) for pid in stopped)
    wait_for(all_gone, timeout=30, what="the killed controller's processes to be gone")
    return (proc.workdir / "_output.txt").read_text()


def stray_temp_files(directory):
    return sorted(n for n in os.listdir(directory) if TMP_NAME.match(n))


def task_result(result, suffix):
    """The last recorded result of a task (a role's task is named '<role> : <name>')."""
    found = [r for r in result.results.get("localhost", []) if r.get("_task", "").endswith(suffix)]
    assert found, "no result for %r" % suffix
    return found[-1]


def no_traceback(result):
    assert "Traceback" not in result.output and "MODULE FAILURE" not in result.output, result


# --- 1. disk full ------------------------------------------------------------------------------------------------

@pytest.fixture
def small_fs(tmp_path):
    """A 64 KiB tmpfs, unmounted whatever the test does."""
    if os.geteuid() != 0:
        pytest.skip("the disk-full case mounts a 64 KiB tmpfs, which needs root")
    mnt = tmp_path / "small"
    mnt.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k,mode=0755", "tmpfs", str(mnt)],
                          capture_output=True, text=True, check=False)
    if done.returncode:
        pytest.skip("mounting a tmpfs is not permitted here: %s" % (done.stderr.strip() or done.returncode))
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], capture_output=True, check=False)


def fill(directory):
    """Write a filler file until the file system is full."""
    fd = os.open(str(directory / "filler"), os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        while True:
            os.write(fd, b"\0" * 4096)
    except OSError as exc:
        assert exc.errno == errno.ENOSPC, exc
    finally:
        os.close(fd)


def snapshot(directory, names):
    out = {}
    for name in names:
        st = os.lstat(directory / name)
        out[name] = ((directory / name).read_bytes(), st.st_uid, st.st_gid, st.st_mode, st.st_ino)
    return out


ENV_TEXT = b"# app settings\nKEEP=1\nexport OTHER='two words'  # a comment\nDATABASE_PASSWORD=old-env-value\nLAST=x\n"
OLD_FILE = b"old-file-value"
NEW_PW = "diskfull-canary-7d1e/@x"


def test_disk_full_keeps_files_and_resumes(ansible, small_fs, tmp_path):
    env_file, secret_file = small_fs / ".env", small_fs / "db_password.txt"
    env_file.write_bytes(ENV_TEXT)
    secret_file.write_bytes(OLD_FILE)
    os.chown(env_file, 1000, 1000)
    os.chmod(env_file, 0o640)
    os.chown(secret_file, 1001, 1001)
    os.chmod(secret_file, 0o400)
    store = tmp_path / "store" / ".env"
    store.parent.mkdir()
    store.write_text("DB_PASSWORD=%s\n" % NEW_PW)
    catalog = [{"name": "database", "owner": "platform", "purpose": "the API's database password", "kind": "static",
                "store": "dotenv://%s#DB_PASSWORD" % store,
                "consumers": [{"env_file": {"path": str(env_file), "key": "DATABASE_PASSWORD"}},
                              {"file": {"path": str(secret_file)}}]}]
    sync_vars = {"agentarea_secrets_catalog": catalog, "agentarea_secrets_audit_log": str(tmp_path / "audit.jsonl")}
    writes = {
        "env_file": {"path": str(env_file), "key": "DATABASE_PASSWORD", "value": NEW_PW},
        "file": {"path": str(secret_file), "value": NEW_PW},
    }

    # both forms in one run: each task fails on its own, the run fails (rc 2) when either did
    play = [{"hosts": "localhost", "gather_facts": False, "tasks": [
        {"name": "write %s" % form, "agentarea.secrets.secret_file": args, "ignore_errors": True,
         "register": "w_%s" % form} for form, args in writes.items()] + [
        {"name": "both written", "ansible.builtin.assert": {"that": ["w_env_file is succeeded",
                                                                     "w_file is succeeded"]}}]}]

    fill(small_fs)
    before = snapshot(small_fs, [".env", "db_password.txt"])
    failed = ansible.playbook(play, expect_rc=2, canaries=[NEW_PW])
    no_traceback(failed)
    for form, path in (("env_file", env_file), ("file", secret_file)):
        result = failed.task("write %s" % form)
        assert result["_status"] == "failed" and str(path) in result["msg"], result
        assert "no space left on device" in result["msg"].lower(), result["msg"]
        assert "nothing was written" in result["msg"], result["msg"]
    assert snapshot(small_fs, [".env", "db_password.txt"]) == before
    assert not stray_temp_files(small_fs)

    # the sync playbook (distribute) with its consumers on the full disk
    failed = ansible.playbook("agentarea.secrets.sync", extra_vars=sync_vars, expect_rc=2, canaries=[NEW_PW])
    no_traceback(failed)
    item = [r for r in failed.results["localhost"] if r["_status"] == "item_failed"]
    assert len(item) == 1 and item[0]["item"]["name"] == "database", failed.results
    msg = item[0]["msg"]
    assert str(env_file) in msg and "no space left on device" in msg.lower(), msg
    assert "catalog entry 'database' consumers[0]" in msg, msg   # the entry and the consumer
    assert item[0]["ref"] == "dotenv://%s#DB_PASSWORD" % store   # the store whose value it was
    assert snapshot(small_fs, [".env", "db_password.txt"]) == before
    assert not stray_temp_files(small_fs)

    # space again: the same runs succeed; every other line of the .env, owners and modes are kept
    os.unlink(small_fs / "filler")
    written = ansible.playbook(play, canaries=[NEW_PW])
    assert written.task("write env_file")["changed"] and written.task("write file")["changed"]
    lines, was = env_file.read_bytes().splitlines(True), ENV_TEXT.splitlines(True)
    assert [x for x in lines if not x.startswith(b"DATABASE_PASSWORD=")] == was[:3] + was[4:]
    assert dotenv.dotenv_values(env_file)["DATABASE_PASSWORD"] == NEW_PW
    assert secret_file.read_bytes() == NEW_PW.encode()
    for path, ids in ((env_file, (1000, 1000, 0o640)), (secret_file, (1001, 1001, 0o400))):
        st = path.stat()
        assert (st.st_uid, st.st_gid, st.st_mode & 0o777) == ids, path
    synced = ansible.playbook("agentarea.secrets.sync", extra_vars=sync_vars, canaries=[NEW_PW])
    push = task_result(synced, "Compare every consumer with the store (and repair drift unless report-only)")
    assert not push["changed"], push
    assert sorted(os.listdir(small_fs)) == [".env", ".env.lock", "db_password.txt"]


# --- 2. controller killed during sync ------------------------------------------------------------------------------

ENTRIES = 4          # 4 catalog entries x 5 consumers (four files, one .env key) = 20 consumers
FILES = ("", "b/", "c/", "d/")
APP_HEADER = "# app\nKEEP=1\n"


def sync_catalog(prefix, app):
    return [{"name": "svc%d" % i, "owner": "platform", "purpose": "service %d" % i, "kind": "static",
             "store": "vault://secret/%s/svc%d#password" % (prefix, i),
             "consumers": [{"file": {"path": str(app / ("%ssvc%d.txt" % (d, i)))}} for d in FILES]
             + [{"env_file": {"path": str(app / ".env"), "key": "SVC%d" % i}}]}
            for i in range(ENTRIES)]


def consumer_targets(app, i):
    """{label: (path, target as distribute names it)} of entry i's consumers."""
    out = {d or "a/": (app / ("%ssvc%d.txt" % (d, i)), "file %s" % (app / ("%ssvc%d.txt" % (d, i)))) for d in FILES}
    out["env"] = (app / ".env", "env_file %s#SVC%d" % (app / ".env", i))
    return out


def consumers_of(app):
    """{(entry index, consumer label): value held} for every consumer."""
    env = dotenv.dotenv_values(app / ".env")
    held = {}
    for i in range(ENTRIES):
        for label, (path, _target) in consumer_targets(app, i).items():
            if label == "env":
                held[(i, label)] = env.get("SVC%d" % i)
            else:
                held[(i, label)] = path.read_text() if path.exists() else None
    return held


def temp_files(app):
    return [d + n for d in FILES for n in stray_temp_files(app / d)]


def test_controller_killed_during_sync(ansible, vault, root, prefix, tmp_path):
    app = tmp_path / "app"
    for d in FILES:
        (app / d).mkdir(parents=True, exist_ok=True)
    old = ["old-%d-%s" % (i, prefix) for i in range(ENTRIES)]
    new = ["new-%d-%s" % (i, prefix) for i in range(ENTRIES)]
    # the consumers hold the old values (as an earlier sync left them); the store has changed: every consumer
    # must be rewritten
    for i in range(ENTRIES):
        root.secrets.kv.v2.create_or_update_secret("%s/svc%d" % (prefix, i), {"password": new[i]})
        for label, (path, _target) in consumer_targets(app, i).items():
            if label != "env":
                path.write_text(old[i])
                path.chmod(0o600)
    (app / ".env").write_text(APP_HEADER + "".join("SVC%d=%s\n" % (i, old[i]) for i in range(ENTRIES)))
    assert set(consumers_of(app).values()) == set(old)
    with FaultProxy(vault["url"]) as proxy:
        env = {"VAULT_ADDR": proxy.url, "VAULT_TOKEN": vault["token"]}
        extra = {"agentarea_secrets_catalog": sync_catalog(prefix, app), "sync_restart": False,
                 "agentarea_secrets_audit_log": str(tmp_path / "audit.jsonl")}
        # each read of the store takes 0.3 s more: the kill lands between entries or inside one, not after the end
        proxy.add("delay", seconds=0.3, method="GET", path=r"^/v1/secret/data/%s/" % prefix, times=None)
        proc = start_playbook(ansible, "agentarea.secrets.sync", extra, env)

        def some_rewritten():
            try:
                held = consumers_of(app)
            except OSError:
                return False
            return any(v in new for v in held.values())
        wait_for(some_rewritten, proc, what="a consumer to be rewritten")
        output = kill_run(proc)
        proxy.clear()
        assert proc.returncode == -signal.SIGKILL, output

        # every consumer holds the old or the new complete value; other lines of the .env are intact
        held = consumers_of(app)
        for (i, label), value in held.items():
            assert value in (old[i], new[i]), (i, label)
        assert (app / ".env").read_text().startswith(APP_HEADER)
        # a temporary file can be left only by a writer killed between its creation and the rename
        for name in temp_files(app):
            assert not alive(int(name.rsplit("-", 2)[1])), name
        drifted = {"svc%d" % i for (i, _label), value in held.items() if value == old[i]}
        assert drifted and set(held.values()) & set(new), held   # the kill landed in the middle

        # report-only: exactly the consumers that drifted, nothing written
        report = ansible.playbook("agentarea.secrets.sync", extra_vars=dict(extra, sync_report_only=True), env=env,
                                  canaries=old + new)
        summary = task_result(report, "Drift report (fingerprints compared, values never shown)")["msg"]
        assert {e["name"] for e in summary if e["drifted"]} == drifted, summary
        states = {}
        for entry in summary:
            for line in entry["consumers"]:
                target, state = line.rsplit(": ", 1)
                states[(int(entry["name"][3:]), target)] = state
        for (i, label), value in held.items():
            target = consumer_targets(app, i)[label][1]
            assert states[(i, target)] == ("in_sync" if value == new[i] else "drifted"), (i, label, states)
        assert consumers_of(app) == held

        # a normal sync repairs them; a third run changes nothing
        repaired = ansible.playbook("agentarea.secrets.sync", extra_vars=extra, env=env, canaries=old + new)
        push = task_result(repaired, "Compare every consumer with the store (and repair drift unless report-only)")
        changed = {r["item"]["name"] for r in push["results"] if r["changed"]}
        assert changed == drifted, push
        assert consumers_of(app) == {(i, label): new[i] for (i, label) in held}
        again = ansible.playbook("agentarea.secrets.sync", extra_vars=extra, env=env, canaries=old + new)
        assert re.search(r"localhost\s*: ok=\d+\s+changed=0", again.stdout), again
        assert not temp_files(app)
        assert not processes_under(ansible.base)


# --- 3. controller killed during the emergency runbook ------------------------------------------------------------

NAMES = ["alpha", "bravo", "charlie"]


def test_controller_killed_during_emergency_resumes(ansible, vault, root, prefix, tmp_path):
    app, reports = tmp_path / "app", tmp_path / "reports"
    app.mkdir()
    (app / ".env").write_text(APP_HEADER)
    catalog = [{"name": name, "owner": "platform", "purpose": "leaked %s" % name, "kind": "static",
                "store": "vault://secret/%s/%s#value" % (prefix, name), "generate": {"kind": "hex", "bits": 128},
                "consumers": [{"env_file": {"path": str(app / ".env"), "key": name.upper()}}]}
               for name in NAMES]
    leaked = {}
    for name in NAMES:
        leaked[name] = "leaked-%s-%s" % (name, prefix)
        root.secrets.kv.v2.create_or_update_secret("%s/%s" % (prefix, name), {"value": leaked[name]})
        dotenv.set_key(str(app / ".env"), name.upper(), leaked[name], quote_mode="never")

    def version(name):
        return root.secrets.kv.v2.read_secret_version("%s/%s" % (prefix, name))["data"]["metadata"]["version"]

    def value(name):
        return root.secrets.kv.v2.read_secret_version("%s/%s" % (prefix, name))["data"]["data"]["value"]

    versions = {name: version(name) for name in NAMES}
    extra = {"agentarea_secrets_catalog": catalog, "agentarea_secrets_report_dir": str(reports),
             "agentarea_secrets_audit_log": str(reports / "audit.jsonl"), "emergency_confirm": "YES",
             "emergency_incident": "INC-14", "emergency_names": NAMES, "emergency_concurrency": 1}
    canaries = list(leaked.values())
    with FaultProxy(vault["url"]) as proxy:
        env = {"VAULT_ADDR": proxy.url, "VAULT_TOKEN": vault["token"]}
        # bravo's first write (its pending slot) waits 2 s: the controller is killed while bravo's rotation runs
        hold = proxy.add("delay", seconds=2, method="POST|PUT", path=r"^/v1/secret/data/%s/bravo" % prefix)
        proc = start_playbook(ansible, "agentarea.secrets.emergency", extra, env)
        wait_for(lambda: hold.matched >= 1, proc, what="bravo's rotation to start")
        output = kill_run(proc)
        assert proc.returncode == -signal.SIGKILL, output
        # the rotations run in one module call (issue 17), killed with the controller while bravo's ran: alpha had
        # finished but its result never came back, so the state does not list it; it holds what each store held
        wait_for(lambda: not processes_under(ansible.base), timeout=60, what="the killed run's processes to end")
        state = json.loads((reports / "incident-INC-14.state.json").read_text())
        assert list(state["done"]) == [] and sorted(state["before_rotation"]) == NAMES, state
        assert version("alpha") == versions["alpha"] + 1 and version("charlie") == versions["charlie"]

        resumed = ansible.playbook("agentarea.secrets.emergency", extra_vars=extra, env=env, canaries=canaries)
        no_traceback(resumed)
    for name in NAMES:   # rotated exactly once: one new version each, the consumers hold it
        assert version(name) == versions[name] + 1, (name, version(name), versions[name])
        assert value(name) != leaked[name]
        assert dotenv.dotenv_values(app / ".env")[name.upper()] == value(name), name
    assert (app / ".env").read_text().startswith(APP_HEADER)
    assert "resumed" in resumed.output and "bravo" in resumed.output, resumed
    report = json.loads((reports / "incident-INC-14.json").read_text())
    assert sorted(report["done"]) == NAMES and report["validation"]["consumers_in_sync"] is True
    # alpha: its store changed since the incident began, so it is taken as done (not rotated again); bravo: the
    # rotation engine resumes its pending slot when the killed write had reached the store, else rotates it
    assert report["done"]["alpha"]["action"] == "resumed", report["done"]["alpha"]
    assert report["done"]["bravo"]["action"] in ("resumed", "rotated"), report["done"]["bravo"]
    assert any("resumed" in e["event"] for e in report["timeline"]), report["timeline"]
    for path in reports.iterdir():
        text = path.read_text()
        assert not any(v in text for v in canaries + [value(n) for n in NAMES]), path
    assert not processes_under(ansible.base)
