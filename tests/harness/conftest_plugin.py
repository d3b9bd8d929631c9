"""pytest plugin: one ``Harness`` per test session, services started lazily, all stopped at the end.

Load it from the top-level tests/conftest.py with ``pytest_plugins = ["tests.harness.conftest_plugin"]``
(a test module may name it too: pytest registers a plugin once).

    def test_x(harness):
        vault = harness.start("vault")        # {"url": ..., "token": ..., "audit_log": ..., "env": {...}}

Environment:
- ``AGENTAREA_HARNESS_RUN_DIR=D``: use D as the run dir. Services already running there (``servers.py start
  --run-dir D ...``) are reused and left running; services this session starts are stopped at its end.
  Without it a temporary dir is used, removed at the end unless a test failed (then its path is printed,
  with the server logs inside).
"""

import os
import shutil
import tempfile

import pytest

from tests.harness.servers import Harness


def pytest_configure(config):
    config.addinivalue_line("markers", "integration: runs against real servers from the harness")


@pytest.fixture(scope="session")
def harness(request):
    run_dir = os.environ.get("AGENTAREA_HARNESS_RUN_DIR")
    keep = bool(run_dir)
    if not run_dir:
        # Not tmp_path_factory: its parent is 0700, and the postgres/mysql OS users must reach the run dir;
        # short paths also keep unix sockets under the 108-byte limit.
        run_dir = tempfile.mkdtemp(prefix="aa-harness-")
    h = Harness(run_dir)
    try:
        yield h
    finally:
        h.stop_all()
        if keep or request.session.testsfailed:
            print("\nharness run dir (logs): %s" % run_dir)
        else:
            shutil.rmtree(run_dir, ignore_errors=True)
