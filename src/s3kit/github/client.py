"""The one path every GitHub REST call takes: headers, token, retries, rate limits, redirects,
pagination, errors and downloads, over urllib3.

GitHub's own rules ("Best practices for using the REST API", "Rate limits for the REST API"),
kept here so no caller has to know them: a pinned API version; calls made one at a time per
client (a lock); after a 403 or 429 that says `retry-after`, wait that long; one with
`x-ratelimit-remaining: 0`, until `x-ratelimit-reset`; any other rate-limited answer (a
secondary limit) at least a minute, doubling, for a bounded number of attempts. A wait longer
than `RateLimitPolicy.max_wait` fails at once with a message saying when to come back, instead
of hanging a deploy for an hour. Answers that failed on the way (connections, 500/502/503/504)
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
import email.utils
import hashlib
import ipaddress
import json
import math
import os
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlencode, urljoin, urlsplit

import urllib3

from s3kit._atomic import AtomicFile
from s3kit._observe import logger as _root_logger
from s3kit._observe import redact
from s3kit._retry import RetryPolicy
from s3kit._units import GiB, MiB, human_size
from s3kit._version import __version__
from s3kit.errors import (
    ConfigError,
    ConflictError,
    CredentialsError,
    EndpointError,
    ObjectNotFound,
    PermissionDenied,
    S3KitError,
    Throttled,
    TransferError,
    UsageError,
)

log = _root_logger.getChild("github")

DEFAULT_API_URL = "https://api.github.com"
API_VERSION = "2022-11-28"
MEDIA_JSON = "application/vnd.github+json"
MEDIA_RAW = "application/octet-stream"
PER_PAGE = 100
DEFAULT_MAX_DOWNLOAD = 2 * GiB
TOKEN_VARIABLES = ("GITHUB_TOKEN", "GH_TOKEN")  # the first one set wins

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_TRANSIENT = frozenset({500, 502, 503, 504})
_MAX_REDIRECTS = 5
_ERROR_BODY_CAP = 1 * MiB
_JSON_CAP = 64 * MiB
_CHUNK = 256 * 1024
# GitHub's words for a secondary limit (the older one is "abuse detection mechanism").
_SECONDARY = re.compile(r"secondary rate limit|abuse detection", re.IGNORECASE)


# -- the rate-limit rules: pure -------------------------------------------------------------------


RateLimitRule = Literal["retry-after", "reset", "secondary"]


@dataclass(frozen=True, slots=True)
class RateLimitWait:
    """How long to wait before sending a rate-limited request again, and the rule that says so."""

    seconds: float
    rule: RateLimitRule


@dataclass(frozen=True, slots=True, kw_only=True)
class RateLimitPolicy:
    """How a client lives with GitHub's rate limits. `max_attempts` counts the attempts of one
    request that may be answered "rate limited" (the first included); `max_wait` is the longest
    single wait, in seconds, before failing instead; `secondary_wait` is the first wait for a
    secondary limit that names none (GitHub: at least a minute), doubled after each further one."""

    max_attempts: int = 4
    max_wait: float = 15 * 60.0
    secondary_wait: float = 60.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise UsageError(f"a request needs at least one attempt, not {self.max_attempts}")
        if self.max_wait < 0 or self.secondary_wait < 0:
            raise UsageError("rate-limit waits cannot be negative")


def rate_limit_wait(
    status: int,
    headers: Mapping[str, str],
    message: str,
    *,
    now: float,
    previous: int = 0,
    secondary_wait: float = 60.0,
) -> RateLimitWait | None:
    """The wait GitHub's documented rules ask for after an answer (`status`, `headers`, the
    error `message` of its body), at time `now` (epoch seconds), when `previous` rate-limited
    answers to the same request came before it; None: the answer is not a rate limit (a 403 can
    be a plain refusal)."""
    if status not in (403, 429):
        return None
    lower = {name.lower(): value.strip() for name, value in headers.items()}
    after = _retry_after(lower.get("retry-after"), now)
    if after is not None:
        return RateLimitWait(after, "retry-after")
    if lower.get("x-ratelimit-remaining") == "0":
        reset = _number(lower.get("x-ratelimit-reset"))
        if reset is not None:
            # The reset is whole seconds of GitHub's clock, not ours: one second past it
            # (octokit's plugin-throttling does the same).
            return RateLimitWait(float(max(math.ceil(reset - now) + 1, 1)), "reset")
        return RateLimitWait(secondary_wait * 2.0**previous, "secondary")
    if status == 429 or _SECONDARY.search(message):
        return RateLimitWait(secondary_wait * 2.0**previous, "secondary")
    return None


def _number(text: str | None) -> float | None:
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _retry_after(text: str | None, now: float) -> float | None:
    """`retry-after` in seconds: GitHub sends a number; HTTP also allows a date."""
    seconds = _number(text)
    if seconds is not None:
        return max(seconds, 0.0)
    if not text:
        return None
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(when.timestamp() - now, 0.0)


# -- Link headers ----------------------------------------------------------------------------------

_LINK = re.compile(r"<([^>]*)>((?:\s*;\s*[^;,]*)*)")
_REL = re.compile(r"""\brel\s*=\s*"?([^";,]*)"?""", re.IGNORECASE)


def next_link(header: str | None) -> str | None:
    """The `rel="next"` URL of a Link header (RFC 8288), or None on the last page."""
    if not header:
        return None
    for match in _LINK.finditer(header):
        rel = _REL.search(match.group(2))
        if rel is not None and "next" in rel.group(1).lower().split():
            return match.group(1).strip()
    return None


# -- what an answer means ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Endpoint:
    """What a request is for, in the words its errors use. `operation` is GitHub's operationId
    ("repos/get-release-by-tag"), `what` names the thing asked for ("release v1.2 of o/r"),
    `permission` is the fine-grained token permission it needs ("contents:read"); `not_found`,
    `gone` and `invalid` replace the messages for 404, 410 and 422 where those mean something
    specific (GitHub answers a commit it does not know 422)."""

    operation: str
    what: str
    permission: str
    not_found: str | None = None
    gone: str | None = None
    invalid: str | None = None


def error_for(
    status: int,
    message: str,
    endpoint: Endpoint,
    *,
    authenticated: bool,
    request_id: str | None = None,
    details: str = "",
) -> S3KitError:
    """The s3kit error a GitHub API answer means; `message` is the `message` of its body."""
    said = f" ({message})" if message else ""
    token_hint = (
        f"the token needs {endpoint.permission}"
        if authenticated
        else f"set GITHUB_TOKEN to a token with {endpoint.permission}"
    )
    error: S3KitError
    if status == 401:
        error = CredentialsError(
            f"GitHub refused the token — set GITHUB_TOKEN to a token with {endpoint.permission}"
            if authenticated
            else f"GitHub asks for a token for {endpoint.what} — set GITHUB_TOKEN to a token"
            f" with {endpoint.permission}"
        )
    elif status == 403:
        error = PermissionDenied(f"GitHub denied access to {endpoint.what}{said} — {token_hint}")
    elif status == 404:
        error = ObjectNotFound(
            endpoint.not_found or f"{endpoint.what} not found, or the token cannot see it"
            if authenticated
            else f"{endpoint.not_found or f'{endpoint.what} not found'}, or it is private —"
            f" set GITHUB_TOKEN to a token with {endpoint.permission}"
        )
    elif status == 410:
        error = ObjectNotFound(endpoint.gone or f"{endpoint.what} is gone from GitHub{said}")
    elif status == 409:
        error = ConflictError(f"GitHub refused {endpoint.what}: conflict{said}")
    elif status == 422:
        error = UsageError(
            f"{endpoint.invalid}{said}"
            if endpoint.invalid
            else f"GitHub refused {endpoint.what} as invalid{said}{details}"
        )
    elif status >= 500:
        error = EndpointError(f"GitHub failed ({status}) on {endpoint.what}{said} — retry later")
    else:
        error = S3KitError(f"GitHub answered {status} to {endpoint.what}{said}")
    return error.add_context(status=status, operation=endpoint.operation, request_id=request_id)


def safe_url(url: str) -> str:
    """`url` fit for a message: no credentials, no query (signed links carry secrets there)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


def _origin(url: str) -> tuple[str, str, int]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or "").lower(), parts.port or (443 if scheme == "https" else 80)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _Token:
    """The token, shown as *** wherever an object is printed."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "'***'"


def resolve_token(token: str | None, env: Mapping[str, str]) -> str | None:
    """The token to use: `token` when given ("" means none), else GITHUB_TOKEN, else GH_TOKEN."""
    if token is None:
        token = next((env[name] for name in TOKEN_VARIABLES if env.get(name, "").strip()), "")
    token = token.strip()
    if not token:
        return None
    if not token.isascii() or not token.isprintable() or " " in token:
        raise ConfigError(
            "the GitHub token holds characters no token has (spaces, line breaks, non-ASCII) —"
            " copy it again into GITHUB_TOKEN"
        )
    return token


def resolve_api_url(api_url: str | None, env: Mapping[str, str]) -> str:
    """The API's base URL: `api_url`, else GITHUB_API_URL (GitHub Enterprise Server:
    https://HOST/api/v3), else https://api.github.com; without a trailing slash."""
    url = (api_url or env.get("GITHUB_API_URL", "").strip() or DEFAULT_API_URL).rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query:
        raise ConfigError(
            f"GITHUB_API_URL {safe_url(url)!r} is not an API address — use"
            " https://api.github.com, or https://HOST/api/v3 for GitHub Enterprise Server"
        )
    if parts.username or parts.password:
        raise ConfigError("GITHUB_API_URL must not hold credentials — set GITHUB_TOKEN instead")
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        raise ConfigError(
            f"GITHUB_API_URL {safe_url(url)!r} is plain http: the token would cross the network"
            " readable — use https://"
        )
    return url


# -- the client -------------------------------------------------------------------------------


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
        self._api_origin = _origin(self._api_url)
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
                raise _unexpected(endpoint, "a page that is not a list")
            yield from items
            url = next_link(reply.headers.get("link"))
            if url is not None and url in seen:
                raise _unexpected(endpoint, "a Link header that points back to an earlier page")

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
        announced = _number(response.headers.get("content-length"))
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
            if response.status not in _REDIRECTS:
                return response
            location = response.headers.get("location")
            response.drain_conn()
            response.release_conn()
            url, method, data = self._redirect(url, location, response.status, method, data,
                                               endpoint)  # fmt: skip
        raise EndpointError(
            f"GitHub redirected {endpoint.what} more than {_MAX_REDIRECTS} times — check"
            " GITHUB_API_URL"
        ).add_context(operation=endpoint.operation)

    def _redirect(
        self,
        url: str,
        location: str | None,
        status: int,
        method: str,
        data: bytes | None,
        endpoint: Endpoint,
    ) -> tuple[str, str, bytes | None]:
        if not location:
            raise _unexpected(endpoint, f"a {status} redirect without a Location")
        target = urljoin(url, location)
        scheme = urlsplit(target).scheme.lower()
        if scheme not in ("http", "https") or (
            urlsplit(url).scheme.lower() == "https" and scheme != "https"
        ):
            raise EndpointError(
                f"GitHub redirected {endpoint.what} to {safe_url(target)}, which is not https —"
                " refused"
            ).add_context(operation=endpoint.operation)
        if method in ("GET", "HEAD"):
            return target, method, None
        # A write is sent again only where 307/308 say it may be, and only to the API itself.
        if status in (307, 308) and _origin(target) == self._api_origin:
            return target, method, data
        raise EndpointError(
            f"GitHub answered {endpoint.what} with a {status} redirect to {safe_url(target)};"
            " s3kit does not send a write on — check GITHUB_API_URL"
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
        own = _origin(url) == self._api_origin
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
            if status < 300 or status in _REDIRECTS:
                return response
            raw = _read_capped(response, _ERROR_BODY_CAP) or b""
            response.release_conn()
            message, details = _error_message(raw)
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
                raise _download_error(status, url, endpoint)
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
                f" {_human_wait(wait.seconds)} (at {when:%H:%M:%S} UTC), longer than the"
                f" {_human_wait(policy.max_wait)} s3kit waits — try again then, or allow a"
                f" longer wait (max_wait){hint}"
            ).add_context(status=status, operation=endpoint.operation, request_id=request_id)
        log.info(
            "GitHub rate limit (%s) on %s: waiting %s", wait.rule, endpoint.what,
            _human_wait(wait.seconds),
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


def _error_message(raw: bytes) -> tuple[str, str]:
    """GitHub's error `message`, and a few of its `errors` (422) as text."""
    try:
        document = json.loads(raw)
    except ValueError:
        return "", ""
    if not isinstance(document, dict):
        return "", ""
    message = str(document.get("message") or "")[:300]
    found: list[str] = []
    for item in document.get("errors") or []:
        if isinstance(item, dict):
            text = item.get("message") or " ".join(
                str(item[key]) for key in ("resource", "field", "code") if item.get(key)
            )
            found.append(str(text))
        else:
            found.append(str(item))
    details = f": {'; '.join(found[:5])}"[:400] if found else ""
    return message, details


def _decode(reply: Reply, endpoint: Endpoint, api_url: str) -> Any:
    try:
        return json.loads(reply.body)
    except ValueError:
        raise EndpointError(
            f"the answer to {endpoint.what} is not JSON — check that GITHUB_API_URL ({api_url})"
            " is the API (https://HOST/api/v3 for GitHub Enterprise Server)"
        ).add_context(operation=endpoint.operation, status=reply.status) from None


def _unexpected(endpoint: Endpoint, what: str) -> EndpointError:
    error = EndpointError(f"GitHub answered {endpoint.what} with {what}")
    error.add_context(operation=endpoint.operation)
    return error


def _download_error(status: int, url: str, endpoint: Endpoint) -> S3KitError:
    """An error from the host a download was redirected to (not the API)."""
    where = safe_url(url)
    error: S3KitError
    if status in (401, 403):
        error = PermissionDenied(
            f"{where} refused the download of {endpoint.what} ({status}); the link GitHub gave"
            " may have expired — try again"
        )
    elif status in (404, 410):
        error = ObjectNotFound(f"{where} has no {endpoint.what} ({status}) — try again")
    elif status >= 500:
        error = EndpointError(f"{where} failed ({status}) serving {endpoint.what} — retry later")
    else:
        error = TransferError(f"{where} answered {status} to the download of {endpoint.what}")
    return error.add_context(status=status, operation=endpoint.operation)


def _human_wait(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


__all__ = [
    "API_VERSION",
    "DEFAULT_API_URL",
    "DEFAULT_MAX_DOWNLOAD",
    "MEDIA_JSON",
    "MEDIA_RAW",
    "PER_PAGE",
    "TOKEN_VARIABLES",
    "Downloaded",
    "Endpoint",
    "GitHubClient",
    "RateLimitPolicy",
    "RateLimitRule",
    "RateLimitWait",
    "Reply",
    "error_for",
    "next_link",
    "rate_limit_wait",
    "resolve_api_url",
    "resolve_token",
    "safe_url",
]
