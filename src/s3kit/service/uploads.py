"""Multipart housekeeping: list and abort incomplete multipart uploads.

An upload that was started and never completed or aborted keeps its parts, and S3 bills them,
while no listing of objects shows them. Walk, decide, act: `list_uploads` walks, `select_uploads`
(pure, clock passed in) decides, `abort_uploads` acts.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from s3kit._aio import async_iter_twin, async_twin
from s3kit._uri import validate_bucket_name
from s3kit.errors import UsageError
from s3kit.service.base import ServiceBase

if TYPE_CHECKING:
    from s3kit._session import Session
    from s3kit.transfer.multipart import PendingUpload


def pending_uploads(
    session: Session, bucket: str, prefix: str = "", *, page_size: int = 1000
) -> Iterator[PendingUpload]:
    """The one listing of incomplete multipart uploads, blocking."""
    from s3kit._aio import iter_sync
    from s3kit.transfer.multipart import Multipart

    return iter_sync(Multipart(session.http(), bucket).iter_pending(prefix, page_size=page_size))


@dataclass(frozen=True, slots=True)
class Upload:
    key: str
    upload_id: str
    initiated: datetime | None
    storage_class: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "upload_id": self.upload_id,
            "initiated": self.initiated.isoformat() if self.initiated else None,
            "storage_class": self.storage_class,
        }


def select_uploads(
    uploads: Iterable[Upload],
    *,
    older_than_days: float | None = None,
    now: datetime | None = None,
    key: str | None = None,
    upload_id: str | None = None,
) -> list[Upload]:
    """The uploads a list/abort should touch. `older_than_days` keeps those started more than
    that many days before `now`; an upload with no start time is never called old."""
    if older_than_days is not None and older_than_days < 0:
        raise UsageError(f"--older-than must be 0 or more days, not {older_than_days}")
    if upload_id is not None and key is None:
        raise UsageError("--upload-id needs --key: S3 identifies an upload by both")
    cutoff = None
    if older_than_days is not None:
        cutoff = (now or datetime.now(UTC)) - timedelta(days=older_than_days)
    chosen = []
    for upload in uploads:
        if key is not None and upload.key != key:
            continue
        if upload_id is not None and upload.upload_id != upload_id:
            continue
        if cutoff is not None and (upload.initiated is None or upload.initiated >= cutoff):
            continue
        chosen.append(upload)
    return chosen


class UploadsMixin(ServiceBase):
    def list_uploads(self, bucket: str, prefix: str = "") -> Iterator[Upload]:
        """Incomplete multipart uploads under `prefix`, in key order (the signed listing of
        `Multipart.iter_pending`, page by page)."""
        validate_bucket_name(bucket)
        for pending in pending_uploads(self.session, bucket, prefix):
            yield Upload(
                key=pending.key,
                upload_id=pending.upload_id,
                initiated=pending.initiated,
                storage_class=pending.storage_class,
            )

    def abort_upload(self, bucket: str, key: str, upload_id: str) -> None:
        self.call(
            "abort_multipart_upload",
            bucket=bucket,
            key=key,
            Bucket=bucket,
            Key=key,
            UploadId=upload_id,
        )

    def abort_uploads(
        self,
        bucket: str,
        prefix: str = "",
        *,
        older_than_days: float | None = None,
        key: str | None = None,
        upload_id: str | None = None,
        dryrun: bool = False,
        now: datetime | None = None,
    ) -> list[Upload]:
        """Abort the incomplete uploads selected (see `select_uploads`); returns them. With
        `dryrun`, nothing is aborted. Naming one upload that does not exist is an error."""
        if key is not None and upload_id is not None:
            # Named exactly: listing could miss it on servers that list lazily, so skip that.
            chosen = [Upload(key, upload_id, None)]
            if older_than_days is not None:
                raise UsageError("--older-than cannot be combined with --upload-id")
        else:
            chosen = select_uploads(
                self.list_uploads(bucket, prefix),
                older_than_days=older_than_days,
                now=now,
                key=key,
                upload_id=upload_id,
            )
        if not dryrun:
            for upload in chosen:
                self.abort_upload(bucket, upload.key, upload.upload_id)
        return chosen

    # -- awaitable twins: the same calls on a worker thread (s3kit._aio.async_twin) ---------
    list_uploads_async = async_iter_twin(list_uploads)
    abort_upload_async = async_twin(abort_upload)
    abort_uploads_async = async_twin(abort_uploads)


__all__ = ["Upload", "UploadsMixin", "select_uploads"]
