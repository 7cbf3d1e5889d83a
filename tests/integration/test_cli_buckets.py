"""`s3kit mb | rb` against every backend."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest

from s3kit.service import S3Service
from tests.conftest import Backend, CliInvoker, unique_bucket_name
from tests.integration.cli_support import (
    assert_failed,
    assert_usage_error,
    bucket_names,
    keys,
    put,
)


@pytest.fixture
def new_name(backend: Backend) -> Iterator[str]:
    """A bucket name nobody has taken yet; whatever a test creates under it is removed."""
    name = unique_bucket_name("mb")
    yield name
    service = S3Service(backend.session())
    with contextlib.suppress(Exception):
        service.empty_bucket(name)
        service.delete_bucket(name)


def test_mb_creates_a_bucket(cli: CliInvoker, backend: Backend, new_name: str) -> None:
    result = cli("mb", f"s3://{new_name}", env=backend.env())
    assert result.exit_code == 0, result.stderr
    assert result.stdout == f"make_bucket: {new_name}\n"
    listing = cli("ls", env=backend.env())
    assert new_name in listing.stdout.split()


def test_mb_existing_bucket_fails_clearly(cli: CliInvoker, backend: Backend, bucket: str) -> None:
    result = cli("mb", f"s3://{bucket}", env=backend.env())
    assert_failed(result)
    assert "already exists" in result.stderr
    assert bucket in result.stderr


@pytest.mark.parametrize("name", ["Bad_Name", "ab", "bad..dots", "-leading", "192.168.1.1"])
def test_mb_invalid_name_is_a_usage_error(cli: CliInvoker, backend: Backend, name: str) -> None:
    before = bucket_names(backend)
    result = cli("mb", f"s3://{name}", env=backend.env())
    assert_usage_error(result)
    assert "invalid bucket name" in result.stderr
    assert bucket_names(backend) == before


def test_mb_with_a_key_is_a_usage_error(cli: CliInvoker, backend: Backend, new_name: str) -> None:
    result = cli("mb", f"s3://{new_name}/key", env=backend.env())
    assert_usage_error(result)
    assert new_name not in bucket_names(backend)


def test_rb_removes_an_empty_bucket(cli: CliInvoker, backend: Backend, new_name: str) -> None:
    S3Service(backend.session()).create_bucket(new_name)
    result = cli("rb", f"s3://{new_name}", env=backend.env())
    assert result.exit_code == 0, result.stderr
    assert result.stdout == f"remove_bucket: {new_name}\n"
    assert new_name not in bucket_names(backend)


def test_rb_refuses_a_non_empty_bucket(cli: CliInvoker, backend: Backend, bucket: str) -> None:
    put(backend, bucket, {"keep.txt": b"keep"})
    result = cli("rb", f"s3://{bucket}", env=backend.env())
    assert_failed(result)
    assert "not empty" in result.stderr
    assert "--force" in result.stderr
    assert bucket in bucket_names(backend)
    assert keys(backend, bucket) == ["keep.txt"]


def test_rb_missing_bucket_fails(cli: CliInvoker, backend: Backend, new_name: str) -> None:
    result = cli("rb", f"s3://{new_name}", env=backend.env())
    assert_failed(result)
    assert "does not exist" in result.stderr


def test_rb_force_removes_objects_then_the_bucket(
    cli: CliInvoker, backend: Backend, new_name: str
) -> None:
    S3Service(backend.session()).create_bucket(new_name)
    put(backend, new_name, {"a.txt": b"a", "dir/b.txt": b"b"})
    result = cli("rb", "--force", f"s3://{new_name}", env=backend.env())
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert sorted(lines[:-1]) == [
        f"delete: s3://{new_name}/a.txt",
        f"delete: s3://{new_name}/dir/b.txt",
    ]
    assert lines[-1] == f"remove_bucket: {new_name}"
    assert new_name not in bucket_names(backend)


def test_rb_force_removes_versions_and_delete_markers(
    cli: CliInvoker, backend: Backend, new_name: str
) -> None:
    S3Service(backend.session()).create_bucket(new_name)
    client = backend.session().client("s3")
    client.put_bucket_versioning(Bucket=new_name, VersioningConfiguration={"Status": "Enabled"})
    client.put_object(Bucket=new_name, Key="doc.txt", Body=b"v1")
    client.put_object(Bucket=new_name, Key="doc.txt", Body=b"v2")
    client.delete_object(Bucket=new_name, Key="doc.txt")  # leaves a delete marker
    versions = client.list_object_versions(Bucket=new_name)
    assert len(versions.get("Versions", [])) == 2, versions
    assert len(versions.get("DeleteMarkers", [])) == 1, versions

    result = cli("rb", "--force", f"s3://{new_name}", env=backend.env())
    assert result.exit_code == 0, result.stderr
    deletes = [line for line in result.stdout.splitlines() if line.startswith("delete:")]
    assert len(deletes) == 3, result.stdout
    assert all("(version " in line for line in deletes), result.stdout
    assert new_name not in bucket_names(backend)
