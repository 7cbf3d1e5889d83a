"""What comes once a deploy is live: the bucket's website configuration and the CloudFront
invalidation of what the deploy made stale. Their failures never undo the deploy."""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Iterable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from s3kit._uri import S3Url
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
from s3kit.deploy.manifest import (
    CURRENT,
    DEPLOYS,
)
from s3kit.deploy.records import read_edge_headers
from s3kit.deploy.report import DeployOutcome, Planned, Report, Run
from s3kit.deploy.rules import DeployConfig
from s3kit.deploy.website import WebsiteFailed, set_website
from s3kit.errors import (
    S3KitError,
)
from s3kit.storage.s3 import S3Storage

if TYPE_CHECKING:
    from s3kit._sync.audit import AuditLog

# -- once the deploy is live ------------------------------------------------------------------


async def once_live(
    run: Run, planned: Planned, config: DeployConfig, *, website: bool, spa: bool
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
    planned: Planned,
    config: DeployConfig,
    deleted: Iterable[str],
    edge_headers: dict[str, str | None],
) -> list[str]:
    keys = edge_stale_keys(planned.plan, planned.live, stored=planned.stored, deleted=deleted,
                           edge_cache_control=edge_headers)  # fmt: skip
    return options.paths_for(keys, config.index_document)


async def plan_invalidation(
    storage: S3Storage,
    destination: S3Url,
    planned: Planned,
    config: DeployConfig,
    options: CloudFrontInvalidation,
    outcome: DeployOutcome,
    report: Report,
    concurrency: int,
) -> None:
    """What a dry run would invalidate (every deletion as if it succeeded)."""
    plan = planned.plan
    headers = await read_edge_headers(storage, destination.folder, plan, planned.live, concurrency)
    wanted = _stale_paths(options, planned, config, plan.deletions, headers)
    if wanted:
        outcome.invalidation = InvalidationResult(
            options.distribution_id, collapse(wanted, options.budget), wanted
        )
        report.write(invalidation_records(outcome.invalidation, planned=True))


async def _record_invalidation(run: Run, result: InvalidationResult) -> None:
    """The invalidation's id in the deploy's manifest (summary "invalidation"), live and in
    the history; a failure here is said, and changes nothing else."""
    assert run.manifest is not None and result.id is not None
    summary = {**run.manifest.summary, "invalidation": result.id}
    manifest = replace(run.manifest, summary=summary)
    body = manifest.encoded()
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


def cloudfront_options(
    option: CloudFrontInvalidation | str | None,
) -> CloudFrontInvalidation | None:
    return CloudFrontInvalidation(option) if isinstance(option, str) else option


@contextlib.contextmanager
def audit_log(path: str | os.PathLike[str] | None) -> Iterator[AuditLog | None]:
    if path is None:
        yield None
        return
    from s3kit._sync.audit import AuditLog  # with bisync's modules: for a log only

    with AuditLog(Path(path)) as log:
        yield log
