"""S3Storage: the Storage protocol for one bucket, on obstore (with boto3 where obstore stops).

obstore covers put/get/range/head/list/delete/copy within a bucket. Two things it cannot do go
to the Session's boto3 client: listings with a delimiter (obstore collects every page of
those before returning, which breaks the promise never to hold a whole listing) and copies from
another bucket. Every call goes through `guard`, which translates errors.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import obstore

from s3kit.errors import InvalidKey, ObjectNotFound, translate
from s3kit.storage.base import (
    DEFAULT_CHUNK,
    Body,
    ObjectInfo,
    Prefix,
    PutMode,
    PutResult,
    SyncStorageMixin,
    validate_range,
)
from s3kit.uri import validate_bucket_name, validate_key

if TYPE_CHECKING:
    from obstore.store import S3Store

    from s3kit.encryption import Encryption
    from s3kit.session import Session

T = TypeVar("T")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# Multipart for streams and files above this size (obstore uploads parts concurrently).
MULTIPART_CHUNK = 8 * 1024 * 1024


def _store_key(key: str) -> str:
    """`key`, if obstore can address exactly that key, else `InvalidKey` (before any request).

    obstore takes keys as `object_store` paths: it drops a leading or trailing '/' without a
    word (so deleting 'photos/' would delete the object 'photos') and refuses empty, '.' and
    '..' segments and control characters with a bare ValueError.
    """
    validate_key(key)
    problem = None
    if key.startswith("/") or key.endswith("/"):
        problem = "it starts or ends with '/'"
    elif any(part in ("", ".", "..") for part in key.split("/")):
        problem = "it has an empty, '.' or '..' path segment"
    elif _CONTROL.search(key):
        problem = "it contains a control character"
    if problem:
        raise InvalidKey(
            f"key {key!r} is not supported by s3kit's object transfers: {problem} — rename the"
            " object, e.g. with `aws s3 mv`"
        )
    return key


def _info(meta: Mapping[str, Any], attributes: Mapping[str, str] | None = None) -> ObjectInfo:
    attributes = attributes or {}
    known = {
        "Content-Type",
        "Cache-Control",
        "Content-Disposition",
        "Content-Encoding",
        "Content-Language",
        "Storage-Class",
    }
    return ObjectInfo(
        key=str(meta["path"]),
        size=int(meta["size"]),
        last_modified=meta["last_modified"],
        etag=meta.get("e_tag"),
        version_id=meta.get("version"),
        storage_class=attributes.get("Storage-Class"),
        content_type=attributes.get("Content-Type"),
        cache_control=attributes.get("Cache-Control"),
        metadata={k: v for k, v in attributes.items() if k not in known},
    )


class S3Storage(SyncStorageMixin):
    """One bucket of an S3 endpoint, reached through a Session."""

    def __init__(
        self, session: Session, bucket: str, *, encryption: Encryption | None = None
    ) -> None:
        self.session = session
        self.bucket = validate_bucket_name(bucket)
        self.encryption = encryption

    @property
    def url(self) -> str:
        return f"s3://{self.bucket}"

    @property
    def store(self) -> S3Store:
        return self.session.object_store(self.bucket, self.encryption)

    async def guard(self, awaitable: Awaitable[T], key: str | None = None) -> T:
        """Await one obstore call, turning its errors into s3kit errors about this bucket."""
        try:
            return await awaitable
        except StopAsyncIteration:
            raise
        except Exception as exc:
            raise translate(
                exc, bucket=self.bucket, key=key, endpoint=self.session.endpoint_url
            ) from exc

    # -- writes ----------------------------------------------------------------------------

    async def put_async(
        self,
        key: str,
        body: Body,
        *,
        content_type: str | None = None,
        cache_control: str | None = None,
        metadata: Mapping[str, str] | None = None,
        mode: PutMode = "overwrite",
        if_match: str | None = None,
        content_encoding: str | None = None,
        storage_class: str | None = None,
    ) -> PutResult:
        _store_key(key)
        attributes: dict[str, str] = dict(metadata or {})
        for name, value in (
            ("Content-Type", content_type),
            ("Cache-Control", cache_control),
            ("Content-Encoding", content_encoding),
            ("Storage-Class", storage_class),
        ):
            if value:
                attributes[name] = value
        put_mode: Any = {"e_tag": if_match} if if_match else mode
        if isinstance(body, Path):
            try:
                handle = body.open("rb")
            except OSError as exc:
                raise translate(exc, path=str(body)) from exc
            with handle:
                return await self._put(key, handle, attributes, put_mode)
        return await self._put(key, body, attributes, put_mode)

    async def _put(self, key: str, body: Any, attributes: dict[str, str], mode: Any) -> PutResult:
        if (
            isinstance(body, Iterable | AsyncIterable)
            and not isinstance(body, bytes | bytearray | memoryview)
            and not hasattr(body, "read")
        ):
            body = _nonempty_chunks(body)
        result = await self.guard(
            obstore.put_async(
                self.store,
                key,
                body,
                attributes=attributes or None,
                mode=mode,
                chunk_size=MULTIPART_CHUNK,
                max_concurrency=8,
            ),
            key,
        )
        return PutResult(etag=result.get("e_tag"), version_id=result.get("version"))

    async def delete_async(self, key: str) -> None:
        _store_key(key)
        await self.guard(obstore.delete_async(self.store, key), key)

    async def delete_many_async(self, keys: list[str]) -> None:
        """Delete many keys, in bulk requests of up to 1,000."""
        for key in keys:
            _store_key(key)
        for start in range(0, len(keys), 1000):
            await self.guard(obstore.delete_async(self.store, keys[start : start + 1000]))

    async def copy_async(
        self, src_key: str, dst_key: str, *, src_bucket: str | None = None
    ) -> None:
        """Server-side copy of `src_bucket`/`src_key` (default: this bucket) to `dst_key`."""
        if src_bucket is None or src_bucket == self.bucket:
            _store_key(src_key)
            _store_key(dst_key)
            await self.guard(obstore.copy_async(self.store, src_key, dst_key), src_key)
            return
        validate_key(src_key)
        validate_key(dst_key)
        client = self.session.client("s3")
        try:
            await asyncio.to_thread(
                client.copy_object,
                Bucket=self.bucket,
                Key=dst_key,
                CopySource={"Bucket": src_bucket, "Key": src_key},
            )
        except Exception as exc:
            raise translate(
                exc, bucket=src_bucket, key=src_key, endpoint=self.session.endpoint_url
            ) from exc

    # -- reads -----------------------------------------------------------------------------

    @staticmethod
    def _get_options(start: int | None, end: int | None, if_match: str | None) -> dict[str, Any]:
        options: dict[str, Any] = {}
        if start is not None or end is not None:
            if end is None:
                options["range"] = {"offset": start or 0}
            else:
                options["range"] = (start or 0, end)
        if if_match:
            options["if_match"] = if_match
        return options

    async def get_async(
        self,
        key: str,
        *,
        start: int | None = None,
        end: int | None = None,
        if_match: str | None = None,
    ) -> bytes:
        """The object's bytes, or bytes [start, end) of it."""
        _store_key(key)
        if not validate_range(start, end):
            return b""
        result = await self.guard(
            obstore.get_async(self.store, key, options=self._get_options(start, end, if_match)),  # type: ignore[arg-type]
            key,
        )
        data = await self.guard(result.bytes_async(), key)
        return bytes(data)

    async def stream_async(
        self,
        key: str,
        *,
        start: int | None = None,
        end: int | None = None,
        if_match: str | None = None,
        chunk_size: int = DEFAULT_CHUNK,
    ) -> AsyncIterator[bytes]:
        _store_key(key)
        if not validate_range(start, end):
            return
        result = await self.guard(
            obstore.get_async(self.store, key, options=self._get_options(start, end, if_match)),  # type: ignore[arg-type]
            key,
        )
        stream = result.stream(min_chunk_size=chunk_size)
        while True:
            try:
                chunk = await self.guard(stream.__anext__(), key)
            except StopAsyncIteration:
                return
            yield bytes(chunk)

    async def head_async(self, key: str) -> ObjectInfo:
        _store_key(key)
        result = await self.guard(obstore.get_async(self.store, key, options={"head": True}), key)
        return _info(result.meta, result.attributes)

    async def exists_async(self, key: str) -> bool:
        _store_key(key)
        try:
            await self.guard(obstore.head_async(self.store, key), key)
        except ObjectNotFound:
            return False
        return True

    async def list_async(
        self,
        prefix: str = "",
        *,
        delimiter: str | None = None,
        start_after: str | None = None,
        page_size: int = 1000,
        with_storage_class: bool = False,
    ) -> AsyncIterator[ObjectInfo | Prefix]:
        """Objects under `prefix` in key order, one page at a time.

        With a delimiter, or when storage classes are wanted (obstore does not report them),
        pages come from boto3's ListObjectsV2.
        """
        if delimiter or with_storage_class:
            async for entry in self._list_boto(prefix, delimiter, start_after, page_size):
                yield entry
            return
        # obstore matches a prefix by whole path segments ("a/b" does not match "a/bc"), while
        # S3 prefixes are plain string prefixes: list the enclosing folder from just before the
        # prefix, keep the keys that match, and stop at the first key past the prefix.
        folder = prefix.rsplit("/", 1)[0] if "/" in prefix else None
        offset = max(start_after or "", prefix[:-1]) or None
        stream = obstore.list(self.store, folder or None, offset=offset, chunk_size=page_size)
        while True:
            try:
                page = await self.guard(stream.__anext__())
            except StopAsyncIteration:
                return
            for meta in page:
                key = str(meta["path"])
                if key.startswith(prefix):
                    yield _info(meta)
                elif key > prefix:
                    return

    async def _list_boto(
        self, prefix: str, delimiter: str | None, start_after: str | None, page_size: int
    ) -> AsyncIterator[ObjectInfo | Prefix]:
        client = self.session.client("s3")
        kwargs: dict[str, Any] = {"Bucket": self.bucket, "Prefix": prefix, "MaxKeys": page_size}
        if delimiter:
            kwargs["Delimiter"] = delimiter
        if start_after:
            kwargs["StartAfter"] = start_after
        while True:
            try:
                page = await asyncio.to_thread(client.list_objects_v2, **kwargs)
            except Exception as exc:
                raise translate(
                    exc, bucket=self.bucket, endpoint=self.session.endpoint_url
                ) from exc
            entries: list[ObjectInfo | Prefix] = [
                Prefix(p["Prefix"]) for p in page.get("CommonPrefixes", [])
            ]
            entries += [
                ObjectInfo(
                    key=o["Key"],
                    size=int(o.get("Size", 0)),
                    last_modified=o["LastModified"],
                    etag=o.get("ETag"),
                    storage_class=o.get("StorageClass"),
                )
                for o in page.get("Contents", [])
            ]
            entries.sort(key=lambda e: e.key.encode("utf-8"))
            for entry in entries:
                yield entry
            token = page.get("NextContinuationToken")
            if not page.get("IsTruncated") or not token:
                return
            kwargs["ContinuationToken"] = token
            kwargs.pop("StartAfter", None)


async def _nonempty_chunks(body: Iterable[bytes] | AsyncIterable[bytes]) -> AsyncIterator[bytes]:
    """Re-yield a byte stream as `bytes`, dropping empty chunks."""
    if isinstance(body, AsyncIterable):
        async for chunk in body:
            if chunk:
                yield bytes(chunk)
    else:
        for chunk in body:
            if chunk:
                yield bytes(chunk)
