# -*- coding: utf-8 -*-
"""``Harness``: starts services on demand, records them in ``servers.json``, stops what it started."""
import atexit
import contextlib
import fcntl
import json
import os
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from tests.harness.servers.cloud import CloudServers
from tests.harness.servers.common import READY_TIMEOUT, SERVICES, HarnessError, kill_pid, pid_alive, tail
from tests.harness.servers.databases import DatabaseServers
from tests.harness.servers.docker import DockerServer
from tests.harness.servers.openbao import OpenBaoServers
from tests.harness.servers.pass_store import PassStore


class Harness(OpenBaoServers, CloudServers, DatabaseServers, PassStore, DockerServer):
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
