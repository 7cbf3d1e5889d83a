"""The GitHub client's rules, against scripted answers on loopback: pagination, GitHub's
rate-limit rules (waits computed with a fake clock, never slept), the wait cap, the token kept
out of every message and off other hosts, GITHUB_API_URL, verified downloads."""

from __future__ import annotations

import json
import logging
import threading
import traceback
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from s3kit._retry import RetryPolicy
from s3kit._version import __version__
from s3kit.errors import (
    ConfigError,
    CredentialsError,
    EndpointError,
    ObjectNotFound,
    PermissionDenied,
    S3KitError,
    Throttled,
    TransferError,
    UsageError,
)
from s3kit.github import GitHubClient, GitHubRepo, RateLimitPolicy, ReleaseAsset
from s3kit.github.rules import (
    API_VERSION,
    Endpoint,
    RateLimitWait,
    next_link,
    rate_limit_wait,
    redirect_target,
    resolve_api_url,
    resolve_token,
    safe_url,
)
from tests.github_support import FakeTime

TOKEN = "ghp_s3kitTestToken0123456789abcdefABCDEF"
NOW = 1_700_000_000.0
SECONDARY = "You have exceeded a secondary rate limit. Please wait a few minutes."


# -- a scripted loopback server -------------------------------------------------------------------


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Scripted:
    """Answers each request with the next scripted (status, headers, body); records requests."""

    answers: deque[tuple[int, dict[str, str], bytes]] = field(default_factory=deque)
    seen: list[Seen] = field(default_factory=list)
    url: str = ""
    on_request: Any = None

    def add(self, status: int, body: Any = b"", **headers: str) -> None:
        if not isinstance(body, bytes):
            body = json.dumps(body).encode()
            headers.setdefault("content_type", "application/json; charset=utf-8")
        self.answers.append((status, {k.replace("_", "-"): v for k, v in headers.items()}, body))


@pytest.fixture
def serve() -> Iterator[Any]:
    servers: list[ThreadingHTTPServer] = []

    def start() -> Scripted:
        script = Scripted()

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _any(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {k.lower(): v for k, v in self.headers.items()}
                script.seen.append(Seen(self.command, self.path, headers, body))
                if script.on_request is not None:
                    script.on_request()
                status, extra, payload = (
                    script.answers.popleft() if script.answers else (599, {}, b"unscripted")
                )
                self.send_response(status)
                for name, value in extra.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PATCH = _any

            def log_message(self, format: str, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True).start()
        servers.append(server)
        script.url = f"http://127.0.0.1:{server.server_address[1]}"
        return script

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def client_for(
    script: Scripted, fake: FakeTime | None = None, token: str | None = TOKEN, **options: Any
) -> GitHubClient:
    fake = fake or FakeTime()
    return GitHubClient(
        token=token, api_url=script.url, env={}, clock=fake.clock, sleep=fake.sleep,
        retry=RetryPolicy(max_attempts=3), **options,
    )  # fmt: skip


REPO_ENDPOINT = Endpoint(operation="repos/get", what="repository o/r", permission="contents:read")


# -- pure rules -----------------------------------------------------------------------------------


def test_retry_after_is_waited_out_on_403_and_429() -> None:
    for status in (403, 429):
        wait = rate_limit_wait(status, {"Retry-After": "7"}, SECONDARY, now=NOW)
        assert wait == RateLimitWait(7.0, "retry-after")


def test_retry_after_as_an_http_date() -> None:
    wait = rate_limit_wait(429, {"retry-after": "Tue, 14 Nov 2023 22:15:00 GMT"}, "", now=NOW)
    assert wait == RateLimitWait(100.0, "retry-after")  # NOW is 22:13:20 UTC that day


def test_a_spent_primary_limit_waits_until_one_second_past_the_reset() -> None:
    headers = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(NOW) + 30)}
    assert rate_limit_wait(403, headers, "API rate limit exceeded", now=NOW) == RateLimitWait(
        31.0, "reset"
    )
    assert rate_limit_wait(429, headers, "", now=NOW + 0.5) == RateLimitWait(31.0, "reset")
    # A reset already past (our clock ahead of GitHub's) still waits a second, never negative.
    late = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(NOW) - 100)}
    assert rate_limit_wait(403, late, "", now=NOW) == RateLimitWait(1.0, "reset")


def test_retry_after_wins_over_the_reset_time() -> None:
    headers = {"retry-after": "5", "x-ratelimit-remaining": "0", "x-ratelimit-reset": "9" * 10}
    assert rate_limit_wait(403, headers, "", now=NOW) == RateLimitWait(5.0, "retry-after")


def test_a_secondary_limit_waits_a_minute_then_doubles() -> None:
    waits = [rate_limit_wait(403, {}, SECONDARY, now=NOW, previous=n) for n in range(4)]
    assert waits == [RateLimitWait(s, "secondary") for s in (60.0, 120.0, 240.0, 480.0)]
    assert rate_limit_wait(429, {}, "", now=NOW) == RateLimitWait(60.0, "secondary")
    old_words = "You have triggered an abuse detection mechanism."
    assert rate_limit_wait(403, {}, old_words, now=NOW, secondary_wait=5) == RateLimitWait(
        5.0, "secondary"
    )


def test_a_plain_403_is_not_a_rate_limit() -> None:
    headers = {"x-ratelimit-remaining": "4999", "x-ratelimit-reset": str(int(NOW) + 30)}
    assert rate_limit_wait(403, headers, "Resource not accessible by integration", now=NOW) is None
    assert rate_limit_wait(404, {"retry-after": "3"}, "", now=NOW) is None
    assert rate_limit_wait(500, {}, SECONDARY, now=NOW) is None


def test_next_link_finds_rel_next_wherever_it_stands() -> None:
    header = (
        '<https://api.github.com/repositories/1/releases?page=1>; rel="prev",'
        ' <https://api.github.com/repositories/1/releases?per_page=100&page=3>; rel="next",'
        ' <https://api.github.com/repositories/1/releases?page=9>; rel="last"'
    )
    assert next_link(header) == "https://api.github.com/repositories/1/releases?per_page=100&page=3"
    assert next_link('<https://x/a?page=9>; rel="last"') is None
    assert next_link(None) is None and next_link("") is None
    assert next_link("<https://x/?page=2>; rel=next") == "https://x/?page=2"


def test_rate_limit_policy_validates_itself() -> None:
    with pytest.raises(UsageError):
        RateLimitPolicy(max_attempts=0)
    with pytest.raises(UsageError):
        RateLimitPolicy(max_wait=-1)


def test_token_precedence_explicit_then_github_token_then_gh_token() -> None:
    env = {"GITHUB_TOKEN": "ghp_fromGithubToken", "GH_TOKEN": "ghp_fromGhToken"}
    assert resolve_token("ghp_explicit", env) == "ghp_explicit"
    assert resolve_token(None, env) == "ghp_fromGithubToken"
    assert resolve_token(None, {"GH_TOKEN": "ghp_fromGhToken", "GITHUB_TOKEN": " "}) == (
        "ghp_fromGhToken"
    )
    assert resolve_token(None, {}) is None
    assert resolve_token("", env) is None  # explicitly none


def test_a_token_with_a_line_break_is_refused_without_showing_it() -> None:
    with pytest.raises(ConfigError) as caught:
        resolve_token("ghp_abc\ndef", {})
    assert "ghp_abc" not in str(caught.value)


def test_api_url_rules() -> None:
    assert resolve_api_url(None, {}) == "https://api.github.com"
    ghes = {"GITHUB_API_URL": "https://ghe.example.com/api/v3/"}
    assert resolve_api_url(None, ghes) == "https://ghe.example.com/api/v3"
    assert resolve_api_url("https://other.example/api/v3", ghes) == "https://other.example/api/v3"
    assert resolve_api_url("http://127.0.0.1:8080", {}) == "http://127.0.0.1:8080"
    for bad in ("http://ghe.example.com/api/v3", "ftp://x", "https://u:p@ghe.example/api/v3"):
        with pytest.raises(ConfigError):
            resolve_api_url(bad, {})


def test_safe_url_drops_credentials_and_the_signed_query() -> None:
    url = "https://u:p@codeload.github.com/o/r/legacy.tar.gz/main?token=AAAsecret&sig=x"
    assert safe_url(url) == "https://codeload.github.com/o/r/legacy.tar.gz/main"


def test_where_a_redirect_may_lead() -> None:
    api = "https://ghe.example/api/v3"
    home = ("https", "ghe.example", 443)

    def follow(status: int, method: str, location: str | None) -> tuple[str, str, bytes | None]:
        return redirect_target(f"{api}/repos/o/r", location, status, method, b"{}", REPO_ENDPOINT,
                               api_origin=home)  # fmt: skip

    # A read goes anywhere https (a signed link on another host), and carries no body on.
    signed = "https://objects.example/a?sig=x"
    assert follow(302, "GET", signed) == (signed, "GET", None)
    assert follow(301, "GET", "/api/v3/repositories/9") == (f"{api}/repositories/9", "GET", None)
    # A write goes on, with its body, only where 307/308 allow it and only to the API itself.
    assert follow(307, "POST", f"{api}/repositories/9") == (f"{api}/repositories/9", "POST", b"{}")
    with pytest.raises(EndpointError, match="does not send a write on"):
        follow(302, "POST", f"{api}/repositories/9")
    with pytest.raises(EndpointError, match="does not send a write on"):
        follow(308, "PATCH", "https://elsewhere.example/repos/o/r")
    with pytest.raises(EndpointError, match=r"objects\.example/a, which is not https"):
        follow(302, "GET", "http://objects.example/a?sig=secret")
    with pytest.raises(EndpointError, match="redirect without a Location"):
        follow(302, "GET", None)


# -- requests against scripted answers --------------------------------------------------------


def test_three_pages_are_followed_by_their_link_headers(serve: Any) -> None:
    api = serve()
    page2 = f"{api.url}/repositories/9/releases?per_page=100&page=2"
    page3 = f"{api.url}/repositories/9/releases?per_page=100&page=3"
    api.add(200, [{"n": 1}, {"n": 2}], link=f'<{page2}>; rel="next", <{page3}>; rel="last"')
    api.add(200, [{"n": 3}], link=f'<{page3}>; rel="next", <{api.url}/x?page=1>; rel="first"')
    api.add(200, [{"n": 4}], link=f'<{api.url}/x?page=1>; rel="first", <{page2}>; rel="prev"')
    client = client_for(api)
    items = list(client.paginate("/repos/o/r/releases", endpoint=REPO_ENDPOINT))
    assert [item["n"] for item in items] == [1, 2, 3, 4]
    assert [seen.path for seen in api.seen] == [
        "/repos/o/r/releases?per_page=100",
        "/repositories/9/releases?per_page=100&page=2",
        "/repositories/9/releases?per_page=100&page=3",
    ]


def test_pages_of_an_object_are_read_under_their_key(serve: Any) -> None:
    api = serve()
    nxt = f"{api.url}/repos/o/r/actions/runs/1/artifacts?page=2"
    api.add(200, {"total_count": 2, "artifacts": [{"id": 1}]}, link=f'<{nxt}>; rel="next"')
    api.add(200, {"total_count": 2, "artifacts": [{"id": 2}]})
    client = client_for(api)
    found = client.paginate("/repos/o/r/actions/runs/1/artifacts", endpoint=REPO_ENDPOINT,
                            items_key="artifacts", params={"name": "site"})  # fmt: skip
    assert [item["id"] for item in found] == [1, 2]
    assert api.seen[0].path == "/repos/o/r/actions/runs/1/artifacts?name=site&per_page=100"


def test_every_request_carries_githubs_headers(serve: Any) -> None:
    api = serve()
    api.add(200, {"ok": True})
    client_for(api).request_json("POST", "/repos/o/r/x", endpoint=REPO_ENDPOINT, body={"a": 1})
    headers = api.seen[0].headers
    assert headers["accept"] == "application/vnd.github+json"
    assert headers["x-github-api-version"] == API_VERSION == "2022-11-28"
    assert headers["user-agent"] == f"s3kit/{__version__}"
    assert headers["authorization"] == f"Bearer {TOKEN}"
    assert headers["content-type"] == "application/json"
    assert json.loads(api.seen[0].body) == {"a": 1}


def test_without_a_token_no_authorization_is_sent(serve: Any) -> None:
    api = serve()
    api.add(200, {})
    client_for(api, token="").request_json("GET", "/repos/o/r", endpoint=REPO_ENDPOINT)
    assert "authorization" not in api.seen[0].headers


@pytest.mark.parametrize(
    ("fault", "waits"),
    [
        ({"retry_after": "7"}, [7.0]),
        ({"x_ratelimit_remaining": "0", "x_ratelimit_reset": str(int(NOW) + 30)}, [31.0]),
    ],
    ids=["retry-after", "reset"],
)
@pytest.mark.parametrize("status", [403, 429])
def test_a_rate_limited_request_waits_what_github_says_then_succeeds(
    serve: Any, status: int, fault: dict[str, str], waits: list[float]
) -> None:
    api = serve()
    api.add(status, {"message": "API rate limit exceeded"}, **fault)
    api.add(200, {"id": 1})
    fake = FakeTime()
    assert client_for(api, fake).request_json("GET", "/repos/o/r", endpoint=REPO_ENDPOINT) == {
        "id": 1
    }
    assert fake.sleeps == waits
    assert len(api.seen) == 2


def test_a_secondary_limit_backs_off_exponentially_then_gives_up(serve: Any) -> None:
    api = serve()
    for _ in range(4):
        api.add(403, {"message": SECONDARY})
    fake = FakeTime()
    with pytest.raises(Throttled, match="kept rate-limiting repository o/r \\(4 attempts\\)"):
        client_for(api, fake).request_json("GET", "/repos/o/r", endpoint=REPO_ENDPOINT)
    assert fake.sleeps == [60.0, 120.0, 240.0]
    assert len(api.seen) == 4


def test_a_wait_over_the_cap_fails_at_once_saying_when_to_come_back(serve: Any) -> None:
    api = serve()
    reset = int(NOW) + 3600
    api.add(403, {"message": "API rate limit exceeded"}, x_ratelimit_remaining="0",
            x_ratelimit_reset=str(reset))  # fmt: skip
    fake = FakeTime()
    client = client_for(api, fake, rate_limits=RateLimitPolicy(max_wait=15 * 60))
    with pytest.raises(Throttled) as caught:
        client.request_json("GET", "/repos/o/r", endpoint=REPO_ENDPOINT)
    assert fake.sleeps == []
    assert len(api.seen) == 1
    message = str(caught.value)
    assert "in 60 min (at 23:13:21 UTC), longer than the 15 min s3kit waits" in message
    assert "try again then" in message


def test_the_cap_is_configurable(serve: Any) -> None:
    api = serve()
    api.add(429, {"message": "slow down"}, retry_after="1800")
    api.add(200, {"id": 1})
    fake = FakeTime()
    client = client_for(api, fake, rate_limits=RateLimitPolicy(max_wait=3600))
    client.request_json("GET", "/repos/o/r", endpoint=REPO_ENDPOINT)
    assert fake.sleeps == [1800.0]


def test_a_plain_403_is_a_permission_error_not_a_wait(serve: Any) -> None:
    api = serve()
    api.add(403, {"message": "Resource not accessible by integration"})
    fake = FakeTime()
    with pytest.raises(PermissionDenied, match="the token needs contents:read"):
        client_for(api, fake).request_json("GET", "/repos/o/r", endpoint=REPO_ENDPOINT)
    assert fake.sleeps == [] and len(api.seen) == 1


def test_reads_are_retried_after_a_server_error_and_writes_are_not(serve: Any) -> None:
    api = serve()
    api.add(502, b"bad gateway")
    api.add(200, {"id": 1})
    fake = FakeTime()
    client = client_for(api, fake)
    assert client.request_json("GET", "/repos/o/r", endpoint=REPO_ENDPOINT) == {"id": 1}
    assert len(fake.sleeps) == 1 and len(api.seen) == 2
    api.add(502, b"bad gateway")
    with pytest.raises(EndpointError, match="GitHub failed \\(502\\)"):
        client.request_json("POST", "/repos/o/r/deployments", endpoint=REPO_ENDPOINT, body={})
    assert len(api.seen) == 3  # the POST went once


def test_calls_are_made_one_at_a_time(serve: Any) -> None:
    api = serve()
    second_arrived = threading.Event()
    overlapped: list[bool] = []

    def on_request() -> None:
        if not overlapped:
            overlapped.append(False)
            # The first request holds on until a second arrives, or a fifth of a second.
            overlapped[0] = second_arrived.wait(0.2)
        else:
            second_arrived.set()

    api.on_request = on_request
    api.add(200, {"n": 1})
    api.add(200, {"n": 2})
    client = client_for(api)
    threads = [
        threading.Thread(
            target=client.request_json, args=("GET", "/r"), kwargs={"endpoint": REPO_ENDPOINT}
        )
        for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert len(api.seen) == 2
    assert overlapped == [False]


# -- errors say what to do, and never show the token ---------------------------------------------


@pytest.mark.parametrize(
    ("status", "error", "message"),
    [
        (401, CredentialsError,
         "GitHub refused the token — set GITHUB_TOKEN to a token with contents:read"),
        (404, ObjectNotFound, "repository o/r not found, or the token cannot see it"),
        (403, PermissionDenied, "GitHub denied access to repository o/r (Nope) — the token needs"
         " contents:read"),
    ],
)  # fmt: skip
def test_error_answers_become_s3kit_errors_that_say_what_to_do(
    serve: Any, status: int, error: type[S3KitError], message: str
) -> None:
    api = serve()
    api.add(status, {"message": "Nope"}, x_github_request_id="ABCD:1234")
    with pytest.raises(error) as caught:
        client_for(api).request_json("GET", "/repos/o/r", endpoint=REPO_ENDPOINT)
    assert str(caught.value) == message
    assert caught.value.status == status
    assert caught.value.operation == "repos/get"
    assert caught.value.request_id == "ABCD:1234"


def test_without_a_token_a_404_says_to_set_one(serve: Any) -> None:
    api = serve()
    api.add(404, {"message": "Not Found"})
    with pytest.raises(ObjectNotFound) as caught:
        client_for(api, token="").request_json("GET", "/repos/o/r", endpoint=REPO_ENDPOINT)
    assert str(caught.value) == (
        "repository o/r not found, or it is private — set GITHUB_TOKEN to a token with"
        " contents:read"
    )


def test_the_token_is_in_no_repr_message_traceback_or_log(
    serve: Any, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    caplog.set_level(logging.DEBUG, logger="s3kit")
    api = serve()
    client = client_for(api)
    assert TOKEN not in repr(client) and "'***'" in repr(client)
    assert TOKEN not in repr(vars(client))
    texts: list[str] = []
    # A server that echoes the token back must not get it into a message either.
    for status in (401, 403, 404, 410, 422, 500):
        api.add(status, {"message": f"bad Bearer {TOKEN}", "errors": [TOKEN]})
    api.add(429, {"message": "x"}, retry_after="99999")
    for _ in range(7):
        try:  # a POST: a 500 is not sent again, so each answer meets one request
            client.request_json("POST", "/repos/o/r", endpoint=REPO_ENDPOINT, body={})
        except S3KitError as exc:
            texts += [str(exc), repr(exc), "".join(traceback.format_exception(exc))]
    assert len(texts) == 21
    texts += [record.getMessage() for record in caplog.records]
    assert not [text for text in texts if TOKEN in text]
    assert TOKEN.startswith("ghp_")  # the check above would catch any piece of it: it is literal


def test_github_api_url_is_honoured_with_its_path(serve: Any) -> None:
    api = serve()
    api.add(200, {"id": 1, "full_name": "o/r", "default_branch": "main", "private": False,
                  "html_url": "https://ghe.example/o/r"})  # fmt: skip
    client = GitHubClient(env={"GITHUB_API_URL": f"{api.url}/api/v3", "GH_TOKEN": TOKEN})
    assert client.api_url == f"{api.url}/api/v3"
    assert GitHubRepo(client, "o/r").get().full_name == "o/r"
    assert api.seen[0].path == "/api/v3/repos/o/r"
    assert api.seen[0].headers["authorization"] == f"Bearer {TOKEN}"


def test_the_default_api_is_githubs() -> None:
    assert GitHubClient(env={}).api_url == "https://api.github.com"


# -- redirects and downloads ------------------------------------------------------------------


def asset_record(data: bytes, *, sha256: str | None, size: int | None = None) -> ReleaseAsset:
    return ReleaseAsset(
        id=5, name="site.tar.gz", label=None, state="uploaded",
        content_type="application/gzip", size=len(data) if size is None else size,
        sha256=sha256, browser_download_url="https://x/site.tar.gz",
    )  # fmt: skip


def test_a_redirect_to_another_host_carries_no_authorization(serve: Any, tmp_path: Path) -> None:
    import hashlib

    api, objects = serve(), serve()
    data = b"asset bytes" * 100
    api.add(302, location=f"{objects.url}/blob/5?sig=abc")
    objects.add(200, data, content_type="application/octet-stream")
    repo = GitHubRepo(client_for(api), "o/r")
    asset = asset_record(data, sha256=hashlib.sha256(data).hexdigest())
    done = repo.download_release_asset(asset, tmp_path / "site.tar.gz")
    assert (tmp_path / "site.tar.gz").read_bytes() == data
    assert done.size == len(data) and done.sha256 == asset.sha256
    assert api.seen[0].headers["authorization"] == f"Bearer {TOKEN}"
    assert api.seen[0].headers["accept"] == "application/octet-stream"
    assert api.seen[0].path == "/repos/o/r/releases/assets/5"
    assert objects.seen[0].path == "/blob/5?sig=abc"
    assert "authorization" not in objects.seen[0].headers
    assert "x-github-api-version" not in objects.seen[0].headers


def test_a_redirect_within_the_api_keeps_the_token(serve: Any) -> None:
    api = serve()
    api.add(301, location=f"{api.url}/repositories/42")
    api.add(200, {"id": 42})
    assert client_for(api).request_json("GET", "/repos/o/old", endpoint=REPO_ENDPOINT) == {"id": 42}
    assert [s.headers.get("authorization") for s in api.seen] == [f"Bearer {TOKEN}"] * 2


def test_a_write_is_not_sent_on_to_another_host(serve: Any) -> None:
    api, other = serve(), serve()
    api.add(307, location=f"{other.url}/steal")
    with pytest.raises(EndpointError, match="does not send a write on"):
        client_for(api).request_json("POST", "/repos/o/r/x", endpoint=REPO_ENDPOINT, body={})
    assert other.seen == []


def test_a_digest_mismatch_fails_and_leaves_no_file(serve: Any, tmp_path: Path) -> None:
    api, objects = serve(), serve()
    data = b"what arrived"
    api.add(302, location=f"{objects.url}/blob/5?sig=abc")
    objects.add(200, data)
    repo = GitHubRepo(client_for(api), "o/r")
    target = tmp_path / "out" / "site.tar.gz"
    (tmp_path / "out").mkdir()
    with pytest.raises(TransferError, match="not the sha256:" + "0" * 64 + " GitHub lists"):
        repo.download_release_asset(asset_record(data, sha256="0" * 64), target)
    assert list((tmp_path / "out").iterdir()) == []


def test_a_download_over_the_cap_fails_and_leaves_no_file(serve: Any, tmp_path: Path) -> None:
    api, objects = serve(), serve()
    api.add(302, location=f"{objects.url}/blob")
    objects.add(200, b"x" * 5000)
    client = client_for(api)
    endpoint = Endpoint(operation="repos/download-tarball-archive", what="main of o/r",
                        permission="contents:read")  # fmt: skip
    with pytest.raises(TransferError, match="over the 1000 Bytes download cap"):
        client.download("/repos/o/r/tarball/main", tmp_path / "t.tgz", endpoint=endpoint,
                        max_bytes=1000)  # fmt: skip
    assert list(tmp_path.iterdir()) == []


def test_a_short_download_fails_and_leaves_no_file(serve: Any, tmp_path: Path) -> None:
    api = serve()
    data = b"direct bytes"
    api.add(200, data, content_type="application/octet-stream")  # the API streams it itself
    repo = GitHubRepo(client_for(api), "o/r")
    with pytest.raises(TransferError, match="12 bytes arrived where GitHub lists 20"):
        repo.download_release_asset(asset_record(data, sha256=None, size=20), tmp_path / "a")
    assert list(tmp_path.iterdir()) == []


def test_an_expired_download_link_is_reported_without_its_signature(
    serve: Any, tmp_path: Path
) -> None:
    api, objects = serve(), serve()
    api.add(302, location=f"{objects.url}/blob/5?sig=SIGNATURE123")
    objects.add(403, b"<Error><Code>AccessDenied</Code></Error>")
    repo = GitHubRepo(client_for(api), "o/r")
    with pytest.raises(PermissionDenied) as caught:
        repo.download_release_asset(asset_record(b"abc", sha256=None), tmp_path / "a")
    assert "may have expired" in str(caught.value)
    assert "SIGNATURE123" not in str(caught.value)
    assert list(tmp_path.iterdir()) == []


def test_an_asset_still_uploading_is_refused_before_asking(serve: Any, tmp_path: Path) -> None:
    api = serve()
    open_asset = ReleaseAsset(
        id=5, name="a", label=None, state="open", content_type="x", size=1, sha256=None,
        browser_download_url="https://x/a",
    )  # fmt: skip
    with pytest.raises(TransferError, match="still being uploaded"):
        GitHubRepo(client_for(api), "o/r").download_release_asset(open_asset, tmp_path / "a")
    assert api.seen == []


def test_repository_names_are_checked() -> None:
    client = GitHubClient(env={})
    for bad in ("nope", "a/b/c", "-x/y", "o/..", "o/"):
        with pytest.raises(UsageError):
            GitHubRepo(client, bad)
    assert GitHubRepo(client, "octo-org/my.site_v2").slug == "octo-org/my.site_v2"


def test_paths_percent_encode_refs(serve: Any) -> None:
    api = serve()
    api.add(200, b"a" * 40)
    sha = GitHubRepo(client_for(api), "o/r").resolve_ref("feature/x y")
    assert sha == "a" * 40
    assert api.seen[0].path == "/repos/o/r/commits/feature%2Fx%20y"
    assert api.seen[0].headers["accept"] == "application/vnd.github.sha"
