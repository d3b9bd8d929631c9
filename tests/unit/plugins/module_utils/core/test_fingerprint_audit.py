# -*- coding: utf-8 -*-
import hashlib
import json
import os
import stat

import pytest

from ansible_collections.agentarea.secrets.plugins.module_utils.core._audit import AuditLog, read_events
from ansible_collections.agentarea.secrets.plugins.module_utils.core._errors import (
    InvalidOption,
    SecretAccessDenied,
    SecretError,
)
from ansible_collections.agentarea.secrets.plugins.module_utils.core._fingerprint import fingerprint, matches


def test_fingerprint_is_keyed_not_a_bare_hash():
    fp1 = fingerprint("s3cret", "key-one")
    assert fp1.startswith("hmac-sha256:") and len(fp1) == len("hmac-sha256:") + 32
    assert fp1 != fingerprint("s3cret", "key-two")
    assert fp1[12:] not in (hashlib.sha256(b"s3cret").hexdigest(), hashlib.sha224(b"s3cret").hexdigest())
    assert matches("s3cret", fp1, "key-one") and not matches("other", fp1, "key-one")


def test_structured_values_fingerprint_canonically():
    assert fingerprint({"b": 1, "a": "x"}, "k") == fingerprint({"a": "x", "b": 1}, "k")


def test_key_file_is_created_private_and_reused(tmp_path):
    env = {"AGENTAREA_SECRETS_FINGERPRINT_KEY_FILE": str(tmp_path / "sub" / "fp.key")}
    first = fingerprint("v", environ=env)
    assert stat.S_IMODE(os.stat(tmp_path / "sub" / "fp.key").st_mode) == 0o600
    assert fingerprint("v", environ=env) == first


def test_audit_events_are_value_free_json_lines(tmp_path):
    path = tmp_path / "audit.jsonl"
    log = AuditLog(str(path))
    log.emit("read", "ok", backend="dotenv", ref="dotenv://.env#A", version=None, fingerprint="hmac-sha256:x")
    log.emit("write", "error", backend="vault", ref="vault://secret/a", error="SecretConflict")
    events = read_events(str(path))
    assert [e["action"] for e in events] == ["read", "write"]
    assert set(events[0]) >= {"time", "actor", "action", "backend", "ref", "version", "fingerprint", "outcome"}
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    json.dumps(events)


def test_audit_off_without_path():
    assert AuditLog(None).emit("read", "ok") is None


@pytest.mark.parametrize("content", [b"", b"\n", b"short-key", b"0123456789abcde\n"])
def test_short_key_files_are_refused_without_showing_the_key(tmp_path, content):
    path = tmp_path / "fp.key"
    path.write_bytes(content)
    with pytest.raises(InvalidOption) as info:
        fingerprint("v", environ={"AGENTAREA_SECRETS_FINGERPRINT_KEY_FILE": str(path)})
    assert "fingerprint key file %s holds fewer than 16 bytes" % path in str(info.value)
    if content.strip():
        assert content.strip().decode() not in str(info.value)
    assert path.read_bytes() == content  # never silently replaced either


def test_short_key_in_the_environment_is_refused():
    with pytest.raises(InvalidOption) as info:
        fingerprint("v", environ={"AGENTAREA_SECRETS_FINGERPRINT_KEY": "tiny-key"})
    assert "shorter than 16 bytes" in str(info.value) and "tiny-key" not in str(info.value)
    assert fingerprint("v", environ={"AGENTAREA_SECRETS_FINGERPRINT_KEY": "k" * 16}).startswith("hmac-sha256:")


def test_key_file_is_never_created_through_a_link_nor_read_through_another_users(tmp_path):
    elsewhere = tmp_path / "elsewhere.key"
    os.symlink(str(elsewhere), str(tmp_path / "fp.key"))  # dangling: creating the key would write elsewhere
    env = {"AGENTAREA_SECRETS_FINGERPRINT_KEY_FILE": str(tmp_path / "fp.key")}
    with pytest.raises(SecretError):
        fingerprint("v", environ=env)
    assert not elsewhere.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []
    elsewhere.write_text("x" * 64)
    assert fingerprint("v", environ=env) == fingerprint("v", "x" * 64)  # our own link: followed
    if os.geteuid() == 0:
        os.lchown(str(tmp_path / "fp.key"), 54321, 54321)
        with pytest.raises(SecretAccessDenied) as info:
            fingerprint("v", environ=env)
        assert "%s is a symbolic link that uid 54321 owns" % (tmp_path / "fp.key") in str(info.value)


def test_audit_log_is_never_written_through_a_link(tmp_path):
    victim = tmp_path / "victim"
    victim.write_text("keep\n")
    os.symlink(str(victim), str(tmp_path / "audit.jsonl"))
    with pytest.raises(SecretAccessDenied) as info:
        AuditLog(str(tmp_path / "audit.jsonl")).emit("read", "ok")
    assert "%s is a symbolic link" % (tmp_path / "audit.jsonl") in str(info.value)
    assert victim.read_text() == "keep\n"
