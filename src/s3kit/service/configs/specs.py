"""The table of bucket configuration documents, and the one get/put/delete they all go through.

Each configuration held as one document is a `DocumentSpec`: the boto3 operations that read,
write and remove it, the keyword its PUT takes it as, whether the GET answer wraps it in that
name, and its boto3-stubs type. The configurations kept by id (inventory, analytics, metrics,
intelligent tiering) are `ID_CONFIGS`. `ConfigDocuments` is the plumbing every area's mixin
stands on: a configuration that is not there reads as ``None`` (the GET fails with one of
`MISSING_CODES`), and deleting one that is not there succeeds.

This module must never DELETE a configuration it has not first read (see `_delete_config`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar, cast

from s3kit.errors import BucketNotEmpty, NotSupported, PermissionDenied, S3KitError, server_code
from s3kit.service.base import ServiceBase

if TYPE_CHECKING:
    from mypy_boto3_s3.type_defs import (
        AccelerateConfigurationTypeDef,
        BucketLifecycleConfigurationTypeDef,
        CORSConfigurationTypeDef,
        NotificationConfigurationTypeDef,
        ObjectLockConfigurationTypeDef,
        ReplicationConfigurationTypeDef,
        ServerSideEncryptionConfigurationTypeDef,
        VersioningConfigurationTypeDef,
        WebsiteConfigurationTypeDef,
    )

Document = dict[str, Any]
IdConfigKind = Literal["inventory", "analytics", "metrics", "intelligent-tiering"]

T = TypeVar("T")

# Error codes meaning "this bucket has no such configuration" (each GET has its own).
MISSING_CODES = frozenset(
    {
        "NoSuchLifecycleConfiguration",
        "NoSuchCORSConfiguration",
        "ServerSideEncryptionConfigurationNotFoundError",
        "NoSuchWebsiteConfiguration",
        "ReplicationConfigurationNotFoundError",
        "ObjectLockConfigurationNotFoundError",
        "NoSuchObjectLockConfiguration",
        "NoSuchObjectLegalHold",
        "NoSuchConfiguration",
        "NoSuchInventoryConfig",
    }
)


@dataclass(frozen=True, slots=True)
class DocumentSpec(Generic[T]):
    """How boto3 names one bucket configuration document; `T` is its type in boto3-stubs (what
    a `get_*` returns, in the shape its `set_*` takes back)."""

    get: str
    put: str
    argument: str  # the PUT's keyword for the document, also `aws s3api`'s wrapper around it
    delete: str | None = None  # None: S3 has no DELETE for it (see the area's `delete_*`)
    wrapped: bool = False  # the GET answer holds the document under `argument`


VERSIONING: DocumentSpec[VersioningConfigurationTypeDef] = DocumentSpec(
    "get_bucket_versioning", "put_bucket_versioning", "VersioningConfiguration"
)
LIFECYCLE: DocumentSpec[BucketLifecycleConfigurationTypeDef] = DocumentSpec(
    "get_bucket_lifecycle_configuration",
    "put_bucket_lifecycle_configuration",
    "LifecycleConfiguration",
    delete="delete_bucket_lifecycle",
)
WEBSITE: DocumentSpec[WebsiteConfigurationTypeDef] = DocumentSpec(
    "get_bucket_website",
    "put_bucket_website",
    "WebsiteConfiguration",
    delete="delete_bucket_website",
)
CORS: DocumentSpec[CORSConfigurationTypeDef] = DocumentSpec(
    "get_bucket_cors", "put_bucket_cors", "CORSConfiguration", delete="delete_bucket_cors"
)
ENCRYPTION: DocumentSpec[ServerSideEncryptionConfigurationTypeDef] = DocumentSpec(
    "get_bucket_encryption",
    "put_bucket_encryption",
    "ServerSideEncryptionConfiguration",
    delete="delete_bucket_encryption",
    wrapped=True,
)
REPLICATION: DocumentSpec[ReplicationConfigurationTypeDef] = DocumentSpec(
    "get_bucket_replication",
    "put_bucket_replication",
    "ReplicationConfiguration",
    delete="delete_bucket_replication",
    wrapped=True,
)
NOTIFICATIONS: DocumentSpec[NotificationConfigurationTypeDef] = DocumentSpec(
    "get_bucket_notification_configuration",
    "put_bucket_notification_configuration",
    "NotificationConfiguration",
)
ACCELERATION: DocumentSpec[AccelerateConfigurationTypeDef] = DocumentSpec(
    "get_bucket_accelerate_configuration",
    "put_bucket_accelerate_configuration",
    "AccelerateConfiguration",
)
OBJECT_LOCK: DocumentSpec[ObjectLockConfigurationTypeDef] = DocumentSpec(
    "get_object_lock_configuration",
    "put_object_lock_configuration",
    "ObjectLockConfiguration",
    wrapped=True,
)


@dataclass(frozen=True, slots=True)
class IdConfigSpec:
    """How one id-keyed configuration is named in the API."""

    kind: IdConfigKind
    operation: str  # put_bucket_<operation>_configuration, ...
    document: str  # InventoryConfiguration, ...

    @property
    def label(self) -> str:
        return f"{self.kind} configuration"


ID_CONFIGS: dict[IdConfigKind, IdConfigSpec] = {
    "inventory": IdConfigSpec("inventory", "inventory", "InventoryConfiguration"),
    "analytics": IdConfigSpec("analytics", "analytics", "AnalyticsConfiguration"),
    "metrics": IdConfigSpec("metrics", "metrics", "MetricsConfiguration"),
    "intelligent-tiering": IdConfigSpec(
        "intelligent-tiering", "intelligent_tiering", "IntelligentTieringConfiguration"
    ),
}


def plain_document(response: Any, key: str | None = None) -> Document:
    body = response.get(key) if key and isinstance(response, dict) else response
    if not isinstance(body, dict):
        return {}
    return {k: v for k, v in body.items() if k != "ResponseMetadata"}


class ConfigDocuments(ServiceBase):
    """get_* returns the document (None if the bucket has none), set_* validates and replaces
    it, delete_* removes it (and succeeds if there was none)."""

    def _get_document(self, spec: DocumentSpec[T], bucket: str) -> T | None:
        document = self._get_config(spec.get, bucket, spec.argument if spec.wrapped else None)
        return cast("T | None", document)

    def _put_document(
        self, spec: DocumentSpec[Any], bucket: str, document: Document, **kwargs: Any
    ) -> None:
        self._put_config(spec.put, bucket, **{spec.argument: document}, **kwargs)

    def _delete_document(self, spec: DocumentSpec[Any], bucket: str) -> None:
        assert spec.delete is not None, f"S3 has no DELETE for {spec.argument}"
        self._delete_config(spec.delete, bucket, lambda: self._get_document(spec, bucket))

    def _get_config(
        self, operation: str, bucket: str, key: str | None = None, **kwargs: Any
    ) -> Document | None:
        try:
            response = self.call(operation, bucket=bucket, Bucket=bucket, **kwargs)
        except S3KitError as exc:
            code = server_code(exc)
            # moto answers a missing inventory/metrics/... id with NoSuchBucket.
            if code in MISSING_CODES or (code == "NoSuchBucket" and "Id" in kwargs):
                self._confirm_bucket(bucket)
                return None
            raise
        return plain_document(response, key)

    def _confirm_bucket(self, bucket: str) -> None:
        """Raise BucketNotFound if the bucket is missing. SeaweedFS answers a GET of a
        configuration on a missing bucket with the "no such configuration" code."""
        with contextlib.suppress(PermissionDenied):  # may read the config but not HEAD
            self.call("head_bucket", bucket=bucket, Bucket=bucket)

    def _put_config(self, operation: str, bucket: str, **kwargs: Any) -> None:
        self.call(operation, bucket=bucket, Bucket=bucket, **kwargs)

    def _delete_config(
        self, operation: str, bucket: str, exists: Callable[[], object], **kwargs: Any
    ) -> None:
        """DELETE a configuration only if `exists()` finds one. SeaweedFS 4.x and moto 5.x route
        a DELETE with a sub-resource they do not know (?website, ?inventory, ...) to
        DeleteBucket, and so delete an empty bucket; asking first keeps that from happening
        where the GET is answered properly, and a BucketNotEmpty answer is reported as what it
        is rather than as a bucket problem."""
        if exists() is None:
            return
        try:
            self.call(operation, bucket=bucket, Bucket=bucket, **kwargs)
        except BucketNotEmpty as exc:
            raise NotSupported(
                f"{self.session.endpoint_label} does not support {operation} (it answered as if"
                " asked to delete the bucket)"
            ) from exc
        except S3KitError as exc:
            if server_code(exc) not in MISSING_CODES:
                raise
