"""Signed S3 requests: the one path every object read and write, listing and delete takes.

Every data-plane call — PUTs with Content-MD5, GETs (whole, ranged, streamed), HEADs, deletes,
copies, exact listings, bulk deletes, folder markers and every multipart call — is sent here,
over keep-alive sockets (see `httpclient`) with the SigV4 signer, retried as the Session's
`RetryPolicy` says and its `RetryBudget` allows (the ones boto3's clients obey too), and
translated into s3kit errors that name the S3 code, status, operation, bucket, key and
request id. Each attempt is published to the Session's request events (`s3kit.events`) when
anyone listens. Two drivers send the attempts, and share everything but the socket I/O
(`_Call`): blocking calls (and their `*_async` forms, on this path's threads), and small
GetObject/PutObject exchanges sent from the event loop itself (`send_small_async`, see
`loopclient`), which cost no hand-over of the interpreter lock to a thread and back.
Endpoint, region, addressing style, credentials, retries and timeouts come from the Session,
as boto3's do. It must never import boto3: it is on the hot path of every
transfer and sync.

Callers name the operation (`operation="UploadPart"`); without a name it is told from the
method, key, query and headers (`operation_name`). An error names its real cause where the
answer alone does not: a HEAD's 404 has no body, so the bucket is looked at (once) before the
key is called missing; what the request asked of the encryption (an SSE-C key, SSE-KMS) tells
a wrong key or a store without KMS from a refusal or a server failure.

What it must never do: follow a redirect (the signature and the session token would go to
another host: a 3xx is an error naming the new location), send an SSE-C key in clear text to
another machine (checked here, on every request that carries one), or read header names as
case-sensitive (rclone serve s3 and Go reverse proxies send `Etag`).
"""

from __future__ import annotations

import functools
import re
import threading
import time
import weakref
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

from s3kit._observe import logger
from s3kit._retry import RetryKind, RetryPolicy, decide, retry_kind
from s3kit.errors import (
    BucketNotFound,
    EncryptionAsked,
    EndpointError,
    ObjectNotFound,
    S3KitError,
    from_code,
    retry_budget_spent,
)
from s3kit.events import RequestEvent
from s3kit.storage.httpclient import Answer, ConnectionPool
from s3kit.storage.sigv4 import canonical_query, sign_headers, uri_encode

if TYPE_CHECKING:  # the Session builds this client; this module never imports it
    import asyncio

    from s3kit._session import Session
    from s3kit.storage.loopclient import LoopPool

_CUSTOMER_KEY_HEADERS = (
    "x-amz-server-side-encryption-customer-key",
    "x-amz-copy-source-server-side-encryption-customer-key",
)
_NS = re.compile(r"\{[^}]*\}")
# Server-side copies: SeaweedFS answers one into a missing bucket 500 (see `_send`).
_COPIES = frozenset({"CopyObject", "UploadPartCopy"})


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    headers: Mapping[str, str]
    body: bytes

    def xml(self) -> ET.Element:
        root = ET.fromstring(self.body)  # noqa: S314 - the configured S3 endpoint's answer
        for element in root.iter():
            element.tag = _NS.sub("", element.tag)
        return root


# ListObjects (v1) parameters: a bucket GET with only these is a listing.
_LIST_PARAMETERS = frozenset({"prefix", "delimiter", "marker", "max-keys", "encoding-type"})
# Object subresources, by the name S3 gives their operations (GetObjectTagging, ...).
_OBJECT_SUBRESOURCES = {
    "tagging": "ObjectTagging",
    "acl": "ObjectAcl",
    "retention": "ObjectRetention",
    "legal-hold": "ObjectLegalHold",
}
_VERBS = {"GET": "Get", "PUT": "Put", "DELETE": "Delete"}


def operation_name(
    method: str, key: str, query: Mapping[str, str], headers: Mapping[str, str] | None
) -> str:
    """The S3 operation a request is ("PutObject", "ListObjectsV2", "UploadPartCopy"), told from
    what it sends; the method itself for one this does not know."""
    if key:
        for parameter, name in _OBJECT_SUBRESOURCES.items():
            if parameter in query and method in _VERBS:
                return _VERBS[method] + name
        copy = headers is not None and any(n.lower() == "x-amz-copy-source" for n in headers)
        if method == "GET":
            if "uploadId" in query:
                return "ListParts"
            return "GetObjectAttributes" if "attributes" in query else "GetObject"
        if method == "HEAD":
            return "HeadObject"
        if method == "PUT":
            if "uploadId" in query:
                return "UploadPartCopy" if copy else "UploadPart"
            return "CopyObject" if copy else "PutObject"
        if method == "POST":
            if "uploads" in query:
                return "CreateMultipartUpload"
            if "uploadId" in query:
                return "CompleteMultipartUpload"
            if "restore" in query:
                return "RestoreObject"
        if method == "DELETE":
            return "AbortMultipartUpload" if "uploadId" in query else "DeleteObject"
        return method
    if method == "GET":
        if "uploads" in query:
            return "ListMultipartUploads"
        if "versions" in query:
            return "ListObjectVersions"
        if query.get("list-type") == "2":
            return "ListObjectsV2"
        return "ListObjects" if _LIST_PARAMETERS.issuperset(query) else method
    if not query:
        bucket_operations = {"HEAD": "HeadBucket", "PUT": "CreateBucket", "DELETE": "DeleteBucket"}
        return bucket_operations.get(method, method)
    if method == "POST" and "delete" in query:
        return "DeleteObjects"
    return method


def _announced(answer: Answer) -> int:
    """The body length a streamed answer announces (0 if it does not say)."""
    length = answer.headers.get("Content-Length", "")
    return int(length) if length.isdigit() else 0


def copy_source(bucket: str, key: str, version_id: str | None = None) -> str:
    """The x-amz-copy-source header naming `bucket`/`key` (and one version of it)."""
    named = "/" + uri_encode(f"{bucket}/{key}", keep_slash=True)
    return f"{named}?versionId={uri_encode(version_id, keep_slash=False)}" if version_id else named


def _request_id(headers: Mapping[str, str]) -> str | None:
    """The answer's request id, read as botocore reads it (moto sends only x-amzn-requestid)."""
    return headers.get("x-amzn-requestid") or headers.get("x-amz-request-id") or None


def _error_in_body(response: Response) -> bool:
    """CopyObject, UploadPartCopy and CompleteMultipartUpload may fail after sending their
    200 status line: the error then arrives as the XML body."""
    head = response.body[:512]
    if b"<Error>" not in head:
        return False
    try:
        return response.xml().tag == "Error"
    except ET.ParseError:
        return False


def encryption_asked(headers: Mapping[str, str] | None) -> EncryptionAsked | None:
    """What a request asks of the server's encryption (see `errors.from_code`)."""
    names = {name.lower(): value for name, value in (headers or {}).items()}
    if _CUSTOMER_KEY_HEADERS[1] in names:
        return "sse-c-source"
    if _CUSTOMER_KEY_HEADERS[0] in names:
        return "sse-c"
    if names.get("x-amz-server-side-encryption", "").lower().startswith("aws:kms"):
        return "aws:kms"
    return None


class S3Http:
    """Signed requests to one Session's endpoint. Thread-safe; blocking calls run in threads,
    small whole-object exchanges on the calling event loop (one connection pool per loop)."""

    def __init__(
        self, session: Session, *, pool_size: int = 16, loop_pool_size: int | None = None
    ) -> None:
        self.session = session
        self._pool_size = pool_size
        # Connections kept by each event loop's pool (`send_small_async`): as many as a run has
        # small exchanges under way at once, which may be more than it has threads.
        self._loop_pool_size = loop_pool_size or pool_size
        self._executor: ThreadPoolExecutor | None = None
        self._executor_lock = threading.Lock()
        self._pieces = threading.local()  # each thread's buffer for `read_through_async`
        settings = session.settings
        self.region = settings.region
        endpoint = session.endpoint_url
        self._virtual = endpoint is None and settings.addressing_style != "path"
        # With virtual-hosted style and an explicit endpoint, the endpoint names the bucket
        # already (https://BUCKET.s3-accelerate.amazonaws.com).
        self._bucket_in_endpoint = endpoint is not None and settings.addressing_style == "virtual"
        if endpoint is None:
            self.endpoint = f"https://s3.{self.region}.amazonaws.com"
        else:
            self.endpoint = endpoint.rstrip("/")
        self.retry: RetryPolicy = session.retry_policy
        self.budget = session.retry_budget
        # Buckets seen to exist (`_missing_bucket`), and multipart uploads created asking for
        # SSE-KMS, whose parts carry no encryption header for an error to be read by.
        self._buckets_seen: set[str] = set()
        self._kms_uploads: set[str] = set()
        self._state_lock = threading.Lock()
        self._ssl_context = session.ssl_context() if self.endpoint.startswith("https:") else None
        self._loop_pools: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, LoopPool] = (
            weakref.WeakKeyDictionary()
        )
        self._pool = ConnectionPool(
            size=pool_size,
            connect_timeout=settings.connect_timeout,
            read_timeout=settings.read_timeout,
            ssl_context=self._ssl_context,
        )

    @property
    def max_retries(self) -> int:
        """Retries after a request's first attempt (the Session's policy)."""
        return self.retry.retries

    def target(self, bucket: str, key: str) -> tuple[str, str, str]:
        """(scheme://host, host, encoded path) for bucket/key."""
        parts = urlsplit(self.endpoint)
        encoded_key = uri_encode(key, keep_slash=True)
        if not bucket:  # the service itself (ListBuckets)
            host = parts.netloc
            path = f"{parts.path.rstrip('/')}/"
        elif self._bucket_in_endpoint:
            host = parts.netloc
            path = f"{parts.path.rstrip('/')}/{encoded_key}"
        elif self._virtual and "." not in bucket:
            host = f"{bucket}.{parts.netloc}"
            path = f"/{encoded_key}"
        else:
            host = parts.netloc
            prefix = parts.path.rstrip("/")
            path = f"{prefix}/{bucket}/{encoded_key}" if key else f"{prefix}/{bucket}"
        return f"{parts.scheme}://{host}", host, path

    def request(
        self,
        method: str,
        bucket: str,
        key: str,
        *,
        query: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        body: bytes | memoryview | None = None,
        operation: str | None = None,
    ) -> Response:
        """Send one request, with retries; raise an s3kit error for any non-2xx answer.
        `operation` is the S3 name errors and events give it (told from the request if None)."""
        answer = self._send(
            method, bucket, key, query, headers, body, stream=False, operation=operation
        )
        assert isinstance(answer, Response)
        return answer

    def open(
        self,
        method: str,
        bucket: str,
        key: str,
        *,
        query: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        prefetch: int = 0,
        operation: str | None = None,
    ) -> Answer:
        """As `request`, for an answer whose body the caller streams (object GETs): retried
        until a 2xx status line arrives, then the body is the caller's to read and close. A
        connection failing in the body raises OSError from `Answer.read`. A body of at most
        `prefetch` bytes is read at once, in the same call (and the request retried if that
        read fails), so that reading it costs no further round trip to a thread."""
        answer = self._send(
            method,
            bucket,
            key,
            query,
            headers,
            None,
            stream=True,
            prefetch=prefetch,
            operation=operation,
        )
        assert isinstance(answer, Answer)
        return answer

    def _send(
        self,
        method: str,
        bucket: str,
        key: str,
        query: Mapping[str, str] | None,
        headers: Mapping[str, str] | None,
        body: bytes | memoryview | None,
        *,
        stream: bool,
        prefetch: int = 0,
        operation: str | None = None,
    ) -> Response | Answer:
        call = _Call(self, method, bucket, key, query, headers, body, operation)
        while True:
            signed = call.sign()
            outcome: Response | Answer | OSError
            try:
                answer = self._pool.open(call.origin, method, call.target, signed, body)
                if stream and answer.status < 300:
                    try:
                        answer.prefetch(prefetch)
                    except BaseException:
                        answer.close()
                        raise
                    outcome = answer
                else:
                    with answer:
                        outcome = Response(answer.status, answer.headers, answer.read_all())
            except OSError as exc:
                outcome = exc
            # A GetObject's 200 body is the object, even one that reads as an <Error>.
            delay = call.settle(outcome, body_is_object=call.name == "GetObject")
            if delay is None:
                assert not isinstance(outcome, OSError)
                return outcome
            time.sleep(delay)

    async def send_small_async(
        self,
        method: str,
        bucket: str,
        key: str,
        *,
        query: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,
        limit: int = 0,
    ) -> Response | None:
        """A GetObject or PutObject sent from the event loop itself, with no thread (see
        `loopclient`): signed, retried, published and its errors translated exactly as
        `request` does. A GET's body is read whole if it is at most `limit` bytes; None when
        the object turns out larger (its answer left unread: ask again with `open_async`)."""
        import asyncio  # here and in every *_async: blocking callers (`s3kit ls`) need none

        call = _Call(self, method, bucket, key, query, headers, body, None)
        if call.name not in _ON_LOOP:
            raise ValueError(f"{call.name} is not sent from the event loop")
        pool = await self._loop_pool()
        while True:
            signed = call.sign()
            outcome: Response | OSError
            try:
                status, answer, content = await pool.send(
                    call.origin, method, call.target, signed, body, limit=limit
                )
                outcome = Response(status, answer, b"" if content is None else content)
            except OSError as exc:
                outcome = exc
                content = None
            delay = call.settle(outcome, body_is_object=call.name == "GetObject")
            if delay is None:
                assert isinstance(outcome, Response)
                return None if content is None else outcome
            await asyncio.sleep(delay)

    async def _loop_pool(self) -> LoopPool:
        """The running loop's pool of connections (a loop's sockets serve only that loop),
        closed when the loop shuts down its async generators (asyncio.run does, as it ends)."""
        import asyncio

        from s3kit.storage.loopclient import LoopPool

        loop = asyncio.get_running_loop()
        with self._executor_lock:
            pool = self._loop_pools.get(loop)
            if pool is not None:
                return pool
            settings = self.session.settings
            pool = self._loop_pools[loop] = LoopPool(
                size=self._loop_pool_size,
                connect_timeout=settings.connect_timeout,
                read_timeout=settings.read_timeout,
                ssl_context=self._ssl_context,
            )
        closer = _close_at_shutdown(self, loop, pool)
        await anext(closer)
        pool.closer = closer  # the loop keeps its async generators by weak reference only
        return pool

    def _missing_bucket(self, bucket: str) -> BucketNotFound | None:
        """After a HEAD of a key answered 404, whose answer has no body to say whether the key
        or the bucket is missing: the bucket's error if the bucket is missing. One HEAD of the
        bucket, asked once per bucket that turns out to exist; any other answer leaves the
        "no such key" as it was."""
        if bucket in self._buckets_seen:
            return None
        try:
            self.request("HEAD", bucket, "", operation="HeadBucket")
        except BucketNotFound as exc:
            return exc
        except S3KitError:
            return None
        with self._state_lock:
            self._buckets_seen.add(bucket)
        return None

    def _note_kms_upload(
        self, operation: str, query: Mapping[str, str], result: Response | Answer
    ) -> None:
        """Keep the ids of multipart uploads created with SSE-KMS while they are open: a store
        without a KMS may accept the CreateMultipartUpload and fail only its parts."""
        if operation == "CreateMultipartUpload" and isinstance(result, Response):
            try:
                upload_id = result.xml().findtext("UploadId")
            except ET.ParseError:
                return
            if upload_id:
                with self._state_lock:
                    self._kms_uploads.add(upload_id)
        elif operation in ("CompleteMultipartUpload", "AbortMultipartUpload"):
            with self._state_lock:
                self._kms_uploads.discard(query.get("uploadId", ""))

    def unreachable(
        self,
        exc: OSError,
        *,
        operation: str | None = None,
        bucket: str | None = None,
        key: str | None = None,
    ) -> EndpointError:
        """The error for a connection that failed (before or during an answer)."""
        return EndpointError(
            f"cannot reach {self.endpoint} ({type(exc).__name__}) — check --endpoint-url"
            " and that the server is running",
            operation=operation,
            bucket=bucket or None,
            key=key or None,
        )

    def error_for(
        self,
        response: Response,
        bucket: str,
        key: str,
        *,
        operation: str | None = None,
        encryption: EncryptionAsked | None = None,
    ) -> S3KitError:
        """The s3kit error for an error answer, with its S3 code (the status for an answer
        without a body, as botocore names it: "404"), status, operation and request ids.
        `encryption` is what the request asked of the server's encryption (`encryption_asked`),
        which changes what a 403, 400 or 500 means."""
        code, message, request_id, host_id = "", "", None, None
        if response.body:
            try:
                root = response.xml()
                code = root.findtext("Code") or ""
                message = root.findtext("Message") or ""
                request_id = root.findtext("RequestId")
                host_id = root.findtext("HostId")
            except ET.ParseError:
                message = response.body[:200].decode("utf-8", "replace")
        error: S3KitError
        if 300 <= response.status < 400:
            location = response.headers.get("Location") or "another address"
            error = EndpointError(
                f"{self.endpoint} redirected the request to {location}; s3kit does not follow"
                " redirects, which would hand the request's credentials to another host —"
                " point --endpoint-url (or the region) at the address that holds the bucket"
            )
        else:
            error = from_code(
                code,
                response.status,
                message,
                bucket=bucket,
                key=key or None,
                endpoint=self.session.endpoint_url,
                operation=operation,
                encryption=encryption,
            )
        return error.add_context(
            code=code or str(response.status),
            status=response.status,
            operation=operation,
            bucket=bucket or None,
            key=key or None,
            request_id=_request_id(response.headers) or request_id or None,
            host_id=response.headers.get("x-amz-id-2") or host_id or None,
        )

    @property
    def executor(self) -> ThreadPoolExecutor:
        """The threads blocking requests run on: as many as the pool has connections (the
        loop's default executor has min(32, cores + 4), six on two cores, which capped a
        transfer's concurrency below what it asked for)."""
        with self._executor_lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(
                    max_workers=self._pool_size, thread_name_prefix="s3kit-http"
                )
            return self._executor

    async def request_async(self, method: str, bucket: str, key: str, **kwargs: Any) -> Response:
        import asyncio

        from s3kit.storage.loopclient import ON_LOOP_LIMIT

        body = kwargs.get("body")
        if isinstance(body, bytes) and len(body) <= ON_LOOP_LIMIT:
            query, headers = kwargs.get("query"), kwargs.get("headers")
            name = kwargs.get("operation") or operation_name(method, key, query or {}, headers)
            if name == "PutObject":
                sent = await self.send_small_async(
                    method, bucket, key, query=query, headers=headers, body=body, limit=_ANY
                )
                assert sent is not None  # no limit: never left unread
                return sent
        call = functools.partial(self.request, method, bucket, key, **kwargs)
        return await asyncio.get_running_loop().run_in_executor(self.executor, call)

    async def open_async(self, method: str, bucket: str, key: str, **kwargs: Any) -> Answer:
        import asyncio

        call = functools.partial(self.open, method, bucket, key, **kwargs)
        return await asyncio.get_running_loop().run_in_executor(self.executor, call)

    async def read_async(self, answer: Answer, size: int) -> bytes:
        """Up to `size` bytes of a streamed answer's body, read on this path's threads; a
        connection failing meanwhile is an EndpointError (the transfer can be resumed)."""
        return await self._body_async(answer, answer.read, size)

    async def read_through_async(
        self, answer: Answer, sink: Callable[[memoryview], None], limit: int | None = None
    ) -> int:
        """The rest of `answer`'s body (at most `limit` bytes of it: 0 at its end), read a
        piece at a time on one of this path's threads into that thread's own buffer, each
        piece handed to `sink` there before the next is read; how many bytes. One hop to a
        thread per body (or `limit`), not two per piece; each piece is still in the CPU's
        cache when `sink` writes and hashes it; and no other thread ever touches the buffer
        (the thread of a cancelled caller may still be reading into it). A failing connection
        closes the answer and is an EndpointError, as `read_async`; what `sink` raises closes
        it too, and passes through."""
        pieces = self._pieces
        most = _ANY if limit is None else limit

        def run() -> int:
            buffer: memoryview | None = getattr(pieces, "buffer", None)
            if buffer is None:
                buffer = pieces.buffer = memoryview(bytearray(READ_PIECE))
            total = 0
            try:
                while total < most:
                    try:
                        got = answer.readinto(buffer[: most - total])
                    except OSError as exc:
                        raise _ReadFailed(exc) from exc
                    if not got:
                        return total
                    sink(buffer[:got])
                    total += got
                return total
            except BaseException:
                answer.close()
                raise

        import asyncio

        try:
            return await asyncio.get_running_loop().run_in_executor(self.executor, run)
        except _ReadFailed as failed:
            raise self.unreachable(failed.error) from failed.error

    async def _body_async(self, answer: Answer, read: Callable[[_A], _R], arg: _A) -> _R:
        """`read(arg)` of `answer`'s body: at once when it is in memory already, else on this
        path's threads; a failing connection closes the answer and is an EndpointError."""
        import asyncio

        try:
            if answer.buffered:
                return read(arg)
            return await asyncio.get_running_loop().run_in_executor(self.executor, read, arg)
        except OSError as exc:
            answer.close()
            raise self.unreachable(exc) from exc

    def close(self) -> None:
        with self._executor_lock:
            if self._executor is not None:
                self._executor.shutdown(wait=False, cancel_futures=True)
                self._executor = None
            pools, self._loop_pools = dict(self._loop_pools), weakref.WeakKeyDictionary()
        self._pool.close()
        if not pools:  # no event loop ever sent from here (nor imported asyncio to)
            return
        import asyncio

        try:
            running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        for loop, pool in pools.items():
            if loop is running:
                pool.close()
            # Another loop's connections are closed as that loop ends (`_loop_pool`).


async def _close_at_shutdown(
    http: S3Http, loop: asyncio.AbstractEventLoop, pool: LoopPool
) -> AsyncIterator[None]:
    try:
        yield
    finally:
        pool.close()
        with http._executor_lock:
            if http._loop_pools.get(loop) is pool:
                del http._loop_pools[loop]


# Operations `S3Http.send_small_async` sends from the loop: whole-object reads and writes,
# whose failures need no further request to be named (see `_Call.settle`).
_ON_LOOP = frozenset({"GetObject", "PutObject"})
_A = TypeVar("_A")
_R = TypeVar("_R")
# What one read of `read_through_async` fills: small enough to stay in the CPU's cache from the
# socket to the file and the hash, large enough that a 256 MiB body is a thousand reads.
READ_PIECE = 256 * 1024


class _ReadFailed(Exception):
    """The connection failed while `read_through_async` read a body (not its sink)."""

    def __init__(self, error: OSError) -> None:
        super().__init__(error)
        self.error = error


_ANY = 1 << 62  # no limit on an answer's body, as `request` has none


class _Call:
    """One request's attempts, whatever sends them: what it is, its signing, and what each
    attempt's outcome means — error, retry decision, event, budget. The thread path and the
    loop path differ only in how they send an attempt and wait out a retry's delay."""

    def __init__(
        self,
        http: S3Http,
        method: str,
        bucket: str,
        key: str,
        query: Mapping[str, str] | None,
        headers: Mapping[str, str] | None,
        body: bytes | memoryview | None,
        operation: str | None,
    ) -> None:
        self.http = http
        self.method, self.bucket, self.key = method, bucket, key
        self.query = dict(query or {})
        self.headers = headers
        self.sent = 0 if body is None else len(body)
        if headers and any(name.lower() in _CUSTOMER_KEY_HEADERS for name in headers):
            from s3kit._encryption import check_key_transport

            check_key_transport(http.endpoint)
        self.name = operation or operation_name(method, key, self.query, headers)
        self.encryption = encryption_asked(headers)
        if self.encryption is None and self.query.get("uploadId") in http._kms_uploads:
            self.encryption = "aws:kms"
        self.origin, self.host, self.path = http.target(bucket, key)
        qs = canonical_query(self.query)
        self.target = self.path + (f"?{qs}" if qs else "")
        self.attempt = self.spent = 0
        self.started = 0.0

    def sign(self) -> dict[str, str]:
        """The next attempt's headers, signed now."""
        http = self.http
        self.attempt += 1
        self.started = time.monotonic()
        creds = http.session.credentials()
        signed = sign_headers(
            method=self.method,
            host=self.host,
            path=self.path,
            query=self.query,
            headers=dict(self.headers or {}),
            access_key=creds.access_key_id,
            secret_key=creds.secret_access_key,
            session_token=creds.session_token,
            region=http.region,
            now=datetime.now(UTC),
        )
        signed.pop("host")  # the connection sends it, as signed
        return signed

    def settle(self, outcome: Response | Answer | OSError, *, body_is_object: bool) -> float | None:
        """After an attempt: None when it succeeded, the delay before the next one when it is
        to be sent again; raises the request's error when it is not. `body_is_object`: a 2xx
        answer's body is the object's bytes, never an error sent after the status line."""
        http = self.http
        name, bucket, key = self.name, self.bucket, self.key
        result: Response | Answer | None
        kind: RetryKind | None = None
        no_answer: str | None = None  # "Timeout" when the attempt timed out
        error: S3KitError | None = None
        if isinstance(outcome, OSError):
            timeout = isinstance(outcome, TimeoutError)
            result, kind = None, "timeout" if timeout else "connection"
            error = http.unreachable(outcome, operation=name, bucket=bucket, key=key)
            no_answer = "Timeout" if timeout else None
        elif isinstance(outcome, Answer):
            result = outcome
        else:
            result = outcome
            # An error sent in a 200 body is a server failure after the status line went out
            # (S3 documents it for CopyObject, UploadPartCopy and CompleteMultipartUpload):
            # retried like a 500, as botocore does.
            in_body = result.status < 300 and not body_is_object and _error_in_body(result)
            if result.status >= 300 or in_body:
                error = http.error_for(
                    result, bucket, key, operation=name, encryption=self.encryption
                )
                kind = retry_kind(500 if in_body else result.status, error.code)
        decision = decide(http.retry, http.budget, self.attempt, kind if error else None)
        delay = decision.delay
        retrying = delay is not None
        events = http.session.events
        if events.active:
            received = 0
            if isinstance(result, Response):
                received = len(result.body)
            elif result is not None:
                received = _announced(result)
            events.publish(
                RequestEvent(
                    client="http",
                    operation=name,
                    method=self.method,
                    bucket=bucket or None,
                    key=key or None,
                    attempt=self.attempt,
                    status=None if result is None else result.status,
                    seconds=time.monotonic() - self.started,
                    bytes_sent=self.sent,
                    bytes_received=received,
                    request_id=None if result is None else _request_id(result.headers),
                    error_code=(error.code or no_answer or None) if error is not None else None,
                    retrying=retrying,
                    retry_reason=kind if retrying else None,
                    retry_delay=delay,
                    retry_budget_spent=decision.budget_spent,
                )
            )
        if error is None:
            assert result is not None
            http.budget.succeeded(self.spent)
            if self.encryption == "aws:kms":
                http._note_kms_upload(name, self.query, result)
            return None
        if delay is None:
            if self.method == "HEAD" and key and isinstance(error, ObjectNotFound):
                error = http._missing_bucket(bucket) or error
            elif name in _COPIES and (error.status or 0) >= 500:
                # SeaweedFS answers a copy into a missing bucket 500 InternalError: asked as
                # such, every copy of a run would fail on its own, and say nothing.
                error = http._missing_bucket(bucket) or error
            if decision.budget_spent:
                error = retry_budget_spent(error)
            raise error
        self.spent = decision.cost
        logger.debug("retrying %s %s in %.2f s: %s", self.method, self.path, delay, error)
        return delay
