"""Versions: list, get, delete, restore as current, undelete.

Only meaningful on buckets with versioning enabled (or suspended); on others S3 lists every
object once with VersionId "null". Restoring a version copies it over the key, which makes a
new current version and keeps the history; undelete removes the delete marker that hides the
key, which brings back the version under it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from s3kit._aio import async_iter_twin, async_twin
from s3kit._uri import validate_bucket_name, validate_key
from s3kit.errors import ObjectNotFound, UsageError
from s3kit.service.base import ServiceBase
from s3kit.storage.s3 import VersionEntry


class VersionsMixin(ServiceBase):
    def list_versions(self, bucket: str, prefix: str = "") -> Iterator[VersionEntry]:
        """Every version and delete marker under `prefix` (a key is a prefix of itself), in
        key order and, within a key, newest first."""
        validate_bucket_name(bucket)
        yield from self.session.storage(bucket).list_versions(prefix)

    def download_version(
        self, bucket: str, key: str, version_id: str | None, destination: Path
    ) -> int:
        """Write one version of an object to `destination` (a file, or a folder to put it
        in), as every download is written: verified against the version's checksums, to a
        temporary file renamed into place (a failure leaves nothing half-written), in
        parallel ranges when it is big. Returns the bytes written."""
        from s3kit.service.objects import download_to_file

        return download_to_file(self, bucket, key, destination, version_id=version_id).bytes

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
        from s3kit._uri import S3Url
        from s3kit.service.objects import server_copy

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

    # -- awaitable twins: the same calls on a worker thread (s3kit._aio.async_twin) ---------
    list_versions_async = async_iter_twin(list_versions)
    download_version_async = async_twin(download_version)
    delete_version_async = async_twin(delete_version)
    restore_version_async = async_twin(restore_version)
    undelete_async = async_twin(undelete)


__all__ = ["VersionEntry", "VersionsMixin"]
