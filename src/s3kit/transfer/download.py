"""Downloading one object to a local file, never leaving a partial file at the destination.

Small objects come in one GET; large ones as parallel ranged GETs, each pinned to the ETag the
download started with (If-Match), so an object overwritten mid-download fails cleanly instead
of mixing two versions. Bytes go to a temporary file in the destination folder (pwrite at each
range's offset), which is checked, fsynced and renamed into place. An interrupted large
download keeps its temporary file and journal, both by absolute path (a rerun from another
folder finds them); the next run fetches only the missing ranges. The caller's `partial`
callback hears of both (`items.Partial`, with the temporary file): what an interruption kept,
and what a run resumes from. A server that answers a ranged GET with 200 (rclone serve s3 does)
gets one streamed, pinned GET of the whole object instead, and no more ranged GETs to that
bucket for the rest of the run.

Verification, in the order of `checksum.expected_checksum`: the CRC64NVME s3kit stored in the
metadata (combined from the ranges' CRCs, so it costs no extra pass), else the object's own
x-amz-checksum-* (whole-object or COMPOSITE), else a single-part ETag against the MD5, else
rclone's md5chksum metadata, else a multipart ETag recomputed from the parts' MD5s. The
x-amz-checksum-* headers only come with `x-amz-checksum-mode: ENABLED`, which every GET and
HEAD here sends; a ranged download learns them (and the metadata) from one HEAD pinned to the
ETag before it plans its ranges, so that a check made part by part runs on ranges that are the
object's parts, as they arrive. An object with nothing to check
against is downloaded, and reported as unverified (`DownloadResult.verified == ""`); a
mismatch fails it with nothing written.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import os
import threading
import xml.etree.ElementTree as ET
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from s3kit._atomic import AtomicFile, replace_file, temp_name, write_atomic
from s3kit._observe import logger
from s3kit._retry import decide
from s3kit._uri import S3Url
from s3kit.errors import (
    ConflictError,
    EndpointError,
    S3KitError,
    Throttled,
    TransferError,
    retry_budget_spent,
    translate,
    translating,
)
from s3kit.storage.base import user_metadata
from s3kit.storage.httpclient import Answer
from s3kit.storage.loopclient import ON_LOOP_LIMIT
from s3kit.transfer.checksum import (
    PART_SIZE_KEY,
    ChecksumComputer,
    Expected,
    combine_all,
    digest_matches,
    expected_checksum,
    file_checksum,
    new_digest,
)
from s3kit.transfer.context import SMALL_OBJECT, TransferContext
from s3kit.transfer.items import Partial, PartialCallback
from s3kit.transfer.journal import JournalEntry, JournalPace, JournalPart
from s3kit.transfer.parts import Part, plan_parts

Progress = Callable[[int], None]
B = TypeVar("B", bytes, memoryview)
SYNC_EVERY = 128 * 1024 * 1024
BY_PART_LIMIT = 64 * 1024 * 1024
_PART_HEADS = 8  # HEADs in flight to learn a composite checksum's part sizes
WRITE_ON_LOOP = 64 * 1024  # small downloads written from the loop itself (`_write_small`)


@dataclass(frozen=True, slots=True)
class DownloadResult:
    size: int
    # The check the bytes passed ("crc64nvme", "crc32", "crc32-composite", "md5", "md5chksum",
    # ... — checksum.Expected.label), or "" when there was nothing to check them against.
    verified: str
    resumed_bytes: int = 0


class _RangesIgnored(Exception):
    """The server answered a ranged GET with the whole object (or a 200 at least)."""


def _mtime(metadata: Mapping[str, str]) -> int | None:
    """The file's own time stored with the object, in nanoseconds (None: none stored)."""
    from s3kit._mtime import MTIME_KEY, parse_mtime

    return parse_mtime(metadata.get(MTIME_KEY))


def _checked(source: S3Url, expected: Expected | None, digest: bytes) -> str:
    """The label of the check `digest` (of what was received) passed; raise on a mismatch."""
    if expected is None:
        return ""
    if digest_matches(expected, digest):
        return expected.label
    hint = (
        " — if the object is SSE-KMS or SSE-C encrypted, copy with --no-verify"
        if expected.label == "md5"
        else ""
    )
    raise TransferError(
        f"{source}: content does not match its {expected.what} ({expected.text} expected,"
        f" {expected.render(digest)} received); the destination was left untouched{hint}"
    )


def _lower(headers: Mapping[str, str]) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()}


def _version(source: S3Url) -> dict[str, str]:
    """The query that names the version `source` asks for (none: the current one)."""
    return {"versionId": source.version_id} if source.version_id else {}


def _read_headers(ctx: TransferContext) -> dict[str, str]:
    return ctx.read_encryption.read_headers() if ctx.read_encryption else {}


async def _get_body(
    ctx: TransferContext,
    source: S3Url,
    headers: Mapping[str, str],
    read: Callable[[Answer], Awaitable[B]],
    *,
    ranged: bool,
    opened: Answer | None = None,
) -> tuple[Mapping[str, str], B]:
    """A GET whose body `read` takes to its end, sent again when the body is cut short, as
    the SDKs do — as the Session's retry policy says and its retry budget allows, like any
    other retry. Cut short every time, it is a TransferError: the server is reachable but
    its answers break (a failing connection to it stays an EndpointError, which keeps a
    ranged download's progress for the next run). `ranged`: anything but 206 is refused.
    `opened`: the first attempt's answer, when the caller has it already."""
    http = ctx.http
    attempt = 0
    while True:
        attempt += 1
        # Not prefetched: a body cut short is told apart here from an unreachable server.
        answer = opened or await http.open_async(
            "GET", source.bucket, source.key, query=_version(source), headers=headers
        )
        opened = None
        with answer:
            if ranged and answer.status != 206:
                raise _RangesIgnored(f"{source}: a ranged GET was answered {answer.status}")
            try:
                return answer.headers, await read(answer)
            except EndpointError as exc:
                failure = exc
        decision = decide(http.retry, http.budget, attempt, "connection")
        if decision.delay is None:
            break
        logger.debug("%s: answer cut short (%s); asking again", source, failure)
        await asyncio.sleep(decision.delay)
    error = TransferError(
        f"{source}: the server's answer was cut short {attempt} times ({failure}); nothing"
        " was written"
    )
    raise retry_budget_spent(error) if decision.budget_spent else error


def _whole(ctx: TransferContext, limit: int) -> Callable[[Answer], Awaitable[bytes]]:
    """A reader for `_get_body`: the body as bytes, at most `limit` of them."""
    return lambda answer: ctx.http.read_async(answer, limit)


def _into(
    ctx: TransferContext, source: S3Url, out: _PartFile, part: Part, algorithm: str | None
) -> Callable[[Answer], Awaitable[bytes]]:
    """A reader for `_get_body`: a range's body written to `out` at the part's offset as it
    arrives, piece by piece on one thread (`S3Http.read_through_async`: no range held in
    memory whole — buffers of 8 MiB per range were most of a 256 MiB download's page faults
    — and each piece hashed while it is in the CPU's cache); the part's digest of
    `algorithm` (b"" for none). An answer longer or shorter than the range is refused; one
    cut short is read again from the range's start."""

    async def read(answer: Answer) -> bytes:
        digest = new_digest(algorithm) if algorithm else None
        got = 0

        def sink(piece: memoryview) -> None:
            nonlocal got
            if got + len(piece) > part.size:
                raise TransferError(f"{source}: range {part.number} came back longer than asked")
            out.write(piece, part.offset + got)
            if digest is not None:
                digest.update(piece)
            got += len(piece)

        await ctx.http.read_through_async(answer, sink)
        if got != part.size:
            raise TransferError(f"{source}: range {part.number} came back short")
        return digest.digest() if digest is not None else b""

    return read


async def _checksum_head(ctx: TransferContext, source: S3Url, etag: str | None) -> dict[str, str]:
    """The object's headers (lower-case) from a HEAD with checksum mode, pinned to `etag`."""
    headers = {"x-amz-checksum-mode": "ENABLED", **_read_headers(ctx)}
    if etag:
        headers["If-Match"] = etag
    response = await ctx.http.request_async(
        "HEAD", source.bucket, source.key, query=_version(source), headers=headers
    )
    return _lower(response.headers)


async def _listed_part_sizes(ctx: TransferContext, source: S3Url) -> list[int] | None:
    """The object's part sizes from GetObjectAttributes, or None where it does not list them
    (moto leaves them out; some servers lack the call)."""
    sizes: list[int] = []
    marker = ""
    while True:
        headers = {"x-amz-object-attributes": "ObjectParts", "x-amz-max-parts": "1000"}
        if marker:
            headers["x-amz-part-number-marker"] = marker
        try:
            response = await ctx.http.request_async(
                "GET",
                source.bucket,
                source.key,
                query={"attributes": "", **_version(source)},
                headers={**headers, **_read_headers(ctx)},
            )
            parts = response.xml().find("ObjectParts")
        except (S3KitError, ET.ParseError):
            return None
        if parts is None:
            return None
        sizes += [int(part.findtext("Size") or -1) for part in parts.findall("Part")]
        if (parts.findtext("IsTruncated") or "").lower() != "true":
            return sizes
        marker = parts.findtext("NextPartNumberMarker") or ""
        if not marker:
            return None


async def _part_sizes(
    ctx: TransferContext, source: S3Url, parts: int, size: int
) -> list[int] | None:
    """The sizes of the object's `parts` parts (GetObjectAttributes, else a HEAD with
    partNumber=N for each), or None when they cannot be had or do not add up to `size`.

    The per-part HEADs are not pinned with If-Match: moto answers them with the part's ETag.
    A change of the object meanwhile shows as a mismatch instead."""
    sizes = await _listed_part_sizes(ctx, source)
    if sizes is None or len(sizes) != parts:
        slots = asyncio.Semaphore(_PART_HEADS)

        async def head(number: int) -> int:
            async with slots:
                response = await ctx.http.request_async(
                    "HEAD",
                    source.bucket,
                    source.key,
                    query={"partNumber": str(number), **_version(source)},
                    headers=_read_headers(ctx),
                )
            return int(_lower(response.headers).get("content-length", -1))

        sizes = list(await asyncio.gather(*(head(n) for n in range(1, parts + 1))))
    return sizes if len(sizes) == parts and sum(sizes) == size else None


def _recorded_part_sizes(metadata: Mapping[str, str], parts: int, size: int) -> list[int] | None:
    """The part sizes an s3kit multipart upload recorded (`s3kit-part-size`: all parts but
    the last), when they add up to `size` in `parts` parts."""
    recorded = metadata.get(PART_SIZE_KEY, "")
    if not recorded.isdigit() or int(recorded) <= 0:
        return None
    part_size = int(recorded)
    last = size - part_size * (parts - 1)
    if not 0 < last <= part_size:
        return None
    return [part_size] * (parts - 1) + [last]


async def _plan_check(
    ctx: TransferContext,
    source: S3Url,
    metadata: Mapping[str, str],
    etag: str | None,
    size: int,
    headers: Mapping[str, str] | None,
) -> tuple[Expected | None, list[int]]:
    """What to check the download against, with the part sizes a composite checksum needs."""
    expected = expected_checksum(metadata, etag, headers)
    if expected is None or not expected.parts:
        return expected, []
    sizes = _recorded_part_sizes(metadata, expected.parts, size)
    if sizes is None:
        sizes = await _part_sizes(ctx, source, expected.parts, size)
    if sizes is not None:
        return expected, sizes
    # The multipart ETag is the last resort: without the part sizes the download is simply
    # unverified (and reported so); a composite checksum the object states is worth a word.
    log = logger.debug if expected.label == "md5-composite" else logger.warning
    log(
        "%s: the sizes of its %d parts cannot be found, so its %s cannot be checked",
        source,
        expected.parts,
        expected.what,
    )
    fallback = expected_checksum(metadata, etag, None)  # no part-wise check
    return (fallback if fallback is not None and not fallback.parts else None), []


async def download_object(
    ctx: TransferContext,
    source: S3Url,
    target: Path,
    progress: Progress,
    *,
    size: int | None = None,
    etag: str | None = None,
    sized: Callable[[int], None] | None = None,
    partial: PartialCallback | None = None,
) -> DownloadResult:
    """Download `source` (listed earlier with `size` and `etag`, or not: then a HEAD learns
    them, and `sized` hears of the size). `partial`: as `download_version`."""
    if size is None or size >= SMALL_OBJECT:
        info = await ctx.reader(source.bucket).head_async(source.key, version_id=source.version_id)
        if size is None and sized is not None:
            sized(info.size)
        return await download_version(
            ctx, source, target, progress, size=info.size, etag=info.etag or "", partial=partial
        )
    return await _download_whole(ctx, source, target, progress, etag, size=size)


async def download_version(
    ctx: TransferContext,
    source: S3Url,
    target: Path,
    progress: Progress,
    *,
    size: int,
    etag: str,
    partial: PartialCallback | None = None,
) -> DownloadResult:
    """Download the version of `source` that has `etag` (listed earlier, with `size`), never
    another: if the object changes meanwhile, this is a ConflictError and nothing is written.
    Parallel ranges from the multipart threshold up, as `download_object`; `partial` hears of
    a ranged download resumed from its temporary file, or kept in it by an interruption."""
    if size >= ctx.config.multipart_threshold and source.bucket not in ctx.unranged_buckets:
        try:
            return await _download_ranged(ctx, source, target, progress, size, etag, partial)
        except _RangesIgnored:
            ctx.unranged_buckets.add(source.bucket)
            logger.warning(
                "s3://%s ignores byte ranges (a ranged GET of %s was answered with 200):"
                " downloading whole objects from it for the rest of this run",
                source.bucket,
                source.key,
            )
    return await _download_whole(ctx, source, target, progress, etag)


async def _download_whole(
    ctx: TransferContext,
    source: S3Url,
    target: Path,
    progress: Progress,
    etag: str | None,
    *,
    size: int | None = None,
) -> DownloadResult:
    """One GET, streamed into a temporary file next to the target (a small object: read
    whole, and asked for again if its answer is cut short). An object listed at `size` up to
    ON_LOOP_LIMIT is read from the event loop itself, with no thread (`S3Http.send_small_async`);
    one found larger than listed is asked for again, streamed."""
    headers = {"x-amz-checksum-mode": "ENABLED", **_read_headers(ctx)}
    if etag:
        headers["If-Match"] = etag
    if ctx.limiter is None and size is not None and size <= ON_LOOP_LIMIT:
        response = await ctx.http.send_small_async(
            "GET", source.bucket, source.key, query=_version(source), headers=headers,
            limit=ON_LOOP_LIMIT,
        )  # fmt: skip
        if response is not None:
            small = _lower(response.headers)
            return await _write_small(ctx, source, target, progress, small, response.body, etag)
    if ctx.limiter is None:
        call = functools.partial(_get_small, ctx, source, target, headers, etag)
        answer, done = await asyncio.get_running_loop().run_in_executor(ctx.http.executor, call)
        if done is not None:
            progress(done.size)
            return done
    else:
        answer = await ctx.http.open_async(
            "GET", source.bucket, source.key, query=_version(source), headers=headers,
            prefetch=SMALL_OBJECT,
        )  # fmt: skip
    with answer:
        answer_headers = _lower(answer.headers)
        total = int(answer_headers.get("content-length") or 0)
        if total < SMALL_OBJECT:
            got, data = await _get_body(
                ctx, source, headers, _whole(ctx, total + 1), ranged=False, opened=answer
            )
            return await _write_small(ctx, source, target, progress, _lower(got), data, etag)
        return await _stream_whole(ctx, source, target, progress, answer, etag)


def _get_small(
    ctx: TransferContext, source: S3Url, target: Path, headers: Mapping[str, str], etag: str | None
) -> tuple[Answer, DownloadResult | None]:
    """On a thread of the signed path: the GET, and for a small object whose check needs no
    further request (all but composite checksums) the check and the write as well — one hop
    to a thread per file instead of two (measured: a third fewer futex calls over 2,000 8 KiB
    files), and the event loop never waits on a file's syscalls. Else (None) the answer is
    the caller's, its body unread."""
    answer = ctx.http.open(
        "GET", source.bucket, source.key, query=_version(source), headers=headers,
        prefetch=SMALL_OBJECT,
    )  # fmt: skip
    try:
        got = _lower(answer.headers)
        total = int(got.get("content-length") or 0)
        if total >= SMALL_OBJECT or not answer.buffered:
            return answer, None
        metadata = user_metadata(got)
        computer = None
        if ctx.config.verify:
            expected = expected_checksum(metadata, got.get("etag") or etag, got)
            if expected is not None and expected.parts:
                return answer, None  # the part sizes may take requests: the loop's path
            computer = ChecksumComputer(expected) if expected is not None else None
        with answer:
            data = answer.read(total + 1)
        return answer, _store_small(ctx, source, target, got, data, metadata, computer)
    except BaseException:
        answer.close()
        raise


async def _check_plan(
    ctx: TransferContext,
    source: S3Url,
    headers: Mapping[str, str],
    etag: str | None,
    total: int,
) -> tuple[dict[str, str], str | None, ChecksumComputer | None]:
    """(metadata, ETag, the checksum to compute) from a GET's (lower-case) headers."""
    metadata = user_metadata(headers)
    etag = headers.get("etag") or etag
    if not ctx.config.verify:
        return metadata, etag, None
    expected, sizes = await _plan_check(ctx, source, metadata, etag, total, headers)
    return metadata, etag, ChecksumComputer(expected, sizes) if expected is not None else None


async def _write_small(
    ctx: TransferContext,
    source: S3Url,
    target: Path,
    progress: Progress,
    headers: Mapping[str, str],
    data: bytes,
    etag: str | None,
) -> DownloadResult:
    total = int(headers.get("content-length") or 0)
    metadata, etag, computer = await _check_plan(ctx, source, headers, etag, total)
    await ctx.throttle(len(data))
    if len(data) <= WRITE_ON_LOOP and not ctx.config.fsync_small:
        # A create, a write and a rename of a few KiB (measured: 90 µs median, 0.3 ms at the
        # 99th percentile on a busy 2-core machine) cost less on the loop than the hand-over
        # to a thread and back; an fsync, which may wait for the disk, never runs there.
        result = _store_small(ctx, source, target, headers, data, metadata, computer)
    else:
        result = await asyncio.to_thread(
            _store_small, ctx, source, target, headers, data, metadata, computer
        )
    progress(len(data))
    return result


def _store_small(
    ctx: TransferContext,
    source: S3Url,
    target: Path,
    headers: Mapping[str, str],
    data: bytes,
    metadata: Mapping[str, str],
    computer: ChecksumComputer | None,
) -> DownloadResult:
    """Check a small object's whole body (with its GET's lower-case `headers`) and write it
    to `target` atomically; blocking."""
    total = int(headers.get("content-length") or 0)
    if len(data) != total:
        raise TransferError(f"{source}: the answer ended after {len(data)} of {total} bytes")
    verified = _checked(source, computer.expected, _digest(computer, data)) if computer else ""
    write_atomic(target, data, _mtime(metadata), fsync=ctx.config.fsync_small)
    return DownloadResult(len(data), verified)


async def _stream_whole(
    ctx: TransferContext,
    source: S3Url,
    target: Path,
    progress: Progress,
    answer: Answer,
    etag: str | None,
) -> DownloadResult:
    headers = _lower(answer.headers)
    total = int(headers.get("content-length") or 0)
    metadata, etag, computer = await _check_plan(ctx, source, headers, etag, total)

    def write(piece: memoryview) -> None:
        if computer is not None:
            computer.update(piece)
        writer.write(piece)

    # No MD5 of what is written: the bytes are checked against the object's own checksum.
    writer = await asyncio.to_thread(functools.partial(AtomicFile, target, md5=False))
    try:
        received = 0
        while True:
            # Written and hashed piece by piece on the thread that reads them
            # (`S3Http.read_through_async`), SMALL_OBJECT at a time between the throttle
            # and the progress reports.
            try:
                got = await ctx.http.read_through_async(answer, write, SMALL_OBJECT)
            except EndpointError as exc:
                raise TransferError(
                    f"{source}: the server's answer was cut short after {received} of {total}"
                    f" bytes ({exc}); nothing was written — copy it again"
                ) from exc
            if not got:
                break
            received += got
            await ctx.throttle(got)
            progress(got)
        if received != total:
            raise TransferError(f"{source}: the answer ended after {received} of {total} bytes")
        verified = _checked(source, computer.expected, computer.digest()) if computer else ""
        await asyncio.to_thread(writer.commit, _mtime(metadata))
    except BaseException:
        writer.abort()
        raise
    return DownloadResult(total, verified)


def _digest(computer: ChecksumComputer, data: bytes) -> bytes:
    computer.update(data)
    return computer.digest()


class _PartFile:
    """A ranged download's temporary file, written at offsets from the threads the ranges are
    read on, and closed only once none of them is writing: the thread of a cancelled range
    may still be reading, and must never write to the descriptor's number once it names
    another file. Starts the disk writing every SYNC_EVERY bytes (fdatasync) while the rest
    still arrives, so that the final fsync is short."""

    def __init__(self, fd: int) -> None:
        self._fd = fd
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._writing = 0
        self._closed = False
        self._unsynced = 0

    def write(self, data: memoryview, offset: int) -> None:
        with self._lock:
            if self._closed:
                raise TransferError("the download was stopped")
            self._writing += 1
            self._unsynced += len(data)
            sync = self._unsynced >= SYNC_EVERY
            if sync:
                self._unsynced = 0
        try:
            written = 0
            while written < len(data):
                written += os.pwrite(self._fd, data[written:], offset + written)
            if sync:
                os.fdatasync(self._fd)
        finally:
            with self._lock:
                self._writing -= 1
                if not self._writing:
                    self._idle.notify_all()

    def fsync(self) -> None:
        os.fsync(self._fd)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            while self._writing:
                self._idle.wait()
        os.close(self._fd)


def _temp_path(target: Path, etag: str) -> Path:
    return temp_name(target, hashlib.sha256(etag.encode()).hexdigest()[:12])


def _uniform(sizes: list[int]) -> bool:
    """Whether parts of these sizes are what `plan_parts` makes: all but the last alike."""
    return bool(sizes) and all(s == sizes[0] for s in sizes[:-1]) and 0 < sizes[-1] <= sizes[0]


async def _ranged_check(
    ctx: TransferContext, source: S3Url, etag: str, size: int
) -> tuple[dict[str, str], Expected | None, list[int]]:
    """The object's metadata and what to check it against (with its part sizes), from a HEAD
    pinned to `etag`, made before the ranges are planned."""
    try:
        headers = await _checksum_head(ctx, source, etag)
    except ConflictError as exc:
        raise ConflictError(
            f"{source} changed while it was being downloaded; nothing was written — copy it again"
        ) from exc
    metadata = user_metadata(headers)
    if not ctx.config.verify:
        return metadata, None, []
    expected, sizes = await _plan_check(ctx, source, metadata, etag, size, headers)
    return metadata, expected, sizes


async def _download_ranged(
    ctx: TransferContext,
    source: S3Url,
    target: Path,
    progress: Progress,
    size: int,
    etag: str,
    partial: PartialCallback | None = None,
) -> DownloadResult:
    if target.is_dir():
        raise translate(IsADirectoryError(21, "is a folder"), path=str(target))
    # By absolute path, so that the journal's temporary file is the same whatever folder a
    # rerun starts in; the name itself stays unresolved (a symlink there is replaced, as by
    # any download, not its target).
    target = target.parent.resolve() / target.name
    metadata, expected, sizes = await _ranged_check(ctx, source, etag, size)
    # A check part by part (a composite checksum, a multipart ETag) is computed on the ranges
    # as they arrive when they are the object's parts; any other check on the whole file.
    # Parts up to 64 MiB (or the configured range size): larger ones make ranges too few to
    # keep the slots busy, each costing that much again when lost to an interruption.
    by_part = (
        expected is not None
        and bool(expected.parts)
        and _uniform(sizes)
        and sizes[0] <= max(ctx.config.multipart_chunksize, BY_PART_LIMIT)
    )
    parts = plan_parts(size, sizes[0] if by_part else ctx.config.multipart_chunksize)
    if by_part and [p.size for p in parts] != sizes:
        by_part, parts = False, plan_parts(size, ctx.config.multipart_chunksize)
    local = str(target.resolve())
    entry = ctx.journal.load("download", ctx.endpoint_id, source.bucket, source.key, local)
    temp = _temp_path(target, etag)
    if entry is not None and not (
        entry.object_etag == etag
        and entry.size == size
        and entry.part_size == parts[0].size
        and Path(entry.temp_path).resolve() == temp.resolve()
        and temp.is_file()
        and temp.stat().st_size == size
    ):
        stale = Path(entry.temp_path)
        if stale.is_absolute():  # a relative one (older journals) says not where it was
            with contextlib.suppress(OSError):
                stale.unlink()
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
        with translating(path=str(target)):
            target.parent.mkdir(parents=True, exist_ok=True)
            with temp.open("wb") as handle:
                handle.truncate(size)
    resumed = sum(p.size for p in entry.parts.values())
    if resumed:
        if partial is not None:
            partial("resumed", Partial(resumed, size, str(temp)))
        progress(resumed)
    ctx.journal.save(entry)
    # Written as the ranges finish at most once a second, and at once when interrupted (below):
    # a process killed outright fetches that much again, no more.
    pace = JournalPace(ctx.journal)
    out = _PartFile(os.open(temp, os.O_RDWR))
    # Each range is hashed as it arrives only for a check that its digests combine into: the
    # parts' own (a composite checksum, a multipart ETag), or the CRC64NVME of the whole.
    whole_crc = expected is not None and expected.algorithm == "crc64nvme" and not expected.parts
    algorithm = expected.algorithm if expected is not None and (by_part or whole_crc) else None

    async def fetch(part: Part) -> None:
        async with ctx.part_slots:
            await ctx.throttle(part.size)
            headers = {
                "Range": f"bytes={part.offset}-{part.offset + part.size - 1}",
                "If-Match": etag,
                **_read_headers(ctx),
            }
            into = _into(ctx, source, out, part, algorithm)
            _, digest = await _get_body(ctx, source, headers, into, ranged=True)
        # `md5` holds a part's digest of a part-wise check's algorithm (an MD5 for a multipart
        # ETag), `crc` its CRC64NVME for a whole-object one (-1: not computed).
        entry.parts[part.number] = JournalPart(
            etag="",
            md5=digest.hex() if by_part else "",
            crc=int.from_bytes(digest, "big") if whole_crc else -1,
            size=part.size,
        )
        pace.part_done(entry)
        progress(part.size)

    try:
        try:
            async with asyncio.TaskGroup() as group:
                for part in parts:
                    if part.number not in entry.parts:
                        group.create_task(fetch(part))
            await asyncio.to_thread(out.fsync)
        finally:
            out.close()
        verified = ""
        if expected is not None:
            digests = [entry.parts[p.number].md5 for p in parts]
            crcs = [entry.parts[p.number].crc for p in parts]
            if whole_crc and all(crc >= 0 for crc in crcs):
                crc = combine_all(zip(crcs, (p.size for p in parts), strict=True))
                digest = crc.to_bytes(8, "big")
            elif by_part and all(digests):  # parts resumed from an older journal have none
                combined = new_digest(expected.algorithm)
                for hexdigest in digests:
                    combined.update(bytes.fromhex(hexdigest))
                digest = combined.digest()
            else:
                computed = await asyncio.to_thread(file_checksum, str(temp), expected, sizes)
                digest = computed.digest()
            verified = _checked(source, expected, digest)
        replace_file(temp, target, mtime_ns=_mtime(metadata), durable=True)
    except BaseException as exc:
        failure = exc
        while isinstance(failure, BaseExceptionGroup) and failure.exceptions:
            failure = failure.exceptions[0]
        if isinstance(
            failure, EndpointError | Throttled | asyncio.CancelledError | KeyboardInterrupt
        ):
            logger.info("download of %s interrupted; the next run resumes it", source)
            pace.flush()
            fetched = sum(p.size for p in entry.parts.values())
            if partial is not None and fetched:
                partial("kept", Partial(fetched, size, str(temp)))
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
        if isinstance(failure, _RangesIgnored):
            raise failure from exc
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
