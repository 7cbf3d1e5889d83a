"""Storage backends: the protocol, S3 (signed requests) and a local folder."""

from s3kit.storage.base import ObjectInfo, Prefix, PutMode, PutResult, Storage
from s3kit.storage.local import LocalStorage
from s3kit.storage.s3 import S3Storage

__all__ = ["LocalStorage", "ObjectInfo", "Prefix", "PutMode", "PutResult", "S3Storage", "Storage"]
