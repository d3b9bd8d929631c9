"""Managed hosts over SSH for the integration tests: a private sshd on a loopback port and a fleet of inventory
hosts that all point at it with different users.

    fleet = SSHFleet(run_dir, hosts=40).start()    # as root; users, key pair, sshd, inventory
    fleet.inventory                                 # path of the YAML inventory (groups below)
    fleet.stop()                                    # sshd and its sessions by PID, users, sudoers file, files

What a fleet is made of (all created once, in ``run_dir/ssh-<tag>``):
- ``/usr/sbin/sshd -D -e -f /dev/null`` (no system configuration) on 127.0.0.1 and a free port, its own host key
  and PidFile in the run dir, keys only (no passwords, no PAM). Installed with apt when missing (root).
- Unprivileged users ``aa<tag>u1..N`` (``useradd -m``, then ``usermod -p '*'``: useradd leaves the account
  locked, and sshd refuses a locked account even for keys when PAM is off), one key pair for all of them, and
  ``aa<tag>op``, an operator with password-less sudo (a file in /etc/sudoers.d) for the hosts that ``become``.
- Hosts ``host01..hostNN``; each has its own app directory ``/tmp/aa-fleet-<tag>/hostNN`` (0700, under a 0755
  tree as /srv would be) owned by its app user (``aa_app_user``). Hosts log in as their app user, except those in ``ssh_become``, which log in as the
  operator and become root to write files their app user owns.
- Interpreters: ``/usr/bin/python3`` (the system Python, none of the collection's SDKs) everywhere, except the
  ``ssh_py38`` host, which runs the pyenv Python 3.8 (the oldest managed-host Python the README promises). /root
  is private, so that install is hard-linked into the run dir (a copy that costs no space) and started through a
  two-line wrapper that sets LD_LIBRARY_PATH (its RUNPATH names the original location).

Groups: ``fleet`` (every host), ``ssh_nosdk`` (system Python), ``ssh_py38``, ``ssh_become``. Host variables:
``aa_app_dir``, ``aa_app_user``. Connection: ``ANSIBLE_HOST_KEY_CHECKING=false`` is not needed; the inventory
turns host key checking off itself and names the private key.
"""

import atexit
import contextlib
import glob
import grp
import json
import os
import pwd
import secrets
import shutil
import subprocess
import sys
import tempfile
import time

import pytest
import yaml

from tests.harness.servers import HarnessError, free_port, kill_pid, pid_alive, run, tail, tcp_banner

SSHD = "/usr/sbin/sshd"
SYSTEM_PYTHON = "/usr/bin/python3"


def pyenv_python38():
    """The pyenv Python 3.8 executable, or None."""
    roots = []
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        roots.append(subprocess.run(["pyenv", "root"], capture_output=True, text=True, check=True,
                                    timeout=10).stdout.strip())
    roots += [os.environ.get("PYENV_ROOT", ""), os.path.expanduser("~/.pyenv")]
    for root in roots:
        found = sorted(glob.glob(os.path.join(root, "versions", "3.8*", "bin", "python3.8"))) if root else []
        if found:
            return found[-1]
    return None


def ensure_sshd():
    if os.path.exists(SSHD):
        return
    if os.geteuid() != 0:
        raise HarnessError("%s is missing: apt-get install -y openssh-server (tests/harness/install-system-deps.sh)"
                           % SSHD)
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    run(["apt-get", "install", "-y", "--no-install-recommends", "openssh-server"], env=env, check=False, timeout=600)
    if not os.path.exists(SSHD):
        run(["apt-get", "update"], env=env, timeout=600)
        run(["apt-get", "install", "-y", "--no-install-recommends", "openssh-server"], env=env, timeout=600)


def ensure_sudo():
    if shutil.which("sudo"):
        return
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    run(["apt-get", "install", "-y", "--no-install-recommends", "sudo"], env=env, timeout=600)


def descendants(pid):
    """PIDs of every process below ``pid`` (from /proc, children before the listener is gone)."""
    children = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        with contextlib.suppress(OSError, IndexError, ValueError):
            with open("/proc/%s/stat" % entry) as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def pids_of_uids(uids):
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            with contextlib.suppress(OSError):
                if os.stat("/proc/" + entry).st_uid in uids:
                    found.append(int(entry))
    return found


class SSHFleet:
    """A private sshd, users, a key pair and an inventory of ``hosts`` hosts (see the module docstring)."""

    def __init__(self, run_dir, hosts=40, users=4, become_hosts=4):
        if hosts < 3:
            raise ValueError("a fleet needs at least 3 hosts")
        self.n_hosts, self.n_users, self.n_become = hosts, users, become_hosts
        self.tag = secrets.token_hex(3)
        self.base = os.path.join(os.path.abspath(run_dir), "ssh-" + self.tag)
        # The app directories sit under an ordinary 0755 tree, as /srv does, not under the 0711 run dir.
        self.hosts_root = os.path.join(tempfile.gettempdir(), "aa-fleet-%s" % self.tag)
        self.users = ["aa%su%d" % (self.tag, i) for i in range(1, users + 1)]
        self.operator = "aa%sop" % self.tag
        self.created_users = []
        self.sudoers = "/etc/sudoers.d/aa-ssh-%s" % self.tag
        self.port = None
        self.pid = None
        self.proc = None
        self.hosts = {}
        self.python38 = None

    # --- paths --------------------------------------------------------------------------------------
    def path(self, *parts):
        return os.path.join(self.base, *parts)

    @property
    def key(self):
        return self.path("id_ed25519")

    @property
    def inventory(self):
        return self.path("inventory.yml")

    @property
    def log(self):
        return self.path("sshd.log")

    # --- start --------------------------------------------------------------------------------------
    def start(self):
        if os.geteuid() != 0:
            raise HarnessError("managed hosts over SSH need root (sshd, useradd)")
        ensure_sshd()
        ensure_sudo()
        os.makedirs(self.base, exist_ok=True)
        os.chmod(self.base, 0o711)
        try:
            self._keys()
            self._users()
            self._python38()
            self._hosts()
            self._sshd()
            self._write_inventory()
        except BaseException:
            self.stop()
            raise
        return self

    def _keys(self):
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "aa-ssh-client", "-f", self.key])
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "aa-ssh-host", "-f", self.path("host_key")])

    def _users(self):
        with open(self.key + ".pub") as f:
            public = f.read()
        for user in self.users + [self.operator]:
            run(["useradd", "-m", "-s", "/bin/sh", user])
            self.created_users.append(user)
            run(["usermod", "-p", "*", user])
            pw = pwd.getpwnam(user)
            ssh_dir = os.path.join(pw.pw_dir, ".ssh")
            os.makedirs(ssh_dir, mode=0o700, exist_ok=True)
            with open(os.path.join(ssh_dir, "authorized_keys"), "w") as f:
                f.write(public)
            for p in (ssh_dir, os.path.join(ssh_dir, "authorized_keys")):
                os.chown(p, pw.pw_uid, pw.pw_gid)
            os.chmod(os.path.join(ssh_dir, "authorized_keys"), 0o600)
        tmp = self.sudoers + ".tmp"
        with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o440), "w") as f:
            f.write("%s ALL=(ALL) NOPASSWD: ALL\n" % self.operator)
        run(["visudo", "-cf", tmp])
        os.replace(tmp, self.sudoers)

    def _python38(self):
        source = pyenv_python38()
        if not source:
            return
        prefix = os.path.dirname(os.path.dirname(source))
        copy = self.path("py38")
        # Hard links: instant, no space; the directories are new (and world-traversable like the originals).
        run(["cp", "-al", prefix, copy], timeout=300)
        wrapper = self.path("python3.8")
        with open(wrapper, "w") as f:
            f.write("#!/bin/sh\nLD_LIBRARY_PATH=%s exec %s \"$@\"\n"
                    % (os.path.join(copy, "lib"), os.path.join(copy, "bin", os.path.basename(source))))
        os.chmod(wrapper, 0o755)
        self.python38 = wrapper

    def _hosts(self):
        os.makedirs(self.hosts_root, exist_ok=True)
        os.chmod(self.hosts_root, 0o755)
        for i in range(1, self.n_hosts + 1):
            name = "host%02d" % i
            app_user = self.users[(i - 1) % len(self.users)]
            app_dir = os.path.join(self.hosts_root, name)
            os.makedirs(app_dir, exist_ok=True)
            pw = pwd.getpwnam(app_user)
            os.chown(app_dir, pw.pw_uid, pw.pw_gid)
            os.chmod(app_dir, 0o700)
            # the last hosts become root; the first one after the become hosts runs Python 3.8
            become = i > self.n_hosts - self.n_become
            py38 = self.python38 is not None and i == self.n_hosts - self.n_become
            host = {"ansible_user": self.operator if become else app_user,
                    "ansible_python_interpreter": self.python38 if py38 else SYSTEM_PYTHON,
                    "aa_app_dir": app_dir, "aa_app_user": app_user,
                    "aa_app_group": grp.getgrgid(pw.pw_gid).gr_name}
            if become:
                host.update(ansible_become=True, ansible_become_method="sudo", ansible_become_user="root")
            self.hosts[name] = host

    def _sshd(self):
        os.makedirs("/run/sshd", exist_ok=True)  # privilege separation directory; sshd exits without it
        os.chmod("/run/sshd", 0o755)
        for _attempt in range(5):
            self.port = free_port()
            cmd = [SSHD, "-D", "-e", "-f", "/dev/null", "-p", str(self.port), "-h", self.path("host_key"),
                   "-o", "ListenAddress=127.0.0.1", "-o", "PidFile=" + self.path("sshd.pid"),
                   "-o", "PasswordAuthentication=no", "-o", "KbdInteractiveAuthentication=no", "-o", "UsePAM=no",
                   "-o", "StrictModes=no", "-o", "AuthorizedKeysFile=.ssh/authorized_keys",
                   "-o", "PermitRootLogin=no", "-o", "AllowUsers=" + " ".join(self.created_users),
                   # one ControlMaster connection per user carries many hosts' sessions at forks > 1
                   "-o", "MaxSessions=200", "-o", "MaxStartups=200:30:400", "-o", "LogLevel=INFO",
                   "-o", "Subsystem=sftp internal-sftp"]
            with open(self.log, "ab") as out:
                self.proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                             cwd=self.base, start_new_session=True)
            self.pid = self.proc.pid
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline and self.proc.poll() is None:
                if tcp_banner(self.port, expect=b"SSH-"):
                    return
                time.sleep(0.05)
            if self.proc.poll() is None:
                break
            if "Address already in use" not in tail(self.log):
                break
        raise HarnessError("sshd did not start on 127.0.0.1:%s; log %s:\n%s" % (self.port, self.log, tail(self.log)))

    def _write_inventory(self):
        become = sorted(h for h, v in self.hosts.items() if v.get("ansible_become"))
        py38 = sorted(h for h, v in self.hosts.items() if v["ansible_python_interpreter"] == self.python38)
        nosdk = sorted(h for h, v in self.hosts.items() if v["ansible_python_interpreter"] == SYSTEM_PYTHON)
        inventory = {"all": {"children": {
            "fleet": {
                "hosts": self.hosts,
                "vars": {
                    "ansible_connection": "ssh",
                    "ansible_host": "127.0.0.1",
                    "ansible_port": self.port,
                    "ansible_ssh_private_key_file": self.key,
                    "ansible_ssh_common_args": "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null "
                                               "-o LogLevel=ERROR",
                    "ansible_pipelining": True,
                    # a short path: ControlPersist sockets under a test's private HOME exceed the 108-byte limit
                    # of Unix sockets under pytest-xdist's longer temporary paths
                    "ansible_control_path_dir": os.path.join(self.hosts_root, "cp"),
                    # not the controller's ANSIBLE_REMOTE_TEMP (a private directory of the test run)
                    "ansible_remote_tmp": "~/.ansible/tmp",
                },
            },
            "ssh_become": {"hosts": {h: {} for h in become}},
            "ssh_py38": {"hosts": {h: {} for h in py38}},
            "ssh_nosdk": {"hosts": {h: {} for h in nosdk}},
        }}}
        with open(self.inventory, "w") as f:
            yaml.safe_dump(inventory, f, sort_keys=True)
        with open(self.path("fleet.json"), "w") as f:
            json.dump(self.info(), f, indent=2, sort_keys=True)

    def info(self):
        return {"inventory": self.inventory, "port": self.port, "pid": self.pid, "key": self.key,
                "users": list(self.users), "operator": self.operator, "python38": self.python38,
                "hosts": self.hosts, "log": self.log}

    def group(self, name):
        """Host names of an inventory group (``fleet``, ``ssh_become``, ``ssh_py38``, ``ssh_nosdk``)."""
        if name == "fleet":
            return sorted(self.hosts)
        if name == "ssh_become":
            return sorted(h for h, v in self.hosts.items() if v.get("ansible_become"))
        if name == "ssh_py38":
            return sorted(h for h, v in self.hosts.items() if self.python38
                          and v["ansible_python_interpreter"] == self.python38)
        if name == "ssh_nosdk":
            return sorted(h for h, v in self.hosts.items() if v["ansible_python_interpreter"] == SYSTEM_PYTHON)
        raise KeyError(name)

    # --- stop ---------------------------------------------------------------------------------------
    def stop(self):
        """Best effort, every step attempted: sshd and the sessions it forked (by PID), the users' processes
        (only ours: users this fleet created), the users and their homes, the sudoers file, the run files."""
        errors = []
        uids = set()
        for user in self.created_users:
            with contextlib.suppress(KeyError):
                uids.add(pwd.getpwnam(user).pw_uid)
        if self.pid:
            sessions = descendants(self.pid)
            kill_pid(self.pid)
            for pid in sessions:
                kill_pid(pid, timeout=3)
            if self.proc is not None:
                with contextlib.suppress(Exception):
                    self.proc.wait(timeout=5)
            self.pid = None
        for pid in pids_of_uids(uids) if uids else []:
            kill_pid(pid, timeout=3)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.sudoers)
        for user in list(self.created_users):
            p = subprocess.run(["userdel", "-r", "-f", user], capture_output=True, text=True, check=False)
            if p.returncode not in (0, 12):  # 12: the home could not be removed (already gone)
                errors.append("userdel %s: %s" % (user, p.stderr.strip()))
            else:
                self.created_users.remove(user)
        shutil.rmtree(self.path("py38"), ignore_errors=True)
        shutil.rmtree(self.hosts_root, ignore_errors=True)
        for name in ("id_ed25519", "id_ed25519.pub", "host_key", "host_key.pub"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.path(name))
        if errors:
            sys.stderr.write("ssh fleet: errors while stopping:\n  %s\n" % "\n  ".join(errors))
        return not errors

    def alive(self):
        return bool(self.pid) and pid_alive(self.pid)


@pytest.fixture(scope="session")
def ssh_fleet(harness):
    """The fleet of managed hosts over SSH, started once per session (``AGENTAREA_TEST_FLEET_HOSTS``, default 40:
    the fleet size at which forks 10 broke for users).

    A test module asks for it with ``pytest_plugins = ["tests.harness.ssh_hosts"]`` and an ``ssh_fleet`` argument;
    run ansible with ``args=["-i", ssh_fleet.inventory]``."""
    if os.geteuid() != 0:
        pytest.skip("managed hosts over SSH need root (sshd, useradd)")
    fleet = SSHFleet(harness.run_dir, hosts=int(os.environ.get("AGENTAREA_TEST_FLEET_HOSTS", "40")))
    atexit.register(fleet.stop)  # also when pytest is interrupted before the fixture's finaliser
    fleet.start()
    try:
        yield fleet
    finally:
        fleet.stop()
        atexit.unregister(fleet.stop)
