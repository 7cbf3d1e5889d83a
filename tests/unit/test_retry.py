"""One retry policy for both clients: what it decides, and that the signed path and boto3 make
the same number of attempts (max_retries + 1) against a server that always fails."""

from __future__ import annotations

from typing import Any

import pytest

from s3kit._retry import RetryPolicy, retry_kind
from s3kit._session import Session
from s3kit.errors import S3KitError, UsageError
from tests.unit.fake_s3 import FakeS3


def session_for(url: str, **options: Any) -> Session:
    return Session(
        endpoint_url=url,
        access_key_id="AKIDFAKE",
        secret_access_key="fake-secret-value",
        env={},
        **options,
    )


# -- the policy itself --------------------------------------------------------------------------


def test_max_retries_n_means_n_plus_one_attempts() -> None:
    session = session_for("http://127.0.0.1:9", max_retries=3)
    assert session.retry_policy == RetryPolicy(max_attempts=4)
    assert session.retry_policy.retries == 3
    assert session_for("http://127.0.0.1:9", max_retries=0).retry_policy.max_attempts == 1


def test_the_default_is_four_retries() -> None:
    assert session_for("http://127.0.0.1:9").retry_policy.max_attempts == 5


@pytest.mark.parametrize(
    "options",
    [{"max_attempts": 0}, {"base_delay": -1.0}, {"throttle_delay": -0.5}, {"max_delay": -2.0}],
)
def test_the_policy_refuses_what_cannot_work(options: dict[str, Any]) -> None:
    with pytest.raises(UsageError):
        RetryPolicy(**options)


@pytest.mark.parametrize(
    ("status", "code", "kind"),
    [
        (503, "SlowDown", "throttled"),
        (400, "Throttling", "throttled"),
        (400, "RequestLimitExceeded", "throttled"),
        (429, "", "throttled"),
        (503, "", "transient"),
        (500, "InternalError", "transient"),
        (502, "", "transient"),
        (504, "", "transient"),
        (400, "RequestTimeout", "transient"),
        (404, "NoSuchKey", None),
        (403, "AccessDenied", None),
        (400, "InvalidArgument", None),
        (409, "ConditionalRequestConflict", None),
        (412, "PreconditionFailed", None),
        (501, "NotImplemented", None),
    ],
)
def test_what_is_worth_sending_again(status: int, code: str, kind: str | None) -> None:
    assert retry_kind(status, code) == kind


def test_delays_are_full_jitter_exponential_and_capped() -> None:
    policy = RetryPolicy(max_attempts=10, base_delay=0.05, throttle_delay=1.0, max_delay=20.0)
    top = [policy.delay(n, "transient", rand=lambda: 1.0) for n in (1, 2, 3)]
    assert top == [0.05, 0.1, 0.2]
    assert policy.delay(1, "throttled", rand=lambda: 1.0) == 1.0
    assert policy.delay(9, "throttled", rand=lambda: 1.0) == 20.0  # capped
    assert policy.delay(3, "connection", rand=lambda: 0.0) == 0.0
    assert policy.delay(2, "connection", rand=lambda: 0.5) == 0.05


def test_retrying_stops_at_the_last_attempt() -> None:
    policy = RetryPolicy(max_attempts=3)
    assert [policy.retrying(n, "transient") for n in (1, 2, 3)] == [True, True, False]
    assert not policy.retrying(1, None)


def test_boto3_is_configured_with_the_same_total() -> None:
    session = session_for("http://127.0.0.1:9", max_retries=2)
    retries = session.client("s3").meta.config.retries
    assert retries["total_max_attempts"] == 3
    assert retries["mode"] == "standard"


# -- attempts counted against a server that always fails ----------------------------------------


def http_attempts(fake: FakeS3, max_retries: int) -> int:
    session = session_for(fake.url, max_retries=max_retries)
    with pytest.raises(S3KitError):
        session.http().request("GET", "bucket", "key")
    return len(fake.requests)


def boto3_attempts(fake: FakeS3, max_retries: int) -> tuple[int, dict[str, Any]]:
    session = session_for(fake.url, max_retries=max_retries)
    with pytest.raises(Exception) as caught:
        session.client("s3").get_bucket_versioning(Bucket="bucket")
    return len(fake.requests), caught.value.response["ResponseMetadata"]  # type: ignore[attr-defined]


@pytest.mark.parametrize("max_retries", [0, 1, 3])
@pytest.mark.parametrize(("status", "code"), [(503, "ServiceUnavailable"), (500, "")])
def test_both_clients_make_max_retries_plus_one_attempts(
    max_retries: int, status: int, code: str
) -> None:
    with FakeS3(status, code) as fake:
        assert http_attempts(fake, max_retries) == max_retries + 1
    with FakeS3(status, code) as fake:
        attempts, meta = boto3_attempts(fake, max_retries)
    assert attempts == max_retries + 1
    assert meta["RetryAttempts"] == max_retries


def test_both_clients_retry_a_request_timeout_the_same() -> None:
    # S3 answers 400 RequestTimeout when it waited too long for the request's body: botocore
    # retries it, and so does the signed path, by the same rule.
    with FakeS3(400, "RequestTimeout") as fake:
        assert http_attempts(fake, 2) == 3
    with FakeS3(400, "RequestTimeout") as fake:
        assert boto3_attempts(fake, 2)[0] == 3


def test_neither_client_retries_a_refusal() -> None:
    with FakeS3(403, "AccessDenied") as fake:
        assert http_attempts(fake, 3) == 1
    with FakeS3(403, "AccessDenied") as fake:
        assert boto3_attempts(fake, 3)[0] == 1


def test_the_policy_decides_for_boto3_instead_of_botocores_own_handler() -> None:
    # botocore's standard handler marks the answer it gave up on; only one decider may run.
    with FakeS3(503, "ServiceUnavailable") as fake:
        _, meta = boto3_attempts(fake, 1)
    assert "MaxAttemptsReached" not in meta


def test_an_object_whose_bytes_are_an_s3_error_document_is_still_its_bytes() -> None:
    # Only CopyObject, UploadPartCopy and CompleteMultipartUpload send an error in a 200 body;
    # a GetObject's 200 body is the object, whatever it says — read whole, on either path.
    import asyncio

    with FakeS3(200, "InternalError") as fake:
        storage = session_for(fake.url, max_retries=2).storage("bucket")
        assert b"<Code>InternalError</Code>" in storage.get("looks-like-an-error.xml")
        assert len(fake.requests) == 1  # not retried as a server failure either
        body = asyncio.run(storage.get_async("looks-like-an-error.xml"))
        assert b"<Code>InternalError</Code>" in body
