"""Raw, signed S3 requests: the one path for every call obstore cannot make exactly.

obstore exposes no part-level multipart API (resuming an upload needs ListParts and UploadPart
into an existing upload), and its object_store paths rewrite keys: a trailing '/' is dropped
and '//' folded, so folder markers ('photos/') can be neither listed nor deleted through it.
Listings, bulk deletes, folder markers, copies and multipart calls are therefore sent here,
with urllib3 and the SigV4 signer, retrying throttling, 5xx answers and connection errors with
exponential backoff and full jitter, and translating failures into s3kit errors. Endpoint,
region, addressing style, credentials, retries and timeouts come from the Session, so these
requests go exactly where obstore's do. It must never import boto3: listings are on the hot
path of every sync.
"""

from __future__ import annotations

import asyncio
import random
import re
import time
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from s3kit.errors import EndpointError, from_code
from s3kit.observe import logger
from s3kit.session import Session
from s3kit.storage.sigv4 import canonical_query, sign_headers, uri_encode

_RETRY_STATUS = {429, 500, 502, 503, 504}
_NS = re.compile(r"\{[^}]*\}")


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


class S3Http:
    """Signed requests to one Session's endpoint. Thread-safe; blocking calls run in threads."""

    def __init__(self, session: Session, *, pool_size: int = 16) -> None:
        import urllib3

        self.session = session
        settings = session.settings
        self.region = settings.region
        endpoint = session.endpoint_url
        self._virtual = endpoint is None and settings.addressing_style != "path"
        # With virtual-hosted style and an explicit endpoint, the endpoint names the bucket
        # already (https://BUCKET.s3-accelerate.amazonaws.com), as obstore expects too.
        self._bucket_in_endpoint = endpoint is not None and settings.addressing_style == "virtual"
        if endpoint is None:
            self._base = f"https://s3.{self.region}.amazonaws.com"
        else:
            self._base = endpoint.rstrip("/")
        self._max_retries = settings.max_retries
        self._pool = urllib3.PoolManager(
            maxsize=pool_size,
            block=False,
            retries=False,
            timeout=urllib3.Timeout(connect=settings.connect_timeout, read=settings.read_timeout),
        )

    def _target(self, bucket: str, key: str) -> tuple[str, str, str]:
        """(scheme://host, host, encoded path) for bucket/key."""
        parts = urlsplit(self._base)
        encoded_key = uri_encode(key, keep_slash=True)
        if self._bucket_in_endpoint:
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
    ) -> Response:
        """Send one request, with retries; raise an s3kit error for any non-2xx answer."""
        import urllib3

        query = dict(query or {})
        origin, host, path = self._target(bucket, key)
        qs = canonical_query(query)
        url = origin + path + (f"?{qs}" if qs else "")
        attempt = 0
        while True:
            creds = self.session.credentials()
            signed = sign_headers(
                method=method,
                host=host,
                path=path,
                query=query,
                headers=dict(headers or {}),
                access_key=creds.access_key_id,
                secret_key=creds.secret_access_key,
                session_token=creds.session_token,
                region=self.region,
                now=datetime.now(UTC),
            )
            signed.pop("host")
            try:
                payload: Any = body  # http.client sends any bytes-like body, memoryview too
                raw = self._pool.request(
                    method, url, body=payload, headers=signed, preload_content=True, redirect=False
                )
                response = Response(raw.status, dict(raw.headers), raw.data or b"")
                error = (
                    self.error_for(response, bucket, key)
                    if response.status >= 300 or _error_in_body(response)
                    else None
                )
            except urllib3.exceptions.HTTPError as exc:
                response = None
                error = EndpointError(
                    f"cannot reach {self._base} ({type(exc).__name__}) — check --endpoint-url"
                    " and that the server is running"
                )
            retryable = response is None or response.status in _RETRY_STATUS
            if error is None:
                assert response is not None
                return response
            if not retryable or attempt >= self._max_retries:
                raise error
            attempt += 1
            delay = random.uniform(0, min(15.0, 0.1 * 2**attempt))
            logger.debug("retrying %s %s in %.2f s: %s", method, path, delay, error)
            time.sleep(delay)

    def error_for(self, response: Response, bucket: str, key: str) -> Exception:
        code, message = "", ""
        if response.body:
            try:
                root = response.xml()
                code = root.findtext("Code") or ""
                message = root.findtext("Message") or ""
            except ET.ParseError:
                message = response.body[:200].decode("utf-8", "replace")
        return from_code(
            code,
            response.status,
            message,
            bucket=bucket,
            key=key or None,
            endpoint=self.session.endpoint_url,
        )

    async def request_async(self, method: str, bucket: str, key: str, **kwargs: Any) -> Response:
        return await asyncio.to_thread(self.request, method, bucket, key, **kwargs)

    def close(self) -> None:
        self._pool.clear()
