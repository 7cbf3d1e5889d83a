"""Serve a deployed static site on 127.0.0.1 the way S3 website hosting serves a bucket.

Neither SeaweedFS nor moto answers on website endpoints, so `s3kit website serve` stands in for
one: index documents per folder (`/docs/` is `docs/index.html`), the 302 from `/docs` to `/docs/`
when only the folder's index exists, objects carrying `x-amz-website-redirect-location` (301),
the bucket's routing rules (KeyPrefixEquals / HttpErrorCodeReturnedEquals conditions; HostName,
Protocol, ReplaceKeyWith, ReplaceKeyPrefixWith, HttpRedirectCode), and the error document with
the failing status (404, or 403 where the store denies).

One thing S3 does not do: a deploy's brotli siblings (`KEY.br` beside KEY, stored with
`Content-Encoding: br`, see deploy/rules.py) are negotiated, as a CDN or a server in front of
the bucket would: a request whose Accept-Encoding takes br gets the sibling, any other KEY, and
both answers carry `Vary: Accept-Encoding` (S3 cannot store a Vary header) so no cache hands
one client's encoding to another. Only compressible types are looked for (what a deploy writes
siblings for), so serving an image costs no second HEAD.

The site is a prefix of a bucket and every key here — the index suffix, the error document, the
keys rules match and rewrite — is read relative to it, so a site deployed under `site/` behaves
as it would at the root of a bucket of its own.

Layers, as elsewhere: `site_key` and `decide` are pure (a request, the `Site` and a lookup
function in, a `Decision` out) and unit-tested without a server; `WebsiteServer` looks objects
up through the storage layer and writes the decision out.

What it must never do: listen beyond loopback, let a request name a key outside the site's
prefix (`..` and `%2e%2e` segments are resolved before the prefix is put in front, and never
climb above the site's root), read an object whole into memory (bodies are streamed, the GET
pinned with If-Match to the ETag the HEAD answered, so the Content-Length sent is the body's),
or print or log a credential.
"""

from __future__ import annotations

import errno
import socketserver
import sys
import threading
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass
from datetime import UTC
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import quote, unquote, urlsplit

from s3kit._aio import iter_sync, run_sync
from s3kit._observe import logger, redact
from s3kit.deploy.compress import is_compressible
from s3kit.deploy.content_types import content_type_for
from s3kit.deploy.manifest import SIBLING
from s3kit.errors import (
    BucketNotFound,
    ConflictError,
    InvalidKey,
    NotSupported,
    ObjectNotFound,
    PermissionDenied,
    S3KitError,
    UsageError,
)
from s3kit.storage.base import ObjectInfo, Storage, etags_match
from s3kit.storage.s3 import S3Storage, head_info, object_key

if TYPE_CHECKING:
    from s3kit._session import Session

HOST = "127.0.0.1"
DEFAULT_PORT = 8080
REDIRECT_HEADER = "x-amz-website-redirect-location"
# Bodies go out in pieces this big: a few requests at once stay small in memory.
CHUNK = 256 * 1024
Missing = Literal[403, 404]
_REASONS = {403: "403 Forbidden", 404: "404 Not Found", 405: "405 Method Not Allowed"}


# -- what the site is -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RoutingRule:
    """One routing rule of a website configuration. With no `error_code` it applies before the
    object is looked up (to every key starting with `key_prefix`); with one, only when the
    lookup failed with that status. The first rule that applies redirects."""

    key_prefix: str | None = None  # Condition.KeyPrefixEquals
    error_code: int | None = None  # Condition.HttpErrorCodeReturnedEquals
    host_name: str | None = None
    protocol: Literal["http", "https"] | None = None
    replace_key_prefix: str | None = None  # ReplaceKeyPrefixWith
    replace_key: str | None = None  # ReplaceKeyWith
    redirect_code: int = 301

    def __post_init__(self) -> None:
        if self.replace_key is not None and self.replace_key_prefix is not None:
            raise UsageError(
                "a routing rule can have ReplaceKeyWith or ReplaceKeyPrefixWith, not both"
            )
        if not 300 <= self.redirect_code <= 399:
            raise UsageError(f"HttpRedirectCode {self.redirect_code} is not a redirect (3xx)")
        if self.error_code is not None and not 400 <= self.error_code <= 599:
            raise UsageError(f"HttpErrorCodeReturnedEquals {self.error_code} is not 4xx or 5xx")
        if self.protocol not in (None, "http", "https"):
            raise UsageError(f"redirect protocol '{self.protocol}' is not http or https")

    @classmethod
    def from_document(cls, rule: Mapping[str, Any]) -> RoutingRule:
        """A rule as S3 writes it: {"Condition": {...}, "Redirect": {...}}."""
        condition = rule.get("Condition") or {}
        redirect = rule.get("Redirect") or {}
        if not redirect:
            raise UsageError("a routing rule needs a Redirect")
        error_code = condition.get("HttpErrorCodeReturnedEquals")
        redirect_code = redirect.get("HttpRedirectCode") or 301
        try:
            codes = (int(error_code) if error_code else None, int(redirect_code))
        except ValueError as exc:
            raise UsageError(f"a routing rule has a code that is not a number: {exc}") from exc
        return cls(
            key_prefix=condition.get("KeyPrefixEquals"),
            error_code=codes[0],
            host_name=redirect.get("HostName") or None,
            protocol=redirect.get("Protocol") or None,
            replace_key_prefix=redirect.get("ReplaceKeyPrefixWith"),
            replace_key=redirect.get("ReplaceKeyWith"),
            redirect_code=codes[1],
        )

    def applies(self, key: str, status: Missing | None) -> bool:
        """Whether the rule redirects `key`: before the lookup (`status` None) or after one
        that failed with `status`."""
        return self.error_code == status and key.startswith(self.key_prefix or "")

    def location(self, key: str, host: str) -> str:
        """Where the rule sends `key`; the request's host where the rule names none."""
        if self.replace_key is not None:
            key = self.replace_key
        elif self.replace_key_prefix is not None:
            key = self.replace_key_prefix + key[len(self.key_prefix or "") :]
        return f"{self.protocol or 'http'}://{self.host_name or host}/{quote(key)}"


@dataclass(frozen=True, slots=True)
class Site:
    """What is served: the prefix of the bucket the site lives under ('' for the whole bucket,
    else a folder: 'site' is read as 'site/'), the index suffix, the error document (relative
    to the prefix; None: plain-text errors) and the routing rules."""

    prefix: str = ""
    index: str = "index.html"
    error: str | None = None
    rules: tuple[RoutingRule, ...] = ()

    def __post_init__(self) -> None:
        prefix = self.prefix.strip("/")
        object.__setattr__(self, "prefix", prefix + "/" if prefix else "")
        if not self.index or "/" in self.index:
            raise UsageError(f"the index document '{self.index}' must be a name without '/'")
        if self.error is not None:
            error = self.error.lstrip("/")
            if not error or error.endswith("/"):
                raise UsageError(f"the error document '{self.error}' must name an object")
            object.__setattr__(self, "error", error)
        object.__setattr__(self, "rules", tuple(self.rules))

    @classmethod
    def from_config(
        cls,
        document: Mapping[str, Any] | None,
        *,
        prefix: str = "",
        index: str | None = None,
        error: str | None = None,
    ) -> Site:
        """The site a bucket's website configuration (None: it has none) describes, with the
        index and error documents given here taking the place of the configuration's. A
        configuration that redirects every request becomes one rule without a condition."""
        config = document or {}
        redirect_all = config.get("RedirectAllRequestsTo")
        if redirect_all:
            rules: tuple[RoutingRule, ...] = (
                RoutingRule(
                    host_name=redirect_all.get("HostName") or None,
                    protocol=redirect_all.get("Protocol") or None,
                ),
            )
        else:
            rules = tuple(
                RoutingRule.from_document(rule) for rule in config.get("RoutingRules") or ()
            )
        return cls(
            prefix=prefix,
            index=index or (config.get("IndexDocument") or {}).get("Suffix") or "index.html",
            error=error or (config.get("ErrorDocument") or {}).get("Key") or None,
            rules=rules,
        )


def bucket_website(session: Session, bucket: str) -> Mapping[str, Any] | None:
    """The bucket's website configuration; None where it has none, or where the store has no
    website API (SeaweedFS answers as if there were none)."""
    from s3kit.service import S3Service

    try:
        document = S3Service(session).get_website(bucket)
    except NotSupported:
        return None
    return dict(document) if document else None


# -- the pure decision ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SiteObject:
    """An object as the site sees it: its HEAD, and the redirect it carries (if any)."""

    info: ObjectInfo
    redirect_location: str | None = None


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    target: str  # as on the request line: path, query and all
    host: str  # the Host header, which redirects without a HostName keep
    if_none_match: str | None = None
    accept_encoding: str | None = None


@dataclass(frozen=True, slots=True)
class Serve:
    """Answer with the object: 200, the error document's 403/404, or 304 (headers only)."""

    obj: SiteObject
    status: int = 200
    vary: bool = False  # the answer depends on Accept-Encoding (the object has a sibling)


@dataclass(frozen=True, slots=True)
class Redirect:
    status: int
    location: str


@dataclass(frozen=True, slots=True)
class Plain:
    status: int
    text: str


Decision = Serve | Redirect | Plain
Lookup = Callable[[str], SiteObject | Missing]


def site_key(target: str) -> str | None:
    """The key, relative to the site's root, a request target names: the query dropped, the
    path percent-decoded (so '%2F' is a '/'), then '.' and '..' segments resolved without ever
    climbing above the root ('/../x' is 'x'). '' is the root and a key ending in '/' a folder.
    None for a target that names no key (not a path, undecodable, control characters)."""
    path = target.split("#", 1)[0]
    if "://" in path.split("?", 1)[0]:  # absolute form: GET http://host/path HTTP/1.1
        path = urlsplit(path).path or "/"
    path = path.split("?", 1)[0]
    if not path.startswith("/"):
        return None
    try:
        decoded = unquote(path, errors="strict")
    except UnicodeDecodeError:
        return None
    if any(ord(char) < 0x20 or char == "\x7f" for char in decoded):
        return None
    segments = decoded.split("/")[1:]
    kept: list[str] = []
    for segment in segments:
        if segment == "..":
            if kept:
                kept.pop()
        elif segment != ".":
            kept.append(segment)
    key = "/".join(kept)
    if segments[-1] in (".", "..") and key:
        key += "/"  # '/docs/.' names the folder, as '/docs/' does
    return key


def none_match(header: str | None, etag: str | None) -> bool:
    """Whether an If-None-Match header matches the ETag (a list, weak tags, '*')."""
    if not header or not etag:
        return False
    for tag in header.split(","):
        tag = tag.strip()
        if tag == "*" or etags_match(tag.removeprefix("W/"), etag):
            return True
    return False


def accepts_brotli(header: str | None) -> bool:
    """Whether an Accept-Encoding header takes br: named, or `*`, with a q above 0 (and not
    refused by name when `*` is what takes it)."""
    weights: dict[str, float] = {}
    for part in (header or "").split(","):
        coding, *params = (piece.strip() for piece in part.split(";"))
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if coding:
            weights[coding.lower()] = q
    return weights.get("br", weights.get("*", 0.0)) > 0


def _negotiated(found: SiteObject, key: str, request: Request, lookup: Lookup) -> Serve:
    """The object itself or its brotli sibling, as the request's Accept-Encoding takes."""
    if key.endswith(SIBLING) or not is_compressible(found.info.content_type or ""):
        return Serve(found)
    sibling = lookup(key + SIBLING)
    if not isinstance(sibling, SiteObject) or sibling.info.content_encoding != "br":
        return Serve(found)
    if accepts_brotli(request.accept_encoding):
        return Serve(sibling, vary=True)
    return Serve(found, vary=True)


def decide(request: Request, site: Site, lookup: Lookup) -> Decision:
    """What S3 website hosting would answer `request` with; `lookup` is handed full keys
    (the site's prefix in front) and answers the object, or 404 / 403."""
    if request.method not in ("GET", "HEAD"):
        return Plain(405, _REASONS[405])
    key = site_key(request.target)
    if key is None:
        return _failed(404, "", request, site, lookup)
    for rule in site.rules:
        if rule.applies(key, None):
            return Redirect(rule.redirect_code, rule.location(key, request.host))
    full = site.prefix + (key + site.index if key == "" or key.endswith("/") else key)
    found = lookup(full)
    if isinstance(found, SiteObject):
        if found.redirect_location:
            return Redirect(301, found.redirect_location)
        chosen = _negotiated(found, full, request, lookup)
        if none_match(request.if_none_match, chosen.obj.info.etag):
            return Serve(chosen.obj, 304, chosen.vary)
        return chosen
    # S3 looks for the folder's index whether the key was missing or denied (a bucket
    # readable without s3:ListBucket answers 403 for a missing key).
    if (
        key
        and not key.endswith("/")
        and isinstance(lookup(f"{site.prefix}{key}/{site.index}"), SiteObject)
    ):
        return Redirect(302, f"/{quote(key)}/")
    return _failed(found, key, request, site, lookup)


def _failed(status: Missing, key: str, request: Request, site: Site, lookup: Lookup) -> Decision:
    for rule in site.rules:
        if rule.applies(key, status):
            return Redirect(rule.redirect_code, rule.location(key, request.host))
    if site.error is not None:
        document = lookup(site.prefix + site.error)
        if isinstance(document, SiteObject):
            return Serve(document, status)
    return Plain(status, _REASONS[status])


# -- the server -------------------------------------------------------------------------------


class _Objects:
    """The site's objects, read through the storage layer. From an `S3Storage` the HEAD is
    the signed path's own request, read with `head_info`, because `ObjectInfo` keeps no
    x-amz-website-redirect-location; any other `Storage` has no such header."""

    def __init__(self, storage: Storage) -> None:
        self.storage = storage

    def lookup(self, key: str) -> SiteObject | Missing:
        try:
            object_key(key)  # what no S3 request could name exactly is not there
            return self._head(key)
        except (InvalidKey, ObjectNotFound, BucketNotFound):
            return 404
        except PermissionDenied:
            return 403

    def _head(self, key: str) -> SiteObject:
        storage = self.storage
        if isinstance(storage, S3Storage):
            encryption = storage.encryption
            response = storage.session.http().request(
                "HEAD",
                storage.bucket,
                key,
                headers=encryption.read_headers() if encryption is not None else None,
            )
            return SiteObject(
                head_info(key, response.headers), response.headers.get(REDIRECT_HEADER)
            )
        return SiteObject(run_sync(storage.head_async(key)))

    def body(self, info: ObjectInfo) -> Generator[bytes, None, None]:
        """The object's bytes, streamed; ConflictError if it is no longer the one `info`
        describes (closing the generator closes the GET's connection)."""
        yield from iter_sync(
            self.storage.stream_async(info.key, if_match=info.etag, chunk_size=CHUNK)
        )


class _Changed(Exception):
    """The object changed (or went) between its HEAD and its GET, before anything was sent."""


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True  # a browser's idle keep-alive connection must not hold up close()

    def __init__(self, port: int, website: WebsiteServer) -> None:
        self.website = website
        super().__init__((HOST, port), _Handler)

    def server_bind(self) -> None:
        # HTTPServer's own asks the resolver for the address's name (socket.getfqdn), which
        # can take seconds where reverse DNS is slow; the address is all a URL needs.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = HOST, int(self.server_address[1])

    def handle_error(self, request: Any, client_address: Any) -> None:
        # http.server would print the traceback on stderr: a browser that hangs up (a closed
        # tab, a cancelled download) is no news, anything else goes to the (redacted) log.
        if isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            logger.debug("website: %s hung up", client_address, exc_info=True)
        else:
            logger.error("website: a request from %s failed", client_address, exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    server: _HTTPServer
    protocol_version = "HTTP/1.1"
    server_version = "s3kit-website"
    sys_version = ""
    timeout = 60  # seconds an idle keep-alive connection holds its thread

    def _answer(self) -> None:
        website = self.server.website
        request = Request(
            method=self.command,
            target=self.path,
            host=self.headers.get("Host") or website.url.split("/")[2],
            if_none_match=self.headers.get("If-None-Match"),
            accept_encoding=self.headers.get("Accept-Encoding"),
        )
        if self.command not in ("GET", "HEAD"):
            self.close_connection = True  # its body, if any, is never read
        try:
            for _ in range(3):
                try:
                    self._send(decide(request, website.site, website._objects.lookup))
                    return
                except _Changed:
                    continue
            self._plain(Plain(503, "503 Service Unavailable: the object keeps changing"))
        except S3KitError as exc:
            self._plain(Plain(502, f"502 Bad Gateway: {redact(exc.message)}"))

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _answer

    def _send(self, decision: Decision) -> None:
        if isinstance(decision, Plain):
            self._plain(decision)
        elif isinstance(decision, Redirect):
            self.send_response(decision.status)
            self.send_header("Location", decision.location)
            self.send_header("Content-Length", "0")
            self.end_headers()
        else:
            self._serve(decision)

    def _plain(self, decision: Plain) -> None:
        body = (decision.text + "\n").encode()
        self.send_response(decision.status)
        if decision.status == 405:
            self.send_header("Allow", "GET, HEAD")
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _serve(self, decision: Serve) -> None:
        info = decision.obj.info
        if decision.status == 304:
            self.send_response(304)
            self._validators(info, decision.vary)
            self.end_headers()
            return
        body = None
        first = b""
        if self.command == "GET" and info.size:
            body = self.server.website._objects.body(info)
            try:
                first = next(body, b"")  # the GET is sent here: a failure can still be told
            except S3KitError as exc:
                body.close()
                if isinstance(exc, ConflictError | ObjectNotFound):
                    raise _Changed() from exc
                raise
        try:
            self.send_response(decision.status)
            content_type = info.content_type or content_type_for(info.key)
            self.send_header("Content-Type", content_type or "application/octet-stream")
            self.send_header("Content-Length", str(info.size))
            if info.content_encoding:
                self.send_header("Content-Encoding", info.content_encoding)
            self._validators(info, decision.vary)
            self.end_headers()
            if body is None:
                return
            self.wfile.write(first)
            for chunk in body:
                self.wfile.write(chunk)
        except S3KitError as exc:  # the status line is out: all that is left is to hang up
            self.close_connection = True
            logger.warning("s3kit website: %s broke off: %s", info.key, exc.message)
        finally:
            if body is not None:
                body.close()

    def _validators(self, info: ObjectInfo, vary: bool = False) -> None:
        if vary:
            self.send_header("Vary", "Accept-Encoding")
        if info.cache_control:
            self.send_header("Cache-Control", info.cache_control)
        if info.etag:
            self.send_header("ETag", info.etag)
        if info.last_modified.timestamp() > 0:
            self.send_header(
                "Last-Modified", format_datetime(info.last_modified.astimezone(UTC), usegmt=True)
            )

    def log_message(self, format: str, *args: Any) -> None:
        self.server.website.log(redact(f"{self.address_string()} {format % args}"))


def _log_request(line: str) -> None:
    logger.info("%s", line)


class WebsiteServer:
    """A static site of a bucket served over HTTP on 127.0.0.1, one thread per connection.

    `store` is a Session (with `bucket`) or any `Storage`; `site` says what is served;
    `port` 0 takes any free port; `log` gets one line per request (the s3kit logger's INFO by
    default). Listening starts here, so a port in use fails at once; `start()` serves on a
    background thread, `serve_forever()` on the caller's, `close()` stops either."""

    def __init__(
        self,
        store: Session | Storage,
        bucket: str | None = None,
        *,
        site: Site | None = None,
        port: int = DEFAULT_PORT,
        log: Callable[[str], None] | None = None,
    ) -> None:
        if isinstance(store, Storage):
            storage = store
        elif bucket is None:
            raise UsageError("name the bucket the site is in")
        else:
            storage = store.storage(bucket)
        self.site = site or Site()
        self.log = log or _log_request
        self._objects = _Objects(storage)
        self._thread: threading.Thread | None = None
        self._serving = threading.Event()
        try:
            self._server = _HTTPServer(port, self)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise S3KitError(
                    f"port {port} on {HOST} is in use — choose another port (0 picks a free one)"
                ) from exc
            raise S3KitError(f"cannot listen on {HOST}:{port}: {exc.strerror or exc}") from exc

    @classmethod
    def for_bucket(
        cls,
        session: Session,
        bucket: str,
        prefix: str = "",
        *,
        index: str | None = None,
        error: str | None = None,
        port: int = DEFAULT_PORT,
        log: Callable[[str], None] | None = None,
    ) -> WebsiteServer:
        """The server of `bucket`'s site under `prefix`, from the bucket's website
        configuration (its routing rules; its documents unless `index`/`error` are given),
        read once, now, before the port is taken."""
        site = Site.from_config(
            bucket_website(session, bucket), prefix=prefix, index=index, error=error
        )
        return cls(session, bucket, site=site, port=port, log=log)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}/"

    def serve_forever(self) -> None:
        """Serve on this thread until `close()` (from another thread) or an exception such as
        KeyboardInterrupt."""
        self._serving.set()
        try:
            self._server.serve_forever(poll_interval=0.2)
        finally:
            self._serving.clear()

    def start(self) -> WebsiteServer:
        """Serve on a background thread; returns at once."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self.serve_forever, name="s3kit-website", daemon=True
            )
            self._thread.start()
        return self

    def close(self) -> None:
        """Stop serving and release the port. Safe to call twice."""
        if self._serving.is_set():
            self._server.shutdown()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        self._server.server_close()

    def __enter__(self) -> WebsiteServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()
