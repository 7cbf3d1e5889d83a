"""A closer look where a listing is not enough: the mtime s3kit stored on an object (one HEAD
per download candidate, so unchanged files are not downloaded again), content digests for
`--checksum`, and the re-checks of `s3kit apply` (an entry as it is now)."""

from __future__ import annotations

import asyncio
import hashlib
import os
import stat as stat_module
from pathlib import Path

from s3kit._aio import run_bounded
from s3kit._encryption import Encryption
from s3kit._mtime import MTIME_KEY, parse_mtime, seconds
from s3kit._session import Session
from s3kit._sync.plan import (
    CONTENT_UNCHECKED,
    SOURCE_NEWER,
    TIME_DIFFERS,
    Direction,
    Entry,
    Plan,
)
from s3kit._sync.sides import LocalSide, S3Side, Side
from s3kit.errors import (
    ObjectNotFound,
    S3KitError,
    translate,
)
from s3kit.storage.base import ObjectInfo, user_metadata
from s3kit.transfer.checksum import crc64, crc_hex, expected_checksum


def needs_closer_look(direction: Direction, reason: str) -> bool:
    """Whether a transfer decided on the listings alone may be cancelled by reading more: a
    download planned only because LastModified is newer (the stored `mtime` may say the file
    is unchanged), or a `--checksum` pair whose digests are not known yet."""
    return reason == CONTENT_UNCHECKED or (
        direction == "download" and reason in (SOURCE_NEWER, TIME_DIFFERS)
    )


async def closer_look_async(
    session: Session,
    src: Entry,
    dst: Entry,
    reason: str,
    source: Side,
    destination: Side,
    *,
    read_encryption: Encryption | None = None,
) -> tuple[Entry | None, Entry | None]:
    """New (source, destination) entries for one such pair (None: unchanged): the stored
    `mtime` (one HEAD), or the digests (local MD5, and the stored CRC64NVME where an ETag is
    multipart). `read_encryption`: the SSE-C key the objects' HEADs need."""
    if reason == CONTENT_UNCHECKED:
        return await _with_digests(session, src, dst, source, destination, read_encryption)
    return await _with_stored_mtime(session, src, source, read_encryption), None


async def refine_async(
    session: Session,
    plan: Plan,
    source: Side,
    destination: Side,
    *,
    concurrency: int = 32,
    read_encryption: Encryption | None = None,
) -> dict[bytes, tuple[Entry | None, Entry | None]]:
    """`closer_look_async` for every action of `plan` that needs one, `concurrency` at once."""
    refreshed: dict[bytes, tuple[Entry | None, Entry | None]] = {}

    async def one(src: Entry, dst: Entry, reason: str) -> None:
        refreshed[src.raw] = await closer_look_async(
            session, src, dst, reason, source, destination, read_encryption=read_encryption
        )

    await run_bounded(
        (
            one(a.source, a.destination, a.reason)
            for a in plan.transfers
            if a.source is not None
            and a.destination is not None
            and needs_closer_look(plan.direction, a.reason)
        ),
        concurrency,
    )
    return refreshed


async def _head(
    session: Session, side: S3Side, item: Entry, key: Encryption | None = None
) -> ObjectInfo | None:
    try:
        storage = session.storage(side.bucket, encryption=key)
        return await storage.head_async(side.prefix + item.key)
    except ObjectNotFound:
        return None


async def _with_stored_mtime(
    session: Session, item: Entry, side: Side, key: Encryption | None
) -> Entry:
    if not isinstance(side, S3Side):
        return item
    info = await _head(session, side, item, key)
    stored = parse_mtime((info.metadata if info else {}).get(MTIME_KEY))
    return item if stored is None else item._replace(mtime=seconds(stored), exact_mtime=True)


def file_digests(path: Path, want_crc: bool) -> tuple[str, str | None]:
    md5 = hashlib.md5(usedforsecurity=False)
    crc = 0
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            md5.update(block)
            if want_crc:
                crc = crc64(block, crc)
    return md5.hexdigest(), crc_hex(crc) if want_crc else None


def _multipart(item: Entry) -> bool:
    return "-" in (item.etag or "")


async def _digested(
    session: Session, item: Entry, side: Side, want_crc: bool, key: Encryption | None
) -> Entry:
    if isinstance(side, LocalSide):
        try:
            md5, crc = await asyncio.to_thread(file_digests, side.location(item.key).path, want_crc)
        except OSError:
            return item
        return item._replace(etag=md5, crc=crc)
    if not want_crc:
        return item
    stored = await _remote_crc(session, side, item, key)
    return item._replace(crc=stored) if stored else item


async def _remote_crc(
    session: Session, side: S3Side, item: Entry, key: Encryption | None
) -> str | None:
    """The object's CRC64NVME of the whole, as hex: s3kit's metadata (older uploads), else S3's
    own full-object checksum (from a HEAD in checksum mode); None when it has neither."""
    try:
        response = await session.http().request_async(
            "HEAD", side.bucket, side.prefix + item.key,
            headers={"x-amz-checksum-mode": "ENABLED", **(key.read_headers() if key else {})},
        )  # fmt: skip
    except ObjectNotFound:
        return None
    headers = dict(response.headers)  # lower-case names
    # The rule downloads are checked by: s3kit's CRC first, then the object's own checksum.
    expected = expected_checksum(user_metadata(headers), headers.get("etag"), headers)
    if expected is None or expected.algorithm != "crc64nvme" or expected.parts:
        return None
    return expected.value.hex() or None


async def _with_digests(
    session: Session,
    src: Entry,
    dst: Entry,
    source: Side,
    destination: Side,
    key: Encryption | None,
) -> tuple[Entry, Entry]:
    want_crc = _multipart(src) or _multipart(dst)
    try:
        return (
            await _digested(session, src, source, want_crc, key),
            await _digested(session, dst, destination, want_crc, key),
        )
    except S3KitError:
        return src, dst


async def entry_as_seen_async(session: Session, side: Side, key: str) -> Entry | None:
    """The entry at `key` now (None when absent): what `apply` checks a plan against."""
    if isinstance(side, LocalSide):
        try:
            info = await asyncio.to_thread(os.stat, side.location(key).path)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise translate(exc, path=str(side.location(key))) from exc
        if not stat_module.S_ISREG(info.st_mode):
            return None
        return Entry(key.encode("utf-8", "surrogateescape"), info.st_size, info.st_mtime)
    info_s3 = await _head(session, side, Entry(key.encode("utf-8", "surrogateescape"), 0, 0.0))
    if info_s3 is None:
        return None
    return replace_entry(key, info_s3)


def replace_entry(key: str, info: ObjectInfo) -> Entry:
    return Entry(
        key.encode("utf-8", "surrogateescape"), info.size, info.last_modified.timestamp(), info.etag
    )


async def folder_as_seen_async(session: Session, side: Side, key: str) -> tuple[Entry | None, bool]:
    """The folder marker at `key` ('a/b/') now (None when absent), and whether the folder is
    there at all — a marker or anything under it: what `apply` checks folder actions against."""
    if isinstance(side, LocalSide):
        path = Path(side.location(key).path)
        try:
            held, mtime = await asyncio.to_thread(_local_folder, path)
        except (FileNotFoundError, NotADirectoryError):
            return None, False
        except OSError as exc:
            raise translate(exc, path=str(path)) from exc
        return Entry(key.encode("utf-8", "surrogateescape"), held, mtime), True
    full = side.prefix + key
    async for item in session.storage(side.bucket).list_async(full, page_size=1):
        if isinstance(item, ObjectInfo):
            return (replace_entry(key, item) if item.key == full else None), True
    return None, False


def _local_folder(path: Path) -> tuple[int, float]:
    """How many entries the folder at `path` holds, and its mtime."""
    return sum(1 for _ in path.iterdir()), path.stat().st_mtime
