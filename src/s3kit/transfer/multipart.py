"""The S3 multipart-upload calls, on the raw signed HTTP path (see s3http)."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from html import escape  # xml.sax.saxutils would import urllib.request (+12 ms)

from s3kit._observe import logger
from s3kit.errors import NotSupported, ObjectNotFound, S3KitError
from s3kit.storage.s3http import S3Http


@dataclass(frozen=True, slots=True)
class ServerPart:
    number: int
    etag: str
    size: int
    checksum: str = ""  # its x-amz-checksum-crc64nvme, when it was sent with one


@dataclass(frozen=True, slots=True)
class PendingUpload:
    key: str
    upload_id: str
    initiated: datetime | None
    storage_class: str | None = None


class Multipart:
    """CreateMultipartUpload, UploadPart, ListParts, Complete and Abort for one bucket."""

    def __init__(self, http: S3Http, bucket: str) -> None:
        self.http = http
        self.bucket = bucket

    async def create(self, key: str, headers: Mapping[str, str]) -> str:
        response = await self.http.request_async(
            "POST", self.bucket, key, query={"uploads": ""}, headers=headers
        )
        upload_id = response.xml().findtext("UploadId")
        if not upload_id:
            raise ObjectNotFound(f"s3://{self.bucket}/{key}: the server returned no UploadId")
        return upload_id

    async def upload_part(
        self,
        key: str,
        upload_id: str,
        number: int,
        data: bytes | memoryview,
        md5_hex: str,
        headers: Mapping[str, str] | None = None,
    ) -> str:
        """Send one part with Content-MD5, so the server rejects a corrupted one. Returns ETag."""
        part_headers = dict(headers or {})
        part_headers["Content-MD5"] = base64.b64encode(bytes.fromhex(md5_hex)).decode()
        part_headers["Content-Length"] = str(len(data))
        response = await self.http.request_async(
            "PUT",
            self.bucket,
            key,
            query={"partNumber": str(number), "uploadId": upload_id},
            headers=part_headers,
            body=data,
        )
        return response.headers.get("ETag") or response.headers.get("etag") or ""

    async def upload_part_copy(
        self,
        key: str,
        upload_id: str,
        number: int,
        source: str,
        first: int,
        last: int,
        headers: Mapping[str, str] | None = None,
    ) -> str:
        """Copy bytes [first, last] of `source` ('/bucket/key', encoded) into part `number`."""
        part_headers = dict(headers or {})
        part_headers["x-amz-copy-source"] = source
        part_headers["x-amz-copy-source-range"] = f"bytes={first}-{last}"
        response = await self.http.request_async(
            "PUT",
            self.bucket,
            key,
            query={"partNumber": str(number), "uploadId": upload_id},
            headers=part_headers,
        )
        etag = response.xml().findtext("ETag") if response.body.strip() else None
        if not etag:
            # rclone serve s3 answers 200 with an empty body and copies nothing.
            raise NotSupported(
                f"{self.http.endpoint} answered UploadPartCopy without the part's ETag: it does"
                " not copy parts on the server, which copies over 5 GiB need — download and"
                " upload the object instead"
            )
        return etag

    async def list_parts(self, key: str, upload_id: str) -> dict[int, ServerPart]:
        """Every part the server holds for the upload (following pagination)."""
        parts: dict[int, ServerPart] = {}
        marker = "0"
        while True:
            response = await self.http.request_async(
                "GET",
                self.bucket,
                key,
                query={"uploadId": upload_id, "part-number-marker": marker, "max-parts": "1000"},
            )
            root = response.xml()
            for element in root.findall("Part"):
                number = int(element.findtext("PartNumber") or 0)
                parts[number] = ServerPart(
                    number,
                    element.findtext("ETag") or "",
                    int(element.findtext("Size") or 0),
                    element.findtext("ChecksumCRC64NVME") or "",
                )
            if (root.findtext("IsTruncated") or "false").lower() != "true":
                return parts
            marker = root.findtext("NextPartNumberMarker") or str(max(parts, default=0))

    async def complete(
        self,
        key: str,
        upload_id: str,
        etags: Sequence[tuple[int, str]],
        headers: Mapping[str, str] | None = None,
        part_checksums: Mapping[int, str] | None = None,
    ) -> str:
        """Assemble the parts; `headers` may add a condition (If-Match, If-None-Match) and the
        full-object checksum, `part_checksums` each part's x-amz-checksum-crc64nvme. Returns
        the object's ETag."""
        etag, _ = await self.complete_versioned(key, upload_id, etags, headers, part_checksums)
        return etag

    async def complete_versioned(
        self,
        key: str,
        upload_id: str,
        etags: Sequence[tuple[int, str]],
        headers: Mapping[str, str] | None = None,
        part_checksums: Mapping[int, str] | None = None,
    ) -> tuple[str, str | None]:
        """`complete`, returning the ETag and the version id the object was given."""
        stated = part_checksums or {}

        def checksum(number: int) -> str:
            value = stated.get(number)
            return f"<ChecksumCRC64NVME>{value}</ChecksumCRC64NVME>" if value else ""

        body = "".join(
            f"<Part><PartNumber>{number}</PartNumber><ETag>{escape(etag)}</ETag>"
            f"{checksum(number)}</Part>"
            for number, etag in sorted(etags)
        )
        xml = f'<CompleteMultipartUpload xmlns="http://s3.amazonaws.com/doc/2006-03-01/">{body}'
        xml += "</CompleteMultipartUpload>"
        response = await self.http.request_async(
            "POST",
            self.bucket,
            key,
            query={"uploadId": upload_id},
            headers={**(headers or {}), "Content-Type": "application/xml"},
            body=xml.encode(),
        )
        return response.xml().findtext("ETag") or "", response.headers.get("x-amz-version-id")

    async def abort(self, key: str, upload_id: str) -> None:
        await self.http.request_async("DELETE", self.bucket, key, query={"uploadId": upload_id})

    async def abort_quietly(self, key: str, upload_id: str) -> None:
        """Abort, logging (not raising) a failure: used on paths already handling an error."""
        try:
            await self.abort(key, upload_id)
        except S3KitError as exc:
            logger.warning("could not abort multipart upload %s of %s: %s", upload_id, key, exc)

    async def pending(self, prefix: str = "") -> list[PendingUpload]:
        """Incomplete multipart uploads under `prefix`, oldest first."""
        uploads = [upload async for upload in self.iter_pending(prefix)]
        return sorted(uploads, key=lambda u: (u.initiated is None, u.initiated or datetime.min))

    async def iter_pending(
        self, prefix: str = "", *, page_size: int = 1000
    ) -> AsyncIterator[PendingUpload]:
        """Incomplete multipart uploads under `prefix`, in key order, page by page: the one
        ListMultipartUploads every caller uses (resume, `multipart list/abort`, emptying and
        deleting a bucket). Keys are read as sent, without `encoding-type=url`: SeaweedFS 4.48
        answers "EncodingType: url" with keys it did not encode, and decoding those would turn
        a '+' into a space. rclone serve s3 answers NoSuchUpload for a bucket that never had
        one: that is none."""
        query = {"uploads": "", "prefix": prefix, "max-uploads": str(page_size)}
        while True:
            try:
                response = await self.http.request_async(
                    "GET", self.bucket, "", query=query, operation="ListMultipartUploads"
                )
            except ObjectNotFound as exc:
                if exc.code != "NoSuchUpload":
                    raise
                return
            root = response.xml()
            for element in root.findall("Upload"):
                initiated = element.findtext("Initiated")
                yield PendingUpload(
                    element.findtext("Key") or "",
                    element.findtext("UploadId") or "",
                    datetime.fromisoformat(initiated.replace("Z", "+00:00")) if initiated else None,
                    element.findtext("StorageClass") or None,
                )
            if (root.findtext("IsTruncated") or "false").lower() != "true":
                return
            key_marker = root.findtext("NextKeyMarker")
            upload_marker = root.findtext("NextUploadIdMarker")
            if not key_marker and not upload_marker:
                raise S3KitError(
                    f"s3://{self.bucket}: the server said its list of uploads goes on but gave"
                    " no marker to go on from"
                )
            query["key-marker"] = key_marker or ""
            query["upload-id-marker"] = upload_marker or ""
