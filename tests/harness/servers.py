"""Start and stop the real servers (and our two fakes) that the integration tests run against.

Library::

    h = Harness("/tmp/run")          # attaches to services already listed in /tmp/run/servers.json
    info = h.start("vault")           # idempotent; returns the endpoint dict
    h.stop_all()                      # stops what this Harness started (also registered with atexit)

CLI::

    python tests/harness/servers.py start --run-dir D vault redis ...   # prints JSON, leaves them running
    python tests/harness/servers.py stop --run-dir D                    # stops everything listed in D

Every service binds to 127.0.0.1 on a port chosen free at start. ``D/servers.json`` maps each started
service to its endpoint dict, so other processes (ansible-playbook runs, a second pytest) can read it.
Each dict also carries ``pid`` (when there is a long-running process) and ``env``: the variables a
client or an Ansible run would set to reach the service.
"""

import argparse
import atexit
import contextlib
import datetime
import fcntl
import glob
import io
import json
import os
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tarfile
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.dirname(HERE)
FAKES = os.path.join(TESTS, "fakes")
BIN_DIRS = [os.path.dirname(sys.executable), "/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin",
            "/sbin", "/bin"] + sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)

SERVICES = ("vault", "vault_tls", "aws", "aws_iam", "gcp", "azure", "k8s", "postgres", "mysql", "redis",
            "docker", "pass")
READY_TIMEOUT = 30.0
SWARM_GOSSIP_PORT = 7946
DOCKER_IMAGE = "local/busybox:1"
GCP_PROJECT = "agentarea-test"
AWS_IAM_INITIAL_NO_AUTH = 4


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


class Harness:
    """Starts services on demand in ``run_dir`` and records them in ``run_dir/servers.json``.

    Services listed in an existing servers.json whose process is still alive are reused, not restarted;
    ``stop_all()`` stops only what this instance started unless ``everything=True`` (the CLI ``stop``).
    """

    def __init__(self, run_dir, rollout_delay=0.5):
        self.run_dir = os.path.abspath(run_dir)
        os.makedirs(self.run_dir, exist_ok=True)
        # Other OS users (postgres, mysql) must traverse it; nothing secret is world-readable inside.
        os.chmod(self.run_dir, 0o711)
        self.rollout_delay = rollout_delay
        self.services = {}
        self.owned = set()
        self._procs = {}
        self._lock = threading.RLock()
        self._name_locks = {name: threading.Lock() for name in SERVICES}
        self._load()
        atexit.register(self.stop_all)

    # --- bookkeeping -------------------------------------------------------------------------------
    def path(self, *parts):
        return os.path.join(self.run_dir, *parts)

    @property
    def json_path(self):
        return self.path("servers.json")

    @contextlib.contextmanager
    def _file_lock(self):
        with open(self.path(".servers.lock"), "a") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)

    def _read_json(self):
        try:
            with open(self.json_path) as f:
                return json.load(f)
        except (OSError, ValueError):
            return {}

    def _load(self):
        for name, info in self._read_json().items():
            if name in SERVICES and (not info.get("pid") or pid_alive(info["pid"])):
                self.services[name] = info

    def _save(self, name, info=None):
        with self._lock, self._file_lock():
            data = self._read_json()
            if info is None:
                data.pop(name, None)
            else:
                data[name] = info
            tmp = self.json_path + ".tmp"
            with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
                json.dump(data, f, indent=2, sort_keys=True)
            os.replace(tmp, self.json_path)

    def _spawn(self, name, cmd, env=None, log=None):
        log = log or self.path(name + ".log")
        full_env = dict(os.environ)
        full_env.update(env or {})
        with open(log, "ab") as out:
            proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                    env=full_env, cwd=self.run_dir, start_new_session=True)
        self._procs[name] = proc
        self._write_pid(name, proc.pid)
        return proc

    def _write_pid(self, name, pid):
        with open(self.path(name + ".pid"), "w") as f:
            f.write("%d\n" % pid)

    def _wait(self, name, check, log, proc=None, timeout=READY_TIMEOUT):
        deadline = time.monotonic() + timeout
        delay = 0.02
        while time.monotonic() < deadline:
            if check():
                return
            if proc is not None and proc.poll() is not None:
                raise HarnessError("%s exited with %s before it was ready; log %s:\n%s"
                                   % (name, proc.returncode, log, tail(log)))
            time.sleep(delay)
            delay = min(delay * 1.5, 0.25)
        raise HarnessError("%s was not ready after %.0f s; log %s:\n%s" % (name, timeout, log, tail(log)))

    # --- public API -------------------------------------------------------------------------------
    def start(self, name):
        """Start ``name`` unless it already runs; return its endpoint dict."""
        if name not in SERVICES:
            raise HarnessError("unknown service %r (known: %s)" % (name, ", ".join(SERVICES)))
        with self._name_locks[name]:
            if name in self.services:
                return self.services[name]
            t0 = time.monotonic()
            try:
                info = getattr(self, "_start_" + name)()
            except BaseException:
                with contextlib.suppress(Exception):  # clean up the half-started service
                    self._stop_one(name, {})
                raise
            info["started_in"] = round(time.monotonic() - t0, 3)
            self.services[name] = info
            self.owned.add(name)
            self._save(name, info)
            return info

    def start_many(self, names):
        """Start several services in parallel (the slow ones overlap); return {name: info}."""
        with ThreadPoolExecutor(max_workers=max(1, len(names))) as pool:
            futures = {n: pool.submit(self.start, n) for n in names}
        errors = [str(f.exception()) for f in futures.values() if f.exception()]
        if errors:
            raise HarnessError("\n\n".join(errors))
        return {n: f.result() for n, f in futures.items()}

    def info(self, name):
        return self.services[name]

    def stop_all(self, everything=False):
        """Stop what this Harness started (``everything``: all services recorded in run_dir).

        Best effort: every service is attempted even when one of them fails.
        """
        with self._lock:
            recorded = self._read_json()
            names = set(recorded) | set(self.services) if everything else set(self.owned)
            if everything:
                names |= {f[:-4] for f in os.listdir(self.run_dir) if f.endswith(".pid") and f[:-4] in SERVICES}
                names |= {n for n in ("pass", "postgres", "docker") if os.path.isdir(self.path(n))}
            errors = []
            # Docker first (containers may use other services), pass last (gpg-agent).
            order = sorted(names, key=lambda n: (n != "docker", n == "pass", n))
            for name in order:
                try:
                    self._stop_one(name, self.services.get(name) or recorded.get(name) or {})
                except Exception as e:  # keep going: stop everything we can
                    errors.append("%s: %s" % (name, e))
                self.services.pop(name, None)
                self.owned.discard(name)
                with contextlib.suppress(Exception):
                    self._save(name, None)
            if errors:
                sys.stderr.write("harness: errors while stopping:\n  %s\n" % "\n  ".join(errors))

    def _pid_of(self, name, info):
        pid = info.get("pid")
        if not pid:
            with contextlib.suppress(OSError, ValueError):
                with open(self.path(name + ".pid")) as f:
                    pid = int(f.read().split()[0])
        return pid

    def _stop_one(self, name, info):
        stopper = getattr(self, "_stop_" + name, None)
        if stopper:
            stopper(info)
        else:
            kill_pid(self._pid_of(name, info))
        proc = self._procs.pop(name, None)
        if proc is not None:
            kill_pid(proc.pid)
            with contextlib.suppress(Exception):
                proc.wait(timeout=5)
        with contextlib.suppress(OSError):
            os.unlink(self.path(name + ".pid"))

    # --- OpenBao --------------------------------------------------------------------------------
    def _start_bao(self, name, tls):
        port = free_port(also_next=True)
        audit = self.path(name + "-audit.log") if tls else self.path("bao-audit.log")
        hcl = self.path(name + ".hcl")
        with open(hcl, "w") as f:
            f.write('audit "file" "file" {\n  options { file_path = %s }\n}\n' % json.dumps(audit))
        cmd = [which("bao"), "server", "-dev", "-dev-no-store-token", "-dev-root-token-id=root-token",
               "-dev-listen-address=127.0.0.1:%d" % port, "-config=" + hcl]
        ca = None
        if tls:
            cert_dir = self.path(name + "-certs")
            os.makedirs(cert_dir, mode=0o700, exist_ok=True)
            cmd += ["-dev-tls", "-dev-tls-cert-dir=" + cert_dir]
            ca = os.path.join(cert_dir, "vault-ca.pem")
        # HOME=run_dir: the root token must never reach the developer's ~/.vault-token.
        env = {"HOME": self.run_dir, "VAULT_ADDR": "", "VAULT_TOKEN": "", "BAO_ADDR": "", "BAO_TOKEN": ""}
        proc = self._spawn(name, cmd, env=env)
        url = "%s://127.0.0.1:%d" % ("https" if tls else "http", port)
        log = self.path(name + ".log")
        self._wait(name, lambda: (not tls or os.path.exists(ca)) and http_ok(url + "/v1/sys/health", cafile=ca),
                   log, proc)
        info = {"url": url, "token": "root-token", "audit_log": audit, "pid": proc.pid, "log": log,
                "env": {"VAULT_ADDR": url, "VAULT_TOKEN": "root-token"}}
        if tls:
            info["ca_cert"] = ca
            info["env"]["VAULT_CACERT"] = ca
        return info

    def _start_vault(self):
        return self._start_bao("vault", tls=False)

    def _start_vault_tls(self):
        return self._start_bao("vault_tls", tls=True)

    # --- moto -----------------------------------------------------------------------------------
    def _start_moto(self, name, initial_no_auth=None):
        port = free_port()
        env = {"MOTO_PORT": str(port)}
        if initial_no_auth is not None:
            env["INITIAL_NO_AUTH_ACTION_COUNT"] = str(initial_no_auth)
        proc = self._spawn(name, [which("moto_server"), "-H", "127.0.0.1", "-p", str(port)], env=env)
        url = "http://127.0.0.1:%d" % port
        log = self.path(name + ".log")
        self._wait(name, lambda: http_ok(url + "/moto-api/"), log, proc)
        info = {"url": url, "region": "us-east-1", "access_key": "testing", "secret_key": "testing",
                "pid": proc.pid, "log": log,
                "env": {"AWS_ENDPOINT_URL": url, "AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1",
                        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}}
        if initial_no_auth is not None:
            info["initial_no_auth"] = initial_no_auth
        return info

    def _start_aws(self):
        return self._start_moto("aws")

    def _start_aws_iam(self):
        return self._start_moto("aws_iam", initial_no_auth=AWS_IAM_INITIAL_NO_AUTH)

    # --- drongo ---------------------------------------------------------------------------------
    def _start_gcp(self):
        port = free_port()
        proc = self._spawn("gcp", [which("drongo"), "server", "--host", "127.0.0.1", "--port", str(port)])
        url = "http://127.0.0.1:%d" % port
        log = self.path("gcp.log")
        self._wait("gcp", lambda: http_ok(url + "/drongo/health"), log, proc)
        return {"url": url, "project": GCP_PROJECT, "pid": proc.pid, "log": log,
                "env": {"GOOGLE_CLOUD_PROJECT": GCP_PROJECT}}

    # --- our fakes ------------------------------------------------------------------------------
    def _start_fake(self, name, script, args, scheme, cafile=None, check_path="/"):
        port_file = self.path(name + ".port")
        with contextlib.suppress(OSError):
            os.unlink(port_file)
        cmd = [sys.executable, os.path.join(FAKES, script), "--port", "0", "--port-file", port_file] + args
        proc = self._spawn(name, cmd)
        log = self.path(name + ".log")
        self._wait(name, lambda: os.path.exists(port_file), log, proc)
        with open(port_file) as f:
            port = int(f.read())
        url = "%s://127.0.0.1:%d" % (scheme, port)
        self._wait(name, lambda: http_ok(url + check_path, cafile=cafile, any_status=True), log, proc)
        return url, proc, log

    def _start_azure(self):
        cert_dir = self.path("azure-certs")
        ca, cert, key = make_tls_chain(cert_dir)
        url, proc, log = self._start_fake("azure", "azure_keyvault.py", ["--cert", cert, "--key", key], "https",
                                          cafile=ca)
        return {"url": url, "ca_cert": ca, "pid": proc.pid, "log": log,
                "env": {"AZURE_KEYVAULT_URL": url, "REQUESTS_CA_BUNDLE": ca}}

    def _start_k8s(self):
        token = "k8s-" + secrets.token_hex(16)
        url, proc, log = self._start_fake("k8s", "kube",
                                          ["--token", token, "--rollout-delay", str(self.rollout_delay)], "http",
                                          check_path="/version")
        kubeconfig = self.path("kubeconfig")
        config = {"apiVersion": "v1", "kind": "Config", "preferences": {},
                  "clusters": [{"name": "fake", "cluster": {"server": url}}],
                  "users": [{"name": "fake-admin", "user": {"token": token}}],
                  "contexts": [{"name": "fake", "context": {"cluster": "fake", "user": "fake-admin"}}],
                  "current-context": "fake"}
        with open(os.open(kubeconfig, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
            json.dump(config, f, indent=2)  # JSON is valid YAML
        return {"url": url, "token": token, "kubeconfig": kubeconfig, "namespaces": ["default", "agentarea"],
                "pid": proc.pid, "log": log, "env": {"KUBECONFIG": kubeconfig, "K8S_AUTH_KUBECONFIG": kubeconfig}}

    # --- PostgreSQL -----------------------------------------------------------------------------
    def _start_postgres(self):
        base = self.path("postgres")
        data = os.path.join(base, "data")
        os.makedirs(base, mode=0o700, exist_ok=True)
        password = secrets.token_urlsafe(16)
        pwfile = os.path.join(base, "pw")
        with open(pwfile, "w") as f:
            f.write(password)
        shutil.chown(base, "postgres", "postgres")
        shutil.chown(pwfile, "postgres", "postgres")
        os.chmod(base, 0o700)
        as_pg = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        run(as_pg + [which("initdb"), "-D", data, "-U", "postgres", "--auth-host=scram-sha-256",
                     "--auth-local=peer", "--pwfile=" + pwfile, "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"])
        os.unlink(pwfile)
        port = free_port()
        log = os.path.join(base, "postgres.log")
        opts = ("-c listen_addresses=127.0.0.1 -p %d -k %s -c fsync=off -c full_page_writes=off "
                "-c synchronous_commit=off -c max_connections=50" % (port, base))
        try:
            run(as_pg + [which("pg_ctl"), "-D", data, "-l", log, "-w", "-t", str(int(READY_TIMEOUT)), "-o", opts,
                         "start"])
        except HarnessError as e:
            raise HarnessError("%s\nserver log %s:\n%s" % (e, log, tail(log))) from None
        with open(os.path.join(data, "postmaster.pid")) as f:
            pid = int(f.readline())
        self._write_pid("postgres", pid)
        return {"host": "127.0.0.1", "port": port, "user": "postgres", "password": password, "database": "postgres",
                "socket_dir": base, "pid": pid, "log": log,
                "env": {"PGHOST": "127.0.0.1", "PGPORT": str(port), "PGUSER": "postgres", "PGPASSWORD": password}}

    def _stop_postgres(self, info):
        data = self.path("postgres", "data")
        if os.path.exists(os.path.join(data, "postmaster.pid")):
            as_pg = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
            run(as_pg + [which("pg_ctl"), "-D", data, "-m", "fast", "-w", "stop"], check=False)
        kill_pid(self._pid_of("postgres", info))

    # --- MariaDB --------------------------------------------------------------------------------
    def _start_mysql(self):
        base = self.path("mysql")
        data = os.path.join(base, "data")
        os.makedirs(data, exist_ok=True)
        os.chmod(base, 0o700)
        if os.geteuid() == 0:  # mariadbd (as mysql) writes its socket, pid file and log here
            shutil.chown(base, "mysql", "mysql")
            shutil.chown(data, "mysql", "mysql")
        user_opt = ["--user=mysql"] if os.geteuid() == 0 else []
        common = ["--no-defaults"] + user_opt + ["--datadir=" + data]
        run([which("mariadb-install-db")] + common + ["--auth-root-authentication-method=socket",
                                                      "--skip-test-db", "--skip-name-resolve"])
        password = secrets.token_urlsafe(16)
        init = os.path.join(base, "init.sql")
        with open(init, "w") as f:
            f.write("ALTER USER 'root'@'localhost' IDENTIFIED VIA unix_socket OR mysql_native_password "
                    "USING PASSWORD('{pw}');\n"
                    "CREATE USER IF NOT EXISTS 'root'@'127.0.0.1' IDENTIFIED BY '{pw}';\n"
                    "GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;\n"
                    "FLUSH PRIVILEGES;\n".format(pw=password))
        if os.geteuid() == 0:
            shutil.chown(init, "mysql", "mysql")
        os.chmod(init, 0o600)
        port = free_port()
        sock = os.path.join(base, "mysqld.sock")
        log = os.path.join(base, "mysqld.log")
        cmd = [which("mariadbd")] + common + [
            "--bind-address=127.0.0.1", "--port=%d" % port, "--socket=" + sock, "--pid-file=" + os.path.join(
                base, "mysqld.pid"), "--log-error=" + log, "--init-file=" + init, "--skip-name-resolve",
            "--skip-log-bin", "--performance-schema=OFF", "--innodb-buffer-pool-size=32M",
            "--innodb-log-file-size=16M", "--innodb-flush-log-at-trx-commit=0", "--innodb-doublewrite=0",
            "--skip-external-locking", "--max-connections=50"]
        proc = self._spawn("mysql", cmd)
        # The handshake comes once the init file has run.
        self._wait("mysql", lambda: tcp_banner(port, expect=b"mysql_native_password"), log, proc)
        os.unlink(init)
        return {"host": "127.0.0.1", "port": port, "user": "root", "password": password, "socket": sock,
                "pid": proc.pid, "log": log}

    # --- Redis ----------------------------------------------------------------------------------
    def _start_redis(self):
        port = free_port()
        password = secrets.token_urlsafe(16)
        conf = self.path("redis.conf")
        with open(os.open(conf, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w") as f:
            # A config file keeps the password off the command line (ps).
            f.write("bind 127.0.0.1\nport %d\ndir %s\nsave \"\"\nappendonly no\nrequirepass %s\n"
                    "daemonize no\nprotected-mode yes\n" % (port, self.run_dir, password))
        proc = self._spawn("redis", [which("redis-server"), conf])
        log = self.path("redis.log")
        probe = b"AUTH %s\r\nPING\r\n" % password.encode()
        self._wait("redis", lambda: tcp_banner(port, send=probe, expect=b"+PONG"), log, proc)
        return {"host": "127.0.0.1", "port": port, "password": password, "pid": proc.pid, "log": log}

    # --- pass + GnuPG ---------------------------------------------------------------------------
    def _start_pass(self):
        base = self.path("pass")
        gnupghome = os.path.join(base, "gnupg")
        store = os.path.join(base, "store")
        os.makedirs(gnupghome, mode=0o700, exist_ok=True)
        os.chmod(base, 0o700)
        os.chmod(gnupghome, 0o700)
        env = dict(os.environ, GNUPGHOME=gnupghome, PASSWORD_STORE_DIR=store, HOME=base)
        gpg = [which("gpg"), "--batch", "--pinentry-mode", "loopback", "--passphrase", ""]
        uid = "agentarea test <pass@agentarea.invalid>"
        run(gpg + ["--quick-generate-key", uid, "ed25519", "cert,sign", "never"], env=env)
        out = run([which("gpg"), "--batch", "--with-colons", "--list-keys", "pass@agentarea.invalid"], env=env)
        fpr = next(line.split(":")[9] for line in out.splitlines() if line.startswith("fpr:"))
        run(gpg + ["--quick-add-key", fpr, "cv25519", "encrypt", "never"], env=env)
        run([which("pass"), "init", fpr], env=env)
        return {"gnupghome": gnupghome, "store_dir": store, "key_id": fpr,
                "env": {"GNUPGHOME": gnupghome, "PASSWORD_STORE_DIR": store}}

    def _stop_pass(self, info):
        gnupghome = info.get("gnupghome") or self.path("pass", "gnupg")
        if os.path.isdir(gnupghome):
            run([which("gpgconf"), "--kill", "all"], env=dict(os.environ, GNUPGHOME=gnupghome), check=False)

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
                                                             os.path.abspath(__file__), other, other))
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


def make_tls_chain(cert_dir):
    """A throwaway CA and a server certificate for 127.0.0.1/localhost; returns (ca, cert, key) paths."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    os.makedirs(cert_dir, mode=0o700, exist_ok=True)
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "agentarea test CA")])
    ca_ski = x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key())
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
          .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
          .not_valid_after(now + datetime.timedelta(days=2))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
          .add_extension(ca_ski, critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(ca_ski), critical=False)
            .sign(ca_key, hashes.SHA256()))
    paths = tuple(os.path.join(cert_dir, n) for n in ("ca.crt", "server.crt", "server.key"))
    with open(paths[0], "wb") as f:
        f.write(ca.public_bytes(serialization.Encoding.PEM))
    with open(paths[1], "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(os.open(paths[2], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))
    return paths


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    p_start = sub.add_parser("start", help="start services and leave them running; prints servers.json")
    p_start.add_argument("--run-dir", required=True)
    p_start.add_argument("services", nargs="*", help="default: all except vault_tls and aws_iam")
    p_stop = sub.add_parser("stop", help="stop every service recorded in the run dir")
    p_stop.add_argument("--run-dir", required=True)
    args = parser.parse_args(argv)
    h = Harness(args.run_dir)
    atexit.unregister(h.stop_all)
    if args.cmd == "stop":
        h.stop_all(everything=True)
        return 0
    names = args.services or [s for s in SERVICES if s not in ("vault_tls", "aws_iam")]
    t0 = time.monotonic()
    try:
        h.start_many(names)
    except HarnessError as e:
        sys.stderr.write("%s\n" % e)
        h.stop_all()
        return 1
    json.dump({n: h.services[n] for n in names}, sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")
    sys.stderr.write("started %s in %.2f s; stop with: %s %s stop --run-dir %s\n"
                     % (", ".join(names), time.monotonic() - t0, sys.executable, os.path.relpath(__file__),
                        h.run_dir))
    return 0


if __name__ == "__main__":
    sys.exit(main())
