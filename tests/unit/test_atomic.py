"""The one atomic write: a write that fails midway leaves the old file as it was and no
temporary file, whichever caller made it (copies, the resume journal, saved connections, the
local server's state)."""

from __future__ import annotations

import contextlib
import json
import os
import resource
import signal
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from s3kit import _local_server as local_server
from s3kit._atomic import AtomicFile, is_temp_name, replace_file, write_atomic, write_file
from s3kit._config.connections import ConnectionStore, make_connection
from s3kit.errors import ConfigError, LocalPathError
from s3kit.storage import local
from s3kit.transfer.journal import Journal, JournalEntry, JournalPart

OLD = b"the old content\n"


@contextlib.contextmanager
def writes_fail_beyond(limit: int) -> Iterator[None]:
    """Any write past byte `limit` of a file fails with EFBIG, as a full disk fails one: the
    real failure midway, whatever writes the file (os.write, a file object, json)."""
    handler = signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
        signal.signal(signal.SIGXFSZ, handler)


def names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.fixture
def old_file(tmp_path: Path) -> Path:
    target = tmp_path / "data.bin"
    target.write_bytes(OLD)
    return target


def test_write_file_replaces_the_file_whole(old_file: Path) -> None:
    write_file(old_file, b"new", fsync=True, mtime_ns=1_600_000_000_123_456_789)
    assert old_file.read_bytes() == b"new"
    assert old_file.stat().st_mtime_ns == 1_600_000_000_123_456_789
    assert names(old_file.parent) == ["data.bin"]


def test_a_write_failing_midway_keeps_the_old_file_and_leaves_no_temp(old_file: Path) -> None:
    with writes_fail_beyond(4096), pytest.raises(OSError, match="too large"):
        write_file(old_file, b"x" * 65536, fsync=True)
    assert old_file.read_bytes() == OLD
    assert names(old_file.parent) == ["data.bin"]


def test_write_atomic_fails_with_the_s3kit_error(old_file: Path) -> None:
    with writes_fail_beyond(4096), pytest.raises(LocalPathError, match=r"data\.bin"):
        write_atomic(old_file, b"x" * 65536, None, fsync=False)
    assert old_file.read_bytes() == OLD
    assert names(old_file.parent) == ["data.bin"]


def test_an_interrupted_write_leaves_no_temp(
    old_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_write = os.write

    def write_then_interrupt(fd: int, data: bytes) -> int:
        monkeypatch.setattr(os, "write", interrupted)
        return real_write(fd, memoryview(data)[:100])

    def interrupted(fd: int, data: bytes) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "write", write_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        local.write_atomic(old_file, b"x" * 65536, None, fsync=False)
    monkeypatch.undo()
    assert old_file.read_bytes() == OLD
    assert names(old_file.parent) == ["data.bin"]


def test_a_failed_write_removes_the_folders_it_made(tmp_path: Path) -> None:
    target = tmp_path / "made" / "deeper" / "data.bin"
    with writes_fail_beyond(4096), pytest.raises(OSError):
        write_file(target, b"x" * 65536, fsync=False)
    assert names(tmp_path) == []


def test_a_private_file_is_owner_only_whatever_the_umask(tmp_path: Path) -> None:
    target = tmp_path / "secret.json"
    previous = os.umask(0o277)  # would take the owner's write bit too
    try:
        write_file(target, b"{}", fsync=False, mode=0o600)
    finally:
        os.umask(previous)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_atomic_file_failing_midway_keeps_the_old_file(old_file: Path) -> None:
    writer = AtomicFile(old_file)
    with writes_fail_beyond(4096), pytest.raises(LocalPathError):
        for _ in range(64):
            writer.write(b"x" * 1024)
        writer.commit()
    assert old_file.read_bytes() == OLD
    assert names(old_file.parent) == ["data.bin"]


def test_replace_file_sets_the_time_and_renames(tmp_path: Path, old_file: Path) -> None:
    temp = tmp_path / ".s3kit-data.bin.tag.part"
    assert is_temp_name(temp.name)
    temp.write_bytes(b"done")
    replace_file(temp, old_file, mtime_ns=1_000_000_000, durable=True)
    assert old_file.read_bytes() == b"done"
    assert old_file.stat().st_mtime_ns == 1_000_000_000
    assert names(tmp_path) == ["data.bin"]


# -- every caller ------------------------------------------------------------------------------


def _entry(parts: int) -> JournalEntry:
    return JournalEntry(
        kind="upload",
        endpoint="http://127.0.0.1:1",
        bucket="b",
        key="k",
        local_path="/nowhere/f",
        size=parts,
        mtime_ns=0,
        part_size=1,
        upload_id="u",
        parts={n: JournalPart(etag=f"e{n}", md5="m", crc=n, size=1) for n in range(1, parts + 1)},
    )


def test_a_journal_save_failing_midway_keeps_the_last_one(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    journal.save(_entry(1))
    saved = journal.path_for(_entry(1)).read_text()
    with writes_fail_beyond(len(saved) + 10):
        journal.save(_entry(500))  # logged, never raised: resuming is a convenience
    assert journal.path_for(_entry(1)).read_text() == saved
    assert names(tmp_path) == [journal.path_for(_entry(1)).name]


def test_saving_connections_failing_midway_keeps_the_file(tmp_path: Path) -> None:
    store = ConnectionStore(tmp_path / "connections.toml")
    store.add(make_connection("one", {"endpoint_url": "http://127.0.0.1:9000"}))
    before = store.path.read_bytes()
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
    with writes_fail_beyond(len(before) + 10), pytest.raises(ConfigError, match="cannot write"):
        store.add(make_connection("two", {"endpoint_url": "http://127.0.0.1:9001"}))
    assert store.path.read_bytes() == before
    assert names(tmp_path) == ["connections.toml"]


def test_the_local_server_state_failing_midway_keeps_the_old_state(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    local_server._write_private(state, json.dumps({"pid": 1}))
    before = state.read_bytes()
    with writes_fail_beyond(len(before) + 10), pytest.raises(OSError):
        local_server._write_private(state, json.dumps({"pid": 2, "pad": "x" * 4096}))
    assert state.read_bytes() == before
    assert stat.S_IMODE(state.stat().st_mode) == 0o600
    assert names(tmp_path) == ["state.json"]
