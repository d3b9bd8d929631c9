# -*- coding: utf-8 -*-
"""The secret scan's parts: tokens checked against catalog fingerprints, the .gitignore matcher (held to git's own
check-ignore on the same inputs), the coverage check and its fix, and scans of a directory and a git history."""
import builtins
import json
import os
import secrets
import subprocess

import pytest

from ansible_collections.agentarea.secrets.plugins.module_utils.hygiene import _gitignore
from ansible_collections.agentarea.secrets.plugins.module_utils.core._errors import InvalidOption, MissingDependency
from ansible_collections.agentarea.secrets.plugins.module_utils.core._fingerprint import fingerprint
from ansible_collections.agentarea.secrets.plugins.module_utils.hygiene._scan import (
    CatalogIndex,
    Detector,
    Scanner,
    candidates,
)

KEY = "unit-test-key"
GIT_ENV = dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@t", GIT_COMMITTER_NAME="t",
               GIT_COMMITTER_EMAIL="t@t", GIT_CONFIG_GLOBAL="/dev/null", GIT_CONFIG_NOSYSTEM="1")


def git(repo, *args):
    return subprocess.run(["git", "-C", str(repo)] + list(args), check=True, capture_output=True, text=True,
                          env=GIT_ENV).stdout.strip()


@pytest.mark.parametrize("line, value", [
    ('DATABASE_PASSWORD="s3cr3t-Value/with+b64=="', "s3cr3t-Value/with+b64=="),
    ("export TOKEN=abcdefgh12345678", "abcdefgh12345678"),
    ("password: 'quoted value-123'", "quoted value-123"),
    ("url = postgresql://agentarea:Pa55word-xyz@db:5432/agentarea", "Pa55word-xyz"),
    ("  api_key: Zm9vYmFyYmF6cXV4  # comment", "Zm9vYmFyYmF6cXV4"),
    ('{"key": "json-value-0001", "other": 1}', "json-value-0001"),
    ("auth=user:colon:in:value!", "user:colon:in:value!"),
])
def test_candidates_cover_common_placements(line, value):
    assert value in candidates(line)
    assert "unquoted value with spaces" not in candidates("x = unquoted value with spaces")


def test_catalog_index_matches_by_fingerprint_only():
    value = "cat-" + secrets.token_urlsafe(16)
    index = CatalogIndex([{"name": "database", "fingerprint": fingerprint(value, KEY)},
                          {"name": "alias", "fingerprints": [fingerprint(value, KEY), fingerprint("other-value", KEY)]}],
                         KEY)
    assert index.names_in('DB_URL="postgresql://u:%s@h/db"' % value) == {"database", "alias"}
    assert index.names_in("nothing here at all") == set()
    assert index.names_in(value[:-1]) == set()
    assert CatalogIndex([{"name": "x", "fingerprint": fingerprint(value, "other-key")}], KEY).names_in(value) == set()
    with pytest.raises(InvalidOption, match="not an agentarea.secrets fingerprint"):
        CatalogIndex([{"name": "x", "fingerprint": "sha256:abc"}], KEY)
    with pytest.raises(InvalidOption):
        CatalogIndex([{"fingerprint": fingerprint(value, KEY)}], KEY)


GITIGNORE = """# comment
*.log
!keep.log
/build
docs/**/*.tmp
**/cache/
secret?.txt
[Tt]emp*
nested/deep/
\\#hash
trailing-space\\ \n"""

PATHS = ["a.log", "keep.log", "sub/b.log", "build/x", "src/build/x", "docs/a/b/c.tmp", "docs/c.tmp", "x/cache/y",
         "cache/y", "secret1.txt", "secret12.txt", "Temp1", "temp/x", "nested/deep/f", "other/nested/deep/f",
         "#hash", "trailing-space ", "fine.txt", "sub/keep.log"]


def test_gitignore_matcher_agrees_with_git(tmp_path):
    git(tmp_path, "init", "-q")
    (tmp_path / ".gitignore").write_text(GITIGNORE)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / ".gitignore").write_text("!b.log\n")
    out = subprocess.run(["git", "-C", str(tmp_path), "check-ignore", "--no-index", "--stdin"], check=False,
                         input="\n".join(PATHS), capture_output=True, text=True, env=GIT_ENV).stdout
    expected = set(out.splitlines())
    ignore = _gitignore.GitIgnore(str(tmp_path))
    got = set(p for p in PATHS if ignore.ignored(p, is_dir=False))
    assert got == expected


def test_coverage_and_fix(tmp_path):
    assert _gitignore.coverage(str(tmp_path)) == [".env*", "secrets/", "*.pem", "*.key"]
    added, still = _gitignore.plan_fix(str(tmp_path))
    assert added == [".env*", "!.env.example", "secrets/", "*.pem", "*.key"] and still == []
    text = _gitignore.fixed_text("node_modules/", added)
    assert text.startswith("node_modules/\n\n# Secrets never go into git") and text.endswith("*.key\n")
    (tmp_path / ".gitignore").write_text(text)
    assert _gitignore.coverage(str(tmp_path)) == [] and _gitignore.plan_fix(str(tmp_path)) == ([], [])
    (tmp_path / ".gitignore").write_text("/.env\n/.env.local\n/.env.production\n*.pem\n*.key\n/secrets/\n")
    assert _gitignore.plan_fix(str(tmp_path))[0] == [".env*", "!.env.example"]  # app/.env was not covered
    (tmp_path / ".gitignore").write_text("*\n")  # ignores everything, .env.example too
    assert _gitignore.coverage(str(tmp_path)) == ["!.env.example"]
    assert _gitignore.is_env_file("app/.env.local") and not _gitignore.is_env_file(".env.example")
    assert not _gitignore.is_env_file("env.py")


def findings_by(findings):
    return dict(((f["source"], f["file"], f["line"], f["kind"]), f) for f in findings)


def test_directory_scan(tmp_path):
    value = "cat-" + secrets.token_urlsafe(16)
    (tmp_path / ".gitignore").write_text("ignored/\n")
    (tmp_path / "ignored").mkdir()
    (tmp_path / "ignored" / "dump.sql").write_text("password = '%s'\n" % value)
    (tmp_path / "conf.ini").write_text("[db]\npassword = %s\n" % value)
    (tmp_path / "big.txt").write_text("x" * 2000)
    (tmp_path / "blob.bin").write_bytes(b"\0" + value.encode())
    (tmp_path / "vendor").mkdir()
    (tmp_path / "vendor" / "lib.py").write_text('TOKEN = "%s"\n' % value)
    (tmp_path / ".env").write_text("X=1\n")
    index = CatalogIndex([{"name": "database", "fingerprint": fingerprint(value, KEY)}], KEY)
    scanner = Scanner(str(tmp_path), index, Detector(), excludes=["vendor/*"], max_bytes=1000,
                      extra_rules=[".env*"])
    found = findings_by(scanner.run())
    assert found[("tree", "conf.ini", 2, "catalog secret")]["status"] == "open"
    assert ("tree", "conf.ini", 2, "Secret Keyword") in found
    assert found[("tree", ".env", None, "env file not ignored")]["status"] == "fixed"
    assert not [k for k in found if k[1].startswith(("ignored/", "vendor/", "blob.bin", "big.txt"))]
    assert scanner.stats["skipped_large"] == 1 and not scanner.stats["git"]
    assert value not in json.dumps(list(found.values()))
    assert "_key" not in json.dumps(list(found.values()))


def test_history_scan_finds_deleted_secrets(tmp_path):
    aws = "AKIA" + "".join(secrets.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _i in range(16))
    git(tmp_path, "init", "-q", "-b", "main")
    (tmp_path / "a b.py").write_text("x = 1\nKEY = '%s'\n" % aws)
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-qm", "one")
    first = git(tmp_path, "rev-parse", "HEAD")
    (tmp_path / "a b.py").write_text("x = 1\n")
    git(tmp_path, "commit", "-qam", "two")
    git(tmp_path, "checkout", "-qb", "side")
    (tmp_path / "side.py").write_text("y = 2\nKEY2 = '%s'\n" % aws.replace("AKIA", "ASIA"))
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-qm", "side")
    side = git(tmp_path, "rev-parse", "HEAD")
    git(tmp_path, "checkout", "-q", "main")
    scanner = Scanner(str(tmp_path), CatalogIndex([], KEY), Detector())
    found = findings_by(scanner.run())
    hit = found[("history", "a b.py", 2, "AWS Access Key")]
    assert hit["commit"] == first and hit["in_working_tree"] is False and hit["status"] == "open"
    assert found[("history", "side.py", 2, "AWS Access Key")]["commit"] == side  # other branches too
    assert not [k for k in found if k[0] == "tree"]
    assert scanner.stats["commits_scanned"] == 3 and scanner.stats["blobs_scanned"] == 3
    assert aws not in json.dumps(list(found.values()))
    no_history = Scanner(str(tmp_path), CatalogIndex([], KEY), Detector()).run(history=False)
    assert no_history == []


def test_detect_secrets_missing_is_a_typed_error(monkeypatch):
    # core/_deps.requires() imports through importlib: a None in sys.modules makes the import fail
    import sys
    monkeypatch.setitem(sys.modules, "detect_secrets.core.scan", None)
    with pytest.raises(MissingDependency, match="detect-secrets"):
        Detector()


def test_history_blobs_are_scanned_in_memory_never_written(tmp_path, monkeypatch):
    """Issue 12 item 12: blobs of history went to a temporary directory, left in /tmp when the run was killed."""
    aws = "AKIA" + "".join(secrets.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") for _i in range(16))
    git(tmp_path, "init", "-q", "-b", "main")
    (tmp_path / "config.yml").write_text("aws:\n  key: %s\n" % aws)
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-qm", "one")
    (tmp_path / "config.yml").write_text("aws: {}\n")
    git(tmp_path, "commit", "-qam", "two")
    written = []
    real_open, real_os_open = builtins.open, os.open

    def spy_open(file, mode="r", *args, **kwargs):
        if any(c in mode for c in "wax+"):
            written.append(file)
        return real_open(file, mode, *args, **kwargs)

    def spy_os_open(path, flags, *args, **kwargs):
        if flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT):
            written.append(path)
        return real_os_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", spy_open)
    monkeypatch.setattr(os, "open", spy_os_open)
    found = findings_by(Scanner(str(tmp_path), CatalogIndex([], KEY), Detector()).run())
    monkeypatch.undo()
    assert found[("history", "config.yml", 2, "AWS Access Key")]["in_working_tree"] is False
    assert written == []


@pytest.mark.parametrize("name, text", [
    ("app.py", "x = 1\nTOKEN = 'ghp_%s'\npassword = 'hunter2-is-not-random'\n"),
    ("conf.ini", "[db]\npassword = Zx9%s\n"),
    ("values.yaml", "db:\n  password: Zx9%s\n  url: postgres://u:p4ss%s@h/db\n"),
    ("poetry.lock", "password = 'Zx9%s'\n"),
    ("notes.txt", "nothing here\n"),
])
def test_in_memory_scan_finds_what_detect_secrets_finds_in_a_file(tmp_path, name, text):
    text = text.replace("%s", secrets.token_hex(16))
    path = tmp_path / name
    path.write_text(text)
    with Detector() as detector:
        assert detector.scan_data(name, text.encode()) == detector.scan(str(path))
        assert detector.scan_data("bin.dat", b"\xff\xfe\x00x") == []
