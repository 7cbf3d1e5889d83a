"""Storage backends: the protocol, S3 (signed requests) and a local folder.

The backends are imported when first asked for: a command that lists a bucket (`s3kit ls`)
needs neither the local folder's backend nor the asyncio it brings.
"""

from typing import TYPE_CHECKING

from s3kit._lazy import lazy_names
from s3kit.storage.base import ObjectInfo, Prefix, PutMode, PutResult, Storage

if TYPE_CHECKING:
    from s3kit.storage.local import LocalStorage
    from s3kit.storage.s3 import S3Storage

__getattr__ = lazy_names(
    __name__, {"s3kit.storage.local": ("LocalStorage",), "s3kit.storage.s3": ("S3Storage",)}
)
del lazy_names

__all__ = ["LocalStorage", "ObjectInfo", "Prefix", "PutMode", "PutResult", "S3Storage", "Storage"]
