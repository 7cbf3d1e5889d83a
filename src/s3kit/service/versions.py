"""Versions: list, get, delete, restore as current, undelete.

Only meaningful on buckets with versioning enabled (or suspended); on others S3 lists every
object once with VersionId "null". Restoring a version copies it over the key, which makes a
new current version and keeps the history; undelete removes the delete marker that hides the
key, which brings back the version under it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from s3kit.errors import ObjectNotFound, UsageError
from s3kit.service.base import ServiceBase
from s3kit.uri import validate_bucket_name, validate_key

# CopyObject refuses sources above 5 GiB; a version that large cannot be restored in one call.
_CHUNK = 1024 * 1024


@dataclass(frozen=True, slots=True)
class VersionEntry:
    key: str
    version_id: str
    is_latest: bool
    is_delete_marker: bool
    last_modified: datetime | None
    size: int = 0
    etag: str | None = None
    storage_class: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "version_id": self.version_id,
            "is_latest": self.is_latest,
            "delete_marker": self.is_delete_marker,
            "last_modified": self.last_modified.isoformat() if self.last_modified else None,
            "size": self.size,
            "etag": self.etag,
            "storage_class": self.storage_class,
        }


def entries_from_page(page: dict[str, Any]) -> list[VersionEntry]:
    """One ListObjectVersions page as entries, versions and delete markers together, in key
    order and, within a key, newest first (the order S3 lists each kind in)."""
    entries = [
        VersionEntry(
            key=v["Key"],
            version_id=str(v.get("VersionId") or "null"),
            is_latest=bool(v.get("IsLatest")),
            is_delete_marker=False,
            last_modified=v.get("LastModified"),
            size=int(v.get("Size", 0)),
            etag=v.get("ETag"),
            storage_class=v.get("StorageClass"),
        )
        for v in page.get("Versions", [])
    ]
    entries += [
        VersionEntry(
            key=m["Key"],
            version_id=str(m.get("VersionId") or "null"),
            is_latest=bool(m.get("IsLatest")),
            is_delete_marker=True,
            last_modified=m.get("LastModified"),
        )
        for m in page.get("DeleteMarkers", [])
    ]

    def order(entry: VersionEntry) -> tuple[str, bool, float]:
        stamp = entry.last_modified
        seconds = stamp.timestamp() if stamp is not None else float("-inf")
        return (entry.key, not entry.is_latest, -seconds)

    return sorted(entries, key=order)


class VersionsMixin(ServiceBase):
    def list_versions(self, bucket: str, prefix: str = "") -> Iterator[VersionEntry]:
        """Every version and delete marker under `prefix` (a key is a prefix of itself)."""
        validate_bucket_name(bucket)
        for page in self.pages("list_object_versions", bucket, Bucket=bucket, Prefix=prefix):
            yield from entries_from_page(page)

    def download_version(
        self, bucket: str, key: str, version_id: str | None, destination: Path
    ) -> int:
        """Write one version of an object to `destination` (a file, or a folder to put it
        in), as every download is written: verified against the version's checksums, to a
        temporary file renamed into place (a failure leaves nothing half-written), in
        parallel ranges when it is big. Returns the bytes written."""
        from s3kit.transfer import TransferManager
        from s3kit.uri import LocalPath, S3Url

        validate_bucket_name(bucket)
        validate_key(key)
        summary = TransferManager(self.session).run(
            S3Url(bucket, key, version_id or None), LocalPath(destination)
        )
        if summary.failures:
            raise summary.failures[0][1]
        return summary.bytes

    def delete_version(self, bucket: str, key: str, version_id: str) -> None:
        """Delete one version (or delete marker) for good."""
        validate_bucket_name(bucket)
        validate_key(key)
        if not version_id:
            raise UsageError("--version-id is required to delete a version")
        self.call(
            "delete_object", bucket=bucket, key=key, Bucket=bucket, Key=key, VersionId=version_id
        )

    def restore_version(self, bucket: str, key: str, version_id: str) -> str | None:
        """Copy `version_id` over `key` as its new current version (a server-side copy, in
        parts above 5 GiB); returns the new version id."""
        from s3kit.service.objects import server_copy
        from s3kit.uri import S3Url

        validate_bucket_name(bucket)
        validate_key(key)
        if not version_id:
            raise UsageError("--version-id is required to restore a version")
        return server_copy(
            self.session, S3Url(bucket, key, version_id), S3Url(bucket, key)
        ).version_id

    def undelete(self, bucket: str, key: str) -> str:
        """Remove the delete marker that is the current version of `key`; returns its id."""
        validate_bucket_name(bucket)
        validate_key(key)
        for entry in self.list_versions(bucket, key):
            if entry.key == key and entry.is_latest:
                if not entry.is_delete_marker:
                    raise UsageError(
                        f"s3://{bucket}/{key} is not deleted: its latest version is live"
                    )
                self.delete_version(bucket, key, entry.version_id)
                return entry.version_id
        raise ObjectNotFound(
            f"s3://{bucket}/{key} has no versions at all — check the key with"
            f" `s3kit object versions s3://{bucket}/{key}`"
        )


__all__ = ["VersionEntry", "VersionsMixin", "entries_from_page"]
