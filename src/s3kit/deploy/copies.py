"""The deploy's own copies of what it wrote (`_s3kit/blobs/`, see `manifest.py`): kept beside
each file written to a bucket that keeps no versions, copied back by `rollback` (from a version
where the bucket keeps them), and deleted once no deploy of the kept history uses them.

A file's brotli sibling has its copy too (the file's, and `.br`), and is restored before its
file, as a deploy writes them. Deleting goes records first, then copies, so no rollback can be
asked for once the copies it needs start to go.
"""

from __future__ import annotations

from dataclasses import replace

from s3kit._session import Session
from s3kit._uri import S3Url
from s3kit.deploy.manifest import BLOBS, DEPLOYS, SIBLING, FileRecord
from s3kit.deploy.plan import DeployPlan, SiteFile
from s3kit.deploy.records import restore_source
from s3kit.deploy.report import DeployOutcome, Run
from s3kit.errors import S3KitError


def version_or_none(version_id: str | None) -> str | None:
    return None if version_id in (None, "", "null") else version_id


async def keep_blobs(
    session: Session,
    destination: S3Url,
    written: dict[str, FileRecord],
    known: set[str],
    concurrency: int,
    outcome: DeployOutcome,
    etags: dict[str, str | None] | None = None,
) -> None:
    """A server-side copy of each file just written, where the bucket keeps no versions of
    it: what `rollback` copies back. One per content and headers, shared by every path.
    `etags` (by site path, a sibling's as `KEY.br`): what each PUT answered; a copy pinned
    to it needs no HEAD first, and copies only what this deploy wrote (else it fails)."""
    from s3kit.transfer import TransferItem, TransferManager

    prefix = destination.folder
    wanted: dict[str, tuple[str, int]] = {}
    for key, record in written.items():
        sizes = (record.stored_size, record.brotli_size)
        for blob, source, size in zip(record.blobs(), (key, key + SIBLING), sizes, strict=False):
            if blob not in known:
                wanted.setdefault(blob, (source, size or 0))
    if not wanted:
        return
    pinned = etags or {}
    items = [
        TransferItem(
            S3Url(destination.bucket, prefix + key),
            S3Url(destination.bucket, prefix + blob),
            size if pinned.get(key) else None,
            pinned.get(key),
        )
        for blob, (key, size) in wanted.items()
    ]
    summary = await TransferManager(session, concurrency=concurrency).run_items_async(items)
    for item, error in summary.failures:
        assert isinstance(item.source, S3Url)
        outcome.failures.append((item.source.key[len(prefix) :], error))
    known.update(wanted)


async def restore_file(session: Session, destination: S3Url, file: SiteFile) -> FileRecord:
    """Copy a file of an earlier deploy back to its path (content and headers as they were)."""
    from s3kit.transfer import TransferManager

    record = file.restore
    assert record is not None
    prefix = destination.folder
    target = S3Url(destination.bucket, prefix + file.key)
    storage = session.storage(destination.bucket)
    sibling_version = None
    if record.brotli_size is not None:  # before its file, as a deploy writes them
        sibling = restore_source(destination, file, sibling=True)
        await TransferManager(session).run_async(sibling, replace(target, key=target.key + SIBLING))
        if record.brotli_version_id is not None:
            info = await storage.head_async(target.key + SIBLING)
            sibling_version = version_or_none(info.version_id)
    summary = await TransferManager(session).run_async(restore_source(destination, file), target)
    copied = summary.results[0] if summary.results else None
    version = None
    if copied is not None and record.version_id is not None:
        info = await storage.head_async(prefix + file.key)
        version = version_or_none(info.version_id)
    if record.version_id is None:
        return record
    return replace(record, version_id=version, brotli_version_id=sibling_version)


async def collect_history(run: Run, plan: DeployPlan) -> None:
    """Delete the records of the deploys that left the history, then the blobs only they
    used: records first, so no rollback can be asked for once its copies start to go. What
    fails to go is a failure of the deploy and is left alone after it (the live manifest no
    longer tracks it); a record that stays keeps its blobs, so a rollback to it still works."""
    prefix, outcome = run.prefix, run.outcome
    failed: dict[str, str] = {}
    for keys in (
        [DEPLOYS + deploy_id + ".json" for deploy_id in plan.dropped],
        list(plan.blob_deletions),
    ):
        if not keys or (failed and keys[0].startswith(BLOBS)):
            continue
        report = await run.storage.delete_many_async([prefix + key for key in keys])
        outcome.collected += sum(1 for key in report.deleted if key.startswith(prefix + BLOBS))
        for failure in report.failures:
            failed[failure.key[len(prefix) :]] = failure.message
            outcome.failures.append((failure.key[len(prefix) :], S3KitError(failure.message)))
    run.report.collected(plan, failed)
