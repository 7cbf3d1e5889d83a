"""What a deploy costs that it need not (issue 15), kept in check without timing anything: a
plan and an outcome print short (asyncio.run formats its main task's result, the whole outcome,
when it leaves: Python 3.11 formats its SIGINT handler, which holds the task), equal headers are
fingerprinted once, a deploy without a log or a progress display builds no audit lines or
transfer events, its modules leave cp's and sync's audit module alone, and the listing steps
over the deploy's records without reading a page of them."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from s3kit._uri import S3Url
from s3kit.deploy.plan import DeployPlan, SiteFile, Upload
from s3kit.deploy.records import stored_sizes
from s3kit.deploy.report import DeployOutcome, Report
from s3kit.deploy.rules import FileHeaders
from s3kit.storage.base import ObjectInfo

CSS = FileHeaders("text/css; charset=utf-8", "public, max-age=300")


def files(count: int) -> list[SiteFile]:
    return [SiteFile(f"asset{i}.css", f"sha{i}", 8, CSS, path=Path(f"/site/asset{i}.css"))
            for i in range(count)]  # fmt: skip


def test_a_plan_and_its_outcome_print_their_counts_not_every_file() -> None:
    many = files(2000)
    plan = DeployPlan(uploads=[Upload(f, "assets", "new") for f in many[:1000]],
                      unchanged=many[1000:], deletions=["gone.html"], base="B")  # fmt: skip
    outcome = DeployOutcome(S3Url("b", "site/"), plan, deploy_id="D", uploaded=1000)
    for text in (repr(plan), repr(outcome)):
        assert len(text) < 400, text[:400]
        assert "asset1999" not in text
    assert "1000 uploads" in repr(plan) and "1000 unchanged" in repr(plan)
    assert "'D'" in repr(outcome) and "s3://b/site/" in repr(outcome)


def test_equal_headers_are_fingerprinted_once() -> None:
    from s3kit.deploy import rules

    rules.fingerprint_of.cache_clear()
    prints = {FileHeaders("text/css", "public, max-age=300").fingerprint() for _ in range(500)}
    assert len(prints) == 1
    assert rules.fingerprint_of.cache_info().misses == 1


def test_without_log_or_display_a_deploy_builds_no_events_or_audit_lines() -> None:
    report = Report(S3Url("b", ""), None, None)
    uploads = [Upload(f, "assets", "new") for f in files(10)]
    report.queued(uploads)
    for upload in uploads:
        report.progress(upload, 8)
        report.uploaded(upload, upload.file.record(8, None))
    assert report._items == {}  # no TransferItem made for anyone to see


def test_the_deploy_command_leaves_cps_module_to_a_run_that_shows_a_bar() -> None:
    code = "import sys, s3kit.cli.deploy; print('s3kit.cli.cp_mv' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, check=True)  # fmt: skip
    assert done.stdout.strip() == "False"


def test_a_deploy_without_a_log_file_leaves_syncs_audit_and_bisyncs_modules_alone() -> None:
    code = ("import sys, s3kit.cli.deploy, s3kit.deploy.run; print(sorted(m for m in sys.modules"
            " if m in ('s3kit._sync.audit', 's3kit._sync.bisync_run', 'sqlite3')))")  # fmt: skip
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, check=True)  # fmt: skip
    assert done.stdout.strip() == "[]"


class _Listing:
    """A store's ListObjectsV2 in key order, page by page, counting what each page fetched."""

    def __init__(self, keys: list[str]) -> None:
        self.keys = sorted(keys)
        self.fetched: list[str] = []

    async def list_async(
        self, prefix: str = "", *, start_after: str | None = None, page_size: int = 1000
    ) -> AsyncIterator[ObjectInfo]:
        rest = [k for k in self.keys if k.startswith(prefix) and (start_after is None
                or k > start_after)]  # fmt: skip
        for start in range(0, len(rest), page_size):
            page = rest[start : start + page_size]
            self.fetched += page
            for key in page:
                yield ObjectInfo(key=key, size=len(key), last_modified=None, etag=None)


@pytest.mark.parametrize("early", [0, 1, 63, 64, 65, 1100])
def test_the_listing_steps_over_the_records_without_fetching_a_page_of_them(early: int) -> None:
    blobs = [f"p/_s3kit/blobs/{i:04d}" for i in range(1500)]
    site = [f"p/{i:04d}.html" for i in range(early)] + ["p/index.html", "p/css/a.css", "p/~x"]
    odd = ["p/_s3kit", "p/_s3kit.txt", "p/_s3kit0x"]  # next to the records, not of them
    store = _Listing(blobs + site + odd + ["p/_s3kit/current.json", "other/x"])
    sizes = asyncio.run(stored_sizes(store, "p/"))  # type: ignore[arg-type]
    assert sizes == {k[2:]: len(k) for k in site + odd}
    records = len([k for k in store.fetched if k.startswith("p/_s3kit/")])
    before = len([k for k in site + odd if k < "p/_s3kit/"])
    assert records <= (64 if before < 64 else 256 if before < 64 + 256 else 1000)
    assert len(store.fetched) == len(set(store.fetched))  # nothing listed twice


def test_a_manifest_is_written_one_line_a_file_and_reads_back_the_same() -> None:
    import json

    from s3kit.deploy.manifest import Manifest

    records = {f.key: f.record(8, None) for f in files(300)}
    manifest = Manifest(id="20261201T000000Z-aaaaaa", created="2026-12-01T00:00:00Z",
                        files=records, redirects={"old/": "/new/"}, history=["x"],
                        older_blobs={"_s3kit/blobs/a-b": "x"})  # fmt: skip
    body = manifest.encoded()
    assert json.loads(body) == manifest.document()
    assert Manifest.from_document(json.loads(body), "here") == manifest
    lines = body.decode().splitlines()
    assert len([line for line in lines if '"sha256"' in line]) == 300  # one a file: diffable
    assert body.isascii() and body.endswith(b"}\n")
