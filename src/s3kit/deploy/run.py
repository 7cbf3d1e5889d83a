"""A deploy carried out: scan the site, lock, plan against the live manifest, write in safe
order, swing `current.json`, delete what is due, unlock. Also `history` and `rollback`.

The order of writes is what keeps a failure harmless: every file is written before the manifest
that names it, and the live manifest changes only with a conditional PUT (If-Match on the ETag
read at the start), so a deploy that fails half-way leaves the previous deploy live and
recorded — the next run finds the files already sent as unchanged-but-unrecorded and sends
them again, nothing is lost. Deletions come last, after the new manifest is live, and only of
files an earlier deploy wrote (see `plan`).

The lock (`_s3kit/lock`, created with If-None-Match: *) keeps two deploys from interleaving.
A store that ignores conditional writes (see `s3kit probe`) gets a HEAD before the create,
which stops a second deploy that starts while one runs, but not two that start together.

Once the deploy is live: the bucket's website configuration (`website`, see `website.py`) and
the CloudFront invalidation of what it made stale (`cloudfront`, see `cloudfront.py`). Their
failures never undo the deploy; they are the outcome's `after_live` errors, which say it is
live. As it goes a deploy reports each upload as transfer events (`on_event`: a progress bar,
which must never break it) and each action as a line of sync's audit log (`log_file`).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import socket
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from s3kit._aio import run_bounded, run_sync
from s3kit._session import Session
from s3kit._sync.audit import AuditLog, AuditRecord, AuditResult, audit_record
from s3kit._sync.ignore import DEFAULT_EXCLUDES, IgnoreRules
from s3kit._uri import LocalPath, Location, S3Url, parse_s3_url, validate_key
from s3kit.deploy.cloudfront import (
    CloudFrontInvalidation,
    InvalidationFailed,
    InvalidationResult,
    Invalidator,
    collapse,
    edge_stale_keys,
    invalidate,
    invalidation_records,
)
from s3kit.deploy.compress import gzip_bytes
from s3kit.deploy.content_types import SNIFF_BYTES
from s3kit.deploy.manifest import (
    BLOBS,
    CURRENT,
    DEPLOYS,
    LOCK,
    STATE,
    FileRecord,
    Manifest,
    iso,
    new_deploy_id,
)
from s3kit.deploy.plan import DeleteMode, DeployPlan, SiteFile, Upload, make_plan
from s3kit.deploy.rules import DeployConfig, FileHeaders
from s3kit.deploy.website import WebsiteFailed, WebsiteResult, check_website, set_website
from s3kit.errors import (
    ConflictError,
    LocalPathError,
    ObjectNotFound,
    S3KitError,
    UsageError,
    translating,
)
from s3kit.storage.base import ObjectInfo
from s3kit.storage.local import walk_folder
from s3kit.storage.s3 import S3Storage
from s3kit.transfer.items import EventCallback, TransferEvent, TransferItem, guarded

HEAD_BYTES = SNIFF_BYTES  # what the content-type sniffing of extensionless files looks at
BUFFERED = 64 * 1024 * 1024  # larger files go through TransferManager (parts, resume)
Clock = Callable[[], datetime]


@dataclass(slots=True)
class DeployOutcome:
    destination: S3Url
    plan: DeployPlan
    deploy_id: str | None = None  # None: nothing was made live (a dry run, or no change)
    dryrun: bool = False
    uploaded: int = 0
    bytes: int = 0
    deleted: int = 0
    failures: list[tuple[str, S3KitError]] = field(default_factory=list)
    invalidation: InvalidationResult | None = None  # made, or (a dry run) planned
    website: WebsiteResult | None = None  # set and read back
    # What failed once the deploy was live (website, invalidation): the deploy stays live.
    after_live: list[S3KitError] = field(default_factory=list)

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


class _Report:
    """Transfer events for a progress display (guarded: a failing callback is logged, never
    raised) and audit lines, for one deploy to `destination`."""

    def __init__(
        self, destination: S3Url, on_event: EventCallback | None, log: AuditLog | None
    ) -> None:
        self.destination, self.log = destination, log
        self.emit = guarded(on_event)
        self._items: dict[str, TransferItem] = {}

    def url(self, key: str) -> S3Url:
        return S3Url(self.destination.bucket, _prefix(self.destination) + key)

    def item(self, upload: Upload) -> TransferItem:
        file = upload.file
        if file.key not in self._items:
            source: Location
            if file.restore is not None:
                source = _restore_source(self.destination, file)
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
        self.emit(TransferEvent("progress", _action(upload), self.item(upload), bytes=amount))

    def uploaded(
        self, upload: Upload, record: FileRecord | None, error: S3KitError | None = None
    ) -> None:
        item, action = self.item(upload), _action(upload)
        if error is None:
            self.emit(TransferEvent("done", action, item, bytes=upload.file.size))
        else:
            self.emit(TransferEvent("failed", action, item, error))
        self.write([self._upload_record(upload, _result(error), record, error)])

    def _upload_record(
        self,
        upload: Upload,
        result: AuditResult,
        record: FileRecord | None = None,
        error: S3KitError | None = None,
    ) -> AuditRecord:
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

    def planned(self, plan: DeployPlan, live: Manifest | None) -> None:
        """What a dry run would do."""
        for upload in plan.in_order():
            item = self.item(upload)
            self.emit(TransferEvent("planned", _action(upload), item, bytes=upload.file.size))
            self.write([self._upload_record(upload, "planned")])
        for key, location in sorted(plan.redirects.items()):
            self.redirect(key, location, _redirect_reason(key, live), "planned")
        self.removals(plan, live, None)


def _result(error: S3KitError | None) -> AuditResult:
    return "failed" if error is not None else "done"


def _action(upload: Upload) -> Literal["upload", "copy"]:
    return "copy" if upload.file.restore is not None else "upload"


def _redirect_reason(key: str, live: Manifest | None) -> str:
    return "changed" if live is not None and key in live.redirects else "new"


# -- the site ----------------------------------------------------------------------------------


def scan_site(root: Path, config: DeployConfig) -> list[SiteFile]:
    """Every file under `root` the config does not ignore (nor the default excludes: .git/,
    node_modules/, ...), with its sha256 and headers. A local `_s3kit/` is refused: that name
    holds the deploy's own records in the bucket."""
    if not root.is_dir():
        raise LocalPathError(f"{root} is not a folder — deploy takes the folder of the built site")
    excludes = IgnoreRules.parse(DEFAULT_EXCLUDES)
    found: list[tuple[str, int]] = []

    def add(relative: str, stat: os.stat_result) -> None:
        if not excludes.ignores(relative):
            found.append((relative, stat.st_size))

    with translating(path=str(root)):
        complete = walk_folder(
            root, add, prune=lambda relative: excludes.ignores(relative, is_dir=True)
        )
    if not complete:
        raise LocalPathError(f"{root}: a folder could not be read — nothing was deployed")
    files = []
    for relative, _ in sorted(found):
        if relative == STATE.rstrip("/") or relative.startswith(STATE):
            raise UsageError(
                f"{root / relative}: {STATE} is where s3kit keeps the deploy's records in the"
                " bucket — rename that folder of the site"
            )
        validate_key(relative)
        digest, head, size = _digest(root / relative)
        headers = config.headers_for(relative, head)
        if headers is not None:
            files.append(SiteFile(relative, digest, size, headers, path=root / relative))
    return files


def _digest(path: Path) -> tuple[str, bytes, int]:
    digest = hashlib.sha256()
    size = 0
    head = b""
    with translating(path=str(path)), path.open("rb") as handle:
        while chunk := handle.read(1024 * 1024):
            if not head:
                head = chunk[:HEAD_BYTES]
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), head, size


# -- the bucket's records -------------------------------------------------------------------------


async def read_manifest(
    session: Session, destination: S3Url, key: str = CURRENT
) -> tuple[Manifest | None, str | None]:
    """The manifest at `key` under the destination's prefix and its ETag; (None, None) when
    there is none yet."""
    name = _prefix(destination) + key
    try:
        response = await session.http().request_async("GET", destination.bucket, name)
    except ObjectNotFound:
        return None, None
    where = f"s3://{destination.bucket}/{name}"
    try:
        document = json.loads(response.body)
    except ValueError as exc:
        raise S3KitError(f"{where} is not JSON — move it away to start afresh") from exc
    return Manifest.from_document(document, where), response.headers.get("ETag")


async def _stored(storage: S3Storage, prefix: str) -> dict[str, int]:
    """The size of every object under the prefix, by site path (the deploy's records aside).

    `_s3kit/` holds a copy of every file every deploy wrote, so it outgrows the site: the
    listing steps over it (S3 lists in key order; "_s3kit0" sorts right after "_s3kit/...")
    rather than reading it page by page on every deploy."""
    sizes: dict[str, int] = {}
    state = prefix + STATE
    after: str | None = None
    while True:
        resumed = False
        async for entry in storage.list_async(prefix, start_after=after):
            if not isinstance(entry, ObjectInfo):
                continue
            if entry.key.startswith(state):
                after, resumed = state[:-1] + "0", True  # the first key past the records
                break
            sizes[entry.key[len(prefix) :]] = entry.size
        if not resumed:
            return sizes


class _Lock:
    def __init__(self, storage: S3Storage, destination: S3Url, deploy_id: str, now: datetime):
        self.storage, self.destination = storage, destination
        self.key = _prefix(destination) + LOCK
        self.body = json.dumps(
            {"id": deploy_id, "started": iso(now), "host": socket.gethostname(), "pid": os.getpid()}
        ).encode()

    async def __aenter__(self) -> _Lock:
        if await self.storage.exists_async(self.key):
            raise await self._held()
        try:
            await self.storage.put_async(
                self.key, self.body, mode="create", content_type="application/json"
            )
        except ConflictError:
            raise await self._held() from None
        return self

    async def __aexit__(self, *_: object) -> None:
        with contextlib.suppress(S3KitError):
            await self.storage.delete_async(self.key)

    async def _held(self) -> ConflictError:
        where = f"{self.destination}".rstrip("/")
        try:
            holder = json.loads(await self.storage.get_async(self.key))
            who = f" ({holder.get('id')}, started {holder.get('started')} on {holder.get('host')})"
        except (S3KitError, ValueError, AttributeError):
            who = ""
        return ConflictError(
            f"another deploy{who} is writing to {where} — wait for it to end; if it died, run"
            f" `s3kit deploy unlock {where}`"
        )


# -- deploy ---------------------------------------------------------------------------------------


async def deploy_async(
    session: Session,
    source: str | os.PathLike[str],
    destination: S3Url | str,
    *,
    config: DeployConfig | None = None,
    dryrun: bool = False,
    delete: DeleteMode = "deferred",
    max_delete: int | float | None = None,
    force: bool = False,
    expect: dict[str, Any] | None = None,
    commit: str | None = None,
    cloudfront: CloudFrontInvalidation | str | None = None,
    website: bool = False,
    spa: bool = False,
    log_file: str | os.PathLike[str] | None = None,
    on_event: EventCallback | None = None,
    concurrency: int = 16,
    clock: Clock = lambda: datetime.now(UTC),
) -> DeployOutcome:
    """Make `destination` serve the site in the folder `source`. `expect` (a plan document,
    `DeployPlan.document()`, saved by `--plan-out`) refuses the deploy, before anything is
    written, when the live deploy is no longer the one planned against or the plan made now
    would do anything else.

    Once it is live: `website` sets the bucket's index and error documents from `config`
    (`spa`, which implies `website`: the index document is the error document too; only for
    a deploy to the bucket's root), and `cloudfront` (a distribution id, or the options)
    invalidates what the deploy made stale. `log_file` gets one audit line per action (sync's
    format), `on_event` a TransferEvent per step of each upload."""
    destination = _url(destination)
    config = config or DeployConfig()
    invalidation = _cloudfront(cloudfront)
    website = website or spa
    root = Path(source)
    files = await asyncio.to_thread(scan_site, root, config)
    if website:
        site = {f.key for f in files} | set(config.redirect_objects())
        check_website(destination, config, site, spa=spa)
    storage = session.storage(destination.bucket)
    now = clock()
    deploy_id = new_deploy_id(now)

    async def plan_now() -> _Planned:
        live, etag = await read_manifest(session, destination)
        if expect is not None and (live.id if live else None) != expect.get("base"):
            raise ConflictError(
                f"{destination} changed since the plan was made (live deploy"
                f" {live.id if live else 'none'}, planned against {expect.get('base') or 'none'})"
                " — nothing was written; make a new plan"
            )
        stored = await _stored(storage, _prefix(destination))
        plan = make_plan(
            files, live, config, now=now, delete=delete, stored=stored,
            max_delete=max_delete, force=force,
        )  # fmt: skip
        if expect is not None and _decisions(plan.document()) != _decisions(expect):
            raise ConflictError(
                f"the site or {destination} changed since the plan was made: it would now do"
                " something else — nothing was written; make a new plan"
            )
        return _Planned(plan, live, etag, stored)

    with _audit_log(log_file) as log:
        report = _Report(destination, on_event, log)
        if dryrun:
            planned = await plan_now()
            outcome = DeployOutcome(destination, planned.plan, dryrun=True)
            report.planned(planned.plan, planned.live)
            if invalidation is not None:
                await _plan_invalidation(storage, destination, planned, config, invalidation,
                                         outcome, report, concurrency)  # fmt: skip
            return outcome
        async with _Lock(storage, destination, deploy_id, now):
            planned = await plan_now()
            outcome = DeployOutcome(destination, planned.plan)
            run = _Run(session, storage, destination, outcome, report, concurrency, deploy_id,
                       now, invalidation)  # fmt: skip
            if planned.plan.changes or planned.live is None:
                source_info = {"path": str(root)} | ({"commit": commit} if commit else {})
                await _write(run, planned, source_info)
            if outcome.failures and outcome.deploy_id is None:
                return outcome  # not live: nothing more to do on top of it
            await _after_live(run, planned, config, website=website, spa=spa)
            return outcome


def _decisions(document: dict[str, Any]) -> tuple[Any, ...]:
    """What a plan does (not when it was made): two plans that agree here are the same plan."""
    return tuple(
        document.get(name) for name in ("base", "uploads", "redirects", "leaving", "deletions")
    )


def deploy(
    session: Session,
    source: str | os.PathLike[str],
    destination: S3Url | str,
    **options: Any,
) -> DeployOutcome:
    """The blocking twin of `deploy_async` (same options)."""
    return run_sync(deploy_async(session, source, destination, **options))


@dataclass(slots=True)
class _Planned:
    plan: DeployPlan
    live: Manifest | None
    etag: str | None  # of the live current.json: the If-Match of the swing
    stored: dict[str, int]  # what the bucket held before: site path → size


@dataclass(slots=True)
class _Run:
    """One deploy (or rollback) under way, inside the lock."""

    session: Session
    storage: S3Storage
    destination: S3Url
    outcome: DeployOutcome
    report: _Report
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

    @property
    def prefix(self) -> str:
        return _prefix(self.destination)


async def _write(run: _Run, planned: _Planned, source: dict[str, str]) -> None:
    plan, live, outcome, prefix = planned.plan, planned.live, run.outcome, run.prefix
    records: dict[str, FileRecord] = {}
    if live is not None:
        records.update({f.key: live.files[f.key] for f in plan.unchanged if f.key in live.files})
    known_blobs = {r.blob for r in (live.files.values() if live else ()) if r.version_id is None}
    known_blobs |= {  # a rollback copies from these: they are there
        u.file.restore.blob for u in plan.uploads if u.file.restore is not None
    }
    run.report.queued(plan.in_order())
    for phase in ("assets", "pages"):
        batch = [u for u in plan.uploads if u.phase == phase]
        written = await _send_all(run, batch)
        records.update(written)
        await _keep_blobs(run.session, run.destination, written, known_blobs, run.concurrency,
                          outcome)  # fmt: skip
        if outcome.failures:
            # Pages are not written over assets that failed: the live site stays whole.
            return
    for key, location in plan.redirects.items():
        reason = _redirect_reason(key, live)
        try:
            await run.storage.put_async(prefix + key, b"", website_redirect=location)
        except S3KitError as exc:
            outcome.failures.append((key, exc))
            run.report.redirect(key, location, reason, "failed", exc.message)
        else:
            run.report.redirect(key, location, reason, "done")
    if outcome.failures:
        return
    manifest = Manifest(
        id=run.deploy_id,
        created=iso(run.now),
        files=records,
        redirects=dict(_all_redirects(plan, live)),
        stale=dict(plan.stale),
        previous=live.id if live else None,
        source=source,
        summary={
            "uploaded": outcome.uploaded,
            "unchanged": len(plan.unchanged),
            "deleted": len(plan.deletions),
        },
    )
    run.etag = await _publish(run.storage, prefix, manifest, planned.etag)
    run.manifest = manifest
    outcome.deploy_id = run.deploy_id
    errors: dict[str, S3KitError] = {}
    if plan.deletions:
        if run.cloudfront is not None:
            run.edge_headers = await _edge_headers(run.storage, prefix, plan, live,
                                                   run.concurrency)  # fmt: skip
        report = await run.storage.delete_many_async([prefix + key for key in plan.deletions])
        run.deleted = [key[len(prefix) :] for key in report.deleted]
        outcome.deleted = len(report.deleted)
        for failure in report.failures:
            key = failure.key[len(prefix) :]
            errors[key] = S3KitError(failure.message)
            outcome.failures.append((key, errors[key]))
    run.report.removals(plan, live, run.deleted, errors)


async def _edge_headers(
    storage: S3Storage, prefix: str, plan: DeployPlan, live: Manifest | None, concurrency: int
) -> dict[str, str | None]:
    """The Cache-Control of each deletion the live manifest has no record of (a stale file:
    recorded by an earlier deploy), from a HEAD; None where it cannot be told."""
    known = live.files if live is not None else {}
    headers: dict[str, str | None] = {}

    async def one(key: str) -> None:
        try:
            info = await storage.head_async(prefix + key)
        except S3KitError:
            headers[key] = None
            return
        headers[key] = info.cache_control

    await run_bounded((one(key) for key in plan.deletions if key not in known), concurrency)
    return headers


def _all_redirects(plan: DeployPlan, live: Manifest | None) -> dict[str, str]:
    """The redirects the new deploy serves: the config's (all of them are in `plan.redirects`
    or unchanged from the live ones)."""
    kept = {
        key: target
        for key, target in (live.redirects if live else {}).items()
        if key not in plan.leaving and key not in plan.deletions and key not in plan.stale
    }
    return kept | plan.redirects


async def _send_all(run: _Run, uploads: list[Upload]) -> dict[str, FileRecord]:
    written: dict[str, FileRecord] = {}
    outcome = run.outcome

    async def one(upload: Upload) -> None:
        file = upload.file
        try:
            if file.restore is not None:
                record = await _restore(run.session, run.destination, file)
            else:
                record = await _send(run, upload)
        except S3KitError as exc:
            outcome.failures.append((file.key, exc))
            run.report.uploaded(upload, None, exc)
            return
        written[file.key] = record
        outcome.uploaded += 1
        outcome.bytes += record.stored_size
        run.report.uploaded(upload, record)

    await run_bounded((one(u) for u in uploads), run.concurrency)
    return written


async def _send(run: _Run, upload: Upload) -> FileRecord:
    file, destination = upload.file, run.destination
    assert file.path is not None
    key = run.prefix + file.key
    headers = file.headers
    if file.size > BUFFERED and not headers.gzip:
        from s3kit.transfer import TransferManager
        from s3kit.transfer.context import WriteOptions

        def forward(event: TransferEvent) -> None:  # its bytes, as this upload's
            if event.kind == "progress":
                run.report.progress(upload, event.bytes)

        options = WriteOptions(
            content_type=headers.content_type, cache_control=headers.cache_control
        )
        await TransferManager(run.session, options=options, on_event=forward).run_async(
            LocalPath(file.path), S3Url(destination.bucket, key)
        )
        return file.record(file.size, None)
    with translating(path=str(file.path)):
        data = await asyncio.to_thread(file.path.read_bytes)
    if hashlib.sha256(data).hexdigest() != file.sha256:
        raise LocalPathError(f"{file.path} changed while the deploy ran — run it again")
    body = gzip_bytes(data) if headers.gzip else data
    result = await run.storage.put_async(
        key,
        body,
        content_type=headers.content_type,
        cache_control=headers.cache_control,
        content_encoding="gzip" if headers.gzip else None,
    )
    run.report.progress(upload, file.size)
    return file.record(len(body), _version(result.version_id))


def _version(version_id: str | None) -> str | None:
    return None if version_id in (None, "", "null") else version_id


async def _keep_blobs(
    session: Session,
    destination: S3Url,
    written: dict[str, FileRecord],
    known: set[str],
    concurrency: int,
    outcome: DeployOutcome,
) -> None:
    """A server-side copy of each file just written, where the bucket keeps no versions of
    it: what `rollback` copies back. One per content and headers, shared by every path."""
    from s3kit.transfer import TransferItem, TransferManager

    prefix = _prefix(destination)
    wanted: dict[str, str] = {}
    for key, record in written.items():
        if record.version_id is None and record.blob not in known:
            wanted.setdefault(record.blob, key)
    if not wanted:
        return
    items = [
        TransferItem(
            S3Url(destination.bucket, prefix + key), S3Url(destination.bucket, prefix + blob)
        )
        for blob, key in wanted.items()
    ]
    summary = await TransferManager(session, concurrency=concurrency).run_items_async(items)
    for item, error in summary.failures:
        assert isinstance(item.source, S3Url)
        outcome.failures.append((item.source.key[len(prefix) :], error))
    known.update(wanted)


async def _publish(
    storage: S3Storage, prefix: str, manifest: Manifest, etag: str | None
) -> str | None:
    """Record the deploy and make it live; the ETag of the new current.json."""
    body = json.dumps(manifest.document(), indent=1, sort_keys=True).encode()
    await storage.put_async(
        prefix + DEPLOYS + manifest.id + ".json", body, content_type="application/json",
        cache_control="no-cache", mode="create",
    )  # fmt: skip
    try:
        result = await storage.put_async(
            prefix + CURRENT, body, content_type="application/json", cache_control="no-cache",
            if_match=etag, mode="create" if etag is None else "overwrite",
        )  # fmt: skip
    except ConflictError as exc:
        raise ConflictError(
            f"the live deploy changed while this one wrote (another deploy without the lock?):"
            f" deploy {manifest.id} is recorded but not live — run the deploy again"
        ) from exc
    return result.etag


# -- once the deploy is live ------------------------------------------------------------------


async def _after_live(
    run: _Run, planned: _Planned, config: DeployConfig, *, website: bool, spa: bool
) -> None:
    """The website configuration, then the CloudFront invalidation, once the deploy is live
    (or, for the website, when the site already was: a run that changed no file)."""
    outcome = run.outcome
    live_id = outcome.deploy_id or planned.plan.base
    if website:
        try:
            outcome.website = await asyncio.to_thread(
                set_website, run.session, run.destination.bucket, config, spa=spa
            )
        except S3KitError as exc:
            outcome.after_live.append(WebsiteFailed(live_id, exc))
    if run.cloudfront is None or outcome.deploy_id is None:
        return
    wanted = _stale_paths(run.cloudfront, planned, config, run.deleted, run.edge_headers)
    if not wanted:
        return
    invalidator = Invalidator(run.session.client("cloudfront"))
    try:
        outcome.invalidation = await asyncio.to_thread(
            invalidate, invalidator, run.cloudfront, wanted, deploy_id=outcome.deploy_id
        )
    except InvalidationFailed as exc:
        outcome.invalidation = exc.result
        outcome.after_live.append(exc)
        run.report.write(invalidation_records(exc.result, error=exc))
        if exc.result.id is None:
            return
    run.report.write(invalidation_records(outcome.invalidation))
    await _record_invalidation(run, outcome.invalidation)


def _stale_paths(
    options: CloudFrontInvalidation,
    planned: _Planned,
    config: DeployConfig,
    deleted: Iterable[str],
    edge_headers: dict[str, str | None],
) -> list[str]:
    keys = edge_stale_keys(planned.plan, planned.live, stored=planned.stored, deleted=deleted,
                           edge_cache_control=edge_headers)  # fmt: skip
    return options.paths_for(keys, config.index_document)


async def _plan_invalidation(
    storage: S3Storage,
    destination: S3Url,
    planned: _Planned,
    config: DeployConfig,
    options: CloudFrontInvalidation,
    outcome: DeployOutcome,
    report: _Report,
    concurrency: int,
) -> None:
    """What a dry run would invalidate (every deletion as if it succeeded)."""
    plan = planned.plan
    headers = await _edge_headers(storage, _prefix(destination), plan, planned.live, concurrency)
    wanted = _stale_paths(options, planned, config, plan.deletions, headers)
    if wanted:
        outcome.invalidation = InvalidationResult(
            options.distribution_id, collapse(wanted, options.budget), wanted
        )
        report.write(invalidation_records(outcome.invalidation, planned=True))


async def _record_invalidation(run: _Run, result: InvalidationResult) -> None:
    """The invalidation's id in the deploy's manifest (summary "invalidation"), live and in
    the history; a failure here is said, and changes nothing else."""
    assert run.manifest is not None and result.id is not None
    summary = {**run.manifest.summary, "invalidation": result.id}
    manifest = replace(run.manifest, summary=summary)
    body = json.dumps(manifest.document(), indent=1, sort_keys=True).encode()
    prefix = run.prefix
    try:
        await run.storage.put_async(
            prefix + DEPLOYS + manifest.id + ".json", body, content_type="application/json",
            cache_control="no-cache",
        )  # fmt: skip
        await run.storage.put_async(
            prefix + CURRENT, body, content_type="application/json", cache_control="no-cache",
            if_match=run.etag,
        )  # fmt: skip
    except S3KitError as exc:
        run.outcome.after_live.append(
            S3KitError(
                f"deploy {manifest.id} is live and invalidation {result.id} was made, but"
                f" recording it in the deploy's manifest failed: {exc.message}"
            ).context_of(exc)
        )


def _cloudfront(option: CloudFrontInvalidation | str | None) -> CloudFrontInvalidation | None:
    return CloudFrontInvalidation(option) if isinstance(option, str) else option


@contextlib.contextmanager
def _audit_log(path: str | os.PathLike[str] | None) -> Iterator[AuditLog | None]:
    if path is None:
        yield None
        return
    with AuditLog(Path(path)) as log:
        yield log


# -- history, rollback, unlock ----------------------------------------------------------------


async def history_async(session: Session, destination: S3Url | str) -> list[Manifest]:
    """Every recorded deploy under the destination, oldest first."""
    destination = _url(destination)
    storage = session.storage(destination.bucket)
    prefix = _prefix(destination) + DEPLOYS
    names = [
        entry.key[len(prefix) : -len(".json")]
        async for entry in storage.list_async(prefix)
        if isinstance(entry, ObjectInfo) and entry.key.endswith(".json")
    ]
    manifests = []
    for name in sorted(names):
        manifest, _ = await read_manifest(session, destination, DEPLOYS + name + ".json")
        if manifest is not None:
            manifests.append(manifest)
    return manifests


async def rollback_async(
    session: Session,
    destination: S3Url | str,
    *,
    to: str | None = None,
    config: DeployConfig | None = None,
    dryrun: bool = False,
    cloudfront: CloudFrontInvalidation | str | None = None,
    log_file: str | os.PathLike[str] | None = None,
    on_event: EventCallback | None = None,
    concurrency: int = 16,
    clock: Clock = lambda: datetime.now(UTC),
) -> DeployOutcome:
    """Make the deploy `to` (default: the one before the live one) live again, as a new deploy:
    each of its files that differs from the live one is copied back on the server — from its
    version where the bucket keeps versions, else from the copy the deploy kept — and the
    files it did not have leave the site as any deploy's do (deleted after the grace period).
    `cloudfront`, `log_file` and `on_event` as for `deploy_async`."""
    destination = _url(destination)
    config = config or DeployConfig()
    invalidation = _cloudfront(cloudfront)
    live, _ = await read_manifest(session, destination)
    if live is None:
        raise UsageError(f"{destination} has no deploy to roll back")
    target_id = to or live.previous
    if target_id is None:
        raise UsageError(
            f"{destination}: the live deploy {live.id} is the first — nothing before it"
        )
    target, _ = await read_manifest(session, destination, DEPLOYS + target_id + ".json")
    if target is None:
        raise UsageError(
            f"{destination} has no deploy {target_id} — `s3kit deploy history` lists them"
        )
    files = [
        SiteFile(
            key,
            record.sha256,
            record.size,
            FileHeaders(record.content_type, record.cache_control, record.gzip),
            restore=record,
        )
        for key, record in target.files.items()
    ]
    for file, record in zip(files, target.files.values(), strict=True):
        if file.headers.fingerprint() != record.headers:
            raise S3KitError(
                f"deploy {target_id}: the headers recorded for {file.key} do not match"
            )
    config = replace(config, redirects={"/" + k: v for k, v in target.redirects.items()})
    storage = session.storage(destination.bucket)
    now = clock()
    deploy_id = new_deploy_id(now)

    async def plan_now() -> _Planned:
        current, etag = await read_manifest(session, destination)
        stored = await _stored(storage, _prefix(destination))
        plan = make_plan(files, current, config, now=now, stored=stored, force=True)
        return _Planned(plan, current, etag, stored)

    with _audit_log(log_file) as log:
        report = _Report(destination, on_event, log)
        if dryrun:
            planned = await plan_now()
            outcome = DeployOutcome(destination, planned.plan, dryrun=True)
            report.planned(planned.plan, planned.live)
            if invalidation is not None:
                await _plan_invalidation(storage, destination, planned, config, invalidation,
                                         outcome, report, concurrency)  # fmt: skip
            return outcome
        async with _Lock(storage, destination, deploy_id, now):
            planned = await plan_now()
            outcome = DeployOutcome(destination, planned.plan)
            run = _Run(session, storage, destination, outcome, report, concurrency, deploy_id,
                       now, invalidation)  # fmt: skip
            await _write(run, planned, {"rollback_of": target_id})
            if outcome.deploy_id is not None:
                await _after_live(run, planned, config, website=False, spa=False)
            return outcome


def history(session: Session, destination: S3Url | str) -> list[Manifest]:
    """The blocking twin of `history_async`."""
    return run_sync(history_async(session, destination))


def rollback(session: Session, destination: S3Url | str, **options: Any) -> DeployOutcome:
    """The blocking twin of `rollback_async` (same options)."""
    return run_sync(rollback_async(session, destination, **options))


async def _restore(session: Session, destination: S3Url, file: SiteFile) -> FileRecord:
    """Copy a file of an earlier deploy back to its path (content and headers as they were)."""
    from s3kit.transfer import TransferManager

    record = file.restore
    assert record is not None
    prefix = _prefix(destination)
    summary = await TransferManager(session).run_async(
        _restore_source(destination, file), S3Url(destination.bucket, prefix + file.key)
    )
    copied = summary.results[0] if summary.results else None
    version = None
    if copied is not None and record.version_id is not None:
        info = await session.storage(destination.bucket).head_async(prefix + file.key)
        version = _version(info.version_id)
    return replace(record, version_id=version) if record.version_id else record


def _restore_source(destination: S3Url, file: SiteFile) -> S3Url:
    """What a rollback copies a file back from: its version, else the deploy's copy of it."""
    record = file.restore
    assert record is not None
    prefix = _prefix(destination)
    if record.version_id is not None:
        return S3Url(destination.bucket, prefix + file.key, record.version_id)
    return S3Url(destination.bucket, prefix + record.blob)


async def unlock_async(session: Session, destination: S3Url | str) -> bool:
    """Remove a lock a deploy that died left behind. Returns False if there was none."""
    destination = _url(destination)
    storage = session.storage(destination.bucket)
    key = _prefix(destination) + LOCK
    if not await storage.exists_async(key):
        return False
    await storage.delete_async(key)
    return True


def unlock(session: Session, destination: S3Url | str) -> bool:
    """The blocking twin of `unlock_async`."""
    return run_sync(unlock_async(session, destination))


def _url(destination: S3Url | str) -> S3Url:
    return destination if isinstance(destination, S3Url) else parse_s3_url(destination)


def _prefix(destination: S3Url) -> str:
    key = destination.key
    return key if not key or key.endswith("/") else key + "/"


__all__ = [
    "BLOBS",
    "DeployOutcome",
    "deploy",
    "deploy_async",
    "history",
    "history_async",
    "read_manifest",
    "rollback",
    "rollback_async",
    "scan_site",
    "unlock",
    "unlock_async",
]
