"""The one seam every remote call passes, against real servers: one event per request from the
signed path and from boto3, and errors that name their S3 code, status, operation and request
id as each server sends them."""

from __future__ import annotations

import pytest

from s3kit.errors import BucketNotFound, ObjectNotFound
from s3kit.events import RequestEvent
from s3kit.service import S3Service
from tests.conftest import Backend, unique_bucket_name

# What the servers send (seen with SeaweedFS 4.x and moto 5.x): SeaweedFS an x-amz-request-id
# header with every answer and no host id anywhere; moto an x-amzn-requestid header (no
# x-amz-request-id) and, in an error's XML body only, a HostId, which botocore drops when the
# request id came in a header — so only the signed path reports moto's host id.
HOST_ID_IN_ERROR_BODY = {"seaweedfs": False, "moto": True}


def test_one_event_per_signed_request(backend: Backend, bucket: str) -> None:
    session = backend.session()
    storage = session.storage(bucket)
    heard: list[RequestEvent] = []
    session.events.subscribe(heard.append)

    storage.put("seam/k.txt", b"hello")
    assert storage.get("seam/k.txt") == b"hello"
    assert storage.head("seam/k.txt").size == 5

    assert [(e.client, e.operation, e.method, e.status) for e in heard] == [
        ("http", "PutObject", "PUT", 200),
        ("http", "GetObject", "GET", 200),
        ("http", "HeadObject", "HEAD", 200),
    ]
    for event in heard:
        assert (event.bucket, event.key, event.attempt) == (bucket, "seam/k.txt", 1)
        assert not event.retrying and event.error_code is None
        assert event.request_id
    assert (heard[0].bytes_sent, heard[1].bytes_received) == (5, 5)


def test_one_event_per_boto3_call(backend: Backend, bucket: str) -> None:
    session = backend.session()
    service = S3Service(session)
    session.client("s3")  # built before listening: only the call itself is heard
    heard: list[RequestEvent] = []
    session.events.subscribe(heard.append)

    service.get_versioning(bucket)

    assert [(e.client, e.operation, e.method, e.status, e.attempt) for e in heard] == [
        ("boto3", "GetBucketVersioning", "GET", 200, 1)
    ]
    assert heard[0].bucket == bucket
    assert heard[0].request_id


def test_a_missing_key_names_code_status_operation_and_request_id(
    backend: Backend, bucket: str
) -> None:
    session = backend.session()
    heard: list[RequestEvent] = []
    session.events.subscribe(heard.append)
    with pytest.raises(ObjectNotFound) as caught:
        session.storage(bucket).get("seam/absent")
    error = caught.value
    assert str(error) == f"s3://{bucket}/seam/absent does not exist — check the key with `s3kit ls`"
    assert (error.code, error.status, error.operation) == ("NoSuchKey", 404, "GetObject")
    assert (error.bucket, error.key) == (bucket, "seam/absent")
    assert error.request_id
    assert bool(error.host_id) == HOST_ID_IN_ERROR_BODY[backend.name]
    [event] = heard
    assert (event.status, event.error_code, event.request_id) == (
        404,
        "NoSuchKey",
        error.request_id,
    )
    assert not event.retrying


def test_a_boto3_call_on_a_missing_bucket_names_code_status_operation_and_request_id(
    backend: Backend,
) -> None:
    session = backend.session()
    session.client("s3")
    heard: list[RequestEvent] = []
    session.events.subscribe(heard.append)
    missing = unique_bucket_name("gone")
    with pytest.raises(BucketNotFound) as caught:
        S3Service(session).get_versioning(missing)
    error = caught.value
    assert (
        str(error)
        == f"bucket '{missing}' does not exist — create it with `s3kit mb s3://{missing}`"
    )
    assert (error.code, error.status, error.operation) == (
        "NoSuchBucket",
        404,
        "GetBucketVersioning",
    )
    assert error.bucket == missing
    assert error.request_id
    assert error.host_id is None
    [event] = heard
    assert (event.client, event.status, event.error_code) == ("boto3", 404, "NoSuchBucket")
    assert event.request_id == error.request_id
