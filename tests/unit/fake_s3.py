"""FakeS3: a loopback HTTP server that gives every request the same scripted answer.

For tests of what a client does with an answer (how often it retries, what it reports), not of
S3 itself: it checks no signature and stores nothing. Each request is recorded (method, path,
query) before it is answered; the answer's status, S3 error code and request ids are set by
the test (`FakeS3(503, "SlowDown")`).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

REQUEST_ID = "FAKE-REQUEST-ID"
HOST_ID = "FAKE-HOST-ID"


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    query: str


class FakeS3:
    def __init__(self, status: int, code: str = "", *, message: str = "scripted") -> None:
        self.status = status
        self.code = code
        self.message = message
        self.requests: list[Seen] = []
        self.connections = 0  # connections accepted
        self._lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                path, _, query = self.path.partition("?")
                with fake._lock:
                    fake.requests.append(Seen(self.command, path, query))
                body = b""
                if fake.code and self.command != "HEAD":
                    body = (
                        '<?xml version="1.0" encoding="UTF-8"?>\n'
                        f"<Error><Code>{fake.code}</Code><Message>{fake.message}</Message>"
                        f"<RequestId>{REQUEST_ID}</RequestId><HostId>{HOST_ID}</HostId></Error>"
                    ).encode()
                self.send_response(fake.status)
                self.send_header("Content-Type", "application/xml")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("x-amz-request-id", REQUEST_ID)
                self.send_header("x-amz-id-2", HOST_ID)
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _answer

        class Server(ThreadingHTTPServer):
            def process_request(self, request: Any, client_address: Any) -> None:
                with fake._lock:
                    fake.connections += 1
                super().process_request(request, client_address)

        self._server = Server(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> FakeS3:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(10)
