"""TransferManager: copies between local files, standard streams and S3, one or many at once.

Walk, decide, act: the source is walked as a stream of entries, `paths` decides where each one
goes (and `filters` whether it goes), and a bounded pool of asyncio tasks carries the copies
out — at most `max_concurrent_files` files, and across them at most `max_concurrent_parts`
parts of large objects, so memory stays bounded whatever the sizes. A failed item is reported
through the event callback and the summary; the others go on. An object is only deleted by
`mv` after its copy succeeded.

Events (`TransferEvent`): "queued" when an item is planned (with its size if known),
"progress" for each chunk of bytes moved, "done" and "failed" at the end of an item, and
"planned" instead of all of those under --dryrun. A callback that raises is logged and
ignored: it can never break a transfer.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from s3kit.encryption import Encryption
from s3kit.errors import (
    ConflictError,
    LocalPathError,
    ObjectNotFound,
    S3KitError,
    UsageError,
    translate,
)
from s3kit.observe import logger
from s3kit.session import Session
from s3kit.storage.base import ObjectInfo
from s3kit.storage.local import stream_in_thread, walk_folder
from s3kit.transfer.context import TransferConfig, TransferContext, WriteOptions
from s3kit.transfer.copy import copy_object
from s3kit.transfer.download import download_object
from s3kit.transfer.filters import Filters
from s3kit.transfer.paths import (
    base_name,
    check_pair,
    folder_prefix,
    recursive_destination,
    single_destination,
)
from s3kit.transfer.upload import upload_file, upload_stream
from s3kit.uri import LocalPath, Location, S3Url, StdStream

Action = Literal["upload", "download", "copy", "move", "delete"]


@dataclass(frozen=True, slots=True)
class TransferItem:
    source: Location
    destination: Location
    size: int | None = None
    etag: str | None = None
    # Why the item must not be carried out (a key no local file can have, a destination
    # through a symlink out of the folder): reported as failed, and nothing is touched.
    refused: S3KitError | None = None


@dataclass(frozen=True, slots=True)
class TransferEvent:
    kind: Literal["queued", "progress", "done", "failed", "planned"]
    action: Action
    item: TransferItem
    error: S3KitError | None = None
    bytes: int = 0
    # "done" downloads: the check the bytes passed (DownloadResult.verified), "" if none could
    # be made; None for every other event and item.
    verified: str | None = None


@dataclass(slots=True)
class TransferSummary:
    files: int = 0
    bytes: int = 0
    seconds: float = 0.0
    failures: list[tuple[TransferItem, S3KitError]] = field(default_factory=list)
    unverified: int = 0  # downloads with nothing to check their bytes against

    @property
    def ok(self) -> bool:
        return not self.failures


EventCallback = Callable[[TransferEvent], None]
Moved = tuple[int, str | None]  # bytes moved, and for a download the check its bytes passed


def guarded(callback: EventCallback | None) -> EventCallback:
    """`callback` made harmless: what it raises is logged, never propagated — a broken
    progress display or audit log must not break a transfer or a sync."""

    def emit(event: TransferEvent) -> None:
        if callback is None:
            return
        try:
            callback(event)
        except Exception:
            logger.exception("event callback failed on %s %s", event.kind, event.action)

    return emit


async def _aiter(
    items: AsyncIterable[TransferItem] | Iterable[TransferItem],
) -> AsyncIterator[TransferItem]:
    if isinstance(items, AsyncIterable):
        async for item in items:
            yield item
    else:
        for item in items:
            yield item


def _s3_bucket(item: TransferItem) -> str | None:
    """The bucket an item writes to, or else reads from."""
    for side in (item.destination, item.source):
        if isinstance(side, S3Url):
            return side.bucket
    return None


def _action(item: TransferItem, move: bool) -> Action:
    if move:
        return "move"
    if isinstance(item.source, S3Url) and isinstance(item.destination, S3Url):
        return "copy"
    return "upload" if isinstance(item.destination, S3Url) else "download"


class TransferManager:
    """Carries out cp/mv for one Session."""

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
            from dataclasses import replace

            config = replace(config, max_concurrent_files=max(1, concurrency))
        self.session = session
        self.config = config
        self.options = options or WriteOptions()
        self.read_encryption = read_encryption
        self.filters = filters or Filters()
        self._emit = guarded(on_event)

    # -- planning --------------------------------------------------------------------------

    async def plan_async(
        self, source: Location, destination: Location, *, recursive: bool = False
    ) -> AsyncIterator[TransferItem]:
        """The copies `cp source destination` means, as a stream."""
        check_pair(source, destination, recursive=recursive)
        if not recursive:
            yield await self._single_item(source, destination)
            return
        if isinstance(source, LocalPath):
            root = Path(source.path)
            if not root.is_dir():
                raise translate(FileNotFoundError(2, "no such folder"), path=str(source))
            complete = True

            def walk(found: Callable[[tuple[str, int]], None]) -> None:
                # The walk sync uses: links inside the source followed (as `aws s3 cp` follows
                # links), loops and links out of it skipped with a warning.
                nonlocal complete
                complete = walk_folder(
                    root, lambda rel, info: found((rel, info.st_size)), follow_symlinks=True
                )

            files = stream_in_thread(walk, batch_size=100)
            async with contextlib.aclosing(files):
                async for relative, size in files:
                    if self.filters.accepts(relative):
                        yield TransferItem(
                            LocalPath(root.joinpath(*relative.split("/"))),
                            recursive_destination(relative, destination),
                            size,
                        )
            if not complete:
                unread = LocalPathError(
                    f"{root}: some folders could not be read (see the warnings); what they"
                    " hold was not copied"
                )
                yield TransferItem(source, destination, refused=unread)
        elif isinstance(source, S3Url):
            prefix = folder_prefix(source)
            storage = self.session.storage(prefix.bucket)
            async for entry in storage.list_async(prefix.key):
                if not isinstance(entry, ObjectInfo) or entry.key.endswith("/"):
                    continue
                relative = entry.key[len(prefix.key) :]
                if not self.filters.accepts(relative):
                    continue
                here = S3Url(prefix.bucket, entry.key)
                try:
                    there = recursive_destination(relative, destination)
                except S3KitError as exc:  # no local file may have that name, or be there
                    yield TransferItem(here, destination, entry.size, entry.etag, refused=exc)
                    continue
                yield TransferItem(here, there, entry.size, entry.etag)

    async def _single_item(self, source: Location, destination: Location) -> TransferItem:
        if isinstance(source, LocalPath):
            try:
                size: int | None = source.path.stat().st_size
            except OSError as exc:
                raise translate(exc, path=str(source)) from exc
            name = source.path.name
        elif isinstance(source, S3Url):
            size, name = None, base_name(source.key)
        else:
            size, name = None, ""
        dest_is_dir = isinstance(destination, LocalPath) and destination.path.is_dir()
        return TransferItem(
            source, single_destination(name, destination, dest_is_dir=dest_is_dir), size
        )

    # -- acting ----------------------------------------------------------------------------

    async def run_async(
        self,
        source: Location,
        destination: Location,
        *,
        recursive: bool = False,
        move: bool = False,
        dryrun: bool = False,
    ) -> TransferSummary:
        """Copy what `cp source destination` means (see `plan_async`)."""
        summary = await self.run_items_async(
            self.plan_async(source, destination, recursive=recursive), move=move, dryrun=dryrun
        )
        if not recursive and summary.failures:
            raise summary.failures[0][1]
        return summary

    async def run_items_async(
        self,
        items: AsyncIterable[TransferItem] | Iterable[TransferItem],
        *,
        move: bool = False,
        dryrun: bool = False,
    ) -> TransferSummary:
        """Carry out `items` (a plan made elsewhere, e.g. by sync); failures are collected in
        the summary, never raised."""
        summary = TransferSummary()
        started = time.monotonic()
        ctx = TransferContext(self.session, self.config, self.options, self.read_encryption)
        accelerated: dict[str, TransferContext | None] = {}
        slots = asyncio.Semaphore(self.config.max_concurrent_files)
        tasks: set[asyncio.Task[None]] = set()

        async def one(item: TransferItem) -> None:
            action = _action(item, move)

            def progress(amount: int) -> None:
                self._emit(TransferEvent("progress", action, item, bytes=amount))

            try:
                moved, verified = await self._transfer_maybe_accelerated(
                    ctx, accelerated, item, progress
                )
                if move:
                    await self._delete_source(item.source)
                summary.files += 1
                summary.bytes += moved
                if verified == "":
                    summary.unverified += 1
                self._emit(TransferEvent("done", action, item, bytes=moved, verified=verified))
            except S3KitError as exc:
                summary.failures.append((item, exc))
                self._emit(TransferEvent("failed", action, item, exc))
            except Exception as exc:
                # An untranslated error (an OSError at the final rename, say) would vanish with
                # its task, and the run would report success with nothing copied.
                logger.debug("%s → %s failed", item.source, item.destination, exc_info=True)
                error = translate(exc, path=str(item.destination))
                summary.failures.append((item, error))
                self._emit(TransferEvent("failed", action, item, error))
            finally:
                slots.release()

        try:
            async for item in _aiter(items):
                if item.refused is not None:
                    summary.failures.append((item, item.refused))
                    self._emit(TransferEvent("failed", _action(item, move), item, item.refused))
                    continue
                if dryrun:
                    summary.files += 1
                    summary.bytes += item.size or 0
                    self._emit(TransferEvent("planned", _action(item, move), item))
                    continue
                self._emit(TransferEvent("queued", _action(item, move), item, bytes=item.size or 0))
                await slots.acquire()
                task = asyncio.create_task(one(item))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
        finally:
            if tasks:
                await asyncio.gather(*tasks, return_exceptions=True)
            ctx.close()
            for fast in accelerated.values():
                if fast is not None:
                    fast.close()
        summary.seconds = time.monotonic() - started
        return summary

    def run(
        self,
        source: Location,
        destination: Location,
        *,
        recursive: bool = False,
        move: bool = False,
        dryrun: bool = False,
    ) -> TransferSummary:
        from s3kit._aio import run_sync

        return run_sync(
            self.run_async(source, destination, recursive=recursive, move=move, dryrun=dryrun)
        )

    async def _transfer_maybe_accelerated(
        self,
        ctx: TransferContext,
        accelerated: dict[str, TransferContext | None],
        item: TransferItem,
        progress: Callable[[int], None],
    ) -> Moved:
        """With `accelerate`, go through the bucket's accelerate endpoint; where that fails
        (acceleration not enabled, endpoint unreachable), use the normal endpoint for this
        item and every later one in that bucket."""
        bucket = _s3_bucket(item)
        if not self.config.accelerate or bucket is None:
            return await self._transfer(ctx, item, progress)
        if bucket not in accelerated:
            accelerated[bucket] = self._accelerated_context(bucket)
        fast = accelerated[bucket]
        if fast is None:
            return await self._transfer(ctx, item, progress)
        try:
            return await self._transfer(fast, item, progress)
        except (ObjectNotFound, LocalPathError, UsageError, ConflictError):
            raise
        except S3KitError as exc:
            logger.warning(
                "transfer acceleration failed for s3://%s (%s); using the normal endpoint",
                bucket,
                exc,
            )
            accelerated[bucket] = None
            return await self._transfer(ctx, item, progress)

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
            connect_timeout=settings.connect_timeout,
            read_timeout=settings.read_timeout,
            verify_ssl=settings.verify_ssl,
            ca_bundle=settings.ca_bundle,
            env={},
        )
        return TransferContext(fast, self.config, self.options, self.read_encryption)

    async def _transfer(
        self, ctx: TransferContext, item: TransferItem, progress: Callable[[int], None]
    ) -> Moved:
        """Copy one item; returns the bytes moved (and a download's check)."""
        source, destination = item.source, item.destination
        if isinstance(source, LocalPath) and isinstance(destination, S3Url):
            uploaded = await upload_file(ctx, source.path, destination, progress, size=item.size)
            return uploaded.size, None
        if isinstance(source, StdStream) and isinstance(destination, S3Url):
            return await self._upload_stdin(ctx, destination, progress), None
        if isinstance(source, S3Url) and isinstance(destination, LocalPath):
            result = await download_object(
                ctx, source, destination.path, progress, size=item.size, etag=item.etag
            )
            return result.size, result.verified
        if isinstance(source, S3Url) and isinstance(destination, StdStream):
            return await self._to_stdout(ctx, source, progress), None
        if isinstance(source, S3Url) and isinstance(destination, S3Url):
            copied = await copy_object(
                ctx, source, destination, progress, size=item.size, etag=item.etag
            )
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


__all__ = [
    "Filters",
    "TransferConfig",
    "TransferEvent",
    "TransferItem",
    "TransferManager",
    "TransferSummary",
    "WriteOptions",
    "guarded",
]
