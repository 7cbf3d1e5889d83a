"""The deploy's records in the bucket: reading a manifest, listing what the bucket holds (over
the records themselves), and the lock that keeps two deploys apart."""

from __future__ import annotations

import contextlib
import json
import os
import socket
from datetime import datetime

from s3kit._aio import run_bounded
from s3kit._session import Session
from s3kit._uri import S3Url, parse_s3_url
from s3kit.deploy.manifest import (
    CURRENT,
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
        self.key = destination.folder + LOCK
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


def _url(destination: S3Url | str) -> S3Url:
    return destination if isinstance(destination, S3Url) else parse_s3_url(destination)


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


def _restore_source(destination: S3Url, file: SiteFile, *, sibling: bool = False) -> S3Url:
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
