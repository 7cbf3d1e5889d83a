"""The loop's HTTP/1.1 client (`loopclient`) against the scripted server of
test_http_connections: the same answers read the same way as the thread path reads them, and
what only the loop path does — a body longer than asked for left unread."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

import pytest

from s3kit.storage.httpclient import ProtocolError
from s3kit.storage.loopclient import LoopPool
from tests.unit.test_http_connections import OK, Scripted

T = TypeVar("T")


def run(body: Callable[[LoopPool], Awaitable[T]]) -> T:
    async def main() -> T:
        pool = LoopPool(size=4, connect_timeout=5, read_timeout=5, ssl_context=None)
        try:
            return await body(pool)
        finally:
            pool.close()

    return asyncio.run(main())


def test_a_body_by_content_length_on_one_kept_alive_connection() -> None:
    server = Scripted([OK, OK])

    async def body(pool: LoopPool) -> None:
        for _ in range(2):
            status, headers, content = await pool.send(
                server.origin, "PUT", "/b/k", {}, b"data", limit=100
            )
            assert (status, content) == (200, b"hello")
            assert headers.get("ETag") == headers["etag"] == '"abc"'

    try:
        run(body)
        assert server.connections == 1
        assert server.requests == [b"PUT /b/k HTTP/1.1"] * 2
    finally:
        server.close()


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
            b"3\r\nabc\r\n2;x=1\r\nde\r\n0\r\n\r\n",
            b"abcde",
        ),
        (b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", b"ok"),
        (b"HTTP/1.1 200 OK\r\n\r\nuntil the end", b"until the end"),
    ],
    ids=["chunked", "after-100-continue", "until-close"],
)
def test_answers_framed_as_the_thread_path_frames_them(answer: bytes, expected: bytes) -> None:
    server = Scripted([answer], close_after_each=True)
    try:
        got = run(lambda pool: pool.send(server.origin, "GET", "/b", {}, None, limit=100))
        assert got[2] == expected
    finally:
        server.close()


def test_a_connection_closed_while_idle_is_replaced() -> None:
    server = Scripted([OK, OK], close_after_each=True)

    async def body(pool: LoopPool) -> int:
        await pool.send(server.origin, "GET", "/a", {}, None, limit=100)
        # Idle when the server closes it (see test_http_connections: else a reset may come).
        assert await asyncio.to_thread(server.hung_up.acquire, timeout=5)
        return (await pool.send(server.origin, "GET", "/b", {}, None, limit=100))[0]

    try:
        assert run(body) == 200
        assert server.connections == 2
    finally:
        server.close()


def test_a_cut_answer_is_an_error_not_a_short_body() -> None:
    server = Scripted(
        [b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\nConnection: close\r\n\r\nshort"],
        close_after_each=True,
    )
    try:
        with pytest.raises(ProtocolError, match="5 of 10 bytes"):
            run(lambda pool: pool.send(server.origin, "GET", "/b", {}, None, limit=100))
    finally:
        server.close()


def test_a_body_longer_than_the_limit_is_left_unread_with_its_connection() -> None:
    ten = b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789"
    server = Scripted([ten, OK])

    async def body(pool: LoopPool) -> tuple[bytes | None, bytes | None]:
        first = (await pool.send(server.origin, "GET", "/big", {}, None, limit=9))[2]
        return first, (await pool.send(server.origin, "GET", "/b", {}, None, limit=9))[2]

    try:
        assert run(body) == (None, b"hello")
        assert server.connections == 2  # the unread body's connection was not reused
    finally:
        server.close()


def test_an_error_answer_is_read_whatever_the_limit() -> None:
    error = b"HTTP/1.1 404 Not Found\r\nContent-Length: 10\r\n\r\n<Error/>.."
    server = Scripted([error])
    try:
        got = run(lambda pool: pool.send(server.origin, "GET", "/b", {}, None, limit=0))
        assert got[0] == 404 and got[2] == b"<Error/>.."
    finally:
        server.close()
