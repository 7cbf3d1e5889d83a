"""`S3Http.read_through_async` against a scripted server on 127.0.0.1: a body handed to its sink
in pieces on one thread, a sink's error passed through (the connection dropped with the answer),
and a body cut short an EndpointError (as any failing connection is)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from s3kit._session import Session
from s3kit.errors import EndpointError
from s3kit.storage import s3http
from s3kit.storage.s3http import S3Http
from tests.unit.test_http_connections import Scripted

BODY = bytes(range(256)) * 40  # 10,240 bytes: several pieces of 4 KiB
WHOLE = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(BODY) + BODY
CUT = b"HTTP/1.1 200 OK\r\nContent-Length: 20000\r\nConnection: close\r\n\r\n" + BODY


@pytest.fixture
def small_pieces(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(s3http, "READ_PIECE", 4096)


def _http(server: Scripted) -> S3Http:
    session = Session(
        endpoint_url=server.origin, access_key_id="AK", secret_access_key="SK", env={}
    )
    return S3Http(session)


@pytest.fixture
def served(request: pytest.FixtureRequest) -> Iterator[Scripted]:
    server = Scripted(list(request.param))
    try:
        yield server
    finally:
        server.close()


@pytest.mark.parametrize("served", [[WHOLE]], indirect=True)
def test_a_body_reaches_the_sink_in_pieces(served: Scripted, small_pieces: None) -> None:
    pieces: list[bytes] = []

    async def run() -> int:
        http = _http(served)
        try:
            answer = await http.open_async("GET", "b", "k")
            with answer:
                return await http.read_through_async(answer, lambda p: pieces.append(bytes(p)))
        finally:
            http.close()

    assert asyncio.run(run()) == len(BODY)
    assert b"".join(pieces) == BODY
    assert [len(p) for p in pieces] == [4096, 4096, 2048]


@pytest.mark.parametrize("served", [[WHOLE]], indirect=True)
def test_a_failing_sink_passes_its_error_and_drops_the_answer(
    served: Scripted, small_pieces: None
) -> None:
    def sink(piece: memoryview) -> None:
        raise OSError(28, "No space left on device")  # the disk's, not the connection's

    async def run() -> None:
        http = _http(served)
        try:
            answer = await http.open_async("GET", "b", "k")
            with answer:
                with pytest.raises(OSError, match="No space") as raised:
                    await http.read_through_async(answer, sink)
                assert not isinstance(raised.value, EndpointError)
                assert answer.read(10) == b""  # closed: the rest of the body is not read
        finally:
            http.close()

    asyncio.run(run())


@pytest.mark.parametrize("served", [[CUT]], indirect=True)
def test_a_body_cut_short_is_an_endpoint_error(served: Scripted, small_pieces: None) -> None:
    got: list[int] = []

    async def run() -> None:
        http = _http(served)
        try:
            answer = await http.open_async("GET", "b", "k")
            with answer, pytest.raises(EndpointError):
                await http.read_through_async(answer, lambda p: got.append(len(p)))
        finally:
            http.close()

    asyncio.run(run())
    assert sum(got) <= len(BODY)
