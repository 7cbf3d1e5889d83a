"""The decision layer of sync: plans from plain entries, the delete guard, ignore rules and the
local scanner on a temporary folder. No server."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from s3kit._sync.ignore import DEFAULT_RULES, IgnoreRules
from s3kit._sync.plan import (
    NO_CHECKSUM,
    CompareOptions,
    DeleteGuard,
    DeleteRefused,
    Entry,
    Plan,
    entry,
    make_plan,
    revise,
)
from s3kit._sync.report import describe, plan_document, read_plan, write_plan
from s3kit._sync.scan import Selection, build_selection, scan_local
from s3kit._units import human_size
from s3kit.transfer.filters import Filters


def kinds(plan: Plan) -> list[tuple[str, str]]:
    return [(a.kind, a.key) for a in plan.actions]


def test_dir_dir2_dirx_in_server_order_are_all_matched() -> None:
    keys = ["dir/x", "dir-2/x", "dir.x", "dir/y", "dir0"]
    local = [entry(k, 1, 100.0) for k in sorted(keys, key=str.encode)]
    # SeaweedFS lists folder by folder: 'dir/x' before 'dir-2/x'.
    remote = [entry(k, 1, 200.0) for k in ["dir/x", "dir/y", "dir-2/x", "dir.x", "dir0"]]
    plan = make_plan(local, remote, "upload", CompareOptions(delete=True))
    assert plan.actions == []


def test_never_both_uploads_and_deletes_a_key_whatever_the_order() -> None:
    keys = ["dir/x", "dir-2/x", "dir.x", "a/b", "a-b", "a.b", "é/x", "z"]
    local = [entry(k, 1, 100.0) for k in reversed(keys)]
    remote = [entry(k, 1, 200.0) for k in keys[::2]]
    plan = make_plan(local, remote, "upload", CompareOptions(delete=True))
    uploaded = {a.key for a in plan.actions if a.kind == "upload"}
    deleted = {a.key for a in plan.actions if a.kind == "delete"}
    assert uploaded == set(keys[1::2])
    assert not deleted


def test_case_and_normalisation_twins_are_not_deleted() -> None:
    nfc, nfd = "caf\u00e9.txt", "cafe\u0301.txt"
    source = [entry(nfc, 1, 300.0), entry("README.md", 1, 300.0)]
    destination = [entry(nfd, 1, 100.0), entry("readme.md", 1, 100.0), entry("gone", 1, 1.0)]
    plan = make_plan(source, destination, "download", CompareOptions(delete=True))
    assert ("delete", "gone") in kinds(plan)
    assert ("delete", nfd) not in kinds(plan)
    assert ("delete", "readme.md") not in kinds(plan)
    assert {key for key, _ in plan.withheld} == {nfd, "readme.md"}
    assert any("Kept: readme.md" in line for line in describe(plan))


def test_upload_when_new_resized_or_newer_only() -> None:
    local = [entry("new", 1, 50.0), entry("resized", 2, 50.0), entry("newer", 1, 150.0),
             entry("older", 1, 50.0)]  # fmt: skip
    remote = [entry("resized", 1, 100.0), entry("newer", 1, 100.0), entry("older", 1, 100.0)]
    plan = make_plan(local, remote, "upload")
    assert [(a.key, a.reason) for a in plan.actions] == [
        ("new", "new"),
        ("newer", "source newer"),
        ("resized", "size differs"),
    ]


def test_size_only_ignores_timestamps() -> None:
    plan = make_plan(
        [entry("a", 1, 500.0), entry("b", 2, 1.0)],
        [entry("a", 1, 1.0), entry("b", 3, 1.0)],
        "upload",
        CompareOptions(size_only=True),
    )
    assert kinds(plan) == [("upload", "b")]


def test_download_newer_and_exact_timestamps() -> None:
    remote = [entry("same", 1, 100.0), entry("older", 1, 50.0)]
    local = [entry("same", 1, 100.0), entry("older", 1, 100.0)]
    assert make_plan(remote, local, "download").actions == []
    exact = make_plan(remote, local, "download", CompareOptions(exact_timestamps=True))
    assert kinds(exact) == [("download", "older")]


def test_revise_with_stored_mtime_cancels_a_download() -> None:
    remote = [entry("a", 1, 200.0), entry("b", 1, 200.0)]
    local = [entry("a", 1, 100.0), entry("b", 1, 100.0)]
    plan = make_plan(remote, local, "download")
    assert len(plan.actions) == 2
    refreshed = {
        b"a": (remote[0]._replace(mtime=100.0004, exact_mtime=True), None),
        b"b": (remote[1]._replace(mtime=150.0, exact_mtime=True), None),
    }
    revised = revise(plan, refreshed, CompareOptions())
    assert kinds(revised) == [("download", "b")]


def test_checksum_compares_md5_and_crc() -> None:
    md5 = "0" * 31 + "1"
    remote = [
        Entry(b"same", 3, 1.0, f'"{md5}"'),
        Entry(b"differs", 3, 1.0, f'"{md5}"'),
        Entry(b"multi", 3, 1.0, '"abc-2"'),
        Entry(b"unknown", 3, 1.0, '"abc-2"'),
    ]
    local = [entry("same", 3, 9.0), entry("differs", 3, 9.0), entry("multi", 3, 9.0),
             entry("unknown", 3, 9.0)]  # fmt: skip
    options = CompareOptions(checksum=True)
    plan = make_plan(local, remote, "upload", options)
    assert len(plan.actions) == 4  # nothing known before the digests are read
    refreshed: dict[bytes, tuple[Entry | None, Entry | None]] = {
        b"same": (local[0]._replace(etag=md5), None),
        b"differs": (local[1]._replace(etag="f" * 32), None),
        b"multi": (local[2]._replace(crc="AB"), remote[2]._replace(crc="ab")),
        b"unknown": (local[3]._replace(etag=md5), None),
    }
    revised = revise(plan, refreshed, options)
    assert [(a.key, a.reason) for a in revised.actions] == [
        ("differs", "content differs"),
        ("unknown", NO_CHECKSUM),
    ]


def test_no_deletes_without_delete_flag() -> None:
    assert make_plan([entry("a", 1, 1.0)], [entry("b", 1, 1.0)], "upload").deletions == []


def _plan_with(deletions: int, destination: int) -> Plan:
    kept = [entry(f"s{i}", 1, 1.0) for i in range(destination - deletions)]
    doomed = [entry(f"x{i}", 1, 1.0) for i in range(deletions)]
    return make_plan(kept, kept + doomed, "upload", CompareOptions(delete=True))


def test_delete_guard() -> None:
    DeleteGuard().check(_plan_with(10, 20))  # exactly half is allowed
    with pytest.raises(DeleteRefused, match="11 of 20"):
        DeleteGuard().check(_plan_with(11, 20))
    DeleteGuard(force=True).check(_plan_with(11, 20))
    DeleteGuard().check(_plan_with(15, 19))  # small destinations are not guarded by share
    with pytest.raises(DeleteRefused, match="--max-delete 2"):
        DeleteGuard(max_delete=2, force=True).check(_plan_with(3, 30))
    with pytest.raises(DeleteRefused, match="could not be read"):
        DeleteGuard(force=True).check(_plan_with(1, 30), source_complete=False)
    empty = make_plan([], [entry("a", 1, 1.0)], "upload", CompareOptions(delete=True))
    with pytest.raises(DeleteRefused, match="source is empty"):
        DeleteGuard(force=True).check(empty)


@pytest.mark.parametrize(
    ("patterns", "path", "is_dir", "ignored"),
    [
        (["*.pyc"], "a/b/c.pyc", False, True),
        (["build/"], "build", True, True),
        (["build/"], "build", False, False),
        (["build/"], "src/build/x.o", False, True),
        (["/top.txt"], "top.txt", False, True),
        (["/top.txt"], "sub/top.txt", False, False),
        (["doc/*.md"], "doc/a.md", False, True),
        (["doc/*.md"], "doc/sub/a.md", False, False),
        (["doc/*.md"], "x/doc/a.md", False, False),
        (["**/logs"], "a/b/logs", True, True),
        (["logs/**"], "logs/a/b", False, True),
        (["a/**/z"], "a/z", False, True),
        (["a/**/z"], "a/b/c/z", False, True),
        (["*.txt", "!keep.txt"], "keep.txt", False, False),
        (["*.txt", "!keep.txt"], "other.txt", False, True),
        (["secret/", "!secret/open.txt"], "secret/open.txt", False, True),
        (["# comment", "", "\\#hash"], "#hash", False, True),
        (["file?.txt"], "file1.txt", False, True),
        (["file[0-9].txt"], "fileA.txt", False, False),
        (["file[!0-9].txt"], "fileA.txt", False, True),
        (["dir"], "dir-2/x", False, False),
    ],
)
def test_gitignore_matching(patterns: list[str], path: str, is_dir: bool, ignored: bool) -> None:
    assert IgnoreRules.parse(patterns).ignores(path, is_dir=is_dir) is ignored


@pytest.mark.parametrize(
    ("path", "ignored"),
    [
        ("a.tmp", True),
        ("logs/app.log", True),
        ("x/.DS_Store", True),
        ("Thumbs.db", True),
        (".git/HEAD", True),
        ("pkg/__pycache__/m.pyc", True),
        ("web/node_modules/x/index.js", True),
        ("src/main.py", False),
        (".gitignore", False),
        ("catalog.txt", False),
    ],
)
def test_default_excludes(path: str, ignored: bool) -> None:
    assert DEFAULT_RULES.ignores(path) is ignored


def test_aws_filters_win_over_ignore_rules() -> None:
    selection = Selection(DEFAULT_RULES, Filters((("exclude", "*"), ("include", "*.log"))))
    assert selection.accepts("a.log")
    assert not selection.accepts("a.txt")


def _tree(root: Path, files: dict[str, bytes]) -> None:
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def test_scan_local_sorts_filters_and_prunes(tmp_path: Path) -> None:
    _tree(
        tmp_path,
        {
            "dir/x": b"1", "dir-2/x": b"22", "dir.x": b"3", "a.log": b"", "node_modules/m": b"",
            "keep/important.log": b"!", ".s3kitignore": b"secret/\n!keep/*.log\n",
            "secret/s": b"", "build/out.o": b"",
        },
    )  # fmt: skip
    (tmp_path / "exclude.txt").write_text("build/\n")
    selection = build_selection(exclude_from=[tmp_path / "exclude.txt"], source_root=tmp_path)
    result = scan_local(tmp_path, selection)
    assert [e.key for e in result.entries] == [
        ".s3kitignore", "dir-2/x", "dir.x", "dir/x", "exclude.txt", "keep/important.log",
    ]  # fmt: skip
    assert result.complete
    everything = scan_local(tmp_path, build_selection(default_excludes=False))
    assert "node_modules/m" in [e.key for e in everything.entries]


@pytest.mark.skipif(not hasattr(os, "symlink"), reason="no symlinks here")
def test_scan_local_symlinks(tmp_path: Path) -> None:
    root = tmp_path / "root"
    _tree(root, {"real/f": b"x"})
    outside = tmp_path / "outside.txt"
    outside.write_text("o")
    (root / "link-to-real").symlink_to(root / "real")
    (root / "real" / "loop").symlink_to(root)
    (root / "escape.txt").symlink_to(outside)
    warnings: list[str] = []
    assert [e.key for e in scan_local(root).entries] == ["real/f"]
    followed = scan_local(root, follow_symlinks=True, warn=warnings.append)
    assert [e.key for e in followed.entries] == ["link-to-real/f", "real/f"]
    assert any("outside" in w for w in warnings)
    assert any("loop" in w for w in warnings)


def test_report_and_plan_file(tmp_path: Path) -> None:
    plan = make_plan(
        [entry("docs/report.pdf", 2_100_000, 9.0), entry("a", 5, 9.0)],
        [entry("old.txt", 1, 1.0), entry("a", 5, 9.0)],
        "upload",
        CompareOptions(delete=True),
    )
    lines = describe(plan)
    assert lines == [
        "Would upload: + docs/report.pdf (2.0 MiB)",
        "Would delete: - old.txt",
        "Total: 1 upload, 1 deletion (2.0 MiB to transfer)",
    ]
    assert human_size(999, bytes_unit="B") == "999 B"
    path = tmp_path / "plan.json"
    write_plan(path, plan_document(plan, "/src", "s3://b/p/", CompareOptions(delete=True)))
    assert json.loads(path.read_text())["summary"]["deletions"] == 1
    loaded, source, destination = read_plan(path)
    assert (source, destination) == ("/src", "s3://b/p/")
    assert loaded.actions == plan.actions


def test_ignores_stays_right_when_consecutive_keys_change_folders() -> None:
    rules = IgnoreRules.parse(["build/", "!build/keep/", "*.tmp"])
    keys = ["build/a.o", "src/a.c", "build/b.o", "src/deep/build/x", "src/deep/y.c",
            "src/deep/y.tmp", "src/deep/y.c", "build/keep/z"]  # fmt: skip
    decisions = [rules.ignores(key) for key in keys]
    # A file under an ignored folder stays ignored, even where a rule re-includes the folder.
    assert decisions == [True, False, True, True, False, True, False, True]
    assert [rules.ignores(key) for key in reversed(keys)] == decisions[::-1]
