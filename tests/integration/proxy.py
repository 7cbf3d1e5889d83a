"""FaultProxy: a loopback reverse proxy in front of one S3 server that misbehaves on request.

The client's endpoint is the proxy (`proxy.url`); every request goes on to the upstream server
unchanged — the Host header included, so SigV4 signatures made for the proxy's address still
verify — and comes back unchanged, except where a test has added a fault:

- `HeaderCase(style)`: response header names re-cased (`ETag` → `Etag` with "title", or
  "lower", "upper", or a mapping from names, in any case, to their new spelling);
- `Reset(stage)`: the client's connection reset (RST), before the request is forwarded
  ("request") or after the upstream answered, so the server acted but the client never hears
  ("response");
- `Truncate(keep)`: the response body cut after `keep` bytes (half by default), then the
  connection closed, its Content-Length left as announced;
- `ErrorReply(code)`: not forwarded at all; answered `200 OK` with an S3 `<Error>` body (the
  way S3 reports a late failure of CopyObject and CompleteMultipartUpload);
- `FlipByte(side, offset)`: one byte of the request or response body inverted.

Each fault has a predicate (`matching(method=..., query=..., header=...)`), fires from the
`nth` matching request on for `times` requests (None: every one), and counts how many requests
matched it and how many it faulted. `add_random_faults(rate, seed=..., faults={...})` instead
faults each request with probability `rate`, with one of the named faults whose predicate
accepts it, drawn from a generator seeded with `seed`, and counts them by name
(`RandomFaults.injected`). Every exchange is recorded (`proxy.exchanges`).

Bodies are streamed in 1 MiB pieces, never held whole; connections are capped and time out;
`stop()` (or leaving the `with` block) closes every connection and joins every thread, within
a bounded time. Each request goes upstream on a connection of its own, so a stale pooled
connection can never be mistaken for a fault.
"""

from __future__ import annotations

import contextlib
import http.client
import random
import socket
import socketserver
import struct
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler
from types import TracebackType
from typing import Any, Literal
from urllib.parse import urlsplit

PIECE = 1024 * 1024
_HEADER_LIMIT = 65536


# -- faults -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HeaderCase:
    style: Literal["title", "lower", "upper"] | Mapping[str, str] = "title"

    def rename(self, name: str) -> str:
        if self.style == "title":
            return name.title()
        if self.style == "lower":
            return name.lower()
        if self.style == "upper":
            return name.upper()
        assert not isinstance(self.style, str)
        for known, spelling in self.style.items():
            if known.lower() == name.lower():
                return spelling
        return name


@dataclass(frozen=True)
class Reset:
    stage: Literal["request", "response"] = "request"


@dataclass(frozen=True)
class Truncate:
    keep: int | None = None  # None: half the announced body


@dataclass(frozen=True)
class ErrorReply:
    code: str = "InternalError"
    message: str = "We encountered an internal error. Please try again."
    status: int = 200
    document: str = ""  # a whole XML answer to send instead of the <Error> one

    def body(self, request_id: str) -> bytes:
        if self.document:
            return self.document.encode()
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Error><Code>{self.code}</Code><Message>{self.message}</Message>"
            f"<RequestId>{request_id}</RequestId></Error>"
        ).encode()


@dataclass(frozen=True)
class FlipByte:
    side: Literal["request", "response"] = "request"
    offset: int | None = None  # None: the middle of the body (its start if the length is unknown)

    def position(self, length: int | None) -> int:
        if self.offset is not None:
            return self.offset
        return length // 2 if length else 0


Action = HeaderCase | Reset | Truncate | ErrorReply | FlipByte


@dataclass(frozen=True)
class Request:
    """What a fault's predicate sees of a request (before its body is read)."""

    index: int  # 1-based, in the order the proxy received requests
    method: str
    path: str
    query: str
    headers: Message
    content_length: int | None


Match = Callable[[Request], bool]


def matching(
    *,
    method: str | None = None,
    query: str | None = None,
    header: str | None = None,
    path: str | None = None,
    has_body: bool | None = None,
) -> Match:
    """A predicate: the method is `method`, the raw query string contains `query`, the request
    carries header `header`, the path contains `path`, the body is (not) empty."""

    def test(request: Request) -> bool:
        return (
            (method is None or request.method == method.upper())
            and (query is None or query in request.query)
            and (header is None or request.headers.get(header) is not None)
            and (path is None or path in request.path)
            and (has_body is None or bool(request.content_length) == has_body)
        )

    return test


# The faults an S3 client meets in the wild, for `add_random_faults` (the benchmarks' set):
# throttling, a server error, a reset before and after the server acted, a body cut short.
S3_FAULTS: dict[str, tuple[Action, Match | None]] = {
    "503 SlowDown": (ErrorReply("SlowDown", "Please reduce your request rate.", 503), None),
    "500 InternalError": (ErrorReply("InternalError", status=500), None),
    "reset before the server": (Reset("request"), None),
    "reset after the server acted": (Reset("response"), None),
    "body cut short": (Truncate(), matching(method="GET")),
}


@dataclass
class Fault:
    """One fault as added; `matched` and `faulted` count requests (read them after a run)."""

    action: Action
    match: Match | None = None
    nth: int = 1
    times: int | None = 1
    matched: int = 0
    faulted: int = 0

    def _fires(self, request: Request) -> bool:
        if self.match is not None and not self.match(request):
            return False
        self.matched += 1
        if self.matched < self.nth or (self.times is not None and self.faulted >= self.times):
            return False
        self.faulted += 1
        return True


@dataclass
class RandomFaults:
    """Faults at random: each request, with probability `rate`, gets one of `faults` (by name:
    an action and the predicate of the requests it may hit) that accepts it. `considered`
    counts the requests seen, `injected` the faults applied, by name."""

    rate: float
    seed: int
    faults: Mapping[str, tuple[Action, Match | None]]
    considered: int = 0
    injected: dict[str, int] = field(default_factory=dict)
    _random: random.Random = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)

    def _pick(self, request: Request) -> Action | None:
        self.considered += 1
        if self._random.random() >= self.rate:
            return None
        fits = [n for n, (_, match) in self.faults.items() if match is None or match(request)]
        if not fits:
            return None
        name = self._random.choice(fits)
        self.injected[name] = self.injected.get(name, 0) + 1
        return self.faults[name][0]


@dataclass(frozen=True)
class Exchange:
    index: int
    method: str
    target: str
    status: int | None  # None: no response was sent (reset)
    faults: tuple[str, ...] = field(default=())


# -- the proxy ----------------------------------------------------------------------------------


class FaultProxy:
    """A reverse proxy on 127.0.0.1 in front of `upstream` (http://host:port)."""

    def __init__(
        self, upstream: str, *, max_connections: int = 256, timeout: float = 120.0
    ) -> None:
        parts = urlsplit(upstream)
        if parts.scheme != "http" or parts.hostname is None:
            raise ValueError(f"FaultProxy forwards to http://host:port, not {upstream!r}")
        self.upstream = (parts.hostname, parts.port or 80)
        self.max_connections = max_connections
        self.timeout = timeout
        self.refused = 0  # connections turned away over max_connections
        self._faults: list[Fault] = []
        self._random: list[RandomFaults] = []
        self._exchanges: deque[Exchange] = deque(maxlen=100_000)
        self._lock = threading.Lock()
        self._count = 0
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        assert self._server is not None, "the proxy is not running"
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    # -- faults ---------------------------------------------------------------------------------

    def add_fault(
        self, action: Action, *, match: Match | None = None, nth: int = 1, times: int | None = 1
    ) -> Fault:
        """Apply `action` from the `nth` request `match` accepts, to `times` requests."""
        if nth < 1 or (times is not None and times < 1):
            raise ValueError("nth and times count from 1")
        fault = Fault(action, match, nth, times)
        with self._lock:
            self._faults.append(fault)
        return fault

    def add_random_faults(
        self, rate: float, *, seed: int, faults: Mapping[str, tuple[Action, Match | None]]
    ) -> RandomFaults:
        """Fault each request with probability `rate` (0 to 1), with one of `faults` that
        accepts it, reproducibly for one `seed` and one order of requests."""
        if not 0 <= rate <= 1 or not faults:
            raise ValueError("a rate from 0 to 1, and at least one fault")
        chance = RandomFaults(rate, seed, dict(faults))
        with self._lock:
            self._random.append(chance)
        return chance

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()
            self._random.clear()

    @property
    def exchanges(self) -> list[Exchange]:
        with self._lock:
            return list(self._exchanges)

    def _arrive(self, method: str, target: str, headers: Message) -> tuple[Request, list[Action]]:
        path, _, query = target.partition("?")
        length = headers.get("Content-Length")
        with self._lock:
            self._count += 1
            request = Request(
                self._count,
                method,
                path,
                query,
                headers,
                int(length) if length is not None and length.strip().isdigit() else None,
            )
            actions = [f.action for f in self._faults if f._fires(request)]
            drawn = (chance._pick(request) for chance in self._random)
            return request, actions + [action for action in drawn if action is not None]

    def _record(self, exchange: Exchange) -> None:
        with self._lock:
            self._exchanges.append(exchange)

    # -- life cycle -----------------------------------------------------------------------------

    def start(self) -> FaultProxy:
        server = _Server(self)
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        server.close_all(timeout)
        if self._thread is not None:
            self._thread.join(timeout)

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()


class _Server(socketserver.TCPServer):
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, proxy: FaultProxy) -> None:
        self.proxy = proxy
        self._connections: dict[socket.socket, threading.Thread] = {}
        self._guard = threading.Lock()
        super().__init__(("127.0.0.1", 0), _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._guard:
            if len(self._connections) >= self.proxy.max_connections:
                self.proxy.refused += 1
                self.shutdown_request(request)
                return
            thread = threading.Thread(
                target=self._serve, args=(request, client_address), daemon=True
            )
            self._connections[request] = thread
        thread.start()

    def _serve(self, request: socket.socket, client_address: Any) -> None:
        try:
            self.finish_request(request, client_address)
        except Exception:  # noqa: S110 - a client gone mid-request is no news to a fault proxy
            pass
        finally:
            self.shutdown_request(request)
            with self._guard:
                self._connections.pop(request, None)

    def close_all(self, timeout: float) -> None:
        """Close every client connection (waking their threads), then join the threads."""
        with self._guard:
            live = dict(self._connections)
        for sock in live:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        deadline = time.monotonic() + timeout
        for thread in live.values():
            thread.join(max(0.0, deadline - time.monotonic()))


class _Closed(Exception):
    """The client connection is finished (reset or truncated on purpose, or gone)."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, and 100-continue answered here
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.connection.settimeout(self.server.proxy.timeout)  # idle keep-alive ends too

    def log_message(self, format: str, *args: object) -> None:
        pass

    def finish(self) -> None:
        with contextlib.suppress(OSError):
            super().finish()

    def handle_one_request(self) -> None:
        try:
            self.raw_requestline = self.rfile.readline(_HEADER_LIMIT + 1)
            if not self.raw_requestline or len(self.raw_requestline) > _HEADER_LIMIT:
                self.close_connection = True
                return
            if not self.parse_request():
                return
            self._proxy_one()
        except (_Closed, OSError, http.client.HTTPException):
            self.close_connection = True

    # -- one exchange ---------------------------------------------------------------------------

    def _proxy_one(self) -> None:
        proxy = self.server.proxy
        request, actions = proxy._arrive(self.command, self.path, self.headers)
        names = tuple(type(a).__name__ for a in actions)

        def record(status: int | None) -> None:
            proxy._record(Exchange(request.index, self.command, self.path, status, names))

        reset = next((a for a in actions if isinstance(a, Reset)), None)
        if reset is not None and reset.stage == "request":
            record(None)
            self._reset()
        reply = next((a for a in actions if isinstance(a, ErrorReply)), None)
        if reply is not None:
            for _ in self._request_body(request, None):
                pass
            record(reply.status)
            self._send_error_reply(reply, request.index)
            return

        flip_in = next(
            (a for a in actions if isinstance(a, FlipByte) and a.side == "request"), None
        )
        upstream = http.client.HTTPConnection(*proxy.upstream, timeout=proxy.timeout)
        try:
            try:
                self._forward_request(upstream, request, flip_in)
                response = upstream.getresponse()
            except (OSError, http.client.HTTPException) as exc:
                # The upstream failed, not a fault: say so, rather than look like a reset.
                record(502)
                self._send_bad_gateway(exc)
                return
            if reset is not None:  # stage "response": the server acted, the client never hears
                record(None)
                self._reset()
            record(response.status)
            self._relay_response(response, actions)
        finally:
            upstream.close()

    def _forward_request(
        self, upstream: http.client.HTTPConnection, request: Request, flip: FlipByte | None
    ) -> None:
        upstream.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
        for name, value in self.headers.items():
            if name.lower() != "expect":  # answered here already (100 Continue)
                upstream.putheader(name, value)
        upstream.endheaders()
        chunked = _is_chunked(self.headers)
        for piece in self._request_body(request, flip):
            upstream.send(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
        if chunked:
            upstream.send(b"0\r\n\r\n")

    def _request_body(self, request: Request, flip: FlipByte | None) -> Iterator[bytes]:
        """The request body in pieces (de-chunked if it came chunked), with `flip` applied."""
        flipper = _Flipper(flip, request.content_length)
        try:
            for piece in self._raw_body():
                yield flipper.apply(piece)
        except OSError as exc:  # the client's side, not the upstream's
            raise _Closed("the client connection failed mid-body") from exc

    def _raw_body(self) -> Iterator[bytes]:
        if _is_chunked(self.headers):
            while True:
                line = self.rfile.readline(_HEADER_LIMIT)
                size = int(line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(_HEADER_LIMIT) not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return
                yield from self._read_exactly(size)
                self.rfile.readline(_HEADER_LIMIT)
        length = self.headers.get("Content-Length")
        if length:
            yield from self._read_exactly(int(length))

    def _read_exactly(self, size: int) -> Iterator[bytes]:
        left = size
        while left > 0:
            piece = self.rfile.read(min(PIECE, left))
            if not piece:
                raise _Closed("the client went away mid-body")
            left -= len(piece)
            yield piece

    def _relay_response(self, response: http.client.HTTPResponse, actions: list[Action]) -> None:
        renames = [a for a in actions if isinstance(a, HeaderCase)]
        truncate = next((a for a in actions if isinstance(a, Truncate)), None)
        flip = next((a for a in actions if isinstance(a, FlipByte) and a.side == "response"), None)
        headers = response.getheaders()
        length = response.length  # None when chunked or close-delimited
        until_close = length is None and not response.chunked and self.command != "HEAD"
        lines = [f"HTTP/1.1 {response.status} {response.reason}"]
        for name, value in headers:
            for rename in renames:
                name = rename.rename(name)
            lines.append(f"{name}: {value}")
        if until_close:
            lines.append("Connection: close")
            self.close_connection = True
        self.wfile.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))

        keep = -1
        if truncate is not None:
            keep = truncate.keep if truncate.keep is not None else (length or 0) // 2
        flipper = _Flipper(flip, length)
        sent = 0
        while piece := response.read(PIECE):
            piece = flipper.apply(piece)
            if keep >= 0 and sent + len(piece) >= keep:
                self._send_piece(piece[: keep - sent], response.chunked)
                self._close()
            self._send_piece(piece, response.chunked)
            sent += len(piece)
        if keep >= 0:  # the body was shorter than `keep`: cut it at its very end
            self._close()
        if response.chunked and self.command != "HEAD":
            self.wfile.write(b"0\r\n\r\n")
        if response.will_close and not until_close:
            self.close_connection = True

    def _send_piece(self, piece: bytes, chunked: bool) -> None:
        if not piece:
            return
        self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)

    def _send_error_reply(self, reply: ErrorReply, index: int) -> None:
        body = reply.body(f"faultproxy-{index}")
        head = (
            f"HTTP/1.1 {reply.status} {'OK' if reply.status == 200 else 'Error'}\r\n"
            "Content-Type: application/xml\r\n"
            f"Content-Length: {len(body)}\r\n"
            f"x-amz-request-id: faultproxy-{index}\r\n\r\n"
        )
        # An answer to a HEAD has no body: one sent anyway would be read as the next answer.
        self.wfile.write(head.encode("latin-1") + (b"" if self.command == "HEAD" else body))

    def _send_bad_gateway(self, exc: BaseException) -> None:
        body = f"FaultProxy: the upstream server failed: {exc!r}\n".encode()
        head = (
            "HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/plain\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        )
        self.close_connection = True  # the request body may be half read
        self.wfile.write(head.encode("latin-1") + body)

    def _reset(self) -> None:
        """Abort the client connection with a TCP RST, as a crashed server or a middlebox does."""
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()
        raise _Closed("reset")

    def _close(self) -> None:
        with contextlib.suppress(OSError):
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
        raise _Closed("truncated")


class _Flipper:
    """Inverts the one byte of a body, streamed in pieces, that `flip` points at."""

    def __init__(self, flip: FlipByte | None, length: int | None) -> None:
        self._where = flip.position(length) if flip is not None else -1
        self._seen = 0

    def apply(self, piece: bytes) -> bytes:
        start, self._seen = self._seen, self._seen + len(piece)
        if not start <= self._where < self._seen:
            return piece
        changed = bytearray(piece)
        changed[self._where - start] ^= 0xFF
        return bytes(changed)


def _is_chunked(headers: Message) -> bool:
    return "chunked" in (headers.get("Transfer-Encoding") or "").lower()
