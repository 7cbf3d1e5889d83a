"""s3kit: one tool for Amazon S3 and S3-compatible stores.

The names in `__all__` are the public library; everything else may change between releases.
Importing s3kit must not import boto3 (the control plane loads it on first use).
"""

from s3kit._version import __version__
from s3kit.client import S3Client, S3FileInfo
from s3kit.errors import (
    BucketAlreadyExists,
    BucketNotEmpty,
    BucketNotFound,
    ConfigError,
    ConflictError,
    CredentialsError,
    EndpointError,
    InvalidBucketName,
    InvalidKey,
    LocalPathError,
    LocalServerError,
    NotSupported,
    ObjectNotFound,
    PermissionDenied,
    S3KitError,
    Throttled,
    TransferError,
    UsageError,
)
from s3kit.local_server import LocalServer
from s3kit.session import Session
from s3kit.storage import LocalStorage, ObjectInfo, Prefix, S3Storage, Storage

__all__ = [
    "BucketAlreadyExists",
    "BucketNotEmpty",
    "BucketNotFound",
    "ConfigError",
    "ConflictError",
    "CredentialsError",
    "EndpointError",
    "InvalidBucketName",
    "InvalidKey",
    "LocalPathError",
    "LocalServer",
    "LocalServerError",
    "LocalStorage",
    "NotSupported",
    "ObjectInfo",
    "ObjectNotFound",
    "PermissionDenied",
    "Prefix",
    "S3Client",
    "S3FileInfo",
    "S3KitError",
    "S3Storage",
    "Session",
    "Storage",
    "Throttled",
    "TransferError",
    "UsageError",
    "__version__",
]
