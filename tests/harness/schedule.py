"""pytest plugin: how a run with pytest-xdist (``make pytest``, ``make check``: ``-n 2 --dist loadgroup``) spreads
the tests over its workers.

- **A test file is one unit of work.** Its tests run in one worker, in file order, so module fixtures are set up
  once and no test depends on a neighbour that ran elsewhere. A test that carries ``xdist_group`` keeps its group
  instead: every test that starts the harness dockerd is in the ``swarm`` group (only one swarm can exist per host;
  tests/harness/conftest_plugin.py refuses to start dockerd for a test outside it).
- **Longest units first** (LPT), so the run does not end with one worker busy on a long file while the other
  idles. A unit's weight is the sum of its tests' durations in the last runs (kept in pytest's cache under
  ``agentarea/durations``, written by every run that has a cache), or a guess for a test never timed. The
  controller reads the weights once and hands them to every worker, so all workers order the tests the same way
  (xdist refuses workers whose collections differ). Pass ``--no-loadscope-reorder``: xdist would otherwise order
  units by their number of tests.
"""

import os

import pytest

CACHE_KEY = "agentarea/durations"
SWARM_GROUP = "swarm"
# Guesses for a test with no recorded duration (seconds): an integration test drives ansible-playbook.
GUESS_INTEGRATION = 6.0
GUESS_UNIT = 0.05
# What the heaviest units took in a full run from a clean clone (seconds, 2 workers, this machine; rounded): the order
# of a run with no recorded durations. Only the order depends on it; update it when a unit grows much.
UNIT_SECONDS = {
    "tests/integration/test_fleet_ssh.py": 550,
    "tests/integration/test_k8s_secret.py": 550,
    "swarm": 450,
    "tests/integration/test_rotate.py": 400,
    "tests/integration/test_awx.py": 390,
    "tests/integration/test_k8s.py": 330,
    "tests/integration/test_molecule.py": 240,
    "tests/integration/test_vault.py": 160,
    "tests/integration/test_access_hygiene.py": 145,
    # the fault suite (make faults)
    "tests/integration/test_faults_vault.py": 310,
    "tests/integration/test_faults_fleet.py": 300,
    "tests/integration/test_rotation_faults.py": 140,
}


def plain_nodeid(nodeid):
    """The node id without the ``@group`` suffix xdist's loadgroup mode adds in the workers."""
    at, bracket = nodeid.rfind("@"), nodeid.rfind("]")
    return nodeid[:at] if at > bracket else nodeid


def group_of(item):
    for mark in item.iter_markers("xdist_group"):
        return str(mark.args[0] if mark.args else mark.kwargs.get("name", "default"))
    return None


def _guess(item):
    return GUESS_INTEGRATION if "tests/integration/" in item.nodeid.replace(os.sep, "/") else GUESS_UNIT


def _weights(config):
    if hasattr(config, "workerinput"):
        return config.workerinput.get("agentarea_durations") or {}
    cache = getattr(config, "cache", None)
    return (cache.get(CACHE_KEY, {}) if cache is not None else {}) or {}


def longest_first(items, known):
    """``items`` reordered by unit (``xdist_group``), the heaviest unit first; a unit keeps its tests' order. A unit
    none of whose tests has a recorded duration (a clean clone, as CI runs it) weighs what UNIT_SECONDS says."""
    weight, first, timed = {}, {}, set()
    for index, item in enumerate(items):
        unit = group_of(item)
        if item.nodeid in known:
            timed.add(unit)
        weight[unit] = weight.get(unit, 0.0) + float(known.get(item.nodeid, _guess(item)))
        first.setdefault(unit, index)
    for unit in weight:
        if unit not in timed and unit in UNIT_SECONDS:
            weight[unit] = float(UNIT_SECONDS[unit])
    rank = {id(item): (-weight[group_of(item)], first[group_of(item)], index) for index, item in enumerate(items)}
    return sorted(items, key=lambda item: rank[id(item)])


@pytest.hookimpl(tryfirst=True)  # before xdist reads the xdist_group marks
def pytest_collection_modifyitems(config, items):
    for item in items:
        if group_of(item) is None:
            item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::", 1)[0]))
    if hasattr(config, "workerinput"):  # a serial run (or xdist's controller) keeps pytest's order
        items[:] = longest_first(items, _weights(config))


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_node_collection_finished(node, ids):
    """xdist's controller: refuse to run when loadgroup mode had no effect. It would then spread a group over all
    workers and start two swarms (pytest 9.2 broke it silently: pytest-dev/pytest-xdist#1386)."""
    if node.config.getvalue("dist") != "loadgroup":
        return
    ungrouped = [nodeid for nodeid in ids if plain_nodeid(nodeid) == nodeid]
    if ungrouped:
        message = ("pytest-xdist --dist loadgroup did not group %s (pytest %s): the Docker swarm tests would run in "
                   "several workers. Use the pytest version tests/requirements.txt pins, or PYTEST_WORKERS=0."
                   % (ungrouped[0], pytest.__version__))
        node.config.get_terminal_writer().line(message, red=True)
        pytest.exit(message, returncode=pytest.ExitCode.USAGE_ERROR)


@pytest.hookimpl(optionalhook=True)
def pytest_configure_node(node):
    """xdist's controller, once per worker: the same recorded durations for every worker."""
    node.workerinput["agentarea_durations"] = _weights(node.config)


class DurationRecorder:
    """Sums setup, call and teardown per test and merges them into the cache at the end of the run."""

    def __init__(self, config):
        self.config = config
        self.durations = {}

    def pytest_runtest_logreport(self, report):
        nodeid = plain_nodeid(report.nodeid)
        self.durations[nodeid] = self.durations.get(nodeid, 0.0) + report.duration

    def pytest_sessionfinish(self, session):
        cache = getattr(self.config, "cache", None)
        if cache is None or not self.durations:
            return
        merged = dict(cache.get(CACHE_KEY, {}) or {})
        merged.update({k: round(v, 3) for k, v in self.durations.items()})
        root = str(self.config.rootpath)
        # forget tests whose file is gone
        merged = {k: v for k, v in merged.items() if os.path.exists(os.path.join(root, k.split("::", 1)[0]))}
        cache.set(CACHE_KEY, merged)


def pytest_configure(config):
    config.addinivalue_line("markers", "xdist_group(name): run these tests in one pytest-xdist worker")
    if not hasattr(config, "workerinput"):  # the controller (or a serial run) sees every report
        config.pluginmanager.register(DurationRecorder(config), "agentarea-durations")
