"""S3Service: the control plane (buckets, presigned URLs, identity) on boto3.

Every boto3 call goes through `S3Service._call`, the one place that translates botocore errors
into s3kit errors; retries and timeouts are already configured on the Session's client.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from s3kit.errors import (
    BucketAlreadyExists,
    BucketNotFound,
    NotSupported,
    PermissionDenied,
    S3KitError,
    UsageError,
    translate,
)
from s3kit.session import Session
from s3kit.uri import validate_bucket_name, validate_key

MAX_PRESIGN_SECONDS = 7 * 24 * 3600  # SigV4 presigned URLs live at most seven days


@dataclass(frozen=True, slots=True)
class BucketInfo:
    name: str
    created: datetime | None
    region: str | None = None


@dataclass(frozen=True, slots=True)
class Identity:
    endpoint: str
    access_key: str
    credentials_source: str
    account: str | None
    arn: str | None
    user_id: str | None
    buckets: int | None
    method: Literal["sts", "list-buckets"]


def mask_key(access_key: str) -> str:
    """`AKIA…WXYZ`: enough to recognise a key, not enough to use it."""
    return access_key if len(access_key) <= 8 else f"{access_key[:4]}…{access_key[-4:]}"


def validate_expiry(seconds: int) -> int:
    if not 1 <= seconds <= MAX_PRESIGN_SECONDS:
        raise UsageError(
            f"--expires-in must be between 1 and {MAX_PRESIGN_SECONDS} seconds (7 days),"
            f" not {seconds}"
        )
    return seconds


class S3Service:
    """Bucket and account operations for one Session."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def _call(
        self,
        operation: str,
        *,
        bucket: str | None = None,
        key: str | None = None,
        service: str = "s3",
        **kwargs: Any,
    ) -> Any:
        client = self.session.client(service)
        try:
            method: Callable[..., Any] = getattr(client, operation)
            return method(**kwargs)
        except Exception as exc:
            raise translate(
                exc, bucket=bucket, key=key, endpoint=self.session.endpoint_url
            ) from exc

    # -- buckets ---------------------------------------------------------------------------

    def list_buckets(self) -> list[BucketInfo]:
        response = self._call("list_buckets")
        return [
            BucketInfo(name=b["Name"], created=b.get("CreationDate"), region=b.get("BucketRegion"))
            for b in response.get("Buckets", [])
        ]

    def bucket_exists(self, bucket: str) -> bool:
        validate_bucket_name(bucket)
        try:
            self._call("head_bucket", bucket=bucket, Bucket=bucket)
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
        self._call("create_bucket", bucket=bucket, **kwargs)

    def delete_bucket(self, bucket: str) -> None:
        validate_bucket_name(bucket)
        self._call("delete_bucket", bucket=bucket, Bucket=bucket)

    def iter_bucket_contents(self, bucket: str) -> Iterator[dict[str, Any]]:
        """Everything that keeps a bucket from being deleted: object versions, delete markers
        and incomplete multipart uploads, each as {"Key", "VersionId"} or {"Key", "UploadId"}.
        Falls back to plain listing where versions are not supported."""
        try:
            yield from self._iter_versions(bucket)
        except NotSupported:
            for page in self._pages("list_objects_v2", bucket, Bucket=bucket):
                for obj in page.get("Contents", []):
                    yield {"Key": obj["Key"]}
        try:
            for page in self._pages("list_multipart_uploads", bucket, Bucket=bucket):
                for upload in page.get("Uploads", []):
                    yield {"Key": upload["Key"], "UploadId": upload["UploadId"]}
        except NotSupported:
            return

    def _iter_versions(self, bucket: str) -> Iterator[dict[str, Any]]:
        for page in self._pages("list_object_versions", bucket, Bucket=bucket):
            for item in page.get("Versions", []) + page.get("DeleteMarkers", []):
                entry = {"Key": item["Key"]}
                if item.get("VersionId") and item["VersionId"] != "null":
                    entry["VersionId"] = item["VersionId"]
                yield entry

    def _pages(self, operation: str, bucket: str, **kwargs: Any) -> Iterator[dict[str, Any]]:
        client = self.session.client("s3")
        try:
            yield from client.get_paginator(operation).paginate(**kwargs)
        except Exception as exc:
            raise translate(exc, bucket=bucket, endpoint=self.session.endpoint_url) from exc

    def empty_bucket(
        self, bucket: str, *, on_delete: Callable[[dict[str, Any]], None] | None = None
    ) -> int:
        """Delete every version, delete marker and incomplete upload. Returns how many."""
        count = 0
        batch: list[dict[str, Any]] = []

        def flush() -> None:
            if not batch:
                return
            response = self._call(
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
                self._call(
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

    # -- presigned URLs --------------------------------------------------------------------

    def presign(
        self,
        bucket: str,
        key: str,
        *,
        expires_in: int = 3600,
        method: Literal["GET", "PUT"] = "GET",
    ) -> str:
        validate_bucket_name(bucket)
        validate_key(key)
        validate_expiry(expires_in)
        operation = {"GET": "get_object", "PUT": "put_object"}.get(method.upper())
        if operation is None:
            raise UsageError(f"--method must be GET or PUT, not '{method}'")
        url: str = self._call(
            "generate_presigned_url",
            bucket=bucket,
            key=key,
            ClientMethod=operation,
            Params={"Bucket": bucket, "Key": key},
            ExpiresIn=expires_in,
        )
        return url

    # -- identity --------------------------------------------------------------------------

    def whoami(self) -> Identity:
        """Who the credentials belong to: STS GetCallerIdentity where the endpoint offers it,
        otherwise proof that ListBuckets works with them."""
        settings = self.session.settings
        creds = self.session.credentials()
        base = {
            "endpoint": self.session.endpoint_label,
            "access_key": mask_key(creds.access_key_id),
            "credentials_source": settings.credentials_source,
        }
        try:
            ident = self._call("get_caller_identity", service="sts")
            return Identity(
                **base,
                account=ident.get("Account"),
                arn=ident.get("Arn"),
                user_id=ident.get("UserId"),
                buckets=None,
                method="sts",
            )
        except S3KitError as sts_error:
            if settings.is_aws and not settings.use_local:
                raise
            sts_failure = sts_error
        try:
            buckets = len(self.list_buckets())
        except S3KitError as exc:
            raise type(exc)(f"{exc} (STS was not usable either: {sts_failure})") from exc
        return Identity(
            **base, account=None, arn=None, user_id=None, buckets=buckets, method="list-buckets"
        )
