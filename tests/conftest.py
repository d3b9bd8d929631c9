# -*- coding: utf-8 -*-
import sys
from pathlib import Path

import pytest

# test support (tests/harness) asserts too, and test modules import it before pytest loads it as a plugin
pytest.register_assert_rewrite("tests.harness")

ROOT = Path(__file__).resolve().parents[1]


def _collection_root():
    """Make ``ansible_collections.agentarea.secrets`` importable for unit tests, whether or not the checkout sits
    in an ansible_collections tree."""
    if ROOT.parent.name == "agentarea" and ROOT.parent.parent.name == "ansible_collections":
        return ROOT.parent.parent.parent
    shim = ROOT / ".pytest_cache" / "collections"
    link = shim / "ansible_collections" / "agentarea" / "secrets"
    if not link.exists():
        link.parent.mkdir(parents=True, exist_ok=True)
        try:
            link.symlink_to(ROOT)
        except FileExistsError:  # another pytest-xdist worker made it first
            pass
    return shim


sys.path.insert(0, str(_collection_root()))

pytest_plugins = ["tests.harness.schedule", "tests.harness.conftest_plugin"]
