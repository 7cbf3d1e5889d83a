"""Backups of an environment: what it serves of every tool, written under an `s3://` prefix or
into a local `.tar.gz`, and restored into a store (the same or another, that environment or
another) as new releases made live the way any move is.

A backup holds `backup.json` — {"format": 1, "kind": "s3kit-configs-backup", "env", "created",
"store", "tools": {tool: its release manifest}} — and each file as `<tool>/<path>`, readable as
it is. Under a prefix `backup.json` is written last, and only where there is none (a backup
is complete once it is there, and never written over); a `.tar.gz` is written to a temporary
file renamed into place. Restore checks every file against the sha256 its manifest recorded
before it writes anything, reads only the members the manifest names (never extracts an
archive), and leaves a tool whose files the environment already serves as it is.
"""

from __future__ import annotations

import asyncio
import io
import json
import os
import tarfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from s3kit._atomic import write_file
from s3kit._uri import S3Url, parse_s3_url
from s3kit.configs.layout import FORMAT, Release, check_env, iso, parse_iso, read_json
from s3kit.errors import ConflictError, ObjectNotFound, S3KitError, UsageError, translating

if TYPE_CHECKING:
    from s3kit.configs.store import ConfigStore

KIND = "s3kit-configs-backup"
INDEX = "backup.json"
_ARCHIVE_SUFFIXES = (".tar.gz", ".tgz")


@dataclass(slots=True)
class BackupOutcome:
    env: str
    destination: str
    releases: list[Release] = field(default_factory=list)  # one per tool, as served

    def document(self) -> dict[str, Any]:
        return {
            "env": self.env,
            "destination": self.destination,
            "tools": {
                r.tool: {"release": r.number, "digest": r.digest, "files": len(r.files)}
                for r in self.releases
            },
        }


@dataclass(frozen=True, slots=True)
class RestoreItem:
    """One tool of a restore: `status` "restored" (now `release`), "unchanged" (the
    environment served those files already) or "planned" (a dry run that would restore)."""

    tool: str
    status: Literal["restored", "unchanged", "planned"]
    backed_up: int  # the release number in the backup
    digest: str
    release: int | None  # the release the environment serves after (None: a dry run)
    previous: int | None

    def document(self) -> dict[str, Any]:
        return {
            "tool": self.tool,
            "status": self.status,
            "backed_up": self.backed_up,
            "digest": self.digest,
            "release": self.release,
            "previous": self.previous,
        }


@dataclass(slots=True)
class RestoreOutcome:
    source: str
    env: str
    dryrun: bool
    items: list[RestoreItem] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def document(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "env": self.env,
            "dryrun": self.dryrun,
            "tools": [item.document() for item in self.items],
            "warnings": list(self.warnings),
        }


def _is_archive(text: str) -> bool:
    return text.endswith(_ARCHIVE_SUFFIXES)


def _target(text: str | os.PathLike[str]) -> S3Url | Path:
    if isinstance(text, str) and text.startswith("s3://"):
        url = parse_s3_url(text)
        return S3Url(url.bucket, url.key if not url.key or url.key.endswith("/") else url.key + "/")
    path = Path(text)
    if not _is_archive(path.name):
        raise UsageError(f"{text}: a backup goes under an s3:// prefix or into a .tar.gz file")
    return path


async def backup_async(
    store: ConfigStore, env: str, destination: str | os.PathLike[str]
) -> BackupOutcome:
    """Back up what `env` serves of every tool into `destination`."""
    check_env(env)
    target = _target(destination)
    tools = await store.tools_async(env)
    if not tools:
        raise UsageError(f"{env} serves no configuration in {store.location}: nothing to back up")
    outcome = BackupOutcome(env, str(destination))
    contents: dict[str, bytes] = {}
    manifests: dict[str, Any] = {}
    for tool in tools:
        release, files = await store.read_async(tool, env)
        outcome.releases.append(release)
        manifests[tool] = release.document()
        contents.update({f"{tool}/{path}": data for path, data in files.items()})
    created = store.clock()
    index = {
        "format": FORMAT,
        "kind": KIND,
        "env": env,
        "created": iso(created),
        "store": str(store.location),
        "tools": manifests,
    }
    body = (json.dumps(index, indent=1, sort_keys=True) + "\n").encode("utf-8")
    if isinstance(target, Path):
        archive = _tar(body, contents, int(created.timestamp()))
        await asyncio.to_thread(_write_new, target, archive)
        return outcome
    storage = store.session.storage(target.bucket)
    if await storage.exists_async(target.key + INDEX):
        raise UsageError(f"{target}{INDEX} exists: a backup is there — name a new prefix")
    for name, data in sorted(contents.items()):
        await storage.put_async(target.key + name, data)
    try:
        await storage.put_async(
            target.key + INDEX, body, mode="create", content_type="application/json"
        )
    except ConflictError as exc:
        raise ConflictError(
            f"{target}{INDEX}: another backup was written there meanwhile — name a new prefix"
        ).context_of(exc) from exc
    return outcome


def _tar(index: bytes, contents: dict[str, bytes], mtime: int) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        for name, data in [(INDEX, index), *sorted(contents.items())]:
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), mtime, 0o644
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _write_new(path: Path, data: bytes) -> None:
    if path.exists():
        raise UsageError(f"{path} exists — a backup is never written over; name a new file")
    with translating(path=str(path)):
        write_file(path, data, fsync=True)


# -- restore ------------------------------------------------------------------------------------


class _Reader:
    """A backup's members by name, from a prefix or an archive."""

    def __init__(self, store: ConfigStore, source: S3Url | Path) -> None:
        self.store, self.source = store, source
        self._tar: tarfile.TarFile | None = None

    def __enter__(self) -> _Reader:
        if isinstance(self.source, Path):
            with translating(path=str(self.source)):
                try:
                    self._tar = tarfile.open(self.source, mode="r:gz")
                except tarfile.TarError as exc:
                    raise UsageError(f"{self.source} is not a .tar.gz backup ({exc})") from exc
        return self

    def __exit__(self, *_: object) -> None:
        if self._tar is not None:
            self._tar.close()

    def where(self, name: str) -> str:
        return f"{self.source}{name}" if isinstance(self.source, S3Url) else f"{self.source}:{name}"

    async def read(self, name: str) -> bytes:
        if self._tar is None:
            assert isinstance(self.source, S3Url)
            storage = self.store.session.storage(self.source.bucket)
            try:
                return await storage.get_async(self.source.key + name)
            except ObjectNotFound as exc:
                raise ObjectNotFound(
                    f"{self.where(name)} is missing — the backup is incomplete"
                ).context_of(exc) from exc
        return await asyncio.to_thread(self._member, name)

    def _member(self, name: str) -> bytes:
        assert self._tar is not None
        try:
            member = self._tar.getmember(name)
        except KeyError:
            raise ObjectNotFound(
                f"{self.where(name)} is missing — the backup is incomplete"
            ) from None
        handle = self._tar.extractfile(member) if member.isfile() else None
        if handle is None:
            raise S3KitError(f"{self.where(name)} is not a file — the backup is damaged")
        with handle:
            return handle.read()


async def restore_async(
    store: ConfigStore,
    source: str | os.PathLike[str],
    *,
    env: str | None = None,
    dryrun: bool = False,
) -> RestoreOutcome:
    """Make `env` (default: the backed-up environment) serve what the backup at `source`
    holds, tool by tool; `dryrun` says what would change and writes nothing."""
    origin = _target(source)
    with _Reader(store, origin) as reader:
        index = _index(read_json(await reader.read(INDEX), reader.where(INDEX)), reader)
        into = check_env(env or str(index["env"]))
        outcome = RestoreOutcome(str(source), into, dryrun)
        backed_up: list[tuple[Release, dict[str, bytes]]] = []
        for tool, document in sorted(index["tools"].items()):
            release = Release.from_document(document, f"{reader.where(INDEX)} ({tool})")
            if release.tool != tool:
                raise S3KitError(
                    f"{reader.where(INDEX)}: the {tool} entry describes {release.tool}"
                )
            files = {f.path: await reader.read(f"{tool}/{f.path}") for f in release.files}
            backed_up.append((release, files))
    for release, files in backed_up:
        moved = await store.adopt_async(
            release,
            files,
            env=into,
            origin={
                "action": "restore",
                "source": str(source),
                "env": release.env,
                "release": release.number,
                "backup_created": index["created"],
            },
            message=f"restored {release.ref} from {source}",
            dryrun=dryrun,
        )
        if moved.status == "planned":
            outcome.items.append(
                RestoreItem(release.tool, "planned", release.number, release.digest, None,
                            moved.previous)
            )  # fmt: skip
            continue
        outcome.warnings += moved.warnings
        outcome.items.append(
            RestoreItem(
                release.tool, "restored" if moved.status == "moved" else "unchanged",
                release.number, release.digest, moved.release.number, moved.previous,
            )
        )  # fmt: skip
    return outcome


def _index(document: Any, reader: _Reader) -> dict[str, Any]:
    where = reader.where(INDEX)
    if (
        not isinstance(document, dict)
        or document.get("kind") != KIND
        or document.get("format") != FORMAT
        or not isinstance(document.get("tools"), dict)
    ):
        raise UsageError(f"{where} is not an s3kit configs backup")
    try:
        check_env(str(document["env"]))
        parse_iso(str(document["created"]))
    except (KeyError, ValueError) as exc:
        raise UsageError(f"{where} is not an s3kit configs backup ({exc})") from exc
    return document


__all__ = [
    "BackupOutcome",
    "RestoreItem",
    "RestoreOutcome",
    "backup_async",
    "restore_async",
]
