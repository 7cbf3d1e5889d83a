"""Downloading one object to a local file, never leaving a partial file at the destination.

Small objects come in one GET; large ones as parallel ranged GETs, each pinned to the ETag the
download started with (If-Match), so an object overwritten mid-download fails cleanly instead
of mixing two versions. Bytes go to a temporary file in the destination folder (pwrite at each
range's offset), which is checked, fsynced and renamed into place. An interrupted large
download keeps its temporary file and journal; the next run fetches only the missing ranges.

Verification, when the object allows it: the CRC64NVME s3kit stored in the metadata (combined
from the ranges' CRCs, so it costs no extra pass), else a single-part ETag against the MD5.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import obstore

from s3kit.errors import (
    ConflictError,
    EndpointError,
    S3KitError,
    Throttled,
    TransferError,
    translate,
)
from s3kit.observe import logger
from s3kit.storage.local import AtomicFile, temp_name, write_atomic
from s3kit.transfer.checksum import (
    CRC_METADATA_KEY,
    combine_all,
    crc64,
    crc_hex,
    etags_match,
    file_md5_and_crc,
)
from s3kit.transfer.context import SMALL_OBJECT, TransferContext
from s3kit.transfer.journal import JournalEntry, JournalPart
from s3kit.transfer.parts import Part, plan_parts
from s3kit.uri import S3Url

Progress = Callable[[int], None]
SYNC_EVERY = 128 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class DownloadResult:
    size: int
    verified: str  # "crc64nvme", "md5" or "" when the object offers nothing to check against
    resumed_bytes: int = 0


def _plain_md5(etag: str | None) -> str | None:
    """The MD5 in a single-part ETag, or None for multipart or non-MD5 ETags."""
    value = (etag or "").strip('"').lower()
    return value if len(value) == 32 and all(c in "0123456789abcdef" for c in value) else None


def _mtime(metadata: Mapping[str, str]) -> float | None:
    try:
        return float(metadata["mtime"]) if "mtime" in metadata else None
    except ValueError:
        return None


def _check(
    source: S3Url, metadata: Mapping[str, str], etag: str | None, crc: int, md5: str | None
) -> str:
    """Compare what was received with what the object says it is; raise on a mismatch."""
    stored = metadata.get(CRC_METADATA_KEY)
    if stored:
        if stored.lower() != crc_hex(crc):
            raise TransferError(
                f"{source}: content does not match its stored CRC64NVME ({stored} expected,"
                f" {crc_hex(crc)} received); the destination was left untouched"
            )
        return "crc64nvme"
    expected = _plain_md5(etag)
    if expected and md5 is not None:
        if not etags_match(expected, md5):
            raise TransferError(
                f"{source}: content does not match its ETag (MD5 {expected} expected, {md5}"
                " received); the destination was left untouched — if the object is SSE-KMS or"
                " SSE-C encrypted, copy with --no-verify"
            )
        return "md5"
    return ""


async def download_object(
    ctx: TransferContext,
    source: S3Url,
    target: Path,
    progress: Progress,
    *,
    size: int | None = None,
    etag: str | None = None,
) -> DownloadResult:
    if size is None or size >= SMALL_OBJECT:
        info = await ctx.reader(source.bucket).head_async(source.key)
        return await download_version(
            ctx, source, target, progress, size=info.size, etag=info.etag or ""
        )
    return await _download_whole(ctx, source, target, progress, etag)


async def download_version(
    ctx: TransferContext,
    source: S3Url,
    target: Path,
    progress: Progress,
    *,
    size: int,
    etag: str,
) -> DownloadResult:
    """Download the version of `source` that has `etag` (listed earlier, with `size`), never
    another: if the object changes meanwhile, this is a ConflictError and nothing is written.
    Parallel ranges from the multipart threshold up, as `download_object`."""
    if size >= ctx.config.multipart_threshold:
        return await _download_ranged(ctx, source, target, progress, size, etag)
    return await _download_whole(ctx, source, target, progress, etag)


async def _download_whole(
    ctx: TransferContext, source: S3Url, target: Path, progress: Progress, etag: str | None
) -> DownloadResult:
    """One GET, streamed into a temporary file next to the target."""
    storage = ctx.reader(source.bucket)
    options: dict[str, object] = {"if_match": etag} if etag else {}
    result = await storage.guard(
        obstore.get_async(storage.store, source.key, options=options),  # type: ignore[arg-type]
        source.key,
    )
    metadata = dict(result.attributes)
    etag = result.meta.get("e_tag") or etag
    total = int(result.meta["size"])
    verify = ctx.config.verify
    if total < SMALL_OBJECT:
        data = bytes(await storage.guard(result.bytes_async(), source.key))
        await ctx.throttle(len(data))
        crc = crc64(data) if verify else 0
        md5 = hashlib.md5(data, usedforsecurity=False).hexdigest() if verify else None
        verified = _check(source, metadata, etag, crc, md5) if verify else ""
        await asyncio.to_thread(
            write_atomic, target, data, _mtime(metadata), fsync=ctx.config.fsync_small
        )
        progress(len(data))
        return DownloadResult(len(data), verified)
    writer = await asyncio.to_thread(AtomicFile, target)
    try:
        crc = 0
        stream = result.stream(min_chunk_size=SMALL_OBJECT)
        while True:
            try:
                chunk = await storage.guard(stream.__anext__(), source.key)
            except StopAsyncIteration:
                break
            block = bytes(chunk)
            await ctx.throttle(len(block))
            if verify:
                crc = crc64(block, crc)
            await asyncio.to_thread(writer.write, block)
            progress(len(block))
        md5 = writer.md5_hex if verify else None
        verified = _check(source, metadata, etag, crc, md5) if verify else ""
        await asyncio.to_thread(writer.commit, _mtime(metadata))
    except BaseException:
        writer.abort()
        raise
    return DownloadResult(total, verified)


def _temp_path(target: Path, etag: str) -> Path:
    return temp_name(target, hashlib.sha256(etag.encode()).hexdigest()[:12])


async def _download_ranged(
    ctx: TransferContext,
    source: S3Url,
    target: Path,
    progress: Progress,
    size: int,
    etag: str,
) -> DownloadResult:
    if target.is_dir():
        raise translate(IsADirectoryError(21, "is a folder"), path=str(target))
    storage = ctx.reader(source.bucket)
    parts = plan_parts(size, ctx.config.multipart_chunksize)
    local = str(target.resolve())
    entry = ctx.journal.load("download", ctx.endpoint_id, source.bucket, source.key, local)
    temp = _temp_path(target, etag)
    if entry is not None and not (
        entry.object_etag == etag
        and entry.size == size
        and entry.part_size == parts[0].size
        and Path(entry.temp_path) == temp
        and temp.is_file()
        and temp.stat().st_size == size
    ):
        with contextlib.suppress(OSError):
            Path(entry.temp_path).unlink()
        ctx.journal.drop(entry)
        entry = None
    made_dirs = [p for p in (target.parent, *target.parent.parents) if not p.exists()]
    if entry is None:
        entry = JournalEntry(
            kind="download",
            endpoint=ctx.endpoint_id,
            bucket=source.bucket,
            key=source.key,
            local_path=local,
            size=size,
            mtime_ns=0,
            part_size=parts[0].size,
            object_etag=etag,
            temp_path=str(temp),
        )
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            with temp.open("wb") as handle:
                handle.truncate(size)
        except OSError as exc:
            raise translate(exc, path=str(target)) from exc
    resumed = sum(p.size for p in entry.parts.values())
    if resumed:
        progress(resumed)
    ctx.journal.save(entry)
    fd = os.open(temp, os.O_RDWR)

    unsynced = 0

    def write_part(part: Part, data: memoryview) -> int:
        nonlocal unsynced
        if len(data) != part.size:
            raise TransferError(f"{source}: range {part.number} came back short")
        written = 0
        while written < part.size:
            written += os.pwrite(fd, data[written:], part.offset + written)
        crc = crc64(data) if ctx.config.verify else 0
        unsynced += part.size
        if unsynced >= SYNC_EVERY:
            # Start the disk writing while the rest still arrives, so the final fsync is short.
            unsynced = 0
            os.fdatasync(fd)
        return crc

    async def fetch(part: Part) -> None:
        async with ctx.part_slots:
            await ctx.throttle(part.size)
            result = await storage.guard(
                obstore.get_async(
                    storage.store,
                    source.key,
                    options={"range": (part.offset, part.offset + part.size), "if_match": etag},
                ),
                source.key,
            )
            data = memoryview(await storage.guard(result.bytes_async(), source.key))
            crc = await asyncio.to_thread(write_part, part, data)
            entry.parts[part.number] = JournalPart(etag="", md5="", crc=crc, size=part.size)
            ctx.journal.save(entry)
            progress(part.size)

    metadata: dict[str, str] = {}
    try:
        try:
            async with asyncio.TaskGroup() as group:
                head = group.create_task(_metadata(ctx, source, etag))
                for part in parts:
                    if part.number not in entry.parts:
                        group.create_task(fetch(part))
            metadata = head.result()
            await asyncio.to_thread(os.fsync, fd)
        finally:
            os.close(fd)
        verified = ""
        if ctx.config.verify:
            if metadata.get(CRC_METADATA_KEY):
                crc = combine_all((entry.parts[p.number].crc, p.size) for p in parts)
                verified = _check(source, metadata, etag, crc, None)
            elif _plain_md5(etag):
                md5, crc = await asyncio.to_thread(file_md5_and_crc, str(temp))
                verified = _check(source, metadata, etag, crc, md5)
        mtime = _mtime(metadata)
        if mtime is not None:
            os.utime(temp, (mtime, mtime))
        temp.replace(target)
    except BaseException as exc:
        failure = exc
        while isinstance(failure, BaseExceptionGroup) and failure.exceptions:
            failure = failure.exceptions[0]
        if isinstance(
            failure, EndpointError | Throttled | asyncio.CancelledError | KeyboardInterrupt
        ):
            logger.info("download of %s interrupted; the next run resumes it", source)
            if isinstance(failure, S3KitError):
                raise TransferError(
                    f"download of {source} interrupted ({failure}); run the same copy again"
                    " to resume it"
                ) from exc
            raise
        with contextlib.suppress(OSError):
            temp.unlink()
        for folder in made_dirs:
            with contextlib.suppress(OSError):
                folder.rmdir()
        ctx.journal.drop(entry)
        if isinstance(failure, ConflictError):
            raise ConflictError(
                f"{source} changed while it was being downloaded; nothing was written — copy"
                " it again"
            ) from exc
        if isinstance(failure, S3KitError):
            raise failure from exc
        raise
    ctx.journal.drop(entry)
    return DownloadResult(size, verified, resumed_bytes=resumed)


async def _metadata(ctx: TransferContext, source: S3Url, etag: str) -> dict[str, str]:
    """The object's user metadata, from a HEAD pinned to the ETag being downloaded."""
    storage = ctx.reader(source.bucket)
    result = await storage.guard(
        obstore.get_async(storage.store, source.key, options={"head": True, "if_match": etag}),
        source.key,
    )
    return dict(result.attributes)
