"""pytest plugin: one ``Harness`` per test session, services started lazily, all stopped at the end.

Load it from the top-level tests/conftest.py with ``pytest_plugins = ["tests.harness.conftest_plugin"]``
(a test module may name it too: pytest registers a plugin once).

    def test_x(harness):
        vault = harness.start("vault")        # {"url": ..., "token": ..., "audit_log": ..., "env": {...}}

Under pytest-xdist every worker is a session of its own: it has its own run dir and servers (on free ports), so
workers share nothing but dockerd's swarm, of which only one can exist per host. A test that starts ``docker``
must therefore carry ``@pytest.mark.xdist_group("swarm")`` (all of them then run in one worker); the harness
refuses to start dockerd for a test without it, in serial runs too, so a new Docker test cannot slip through.

Environment:
- ``AGENTAREA_HARNESS_RUN_DIR=D``: use D as the run dir. Services already running there (``servers start
  --run-dir D ...``) are reused and left running; services this session starts are stopped at its end. An
  xdist worker reuses those of D too, but starts its own in ``D/<worker id>``, so two workers never write the
  same files.
  Without it a temporary dir is used, removed at the end unless a test failed (then its path is printed,
  with the server logs inside).
"""

import os
import shutil
import tempfile

import pytest

from tests.harness.schedule import SWARM_GROUP, group_of
from tests.harness.servers import Harness, HarnessError


CURRENT_TEST = pytest.StashKey()


class SessionHarness(Harness):
    """The session's harness; knows the running test, to keep dockerd to the ``swarm`` group."""

    config = None

    def start(self, name):
        item = self.config.stash.get(CURRENT_TEST, None) if self.config is not None else None
        if name == "docker" and name not in self.services and item is not None and group_of(item) != SWARM_GROUP:
            raise HarnessError(
                "%s starts dockerd but is not in the %r xdist group: only one swarm can exist per host, so every "
                "test that uses Docker must run in one pytest-xdist worker. Mark it (or its module: pytestmark = "
                "pytest.mark.xdist_group(%r))." % (item.nodeid, SWARM_GROUP, SWARM_GROUP))
        return super().start(name)


def pytest_configure(config):
    config.addinivalue_line("markers", "integration: runs against real servers from the harness")


def _worker_id(config):
    return getattr(config, "workerinput", {}).get("workerid")


@pytest.fixture(scope="session")
def harness(request):
    run_dir = os.environ.get("AGENTAREA_HARNESS_RUN_DIR")
    keep = bool(run_dir)
    shared = None
    if run_dir and _worker_id(request.config):
        shared = Harness(run_dir)  # only to read what already runs there; it owns nothing
        run_dir = os.path.join(run_dir, _worker_id(request.config))
    if not run_dir:
        # Not tmp_path_factory: its parent is 0700, and the postgres/mysql OS users must reach the run dir;
        # short paths also keep unix sockets under the 108-byte limit.
        run_dir = tempfile.mkdtemp(prefix="aa-harness-")
    h = SessionHarness(run_dir)
    if shared is not None:
        for name, info in shared.services.items():
            h.services.setdefault(name, info)
    h.config = request.config
    try:
        yield h
    finally:
        h.stop_all()
        if keep or request.session.testsfailed:
            print("\nharness run dir (logs): %s" % run_dir)
        else:
            shutil.rmtree(run_dir, ignore_errors=True)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    item.config.stash[CURRENT_TEST] = item
