"""s3kit: one tool for Amazon S3 and S3-compatible stores.

The names in `__all__` are the public library; everything else may change between releases
(modules whose names start with `_` are private; `s3kit.errors`, `s3kit.events`,
`s3kit.service`, `s3kit.storage` and `s3kit.transfer` are public modules as well).

Each name is imported on first use, so `import s3kit` (and with it every CLI command, which
starts here) costs only what the caller touches. Importing s3kit must not import boto3: the
control plane loads it on its first call.
"""

from s3kit._lazy import lazy_names
from s3kit._version import __version__

# typing's constant without importing typing, which `s3kit --version` has no use for: mypy
# reads any name TYPE_CHECKING as true. (Deleted below: it is no public name.)
TYPE_CHECKING = False
if TYPE_CHECKING:
    from s3kit._client import S3Client, S3FileInfo, S3FileResult
    from s3kit._config.file import S3KitConfig, load_config
    from s3kit._encryption import Encryption
    from s3kit._local_server import LocalServer
    from s3kit._retry import RetryPolicy
    from s3kit._session import Session
    from s3kit._sync.bisync_run import BisyncOutcome
    from s3kit._sync.execute import SyncResult
    from s3kit._sync.plan import Action, CompareOptions, DeleteRefused, Plan
    from s3kit._sync.run import SyncOutcome, bisync, bisync_async, sync, sync_async
    from s3kit._uri import LocalPath, S3Url, parse_location
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
    from s3kit.events import RequestEvent
    from s3kit.service import S3Service
    from s3kit.storage import LocalStorage, ObjectInfo, Prefix, S3Storage, Storage
    from s3kit.transfer import (
        ItemResult,
        TransferConfig,
        TransferEvent,
        TransferManager,
        TransferSummary,
        WriteOptions,
    )

# Where each public name lives.
_HOMES = {
    "s3kit._client": ("S3Client", "S3FileInfo", "S3FileResult"),
    "s3kit._config.file": ("S3KitConfig", "load_config"),
    "s3kit._encryption": ("Encryption",),
    "s3kit._local_server": ("LocalServer",),
    "s3kit._retry": ("RetryPolicy",),
    "s3kit._session": ("Session",),
    "s3kit._sync.execute": ("SyncResult",),
    "s3kit._sync.plan": ("Action", "CompareOptions", "DeleteRefused", "Plan"),
    "s3kit._sync.bisync_run": ("BisyncOutcome",),
    "s3kit._sync.run": ("SyncOutcome", "bisync", "bisync_async", "sync", "sync_async"),
    "s3kit._uri": ("LocalPath", "S3Url", "parse_location"),
    "s3kit.errors": (
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
        "LocalServerError",
        "NotSupported",
        "ObjectNotFound",
        "PermissionDenied",
        "S3KitError",
        "Throttled",
        "TransferError",
        "UsageError",
    ),
    "s3kit.events": ("RequestEvent",),
    "s3kit.service": ("S3Service",),
    "s3kit.storage": ("LocalStorage", "ObjectInfo", "Prefix", "S3Storage", "Storage"),
    "s3kit.transfer": (
        "ItemResult",
        "TransferConfig",
        "TransferEvent",
        "TransferManager",
        "TransferSummary",
        "WriteOptions",
    ),
}
__getattr__ = lazy_names(__name__, _HOMES)
del TYPE_CHECKING, lazy_names


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


__all__ = [
    "Action",
    "BisyncOutcome",
    "BucketAlreadyExists",
    "BucketNotEmpty",
    "BucketNotFound",
    "CompareOptions",
    "ConfigError",
    "ConflictError",
    "CredentialsError",
    "DeleteRefused",
    "Encryption",
    "EndpointError",
    "InvalidBucketName",
    "InvalidKey",
    "ItemResult",
    "LocalPath",
    "LocalPathError",
    "LocalServer",
    "LocalServerError",
    "LocalStorage",
    "NotSupported",
    "ObjectInfo",
    "ObjectNotFound",
    "PermissionDenied",
    "Plan",
    "Prefix",
    "RequestEvent",
    "RetryPolicy",
    "S3Client",
    "S3FileInfo",
    "S3FileResult",
    "S3KitConfig",
    "S3KitError",
    "S3Service",
    "S3Storage",
    "S3Url",
    "Session",
    "Storage",
    "SyncOutcome",
    "SyncResult",
    "Throttled",
    "TransferConfig",
    "TransferError",
    "TransferEvent",
    "TransferManager",
    "TransferSummary",
    "UsageError",
    "WriteOptions",
    "__version__",
    "bisync",
    "bisync_async",
    "load_config",
    "parse_location",
    "sync",
    "sync_async",
]
