"""TransferManager: copies between local files, standard streams and S3, one or many at once.

Walk, decide, act: the source is walked as a stream of entries (`plan`: `paths` decides where
each one goes, `filters` whether it goes), and a bounded pool of asyncio tasks carries the copies
out — at most `max_concurrent_files` files, and across them at most `max_concurrent_parts`
parts of large objects, so memory stays bounded whatever the sizes. The walk runs ahead of the
copies by up to `max_backlog` items (rclone's --max-backlog), so that what was found is told apart
from what was copied while the walk goes on. A failed item is reported through the event
callback and the summary; the others go on — except for an error every item would meet (no
such bucket, credentials refused, no permission to write: `stops_the_run`), which is said once:
the run starts nothing more, and the items under way that meet it again are not reported
again. (A HEAD of the bucket before each run would catch only a missing bucket, cost a round
trip before the first byte, and fail for credentials that may write but not list.) An object
is only deleted by `mv` after its copy succeeded.

Events (`TransferEvent`, every kind described there): "queued" when an item is planned (with its
size if known), "sized" when a copy learns a size the plan did not know, "resumed" when it goes
on from what an earlier run kept, "progress" for each chunk of bytes moved, "done" and "failed"
at the end of an item, "interrupted" for each item under way when the run is cancelled (with
what was kept for the next run), "planned" instead of all of those under --dryrun, and
"scanned" once the plan is complete, with its count and bytes: until then a total is only what
was found so far. A callback that raises is logged and ignored: it can never break a transfer.
Each item's end is also an `ItemResult` in the summary.

`upload_folder` and `download_folder` are `cp -r` with a folder on one side: the same plan,
the same rules. Every operation has a blocking form and an `_async` twin.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import time
from collections import deque
from collections.abc import (
    AsyncGenerator,
    AsyncIterable,
    AsyncIterator,
    Callable,
    Iterable,
    Iterator,
)
from dataclasses import dataclass, replace
from pathlib import Path

from s3kit._encryption import Encryption
from s3kit._observe import logger
from s3kit._session import Session
from s3kit._uri import LocalPath, Location, S3Url, StdStream, parse_s3_url
from s3kit.errors import (
    BucketNotFound,
    ConflictError,
    CredentialsError,
    LocalPathError,
    ObjectNotFound,
    PermissionDenied,
    S3KitError,
    UsageError,
    translate,
)
from s3kit.transfer.context import TransferConfig, TransferContext, WriteOptions
from s3kit.transfer.copy import copy_object
from s3kit.transfer.download import download_object
from s3kit.transfer.filters import Filters
from s3kit.transfer.items import (
    Action,
    EventCallback,
    ItemResult,
    Partial,
    PartialCallback,
    TransferEvent,
    TransferItem,
    TransferSummary,
    guarded,
)
from s3kit.transfer.plan import plan_copies
from s3kit.transfer.upload import upload_file, upload_stream

Moved = tuple[int, str | None]  # bytes moved, and for a download the check its bytes passed


@dataclass(frozen=True, slots=True)
class _Reports:
    """Where one copy reports to: its bytes, the size it learned, the work it resumed or kept."""

    progress: Callable[[int], None]
    sized: Callable[[int], None]
    partial: PartialCallback


async def _aiter(
    items: AsyncIterable[TransferItem] | Iterable[TransferItem],
) -> AsyncIterator[TransferItem]:
    if isinstance(items, AsyncIterable):
        async for item in items:
            yield item
    else:
        for item in items:
            yield item


def _s3_location(location: str | S3Url) -> S3Url:
    return location if isinstance(location, S3Url) else parse_s3_url(location)


def _s3_bucket(item: TransferItem) -> str | None:
    """The bucket an item writes to, or else reads from."""
    for side in (item.destination, item.source):
        if isinstance(side, S3Url):
            return side.bucket
    return None


def stops_the_run(error: S3KitError, item: TransferItem, *, anything_done: bool) -> bool:
    """Whether `error`, met by `item`, is one every item of the run would meet, so that the
    run stops at it instead of reporting it once per file (3,000 lines for 3,000 files): no
    such bucket, credentials refused, and — for writes from this machine while nothing has
    gone through yet — no permission to write there. A refused read is that object's own (its
    ACL, its KMS key, its SSE-C key), and a refusal after a success is a policy on part of the
    prefix: the other items go on."""
    if isinstance(error, BucketNotFound | CredentialsError):
        return True
    if isinstance(error, PermissionDenied):
        upload = isinstance(item.source, LocalPath | StdStream) and isinstance(
            item.destination, S3Url
        )
        return upload and not anything_done
    return False


def _stopped_by(error: S3KitError, summary: TransferSummary) -> S3KitError:
    """The error a run that stopped raises: `error`, saying what was done before it."""
    if not summary.files:
        return error
    note = f" ({summary.files} done before it; the rest not attempted)"
    return type(error)(error.message + note).context_of(error)


def _action(item: TransferItem, move: bool) -> Action:
    if move:
        return "move"
    if isinstance(item.source, S3Url) and isinstance(item.destination, S3Url):
        return "copy"
    return "upload" if isinstance(item.destination, S3Url) else "download"


class TransferManager:
    """Carries out cp/mv for one Session: single copies, folders and plans made elsewhere.

    `filters` (include/exclude rules) apply to recursive copies; each folder call may bring its
    own. `concurrency` is a shortcut for `config.max_concurrent_files`.
    """

    def __init__(
        self,
        session: Session,
        *,
        config: TransferConfig | None = None,
        options: WriteOptions | None = None,
        read_encryption: Encryption | None = None,
        filters: Filters | None = None,
        on_event: EventCallback | None = None,
        concurrency: int | None = None,
    ) -> None:
        config = config or TransferConfig()
        if concurrency is not None:
            config = replace(config, max_concurrent_files=concurrency)  # validated there
        self.session = session
        self.config = config
        self.options = options or WriteOptions()
        # None: an SSE-C key in `options` reads too (TransferContext); SSE-S3/KMS need none.
        self.read_encryption = read_encryption
        self.filters = filters or Filters()
        self._emit = guarded(on_event)

    # -- planning --------------------------------------------------------------------------

    def plan_async(
        self,
        source: Location,
        destination: Location,
        *,
        recursive: bool = False,
        filters: Filters | None = None,
    ) -> AsyncGenerator[TransferItem, None]:
        """The copies `cp source destination` means, as a stream (`plan.plan_copies`);
        `filters` default to the manager's."""
        rules = self.filters if filters is None else filters
        return plan_copies(self.session, source, destination, recursive=recursive, filters=rules)

    def plan(
        self,
        source: Location,
        destination: Location,
        *,
        recursive: bool = False,
        filters: Filters | None = None,
    ) -> Iterator[TransferItem]:
        from s3kit._aio import iter_sync

        return iter_sync(self.plan_async(source, destination, recursive=recursive, filters=filters))

    # -- acting ----------------------------------------------------------------------------

    async def run_async(
        self,
        source: Location,
        destination: Location,
        *,
        recursive: bool = False,
        move: bool = False,
        dryrun: bool = False,
        filters: Filters | None = None,
        keep_results: bool = True,
    ) -> TransferSummary:
        """Copy what `cp source destination` means (see `plan_async`). A single copy that
        fails raises its error; a recursive one reports each failure in the summary and goes
        on, raising only when it cannot start (no such folder or bucket) or cannot go on (an
        error every item would meet: `stops_the_run`)."""
        # Closed here, whatever happens (Ctrl-C included), so the walk stops with the run:
        # left to asyncio's shutdown, its nested generators are closed all at once, and clash.
        async with contextlib.aclosing(
            self.plan_async(source, destination, recursive=recursive, filters=filters)
        ) as plan:
            summary = await self.run_items_async(
                plan, move=move, dryrun=dryrun, keep_results=keep_results, raise_shared=True
            )
        if not recursive and summary.failures:
            raise summary.failures[0][1]
        return summary

    def run(
        self,
        source: Location,
        destination: Location,
        *,
        recursive: bool = False,
        move: bool = False,
        dryrun: bool = False,
        filters: Filters | None = None,
        keep_results: bool = True,
    ) -> TransferSummary:
        from s3kit._aio import run_sync

        return run_sync(
            self.run_async(
                source, destination, recursive=recursive, move=move, dryrun=dryrun,
                filters=filters, keep_results=keep_results,
            )
        )  # fmt: skip

    async def upload_folder_async(
        self,
        folder: str | os.PathLike[str],
        destination: str | S3Url,
        *,
        filters: Filters | None = None,
        move: bool = False,
        dryrun: bool = False,
        keep_results: bool = True,
    ) -> TransferSummary:
        """Upload every file under `folder` to `destination` ("s3://bucket/prefix/"), each
        under its path relative to the folder: `cp -r folder destination`, same plan, same
        rules. Raises LocalPathError if `folder` is not a folder; every other failure is an
        item of the summary."""
        return await self.run_async(
            LocalPath(Path(folder), as_folder=True), _s3_location(destination),
            recursive=True, move=move, dryrun=dryrun, filters=filters, keep_results=keep_results,
        )  # fmt: skip

    def upload_folder(
        self,
        folder: str | os.PathLike[str],
        destination: str | S3Url,
        *,
        filters: Filters | None = None,
        move: bool = False,
        dryrun: bool = False,
        keep_results: bool = True,
    ) -> TransferSummary:
        from s3kit._aio import run_sync

        return run_sync(
            self.upload_folder_async(
                folder, destination, filters=filters, move=move, dryrun=dryrun,
                keep_results=keep_results,
            )
        )  # fmt: skip

    async def download_folder_async(
        self,
        source: str | S3Url,
        folder: str | os.PathLike[str],
        *,
        filters: Filters | None = None,
        move: bool = False,
        dryrun: bool = False,
        keep_results: bool = True,
    ) -> TransferSummary:
        """Download every object under `source` ("s3://bucket/prefix/"; a key without the
        trailing '/' means that prefix too) into `folder`, each under its key relative to the
        prefix: `cp -r source folder`, same plan, same rules — a key no local file may have is
        a failed item, never a file written elsewhere. Raises when the listing cannot start
        (no such bucket); every other failure is an item of the summary."""
        return await self.run_async(
            _s3_location(source), LocalPath(Path(folder), as_folder=True),
            recursive=True, move=move, dryrun=dryrun, filters=filters, keep_results=keep_results,
        )  # fmt: skip

    def download_folder(
        self,
        source: str | S3Url,
        folder: str | os.PathLike[str],
        *,
        filters: Filters | None = None,
        move: bool = False,
        dryrun: bool = False,
        keep_results: bool = True,
    ) -> TransferSummary:
        from s3kit._aio import run_sync

        return run_sync(
            self.download_folder_async(
                source, folder, filters=filters, move=move, dryrun=dryrun,
                keep_results=keep_results,
            )
        )  # fmt: skip

    async def run_items_async(
        self,
        items: AsyncIterable[TransferItem] | Iterable[TransferItem],
        *,
        move: bool = False,
        dryrun: bool = False,
        keep_results: bool = False,
        raise_shared: bool = False,
    ) -> TransferSummary:
        """Carry out `items` (a plan made elsewhere, e.g. by sync); failures are collected in
        the summary, never raised.

        `keep_results` lists every item's `ItemResult` in the summary. It is off here, unlike
        the folder and cp calls: the plans given here (a sync's) may be streams of millions of
        items, which the summary would otherwise hold all at once; the counters and failures
        are kept either way.

        An error every item would meet (`stops_the_run`) stops the run: nothing more is
        started, it is the summary's `stopped`, and it is reported once — as the failure of the
        item that met it first, or, with `raise_shared`, raised once the items under way have
        ended (the item then has no "failed" event: the error is the run's, not the item's).
        Items under way that meet it too are not reported again."""
        summary = TransferSummary()
        started = time.monotonic()
        ctx = TransferContext(self.session, self.config, self.options, self.read_encryption)
        accelerated: dict[str, TransferContext | None] = {}
        limit = self.config.max_concurrent_files
        backlog = self.config.max_backlog
        waiting: deque[TransferItem] = deque()  # found, not started: at most `backlog`
        running: set[asyncio.Task[None]] = set()
        room = asyncio.Event()  # set when the backlog has room for more
        stop: S3KitError | None = None

        def fail(result: ItemResult) -> None:
            nonlocal stop
            assert result.error is not None
            if stops_the_run(result.error, result.item, anything_done=summary.files > 0):
                if stop is not None:
                    return  # the cause the run stopped at, met again: said once already
                stop = summary.stopped = result.error
                waiting.clear()
                if raise_shared:
                    return
            finish(result)

        def finish(result: ItemResult) -> None:
            summary.add(result, keep=keep_results)
            done = result.outcome == "done"
            self._emit(
                TransferEvent(
                    result.outcome, result.action, result.item, result.error,
                    bytes=result.bytes if done else 0, verified=result.verified,
                    partial=result.partial,
                )
            )  # fmt: skip

        async def one(item: TransferItem) -> None:
            action = _action(item, move)
            kept: Partial | None = None

            def partial(state: str, work: Partial) -> None:
                nonlocal kept
                if state == "resumed":
                    self._emit(
                        TransferEvent("resumed", action, item, bytes=work.done, partial=work)
                    )
                else:
                    kept = work

            reports = _Reports(
                progress=lambda amount: self._emit(
                    TransferEvent("progress", action, item, bytes=amount)
                ),
                sized=lambda size: self._emit(TransferEvent("sized", action, item, bytes=size)),
                partial=partial,
            )
            moved = 0
            try:
                moved, verified = await self._transfer_maybe_accelerated(
                    ctx, accelerated, item, reports
                )
                if move:
                    await self._delete_source(item.source)
                finish(ItemResult(item, action, "done", moved, verified))
            except S3KitError as exc:
                fail(ItemResult(item, action, "failed", moved, error=exc, partial=kept))
            except asyncio.CancelledError:
                done = kept.done if kept is not None else 0
                self._emit(TransferEvent("interrupted", action, item, bytes=done, partial=kept))
                raise
            except Exception as exc:
                # An untranslated error (an OSError at the final rename, say) would vanish with
                # its task, and the run would report success with nothing copied.
                logger.debug("%s → %s failed", item.source, item.destination, exc_info=True)
                error = translate(exc, path=str(item.destination))
                fail(ItemResult(item, action, "failed", moved, error=error, partial=kept))

        def start_waiting() -> None:
            while waiting and len(running) < limit and stop is None:
                task = asyncio.create_task(one(waiting.popleft()))
                running.add(task)
                task.add_done_callback(ended)
            if len(waiting) < backlog:
                room.set()

        def ended(task: asyncio.Task[None]) -> None:
            running.discard(task)
            start_waiting()  # from here, not from the walk: a slow walk never idles a slot

        found, found_bytes = 0, 0
        last: TransferItem | None = None
        try:
            async for item in _aiter(items):
                if stop is not None:
                    break  # the rest would meet it too: not read, not attempted
                action = _action(item, move)
                found, found_bytes, last = found + 1, found_bytes + (item.size or 0), item
                if item.refused is not None:
                    finish(ItemResult(item, action, "failed", error=item.refused))
                    continue
                if dryrun:
                    finish(ItemResult(item, action, "planned", item.size or 0))
                    continue
                self._emit(TransferEvent("queued", action, item, bytes=item.size or 0))
                waiting.append(item)
                start_waiting()
                if len(waiting) >= backlog:
                    room.clear()
                    await room.wait()
            if last is not None and stop is None:
                self._emit(
                    TransferEvent(
                        "scanned", _action(last, move), last, bytes=found_bytes, files=found
                    )
                )
            while running:
                await asyncio.wait(set(running))
        except asyncio.CancelledError:
            # Ctrl-C: stop what is under way now (each says what it kept), start nothing more.
            waiting.clear()
            for task in running:
                task.cancel()
            raise
        finally:
            waiting.clear()
            # A plan that failed part-way (a listing cut off) lets the copies under way end.
            while running:
                await asyncio.gather(*running, return_exceptions=True)
            ctx.close()
            for fast in accelerated.values():
                if fast is not None:
                    fast.close()
        summary.seconds = time.monotonic() - started
        if raise_shared and stop is not None:
            raise _stopped_by(stop, summary)
        return summary

    def run_items(
        self,
        items: Iterable[TransferItem],
        *,
        move: bool = False,
        dryrun: bool = False,
        keep_results: bool = False,
    ) -> TransferSummary:
        from s3kit._aio import run_sync

        return run_sync(
            self.run_items_async(items, move=move, dryrun=dryrun, keep_results=keep_results)
        )

    async def _transfer_maybe_accelerated(
        self,
        ctx: TransferContext,
        accelerated: dict[str, TransferContext | None],
        item: TransferItem,
        reports: _Reports,
    ) -> Moved:
        """With `accelerate`, go through the bucket's accelerate endpoint; where that fails
        (acceleration not enabled, endpoint unreachable), use the normal endpoint for this
        item and every later one in that bucket."""
        bucket = _s3_bucket(item)
        if not self.config.accelerate or bucket is None:
            return await self._transfer(ctx, item, reports)
        if bucket not in accelerated:
            accelerated[bucket] = self._accelerated_context(bucket)
        fast = accelerated[bucket]
        if fast is None:
            return await self._transfer(ctx, item, reports)
        try:
            return await self._transfer(fast, item, reports)
        except (ObjectNotFound, LocalPathError, UsageError, ConflictError):
            raise
        except S3KitError as exc:
            logger.warning(
                "transfer acceleration failed for s3://%s (%s); using the normal endpoint",
                bucket,
                exc,
            )
            accelerated[bucket] = None
            return await self._transfer(ctx, item, reports)

    def _accelerated_context(self, bucket: str) -> TransferContext:
        template = self.config.accelerate_endpoint
        creds = self.session.credentials()
        settings = self.session.settings
        fast = Session(
            endpoint_url=template.format(bucket=bucket),
            region=settings.region,
            access_key_id=creds.access_key_id,
            secret_access_key=creds.secret_access_key,
            session_token=creds.session_token,
            addressing_style="virtual" if "{bucket}" in template else "path",
            max_retries=settings.max_retries,
            retry_budget=settings.retry_budget,
            connect_timeout=settings.connect_timeout,
            read_timeout=settings.read_timeout,
            verify_ssl=settings.verify_ssl,
            ca_bundle=settings.ca_bundle,
            env={},
            events=self.session.events,  # its requests reach the caller's subscribers too
        )
        return TransferContext(fast, self.config, self.options, self.read_encryption)

    async def _transfer(self, ctx: TransferContext, item: TransferItem, reports: _Reports) -> Moved:
        """Copy one item; returns the bytes moved (and a download's check)."""
        source, destination = item.source, item.destination
        progress = reports.progress
        if isinstance(source, LocalPath) and isinstance(destination, S3Url):
            uploaded = await upload_file(
                ctx, source.path, destination, progress, size=item.size, partial=reports.partial
            )
            return uploaded.size, None
        if isinstance(source, StdStream) and isinstance(destination, S3Url):
            return await self._upload_stdin(ctx, destination, progress), None
        if isinstance(source, S3Url) and isinstance(destination, LocalPath):
            result = await download_object(
                ctx, source, destination.path, progress, size=item.size, etag=item.etag,
                sized=reports.sized, partial=reports.partial,
            )  # fmt: skip
            return result.size, result.verified
        if isinstance(source, S3Url) and isinstance(destination, StdStream):
            return await self._to_stdout(ctx, source, progress), None
        if isinstance(source, S3Url) and isinstance(destination, S3Url):
            copied = await copy_object(
                ctx, source, destination, progress, size=item.size, etag=item.etag,
                sized=reports.sized,
            )  # fmt: skip
            return copied.size, None
        raise AssertionError(f"unplanned pair {source} → {destination}")  # pragma: no cover

    async def _upload_stdin(
        self, ctx: TransferContext, destination: S3Url, progress: Callable[[int], None]
    ) -> int:
        result = await upload_stream(ctx, sys.stdin.buffer.read, destination, progress)
        return result.size

    async def _to_stdout(
        self, ctx: TransferContext, source: S3Url, progress: Callable[[int], None]
    ) -> int:
        counted = 0
        out = sys.stdout.buffer
        async for chunk in ctx.reader(source.bucket).stream_async(source.key):
            await ctx.throttle(len(chunk))
            await asyncio.to_thread(out.write, chunk)
            counted += len(chunk)
            progress(len(chunk))
        await asyncio.to_thread(out.flush)
        return counted

    async def _delete_source(self, source: Location) -> None:
        if isinstance(source, S3Url):
            await self.session.storage(source.bucket).delete_async(source.key)
        elif isinstance(source, LocalPath):
            try:
                Path(source.path).unlink()
            except FileNotFoundError:
                raise ObjectNotFound(f"{source} vanished before it could be removed") from None
            except OSError as exc:
                raise translate(exc, path=str(source)) from exc
