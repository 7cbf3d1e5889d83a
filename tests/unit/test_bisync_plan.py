"""Golden cases for the pure two-way sync layer: (last synced state, local, remote, policy) in,
actions out. No files, no server."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from s3kit._sync.bisync import (
    BiAction,
    ConflictPolicy,
    LocalFile,
    RemoteObject,
    Synced,
    bisync_plan,
    check_deletes,
    conflict_name,
    next_state,
    resync_plan,
    wants_md5,
)
from s3kit._sync.plan import DeleteGuard, DeleteRefused
from s3kit._sync.state import BisyncState, pair_id

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
STAMP = "20260102T030405Z"
MD5_A = "0cc175b9c0f1b6a831c399e269772661"  # md5(b"a")
MD5_B = "92eb5ffee6ae2fec3ad71c777531578f"  # md5(b"b")
E1, E2, E3 = "e1" * 16, "e2" * 16, "e3" * 16  # md5-shaped ETags


def L(size: int, t: int, md5: str | None = None) -> LocalFile:
    return LocalFile(size, t * 10**9, md5)


def R(size: int, etag: str, t: int) -> RemoteObject:
    return RemoteObject(size, etag, t * 10**9)


def S(lsize: int, lt: int, rsize: int, etag: str) -> Synced:
    return Synced(lsize, lt * 10**9, rsize, etag)


BASE = S(1, 100, 1, E1)  # 'a' synced: local (1 B, t=100), remote (1 B, E1)


@dataclass
class Case:
    id: str
    state: dict[str, Synced]
    local: dict[str, LocalFile]
    remote: dict[str, RemoteObject]
    expected: list[tuple[str, str]]  # (kind, path), in plan order
    policy: ConflictPolicy = "rename"
    checks: dict[str, Any] = field(default_factory=dict)  # attributes of the first action


CASES = [
    Case("unchanged both", {"a": BASE}, {"a": L(1, 100)}, {"a": R(1, E1, 150)}, []),
    Case("new local only", {}, {"a": L(1, 100)}, {}, [("upload", "a")],
         checks={"create_only": True, "if_match": None}),
    Case("new remote only", {}, {}, {"a": R(1, E1, 100)}, [("download", "a")]),
    Case("edit local only", {"a": BASE}, {"a": L(2, 200)}, {"a": R(1, E1, 150)},
         [("upload", "a")], checks={"if_match": E1, "create_only": False}),
    Case("edit local, same size, new mtime", {"a": BASE}, {"a": L(1, 300)},
         {"a": R(1, E1, 150)}, [("upload", "a")], checks={"if_match": E1}),
    Case("edit remote only", {"a": BASE}, {"a": L(1, 100)}, {"a": R(3, E2, 200)},
         [("download", "a")]),
    Case("delete local only", {"a": BASE}, {}, {"a": R(1, E1, 150)},
         [("delete-remote", "a")], checks={"if_match": E1}),
    Case("delete remote only", {"a": BASE}, {"a": L(1, 100)}, {}, [("delete-local", "a")]),
    Case("delete/delete", {"a": BASE}, {}, {}, [("forget", "a")]),
    Case("edit local, delete remote: the edit is kept", {"a": BASE}, {"a": L(2, 200)}, {},
         [("upload", "a")], checks={"create_only": True}),
    Case("delete local, edit remote: the edit is kept", {"a": BASE}, {}, {"a": R(2, E2, 200)},
         [("download", "a")]),
    Case("new/new same content", {}, {"a": L(1, 100, MD5_A)}, {"a": R(1, MD5_A, 300)},
         [("adopt", "a")]),
    Case("new/new different content keeps both", {}, {"a.txt": L(1, 300, MD5_A)},
         {"a.txt": R(1, MD5_B, 200)}, [("keep-both", "a.txt")],
         checks={"winner": "local", "conflict_path": f"a.conflict-{STAMP}-remote.txt"}),
    Case("edit/edit same content", {"a": BASE}, {"a": L(1, 200, MD5_B)},
         {"a": R(1, MD5_B, 250)}, [("adopt", "a")]),
    Case("edit/edit rename (default), remote newer", {"d/a.md": BASE},
         {"d/a.md": L(2, 200)}, {"d/a.md": R(3, E2, 300)}, [("keep-both", "d/a.md")],
         checks={"winner": "remote", "conflict_path": f"d/a.conflict-{STAMP}-local.md",
                 "if_match": E2}),
    Case("edit/edit newer: local newer", {"a": BASE}, {"a": L(2, 400)}, {"a": R(3, E2, 300)},
         [("upload", "a")], "newer", {"if_match": E2}),
    Case("edit/edit newer: remote newer", {"a": BASE}, {"a": L(2, 200)},
         {"a": R(3, E2, 300)}, [("download", "a")], "newer"),
    Case("edit/edit newer: a tie keeps both", {"a": BASE}, {"a": L(2, 300)},
         {"a": R(3, E2, 300)}, [("keep-both", "a")], "newer"),
    Case("edit/edit local", {"a": BASE}, {"a": L(2, 200)}, {"a": R(3, E2, 300)},
         [("upload", "a")], "local", {"if_match": E2}),
    Case("edit/edit remote", {"a": BASE}, {"a": L(2, 400)}, {"a": R(3, E2, 300)},
         [("download", "a")], "remote"),
    Case("edit/edit skip", {"a": BASE}, {"a": L(2, 200)}, {"a": R(3, E2, 300)},
         [("conflict", "a")], "skip"),
    Case("edit/edit ask: open until answered", {"a": BASE}, {"a": L(2, 200)},
         {"a": R(3, E2, 300)}, [("conflict", "a")], "ask"),
    Case("rename locally = delete + new", {"old": BASE}, {"new": L(1, 100)},
         {"old": R(1, E1, 150)}, [("upload", "new"), ("delete-remote", "old")],
         checks={"create_only": True}),
    Case("case-only rename locally", {"Readme.md": BASE}, {"README.md": L(1, 100)},
         {"Readme.md": R(1, E1, 150)},
         [("upload", "README.md"), ("delete-remote", "Readme.md")]),
    Case("case-only rename remotely: delete first", {"Readme.md": BASE},
         {"Readme.md": L(1, 100)}, {"README.md": R(1, E2, 200)},
         [("download", "README.md"), ("delete-local", "Readme.md")]),
    Case("empty folders take no part", {}, {}, {}, []),
    Case("interrupted upload, rerun adopts", {"a": BASE}, {"a": L(1, 200, MD5_B)},
         {"a": R(1, MD5_B, 210)}, [("adopt", "a")]),
    Case("interrupted download, rerun adopts", {"a": BASE}, {"a": L(1, 210, MD5_B)},
         {"a": R(1, MD5_B, 200)}, [("adopt", "a")]),
    Case("remote written during the last run: now a conflict", {"a": BASE},
         {"a": L(2, 200)}, {"a": R(5, E3, 250)}, [("keep-both", "a")],
         checks={"winner": "remote", "if_match": E3}),
    Case("multipart ETag cannot prove equality", {}, {"a": L(1, 100)},
         {"a": R(1, "abc-2", 200)}, [("keep-both", "a")]),
]  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_decision_table(case: Case) -> None:
    plan = bisync_plan(case.state, case.local, case.remote, policy=case.policy, now=NOW)
    assert [(a.kind, a.path) for a in plan.actions] == case.expected
    for name, value in case.checks.items():
        assert getattr(plan.actions[0], name) == value, name


def test_case_twin_delete_runs_early() -> None:
    plan = bisync_plan(
        {"Readme.md": BASE}, {"Readme.md": L(1, 100)}, {"README.md": R(1, E2, 200)}, now=NOW
    )
    early = {a.path: a.early for a in plan.actions}
    assert early == {"README.md": False, "Readme.md": True}


def test_resync_copies_missing_each_way_newer_wins_deletes_nothing() -> None:
    plan = resync_plan(
        {"only-l": L(1, 100), "both-same": L(1, 100, MD5_A), "l-newer": L(2, 500),
         "r-newer": L(2, 100)},
        {"only-r": R(1, E1, 100), "both-same": R(1, MD5_A, 300), "l-newer": R(3, E2, 300),
         "r-newer": R(3, E3, 300)},
    )  # fmt: skip
    assert [(a.kind, a.path) for a in plan.actions] == [
        ("adopt", "both-same"), ("upload", "l-newer"), ("upload", "only-l"),
        ("download", "only-r"), ("download", "r-newer"),
    ]  # fmt: skip
    uploads = {a.path: (a.create_only, a.if_match) for a in plan.of("upload")}
    assert uploads == {"l-newer": (False, E2), "only-l": (True, None)}


def _many(n: int) -> tuple[dict[str, Synced], dict[str, LocalFile], dict[str, RemoteObject]]:
    state = {f"f{i:02}": BASE for i in range(n)}
    return state, {k: L(1, 100) for k in state}, {k: R(1, E1, 150) for k in state}


def test_many_local_deletes_hit_the_guard() -> None:
    state, local, remote = _many(24)
    kept = {k: v for k, v in local.items() if k < "f04"}
    plan = bisync_plan(state, kept, remote, now=NOW)
    assert len(plan.of("delete-remote")) == 20
    with pytest.raises(DeleteRefused, match="20 of 24"):
        check_deletes(plan, DeleteGuard())
    check_deletes(plan, DeleteGuard(force=True))


def test_many_remote_deletes_hit_the_guard_and_an_empty_side_refuses() -> None:
    state, local, remote = _many(24)
    plan = bisync_plan(state, local, {"f00": remote["f00"]}, now=NOW)
    with pytest.raises(DeleteRefused, match="23 of 24"):
        check_deletes(plan, DeleteGuard())
    emptied = bisync_plan(state, {}, remote, now=NOW)  # an unmounted disk looks like this
    with pytest.raises(DeleteRefused, match="empty"):
        check_deletes(emptied, DeleteGuard(force=True))


def test_a_few_deletes_pass_the_guard() -> None:
    state, local, remote = _many(24)
    del local["f00"], remote["f01"]
    check_deletes(bisync_plan(state, local, remote, now=NOW), DeleteGuard())


def test_failed_paths_keep_their_old_record() -> None:
    state = {"a": BASE, "b": BASE, "gone": BASE}
    fresh = S(2, 200, 2, E2)
    assert next_state(state, [("b", fresh), ("gone", None), ("new", fresh)]) == {
        "a": BASE, "b": fresh, "new": fresh,
    }  # fmt: skip
    # 'a' failed (e.g. ConflictError): unchanged record → next run sees both sides changed.
    again = bisync_plan(state, {"a": L(2, 200)}, {"a": R(5, E3, 250)}, policy="skip", now=NOW)
    assert [a.kind for a in again.actions if a.path == "a"] == ["conflict"]


def test_interrupted_run_state_not_advanced_is_safe_to_redo() -> None:
    """The first run planned an upload of 'a' and a delete of 'b'; it stopped after the
    upload, before saving. The rerun against the old state adopts 'a' and redoes 'b'."""
    state = {"a": BASE, "b": BASE}
    first = bisync_plan(state, {"a": L(1, 200, MD5_B)}, {"a": R(1, E1, 150), "b": R(1, E1, 1)},
                        now=NOW)  # fmt: skip
    assert [(a.kind, a.path) for a in first.actions] == [("upload", "a"), ("delete-remote", "b")]
    rerun = bisync_plan(state, {"a": L(1, 200, MD5_B)},
                        {"a": R(1, MD5_B, 210), "b": R(1, E1, 1)}, now=NOW)  # fmt: skip
    assert [(a.kind, a.path) for a in rerun.actions] == [("adopt", "a"), ("delete-remote", "b")]


@pytest.mark.parametrize(
    ("path", "side", "expected"),
    [
        ("a.txt", "local", f"a.conflict-{STAMP}-local.txt"),
        ("dir/archive.tar.gz", "remote", f"dir/archive.tar.conflict-{STAMP}-remote.gz"),
        ("Makefile", "local", f"Makefile.conflict-{STAMP}-local"),
        ("d/.env", "remote", f"d/.env.conflict-{STAMP}-remote"),
    ],
)
def test_conflict_names(path: str, side: Any, expected: str) -> None:
    assert conflict_name(path, NOW, side) == expected


def test_only_ambiguous_pairs_are_hashed() -> None:
    assert wants_md5(None, L(1, 1), R(1, E1, 1))
    assert not wants_md5(None, L(1, 1), R(2, E1, 1))  # sizes differ: no need
    assert not wants_md5(None, L(1, 1), R(1, "x-2", 1))  # multipart: nothing to compare
    assert not wants_md5(BASE, L(1, 100), R(1, E2, 1))  # local unchanged: no conflict
    assert wants_md5(BASE, L(1, 200), R(1, E2, 1))


def test_state_round_trip(tmp_path: Path) -> None:
    store = BisyncState("http://127.0.0.1:1", "b", "p/", tmp_path / "x", folder=tmp_path / "s")
    assert not store.exists() and store.load() == {}
    store.save({}, when="t0")
    assert store.exists() and store.load() == {}
    records = {"a": BASE, "dir/é": S(2, 3, 4, E2)}
    store.save(records, when="t1")
    assert store.load() == records
    store.save({"a": BASE}, when="t2")
    assert store.load() == {"a": BASE}
    other = pair_id("http://127.0.0.1:1", "b", "q/", tmp_path / "x")
    assert other != pair_id("http://127.0.0.1:1", "b", "p/", tmp_path / "x")


def _kinds(actions: list[BiAction]) -> list[str]:
    return [a.kind for a in actions]


def test_conflicts_are_listed() -> None:
    plan = bisync_plan({"a": BASE}, {"a": L(2, 200)}, {"a": R(3, E2, 300)}, now=NOW)
    assert _kinds(plan.conflicts) == ["keep-both"]
    assert _kinds(plan.changes) == ["keep-both"]


def test_an_etag_spelt_in_another_case_or_quoted_is_the_same_object() -> None:
    """One ETag rule for every comparison: a proxy or store that quotes or upper-cases the
    ETag does not make two-way sync see a remote change."""
    from s3kit._sync.bisync import remote_delta

    state = Synced(3, 1, 3, "abcdef0123456789abcdef0123456789")
    assert remote_delta(state, RemoteObject(3, '"ABCDEF0123456789ABCDEF0123456789"')) == "unchanged"
    assert remote_delta(state, RemoteObject(3, "abcdef0123456789abcdef012345678a")) == "changed"
