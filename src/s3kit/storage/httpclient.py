"""Keep-alive HTTP/1.1 connections for the signed-request path, on sockets of their own.

A minimal client instead of urllib3 or http.client: measured on loopback against SeaweedFS, one
signed 8 KiB PUT costs about 110 µs of client CPU this way, 240 µs through http.client and 560
µs through urllib3's PoolManager — and this path carries every single-object PUT, listing page
and multipart call, from threads that share one interpreter lock. It speaks only what S3 needs:
a request with a Content-Length body (or none), an answer with Content-Length, chunked or
read-to-close body, read whole or streamed (`ConnectionPool.open`), keep-alive; it never
follows redirects.

The request's bytes, the head parser, the body framing and the chunked decoding are
functions (`request_bytes`, `read_head`, `framing`, `read_chunked`) that `loopclient` — the
same exchanges on the event loop's sockets — reads answers with too.

What it must never do: reuse a connection whose last exchange did not end cleanly (the answer
read to its end), or hand one connection to two threads at once.
"""

from __future__ import annotations

import io
import select
import socket
import threading
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Generic, Protocol, TypeVar, cast

if TYPE_CHECKING:  # imported for an https endpoint only: ~3 ms that plain http never needs
    import ssl

_LINE = 65536  # longest status or header line accepted
_MAX_HEADERS = 200
_READ_BUFFER = 64 * 1024


class ProtocolError(OSError):
    """The server's answer is not HTTP/1.1 as this client reads it."""


class Stale(OSError):
    """A kept-alive connection the server had closed: nothing was read from it."""


class Headers(Mapping[str, str]):
    """Response headers, looked up case-insensitively (rclone serve s3 and Go proxies send
    `Etag`); iteration gives the names in lower case. A repeated header keeps its last value."""

    __slots__ = ("_values",)

    def __init__(self, pairs: list[tuple[str, str]]) -> None:
        self._values = {name.lower(): value for name, value in pairs}

    def __getitem__(self, name: str) -> str:
        return self._values[name.lower()]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)

    def __repr__(self) -> str:
        return f"Headers({self._values!r})"


class Connection:
    """One socket to one origin, used by one thread at a time."""

    def __init__(self, sock: socket.socket, host: str) -> None:
        self.sock = sock
        self.host = host
        # 64 KiB, not io's 8 KiB: a small object's whole answer (head and body) then comes in
        # one recv instead of two — measured: 1.4 recvs per 8 KiB GET instead of 2, and each
        # one saved is a hand-over of the interpreter lock saved. Larger reads bypass it.
        self.reader = cast("io.BufferedReader", sock.makefile("rb", buffering=_READ_BUFFER))

    def close(self) -> None:
        try:
            self.reader.close()
        finally:
            self.sock.close()

    def idle_and_open(self) -> bool:
        """Whether a kept-alive connection can take a request: nothing waits to be read on it
        (one the server closed has its end, or a reset, waiting), as urllib3 checks. poll, not
        select: select cannot watch a descriptor numbered 1024 or above."""
        poller = select.poll()
        try:
            poller.register(self.sock, select.POLLIN)
            return not poller.poll(0)
        except (OSError, ValueError):
            return False

    def start(
        self, method: str, target: str, headers: Mapping[str, str], body: bytes | memoryview | None
    ) -> tuple[int, Headers]:
        """Send the request and read the answer's status and headers; the body waits."""
        data, whole = request_bytes(method, target, self.host, headers, body)
        self.sock.sendall(data)
        if not whole:
            assert body is not None
            self.sock.sendall(body)
        return read_head(self.reader.readline)

    def read_exactly(self, size: int) -> bytes:
        data = self.reader.read(size)
        if len(data) != size:
            raise ProtocolError(f"the answer ended after {len(data)} of {size} bytes")
        return data

    def read_into(self, view: memoryview) -> None:
        """Fill `view` from the answer's body (BufferedReader.readinto reads until it is full
        or the connection ends)."""
        got = self.reader.readinto(view)
        if got != len(view):
            raise ProtocolError(f"the answer ended after {got} of {len(view)} bytes")

    def read_chunked(self) -> bytes:
        return read_chunked(self.reader.readline, self.read_exactly)


class Answer:
    """A response whose body the caller reads (`read`, `read_all`) and then `close`s: the
    connection goes back to the pool only when the body was read to its end."""

    def __init__(
        self,
        pool: ConnectionPool,
        origin: str,
        connection: Connection,
        method: str,
        status: int,
        headers: Headers,
    ) -> None:
        self.status = status
        self.headers = headers
        self._pool = pool
        self._origin = origin
        self._connection: Connection | None = connection
        self._buffered: bytes | None = None
        # body bytes still to read; None: until the connection closes
        self._left, chunked, self._reusable = framing(method, status, headers)
        if chunked:
            self._buffered = connection.read_chunked()  # S3 sends none for object bodies
            self._left = 0
        if self._left == 0 and self._buffered is None:
            self._finish()

    @property
    def buffered(self) -> bool:
        """Whether the rest of the body is in memory already (`read` then blocks on nothing)."""
        return self._connection is None or self._buffered is not None

    def prefetch(self, limit: int) -> None:
        """Read the body into memory now if its Content-Length is at most `limit`."""
        if self._buffered is None and self._left is not None and 0 < self._left <= limit:
            self._buffered = self.read(self._left)

    def read(self, size: int) -> bytes:
        """Up to `size` bytes of the body; b"" at its end. Raises OSError when the connection
        fails or ends before the Content-Length did."""
        if self._buffered is not None:
            data, self._buffered = self._buffered[:size], self._buffered[size:] or None
            if self._buffered is None:
                self._finish()
            return data
        connection = self._connection
        if connection is None or self._left == 0:
            return b""
        if self._left is None:
            data = connection.reader.read(size)
            if not data:
                self._finish()
            return data
        data = connection.read_exactly(min(size, self._left))
        self._left -= len(data)
        if self._left == 0:
            self._finish()
        return data

    def readinto(self, view: memoryview) -> int:
        """`read` into `view`: up to len(view) bytes of the body, 0 at its end, without a new
        bytes object for a body read from the connection (a reused buffer, no page faults)."""
        connection = self._connection
        if self._buffered is not None or self._left is None or connection is None:
            data = self.read(len(view))
            view[: len(data)] = data
            return len(data)
        size = min(len(view), self._left)
        if size:
            connection.read_into(view[:size])
            self._left -= size
        if self._left == 0:
            self._finish()
        return size

    def read_all(self) -> bytes:
        if self._buffered is not None:
            return self.read(len(self._buffered))
        if self._left is None:
            pieces = []
            while piece := self.read(1 << 20):
                pieces.append(piece)
            return b"".join(pieces)
        return self.read(self._left)

    def _finish(self) -> None:
        """The body was read to its end: the connection can serve the next request."""
        connection, self._connection = self._connection, None
        if connection is None:
            return
        if self._reusable:
            self._pool.give(self._origin, connection)
        else:
            connection.close()

    def close(self) -> None:
        """Done with the answer; a body not read to its end takes its connection with it."""
        connection, self._connection = self._connection, None
        self._buffered = None
        if connection is not None:
            connection.close()

    def __enter__(self) -> Answer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class Reusable(Protocol):
    def idle_and_open(self) -> bool: ...

    def close(self) -> None: ...


C = TypeVar("C", bound=Reusable)


class IdleConnections(Generic[C]):
    """Idle connections per origin ("http://host:port"), at most `size` kept for each: the
    keep-alive bookkeeping of both pools (this module's and `loopclient`'s). Thread-safe."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._idle: dict[str, list[C]] = {}
        self._lock = threading.Lock()

    def take(self, origin: str) -> C | None:
        """An idle connection to `origin`, or None. Idle ones the server has closed meanwhile
        are dropped here, before anything is sent on them."""
        closed: list[C] = []
        try:
            with self._lock:
                idle = self._idle.get(origin)
                while idle:
                    connection = idle.pop()
                    if connection.idle_and_open():
                        return connection
                    closed.append(connection)
        finally:
            for connection in closed:
                connection.close()
        return None

    def give(self, origin: str, connection: C) -> None:
        """Keep a connection whose last answer was read to its end, or close it if `origin`
        has enough kept."""
        with self._lock:
            idle = self._idle.setdefault(origin, [])
            if len(idle) < self._size:
                idle.append(connection)
                return
        connection.close()

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, {}
        for connections in idle.values():
            for connection in connections:
                connection.close()


class ConnectionPool:
    """Idle connections per origin ("http://host:port"), at most `size` kept for each."""

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
        self._idle = IdleConnections[Connection](size)

    def _new(self, origin: str) -> Connection:
        scheme, _, netloc = origin.partition("://")
        host, port = _split_netloc(netloc, 443 if scheme == "https" else 80)
        sock = socket.create_connection((host, port), timeout=self._connect_timeout)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if scheme == "https":
                import ssl

                context = self._ssl_context or ssl.create_default_context()
                sock = context.wrap_socket(sock, server_hostname=host)
            sock.settimeout(self._read_timeout)
        except BaseException:
            sock.close()
            raise
        return Connection(sock, netloc)

    def _take(self, origin: str) -> tuple[Connection, bool]:
        """(a connection, whether it was idle in the pool)."""
        connection = self._idle.take(origin)
        return (connection, True) if connection is not None else (self._new(origin), False)

    def give(self, origin: str, connection: Connection) -> None:
        """Take back a connection whose last answer was read to its end."""
        self._idle.give(origin, connection)

    def open(
        self,
        origin: str,
        method: str,
        target: str,
        headers: Mapping[str, str],
        body: bytes | memoryview | None,
    ) -> Answer:
        """Send one request; the answer's body is the caller's to read and close. Raises
        OSError (ssl errors and ProtocolError included) when the connection fails."""
        connection, reused = self._take(origin)
        try:
            try:
                status, answer = connection.start(method, target, headers, body)
            except Stale:
                if not reused:
                    raise
                # Closed by the server as it was sent, before any answer began: sent again once,
                # on a new one. A reset is not resent here: the request may have reached the
                # server, and the retry policy decides (and reports) what follows a failure.
                connection.close()
                connection = self._new(origin)
                status, answer = connection.start(method, target, headers, body)
            return Answer(self, origin, connection, method, status, answer)
        except BaseException:
            connection.close()
            raise

    def send(
        self,
        origin: str,
        method: str,
        target: str,
        headers: Mapping[str, str],
        body: bytes | memoryview | None,
    ) -> tuple[int, Headers, bytes]:
        """One exchange: (status, headers, body read to the end)."""
        with self.open(origin, method, target, headers, body) as answer:
            return answer.status, answer.headers, answer.read_all()

    def close(self) -> None:
        self._idle.close()


def request_bytes(
    method: str, target: str, host: str, headers: Mapping[str, str], body: bytes | memoryview | None
) -> tuple[bytes, bool]:
    """A request's bytes as sent: its head, with the body too when that is small (one write:
    no delayed-ACK stall), and whether the body is in them. Both clients send these."""
    lines = [f"{method} {target} HTTP/1.1", f"Host: {host}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    if not any(name.lower() == "content-length" for name in headers):
        if body is not None:
            lines.append(f"Content-Length: {len(body)}")
        elif method in ("PUT", "POST"):
            # RFC 9110 §8.6: a PUT or POST without a body says so. rclone serve s3 refuses
            # an UploadPartCopy without it (MissingContentLength).
            lines.append("Content-Length: 0")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    if body is None:
        return head, True
    if len(body) <= 64 * 1024:
        return head + bytes(body), True
    return head, False


def read_head(readline: Callable[[int], bytes]) -> tuple[int, Headers]:
    """The answer's status and headers, from its lines (`readline(limit)`, b"" at the end), 1xx
    answers (100 Continue and the like) skipped: the real answer follows them. Stale when
    the connection ended before the first line."""
    while True:
        line = readline(_LINE + 1)
        if not line:
            raise Stale("the server closed the connection")
        parts = line.split(None, 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or not parts[1].isdigit():
            raise ProtocolError(f"not an HTTP/1.1 status line: {line[:80]!r}")
        pairs: list[tuple[str, str]] = []
        while True:
            field = readline(_LINE + 1)
            if field in (b"\r\n", b"\n"):
                break
            if not field or len(field) > _LINE or len(pairs) >= _MAX_HEADERS:
                raise ProtocolError("the answer's headers were cut short or too long")
            name, _, value = field.decode("latin-1").partition(":")
            pairs.append((name.strip(), value.strip()))
        status = int(parts[1])
        if not 100 <= status < 200:
            return status, Headers(pairs)


def framing(method: str, status: int, headers: Headers) -> tuple[int | None, bool, bool]:
    """How an answer's body ends: (its length, None until the connection closes; whether it
    is chunked; whether the connection can serve another request after it)."""
    reusable = "close" not in headers.get("Connection", "").lower()
    if method == "HEAD" or status in (204, 304):
        return 0, False, reusable
    if "chunked" in headers.get("Transfer-Encoding", "").lower():
        return None, True, reusable
    length = headers.get("Content-Length")
    if length is None:
        return None, False, False
    if length.isdigit():
        return int(length), False, reusable
    raise ProtocolError(f"invalid Content-Length {length!r}")


def read_chunked(readline: Callable[[int], bytes], read_exactly: Callable[[int], bytes]) -> bytes:
    """A chunked body, trailers skipped."""
    pieces: list[bytes] = []
    while True:
        line = readline(_LINE + 1)
        size_text = line.split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            raise ProtocolError(f"invalid chunk size {line[:40]!r}") from None
        if size == 0:
            while readline(_LINE + 1) not in (b"\r\n", b"\n", b""):
                pass  # trailers
            return b"".join(pieces)
        pieces.append(read_exactly(size))
        read_exactly(2)  # the CRLF after each chunk


def _split_netloc(netloc: str, default_port: int) -> tuple[str, int]:
    """('host', port) from 'host:port', '[v6]:port' or 'host'."""
    if netloc.startswith("["):
        host, _, rest = netloc[1:].partition("]")
        return host, int(rest[1:]) if rest.startswith(":") else default_port
    host, _, port = netloc.rpartition(":")
    if host and port.isdigit():
        return host, int(port)
    return netloc, default_port
