# -*- coding: utf-8 -*-
"""Faults while writing (issue 14): a full disk, a quota or a read-only file system gives a message that names the
path and the cause and says nothing was written; the temporary file of a writer that was killed is removed by the
next write of the same file; a backup that does not fit is removed, not left half-written."""
import errno
import os
import subprocess
import sys

import pytest

from ansible_collections.agentarea.secrets.plugins.module_utils.core import _fileio
from ansible_collections.agentarea.secrets.plugins.module_utils.core._errors import BackendUnavailable, SecretAccessDenied


@pytest.mark.parametrize("code, cause, kind", [
    (errno.ENOSPC, "no space left on device", BackendUnavailable),
    (errno.EDQUOT, "disk quota exceeded", BackendUnavailable),
    (errno.EROFS, "read-only file system", SecretAccessDenied),
])
def test_no_room_messages(tmp_path, monkeypatch, code, cause, kind):
    path = tmp_path / ".env"
    path.write_text("KEEP=1\n")

    def refuse(_fd):   # the data reaches the disk at fsync, where a full file system says so
        raise OSError(code, os.strerror(code))
    monkeypatch.setattr(os, "fsync", refuse)
    with pytest.raises(kind) as info:
        _fileio.atomic_write(str(path), "canary-no-room", ref="file://%s" % path, backend="file")
    message = str(info.value)
    assert str(path) in message and cause in message and "nothing was written" in message, message
    assert "canary" not in message
    assert path.read_text() == "KEEP=1\n" and sorted(os.listdir(tmp_path)) == [".env"]


def dead_pid():
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_temporary_files_of_killed_writers_are_removed(tmp_path):
    path = tmp_path / "db_password.txt"
    path.write_text("old")
    host = _fileio._host_tag()
    stale = ".db_password.txt.%s-%d-%s.tmp" % (host, dead_pid(), "ab" * 6)
    live = ".db_password.txt.%s-%d-%s.tmp" % (host, os.getpid(), "cd" * 6)    # a writer still at work
    other_host = ".db_password.txt.%s-%d-%s.tmp" % ("0" * 8 if host != "0" * 8 else "1" * 8, dead_pid(), "ef" * 6)
    other_file = ".other.txt.%s-%d-%s.tmp" % (host, dead_pid(), "12" * 6)
    for name in (stale, live, other_host, other_file):
        (tmp_path / name).write_text("partial")
    _fileio.atomic_write(str(path), "new")
    assert path.read_text() == "new"
    assert sorted(os.listdir(tmp_path)) == sorted(["db_password.txt", live, other_host, other_file])


def test_a_backup_that_does_not_fit_is_removed(tmp_path, monkeypatch):
    path = tmp_path / ".env"
    path.write_text("KEEP=1\n")
    with _fileio.SecretFile(str(path)) as handle:
        handle.read()
        real_fdopen = os.fdopen

        class Full:
            def __init__(self, fd, mode):
                self.handle = real_fdopen(fd, mode)

            def __enter__(self):
                return self

            def __exit__(self, *exc):
                self.handle.close()

            def fileno(self):
                return self.handle.fileno()

            def write(self, data):
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        monkeypatch.setattr(os, "fdopen", Full)
        with pytest.raises(BackendUnavailable) as info:
            handle.backup()
        monkeypatch.undo()
    assert "cannot write the backup" in str(info.value) and "no space left on device" in str(info.value)
    assert sorted(os.listdir(tmp_path)) == [".env", ".env.lock"]
