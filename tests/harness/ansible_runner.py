# -*- coding: utf-8 -*-
"""Run ansible-playbook the way users do, against the collection installed into a temporary collections path,
and check that no canary value appears in anything the run printed or left behind."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
COMPILE_CACHE_SITE = Path(__file__).resolve().parent / "compile_cache"
#: The test session's cache directory for tests/harness/compile_cache (set by the integration tests' conftest; None
#: turns it off): Ansible's module packaging and the modules' zip imports, cached for every run the tests start.
COMPILE_CACHE = None


def compile_cache_env(cache=None, pythonpath=None):
    """The environment that lets an ``ansible-playbook`` run (and the modules it runs on localhost) use the compile
    caches of tests/harness/compile_cache; ``pythonpath`` is the run's own PYTHONPATH, kept in front."""
    cache = cache or COMPILE_CACHE
    if not cache:
        return {}
    return {"AGENTAREA_TEST_COMPILE_CACHE": str(cache),
            "PYTHONPATH": os.pathsep.join(p for p in (pythonpath, str(COMPILE_CACHE_SITE)) if p)}


# The ansible-core under test: this venv's, or the one AGENTAREA_ANSIBLE_BIN names (`make matrix` runs the same
# scenarios with each claimed release line's ansible-playbook); modules on localhost run with that venv's python
# (AGENTAREA_ANSIBLE_PYTHON, else the python beside ansible-playbook).
VENV_BIN = Path(os.environ.get("AGENTAREA_ANSIBLE_BIN") or Path(sys.executable).parent)
ANSIBLE_PYTHON = os.environ.get("AGENTAREA_ANSIBLE_PYTHON") or (
    str(VENV_BIN / "python") if os.environ.get("AGENTAREA_ANSIBLE_BIN") else sys.executable)


def install_collection(dest: Path, link: bool = False) -> Path:
    """Build the collection with ansible-galaxy and install the tarball under ``dest`` (the collections path).
    With ``link`` (AGENTAREA_TEST_LINK=1) the working tree is linked instead, for fast local iterations."""
    target = dest / "ansible_collections" / "agentarea" / "secrets"
    target.parent.mkdir(parents=True, exist_ok=True)
    if link:
        target.symlink_to(REPO)
        return dest
    build = dest / "_build"
    build.mkdir()
    subprocess.run([str(VENV_BIN / "ansible-galaxy"), "collection", "build", str(REPO), "--output-path", str(build)],
                   check=True, capture_output=True, text=True)
    tarball = next(build.glob("agentarea-secrets-*.tar.gz"))
    subprocess.run([str(VENV_BIN / "ansible-galaxy"), "collection", "install", "--offline", "-p", str(dest),
                    str(tarball)], check=True, capture_output=True, text=True)
    return dest


class PlaybookResult:
    def __init__(self, rc, stdout, stderr, results, workdir):
        self.rc, self.stdout, self.stderr, self.results, self.workdir = rc, stdout, stderr, results, workdir

    @property
    def output(self):
        return self.stdout + self.stderr

    def task(self, name, host="localhost"):
        """The result of the last task with this name, as `register:` would hold it."""
        found = [r for r in self.results.get(host, []) if r.get("_task") == name]
        if not found:
            raise KeyError("no result for task %r; tasks: %s" % (name, [r.get("_task") for r in self.results.get(host, [])]))
        return found[-1]

    def __repr__(self):
        return "PlaybookResult(rc=%s)\n--- stdout\n%s\n--- stderr\n%s" % (self.rc, self.stdout[-6000:], self.stderr[-3000:])


class AnsibleRunner:
    """``ansible.playbook(...)`` runs one playbook; ``canaries`` are values that must not appear anywhere."""

    def __init__(self, collections_path: Path, base: Path, compile_cache: Path = None):
        self.collections_path = collections_path
        self.compile_cache = compile_cache or COMPILE_CACHE
        self.base = base
        self.home = base / "home"
        self.home.mkdir(parents=True, exist_ok=True)
        self.fingerprint_key_file = base / "fingerprint.key"
        self.fingerprint_key_file.write_text(os.urandom(16).hex())
        self.count = 0

    def env(self, extra=None, run_cache=True):
        dropped = ("ANSIBLE_", "VAULT_", "AWS_", "AZURE_", "GOOGLE_", "KUBECONFIG", "AGENTAREA_")
        env = {k: v for k, v in os.environ.items() if not k.startswith(dropped)}
        env.update({
            "HOME": str(self.home),
            "PATH": "%s:%s" % (VENV_BIN, os.environ.get("PATH", "")),
            "ANSIBLE_COLLECTIONS_PATH": str(self.collections_path),
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_FORCE_COLOR": "0",
            "ANSIBLE_LOCALHOST_WARNING": "false",
            "ANSIBLE_INVENTORY_UNPARSED_WARNING": "false",
            "ANSIBLE_RETRY_FILES_ENABLED": "false",
            "ANSIBLE_PYTHON_INTERPRETER": ANSIBLE_PYTHON,
            "ANSIBLE_LOCAL_TEMP": str(self.base / "ansible-tmp"),
            "ANSIBLE_REMOTE_TEMP": str(self.base / "ansible-remote-tmp"),
            # async_status expands ~ from the password database, the async wrapper from $HOME (ours is private)
            "ANSIBLE_ASYNC_DIR": str(self.base / "ansible-async"),
            "AGENTAREA_SECRETS_FINGERPRINT_KEY_FILE": str(self.fingerprint_key_file),
            "PYTHONWARNINGS": "ignore",
        })
        env["ANSIBLE_CALLBACK_PLUGINS"] = str(Path(__file__).parent / "callback_plugins")
        env["ANSIBLE_CALLBACKS_ENABLED"] = ("agentarea.secrets.run_cache,record_results" if run_cache
                                            else "record_results")
        env.update({k: str(v) for k, v in (extra or {}).items()})
        env.update(compile_cache_env(self.compile_cache, env.get("PYTHONPATH")))
        return env

    def playbook(self, playbook, extra_vars=None, env=None, check=False, diff=False, verbosity=0, canaries=(),
                 expect_rc=0, run_cache=True, args=(), files=None, timeout=600, allowed_files=()):
        """Run a playbook (YAML text, a list of plays, or a path). ``files`` are written into the run's working
        directory first. ``allowed_files`` are files (relative to it) that may hold the canaries."""
        self.count += 1
        workdir = self.base / ("run%03d" % self.count)
        workdir.mkdir()
        results_file = workdir / "_results.jsonl"
        if isinstance(playbook, (list, dict)):
            text = yaml.safe_dump(playbook if isinstance(playbook, list) else [playbook], sort_keys=False)
        elif isinstance(playbook, (str,)) and "\n" in playbook:
            text = textwrap.dedent(playbook)
        else:
            text = None
        path = Path(playbook) if text is None else workdir / "playbook.yml"
        if text is not None:
            path.write_text(text)
        for name, content in (files or {}).items():
            target = workdir / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(content)
        cmd = [str(VENV_BIN / "ansible-playbook"), "-i", "localhost,", "-c", "local", str(path)]
        if extra_vars:
            vars_file = workdir / "_extra_vars.json"
            vars_file.write_text(json.dumps(extra_vars))
            cmd += ["-e", "@%s" % vars_file]
        if check:
            cmd.append("--check")
        if diff:
            cmd.append("--diff")
        if verbosity:
            cmd.append("-" + "v" * verbosity)
        cmd += list(args)
        run_env = self.env(env, run_cache=run_cache)
        run_env["AGENTAREA_TEST_RESULTS"] = str(results_file)
        run_env["PWD"] = str(workdir)
        proc = subprocess.run(cmd, cwd=str(workdir), env=run_env, capture_output=True, text=True, timeout=timeout,
                              check=False)
        results = {}
        if results_file.exists():
            for line in results_file.read_text().splitlines():
                record = json.loads(line)
                results.setdefault(record["_host"], []).append(record)
        result = PlaybookResult(proc.returncode, proc.stdout, proc.stderr, results, workdir)
        self.assert_no_leak(result, canaries, allowed_files)
        if expect_rc is not None:
            assert proc.returncode == expect_rc, repr(result)
        return result

    def assert_no_leak(self, result, canaries, allowed_files=()):
        canaries = [c for c in canaries if c]
        if not canaries:
            return
        allowed = {str((result.workdir / a).resolve()) for a in allowed_files}
        places = {"stdout": result.stdout, "stderr": result.stderr}
        for root in (result.workdir, self.home, self.base / "ansible-tmp"):
            if not root.is_dir():
                continue
            for dirpath, _dirs, names in os.walk(root):
                for name in names:
                    file_path = Path(dirpath) / name
                    if str(file_path.resolve()) in allowed or name == "_extra_vars.json" or name == "playbook.yml":
                        continue
                    try:
                        places[str(file_path)] = file_path.read_text(errors="replace")
                    except OSError:
                        continue
        for where, text in places.items():
            for canary in canaries:
                assert canary not in text, "canary value leaked into %s:\n%s" % (
                    where, text[max(0, text.find(canary) - 300): text.find(canary) + 300].replace(canary, "<CANARY>"))
