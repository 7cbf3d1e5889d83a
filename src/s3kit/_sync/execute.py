"""Act: carry out a sync Plan — transfers through the TransferManager, then deletions in bulk,
then new folders; or, for a streamed sync, transfers alone, each as soon as it is decided.

Deletions come only when every transfer succeeded (as rclone does after I/O errors): a
half-done sync never removes anything. Folders come last, so a local folder that a deletion
emptied and removed is there again when the source has it empty. Progress goes out as
`TransferEvent`s — "queued", "progress", "done", "failed" (and the others the TransferManager
sends) for transfers, "done"/"failed" with action "delete" for deletions and with the plan's
direction for folders — through a callback that cannot break the run. "scanned" says when the
transfers are all known: before the first of a whole plan, at the end of a streamed sync's scan.
Each action's end — done, or failed with its error — also goes to
`on_action`, once, after it happened (a report prints from there); a deletion held back
because a transfer failed never ends, and so is never reported as done.

Every local write and delete goes through `LocalSide.target` (`storage.local.local_target`):
a key no file can have, or a path through a symlink that leads out of the destination, is
refused there and reported as failed (so deletions wait for the next clean run), never
written, renamed or removed.
"""

from __future__ import annotations

import asyncio
import errno
import os
import time
from collections.abc import AsyncIterable, Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from s3kit._aio import run_bounded
from s3kit._mtime import MTIME_KEY, parse_mtime, seconds
from s3kit._observe import logger
from s3kit._session import Session
from s3kit._sync.closer import closer_look_async, needs_closer_look, replace_entry
from s3kit._sync.plan import Action, CompareOptions, Direction, Entry, Plan, compare
from s3kit._sync.scan import LocalSide, S3Side, Side, entry_as_seen_async, folder_as_seen_async
from s3kit._uri import LocalPath, Location
from s3kit.errors import ObjectNotFound, S3KitError, from_code, translate, translating
from s3kit.storage.base import etags_match
from s3kit.transfer import (
    EventCallback,
    TransferConfig,
    TransferEvent,
    TransferItem,
    TransferManager,
    WriteOptions,
    guarded,
)

FOLDER_CONTENT_TYPE = "application/x-directory"

# An action of the plan has ended: its error, or None when it was done.
ActionCallback = Callable[[Action, S3KitError | None], None]


def _harmless(callback: ActionCallback | None) -> ActionCallback:
    """`callback` made unable to break a run, like `guarded` for transfer events."""

    def ended(action: Action, error: S3KitError | None) -> None:
        if callback is None:
            return
        try:
            callback(action, error)
        except Exception:
            logger.exception("action callback failed on %s %s", action.kind, action.key)

    return ended


@dataclass(slots=True)
class SyncResult:
    transferred: int = 0
    bytes: int = 0
    deleted: int = 0
    seconds: float = 0.0
    # Time with a transfer under way: what the transfers cost, which `seconds` does not say
    # for a streamed sync (its transfers wait for the scan now and then).
    transfer_seconds: float = 0.0
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
        on_action: ActionCallback | None = None,
    ) -> None:
        self.session = session
        self.config = config or TransferConfig()
        self.options = options or WriteOptions()
        self._emit = guarded(on_event)
        self._ended = _harmless(on_action)
        self._root = Path()

    async def run_async(self, plan: Plan, source: Side, destination: Side) -> SyncResult:
        """Carry out a whole plan: transfers, then deletions (only when every transfer
        succeeded), then new folders."""
        return await self._timed(lambda result: self._run(plan, source, destination, result))

    async def run_actions_async(
        self,
        actions: AsyncIterable[Action],
        direction: Direction,
        source: Side,
        destination: Side,
    ) -> SyncResult:
        """Carry out transfers as they are decided (a streamed sync): each starts as soon as a
        slot is free, while `actions` is still being produced. Transfers only — deletions and
        new folders wait for a whole plan (`run_async`)."""
        return await self._timed(
            lambda result: self._transfer(actions, direction, source, destination, result)
        )

    async def _timed(self, body: Callable[[SyncResult], Awaitable[None]]) -> SyncResult:
        started = time.monotonic()
        result = SyncResult()
        await body(result)
        result.seconds = time.monotonic() - started
        return result

    async def _run(self, plan: Plan, source: Side, destination: Side, result: SyncResult) -> None:
        transfers = [a for a in plan.transfers if a.kind != "mkdir"]
        if transfers:
            await self._transfer(transfers, plan.direction, source, destination, result)
        deletions = plan.deletions
        if deletions and result.failures:
            result.deletions_skipped = (
                f"{len(deletions)} deletions skipped because {len(result.failures)} transfers"
                " failed; fix those and sync again"
            )
        elif deletions:
            await self._delete(destination, deletions, result)
        await self._bounded(
            self._make_folder(a, plan.direction, source, destination, result) for a in plan.folders
        )

    async def _transfer(
        self,
        actions: AsyncIterable[Action] | Iterable[Action],
        direction: Direction,
        source: Side,
        destination: Side,
        result: SyncResult,
    ) -> None:
        """Hand `actions` to the TransferManager one by one, as they come."""
        self._root = destination.root if isinstance(destination, LocalSide) else Path()
        stamps: dict[str, float] = {}
        # The action behind each item under way, by the item's id (the item is kept with it,
        # so the id stays its own): the TransferManager's events carry the item.
        under_way: dict[int, tuple[TransferItem, Action]] = {}

        def item(action: Action) -> TransferItem:
            if action.kind != direction:
                raise ValueError(f"{action.kind} {action.key}: not a transfer of this sync")
            target: Location = destination.location(action.key)
            refused = None
            if isinstance(destination, LocalSide):
                try:
                    target = LocalPath(destination.target(action.key))
                except S3KitError as exc:
                    refused = exc
            if direction == "download" and action.source is not None and refused is None:
                stamps[action.key] = action.source.mtime
            made = TransferItem(
                source.location(action.key),
                target,
                action.size,
                action.source.etag
                if action.source is not None and isinstance(source, S3Side)
                else None,
                refused=refused,
            )
            under_way[id(made)] = (made, action)
            return made

        items: AsyncIterable[TransferItem] | Iterable[TransferItem]
        if isinstance(actions, AsyncIterable):
            items = (item(a) async for a in actions)
        else:
            items = (item(a) for a in actions)
        forward = self._stamping(stamps, time.time() - 1) if direction == "download" else self._emit
        busy = _BusyTime()
        # A whole plan's total is known before anything moves (a stream's once it ends, which
        # the TransferManager tells): said now, and not again when the manager reaches its end.
        announced = isinstance(actions, Sequence) and bool(actions)
        if announced:
            assert isinstance(actions, Sequence)
            last = actions[-1]
            self._emit(
                TransferEvent(
                    "scanned", direction,
                    TransferItem(source.location(last.key), destination.location(last.key),
                                 last.size),
                    bytes=sum(a.size or 0 for a in actions), files=len(actions),
                )
            )  # fmt: skip

        def on_event(event: TransferEvent) -> None:
            if announced and event.kind == "scanned":
                return
            busy.note(event)
            forward(event)
            if event.kind in ("done", "failed"):
                ended = under_way.pop(id(event.item), None)
                if ended is not None:
                    self._ended(ended[1], event.error)

        manager = TransferManager(
            self.session, config=self.config, options=self.options, on_event=on_event
        )
        summary = await manager.run_items_async(items)
        result.transferred, result.bytes = summary.files, summary.bytes
        result.transfer_seconds = busy.seconds
        result.failures.extend((str(item.source), error) for item, error in summary.failures)

    def _stamping(self, last_modified: dict[str, float], started: float) -> EventCallback:
        """Downloads of objects without s3kit's `mtime` metadata get LastModified as their
        mtime (as aws s3 sync does); otherwise the next sync would see every such file as
        changed. A file whose mtime predates the run was restored from the metadata.
        `last_modified` fills as downloads are queued and empties as they end, so a streamed
        sync keeps only those under way."""

        def on_event(event: TransferEvent) -> None:
            target = event.item.destination
            if event.kind in ("done", "failed") and event.item.refused is None:
                assert isinstance(target, LocalPath)
                key = "/".join(Path(target.path).relative_to(self._root).parts)
                stamp = last_modified.pop(key, None)
                if (
                    event.kind == "done"
                    and stamp is not None
                    and Path(target.path).stat().st_mtime >= started
                ):
                    os.utime(target.path, (stamp, stamp))
            self._emit(event)

        return on_event

    def run(self, plan: Plan, source: Side, destination: Side) -> SyncResult:
        from s3kit._aio import run_sync

        return run_sync(self.run_async(plan, source, destination))

    async def _bounded(self, jobs: Iterable[Awaitable[None]]) -> None:
        await run_bounded(jobs, self.config.max_concurrent_files)

    async def _marker(self, method: Literal["PUT", "DELETE"], side: S3Side, key: str) -> None:
        """Write or delete the folder marker `key` ('a/b/'), a key ending in '/' that
        `S3Storage`'s single-object calls refuse, as a plain signed request."""
        headers: dict[str, str] = {}
        if method == "PUT":
            headers["Content-Type"] = FOLDER_CONTENT_TYPE
            if self.options.encryption is not None:
                headers.update(self.options.encryption.write_headers())
        body = b"" if method == "PUT" else None
        await self.session.http().request_async(
            method, side.bucket, side.prefix + key, headers=headers, body=body
        )

    async def _make_folder(
        self,
        action: Action,
        direction: Direction,
        source: Side,
        destination: Side,
        result: SyncResult,
    ) -> None:
        item = TransferItem(source.location(action.key), destination.location(action.key), 0)
        try:
            if isinstance(destination, S3Side):
                await self._marker("PUT", destination, action.key)
            else:
                path = destination.target(action.key)
                with translating(path=str(path)):
                    await asyncio.to_thread(path.mkdir, parents=True, exist_ok=True)
        except S3KitError as exc:
            result.failures.append((str(item.source), exc))
            self._emit(TransferEvent("failed", direction, item, exc))
            self._ended(action, exc)
            return
        result.transferred += 1
        self._emit(TransferEvent("done", direction, item))
        self._ended(action, None)

    async def _delete(self, side: Side, actions: list[Action], result: SyncResult) -> None:
        if isinstance(side, LocalSide):
            for action in actions:
                outcome = await asyncio.to_thread(_unlink, side, action.key)
                if outcome == "kept":
                    logger.warning(
                        "kept %s: the folder is not empty any more", side.location(action.key)
                    )
                else:
                    self._deleted(side, action, result, outcome)
            return
        objects = [a for a in actions if not a.key.endswith("/")]
        if objects:
            report = await self.session.storage(side.bucket).delete_many_async(
                [side.prefix + a.key for a in objects]
            )
            refused = {f.key: f for f in report.failures}
            for action in objects:
                failure = refused.get(side.prefix + action.key)
                error = None
                if failure is not None:
                    error = from_code(
                        failure.code, None, failure.message, bucket=side.bucket,
                        key=failure.key, endpoint=self.session.endpoint_url,
                    )  # fmt: skip
                self._deleted(side, action, result, error)

        async def delete_marker(action: Action) -> None:
            try:
                await self._marker("DELETE", side, action.key)
            except S3KitError as exc:
                self._deleted(side, action, result, exc)
                return
            self._deleted(side, action, result, None)

        await self._bounded(delete_marker(a) for a in actions if a.key.endswith("/"))

    def _deleted(
        self, side: Side, action: Action, result: SyncResult, error: S3KitError | None
    ) -> None:
        location = side.location(action.key)
        item = TransferItem(location, location)
        if error is None:
            result.deleted += 1
            self._emit(TransferEvent("done", "delete", item))
        else:
            result.failures.append((str(location), error))
            self._emit(TransferEvent("failed", "delete", item, error))
        self._ended(action, error)


class _BusyTime:
    """Adds up the time during which at least one transfer was queued or running."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = 0.0
        self._clock = clock
        self._under_way = 0
        self._since = 0.0

    def note(self, event: TransferEvent) -> None:
        if event.kind == "queued":
            if not self._under_way:
                self._since = self._clock()
            self._under_way += 1
        elif event.kind in ("done", "failed") and self._under_way:
            self._under_way -= 1
            if not self._under_way:
                self.seconds += self._clock() - self._since


def _unlink(side: LocalSide, key: str) -> S3KitError | Literal["kept"] | None:
    """Delete the file behind `key` — for a folder marker ('a/b/'), the folder, "kept" when it
    is not empty any more — then the folders that deletion left empty (S3 has no empty folders
    either), stopping at the first one that still holds something and never touching the sync
    root. Nothing is deleted through a symlink that leads out of the root (`target`)."""
    try:
        path = side.target(key)
    except S3KitError as exc:
        return exc
    try:
        if key.endswith("/"):
            path.rmdir()
        else:
            path.unlink(missing_ok=True)
    except FileNotFoundError:
        pass
    except OSError as exc:
        if key.endswith("/") and exc.errno in (errno.ENOTEMPTY, errno.EEXIST):
            return "kept"
        return translate(exc, path=str(path))
    remove_empty_folders(side.root, path)
    return None


def remove_empty_folders(root: Path, path: Path) -> None:
    """Remove the folders above `path` (as named, not resolved: `path` passed `target`, so
    none leads out of `root`) that are empty now, up to `root` and never `root` itself,
    stopping at the first that holds something. A folder that is a symlink is not removed
    (rmdir refuses it)."""
    folder = path.parent
    while folder != root and folder.is_relative_to(root):
        try:
            folder.rmdir()
        except OSError:  # not empty (or not ours to remove): stop here
            break
        folder = folder.parent


def _changed(planned: Entry | None, now: Entry | None, *, local: bool) -> bool:
    if planned is None:
        return now is not None
    if now is None or now.size != planned.size:
        return True
    if local:
        return abs(now.mtime - planned.mtime) > 1e-6
    if planned.etag and now.etag:
        return not etags_match(planned.etag, now.etag)
    return abs(now.mtime - planned.mtime) > 1.0


@dataclass(slots=True)
class PlanCheck:
    """A plan held against both sides as they are now (`check_plan_async`): what changed since
    it was made (`changed`, readable lines: a plan with any is not to be applied) and which of
    its actions are carried out already (`done`: an upload whose destination matches its
    source, a deletion of what is gone), so that applying a plan twice does nothing twice."""

    changed: list[str] = field(default_factory=list)
    done: list[Action] = field(default_factory=list)

    def remaining(self, plan: Plan) -> Plan:
        """`plan` without the actions already done."""
        done = {id(action) for action in self.done}
        return replace(plan, actions=[a for a in plan.actions if id(a) not in done])


async def check_plan_async(
    session: Session, plan: Plan, source: Side, destination: Side, *, concurrency: int = 32
) -> PlanCheck:
    """Check `plan` against both sides now (see `PlanCheck`).

    A transfer's source must be as planned; it is done when the destination matches that
    source by the rule the sync itself decides by (`compare`, with the closer look a sync would
    take). A deletion's target must be as planned, or gone — then it is done — and still absent
    from the source."""
    result = PlanCheck()

    async def check(action: Action) -> None:
        if action.key.endswith("/"):
            changed, done = await _folder_check(session, action, source, destination)
            result.changed.extend(changed)
            if done:
                result.done.append(action)
            return
        if action.kind == "delete":
            now_src = await entry_as_seen_async(session, source, action.key)
            if now_src is not None:
                result.changed.append(f"{source.location(action.key)} appeared in the source")
                return
            now = await entry_as_seen_async(session, destination, action.key)
            local = isinstance(destination, LocalSide)
            if now is None:
                result.done.append(action)  # already gone: not a deletion to make or report
            elif _changed(action.destination, now, local=local):
                result.changed.append(f"{destination.location(action.key)} changed")
            return
        now = await entry_as_seen_async(session, source, action.key)
        if _changed(action.source, now, local=isinstance(source, LocalSide)):
            what = "is gone" if now is None else "changed"
            result.changed.append(f"{source.location(action.key)} {what}")
        elif await _transferred(session, action, plan.direction, source, destination):
            result.done.append(action)

    await run_bounded((check(action) for action in plan.actions), concurrency)
    result.changed.sort()
    return result


async def changes_since_async(
    session: Session, plan: Plan, source: Side, destination: Side, *, concurrency: int = 32
) -> list[str]:
    """What changed since the plan was made, as readable lines (empty: safe to apply)."""
    checked = await check_plan_async(session, plan, source, destination, concurrency=concurrency)
    return checked.changed


async def _transferred(
    session: Session, action: Action, direction: Direction, source: Side, destination: Side
) -> bool:
    """Whether the destination already holds what `action` (unchanged at the source) would
    copy there: the sync's own comparison finds nothing to transfer, after the closer look it
    would take (a download's stored mtime, `--checksum`'s digests)."""
    planned = action.source
    now = await _seen_with_stored_mtime(session, destination, action.key)
    if planned is None or now is None or now.size != planned.size:
        return False
    if planned.etag and now.etag and etags_match(planned.etag, now.etag):
        return True  # a server-side copy keeps a single-part object's ETag
    options = CompareOptions()
    reason = compare(planned, now, direction, options)
    if reason is not None and needs_closer_look(direction, reason):
        looked_src, looked_dst = await closer_look_async(
            session, planned, now, reason, source, destination
        )
        reason = compare(looked_src or planned, looked_dst or now, direction, options)
    return reason is None


async def _seen_with_stored_mtime(session: Session, side: Side, key: str) -> Entry | None:
    """The entry at `key` now; an object's with the mtime s3kit stored in its metadata, which is
    the uploaded file's own (its LastModified is only the second the upload ended)."""
    if not isinstance(side, S3Side):
        return await entry_as_seen_async(session, side, key)
    try:
        info = await session.storage(side.bucket).head_async(side.prefix + key)
    except ObjectNotFound:
        return None
    seen = replace_entry(key, info)
    stored = parse_mtime(info.metadata.get(MTIME_KEY))
    return seen if stored is None else seen._replace(mtime=seconds(stored), exact_mtime=True)


async def _folder_check(
    session: Session, action: Action, source: Side, destination: Side
) -> tuple[list[str], bool]:
    """The same checks for a folder, and whether it is done: one to create must still be at
    the source (as a marker or through what it holds), and is done when the destination has
    it (the marker, for S3); one to delete must still be absent from it, and as planned here,
    and is done when it is gone."""
    _, at_source = await folder_as_seen_async(session, source, action.key)
    now, present = await folder_as_seen_async(session, destination, action.key)
    there = now is not None if isinstance(destination, S3Side) else present
    if action.kind != "delete":
        return ([] if at_source else [f"{source.location(action.key)} is gone"]), there
    if at_source:
        return [f"{source.location(action.key)} appeared in the source"], False
    local = isinstance(destination, LocalSide)
    if now is not None and _changed(action.destination, now, local=local):
        return [f"{destination.location(action.key)} changed"], False
    return [], not there
