"""`/metrics` and `/healthz` for long-running commands (`configs watch --metrics-addr`).

A stdlib `ThreadingHTTPServer` on a thread of its own: `/metrics` answers the same Prometheus
text `--metrics-file` writes (`MetricsSnapshot.prometheus()`, plus whatever the command adds),
`/healthz` 200 or 503 with a small JSON body, as the command's health function says. Nothing
else is served: every other path is a 404, every method but GET and HEAD a 405.

It binds to loopback unless the user names another address, and then `bind_address` says so
(a warning the CLI prints): the pages hold bucket names and request counts, which are not for
everyone on the network. Rendering runs on the server's threads, so a slow or failing render
never stalls the command, and a render that raises is a 500 for that request only. `close()`
stops the server and waits for its thread: the command ends with nothing left listening.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from s3kit._observe import logger
from s3kit._uri import is_loopback
from s3kit.errors import S3KitError, UsageError

PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8"
LOOPBACK = "127.0.0.1"

# /healthz: (healthy, a JSON-able document saying why)
Health = Callable[[], tuple[bool, Mapping[str, Any]]]


def parse_address(text: str) -> tuple[str, int]:
    """`HOST:PORT`, `[IPV6]:PORT`, `:PORT` or `PORT` (the last two on 127.0.0.1); port 0 has
    the system pick a free one."""
    spec = text.strip()
    host, sep, port_text = spec.rpartition(":")
    if not sep:
        host, port_text = "", spec
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    try:
        port = int(port_text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535 or (host and any(c.isspace() or c in "[]/" for c in host)):
        raise UsageError(
            f"--metrics-addr takes HOST:PORT (e.g. 127.0.0.1:9464, or port 0 for any free"
            f" port), not '{text}'"
        )
    return host or LOOPBACK, port


class MetricsServer:
    """Serves `render()` on /metrics and `health()` on /healthz at `address` until `close()`;
    a context manager. `url` is where it listens (with the port the system picked)."""

    def __init__(self, address: tuple[str, int], render: Callable[[], str], health: Health) -> None:
        self._render, self._health = render, health
        host, port = address
        handler = _handler(self)
        server_class = _V6Server if ":" in host else ThreadingHTTPServer
        try:
            self._server = server_class((host, port), handler)
        except OSError as exc:
            raise S3KitError(
                f"cannot serve metrics on {_join(host, port)}: {exc.strerror or exc}"
            ) from None
        self._server.daemon_threads = True
        bound = self._server.server_address
        self.host, self.port = host, int(bound[1])
        self.url = f"http://{_join(self.host, self.port)}"
        # A short poll: `close()` waits for the loop to see it, and the command's end with it.
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), name="s3kit-metrics", daemon=True
        )
        self._thread.start()

    @property
    def exposed(self) -> bool:
        """Bound to more than this machine (the user named such an address)."""
        return not is_loopback(self.host)

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def __enter__(self) -> MetricsServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def answer(self, path: str) -> tuple[int, str, bytes]:
        """(status, content type, body) for a GET of `path`."""
        route = path.split("?", 1)[0]
        if route == "/metrics":
            return 200, PROMETHEUS_TEXT, self._render().encode()
        if route == "/healthz":
            healthy, document = self._health()
            body = (json.dumps(dict(document), sort_keys=True) + "\n").encode()
            return (200 if healthy else 503), "application/json", body
        return 404, "text/plain; charset=utf-8", b"not found: try /metrics or /healthz\n"


class _V6Server(ThreadingHTTPServer):
    address_family = socket.AF_INET6


def _join(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _handler(server: MetricsServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        server_version = "s3kit"
        sys_version = ""

        def do_GET(self) -> None:
            self._reply(body=True)

        def do_HEAD(self) -> None:
            self._reply(body=False)

        def _reply(self, *, body: bool) -> None:
            try:
                status, kind, data = server.answer(self.path)
            except Exception as exc:  # a render that fails fails this request, not the command
                logger.warning("metrics page %s failed: %s: %s", self.path, type(exc).__name__,
                               exc)  # fmt: skip
                status, kind, data = 500, "text/plain; charset=utf-8", b"internal error\n"
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            if body:
                self.wfile.write(data)

        def _refuse(self) -> None:
            self.send_response(405)
            self.send_header("Allow", "GET, HEAD")
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_POST = do_PUT = do_DELETE = do_PATCH = _refuse

        def log_message(self, format: str, *args: Any) -> None:
            logger.debug("metrics server: " + format, *args)

    return Handler


__all__ = ["PROMETHEUS_TEXT", "Health", "MetricsServer", "parse_address"]
