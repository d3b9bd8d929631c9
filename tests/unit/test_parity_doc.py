# -*- coding: utf-8 -*-
"""docs/parity.md has a row for every option of the anchors' secret plugins (read from their own documentation with
`ansible-doc -j`, from the `ansible` package that tests/requirements.txt installs), and every option it names as
ours exists in one of our plugins. A new anchor release with a new option, or a renamed option of ours, fails here."""
import json
import os
import pathlib
import re
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "parity.md"
ANSIBLE_DOC = str(pathlib.Path(sys.executable).with_name("ansible-doc"))
#: words of the *ours* column that are not an option name
NOT_OPTIONS = ("same", "built in", "not offered", "not yet", "the term", "the reference", "ref / the term",
               "the term / `path`")


def sections():
    """[(anchor plugins, [(their option, ours, note)])], one per table of docs/parity.md."""
    found = []
    for block in re.split(r"^## ", DOC.read_text(), flags=re.M)[1:]:
        plugins_line = re.search(r"^Plugins: (.+?)(?:\n\n|\n\|)", block, flags=re.M | re.S)
        if not plugins_line:
            continue
        plugins = re.findall(r"`([a-z_]+\.[a-z_]+\.[a-z0-9_]+)`", plugins_line.group(1))
        rows = []
        for line in block.splitlines():
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if line.startswith("| `") and len(cells) >= 2:
                rows.append((cells[0].strip("`"), cells[1], cells[2] if len(cells) > 2 else ""))
        found.append((plugins, rows))
    return found


def ansible_doc(kind, names, env=None):
    out = subprocess.run([ANSIBLE_DOC, "-j", "-t", kind] + names, capture_output=True, text=True, check=True,
                         env=dict(os.environ, **(env or {})))
    return dict((name, set(entry["doc"].get("options") or {}) - {"_terms"})
                for name, entry in json.loads(out.stdout).items())


@pytest.fixture(scope="module")
def anchors():
    listed = sections()
    if not os.path.exists(ANSIBLE_DOC):
        pytest.skip("ansible-doc is not installed beside this Python")
    options = {}
    for kind in ("module", "lookup"):
        wanted = sorted(set(name for plugins, _table in listed for name in plugins))
        try:
            got = ansible_doc(kind, wanted)
        except subprocess.CalledProcessError:
            got = {}
        for name in wanted:
            if name in got:
                options[name] = options.get(name, set()) | got[name]
    if not options:
        pytest.skip("the anchors' collections (the `ansible` package) are not installed")
    return listed, options


@pytest.fixture(scope="module")
def ours(tmp_path_factory):
    tree = tmp_path_factory.mktemp("collections")
    (tree / "ansible_collections" / "agentarea").mkdir(parents=True)
    (tree / "ansible_collections" / "agentarea" / "secrets").symlink_to(ROOT)
    env = {"ANSIBLE_COLLECTIONS_PATH": str(tree)}
    options = set()
    for kind, folder in (("module", "modules"), ("lookup", "lookup")):
        names = ["agentarea.secrets." + p.stem for p in sorted((ROOT / "plugins" / folder).glob("*.py"))]
        for found in ansible_doc(kind, names, env).values():
            options |= found
    return options


def test_every_anchor_option_has_a_row(anchors):
    listed, options = anchors
    rows = {}
    for plugins, table in listed:
        for plugin in plugins:
            rows.setdefault(plugin, set()).update(row[0] for row in table)
    missing = ["%s: %s" % (plugin, name) for plugin, theirs in sorted(options.items())
               for name in sorted(theirs - rows.get(plugin, set()))]
    assert not missing, "docs/parity.md has no row for: %s" % ", ".join(missing)


def test_rows_name_options_that_exist(anchors, ours):
    listed, options = anchors
    wrong = []
    for plugins, table in listed:
        theirs_here = set().union(*(options.get(plugin, set()) for plugin in plugins))
        for theirs, mine, note in table:
            if theirs not in theirs_here and not theirs.endswith("(the plugin)"):
                wrong.append("%s is not an option of %s" % (theirs, ", ".join(plugins)))
            if mine in NOT_OPTIONS:
                continue
            names = [theirs] if mine == "same" else re.findall(r"`([a-z_]+)`", mine)
            wrong += ["%s -> %s is not an option of ours" % (theirs, name) for name in names if name not in ours]
    assert not wrong, "\n".join(wrong)


def test_no_row_says_no_without_a_reason(anchors):
    """A row that says "not offered" or "not yet" gives a reason, or points ("See `x`.") to a row that does."""
    listed = anchors[0]
    bare = []
    for plugins, table in listed:
        reasons = dict((row[0], row[2]) for row in table)
        for theirs, mine, note in table:
            if mine not in ("not offered", "not yet"):
                continue
            see = re.match(r"See `([a-z_]+)`", note)
            if len(reasons.get(see.group(1), "") if see else note) < 30:
                bare.append("%s (%s)" % (theirs, plugins[0]))
    assert not bare, "rows without a reason: %s" % bare
