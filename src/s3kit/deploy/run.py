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
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from s3kit._aio import run_bounded, run_sync
from s3kit._session import Session
from s3kit._sync.ignore import DEFAULT_EXCLUDES, IgnoreRules
from s3kit._uri import LocalPath, S3Url, parse_s3_url, validate_key
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

    @property
    def ok(self) -> bool:
        return not self.failures

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
                {"path": path, "error": {"code": error.code or None, "message": error.message}}
                for path, error in self.failures
            ],
            "plan": self.plan.document(),
        }


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
    """The size of every object under the prefix, by site path (the deploy's records aside)."""
    sizes: dict[str, int] = {}
    async for entry in storage.list_async(prefix):
        if isinstance(entry, ObjectInfo):
            relative = entry.key[len(prefix) :]
            if not relative.startswith(STATE):
                sizes[relative] = entry.size
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
    concurrency: int = 16,
    clock: Clock = lambda: datetime.now(UTC),
) -> DeployOutcome:
    """Make `destination` serve the site in the folder `source`. `expect` (a plan document,
    `DeployPlan.document()`, saved by `--plan-out`) refuses the deploy, before anything is
    written, when the live deploy is no longer the one planned against or the plan made now
    would do anything else."""
    destination = _url(destination)
    config = config or DeployConfig()
    root = Path(source)
    files = await asyncio.to_thread(scan_site, root, config)
    storage = session.storage(destination.bucket)
    now = clock()
    deploy_id = new_deploy_id(now)

    async def plan_now() -> tuple[DeployPlan, Manifest | None, str | None]:
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
        return plan, live, etag

    if dryrun:
        plan, _, _ = await plan_now()
        return DeployOutcome(destination, plan, dryrun=True)
    async with _Lock(storage, destination, deploy_id, now):
        plan, live, etag = await plan_now()
        outcome = DeployOutcome(destination, plan)
        if not plan.changes and live is not None:
            return outcome
        source_info = {"path": str(root)} | ({"commit": commit} if commit else {})
        await _write(session, storage, destination, plan, live, etag, outcome, concurrency,
                     deploy_id, now, source_info)  # fmt: skip
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


async def _write(
    session: Session,
    storage: S3Storage,
    destination: S3Url,
    plan: DeployPlan,
    live: Manifest | None,
    etag: str | None,
    outcome: DeployOutcome,
    concurrency: int,
    deploy_id: str,
    now: datetime,
    source: dict[str, str],
) -> None:
    prefix = _prefix(destination)
    records: dict[str, FileRecord] = {}
    if live is not None:
        records.update({f.key: live.files[f.key] for f in plan.unchanged if f.key in live.files})
    known_blobs = {r.blob for r in (live.files.values() if live else ()) if r.version_id is None}
    known_blobs |= {  # a rollback copies from these: they are there
        u.file.restore.blob for u in plan.uploads if u.file.restore is not None
    }
    for phase in ("assets", "pages"):
        batch = [u for u in plan.uploads if u.phase == phase]
        written = await _send_all(session, storage, destination, batch, concurrency, outcome)
        records.update(written)
        await _keep_blobs(session, destination, written, known_blobs, concurrency, outcome)
        if outcome.failures:
            # Pages are not written over assets that failed: the live site stays whole.
            return
    for key, location in plan.redirects.items():
        try:
            await storage.put_async(prefix + key, b"", website_redirect=location)
        except S3KitError as exc:
            outcome.failures.append((key, exc))
    if outcome.failures:
        return
    manifest = Manifest(
        id=deploy_id,
        created=iso(now),
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
    await _publish(storage, prefix, manifest, etag)
    outcome.deploy_id = deploy_id
    if plan.deletions:
        report = await storage.delete_many_async([prefix + key for key in plan.deletions])
        outcome.deleted = len(report.deleted)
        outcome.failures.extend(
            (failure.key[len(prefix) :], S3KitError(failure.message)) for failure in report.failures
        )


def _all_redirects(plan: DeployPlan, live: Manifest | None) -> dict[str, str]:
    """The redirects the new deploy serves: the config's (all of them are in `plan.redirects`
    or unchanged from the live ones)."""
    kept = {
        key: target
        for key, target in (live.redirects if live else {}).items()
        if key not in plan.leaving and key not in plan.deletions and key not in plan.stale
    }
    return kept | plan.redirects


async def _send_all(
    session: Session,
    storage: S3Storage,
    destination: S3Url,
    uploads: list[Upload],
    concurrency: int,
    outcome: DeployOutcome,
) -> dict[str, FileRecord]:
    written: dict[str, FileRecord] = {}

    async def one(upload: Upload) -> None:
        file = upload.file
        try:
            if file.restore is not None:
                record = await _restore(session, destination, file)
            else:
                record = await _send(session, storage, destination, file)
        except S3KitError as exc:
            outcome.failures.append((file.key, exc))
            return
        written[file.key] = record
        outcome.uploaded += 1
        outcome.bytes += record.stored_size

    await run_bounded((one(u) for u in uploads), concurrency)
    return written


async def _send(
    session: Session, storage: S3Storage, destination: S3Url, file: SiteFile
) -> FileRecord:
    assert file.path is not None
    key = _prefix(destination) + file.key
    headers = file.headers
    if file.size > BUFFERED and not headers.gzip:
        from s3kit.transfer import TransferManager
        from s3kit.transfer.context import WriteOptions

        options = WriteOptions(
            content_type=headers.content_type, cache_control=headers.cache_control
        )
        await TransferManager(session, options=options).run_async(
            LocalPath(file.path), S3Url(destination.bucket, key)
        )
        return file.record(file.size, None)
    with translating(path=str(file.path)):
        data = await asyncio.to_thread(file.path.read_bytes)
    if hashlib.sha256(data).hexdigest() != file.sha256:
        raise LocalPathError(f"{file.path} changed while the deploy ran — run it again")
    body = gzip_bytes(data) if headers.gzip else data
    result = await storage.put_async(
        key,
        body,
        content_type=headers.content_type,
        cache_control=headers.cache_control,
        content_encoding="gzip" if headers.gzip else None,
    )
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


async def _publish(storage: S3Storage, prefix: str, manifest: Manifest, etag: str | None) -> None:
    body = json.dumps(manifest.document(), indent=1, sort_keys=True).encode()
    await storage.put_async(
        prefix + DEPLOYS + manifest.id + ".json", body, content_type="application/json",
        cache_control="no-cache", mode="create",
    )  # fmt: skip
    try:
        await storage.put_async(
            prefix + CURRENT, body, content_type="application/json", cache_control="no-cache",
            if_match=etag, mode="create" if etag is None else "overwrite",
        )  # fmt: skip
    except ConflictError as exc:
        raise ConflictError(
            f"the live deploy changed while this one wrote (another deploy without the lock?):"
            f" deploy {manifest.id} is recorded but not live — run the deploy again"
        ) from exc


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
    concurrency: int = 16,
    clock: Clock = lambda: datetime.now(UTC),
) -> DeployOutcome:
    """Make the deploy `to` (default: the one before the live one) live again, as a new deploy:
    each of its files that differs from the live one is copied back on the server — from its
    version where the bucket keeps versions, else from the copy the deploy kept — and the
    files it did not have leave the site as any deploy's do (deleted after the grace period)."""
    destination = _url(destination)
    config = config or DeployConfig()
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

    async def plan_now() -> tuple[DeployPlan, Manifest | None, str | None]:
        current, etag = await read_manifest(session, destination)
        stored = await _stored(storage, _prefix(destination))
        plan = make_plan(files, current, config, now=now, stored=stored, force=True)
        return plan, current, etag

    if dryrun:
        plan, _, _ = await plan_now()
        return DeployOutcome(destination, plan, dryrun=True)
    async with _Lock(storage, destination, deploy_id, now):
        plan, current, etag = await plan_now()
        outcome = DeployOutcome(destination, plan)
        await _write(session, storage, destination, plan, current, etag, outcome, concurrency,
                     deploy_id, now, {"rollback_of": target_id})  # fmt: skip
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
    source = (
        S3Url(destination.bucket, prefix + file.key, record.version_id)
        if record.version_id is not None
        else S3Url(destination.bucket, prefix + record.blob)
    )
    summary = await TransferManager(session).run_async(
        source, S3Url(destination.bucket, prefix + file.key)
    )
    copied = summary.results[0] if summary.results else None
    version = None
    if copied is not None and record.version_id is not None:
        info = await session.storage(destination.bucket).head_async(prefix + file.key)
        version = _version(info.version_id)
    return replace(record, version_id=version) if record.version_id else record


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
