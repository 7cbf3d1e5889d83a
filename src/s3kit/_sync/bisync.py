"""Decide: the plan of a two-way sync between a local folder and an S3 prefix.

Pure — no I/O, no clock (the time for conflict names comes in). As rclone's bisync does
(`findDeltas` → `applyDeltas`), each side is first compared with the state of the last
successful run — a path is new, changed, deleted or unchanged on that side — and a decision
table turns the two deltas into actions:

- a change on one side propagates to the other; a delete on one side deletes the other copy
  only if that copy is unchanged (a delete never wins over an edit, and a deleted path is never
  brought back from the other side);
- changed (or new) on both sides with the same content is adopted without a transfer;
  otherwise it is a conflict, resolved by the `--conflict` policy.

Every write to S3 carries its precondition (`if_match` the ETag seen now, or create-only), so
the executor can refuse to overwrite what someone wrote after the scan. This module must never
touch a file or a server.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from operator import itemgetter
from typing import Any, Literal

from s3kit._sync.march import march
from s3kit._sync.plan import Action, DeleteGuard, Plan, fold
from s3kit.storage.base import etags_match, plain_md5

ConflictPolicy = Literal["newer", "local", "remote", "rename", "skip", "ask"]
CONFLICT_POLICIES: tuple[ConflictPolicy, ...] = (
    "newer",
    "local",
    "remote",
    "rename",
    "skip",
    "ask",
)
Delta = Literal["new", "changed", "deleted", "unchanged", "absent"]
Side = Literal["local", "remote"]
BiKind = Literal[
    "upload",  # local → S3 (precondition: if_match or create)
    "download",  # S3 → local
    "delete-remote",  # HEAD first; skipped when the ETag moved
    "delete-local",  # skipped when the file changed since the scan
    "adopt",  # both sides already equal: record them, move nothing
    "forget",  # gone on both sides: drop the record
    "keep-both",  # conflict, rename policy: the loser moves to a conflict name on both sides
    "conflict",  # unresolved (policy skip, or ask before the user answered)
]


@dataclass(frozen=True, slots=True)
class LocalFile:
    size: int
    mtime_ns: int
    md5: str | None = None  # filled by the scanner only where a content comparison helps


@dataclass(frozen=True, slots=True)
class RemoteObject:
    size: int
    etag: str  # without quotes
    mtime_ns: int = 0  # LastModified, for --conflict newer and --resync


@dataclass(frozen=True, slots=True)
class Synced:
    """What both sides looked like after the last successful run."""

    local_size: int
    local_mtime_ns: int
    remote_size: int
    remote_etag: str


@dataclass(frozen=True, slots=True)
class BiAction:
    kind: BiKind
    path: str
    reason: str
    local: LocalFile | None = None  # as scanned
    remote: RemoteObject | None = None  # as scanned
    # Uploads: write only if the object still has this ETag; None with create_only: only if
    # absent. Remote deletes: only if the ETag is still this one.
    if_match: str | None = None
    create_only: bool = False
    winner: Side | None = None  # keep-both: whose copy keeps the name
    conflict_path: str | None = None  # keep-both: where the loser goes
    early: bool = False  # a local delete that must happen before a case-twin is written


@dataclass(slots=True)
class BiPlan:
    actions: list[BiAction] = field(default_factory=list)
    local_count: int = 0
    remote_count: int = 0

    def of(self, *kinds: BiKind) -> list[BiAction]:
        return [a for a in self.actions if a.kind in kinds]

    @property
    def conflicts(self) -> list[BiAction]:
        return self.of("conflict", "keep-both")

    @property
    def changes(self) -> list[BiAction]:
        return [a for a in self.actions if a.kind not in ("adopt", "forget")]


def local_delta(state: Synced | None, now: LocalFile | None) -> Delta:
    if state is None:
        return "absent" if now is None else "new"
    if now is None:
        return "deleted"
    same = now.size == state.local_size and now.mtime_ns == state.local_mtime_ns
    return "unchanged" if same else "changed"


def remote_delta(state: Synced | None, now: RemoteObject | None) -> Delta:
    if state is None:
        return "absent" if now is None else "new"
    if now is None:
        return "deleted"
    same = now.size == state.remote_size and etags_match(now.etag, state.remote_etag)
    return "unchanged" if same else "changed"


def clean_etag(etag: str | None) -> str:
    """An ETag unquoted but as the server spells it: what If-Match sends and the state keeps.
    Comparisons go through `etags_match`."""
    return (etag or "").strip().strip('"')


def same_content(local: LocalFile, remote: RemoteObject) -> bool:
    """True only when provably equal: same size and the local MD5 equals a single-part ETag."""
    md5 = plain_md5(remote.etag)
    return local.size == remote.size and md5 is not None and local.md5 == md5


def wants_md5(state: Synced | None, local: LocalFile | None, remote: RemoteObject | None) -> bool:
    """Whether the scanner should hash this local file: both sides new or changed, same size,
    and a single-part ETag to compare with (the only case where content decides)."""
    if local is None or remote is None or local.size != remote.size:
        return False
    if plain_md5(remote.etag) is None:
        return False
    if state is None:
        return True
    return local_delta(state, local) != "unchanged" and remote_delta(state, remote) != "unchanged"


def conflict_name(path: str, when: datetime, side: Side) -> str:
    """`dir/name.conflict-20260102T030405Z-local.ext` (the extension stays last)."""
    folder, base = posixpath.split(path)
    stem, ext = posixpath.splitext(base)
    if not stem:  # a dotfile such as '.env' has no extension
        stem, ext = base, ""
    stamp = when.strftime("%Y%m%dT%H%M%SZ")
    return posixpath.join(folder, f"{stem}.conflict-{stamp}-{side}{ext}")


def _upload(path: str, reason: str, local: LocalFile, remote: RemoteObject | None) -> BiAction:
    if remote is None:
        return BiAction("upload", path, reason, local, None, create_only=True)
    return BiAction("upload", path, reason, local, remote, if_match=clean_etag(remote.etag))


def resolve(action: BiAction, policy: ConflictPolicy, now: datetime) -> BiAction:
    """A conflict turned into what `policy` does with it ('ask' and 'skip' leave it open)."""
    if action.kind != "conflict" or action.local is None or action.remote is None:
        return action
    local, remote = action.local, action.remote
    if policy == "newer":
        if local.mtime_ns == remote.mtime_ns:
            policy = "rename"  # no newer one: keep both rather than guess
        else:
            policy = "local" if local.mtime_ns > remote.mtime_ns else "remote"
        reason = f"{action.reason}; newer wins"
    else:
        reason = f"{action.reason}; --conflict {policy}"
    if policy == "local":
        return _upload(action.path, reason, local, remote)
    if policy == "remote":
        return BiAction("download", action.path, reason, local, remote)
    if policy == "rename":
        winner: Side = "local" if local.mtime_ns >= remote.mtime_ns else "remote"
        loser: Side = "remote" if winner == "local" else "local"
        return BiAction(
            "keep-both", action.path, f"{reason}; the {winner} copy keeps the name",
            local, remote, if_match=clean_etag(remote.etag), winner=winner,
            conflict_path=conflict_name(action.path, now, loser),
        )  # fmt: skip
    return action


def _decide(
    path: str, state: Synced | None, local: LocalFile | None, remote: RemoteObject | None
) -> BiAction | None:
    ld, rd = local_delta(state, local), remote_delta(state, remote)
    if local is not None and remote is not None and ld != "unchanged" and rd != "unchanged":
        # new/new or changed/changed
        if same_content(local, remote):
            return BiAction("adopt", path, "same content on both sides", local, remote)
        both = "new on both sides" if state is None else "changed on both sides"
        return BiAction("conflict", path, both, local, remote)
    if ld == "unchanged" and rd == "unchanged":
        return None
    if ld == "deleted" and rd == "deleted":
        return BiAction("forget", path, "deleted on both sides")
    if local is not None and ld in ("new", "changed"):
        # remote is unchanged, absent or deleted: the local edit wins (never lose an edit)
        reason = {"new": "new locally", "changed": "changed locally"}[ld]
        if rd == "deleted":
            reason += " (deleted remotely: the edit is kept)"
        return _upload(path, reason, local, remote)
    if remote is not None and rd in ("new", "changed"):
        reason = {"new": "new remotely", "changed": "changed remotely"}[rd]
        if ld == "deleted":
            reason += " (deleted locally: the edit is kept)"
        return BiAction("download", path, reason, local, remote)
    if ld == "deleted" and remote is not None:  # remote unchanged
        return BiAction(
            "delete-remote", path, "deleted locally", None, remote,
            if_match=clean_etag(remote.etag),
        )  # fmt: skip
    if rd == "deleted" and local is not None:  # local unchanged
        return BiAction("delete-local", path, "deleted remotely", local, None)
    return None


def bisync_plan(
    state: Mapping[str, Synced],
    local: Mapping[str, LocalFile],
    remote: Mapping[str, RemoteObject],
    *,
    policy: ConflictPolicy = "rename",
    now: datetime,
) -> BiPlan:
    """The actions that bring both sides together, given the last synced `state`."""
    plan = BiPlan(local_count=len(local), remote_count=len(remote))
    for path, (seen, here, there) in _walk(state, local, remote):
        action = _decide(path, seen, here, there)
        if action is not None:
            plan.actions.append(resolve(action, policy, now))
    _order_case_twins(plan)
    return plan


def resync_plan(local: Mapping[str, LocalFile], remote: Mapping[str, RemoteObject]) -> BiPlan:
    """The first run (or `--resync`): copy what is missing each way; where both sides have a
    path with different content the newer wins; nothing is deleted."""
    plan = BiPlan(local_count=len(local), remote_count=len(remote))
    for path, (here, there) in _walk(local, remote):
        if here is not None and there is None:
            plan.actions.append(_upload(path, "only local (resync)", here, None))
        elif there is not None and here is None:
            plan.actions.append(BiAction("download", path, "only remote (resync)", None, there))
        elif here is not None and there is not None:
            if same_content(here, there):
                plan.actions.append(BiAction("adopt", path, "same content", here, there))
            elif here.mtime_ns > there.mtime_ns:
                plan.actions.append(_upload(path, "local newer (resync)", here, there))
            else:
                plan.actions.append(
                    BiAction("download", path, "remote newer (resync)", here, there)
                )
    _order_case_twins(plan)
    return plan


def _walk(*sides: Mapping[str, Any]) -> Iterator[tuple[str, tuple[Any, ...]]]:
    """Every path of `sides` in order, with each side's record of it (None where it has
    none): the lock-step walk of `march` over the sides sorted by path."""
    ordered = [sorted(side.items(), key=itemgetter(0)) for side in sides]
    for step in march(*ordered, key=itemgetter(0)):
        yield step.key, tuple(None if item is None else item[1] for item in step.items)


def _order_case_twins(plan: BiPlan) -> None:
    """A local delete of 'Readme.md' must run before 'README.md' is downloaded: on a
    case-insensitive filesystem both are one file, and deleting last would remove the new one."""
    written = {fold(a.path) for a in plan.actions if a.kind in ("download", "keep-both")}
    plan.actions = [
        replace(a, early=True) if a.kind == "delete-local" and fold(a.path) in written else a
        for a in plan.actions
    ]


def check_deletes(plan: BiPlan, guard: DeleteGuard, *, local_complete: bool = True) -> None:
    """The one-way DeleteGuard, applied to each side's deletions (raises DeleteRefused)."""
    remote_side = Plan(
        "upload",
        [Action("delete", a.path, a.reason) for a in plan.of("delete-remote")],
        source_count=plan.local_count,
        destination_count=plan.remote_count,
    )
    local_side = Plan(
        "download",
        [Action("delete", a.path, a.reason) for a in plan.of("delete-local")],
        source_count=plan.remote_count,
        destination_count=plan.local_count,
    )
    guard.check(remote_side, source_complete=local_complete)
    guard.check(local_side)


def next_state(
    state: Mapping[str, Synced], done: Iterable[tuple[str, Synced | None]]
) -> dict[str, Synced]:
    """The state to save: the old records, with each finished path's new record (None: the
    path is gone on both sides). Paths whose action failed keep their old record, so the next
    run sees them as changes again."""
    result = dict(state)
    for path, record in done:
        if record is None:
            result.pop(path, None)
        else:
            result[path] = record
    return result


__all__ = [
    "CONFLICT_POLICIES",
    "BiAction",
    "BiPlan",
    "ConflictPolicy",
    "LocalFile",
    "RemoteObject",
    "Synced",
    "bisync_plan",
    "check_deletes",
    "conflict_name",
    "local_delta",
    "next_state",
    "remote_delta",
    "resolve",
    "resync_plan",
    "wants_md5",
]
