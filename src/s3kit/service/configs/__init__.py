"""Bucket configuration: versioning, lifecycle, website, CORS, default encryption, replication,
notifications, acceleration, object lock, inventory, analytics, metrics, intelligent tiering.

One module per area holds its `build_*` and `validate_*` functions and the mixin of its
`S3Service` methods; `specs` is the table naming every document's boto3 operations, with the
one get/put/delete they all go through, and `checks` the validation steps they share. Import
from here.

Documents have the shape boto3 uses (the S3 API's, e.g. ``{"Rules": [...]}`` for lifecycle), so
that what a `get_*` returns can be handed back to the matching `set_*` unchanged. The `build_*`
functions make the common single-rule documents from plain arguments and the `validate_*`
functions check a whole document; both are pure and raise `UsageError` with the rule and field at
fault before anything is sent. A configuration that is not there reads as ``None``, and deleting
one that is not there succeeds.

This package must never send a document it has not validated, and never guess at what a user
left out: it fills in only fields the API requires whose value is not in doubt (an empty
lifecycle ``Filter`` is the whole bucket; a rule's ``Status`` is never assumed). Deleting first
reads the configuration, because some servers treat a DELETE they do not understand as
DeleteBucket (see `specs.ConfigDocuments._delete_config`).
"""

from __future__ import annotations

from s3kit.service.configs.acceleration import AccelerationMixin
from s3kit.service.configs.cors import CORS_METHODS, CorsMixin, build_cors_rule, validate_cors
from s3kit.service.configs.encryption import (
    DefaultEncryptionMixin,
    SseAlgorithm,
    build_encryption,
    validate_encryption,
)
from s3kit.service.configs.id_configs import (
    IdConfigsMixin,
    build_analytics,
    build_intelligent_tiering,
    build_inventory,
    build_metrics,
    validate_id_config,
)
from s3kit.service.configs.lifecycle import (
    LIFECYCLE_ACTIONS,
    LifecycleMixin,
    build_lifecycle_rule,
    parse_transition,
    validate_lifecycle,
)
from s3kit.service.configs.notifications import (
    NOTIFICATION_TARGETS,
    NotificationsMixin,
    build_notification,
    validate_notifications,
)
from s3kit.service.configs.object_lock import (
    LockMode,
    ObjectLockMixin,
    build_object_lock,
    build_retention,
    validate_object_lock,
)
from s3kit.service.configs.replication import (
    ReplicationMixin,
    build_replication,
    validate_replication,
)
from s3kit.service.configs.specs import ID_CONFIGS, Document, IdConfigKind, IdConfigSpec
from s3kit.service.configs.versioning import VersioningMixin, VersioningStatus, validate_mfa
from s3kit.service.configs.website import (
    WebsiteMixin,
    build_website,
    validate_website,
    website_endpoint,
)

__all__ = [
    "CORS_METHODS",
    "ID_CONFIGS",
    "LIFECYCLE_ACTIONS",
    "NOTIFICATION_TARGETS",
    "AccelerationMixin",
    "CorsMixin",
    "DefaultEncryptionMixin",
    "Document",
    "IdConfigKind",
    "IdConfigSpec",
    "IdConfigsMixin",
    "LifecycleMixin",
    "LockMode",
    "NotificationsMixin",
    "ObjectLockMixin",
    "ReplicationMixin",
    "SseAlgorithm",
    "VersioningMixin",
    "VersioningStatus",
    "WebsiteMixin",
    "build_analytics",
    "build_cors_rule",
    "build_encryption",
    "build_intelligent_tiering",
    "build_inventory",
    "build_lifecycle_rule",
    "build_metrics",
    "build_notification",
    "build_object_lock",
    "build_replication",
    "build_retention",
    "build_website",
    "parse_transition",
    "validate_cors",
    "validate_encryption",
    "validate_id_config",
    "validate_lifecycle",
    "validate_mfa",
    "validate_notifications",
    "validate_object_lock",
    "validate_replication",
    "validate_website",
    "website_endpoint",
]
