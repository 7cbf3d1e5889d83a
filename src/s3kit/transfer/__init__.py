"""TransferManager: copies between local files, standard streams and S3, one or many at once.

Walk, decide, act: the source is walked as a stream of entries, `paths` decides where each one
goes, and a bounded pool of asyncio tasks carries the copies out. A failed item is reported
through the event callback and the summary; the others go on. Downloads land through
`AtomicFile`, so a destination never holds a partial file; an object is only deleted by `mv`
after its copy succeeded.
"""

from __future__ import annotations

import asyncio
import mimetypes
import sys
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from s3kit.errors import ObjectNotFound, S3KitError, translate
from s3kit.observe import logger
from s3kit.session import Session
from s3kit.storage.base import ObjectInfo
from s3kit.storage.local import LocalStorage
from s3kit.storage.s3 import S3Storage
from s3kit.transfer.paths import (
    base_name,
    check_pair,
    folder_prefix,
    recursive_destination,
    single_destination,
)
from s3kit.uri import LocalPath, Location, S3Url, StdStream

Action = Literal["upload", "download", "copy", "move", "delete"]
STDIN_CHUNK = 8 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class TransferItem:
    source: Location
    destination: Location
    size: int | None = None
    etag: str | None = None


@dataclass(frozen=True, slots=True)
class TransferEvent:
    kind: Literal["done", "failed", "planned"]
    action: Action
    item: TransferItem
    error: S3KitError | None = None


@dataclass(slots=True)
class TransferSummary:
    files: int = 0
    bytes: int = 0
    seconds: float = 0.0
    failures: list[tuple[TransferItem, S3KitError]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures


EventCallback = Callable[[TransferEvent], None]


def _action(item: TransferItem, move: bool) -> Action:
    if move:
        return "move"
    if isinstance(item.source, S3Url) and isinstance(item.destination, S3Url):
        return "copy"
    return "upload" if isinstance(item.destination, S3Url) else "download"


class TransferManager:
    """Carries out cp/mv. `concurrency` bounds the files in flight at once."""

    def __init__(
        self,
        session: Session,
        *,
        concurrency: int = 16,
        on_event: EventCallback | None = None,
    ) -> None:
        self.session = session
        self.concurrency = max(1, concurrency)
        self._on_event = on_event

    def _emit(self, event: TransferEvent) -> None:
        if self._on_event is None:
            return
        try:
            self._on_event(event)
        except Exception:  # a broken callback must never break a transfer
            logger.exception("transfer event callback failed")

    def _s3(self, bucket: str) -> S3Storage:
        return self.session.storage(bucket)

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
            root = LocalStorage(source.path)
            if not root.root.is_dir():
                raise translate(FileNotFoundError(2, "no such folder"), path=str(source))
            async for entry in root.list_async(""):
                if isinstance(entry, ObjectInfo):
                    yield TransferItem(
                        LocalPath(root.path_for(entry.key)),
                        recursive_destination(entry.key, destination),
                        entry.size,
                    )
        elif isinstance(source, S3Url):
            prefix = folder_prefix(source)
            async for entry in self._s3(prefix.bucket).list_async(prefix.key):
                if isinstance(entry, ObjectInfo) and not entry.key.endswith("/"):
                    relative = entry.key[len(prefix.key) :]
                    yield TransferItem(
                        S3Url(prefix.bucket, entry.key),
                        recursive_destination(relative, destination),
                        entry.size,
                        entry.etag,
                    )

    async def _single_item(self, source: Location, destination: Location) -> TransferItem:
        if isinstance(source, LocalPath):
            try:
                size = source.path.stat().st_size
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
        summary = TransferSummary()
        started = time.monotonic()
        slots = asyncio.Semaphore(self.concurrency)
        tasks: set[asyncio.Task[None]] = set()

        async def one(item: TransferItem) -> None:
            action = _action(item, move)
            try:
                moved = await self._transfer(item)
                if move:
                    await self._delete_source(item.source)
                summary.files += 1
                summary.bytes += moved
                self._emit(TransferEvent("done", action, item))
            except S3KitError as exc:
                summary.failures.append((item, exc))
                self._emit(TransferEvent("failed", action, item, exc))
            finally:
                slots.release()

        try:
            async for item in self.plan_async(source, destination, recursive=recursive):
                if dryrun:
                    summary.files += 1
                    summary.bytes += item.size or 0
                    self._emit(TransferEvent("planned", _action(item, move), item))
                    continue
                await slots.acquire()
                task = asyncio.create_task(one(item))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
        finally:
            if tasks:
                await asyncio.gather(*tasks, return_exceptions=True)
        summary.seconds = time.monotonic() - started
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
    ) -> TransferSummary:
        from s3kit._aio import run_sync

        return run_sync(
            self.run_async(source, destination, recursive=recursive, move=move, dryrun=dryrun)
        )

    async def _transfer(self, item: TransferItem) -> int:
        """Copy one item; returns the bytes moved."""
        source, destination = item.source, item.destination
        if isinstance(source, LocalPath) and isinstance(destination, S3Url):
            return await self._upload_file(source.path, destination)
        if isinstance(source, StdStream) and isinstance(destination, S3Url):
            return await self._upload_stdin(destination)
        if isinstance(source, S3Url) and isinstance(destination, LocalPath):
            return await self._download(source, destination.path, item.etag)
        if isinstance(source, S3Url) and isinstance(destination, StdStream):
            return await self._to_stdout(source)
        if isinstance(source, S3Url) and isinstance(destination, S3Url):
            await self._s3(destination.bucket).copy_async(
                source.key, destination.key, src_bucket=source.bucket
            )
            return item.size or 0
        raise AssertionError(f"unplanned pair {source} → {destination}")  # pragma: no cover

    async def _upload_file(self, path: Path, destination: S3Url) -> int:
        try:
            stat = path.stat()
        except OSError as exc:
            raise translate(exc, path=str(path)) from exc
        content_type, _ = mimetypes.guess_type(path.name)
        await self._s3(destination.bucket).put_async(
            destination.key,
            path,
            content_type=content_type,
            metadata={"mtime": f"{stat.st_mtime:.3f}"},
        )
        return stat.st_size

    async def _upload_stdin(self, destination: S3Url) -> int:
        counted = 0

        async def chunks() -> AsyncIterator[bytes]:
            nonlocal counted
            stream = sys.stdin.buffer
            while True:
                block = await asyncio.to_thread(stream.read, STDIN_CHUNK)
                if not block:
                    return
                counted += len(block)
                yield block

        await self._s3(destination.bucket).put_async(destination.key, chunks())
        return counted

    async def _download(self, source: S3Url, target: Path, etag: str | None) -> int:
        if target.is_dir():
            raise translate(IsADirectoryError(21, "is a folder"), path=str(target))
        storage = self._s3(source.bucket)
        counted = 0

        async def counting() -> AsyncIterator[bytes]:
            nonlocal counted
            async for chunk in storage.stream_async(source.key, if_match=etag):
                counted += len(chunk)
                yield chunk

        await LocalStorage(target.parent).put_async(target.name, counting())
        return counted

    async def _to_stdout(self, source: S3Url) -> int:
        counted = 0
        out = sys.stdout.buffer
        async for chunk in self._s3(source.bucket).stream_async(source.key):
            await asyncio.to_thread(out.write, chunk)
            counted += len(chunk)
        await asyncio.to_thread(out.flush)
        return counted

    async def _delete_source(self, source: Location) -> None:
        if isinstance(source, S3Url):
            await self._s3(source.bucket).delete_async(source.key)
        elif isinstance(source, LocalPath):
            try:
                source.path.unlink()
            except FileNotFoundError:
                raise ObjectNotFound(f"{source} vanished before it could be removed") from None
            except OSError as exc:
                raise translate(exc, path=str(source)) from exc


__all__ = [
    "TransferEvent",
    "TransferItem",
    "TransferManager",
    "TransferSummary",
]
