"""Two-way sync of files above the multipart threshold (5 MiB here, so files stay small), on
both servers: parallel parts up, parallel ranges down, still conditional, with progress events.

What the servers do with a condition on CompleteMultipartUpload (found by experiment, seaweedfs
4.48 and moto 5.2): SeaweedFS honours `If-Match` and `If-None-Match: *` (412, the upload stays
pending until aborted); moto honours `If-None-Match: *` but ignores `If-Match` — there only the
HEAD s3kit makes just before the Complete stands between a racing write and an overwrite.
"""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from s3kit._aio import run_sync
from s3kit._mtime import format_mtime
from s3kit._session import Session
from s3kit._sync.bisync_run import BisyncOutcome, bisync_async
from s3kit._sync.scan import LocalSide, S3Side
from s3kit.cli.bisync import run_bisync
from s3kit.cli.state import CliState
from s3kit.errors import ConflictError
from s3kit.transfer import TransferConfig, TransferEvent
from s3kit.transfer.checksum import PART_SIZE_KEY, crc64, crc_b64
from s3kit.transfer.multipart import Multipart
from s3kit.transfer.parts import MiB
from tests.conftest import Backend
from tests.integration.cli_support import get, put, tree
from tests.integration.known_gaps import known_gap

CONFIG = TransferConfig(multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB)
SIZE = 11 * MiB  # three parts: 5 + 5 + 1 MiB
PARTS = [5 * MiB, 5 * MiB, 1 * MiB]


def run(
    session: Session,
    local: Path,
    bucket: str,
    events: list[TransferEvent] | None = None,
    *,
    config: TransferConfig = CONFIG,
    resync: bool = False,
    on_event: Callable[[TransferEvent], None] | None = None,
) -> BisyncOutcome:
    def hear(event: TransferEvent) -> None:
        if events is not None:
            events.append(event)
        if on_event is not None:
            on_event(event)

    return run_sync(
        bisync_async(session, LocalSide(local), S3Side(bucket, "pre/"), resync=resync,
                     config=config, on_event=hear)
    )  # fmt: skip


def succeeded(outcome: BisyncOutcome) -> BisyncOutcome:
    assert outcome.result is not None
    assert outcome.ok, outcome.result.failures
    return outcome


def pending_uploads(session: Session, bucket: str) -> list[str]:
    listing = session.client("s3").list_multipart_uploads(Bucket=bucket)
    return [u["Key"] for u in listing.get("Uploads", [])]


def progress_of(events: list[TransferEvent], action: str) -> list[int]:
    return sorted(
        (e.bytes for e in events if e.kind == "progress" and e.action == action), reverse=True
    )


def assert_one_transfer(events: list[TransferEvent], action: str, size: int) -> None:
    """The plan's total first ("scanned", one transfer of `size`), then queued, done last,
    and the progress in between adds up to the size."""
    scanned = [e for e in events if e.kind == "scanned"]
    assert [(e.files, e.bytes) for e in scanned] == [(1, size)], scanned
    kinds = [e.kind for e in events if e.action == action and e.kind != "scanned"]
    assert kinds[0] == "queued" and kinds[-1] == "done", kinds
    assert set(kinds[1:-1]) == {"progress"}, kinds
    assert sum(progress_of(events, action)) == size
    assert [e.bytes for e in events if e.kind in ("queued", "done")] == [size, size]


def test_big_upload_to_a_new_path_goes_in_parts_with_its_metadata(
    backend: Backend, bucket: str, tmp_path: Path
) -> None:
    session = backend.session()
    data = os.urandom(SIZE)
    (tmp_path / "big.bin").write_bytes(data)
    events: list[TransferEvent] = []
    succeeded(run(session, tmp_path, bucket, events, resync=True))
    assert get(backend, bucket, "pre/big.bin") == data
    info = session.storage(bucket).head("pre/big.bin")
    assert (info.etag or "").strip('"').endswith("-3")  # multipart, three parts
    assert info.metadata["mtime"] == format_mtime((tmp_path / "big.bin").stat().st_mtime_ns)
    # S3's full-object CRC64NVME of the whole file, and the part size.
    checked = session.client("s3").head_object(
        Bucket=bucket, Key="pre/big.bin", ChecksumMode="ENABLED"
    )
    assert checked["ChecksumCRC64NVME"] == crc_b64(crc64(data))
    assert info.metadata[PART_SIZE_KEY].isdigit()
    assert progress_of(events, "upload") == PARTS
    assert_one_transfer(events, "upload", SIZE)
    assert pending_uploads(session, bucket) == []
    again = succeeded(run(session, tmp_path, bucket))
    assert again.plan.changes == []  # the multipart ETag was recorded


def test_big_upload_over_a_known_object(backend: Backend, bucket: str, tmp_path: Path) -> None:
    session = backend.session()
    (tmp_path / "big.bin").write_bytes(os.urandom(SIZE))
    succeeded(run(session, tmp_path, bucket, resync=True))
    edited = os.urandom(SIZE + 1)
    (tmp_path / "big.bin").write_bytes(edited)
    events: list[TransferEvent] = []
    outcome = succeeded(run(session, tmp_path, bucket, events))
    assert [(a.kind, a.if_match is not None) for a in outcome.plan.changes] == [("upload", True)]
    assert get(backend, bucket, "pre/big.bin") == edited
    assert_one_transfer(events, "upload", SIZE + 1)
    assert pending_uploads(session, bucket) == []
    assert succeeded(run(session, tmp_path, bucket)).plan.changes == []


def test_big_download_comes_in_ranges_through_a_temporary_file(
    backend: Backend, bucket: str, tmp_path: Path
) -> None:
    session = backend.session()
    data = os.urandom(SIZE)
    put(backend, bucket, {"pre/d/big.bin": data})
    events: list[TransferEvent] = []
    succeeded(run(session, tmp_path, bucket, events, resync=True))
    assert tree(tmp_path) == {"d/big.bin": data}  # no temporary file left beside it
    assert progress_of(events, "download") == PARTS  # one event per range
    assert_one_transfer(events, "download", SIZE)
    changed = os.urandom(SIZE)
    put(backend, bucket, {"pre/d/big.bin": changed})
    succeeded(run(session, tmp_path, bucket))
    assert tree(tmp_path) == {"d/big.bin": changed}
    assert succeeded(run(session, tmp_path, bucket)).plan.changes == []


def _racer(backend: Backend, bucket: str, key: str, action: str) -> Callable[[TransferEvent], None]:
    """An event callback that writes `key` once, after the first part of `action` moved."""
    client = backend.session().client("s3")
    fired: list[bool] = []

    def race(event: TransferEvent) -> None:
        if event.kind == "progress" and event.action == action and not fired:
            fired.append(True)
            client.put_object(Bucket=bucket, Key=key, Body=b"written meanwhile")

    return race


@pytest.mark.parametrize("case", ["new path", "known object"])
def test_a_remote_write_racing_a_big_upload_is_a_conflict(
    backend: Backend, bucket: str, tmp_path: Path, case: str
) -> None:
    session = backend.session()
    big = tmp_path / "big.bin"
    if case == "known object":
        big.write_bytes(os.urandom(SIZE))
        succeeded(run(session, tmp_path, bucket, resync=True))
    else:
        (tmp_path / "small.txt").write_bytes(b"s")
        succeeded(run(session, tmp_path, bucket, resync=True))
    big.write_bytes(os.urandom(SIZE))
    events: list[TransferEvent] = []
    race = _racer(backend, bucket, "pre/big.bin", "upload")
    outcome = run(session, tmp_path, bucket, events, on_event=race)
    assert outcome.result is not None and not outcome.ok
    ((path, error),) = outcome.result.failures
    assert path == "big.bin" and isinstance(error, ConflictError)
    assert "was written by someone else during the sync; not overwritten" in error.message
    assert get(backend, bucket, "pre/big.bin") == b"written meanwhile"
    assert pending_uploads(session, bucket) == []  # aborted, not orphaned
    assert [e.kind for e in events if e.action == "upload"][-1] == "failed"


@pytest.mark.parametrize("case", ["new path", "known object"])
def test_a_write_between_the_head_and_the_complete_is_refused_by_the_header(
    backend: Backend, bucket: str, tmp_path: Path, case: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The narrowest race: someone writes after s3kit's HEAD, just before the Complete. Only
    a store that honours the condition on CompleteMultipartUpload can refuse that."""
    # A new path is sent with If-None-Match, which every backend here honours.
    ignored = known_gap(backend, "If-Match on CompleteMultipartUpload")
    ignored = ignored if case == "known object" else None
    session = backend.session()
    big = tmp_path / "big.bin"
    (tmp_path / "small.txt").write_bytes(b"s")
    if case == "known object":
        big.write_bytes(os.urandom(SIZE))
    succeeded(run(session, tmp_path, bucket, resync=True))
    big.write_bytes(os.urandom(SIZE))
    client = session.client("s3")
    complete = Multipart.complete

    async def racing_complete(self: Multipart, key: str, *args: object, **kwargs: object) -> str:
        client.put_object(Bucket=bucket, Key=key, Body=b"written meanwhile")
        return await complete(self, key, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Multipart, "complete", racing_complete)
    outcome = run(session, tmp_path, bucket)
    assert outcome.result is not None
    if ignored is not None:
        assert outcome.result.failures == []
        assert get(backend, bucket, "pre/big.bin") == big.read_bytes()  # the racer's write lost
        pytest.skip(ignored)
    ((path, error),) = outcome.result.failures
    assert path == "big.bin" and isinstance(error, ConflictError)
    assert get(backend, bucket, "pre/big.bin") == b"written meanwhile"
    assert pending_uploads(session, bucket) == []


def test_a_remote_write_racing_a_big_download_is_a_conflict(
    backend: Backend, bucket: str, tmp_path: Path
) -> None:
    session = backend.session()
    first = os.urandom(SIZE)
    put(backend, bucket, {"pre/big.bin": first})
    succeeded(run(session, tmp_path, bucket, resync=True))
    put(backend, bucket, {"pre/big.bin": os.urandom(SIZE)})
    one_part_at_a_time = TransferConfig(
        multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB, max_concurrent_parts=1
    )
    race = _racer(backend, bucket, "pre/big.bin", "download")
    outcome = run(session, tmp_path, bucket, config=one_part_at_a_time, on_event=race)
    assert outcome.result is not None
    ((path, error),) = outcome.result.failures
    assert path == "big.bin" and isinstance(error, ConflictError)
    assert "changed during the sync; not downloaded" in error.message
    assert tree(tmp_path) == {"big.bin": first}  # untouched, and no temporary file left


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("progress", [True, False])
def test_run_bisync_shows_a_progress_bar_on_a_terminal(
    backend: Backend, bucket: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, progress: bool
) -> None:
    (tmp_path / "big.bin").write_bytes(os.urandom(SIZE))
    (tmp_path / "small.txt").write_bytes(b"s")
    stderr = _Terminal()
    monkeypatch.setattr(sys, "stderr", stderr)
    run_bisync(
        CliState(_session=backend.session()), str(tmp_path), f"s3://{bucket}/pre/",
        {"resync": True, "transfer": replace(CONFIG, max_concurrent_files=4)},
        quiet=False, json_out=False, progress=progress,
    )  # fmt: skip
    assert ("2/2 files" in stderr.getvalue()) is progress, stderr.getvalue()


def test_an_interrupted_big_upload_is_resumed_by_the_next_run(
    backend: Backend, bucket: str, tmp_path: Path
) -> None:
    """SIGKILL the real command once a part of the big file is journalled; the rerun (the
    state was not saved, so --resync again) completes that same multipart upload: none is
    left pending, and the object is whole."""
    import json
    import signal
    import subprocess
    import time

    local = tmp_path / "local"
    local.mkdir()
    data = os.urandom(16 * MiB)
    (local / "big.bin").write_bytes(data)
    state = tmp_path / "state"
    journal = state / "s3kit" / "journal"
    env = {**os.environ, **backend.env(), "XDG_STATE_HOME": str(state)}
    command = [
        str(Path(sys.executable).parent / "s3kit"), "sync", "--bidirectional", "--resync",
        str(local), f"s3://{bucket}/pre", "--no-progress", "--multipart-threshold", "5MiB",
        "--part-size", "5MiB", "--bwlimit", "4MiB",
    ]  # fmt: skip

    def journalled_upload() -> str | None:
        for path in journal.glob("*.json"):
            try:
                entry = json.loads(path.read_text())
            except (OSError, ValueError):
                continue
            if entry.get("parts"):
                return str(entry["upload_id"])
        return None

    first = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 20
    while (upload_id := journalled_upload()) is None:
        assert first.poll() is None, "the sync ended before it could be interrupted"
        assert time.monotonic() < deadline, "no journalled part within 20 s"
        time.sleep(0.05)
    first.send_signal(signal.SIGKILL)
    first.wait()
    session = backend.session()
    assert pending_uploads(session, bucket) == ["pre/big.bin"]

    rerun = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    seen = set()  # the uploads the rerun's journal names while it runs
    while rerun.poll() is None:
        if (current := journalled_upload()) is not None:
            seen.add(current)
        time.sleep(0.02)
    assert rerun.returncode == 0, rerun.stderr.read().decode() if rerun.stderr else ""
    assert seen == {upload_id}, "the rerun did not continue the interrupted upload"
    assert get(backend, bucket, "pre/big.bin") == data
    assert pending_uploads(session, bucket) == []
    assert list(journal.glob("*.json")) == []
