"""Small GetObject/PutObject sent from the event loop (`S3Http.send_small_async`, and
`request_async` for a small PutObject): no thread involved, and every attempt signed, retried,
reported and its error translated exactly as the thread path (`S3Http.request`) does it."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from s3kit.errors import S3KitError
from s3kit.events import RequestEvent
from tests.unit.fake_s3 import FakeS3
from tests.unit.test_events import session_for


def _attempts(heard: list[RequestEvent]) -> list[tuple[Any, ...]]:
    return [
        (e.operation, e.method, e.attempt, e.status, e.error_code, e.retrying, e.retry_reason,
         e.bytes_sent, e.bytes_received, e.request_id)
        for e in heard
    ]  # fmt: skip


@pytest.mark.parametrize("method", ["PUT", "GET"])
def test_the_loop_path_reports_and_fails_as_the_thread_path(method: str) -> None:
    body = b"12345" if method == "PUT" else None
    with FakeS3(500, "InternalError") as fake:
        outcomes = []
        for on_loop in (False, True):
            session = session_for(fake.url, max_retries=1)
            heard: list[RequestEvent] = []
            session.events.subscribe(heard.append)
            http = session.http()
            with pytest.raises(S3KitError) as caught:
                if on_loop:
                    asyncio.run(http.send_small_async(method, "b", "dir/k", body=body, limit=10))
                else:
                    http.request(method, "b", "dir/k", body=body)
            http.close()
            error = caught.value
            outcomes.append((type(error), str(error), error.code, error.status, _attempts(heard)))
    assert outcomes[0] == outcomes[1]
    assert [a[2] for a in outcomes[1][4]] == [1, 2]  # both attempts, each reported once


def test_a_small_put_is_sent_from_the_loop_thread() -> None:
    with FakeS3(200) as fake:
        session = session_for(fake.url)
        threads: list[str] = []
        session.events.subscribe(lambda event: threads.append(threading.current_thread().name))

        async def put() -> int:
            response = await session.http().request_async("PUT", "b", "k", body=b"x" * 100)
            return response.status

        assert asyncio.run(put()) == 200
        session.http().close()
    assert threads == [threading.current_thread().name]  # no hop to a worker thread


def test_the_loops_connections_are_closed_as_the_loop_ends() -> None:
    with FakeS3(200) as fake:
        session = session_for(fake.url)
        http = session.http()

        async def put() -> None:
            await http.request_async("PUT", "b", "k", body=b"x")

        asyncio.run(put())
        assert not http._loop_pools  # the pool went with its loop
        asyncio.run(put())  # a new loop gets a pool of its own
        http.close()
