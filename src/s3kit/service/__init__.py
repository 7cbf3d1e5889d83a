"""S3Service: the control plane on boto3, one mixin per area.

Each area lives in its own module (buckets, presign, identity, ...) as a mixin over
`ServiceBase`, whose `call`/`pages` are the one path for every boto3 call. `S3Service`
composes them; import it from here.
"""

from __future__ import annotations

from s3kit.service.access import AccessMixin
from s3kit.service.base import ServiceBase
from s3kit.service.batch import BatchMixin
from s3kit.service.buckets import BucketInfo, BucketsMixin
from s3kit.service.classes import StorageClassMixin
from s3kit.service.configs import (
    AccelerationMixin,
    CorsMixin,
    DefaultEncryptionMixin,
    IdConfigsMixin,
    LifecycleMixin,
    NotificationsMixin,
    ObjectLockMixin,
    ReplicationMixin,
    VersioningMixin,
    WebsiteMixin,
)
from s3kit.service.deploy import DeployMixin
from s3kit.service.identity import Identity, IdentityMixin, mask_key
from s3kit.service.objects import ObjectsMixin
from s3kit.service.presign import MAX_PRESIGN_SECONDS, PresignMixin, validate_expiry
from s3kit.service.probe import ProbeMixin
from s3kit.service.uploads import UploadsMixin
from s3kit.service.versions import VersionsMixin


class S3Service(
    IdentityMixin,
    BucketsMixin,
    PresignMixin,
    VersioningMixin,
    LifecycleMixin,
    WebsiteMixin,
    CorsMixin,
    DefaultEncryptionMixin,
    ReplicationMixin,
    NotificationsMixin,
    AccelerationMixin,
    ObjectLockMixin,
    IdConfigsMixin,
    AccessMixin,
    ObjectsMixin,
    VersionsMixin,
    StorageClassMixin,
    UploadsMixin,
    BatchMixin,
    ProbeMixin,
    DeployMixin,
    ServiceBase,
):
    """Bucket, object and account operations for one Session."""


__all__ = [
    "MAX_PRESIGN_SECONDS",
    "BucketInfo",
    "Identity",
    "S3Service",
    "mask_key",
    "validate_expiry",
]
