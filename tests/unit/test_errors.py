"""s3kit.errors: the error vocabulary and `translate`, fed real botocore errors, the signed
path's answers and OS errors."""

from __future__ import annotations

import errno
from typing import Any

import pytest
from botocore.exceptions import (
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    PartialCredentialsError,
    ProfileNotFound,
)

from s3kit import errors
from s3kit.errors import (
    BucketAlreadyExists,
    BucketNotEmpty,
    BucketNotFound,
    ConfigError,
    ConflictError,
    CredentialsError,
    EndpointError,
    InvalidBucketName,
    InvalidKey,
    LocalPathError,
    LocalServerError,
    NotSupported,
    ObjectNotFound,
    PermissionDenied,
    S3KitError,
    Throttled,
    TransferError,
    UsageError,
    from_code,
    translate,
)

BUCKET = "photos-2024"


def client_error(code: str, status: int, message: str = "", operation: str = "GetObject") -> Any:
    response: Any = {
        "Error": {"Code": code, "Message": message},
        "ResponseMetadata": {"HTTPStatusCode": status, "RequestId": "R1", "HTTPHeaders": {}},
    }
    return ClientError(response, operation)


# -- the hierarchy ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cls", "builtin"),
    [
        (UsageError, ValueError),
        (InvalidBucketName, ValueError),
        (InvalidKey, ValueError),
        (CredentialsError, PermissionError),
        (BucketNotFound, FileNotFoundError),
        (ObjectNotFound, FileNotFoundError),
        (LocalPathError, OSError),
        (PermissionDenied, PermissionError),
        (BucketAlreadyExists, FileExistsError),
        (EndpointError, ConnectionError),
        (NotSupported, NotImplementedError),
    ],
)
def test_subclasses_inherit_the_matching_builtin(cls: type[S3KitError], builtin: type) -> None:
    error = cls("boom")
    assert isinstance(error, S3KitError)
    assert isinstance(error, builtin)
    with pytest.raises(builtin):
        raise error


@pytest.mark.parametrize(
    ("cls", "exit_code"),
    [
        (S3KitError, 1),
        (UsageError, 2),
        (InvalidBucketName, 2),
        (InvalidKey, 2),
        (ConfigError, 1),
        (CredentialsError, 1),
        (BucketNotFound, 1),
        (ObjectNotFound, 1),
        (LocalPathError, 1),
        (PermissionDenied, 1),
        (BucketAlreadyExists, 1),
        (BucketNotEmpty, 1),
        (ConflictError, 1),
        (Throttled, 1),
        (EndpointError, 1),
        (TransferError, 1),
        (NotSupported, 1),
        (LocalServerError, 1),
    ],
)
def test_exit_codes(cls: type[S3KitError], exit_code: int) -> None:
    assert cls("x").exit_code == exit_code


def test_credentials_error_is_a_config_error() -> None:
    assert issubclass(CredentialsError, ConfigError)
    assert issubclass(InvalidBucketName, UsageError)


def test_message_property_and_str() -> None:
    error = ObjectNotFound("s3://b/k does not exist")
    assert error.message == "s3://b/k does not exist"
    assert str(error) == "s3://b/k does not exist"


def test_message_is_redacted_when_built() -> None:
    url = "https://b.s3.amazonaws.com/k?X-Amz-Credential=AKIA%2F1&X-Amz-Signature=abc123"
    error = S3KitError(f"request to {url} failed")
    assert "abc123" not in str(error)
    assert "X-Amz-Signature=***" in str(error)
    assert "AKIA%2F1" not in str(error)
    assert str(error).startswith("request to https://b.s3.amazonaws.com/k?")


# -- botocore ClientError ---------------------------------------------------------------------


def test_no_such_bucket() -> None:
    exc = client_error("NoSuchBucket", 404, "The specified bucket does not exist")
    error = translate(exc, bucket=BUCKET, key="a.jpg")
    assert type(error) is BucketNotFound
    assert str(error) == (
        f"bucket '{BUCKET}' does not exist — create it with `s3kit mb s3://{BUCKET}`"
    )


def test_no_such_key() -> None:
    error = translate(client_error("NoSuchKey", 404), bucket=BUCKET, key="a.jpg")
    assert type(error) is ObjectNotFound
    assert f"s3://{BUCKET}/a.jpg does not exist" in str(error)
    assert "s3kit ls" in str(error)


def test_head_object_404_with_key_is_object_not_found() -> None:
    # HeadObject has no body, so botocore reports the bare status as the code.
    error = translate(client_error("404", 404, "Not Found", "HeadObject"), bucket=BUCKET, key="k")
    assert type(error) is ObjectNotFound
    assert f"s3://{BUCKET}/k" in str(error)


def test_head_bucket_404_without_key_is_bucket_not_found() -> None:
    error = translate(client_error("404", 404, "Not Found", "HeadBucket"), bucket=BUCKET)
    assert type(error) is BucketNotFound
    assert f"s3kit mb s3://{BUCKET}" in str(error)


def test_no_such_version() -> None:
    error = translate(client_error("NoSuchVersion", 404, "bad version"), bucket=BUCKET, key="k")
    assert type(error) is ObjectNotFound
    assert str(error) == f"that version of s3://{BUCKET}/k does not exist (bad version)"


def test_access_denied() -> None:
    exc = client_error("AccessDenied", 403, "Access Denied")
    error = translate(exc, bucket=BUCKET, key="private/x")
    assert type(error) is PermissionDenied
    assert isinstance(error, PermissionError)
    message = str(error)
    assert f"access denied to s3://{BUCKET}/private/x (Access Denied)" in message
    assert "s3kit whoami" in message


def test_bare_403_is_access_denied() -> None:
    error = translate(client_error("", 403), bucket=BUCKET)
    assert type(error) is PermissionDenied
    assert f"s3://{BUCKET}" in str(error)


@pytest.mark.parametrize(
    "code", ["InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken", "InvalidToken"]
)
def test_rejected_credentials(code: str) -> None:
    error = translate(client_error(code, 403, "nope"), bucket=BUCKET)
    assert type(error) is CredentialsError
    message = str(error)
    assert f"the server rejected the credentials ({code})" in message
    assert "s3kit whoami" in message
    assert "--profile" in message


def test_bucket_already_owned_by_you() -> None:
    error = translate(
        client_error("BucketAlreadyOwnedByYou", 409, "", "CreateBucket"), bucket=BUCKET
    )
    assert type(error) is BucketAlreadyExists
    assert str(error) == f"bucket '{BUCKET}' already exists and is yours"


def test_bucket_already_exists_elsewhere() -> None:
    error = translate(client_error("BucketAlreadyExists", 409, "", "CreateBucket"), bucket=BUCKET)
    assert type(error) is BucketAlreadyExists
    assert f"'{BUCKET}' is taken by another account — choose another name" in str(error)


def test_bucket_not_empty() -> None:
    exc = client_error("BucketNotEmpty", 409, "The bucket you tried to delete is not empty")
    error = translate(exc, bucket=BUCKET)
    assert type(error) is BucketNotEmpty
    assert f"bucket '{BUCKET}' is not empty" in str(error)
    assert f"s3kit rb --force s3://{BUCKET}" in str(error)


def test_invalid_bucket_name_from_server() -> None:
    error = translate(client_error("InvalidBucketName", 400, "bad name"), bucket="Bad_Name")
    assert type(error) is InvalidBucketName
    assert str(error) == "invalid bucket name 'Bad_Name' (bad name)"
    assert error.exit_code == 2


@pytest.mark.parametrize(
    ("code", "status"),
    [("PreconditionFailed", 412), ("ConditionalRequestConflict", 409), ("", 412)],
)
def test_precondition_failed(code: str, status: int) -> None:
    error = translate(client_error(code, status), bucket=BUCKET, key="k")
    assert type(error) is ConflictError
    assert f"s3://{BUCKET}/k changed or already exists" in str(error)


@pytest.mark.parametrize(
    ("code", "status"),
    [("SlowDown", 503), ("Throttling", 400), ("RequestLimitExceeded", 400), ("", 429), ("", 503)],
)
def test_throttling(code: str, status: int) -> None:
    error = translate(client_error(code, status, "Please reduce your request rate."), bucket=BUCKET)
    assert type(error) is Throttled
    message = str(error)
    assert f"throttling requests to s3://{BUCKET}" in message
    assert "--concurrency" in message
    assert "S3KIT_MAX_RETRIES" in message


@pytest.mark.parametrize(("code", "status"), [("NotImplemented", 501), ("", 501)])
def test_not_implemented(code: str, status: int) -> None:
    exc = client_error(code, status, "A header you provided implies unimplemented functionality")
    error = translate(exc, bucket=BUCKET, endpoint="http://127.0.0.1:8333")
    assert type(error) is NotSupported
    assert str(error).startswith("http://127.0.0.1:8333 does not support this operation (A header")


def test_not_implemented_without_endpoint() -> None:
    error = translate(client_error("NotImplemented", 501))
    assert str(error) == "this endpoint does not support this operation"


def test_invalid_range() -> None:
    error = translate(client_error("InvalidRange", 416), bucket=BUCKET, key="k")
    assert type(error) is UsageError
    assert f"outside s3://{BUCKET}/k" in str(error)


def test_internal_error_500() -> None:
    error = translate(client_error("InternalError", 500, "We encountered an internal error"))
    assert type(error) is EndpointError
    assert str(error) == (
        "the server failed (500 InternalError: We encountered an internal error) — retry later"
    )


def test_unknown_code_keeps_code_and_location() -> None:
    error = translate(client_error("WeirdThing", 400, "odd"), bucket=BUCKET, key="k")
    assert type(error) is S3KitError
    assert str(error) == f"s3://{BUCKET}/k: WeirdThing (odd)"


def test_client_error_message_is_redacted() -> None:
    exc = client_error("AccessDenied", 403, "denied for X-Amz-Signature=abc123def")
    error = translate(exc, bucket=BUCKET)
    assert "abc123def" not in str(error)
    assert "X-Amz-Signature=***" in str(error)


# -- other botocore errors --------------------------------------------------------------------


def test_endpoint_connection_error() -> None:
    exc = EndpointConnectionError(endpoint_url="http://127.0.0.1:1/b")
    error = translate(exc, bucket=BUCKET, endpoint="http://127.0.0.1:1")
    assert type(error) is EndpointError
    assert isinstance(error, ConnectionError)
    assert str(error) == (
        "cannot reach http://127.0.0.1:1 — check --endpoint-url and that the server is running"
    )


def test_endpoint_connection_error_without_endpoint() -> None:
    error = translate(EndpointConnectionError(endpoint_url="https://s3.amazonaws.com"))
    assert str(error).startswith("cannot reach the S3 endpoint")


@pytest.mark.parametrize(
    "exc",
    [NoCredentialsError(), PartialCredentialsError(provider="env", cred_var="AWS_SECRET")],
)
def test_missing_credentials(exc: Exception) -> None:
    error = translate(exc)
    assert type(error) is CredentialsError
    assert "no credentials found" in str(error)
    assert "AWS_ACCESS_KEY_ID" in str(error)


def test_profile_not_found() -> None:
    error = translate(ProfileNotFound(profile="ghost"))
    assert type(error) is CredentialsError
    assert "ghost" in str(error)
    assert "~/.aws/config" in str(error)


# -- answers of the signed-request path (S3Http.error_for builds them with from_code) --------


def test_head_404_without_body_is_a_missing_object_or_bucket() -> None:
    assert type(from_code("", 404, "", bucket=BUCKET, key="k")) is ObjectNotFound
    assert type(from_code("", 404, "", bucket=BUCKET)) is BucketNotFound


def test_server_message_with_a_signature_is_redacted() -> None:
    error = from_code("Teapot", 418, "see X-Amz-Signature=abc123", bucket=BUCKET, key="k")
    assert "abc123" not in str(error)
    assert str(error) == f"s3://{BUCKET}/k: Teapot (see X-Amz-Signature=***)"


# -- OS errors --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (FileNotFoundError(errno.ENOENT, "No such file"), "/data/x: no such file or folder"),
        (PermissionError(errno.EACCES, "Permission denied"), "/data/x: permission denied"),
        (
            IsADirectoryError(errno.EISDIR, "Is a directory"),
            "/data/x is a folder — add --recursive to copy folders",
        ),
        (OSError(errno.ENOSPC, "No space left on device"), "/data/x: no space left on device"),
        (OSError(errno.EIO, "Input/output error"), "/data/x: Input/output error"),
    ],
)
def test_os_errors_become_local_path_errors(exc: OSError, expected: str) -> None:
    error = translate(exc, path="/data/x")
    assert type(error) is LocalPathError
    assert isinstance(error, OSError)
    assert str(error) == expected


def test_os_error_uses_its_own_filename_without_path() -> None:
    error = translate(FileNotFoundError(errno.ENOENT, "No such file", "/tmp/gone.txt"))
    assert str(error) == "/tmp/gone.txt: no such file or folder"


def test_builtin_connection_error_is_endpoint_error() -> None:
    error = translate(ConnectionRefusedError(errno.ECONNREFUSED, "refused"), endpoint="http://x:1")
    assert type(error) is EndpointError
    assert "cannot reach http://x:1" in str(error)


# -- translate in general ---------------------------------------------------------------------


def test_s3kit_errors_pass_through_unchanged() -> None:
    original = BucketNotEmpty("already translated")
    assert translate(original) is original


def test_anything_else_keeps_its_type_name() -> None:
    error = translate(RuntimeError("unexpected"))
    assert type(error) is S3KitError
    assert str(error) == "RuntimeError: unexpected"


def test_translate_does_not_import_botocore_for_non_botocore_errors(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Without botocore loaded, a ClientError-shaped error is not inspected as one.
    import sys

    monkeypatch.delitem(sys.modules, "botocore")
    assert errors._translate_botocore(ValueError("x"), None, None, None) is None
    assert "botocore" not in sys.modules
