"""S3Storage: the Storage protocol for one bucket, every request a signed one on `S3Http`.

Every call — put, get, ranges, head, delete, copy, listings, bulk deletes — goes out on the
Session's shared signed-request path (`storage/s3http.py`): keys are sent exactly as S3 has them
(the folder marker 'photos/' stays 'photos/'), a redirect is never followed (so neither the
signature nor a session token reaches another host), header names are read case-insensitively,
and one retry policy and one error translation apply to all of them. Copies from another bucket
go the same way (CopyObject names its source in a header).

Both listings — objects (ListObjectsV2) and versions (ListObjectVersions) — are paged by the one
loop `S3Storage._page_steps`, each page parsed by its own reader, with a blocking driver (`list`,
no event loop: `s3kit ls` imports no asyncio) and an async one (`list_async`); every caller (ls,
sync, batch, cost, `object versions`, emptying and deleting a bucket) lists through them.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import re
import xml.etree.ElementTree as ET
from collections.abc import (
    AsyncIterable,
    AsyncIterator,
    Callable,
    Generator,
    Iterable,
    Iterator,
    Mapping,
    Sequence,
)
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, TypeVar, cast
from urllib.parse import unquote_plus

from s3kit._limits import DELETE_BATCH
from s3kit._uri import validate_bucket_name, validate_key
from s3kit.errors import (
    InvalidKey,
    NotSupported,
    ObjectNotFound,
    S3KitError,
    TransferError,
    UsageError,
    for_operation,
    translating,
)
from s3kit.storage.base import (
    DEFAULT_CHUNK,
    Body,
    DeleteFailure,
    DeleteReport,
    ObjectInfo,
    Prefix,
    PutMode,
    PutResult,
    SyncStorageMixin,
    plain_md5,
    user_metadata,
    validate_range,
)

if TYPE_CHECKING:
    from s3kit._encryption import Encryption
    from s3kit._session import Session
    from s3kit.storage.httpclient import Answer
    from s3kit.storage.s3http import Response

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# A stream or file handed to `put` is sent in one PUT, so it is held in memory: above this,
# the caller is pointed to the transfer layer (parallel parts, resume).
MAX_BUFFERED_PUT = 512 * 1024 * 1024
_S3_XMLNS = "http://s3.amazonaws.com/doc/2006-03-01/"
_NEXT_TOKEN = re.compile(rb"<NextContinuationToken>([^<]*)</NextContinuationToken>")

Cursor = dict[str, str]  # the query parameters that ask for a listing's next page
E = TypeVar("E")
Page = list  # a listing page's entries (in S3Storage, `list` names its listing method)


@dataclass(frozen=True, slots=True)
class VersionEntry:
    """One version or delete marker of a key; `version_id` is "null" for an object written
    before versioning was enabled. A delete marker has no size, ETag or storage class."""

    key: str
    version_id: str
    is_latest: bool
    is_delete_marker: bool
    last_modified: datetime | None
    size: int = 0
    etag: str | None = None
    storage_class: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "version_id": self.version_id,
            "is_latest": self.is_latest,
            "delete_marker": self.is_delete_marker,
            "last_modified": self.last_modified.isoformat() if self.last_modified else None,
            "size": self.size,
            "etag": self.etag,
            "storage_class": self.storage_class,
        }


def object_key(key: str) -> str:
    """`key`, if every S3 server addresses exactly that object by it, else `InvalidKey`
    (before any request). Servers written in Go clean request paths (SeaweedFS, rclone), so
    an empty, '.' or '..' segment may name another key; a leading or trailing '/' belongs to
    folder markers, which `delete_many` and the folder-marker calls handle as listed."""
    _sendable_key(key)
    if key.startswith("/") or key.endswith("/"):
        _refuse(key, "it starts or ends with '/'")
    if any(part in ("", ".", "..") for part in key.split("/")):
        _refuse(key, "it has an empty, '.' or '..' path segment")
    return key


def _sendable_key(key: str) -> str:
    """`key`, if a raw request can name it exactly, else `InvalidKey`: XML 1.0, which request
    bodies such as DeleteObjects are written in, cannot carry control characters."""
    validate_key(key)
    if _CONTROL.search(key):
        _refuse(key, "it contains a control character")
    return key


def _refuse(key: str, problem: str) -> None:
    # For an upload the cure is renaming the local file; an object already stored under such a
    # key s3kit cannot name in any request (`s3kit mv` included), so another tool must rename it.
    raise InvalidKey(
        f"key {key!r} is not supported by s3kit's object transfers: {problem} — rename the"
        " file; an object already stored under that key can be renamed with `aws s3 mv`"
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

    def _read_headers(self) -> dict[str, str]:
        return self.encryption.read_headers() if self.encryption is not None else {}

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
        content_md5: str | None = None,
        verify: bool = True,
        acl: str | None = None,
        website_redirect: str | None = None,
    ) -> PutResult:
        """Write one object in one signed PUT with Content-MD5 (`content_md5`, hex, when the
        caller has it already), so the server refuses a body damaged on the way (BadDigest)
        and the object that was there stays as it was. A file or stream is read into memory
        first (up to 512 MiB: larger ones go through `TransferManager`, in parallel parts that
        resume). With `verify`, an ETag that is an MD5 other than the one sent is a
        TransferError."""
        object_key(key)
        attributes: dict[str, str] = dict(metadata or {})
        for name, value in (
            ("Content-Type", content_type),
            ("Cache-Control", cache_control),
            ("Content-Encoding", content_encoding),
            ("Storage-Class", storage_class),
            ("ACL", acl),
            ("Website-Redirect-Location", website_redirect),
        ):
            if value:
                attributes[name] = value
        if isinstance(body, bytes | bytearray | memoryview):
            return await self._put_verified(
                key, body, attributes, mode, if_match, content_md5, verify=verify
            )
        data = await _gather(key, body)
        return await self._put_verified(
            key, data, attributes, mode, if_match, content_md5, verify=verify
        )

    def put(
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
        content_md5: str | None = None,
        verify: bool = True,
        acl: str | None = None,
        website_redirect: str | None = None,
    ) -> PutResult:
        """The blocking twin of `put_async`, with all of its options."""
        from s3kit._aio import run_sync

        return run_sync(
            self.put_async(
                key, body, content_type=content_type, cache_control=cache_control,
                metadata=metadata, mode=mode, if_match=if_match,
                content_encoding=content_encoding, storage_class=storage_class,
                content_md5=content_md5, verify=verify, acl=acl,
                website_redirect=website_redirect,
            )
        )  # fmt: skip

    async def _put_verified(
        self,
        key: str,
        data: bytes | bytearray | memoryview,
        attributes: Mapping[str, str],
        mode: PutMode,
        if_match: str | None,
        content_md5: str | None,
        *,
        verify: bool,
    ) -> PutResult:
        md5 = content_md5 or hashlib.md5(data, usedforsecurity=False).hexdigest()
        headers = {
            "Content-MD5": base64.b64encode(bytes.fromhex(md5)).decode(),
            "Content-Length": str(len(data)),
            **object_headers(attributes),
        }
        if self.encryption is not None:
            headers.update(self.encryption.write_headers())
        if if_match:
            headers["If-Match"] = if_match if if_match.startswith('"') else f'"{if_match}"'
        elif mode == "create":
            headers["If-None-Match"] = "*"
        response = await self.session.http().request_async(
            "PUT", self.bucket, key, headers=headers, body=data
        )
        etag = response.headers.get("ETag")
        if (
            verify
            and plain_md5(etag)
            and plain_md5(etag) != md5
            and not (self.encryption is not None and self.encryption.changes_etag)
        ):
            # The server took bytes other than the ones sent and did not refuse them: it does
            # not check Content-MD5 (see `s3kit probe`). Deleting the key now would not bring
            # back what it held before, so it is left, and said.
            raise TransferError(
                f"s3://{self.bucket}/{key}: the server stored bytes other than the ones sent"
                f" (ETag {etag}, MD5 {md5}) and did not check Content-MD5 — the object there"
                " may be damaged; copy it again"
            )
        return PutResult(etag=etag, version_id=response.headers.get("x-amz-version-id"))

    async def delete_async(self, key: str) -> None:
        object_key(key)
        await self.session.http().request_async("DELETE", self.bucket, key)

    async def delete_many_async(
        self,
        keys: Sequence[str | tuple[str, str | None]],
        *,
        batch_size: int = DELETE_BATCH,
    ) -> DeleteReport:
        """Delete exactly these keys — folder markers ('photos/') too, as listed; a (key,
        version id) pair deletes that version — in DeleteObjects requests of up to 1,000.

        The one bulk delete every caller uses (rm -r, object delete-many, batch, sync, emptying
        a bucket). It reports key by key and never stops at a refused key: a key the server
        refuses is a failure with its code; a request that fails as a whole (after its
        retries) makes a failure of each of its keys, and the next request is still sent."""
        if not 1 <= batch_size <= DELETE_BATCH:
            raise UsageError(f"batch size must be 1 to {DELETE_BATCH}")
        items = [(k, None) if isinstance(k, str) else k for k in keys]
        for key, _ in items:
            _sendable_key(key)
        http = self.session.http()
        report = DeleteReport()
        for start in range(0, len(items), batch_size):
            batch = items[start : start + batch_size]
            body = _delete_body(batch)
            headers = {
                "Content-Type": "application/xml",
                "Content-MD5": base64.b64encode(
                    hashlib.md5(body, usedforsecurity=False).digest()
                ).decode(),
            }
            try:
                response = await http.request_async(
                    "POST", self.bucket, "", query={"delete": ""}, headers=headers, body=body
                )
            except S3KitError as exc:
                code = exc.code or type(exc).__name__
                report.failures += [DeleteFailure(k, code, exc.message, v) for k, v in batch]
                continue
            refused = self._refused(response.body)
            report.failures += refused
            # A refusal names the version when the request did; one that does not (some
            # stores leave it out) stands for every version of the key asked for.
            whole = {f.key for f in refused if f.version_id is None}
            exact = {(f.key, f.version_id) for f in refused if f.version_id is not None}
            report.deleted += [k for k, v in batch if k not in whole and (k, v) not in exact]
        return report

    def delete_many(
        self,
        keys: Sequence[str | tuple[str, str | None]],
        *,
        batch_size: int = DELETE_BATCH,
    ) -> DeleteReport:
        """The blocking twin of `delete_many_async`."""
        from s3kit._aio import run_sync

        return run_sync(self.delete_many_async(keys, batch_size=batch_size))

    def _refused(self, body: bytes) -> list[DeleteFailure]:
        """The keys a DeleteObjects answer (200) lists as not deleted."""
        if not body.strip():
            return []
        root = _parse(body, self.bucket)
        ns = _namespace(root)
        return [
            DeleteFailure(
                error.findtext(f"{ns}Key") or "",
                error.findtext(f"{ns}Code") or "",
                error.findtext(f"{ns}Message") or "",
                error.findtext(f"{ns}VersionId") or None,
            )
            for error in root.findall(f"{ns}Error")
        ]

    async def copy_async(
        self, src_key: str, dst_key: str, *, src_bucket: str | None = None
    ) -> None:
        """Server-side copy (CopyObject, metadata copied) of `src_bucket`/`src_key` (default:
        this bucket) to `dst_key`, in this storage's encryption."""
        from s3kit.storage.s3http import copy_source

        object_key(src_key)
        object_key(dst_key)
        headers = {
            "x-amz-copy-source": copy_source(src_bucket or self.bucket, src_key),
            "x-amz-metadata-directive": "COPY",
        }
        if self.encryption is not None:
            headers.update(self.encryption.write_headers())
            for name, value in self.encryption.read_headers().items():
                headers[name.replace("x-amz-", "x-amz-copy-source-", 1)] = value
        await self.session.http().request_async("PUT", self.bucket, dst_key, headers=headers)

    # -- reads -----------------------------------------------------------------------------

    def _get_headers(
        self, start: int | None, end: int | None, if_match: str | None
    ) -> dict[str, str]:
        headers = self._read_headers()
        if start is not None or end is not None:
            last = "" if end is None else str(end - 1)
            headers["Range"] = f"bytes={start or 0}-{last}"
        if if_match:
            headers["If-Match"] = if_match
        return headers

    async def get_async(
        self,
        key: str,
        *,
        start: int | None = None,
        end: int | None = None,
        if_match: str | None = None,
    ) -> bytes:
        """The object's bytes, or bytes [start, end) of it."""
        object_key(key)
        if not validate_range(start, end):
            return b""
        response = await self.session.http().request_async(
            "GET", self.bucket, key, headers=self._get_headers(start, end, if_match)
        )
        if (start is not None or end is not None) and not _just_the_range(
            response.status, response.headers
        ):
            return response.body[start:end]  # a store that ignored the Range sent it all
        return response.body

    async def stream_async(
        self,
        key: str,
        *,
        start: int | None = None,
        end: int | None = None,
        if_match: str | None = None,
        chunk_size: int = DEFAULT_CHUNK,
    ) -> AsyncIterator[bytes]:
        """The object's bytes (or bytes [start, end)) in chunks of up to `chunk_size`. A store
        that answers a ranged GET with the whole object (200) still yields just the range."""
        object_key(key)
        if not validate_range(start, end):
            return
        http = self.session.http()
        answer: Answer = await http.open_async(
            "GET", self.bucket, key, headers=self._get_headers(start, end, if_match)
        )
        try:
            whole = (start is not None or end is not None) and not _just_the_range(
                answer.status, answer.headers
            )
            skip = (start or 0) if whole else 0
            left = end - (start or 0) if whole and end is not None else None
            while left is None or left > 0:
                chunk = await http.read_async(answer, chunk_size)
                if not chunk:
                    return
                if skip:
                    dropped = min(skip, len(chunk))
                    chunk, skip = chunk[dropped:], skip - dropped
                if left is not None:
                    chunk = chunk[:left]
                    left -= len(chunk)
                if chunk:
                    yield chunk
        finally:
            answer.close()

    async def head_async(self, key: str, *, version_id: str | None = None) -> ObjectInfo:
        """The object's (or, with `version_id`, that version's) size, ETag and metadata."""
        object_key(key)
        response = await self.session.http().request_async(
            "HEAD",
            self.bucket,
            key,
            query={"versionId": version_id} if version_id else None,
            headers=self._read_headers(),
        )
        return head_info(key, response.headers)

    async def exists_async(self, key: str) -> bool:
        try:
            await self.head_async(key)
        except ObjectNotFound:
            return False
        return True

    def list(
        self,
        prefix: str = "",
        *,
        delimiter: str | None = None,
        start_after: str | None = None,
        page_size: int = 1000,
    ) -> Iterator[ObjectInfo | Prefix]:
        """The blocking twin of `list_async`: the same pages, fetched without an event loop
        (the page a reader waits for on the calling thread, one read ahead on this session's
        threads), so a command that only lists, such as `s3kit ls`, needs no asyncio."""
        query = _objects_query(prefix, delimiter, start_after, page_size)
        for page in self._pages(query, _objects_page, peek=_early_cursor):
            yield from page

    async def list_async(
        self,
        prefix: str = "",
        *,
        delimiter: str | None = None,
        start_after: str | None = None,
        page_size: int = 1000,
    ) -> AsyncIterator[ObjectInfo | Prefix]:
        """Objects (with a delimiter, also common prefixes) under `prefix` in the server's key
        order (S3's is UTF-8 byte order), every key exactly as S3 has it, fetched and yielded
        one page at a time.

        Each page is a signed ListObjectsV2 request with `encoding-type=url`, so that keys with
        characters XML 1.0 cannot carry still arrive; entries carry their storage class.
        """
        query = _objects_query(prefix, delimiter, start_after, page_size)
        async for page in self._pages_async(query, _objects_page, peek=_early_cursor):
            for entry in page:
                yield entry

    def _versions_query(self, prefix: str, page_size: int) -> dict[str, str]:
        query = {"versions": "", "encoding-type": "url", "max-keys": str(page_size)}
        if prefix:
            query["prefix"] = prefix
        return query

    async def list_versions_async(
        self, prefix: str = "", *, page_size: int = 1000
    ) -> AsyncIterator[VersionEntry]:
        """Every version and delete marker under `prefix`, keys in the server's order and each
        key's versions newest first, fetched and yielded one page at a time (a reader that
        stops after the first entry, as an emptiness check does, costs one request).

        Each page is a signed ListObjectVersions request with `encoding-type=url`, read as the
        object listing is, so keys come back exactly as S3 has them. (SeaweedFS 4.48 and moto
        5.2 ignore the parameter here and send keys as XML text, which cannot carry every
        control character.) A server without versions raises NotSupported naming the
        operation."""
        query = self._versions_query(prefix, page_size)
        try:
            async for page in self._pages_async(query, _versions_page):
                for entry in page:
                    yield entry
        except NotSupported as exc:
            raise self._versions_unsupported(exc) from exc

    def list_versions(self, prefix: str = "", *, page_size: int = 1000) -> Iterator[VersionEntry]:
        """The blocking twin of `list_versions_async` (no event loop, as `list`)."""
        try:
            for page in self._pages(self._versions_query(prefix, page_size), _versions_page):
                yield from page
        except NotSupported as exc:
            raise self._versions_unsupported(exc) from exc

    def _versions_unsupported(self, exc: NotSupported) -> S3KitError:
        return for_operation(exc, "list_object_versions", self.session.endpoint_label)

    def _pages(
        self,
        query: dict[str, str],
        read: Callable[[bytes, str], tuple[Page[E], Cursor | None]],
        *,
        peek: Callable[[bytes], Cursor | None] | None = None,
    ) -> Iterator[Page[E]]:
        """A listing's pages, in order, for a blocking reader (see `_page_steps`)."""
        with contextlib.closing(self._page_steps(query, read, peek, inline=True)) as steps:
            for step in steps:
                if not isinstance(step, Future):  # a Future's result is read by the steps
                    yield step

    async def _pages_async(
        self,
        query: dict[str, str],
        read: Callable[[bytes, str], tuple[Page[E], Cursor | None]],
        *,
        peek: Callable[[bytes], Cursor | None] | None = None,
    ) -> AsyncIterator[Page[E]]:
        """A listing's pages, in order, for an async reader: each request is awaited, so the
        loop runs on while the page comes (see `_page_steps`)."""
        import asyncio

        with contextlib.closing(self._page_steps(query, read, peek, inline=False)) as steps:
            for step in steps:
                if isinstance(step, Future):
                    # Its failure is raised by the steps, which read the result next.
                    with contextlib.suppress(Exception):
                        await asyncio.wrap_future(step)
                else:
                    yield step

    def _page_steps(
        self,
        query: dict[str, str],
        read: Callable[[bytes, str], tuple[Page[E], Cursor | None]],
        peek: Callable[[bytes], Cursor | None] | None,
        *,
        inline: bool,
    ) -> Generator[Future[Response] | Page[E]]:
        """The one page loop of every listing: `read` parses a page and names the next one.

        It yields each page's entries, and before it reads a request's answer, the request (a
        Future), so that the reader waits for it its own way: the async driver awaits it, the
        blocking one lets `result()` block here. With `inline`, a request the reader waits for
        at once is sent on the calling thread (no hand-over to a thread and back).

        With `peek` (which finds the next page's cursor without parsing), from the second page on
        the next page is requested before this one is parsed, so the server's time overlaps the
        parsing and the reader's work (a no-op sync is mostly this loop). The first is not: a
        reader that stops there, as a folder check does, costs no request it did not need."""
        http = self.session.http()

        def request(cursor: Cursor | None, *, now: bool) -> Future[Response]:
            page_query = dict(query)
            if cursor is not None:
                page_query.pop("start-after", None)  # it places the first page only
                page_query.update(cursor)
            if not (now and inline):
                # Sent now, on this session's threads, not when the reader next waits.
                return http.executor.submit(http.request, "GET", self.bucket, "", query=page_query)
            answered: Future[Response] = Future()
            try:
                answered.set_result(http.request("GET", self.bucket, "", query=page_query))
            except Exception as exc:
                answered.set_exception(exc)
            return answered

        pending: Future[Response] | None = None
        ahead: Future[Response] | None = None
        early: Cursor | None = None
        try:
            pending = request(None, now=True)
            yield pending
            response = pending.result()
            while True:
                entries, cursor = read(response.body, self.bucket)
                if early != cursor and ahead is not None:
                    ahead.cancel()  # asked for in vain: whatever it brings is no one's
                    ahead = None
                yield entries
                if cursor is None:
                    return
                pending = ahead if ahead is not None else request(cursor, now=True)
                ahead = None
                yield pending
                response = pending.result()
                early = peek(response.body) if peek is not None else None
                ahead = request(early, now=False) if early is not None else None
        finally:
            for future in (pending, ahead):
                if future is not None:
                    future.cancel()


def _objects_query(
    prefix: str, delimiter: str | None, start_after: str | None, page_size: int
) -> dict[str, str]:
    """The query of a ListObjectsV2 listing's first page."""
    query = {"list-type": "2", "encoding-type": "url", "max-keys": str(page_size)}
    if prefix:
        query["prefix"] = prefix
    if delimiter:
        query["delimiter"] = delimiter
    if start_after:
        query["start-after"] = start_after
    return query


def _just_the_range(status: int, headers: Mapping[str, str]) -> bool:
    """Whether the answer to a ranged GET holds only the range: a 206, or a 200 that says
    which bytes it holds (rclone serve s3 answers 200 with Content-Range and the range). A 200
    without Content-Range is the whole object, from a store that ignored the Range."""
    return status == 206 or bool(headers.get("Content-Range"))


def head_info(key: str, headers: Mapping[str, str]) -> ObjectInfo:
    """An object's ObjectInfo from the headers of a HEAD (or GET) answer."""
    return ObjectInfo(
        key=key,
        size=int(headers.get("Content-Length") or 0),
        last_modified=http_date(headers.get("Last-Modified")),
        etag=headers.get("ETag"),
        version_id=headers.get("x-amz-version-id"),
        storage_class=headers.get("x-amz-storage-class"),
        content_type=headers.get("Content-Type"),
        cache_control=headers.get("Cache-Control"),
        metadata=user_metadata(headers),
        content_encoding=headers.get("Content-Encoding"),
    )


def http_date(text: str | None) -> datetime:
    """An HTTP date ('Tue, 01 Dec 2026 12:00:00 GMT'); the epoch when there is none."""
    if not text:
        return datetime.fromtimestamp(0, UTC)
    try:
        return datetime.strptime(text, "%a, %d %b %Y %H:%M:%S GMT").replace(tzinfo=UTC)
    except ValueError:
        from email.utils import parsedate_to_datetime

        try:
            parsed = parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return datetime.fromtimestamp(0, UTC)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


async def _gather(key: str, body: Body) -> bytes:
    """The whole of a file or stream body, for one PUT."""
    import asyncio

    def too_big() -> UsageError:
        return UsageError(
            f"{key}: a body over {MAX_BUFFERED_PUT >> 20} MiB is not sent in one PUT from"
            " memory — upload it with TransferManager (or `s3kit cp`), in parallel parts"
        )

    if isinstance(body, Path):
        with translating(path=str(body)):
            if body.stat().st_size > MAX_BUFFERED_PUT:
                raise too_big()
            return await asyncio.to_thread(body.read_bytes)
    pieces: list[bytes] = []
    total = 0

    def keep(block: bytes | bytearray | memoryview) -> None:
        nonlocal total
        pieces.append(bytes(block))
        total += len(block)
        if total > MAX_BUFFERED_PUT:
            raise too_big()

    if isinstance(body, AsyncIterable):
        async for block in body:
            keep(block)
    elif hasattr(body, "read"):
        handle = cast("IO[bytes]", body)
        while block := await asyncio.to_thread(handle.read, 1 << 20):
            keep(block)
    else:
        for block in cast("Iterable[bytes]", body):
            keep(block)
    return b"".join(pieces)


_ATTRIBUTE_HEADERS = {
    "Content-Type": "Content-Type",
    "Cache-Control": "Cache-Control",
    "Content-Disposition": "Content-Disposition",
    "Content-Encoding": "Content-Encoding",
    "Content-Language": "Content-Language",
    "Storage-Class": "x-amz-storage-class",
    "ACL": "x-amz-acl",  # a canned ACL
    # A zero-byte object that website hosting answers with a 301 to this location.
    "Website-Redirect-Location": "x-amz-website-redirect-location",
}


def object_headers(attributes: Mapping[str, str]) -> dict[str, str]:
    """Request headers for an object's attributes (Content-Type, ..., Storage-Class), with
    everything else as user metadata."""
    return {
        _ATTRIBUTE_HEADERS.get(name, f"x-amz-meta-{name}"): value
        for name, value in attributes.items()
    }


def _early_token(body: bytes) -> str | None:
    """A page's NextContinuationToken read before the page is parsed (None when not found
    written plainly; the parsed page then says, and is the authority)."""
    at = body.rfind(b"<NextContinuationToken>")
    match = _NEXT_TOKEN.match(body, at) if at >= 0 else None
    if match is None:
        return None
    try:  # the token is XML text: undo its character and entity references
        return ET.fromstring(b"<t>" + match.group(1) + b"</t>").text  # noqa: S314
    except ET.ParseError:
        return None


def _token_cursor(token: str | None) -> Cursor | None:
    return None if token is None else {"continuation-token": token}


def _early_cursor(body: bytes) -> Cursor | None:
    return _token_cursor(_early_token(body))


def escape(text: str) -> str:
    """XML text, written as html.escape writes it. (The stdlib's XML escape, in
    xml.sax.saxutils, imports urllib.request, +12 ms; html imports its entity tables, +1.4 ms,
    which every command that imports this module would pay.)"""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace('"', "&quot;").replace("'", "&#x27;")


def _delete_body(items: Sequence[tuple[str, str | None]]) -> bytes:
    """A quiet DeleteObjects request: the answer lists only the keys that failed."""
    objects = "".join(
        f"<Object><Key>{escape(key)}</Key>"
        + (f"<VersionId>{escape(version)}</VersionId>" if version else "")
        + "</Object>"
        for key, version in items
    )
    return f'<Delete xmlns="{_S3_XMLNS}"><Quiet>true</Quiet>{objects}</Delete>'.encode()


def _parse(body: bytes, bucket: str) -> ET.Element:
    try:
        return ET.fromstring(body)  # noqa: S314 - the configured S3 endpoint's answer
    except ET.ParseError as exc:
        raise S3KitError(f"s3://{bucket}: the server's answer is not valid XML ({exc})") from exc


def _namespace(root: ET.Element) -> str:
    """'{uri}' of the root's namespace, '' without one, to prefix the tags found under it
    (cheaper than renaming every element of a 1,000-key page, as `Response.xml` does)."""
    return root.tag[: root.tag.find("}") + 1]


def _same(text: str) -> str:
    return text


def _listing_page(body: bytes, bucket: str) -> tuple[list[ObjectInfo | Prefix], str | None]:
    """The entries of one ListObjectsV2 answer and its continuation token (None on the last).

    Keys and prefixes come URL-encoded when the server honours `encoding-type=url` (and says so
    in EncodingType), with '+' for a space as AWS and SeaweedFS write it (moto writes '%20');
    a server that ignores the parameter sends them as they are. With a delimiter the page's
    prefixes are merged into its objects in key order.
    """
    root = _parse(body, bucket)
    ns = _namespace(root)
    decode = unquote_plus if root.findtext(f"{ns}EncodingType") == "url" else _same
    key, size, modified, etag, storage_class = (
        f"{ns}{name}" for name in ("Key", "Size", "LastModified", "ETag", "StorageClass")
    )
    # findall/findtext with a plain tag run in C; iterfind and per-child Python loops cost
    # twice as much over a 1,000-key page.
    entries: list[ObjectInfo | Prefix] = [
        ObjectInfo(
            key=decode(element.findtext(key) or ""),
            size=int(element.findtext(size) or 0),
            last_modified=datetime.fromisoformat(element.findtext(modified) or ""),
            etag=element.findtext(etag),
            storage_class=element.findtext(storage_class),
        )
        for element in root.findall(f"{ns}Contents")
    ]
    prefixes = [
        Prefix(decode(element.text or ""))
        for element in root.findall(f"{ns}CommonPrefixes/{ns}Prefix")
    ]
    if prefixes:
        entries += prefixes
        entries.sort(key=lambda entry: entry.key.encode("utf-8"))
    return entries, _next_marker(root, ns, bucket, "NextContinuationToken", "continuation token")


def _next_marker(root: ET.Element, ns: str, bucket: str, tag: str, what: str) -> str | None:
    """The text of `tag`, which places a truncated page's successor; None on the last page."""
    if (root.findtext(f"{ns}IsTruncated") or "").lower() != "true":
        return None
    marker = root.findtext(f"{ns}{tag}")
    if not marker:
        # Stopping here would pass a partial listing off as whole (and sync --delete acts on it).
        raise S3KitError(
            f"s3://{bucket}: the server marked the listing as truncated but sent no {what},"
            " so it cannot be read to the end"
        )
    return marker


def _objects_page(body: bytes, bucket: str) -> tuple[list[ObjectInfo | Prefix], Cursor | None]:
    entries, token = _listing_page(body, bucket)
    return entries, _token_cursor(token)


def _version_order(entry: VersionEntry) -> tuple[str, bool, float]:
    stamp = entry.last_modified
    return (entry.key, not entry.is_latest, -stamp.timestamp() if stamp else float("inf"))


def _versions_page(body: bytes, bucket: str) -> tuple[list[VersionEntry], Cursor | None]:
    """The versions and delete markers of one ListObjectVersions answer, in key order and,
    within a key, newest first, and the cursor of the next page (None on the last).

    AWS interleaves Version and DeleteMarker elements in that order; moto writes every marker
    after every version, so a page is put in order here (a page is a contiguous run of the
    listing, so the pages stay in order). Keys — and NextKeyMarker, which is sent back
    decoded — come URL-encoded when the server says so in EncodingType, as in `_listing_page`.
    """
    root = _parse(body, bucket)
    ns = _namespace(root)
    decode = unquote_plus if root.findtext(f"{ns}EncodingType") == "url" else _same
    version, marker = f"{ns}Version", f"{ns}DeleteMarker"
    key, version_id, latest, modified, size, etag, storage_class = (
        f"{ns}{name}"
        for name in (
            "Key",
            "VersionId",
            "IsLatest",
            "LastModified",
            "Size",
            "ETag",
            "StorageClass",
        )
    )
    entries: list[VersionEntry] = []
    for element in root:
        if element.tag != version and element.tag != marker:
            continue
        stamp = element.findtext(modified)
        is_marker = element.tag == marker
        entries.append(
            VersionEntry(
                key=decode(element.findtext(key) or ""),
                version_id=element.findtext(version_id) or "null",
                is_latest=(element.findtext(latest) or "").lower() == "true",
                is_delete_marker=is_marker,
                last_modified=datetime.fromisoformat(stamp) if stamp else None,
                size=0 if is_marker else int(element.findtext(size) or 0),
                etag=None if is_marker else element.findtext(etag),
                storage_class=None if is_marker else element.findtext(storage_class),
            )
        )
    entries.sort(key=_version_order)
    next_key = _next_marker(root, ns, bucket, "NextKeyMarker", "NextKeyMarker")
    if next_key is None:
        return entries, None
    cursor = {"key-marker": decode(next_key)}
    next_version = root.findtext(f"{ns}NextVersionIdMarker")
    if next_version:
        cursor["version-id-marker"] = next_version
    return entries, cursor
