# -*- coding: utf-8 -*-
"""File errors are typed and name the path and the cause, never the content."""
import errno
import os
import stat

import pytest

from ansible_collections.agentarea.secrets.plugins.module_utils.core import _fileio
from ansible_collections.agentarea.secrets.plugins.module_utils.core._errors import (
    InvalidReference,
    SecretAccessDenied,
    SecretConflict,
    SecretNotFound,
)


def test_unreadable_file_is_access_denied(tmp_path, monkeypatch):
    path = tmp_path / "db_password"
    path.write_text("canary-unreadable")

    def refuse(*_args, **_kwargs):
        raise PermissionError(errno.EACCES, "Permission denied", str(path))

    # the tests run as root, which reads any file: simulate the refusal a non-root reader gets
    monkeypatch.setattr(_fileio, "_open_in", refuse)
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


# --- symbolic links, owners, modes, concurrent writers (issue 12 items 1, 4, 5) ---

OTHER_UID = 54321  # a user that is neither root nor us: owns planted links


def _plant_link(target, link, uid=OTHER_UID):
    os.symlink(str(target), str(link))
    if os.geteuid() == 0:
        os.lchown(str(link), uid, uid)


def test_atomic_write_refuses_a_symlink_at_the_path(tmp_path):
    victim = tmp_path / "root-only"
    victim.write_text("system file")
    os.chmod(victim, 0o600)
    _plant_link(victim, tmp_path / ".env")
    with pytest.raises(SecretAccessDenied) as info:
        _fileio.atomic_write(str(tmp_path / ".env"), "A=1\n", uid=OTHER_UID)
    assert "%s is a symbolic link: refusing to follow it" % (tmp_path / ".env") in str(info.value)
    assert victim.read_text() == "system file" and stat.S_IMODE(victim.stat().st_mode) == 0o600
    assert victim.stat().st_uid == os.geteuid() and os.path.islink(tmp_path / ".env")
    assert sorted(p.name for p in tmp_path.iterdir()) == [".env", "root-only"]  # no temporary file left


def test_follow_writes_where_the_link_points(tmp_path):
    real = tmp_path / "real.env"
    real.write_text("A=1\n")
    os.symlink(str(real), str(tmp_path / ".env"))
    _fileio.atomic_write(str(tmp_path / ".env"), "A=2\n", follow=True)
    assert real.read_text() == "A=2\n" and os.path.islink(tmp_path / ".env")


def test_a_directory_link_owned_by_another_user_is_refused(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("needs root to plant a link owned by another user")
    (tmp_path / "etc").mkdir()
    _plant_link(tmp_path / "etc", tmp_path / "app")
    with pytest.raises(SecretAccessDenied) as info:
        _fileio.atomic_write(str(tmp_path / "app" / "x"), "v")
    assert "refusing to follow the symbolic link %s: uid %d owns it" % (tmp_path / "app", OTHER_UID) in str(info.value)
    assert list((tmp_path / "etc").iterdir()) == []
    # a link that root (or the running user) owns is followed
    os.lchown(str(tmp_path / "app"), 0, 0)
    _fileio.atomic_write(str(tmp_path / "app" / "x"), "v")
    assert (tmp_path / "etc" / "x").read_text() == "v"


def test_safe_open_refuses_links_and_special_files(tmp_path):
    victim = tmp_path / "victim"
    victim.write_text("keep")
    _plant_link(victim, tmp_path / "audit.log")
    for flags in (os.O_WRONLY | os.O_APPEND | os.O_CREAT, os.O_RDWR | os.O_CREAT | os.O_EXCL, os.O_RDONLY):
        with pytest.raises(SecretAccessDenied):
            _fileio.safe_open(str(tmp_path / "audit.log"), flags)
    _plant_link(tmp_path / "missing", tmp_path / "dangling")
    with pytest.raises(SecretAccessDenied):
        _fileio.safe_open(str(tmp_path / "dangling"), os.O_WRONLY | os.O_CREAT)
    assert not (tmp_path / "missing").exists() and victim.read_text() == "keep"
    os.mkfifo(str(tmp_path / "fifo"))
    with pytest.raises(InvalidReference):  # does not block on the FIFO either
        _fileio.safe_open(str(tmp_path / "fifo"), os.O_RDONLY | os.O_NONBLOCK)
    fd = _fileio.safe_open(str(tmp_path / "new" / "file"), os.O_WRONLY | os.O_CREAT, create_dirs=True)
    os.close(fd)
    assert stat.S_IMODE(os.stat(tmp_path / "new" / "file").st_mode) == 0o600


def test_existing_owner_group_and_mode_are_kept(tmp_path):
    path = tmp_path / ".env"
    path.write_text("A=1\n")
    os.chmod(path, 0o640)
    if os.geteuid() == 0:
        os.chown(path, OTHER_UID, OTHER_UID + 1)
    before = path.stat()
    _fileio.atomic_write(str(path), "A=2\n")
    after = path.stat()
    assert path.read_text() == "A=2\n" and after.st_ino != before.st_ino
    assert (stat.S_IMODE(after.st_mode), after.st_uid, after.st_gid) == (0o640, before.st_uid, before.st_gid)
    _fileio.atomic_write(str(path), "A=3\n", mode=0o600, uid=os.geteuid(), gid=os.getegid())
    after = path.stat()
    assert (stat.S_IMODE(after.st_mode), after.st_uid) == (0o600, os.geteuid())


def test_set_meta_and_backup_never_follow_links(tmp_path):
    victim = tmp_path / "victim"
    victim.write_text("x")
    os.chmod(victim, 0o644)
    _plant_link(victim, tmp_path / ".env2")
    with _fileio.SecretFile(str(tmp_path / ".env2"), lock=False) as handle:
        with pytest.raises(SecretAccessDenied):
            handle.set_meta(0o600, OTHER_UID, OTHER_UID)
        with pytest.raises(SecretAccessDenied):
            handle.read()
    assert stat.S_IMODE(victim.stat().st_mode) == 0o644 and victim.stat().st_uid == os.geteuid()
    real = tmp_path / "real"
    real.write_text("old")
    os.chmod(real, 0o640)
    with _fileio.SecretFile(str(real)) as handle:
        handle.read()
        backup = handle.backup()
    assert open(backup).read() == "old" and stat.S_IMODE(os.stat(backup).st_mode) == 0o640


def test_a_change_between_read_and_rename_is_detected(tmp_path):
    path = tmp_path / ".env"
    path.write_text("A=1\n")
    with _fileio.SecretFile(str(path)) as handle:
        handle.read()
        path.write_text("A=1\nB=by-someone-else\n")  # a writer that does not take the lock
        with pytest.raises(SecretConflict):
            handle.write("A=1\nC=3\n")
    assert path.read_text() == "A=1\nB=by-someone-else\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == [".env", ".env.lock"]
    assert stat.S_IMODE(os.stat(tmp_path / ".env.lock").st_mode) == 0o600


def test_update_text_retries_after_a_conflict(tmp_path):
    path = tmp_path / "x.env"
    path.write_text("A=1\n")
    calls = []

    def change(text):
        calls.append(text)
        if len(calls) == 1:
            path.write_text(text + "B=2\n")
        return text + "C=3\n"

    assert _fileio.update_text(str(path), change)
    assert path.read_text() == "A=1\nB=2\nC=3\n" and len(calls) == 2
    assert (tmp_path / ".x.env.lock").exists()


def test_the_lock_file_is_not_followed(tmp_path):
    victim = tmp_path / "victim"
    victim.write_text("keep")
    _plant_link(victim, tmp_path / ".env.lock")
    with pytest.raises(SecretAccessDenied) as info:
        _fileio.update_text(str(tmp_path / ".env"), lambda text: "A=1\n")
    assert str(tmp_path / ".env.lock") in str(info.value)
    assert victim.read_text() == "keep" and not (tmp_path / ".env").exists()


def _writer(path, prefix, count, start):
    from ansible_collections.agentarea.secrets.plugins.module_utils.backends._dotenv import DotenvBackend
    from ansible_collections.agentarea.secrets.plugins.module_utils.core._refs import parse_ref
    start.wait()
    backend = DotenvBackend({})
    for i in range(count):
        backend.write(parse_ref("dotenv://%s#%s_%02d" % (path, prefix, i)), "v%d" % i)


def test_concurrent_writers_keep_every_key(tmp_path):
    import multiprocessing
    import dotenv

    path = tmp_path / ".env"
    path.write_text("FIRST=1\n")
    ctx = multiprocessing.get_context("fork")
    start = ctx.Event()
    procs = [ctx.Process(target=_writer, args=(str(path), name, 40, start)) for name in ("A", "B")]
    for proc in procs:
        proc.start()
    start.set()
    for proc in procs:
        proc.join(120)
        assert proc.exitcode == 0
    assert len(dotenv.dotenv_values(path)) == 81


def test_reads_follow_only_links_that_root_or_the_running_user_owns(tmp_path):
    real = tmp_path / ".env.development"
    real.write_text("A=1\n")
    os.symlink(str(real), str(tmp_path / ".env"))  # ours: followed
    assert _fileio.read_text(str(tmp_path / ".env")) == "A=1\n"
    if os.geteuid() != 0:
        return
    os.lchown(str(tmp_path / ".env"), OTHER_UID, OTHER_UID)
    with pytest.raises(SecretAccessDenied) as info:
        _fileio.read_text(str(tmp_path / ".env"))
    assert "%s is a symbolic link that uid %d owns: refusing to follow it" % (tmp_path / ".env", OTHER_UID) \
        in str(info.value)
    assert "A=1" not in str(info.value)


def test_rotation_lock_file_is_not_followed(tmp_path):
    from ansible_collections.agentarea.secrets.plugins.module_utils.rotation._state import FileLock
    victim = tmp_path / "victim"
    victim.write_text("keep")
    os.chmod(victim, 0o644)
    _plant_link(victim, tmp_path / ".env.rotate-lock")
    with pytest.raises(SecretAccessDenied) as info:
        FileLock(str(tmp_path / ".env.rotate-lock")).acquire("dotenv://.env#K")
    assert "%s is a symbolic link" % (tmp_path / ".env.rotate-lock") in str(info.value)
    assert victim.read_text() == "keep" and stat.S_IMODE(victim.stat().st_mode) == 0o644
    lock = FileLock(str(tmp_path / "new" / ".x.rotate-lock")).acquire("x")
    lock.release()
    assert stat.S_IMODE(os.stat(tmp_path / "new" / ".x.rotate-lock").st_mode) == 0o600


def test_a_user_without_read_access_to_a_parent_directory_can_write(tmp_path):
    """Resolving a path needs only search (x) permission on its directories: so does our walk (O_PATH)."""
    if os.geteuid() != 0:
        pytest.skip("needs root to switch to another user")
    import shutil
    import tempfile
    top = tempfile.mkdtemp(prefix="aa-files-", dir="/tmp")
    try:
        os.chmod(top, 0o711)  # search only: not readable by the user
        app = os.path.join(top, "app")
        os.mkdir(app, 0o700)
        os.chown(app, OTHER_UID, OTHER_UID)
        pid = os.fork()
        if pid == 0:  # pragma: no cover - the child
            code = 1
            try:
                os.setgid(OTHER_UID)
                os.setuid(OTHER_UID)
                _fileio.atomic_write(os.path.join(app, ".env"), "A=1\n")
                _fileio.update_text(os.path.join(app, ".env"), lambda text: text + "B=2\n")
                code = 0 if _fileio.read_text(os.path.join(app, ".env")) == "A=1\nB=2\n" else 2
            finally:
                os._exit(code)
        _pid, status = os.waitpid(pid, 0)
        assert os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
        st = os.stat(os.path.join(app, ".env"))
        assert (st.st_uid, stat.S_IMODE(st.st_mode)) == (OTHER_UID, 0o600)
    finally:
        shutil.rmtree(top)


def test_a_file_with_other_hard_links_is_not_rewritten_nor_re_owned(tmp_path):
    system = tmp_path / "system"
    system.write_text("root:x:0:0\n")
    os.chmod(system, 0o640)
    os.link(str(system), str(tmp_path / ".env"))  # where fs.protected_hardlinks=0 lets the app user do this
    with pytest.raises(SecretAccessDenied) as info:
        _fileio.update_text(str(tmp_path / ".env"), lambda text: text + "K=v\n")
    assert "%s has 2 hard links: refusing" % (tmp_path / ".env") in str(info.value)
    with _fileio.SecretFile(str(tmp_path / ".env"), lock=False) as handle:
        with pytest.raises(SecretAccessDenied):
            handle.set_meta(0o600, OTHER_UID, OTHER_UID)
    assert system.read_text() == "root:x:0:0\n" and stat.S_IMODE(system.stat().st_mode) == 0o640
    assert system.stat().st_uid == os.geteuid()
    _fileio.update_text(str(tmp_path / ".env"), lambda text: text + "K=v\n", follow=True)  # when asked to
    assert (tmp_path / ".env").read_text() == "root:x:0:0\nK=v\n"
