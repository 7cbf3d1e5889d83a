"""Uploading one local file: a single PUT below the multipart threshold, parallel parts above.

Integrity: a single PUT goes with Content-MD5 (the server refuses a damaged body) and records
the file's CRC64NVME in the object metadata. A multipart upload asks for S3's own full-object
CRC64NVME: every part goes with Content-MD5 and its CRC64NVME, read once from the file, and
CompleteMultipartUpload carries the CRC of the whole, combined from the parts', which AWS S3
and SeaweedFS check before they assemble anything; downloads read it back (checksum mode).
So no part waits for a pass over the whole file. The part size is kept in the metadata
(`s3kit-part-size`), so that where a store keeps no such checksum (rclone serve s3, Ceph RGW
16) a download can check the multipart ETag, recomputed from the parts' MD5s. A store that
refuses the checksum headers gets the upload without them, and no more asking for that bucket
in the run.

Interruption versus failure: if the server refuses the upload (no bucket, no permission, a bad
part), the multipart upload is aborted, so nothing is orphaned. If the transfer is interrupted
(Ctrl-C, process killed, endpoint unreachable after the retries), the upload is kept and the
journal remembers its parts: the next run of the same copy sends only what is missing. Both ends
are told to the caller's `partial` callback (`items.Partial`): what an interruption kept, and
what a run resumes from, so that a person can be told the same command goes on from there.
The journal is written when the upload is created, then at most once a second as parts finish
(`JournalPace`), and at once on an interruption: written after every part, it cost 1–8 ms of
CPU and 3–30 ms of a stalled event loop per part, growing with the parts listed (quadratic
over a 10,000-part upload). A process killed outright resends at most that second's parts.

Conditional uploads (two-way sync): with a `Precondition` the object is written only over the
version the caller saw, or only where none exists. A single PUT carries it natively. A multipart
upload carries it on CompleteMultipartUpload (`If-Match: <etag>` / `If-None-Match: *`), which
AWS S3 and SeaweedFS honour; moto server honours `If-None-Match` but ignores `If-Match`, and
other stores may ignore or refuse both. So the object is also looked at (HEAD) just before the
Complete, and where a store refuses the headers the Complete goes without them after that HEAD:
on such stores a write landing between the HEAD and the Complete (a few milliseconds) can still
be overwritten. A failed condition aborts the upload (nothing orphaned) and is a ConflictError.
"""

from __future__ import annotations

import asyncio
import mimetypes
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from s3kit._observe import logger
from s3kit._uri import S3Url
from s3kit.errors import (
    ConflictError,
    NotSupported,
    ObjectNotFound,
    S3KitError,
    TransferError,
    translate,
    translating,
)
from s3kit.storage.base import etags_match
from s3kit.transfer.checksum import (
    CRC_METADATA_KEY,
    PART_SIZE_KEY,
    combine_all,
    crc64,
    crc_b64,
    crc_hex,
    md5_hex,
    multipart_etag,
    single_etag,
)
from s3kit.transfer.context import TransferContext, first_error, is_interruption
from s3kit.transfer.items import Partial, PartialCallback
from s3kit.transfer.journal import JournalEntry, JournalPace, JournalPart
from s3kit.transfer.multipart import Multipart, ServerPart
from s3kit.transfer.parts import MAX_PART, MIN_PART, Part, plan_parts, use_multipart

Progress = Callable[[int], None]
INLINE_READ = 256 * 1024


@dataclass(frozen=True, slots=True)
class Precondition:
    """Write only over the object with this ETag, or, with `etag` None, only where the key
    does not exist yet."""

    etag: str | None = None

    def headers(self) -> dict[str, str]:
        if self.etag is None:
            return {"If-None-Match": "*"}
        return {"If-Match": single_etag(self.etag.strip('"'))}

    def holds(self, current_etag: str | None) -> bool:
        """Whether an object with `current_etag` (None: no object) may be written over."""
        if self.etag is None:
            return current_etag is None
        return current_etag is not None and etags_match(self.etag, current_etag)


@dataclass(frozen=True, slots=True)
class UploadResult:
    size: int
    etag: str
    multipart: bool
    resumed_bytes: int = 0


def _read_whole(path: Path) -> tuple[bytes, os.stat_result, str, int]:
    """The file's bytes, its stat (of the same open file), MD5 and CRC64NVME.

    Plain descriptor reads: a buffered file object adds an isatty ioctl, a seek and a second
    fstat to every small file, which are a good part of what reading one costs."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    try:
        stat = os.fstat(fd)
        pieces = []
        # One more byte than the size: a file that grew since is read to its end all the same.
        while piece := os.read(fd, max(stat.st_size + 1, 64 * 1024)):
            pieces.append(piece)
    finally:
        os.close(fd)
    data = pieces[0] if len(pieces) == 1 else b"".join(pieces)
    return data, stat, md5_hex(data), crc64(data)


def _read_part(fd: int, part: Part, buffer: bytearray | None = None) -> tuple[memoryview, str, int]:
    """Part `part` of the file, read into `buffer` (reused across parts), its MD5 and its
    CRC64NVME."""
    view = memoryview(buffer if buffer is not None else bytearray(part.size))[: part.size]
    filled = 0
    while filled < part.size:
        got = os.preadv(fd, [view[filled:]], part.offset + filled)
        if got == 0:
            raise TransferError(f"the file shrank while it was being uploaded (part {part.number})")
        filled += got
    return view, md5_hex(view), crc64(view)


def object_metadata(ctx: TransferContext, stat: os.stat_result, crc: int | None) -> dict[str, str]:
    metadata = dict(ctx.options.metadata)
    if ctx.options.preserve_mtime:
        from s3kit._mtime import MTIME_KEY, format_mtime

        metadata[MTIME_KEY] = format_mtime(stat.st_mtime_ns)
    if crc is not None:
        metadata[CRC_METADATA_KEY] = crc_hex(crc)
    return metadata


def content_type_for(ctx: TransferContext, path: Path) -> str | None:
    if ctx.options.content_type:
        return ctx.options.content_type
    guessed, _ = mimetypes.guess_type(path.name)
    return guessed


async def upload_file(
    ctx: TransferContext,
    path: Path,
    target: S3Url,
    progress: Progress,
    *,
    size: int | None = None,
    condition: Precondition | None = None,
    partial: PartialCallback | None = None,
) -> UploadResult:
    """Upload `path`; `size`, when the caller listed it already, saves a stat. With
    `condition`, the upload lands only if it still holds (else ConflictError). `partial` hears
    of a multipart upload resumed, or kept by an interruption (see the module docstring)."""
    await clear_abandoned_stream(ctx, target)
    if size is None or size >= INLINE_READ:
        with translating(path=str(path)):
            stat = await asyncio.to_thread(path.stat)
        if use_multipart(stat.st_size, ctx.config.multipart_threshold):
            return await _upload_multipart(ctx, path, stat, target, progress, condition, partial)
        size = stat.st_size
    # `translate` without `translating`: the generator-based context manager costs 5–10 µs,
    # paid once for every small file of a folder (about 3 % of what uploading one costs).
    try:
        if size < INLINE_READ:
            # A few KiB from the page cache: cheaper on the loop than a hop to a thread.
            data, stat, md5, crc = _read_whole(path)
        else:
            data, stat, md5, crc = await asyncio.to_thread(_read_whole, path)
    except OSError as exc:  # reading a file raises no S3KitError: never itself translated
        raise translate(exc, path=str(path)) from exc
    if use_multipart(stat.st_size, ctx.config.multipart_threshold):  # it grew meanwhile
        return await _upload_multipart(ctx, path, stat, target, progress, condition, partial)
    return await _upload_single(ctx, path, target, progress, data, stat, md5, crc, condition)


async def _upload_single(
    ctx: TransferContext,
    path: Path,
    target: S3Url,
    progress: Progress,
    data: bytes,
    stat: os.stat_result,
    md5: str,
    crc: int,
    condition: Precondition | None = None,
) -> UploadResult:
    """One PUT with Content-MD5 (see `S3Storage.put_async`): a body damaged on the way is
    refused by the server, and the object that was at the key stays."""
    await ctx.throttle(len(data))
    storage = ctx.writer(target.bucket)
    options = ctx.options
    result = await storage.put_async(
        target.key,
        data,
        content_type=content_type_for(ctx, path),
        cache_control=options.cache_control,
        content_encoding=options.content_encoding,
        storage_class=options.storage_class,
        acl=options.acl,
        metadata=object_metadata(ctx, stat, crc if ctx.config.verify else None),
        mode="create" if condition is not None and condition.etag is None else "overwrite",
        if_match=condition.etag if condition is not None else None,
        content_md5=md5,
        verify=ctx.config.verify,
    )
    progress(len(data))
    return UploadResult(len(data), result.etag or "", multipart=False)


def _create_headers(
    ctx: TransferContext, path: Path, stat: os.stat_result, part_size: int, checksum: bool
) -> dict[str, str]:
    metadata = {**object_metadata(ctx, stat, None), PART_SIZE_KEY: str(part_size)}
    headers = write_headers(ctx, metadata, content_type_for(ctx, path))
    if checksum:
        headers.update(FULL_OBJECT_CRC)
    return headers


# CreateMultipartUpload's request for S3's full-object CRC64NVME (see the module docstring).
FULL_OBJECT_CRC = {"x-amz-checksum-algorithm": "CRC64NVME", "x-amz-checksum-type": "FULL_OBJECT"}


def write_headers(
    ctx: TransferContext, metadata: Mapping[str, str], content_type: str | None
) -> dict[str, str]:
    """CreateMultipartUpload's headers: user metadata, content headers, storage class, canned
    ACL and encryption from the run's write options."""
    options = ctx.options
    headers = {f"x-amz-meta-{k}": v for k, v in metadata.items()}
    for name, value in (
        ("Content-Type", content_type),
        ("Cache-Control", options.cache_control),
        ("Content-Encoding", options.content_encoding),
        ("x-amz-storage-class", options.storage_class),
    ):
        if value:
            headers[name] = value
    headers.update(options.acl_headers())
    if options.encryption is not None:
        headers.update(options.encryption.write_headers())
    return headers


async def _recover(
    ctx: TransferContext,
    mp: Multipart,
    path: Path,
    stat: os.stat_result,
    target: S3Url,
    parts: list[Part],
) -> tuple[JournalEntry | None, dict[int, JournalPart]]:
    """Find an interrupted upload of this file to continue, and the parts already on the server.

    From the journal when it matches the file (size, mtime, part size); with `resume` also
    from the server's list of pending uploads, each part then checked against the file's MD5.
    """
    local = str(path.resolve())
    entry = ctx.journal.load("upload", ctx.endpoint_id, target.bucket, target.key, local)
    if entry is not None and (
        entry.size != stat.st_size
        or entry.mtime_ns != stat.st_mtime_ns
        or entry.part_size != parts[0].size
    ):
        logger.info("%s changed since the interrupted upload; starting again", path)
        await mp.abort_quietly(target.key, entry.upload_id)
        ctx.journal.drop(entry)
        entry = None
    if entry is not None:
        try:
            server = await mp.list_parts(target.key, entry.upload_id)
        except ObjectNotFound:  # the upload was completed or aborted meanwhile
            ctx.journal.drop(entry)
            return None, {}
        done = {
            n: p
            for n, p in entry.parts.items()
            if n in server and etags_match(p.etag, server[n].etag)
        }
        return entry, done
    if not ctx.config.resume:
        return None, {}
    for pending in reversed(await mp.pending(target.key)):
        if pending.key != target.key:
            continue
        server = await mp.list_parts(target.key, pending.upload_id)
        done = await asyncio.to_thread(_verify_server_parts, path, parts, server)
        entry = JournalEntry(
            kind="upload",
            endpoint=ctx.endpoint_id,
            bucket=target.bucket,
            key=target.key,
            local_path=local,
            size=stat.st_size,
            mtime_ns=stat.st_mtime_ns,
            part_size=parts[0].size,
            upload_id=pending.upload_id,
            parts=done,
            checksum=any(part.checksum for part in server.values()),
        )
        return entry, done
    return None, {}


def _verify_server_parts(
    path: Path, parts: list[Part], server: Mapping[int, ServerPart]
) -> dict[int, JournalPart]:
    """Parts the server holds whose ETag is the MD5 of the same bytes of the local file."""
    done: dict[int, JournalPart] = {}
    with path.open("rb") as handle:
        for part in parts:
            held = server.get(part.number)
            if held is None or held.size != part.size:
                continue
            _, md5, crc = _read_part(handle.fileno(), part)
            if etags_match(md5, held.etag):
                done[part.number] = JournalPart(etag=held.etag, md5=md5, crc=crc, size=part.size)
    return done


async def _upload_multipart(
    ctx: TransferContext,
    path: Path,
    stat: os.stat_result,
    target: S3Url,
    progress: Progress,
    condition: Precondition | None = None,
    partial: PartialCallback | None = None,
) -> UploadResult:
    parts = plan_parts(stat.st_size, ctx.config.multipart_chunksize)
    mp = Multipart(ctx.http, target.bucket)
    entry, done = await _recover(ctx, mp, path, stat, target, parts)
    resumed = sum(p.size for p in done.values())
    if entry is None:
        entry = await _begin(ctx, mp, path, stat, target, parts)
    else:
        entry.parts = dict(done)
        ctx.journal.save(entry)
    if resumed:
        if partial is not None:
            partial("resumed", Partial(resumed, stat.st_size))
        progress(resumed)
    encryption = ctx.options.encryption
    part_headers = encryption.part_headers() if encryption else {}
    check_etags = ctx.config.verify and not (encryption and encryption.changes_etag)
    reported = set(done)  # parts counted in the progress already (a restart resends them)

    with translating(path=str(path)):
        handle = path.open("rb")
    pace = JournalPace(ctx.journal)

    async def send(part: Part, current: JournalEntry) -> None:
        async with ctx.part_buffer(part.size) as buffer:
            data, md5, crc = await asyncio.to_thread(_read_part, handle.fileno(), part, buffer)
            await ctx.throttle(part.size)
            headers = dict(part_headers)
            if current.checksum:
                headers["x-amz-checksum-crc64nvme"] = crc_b64(crc)
            etag = await mp.upload_part(
                target.key, current.upload_id, part.number, data, md5, headers
            )
            _check_part(target, part.number, md5, etag, check_etags)
            current.parts[part.number] = JournalPart(etag=etag, md5=md5, crc=crc, size=part.size)
            pace.part_done(current)
            if part.number not in reported:
                reported.add(part.number)
                progress(part.size)

    with handle:
        for attempt in range(1, RESTARTS + 1):
            try:
                async with asyncio.TaskGroup() as group:
                    for part in parts:
                        if part.number not in entry.parts:
                            group.create_task(send(part, entry))
                after = os.fstat(handle.fileno())
                if (after.st_size, after.st_mtime_ns) != (stat.st_size, stat.st_mtime_ns):
                    raise TransferError(
                        f"{path} changed while it was being uploaded — copy it again"
                    )
                expected = multipart_etag(entry.parts[n].md5 for n in sorted(entry.parts))
                etag = await _complete(ctx, mp, target, entry, condition, expected, check_etags)
                break
            except BaseException as exc:
                failure = first_error(exc)
                if is_interruption(failure):
                    logger.info("upload of %s interrupted; the next run resumes it", path)
                    pace.flush()
                    sent = sum(p.size for p in entry.parts.values())
                    if partial is not None and sent:
                        partial("kept", Partial(sent, stat.st_size))
                    raise _interrupted(target, failure) from exc
                pace.forget()
                await mp.abort_quietly(target.key, entry.upload_id)
                ctx.journal.drop(entry)
                if must_restart(failure) and attempt < RESTARTS:
                    logger.info("%s: %s; uploading it again from the start", target, failure)
                    entry = await _begin(ctx, mp, path, stat, target, parts)
                    continue
                if isinstance(failure, S3KitError):
                    raise failure from exc
                raise
    ctx.journal.drop(entry)
    return UploadResult(stat.st_size, etag, multipart=True, resumed_bytes=resumed)


# CompleteMultipartUpload answered 409 ConditionalRequestConflict: a concurrent write to the key
# won, and S3 documents that such an upload must be created and sent again.
RESTARTS = 3


def must_restart(failure: BaseException) -> bool:
    return isinstance(failure, S3KitError) and failure.code == "ConditionalRequestConflict"


def _check_part(target: S3Url, number: int, md5: str, etag: str, check: bool) -> None:
    if check and not etags_match(md5, etag):
        raise TransferError(f"{target}: part {number} arrived damaged (ETag {etag}, MD5 {md5})")


async def _begin(
    ctx: TransferContext,
    mp: Multipart,
    path: Path,
    stat: os.stat_result,
    target: S3Url,
    parts: list[Part],
) -> JournalEntry:
    """Create the upload and journal it at once, before any part is sent: an upload killed
    from here on is continued by the next run, never left pending."""
    checksum = ctx.config.verify and target.bucket not in ctx.no_checksum_buckets
    headers = _create_headers(ctx, path, stat, parts[0].size, checksum)
    try:
        upload_id = await mp.create(target.key, headers)
    except S3KitError as exc:
        if not checksum or exc.status != 400:
            raise
        logger.info("%s refuses S3's full-object checksum (%s); sending without", target, exc)
        ctx.no_checksum_buckets.add(target.bucket)
        checksum = False
        upload_id = await mp.create(
            target.key, _create_headers(ctx, path, stat, parts[0].size, False)
        )
    entry = JournalEntry(
        kind="upload",
        endpoint=ctx.endpoint_id,
        bucket=target.bucket,
        key=target.key,
        local_path=str(path.resolve()),
        size=stat.st_size,
        mtime_ns=stat.st_mtime_ns,
        part_size=parts[0].size,
        upload_id=upload_id,
        checksum=checksum,
    )
    ctx.journal.save(entry)
    return entry


async def _complete(
    ctx: TransferContext,
    mp: Multipart,
    target: S3Url,
    entry: JournalEntry,
    condition: Precondition | None,
    expected: str,
    check: bool,
) -> str:
    """CompleteMultipartUpload (under `condition`, see below) and the assembled object's ETag.

    - A store may answer with an empty ETag (Ceph RGW 16.2 does; its HEAD is right): the ETag
      is then read with a HEAD.
    - A Complete that succeeded but whose answer was lost is retried by S3Http and then meets
      NoSuchUpload: the object is there when a HEAD shows the ETag these parts make.
    - An ETag other than the one the parts make is reported, never "repaired" by deleting the
      object: every part was checked on arrival (Content-MD5), and a store that computes
      ETags its own way stored the right bytes.
    """
    etags = [(n, p.etag) for n, p in entry.parts.items()]
    try:
        etag = await _complete_under(ctx, mp, target, entry, etags, condition)
    except ObjectNotFound as exc:
        if exc.code != "NoSuchUpload":
            raise
        head = await _head_etag(ctx, target)
        if head is None or not etags_match(expected, head):
            raise
        logger.info("%s: the upload was completed by an earlier attempt", target)
        return head
    if not etag.strip('"'):
        etag = await _head_etag(ctx, target) or ""
    if check and not etags_match(expected, etag):
        logger.warning(
            "%s: the store gives the assembled object the ETag %s, not the %s its parts make;"
            " every part was checked on arrival",
            target,
            etag,
            expected,
        )
    return etag


async def _head_etag(ctx: TransferContext, target: S3Url) -> str | None:
    try:
        return (await ctx.writer(target.bucket).head_async(target.key)).etag
    except ObjectNotFound:
        return None


async def _complete_under(
    ctx: TransferContext,
    mp: Multipart,
    target: S3Url,
    entry: JournalEntry,
    etags: list[tuple[int, str]],
    condition: Precondition | None,
) -> str:
    """The Complete (with the full-object checksum where the upload asked for one), with
    `condition` checked by a HEAD first (for stores that ignore the headers), then sent as
    headers (see the module docstring)."""
    checksums: dict[str, str] = {}
    per_part: dict[int, str] = {}
    if entry.checksum:
        ordered = sorted(entry.parts.items())
        whole = combine_all((part.crc, part.size) for _, part in ordered)
        checksums = {
            "x-amz-checksum-crc64nvme": crc_b64(whole),
            "x-amz-checksum-type": "FULL_OBJECT",
        }
        per_part = {number: crc_b64(part.crc) for number, part in ordered}

    async def complete(headers: Mapping[str, str]) -> str:
        return await mp.complete(target.key, entry.upload_id, etags, headers, per_part)

    if condition is None:
        return await complete(checksums)
    if not condition.holds(await _head_etag(ctx, target)):
        raise ConflictError(
            f"{target} changed since it was read, so the conditional upload was refused"
        )
    try:
        return await complete({**checksums, **condition.headers()})
    except NotSupported:
        logger.info("%s refuses conditions on CompleteMultipartUpload; HEAD checked", target)
        return await complete(checksums)


STREAM = "-"  # the journal's local path for an upload from a stream (standard input)
GROW_EVERY = 1000  # parts of one size before a stream's part size doubles


def stream_part_size(number: int, chunk_size: int) -> int:
    """The size of part `number` of a stream of unknown length: `chunk_size` for the first
    1,000 parts, then doubling every 1,000 (S3 allows parts of different sizes), so the
    10,000-part limit is never what stops a long stream: from 8 MiB, past S3's 5 TiB limit."""
    return min(max(chunk_size, MIN_PART) << ((number - 1) // GROW_EVERY), MAX_PART)


async def clear_abandoned_stream(ctx: TransferContext, target: S3Url) -> None:
    """Abort the multipart upload a killed stream upload to `target` left behind: a stream
    cannot be read again, so its parts can never be completed. Runs before any upload to
    the key (a journal file's look-up when there is none)."""
    if not ctx.has_stream_journal():
        return
    entry = ctx.journal.load("stream", ctx.endpoint_id, target.bucket, target.key, STREAM)
    if entry is None:
        return
    logger.info("aborting the unfinished upload of standard input to %s", target)
    await Multipart(ctx.http, target.bucket).abort_quietly(target.key, entry.upload_id)
    ctx.journal.drop(entry)


async def upload_stream(
    ctx: TransferContext,
    read: Callable[[int], bytes],
    target: S3Url,
    progress: Progress,
) -> UploadResult:
    """Upload what `read(n)` returns (a blocking read of at most n bytes, b"" at the end) to
    `target`: one PUT with Content-MD5 when it ends within the first part, else a multipart
    upload, journalled from its creation so that the next run aborts it if this one is killed.
    Every part carries Content-MD5; a failure aborts the upload (a stream cannot resume)."""
    await clear_abandoned_stream(ctx, target)
    mp = Multipart(ctx.http, target.bucket)
    options = ctx.options
    chunk = ctx.config.multipart_chunksize
    first = await asyncio.to_thread(read, stream_part_size(1, chunk))
    if len(first) < stream_part_size(1, chunk):
        await ctx.throttle(len(first))
        result = await ctx.writer(target.bucket).put_async(
            target.key,
            first,
            content_type=options.content_type,
            cache_control=options.cache_control,
            content_encoding=options.content_encoding,
            storage_class=options.storage_class,
            acl=options.acl,
            metadata=dict(options.metadata) or None,
            verify=ctx.config.verify,
        )
        progress(len(first))
        return UploadResult(len(first), result.etag or "", multipart=False)
    headers = write_headers(ctx, options.metadata, options.content_type)
    entry = JournalEntry(
        kind="stream",
        endpoint=ctx.endpoint_id,
        bucket=target.bucket,
        key=target.key,
        local_path=STREAM,
        size=0,
        mtime_ns=0,
        part_size=chunk,
        upload_id=await mp.create(target.key, headers),
    )
    ctx.journal.save(entry)
    part_headers = options.encryption.part_headers() if options.encryption else {}
    check = ctx.config.verify and not (options.encryption and options.encryption.changes_etag)
    total = 0

    async def send(number: int, data: bytes) -> None:
        try:
            md5 = md5_hex(data)
            await ctx.throttle(len(data))
            etag = await mp.upload_part(
                target.key, entry.upload_id, number, data, md5, part_headers
            )
            _check_part(target, number, md5, etag, check)
            entry.parts[number] = JournalPart(etag=etag, md5=md5, crc=0, size=len(data))
            progress(len(data))
        finally:
            ctx.part_slots.release()

    try:
        async with asyncio.TaskGroup() as group:
            number, data = 1, first
            while data:
                # A slot is taken before the next block is read: at most max_concurrent_parts
                # blocks of the stream are in memory at once.
                await ctx.part_slots.acquire()
                total += len(data)
                group.create_task(send(number, data))
                number += 1
                data = await asyncio.to_thread(read, stream_part_size(number, chunk))
        expected = multipart_etag(entry.parts[n].md5 for n in sorted(entry.parts))
        etag = await _complete(ctx, mp, target, entry, None, expected, check)
    except BaseException as exc:
        await mp.abort_quietly(target.key, entry.upload_id)
        ctx.journal.drop(entry)
        failure = first_error(exc)
        if isinstance(failure, S3KitError):
            if must_restart(failure):
                raise TransferError(
                    f"{target}: a concurrent write to the key won, and standard input cannot"
                    " be read again — run the command again"
                ) from exc
            raise failure from exc
        raise
    ctx.journal.drop(entry)
    return UploadResult(total, etag, multipart=True)


def _interrupted(target: S3Url, cause: BaseException) -> BaseException:
    if isinstance(cause, asyncio.CancelledError | KeyboardInterrupt):
        return cause
    return TransferError(
        f"upload to {target} interrupted ({cause}); run the same copy again to resume it"
    )


__all__ = ["Precondition", "UploadResult", "upload_file", "upload_stream"]
