"""`s3kit website serve` against the real servers: a site deployed under `site/` of one bucket
per backend (made once for the module), served by `WebsiteServer` and asked with http.client,
which sends a path exactly as written.

moto keeps a bucket's website configuration (index and error documents, routing rules) and is
served from it; SeaweedFS has none (tests/integration/known_gaps.py: "website hosting"), so its
site gets its error document from the command line, as a user there would give it.
"""

from __future__ import annotations

import contextlib
import gzip
import http.client
import json
import os
import select
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from s3kit.errors import EndpointError
from s3kit.service import S3Service
from s3kit.storage import LocalStorage, ObjectInfo
from s3kit.website import Site, WebsiteServer
from tests.conftest import Backend, CliInvoker, unique_bucket_name
from tests.integration.known_gaps import known_gap

S3KIT = str(Path(sys.executable).with_name("s3kit"))

# Not (yet) in known_gaps.KNOWN_GAPS, which this module does not own; the same rule applies:
# looked up before the call, the gap asserted as observed, and only then the skip.
PAGES = {
    "site/index.html": b"<h1>home</h1>",
    "site/docs/index.html": b"<h1>docs</h1>",
    "site/docs/guide.html": b"<h1>guide</h1>",
    "site/404.html": b"<h1>not here</h1>",
    "site/with space.html": b"spaced",
    "site/a/b.html": b"below a",
    "secret.txt": b"top secret",  # outside the site's prefix
}
SCRIPT = gzip.compress(b"console.log('hello');\n" * 200, mtime=0)
BIG = os.urandom(700_001)  # three chunks and a bit of the server's 256 KiB
WEBSITE = {
    "IndexDocument": {"Suffix": "index.html"},
    "ErrorDocument": {"Key": "404.html"},
    "RoutingRules": [
        {
            "Condition": {"KeyPrefixEquals": "legacy/"},
            "Redirect": {"ReplaceKeyPrefixWith": "docs/", "HttpRedirectCode": "302"},
        },
        {
            "Condition": {"KeyPrefixEquals": "gone/", "HttpErrorCodeReturnedEquals": "404"},
            "Redirect": {"HostName": "example.com", "Protocol": "https"},
        },
    ],
}


@dataclass
class Answer:
    status: int
    headers: Mapping[str, str]
    body: bytes


def ask(
    port: int,
    path: str,
    *,
    method: str = "GET",
    headers: Mapping[str, str] | None = None,
    connection: http.client.HTTPConnection | None = None,
) -> Answer:
    own = connection is None
    conn = connection or http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, headers=dict(headers or {}))
        response = conn.getresponse()
        body = response.read()
        return Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, body)
    finally:
        if own:
            conn.close()


@dataclass
class Deployed:
    backend: Backend
    bucket: str
    server: WebsiteServer

    @property
    def port(self) -> int:
        return self.server.port

    def get(self, path: str, **options: object) -> Answer:
        return ask(self.port, path, **options)  # type: ignore[arg-type]


def _deploy(backend: Backend) -> Deployed:
    session = backend.session()
    service = S3Service(session)
    name = unique_bucket_name("web")
    service.create_bucket(name)
    storage = session.storage(name)
    for key, body in PAGES.items():
        storage.put(key, body, content_type="text/html" if key.endswith(".html") else None)
    storage.put(
        "site/app.js",
        SCRIPT,
        content_type="application/javascript",
        content_encoding="gzip",
        cache_control="max-age=60",
    )
    storage.put("site/big.bin", BIG, content_type="application/octet-stream")
    session.client("s3").put_object(
        Bucket=name,
        Key="site/old.html",
        Body=b"moved",
        ContentType="text/html",
        WebsiteRedirectLocation="/docs/guide.html",
    )
    if known_gap(backend, "website hosting") is None:
        service.set_website(name, WEBSITE)
        server = WebsiteServer.for_bucket(session, name, "site", port=0)
    else:
        server = WebsiteServer.for_bucket(session, name, "site", error="404.html", port=0)
    return Deployed(backend, name, server.start())


@pytest.fixture(scope="module")
def deployed_sites() -> Iterator[dict[str, Deployed]]:
    made: dict[str, Deployed] = {}
    yield made
    for site in made.values():
        site.server.close()
        with contextlib.suppress(Exception):
            service = S3Service(site.backend.session())
            service.empty_bucket(site.bucket)
            service.delete_bucket(site.bucket)


def _site_on(backend: Backend, sites: dict[str, Deployed]) -> Deployed:
    if backend.name not in sites:
        sites[backend.name] = _deploy(backend)
    return sites[backend.name]


@pytest.fixture
def site(backend: Backend, deployed_sites: dict[str, Deployed]) -> Deployed:
    return _site_on(backend, deployed_sites)


# -- documents ------------------------------------------------------------------------------


def test_each_folder_serves_its_index_document(site: Deployed) -> None:
    root = site.get("/")
    assert (root.status, root.body) == (200, b"<h1>home</h1>")
    assert root.headers["content-type"] == "text/html"
    assert site.get("/docs/").body == b"<h1>docs</h1>"
    assert site.get("/docs/?utm=x").body == b"<h1>docs</h1>"
    assert site.get("/docs/guide.html").body == b"<h1>guide</h1>"
    assert site.get("/with%20space.html").body == b"spaced"


def test_a_folder_without_its_slash_is_redirected(site: Deployed) -> None:
    answer = site.get("/docs")
    assert (answer.status, answer.headers["location"], answer.body) == (302, "/docs/", b"")


def test_a_missing_key_serves_the_error_document_with_404(site: Deployed) -> None:
    for path in ("/nope.html", "/docs/nope/", "/nope"):
        answer = site.get(path)
        assert (answer.status, answer.body) == (404, b"<h1>not here</h1>"), path


def test_an_object_with_a_redirect_location_is_a_301(site: Deployed) -> None:
    gap = known_gap(site.backend, "website redirect objects")
    answer = site.get("/old.html")
    if gap is not None:
        assert (answer.status, answer.body) == (200, b"moved")  # the gap, as observed
        pytest.skip(gap)
    assert (answer.status, answer.headers["location"]) == (301, "/docs/guide.html")


# -- headers and bodies ---------------------------------------------------------------------


def test_content_encoding_passes_through(site: Deployed) -> None:
    answer = site.get("/app.js", headers={"Accept-Encoding": "identity"})
    assert answer.status == 200
    assert answer.headers["content-encoding"] == "gzip"
    assert answer.headers["content-type"] == "application/javascript"
    assert answer.headers["cache-control"] == "max-age=60"
    assert answer.headers["content-length"] == str(len(SCRIPT))
    assert answer.body == SCRIPT  # the stored bytes, not decompressed
    assert gzip.decompress(answer.body).startswith(b"console.log")


def test_a_large_body_arrives_whole(site: Deployed) -> None:
    answer = site.get("/big.bin")
    assert answer.headers["content-length"] == str(len(BIG))
    assert answer.body == BIG


def test_if_none_match_head_and_keep_alive(site: Deployed) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", site.port, timeout=30)
    try:
        first = ask(site.port, "/docs/guide.html", connection=conn)
        etag = first.headers["etag"]
        assert first.headers["last-modified"].endswith(" GMT")
        again = ask(site.port, "/docs/guide.html", headers={"If-None-Match": etag}, connection=conn)
        assert (again.status, again.body, again.headers["etag"]) == (304, b"", etag)
        other = ask(
            site.port, "/docs/guide.html", headers={"If-None-Match": '"x"'}, connection=conn
        )
        assert (other.status, other.body) == (200, b"<h1>guide</h1>")
        head = ask(site.port, "/docs/guide.html", method="HEAD", connection=conn)
        assert (head.status, head.body) == (200, b"")
        assert head.headers["content-length"] == str(len(b"<h1>guide</h1>"))
        assert head.headers["etag"] == etag
        missing = ask(site.port, "/nope.html", method="HEAD", connection=conn)
        assert (missing.status, missing.body) == (404, b"")
        redirect = ask(site.port, "/docs", connection=conn)  # framing held to here
        assert redirect.status == 302
    finally:
        conn.close()


def test_only_get_and_head(site: Deployed) -> None:
    answer = site.get("/", method="POST", headers={"Content-Length": "0"})
    assert (answer.status, answer.headers["allow"]) == (405, "GET, HEAD")
    assert site.get("/index.html", method="DELETE").status == 405
    assert site.get("/index.html").status == 200  # nothing was deleted


@pytest.mark.parametrize(
    "path",
    [
        "/../secret.txt",
        "/%2e%2e/secret.txt",
        "/%2E%2E%2Fsecret.txt",
        "/..%2fsecret.txt",
        "/docs/..%2F..%2F..%2Fsecret.txt",
        "/a/%2e%2e/%2e%2e/%2e%2e/secret.txt",
        "//secret.txt",
        "/%2Fsecret.txt",
        "/./../secret.txt?/../secret.txt",
    ],
)
def test_hostile_paths_stay_inside_the_prefix(site: Deployed, path: str) -> None:
    answer = site.get(path)
    assert (answer.status, answer.body) == (404, b"<h1>not here</h1>")


def test_encoded_slashes_and_dots_resolve_inside_the_prefix(site: Deployed) -> None:
    assert site.get("/a%2Fb.html").body == b"below a"
    assert site.get("/docs/%2e%2e/index.html").body == b"<h1>home</h1>"
    assert site.get("/docs/..%2Fa%2Fb.html").body == b"below a"


# -- the bucket's website configuration -----------------------------------------------------


def test_routing_rules_of_the_bucket(site: Deployed) -> None:
    gap = known_gap(site.backend, "website hosting")
    moved = site.get("/legacy/guide.html")
    if gap is not None:
        assert moved.status == 404  # no configuration, so no rules
        pytest.skip(gap)
    assert (moved.status, moved.headers["location"]) == (
        302,
        f"http://127.0.0.1:{site.port}/docs/guide.html",
    )
    assert site.get(moved.headers["location"].split(str(site.port), 1)[1]).status == 200
    gone = site.get("/gone/page.html")
    assert (gone.status, gone.headers["location"]) == (301, "https://example.com/gone/page.html")
    assert site.get("/other/page.html").status == 404  # the rule asks for both conditions


def test_any_storage_can_be_served(tmp_path: Path) -> None:
    """A `Storage` other than S3 (here a folder): the same rules, no redirect objects."""
    (tmp_path / "site" / "docs").mkdir(parents=True)
    (tmp_path / "site" / "docs" / "index.html").write_bytes(b"folder docs")
    (tmp_path / "site" / "missing.html").write_bytes(b"folder 404")
    (tmp_path / "secret.txt").write_bytes(b"top secret")
    site = Site(prefix="site", error="missing.html")
    with WebsiteServer(LocalStorage(tmp_path), site=site, port=0) as server:
        page = ask(server.port, "/docs/")
        assert (page.status, page.body) == (200, b"folder docs")
        # s3kit's own table (a folder keeps no content type)
        assert page.headers["content-type"] == "text/html; charset=utf-8"
        assert ask(server.port, "/docs").headers["location"] == "/docs/"
        outside = ask(server.port, "/..%2Fsecret.txt")
        assert (outside.status, outside.body) == (404, b"folder 404")
        etag = page.headers["etag"]
        assert ask(server.port, "/docs/", headers={"If-None-Match": etag}).status == 304


class ChangesAfterHead(LocalStorage):
    """A folder whose page is rewritten right after its first HEAD: the GET that follows,
    pinned to the ETag the HEAD saw, finds another object."""

    rewritten = False

    async def head_async(self, key: str) -> ObjectInfo:
        info = await super().head_async(key)
        if key == "page.html" and not self.rewritten:
            self.rewritten = True
            self.path_for(key).write_bytes(b"the page, rewritten and longer")
        return info


def test_an_object_changed_between_head_and_get_is_served_as_it_is_now(tmp_path: Path) -> None:
    (tmp_path / "page.html").write_bytes(b"old page")
    storage = ChangesAfterHead(tmp_path)
    with WebsiteServer(storage, port=0) as server:
        conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        try:
            page = ask(server.port, "/page.html", connection=conn)
            assert storage.rewritten
            assert (page.status, page.body) == (200, b"the page, rewritten and longer")
            assert page.headers["content-length"] == str(len(page.body))
            assert ask(server.port, "/page.html", connection=conn).body == page.body
        finally:
            conn.close()


class Unreachable(LocalStorage):
    async def head_async(self, key: str) -> ObjectInfo:
        raise EndpointError("cannot reach http://127.0.0.1:9 (ConnectionRefusedError)")


def test_a_store_that_fails_is_a_502_with_its_reason(tmp_path: Path) -> None:
    with WebsiteServer(Unreachable(tmp_path), port=0) as server:
        answer = ask(server.port, "/")
    assert answer.status == 502
    assert (
        answer.body
        == b"502 Bad Gateway: cannot reach http://127.0.0.1:9 (ConnectionRefusedError)\n"
    )


# -- the command ----------------------------------------------------------------------------


def test_a_port_in_use_is_one_line_and_a_failure(
    site: Deployed, cli: CliInvoker, backend: Backend
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = cli(
            "website", "serve", f"s3://{site.bucket}/site", "--port", str(port),
            env=backend.env(),
        )  # fmt: skip
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"s3kit: error: port {port} on 127.0.0.1 is in use — choose another port (0 picks a"
        " free one)"
    ]


def test_serve_prints_the_url_and_ends_cleanly_on_ctrl_c(
    moto: Backend, deployed_sites: dict[str, Deployed]
) -> None:
    site = _site_on(moto, deployed_sites)
    process = subprocess.Popen(
        [S3KIT, "website", "serve", f"s3://{site.bucket}/site", "--port", "0", "--json"],
        env={**os.environ, **moto.env()},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        bufsize=0,
    )
    try:
        assert process.stdout is not None and process.stderr is not None
        printed = b""
        deadline = time.monotonic() + 60  # a guard against a hang, not a measure of speed
        while not printed.endswith(b"}\n"):
            ready, _, _ = select.select([process.stdout], [], [], deadline - time.monotonic())
            assert ready, "no URL printed"
            chunk = os.read(process.stdout.fileno(), 4096)
            assert chunk, process.stderr.read().decode()
            printed += chunk
        url = json.loads(printed)["url"]
        port = int(url.rsplit(":", 1)[1].rstrip("/"))
        assert url == f"http://127.0.0.1:{port}/"
        assert ask(port, "/").body == b"<h1>home</h1>"
        assert ask(port, "/legacy/guide.html").status == 302  # the rules, read by the command
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=60) == 0
        errors = process.stderr.read().decode()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert f"at {url} — press Ctrl-C to stop" in errors
    assert '"GET /legacy/guide.html HTTP/1.1" 302' in errors
    assert moto.secret_key not in errors and moto.access_key not in errors
    assert "Traceback" not in errors
