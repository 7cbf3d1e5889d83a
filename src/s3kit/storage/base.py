"""The Storage protocol: the few operations every backend (S3, local folder) offers.

Async first; `SyncStorageMixin` derives the blocking twins (`put` for `put_async`, ...) so each
backend writes every operation once. Listings are async iterators that fetch a page at a time:
nothing here ever holds a whole bucket's keys in memory.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Coroutine, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import IO, Any, Literal, Protocol, TypeVar, runtime_checkable

from s3kit.errors import UsageError

PutMode = Literal["overwrite", "create"]
Body = bytes | bytearray | memoryview | Path | IO[bytes] | Iterable[bytes] | AsyncIterable[bytes]
DEFAULT_CHUNK = 8 * 1024 * 1024


def validate_range(start: int | None, end: int | None) -> bool:
    """Check a byte range [start, end); returns False when it is empty (nothing to fetch)."""
    if (start is not None and start < 0) or (end is not None and end < 0):
        raise UsageError(f"byte range [{start}, {end}) has a negative bound")
    if end is not None and end < (start or 0):
        raise UsageError(f"byte range [{start}, {end}) ends before it starts")
    return end is None or end > (start or 0)


def normalise_etag(etag: str | None) -> str:
    """An ETag as compared: unquoted, trimmed, lower case (the one rule for every comparison;
    a header or a state file keeps the server's own spelling)."""
    return (etag or "").strip().strip('"').lower()


def etags_match(expected: str | None, actual: str | None) -> bool:
    return normalise_etag(expected) == normalise_etag(actual)


def user_metadata(headers: Mapping[str, str]) -> dict[str, str]:
    """The x-amz-meta-* of response headers (any case), by their names, lower case."""
    prefix = "x-amz-meta-"
    lowered = ((name.lower(), value) for name, value in headers.items())
    return {name[len(prefix) :]: value for name, value in lowered if name.startswith(prefix)}


def plain_md5(etag: str | None) -> str | None:
    """The MD5 a single-part ETag is (lower case, unquoted), or None: multipart ETags
    ("…-N"), and the ETags of SSE-KMS/SSE-C objects or of stores with their own form."""
    value = normalise_etag(etag)
    return value if len(value) == 32 and all(c in "0123456789abcdef" for c in value) else None


@dataclass(frozen=True, slots=True)
class ObjectInfo:
    """One object. `metadata`, `content_type`, `cache_control` and `content_encoding` are
    filled by `head` only."""

    key: str
    size: int
    last_modified: datetime
    etag: str | None = None
    storage_class: str | None = None
    version_id: str | None = None
    content_type: str | None = None
    cache_control: str | None = None
    metadata: Mapping[str, str] = field(default_factory=dict)
    content_encoding: str | None = None


@dataclass(frozen=True, slots=True)
class DeleteFailure:
    """One key (or version) a bulk delete could not remove, with the server's reason."""

    key: str
    code: str
    message: str
    version_id: str | None = None


@dataclass(slots=True)
class DeleteReport:
    """What a bulk delete did, key by key: nothing stops at the first refused key."""

    deleted: list[str] = field(default_factory=list)
    failures: list[DeleteFailure] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures


@dataclass(frozen=True, slots=True)
class Prefix:
    """A common prefix (a "folder") in a listing with a delimiter."""

    key: str


@dataclass(frozen=True, slots=True)
class PutResult:
    etag: str | None
    version_id: str | None = None


@runtime_checkable
class Storage(Protocol):
    """A flat namespace of keys; `S3Storage` and `LocalStorage` implement it."""

    @property
    def url(self) -> str: ...

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
    ) -> PutResult: ...

    async def get_async(
        self,
        key: str,
        *,
        start: int | None = None,
        end: int | None = None,
        if_match: str | None = None,
    ) -> bytes: ...

    def stream_async(
        self,
        key: str,
        *,
        start: int | None = None,
        end: int | None = None,
        if_match: str | None = None,
        chunk_size: int = DEFAULT_CHUNK,
    ) -> AsyncIterator[bytes]: ...

    async def head_async(self, key: str) -> ObjectInfo: ...

    async def exists_async(self, key: str) -> bool: ...

    async def delete_async(self, key: str) -> None: ...

    def list_async(
        self,
        prefix: str = "",
        *,
        delimiter: str | None = None,
        start_after: str | None = None,
        page_size: int = 1000,
    ) -> AsyncIterator[ObjectInfo | Prefix]: ...

    async def copy_async(self, src_key: str, dst_key: str) -> None: ...


T = TypeVar("T")


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """`_aio.run_sync`, imported (with asyncio) when a blocking twin is first called: a
    backend may answer some calls without an event loop (S3Storage.list)."""
    from s3kit._aio import run_sync

    return run_sync(coro)


def iter_sync(agen: AsyncIterator[T]) -> Iterator[T]:
    """`_aio.iter_sync`, imported as `run_sync` is."""
    from s3kit._aio import iter_sync

    return iter_sync(agen)


class SyncStorageMixin:
    """Blocking twins of the async operations, for scripts and the CLI."""

    def put(
        self: Storage,
        key: str,
        body: Body,
        *,
        content_type: str | None = None,
        cache_control: str | None = None,
        metadata: Mapping[str, str] | None = None,
        mode: PutMode = "overwrite",
        if_match: str | None = None,
    ) -> PutResult:
        return run_sync(
            self.put_async(
                key,
                body,
                content_type=content_type,
                cache_control=cache_control,
                metadata=metadata,
                mode=mode,
                if_match=if_match,
            )
        )

    def get(
        self: Storage,
        key: str,
        *,
        start: int | None = None,
        end: int | None = None,
        if_match: str | None = None,
    ) -> bytes:
        return run_sync(self.get_async(key, start=start, end=end, if_match=if_match))

    def stream(
        self: Storage,
        key: str,
        *,
        start: int | None = None,
        end: int | None = None,
        if_match: str | None = None,
        chunk_size: int = DEFAULT_CHUNK,
    ) -> Iterator[bytes]:
        return iter_sync(
            self.stream_async(key, start=start, end=end, if_match=if_match, chunk_size=chunk_size)
        )

    def head(self: Storage, key: str) -> ObjectInfo:
        return run_sync(self.head_async(key))

    def exists(self: Storage, key: str) -> bool:
        return run_sync(self.exists_async(key))

    def delete(self: Storage, key: str) -> None:
        run_sync(self.delete_async(key))

    def list(
        self: Storage,
        prefix: str = "",
        *,
        delimiter: str | None = None,
        start_after: str | None = None,
        page_size: int = 1000,
    ) -> Iterator[ObjectInfo | Prefix]:
        return iter_sync(
            self.list_async(
                prefix, delimiter=delimiter, start_after=start_after, page_size=page_size
            )
        )

    def copy(self: Storage, src_key: str, dst_key: str) -> None:
        run_sync(self.copy_async(src_key, dst_key))
