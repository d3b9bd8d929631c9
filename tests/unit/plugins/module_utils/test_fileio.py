# -*- coding: utf-8 -*-
"""File errors are typed and name the path and the cause, never the content."""
import errno
import os
import stat

import pytest

from ansible_collections.agentarea.secrets.plugins.module_utils import _fileio
from ansible_collections.agentarea.secrets.plugins.module_utils._errors import (
    InvalidReference,
    SecretAccessDenied,
    SecretNotFound,
)


def test_unreadable_file_is_access_denied(tmp_path, monkeypatch):
    path = tmp_path / "db_password"
    path.write_text("canary-unreadable")

    def refuse(*_args, **_kwargs):
        raise PermissionError(errno.EACCES, "Permission denied", str(path))

    # the tests run as root, which reads any file: simulate the refusal a non-root reader gets
    monkeypatch.setattr("builtins.open", refuse)
    with pytest.raises(SecretAccessDenied) as info:
        _fileio.read_bytes(str(path), ref="file://%s" % path, backend="file")
    assert "permission denied reading %s" % path in str(info.value)
    assert "canary-unreadable" not in str(info.value)


def test_missing_and_directory(tmp_path):
    with pytest.raises(SecretNotFound):
        _fileio.read_text(str(tmp_path / "nope"))
    with pytest.raises(InvalidReference) as info:
        _fileio.read_text(str(tmp_path))
    assert "is a directory" in str(info.value)


def test_atomic_write_is_private_from_the_start(tmp_path):
    path = tmp_path / "sub" / "secret.txt"
    _fileio.atomic_write(str(path), "v1", mode=0o600)
    assert path.read_text() == "v1" and stat.S_IMODE(os.stat(path).st_mode) == 0o600
    _fileio.atomic_write(str(path), "v2", mode=0o400)
    assert path.read_text() == "v2" and stat.S_IMODE(os.stat(path).st_mode) == 0o400
    assert [p.name for p in path.parent.iterdir()] == ["secret.txt"]
