"""Whole folders through the library: TransferManager.upload_folder / download_folder (and their
`_async` twins) and S3Client's folder calls, against SeaweedFS and moto.

They are `cp -r` with a folder on one side, so these tests check what a library caller relies
on: nested paths and hostile names survive the round trip, filters leave files out, every item
ends as an `ItemResult` (one failure among them does not stop the others), and a call raises
only when nothing could start.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from s3kit import BucketNotFound, LocalPathError, S3Client, S3FileResult
from s3kit._session import Session
from s3kit._uri import LocalPath, S3Url
from s3kit.service import S3Service
from s3kit.storage import ObjectInfo
from s3kit.transfer import Filters, ItemResult, TransferEvent, TransferItem, TransferManager
from tests.conftest import Backend, data_backends, unique_bucket_name
from tests.integration.transfer_support import BIG, payload, small_parts, write_file

backend = data_backends()  # seaweedfs, moto and rclone serve s3

# Decided before any call: root reads a chmod 000 file anyway.
AS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
needs_non_root = pytest.mark.skipif(AS_ROOT, reason="root can read a chmod 000 file")

HOSTILE = "odd names/ü #1 %41 +x.txt"  # space, unicode, '#', '%' (and '%41' is not 'A')
TREE = {
    "top.txt": b"top",
    "empty.txt": b"",
    "sub/middle.txt": b"middle",
    "sub/deeper/deepest.txt": b"deepest",
    "sub/big.bin": payload(BIG),  # multipart up, ranged down (small_parts)
    HOSTILE: b"hostile",
}
EXCLUDED = {"sub/scratch.tmp": b"left out"}
NO_TMP = Filters((("exclude", "*.tmp"),))


@pytest.fixture
def bucket(backend: Backend, shared_buckets: dict[str, tuple[Session, str]]) -> str:
    """The module's bucket on `backend`; each test writes under its own prefix."""
    if backend.name not in shared_buckets:
        session = backend.session()
        name = unique_bucket_name("tf")
        S3Service(session).create_bucket(name)
        shared_buckets[backend.name] = (session, name)
    return shared_buckets[backend.name][1]


@pytest.fixture
def session(
    backend: Backend, bucket: str, shared_buckets: dict[str, tuple[Session, str]]
) -> Session:
    return shared_buckets[backend.name][0]


@pytest.fixture
def prefix() -> str:
    return f"f-{uuid.uuid4().hex[:12]}"


def make_tree(root: Path, files: dict[str, bytes]) -> Path:
    for relative, data in files.items():
        write_file(root / relative, data)
    return root


def read_tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def keys_under(session: Session, bucket: str, prefix: str) -> set[str]:
    return {o.key for o in session.storage(bucket).list(prefix + "/") if isinstance(o, ObjectInfo)}


def manager(session: Session, tmp_path: Path, **options: object) -> TransferManager:
    return TransferManager(session, config=small_parts(tmp_path / "journal"), **options)  # type: ignore[arg-type]


@contextlib.contextmanager
def unreadable(path: Path) -> Iterator[Path]:
    path.chmod(0)
    try:
        yield path
    finally:
        path.chmod(0o644)


# -- TransferManager ---------------------------------------------------------------------------


def test_folder_round_trip_keeps_paths_and_names_and_filters(
    session: Session, bucket: str, prefix: str, tmp_path: Path
) -> None:
    source = make_tree(tmp_path / "src", {**TREE, **EXCLUDED})
    ended: list[TransferEvent] = []
    transfers = manager(
        session, tmp_path, on_event=lambda e: ended.append(e) if e.kind == "done" else None
    )

    up = transfers.upload_folder(source, f"s3://{bucket}/{prefix}/", filters=NO_TMP)

    assert up.ok and up.files == len(TREE), up.failures
    assert up.bytes == sum(len(data) for data in TREE.values())
    assert keys_under(session, bucket, prefix) == {f"{prefix}/{name}" for name in TREE}
    assert session.storage(bucket).get(f"{prefix}/{HOSTILE}") == b"hostile"
    # One result per file, in the order they finished (the order of the "done" events).
    assert [r.item for r in up.results] == [e.item for e in ended]
    by_key = {_key(r): r for r in up.results}
    assert set(by_key) == {f"{prefix}/{name}" for name in TREE}
    for name, data in TREE.items():
        result = by_key[f"{prefix}/{name}"]
        assert (result.outcome, result.action, result.bytes) == ("done", "upload", len(data))
        assert (result.error, result.verified) == (None, None)
        assert result.item.source == LocalPath(source / name)

    out = tmp_path / "out"
    down = transfers.download_folder(f"s3://{bucket}/{prefix}", out)

    assert down.ok and down.files == len(TREE), down.failures
    assert read_tree(out) == TREE
    assert down.downloads == len(TREE)
    assert {r.action for r in down.results} == {"download"}
    # Every download says how its bytes were checked ("" would mean they could not be).
    assert all(r.verified for r in down.results if r.bytes), down.results
    assert {r.item.destination for r in down.results} == {LocalPath(out / n) for n in TREE}


def test_async_twins_do_the_same(
    session: Session, bucket: str, prefix: str, tmp_path: Path
) -> None:
    source = make_tree(tmp_path / "src", {"a/one.txt": b"1", "two.txt": b"22", **EXCLUDED})
    transfers = manager(session, tmp_path, filters=NO_TMP)  # the manager's filters, by default

    async def both() -> tuple[int, int, dict[str, bytes]]:
        up = await transfers.upload_folder_async(source, S3Url(bucket, prefix + "/"))
        down = await transfers.download_folder_async(S3Url(bucket, prefix), tmp_path / "out")
        return up.files, down.files, read_tree(tmp_path / "out")

    assert asyncio.run(both()) == (2, 2, {"a/one.txt": b"1", "two.txt": b"22"})


@needs_non_root
def test_an_unreadable_file_fails_alone(
    session: Session, bucket: str, prefix: str, tmp_path: Path
) -> None:
    source = make_tree(tmp_path / "src", {"a.txt": b"a", "locked/secret.txt": b"s", "z.txt": b"z"})
    with unreadable(source / "locked" / "secret.txt"):
        summary = manager(session, tmp_path).upload_folder(source, f"s3://{bucket}/{prefix}")

    assert (summary.files, len(summary.failures), len(summary.results)) == (2, 1, 3)
    [failed] = [r for r in summary.results if not r.ok]
    assert failed.outcome == "failed" and failed.action == "upload"
    assert isinstance(failed.error, LocalPathError)
    assert "permission denied" in str(failed.error)
    assert failed.item.source == LocalPath(source / "locked" / "secret.txt")
    assert summary.failures == [(failed.item, failed.error)]
    assert keys_under(session, bucket, prefix) == {f"{prefix}/a.txt", f"{prefix}/z.txt"}


def test_a_file_gone_after_the_walk_fails_alone(
    session: Session, bucket: str, prefix: str, tmp_path: Path
) -> None:
    # The failure path that runs as root too: the file is removed once planned ("queued").
    source = make_tree(tmp_path / "src", {"a.txt": b"a", "gone.txt": b"g", "z/z.txt": b"z"})
    doomed = source / "gone.txt"

    def remove_when_queued(event: TransferEvent) -> None:
        if event.kind == "queued" and event.item.source == LocalPath(doomed):
            doomed.unlink()

    summary = manager(session, tmp_path, on_event=remove_when_queued).upload_folder(
        source, f"s3://{bucket}/{prefix}/"
    )

    assert sorted((_key(r), r.outcome) for r in summary.results) == [
        (f"{prefix}/a.txt", "done"),
        (f"{prefix}/gone.txt", "failed"),
        (f"{prefix}/z/z.txt", "done"),
    ]
    [failed] = [r for r in summary.results if not r.ok]
    assert isinstance(failed.error, LocalPathError) and failed.bytes == 0
    assert (summary.files, summary.failures) == (2, [(failed.item, failed.error)])
    assert keys_under(session, bucket, prefix) == {f"{prefix}/a.txt", f"{prefix}/z/z.txt"}


def test_dryrun_plans_each_file_and_copies_nothing(
    session: Session, bucket: str, prefix: str, tmp_path: Path
) -> None:
    source = make_tree(tmp_path / "src", {"a.txt": b"aa", "b/c.txt": b"ccc"})
    summary = manager(session, tmp_path).upload_folder(
        source, f"s3://{bucket}/{prefix}/", dryrun=True
    )
    assert sorted((_key(r), r.outcome, r.bytes) for r in summary.results) == [
        (f"{prefix}/a.txt", "planned", 2),
        (f"{prefix}/b/c.txt", "planned", 3),
    ]
    assert (summary.files, summary.bytes) == (2, 5)
    assert keys_under(session, bucket, prefix) == set()


def test_folder_calls_raise_only_when_nothing_can_start(
    session: Session, backend: Backend, tmp_path: Path
) -> None:
    transfers = manager(session, tmp_path)
    with pytest.raises(LocalPathError, match="no such file or folder"):
        transfers.upload_folder(tmp_path / "missing", "s3://any-bucket/x/")
    with pytest.raises(LocalPathError, match="is a file, not a folder"):
        transfers.upload_folder(write_file(tmp_path / "f.txt", b"f"), "s3://any-bucket/x/")
    with pytest.raises(BucketNotFound):
        transfers.download_folder(f"s3://{unique_bucket_name('gone')}/x/", tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_results_are_kept_only_on_request_for_plans_made_elsewhere(
    session: Session, bucket: str, prefix: str, tmp_path: Path
) -> None:
    source = make_tree(tmp_path / "src", {"a.txt": b"a", "b.txt": b"bb"})
    transfers = manager(session, tmp_path)
    target = S3Url(bucket, prefix + "/")
    items = list(transfers.plan(LocalPath(source), target, recursive=True))
    assert sorted(_key(ItemResult(i, "upload", "planned")) for i in items) == [
        f"{prefix}/a.txt",
        f"{prefix}/b.txt",
    ]

    streamed = transfers.run_items(items)  # a sync's plan may be millions of items long
    kept = transfers.run_items(items, keep_results=True)

    assert (streamed.files, streamed.bytes, streamed.results) == (2, 3, [])
    assert (kept.files, sorted(r.bytes for r in kept.results)) == (2, [1, 2])


def _key(result: ItemResult) -> str:
    item: TransferItem = result.item
    side = item.destination if isinstance(item.destination, S3Url) else item.source
    assert isinstance(side, S3Url)
    return side.key


# -- S3Client ----------------------------------------------------------------------------------


def client_for(backend: Backend, bucket: str, **options: object) -> S3Client:
    return S3Client(
        bucket,
        endpoint_url=backend.endpoint,
        access_key_id=backend.access_key,
        secret_access_key=backend.secret_key,
        env={},
        **options,
    )


@pytest.fixture
def missing_bucket(backend: Backend) -> Iterator[str]:
    name = unique_bucket_name("cf")
    yield name
    service = S3Service(backend.session())
    with contextlib.suppress(BucketNotFound):
        service.empty_bucket(name)
        service.delete_bucket(name)


def test_client_folder_round_trip(
    backend: Backend, bucket: str, prefix: str, tmp_path: Path
) -> None:
    files = {"index.html": b"<h1>", "css/site.css": b"body{}", HOSTILE: b"hostile"}
    source = make_tree(tmp_path / "site", files)
    client = client_for(backend, bucket)

    uploaded = client.upload_folder(source, prefix)

    assert sorted(uploaded, key=lambda r: r.key) == [
        S3FileResult(f"{prefix}/{name}", str(source / name), len(data))
        for name, data in sorted(files.items())
    ]
    assert all(r.ok for r in uploaded)

    downloaded = client.download_folder(prefix, tmp_path / "copy")

    assert read_tree(tmp_path / "copy") == files
    assert sorted((r.key, r.path, r.size, r.ok) for r in downloaded) == sorted(
        (f"{prefix}/{n}", str(tmp_path / "copy" / n), len(d), True) for n, d in files.items()
    )


@needs_non_root
def test_client_reports_the_file_that_failed_and_uploads_the_rest(
    backend: Backend, bucket: str, prefix: str, tmp_path: Path
) -> None:
    source = make_tree(tmp_path / "src", {"ok.txt": b"ok", "no.txt": b"no"})
    client = client_for(backend, bucket)
    with unreadable(source / "no.txt"):
        results = {r.key: r for r in client.upload_folder(source, prefix)}

    assert results[f"{prefix}/ok.txt"].ok
    failed = results[f"{prefix}/no.txt"]
    assert isinstance(failed.error, LocalPathError) and failed.size == 0
    assert client.list_files(prefix + "/")[0].key == f"{prefix}/ok.txt"
    assert len(client.list_files(prefix + "/")) == 1


def test_client_upload_folder_creates_a_missing_bucket(
    backend: Backend, missing_bucket: str, tmp_path: Path
) -> None:
    source = make_tree(tmp_path / "src", {"a.txt": b"a", "b/c.txt": b"c"})
    client = client_for(backend, missing_bucket)

    results = client.upload_folder(source)

    assert sorted((r.key, r.ok) for r in results) == [("a.txt", True), ("b/c.txt", True)]
    assert client.download_bytes("b/c.txt") == b"c"


def test_client_folder_calls_without_a_folder_or_a_bucket(
    backend: Backend, missing_bucket: str, tmp_path: Path
) -> None:
    with pytest.raises(LocalPathError, match="no such file or folder"):
        client_for(backend, missing_bucket).upload_folder(tmp_path / "missing")
    # A read never creates the bucket: missing, it holds nothing to download (as list_files).
    assert client_for(backend, missing_bucket).download_folder("", tmp_path / "out") == []
    with pytest.raises(BucketNotFound):
        client_for(backend, missing_bucket, ensure_bucket=False).download_folder("", tmp_path)
    strict = client_for(backend, missing_bucket, ensure_bucket=False)
    with pytest.raises(BucketNotFound):
        strict.upload_folder(make_tree(tmp_path / "src", {"a.txt": b"a"}))
    assert not S3Service(backend.session()).bucket_exists(missing_bucket)
