"""TransferManager against real servers: multipart uploads, ranged downloads, integrity checks,
changes mid-transfer, server-side copies and the event stream.

Part sizes are set to S3's 5 MiB minimum so the multipart and ranged paths run with 11-16 MiB
files. Every test writes under its own key in a bucket shared by the module (SeaweedFS needs
most of a second to create a bucket).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import io
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from rich.console import Console

from s3kit._session import Session
from s3kit._uri import LocalPath, S3Url
from s3kit.cli.progress import TransferProgress
from s3kit.errors import ConflictError, NotSupported, S3KitError, TransferError
from s3kit.service import S3Service
from s3kit.transfer import (
    TransferConfig,
    TransferEvent,
    TransferItem,
    TransferManager,
    WriteOptions,
)
from s3kit.transfer.checksum import CRC_METADATA_KEY, PART_SIZE_KEY, crc64, crc_b64
from s3kit.transfer.context import TransferContext
from s3kit.transfer.copy import _copy_multipart
from tests.conftest import Backend, data_backends, unique_bucket_name
from tests.integration.known_gaps import known_gap
from tests.integration.transfer_support import (
    BIG,
    OLD_MTIME,
    PART,
    journal_files,
    leftovers,
    payload,
    pending,
    small_parts,
    write_file,
)

backend = data_backends()  # seaweedfs, moto and rclone serve s3


def config(tmp_path: Path, **changes: object) -> TransferConfig:
    return small_parts(tmp_path / "journal", **changes)


@pytest.fixture
def bucket(backend: Backend, shared_buckets: dict[str, tuple[Session, str]]) -> str:
    """The module's bucket on `backend` (tests keep apart by key, see `key`)."""
    if backend.name not in shared_buckets:
        session = backend.session()
        name = unique_bucket_name("tr")
        S3Service(session).create_bucket(name)
        shared_buckets[backend.name] = (session, name)
    return shared_buckets[backend.name][1]


@pytest.fixture
def key() -> str:
    return f"{uuid.uuid4().hex[:12]}/object.bin"


@pytest.fixture
def session(
    backend: Backend, bucket: str, shared_buckets: dict[str, tuple[Session, str]]
) -> Session:
    return shared_buckets[backend.name][0]


def upload(session: Session, tmp_path: Path, source: Path, target: S3Url) -> None:
    TransferManager(session, config=config(tmp_path)).run(LocalPath(source), target)


# -- uploads -----------------------------------------------------------------------------------


def test_multipart_upload_stores_the_file_with_its_checksum(
    backend: Backend, session: Session, bucket: str, key: str, tmp_path: Path
) -> None:
    data = payload(BIG)
    source = write_file(tmp_path / "big.bin", data)
    events: list[TransferEvent] = []

    summary = TransferManager(session, config=config(tmp_path), on_event=events.append).run(
        LocalPath(source), S3Url(bucket, key)
    )

    assert (summary.files, summary.bytes, summary.failures) == (1, BIG, [])
    storage = session.storage(bucket)
    assert storage.get(key) == data
    info = storage.head(key)
    head = session.client("s3").head_object(Bucket=bucket, Key=key, ChecksumMode="ENABLED")
    if known_gap(backend, "multipart ETags and checksums") is None:
        assert (info.etag or "").strip('"').endswith("-3"), info.etag
        # S3's own full-object CRC64NVME, sent with the parts and the Complete.
        assert head["ChecksumCRC64NVME"] == crc_b64(crc64(data))
        assert head.get("ChecksumType") == "FULL_OBJECT"
    else:  # the gap as it is: the whole file's MD5, no checksum
        assert info.etag == f'"{hashlib.md5(data).hexdigest()}"'
        assert "ChecksumCRC64NVME" not in head
    assert info.metadata[PART_SIZE_KEY] == str(PART)
    assert CRC_METADATA_KEY not in info.metadata  # no pass over the file before the parts
    assert float(info.metadata["mtime"]) == pytest.approx(OLD_MTIME, abs=0.01)
    assert pending(session, bucket, key.split("/")[0]) == []
    assert journal_files(tmp_path / "journal") == []
    # One item: queued first, done last, progress in between adding up to the size; the plan's
    # end ("scanned") once, somewhere.
    assert [e.kind for e in events].count("scanned") == 1
    events = [e for e in events if e.kind != "scanned"]
    kinds = [e.kind for e in events]
    assert kinds[0] == "queued" and kinds[-1] == "done", kinds
    assert set(kinds[1:-1]) == {"progress"}, kinds
    assert sum(e.bytes for e in events if e.kind == "progress") == BIG
    assert events[0].bytes == BIG and events[-1].bytes == BIG
    assert all(e.action == "upload" and e.item == events[0].item for e in events)


def test_file_shrinking_mid_upload_aborts_the_multipart_upload(
    session: Session, bucket: str, key: str, tmp_path: Path
) -> None:
    source = write_file(tmp_path / "big.bin", payload(BIG))
    truncated: list[int] = []

    def shrink_after_first_part(event: TransferEvent) -> None:
        if event.kind == "progress" and not truncated:
            truncated.append(event.bytes)
            with source.open("r+b") as handle:
                handle.truncate(PART + 10)

    manager = TransferManager(session, config=config(tmp_path), on_event=shrink_after_first_part)
    with pytest.raises(TransferError, match=r"shrank|changed"):
        manager.run(LocalPath(source), S3Url(bucket, key))

    assert truncated == [PART]  # the first part went up before the file changed
    assert pending(session, bucket, key.split("/")[0]) == []
    assert journal_files(tmp_path / "journal") == []
    assert not session.storage(bucket).exists(key)


# -- downloads ---------------------------------------------------------------------------------


def test_ranged_download_restores_bytes_and_mtime_and_cleans_up(
    backend: Backend, session: Session, bucket: str, key: str, tmp_path: Path
) -> None:
    data = payload(BIG, seed=11)
    upload(session, tmp_path, write_file(tmp_path / "up" / "big.bin", data), S3Url(bucket, key))
    out = tmp_path / "down"
    out.mkdir()
    events: list[TransferEvent] = []

    TransferManager(session, config=config(tmp_path), on_event=events.append).run(
        S3Url(bucket, key), LocalPath(out / "big.bin")
    )

    assert (out / "big.bin").read_bytes() == data
    assert (out / "big.bin").stat().st_mtime == pytest.approx(OLD_MTIME, abs=0.01)
    assert leftovers(out) == []
    assert journal_files(tmp_path / "journal") == []
    # Ranged means several GETs: one progress event per range, the upload's 5 MiB parts where
    # the ETag tells them (else the download's own range size).
    ranges = [e.bytes for e in events if e.kind == "progress"]
    if known_gap(backend, "multipart ETags and checksums") is None:
        assert ranges == [PART, PART, BIG - 2 * PART]
    else:
        assert len(ranges) > 1 and sum(ranges) == BIG


@pytest.mark.parametrize("size", [1000, BIG], ids=["small", "ranged"])
def test_download_refuses_content_that_fails_its_checksum(
    session: Session, bucket: str, key: str, tmp_path: Path, size: int
) -> None:
    data = payload(size, seed=3)
    session.storage(bucket).put(key, data, metadata={CRC_METADATA_KEY: "0" * 16})
    out = tmp_path / "down"
    out.mkdir()
    manager = TransferManager(session, config=config(tmp_path))

    with pytest.raises(TransferError, match="CRC64NVME"):
        manager.run(S3Url(bucket, key), LocalPath(out / "new.bin"))
    assert not (out / "new.bin").exists()

    (out / "old.bin").write_bytes(b"previous content")
    with pytest.raises(TransferError, match="CRC64NVME"):
        manager.run(S3Url(bucket, key), LocalPath(out / "old.bin"))
    assert (out / "old.bin").read_bytes() == b"previous content"
    assert sorted(p.name for p in out.iterdir()) == ["old.bin"]
    assert journal_files(tmp_path / "journal") == []

    unverified = TransferManager(session, config=config(tmp_path, verify=False))
    unverified.run(S3Url(bucket, key), LocalPath(out / "old.bin"))
    assert (out / "old.bin").read_bytes() == data
    assert leftovers(out) == []


def test_object_overwritten_mid_download_leaves_nothing(
    backend: Backend, session: Session, bucket: str, key: str, tmp_path: Path
) -> None:
    session.storage(bucket).put(key, payload(BIG, seed=5))
    client = backend.session().client("s3")
    gap = known_gap(backend, "If-Match on GET")
    if gap is not None:  # the gap as it is: a GET pinned to another ETag is answered
        answer = client.get_object(Bucket=bucket, Key=key, IfMatch='"0123"', Range="bytes=0-9")
        assert answer["ContentLength"] == 10
        pytest.skip(gap)
    out = tmp_path / "down"
    out.mkdir()
    overwritten: list[bool] = []

    def overwrite_after_first_range(event: TransferEvent) -> None:
        if event.kind == "progress" and not overwritten:
            client.put_object(Bucket=bucket, Key=key, Body=payload(BIG, seed=6))
            overwritten.append(True)

    manager = TransferManager(
        session, config=config(tmp_path), on_event=overwrite_after_first_range
    )
    with pytest.raises(ConflictError, match="changed"):
        manager.run(S3Url(bucket, key), LocalPath(out / "big.bin"))

    assert overwritten == [True]
    assert list(out.iterdir()) == []
    assert journal_files(tmp_path / "journal") == []


def test_local_failure_at_the_end_of_a_download_fails_the_copy(
    session: Session, bucket: str, key: str, tmp_path: Path
) -> None:
    """The rename into place fails (the destination became a folder meanwhile): the copy must
    fail, not report success with nothing written."""
    session.storage(bucket).put(key, payload(BIG, seed=8))
    out = tmp_path / "down"
    target = out / "big.bin"

    def occupy_destination(event: TransferEvent) -> None:
        if event.kind == "progress" and not target.exists():
            target.mkdir()
            (target / "keep.txt").write_bytes(b"keep")

    manager = TransferManager(session, config=config(tmp_path), on_event=occupy_destination)
    with pytest.raises(S3KitError):
        manager.run(S3Url(bucket, key), LocalPath(target), recursive=False)

    assert (target / "keep.txt").read_bytes() == b"keep"
    assert leftovers(out) == []
    assert journal_files(tmp_path / "journal") == []


# -- server-side copies ------------------------------------------------------------------------


@pytest.fixture
def other_bucket(backend: Backend, session: Session) -> Iterator[str]:
    name = unique_bucket_name("tr2")
    service = S3Service(session)
    service.create_bucket(name)
    yield name
    with contextlib.suppress(Exception):
        service.empty_bucket(name)
        service.delete_bucket(name)


def test_server_side_copy_keeps_bytes_and_metadata_within_and_across_buckets(
    session: Session, bucket: str, other_bucket: str, key: str, tmp_path: Path
) -> None:
    data = payload(4000, seed=9)
    storage = session.storage(bucket)
    storage.put(key, data, content_type="text/x-test", metadata={"owner": "ann"})
    manager = TransferManager(session, config=config(tmp_path))

    for target in (S3Url(bucket, key + ".copy"), S3Url(other_bucket, key)):
        summary = manager.run(S3Url(bucket, key), target)
        assert (summary.files, summary.bytes) == (1, len(data))
        copied = session.storage(target.bucket)
        assert copied.get(target.key) == data
        info = copied.head(target.key)
        assert info.metadata.get("owner") == "ann", info.metadata
        assert info.content_type == "text/x-test"


def test_multipart_server_side_copy_keeps_bytes_and_metadata(
    backend: Backend, session: Session, bucket: str, other_bucket: str, key: str, tmp_path: Path
) -> None:
    data = payload(BIG, seed=13)
    storage = session.storage(bucket)
    storage.put(key, data, content_type="text/x-test", metadata={"owner": "bob"})
    info = storage.head(key)
    moved: list[int] = []
    ctx = TransferContext(session, config(tmp_path), WriteOptions())

    async def copy() -> None:
        await _copy_multipart(
            ctx, S3Url(bucket, key), S3Url(other_bucket, key), BIG, info.etag or "", moved.append
        )

    gap = known_gap(backend, "UploadPartCopy")
    try:
        if gap is not None:  # the gap as it is: said as not supported, nothing left behind
            with pytest.raises(NotSupported, match="UploadPartCopy"):
                asyncio.run(copy())
            assert pending(session, other_bucket, key.split("/")[0]) == []
            assert not session.storage(other_bucket).exists(key)
            pytest.skip(gap)
        asyncio.run(copy())
    finally:
        ctx.close()

    copied = session.storage(other_bucket)
    assert copied.get(key) == data
    head = copied.head(key)
    assert head.metadata.get("owner") == "bob", head.metadata
    assert head.content_type == "text/x-test"
    assert re.search(r"-\d+$", (head.etag or "").strip('"')), head.etag  # assembled from parts
    assert sum(moved) == BIG
    assert pending(session, other_bucket, "") == []


# -- progress rendering ------------------------------------------------------------------------


def test_progress_bar_counts_files_and_bytes() -> None:
    item = TransferItem(LocalPath(Path("a.bin")), S3Url("b", "a.bin"), 2048)
    out = io.StringIO()
    with TransferProgress(Console(file=out, force_terminal=True, width=120)) as bar:
        bar(TransferEvent("queued", "upload", item, bytes=2048))
        bar(TransferEvent("scanned", "upload", item, bytes=2048, files=1))
        for _ in range(2):
            bar(TransferEvent("progress", "upload", item, bytes=1024))
        assert bar.figures.line().startswith("0/1 files")
        bar(TransferEvent("done", "upload", item, bytes=2048))
    rendered = out.getvalue()
    assert "1/1 files" in rendered, rendered
    assert "2.0 KiB/2.0 KiB" in rendered, rendered
