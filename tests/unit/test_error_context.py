"""Errors carry their context: S3 code, HTTP status, operation, bucket, key, request id and host
id, from either client, with their messages unchanged; `translating` maps any error once."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError

from s3kit._session import Session
from s3kit.errors import (
    BucketAlreadyExists,
    BucketNotFound,
    EndpointError,
    LocalPathError,
    NotSupported,
    ObjectNotFound,
    PermissionDenied,
    S3KitError,
    for_operation,
    from_code,
    translate,
    translating,
)
from s3kit.service import S3Service
from tests.unit.fake_s3 import HOST_ID, REQUEST_ID, FakeS3


def client_error(code: str, status: int, operation: str = "GetObject") -> ClientError:
    response: Any = {
        "Error": {"Code": code, "Message": "server says"},
        "ResponseMetadata": {
            "HTTPStatusCode": status,
            "RequestId": "REQ1",
            "HostId": "HOST1",
            "HTTPHeaders": {},
        },
    }
    return ClientError(response, operation)


def context(error: S3KitError) -> tuple[Any, ...]:
    return (
        error.code,
        error.status,
        error.operation,
        error.bucket,
        error.key,
        error.request_id,
        error.host_id,
    )


def session_for(url: str, **options: Any) -> Session:
    return Session(
        endpoint_url=url,
        access_key_id="AKIDFAKE",
        secret_access_key="fake-secret-value",
        env={},
        **options,
    )


def test_an_error_made_by_hand_has_no_context() -> None:
    assert context(S3KitError("boom")) == ("", None, None, None, None, None, None)


def test_from_code_keeps_what_it_was_told_and_its_message() -> None:
    error = from_code(
        "NoSuchKey",
        404,
        "",
        bucket="b",
        key="k",
        operation="GetObject",
        request_id="R",
        host_id="H",
    )
    assert type(error) is ObjectNotFound
    assert str(error) == "s3://b/k does not exist — check the key with `s3kit ls`"
    assert context(error) == ("NoSuchKey", 404, "GetObject", "b", "k", "R", "H")


def test_a_botocore_error_brings_its_ids_and_operation() -> None:
    error = translate(client_error("AccessDenied", 403, "GetBucketPolicy"), bucket="b")
    assert type(error) is PermissionDenied
    assert str(error).startswith("access denied to s3://b (server says)")
    assert context(error) == ("AccessDenied", 403, "GetBucketPolicy", "b", None, "REQ1", "HOST1")


def test_translating_maps_chains_and_fills_context() -> None:
    cause = client_error("NoSuchBucket", 404, "ListObjectVersions")
    with pytest.raises(BucketNotFound) as caught, translating(operation="X", bucket="b"):
        raise cause
    assert caught.value.__cause__ is cause
    assert caught.value.operation == "ListObjectVersions"  # the SDK's own name wins
    assert caught.value.request_id == "REQ1"

    with (
        pytest.raises(EndpointError) as unreachable,
        translating(operation="HeadBucket", bucket="b", endpoint="http://127.0.0.1:1"),
    ):
        raise EndpointConnectionError(endpoint_url="http://127.0.0.1:1")
    assert unreachable.value.operation == "HeadBucket"
    assert unreachable.value.bucket == "b"
    assert "cannot reach http://127.0.0.1:1" in str(unreachable.value)


def test_translating_lets_an_s3kit_error_through_with_what_it_lacked() -> None:
    original = ObjectNotFound("gone", key="k")
    with pytest.raises(ObjectNotFound) as caught, translating(operation="GetObject", bucket="b"):
        raise original
    assert caught.value is original
    assert (original.operation, original.bucket, original.key) == ("GetObject", "b", "k")


def test_translating_maps_os_errors_and_applies_the_adjustment() -> None:
    with pytest.raises(LocalPathError), translating(path="/data/x"):
        raise FileNotFoundError(2, "No such file")

    def adjust(error: S3KitError) -> S3KitError:
        return for_operation(error, "put_bucket_website", "http://store")

    with (
        pytest.raises(NotSupported) as caught,
        translating(operation="PutBucketWebsite", bucket="b", adjust=adjust),
    ):
        raise client_error("BucketAlreadyOwnedByYou", 409, "PutBucketWebsite")
    assert "does not support website" in str(caught.value)
    # the error it stands for keeps the server's word for it
    assert context(caught.value)[:3] == ("BucketAlreadyOwnedByYou", 409, "PutBucketWebsite")
    assert caught.value.request_id == "REQ1"


def test_for_operation_keeps_the_context() -> None:
    error = from_code("BucketAlreadyExists", 409, "", bucket="b", request_id="R")
    assert type(error) is BucketAlreadyExists
    changed = for_operation(error, "put_public_access_block", "http://store")
    assert type(changed) is NotSupported
    assert (changed.code, changed.status, changed.bucket, changed.request_id) == (
        "BucketAlreadyExists",
        409,
        "b",
        "R",
    )


def test_secrets_stay_out_of_messages() -> None:
    error = from_code("Teapot", 418, "X-Amz-Signature=abc123", bucket="b", key="k")
    assert "abc123" not in str(error)


# -- from the two clients, against a scripted server ---------------------------------------------


def test_the_signed_path_names_code_status_operation_and_ids() -> None:
    with FakeS3(404, "NoSuchKey") as fake:
        http = session_for(fake.url).http()
        with pytest.raises(ObjectNotFound) as caught:
            http.request("GET", "bucket", "dir/key")
        with pytest.raises(ObjectNotFound) as named:
            http.request("GET", "bucket", "dir/key", operation="GetObjectRange")
    assert str(caught.value) == "s3://bucket/dir/key does not exist — check the key with `s3kit ls`"
    assert context(caught.value) == (
        "NoSuchKey",
        404,
        "GetObject",
        "bucket",
        "dir/key",
        REQUEST_ID,
        HOST_ID,
    )
    assert named.value.operation == "GetObjectRange"


def test_a_bodyless_answer_is_named_by_its_status_as_botocore_does() -> None:
    # HEAD answers carry no body: a key's 404 is looked into with one HEAD of the bucket, which
    # this server (404 to everything) answers 404 too, so the bucket is what is missing.
    with FakeS3(404, "NoSuchKey") as fake, pytest.raises(BucketNotFound) as caught:
        session_for(fake.url).http().request("HEAD", "bucket", "key")
    assert [(seen.method, seen.path) for seen in fake.requests] == [
        ("HEAD", "/bucket/key"),
        ("HEAD", "/bucket"),
    ]
    assert context(caught.value) == ("404", 404, "HeadBucket", "bucket", None, REQUEST_ID, HOST_ID)


def test_a_connection_failure_names_its_operation() -> None:
    with FakeS3(200) as fake:
        url = fake.url
    with pytest.raises(EndpointError) as caught:
        session_for(url, max_retries=0).http().request("DELETE", "bucket", "key")
    assert (caught.value.operation, caught.value.bucket, caught.value.key) == (
        "DeleteObject",
        "bucket",
        "key",
    )
    assert (caught.value.status, caught.value.request_id) == (None, None)


def test_a_service_call_names_code_status_operation_and_ids() -> None:
    with FakeS3(404, "NoSuchBucket") as fake:
        service = S3Service(session_for(fake.url))
        with pytest.raises(BucketNotFound) as caught:
            service.get_versioning("missing")
    assert str(caught.value).startswith("bucket 'missing' does not exist")
    assert context(caught.value) == (
        "NoSuchBucket",
        404,
        "GetBucketVersioning",
        "missing",
        None,
        REQUEST_ID,
        HOST_ID,
    )
