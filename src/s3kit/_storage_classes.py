"""The S3 storage classes, listed once, and the one check of a class name.

Every entry point that sends a storage class — uploads (`WriteOptions`), `set_storage_class`,
lifecycle transitions, replication, the config file's default — checks it here, before any
request, so the library refuses what the CLI refuses and a typo never reaches the server.
"""

from __future__ import annotations

from s3kit.errors import UsageError

# Every class S3 accepts on PutObject/CopyObject (x-amz-storage-class).
STORAGE_CLASSES = (
    "STANDARD",
    "REDUCED_REDUNDANCY",
    "STANDARD_IA",
    "ONEZONE_IA",
    "INTELLIGENT_TIERING",
    "GLACIER",
    "GLACIER_IR",
    "DEEP_ARCHIVE",
    "OUTPOSTS",
    "SNOW",
    "EXPRESS_ONEZONE",
)
# The classes a lifecycle rule may move objects to.
TRANSITION_STORAGE_CLASSES = (
    "STANDARD_IA",
    "ONEZONE_IA",
    "INTELLIGENT_TIERING",
    "GLACIER_IR",
    "GLACIER",
    "DEEP_ARCHIVE",
)
# The classes a replication rule may store replicas in.
REPLICA_STORAGE_CLASSES = ("STANDARD", "REDUCED_REDUNDANCY", *TRANSITION_STORAGE_CLASSES)
# Classes whose objects must be restored before they can be read.
ARCHIVE_CLASSES = ("GLACIER", "DEEP_ARCHIVE")


def validate_storage_class(name: str) -> str:
    """`name` as S3 spells it (upper case), or UsageError naming the classes there are."""
    upper = name.upper()
    if upper not in STORAGE_CLASSES:
        raise UsageError(
            f"unknown storage class '{name}' — use one of {', '.join(STORAGE_CLASSES)}"
        )
    return upper


__all__ = [
    "ARCHIVE_CLASSES",
    "REPLICA_STORAGE_CLASSES",
    "STORAGE_CLASSES",
    "TRANSITION_STORAGE_CLASSES",
    "validate_storage_class",
]
