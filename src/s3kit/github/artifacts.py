"""Build artifacts kept in a bucket, by GitHub Actions run: `s3kit github artifacts push|pull`.

Push runs inside a job: the run comes from GITHUB_REPOSITORY, GITHUB_RUN_ID and
GITHUB_RUN_ATTEMPT (`ActionsRun.from_env`; the run, names, keys and manifest are
`artifact_manifest`'s), and files and folders go through the TransferManager
to `{prefix}/{owner}/{repo}/{run_id}/{attempt}/{name}/<relative path>`. With a retention, every
object gets the tag `s3kit-retention-days=N` (S3Service.set_object_tags), for a bucket lifecycle
rule filtered on that tag to expire. Last, `manifest.json` beside the files lists each one's
relative path, size and SHA-256: an artifact without one was not pushed to its end. The same
name twice in one attempt is refused (a HEAD of the manifest before anything is sent, and the
manifest itself is created with If-None-Match: *); a push that failed before its manifest may
be run again and writes over what it left.

Pull finds the attempt (the highest present unless given) and the artifacts, checks the listing
against each manifest before a byte moves (every object listed, every listed file present with
its size), downloads into a hidden staging folder inside the destination, checks each file's
SHA-256 against the manifest, and only then moves the files into place: an artifact is pulled
whole or not at all. With a name it lands in the destination itself, without one each artifact
in a folder of its name (as actions/download-artifact does).

What it must never do: pull a file the manifest does not list, keep one whose bytes differ from
it, or write outside the destination (every path goes through `storage.local.local_target`).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from s3kit._aio import blocking_twin
from s3kit._atomic import temp_name
from s3kit._uri import LocalPath, S3Url
from s3kit.errors import (
    ConflictError,
    LocalPathError,
    ObjectNotFound,
    S3KitError,
    TransferError,
    UsageError,
    translating,
)
from s3kit.github.artifact_manifest import (
    MANIFEST,
    ActionsRun,
    ArtifactManifest,
    ManifestEntry,
    artifact_prefix,
    check_listing,
    positive_number,
    relative_path_problem,
    run_prefix,
    split_repository,
    validate_artifact_name,
)

if TYPE_CHECKING:
    from s3kit._session import Session
    from s3kit.service import S3Service
    from s3kit.transfer.context import TransferConfig
    from s3kit.transfer.items import EventCallback, TransferItem, TransferSummary

RETENTION_TAG = "s3kit-retention-days"
DEFAULT_NAME = "artifact"  # actions/upload-artifact's default too
_CHUNK = 1024 * 1024
_HASHING = 4  # files hashed at once


# -- local files ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LocalFile:
    relative: str
    path: Path


def collect_files(paths: Sequence[Path]) -> list[LocalFile]:
    """The files `paths` name, sorted by relative path: a file under its own name, a folder's
    files (recursively, symlinks skipped) under their paths relative to it. A path that is not
    there, two files with one relative path, or nothing at all is a UsageError."""
    from s3kit.storage.local import walk_folder

    found: dict[str, Path] = {}

    def add(relative: str, path: Path) -> None:
        problem = relative_path_problem(relative)
        if problem is not None:
            raise UsageError(f"{path}: cannot be pushed as {relative!r} ({problem})")
        if relative in found:
            raise UsageError(
                f"{relative!r} comes from both {found[relative]} and {path} — push them under"
                " different --name, or from one folder"
            )
        found[relative] = path

    for path in paths:
        with translating(path=str(path)):
            is_dir = path.is_dir()
            if not is_dir and not path.is_file():
                raise LocalPathError(f"{path}: no such file or folder")
        if is_dir:

            def in_folder(relative: str, _stat: os.stat_result, root: Path = path) -> None:
                add(relative, root / relative)

            walk_folder(path, in_folder)
        else:
            add(path.name, path)
    if not found:
        raise UsageError(f"nothing to push: {', '.join(map(str, paths))} hold no files")
    return [LocalFile(relative, found[relative]) for relative in sorted(found)]


def file_sha256(path: Path) -> tuple[int, str, int]:
    """The file's size, SHA-256 (hex) and modification time (ns), read once."""
    digest = hashlib.sha256()
    size = 0
    with translating(path=str(path)), path.open("rb") as handle:
        mtime = os.fstat(handle.fileno()).st_mtime_ns
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest(), mtime


async def _hash_all(paths: Sequence[Path]) -> list[tuple[int, str, int]]:
    slots = asyncio.Semaphore(_HASHING)

    async def one(path: Path) -> tuple[int, str, int]:
        async with slots:
            return await asyncio.to_thread(file_sha256, path)

    return list(await asyncio.gather(*(one(path) for path in paths)))


# -- push -------------------------------------------------------------------------------------


@dataclass(slots=True, kw_only=True)
class PushResult:
    run: ActionsRun
    name: str
    location: S3Url  # the artifact's prefix
    files: list[ManifestEntry] = field(default_factory=list)
    bytes: int = 0
    retention_days: int | None = None
    manifest_key: str | None = None  # written last; None: the push did not get there
    failures: list[tuple[str, S3KitError]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures and self.manifest_key is not None


async def push_artifact_async(
    session: Session,
    paths: Sequence[Path],
    destination: S3Url,
    *,
    run: ActionsRun,
    name: str = DEFAULT_NAME,
    retention_days: int | None = None,
    config: TransferConfig | None = None,
    on_event: EventCallback | None = None,
) -> PushResult:
    """Push the files of `paths` as artifact `name` of `run` below `destination`
    (s3://bucket[/prefix]); see the module docstring for the keys, the tags and the
    manifest. Failed files are in the result and no manifest is written then; an artifact of
    that name already pushed in this attempt is refused before anything is sent."""
    from s3kit.service import S3Service
    from s3kit.transfer.items import TransferItem
    from s3kit.transfer.manager import TransferManager

    if retention_days is not None and retention_days < 1:
        raise UsageError(f"--retention-days must be at least 1, not {retention_days}")
    prefix = artifact_prefix(destination, run, name)
    location = S3Url(destination.bucket, prefix)
    storage = session.storage(destination.bucket)
    manifest_key = prefix + MANIFEST
    refusal = ConflictError(
        f"artifact {name!r} of run {run.run_id} attempt {run.attempt} of {run.slug} was pushed"
        f" already (s3://{destination.bucket}/{manifest_key}) — push under another --name"
    )
    files = await asyncio.to_thread(collect_files, paths)
    if await storage.exists_async(manifest_key):
        raise refusal
    hashed = await _hash_all([f.path for f in files])
    result = PushResult(run=run, name=name, location=location, retention_days=retention_days)
    items = [
        TransferItem(LocalPath(f.path), S3Url(destination.bucket, prefix + f.relative), size)
        for f, (size, _sha, _mtime) in zip(files, hashed, strict=True)
    ]
    manager = TransferManager(session, config=config, on_event=on_event)
    summary = await manager.run_items_async(items, keep_results=False, raise_shared=True)
    _failures(result, summary)
    for f, (size, sha256, mtime) in zip(files, hashed, strict=True):
        if (size, mtime) != await asyncio.to_thread(_size_mtime, f.path):
            result.failures.append((f.relative, TransferError(
                f"{f.path} changed while it was pushed — push again once it is written"
            )))  # fmt: skip
        result.files.append(ManifestEntry(f.relative, size, sha256))
        result.bytes += size
    if result.failures:
        return result
    keys = [prefix + entry.path for entry in result.files]
    tags = {RETENTION_TAG: str(retention_days)} if retention_days is not None else None
    service = S3Service(session)
    if tags is not None and not await _tag_all(service, destination.bucket, keys, tags, result):
        return result
    manifest = ArtifactManifest(
        repository=run.slug, run_id=run.run_id, attempt=run.attempt, name=name,
        created_at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        retention_days=retention_days, files=tuple(result.files),
    )  # fmt: skip
    body = (json.dumps(manifest.document(), indent=2) + "\n").encode()
    try:
        await storage.put_async(manifest_key, body, content_type="application/json", mode="create")
    except ConflictError:
        raise refusal from None  # another job pushed the same name meanwhile
    if tags is not None:
        await _tag_all(service, destination.bucket, [manifest_key], tags, result)
    result.manifest_key = manifest_key
    return result


push_artifact = blocking_twin(push_artifact_async, "push_artifact")


def _size_mtime(path: Path) -> tuple[int, int]:
    try:
        info = path.stat()
    except OSError:
        return (-1, -1)
    return info.st_size, info.st_mtime_ns


def _failures(result: PushResult | PulledArtifact, summary: TransferSummary) -> None:
    for item, error in summary.failures:
        result.failures.append((str(item.destination), error))


async def _tag_all(
    service: S3Service,
    bucket: str,
    keys: Sequence[str],
    tags: Mapping[str, str],
    result: PushResult,
) -> bool:
    """Tag every key (eight at a time, on boto3's threads); False when one failed."""
    slots = asyncio.Semaphore(8)

    async def one(key: str) -> None:
        async with slots:
            try:
                await service.set_object_tags_async(bucket, key, tags)
            except S3KitError as exc:
                result.failures.append((f"s3://{bucket}/{key}", exc))

    before = len(result.failures)
    await asyncio.gather(*(one(key) for key in keys))
    return len(result.failures) == before


# -- pull -------------------------------------------------------------------------------------


@dataclass(slots=True, kw_only=True)
class PulledArtifact:
    name: str
    location: S3Url  # the artifact's prefix
    dest: Path  # where its files went (or would have)
    files: list[ManifestEntry] = field(default_factory=list)
    bytes: int = 0
    failures: list[tuple[str, S3KitError]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures


@dataclass(slots=True, kw_only=True)
class PullResult:
    run: ActionsRun
    location: S3Url
    artifacts: list[PulledArtifact] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(artifact.ok for artifact in self.artifacts)


async def _children(session: Session, location: S3Url, prefix: str) -> list[str]:
    """The names of the "folders" directly below `prefix`."""
    from s3kit.storage.base import Prefix

    names = []
    async for entry in session.storage(location.bucket).list_async(prefix, delimiter="/"):
        if isinstance(entry, Prefix):
            names.append(entry.key[len(prefix) :].rstrip("/"))
    return names


async def pull_artifacts_async(
    session: Session,
    source: S3Url,
    dest: Path,
    *,
    repository: str,
    run_id: int,
    attempt: int | None = None,
    name: str | None = None,
    config: TransferConfig | None = None,
    on_event: EventCallback | None = None,
) -> PullResult:
    """Pull the artifacts of run `run_id` of `repository` below `source` (s3://bucket[/prefix])
    into `dest`: attempt `attempt`, else the highest present; artifact `name` (into `dest`
    itself), else every one of that attempt (each into `dest/NAME`). Each artifact is checked
    against its manifest and written whole or not at all; its failures are in the result. No
    artifact there at all is ObjectNotFound."""
    owner, repo = split_repository(repository)
    base = run_prefix(source, owner, repo, positive_number(run_id, "run id", "--run-id"))
    where = f"run {run_id} of {owner}/{repo} below {source}"
    if attempt is None:
        attempts = [int(n) for n in await _children(session, source, base) if n.isdigit()]
        if not attempts:
            raise ObjectNotFound(f"no artifacts of {where}")
        attempt = max(attempts)
    run = ActionsRun.of(repository, run_id, attempt)
    if name is not None:
        names = [validate_artifact_name(name)]
    else:
        names = sorted(await _children(session, source, f"{base}{run.attempt}/"))
        if not names:
            raise ObjectNotFound(f"no artifacts of attempt {run.attempt} of {where}")
    result = PullResult(run=run, location=S3Url(source.bucket, f"{base}{run.attempt}/"))
    for artifact in names:
        target = dest if name is not None else dest / artifact
        pulled = PulledArtifact(
            name=artifact, location=S3Url(source.bucket, artifact_prefix(source, run, artifact)),
            dest=target,
        )  # fmt: skip
        result.artifacts.append(pulled)
        try:
            await _pull_one(session, run, pulled, dest, config, on_event)
        except S3KitError as exc:
            pulled.failures.append((str(pulled.location), exc))
    return result


pull_artifacts = blocking_twin(pull_artifacts_async, "pull_artifacts")


async def _pull_one(
    session: Session,
    run: ActionsRun,
    pulled: PulledArtifact,
    dest: Path,
    config: TransferConfig | None,
    on_event: EventCallback | None,
) -> None:
    from s3kit.storage.base import ObjectInfo
    from s3kit.transfer.manager import TransferManager

    bucket, prefix = pulled.location.bucket, pulled.location.key
    storage = session.storage(bucket)
    manifest_url = f"s3://{bucket}/{prefix}{MANIFEST}"
    try:
        raw = await storage.get_async(prefix + MANIFEST)
    except ObjectNotFound:
        raise ObjectNotFound(
            f"{pulled.location} has no {MANIFEST}: its push did not finish (or there is no"
            f" artifact {pulled.name!r}) — nothing pulled"
        ) from None
    manifest = ArtifactManifest.parse(raw, manifest_url)
    described = (manifest.repository, manifest.run_id, manifest.attempt, manifest.name)
    if described != (run.slug, run.run_id, run.attempt, pulled.name):
        raise TransferError(
            f"{manifest_url} describes artifact {manifest.name!r} of run {manifest.run_id}"
            f" attempt {manifest.attempt} of {manifest.repository}, not this one — nothing pulled"
        )
    listed: dict[str, int] = {}
    async for found in storage.list_async(prefix):
        if isinstance(found, ObjectInfo) and found.key != prefix + MANIFEST:
            listed[found.key[len(prefix) :]] = found.size
    check = check_listing(manifest, listed)
    if not check.ok:
        for path, problem in check.problems():
            pulled.failures.append((f"{pulled.location}{path}", TransferError(
                f"{pulled.location}{path}: {problem} — artifact {pulled.name!r} refused, nothing"
                " pulled"
            )))  # fmt: skip
        return
    await asyncio.to_thread(_make_folder, dest)
    staging = temp_name(dest / pulled.name)
    try:
        items = _pull_items(bucket, prefix, manifest.files, staging)
        manager = TransferManager(session, config=config, on_event=on_event)
        summary = await manager.run_items_async(items, keep_results=False, raise_shared=True)
        _failures(pulled, summary)
        if pulled.failures:
            return
        hashed = await _hash_all([staging.joinpath(*e.path.split("/")) for e in manifest.files])
        for entry, (size, sha256, _mtime) in zip(manifest.files, hashed, strict=True):
            if (size, sha256) != (entry.size, entry.sha256):
                pulled.failures.append((f"{pulled.location}{entry.path}", TransferError(
                    f"{pulled.location}{entry.path}: sha256 {sha256}, the manifest says"
                    f" {entry.sha256} — artifact {pulled.name!r} refused, nothing pulled"
                )))  # fmt: skip
        if pulled.failures:
            return
        await asyncio.to_thread(_move_into_place, staging, pulled.dest, manifest.files)
        pulled.files = list(manifest.files)
        pulled.bytes = sum(entry.size for entry in manifest.files)
    finally:
        await asyncio.to_thread(shutil.rmtree, staging, True)


def _make_folder(path: Path) -> None:
    with translating(path=str(path)):
        path.mkdir(parents=True, exist_ok=True)


def _pull_items(
    bucket: str, prefix: str, files: Sequence[ManifestEntry], staging: Path
) -> list[TransferItem]:
    from s3kit.storage.local import local_target
    from s3kit.transfer.items import TransferItem

    return [
        TransferItem(
            S3Url(bucket, prefix + entry.path),
            LocalPath(local_target(staging, entry.path)),
            entry.size,
        )
        for entry in files
    ]


def _move_into_place(staging: Path, target: Path, files: Sequence[ManifestEntry]) -> None:
    """Rename each checked file from the staging folder to its place below `target` (the same
    filesystem: a rename each, never a half-written file). Every place is checked first, so a
    folder in the way stops the pull before any file has moved."""
    from s3kit.storage.local import local_target

    places = [(entry, local_target(target, entry.path)) for entry in files]
    for entry, final in places:
        if final.is_dir() and not final.is_symlink():
            raise LocalPathError(
                f"{final} is a folder, where artifact file {entry.path!r} goes — move it away;"
                " nothing pulled"
            )
    for entry, final in places:
        with translating(path=str(final)):
            final.parent.mkdir(parents=True, exist_ok=True)
            staging.joinpath(*entry.path.split("/")).replace(final)


__all__ = [
    "DEFAULT_NAME",
    "RETENTION_TAG",
    "ActionsRun",  # push_artifact's `run`, named beside it in the README's library example
    "LocalFile",
    "PullResult",
    "PulledArtifact",
    "PushResult",
    "collect_files",
    "file_sha256",
    "pull_artifacts",
    "pull_artifacts_async",
    "push_artifact",
    "push_artifact_async",
]
