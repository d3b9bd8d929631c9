# -*- coding: utf-8 -*-
"""What every server kind uses: the service names, ports, processes, readiness probes, running commands."""
import contextlib
import glob
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # tests/harness
TESTS = os.path.dirname(HERE)
FAKES = os.path.join(TESTS, "fakes")
BIN_DIRS = [os.path.dirname(sys.executable), "/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin",
            "/sbin", "/bin"] + sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)

SERVICES = ("vault", "vault_tls", "aws", "aws_iam", "gcp", "azure", "azure_ad", "k8s", "postgres", "mysql", "redis",
            "docker", "pass")
READY_TIMEOUT = 30.0


class HarnessError(RuntimeError):
    """A service could not be started or stopped."""


def which(name):
    found = shutil.which(name, path=os.pathsep.join(BIN_DIRS + os.environ.get("PATH", "").split(os.pathsep)))
    if not found:
        raise HarnessError("%s not found (install it: tests/harness/install-system-deps.sh)" % name)
    return found


def free_port(also_next=False, udp=False):
    """A port that is free on 127.0.0.1 now (and port+1 too when asked: OpenBao binds API port + 1)."""
    for _attempt in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM if udp else socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if not also_next or port_is_free(port + 1):
            return port
    raise HarnessError("no free port pair found")


def free_port_below(limit, udp=False):
    """A free port under ``limit`` (Docker wants its VXLAN data-path port in 1024-49151, below most ephemeral
    ranges' top)."""
    import random

    for _attempt in range(200):
        port = random.randint(20000, limit)
        if port_is_free(port, udp=udp):
            return port
    raise HarnessError("no free port below %d" % limit)


def port_is_free(port, host="127.0.0.1", udp=False):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM if udp else socket.SOCK_STREAM) as s:
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie is dead for our purposes.
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def kill_pid(pid, timeout=10.0):
    """SIGTERM, wait, then SIGKILL. Reaps the process when it is our child."""
    if not pid or not pid_alive(pid):
        return
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(ChildProcessError, OSError):
            os.waitpid(pid, os.WNOHANG)
        if not pid_alive(pid):
            return
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, 0)


def tail(path, lines=30):
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - 8192))
            return "\n".join(f.read().decode("utf-8", "replace").splitlines()[-lines:])
    except OSError as e:
        return "(no log: %s)" % e


def http_ok(url, cafile=None, any_status=False, headers=None):
    ctx = ssl.create_default_context(cafile=cafile) if url.startswith("https") else None
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=2,
                                    context=ctx) as r:
            return r.status < 400
    except urllib.error.HTTPError:
        return any_status
    except (OSError, ssl.SSLError):
        return False


def tcp_banner(port, send=None, expect=b""):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
            if send:
                s.sendall(send)
            data = b""
            while expect and expect not in data:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
            if not expect:
                data = s.recv(16)
            return bool(data) and expect in data
    except OSError:
        return False


def run(cmd, env=None, cwd="/tmp", check=True, input_=None, timeout=120):
    p = subprocess.run(cmd, env=env, cwd=cwd, input=input_, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=timeout, check=False)
    if check and p.returncode:
        raise HarnessError("%s failed (rc=%d):\n%s" % (" ".join(cmd), p.returncode,
                                                       p.stdout.decode("utf-8", "replace")[-3000:]))
    return p.stdout.decode("utf-8", "replace")
