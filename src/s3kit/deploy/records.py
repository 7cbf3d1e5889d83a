"""The deploy's records in the bucket: reading a manifest and the history of them, listing what
the bucket holds (over the records themselves), and the lock that keeps two deploys apart.

The lock (`_s3kit/lock`, created with If-None-Match: *) keeps two deploys from interleaving.
A store that ignores conditional writes (see `s3kit probe`) gets a HEAD before the create,
which stops a second deploy that starts while one runs, but not two that start together."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
from datetime import datetime

from s3kit._aio import blocking_twin, run_bounded
from s3kit._session import Session
from s3kit._uri import S3Url, parse_s3_url
from s3kit.deploy.manifest import (
    CURRENT,
    DEPLOYS,
    LOCK,
    SIBLING,
    STATE,
    Manifest,
    iso,
)
from s3kit.deploy.plan import DeployPlan, SiteFile
from s3kit.errors import (
    ConflictError,
    ObjectNotFound,
    S3KitError,
)
from s3kit.storage.base import ObjectInfo
from s3kit.storage.s3 import S3Storage

FIRST_PAGE = 64  # keys: the first page of what sorts before the records
FULL_PAGE = 1000  # S3's largest

# -- the bucket's records -------------------------------------------------------------------------


async def read_manifest(
    session: Session, destination: S3Url, key: str = CURRENT
) -> tuple[Manifest | None, str | None]:
    """The manifest at `key` under the destination's prefix and its ETag; (None, None) when
    there is none yet."""
    name = destination.folder + key
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


async def read_live(
    session: Session, storage: S3Storage, destination: S3Url
) -> tuple[Manifest | None, str | None, dict[str, int]]:
    """What a plan is made against: the live manifest, its ETag and `stored_sizes`, read at
    once (neither read depends on the other)."""
    (live, etag), stored = await asyncio.gather(
        read_manifest(session, destination), stored_sizes(storage, destination.folder)
    )
    return live, etag, stored


async def stored_sizes(storage: S3Storage, prefix: str) -> dict[str, int]:
    """The size of every object under the prefix, by site path (the deploy's records aside).

    `_s3kit/` holds a copy of every file every deploy wrote, so it outgrows the site: the
    listing steps over it (S3 lists in key order; "_s3kit0" sorts right after "_s3kit/...")
    rather than reading it page by page on every deploy. What sorts before the records (names
    that start with a digit, a capital, '-', '.') and what sorts after them (most of a site) are
    two listings, run at once; the first starts with a short page and grows (64, 256, 1,000
    keys), as a site has few such names and a full page of it would be mostly records, fetched
    and parsed for nothing."""
    state = prefix + STATE

    async def before_records() -> dict[str, int]:
        sizes: dict[str, int] = {}
        after: str | None = None
        page = FIRST_PAGE
        while True:
            seen = 0
            async for entry in storage.list_async(prefix, start_after=after, page_size=page):
                seen += 1
                if not isinstance(entry, ObjectInfo):
                    continue
                if entry.key >= state:  # the records, or past them: the other listing's
                    return sizes
                sizes[entry.key[len(prefix) :]] = entry.size
                after = entry.key
                if seen == page < FULL_PAGE:
                    break  # more names before the records than a short page: longer ones
            else:
                return sizes
            page = min(page * 4, FULL_PAGE)

    async def past_records() -> dict[str, int]:
        return {
            entry.key[len(prefix) :]: entry.size
            async for entry in storage.list_async(prefix, start_after=state[:-1] + "0")
            if isinstance(entry, ObjectInfo)
        }

    before, past = await asyncio.gather(before_records(), past_records())
    return before | past


class DeployLock:
    def __init__(self, storage: S3Storage, destination: S3Url, deploy_id: str, now: datetime):
        self.storage, self.destination = storage, destination
        self.key = destination.folder + LOCK
        self.body = json.dumps(
            {"id": deploy_id, "started": iso(now), "host": socket.gethostname(), "pid": os.getpid()}
        ).encode()

    async def __aenter__(self) -> DeployLock:
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


def as_url(destination: S3Url | str) -> S3Url:
    return destination if isinstance(destination, S3Url) else parse_s3_url(destination)


async def read_edge_headers(
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


def restore_source(destination: S3Url, file: SiteFile, *, sibling: bool = False) -> S3Url:
    """What a rollback copies a file (or its brotli sibling) back from: its version, else the
    deploy's copy of it."""
    record = file.restore
    assert record is not None
    prefix = destination.folder
    if sibling:
        if record.brotli_version_id is not None:
            return S3Url(destination.bucket, prefix + file.key + SIBLING, record.brotli_version_id)
        return S3Url(destination.bucket, prefix + record.sibling_blob)
    if record.version_id is not None:
        return S3Url(destination.bucket, prefix + file.key, record.version_id)
    return S3Url(destination.bucket, prefix + record.blob)


# -- history and unlock ------------------------------------------------------------------------


async def history_async(session: Session, destination: S3Url | str) -> list[Manifest]:
    """Every recorded deploy under the destination, oldest first."""
    destination = as_url(destination)
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


history = blocking_twin(history_async, "history")


async def unlock_async(session: Session, destination: S3Url | str) -> bool:
    """Remove a lock a deploy that died left behind. Returns False if there was none."""
    destination = as_url(destination)
    storage = session.storage(destination.bucket)
    key = destination.folder + LOCK
    if not await storage.exists_async(key):
        return False
    await storage.delete_async(key)
    return True


unlock = blocking_twin(unlock_async, "unlock")
