"""The deploy planner (deploy/plan.py), pure: what is sent, in which order, what leaves the site
and when it is deleted, the delete guard, and the manifest's round trip."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from s3kit.deploy.manifest import FileRecord, Manifest, iso
from s3kit.deploy.plan import DeployDeleteRefused, SiteFile, make_plan
from s3kit.deploy.rules import DeployConfig, FileHeaders
from s3kit.errors import S3KitError

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
HTML = FileHeaders("text/html; charset=utf-8", "no-cache", False)
CSS = FileHeaders("text/css; charset=utf-8", "public, max-age=31536000, immutable", False)


def site(key: str, content: str = "v1", headers: FileHeaders | None = None) -> SiteFile:
    chosen = headers or (HTML if key.endswith(".html") else CSS)
    return SiteFile(key, f"sha-{content}", len(content), chosen)


def live(*files: SiteFile, stale: dict[str, str] | None = None, **extra: Any) -> Manifest:
    return Manifest(
        id="20261130T000000Z-aaaaaa",
        created="2026-11-30T00:00:00Z",
        files={f.key: f.record(f.size, None) for f in files},
        stale=stale or {},
        **extra,
    )


def test_a_first_deploy_sends_assets_before_pages() -> None:
    plan = make_plan(
        [site("index.html"), site("app.1234abcd.css"), site("sw.js", headers=CSS)],
        None,
        DeployConfig(),
        now=NOW,
    )
    order = [(u.phase, u.file.key) for u in plan.in_order()]
    assert order == [("assets", "app.1234abcd.css"), ("pages", "index.html"), ("pages", "sw.js")]
    assert {u.reason for u in plan.uploads} == {"new"}
    assert plan.base is None


def test_only_content_or_header_changes_are_sent() -> None:
    before = live(site("index.html"), site("a.css"), site("b.css"))
    other_headers = FileHeaders(CSS.content_type, "no-cache", False)
    plan = make_plan(
        [site("index.html"), site("a.css", "v2"), site("b.css", headers=other_headers)],
        before,
        DeployConfig(),
        now=NOW,
    )
    assert {u.file.key: u.reason for u in plan.uploads} == {"a.css": "changed", "b.css": "headers"}
    assert [f.key for f in plan.unchanged] == ["index.html"]
    assert plan.base == before.id


def test_a_file_the_bucket_lost_is_sent_again() -> None:
    before = live(site("index.html"), site("a.css"))
    plan = make_plan(
        [site("index.html"), site("a.css")], before, DeployConfig(), now=NOW, stored={"a.css": 2}
    )
    assert [(u.file.key, u.reason) for u in plan.uploads] == [("index.html", "missing")]


def test_removed_files_wait_out_the_grace_period() -> None:
    before = live(site("index.html"), site("old.css"))
    plan = make_plan([site("index.html")], before, DeployConfig(), now=NOW)
    assert plan.leaving == ["old.css"] and plan.deletions == []
    assert plan.stale == {"old.css": iso(NOW)}

    # a later deploy, still within the grace period, keeps it; after it, deletes it
    later = live(site("index.html"), stale=plan.stale)
    grace = DeployConfig().grace_seconds
    within = make_plan(
        [site("index.html")], later, DeployConfig(), now=NOW + timedelta(seconds=grace - 1)
    )
    assert within.deletions == [] and within.stale == plan.stale and within.leaving == []
    after = make_plan(
        [site("index.html")], later, DeployConfig(), now=NOW + timedelta(seconds=grace)
    )
    assert after.deletions == ["old.css"] and after.stale == {}


def test_delete_now_removes_what_left_and_what_was_stale() -> None:
    before = live(site("index.html"), site("old.css"), stale={"older.css": iso(NOW)})
    plan = make_plan([site("index.html")], before, DeployConfig(), now=NOW, delete="now")
    assert plan.deletions == ["old.css", "older.css"]


def test_a_file_that_comes_back_is_no_longer_stale() -> None:
    before = live(site("index.html"), stale={"old.css": iso(NOW - timedelta(days=30))})
    plan = make_plan([site("index.html"), site("old.css")], before, DeployConfig(), now=NOW)
    assert plan.deletions == [] and plan.stale == {}
    assert [u.file.key for u in plan.uploads] == ["old.css"]


def test_protected_paths_and_unknown_objects_are_never_deleted() -> None:
    before = live(site("index.html"), site(".well-known/security.txt", headers=CSS))
    config = DeployConfig(protect=(".well-known/",))
    plan = make_plan([site("index.html")], before, config, now=NOW, delete="now",
                     stored={"index.html": 2, "not-ours.txt": 5})  # fmt: skip
    assert plan.deletions == [] and plan.leaving == []
    assert plan.kept == [".well-known/security.txt"]


@pytest.mark.parametrize(
    ("limit", "leaving", "refused"),
    [(2, 2, False), (2, 3, True), (1, 2, True), (0.5, 2, False), (0.5, 3, True), (None, 4, False)],
)
def test_the_delete_guard_weighs_what_leaves_the_site(
    limit: int | float | None, leaving: int, refused: bool
) -> None:
    kept = [site("index.html"), *[site(f"k{n}.css") for n in range(4 - leaving)]]
    gone = [site(f"old{n}.css") for n in range(leaving)]
    before = live(*kept, *gone)  # five files, `leaving` of them leave
    if refused:
        with pytest.raises(DeployDeleteRefused, match="nothing was written") as caught:
            make_plan(kept, before, DeployConfig(), now=NOW, max_delete=limit)
        assert caught.value.exit_code == 3
        make_plan(kept, before, DeployConfig(), now=NOW, max_delete=limit, force=True)
    else:
        make_plan(kept, before, DeployConfig(), now=NOW, max_delete=limit)


def test_redirects_are_written_when_new_or_changed_and_leave_like_files() -> None:
    config = DeployConfig(redirects={"/old/": "/new/", "/docs": "https://docs.example.com/"})
    plan = make_plan([site("index.html")], None, config, now=NOW)
    assert plan.redirects == {"old/index.html": "/new/", "docs": "https://docs.example.com/"}
    before = live(site("index.html"), redirects=dict(plan.redirects))
    again = make_plan([site("index.html")], before, config, now=NOW)
    assert again.redirects == {} and not again.changes
    dropped = make_plan([site("index.html")], before, DeployConfig(), now=NOW)
    assert dropped.leaving == ["docs", "old/index.html"]


def test_the_manifest_round_trips_and_refuses_what_is_not_one() -> None:
    record = FileRecord("ab", 3, "fp", "text/css", "no-cache", True, 2, version_id="v1")
    manifest = Manifest(
        "id1",
        "2026-12-01T00:00:00Z",
        {"a.css": record},
        {"x": "/y"},
        {"old": "2026-11-01T00:00:00Z"},
        previous="id0",
        source={"commit": "c"},
    )
    assert Manifest.from_document(manifest.document(), "here") == manifest
    for broken in ({}, {"format": 2}, {"format": 1, "id": "x"}, [], "text"):
        with pytest.raises(S3KitError, match="not a deploy manifest"):
            Manifest.from_document(broken, "s3://b/_s3kit/current.json")
