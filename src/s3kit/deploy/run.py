"""The deploy's entry points: `deploy` (scan the site, plan against the live manifest) and
`rollback` (plan a return to a recorded deploy); both are then carried out by `apply.py` (lock,
write in safe order, swing `current.json`, delete what is due, unlock). `history` and `unlock`
(`records.py`) are here too, so that this module is the library's one door to deploys.

The site's folder is scanned (read and hashed, in a thread) while the lock is taken and the
live manifest and the bucket's listing are read (both at once, `records.read_live`): a deploy
waits for the longer of the two, not their sum. Where both fail, the folder's error is said.
A no-op redeploy (nothing to upload, redirect or delete on a live site) writes no deploy.

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
import os
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from s3kit._aio import blocking_twin
from s3kit._session import Session
from s3kit._uri import S3Url
from s3kit.deploy.after import cloudfront_options
from s3kit.deploy.apply import carry_out, first_error_first, settle, with_history
from s3kit.deploy.cloudfront import (
    CloudFrontInvalidation,
)
from s3kit.deploy.manifest import (
    BLOBS,
    DEPLOYS,
    new_deploy_id,
)
from s3kit.deploy.plan import (
    DeleteMode,
    SiteFile,
    make_plan,
)
from s3kit.deploy.records import (
    as_url,
    history,
    history_async,
    read_live,
    read_manifest,
    unlock,
    unlock_async,
)
from s3kit.deploy.report import DeployOutcome, Planned
from s3kit.deploy.rules import DeployConfig, FileHeaders
from s3kit.deploy.site import scan_site
from s3kit.deploy.website import check_website
from s3kit.errors import (
    ConflictError,
    S3KitError,
    UsageError,
)
from s3kit.transfer.items import EventCallback

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
    destination = as_url(destination)
    config = config or DeployConfig()
    invalidation = cloudfront_options(cloudfront)
    website = website or spa
    root = Path(source)
    # The scan (local reads and hashing, in a thread) overlaps the lock and the reads of the
    # bucket: a deploy costs the longer of the two, not their sum.
    scanning = asyncio.ensure_future(
        asyncio.to_thread(_scan, root, config, destination, website, spa)
    )
    storage = session.storage(destination.bucket)
    now = clock()
    deploy_id = new_deploy_id(now)

    async def plan_now() -> Planned:
        files, (live, etag, stored) = await first_error_first(
            scanning, read_live(session, storage, destination)
        )
        if expect is not None and (live.id if live else None) != expect.get("base"):
            raise ConflictError(
                f"{destination} changed since the plan was made (live deploy"
                f" {live.id if live else 'none'}, planned against {expect.get('base') or 'none'})"
                " — nothing was written; make a new plan"
            )
        live, plan = await with_history(session, destination, live, lambda live: make_plan(
            files, live, config, now=now, delete=delete, stored=stored,
            max_delete=max_delete, force=force,
        ))  # fmt: skip
        if expect is not None and _decisions(plan.document()) != _decisions(expect):
            raise ConflictError(
                f"the site or {destination} changed since the plan was made: it would now do"
                " something else — nothing was written; make a new plan"
            )
        return Planned(plan, live, etag, stored)

    source_info = {"path": str(root)} | ({"commit": commit} if commit else {})
    try:
        return await carry_out(
            session, storage, destination, plan_now, config, source_info,
            deploy_id=deploy_id, now=now, dryrun=dryrun, invalidation=invalidation,
            log_file=log_file, on_event=on_event, concurrency=concurrency,
            website=website, spa=spa, only_changes=True, scanning=scanning,
        )  # fmt: skip
    finally:
        settle(scanning)


def _scan(
    root: Path, config: DeployConfig, destination: S3Url, website: bool, spa: bool
) -> list[SiteFile]:
    """The site's files, refused (before anything is written) where `website` cannot serve them."""
    files = scan_site(root, config)
    if website:
        site = {f.key for f in files} | set(config.redirect_objects())
        check_website(destination, config, site, spa=spa)
    return files


def _decisions(document: dict[str, Any]) -> tuple[Any, ...]:
    """What a plan does (not when it was made): two plans that agree here are the same plan."""
    return tuple(
        document.get(name) for name in ("base", "uploads", "redirects", "leaving", "deletions")
    )


deploy = blocking_twin(deploy_async, "deploy")


# -- rollback ---------------------------------------------------------------------------------


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
    destination = as_url(destination)
    config = config or DeployConfig()
    invalidation = cloudfront_options(cloudfront)
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

    async def plan_now() -> Planned:
        current, etag, stored = await read_live(session, storage, destination)
        current, plan = await with_history(session, destination, current, lambda live: make_plan(
            files, live, config, now=now, stored=stored, force=True
        ), writes=True)  # fmt: skip
        return Planned(plan, current, etag, stored)

    return await carry_out(
        session, storage, destination, plan_now, config, {"rollback_of": target_id},
        deploy_id=deploy_id, now=now, dryrun=dryrun, invalidation=invalidation,
        log_file=log_file, on_event=on_event, concurrency=concurrency,
    )  # fmt: skip


rollback = blocking_twin(rollback_async, "rollback")

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
