"""The request-event seam: a Session's subscribers hear of every attempt either client makes;
a subscriber that fails is logged and can never break a call; with no subscriber no event is
built; nothing secret is in an event."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from s3kit import events as events_module
from s3kit._session import Session
from s3kit.errors import S3KitError
from s3kit.events import RequestEvent, RequestEvents
from tests.unit.fake_s3 import REQUEST_ID, FakeS3

SECRET = "fake-secret-value-1234"


def session_for(url: str, **options: Any) -> Session:
    return Session(
        endpoint_url=url,
        access_key_id="AKIDFAKE",
        secret_access_key=SECRET,
        session_token="fake-session-token-5678",
        env={},
        **options,
    )


def an_event(**changes: Any) -> RequestEvent:
    fields: dict[str, Any] = {
        "client": "http",
        "operation": "GetObject",
        "method": "GET",
        "bucket": "b",
        "key": "k",
        "attempt": 1,
        "status": 200,
        "seconds": 0.01,
        "bytes_sent": 0,
        "bytes_received": 5,
        "request_id": "r",
        "error_code": None,
        "retrying": False,
        "retry_reason": None,
        "retry_delay": None,
    }
    return RequestEvent(**{**fields, **changes})


# -- the registry -------------------------------------------------------------------------------


def test_subscribers_hear_each_event_until_they_unsubscribe() -> None:
    bus = RequestEvents()
    assert not bus.active
    first: list[RequestEvent] = []
    second: list[RequestEvent] = []
    stop_first = bus.subscribe(first.append)
    bus.subscribe(second.append)
    assert bus.active
    event = an_event()
    bus.publish(event)
    stop_first()
    stop_first()  # a second call is harmless
    bus.publish(event)
    assert first == [event]
    assert second == [event, event]


def test_a_failing_subscriber_is_logged_and_the_others_still_hear(
    caplog: pytest.LogCaptureFixture,
) -> None:
    bus = RequestEvents()
    heard: list[RequestEvent] = []

    def broken(event: RequestEvent) -> None:
        raise RuntimeError("subscriber bug")

    bus.subscribe(broken)
    bus.subscribe(heard.append)
    with caplog.at_level(logging.DEBUG, logger="s3kit"):
        bus.publish(an_event())
        bus.publish(an_event())
    assert len(heard) == 2
    failures = [r for r in caplog.records if "subscriber" in r.getMessage()]
    assert failures and failures[0].levelno == logging.WARNING
    assert [r.levelno for r in failures[1:]] == [logging.DEBUG]  # said loudly once


def test_events_of_one_session_stay_with_it() -> None:
    one = session_for("http://127.0.0.1:9")
    other = session_for("http://127.0.0.1:9")
    assert one.events is not other.events
    shared = RequestEvents()
    assert session_for("http://127.0.0.1:9", events=shared).events is shared


# -- emitted by both clients ----------------------------------------------------------------------


def test_the_signed_path_reports_every_attempt() -> None:
    with FakeS3(503, "SlowDown") as fake:
        session = session_for(fake.url, max_retries=1)
        heard: list[RequestEvent] = []
        session.events.subscribe(heard.append)
        with pytest.raises(S3KitError):
            session.http().request("PUT", "bucket", "dir/key", body=b"12345")
    assert [(e.attempt, e.retrying) for e in heard] == [(1, True), (2, False)]
    for event in heard:
        assert event.client == "http"
        assert (event.operation, event.method) == ("PutObject", "PUT")
        assert (event.bucket, event.key) == ("bucket", "dir/key")
        assert (event.status, event.error_code, event.request_id) == (503, "SlowDown", REQUEST_ID)
        assert event.bytes_sent == 5
        assert event.seconds >= 0
    assert heard[0].retry_reason == "throttled" and heard[0].retry_delay is not None
    assert heard[1].retry_reason is None and heard[1].retry_delay is None


def test_boto3_reports_every_attempt() -> None:
    with FakeS3(500, "InternalError") as fake:
        session = session_for(fake.url, max_retries=2)
        heard: list[RequestEvent] = []
        session.events.subscribe(heard.append)
        with pytest.raises(Exception, match="InternalError"):
            session.client("s3").get_bucket_versioning(Bucket="bucket")
    assert [(e.attempt, e.retrying, e.retry_reason) for e in heard] == [
        (1, True, "transient"),
        (2, True, "transient"),
        (3, False, None),
    ]
    for event in heard:
        assert event.client == "boto3"
        assert (event.operation, event.method) == ("GetBucketVersioning", "GET")
        assert (event.bucket, event.key) == ("bucket", None)
        assert (event.status, event.error_code, event.request_id) == (
            500,
            "InternalError",
            REQUEST_ID,
        )


def test_a_failed_connection_is_an_event_without_status() -> None:
    with FakeS3(200) as fake:
        url = fake.url
    session = session_for(url, max_retries=1, connect_timeout=1)  # nobody listens there now
    heard: list[RequestEvent] = []
    session.events.subscribe(heard.append)
    with pytest.raises(S3KitError, match="cannot reach"):
        session.http().request("HEAD", "bucket", "key")
    assert [(e.operation, e.status, e.retrying) for e in heard] == [
        ("HeadObject", None, True),
        ("HeadObject", None, False),
    ]
    assert heard[0].retry_reason == "connection"


@pytest.mark.parametrize("client", ["http", "boto3"])
def test_a_raising_subscriber_never_breaks_a_call(client: str) -> None:
    with FakeS3(200) as fake:
        session = session_for(fake.url)

        def broken(event: RequestEvent) -> None:
            raise RuntimeError("subscriber bug")

        session.events.subscribe(broken)
        if client == "http":
            assert session.http().request("GET", "bucket", "key").status == 200
        else:
            session.client("s3").head_bucket(Bucket="bucket")
        assert len(fake.requests) == 1  # and it was not retried either


@pytest.mark.parametrize("client", ["http", "boto3"])
def test_without_subscribers_no_event_is_built(
    client: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    built: list[object] = []

    def counting(**fields: Any) -> RequestEvent:
        built.append(fields)
        return RequestEvent(**fields)

    for module in ("s3kit.storage.s3http", "s3kit._session"):
        monkeypatch.setattr(f"{module}.RequestEvent", counting)
    monkeypatch.setattr(events_module, "RequestEvent", counting)
    with FakeS3(503, "ServiceUnavailable") as fake:
        session = session_for(fake.url, max_retries=1)
        with pytest.raises(Exception):  # noqa: B017 - either client's own error
            if client == "http":
                session.http().request("GET", "bucket", "key")
            else:
                session.client("s3").head_bucket(Bucket="bucket")
        assert len(fake.requests) == 2
        assert built == []
        heard: list[RequestEvent] = []
        session.events.subscribe(heard.append)
        with pytest.raises(Exception):  # noqa: B017
            if client == "http":
                session.http().request("GET", "bucket", "key")
            else:
                session.client("s3").head_bucket(Bucket="bucket")
        assert len(built) == len(heard) == 2  # the counter does see events when they are built


@pytest.mark.parametrize("client", ["http", "boto3"])
def test_nothing_secret_is_in_an_event(client: str) -> None:
    with FakeS3(403, "AccessDenied") as fake:
        session = session_for(fake.url)
        heard: list[RequestEvent] = []
        session.events.subscribe(heard.append)
        with pytest.raises(Exception):  # noqa: B017
            if client == "http":
                session.http().request("GET", "bucket", "key", query={"versionId": "v1"})
            else:
                session.client("s3").get_object(Bucket="bucket", Key="key", VersionId="v1")
    assert len(heard) == 1
    text = repr(heard[0])
    for secret in (SECRET, "fake-session-token-5678", "Signature", "Credential", "AKIDFAKE"):
        assert secret not in text
