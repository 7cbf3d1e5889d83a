"""GitHub's rules for a REST client, as pure functions: how long a rate-limited answer asks to
wait, the next page of a Link header, where a redirect may lead, what an error answer means, and
which token and API address to use.

GitHub's own documents ("Best practices for using the REST API", "Rate limits for the REST
API"), kept in one place: after a 403 or 429 that says `retry-after`, wait that long; one with
`x-ratelimit-remaining: 0`, until `x-ratelimit-reset`; any other rate-limited answer (a
secondary limit) at least a minute, doubling. `client.GitHubClient` carries them out over
urllib3; everything here is decided from plain values (statuses, headers, URLs, a clock
reading), so it is unit-tested without a server.

What it must never do: let a redirect carry a write anywhere but the API's own origin, or to
plain http from https; put a URL's query (signed links carry secrets there) or credentials
into a message; accept an API address that would send the token over plain HTTP to anything
but this machine.
"""

from __future__ import annotations

import email.utils
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC
from typing import Literal
from urllib.parse import urljoin, urlsplit

from s3kit._uri import is_loopback
from s3kit.errors import (
    ConfigError,
    ConflictError,
    CredentialsError,
    EndpointError,
    ObjectNotFound,
    PermissionDenied,
    S3KitError,
    TransferError,
    UsageError,
)

DEFAULT_API_URL = "https://api.github.com"
API_VERSION = "2022-11-28"
MEDIA_JSON = "application/vnd.github+json"
MEDIA_RAW = "application/octet-stream"
PER_PAGE = 100
TOKEN_VARIABLES = ("GITHUB_TOKEN", "GH_TOKEN")  # the first one set wins
REDIRECTS = frozenset({301, 302, 303, 307, 308})

# GitHub's words for a secondary limit (the older one is "abuse detection mechanism").
_SECONDARY = re.compile(r"secondary rate limit|abuse detection", re.IGNORECASE)


# -- rate limits -----------------------------------------------------------------------------------


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
        reset = header_number(lower.get("x-ratelimit-reset"))
        if reset is not None:
            # The reset is whole seconds of GitHub's clock, not ours: one second past it
            # (octokit's plugin-throttling does the same).
            return RateLimitWait(float(max(math.ceil(reset - now) + 1, 1)), "reset")
        return RateLimitWait(secondary_wait * 2.0**previous, "secondary")
    if status == 429 or _SECONDARY.search(message):
        return RateLimitWait(secondary_wait * 2.0**previous, "secondary")
    return None


def header_number(text: str | None) -> float | None:
    """A header's number; None where it holds none, or none that is finite."""
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _retry_after(text: str | None, now: float) -> float | None:
    """`retry-after` in seconds: GitHub sends a number; HTTP also allows a date."""
    seconds = header_number(text)
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


def human_wait(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


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


def error_message(raw: bytes) -> tuple[str, str]:
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


def unexpected(endpoint: Endpoint, what: str) -> EndpointError:
    error = EndpointError(f"GitHub answered {endpoint.what} with {what}")
    error.add_context(operation=endpoint.operation)
    return error


def download_error(status: int, url: str, endpoint: Endpoint) -> S3KitError:
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


# -- addresses and redirects -----------------------------------------------------------------------


def safe_url(url: str) -> str:
    """`url` fit for a message: no credentials, no query (signed links carry secrets there)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


def origin(url: str) -> tuple[str, str, int]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or "").lower(), parts.port or (443 if scheme == "https" else 80)


def redirect_target(
    url: str,
    location: str | None,
    status: int,
    method: str,
    data: bytes | None,
    endpoint: Endpoint,
    *,
    api_origin: tuple[str, str, int],
) -> tuple[str, str, bytes | None]:
    """Where a `status` redirect to `location` of `method url` (body `data`) leads: the URL,
    method and body to send next; raises where s3kit does not follow (no Location, https to
    anything but https, a write to anywhere but the API's origin `api_origin`)."""
    if not location:
        raise unexpected(endpoint, f"a {status} redirect without a Location")
    target = urljoin(url, location)
    scheme = urlsplit(target).scheme.lower()
    if scheme not in ("http", "https") or (
        urlsplit(url).scheme.lower() == "https" and scheme != "https"
    ):
        raise EndpointError(
            f"GitHub redirected {endpoint.what} to {safe_url(target)}, which is not https — refused"
        ).add_context(operation=endpoint.operation)
    if method in ("GET", "HEAD"):
        return target, method, None
    # A write is sent again only where 307/308 say it may be, and only to the API itself.
    if status in (307, 308) and origin(target) == api_origin:
        return target, method, data
    raise EndpointError(
        f"GitHub answered {endpoint.what} with a {status} redirect to {safe_url(target)};"
        " s3kit does not send a write on — check GITHUB_API_URL"
    ).add_context(operation=endpoint.operation)


# -- the token and the API's address ---------------------------------------------------------------


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
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise ConfigError(
            f"GITHUB_API_URL {safe_url(url)!r} is plain http: the token would cross the network"
            " readable — use https://"
        )
    return url


__all__ = [
    "API_VERSION",
    "DEFAULT_API_URL",
    "MEDIA_JSON",
    "MEDIA_RAW",
    "PER_PAGE",
    "REDIRECTS",
    "TOKEN_VARIABLES",
    "Endpoint",
    "RateLimitPolicy",
    "RateLimitRule",
    "RateLimitWait",
    "download_error",
    "error_for",
    "error_message",
    "header_number",
    "human_wait",
    "next_link",
    "origin",
    "rate_limit_wait",
    "redirect_target",
    "resolve_api_url",
    "resolve_token",
    "safe_url",
    "unexpected",
]
