"""Carrying a deploy out once its files are known (a deploy's or a rollback's): plan (a dry run
stops there), then under the lock plan again, write in safe order, swing `current.json`,
delete what is due, and once live the after-live steps (`after.py`).

The order of writes is what keeps a failure harmless: every file is written before the manifest
that names it, and the live manifest changes only with a conditional PUT (If-Match on the ETag
read at the start), so a deploy that fails half-way leaves the previous deploy live and
recorded — the next run finds the files already sent as unchanged-but-unrecorded and sends
them again, nothing is lost. Deletions come last, after the new manifest is live, and only of
files an earlier deploy wrote (see `plan`). A brotli sibling is written before its file.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime
from typing import Any, TypeVar, cast

from s3kit._aio import run_bounded
from s3kit._session import Session
from s3kit._uri import LocalPath, S3Url
from s3kit.deploy.after import audit_log, once_live, plan_invalidation
from s3kit.deploy.cloudfront import (
    CloudFrontInvalidation,
)
from s3kit.deploy.compress import brotli_bytes, gzip_bytes
from s3kit.deploy.copies import collect_history, keep_blobs, restore_file, version_or_none
from s3kit.deploy.manifest import (
    CURRENT,
    DEPLOYS,
    SIBLING,
    FileRecord,
    Manifest,
    iso,
)
from s3kit.deploy.plan import (
    DeployPlan,
    Upload,
    seed_history,
)
from s3kit.deploy.records import (
    DeployLock,
    history_async,
    read_edge_headers,
)
from s3kit.deploy.report import DeployOutcome, Planned, Report, Run, redirect_reason
from s3kit.deploy.rules import DeployConfig
from s3kit.errors import (
    ConflictError,
    LocalPathError,
    S3KitError,
    translating,
)
from s3kit.storage.s3 import S3Storage
from s3kit.transfer.items import EventCallback, TransferEvent

A = TypeVar("A")
B = TypeVar("B")

BUFFERED = 64 * 1024 * 1024  # larger files go through TransferManager (parts, resume)


async def carry_out(
    session: Session,
    storage: S3Storage,
    destination: S3Url,
    plan_now: Callable[[], Awaitable[Planned]],
    config: DeployConfig,
    source: dict[str, str],
    *,
    deploy_id: str,
    now: datetime,
    dryrun: bool,
    invalidation: CloudFrontInvalidation | None,
    log_file: str | os.PathLike[str] | None,
    on_event: EventCallback | None,
    concurrency: int,
    website: bool = False,
    spa: bool = False,
    only_changes: bool = False,
    scanning: asyncio.Future[Any] | None = None,
) -> DeployOutcome:
    """What a deploy and a rollback share once they know their files: plan (a dry run stops
    there), then under the lock plan again, write, and once live the after-live steps.
    `only_changes`: a plan that changes nothing on a live site writes no new deploy.
    `scanning`: the site's scan under way, which `plan_now` waits for (the lock is taken
    meanwhile); its error is the one said when the log or the lock cannot be had either."""
    with contextlib.ExitStack() as logged:
        try:
            log = logged.enter_context(audit_log(log_file))
        except (S3KitError, OSError):
            await _scan_error_first(scanning)
            raise
        report = Report(destination, on_event, log)
        if dryrun:
            planned = await plan_now()
            outcome = DeployOutcome(destination, planned.plan, dryrun=True)
            report.planned(planned.plan, planned.live)
            if invalidation is not None:
                await plan_invalidation(storage, destination, planned, config, invalidation,
                                         outcome, report, concurrency)  # fmt: skip
            return outcome
        async with contextlib.AsyncExitStack() as locked:
            try:
                await locked.enter_async_context(DeployLock(storage, destination, deploy_id, now))
            except S3KitError:
                await _scan_error_first(scanning)
                raise
            planned = await plan_now()
            outcome = DeployOutcome(destination, planned.plan)
            run = Run(session, storage, destination, outcome, report, concurrency, deploy_id,
                       now, invalidation)  # fmt: skip
            if not only_changes or planned.plan.changes or planned.live is None:
                await _write(run, planned, source)
            if outcome.failures and outcome.deploy_id is None:
                return outcome  # not live: nothing more to do on top of it
            await once_live(run, planned, config, website=website, spa=spa)
            return outcome


async def _scan_error_first(scanning: asyncio.Future[Any] | None) -> None:
    """The scan's error, if it has one: a bad site folder is said first, as when it was read
    before anything else was tried."""
    if scanning is not None:
        await scanning


async def first_error_first(first: Awaitable[A], second: Awaitable[B]) -> tuple[A, B]:
    """Both at once; where both fail, the first's error is raised (a bad site folder before
    the bucket's error, as when they ran one after the other)."""
    a, b = await asyncio.gather(first, second, return_exceptions=True)
    for result in (a, b):
        if isinstance(result, BaseException):
            raise result
    return cast(A, a), cast(B, b)


def settle(task: asyncio.Future[Any]) -> None:
    """A task no longer needed: cancelled while it runs, its error (if any) taken, so that an
    error raised after another one is not logged as lost."""
    if not task.done():
        task.cancel()
    elif not task.cancelled():
        task.exception()


async def with_history(
    session: Session,
    destination: S3Url,
    live: Manifest | None,
    plan_for: Callable[[Manifest | None], DeployPlan],
    *,
    writes: bool = False,
) -> tuple[Manifest | None, DeployPlan]:
    """The plan against `live`, and `live` with its history fields: a manifest from before
    them gets them from the recorded deploys (see `manifest.py`), read once — only when the
    plan writes a deploy (`writes`, or it changes something), so a no-op redeploy of an
    older site costs no reading of its history."""
    plan = plan_for(live)
    if live is not None and live.history is None and (writes or plan.changes):
        live = seed_history(live, await history_async(session, destination))
        plan = plan_for(live)
    return live, plan


async def _write(run: Run, planned: Planned, source: dict[str, str]) -> None:
    plan, live, outcome, prefix = planned.plan, planned.live, run.outcome, run.prefix
    records: dict[str, FileRecord] = {}
    if live is not None:
        records.update({f.key: live.files[f.key] for f in plan.unchanged if f.key in live.files})
    known_blobs = {blob for r in (live.files.values() if live else ()) for blob in r.blobs()}
    known_blobs |= {  # a rollback copies from these: they are there
        blob for u in plan.uploads if u.file.restore is not None for blob in u.file.restore.blobs()
    }
    run.report.queued(plan.in_order())
    for phase in ("assets", "pages"):
        batch = [u for u in plan.uploads if u.phase == phase]
        written = await _send_all(run, batch)
        records.update(written)
        await keep_blobs(run.session, run.destination, written, known_blobs, run.concurrency,
                         outcome, run.etags)  # fmt: skip
        if outcome.failures:
            # Pages are not written over assets that failed: the live site stays whole.
            return
    for key, location in plan.redirects.items():
        reason = redirect_reason(key, live)
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
        history=[*(plan.history or []), run.deploy_id],
        retired=dict(plan.retired),
    )
    own = {blob for record in records.values() for blob in record.blobs()}
    gone = set(plan.blob_deletions)
    manifest = replace(manifest, older_blobs={
        blob: user for blob, user in (live.referenced() if live else {}).items()
        if blob not in own and blob not in gone
    })  # fmt: skip
    run.etag = await _publish(run.storage, prefix, manifest, planned.etag)
    run.manifest = manifest
    outcome.deploy_id = run.deploy_id
    errors: dict[str, S3KitError] = {}
    if plan.deletions:
        if run.cloudfront is not None:
            run.edge_headers = await read_edge_headers(run.storage, prefix, plan, live,
                                                   run.concurrency)  # fmt: skip
        report = await run.storage.delete_many_async([prefix + key for key in plan.deletions])
        run.deleted = [key[len(prefix) :] for key in report.deleted]
        outcome.deleted = len(report.deleted)
        for failure in report.failures:
            key = failure.key[len(prefix) :]
            errors[key] = S3KitError(failure.message)
            outcome.failures.append((key, errors[key]))
    run.report.removals(plan, live, run.deleted, errors)
    await collect_history(run, plan)


def _all_redirects(plan: DeployPlan, live: Manifest | None) -> dict[str, str]:
    """The redirects the new deploy serves: the config's (all of them are in `plan.redirects`
    or unchanged from the live ones)."""
    kept = {
        key: target
        for key, target in (live.redirects if live else {}).items()
        if key not in plan.leaving and key not in plan.deletions and key not in plan.stale
    }
    return kept | plan.redirects


async def _send_all(run: Run, uploads: list[Upload]) -> dict[str, FileRecord]:
    written: dict[str, FileRecord] = {}
    outcome = run.outcome

    async def one(upload: Upload) -> None:
        file = upload.file
        try:
            if file.restore is not None:
                record = await restore_file(run.session, run.destination, file)
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


async def _send(run: Run, upload: Upload) -> FileRecord:
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
    sibling = None
    if headers.brotli:
        # Before its file: a server that finds KEY looks for KEY.br next, never the other way.
        compressed = await asyncio.to_thread(brotli_bytes, data)
        sibling = await run.storage.put_async(
            key + SIBLING,
            compressed,
            content_type=headers.content_type,
            cache_control=headers.cache_control,
            content_encoding="br",
        )
    body = gzip_bytes(data) if headers.gzip else data
    result = await run.storage.put_async(
        key,
        body,
        content_type=headers.content_type,
        cache_control=headers.cache_control,
        content_encoding="gzip" if headers.gzip else None,
    )
    run.report.progress(upload, file.size)
    run.etags[file.key] = result.etag
    if sibling is not None:
        run.etags[file.key + SIBLING] = sibling.etag
    if sibling is None:
        return file.record(len(body), version_or_none(result.version_id))
    return file.record(
        len(body),
        version_or_none(result.version_id),
        len(compressed),
        version_or_none(sibling.version_id),
    )


async def _publish(
    storage: S3Storage, prefix: str, manifest: Manifest, etag: str | None
) -> str | None:
    """Record the deploy and make it live; the ETag of the new current.json."""
    body = manifest.encoded()
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
