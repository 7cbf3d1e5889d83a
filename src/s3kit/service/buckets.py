"""Buckets: list, exists, create, delete, empty."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from s3kit.errors import (
    BucketAlreadyExists,
    BucketNotFound,
    NotSupported,
    PermissionDenied,
    S3KitError,
)
from s3kit.service.base import ServiceBase
from s3kit.uri import validate_bucket_name


@dataclass(frozen=True, slots=True)
class BucketInfo:
    name: str
    created: datetime | None
    region: str | None = None


class BucketsMixin(ServiceBase):
    # -- buckets ---------------------------------------------------------------------------

    def list_buckets(self) -> list[BucketInfo]:
        response = self.call("list_buckets")
        return [
            BucketInfo(name=b["Name"], created=b.get("CreationDate"), region=b.get("BucketRegion"))
            for b in response.get("Buckets", [])
        ]

    def bucket_exists(self, bucket: str) -> bool:
        validate_bucket_name(bucket)
        try:
            self.call("head_bucket", bucket=bucket, Bucket=bucket)
        except BucketNotFound:
            return False
        return True

    def create_bucket(self, bucket: str, *, region: str | None = None) -> None:
        validate_bucket_name(bucket)
        # In us-east-1 S3 answers CreateBucket on a bucket you already own with 200 OK (and
        # resets its ACL), so "already exists" must be asked first. A 403 here means someone
        # else's bucket: CreateBucket then fails with BucketAlreadyExists, as it should.
        with contextlib.suppress(PermissionDenied):
            if self.bucket_exists(bucket):
                raise BucketAlreadyExists(f"bucket '{bucket}' already exists and is yours")
        region = region or self.session.settings.region
        kwargs: dict[str, Any] = {"Bucket": bucket}
        if region and region != "us-east-1" and not self.session.settings.use_local:
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
        self.call("create_bucket", bucket=bucket, **kwargs)

    def delete_bucket(self, bucket: str) -> None:
        validate_bucket_name(bucket)
        self.call("delete_bucket", bucket=bucket, Bucket=bucket)

    def iter_bucket_contents(self, bucket: str) -> Iterator[dict[str, Any]]:
        """Everything that keeps a bucket from being deleted: object versions, delete markers
        and incomplete multipart uploads, each as {"Key", "VersionId"} or {"Key", "UploadId"}.
        Falls back to plain listing where versions are not supported."""
        try:
            yield from self._iter_versions(bucket)
        except NotSupported:
            for page in self.pages("list_objects_v2", bucket, Bucket=bucket):
                for obj in page.get("Contents", []):
                    yield {"Key": obj["Key"]}
        try:
            for page in self.pages("list_multipart_uploads", bucket, Bucket=bucket):
                for upload in page.get("Uploads", []):
                    yield {"Key": upload["Key"], "UploadId": upload["UploadId"]}
        except NotSupported:
            return

    def _iter_versions(self, bucket: str) -> Iterator[dict[str, Any]]:
        for page in self.pages("list_object_versions", bucket, Bucket=bucket):
            for item in page.get("Versions", []) + page.get("DeleteMarkers", []):
                entry = {"Key": item["Key"]}
                if item.get("VersionId") and item["VersionId"] != "null":
                    entry["VersionId"] = item["VersionId"]
                yield entry

    def empty_bucket(
        self, bucket: str, *, on_delete: Callable[[dict[str, Any]], None] | None = None
    ) -> int:
        """Delete every version, delete marker and incomplete upload. Returns how many."""
        count = 0
        batch: list[dict[str, Any]] = []

        def flush() -> None:
            if not batch:
                return
            response = self.call(
                "delete_objects",
                bucket=bucket,
                Bucket=bucket,
                Delete={"Objects": list(batch), "Quiet": True},
            )
            errors = response.get("Errors", [])
            if errors:
                first = errors[0]
                raise S3KitError(
                    f"could not delete {len(errors)} object(s) from s3://{bucket}, e.g."
                    f" {first.get('Key')}: {first.get('Code')} {first.get('Message', '')}"
                )
            batch.clear()

        for item in self.iter_bucket_contents(bucket):
            if "UploadId" in item:
                self.call(
                    "abort_multipart_upload",
                    bucket=bucket,
                    key=item["Key"],
                    Bucket=bucket,
                    Key=item["Key"],
                    UploadId=item["UploadId"],
                )
            else:
                batch.append(item)
                if len(batch) == 1000:
                    flush()
            count += 1
            if on_delete is not None:
                on_delete(item)
        flush()
        return count
