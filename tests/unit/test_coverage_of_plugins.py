# -*- coding: utf-8 -*-
"""Every plugin is exercised through ansible-playbook by an integration test that runs the leak suite or passes
canaries, and every module is in the docs check. A new plugin without such a test fails here."""
import importlib
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[2]


def _plugins():
    found = []
    for kind, folder in (("lookup", "lookup"), ("module", "modules"), ("filter", "filter")):
        for path in sorted((ROOT / "plugins" / folder).glob("*.py")):
            if kind == "filter":
                module = importlib.import_module("ansible_collections.agentarea.secrets.plugins.filter.%s" % path.stem)
                found += sorted(module.FilterModule().filters())
            else:
                found.append(path.stem)
    return found


def test_every_plugin_is_used_by_a_leak_checked_integration_test():
    tests = {p: p.read_text() for p in (ROOT / "tests" / "integration").glob("test_*.py")}
    checked = {p: t for p, t in tests.items() if "canaries" in t or "run_leak_suite" in t}
    missing = []
    for name in _plugins():
        pattern = re.compile(r"(agentarea\.secrets\.%s\b|\|\s*agentarea\.secrets\.%s\b)" % (name, name))
        if not any(pattern.search(text) for text in checked.values()):
            missing.append(name)
    assert not missing, "plugins without a leak-checked integration test: %s" % missing
