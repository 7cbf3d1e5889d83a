"""Keep-alive HTTP/1.1 connections driven by the event loop, for small whole-object exchanges.

The thread path (`httpclient` behind a thread pool) hands the interpreter lock between its
workers and the loop several times per request: measured over 2,000 8 KiB GETs, 50–80 futex
calls per file and as much system time as user time. Here a request is written to a
non-blocking socket and its whole answer comes back to the awaiting task in one wake-up, with
no thread involved. Only the socket I/O is this module's: the request's bytes, the head
parser, the body framing and chunked decoding are `httpclient`'s, and signing, retries, events
and errors stay in `s3http`.

It serves exchanges whose answer is read whole (`LoopPool.send`, with a limit on the body it
will hold); streamed bodies stay on the thread path. What it must never do: reuse a connection
whose last exchange did not end cleanly, hand one connection to two tasks at once, or be used
from a loop other than the one that made it (each loop has its own `LoopPool`).
"""

from __future__ import annotations

import asyncio
import io
import ssl
from collections.abc import AsyncIterator, Mapping

from s3kit.storage.httpclient import (
    Headers,
    IdleConnections,
    ProtocolError,
    Stale,
    _split_netloc,
    framing,
    read_chunked,
    read_head,
    request_bytes,
)

# The largest body sent or read from the loop: above it, bytes cost more than the hand-over of
# a request to a thread does, and a body held whole would hold more memory.
ON_LOOP_LIMIT = 1024 * 1024
_HEAD_LIMIT = 200 * 65536  # the most a head may take (as httpclient's line and header limits)
_FINAL_STATUS = (b"HTTP/1.1 ", b"HTTP/1.0 ")
_FINAL_CLASS = (b"2", b"3", b"4", b"5")


class _Incomplete(Exception):
    """More of the answer is needed before it can be read."""


class _Buffered(io.BytesIO):
    """What has arrived so far, read as a file whose short reads mean "wait for more"."""

    def read_exactly(self, size: int) -> bytes:
        data = self.read(size)
        if len(data) != size:
            raise _Incomplete
        return data

    def line(self, limit: int) -> bytes:
        data = self.readline(limit)
        if not data.endswith(b"\n") and len(data) < limit:
            raise _Incomplete
        return data


class _Protocol(asyncio.Protocol):
    """Collects what the server sends; wakes the one task waiting for more."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.ended = False  # the server closed its side (or the connection failed)
        self.failure: Exception | None = None
        self._waiter: asyncio.Future[None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        self._wake()

    def eof_received(self) -> bool:
        self.ended = True
        self._wake()
        return False  # the transport closes itself

    def connection_lost(self, exc: Exception | None) -> None:
        self.ended = True
        self.failure = exc
        self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def more(self, timeout: float) -> None:
        """Wait until something more arrives, or the connection ends; TimeoutError after
        `timeout` seconds of silence (the thread path's socket timeout, per read)."""
        if self.ended:
            return
        loop = asyncio.get_running_loop()
        waiter = self._waiter = loop.create_future()
        timer = loop.call_later(timeout, _time_out, waiter)
        try:
            await waiter
        finally:
            timer.cancel()
            self._waiter = None


def _time_out(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_exception(TimeoutError("timed out"))


class LoopConnection:
    def __init__(self, protocol: _Protocol, host: str) -> None:
        self.protocol = protocol
        self.host = host

    def idle_and_open(self) -> bool:
        """Whether a kept-alive connection can take a request: the server has not closed it
        and sent nothing unasked (the loop has told us either already)."""
        return not self.protocol.ended and not self.protocol.buffer

    def close(self) -> None:
        if self.protocol.transport is not None:
            self.protocol.transport.close()

    async def exchange(
        self,
        method: str,
        target: str,
        headers: Mapping[str, str],
        body: bytes | memoryview | None,
        *,
        limit: int,
        timeout: float,
    ) -> tuple[int, Headers, bytes | None, bool]:
        """(status, headers, body, whether the connection can be reused); the body is None,
        unread, when a 2xx answer announces more than `limit` bytes."""
        protocol = self.protocol
        transport = protocol.transport
        assert transport is not None
        data, whole = request_bytes(method, target, self.host, headers, body)
        transport.write(data)
        if not whole:
            assert body is not None
            transport.write(body)
        status, answer = await self._head(timeout)
        length, chunked, reusable = framing(method, status, answer)
        if length is not None and status < 300 and length > limit:
            return status, answer, None, False
        buffer = protocol.buffer
        if length is not None:
            while len(buffer) < length:
                self._check_ended(f"the answer ended after {len(buffer)} of {length} bytes")
                await protocol.more(timeout)
            content = bytes(buffer[:length])
            del buffer[:length]
        elif chunked:
            while True:
                reader = _Buffered(buffer)
                try:
                    content = read_chunked(reader.line, reader.read_exactly)
                    del buffer[: reader.tell()]
                    break
                except _Incomplete:
                    self._check_ended("the answer's chunked body was cut short")
                    if len(buffer) > limit + _HEAD_LIMIT:
                        raise ProtocolError("a chunked answer longer than asked for") from None
                    await protocol.more(timeout)
        else:  # read until the connection closes
            while not protocol.ended:
                if len(buffer) > limit:
                    raise ProtocolError("an answer without a length, longer than asked for")
                await protocol.more(timeout)
            self._check_failed()
            content = bytes(buffer)
            buffer.clear()
            reusable = False
        return status, answer, content, reusable and not protocol.ended

    async def _head(self, timeout: float) -> tuple[int, Headers]:
        protocol = self.protocol
        buffer = protocol.buffer
        while True:
            end = buffer.find(b"\r\n\r\n")
            if end >= 0 and buffer[:9] in _FINAL_STATUS and buffer[9:10] in _FINAL_CLASS:
                # The whole head is there, and is no 1xx that another head follows: its lines
                # are read with no check for "wait for more" each (13 of them for a GET).
                whole = io.BytesIO(buffer[: end + 4])
                head = read_head(whole.readline)
                del buffer[: end + 4]
                return head
            reader = _Buffered(buffer)
            try:
                if not buffer:
                    raise _Incomplete
                head = read_head(reader.line)
                del buffer[: reader.tell()]
                return head
            except _Incomplete:
                if protocol.ended:
                    self._check_failed()
                    if not buffer:
                        raise Stale("the server closed the connection") from None
                    raise ProtocolError("the answer's headers were cut short") from None
                if len(buffer) > _HEAD_LIMIT:
                    raise ProtocolError("the answer's headers were too long") from None
                await protocol.more(timeout)

    def _check_ended(self, message: str) -> None:
        if self.protocol.ended:
            self._check_failed()
            raise ProtocolError(message)

    def _check_failed(self) -> None:
        failure = self.protocol.failure
        if isinstance(failure, OSError):
            raise failure
        if failure is not None:
            raise ProtocolError(str(failure)) from failure


class LoopPool:
    """Idle loop connections per origin ("http://host:port"), at most `size` kept for each;
    one pool per event loop."""

    def __init__(
        self,
        *,
        size: int,
        connect_timeout: float,
        read_timeout: float,
        ssl_context: ssl.SSLContext | None,
    ) -> None:
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._ssl_context = ssl_context
        self._idle = IdleConnections[LoopConnection](size)
        self.closer: AsyncIterator[None] | None = None  # what closes it as its loop ends

    async def _new(self, origin: str) -> LoopConnection:
        scheme, _, netloc = origin.partition("://")
        host, port = _split_netloc(netloc, 443 if scheme == "https" else 80)
        context = None
        if scheme == "https":
            context = self._ssl_context or ssl.create_default_context()
        loop = asyncio.get_running_loop()
        # The loop's TCP transports set TCP_NODELAY themselves.
        async with asyncio.timeout(self._connect_timeout):
            _, protocol = await loop.create_connection(
                _Protocol, host, port, ssl=context, server_hostname=host if context else None
            )
        return LoopConnection(protocol, netloc)

    async def send(
        self,
        origin: str,
        method: str,
        target: str,
        headers: Mapping[str, str],
        body: bytes | memoryview | None,
        *,
        limit: int,
    ) -> tuple[int, Headers, bytes | None]:
        """One exchange: (status, headers, body read whole; None when a 2xx answer's body is
        longer than `limit`, left unread). Raises OSError (ssl errors, ProtocolError and
        TimeoutError included) when the connection fails."""
        connection = self._idle.take(origin)
        reused = connection is not None
        if connection is None:
            connection = await self._new(origin)
        try:
            try:
                status, answer, content, reusable = await connection.exchange(
                    method, target, headers, body, limit=limit, timeout=self._read_timeout
                )
            except Stale:
                if not reused:
                    raise
                # As httpclient: closed by the server as it was sent, before any answer began,
                # so sent again once, on a new connection; a reset is the retry policy's.
                connection.close()
                connection = await self._new(origin)
                status, answer, content, reusable = await connection.exchange(
                    method, target, headers, body, limit=limit, timeout=self._read_timeout
                )
        except BaseException:
            connection.close()
            raise
        if reusable:
            self._idle.give(origin, connection)
        else:
            connection.close()
        return status, answer, content

    def close(self) -> None:
        self._idle.close()
