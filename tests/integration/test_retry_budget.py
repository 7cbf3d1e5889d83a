"""Retries against a real server behind FaultProxy, counted by the proxy itself. Once an
endpoint answers every request 503, a Session's requests stop being retried when its retry
budget is spent — through the signed path and boto3 alike — and the errors say why. Under
random faults, every attempt that reached the proxy is one request event: no retry is made
where the policy cannot see it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from s3kit._session import Session
from s3kit._uri import LocalPath, S3Url
from s3kit.errors import S3KitError, translating
from s3kit.events import RequestEvent
from s3kit.transfer import TransferConfig, TransferManager
from tests.conftest import Backend, unique_bucket_name
from tests.integration.proxy import ErrorReply, FaultProxy, Reset, Truncate, matching


@pytest.fixture
def proxied(seaweed: Backend) -> Iterator[tuple[Session, FaultProxy, str]]:
    bucket = unique_bucket_name("budget")
    direct = seaweed.session()
    direct.client("s3").create_bucket(Bucket=bucket)
    with FaultProxy(seaweed.endpoint) as proxy:
        # 20 tokens at 5 a retry: four retries in all, for every request of this Session.
        session = Session(
            endpoint_url=proxy.url,
            access_key_id=seaweed.access_key,
            secret_access_key=seaweed.secret_key,
            max_retries=3,
            retry_budget=20,
            env={},
        )
        yield session, proxy, bucket
    storage = direct.storage(bucket)
    for key in ("a", "b"):
        storage.delete(key)
    direct.client("s3").delete_bucket(Bucket=bucket)


def test_requests_stop_once_the_budget_is_spent_on_both_clients(
    proxied: tuple[Session, FaultProxy, str],
) -> None:
    session, proxy, bucket = proxied
    storage = session.storage(bucket)
    storage.put("a", b"before the outage")  # through the proxy, untouched
    outage = proxy.add_fault(ErrorReply("ServiceUnavailable", "Reduce your rate", 503), times=None)

    def signed() -> S3KitError:
        with pytest.raises(S3KitError) as caught:
            storage.put("b", b"during the outage")
        return caught.value

    def boto3() -> S3KitError:
        with pytest.raises(S3KitError) as caught, translating(bucket=bucket, key="a"):
            session.client("s3").head_object(Bucket=bucket, Key="a")
        return caught.value

    attempts: list[int] = []
    errors: list[S3KitError] = []
    for call in (signed, boto3, signed, boto3):
        before = outage.faulted
        errors.append(call())
        attempts.append(outage.faulted - before)
    # 3 retries (15 tokens), then 1 (the last 5) and refused the next; then none at all.
    assert attempts == [4, 2, 1, 1]
    assert "retry budget" not in str(errors[0])
    assert all("retry budget is spent" in str(error) for error in errors[1:])
    assert all(error.status == 503 for error in errors)
    assert session.retry_budget.available == 0

    proxy.clear_faults()
    assert storage.get("a") == b"before the outage"  # the endpoint is back: a success refunds
    assert session.retry_budget.available == 1


def test_every_attempt_the_proxy_saw_is_one_event(
    proxied: tuple[Session, FaultProxy, str], seaweed: Backend
) -> None:
    _, proxy, bucket = proxied
    session = Session(
        endpoint_url=proxy.url,
        access_key_id=seaweed.access_key,
        secret_access_key=seaweed.secret_key,
        env={},
    )
    storage = session.storage(bucket)
    storage.put("a", b"x" * 4096)
    heard: list[RequestEvent] = []
    session.events.subscribe(heard.append)
    chance = proxy.add_random_faults(
        0.2,
        seed=7,
        faults={
            "500": (ErrorReply("InternalError", status=500), None),
            "reset before": (Reset("request"), None),
            "reset after": (Reset("response"), None),
            "cut short": (Truncate(), matching(method="GET")),
        },
    )
    for _ in range(10):
        assert storage.get("a") == b"x" * 4096
        assert storage.head("a").size == 4096
    assert sum(chance.injected.values()) >= 3
    assert len(heard) == chance.considered
    assert sum(e.retrying for e in heard) == sum(chance.injected.values())


def test_a_download_cut_short_every_time_stops_when_the_budget_is_spent(
    seaweed: Backend, proxied: tuple[Session, FaultProxy, str], tmp_path: Path
) -> None:
    # Asking again for a part whose body was cut short is a retry like any other: paid from
    # the Session's budget, not max_retries more GETs for every part of every file.
    _, proxy, bucket = proxied
    seaweed.session().storage(bucket).put("a", b"x" * (6 * 1024 * 1024))
    session = Session(
        endpoint_url=proxy.url, access_key_id=seaweed.access_key,
        secret_access_key=seaweed.secret_key, max_retries=10, retry_budget=10, env={},
    )  # fmt: skip
    cut = proxy.add_fault(Truncate(), match=matching(method="GET"), times=None)
    config = TransferConfig(
        journal_dir=tmp_path / "j", multipart_threshold=5 * 1024 * 1024,
        multipart_chunksize=5 * 1024 * 1024,
    )  # fmt: skip
    target = tmp_path / "a"
    with pytest.raises(S3KitError, match="retry budget"):
        TransferManager(session, config=config).run(S3Url(bucket, "a"), LocalPath(target))
    assert cut.faulted <= 6  # two parts, a few re-asks: not eleven GETs for each
    assert not target.exists()
