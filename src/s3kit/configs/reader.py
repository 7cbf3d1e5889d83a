"""StoreReader: the read-only side of a configuration store (`ConfigStore` adds the writes).

It reads what `layout.py` lays out — store.json, an environment's pointer (HEAD), release
manifests, the log of moves, blobs — and what is built from them: the live release, history,
a release's files (each checked against its sha256 and size), a pull into a local folder
(whole or not at all), a diff (secrets masked). Nothing here writes to the store: code that
must only read can be given a StoreReader. Blocking methods run their `_async` twin.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import TYPE_CHECKING

from s3kit._aio import blocking_method, run_bounded
from s3kit._uri import S3Url, parse_s3_url
from s3kit.configs.bundle import read_bundle, write_folder
from s3kit.configs.layout import (
    STORE_FILE,
    TOOLS,
    FileEntry,
    Head,
    LogRecord,
    Release,
    StoreSettings,
    blob_key,
    check_env,
    check_tool,
    env_prefix,
    head_key,
    log_prefix,
    log_seq,
    parse_ref,
    read_json,
    release_key,
    release_number,
    releases_prefix,
    sha256_hex,
)
from s3kit.configs.outcomes import BundleDiff, HistoryEntry, diff_files
from s3kit.errors import ObjectNotFound, S3KitError, TransferError, UsageError
from s3kit.storage.base import ObjectInfo

if TYPE_CHECKING:
    from s3kit._session import Session
    from s3kit.storage.s3 import S3Storage


def _location(location: S3Url | str) -> S3Url:
    url = location if isinstance(location, S3Url) else parse_s3_url(_as_url(location))
    key = url.key if not url.key or url.key.endswith("/") else url.key + "/"
    return S3Url(url.bucket, key)


def _as_url(text: str) -> str:
    return text if text.startswith("s3://") else f"s3://{text}"


class StoreReader:
    """The configuration store at `location` (`s3://bucket[/prefix]`, or a bucket name), read
    only; `concurrency` bounds the transfers of one call."""

    def __init__(self, session: Session, location: S3Url | str, *, concurrency: int = 8) -> None:
        if concurrency < 1:
            raise UsageError("concurrency must be 1 or more")
        self.session = session
        self.location = _location(location)
        self.storage: S3Storage = session.storage(self.location.bucket)
        self.concurrency = concurrency
        self._settings: StoreSettings | None = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self.location)!r})"

    @property
    def prefix(self) -> str:
        return self.location.key

    def url(self, key: str) -> str:
        return f"s3://{self.location.bucket}/{self.prefix}{key}"

    # -- reading -------------------------------------------------------------------------

    async def _get(self, key: str) -> tuple[bytes, str | None] | None:
        """The object's bytes and ETag; None when there is none."""
        try:
            response = await self.session.http().request_async(
                "GET", self.location.bucket, self.prefix + key
            )
        except ObjectNotFound:
            return None
        return response.body, response.headers.get("ETag")

    async def settings_async(self) -> StoreSettings:
        """store.json (read once per ConfigStore); none: any environment, none protected."""
        if self._settings is None:
            found = await self._get(STORE_FILE)
            where = self.url(STORE_FILE)
            self._settings = (
                StoreSettings()
                if found is None
                else StoreSettings.from_document(read_json(found[0], where), where)
            )
        return self._settings

    settings = blocking_method(settings_async)

    async def _env(self, env: str) -> StoreSettings:
        settings = await self.settings_async()
        settings.check(env, str(self.location))
        return settings

    async def _head(self, tool: str, env: str) -> tuple[Head | None, str | None, bytes | None]:
        found = await self._get(head_key(env, tool))
        if found is None:
            return None, None, None
        where = self.url(head_key(env, tool))
        return Head.from_document(read_json(found[0], where), where), found[1], found[0]

    async def live_async(self, tool: str, env: str) -> Head | None:
        """The environment's pointer for `tool`: which release it serves, and the move that
        made it so; None when it serves nothing yet."""
        check_tool(tool)
        check_env(env)
        head, _, _ = await self._head(tool, env)
        return head

    live = blocking_method(live_async)

    async def _release(
        self, tool: str, env: str, number: int, digest: str | None = None
    ) -> tuple[Release, bytes]:
        key = release_key(tool, env, number)
        found = await self._get(key)
        if found is None:
            raise ObjectNotFound(
                f"{tool} has no release {env}@{number} in {self.location} — `s3kit configs"
                f" history {tool} {env}` lists them"
            )
        body = found[0]
        if digest is not None and sha256_hex(body) != digest:
            raise S3KitError(
                f"{self.url(key)} is not the manifest {env}'s pointer was swung to (its sha256"
                " differs) — a release was changed by hand; restore it from a backup"
            )
        release = Release.from_document(read_json(body, self.url(key)), self.url(key))
        if (release.tool, release.env, release.number) != (tool, env, number):
            raise S3KitError(f"{self.url(key)} describes {release.tool} {release.ref}")
        return release, body

    async def release_async(self, tool: str, env: str, version: int | None = None) -> Release:
        """Release `version` of the tool in `env`; None: the one it serves."""
        check_tool(tool)
        await self._env(env)
        if version is not None:
            return (await self._release(tool, env, version))[0]
        head, _, _ = await self._head(tool, env)
        if head is None:
            raise ObjectNotFound(
                f"{env} serves no {tool} configuration in {self.location} yet — push one with"
                f" `s3kit configs push {tool} {env} PATH`"
            )
        return (await self._release(tool, env, head.release, head.digest))[0]

    release = blocking_method(release_async)

    async def _numbers(self, tool: str, env: str) -> list[int]:
        prefix = self.prefix + releases_prefix(tool, env)
        numbers = []
        async for entry in self.storage.list_async(prefix):
            if isinstance(entry, ObjectInfo):
                number = release_number(entry.key[len(prefix) :])
                if number is not None:
                    numbers.append(number)
        return sorted(numbers)

    async def log_async(self, tool: str, env: str) -> list[LogRecord]:
        """Every pointer move of the tool in `env`, oldest first (the move HEAD records is
        included even where its log record was not written: a writer that died after the
        swap)."""
        check_tool(tool)
        check_env(env)
        prefix = self.prefix + log_prefix(env, tool)
        keys = [
            entry.key
            async for entry in self.storage.list_async(prefix)
            if isinstance(entry, ObjectInfo) and log_seq(entry.key[len(prefix) :]) is not None
        ]
        records: dict[int, LogRecord] = {}

        async def one(key: str) -> None:
            where = f"s3://{self.location.bucket}/{key}"
            data = await self.storage.get_async(key)
            record = LogRecord.from_document(read_json(data, where), where)
            records[record.seq] = record

        await run_bounded((one(key) for key in keys), self.concurrency)
        head, _, _ = await self._head(tool, env)
        if head is not None:
            records.setdefault(head.seq, head.move)
        return [records[seq] for seq in sorted(records)]

    log = blocking_method(log_async)

    async def history_async(self, tool: str, env: str) -> list[HistoryEntry]:
        """Every release of the tool in `env`, oldest first, with whether it is live and
        whether it ever was."""
        check_tool(tool)
        await self._env(env)
        numbers = await self._numbers(tool, env)
        moves = await self.log_async(tool, env)
        head, _, _ = await self._head(tool, env)
        releases: dict[int, Release] = {}

        async def one(number: int) -> None:
            releases[number] = (await self._release(tool, env, number))[0]

        await run_bounded((one(n) for n in numbers), self.concurrency)
        served = {m.to_release for m in moves}
        live = head.release if head is not None else None
        return [
            HistoryEntry(releases[n], live=n == live, served=n in served or n == live)
            for n in numbers
        ]

    history = blocking_method(history_async)

    async def read_async(
        self, tool: str, env: str, *, version: int | None = None
    ) -> tuple[Release, dict[str, bytes]]:
        """A release (the live one, or `version`) and its files' bytes, each checked against
        its sha256."""
        release = await self.release_async(tool, env, version)
        return release, await self._files(release)

    read = blocking_method(read_async)

    async def _files(self, release: Release) -> dict[str, bytes]:
        files: dict[str, bytes] = {}

        async def one(entry: FileEntry) -> None:
            key = self.prefix + blob_key(entry.sha256)
            try:
                data = await self.storage.get_async(key)
            except ObjectNotFound as exc:
                raise ObjectNotFound(
                    f"{release.tool} {release.ref}: the blob of {entry.path} is missing from"
                    f" the store (s3://{self.location.bucket}/{key}) — restore it from a backup"
                ).context_of(exc) from exc
            if sha256_hex(data) != entry.sha256 or len(data) != entry.size:
                raise TransferError(
                    f"{release.tool} {release.ref}: s3://{self.location.bucket}/{key} does not"
                    f" hold the bytes of {entry.path} (sha256 differs) — the store damaged it;"
                    " restore it from a backup"
                )
            files[entry.path] = data

        await run_bounded((one(e) for e in release.files), self.concurrency)
        return files

    # -- pull, tools -----------------------------------------------------------------------

    async def pull_async(
        self,
        tool: str,
        env: str,
        dest: str | os.PathLike[str],
        *,
        version: int | None = None,
        force: bool = False,
    ) -> Release:
        """Write the release (live, or `version`) into the folder `dest`, whole or not at all:
        into a temporary folder beside it, renamed into place once every file was checked.
        A `dest` that exists must be empty or hold an earlier pull (or `force`: replaced)."""
        release, files = await self.read_async(tool, env, version=version)
        marker = {"store": str(self.location), "tool": release.tool, "env": release.env,
                  "release": release.number, "digest": release.digest}  # fmt: skip
        await asyncio.to_thread(write_folder, Path(dest), files, marker, force=force)
        return release

    pull = blocking_method(pull_async)

    async def tools_async(self, env: str) -> list[str]:
        """The tools `env` serves a configuration of."""
        check_env(env)
        prefix = self.prefix + env_prefix(env)
        found = set()
        async for entry in self.storage.list_async(prefix, delimiter="/"):
            name = entry.key[len(prefix) :].rstrip("/")
            if name in TOOLS:
                found.add(name)
        tools = []
        for tool in sorted(found):
            if await self.live_async(tool, env) is not None:
                tools.append(tool)
        return tools

    tools = blocking_method(tools_async)

    # -- diff ------------------------------------------------------------------------------

    async def diff_async(
        self, tool: str, left: str, right: str | os.PathLike[str] | None = None
    ) -> BundleDiff:
        """What changes from `left` (ENV or ENV@N) to `right`: another ENV[@N], a local
        folder or file(s) (os.PathLike: what a push would change), or None: what `left`
        changed from its parent. A unified diff per file, secrets masked."""
        check_tool(tool)
        release, before = await self._side(tool, left)
        if right is None:
            if release.parent is None:
                after_name, after = release.ref, before
                before_name, before = "(nothing)", {}
            else:
                parent = (await self._release(tool, release.env, release.parent))[0]
                before_name, before = parent.ref, await self._files(parent)
                after_name, after = release.ref, await self._files(release)
        elif isinstance(right, str):
            before_name = release.ref
            other, after = await self._side(tool, right)
            after_name = other.ref
        else:
            before_name = release.ref
            bundle = await asyncio.to_thread(read_bundle, right)
            after_name, after = os.fspath(right), dict(bundle.files)
        return BundleDiff(before_name, after_name, diff_files(before, after, before_name,
                                                              after_name))  # fmt: skip

    diff = blocking_method(diff_async)

    async def _side(self, tool: str, ref: str) -> tuple[Release, dict[str, bytes]]:
        env, number = parse_ref(ref)
        return await self.read_async(tool, env, version=number)


__all__ = ["StoreReader"]
