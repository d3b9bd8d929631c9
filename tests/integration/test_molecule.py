# -*- coding: utf-8 -*-
"""Every molecule scenario of the roles (``extensions/molecule/<name>/molecule.yml``) through ``molecule test -s
<name>``: create, converge, idempotence, verify, destroy on localhost, with local stores and consumers only.

Each scenario runs with a private HOME (so molecule's ephemeral directory, ``~/.ansible`` and the fingerprint key
are the test's own) and a temporary collections path holding a link to this working tree; the scenarios set
``prerun: false``, so molecule installs no copy of the collection that could shadow it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.harness.ansible_runner import compile_cache_env

REPO = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
SCENARIOS = sorted(p.parent.name for p in (REPO / "extensions" / "molecule").glob("*/molecule.yml"))
TIMEOUT = 600
# environment that would point molecule or ansible elsewhere than this test's own directories
DROPPED = ("ANSIBLE_", "MOLECULE_", "VAULT_", "AWS_", "AZURE_", "GOOGLE_", "KUBECONFIG", "K8S_AUTH_", "AGENTAREA_",
           "DOCKER_HOST", "PY_COLORS", "FORCE_COLOR")


def molecule_env(base: Path) -> dict:
    home = base / "home"
    collections = base / "collections"
    link = collections / "ansible_collections" / "agentarea" / "secrets"
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(REPO)
    for name in ("home", "ansible-tmp", "ansible-remote-tmp", "ansible-async"):
        (base / name).mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(DROPPED)}
    env.update({
        "HOME": str(home),
        "PATH": "%s:%s" % (VENV_BIN, os.environ.get("PATH", "")),
        "ANSIBLE_COLLECTIONS_PATH": str(collections),
        "ANSIBLE_LOCAL_TEMP": str(base / "ansible-tmp"),
        "ANSIBLE_REMOTE_TEMP": str(base / "ansible-remote-tmp"),
        # async_status expands ~ from the password database, the async wrapper from $HOME (ours is private)
        "ANSIBLE_ASYNC_DIR": str(base / "ansible-async"),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORCE_COLOR": "0",
        "NO_COLOR": "1",
        "PYTHONWARNINGS": "ignore",
    })
    env.update(compile_cache_env(pythonpath=env.get("PYTHONPATH")))  # tests/harness/compile_cache
    return env


@pytest.mark.slow
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_molecule_scenario(scenario, tmp_path):
    env = molecule_env(tmp_path)
    cmd = [str(VENV_BIN / "molecule"), "test", "-s", scenario]
    started = time.monotonic()
    try:
        proc = subprocess.run(cmd, cwd=str(REPO), env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True, timeout=TIMEOUT, check=False)
    except subprocess.TimeoutExpired as exc:
        output = exc.stdout.decode("utf-8", "replace") if isinstance(exc.stdout, bytes) else exc.stdout or ""
        pytest.fail("molecule test -s %s did not finish in %ss; last output:\n%s" % (scenario, TIMEOUT, output[-12000:]),
                    pytrace=False)
    output = proc.stdout
    if proc.returncode != 0:
        pytest.fail("molecule test -s %s failed (rc=%s) after %.0fs; last output:\n%s"
                    % (scenario, proc.returncode, time.monotonic() - started, output[-12000:]), pytrace=False)
    # every step of the scenario's test_sequence ran and none was skipped for a missing playbook
    assert "missing=0" in output and "failed=0" in output.split("SCENARIO RECAP")[-1], output[-4000:]


def test_every_role_has_a_scenario():
    roles = sorted(p.name for p in (REPO / "roles").iterdir() if (p / "tasks" / "main.yml").is_file())
    assert roles and set(roles) <= set(SCENARIOS), "roles without a molecule scenario: %s" % (
        sorted(set(roles) - set(SCENARIOS)))
