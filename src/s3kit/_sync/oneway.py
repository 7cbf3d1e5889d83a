"""One-way sync: make a destination folder or prefix match a source (local→S3, S3→local,
S3→S3), as `aws s3 sync` does, in three separate steps — walk (`scan`), decide (`plan`,
pure), act (`execute`) — with `report` for the human and JSON forms of a plan.

Two ways to run it. Plan first (`prepare_sync_async`): both sides scanned, the whole plan
made, then carried out — what deletions, `--dir-markers`, dry runs and plan files need, since
the delete guard and the confirmation weigh the whole picture. Streamed (`streaming_sync`):
transfers start while the source is still being scanned, for every run that needs no whole
plan first; it decides exactly as the plan would.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from s3kit._encryption import Encryption
from s3kit._session import Session
from s3kit._sync.plan import (
    CompareOptions,
    Direction,
    Plan,
    make_plan,
    revise,
)
from s3kit._sync.scan import (
    LocalSide,
    S3Side,
    Selection,
    Side,
    Warn,
    refine_async,
    scan_async,
    side_of,
)
from s3kit._sync.stream import StreamingSync
from s3kit._uri import Location
from s3kit.errors import LocalPathError, UsageError


@dataclass(slots=True)
class PreparedSync:
    plan: Plan
    source: Side
    destination: Side
    complete: bool  # the source was read completely (deletions allowed)


def direction_of(source: Side, destination: Side) -> Direction:
    if isinstance(source, LocalSide) and isinstance(destination, S3Side):
        return "upload"
    if isinstance(source, S3Side) and isinstance(destination, LocalSide):
        return "download"
    if isinstance(source, S3Side) and isinstance(destination, S3Side):
        return "copy"
    raise UsageError("one side of sync must be an s3:// URL; use rsync for two local folders")


def _overlap(source: Side, destination: Side) -> bool:
    if not isinstance(source, S3Side) or not isinstance(destination, S3Side):
        return False
    a, b = source.prefix, destination.prefix
    return source.bucket == destination.bucket and (a.startswith(b) or b.startswith(a))


def _sides(source: Location, destination: Location) -> tuple[Side, Side, Direction]:
    """The two sides of a one-way sync and its direction, refused when they cannot be synced."""
    src, dst = side_of(source), side_of(destination)
    direction = direction_of(src, dst)
    if isinstance(src, LocalSide) and not src.root.is_dir():
        raise LocalPathError(f"{source}: no such folder — check the source path")
    if _overlap(src, dst):
        raise UsageError(f"{source} and {destination} overlap; sync between separate prefixes")
    return src, dst, direction


def streaming_sync(
    session: Session,
    source: Location,
    destination: Location,
    *,
    options: CompareOptions | None = None,
    selection: Selection | None = None,
    follow_symlinks: bool = False,
    warn: Warn | None = None,
    read_encryption: Encryption | None = None,
) -> StreamingSync:
    """A sync that transfers while it scans (see `StreamingSync`): for runs that delete
    nothing and make no folders — the delete guard and the confirmation need the whole plan,
    which `prepare_sync_async` makes first. Run it with `run_async(SyncExecutor(session))`."""
    src, dst, direction = _sides(source, destination)
    return StreamingSync(
        session, src, dst, direction, options=options, selection=selection,
        follow_symlinks=follow_symlinks, warn=warn, read_encryption=read_encryption,
    )  # fmt: skip


async def prepare_sync_async(
    session: Session,
    source: Location,
    destination: Location,
    *,
    options: CompareOptions | None = None,
    selection: Selection | None = None,
    follow_symlinks: bool = False,
    warn: Warn | None = None,
    dir_markers: bool = False,
    read_encryption: Encryption | None = None,
) -> PreparedSync:
    """Scan both sides, plan, and refine the plan where the listings are not enough.
    `dir_markers`: empty folders take part, as folder markers (keys ending in '/');
    `read_encryption`: the SSE-C key the objects' HEADs need."""
    options = options or CompareOptions()
    selection = selection or Selection()
    src, dst, direction = _sides(source, destination)
    scanned_src, scanned_dst = await asyncio.gather(
        scan_async(session, src, selection, source=True, follow_symlinks=follow_symlinks,
                   warn=warn, dir_markers=dir_markers),
        scan_async(session, dst, selection, source=False, follow_symlinks=follow_symlinks,
                   warn=warn, dir_markers=dir_markers),
    )  # fmt: skip
    plan = make_plan(scanned_src.entries, scanned_dst.entries, direction, options)
    refreshed = await refine_async(session, plan, src, dst, read_encryption=read_encryption)
    if refreshed:
        plan = revise(plan, refreshed, options)
    return PreparedSync(plan, src, dst, scanned_src.complete and scanned_dst.complete)


__all__ = ["PreparedSync", "direction_of", "prepare_sync_async", "streaming_sync"]
