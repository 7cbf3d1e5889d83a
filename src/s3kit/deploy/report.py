"""What a deploy says as it goes and when it ends — the outcome (`DeployOutcome`, its `--json`
document), transfer events for a progress bar, the lines of sync's audit log — and the state
of one under way (`Run`), which every step reports through."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from s3kit._session import Session
from s3kit._uri import LocalPath, Location, S3Url
from s3kit.deploy.cloudfront import (
    CloudFrontInvalidation,
    InvalidationResult,
)
from s3kit.deploy.manifest import (
    DEPLOYS,
    FileRecord,
    Manifest,
)
from s3kit.deploy.plan import DeployPlan, Upload
from s3kit.deploy.records import restore_source
from s3kit.deploy.website import WebsiteResult
from s3kit.errors import (
    S3KitError,
)
from s3kit.storage.s3 import S3Storage
from s3kit.transfer.items import EventCallback, TransferEvent, TransferItem, guarded

if TYPE_CHECKING:  # sync's audit module (and bisync's, sqlite3) is imported for a log only
    from s3kit._sync.audit import AuditLog, AuditRecord, AuditResult


@dataclass(slots=True, repr=False)
class DeployOutcome:
    destination: S3Url
    plan: DeployPlan
    deploy_id: str | None = None  # None: nothing was made live (a dry run, or no change)
    dryrun: bool = False
    uploaded: int = 0
    bytes: int = 0
    deleted: int = 0
    collected: int = 0  # the deploy's own copies (_s3kit/blobs/) deleted, apart from `deleted`
    failures: list[tuple[str, S3KitError]] = field(default_factory=list)
    invalidation: InvalidationResult | None = None  # made, or (a dry run) planned
    website: WebsiteResult | None = None  # set and read back
    # What failed once the deploy was live (website, invalidation): the deploy stays live.
    after_live: list[S3KitError] = field(default_factory=list)

    def __repr__(self) -> str:  # short, as the plan's
        return (
            f"DeployOutcome({str(self.destination)!r}, deploy_id={self.deploy_id!r},"
            f" dryrun={self.dryrun}, uploaded={self.uploaded}, deleted={self.deleted},"
            f" {len(self.failures)} failures, {self.plan!r})"
        )

    @property
    def ok(self) -> bool:
        return not self.failures and not self.after_live

    def document(self) -> dict[str, Any]:
        """The `--json` summary."""
        return {
            "destination": str(self.destination),
            "deploy_id": self.deploy_id,
            "dryrun": self.dryrun,
            "uploaded": self.uploaded,
            "bytes": self.bytes,
            "unchanged": len(self.plan.unchanged),
            "redirects": len(self.plan.redirects),
            "deleted": self.deleted,
            "stale": len(self.plan.stale),
            "collected": self.collected,
            "failures": [
                {"path": path, "error": _error_document(error)} for path, error in self.failures
            ],
            "invalidation_id": self.invalidation.id if self.invalidation else None,
            "invalidation": self.invalidation.document() if self.invalidation else None,
            "website": self.website.document() if self.website else None,
            "errors": [_error_document(error) for error in self.after_live],
            "plan": self.plan.document(),
        }


def _error_document(error: S3KitError) -> dict[str, Any]:
    return {"code": error.code or None, "message": error.message}


# -- what a deploy says as it goes ------------------------------------------------------------


class Report:
    """Transfer events for a progress display (guarded: a failing callback is logged, never
    raised) and audit lines, for one deploy to `destination`. Without a display (`on_event`)
    no event is made, without a log no audit line: a deploy of thousands of files that no one
    watches pays for neither."""

    def __init__(
        self, destination: S3Url, on_event: EventCallback | None, log: AuditLog | None
    ) -> None:
        self.destination, self.log = destination, log
        self.emit = guarded(on_event) if on_event is not None else None
        self._items: dict[str, TransferItem] = {}

    def url(self, key: str) -> S3Url:
        return S3Url(self.destination.bucket, self.destination.folder + key)

    def item(self, upload: Upload) -> TransferItem:
        file = upload.file
        if file.key not in self._items:
            source: Location
            if file.restore is not None:
                source = restore_source(self.destination, file)
            else:
                assert file.path is not None
                source = LocalPath(file.path)
            self._items[file.key] = TransferItem(source, self.url(file.key), file.size)
        return self._items[file.key]

    def write(self, records: Iterable[AuditRecord]) -> None:
        if self.log is not None:
            self.log.write_all(records)

    def queued(self, uploads: list[Upload]) -> None:
        """The whole plan, before the first upload starts: its total is known at once."""
        if self.emit is None:
            return
        for upload in uploads:
            item = self.item(upload)
            self.emit(TransferEvent("queued", _action(upload), item, bytes=upload.file.size))
        if uploads:
            total = sum(u.file.size for u in uploads)
            last = uploads[-1]
            self.emit(
                TransferEvent(
                    "scanned", _action(last), self.item(last), files=len(uploads), bytes=total
                )
            )

    def progress(self, upload: Upload, amount: int) -> None:
        if self.emit is not None:
            self.emit(TransferEvent("progress", _action(upload), self.item(upload), bytes=amount))

    def uploaded(
        self, upload: Upload, record: FileRecord | None, error: S3KitError | None = None
    ) -> None:
        if self.emit is not None:
            item, action = self.item(upload), _action(upload)
            if error is None:
                self.emit(TransferEvent("done", action, item, bytes=upload.file.size))
            else:
                self.emit(TransferEvent("failed", action, item, error))
        if self.log is not None:
            self.write([self._upload_record(upload, _result(error), record, error)])

    def _upload_record(
        self,
        upload: Upload,
        result: AuditResult,
        record: FileRecord | None = None,
        error: S3KitError | None = None,
    ) -> AuditRecord:
        from s3kit._sync.audit import audit_record

        item = self.item(upload)
        return audit_record(
            _action(upload),
            source=str(item.source),
            destination=str(item.destination),
            reason=upload.reason,
            size=record.stored_size if record is not None else upload.file.size,
            result=result,
            error=error.message if error is not None else None,
        )

    def redirect(
        self, key: str, location: str, reason: str, result: AuditResult, error: str | None = None
    ) -> None:
        """A redirect object: its key (`path`) and where it sends (`destination`)."""
        if self.log is None:
            return
        from s3kit._sync.audit import audit_record

        record = audit_record(
            "redirect",
            path=str(self.url(key)),
            destination=location,
            reason=reason,
            result=result,
            error=error,
        )
        self.write([record])

    def removals(
        self,
        plan: DeployPlan,
        live: Manifest | None,
        deleted: Iterable[str] | None,
        errors: dict[str, S3KitError] | None = None,
    ) -> None:
        """The deletions (done, failed, or planned when `deleted` is None) and the files kept
        for the grace period."""
        if self.log is None:
            return
        from s3kit._sync.audit import audit_record

        since = live.stale if live is not None else {}
        done = set(deleted or ())
        records = []
        for key in plan.deletions:
            result: AuditResult = (
                "planned" if deleted is None else "done" if key in done else "failed"
            )
            error = (errors or {}).get(key)
            records.append(
                audit_record(
                    "delete",
                    path=str(self.url(key)),
                    reason=f"removed from the site {since.get(key, 'now')}",
                    result=result,
                    error=None if result != "failed" else error.message if error else "not deleted",
                )
            )
        for key, left in plan.stale.items():
            records.append(
                audit_record(
                    "skip",
                    path=str(self.url(key)),
                    reason=f"removed from the site {left}; deleted after the grace period",
                    result="done",
                )
            )
        self.write(records)

    def collected(self, plan: DeployPlan, failed: dict[str, str] | None) -> None:
        """The history's collection: records of deploys that left it, and the blobs only
        they used; planned when `failed` is None, else done but for the keys it holds (a blob
        whose record stayed was not tried: failed too)."""
        if self.log is None:
            return
        from s3kit._sync.audit import audit_record

        reasons = {f"{DEPLOYS}{name}.json": "left the deploy history" for name in plan.dropped}
        reasons |= {blob: "no kept deploy uses this copy" for blob in plan.blob_deletions}
        stopped = bool(failed) and any(key.startswith(DEPLOYS) for key in failed or {})
        records = []
        for key, reason in reasons.items():
            error = None if failed is None else failed.get(key)
            if error is None and stopped and not key.startswith(DEPLOYS):
                error = "not tried: a record that names it is still there"
            result: AuditResult = (
                "planned" if failed is None else "failed" if error is not None else "done"
            )
            path = str(self.url(key))
            records.append(audit_record("delete", path=path, reason=reason, result=result,
                                        error=error))  # fmt: skip
        self.write(records)

    def planned(self, plan: DeployPlan, live: Manifest | None) -> None:
        """What a dry run would do."""
        for upload in plan.in_order():
            if self.emit is not None:
                item = self.item(upload)
                self.emit(TransferEvent("planned", _action(upload), item, bytes=upload.file.size))
            if self.log is not None:
                self.write([self._upload_record(upload, "planned")])
        for key, location in sorted(plan.redirects.items()):
            self.redirect(key, location, redirect_reason(key, live), "planned")
        self.removals(plan, live, None)
        self.collected(plan, None)


def _result(error: S3KitError | None) -> AuditResult:
    return "failed" if error is not None else "done"


def _action(upload: Upload) -> Literal["upload", "copy"]:
    return "copy" if upload.file.restore is not None else "upload"


def redirect_reason(key: str, live: Manifest | None) -> str:
    return "changed" if live is not None and key in live.redirects else "new"


@dataclass(slots=True)
class Planned:
    plan: DeployPlan
    live: Manifest | None
    etag: str | None  # of the live current.json: the If-Match of the swing
    stored: dict[str, int]  # what the bucket held before: site path → size


@dataclass(slots=True)
class Run:
    """One deploy (or rollback) under way, inside the lock."""

    session: Session
    storage: S3Storage
    destination: S3Url
    outcome: DeployOutcome
    report: Report
    concurrency: int
    deploy_id: str
    now: datetime
    cloudfront: CloudFrontInvalidation | None = None
    manifest: Manifest | None = None  # the one this run made live
    etag: str | None = None  # of its current.json
    deleted: list[str] = field(default_factory=list)
    # The Cache-Control of each stale file deleted, read before its deletion: what an edge
    # holds of it (the live manifest no longer records those files).
    edge_headers: dict[str, str | None] = field(default_factory=dict)
    # What each PUT of this run answered, by site path (a sibling's as KEY.br): the ETag
    # that pins the copy `keep_blobs` makes of it.
    etags: dict[str, str | None] = field(default_factory=dict)

    @property
    def prefix(self) -> str:
        return self.destination.folder
