"""S3Client, the five-verb facade, against SeaweedFS and moto."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from s3kit import (
    BucketNotFound,
    LocalPathError,
    ObjectNotFound,
    S3Client,
    S3FileInfo,
)
from s3kit.service import S3Service
from tests.conftest import Backend, unique_bucket_name


@pytest.fixture
def client(backend: Backend, bucket: str) -> S3Client:
    return S3Client(
        bucket=bucket,
        endpoint_url=backend.endpoint,
        access_key_id=backend.access_key,
        secret_access_key=backend.secret_key,
        env={},
    )


@pytest.fixture
def missing_bucket(backend: Backend) -> Iterator[str]:
    """A bucket name that does not exist yet; removed afterwards if a test created it."""
    name = unique_bucket_name("new")
    yield name
    service = S3Service(backend.session())
    with contextlib.suppress(BucketNotFound):
        service.empty_bucket(name)
        service.delete_bucket(name)


def _files(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))


# -- upload -----------------------------------------------------------------------------------


def test_upload_file_key_defaults_to_file_name(client: S3Client, tmp_path: Path) -> None:
    source = tmp_path / "sub" / "report.txt"
    source.parent.mkdir()
    source.write_bytes(b"quarterly numbers")
    os.utime(source, (1_600_000_000.25, 1_600_000_000.25))
    assert client.upload_file(source) == "report.txt"
    assert client.download_bytes("report.txt") == b"quarterly numbers"
    assert client.storage.head("report.txt").metadata["mtime"] == "1600000000.250000000"


def test_upload_file_with_explicit_key(client: S3Client, tmp_path: Path) -> None:
    source = tmp_path / "local-name.bin"
    source.write_bytes(os.urandom(3000))
    assert client.upload_file(str(source), "remote/dir/other.bin") == "remote/dir/other.bin"
    assert client.download_bytes("remote/dir/other.bin") == source.read_bytes()
    assert not client.file_exists("local-name.bin")


def test_upload_missing_or_folder_is_local_path_error(client: S3Client, tmp_path: Path) -> None:
    with pytest.raises(LocalPathError, match="no such file"):
        client.upload_file(tmp_path / "absent.txt")
    with pytest.raises(LocalPathError):
        client.upload_file(tmp_path)
    assert client.list_files() == []


def test_upload_and_download_bytes(client: S3Client) -> None:
    assert client.upload_bytes(b'{"a": 1}', "data/a.json", content_type="application/json") == (
        "data/a.json"
    )
    assert client.download_bytes("data/a.json") == b'{"a": 1}'
    assert client.storage.head("data/a.json").content_type == "application/json"
    client.upload_bytes(b"", "data/empty")
    assert client.download_bytes("data/empty") == b""
    with pytest.raises(ObjectNotFound):
        client.download_bytes("data/missing.json")


# -- download ---------------------------------------------------------------------------------


def test_download_file_to_path(client: S3Client, tmp_path: Path) -> None:
    source = tmp_path / "source.bin"
    data = os.urandom(200_000)
    source.write_bytes(data)
    os.utime(source, (1_500_000_000.5, 1_500_000_000.5))
    client.upload_file(source, "deep/key/source.bin")
    out = tmp_path / "out" / "nested" / "copy.bin"
    assert client.download_file("deep/key/source.bin", out) == str(out)
    assert out.read_bytes() == data
    assert out.stat().st_mtime == pytest.approx(1_500_000_000.5, abs=1e-3)
    assert _files(tmp_path / "out") == ["nested", "nested/copy.bin"]


def test_download_file_replaces_existing_file_whole(client: S3Client, tmp_path: Path) -> None:
    client.upload_bytes(b"short", "k.txt")
    out = tmp_path / "k.txt"
    out.write_bytes(b"a much longer previous content")
    client.download_file("k.txt", out)
    assert out.read_bytes() == b"short"
    assert _files(tmp_path) == ["k.txt"]


def test_download_file_into_folder_keeps_key_name(client: S3Client, tmp_path: Path) -> None:
    client.upload_bytes(b"inside", "a/b/name.txt")
    folder = tmp_path / "dest"
    folder.mkdir()
    assert client.download_file("a/b/name.txt", folder) == str(folder / "name.txt")
    assert (folder / "name.txt").read_bytes() == b"inside"
    assert _files(folder) == ["name.txt"]


def test_download_missing_key_writes_nothing(client: S3Client, tmp_path: Path) -> None:
    folder = tmp_path / "dest"
    folder.mkdir()
    with pytest.raises(ObjectNotFound):
        client.download_file("no/such/key.txt", folder)
    with pytest.raises(ObjectNotFound):
        client.download_file("no/such/key.txt", folder / "sub" / "file.txt")
    assert _files(folder) == []


# -- listing, existence, deletion -------------------------------------------------------------


def test_list_files(client: S3Client) -> None:
    for key, body in [("b/2.txt", b"22"), ("a/1.txt", b"1"), ("a-z.txt", b"333"), ("c", b"")]:
        client.upload_bytes(body, key)
    files = client.list_files()
    assert all(isinstance(f, S3FileInfo) for f in files)
    assert sorted(f.key for f in files) == ["a-z.txt", "a/1.txt", "b/2.txt", "c"]
    by_key = {f.key: f for f in files}
    assert by_key["a-z.txt"].size == 3
    assert by_key["c"].size == 0
    for info in files:
        assert isinstance(info.last_modified, datetime)
        assert info.last_modified.tzinfo is not None
        assert info.etag
        assert info.storage_class == "STANDARD"
    assert by_key["b/2.txt"].etag == client.storage.head("b/2.txt").etag
    assert [f.key for f in client.list_files("a/")] == ["a/1.txt"]
    assert sorted(f.key for f in client.list_files("a")) == ["a-z.txt", "a/1.txt"]
    assert client.list_files("zzz") == []


def test_file_exists_and_delete_file(client: S3Client) -> None:
    client.upload_bytes(b"x", "to/delete")
    client.upload_bytes(b"y", "to/keep")
    assert client.file_exists("to/delete")
    assert not client.file_exists("to/del")
    assert client.delete_file("to/delete") is True
    assert not client.file_exists("to/delete")
    assert client.delete_file("to/delete") is False
    assert client.file_exists("to/keep")
    assert [f.key for f in client.list_files()] == ["to/keep"]


# -- missing buckets --------------------------------------------------------------------------


def test_ensure_bucket_creates_missing_bucket(
    backend: Backend, missing_bucket: str, tmp_path: Path
) -> None:
    session = backend.session()
    service = S3Service(session)
    client = S3Client(bucket=missing_bucket, session=session)
    assert not service.bucket_exists(missing_bucket)
    assert not client.file_exists("first.txt")  # asking does not create it
    assert not client.delete_file("first.txt")
    assert client.list_files() == []  # nor does listing
    assert not service.bucket_exists(missing_bucket)
    source = tmp_path / "first.txt"
    source.write_bytes(b"hello")
    assert client.upload_file(source) == "first.txt"
    assert service.bucket_exists(missing_bucket)
    assert client.download_bytes("first.txt") == b"hello"
    client.upload_bytes(b"again", "second.txt")
    assert [f.key for f in client.list_files()] == ["first.txt", "second.txt"]


def test_ensure_bucket_false_raises_bucket_not_found(backend: Backend, missing_bucket: str) -> None:
    client = S3Client(
        bucket=missing_bucket,
        ensure_bucket=False,
        endpoint_url=backend.endpoint,
        access_key_id=backend.access_key,
        secret_access_key=backend.secret_key,
        env={},
    )
    with pytest.raises(BucketNotFound, match=missing_bucket):
        client.upload_bytes(b"x", "k")
    with pytest.raises(BucketNotFound):
        client.list_files()
    assert not client.file_exists("k")
    assert not S3Service(client.session).bucket_exists(missing_bucket)
