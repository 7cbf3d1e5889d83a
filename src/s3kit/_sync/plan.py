"""Decide: compare two sorted streams of entries and emit the plan of a one-way sync.

Pure — no I/O, no clock. Both sides are compared in one key order, UTF-8 byte order (S3's
documented order), whatever order the scanners produced: SeaweedFS, for one, lists folder by
folder ('dir/x' before 'dir-2/x'), and a merge that trusted that order would see 'dir-2/x' as
missing on one side and both upload and delete it. Entries are compact tuples, not ObjectInfo.

The comparison follows `aws s3 sync`: a transfer when sizes differ, or when the source is newer
(local mtime against LastModified for uploads and copies; LastModified — or, once a HEAD has
read it, the `mtime` s3kit stored — against local mtime for downloads). `--size-only`,
`--exact-timestamps` and `--checksum` change that rule; `--delete` adds deletions, which
`DeleteGuard` may refuse. This module must never touch a file or a server.

Folder markers (`--dir-markers`): an entry whose key ends in '/' stands for an empty folder. In
byte order it sorts after its neighbours 'a-b' and 'a.x' and right before what it holds
('a/' < 'a/x'), so everything under a folder follows it in one run: a marker equal on both
sides needs nothing, one only at the source is created, and with `--delete` a destination
marker goes only when the source has no folder of that name at all.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

from s3kit._sync.index import Entry as Entry  # re-exported: where callers have always found it
from s3kit._sync.index import EntryIndex
from s3kit._sync.march import march
from s3kit.errors import S3KitError
from s3kit.storage.base import plain_md5

Direction = Literal["upload", "download", "copy"]
# "mkdir": create a folder marker (a zero-byte key ending in '/', or a local empty folder).
ActionKind = Literal["upload", "download", "copy", "delete", "mkdir"]
ACTION_KINDS: tuple[ActionKind, ...] = ("upload", "download", "copy", "delete", "mkdir")
# Local mtimes are stored with millisecond precision in the `mtime` metadata.
TOLERANCE = 0.001

NEW = "new"
SIZE_DIFFERS = "size differs"
SOURCE_NEWER = "source newer"
TIME_DIFFERS = "timestamp differs"
CONTENT_DIFFERS = "content differs"
CONTENT_UNCHECKED = "content not compared yet"
NO_CHECKSUM = "no checksum to compare"
NOT_IN_SOURCE = "not in source"
NOT_EMPTY = "folder is not empty"


class DeleteRefused(S3KitError):
    """The plan deletes more than the delete guard allows, or deleting is unsafe."""


def entry(key: str, size: int, mtime: float, etag: str | None = None) -> Entry:
    return Entry(key.encode("utf-8", "surrogateescape"), size, mtime, etag)


@dataclass(frozen=True, slots=True, kw_only=True)
class CompareOptions:
    size_only: bool = False
    exact_timestamps: bool = False
    checksum: bool = False
    delete: bool = False


@dataclass(frozen=True, slots=True)
class Action:
    kind: ActionKind
    key: str
    reason: str
    source: Entry | None = None
    destination: Entry | None = None

    @property
    def size(self) -> int:
        if self.kind == "mkdir":
            return 0
        chosen = self.source if self.kind != "delete" else self.destination
        return chosen.size if chosen is not None else 0


@dataclass(slots=True)
class Plan:
    direction: Direction
    actions: list[Action] = field(default_factory=list)
    source_count: int = 0
    destination_count: int = 0
    # Deletions left out on purpose, with the reason (a case or normalisation twin).
    withheld: list[tuple[str, str]] = field(default_factory=list)

    @property
    def transfers(self) -> list[Action]:
        """What adds to the destination: file transfers and new folders."""
        return [a for a in self.actions if a.kind != "delete"]

    @property
    def folders(self) -> list[Action]:
        return [a for a in self.actions if a.kind == "mkdir"]

    @property
    def deletions(self) -> list[Action]:
        return [a for a in self.actions if a.kind == "delete"]

    @property
    def bytes(self) -> int:
        return sum(a.size for a in self.transfers)


def sort_entries(entries: Sequence[Entry]) -> list[Entry]:
    """Entries in UTF-8 byte order, without duplicates (the first of a key wins)."""
    ordered = sorted(entries, key=lambda e: e.raw)
    return [e for i, e in enumerate(ordered) if i == 0 or ordered[i - 1].raw != e.raw]


def same_content(a: Entry, b: Entry) -> bool | None:
    """True/False when the two digests can be compared, None when they cannot."""
    md5_a, md5_b = plain_md5(a.etag), plain_md5(b.etag)
    if md5_a and md5_b:
        return md5_a == md5_b
    if a.crc and b.crc:
        return a.crc.lower() == b.crc.lower()
    return None


def compare(
    source: Entry, destination: Entry, direction: Direction, options: CompareOptions
) -> str | None:
    """Why `source` must be transferred over `destination`, or None when it need not be."""
    if source.size != destination.size:
        return SIZE_DIFFERS
    if options.size_only:
        return None
    if options.checksum:
        same = same_content(source, destination)
        if same is None:
            return CONTENT_UNCHECKED
        return None if same else CONTENT_DIFFERS
    delta = source.mtime - destination.mtime
    if direction == "download" and options.exact_timestamps:
        return TIME_DIFFERS if abs(delta) > TOLERANCE else None
    return SOURCE_NEWER if delta > TOLERANCE else None


def fold(key: str) -> str:
    """The form under which two keys name one file on a case-insensitive or normalising
    filesystem (macOS, Windows)."""
    return unicodedata.normalize("NFC", key).casefold()


def make_plan(
    source: Sequence[Entry],
    destination: Sequence[Entry],
    direction: Direction,
    options: CompareOptions | None = None,
) -> Plan:
    """Walk the two sides in lock step (`march`; sorted here in byte order, whatever order
    they came in)."""
    options = options or CompareOptions()
    src, dst = _sorted(source), _sorted(destination)
    plan = Plan(direction, source_count=len(src), destination_count=len(dst))
    for step in march(src, dst, key=_raw):
        here, there = step.items
        i, j = step.positions
        if there is None:
            assert here is not None
            if not here.is_folder:
                plan.actions.append(Action(direction, here.key, NEW, here, None))
            elif _wants_folder(src, i, dst, j, options):
                plan.actions.append(Action("mkdir", here.key, NEW, here, None))
        elif here is None:
            if options.delete and not (there.is_folder and _holds(src, i, there)):
                plan.actions.append(Action("delete", there.key, NOT_IN_SOURCE, None, there))
        else:
            reason = None if here.is_folder else compare(here, there, direction, options)
            if reason is not None:
                plan.actions.append(Action(direction, here.key, reason, here, there))
    if plan.deletions:
        _withhold_full_folders(plan)
        _withhold_twins(plan, src)
    return plan


def _sorted(entries: Sequence[Entry]) -> Sequence[Entry]:
    """`entries` in byte order without repeats: an `EntryIndex` is already."""
    return entries if isinstance(entries, EntryIndex) else sort_entries(entries)


def _raw(entry: Entry) -> bytes:
    return entry.raw


def _holds(entries: Sequence[Entry], index: int, folder: Entry) -> bool:
    """Whether `entries` hold something under `folder`, `entries[index]` being their first key
    after it: the keys under a folder come right after it in byte order."""
    return index < len(entries) and entries[index].raw.startswith(folder.raw)


def _wants_folder(
    src: Sequence[Entry], i: int, dst: Sequence[Entry], j: int, options: CompareOptions
) -> bool:
    """Whether the source marker `src[i]`, absent from the destination, must be created: not
    when the source holds something under it (that carries the folder), nor when the
    destination holds something under it that stays (the folder is there already)."""
    if _holds(src, i + 1, src[i]):
        return False
    return options.delete or not _holds(dst, j, src[i])


def _withhold_full_folders(plan: Plan) -> None:
    """A folder marker that holds something (bytes, excluded files) is never deleted."""
    kept = []
    for action in plan.actions:
        target = action.destination
        if action.kind == "delete" and target is not None and target.is_folder and target.size:
            plan.withheld.append((action.key, NOT_EMPTY))
        else:
            kept.append(action)
    plan.actions = kept


def _withhold_twins(plan: Plan, source: Sequence[Entry]) -> None:
    """Never delete a key that differs from a source key only in case or normalisation: on a
    case-insensitive or normalising filesystem both name the same file, and the deletion would
    remove what the sync just wrote."""
    doomed = {fold(a.key): a for a in plan.deletions}
    twins: dict[str, str] = {}
    for item in source:
        name = item.key
        folded = fold(name)
        if folded in doomed and doomed[folded].key != name:
            twins[doomed[folded].key] = name
    if not twins:
        return
    kept = []
    for action in plan.actions:
        if action.kind == "delete" and action.key in twins:
            plan.withheld.append(
                (action.key, f"differs from source '{twins[action.key]}' only in case or form")
            )
        else:
            kept.append(action)
    plan.actions = kept


def revise(
    plan: Plan,
    refreshed: Mapping[bytes, tuple[Entry | None, Entry | None]],
    options: CompareOptions,
) -> Plan:
    """The plan once some entries were read more closely (a HEAD for the stored mtime, a
    digest): `refreshed` maps a key to new (source, destination) entries, None = unchanged."""
    actions: list[Action] = []
    for action in plan.actions:
        fresh = refreshed.get(action.source.raw if action.source else b"\xff")
        if fresh is None or action.source is None or action.destination is None:
            actions.append(action)
            continue
        source = fresh[0] or action.source
        destination = fresh[1] or action.destination
        reason = compare(source, destination, plan.direction, options)
        if reason == CONTENT_UNCHECKED:
            reason = NO_CHECKSUM
        if reason is not None:
            actions.append(replace(action, reason=reason, source=source, destination=destination))
    return replace(plan, actions=actions)


@dataclass(frozen=True, slots=True, kw_only=True)
class DeleteGuard:
    """Stops a sync from emptying its destination by mistake (a wrong path, an unmounted
    disk): at most `max_delete` deletions; by default no more than half of a destination of
    20 entries or more unless forced; and never when the source is empty or was not read
    completely."""

    max_delete: int | None = None
    max_fraction: float = 0.5
    min_entries: int = 20
    force: bool = False

    def check(self, plan: Plan, *, source_complete: bool = True) -> None:
        count = len(plan.deletions)
        if count == 0:
            return
        if not source_complete:
            raise DeleteRefused(
                f"not deleting {count} entries: the source could not be read completely"
                " (see the warnings); fix that and sync again"
            )
        if plan.source_count == 0:
            raise DeleteRefused(
                f"not deleting {count} entries: the source is empty — check the path; to"
                " empty the destination use `s3kit rm --recursive`"
            )
        if self.max_delete is not None and count > self.max_delete:
            raise DeleteRefused(
                f"the plan deletes {count} entries, more than --max-delete {self.max_delete};"
                " raise the limit or check the source path"
            )
        total = plan.destination_count
        if not self.force and total >= self.min_entries and count > self.max_fraction * total:
            raise DeleteRefused(
                f"the plan deletes {count} of {total} destination entries (more than"
                f" {self.max_fraction:.0%}); check the source path, or pass --force"
            )
