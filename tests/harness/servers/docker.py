# -*- coding: utf-8 -*-
"""``docker``: a private dockerd with a one-node swarm, one per host (the gossip port is fixed)."""
import contextlib
import io
import os
import subprocess
import sys
import tarfile

from tests.harness.servers.common import HarnessError, free_port, free_port_below, kill_pid, pid_alive, port_is_free, run, which

SWARM_GOSSIP_PORT = 7946
DOCKER_IMAGE = "local/busybox:1"


class DockerServer:
    """Mixed into ``Harness``: ``_start_<service>`` (and ``_stop_<service>``) for dockerd and its swarm."""

    # --- Docker ---------------------------------------------------------------------------------
    def _docker_paths(self):
        base = self.path("docker")
        return {"base": base, "data": os.path.join(base, "data"), "exec": os.path.join(base, "exec"),
                "sock": os.path.join(base, "docker.sock"), "pidfile": os.path.join(base, "docker.pid")}

    def _check_no_other_swarm(self):
        ours = self._docker_paths()["exec"]
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                with open("/proc/%s/cmdline" % pid, "rb") as f:
                    args = f.read().decode("utf-8", "replace").split("\0")
            except OSError:
                continue
            # Another harness's dockerd (it has its own --exec-root) means another swarm of ours.
            if (args and os.path.basename(args[0]) == "dockerd" and "--exec-root" in args
                    and not any(ours in a for a in args)):
                other = os.path.dirname(os.path.dirname(args[args.index("--exec-root") + 1]))
                raise HarnessError(
                    "another harness dockerd (pid %s, run dir %s) is running; the swarm gossip port %d is fixed, "
                    "so only one swarm can exist per host. Stop it first (%s %s stop --run-dir %s) or reuse its run "
                    "dir (AGENTAREA_HARNESS_RUN_DIR=%s)." % (pid, other, SWARM_GOSSIP_PORT, sys.executable,
                                                             os.path.dirname(os.path.abspath(__file__)), other, other))
        if not port_is_free(SWARM_GOSSIP_PORT, "0.0.0.0") or not port_is_free(SWARM_GOSSIP_PORT):
            raise HarnessError("port %d (swarm gossip, fixed) is in use: another swarm runs on this host"
                               % SWARM_GOSSIP_PORT)

    def _start_docker(self):
        p = self._docker_paths()
        self._check_no_other_swarm()
        for d in (p["data"], p["exec"]):
            os.makedirs(d, mode=0o700, exist_ok=True)
        host = "unix://" + p["sock"]
        cmd = [which("dockerd"), "--iptables=false", "--ip6tables=false", "--bridge=none",
               "--data-root", p["data"], "--exec-root", p["exec"], "-H", host, "--pidfile", p["pidfile"],
               "--log-level=warn"]
        proc = self._spawn("docker", cmd)
        log = self.path("docker.log")
        env = dict(os.environ, DOCKER_HOST=host)
        env.pop("DOCKER_CONTEXT", None)
        docker = which("docker")
        self._wait("docker", lambda: os.path.exists(p["sock"]) and subprocess.run(
            [docker, "version", "--format", "{{.Server.Version}}"], env=env, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, check=False).returncode == 0, log, proc)
        swarm_port = free_port()
        data_port = free_port_below(49151, udp=True)
        run([docker, "swarm", "init", "--advertise-addr", "127.0.0.1:%d" % swarm_port,
             "--listen-addr", "127.0.0.1:%d" % swarm_port, "--data-path-port", str(data_port)], env=env)
        # The ingress (routing mesh) network's VXLAN socket is a kernel socket on 0.0.0.0:data_port; nothing
        # may listen beyond 127.0.0.1, and tests publish no ports, so remove it. A service attached to an
        # overlay network would open that socket again: use host networking (or none) in tests.
        run([docker, "network", "rm", "ingress"], env=env, input_=b"y\n")
        self._wait("docker", lambda: not udp_wildcard_bound(data_port), log, proc, timeout=10)
        if not run([docker, "image", "ls", "-q", DOCKER_IMAGE], env=env).strip():
            run([docker, "import", "-c", 'CMD ["/bin/busybox","sleep","3600"]', "-", DOCKER_IMAGE], env=env,
                input_=busybox_rootfs_tar())
        return {"docker_host": host, "image": DOCKER_IMAGE, "swarm_port": swarm_port, "pid": proc.pid,
                "log": log, "env": {"DOCKER_HOST": host}}

    def _stop_docker(self, info):
        p = self._docker_paths()
        host = info.get("docker_host") or "unix://" + p["sock"]
        pid = self._pid_of("docker", info)
        if os.path.exists(p["sock"]) and pid and pid_alive(pid):
            env = dict(os.environ, DOCKER_HOST=host)
            run([which("docker"), "swarm", "leave", "--force"], env=env, check=False, timeout=30)
        kill_pid(pid, timeout=20)
        # containerd, shims and anything else dockerd left behind in our directories: by PID.
        for stray in pids_referencing(p["base"]):
            kill_pid(stray, timeout=5)
        mounts = []
        with contextlib.suppress(OSError), open("/proc/self/mounts") as f:
            mounts = [line.split()[1] for line in f if line.split()[1].startswith(p["base"] + "/")]
        for m in sorted(mounts, key=len, reverse=True):
            subprocess.run(["umount", "-l", m], check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # Swarm's docker_gwbridge interface outlives dockerd; remove it unless another dockerd may use it.
        if os.path.exists("/sys/class/net/docker_gwbridge") and not any_dockerd_running():
            subprocess.run(["ip", "link", "delete", "docker_gwbridge"], check=False, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)


def any_dockerd_running():
    for pid in os.listdir("/proc"):
        if pid.isdigit() and pid_alive(int(pid)):
            with contextlib.suppress(OSError), open("/proc/%s/comm" % pid) as f:
                if f.read().strip() == "dockerd":
                    return True
    return False


def udp_wildcard_bound(port):
    """Whether something is bound to 0.0.0.0:port (UDP), e.g. a kernel VXLAN socket."""
    with contextlib.suppress(OSError), open("/proc/net/udp") as f:
        return any(line.split()[1] == "00000000:%04X" % port for line in list(f)[1:])
    return False


def pids_referencing(path):
    """PIDs whose command line mentions ``path`` (our run dir), never our own."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        with contextlib.suppress(OSError):
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                if path.encode() in f.read():
                    found.append(int(pid))
    return found


def busybox_rootfs_tar():
    """A minimal root filesystem: Debian's static busybox and a few applet links."""
    src = "/bin/busybox"
    if not os.path.exists(src):
        raise HarnessError("/bin/busybox missing: apt-get install busybox-static")
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for d in ("bin", "etc", "tmp", "run", "proc", "sys", "dev"):
            ti = tarfile.TarInfo(d)
            ti.type, ti.mode = tarfile.DIRTYPE, 0o1777 if d == "tmp" else 0o755
            tar.addfile(ti)
        tar.add(src, arcname="bin/busybox")
        for applet in ("sh", "cat", "ls", "sleep", "echo", "env", "test"):
            ti = tarfile.TarInfo("bin/" + applet)
            ti.type, ti.linkname, ti.mode = tarfile.SYMTYPE, "busybox", 0o777
            tar.addfile(ti)
        for fname, text in (("etc/passwd", "root:x:0:0:root:/:/bin/sh\n"), ("etc/group", "root:x:0:\n")):
            data = text.encode()
            ti = tarfile.TarInfo(fname)
            ti.size, ti.mode = len(data), 0o644
            tar.addfile(ti, io.BytesIO(data))
    return buf.getvalue()
