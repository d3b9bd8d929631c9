# -*- coding: utf-8 -*-
"""dotenv:// and file:// writes: owner, group and mode kept, JSON for structured values, no key names in errors."""
import io
import json
import os
import stat

import dotenv
import pytest

from ansible_collections.agentarea.secrets.plugins.module_utils.core._errors import SecretAccessDenied, SecretNotFound
from ansible_collections.agentarea.secrets.plugins.module_utils.core._refs import parse_ref
from ansible_collections.agentarea.secrets.plugins.module_utils.backends._dotenv import DotenvBackend
from ansible_collections.agentarea.secrets.plugins.module_utils.backends._files import FileBackend

APP_UID = 54321


def _app_file(path, text, mode=0o640):
    path.write_text(text)
    os.chmod(path, mode)
    if os.geteuid() == 0:
        os.chown(path, APP_UID, APP_UID)
    return path.stat()


def _meta(path):
    st = path.stat()
    return stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid


@pytest.mark.parametrize("op", ["write", "delete"])
def test_dotenv_writes_keep_owner_group_and_mode(tmp_path, op):
    path = tmp_path / ".env"
    before = _app_file(path, "A=1\nB=2\n")
    ref = parse_ref("dotenv://%s#A" % path)
    if op == "write":
        DotenvBackend({}).write(ref, "new")
    else:
        assert DotenvBackend({}).delete(ref) is True
    assert path.stat().st_ino != before.st_ino
    assert _meta(path) == (0o640, before.st_uid, before.st_gid)


def test_file_writes_keep_owner_group_and_mode_unless_given(tmp_path):
    path = tmp_path / "db_password"
    before = _app_file(path, "old", 0o440)
    FileBackend({}).write(parse_ref("file://%s" % path), "new")
    assert path.read_text() == "new" and _meta(path) == (0o440, before.st_uid, before.st_gid)
    FileBackend({}).write(parse_ref("file://%s#k" % path), "v", mode=0o400)
    assert json.loads(path.read_text()) == {"k": "v"} and _meta(path)[0] == 0o400
    fresh = tmp_path / "new"
    FileBackend({}).write(parse_ref("file://%s" % fresh), "v")
    assert _meta(fresh) == (0o600, os.geteuid(), os.getegid())


def test_dotenv_structured_values_are_json(tmp_path):
    path = tmp_path / ".env"
    value = {"cert": "-----BEGIN CERTIFICATE-----\nMII\n-----END CERTIFICATE-----\n", "key": "k"}
    DotenvBackend({}).write(parse_ref("dotenv://%s#TLS" % path), value)
    assert json.loads(dotenv.dotenv_values(path)["TLS"]) == value
    assert "{'cert'" not in path.read_text()


def test_missing_variable_error_names_no_other_key(tmp_path):
    path = tmp_path / ".env"
    # an unquoted PEM: python-dotenv (and we) read its lines as "keys"
    path.write_text("TLS_KEY=-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n")
    backend = DotenvBackend({})
    ref = parse_ref("dotenv://%s#MISSING" % path)
    for call in (lambda: backend.read(ref), lambda: backend.select(backend.read(ref.without_key()), ref)):
        with pytest.raises(SecretNotFound) as info:
            call()
        assert "has no variable MISSING" in str(info.value)
        assert "MIIEvQ" not in str(info.value) and "keys:" not in str(info.value)


def test_dotenv_write_refuses_a_planted_link(tmp_path):
    victim = tmp_path / "shadow"
    victim.write_text("root:secret\n")
    os.symlink(str(victim), str(tmp_path / ".env"))
    with pytest.raises(SecretAccessDenied):
        DotenvBackend({}).write(parse_ref("dotenv://%s#K" % (tmp_path / ".env")), "v")
    assert victim.read_text() == "root:secret\n"
    assert dict(dotenv.dotenv_values(stream=io.StringIO(victim.read_text()))) == {"root:secret": None}
