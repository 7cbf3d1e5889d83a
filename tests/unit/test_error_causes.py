"""Errors that name the real cause (issue 11 §4): the pure message logic, no server.

What a signed request asked of the server's encryption decides what an error answer means
(`from_code(..., encryption=...)`); which errors every item of a transfer run shares decides
where the run stops; a credential chain's failure names the profile and the step; typed
locations get their typo hint."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from botocore import exceptions as bce

from s3kit._session import credential_failure
from s3kit._uri import LocalPath, S3Url, parse_location, parse_s3_url, validate_bucket_name
from s3kit.errors import (
    BucketNotFound,
    CredentialsError,
    EndpointError,
    InvalidBucketName,
    NotSupported,
    ObjectNotFound,
    PermissionDenied,
    S3KitError,
    UsageError,
    from_code,
)
from s3kit.transfer.items import TransferItem
from s3kit.transfer.manager import stops_the_run

BUCKET, KEY = "photos", "2026/a.jpg"

# -- locations ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "length"), [("a", "1 character long"), ("ab", "2 characters long")]
)
def test_bucket_name_length_is_counted_in_words(name: str, length: str) -> None:
    with pytest.raises(InvalidBucketName) as caught:
        validate_bucket_name(name)
    assert f"it is {length} " in str(caught.value)


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("s3:/docs/x", "s3://docs/x"),
        ("S3:/docs/x", "s3://docs/x"),
        ("s3:docs/x", "s3://docs/x"),
        ("s3:/docs", "s3://docs"),
    ],
)
def test_an_s3_url_with_one_slash_gets_a_typo_hint(typed: str, meant: str) -> None:
    for parse in (parse_location, parse_s3_url):
        with pytest.raises(UsageError) as caught:
            parse(typed)
        assert f"did you mean {meant}?" in str(caught.value)


def test_a_local_path_that_starts_with_s3_colon_can_still_be_named() -> None:
    assert parse_location("./s3:/docs") == LocalPath(Path("s3:/docs"))
    assert parse_location("s3://docs/x") == S3Url("docs", "x")


# -- encryption answers ------------------------------------------------------------------------


@pytest.mark.parametrize("operation", ["GetObject", "HeadObject"])
@pytest.mark.parametrize("code", ["AccessDenied", "403"])
def test_a_403_to_a_read_with_an_sse_c_key_is_the_wrong_key(operation: str, code: str) -> None:
    error = from_code(
        code, 403, "", bucket=BUCKET, key=KEY, operation=operation, encryption="sse-c"
    )
    assert isinstance(error, PermissionDenied)
    assert "the SSE-C key does not match the one the object was written with" in str(error)
    assert "whoami" not in str(error)


def test_a_403_to_a_copy_with_a_source_key_is_the_source_key() -> None:
    error = from_code(
        "AccessDenied", 403, "", bucket=BUCKET, key=KEY, operation="CopyObject",
        encryption="sse-c-source",
    )  # fmt: skip
    assert isinstance(error, PermissionDenied)
    assert "copy source" in str(error) and "SSE-C key does not match" in str(error)


def test_a_403_to_a_write_with_an_sse_c_key_is_still_a_refusal() -> None:
    error = from_code(
        "AccessDenied", 403, "", bucket=BUCKET, key=KEY, operation="PutObject", encryption="sse-c"
    )
    assert isinstance(error, PermissionDenied)
    assert "access denied" in str(error)


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("InvalidArgument", "Requests specifying Server Side Encryption with Customer provided"
         " keys must provide the customer key."),
        ("InvalidRequest", "The object was stored using a form of Server Side Encryption."),
    ],
)  # fmt: skip
def test_a_400_to_a_read_without_a_key_asks_for_the_sse_c_key(code: str, message: str) -> None:
    error = from_code(code, 400, message, bucket=BUCKET, key=KEY, operation="GetObject")
    assert isinstance(error, PermissionDenied)
    assert "is encrypted with a customer key (SSE-C)" in str(error)
    assert "--sse-c-key-file" in str(error)


def test_a_bodyless_400_to_a_head_points_at_the_likely_sse_c_key() -> None:
    """A HEAD's 400 cannot say why: SSE-C without the key is the likely cause, not the sure one
    (a malformed version id is another)."""
    error = from_code("400", 400, "", bucket=BUCKET, key=KEY, operation="HeadObject")
    assert "without saying why" in str(error)
    assert "SSE-C" in str(error) and "--sse-c-key-file" in str(error)
    assert "is encrypted" not in str(error)


def test_another_400_to_a_read_is_left_as_it_was() -> None:
    error = from_code(
        "InvalidArgument", 400, "Invalid version id specified", bucket=BUCKET, key=KEY,
        operation="GetObject",
    )  # fmt: skip
    assert "SSE-C" not in str(error)


@pytest.mark.parametrize(("code", "status"), [("InternalError", 500), ("NotImplemented", 501)])
def test_a_server_failure_on_an_sse_kms_write_is_kms_not_supported(code: str, status: int) -> None:
    error = from_code(
        code, status, "We encountered an internal error, please try again.", bucket=BUCKET,
        key=KEY, operation="PutObject", encryption="aws:kms", endpoint="http://127.0.0.1:8333",
    )  # fmt: skip
    assert isinstance(error, NotSupported)
    assert "http://127.0.0.1:8333 does not support SSE-KMS" in str(error)
    assert "retry later" not in str(error)
    assert "s3kit probe" in str(error)


def test_a_server_failure_without_kms_is_still_a_server_failure() -> None:
    error = from_code("InternalError", 500, "", bucket=BUCKET, key=KEY, operation="PutObject")
    assert isinstance(error, EndpointError)


def test_sts_refusing_an_access_key_is_a_credentials_error() -> None:
    error = from_code("InvalidClientTokenId", 403, "The security token included in the request"
                      " is invalid.", operation="GetCallerIdentity")  # fmt: skip
    assert isinstance(error, CredentialsError)
    assert str(error).count("(") == str(error).count(")") <= 1, str(error)


# -- where a transfer run stops ----------------------------------------------------------------

UPLOAD = TransferItem(LocalPath(Path("a.txt")), S3Url(BUCKET, "a.txt"))
DOWNLOAD = TransferItem(S3Url(BUCKET, "a.txt"), LocalPath(Path("a.txt")))
COPY = TransferItem(S3Url(BUCKET, "a.txt"), S3Url("other", "a.txt"))


@pytest.mark.parametrize("item", [UPLOAD, DOWNLOAD, COPY])
@pytest.mark.parametrize("done", [False, True])
def test_no_bucket_and_no_credentials_stop_every_run(item: TransferItem, done: bool) -> None:
    for error in (BucketNotFound("gone"), CredentialsError("rejected")):
        assert stops_the_run(error, item, anything_done=done)


def test_a_refused_write_stops_the_run_only_before_anything_went_through() -> None:
    denied = PermissionDenied("access denied")
    assert stops_the_run(denied, UPLOAD, anything_done=False)
    # After a success the refusal is this key's (a policy on part of the prefix).
    assert not stops_the_run(denied, UPLOAD, anything_done=True)
    # A refused read is that object's: its ACL, its KMS key, its SSE-C key.
    assert not stops_the_run(denied, DOWNLOAD, anything_done=False)
    assert not stops_the_run(denied, COPY, anything_done=False)


@pytest.mark.parametrize(
    "error",
    [ObjectNotFound("gone"), EndpointError("cut"), S3KitError("other"), UsageError("bad key")],
)
def test_an_item_s_own_failure_never_stops_the_run(error: S3KitError) -> None:
    assert not stops_the_run(error, UPLOAD, anything_done=False)


# -- credential chains -------------------------------------------------------------------------

SSO = {"sso_start_url": "https://example.awsapps.com/start", "sso_role_name": "Dev"}
ROLE = {"role_arn": "arn:aws:iam::123456789012:role/deployer", "source_profile": "base"}


def _assume_role_refused() -> Any:
    response: Any = {
        "Error": {"Code": "AccessDenied", "Message": "not authorized to perform sts:AssumeRole"},
        "ResponseMetadata": {"HTTPStatusCode": 403},
    }
    return bce.ClientError(response, "AssumeRole")


@pytest.mark.parametrize(
    "exc",
    [
        bce.SSOTokenLoadError(error_msg="Token for https://example.awsapps.com/start does not"
                              " exist"),
        bce.UnauthorizedSSOTokenError(),
        bce.TokenRetrievalError(provider="sso", error_msg="refresh failed"),
    ],
)  # fmt: skip
def test_an_sso_failure_says_to_log_in(exc: Exception) -> None:
    error = credential_failure(exc, "dev", SSO)
    assert isinstance(error, CredentialsError)
    assert "profile 'dev'" in str(error)
    assert "aws sso login --profile dev" in str(error)


def test_an_unreachable_sts_names_the_role_and_the_endpoint() -> None:
    exc = bce.EndpointConnectionError(endpoint_url="http://127.0.0.1:9/")
    error = credential_failure(exc, "deploy", ROLE)
    assert isinstance(error, CredentialsError)
    assert "profile 'deploy'" in str(error)
    assert ROLE["role_arn"] in str(error)
    assert "http://127.0.0.1:9/" in str(error)
    assert "STS" in str(error)


def test_a_refused_assume_role_names_the_role_and_the_source() -> None:
    error = credential_failure(_assume_role_refused(), "deploy", ROLE)
    assert isinstance(error, CredentialsError)
    assert ROLE["role_arn"] in str(error) and "'base'" in str(error)
    assert "AccessDenied" in str(error)


def test_a_failed_credential_process_names_the_profile() -> None:
    exc = bce.CredentialRetrievalError(provider="custom-process", error_msg="exit status 2")
    error = credential_failure(exc, "ci", {"credential_process": "/usr/bin/get-creds"})
    assert isinstance(error, CredentialsError)
    assert "profile 'ci'" in str(error) and "credential_process" in str(error)
    assert "exit status 2" in str(error)


def test_something_else_is_left_alone() -> None:
    assert credential_failure(RuntimeError("x"), "dev", SSO) is None
