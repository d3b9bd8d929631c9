# -*- coding: utf-8 -*-
"""The layout of plugins/module_utils (CONTRIBUTING.md, "Layout"): one subpackage per concern, private modules
(a leading underscore) everywhere, and imports only along the allowed arrows, so that a newcomer can tell from a
folder where code goes and what it may use."""
import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[4]
MODULE_UTILS = ROOT / "plugins" / "module_utils"
PREFIX = "ansible_collections.agentarea.secrets.plugins.module_utils."

# concern -> the concerns it may import (its own always); the top level holds only the catalog (_catalog.py)
ALLOWED = {
    "core": {"core"},
    "backends": {"core"},
    "rotation": {"core"},
    "distribution": {"core", "backends", "catalog"},
    "access": {"core", "backends"},
    "revoke": {"core", "backends", "rotation"},
    "audit": {"core"},
    "hygiene": {"core"},
    "catalog": {"core"},
}
# the one exception: the registry maps a scheme to its backend class (imported only for the scheme asked for)
EXCEPTIONS = {("core/_registry.py", "backends")}


def concern_of(path):
    rel = path.relative_to(MODULE_UTILS)
    return rel.parts[0] if len(rel.parts) > 1 else "catalog"


def imported_concerns(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module + "." + a.name for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        for name in names:
            if name.startswith(PREFIX):
                rest = name[len(PREFIX):].split(".")
                yield node.lineno, (rest[0] if len(rest) > 2 or rest[0] in ALLOWED else "catalog")


SOURCES = sorted(p for p in MODULE_UTILS.rglob("*.py") if "__pycache__" not in p.parts)


def test_every_concern_is_known():
    concerns = {concern_of(p) for p in SOURCES}
    assert concerns <= set(ALLOWED), concerns - set(ALLOWED)


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(MODULE_UTILS)))
def test_imports_follow_the_arrows(path):
    own = concern_of(path)
    rel = str(path.relative_to(MODULE_UTILS))
    wrong = ["line %d imports %s" % (line, target) for line, target in imported_concerns(path)
             if target != own and target not in ALLOWED[own] and (rel, target) not in EXCEPTIONS]
    assert not wrong, "%s (%s) may import only %s: %s" % (rel, own, sorted(ALLOWED[own]), wrong)


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(MODULE_UTILS)))
def test_modules_are_private_and_packages_are_not(path):
    rel = path.relative_to(MODULE_UTILS)
    assert path.name.startswith("_"), "%s: module_utils modules are private (a leading underscore)" % rel
    assert not any(part.startswith("_") for part in rel.parts[:-1]), "%s: packages have public names" % rel


def test_a_wrong_import_is_seen(tmp_path):
    fake = tmp_path / "_fake.py"
    fake.write_text("from %srotation._engine import Rotation\nfrom %s import _catalog\n" % (PREFIX, PREFIX[:-1]))
    assert [target for _line, target in imported_concerns(fake)] == ["rotation", "catalog"]
