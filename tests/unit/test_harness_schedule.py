# -*- coding: utf-8 -*-
"""How `make test` spreads the suite over pytest-xdist workers (tests/harness/schedule.py), and the harness's rule
that only tests of the ``swarm`` group may start dockerd (tests/harness/conftest_plugin.py)."""
import ast
from pathlib import Path

import pytest

from tests.harness import conftest_plugin, schedule
from tests.harness.servers import HarnessError

INTEGRATION = Path(__file__).resolve().parents[1] / "integration"


class Item:
    def __init__(self, nodeid, group=None):
        self.nodeid = nodeid
        self.marks = [pytest.mark.xdist_group(group).mark] if group else []

    def iter_markers(self, name):
        return iter(m for m in self.marks if m.name == name)

    def __repr__(self):
        return self.nodeid


def test_longest_unit_first_and_each_unit_keeps_its_order():
    items = [Item("tests/unit/test_a.py::t1", "tests/unit/test_a.py"),
             Item("tests/integration/test_b.py::t1", "tests/integration/test_b.py"),
             Item("tests/integration/test_b.py::t2", "tests/integration/test_b.py"),
             Item("tests/integration/test_c.py::t1", "tests/integration/test_c.py"),
             Item("tests/integration/test_d.py::t1", "swarm"),
             Item("tests/integration/test_e.py::t1", "swarm")]
    known = {"tests/integration/test_b.py::t1": 1.0, "tests/integration/test_b.py::t2": 2.0,
             "tests/integration/test_c.py::t1": 30.0, "tests/integration/test_d.py::t1": 5.0}
    ordered = [i.nodeid for i in schedule.longest_first(items, known)]
    # c: 30 s; swarm: 5 s + a guess of 6 s for e, never timed; b: 3 s; the unit test: a guess of 0.05 s
    assert ordered == ["tests/integration/test_c.py::t1", "tests/integration/test_d.py::t1",
                       "tests/integration/test_e.py::t1", "tests/integration/test_b.py::t1",
                       "tests/integration/test_b.py::t2", "tests/unit/test_a.py::t1"]


def test_a_clean_clone_orders_the_known_heavy_units_first(monkeypatch):
    """No recorded durations (CI's clean clone): UNIT_SECONDS weighs the heavy units, guesses weigh the rest; a unit
    with a recorded duration keeps it."""
    monkeypatch.setattr(schedule, "UNIT_SECONDS", {"tests/integration/test_h.py": 900, "swarm": 400,
                                                   "tests/integration/test_t.py": 500})
    items = [Item("tests/integration/test_m.py::t%d" % i, "tests/integration/test_m.py") for i in range(10)] + [
        Item("tests/integration/test_d.py::t1", "swarm"),
        Item("tests/integration/test_h.py::t1", "tests/integration/test_h.py"),
        Item("tests/integration/test_t.py::t1", "tests/integration/test_t.py")]
    ordered = [i.nodeid for i in schedule.longest_first(items, {"tests/integration/test_t.py::t1": 2.0})]
    assert ordered[:2] == ["tests/integration/test_h.py::t1", "tests/integration/test_d.py::t1"]
    assert ordered[2].startswith("tests/integration/test_m.py") and ordered[-1] == "tests/integration/test_t.py::t1"


def test_durations_are_recorded_under_the_plain_node_id():
    assert schedule.plain_nodeid("tests/x.py::t[a]@swarm") == "tests/x.py::t[a]"
    assert schedule.plain_nodeid("tests/x.py::t[user@host]") == "tests/x.py::t[user@host]"


def test_dockerd_only_for_the_swarm_group(tmp_path, monkeypatch):
    class Config:
        stash = pytest.Stash()

    h = conftest_plugin.SessionHarness(str(tmp_path))
    monkeypatch.setattr(h, "_start_docker", lambda: pytest.fail("dockerd was started"))
    h.config = Config()
    h.config.stash[conftest_plugin.CURRENT_TEST] = Item("tests/integration/test_x.py::t", "tests/integration/test_x.py")
    with pytest.raises(HarnessError, match="not in the 'swarm' xdist group"):
        h.start("docker")
    h.stop_all()


def _starts_docker(tree):
    return any(isinstance(node, ast.Call) and getattr(node.func, "attr", "") == "start" and node.args
               and isinstance(node.args[0], ast.Constant) and node.args[0].value == "docker"
               for node in ast.walk(tree))


def test_every_docker_test_file_names_the_swarm_group():
    """A file that starts dockerd itself, or imports a helper module that does, marks its Docker tests."""
    helpers = {p.stem for p in INTEGRATION.glob("*.py") if not p.name.startswith("test_")
               and _starts_docker(ast.parse(p.read_text()))}
    for path in INTEGRATION.glob("test_*.py"):
        text = path.read_text()
        tree = ast.parse(text)
        imported = {n.module.rsplit(".", 1)[-1] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
        if _starts_docker(tree) or imported & helpers:
            assert 'xdist_group("%s")' % schedule.SWARM_GROUP in text, path.name
