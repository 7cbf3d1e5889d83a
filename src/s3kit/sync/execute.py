"""Act: carry out a sync Plan — transfers through the TransferManager, then deletions in bulk.

Deletions come last and only when every transfer succeeded (as rclone does after I/O errors):
a half-done sync never removes anything. Progress goes out as `TransferEvent`s — "queued",
"progress", "done", "failed" for transfers, "done"/"failed" with action "delete" for
deletions — through a callback that cannot break the run.
"""

from __future__ import annotations

import asyncio
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from s3kit.errors import S3KitError, translate
from s3kit.observe import logger
from s3kit.session import Session
from s3kit.sync.plan import Action, Entry, Plan
from s3kit.sync.scan import LocalSide, S3Side, Side, entry_as_seen_async
from s3kit.transfer import (
    EventCallback,
    TransferConfig,
    TransferEvent,
    TransferItem,
    TransferManager,
    WriteOptions,
)
from s3kit.uri import LocalPath

DELETE_BATCH = 1000


@dataclass(slots=True)
class SyncResult:
    transferred: int = 0
    bytes: int = 0
    deleted: int = 0
    seconds: float = 0.0
    failures: list[tuple[str, S3KitError]] = field(default_factory=list)
    deletions_skipped: str | None = None

    @property
    def ok(self) -> bool:
        return not self.failures and self.deletions_skipped is None


class SyncExecutor:
    """Carries out plans for one Session; config, options and the callback are injected."""

    def __init__(
        self,
        session: Session,
        *,
        config: TransferConfig | None = None,
        options: WriteOptions | None = None,
        on_event: EventCallback | None = None,
    ) -> None:
        self.session = session
        self.config = config or TransferConfig()
        self.options = options or WriteOptions()
        self._on_event = on_event
        self._root = Path()

    def _emit(self, event: TransferEvent) -> None:
        if self._on_event is None:
            return
        try:
            self._on_event(event)
        except Exception:  # a broken callback must never break a sync
            logger.exception("sync event callback failed")

    async def run_async(self, plan: Plan, source: Side, destination: Side) -> SyncResult:
        started = time.monotonic()
        result = SyncResult()
        self._root = destination.root if isinstance(destination, LocalSide) else Path()
        items = [
            TransferItem(
                source.location(a.key),
                destination.location(a.key),
                a.size,
                a.source.etag if a.source is not None and isinstance(source, S3Side) else None,
            )
            for a in plan.transfers
        ]
        if items:
            manager = TransferManager(
                self.session,
                config=self.config,
                options=self.options,
                on_event=self._stamping(plan, time.time() - 1)
                if plan.direction == "download"
                else self._on_event,
            )
            summary = await manager.run_items_async(items)
            result.transferred, result.bytes = summary.files, summary.bytes
            result.failures.extend((str(item.source), error) for item, error in summary.failures)
        deletions = [a.key for a in plan.deletions]
        if deletions and result.failures:
            result.deletions_skipped = (
                f"{len(deletions)} deletions skipped because {len(result.failures)} transfers"
                " failed; fix those and sync again"
            )
        elif deletions:
            await self._delete(destination, deletions, result)
        result.seconds = time.monotonic() - started
        return result

    def _stamping(self, plan: Plan, started: float) -> EventCallback:
        """Downloads of objects without s3kit's `mtime` metadata get LastModified as their
        mtime (as aws s3 sync does); otherwise the next sync would see every such file as
        changed. A file whose mtime predates the run was restored from the metadata."""
        last_modified = {a.key: a.source.mtime for a in plan.transfers if a.source is not None}

        def on_event(event: TransferEvent) -> None:
            target = event.item.destination
            if event.kind == "done" and isinstance(target, LocalPath):
                key = "/".join(Path(target.path).relative_to(self._root).parts)
                stamp = last_modified.get(key)
                if stamp is not None and Path(target.path).stat().st_mtime >= started:
                    os.utime(target.path, (stamp, stamp))
            self._emit(event)

        return on_event

    def run(self, plan: Plan, source: Side, destination: Side) -> SyncResult:
        from s3kit._aio import run_sync

        return run_sync(self.run_async(plan, source, destination))

    async def _delete(self, side: Side, keys: list[str], result: SyncResult) -> None:
        for start in range(0, len(keys), DELETE_BATCH):
            batch = keys[start : start + DELETE_BATCH]
            if isinstance(side, S3Side):
                try:
                    await self.session.storage(side.bucket).delete_many_async(
                        [side.prefix + key for key in batch]
                    )
                except S3KitError as exc:
                    for key in batch:
                        self._deleted(side, key, result, exc)
                    continue
                for key in batch:
                    self._deleted(side, key, result, None)
            elif isinstance(side, LocalSide):
                for key in batch:
                    error = await asyncio.to_thread(_unlink, side, key)
                    self._deleted(side, key, result, error)

    def _deleted(self, side: Side, key: str, result: SyncResult, error: S3KitError | None) -> None:
        location = side.location(key)
        item = TransferItem(location, location)
        if error is None:
            result.deleted += 1
            self._emit(TransferEvent("done", "delete", item))
        else:
            result.failures.append((str(location), error))
            self._emit(TransferEvent("failed", "delete", item, error))


def _unlink(side: LocalSide, key: str) -> S3KitError | None:
    """Delete the file behind `key`, then the folders that deletion left empty (S3 has no
    empty folders either), stopping at the first one that still holds something and never
    touching the sync root."""
    path = Path(side.location(key).path)
    try:
        path.unlink(missing_ok=True)
    except OSError as exc:
        return translate(exc, path=str(path))
    root = side.root.resolve()
    folder = path.parent.resolve()
    while folder != root and folder.is_relative_to(root):
        try:
            folder.rmdir()
        except OSError:  # not empty (or not ours to remove): stop here
            break
        folder = folder.parent
    return None


def _changed(planned: Entry | None, now: Entry | None, *, local: bool) -> bool:
    if planned is None:
        return now is not None
    if now is None or now.size != planned.size:
        return True
    if local:
        return abs(now.mtime - planned.mtime) > 1e-6
    if planned.etag and now.etag:
        return planned.etag.strip('"') != now.etag.strip('"')
    return abs(now.mtime - planned.mtime) > 1.0


async def changes_since_async(
    session: Session, plan: Plan, source: Side, destination: Side, *, concurrency: int = 32
) -> list[str]:
    """What changed since the plan was made, as readable lines (empty: safe to apply).

    A transfer's source must be as planned; a deletion's target must be as planned (or gone)
    and still absent from the source."""
    slots = asyncio.Semaphore(concurrency)
    problems: list[str] = []

    async def check(action: Action) -> None:
        async with slots:
            if action.kind == "delete":
                now_src = await entry_as_seen_async(session, source, action.key)
                if now_src is not None:
                    problems.append(f"{source.location(action.key)} appeared in the source")
                    return
                now = await entry_as_seen_async(session, destination, action.key)
                local = isinstance(destination, LocalSide)
                if now is not None and _changed(action.destination, now, local=local):
                    problems.append(f"{destination.location(action.key)} changed")
                return
            now = await entry_as_seen_async(session, source, action.key)
            if _changed(action.source, now, local=isinstance(source, LocalSide)):
                what = "is gone" if now is None else "changed"
                problems.append(f"{source.location(action.key)} {what}")

    await asyncio.gather(*(check(action) for action in plan.actions))
    return sorted(problems)
