"""S3Service's one-object calls (the seed API: upload_object, download_object, copy_object,
delete_object, object_exists) and the awaitable twins, on every server of the conformance set.

Each call is one item of the transfer layer or one request, so these tests check the wiring
and the promises the docstrings make — extra_args applied, metadata kept by a copy, nothing
destroyed by a failed upload, a missing bucket told apart from a missing key — not the
transfer paths themselves (test_conformance.py does that at every size).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from s3kit import S3Service
from s3kit.errors import BucketNotFound, LocalPathError, UsageError
from tests.conftest import Backend, unique_bucket_name
from tests.integration.known_gaps import known_gap


@pytest.fixture(scope="module")
def service_bucket(conformance_backend: Backend) -> Iterator[tuple[S3Service, str]]:
    service = S3Service(conformance_backend.session())
    name = unique_bucket_name("so")
    service.create_bucket(name)
    yield service, name
    with contextlib.suppress(Exception):
        service.empty_bucket(name)
        service.delete_bucket(name)


def test_upload_download_copy_delete_one_object(
    conformance_backend: Backend, service_bucket: tuple[S3Service, str], tmp_path: Path
) -> None:
    backend = conformance_backend
    service, bucket = service_bucket
    source = tmp_path / "page.html"
    source.write_bytes(b"<h1>hello</h1>")
    uploaded = service.upload_object(
        bucket,
        "site/page.html",
        source,
        extra_args={"ContentType": "text/html", "CacheControl": "no-cache", "Metadata": {"a": "1"}},
    )
    assert uploaded.ok and uploaded.bytes == 14
    head = service.head_object(bucket, "site/page.html")
    assert (head["ContentType"], head["CacheControl"]) == ("text/html", "no-cache")
    keeps_metadata = known_gap(backend, "user metadata") is None
    assert head["Metadata"].get("a") == ("1" if keeps_metadata else None)
    assert service.object_exists(bucket, "site/page.html")

    copied = service.copy_object(
        bucket, "site/page.html", bucket, "copy/page.html", extra_args={"Metadata": {"b": "2"}}
    )
    assert copied.ok
    copy_head = service.head_object(bucket, "copy/page.html")
    assert copy_head["ContentType"] == "text/html"  # kept from the source
    if keeps_metadata:
        assert (copy_head["Metadata"].get("a"), copy_head["Metadata"].get("b")) == ("1", "2")

    downloaded = service.download_object(bucket, "copy/page.html", tmp_path / "out.html")
    assert downloaded.ok and downloaded.verified
    assert (tmp_path / "out.html").read_bytes() == b"<h1>hello</h1>"

    service.delete_object(bucket, "copy/page.html")
    assert not service.object_exists(bucket, "copy/page.html")
    service.delete_object(bucket, "copy/page.html")  # already gone: succeeds, as in S3


def test_a_failed_upload_leaves_the_object_that_was_there(
    service_bucket: tuple[S3Service, str], tmp_path: Path
) -> None:
    service, bucket = service_bucket
    kept = tmp_path / "kept.txt"
    kept.write_bytes(b"previous")
    service.upload_object(bucket, "kept.txt", kept)
    with pytest.raises(LocalPathError):
        service.upload_object(bucket, "kept.txt", tmp_path / "no-such-file.txt")
    service.download_object(bucket, "kept.txt", tmp_path / "back.txt")
    assert (tmp_path / "back.txt").read_bytes() == b"previous"


def test_a_missing_bucket_is_named_as_such(service_bucket: tuple[S3Service, str]) -> None:
    service, _ = service_bucket
    with pytest.raises(BucketNotFound):
        service.object_exists(unique_bucket_name("none"), "key")


def test_unknown_extra_args_are_refused_before_any_request(
    service_bucket: tuple[S3Service, str], tmp_path: Path
) -> None:
    service, bucket = service_bucket
    (tmp_path / "f").write_bytes(b"x")
    with pytest.raises(UsageError, match="Tagging"):
        service.upload_object(bucket, "refused", tmp_path / "f", extra_args={"Tagging": "a=b"})
    assert not service.object_exists(bucket, "refused")


def test_the_awaitable_twins_do_what_the_blocking_calls_do(
    service_bucket: tuple[S3Service, str], tmp_path: Path
) -> None:
    service, bucket = service_bucket
    (tmp_path / "twin.txt").write_bytes(b"twin")

    async def script() -> tuple[bool, list[str], list[str], bool]:
        await service.upload_object_async(bucket, "twins/a.txt", tmp_path / "twin.txt")
        exists = await service.object_exists_async(bucket, "twins/a.txt")
        names = [b.name for b in await service.list_buckets_async()]
        keys = [e["Key"] async for e in service.iter_bucket_contents_async(bucket)]
        await service.delete_object_async(bucket, "twins/a.txt")
        return exists, names, keys, await service.object_exists_async(bucket, "twins/a.txt")

    exists, names, keys, after = asyncio.run(script())
    assert exists and not after
    assert bucket in names
    assert "twins/a.txt" in keys
