"""A canned ACL on new objects (`cp/mv/sync --acl`, `WriteOptions.acl`): checked before any
request, sent as x-amz-acl, and a bucket with ACLs disabled says so in one line."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from s3kit.cli.app import app
from s3kit.errors import NotSupported, UsageError, from_code
from s3kit.transfer import WriteOptions
from tests.unit.fake_s3 import FakeS3

DISABLED = "The bucket does not allow ACLs"


def test_a_canned_acl_becomes_the_x_amz_acl_header() -> None:
    assert WriteOptions(acl="public-read").acl_headers() == {"x-amz-acl": "public-read"}
    assert WriteOptions().acl_headers() == {}


def test_an_unknown_acl_is_refused_before_any_request() -> None:
    with pytest.raises(UsageError, match="unknown ACL 'public' — choose one of private,"):
        WriteOptions(acl="public")


def test_acls_disabled_is_one_line_that_says_what_to_do() -> None:
    error = from_code("AccessControlListNotSupported", 400, DISABLED, bucket="b", key="k")
    assert isinstance(error, NotSupported)
    assert error.message == (
        "s3://b/k: the bucket has ACLs disabled (Object Ownership is BucketOwnerEnforced), so it"
        " refuses any ACL — drop --acl and grant access with a bucket policy"
    )
    assert "\n" not in error.message


def test_cp_to_a_bucket_without_acls(tmp_path: Path) -> None:
    """(The fake answers every request alike; for sync the listing would fail first.)"""
    source = tmp_path / "a.txt"
    source.write_bytes(b"a")
    with FakeS3(400, "AccessControlListNotSupported", message=DISABLED) as fake:
        env = {"S3KIT_ENDPOINT_URL": fake.url, "S3KIT_ACCESS_KEY_ID": "id",
               "S3KIT_SECRET_ACCESS_KEY": "secret", "S3KIT_MAX_RETRIES": "0"}  # fmt: skip
        args = ["cp", str(source), "s3://bucket/a.txt", "--acl", "public-read"]
        result = CliRunner().invoke(app, args, env=env)
        methods = [request.method for request in fake.requests]
    assert methods == ["PUT"]
    assert result.exit_code == 1
    assert result.stderr == (
        "s3kit: error: s3://bucket/a.txt: the bucket has ACLs disabled (Object Ownership is"
        " BucketOwnerEnforced), so it refuses any ACL — drop --acl and grant access with a"
        " bucket policy\n"
    )
