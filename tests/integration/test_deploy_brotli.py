"""Brotli siblings and the bounded deploy history against SeaweedFS and moto: KEY.br written with
KEY's headers and negotiated by `s3kit website serve` (asked with http.client), removed and rolled
back with its file (from versions, or the deploy's copies); the deploy's own copies collected
after the grace period, rollback still working from what is kept."""

from __future__ import annotations

import http.client
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import brotli
import pytest

from s3kit.deploy import DeployConfig, deploy, history, rollback
from s3kit.errors import UsageError
from s3kit.website import Site, WebsiteServer
from tests.conftest import Backend, CliInvoker
from tests.integration.cli_support import get, keys
from tests.integration.test_deploy import deploy as deploy_cli
from tests.integration.test_deploy import head, write_site

STYLE = "body { color: #123456; margin: 0 auto; }\n" * 100  # 4 KB, compressible
RULES = "serve: negotiating\nrules:\n  - match: '*.css'\n    brotli: sibling\n"


def fetch(
    server: WebsiteServer, path: str, encoding: str | None
) -> tuple[http.client.HTTPResponse, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        connection.request("GET", path, headers={"Accept-Encoding": encoding} if encoding else {})
        response = connection.getresponse()
        return response, response.read()
    finally:
        connection.close()


def test_a_sibling_is_written_beside_its_file_and_served_by_negotiation(
    cli: CliInvoker, backend: Backend, bucket: str, tmp_path: Path
) -> None:
    root = write_site(tmp_path / "site", {"index.html": "<!doctype html>hi", "site.css": STYLE})
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES)
    first = deploy_cli(cli, backend, str(root), f"s3://{bucket}/www", "--rules", str(rules))
    assert first["uploaded"] == 2
    sibling, plain = head(backend, bucket, "www/site.css.br"), head(backend, bucket, "www/site.css")
    assert sibling["ContentEncoding"] == "br" and "ContentEncoding" not in plain
    assert (sibling["ContentType"], sibling["CacheControl"]) == (
        plain["ContentType"],
        plain["CacheControl"],
    )
    assert brotli.decompress(get(backend, bucket, "www/site.css.br")) == STYLE.encode()
    assert "www/index.html.br" not in keys(backend, bucket)  # no rule asked for one

    with WebsiteServer(backend.session(), bucket, site=Site(prefix="www"), port=0) as server:
        taken, body = fetch(server, "/site.css", "gzip, br")
        assert (taken.status, taken.getheader("Content-Encoding")) == (200, "br")
        assert taken.getheader("Vary") == "Accept-Encoding"
        assert taken.getheader("Content-Type") == plain["ContentType"]
        assert brotli.decompress(body) == STYLE.encode()
        other, body = fetch(server, "/site.css", "gzip")
        assert other.status == 200 and other.getheader("Content-Encoding") is None
        assert other.getheader("Vary") == "Accept-Encoding"
        assert body == STYLE.encode()
        page, _ = fetch(server, "/", "br")
        assert page.getheader("Vary") is None and page.getheader("Content-Encoding") is None


@pytest.mark.parametrize("versioned", [False, True], ids=["copies", "versions"])
def test_a_sibling_leaves_the_site_and_comes_back_with_its_file(
    cli: CliInvoker, backend: Backend, bucket: str, tmp_path: Path, versioned: bool
) -> None:
    if versioned:
        backend.session().client("s3").put_bucket_versioning(
            Bucket=bucket, VersioningConfiguration={"Status": "Enabled"}
        )
    root = write_site(tmp_path / "site", {"index.html": "<!doctype html>hi", "site.css": STYLE})
    rules = tmp_path / "rules.yaml"
    rules.write_text(RULES)
    deploy_cli(cli, backend, str(root), f"s3://{bucket}/www", "--rules", str(rules))
    (root / "site.css").unlink()
    gone = deploy_cli(cli, backend, str(root), f"s3://{bucket}/www", "--rules", str(rules),
                      "--delete", "now", "--max-delete", "1")  # fmt: skip
    assert gone["deleted"] == 2  # the file and its sibling, counted as one by --max-delete
    assert not {"www/site.css", "www/site.css.br"} & set(keys(backend, bucket))
    deploy_cli(cli, backend, "rollback", f"s3://{bucket}/www")
    assert brotli.decompress(get(backend, bucket, "www/site.css.br")) == STYLE.encode()
    assert head(backend, bucket, "www/site.css.br")["ContentEncoding"] == "br"
    assert get(backend, bucket, "www/site.css") == STYLE.encode()
    copies = [k for k in keys(backend, bucket) if k.startswith("www/_s3kit/blobs/")]
    assert sum(k.endswith(".br") for k in copies) == (0 if versioned else 1)


def test_old_copies_go_after_the_grace_period_and_rollback_works_from_the_rest(
    backend: Backend, bucket: str, tmp_path: Path
) -> None:
    session, where = backend.session(), f"s3://{bucket}/gc"
    config = DeployConfig(keep=2, grace_seconds=3600)
    root = write_site(tmp_path / "site", {"index.html": "<!doctype html>same"})
    start = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    ids = []
    for step, text in enumerate(["a{v:1}", "a{v:2}", "a{v:3}"]):
        (root / "a.css").write_text(text)
        at = start + timedelta(minutes=step)
        outcome = deploy(session, root, where, config=config, clock=lambda at=at: at)
        assert outcome.ok and outcome.deploy_id
        ids.append(outcome.deploy_id)

    def blobs() -> set[str]:
        return {k for k in keys(backend, bucket) if k.startswith("gc/_s3kit/blobs/")}

    before = blobs()
    assert len(before) == 4  # index.html's copy, shared, and one per version of a.css
    (root / "a.css").write_text("a{v:4}")
    later = start + timedelta(hours=2)
    dry = deploy(session, root, where, config=config, dryrun=True, clock=lambda: later)
    assert dry.plan.dropped == [ids[0]] and len(dry.plan.blob_deletions) == 1
    assert blobs() == before  # a dry run deletes nothing

    last = deploy(session, root, where, config=config, clock=lambda: later)
    assert last.ok and last.collected == 1 and last.deleted == 0
    assert [m.id for m in history(session, where)] == [*ids[1:], last.deploy_id]
    assert len(blobs()) == 4  # v1's copy went, v4's came; v2's (retired, in grace) stays

    back = rollback(session, where, to=ids[1], config=config, clock=lambda: later)
    assert back.ok and get(backend, bucket, "gc/a.css") == b"a{v:2}"
    try:
        rollback(session, where, to=ids[0], config=config, clock=lambda: later)
    except UsageError as exc:
        assert "has no deploy" in exc.message
    else:
        raise AssertionError("a rollback to a collected deploy must be refused")


def test_a_manifest_from_before_the_history_gets_one_from_the_recorded_deploys(
    backend: Backend, bucket: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    session, where = backend.session(), f"s3://{bucket}/old"
    client = session.client("s3")
    root = write_site(tmp_path / "site", {"index.html": "<!doctype html>1"})
    ids = []
    for text in ("<!doctype html>1", "<!doctype html>2"):
        (root / "index.html").write_text(text)
        outcome = deploy(session, root, where)
        ids.append(outcome.deploy_id)
    for key in ("old/_s3kit/current.json", f"old/_s3kit/deploys/{ids[1]}.json"):
        document = json.loads(client.get_object(Bucket=bucket, Key=key)["Body"].read())
        for name in ("history", "retired", "older_blobs"):
            document.pop(name)  # as an s3kit from before the bounded history wrote it
        client.put_object(Bucket=bucket, Key=key, Body=json.dumps(document).encode())

    http, asked = session.http(), []
    send = http.request

    def counted(method: str, bucket: str, key: str, **options: Any) -> Any:
        asked.append(f"{method} {key} {options.get('params') or ''}")
        return send(method, bucket, key, **options)

    monkeypatch.setattr(http, "request", counted)
    assert deploy(session, root, where).deploy_id is None  # a no-op writes nothing
    assert asked and not [line for line in asked if "deploys/" in line]  # nor reads the history
    (root / "index.html").write_text("<!doctype html>3")
    third = deploy(session, root, where)
    current = json.loads(
        client.get_object(Bucket=bucket, Key="old/_s3kit/current.json")["Body"].read()
    )
    assert current["history"] == [*ids, third.deploy_id]
    assert len(current["older_blobs"]) == 2  # pages 1 and 2, each with the newest deploy using it
