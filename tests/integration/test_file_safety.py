# -*- coding: utf-8 -*-
"""What the collection does to files on a host, as root, in a directory an application user owns (how .env files
are deployed): links that user plants are refused, nothing outside changes, an app:app 0640 .env keeps its owner
and mode through secret, secret_file, distribute and rotate, modes are read as ansible.builtin.file reads them,
and concurrent forks writing one .env keep every key. Issue 12, items 1, 4, 5, 6."""
import json
import os
import pwd
import stat
import subprocess

import dotenv
import pytest

from tests.harness.leak import run_leak_suite

APP = "aa-app"
CANARY = "canary-5d1e0a77-files"
ROOT_ONLY = "root-only-canary-93b1"
ROTATED = "rotated-away-canary-4c07"

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="plants links as another user and writes as root")


@pytest.fixture(scope="module")
def app_user():
    """An unprivileged user, created for these tests unless it exists (and then removed again)."""
    created = False
    try:
        pwd.getpwnam(APP)
    except KeyError:
        subprocess.run(["useradd", "--create-home", "--shell", "/usr/sbin/nologin", APP], check=True,
                       capture_output=True)
        created = True
    entry = pwd.getpwnam(APP)
    yield {"uid": entry.pw_uid, "gid": entry.pw_gid}
    if created:
        subprocess.run(["userdel", "--remove", APP], check=False, capture_output=True)


def owned_by_app(path, app_user, mode):
    os.chown(str(path), app_user["uid"], app_user["gid"])
    os.chmod(str(path), mode)


def plant(target, link, app_user):
    """A symbolic link created by the app user (its owner is what the kernel and our checks look at)."""
    os.symlink(str(target), str(link))
    os.lchown(str(link), app_user["uid"], app_user["gid"])


def snapshot(path):
    st = os.lstat(str(path))
    return (st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode), st.st_ino, open(str(path), "rb").read())


def meta(path):
    st = os.stat(str(path))
    return st.st_uid, st.st_gid, stat.S_IMODE(st.st_mode)


@pytest.fixture
def app_dir(tmp_path, app_user):
    """/…/srv/app owned by the app user; victims owned by root outside it."""
    os.chmod(str(tmp_path), 0o755)
    root = tmp_path / "srv"
    root.mkdir(mode=0o755)
    app = root / "app"
    app.mkdir()
    owned_by_app(app, app_user, 0o755)
    secret = tmp_path / "root-only.txt"
    secret.write_text("TOKEN=%s\n" % ROOT_ONLY)
    os.chmod(str(secret), 0o600)
    system = tmp_path / "system.conf"
    system.write_text("OLD=system\n")
    os.chmod(str(system), 0o644)
    sysdir = tmp_path / "sysdir"
    sysdir.mkdir(mode=0o755)
    return {"app": app, "secret": secret, "system": system, "sysdir": sysdir}


def test_secret_file_refuses_links_planted_by_the_app_user(ansible, app_dir, app_user):
    app = app_dir["app"]
    plant(app_dir["secret"], app / ".env", app_user)
    plant(app_dir["system"], app / ".env2", app_user)
    plant(app_dir["sysdir"], app / "conf.d", app_user)
    plant(app_dir["system"], app / ".env3.lock", app_user)
    (app / ".env3").write_text("A=1\n")
    owned_by_app(app / ".env3", app_user, 0o640)
    victims = [app_dir["secret"], app_dir["system"], app_dir["sysdir"]]
    before = dict((str(p), snapshot(p)) for p in victims if p.is_file())
    value_file = app_dir["sysdir"].parent / "canary.txt"
    value_file.write_text(CANARY)
    play = """
    - hosts: localhost
      gather_facts: false
      vars:
        canary: "{{ lookup('agentarea.secrets.file', '%(value_file)s') }}"
      tasks:
        - name: key through a link to a root-only file
          agentarea.secrets.secret_file: {path: "%(app)s/.env", key: JWT_SECRET, value: "{{ canary }}", owner: %(user)s}
          register: key
          ignore_errors: true
        - name: remove a key through a link to a system file
          agentarea.secrets.secret_file: {path: "%(app)s/.env2", key: OLD, state: absent, owner: %(user)s}
          register: absent
          ignore_errors: true
        - name: whole file through a link
          agentarea.secrets.secret_file: {path: "%(app)s/.env2", value: "{{ canary }}", mode: "0600"}
          register: whole
          ignore_errors: true
        - name: file under a directory link the app user owns
          agentarea.secrets.secret_file: {path: "%(app)s/conf.d/secret.txt", value: "{{ canary }}", owner: %(user)s}
          register: dirlink
          ignore_errors: true
        - name: a planted lock file
          agentarea.secrets.secret_file: {path: "%(app)s/.env3", key: K, value: "{{ canary }}"}
          register: lock
          ignore_errors: true
        - name: the secret module through a link
          agentarea.secrets.secret: {ref: "dotenv://%(app)s/.env2#NEW", value: "{{ canary }}"}
          register: module
          ignore_errors: true
    """ % {"app": app, "value_file": value_file, "user": APP}
    for check in (True, False, False):  # check mode, apply, apply again: refused every time
        result = ansible.playbook(play, check=check, diff=True, canaries=[CANARY, ROOT_ONLY])
        assert "Traceback" not in result.output
        expected = {
            "key through a link to a root-only file": "%s/.env is a symbolic link: refusing to follow it; set "
                                                      "follow: true to write to the file it points to" % app,
            "remove a key through a link to a system file": "%s/.env2 is a symbolic link: refusing" % app,
            "whole file through a link": "%s/.env2 is a symbolic link: refusing" % app,
            "file under a directory link the app user owns": "refusing to follow the symbolic link %s/conf.d: uid %d "
                                                             "owns it" % (app, app_user["uid"]),
            "a planted lock file": "%s/.env3.lock is a symbolic link" % app,
            "the secret module through a link": "%s/.env2 is a symbolic link that uid %d owns: refusing"
                                                % (app, app_user["uid"]),
        }
        for name, message in expected.items():
            task = result.task(name)
            assert task["_status"] == "failed" and message in task["msg"], (check, name, task)
        for path in victims:
            if path.is_file():
                assert snapshot(path) == before[str(path)], path
        assert list(app_dir["sysdir"].iterdir()) == []
        assert (app / ".env3").read_text() == "A=1\n" and meta(app / ".env3")[2] == 0o640
        for link in (".env", ".env2", "conf.d", ".env3.lock"):
            assert os.path.islink(str(app / link))
    assert sorted(p.name for p in app.iterdir()) == [".env", ".env.lock", ".env2", ".env2.lock", ".env3",
                                                     ".env3.lock", "conf.d"]
    # -vvvv --diff, check mode, JSON results: neither the value nor the root-only content appears
    run_leak_suite(ansible, play, [CANARY, ROOT_ONLY])
    assert ROOT_ONLY not in "".join(p.read_text() for p in app.iterdir() if p.is_file() and not p.is_symlink())

    # follow: true is the explicit way to write where a link points
    target = app / "real.env"
    target.write_text("A=1\n")
    owned_by_app(target, app_user, 0o640)
    os.unlink(str(app / ".env"))
    plant(target, app / ".env", app_user)
    follow = """
    - hosts: localhost
      gather_facts: false
      tasks:
        - name: follow
          agentarea.secrets.secret_file: {path: "%s/.env", key: B, value: "%s", follow: true}
    """ % (app, CANARY)
    assert ansible.playbook(follow, canaries=[CANARY]).task("follow")["changed"]
    assert dotenv.dotenv_values(target) == {"A": "1", "B": CANARY} and os.path.islink(str(app / ".env"))
    assert meta(target) == (app_user["uid"], app_user["gid"], 0o640)
    assert not ansible.playbook(follow, canaries=[CANARY]).task("follow")["changed"]


def test_every_writer_keeps_owner_group_and_mode(ansible, app_dir, app_user, tmp_path):
    app = app_dir["app"]
    env_file, secret_txt = app / ".env", app / "db_password"
    env_file.write_text("# app\nA=1\nR=%s\n" % ROTATED)
    owned_by_app(env_file, app_user, 0o640)
    secret_txt.write_text("old")
    owned_by_app(secret_txt, app_user, 0o640)
    store = tmp_path / "store.json"
    store.write_text(json.dumps({"password": CANARY + "-pw"}))
    os.chmod(str(store), 0o600)
    app_ids = (app_user["uid"], app_user["gid"], 0o640)
    play = """
    - hosts: localhost
      gather_facts: false
      tasks:
        - name: secret
          agentarea.secrets.secret: {ref: "dotenv://%(env)s#S", value: "%(canary)s-s"}
        - name: secret_file
          agentarea.secrets.secret_file: {path: "%(env)s", key: F, value: "%(canary)s-f"}
        - name: distribute
          agentarea.secrets.distribute:
            name: database
            store: "file://%(store)s"
            consumers:
              - env_file: {path: "%(env)s", key: D, field: password}
              - file: {path: "%(file)s", field: password}
        - name: rotate
          agentarea.secrets.rotate: {store: "dotenv://%(env)s#R", kind: static}
    """ % {"env": env_file, "file": secret_txt, "store": store, "canary": CANARY}
    canaries = [CANARY + "-s", CANARY + "-f", CANARY + "-pw", ROTATED]
    check = ansible.playbook(play, check=True, diff=True, canaries=canaries)
    assert all(check.task(name)["changed"] for name in ("secret", "secret_file", "distribute", "rotate"))
    assert "S=" not in env_file.read_text() and meta(env_file) == app_ids

    first = ansible.playbook(play, diff=True, canaries=canaries)
    assert all(first.task(name)["changed"] for name in ("secret", "secret_file", "distribute", "rotate"))
    values = dotenv.dotenv_values(env_file)
    assert values["S"] == CANARY + "-s" and values["F"] == CANARY + "-f" and values["D"] == CANARY + "-pw"
    assert values["R"] != ROTATED and len(values["R"]) >= 32 and values["A"] == "1"
    assert secret_txt.read_text() == CANARY + "-pw"
    for path in (env_file, secret_txt):
        assert meta(path) == app_ids, path
    assert meta(app / ".env.lock")[2] == 0o600  # the writers' lock beside the file

    second = ansible.playbook(play, canaries=canaries)
    for name in ("secret", "secret_file", "distribute"):
        assert not second.task(name)["changed"], name

    cleanup = """
    - hosts: localhost
      gather_facts: false
      tasks:
        - name: remove
          agentarea.secrets.secret: {ref: "dotenv://%(env)s#S", state: absent}
        - name: remove entry
          agentarea.secrets.secret_file: {path: "%(env)s", key: F, state: absent}
    """ % {"env": env_file}
    ansible.playbook(cleanup, canaries=canaries)
    assert "S" not in dotenv.dotenv_values(env_file) and "F" not in dotenv.dotenv_values(env_file)
    assert meta(env_file) == app_ids
    # the task may still set them
    setting = """
    - hosts: localhost
      gather_facts: false
      tasks:
        - name: set
          agentarea.secrets.secret_file: {path: "%s", key: A, value: "1", owner: root, group: root, mode: "u=rw,g=,o="}
    """ % env_file
    assert ansible.playbook(setting).task("set")["changed"]
    assert meta(env_file) == (0, 0, 0o600) and dotenv.dotenv_values(env_file)["A"] == "1"


def test_modes_are_read_as_ansible_builtin_file_reads_them(ansible, tmp_path):
    base = tmp_path / "modes"
    base.mkdir()
    store = tmp_path / "store.txt"
    store.write_text(CANARY)
    play = """
    - hosts: localhost
      gather_facts: false
      tasks:
        - name: unquoted 644
          agentarea.secrets.secret_file: {path: "%(d)s/a", value: "%(c)s", mode: 644}
          register: decimal
          ignore_errors: true
        - name: minus one
          agentarea.secrets.secret_file: {path: "%(d)s/b", value: "%(c)s", mode: "-1"}
          register: minus
          ignore_errors: true
        - name: setuid
          agentarea.secrets.secret_file: {path: "%(d)s/c", value: "%(c)s", mode: "4777"}
          register: setuid
          ignore_errors: true
        - name: world readable
          agentarea.secrets.secret_file: {path: "%(d)s/d", value: "%(c)s", mode: "0644"}
          register: world
          ignore_errors: true
        - name: world readable, allowed
          agentarea.secrets.secret_file: {path: "%(d)s/e", value: "%(c)s", mode: "0644", allow_world_access: true}
        - name: unquoted 0640
          agentarea.secrets.secret_file: {path: "%(d)s/f", value: "%(c)s", mode: 0640}
        - name: symbolic
          agentarea.secrets.secret_file: {path: "%(d)s/g", value: "%(c)s", mode: "u=rw,g=r"}
        - name: distribute with a world-readable file mode
          agentarea.secrets.distribute:
            name: x
            store: "file://%(store)s"
            consumers: [{file: {path: "%(d)s/h", mode: "0666"}}]
          register: consumer
          ignore_errors: true
    """ % {"d": base, "c": CANARY, "store": store}
    expected = {
        "unquoted 644": "mode 644 is not a permission mode between 0 and 0777; an unquoted YAML number such as 644 "
                        "is decimal",
        "minus one": "mode '-1' is neither an octal mode",
        "setuid": "mode 4777 has set-user-ID, set-group-ID or sticky bits: only 0..0777 is accepted",
        "world readable": "mode 0644 gives every user of the host access to a secret file (world-readable); use a "
                          "mode without \"other\" permissions such as 0640, or set allow_world_access: true",
        "distribute with a world-readable file mode": "consumers[0]: mode 0666 gives every user",
    }
    for check in (True, False):
        result = ansible.playbook(play, check=check, canaries=[CANARY])
        for name, message in expected.items():
            task = result.task(name)
            assert task["_status"] == "failed" and message in task["msg"], (name, task)
        if check:
            assert list(base.iterdir()) == []
    modes = dict((p.name, stat.S_IMODE(p.stat().st_mode)) for p in base.iterdir())
    assert modes == {"e": 0o644, "f": 0o640, "g": 0o640}


def test_concurrent_forks_keep_every_key(ansible, tmp_path):
    env_file = tmp_path / "shared" / ".env"
    env_file.parent.mkdir()
    env_file.write_text("FIRST=1\n")
    play = """
    - hosts: w1,w2
      gather_facts: false
      vars:
        ansible_connection: local
        ansible_python_interpreter: "{{ ansible_playbook_python }}"
      tasks:
        - name: keys
          agentarea.secrets.secret_file:
            path: "%s"
            key: "{{ inventory_hostname | upper }}_{{ item }}"
            value: "v{{ item }}"
          loop: "{{ range(40) | list }}"
    """ % env_file
    ansible.playbook(play, args=("-i", "w1,w2,", "--forks", "2"), timeout=900)
    values = dotenv.dotenv_values(env_file)
    assert len(values) == 81 and all(values["W%d_%d" % (w, i)] == "v%d" % i for w in (1, 2) for i in range(40))
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o644  # kept, as it was
