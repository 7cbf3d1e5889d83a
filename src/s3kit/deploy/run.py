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

The deploy's own copies of its files (`_s3kit/blobs/`: kept, restored by `rollback`, collected
once the bounded history no longer needs them) are `copies.py`'s.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from s3kit._aio import blocking_twin, run_bounded
from s3kit._session import Session
from s3kit._uri import LocalPath, S3Url
from s3kit.deploy.after import _after_live, _audit_log, _cloudfront, _plan_invalidation
from s3kit.deploy.cloudfront import (
    CloudFrontInvalidation,
)
from s3kit.deploy.compress import brotli_bytes, gzip_bytes
from s3kit.deploy.copies import _collect, _keep_blobs, _restore, _version
from s3kit.deploy.manifest import (
    BLOBS,
    CURRENT,
    DEPLOYS,
    LOCK,
    SIBLING,
    FileRecord,
    Manifest,
    iso,
    new_deploy_id,
)
from s3kit.deploy.plan import (
    DeleteMode,
    DeployPlan,
    SiteFile,
    Upload,
    make_plan,
    seed_history,
)
from s3kit.deploy.records import (
    _edge_headers,
    _Lock,
    _stored,
    _url,
    read_manifest,
)
from s3kit.deploy.report import DeployOutcome, _Planned, _redirect_reason, _Report, _Run
from s3kit.deploy.rules import DeployConfig, FileHeaders
from s3kit.deploy.site import scan_site
from s3kit.deploy.website import check_website
from s3kit.errors import (
    ConflictError,
    LocalPathError,
    S3KitError,
    UsageError,
    translating,
)
from s3kit.storage.base import ObjectInfo
from s3kit.storage.s3 import S3Storage
from s3kit.transfer.items import EventCallback, TransferEvent

BUFFERED = 64 * 1024 * 1024  # larger files go through TransferManager (parts, resume)
Clock = Callable[[], datetime]


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
        stored = await _stored(storage, destination.folder)
        live, plan = await _with_history(session, destination, live, lambda live: make_plan(
            files, live, config, now=now, delete=delete, stored=stored,
            max_delete=max_delete, force=force,
        ))  # fmt: skip
        if expect is not None and _decisions(plan.document()) != _decisions(expect):
            raise ConflictError(
                f"the site or {destination} changed since the plan was made: it would now do"
                " something else — nothing was written; make a new plan"
            )
        return _Planned(plan, live, etag, stored)

    source_info = {"path": str(root)} | ({"commit": commit} if commit else {})
    return await _carry_out(
        session, storage, destination, plan_now, config, source_info,
        deploy_id=deploy_id, now=now, dryrun=dryrun, invalidation=invalidation,
        log_file=log_file, on_event=on_event, concurrency=concurrency,
        website=website, spa=spa, only_changes=True,
    )  # fmt: skip


async def _carry_out(
    session: Session,
    storage: S3Storage,
    destination: S3Url,
    plan_now: Callable[[], Awaitable[_Planned]],
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
) -> DeployOutcome:
    """What a deploy and a rollback share once they know their files: plan (a dry run stops
    there), then under the lock plan again, write, and once live the after-live steps.
    `only_changes`: a plan that changes nothing on a live site writes no new deploy."""
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
            if not only_changes or planned.plan.changes or planned.live is None:
                await _write(run, planned, source)
            if outcome.failures and outcome.deploy_id is None:
                return outcome  # not live: nothing more to do on top of it
            await _after_live(run, planned, config, website=website, spa=spa)
            return outcome


async def _with_history(
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


def _decisions(document: dict[str, Any]) -> tuple[Any, ...]:
    """What a plan does (not when it was made): two plans that agree here are the same plan."""
    return tuple(
        document.get(name) for name in ("base", "uploads", "redirects", "leaving", "deletions")
    )


deploy = blocking_twin(deploy_async, "deploy")


async def _write(run: _Run, planned: _Planned, source: dict[str, str]) -> None:
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
    await _collect(run, plan)


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
    if sibling is None:
        return file.record(len(body), _version(result.version_id))
    return file.record(
        len(body), _version(result.version_id), len(compressed), _version(sibling.version_id)
    )


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


# -- history, rollback, unlock ----------------------------------------------------------------


async def history_async(session: Session, destination: S3Url | str) -> list[Manifest]:
    """Every recorded deploy under the destination, oldest first."""
    destination = _url(destination)
    storage = session.storage(destination.bucket)
    prefix = destination.folder + DEPLOYS
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
            FileHeaders(
                record.content_type,
                record.cache_control,
                record.gzip,
                brotli=record.brotli_size is not None,
            ),
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
        stored = await _stored(storage, destination.folder)
        current, plan = await _with_history(session, destination, current, lambda live: make_plan(
            files, live, config, now=now, stored=stored, force=True
        ), writes=True)  # fmt: skip
        return _Planned(plan, current, etag, stored)

    return await _carry_out(
        session, storage, destination, plan_now, config, {"rollback_of": target_id},
        deploy_id=deploy_id, now=now, dryrun=dryrun, invalidation=invalidation,
        log_file=log_file, on_event=on_event, concurrency=concurrency,
    )  # fmt: skip


history = blocking_twin(history_async, "history")

rollback = blocking_twin(rollback_async, "rollback")


async def unlock_async(session: Session, destination: S3Url | str) -> bool:
    """Remove a lock a deploy that died left behind. Returns False if there was none."""
    destination = _url(destination)
    storage = session.storage(destination.bucket)
    key = destination.folder + LOCK
    if not await storage.exists_async(key):
        return False
    await storage.delete_async(key)
    return True


unlock = blocking_twin(unlock_async, "unlock")

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
