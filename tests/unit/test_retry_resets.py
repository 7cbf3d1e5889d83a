"""A connection reset after a request went out is a failed attempt like any other: retried by the
one policy, paid for from the retry budget and reported as an event — not resent on the quiet
by the connection pool. A kept-alive connection the server closed while it sat idle is still
replaced before anything is sent on it, and costs no attempt."""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Iterator

import pytest

from s3kit._session import Session
from s3kit.events import RequestEvent

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello"


class Misbehaving:
    """Answers requests on keep-alive connections; `plan` says, per request in arrival order,
    "ok", "reset" (read it, then abort the connection with a RST) or "close" (answer it, then
    close the connection while idle). Counts the requests that arrived."""

    def __init__(self, plan: list[str]) -> None:
        self.plan = list(plan)
        self.requests = 0
        self.closed = threading.Event()  # set when a "close" step has closed its connection
        self.server = socket.create_server(("127.0.0.1", 0))
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.getsockname()[1]}"

    def _serve(self) -> None:
        while self.plan:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            closing = False
            with client, client.makefile("rb") as reader:
                while self.plan:
                    if not reader.readline():
                        break
                    while reader.readline() not in (b"\r\n", b""):
                        pass
                    self.requests += 1
                    step = self.plan.pop(0)
                    if step == "reset":
                        client.setsockopt(
                            socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                        )
                        break
                    client.sendall(OK)
                    if step == "close":
                        closing = True
                        break
            if closing:
                self.closed.set()

    def close(self) -> None:
        self.server.close()
        self.thread.join(5)


@pytest.fixture
def heard() -> list[RequestEvent]:
    return []


def session_on(server: Misbehaving, heard: list[RequestEvent]) -> Session:
    session = Session(
        endpoint_url=server.url,
        access_key_id="AKIDFAKE",
        secret_access_key="fake-secret-value",
        env={},
        retry_budget=100,
    )
    session.events.subscribe(heard.append)
    return session


@pytest.fixture
def reset_second() -> Iterator[Misbehaving]:
    server = Misbehaving(["ok", "reset", "ok"])
    yield server
    server.close()


def test_a_reset_of_a_kept_alive_connection_is_a_retry_the_policy_counts(
    reset_second: Misbehaving, heard: list[RequestEvent]
) -> None:
    session = session_on(reset_second, heard)
    http = session.http()
    http.request("GET", "bucket", "first")
    heard.clear()
    assert http.request("GET", "bucket", "second").body == b"hello"
    assert reset_second.requests == 3  # the reset one arrived: it is an attempt of its own
    assert [(e.attempt, e.status, e.retrying, e.retry_reason) for e in heard] == [
        (1, None, True, "connection"),
        (2, 200, False, None),
    ]
    assert session.retry_budget.available == 100 - 5 + 5  # paid for, then refunded


def test_a_connection_closed_while_idle_costs_no_attempt(heard: list[RequestEvent]) -> None:
    server = Misbehaving(["close", "ok"])
    try:
        http = session_on(server, heard).http()
        http.request("GET", "bucket", "first")
        assert server.closed.wait(5)  # the connection is closed while idle in the pool
        heard.clear()
        assert http.request("GET", "bucket", "second").body == b"hello"
        assert server.requests == 2
        assert [(e.attempt, e.retrying) for e in heard] == [(1, False)]
    finally:
        server.close()
