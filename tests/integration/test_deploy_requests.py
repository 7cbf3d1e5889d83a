"""What a deploy asks of the store (issue 15): the site's scan runs while the lock is taken and
the bucket is read — what the user is told stays what it was when the scan came first, and no
lock outlives the run — and the copy a deploy keeps of each file is pinned to the ETag its
PUT answered, with no HEAD of it first."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from s3kit._session import Session
from s3kit.deploy import deploy, rollback
from s3kit.events import RequestEvent
from tests.conftest import Backend, CliInvoker
from tests.integration.cli_support import assert_failed, assert_one_error_line, get, keys, put


def test_a_missing_folder_is_said_before_a_held_lock_and_the_lock_is_left_alone(
    cli: CliInvoker, backend: Backend, bucket: str, tmp_path: Path
) -> None:
    lock = json.dumps({"id": "20261201T000000Z-dead00", "started": "2026-12-01T00:00:00Z"})
    put(backend, bucket, {"www/_s3kit/lock": lock.encode()})
    log = tmp_path / "no" / "such" / "log.jsonl"  # a log that cannot be opened either
    result = cli("deploy", str(tmp_path / "nosuch"), f"s3://{bucket}/www", "--log-file", str(log),
                 env=backend.env())  # fmt: skip
    assert_failed(result)
    assert "is not a folder" in result.stderr and "another deploy" not in result.stderr
    assert keys(backend, bucket) == ["www/_s3kit/lock"]


def test_a_scan_that_fails_under_the_lock_releases_it_and_writes_nothing(
    cli: CliInvoker, backend: Backend, bucket: str, tmp_path: Path
) -> None:
    site = tmp_path / "site"
    (site / "_s3kit").mkdir(parents=True)
    (site / "_s3kit" / "x.html").write_text("<!doctype html>")
    result = cli("deploy", str(site), f"s3://{bucket}/www", env=backend.env())
    assert result.exit_code == 2  # bad input
    assert_one_error_line(result)
    assert "_s3kit/ is where s3kit keeps the deploy's records" in result.stderr
    assert keys(backend, bucket) == []  # the lock taken meanwhile is gone


def test_the_kept_copies_need_no_head_and_a_rollback_restores_them(
    session: Session,
    backend: Backend,
    bucket: str,
    tmp_path: Path,
) -> None:
    site = tmp_path / "site"
    site.mkdir()
    for i in range(6):
        (site / f"page{i}.html").write_text(f"<!doctype html>v1 {i}")
    deploy(session, site, f"s3://{bucket}/www")
    (site / "page0.html").write_text("<!doctype html>v2")
    heard: list[RequestEvent] = []
    unsubscribe = session.events.subscribe(heard.append)
    try:
        second = deploy(session, site, f"s3://{bucket}/www")
    finally:
        unsubscribe()
    asked = Counter(event.operation for event in heard)
    assert second.uploaded == 1 and second.ok
    assert asked["PutObject"] >= 3  # the page, the deploy's record, current.json: all heard
    assert asked["CopyObject"] == 1  # the copy kept of the page (no versions kept here)
    assert asked["HeadObject"] <= 1  # the lock's, on a store without conditional writes
    back = rollback(session, f"s3://{bucket}/www")
    assert back.ok
    assert get(backend, bucket, "www/page0.html") == b"<!doctype html>v1 0"
