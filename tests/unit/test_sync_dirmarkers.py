"""`sync --dir-markers` without a server: plans with folder markers (keys ending in '/') among
their byte-order neighbours, the local scan of empty folders, the plan's human and JSON forms,
the audit records, and local folder creation and removal."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from s3kit._session import Session
from s3kit._sync.audit import AuditRecord, PlanRecorder, planned_records
from s3kit._sync.execute import SyncExecutor
from s3kit._sync.plan import (
    NOT_EMPTY,
    CompareOptions,
    DeleteGuard,
    DeleteRefused,
    Entry,
    Plan,
    entry,
)
from s3kit._sync.plan import make_plan as plan_of
from s3kit._sync.report import describe, plan_document, read_plan, total_line, write_plan
from s3kit._sync.scan import LocalSide, S3Side, Selection, build_selection, scan_local
from s3kit.errors import S3KitError
from s3kit.transfer import TransferEvent, TransferItem
from s3kit.transfer.filters import Filters

DELETE = CompareOptions(delete=True)


def kinds(plan: Plan) -> list[tuple[str, str]]:
    return [(a.kind, a.key) for a in plan.actions]


def entries(*keys: str, mtime: float = 100.0) -> list[Entry]:
    return [entry(k, 0 if k.endswith("/") else 1, mtime) for k in keys]


# -- plan: the merge with markers among their neighbours ----------------------------------


NEIGHBOURS = ["a", "a-b", "a.x", "a/", "a/x", "a0", "b/", "b/c/", "b/c/d", "é/"]


def test_markers_sort_after_dash_and_dot_and_before_what_they_hold() -> None:
    mixed = entries(*NEIGHBOURS)
    random.Random(7).shuffle(mixed)
    plan = plan_of(mixed, list(reversed(mixed)), "upload", DELETE)
    assert plan.actions == []


@pytest.mark.parametrize("seed", range(5))
def test_a_marker_is_never_both_created_and_deleted_whatever_the_order(seed: int) -> None:
    rng = random.Random(seed)
    source = entries("a-b", "a.x", "a/", "c/")
    destination = entries("a-b", "a.x", "c/", "d/")
    rng.shuffle(source)
    rng.shuffle(destination)
    plan = plan_of(source, destination, "upload", DELETE)
    assert kinds(plan) == [("mkdir", "a/"), ("delete", "d/")]


def test_marker_only_at_the_source_is_created_with_its_own_kind() -> None:
    plan = plan_of(entries("photos/2026/", "x"), entries("x"), "download")
    assert kinds(plan) == [("mkdir", "photos/2026/")]
    assert plan.folders == plan.transfers
    assert plan.bytes == 0


def test_equal_markers_need_nothing_whatever_their_times_or_sizes() -> None:
    source = [entry("a/", 0, 900.0)]
    destination = [entry("a/", 3, 1.0)]  # a local folder holding 3 excluded files
    for direction in ("upload", "download", "copy"):
        assert plan_of(source, destination, direction, DELETE).actions == []  # type: ignore[arg-type]


def test_a_source_marker_with_content_under_it_is_not_created() -> None:
    plan = plan_of(entries("a/", "a/x"), [], "copy")
    assert kinds(plan) == [("copy", "a/x")]


def test_content_kept_at_the_destination_carries_the_folder() -> None:
    source, destination = entries("a/"), entries("a/old")
    assert plan_of(source, destination, "download").actions == []
    # With --delete that content goes, and the folder must stay: create it (after the
    # deletions, see test_local_markers_are_made_and_removed).
    assert kinds(plan_of(source, destination, "download", DELETE)) == [
        ("mkdir", "a/"),
        ("delete", "a/old"),
    ]


def test_delete_a_marker_only_when_the_source_has_no_such_folder() -> None:
    destination = entries("gone/", "kept/", "also/", "a-b/")
    source = entries("kept/x", "also/deep/", "a-b")
    plan = plan_of(source, destination, "upload", DELETE)
    assert ("delete", "gone/") in kinds(plan)
    assert ("delete", "a-b/") in kinds(plan)  # a file 'a-b' is no folder
    assert ("delete", "kept/") not in kinds(plan)
    assert ("delete", "also/") not in kinds(plan)
    assert plan_of(source, destination, "upload").deletions == []  # never without --delete


def test_a_folder_that_holds_something_is_never_deleted() -> None:
    destination = [entry("logs/", 2, 1.0), entry("empty/", 0, 1.0)]
    plan = plan_of(entries("x"), destination, "download", DELETE)
    assert kinds(plan) == [("delete", "empty/"), ("download", "x")]
    assert plan.withheld == [("logs/", NOT_EMPTY)]
    assert "Kept: logs/ (folder is not empty)" in describe(plan)


def test_the_delete_guard_counts_marker_deletions() -> None:
    destination = entries(*(f"d{i:02}/" for i in range(30)), "keep")
    plan = plan_of(entries("keep"), destination, "upload", DELETE)
    assert len(plan.deletions) == 30
    with pytest.raises(DeleteRefused, match="30 of 31"):
        DeleteGuard().check(plan)


# -- scan: empty folders of a local tree -----------------------------------------------------


def make_tree(root: Path) -> None:
    for folder in ["empty", "nested/deeper/deepest", "full/sub", "modules/node_modules/pkg",
                   "logs", "a-b", "a.x", "a"]:  # fmt: skip
        (root / folder).mkdir(parents=True)
    (root / "full" / "file.txt").write_bytes(b"x")
    (root / "modules" / "node_modules" / "pkg" / "m.js").write_bytes(b"js")
    (root / "logs" / "app.log").write_bytes(b"log")
    (root / "a-b" / "f").write_bytes(b"1")


def keys_of(root: Path, selection: Selection | None = None, **options: bool) -> dict[str, int]:
    scanned = scan_local(root, selection or build_selection(), **options)
    return {e.key: e.size for e in scanned.entries}


def test_scan_lists_leaf_folders_that_hold_nothing_selected(tmp_path: Path) -> None:
    make_tree(tmp_path)
    assert keys_of(tmp_path, dir_markers=True) == {
        "a-b/f": 1,
        "a.x/": 0,
        "a/": 0,
        "empty/": 0,
        "full/file.txt": 1,
        "full/sub/": 0,
        "logs/": 1,  # holds one excluded file: never deleted
        "modules/": 1,  # only node_modules/, which is pruned
        "nested/deeper/deepest/": 0,
    }
    assert list(keys_of(tmp_path, dir_markers=True)) == sorted(
        keys_of(tmp_path, dir_markers=True), key=str.encode
    )


def test_scan_without_dir_markers_lists_files_only(tmp_path: Path) -> None:
    make_tree(tmp_path)
    assert keys_of(tmp_path) == {"a-b/f": 1, "full/file.txt": 1}


def test_the_root_is_never_a_marker(tmp_path: Path) -> None:
    assert keys_of(tmp_path, dir_markers=True) == {}
    (tmp_path / "only.log").write_bytes(b"x")
    assert keys_of(tmp_path, dir_markers=True) == {}


def test_filters_see_markers_with_their_slash(tmp_path: Path) -> None:
    make_tree(tmp_path)
    selection = build_selection(filters=Filters((("exclude", "nested/*"), ("exclude", "a/"))))
    found = keys_of(tmp_path, selection, dir_markers=True)
    assert "nested/deeper/deepest/" not in found
    assert "a/" not in found
    assert "empty/" in found


def test_selection_of_a_marker_from_a_flat_listing() -> None:
    selection = build_selection(filters=Filters((("exclude", "*.jpg"),)))
    assert selection.accepts_folder("photos/2026/")
    assert not selection.accepts_folder("node_modules/x/")  # default exclusion of a parent
    assert not selection.accepts_folder("build/__pycache__/")
    assert not build_selection(filters=Filters((("exclude", "*"),))).accepts_folder("a/")


# -- report and audit ------------------------------------------------------------------------


def folder_plan() -> Plan:
    return plan_of(entries("photos/2026/", "x"), entries("old/", "x", mtime=1.0), "upload", DELETE)


def test_dryrun_lines_and_total() -> None:
    plan = folder_plan()
    assert describe(plan) == [
        "Would delete: - old/",
        "Would create folder: + photos/2026/",
        "Would upload: + x (1 B)",
        "Total: 1 upload, 1 new folder, 1 deletion (1 B to transfer)",
    ]
    only = plan_of(entries("a/", "b/"), [], "download")
    assert total_line(only) == "Total: 0 downloads, 2 new folders (0 B to transfer)"


def test_json_plan_carries_folders(tmp_path: Path) -> None:
    plan = folder_plan()
    document = plan_document(plan, "/src", "s3://b/p/", CompareOptions(delete=True))
    assert document["summary"] == {"transfers": 2, "folders": 1, "deletions": 1, "bytes": 1}
    path = tmp_path / "plan.json"
    write_plan(path, document)
    again, source, destination = read_plan(path)
    assert kinds(again) == kinds(plan)
    assert (source, destination) == ("/src", "s3://b/p/")
    data = json.loads(path.read_text())
    data["actions"][0]["action"] = "format-disk"
    path.write_text(json.dumps(data))
    with pytest.raises(S3KitError, match="damaged plan file"):
        read_plan(path)


def test_audit_records_of_folders() -> None:
    plan = folder_plan()
    source, destination = LocalSide(Path("/src")), S3Side("b", "p/")
    records = planned_records(plan, source, destination)
    made = [r for r in records if r["action"] == "mkdir"]
    assert made == [
        {**made[0], "path": "s3://b/p/photos/2026/", "reason": "new", "bytes": 0},
    ]
    assert "source" not in made[0]
    written: list[AuditRecord] = []
    recorder = PlanRecorder(plan, source, destination, written.append)
    key = "photos/2026/"
    item = TransferItem(source.location(key), destination.location(key))
    recorder(TransferEvent("done", "upload", item))
    assert [(r["action"], r["result"]) for r in written] == [("mkdir", "done")]


# -- execute: local folders ------------------------------------------------------------------


def offline_session() -> Session:
    return Session(
        endpoint_url="http://127.0.0.1:9", access_key_id="k", secret_access_key="s", env={}
    )


def test_local_markers_are_made_and_removed(tmp_path: Path) -> None:
    root = tmp_path / "dst"
    (root / "old" / "inner").mkdir(parents=True)
    (root / "refilled").mkdir()
    (root / "a" / "x").parent.mkdir()
    (root / "a" / "x").write_bytes(b"1")
    destination = [entry("a/x", 1, 1.0), entry("old/inner/", 0, 1.0), entry("refilled/", 0, 1.0)]
    plan = plan_of(entries("a/", "new/deep/"), destination, "download", DELETE)
    assert kinds(plan) == [
        ("mkdir", "a/"),
        ("delete", "a/x"),
        ("mkdir", "new/deep/"),
        ("delete", "old/inner/"),
        ("delete", "refilled/"),
    ]
    (root / "refilled" / "late.txt").write_bytes(b"arrived after the plan")
    events: list[TransferEvent] = []
    result = SyncExecutor(offline_session(), on_event=events.append).run(
        plan, S3Side("b", ""), LocalSide(root)
    )
    assert result.ok, result.failures
    assert (result.transferred, result.deleted) == (2, 2)  # the refilled folder is kept
    assert sorted(p.relative_to(root).as_posix() for p in root.rglob("*")) == [
        "a", "new", "new/deep", "refilled", "refilled/late.txt",
    ]  # fmt: skip
    assert (root / "a").is_dir() and not any((root / "a").iterdir())
    assert {(e.kind, e.action) for e in events} == {("done", "download"), ("done", "delete")}


def test_a_local_marker_where_a_file_stands_fails_cleanly(tmp_path: Path) -> None:
    (tmp_path / "taken").write_bytes(b"a file")
    plan = plan_of(entries("taken/"), [], "download")
    result = SyncExecutor(offline_session()).run(plan, S3Side("b", ""), LocalSide(tmp_path))
    assert not result.ok
    assert result.transferred == 0
    assert (tmp_path / "taken").read_bytes() == b"a file"
