"""Probe: which S3 features an endpoint supports, found by trying each one once.

A scratch bucket (and, for object lock, a second one) is created with a random name, every
feature is tried against it, and everything made is removed afterwards, whatever happened.
Each result is "supported", "not supported" (the server refused the operation as
unimplemented, or answered that way) or "error" (it failed for another reason, with the
server's message). Checks are plain functions over a small context, so adding one is one entry
in `CHECKS`.

A feature counts only for what it does, not for a 200: SSE-C is supported when the object
comes back with the key and is refused without it (a store that ignores the headers keeps the
bytes in plain text), and Content-MD5 / x-amz-checksum-crc32 are checked when a PUT with a
wrong value is refused (BadDigest, or any error) and leaves no object behind.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import uuid
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from s3kit._aio import async_twin
from s3kit._limits import MIN_PART
from s3kit.errors import (
    EndpointError,
    NotSupported,
    ObjectNotFound,
    S3KitError,
    Throttled,
    server_code,
)
from s3kit.service.base import ServiceBase

Status = Literal["supported", "not supported", "error"]
_UNSUPPORTED_CODES = ("NotImplemented", "MethodNotAllowed", "XNotImplemented", "NotSupported")


@dataclass(frozen=True, slots=True)
class ProbeResult:
    feature: str
    status: Status
    detail: str = ""


@dataclass(slots=True)
class ProbeContext:
    service: ServiceBase
    bucket: str
    cleanups: list[Callable[[], None]] = field(default_factory=list)

    def call(self, operation: str, **kwargs: Any) -> Any:
        return self.service.call(operation, bucket=self.bucket, **kwargs)

    def put(self, key: str, body: bytes = b"probe", **kwargs: Any) -> Any:
        return self.call("put_object", Bucket=self.bucket, Key=key, Body=body, **kwargs)


def _multipart(ctx: ProbeContext) -> None:
    upload = ctx.call("create_multipart_upload", Bucket=ctx.bucket, Key="probe/multipart")
    upload_id = upload["UploadId"]
    try:
        part = ctx.call(
            "upload_part",
            Bucket=ctx.bucket,
            Key="probe/multipart",
            UploadId=upload_id,
            PartNumber=1,
            Body=b"x" * MIN_PART,
        )
        ctx.call(
            "complete_multipart_upload",
            Bucket=ctx.bucket,
            Key="probe/multipart",
            UploadId=upload_id,
            MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]},
        )
    except S3KitError:
        with contextlib.suppress(S3KitError):
            ctx.call(
                "abort_multipart_upload", Bucket=ctx.bucket, Key="probe/multipart",
                UploadId=upload_id,
            )  # fmt: skip
        raise


def _conditional_put(ctx: ProbeContext) -> None:
    ctx.put("probe/conditional")
    try:
        ctx.put("probe/conditional", IfNoneMatch="*")
    except S3KitError as exc:
        if "changed or already exists" in str(exc):
            return  # refused as it should be: supported
        raise
    raise S3KitError("If-None-Match: * was ignored (the object was overwritten)")


def _sse_c(ctx: ProbeContext) -> None:
    """Supported only if the bytes come back with the key and not without it: a store that
    ignores the SSE-C headers answers 200 to both and keeps the data in plain text."""
    key = bytes(range(32))
    headers = {
        "SSECustomerAlgorithm": "AES256",
        "SSECustomerKey": base64.b64encode(key).decode(),
        "SSECustomerKeyMD5": base64.b64encode(
            hashlib.md5(key, usedforsecurity=False).digest()
        ).decode(),
    }
    data = b"probe: SSE-C"
    ctx.put("probe/sse-c", data, **headers)
    try:
        ctx.call("get_object", Bucket=ctx.bucket, Key="probe/sse-c")["Body"].read()
    except (EndpointError, Throttled):
        raise
    except S3KitError:
        pass  # refused without the key, as it must be
    else:
        raise NotSupported(
            "the SSE-C key was ignored: a GET without it returned the object, which the store"
            " keeps unencrypted"
        )
    body = ctx.call("get_object", Bucket=ctx.bucket, Key="probe/sse-c", **headers)["Body"]
    if body.read() != data:
        raise S3KitError("a GET with the SSE-C key returned other bytes than were written")


def _wrong_digest_refused(ctx: ProbeContext, key: str, header: str, **wrong: str) -> None:
    """Supported when a PUT whose `header` does not match the body is refused and nothing is
    stored: a store that does not check keeps what may be a corrupted upload and answers 200.
    S3 answers BadDigest (or InvalidDigest); `weed server` answers 500 InternalError to the
    same PUT that it stores with the right digest, which protects the object just as well."""
    try:
        ctx.put(key, b"probe: digest", **wrong)
    except S3KitError as exc:
        code = server_code(exc) or type(exc).__name__
    else:
        raise NotSupported(f"a PUT with a wrong {header} was accepted and stored")
    try:
        ctx.service.call("head_object", bucket=ctx.bucket, key=key, Bucket=ctx.bucket, Key=key)
    except ObjectNotFound:
        return
    raise S3KitError(f"a PUT with a wrong {header} was refused ({code}) but the object exists")


def _content_md5(ctx: ProbeContext) -> None:
    wrong = base64.b64encode(hashlib.md5(b"other", usedforsecurity=False).digest()).decode()
    _wrong_digest_refused(ctx, "probe/content-md5", "Content-MD5", ContentMD5=wrong)


def _checksum_crc32(ctx: ProbeContext) -> None:
    wrong = base64.b64encode(zlib.crc32(b"other").to_bytes(4, "big")).decode()
    _wrong_digest_refused(ctx, "probe/crc32", "x-amz-checksum-crc32", ChecksumCRC32=wrong)


def _object_lock(ctx: ProbeContext) -> None:
    locked = f"{ctx.bucket}-lock"[:63]
    ctx.service.call("create_bucket", bucket=locked, Bucket=locked, ObjectLockEnabledForBucket=True)
    ctx.cleanups.append(lambda: _remove_bucket(ctx.service, locked))
    ctx.service.call(
        "put_object_lock_configuration",
        bucket=locked,
        Bucket=locked,
        ObjectLockConfiguration={
            "ObjectLockEnabled": "Enabled",
            "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1}},
        },
    )


def _restore(ctx: ProbeContext) -> None:
    ctx.put("probe/glacier", StorageClass="GLACIER")
    ctx.call(
        "restore_object",
        Bucket=ctx.bucket,
        Key="probe/glacier",
        RestoreRequest={"Days": 1, "GlacierJobParameters": {"Tier": "Standard"}},
    )


def _config(name: str, operation: str, **kwargs: Any) -> tuple[str, Callable[[ProbeContext], Any]]:
    return name, lambda ctx: ctx.call(operation, Bucket=ctx.bucket, **kwargs)


_ID = {"Id": "probe"}
CHECKS: list[tuple[str, Callable[[ProbeContext], Any]]] = [
    ("put/get/head/delete object", lambda ctx: (
        ctx.put("probe/object"),
        ctx.call("get_object", Bucket=ctx.bucket, Key="probe/object")["Body"].read(),
        ctx.call("head_object", Bucket=ctx.bucket, Key="probe/object"),
    )),
    ("list objects v2", lambda ctx: ctx.call("list_objects_v2", Bucket=ctx.bucket, Delimiter="/")),
    ("multipart upload", _multipart),
    ("copy object", lambda ctx: ctx.call(
        "copy_object", Bucket=ctx.bucket, Key="probe/copy",
        CopySource={"Bucket": ctx.bucket, "Key": "probe/object"},
    )),
    ("batch delete", lambda ctx: ctx.call(
        "delete_objects", Bucket=ctx.bucket,
        Delete={"Objects": [{"Key": "probe/copy"}], "Quiet": True},
    )),
    ("conditional write (If-None-Match)", _conditional_put),
    ("object tagging", lambda ctx: ctx.call(
        "put_object_tagging", Bucket=ctx.bucket, Key="probe/object",
        Tagging={"TagSet": [{"Key": "probe", "Value": "1"}]},
    )),
    _config("bucket tagging", "put_bucket_tagging",
            Tagging={"TagSet": [{"Key": "p", "Value": "1"}]}),
    _config("versioning", "put_bucket_versioning", VersioningConfiguration={"Status": "Enabled"}),
    ("list object versions", lambda ctx: ctx.call("list_object_versions", Bucket=ctx.bucket)),
    _config("lifecycle", "put_bucket_lifecycle_configuration", LifecycleConfiguration={"Rules": [{
        "ID": "probe", "Status": "Enabled", "Filter": {"Prefix": "probe/"},
        "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7},
    }]}),
    _config("CORS", "put_bucket_cors", CORSConfiguration={"CORSRules": [
        {"AllowedMethods": ["GET"], "AllowedOrigins": ["*"]}
    ]}),
    _config("website", "put_bucket_website", WebsiteConfiguration={
        "IndexDocument": {"Suffix": "index.html"}
    }),
    _config("default encryption (SSE-S3)", "put_bucket_encryption",
            ServerSideEncryptionConfiguration={"Rules": [
                {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
            ]}),
    ("SSE-C", _sse_c),
    ("Content-MD5 checked on PUT", _content_md5),
    ("x-amz-checksum-crc32 checked on PUT", _checksum_crc32),
    ("bucket policy", lambda ctx: ctx.call("put_bucket_policy", Bucket=ctx.bucket, Policy=(
        '{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*",'
        f'"Action":"s3:GetObject","Resource":"arn:aws:s3:::{ctx.bucket}/no-such-path/*"}}]}}'
    ))),
    _config("bucket ACL", "put_bucket_acl", ACL="private"),
    ("object ACL", lambda ctx: ctx.call(
        "put_object_acl", Bucket=ctx.bucket, Key="probe/object", ACL="private"
    )),
    _config("public access block", "put_public_access_block", PublicAccessBlockConfiguration={
        "BlockPublicAcls": True, "IgnorePublicAcls": True,
        "BlockPublicPolicy": True, "RestrictPublicBuckets": True,
    }),
    _config("event notifications", "put_bucket_notification_configuration",
            NotificationConfiguration={}),
    _config("transfer acceleration", "put_bucket_accelerate_configuration",
            AccelerateConfiguration={"Status": "Suspended"}),
    _config("replication", "put_bucket_replication", ReplicationConfiguration={
        "Role": "arn:aws:iam::000000000000:role/probe",
        "Rules": [{"ID": "probe", "Status": "Enabled", "Priority": 1, "Filter": {"Prefix": "x/"},
                   "DeleteMarkerReplication": {"Status": "Disabled"},
                   "Destination": {"Bucket": "arn:aws:s3:::probe-destination"}}],
    }),
    _config("inventory", "put_bucket_inventory_configuration", **_ID, InventoryConfiguration={
        "Id": "probe", "IsEnabled": False, "IncludedObjectVersions": "Current",
        "Schedule": {"Frequency": "Daily"},
        "Destination": {"S3BucketDestination": {"Bucket": "arn:aws:s3:::probe", "Format": "CSV"}},
    }),
    _config("analytics", "put_bucket_analytics_configuration", **_ID,
            AnalyticsConfiguration={"Id": "probe", "StorageClassAnalysis": {}}),
    _config("metrics", "put_bucket_metrics_configuration", **_ID,
            MetricsConfiguration={"Id": "probe"}),
    _config("intelligent tiering", "put_bucket_intelligent_tiering_configuration", **_ID,
            IntelligentTieringConfiguration={"Id": "probe", "Status": "Enabled", "Tierings": [
                {"Days": 90, "AccessTier": "ARCHIVE_ACCESS"}
            ]}),
    ("object lock", _object_lock),
    ("Glacier restore", _restore),
    ("STS GetCallerIdentity", lambda ctx: ctx.service.call("get_caller_identity", service="sts")),
]  # fmt: skip


def _classify(feature: str, exc: S3KitError) -> ProbeResult:
    text = str(exc)
    if isinstance(exc, NotSupported) or any(code in text for code in _UNSUPPORTED_CODES):
        return ProbeResult(feature, "not supported", text.splitlines()[0][:200])
    return ProbeResult(feature, "error", text.splitlines()[0][:200])


def _remove_bucket(service: ServiceBase, bucket: str) -> None:
    """Delete every version, marker and upload in `bucket`, then the bucket; never raises."""
    from s3kit.service.buckets import BucketsMixin

    with contextlib.suppress(S3KitError):
        if isinstance(service, BucketsMixin):
            service.empty_bucket(bucket)
    with contextlib.suppress(S3KitError):
        service.call("delete_bucket", bucket=bucket, Bucket=bucket)


class ProbeMixin(ServiceBase):
    def probe(self, *, on_result: Callable[[ProbeResult], None] | None = None) -> list[ProbeResult]:
        """Try every feature in CHECKS once against a scratch bucket; clean up everything."""
        bucket = f"s3kit-probe-{uuid.uuid4().hex[:12]}"
        results: list[ProbeResult] = []

        def record(result: ProbeResult) -> None:
            results.append(result)
            if on_result is not None:
                on_result(result)

        try:
            self.call("create_bucket", bucket=bucket, Bucket=bucket, **self._location())
        except S3KitError as exc:
            record(_classify("create bucket", exc))
            return results
        record(ProbeResult("create bucket", "supported"))
        ctx = ProbeContext(self, bucket)
        try:
            for feature, check in CHECKS:
                try:
                    check(ctx)
                except S3KitError as exc:
                    record(_classify(feature, exc))
                else:
                    record(ProbeResult(feature, "supported"))
        finally:
            for cleanup in reversed(ctx.cleanups):
                cleanup()
            _remove_bucket(self, bucket)
        return results

    def _location(self) -> dict[str, Any]:
        region = self.session.settings.region
        if region == "us-east-1" or self.session.settings.use_local:
            return {}
        return {"CreateBucketConfiguration": {"LocationConstraint": region}}

    # -- awaitable twins: the same calls on a worker thread (s3kit._aio.async_twin) ---------
    probe_async = async_twin(probe)
