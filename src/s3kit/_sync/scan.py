"""Walk: the two sides of a sync as `Entry` records — sorted and held compactly for a plan
(`EntryIndex`), or streams (`stream_local_async`, `stream_s3_async`) for a sync that transfers
while it scans. The indexes are the streams collected, so both apply the same rules and
warnings.

A local folder is walked by `storage.local.walk_folder` (the walk `cp -r` uses too), pruning
ignored folders (`node_modules/` is never entered); an S3 prefix is listed flat. The same
`Selection` filters both sides, so an excluded file is neither uploaded nor deleted on the
other side. Symlinks are skipped unless `follow_symlinks`; then loops and links that leave the
root are skipped with a warning. A folder that cannot be read makes the scan incomplete, which
forbids deletions. Keys no local file can have are not dropped here: they are refused, and
reported, where they would be written (`LocalSide.target`).

With `dir_markers`, folders take part too, as entries whose key ends in '/': locally, every
folder that holds nothing selected (a leaf that would otherwise vanish); in S3, the folder
markers under the prefix. The prefix or root itself is never one.

The sides themselves are in `sides`, the selection rules in `selection`, and what is read
after a first plan where the listing is not enough (`refine_async`) in `closer`; their names are
importable from here too.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncGenerator, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from s3kit._observe import logger
from s3kit._session import Session
from s3kit._sync.closer import (
    closer_look_async,
    entry_as_seen_async,
    file_digests,
    folder_as_seen_async,
    needs_closer_look,
    refine_async,
    replace_entry,
)
from s3kit._sync.index import Entry, IndexBuilder
from s3kit._sync.selection import (
    IGNORE_FILE,
    MAX_IGNORE_BYTES,
    Selection,
    build_selection,
    read_ignore_file_async,
)
from s3kit._sync.sides import LocalSide, S3Side, Side, Warn, refusals, side_of
from s3kit.errors import (
    translate,
)
from s3kit.storage.base import ObjectInfo
from s3kit.storage.local import stream_in_thread, walk_folder


@dataclass(slots=True)
class ScanResult:
    entries: Sequence[Entry]  # sorted in byte order, held compactly (an `EntryIndex`)
    complete: bool = True


@dataclass(slots=True)
class ScanProgress:
    """How far a streamed scan has got, updated as it goes (from the walk's worker thread for
    a folder): entries found so far, whether it has finished, and whether it read everything."""

    entries: int = 0
    finished: bool = False
    complete: bool = True


def scan_local(
    root: Path,
    selection: Selection | None = None,
    *,
    follow_symlinks: bool = False,
    warn: Warn | None = None,
    must_exist: bool = True,
    dir_markers: bool = False,
) -> ScanResult:
    """What `walk_local` finds, sorted in UTF-8 byte order of the relative key."""
    entries = IndexBuilder()
    complete = walk_local(
        root, entries.add, selection, follow_symlinks=follow_symlinks, warn=warn,
        must_exist=must_exist, dir_markers=dir_markers,
    )  # fmt: skip
    return ScanResult(entries.build(), complete)


def walk_local(
    root: Path,
    found: Callable[[Entry], None],
    selection: Selection | None = None,
    *,
    follow_symlinks: bool = False,
    warn: Warn | None = None,
    must_exist: bool = True,
    dir_markers: bool = False,
) -> bool:
    """Call `found` with every selected file under `root`, in the order the walk meets them
    (not sorted); with `dir_markers`, also with every folder that holds nothing selected, as
    'a/b/' (its size: how many entries it holds, 0 when it is empty). Returns False when a
    folder could not be read: the scan is incomplete, which forbids deletions."""
    selection = selection or Selection()
    say = warn or (lambda message: logger.warning("%s", message))
    if not root.is_dir():
        if must_exist or root.exists():
            raise translate(FileNotFoundError(2, "no such folder"), path=str(root))
        return True
    taken = 0  # entries found so far: a folder that adds none holds nothing selected
    started: dict[str, int] = {}

    def file(path: str, info: os.stat_result) -> None:
        nonlocal taken
        if selection.accepts(path, walked=True):
            taken += 1
            raw = path.encode("utf-8", "surrogateescape")
            found(Entry(raw, info.st_size, info.st_mtime, exact_mtime=True))

    def prune(path: str) -> bool:
        if selection.prunes(path):
            return True
        started[path] = taken
        return False

    def leave(path: str, info: os.stat_result, held: int | None) -> None:
        nonlocal taken
        if (
            dir_markers
            and held is not None
            and taken == started.pop(path)  # nothing selected below: a leaf
            and selection.accepts_folder(path + "/", walked=True)
        ):
            taken += 1
            raw = (path + "/").encode("utf-8", "surrogateescape")
            found(Entry(raw, held, info.st_mtime, exact_mtime=True))

    complete = walk_folder(
        root, file, follow_symlinks=follow_symlinks, warn=say, prune=prune, leave=leave
    )
    if not complete:
        say(f"deletions are disabled for this run: a folder under {root} could not be read")
    return complete


async def stream_local_async(
    root: Path,
    selection: Selection | None = None,
    *,
    follow_symlinks: bool = False,
    warn: Warn | None = None,
    progress: ScanProgress | None = None,
    batch_size: int = 500,
    queue_batches: int = 4,
) -> AsyncGenerator[Entry, None]:
    """`walk_local` as a stream, for a sync that starts transferring before the walk ends.

    The walk runs in a worker thread and hands its entries to the event loop in batches
    through a bounded queue: when the consumer lags (every transfer slot busy), the walk waits
    instead of filling memory, at most `queue_batches` batches ahead. Entries come in walk
    order, not sorted. Closing the stream early stops the walk; a walk that fails raises here.
    """
    progress = progress if progress is not None else ScanProgress()

    def walk(found: Callable[[Entry], None]) -> None:
        def counted(item: Entry) -> None:
            progress.entries += 1
            found(item)

        progress.complete = walk_local(
            root, counted, selection, follow_symlinks=follow_symlinks, warn=warn
        )
        progress.finished = True

    entries = stream_in_thread(walk, batch_size=batch_size, queue_batches=queue_batches)
    async with contextlib.aclosing(entries):
        async for item in entries:
            yield item


async def scan_s3_async(
    session: Session,
    side: S3Side,
    selection: Selection | None = None,
    *,
    warn: Warn | None = None,
    dir_markers: bool = False,
    source: bool = True,
) -> ScanResult:
    """What `stream_s3_async` finds, sorted in UTF-8 byte order."""
    stream = stream_s3_async(
        session, side, selection, warn=warn, dir_markers=dir_markers, source=source
    )
    entries = IndexBuilder()
    async for item in stream:
        entries.add(item)
    return ScanResult(entries.build())


async def stream_s3_async(
    session: Session,
    side: S3Side,
    selection: Selection | None = None,
    *,
    warn: Warn | None = None,
    dir_markers: bool = False,
    source: bool = True,
    progress: ScanProgress | None = None,
    page_size: int = 1000,
) -> AsyncGenerator[Entry, None]:
    """Every selected object under the prefix, page by page as the listing comes, in the
    server's order (SeaweedFS lists folder by folder, not in byte order). Folder markers (keys
    ending in '/') are skipped unless `dir_markers`."""
    selection = selection or Selection()
    say = warn or (lambda message: logger.warning("%s", message))
    listing = session.storage(side.bucket).list_async(side.prefix, page_size=page_size)
    async for item in listing:
        if not isinstance(item, ObjectInfo):
            continue
        relative = item.key[len(side.prefix) :]
        if item.key.endswith("/"):
            if dir_markers and _takes_part(side, item, selection, source, say):
                yield _counted(progress, replace_entry(relative, item))
            continue
        if not selection.accepts(relative):
            continue
        yield _counted(progress, replace_entry(relative, item))
    if progress is not None:
        progress.finished = True


def _counted(progress: ScanProgress | None, item: Entry) -> Entry:
    if progress is not None:
        progress.entries += 1
    return item


def _takes_part(
    side: S3Side, item: ObjectInfo, selection: Selection, source: bool, warn: Warn
) -> bool:
    """Whether the folder marker `item` takes part: not the prefix itself (the root), nor a
    folder the selection leaves out; at the source, not a marker holding bytes (no empty
    folder)."""
    relative = item.key[len(side.prefix) :]
    if not relative or not selection.accepts_folder(relative):
        return False
    where = f"s3://{side.bucket}/{item.key}"
    if source and item.size:
        warn(f"skipping {where}: a folder marker that holds {item.size} bytes")
        return False
    return True


async def scan_async(
    session: Session,
    side: Side,
    selection: Selection,
    *,
    source: bool,
    follow_symlinks: bool = False,
    warn: Warn | None = None,
    dir_markers: bool = False,
) -> ScanResult:
    if isinstance(side, LocalSide):
        return await asyncio.to_thread(
            scan_local,
            side.root,
            selection,
            follow_symlinks=follow_symlinks,
            warn=warn,
            must_exist=source,
            dir_markers=dir_markers,
        )
    return await scan_s3_async(
        session, side, selection, warn=warn, dir_markers=dir_markers, source=source
    )


__all__ = [
    "IGNORE_FILE",
    "MAX_IGNORE_BYTES",
    "LocalSide",
    "S3Side",
    "ScanProgress",
    "ScanResult",
    "Selection",
    "Side",
    "Warn",
    "build_selection",
    "closer_look_async",
    "entry_as_seen_async",
    "file_digests",
    "folder_as_seen_async",
    "needs_closer_look",
    "read_ignore_file_async",
    "refine_async",
    "refusals",
    "replace_entry",
    "scan_async",
    "scan_local",
    "scan_s3_async",
    "side_of",
    "stream_local_async",
    "stream_s3_async",
    "walk_local",
]
