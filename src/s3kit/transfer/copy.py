"""Server-side copies between S3 locations: one CopyObject up to 5 GiB, parallel
UploadPartCopy above (S3 refuses CopyObject for larger sources).

Both go through the raw signed path (s3http), which also crosses buckets; the source is pinned
with x-amz-copy-source-if-match so a source overwritten mid-copy fails instead of mixing.

Both give the copy the same metadata: the source's, with what the caller asked to change
(`WriteOptions`: user metadata, Content-Type, Cache-Control, Content-Encoding) laid over it.
With no change asked, one CopyObject copies it as it is (`COPY`); with one, the source's is read
first and sent whole with the changes (`REPLACE`), as the multipart copy always does.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import NamedTuple

from s3kit._limits import copy_in_parts
from s3kit._uri import S3Url
from s3kit.errors import S3KitError
from s3kit.storage.base import ObjectInfo
from s3kit.storage.s3http import copy_source
from s3kit.transfer.checksum import PART_SIZE_KEY
from s3kit.transfer.context import TransferContext, WriteOptions, first_error
from s3kit.transfer.multipart import Multipart
from s3kit.transfer.parts import Part, plan_parts

Progress = Callable[[int], None]


async def copy_object(
    ctx: TransferContext,
    source: S3Url,
    target: S3Url,
    progress: Progress,
    *,
    size: int | None = None,
    etag: str | None = None,
    sized: Callable[[int], None] | None = None,
) -> Copied:
    """Copy `source` (one version of it, if it names one) to `target` on the server. Without
    `size` and `etag` (a single copy, not listed first) a HEAD learns them, and `sized` hears
    of the size, as a download's does."""
    if size is None or etag is None:
        info = await ctx.reader(source.bucket).head_async(source.key, version_id=source.version_id)
        if size is None and sized is not None:
            sized(info.size)
        size, etag = info.size, info.etag or ""
    if copy_in_parts(size):
        version = await _copy_multipart(ctx, source, target, size, etag, progress)
    else:
        version = await _copy_single(ctx, source, target, etag)
        progress(size)
    return Copied(size, version)


class Copied(NamedTuple):
    size: int
    version_id: str | None  # the new object's, on a versioned bucket


def _common_headers(ctx: TransferContext, etag: str) -> dict[str, str]:
    headers = {"x-amz-copy-source-if-match": etag} if etag else {}
    options = ctx.options
    if options.storage_class:
        headers["x-amz-storage-class"] = options.storage_class
    headers.update(options.acl_headers())
    if options.encryption is not None:
        headers.update(options.encryption.write_headers())
    if ctx.read_encryption is not None and ctx.read_encryption.mode == "sse-c":
        for name, value in ctx.read_encryption.write_headers().items():
            headers[name.replace("x-amz-", "x-amz-copy-source-", 1)] = value
    return headers


def _changes_metadata(options: WriteOptions) -> bool:
    return bool(
        options.metadata or options.content_type or options.cache_control
        or options.content_encoding
    )  # fmt: skip


def object_headers(
    options: WriteOptions, info: ObjectInfo, *, part_size: int | None = None
) -> dict[str, str]:
    """The headers that give a copy of the object `info` describes its metadata: the
    source's, with `options`' changes laid over it. The source's recorded part size is never
    the copy's: `part_size` is (None for a single CopyObject)."""
    metadata = {k: v for k, v in info.metadata.items() if k != PART_SIZE_KEY}
    metadata.update(options.metadata)
    if part_size is not None:
        metadata[PART_SIZE_KEY] = str(part_size)
    headers = {f"x-amz-meta-{k}": v for k, v in metadata.items()}
    for name, value in (
        ("Content-Type", options.content_type or info.content_type),
        ("Cache-Control", options.cache_control or info.cache_control),
        ("Content-Encoding", options.content_encoding or info.content_encoding),
    ):
        if value:
            headers[name] = value
    return headers


async def _copy_single(ctx: TransferContext, source: S3Url, target: S3Url, etag: str) -> str | None:
    headers = _common_headers(ctx, etag)
    headers["x-amz-copy-source"] = copy_source(source.bucket, source.key, source.version_id)
    if _changes_metadata(ctx.options):
        info = await ctx.reader(source.bucket).head_async(source.key, version_id=source.version_id)
        headers["x-amz-metadata-directive"] = "REPLACE"
        headers.update(object_headers(ctx.options, info))
    else:
        headers["x-amz-metadata-directive"] = "COPY"
    response = await ctx.http.request_async("PUT", target.bucket, target.key, headers=headers)
    return response.headers.get("x-amz-version-id")


async def _copy_multipart(
    ctx: TransferContext, source: S3Url, target: S3Url, size: int, etag: str, progress: Progress
) -> str | None:
    info = await ctx.reader(source.bucket).head_async(source.key, version_id=source.version_id)
    options = ctx.options
    # UploadPartCopy copies bytes only: the new object's metadata and headers are the
    # source's, with whatever the caller asked to change laid over them.
    parts = plan_parts(size, ctx.config.multipart_chunksize)
    create = object_headers(options, info, part_size=parts[0].size)
    if options.storage_class:
        create["x-amz-storage-class"] = options.storage_class
    create.update(options.acl_headers())
    if options.encryption is not None:
        create.update(options.encryption.write_headers())
    mp = Multipart(ctx.http, target.bucket)
    upload_id = await mp.create(target.key, create)
    part_headers = _common_headers(ctx, etag)
    part_headers.pop("x-amz-storage-class", None)
    part_headers.pop("x-amz-acl", None)
    part_headers.pop("x-amz-server-side-encryption", None)
    part_headers.pop("x-amz-server-side-encryption-aws-kms-key-id", None)
    etags: dict[int, str] = {}

    async def one(part: Part) -> None:
        async with ctx.part_slots:
            etags[part.number] = await mp.upload_part_copy(
                target.key,
                upload_id,
                part.number,
                copy_source(source.bucket, source.key, source.version_id),
                part.offset,
                part.offset + part.size - 1,
                part_headers,
            )
            progress(part.size)

    try:
        async with asyncio.TaskGroup() as group:
            for part in parts:
                group.create_task(one(part))
        _, version = await mp.complete_versioned(target.key, upload_id, list(etags.items()))
    except BaseException as exc:
        await mp.abort_quietly(target.key, upload_id)
        failure = first_error(exc)
        if isinstance(failure, S3KitError):
            raise failure from exc
        raise
    return version


__all__ = ["Copied", "copy_object", "object_headers"]
