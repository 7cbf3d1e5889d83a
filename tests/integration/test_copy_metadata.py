"""A server-side copy gives the copy the source's metadata with the caller's changes laid over
it — the same rule for one CopyObject and for a copy in parts (`object_headers`)."""

from __future__ import annotations

from datetime import UTC, datetime

from s3kit import S3Url, TransferManager, WriteOptions
from s3kit.storage.base import ObjectInfo
from s3kit.transfer.checksum import PART_SIZE_KEY
from s3kit.transfer.copy import object_headers
from tests.conftest import Backend


def _source(backend: Backend, bucket: str) -> None:
    backend.session().storage(bucket).put(
        "src.txt",
        b"hello",
        content_type="text/plain",
        cache_control="max-age=60",
        content_encoding="identity",
        metadata={"owner": "ana"},
    )


def test_a_copy_without_changes_keeps_everything(backend: Backend, bucket: str) -> None:
    _source(backend, bucket)
    TransferManager(backend.session()).run(S3Url(bucket, "src.txt"), S3Url(bucket, "copy.txt"))
    info = backend.session().storage(bucket).head("copy.txt")
    assert info.metadata.get("owner") == "ana"
    assert info.content_type == "text/plain" and info.cache_control == "max-age=60"


def test_changes_are_laid_over_the_sources_metadata(backend: Backend, bucket: str) -> None:
    _source(backend, bucket)
    options = WriteOptions(metadata={"team": "data"}, cache_control="no-cache")
    TransferManager(backend.session(), options=options).run(
        S3Url(bucket, "src.txt"), S3Url(bucket, "copy.txt")
    )
    info = backend.session().storage(bucket).head("copy.txt")
    assert info.metadata.get("owner") == "ana"  # kept: the old copy dropped it or the change
    assert info.metadata.get("team") == "data"
    assert info.cache_control == "no-cache"
    assert info.content_type == "text/plain"
    assert backend.session().storage(bucket).get("copy.txt") == b"hello"


def test_one_rule_for_a_single_and_a_multipart_copy() -> None:
    info = ObjectInfo(
        key="k",
        size=1,
        last_modified=datetime(2026, 1, 1, tzinfo=UTC),
        content_type="text/html",
        cache_control="max-age=5",
        content_encoding="gzip",
        metadata={"owner": "ana", PART_SIZE_KEY: "8388608"},
    )
    options = WriteOptions(metadata={"team": "data"}, content_type="text/plain")
    single = object_headers(options, info)
    parts = object_headers(options, info, part_size=16 * 1024 * 1024)
    expected = {
        "x-amz-meta-owner": "ana",
        "x-amz-meta-team": "data",
        "Content-Type": "text/plain",
        "Cache-Control": "max-age=5",
        "Content-Encoding": "gzip",  # the source's: the multipart copy used to drop it
    }
    assert single == expected  # the source's part size is not the copy's
    assert parts == {**expected, f"x-amz-meta-{PART_SIZE_KEY}": str(16 * 1024 * 1024)}
