"""The one path every GitHub REST call takes: headers, token, retries, rate limits, redirects,
pagination, errors and downloads, over urllib3.

The rules it carries out are GitHub's own, decided in `rules` from plain values (how long a
rate limit asks to wait, the next page, where a redirect may lead, what an answer means); this
module sends. Calls are made one at a time per client (a lock); a rate-limited answer is waited
out as `rules.rate_limit_wait` says, for a bounded number of attempts. A wait longer than
`RateLimitPolicy.max_wait` fails at once with a message saying when to come back, instead of
hanging a deploy for an hour. Answers that failed on the way (connections, 500/502/503/504)
are retried by s3kit's one `RetryPolicy`, for reads only: a POST that may have been carried
out is never sent twice.

What it must never do: put the token anywhere but the Authorization header of a request to the
API's own origin (never into a message, a log line, a repr, or a redirect to another host —
tarballs, release assets and artifacts are served from other hosts through signed links, which
also carry secrets in their query, so a URL is shown without it); send a token over plain
HTTP to anything but this machine; leave a half-written download behind.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import urllib3

from s3kit._atomic import AtomicFile
from s3kit._observe import logger as _root_logger
from s3kit._observe import redact
from s3kit._retry import RetryPolicy
from s3kit._units import GiB, MiB, human_size
from s3kit._version import __version__
from s3kit.errors import EndpointError, S3KitError, Throttled, TransferError, UsageError
from s3kit.github.rules import (
    API_VERSION,
    MEDIA_JSON,
    PER_PAGE,
    REDIRECTS,
    Endpoint,
    RateLimitPolicy,
    RateLimitWait,
    download_error,
    error_for,
    error_message,
    header_number,
    human_wait,
    next_link,
    origin,
    rate_limit_wait,
    redirect_target,
    resolve_api_url,
    resolve_token,
    safe_url,
    unexpected,
)

log = _root_logger.getChild("github")

DEFAULT_MAX_DOWNLOAD = 2 * GiB

_TRANSIENT = frozenset({500, 502, 503, 504})
_MAX_REDIRECTS = 5
_ERROR_BODY_CAP = 1 * MiB
_JSON_CAP = 64 * MiB
_CHUNK = 256 * 1024


# -- the client -------------------------------------------------------------------------------


class _Token:
    """The token, shown as *** wherever an object is printed."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "'***'"


@dataclass(frozen=True, slots=True)
class Reply:
    """A successful answer, read whole."""

    status: int
    headers: Mapping[str, str]  # names in lower case
    body: bytes


@dataclass(frozen=True, slots=True)
class Downloaded:
    """A file a download wrote: where, how many bytes, their SHA-256 (hex)."""

    path: Path
    size: int
    sha256: str


class GitHubClient:
    """A GitHub REST API client: one request at a time, GitHub's rate-limit rules, redirects
    followed without the token leaving the API's host.

    The token is `token` when given ("" for none), else GITHUB_TOKEN, else GH_TOKEN; without one,
    requests go unauthenticated (public repositories, 60 requests an hour). The API is at
    `api_url`, else GITHUB_API_URL, else https://api.github.com. `env` stands in for the
    environment; `clock` (epoch seconds) and `sleep` for time, so tests never wait; `pool` for
    the urllib3 PoolManager (TLS and proxy settings)."""

    def __init__(
        self,
        *,
        token: str | None = None,
        api_url: str | None = None,
        env: Mapping[str, str] | None = None,
        rate_limits: RateLimitPolicy | None = None,
        retry: RetryPolicy | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
        timeout: float = 30.0,
        pool: urllib3.PoolManager | None = None,
    ) -> None:
        if env is None:
            env = os.environ
        if timeout <= 0:
            raise UsageError(f"the GitHub timeout must be positive, not {timeout}")
        resolved = resolve_token(token, env)
        self._token = _Token(resolved) if resolved else None
        self._api_url = resolve_api_url(api_url, env)
        self._api_origin = origin(self._api_url)
        self._rate_limits = rate_limits or RateLimitPolicy()
        self._retry = retry or RetryPolicy()
        self._clock = clock
        self._sleep = sleep
        self._timeout = urllib3.Timeout(connect=min(timeout, 10.0), read=timeout)
        self._pool = pool or urllib3.PoolManager(num_pools=4, maxsize=1)
        self._lock = threading.Lock()

    @property
    def api_url(self) -> str:
        return self._api_url

    @property
    def authenticated(self) -> bool:
        return self._token is not None

    def __repr__(self) -> str:
        token = "'***'" if self._token else "None"
        return f"GitHubClient(api_url={self._api_url!r}, token={token})"

    def close(self) -> None:
        self._pool.clear()

    def __enter__(self) -> GitHubClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- requests --------------------------------------------------------------------------------

    def url(self, path: str, params: Mapping[str, str | int] | None = None) -> str:
        """The absolute URL of `path` (below the API's base; an absolute URL stays as it is)."""
        url = path if "://" in path else self._api_url + "/" + path.lstrip("/")
        if params:
            url += ("&" if "?" in url else "?") + urlencode(params)
        return url

    def request(
        self,
        method: str,
        path: str,
        *,
        endpoint: Endpoint,
        params: Mapping[str, str | int] | None = None,
        body: Any = None,
        accept: str = MEDIA_JSON,
    ) -> Reply:
        """Send one request (`body`, when not None, as JSON) and read its answer whole; an
        error answer raises the s3kit error it means."""
        data = None if body is None else json.dumps(body).encode()
        with self._lock:
            response = self._exchange(
                method, self.url(path, params), data=data, accept=accept, endpoint=endpoint
            )
            try:
                raw = _read_capped(response, _JSON_CAP)
            except urllib3.exceptions.HTTPError as exc:
                raise self._unreachable(self.url(path), exc) from exc
            finally:
                response.release_conn()
            if raw is None:
                raise EndpointError(
                    f"GitHub's answer to {endpoint.what} is over {human_size(_JSON_CAP)}"
                ).add_context(operation=endpoint.operation)
        return Reply(response.status, _lower(response.headers), raw)

    def request_json(
        self,
        method: str,
        path: str,
        *,
        endpoint: Endpoint,
        params: Mapping[str, str | int] | None = None,
        body: Any = None,
    ) -> Any:
        """`request`, its answer decoded from JSON."""
        reply = self.request(method, path, endpoint=endpoint, params=params, body=body)
        return self.decode(reply, endpoint)

    def decode(self, reply: Reply, endpoint: Endpoint) -> Any:
        """The JSON document of `reply`; an answer that is not JSON raises, saying why."""
        return _decode(reply, endpoint, self._api_url)

    def paginate(
        self,
        path: str,
        *,
        endpoint: Endpoint,
        params: Mapping[str, str | int] | None = None,
        items_key: str | None = None,
    ) -> Iterator[Any]:
        """The items of every page of a list, 100 a page, following the Link header's
        rel="next". A page is a JSON list, or an object holding the list under `items_key`
        (`{"total_count": 3, "artifacts": [...]}`). The lock is held per page, not while the
        caller holds an item."""
        url: str | None = self.url(path, {**(params or {}), "per_page": PER_PAGE})
        seen: set[str] = set()
        while url is not None:
            seen.add(url)
            reply = self.request("GET", url, endpoint=endpoint)
            page = self.decode(reply, endpoint)
            items = page.get(items_key) if items_key and isinstance(page, dict) else page
            if not isinstance(items, list):
                raise unexpected(endpoint, "a page that is not a list")
            yield from items
            url = next_link(reply.headers.get("link"))
            if url is not None and url in seen:
                raise unexpected(endpoint, "a Link header that points back to an earlier page")

    def download(
        self,
        path: str,
        dest: Path,
        *,
        endpoint: Endpoint,
        accept: str = MEDIA_JSON,
        max_bytes: int = DEFAULT_MAX_DOWNLOAD,
        size: int | None = None,
        sha256: str | None = None,
    ) -> Downloaded:
        """Stream the answer to `path` (after its redirects) into `dest`: a temporary file in
        its folder, renamed into place only when every byte arrived, at most `max_bytes` of
        them, exactly `size` when given, with SHA-256 `sha256` (hex) when given. On any failure
        nothing is left at `dest` but what was there before."""
        if size is not None and size > max_bytes:
            raise TransferError(
                f"{endpoint.what} is {human_size(size)}, over the {human_size(max_bytes)}"
                " download cap — raise max_bytes if that is expected"
            ).add_context(operation=endpoint.operation)
        with self._lock:
            url = self.url(path)
            response = self._exchange("GET", url, data=None, accept=accept, endpoint=endpoint,
                                      stream=True)  # fmt: skip
            finished = False
            try:
                done = self._write(response, dest, endpoint, max_bytes, size, sha256)
                finished = True
                return done
            except urllib3.exceptions.HTTPError as exc:
                raise TransferError(
                    f"the download of {endpoint.what} broke off ({type(exc).__name__}) —"
                    " nothing was written; try again"
                ).add_context(operation=endpoint.operation) from exc
            finally:
                if not finished:  # a body left unread: the connection cannot be used again
                    with contextlib.suppress(Exception):
                        response.close()
                response.release_conn()

    def _write(
        self,
        response: urllib3.BaseHTTPResponse,
        dest: Path,
        endpoint: Endpoint,
        max_bytes: int,
        size: int | None,
        sha256: str | None,
    ) -> Downloaded:
        announced = header_number(response.headers.get("content-length"))
        if announced is not None and announced > max_bytes:
            raise TransferError(
                f"{endpoint.what} is {human_size(int(announced))}, over the"
                f" {human_size(max_bytes)} download cap — raise max_bytes if that is expected"
            ).add_context(operation=endpoint.operation)
        digest = hashlib.sha256()
        written = 0
        target = AtomicFile(dest)
        try:
            for chunk in response.stream(_CHUNK, decode_content=False):
                written += len(chunk)
                if written > max_bytes:
                    raise TransferError(
                        f"{endpoint.what} passed the {human_size(max_bytes)} download cap —"
                        " nothing was written; raise max_bytes if that is expected"
                    ).add_context(operation=endpoint.operation)
                digest.update(chunk)
                target.write(chunk)
            if size is not None and written != size:
                raise TransferError(
                    f"{endpoint.what}: {written} bytes arrived where GitHub lists {size} —"
                    " nothing was written; download it again"
                ).add_context(operation=endpoint.operation)
            got = digest.hexdigest()
            if sha256 is not None and got != sha256.lower():
                raise TransferError(
                    f"{endpoint.what}: the bytes that arrived have SHA-256 {got}, not the"
                    f" sha256:{sha256.lower()} GitHub lists — nothing was written; download it"
                    " again"
                ).add_context(operation=endpoint.operation)
            target.commit()
        except BaseException:
            target.abort()
            raise
        return Downloaded(dest, written, got)

    # -- one exchange: attempts, rate limits, redirects ------------------------------------------

    def _exchange(
        self,
        method: str,
        url: str,
        *,
        data: bytes | None,
        accept: str,
        endpoint: Endpoint,
        stream: bool = False,
    ) -> urllib3.BaseHTTPResponse:
        """The final answer to `method url`, a 2xx (its body unread), after following
        redirects; anything else raises."""
        for _hop in range(_MAX_REDIRECTS + 1):
            response = self._attempts(method, url, data=data, accept=accept, endpoint=endpoint,
                                      stream=stream)  # fmt: skip
            if response.status not in REDIRECTS:
                return response
            location = response.headers.get("location")
            response.drain_conn()
            response.release_conn()
            url, method, data = redirect_target(url, location, response.status, method, data,
                                                endpoint, api_origin=self._api_origin)  # fmt: skip
        raise EndpointError(
            f"GitHub redirected {endpoint.what} more than {_MAX_REDIRECTS} times — check"
            " GITHUB_API_URL"
        ).add_context(operation=endpoint.operation)

    def _headers(self, own: bool, accept: str, has_body: bool) -> dict[str, str]:
        headers = {"User-Agent": f"s3kit/{__version__}"}
        if own:
            headers["Accept"] = accept
            headers["X-GitHub-Api-Version"] = API_VERSION
            if self._token is not None:
                headers["Authorization"] = f"Bearer {self._token.reveal()}"
            if has_body:
                headers["Content-Type"] = "application/json"
        return headers

    def _attempts(
        self,
        method: str,
        url: str,
        *,
        data: bytes | None,
        accept: str,
        endpoint: Endpoint,
        stream: bool,
    ) -> urllib3.BaseHTTPResponse:
        """Send until an answer is final: a 2xx, a redirect, or an error that retrying cannot
        change (raised as the s3kit error it means)."""
        own = origin(url) == self._api_origin
        headers = self._headers(own, accept, data is not None)
        # Only a read is sent again after a failure on the way: a write may have been done.
        rereadable = method in ("GET", "HEAD")
        failures = 0
        limited = 0
        while True:
            try:
                response = self._pool.urlopen(
                    method, url, body=data, headers=headers, redirect=False, retries=False,
                    preload_content=False, decode_content=not stream, timeout=self._timeout,
                )  # fmt: skip
            except urllib3.exceptions.HTTPError as exc:
                failures += 1
                if rereadable and self._retry.retrying(failures, "transient"):
                    self._sleep(self._retry.delay(failures, "transient"))
                    continue
                raise self._unreachable(url, exc).add_context(operation=endpoint.operation) from exc
            status = response.status
            request_id = response.headers.get("x-github-request-id")
            log.debug("%s %s -> %s (%s)", method, safe_url(url), status, request_id or "-")
            if status < 300 or status in REDIRECTS:
                return response
            raw = _read_capped(response, _ERROR_BODY_CAP) or b""
            response.release_conn()
            message, details = error_message(raw)
            if own:
                wait = rate_limit_wait(
                    status, _lower(response.headers), message, now=self._clock(),
                    previous=limited, secondary_wait=self._rate_limits.secondary_wait,
                )  # fmt: skip
                if wait is not None:
                    limited += 1
                    self._wait_out(wait, limited, endpoint, status, request_id)
                    continue
            if status in _TRANSIENT and rereadable:
                failures += 1
                if self._retry.retrying(failures, "transient"):
                    self._sleep(self._retry.delay(failures, "transient"))
                    continue
            if not own:
                raise download_error(status, url, endpoint)
            error = error_for(status, message, endpoint, authenticated=self.authenticated,
                              request_id=request_id, details=details)  # fmt: skip
            raise self._scrub(error)

    def _wait_out(
        self,
        wait: RateLimitWait,
        limited: int,
        endpoint: Endpoint,
        status: int,
        request_id: str | None,
    ) -> None:
        """Sleep out `wait` after the `limited`-th rate-limited answer, or fail when the attempts
        are spent or the wait is over the cap."""
        policy = self._rate_limits
        hint = "" if self.authenticated else "; a GITHUB_TOKEN gets a far higher limit"
        if limited >= policy.max_attempts:
            raise Throttled(
                f"GitHub kept rate-limiting {endpoint.what} ({limited} attempts) — wait a few"
                f" minutes and try again, making fewer requests at once{hint}"
            ).add_context(status=status, operation=endpoint.operation, request_id=request_id)
        if wait.seconds > policy.max_wait:
            when = datetime.fromtimestamp(self._clock() + wait.seconds, UTC)
            raise Throttled(
                f"GitHub's rate limit allows the next request for {endpoint.what} in"
                f" {human_wait(wait.seconds)} (at {when:%H:%M:%S} UTC), longer than the"
                f" {human_wait(policy.max_wait)} s3kit waits — try again then, or allow a"
                f" longer wait (max_wait){hint}"
            ).add_context(status=status, operation=endpoint.operation, request_id=request_id)
        log.info(
            "GitHub rate limit (%s) on %s: waiting %s", wait.rule, endpoint.what,
            human_wait(wait.seconds),
        )  # fmt: skip
        self._sleep(wait.seconds)

    def _unreachable(self, url: str, exc: Exception) -> EndpointError:
        return EndpointError(
            f"cannot reach {safe_url(url)} ({type(exc).__name__}) — check GITHUB_API_URL and the"
            " network"
        )

    def _scrub(self, error: S3KitError) -> S3KitError:
        """The token never reaches a message, even where an answer echoed it back."""
        if self._token is not None and self._token.reveal() in error.message:
            error.args = (redact(error.message, [self._token.reveal()]),)
        return error


# -- helpers ----------------------------------------------------------------------------------


def _lower(headers: Mapping[str, str]) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()}


def _read_capped(response: urllib3.BaseHTTPResponse, cap: int) -> bytes | None:
    """The whole body, or None when it is over `cap` bytes (the connection is then closed)."""
    pieces: list[bytes] = []
    total = 0
    while True:
        chunk = response.read(_CHUNK)
        if not chunk:
            return b"".join(pieces)
        total += len(chunk)
        if total > cap:
            response.close()
            return None
        pieces.append(chunk)


def _decode(reply: Reply, endpoint: Endpoint, api_url: str) -> Any:
    try:
        return json.loads(reply.body)
    except ValueError:
        raise EndpointError(
            f"the answer to {endpoint.what} is not JSON — check that GITHUB_API_URL ({api_url})"
            " is the API (https://HOST/api/v3 for GitHub Enterprise Server)"
        ).add_context(operation=endpoint.operation, status=reply.status) from None


__all__ = [
    "DEFAULT_MAX_DOWNLOAD",
    "Downloaded",
    "GitHubClient",
    "Reply",
]
