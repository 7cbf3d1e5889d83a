"""ConfigStore: versioned configuration bundles of monitoring tools (Prometheus, Alertmanager,
Grafana, Loki, Jaeger) per environment, in a bucket laid out as `layout.py` says.

A push reads the files once, validates exactly those bytes (laid out in a temporary folder as
they will be pulled: rule files resolve relative to the config), then writes in an order that
keeps a failure harmless: blobs first (content-addressed, If-None-Match), then the release
manifest (If-None-Match: a number taken by a concurrent push makes this one take the next),
then the environment's pointer by compare-and-swap (If-Match on the ETag read at the start),
then the log record of that move. A push that fails before the swap leaves the environment
serving what it served; one that loses the swap is recorded (its release exists) but not live,
and says so. Nothing is ever overwritten or deleted in the store but the pointer.

Protected environments (store.json) take only validated bundles, and promotions of what has
been live in the source environment for at least `min_age`; writing to one needs a store whose
conditional writes hold, which is checked once per ConfigStore with a scratch object (rclone
serve s3, for one, overwrites whatever the condition).

Blocking methods run their `_async` twin (the implementation). Nothing here prints: outcomes
are returned, problems raised as `S3KitError`s.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets as tokens
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from s3kit._aio import blocking_method, run_bounded
from s3kit._uri import S3Url, parse_s3_url
from s3kit.configs.bundle import (
    Bundle,
    ConfigInvalid,
    ReportLike,
    Source,
    Validate,
    ValidatorChoice,
    check_bundle,
    default_author,
    git_info,
    read_bundle,
    secrets_in,
    validate_bundle,
    write_folder,
)
from s3kit.configs.layout import (
    PROBE,
    STORE_FILE,
    TOOLS,
    Action,
    FileEntry,
    Head,
    LogRecord,
    Release,
    StoreSettings,
    Validation,
    blob_key,
    check_env,
    check_tool,
    env_prefix,
    head_key,
    iso,
    log_prefix,
    log_seq,
    parse_ref,
    read_json,
    release_key,
    release_number,
    releases_prefix,
    sha256_hex,
)
from s3kit.configs.outcomes import (
    BundleDiff,
    HistoryEntry,
    MoveOutcome,
    PushOutcome,
    diff_files,
    promotion_refusal,
)
from s3kit.errors import (
    ConflictError,
    NotSupported,
    ObjectNotFound,
    S3KitError,
    TransferError,
    UsageError,
)
from s3kit.storage.base import ObjectInfo

if TYPE_CHECKING:
    from s3kit._session import Session
    from s3kit.configs.archive import BackupOutcome, RestoreOutcome
    from s3kit.configs.batch import BatchPlan, BatchResult
    from s3kit.storage.s3 import S3Storage

Clock = Callable[[], datetime]
_NUMBER_TRIES = 100  # release numbers tried before a push gives up (each taken by another)


# -- the store --------------------------------------------------------------------------------


def _location(location: S3Url | str) -> S3Url:
    url = location if isinstance(location, S3Url) else parse_s3_url(_as_url(location))
    key = url.key if not url.key or url.key.endswith("/") else url.key + "/"
    return S3Url(url.bucket, key)


def _as_url(text: str) -> str:
    return text if text.startswith("s3://") else f"s3://{text}"


class ConfigStore:
    """The configuration store at `location` (`s3://bucket[/prefix]`, or a bucket name).

    `clock`, `author` (default: git's user, else $USER), `validators` (`Validate`) and
    `conditional_writes` (None: find out with a scratch object when a protected environment
    is written) may be given; `concurrency` bounds the blob transfers of one call."""

    def __init__(
        self,
        session: Session,
        location: S3Url | str,
        *,
        clock: Clock = lambda: datetime.now(UTC),
        author: str | None = None,
        validators: Validate = validate_bundle,
        conditional_writes: bool | None = None,
        concurrency: int = 8,
    ) -> None:
        if concurrency < 1:
            raise UsageError("concurrency must be 1 or more")
        self.session = session
        self.location = _location(location)
        self.storage: S3Storage = session.storage(self.location.bucket)
        self.clock, self.author, self.validators = clock, author, validators
        self.concurrency = concurrency
        self._conditional = conditional_writes
        self._settings: StoreSettings | None = None

    def __repr__(self) -> str:
        return f"ConfigStore({str(self.location)!r})"

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

    # -- pull ------------------------------------------------------------------------------

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

    # -- writing ---------------------------------------------------------------------------

    async def conditional_writes_async(self) -> bool:
        """Whether the store refuses a second If-None-Match: * write of one key (found out
        once per ConfigStore, with a scratch object removed again)."""
        if self._conditional is None:
            key = f"{self.prefix}{PROBE}conditional-{tokens.token_hex(8)}"
            try:
                await self.storage.put_async(key, b"1", mode="create")
                try:
                    await self.storage.put_async(key, b"2", mode="create")
                    self._conditional = False
                except ConflictError:
                    self._conditional = True
                except NotSupported:
                    self._conditional = False
            finally:
                with contextlib.suppress(S3KitError):
                    await self.storage.delete_async(key)
        return self._conditional

    conditional_writes = blocking_method(conditional_writes_async)

    async def _guard(self, env: str, *, validated: bool, what: str) -> None:
        """Refuse a write to a protected environment that is not validated, or on a store
        whose conditional writes do not hold."""
        settings = await self._env(env)
        if not settings.is_protected(env):
            return
        if not validated:
            raise UsageError(f"{env} is protected: it takes only validated configurations — {what}")
        if not await self.conditional_writes_async():
            raise NotSupported(
                f"{self.location}: this store does not honour conditional writes (a second"
                f" If-None-Match: * write was not refused), so the protected environment"
                f" '{env}' cannot be kept from concurrent writes there — use a store that"
                " honours them (see `s3kit probe`)"
            )

    async def _put_blobs(self, files: Mapping[str, bytes], known: set[str]) -> int:
        """Each file's blob the store may not have yet (If-None-Match: one already there has
        these very bytes). Returns how many were sent."""
        wanted = {sha256_hex(data): data for data in files.values()}
        wanted = {sha: data for sha, data in wanted.items() if sha not in known}

        async def one(sha: str, data: bytes) -> None:
            with contextlib.suppress(ConflictError):
                await self.storage.put_async(
                    self.prefix + blob_key(sha), data, mode="create",
                    content_type="application/octet-stream",
                )  # fmt: skip

        await run_bounded((one(sha, data) for sha, data in wanted.items()), self.concurrency)
        return len(wanted)

    async def _record(
        self, tool: str, env: str, make: Callable[[int], Release]
    ) -> tuple[Release, bytes]:
        """Create the next release manifest of the tool in `env`: the number after the highest
        there, or after that when a concurrent push took it (If-None-Match)."""
        numbers = await self._numbers(tool, env)
        number = (numbers[-1] if numbers else 0) + 1
        for _ in range(_NUMBER_TRIES):
            release = make(number)
            body = release.body()
            key = release_key(release.tool, release.env, number)
            try:
                await self.storage.put_async(
                    self.prefix + key, body, mode="create", content_type="application/json"
                )
                return release, body
            except ConflictError:
                found = await self._get(key)
                if found is not None and found[0] == body:
                    return release, body  # a retried request of ours had created it
                number += 1
        raise ConflictError(
            f"{self.location}: {_NUMBER_TRIES} release numbers in a row were taken by other"
            " pushes — try again"
        )

    async def _move(
        self,
        release: Release,
        body: bytes,
        head: Head | None,
        etag: str | None,
        action: Action,
        message: str,
        who: str,
    ) -> tuple[LogRecord, list[str]]:
        """Swing the environment's pointer to `release` (compare-and-swap against `etag`, the
        ETag of `head` as read) and log the move. Returns its record and any warning."""
        tool, env = release.tool, release.env
        warnings: list[str] = []
        if head is not None:  # the last move's record, if its writer died before writing it
            await self._write_log(head.move, warnings)
        record = LogRecord(
            seq=(head.seq if head is not None else 0) + 1,
            tool=tool,
            env=env,
            action=action,
            from_release=head.release if head is not None else None,
            to_release=release.number,
            digest=release.digest,
            who=who,
            when=iso(self.clock()),
            message=message,
            id=tokens.token_hex(8),
        )
        new_head = Head(release.number, sha256_hex(body), record)
        data = new_head.body()
        key = head_key(env, tool)
        try:
            await self.storage.put_async(
                self.prefix + key, data, content_type="application/json",
                cache_control="no-cache", if_match=etag,
                mode="create" if etag is None else "overwrite",
            )  # fmt: skip
        except ConflictError as exc:
            now, _, now_body = await self._head(tool, env)
            if now_body != data:
                by = f"release {now.release} ({now.move.action} by {now.move.who})" if now else "?"
                raise ConflictError(
                    f"{env} moved to {by} while this {action} ran: {tool} {release.ref} is"
                    f" recorded but not live — check `s3kit configs history {tool} {env}` and"
                    " run it again"
                ).context_of(exc) from exc
        await self._write_log(record, warnings)
        return record, warnings

    async def _write_log(self, record: LogRecord, warnings: list[str]) -> None:
        try:
            await self.storage.put_async(
                self.prefix + record.key, record.body(), mode="create",
                content_type="application/json",
            )  # fmt: skip
        except ConflictError:
            pass  # written already (its own writer, or an earlier repair)
        except S3KitError as exc:
            warnings.append(
                f"the move is live but its log record {record.name} could not be written"
                f" ({exc.message}); the next move writes it"
            )

    def _who(self, author: str | None, root: Path | None = None) -> str:
        return author or self.author or default_author(root)

    # -- push ------------------------------------------------------------------------------

    async def push_async(
        self,
        tool: str,
        env: str,
        source: Source | Bundle,
        *,
        message: str = "",
        validator: ValidatorChoice = "auto",
        validate: bool = True,
        force: bool = False,
        author: str | None = None,
    ) -> PushOutcome:
        """Record the bundle in `source` as the tool's next release for `env` and make it
        live, unless `env` serves these very files already (`force`: a new release anyway).
        Raises ConfigInvalid, before anything is written, when the validator refuses it;
        ConflictError when another move won the pointer meanwhile (the release is recorded,
        not live)."""
        check_tool(tool)
        bundle = source if isinstance(source, Bundle) else await asyncio.to_thread(
            read_bundle, source
        )  # fmt: skip
        what = "push without validate=False (--no-validate)"
        await self._guard(env, validated=validate, what=what)
        found = secrets_in(bundle)
        report = None
        if validate:
            report = await asyncio.to_thread(
                check_bundle, tool, bundle, validator=validator, validators=self.validators
            )
            if not report.ok:
                raise ConfigInvalid(tool, report)
        head, etag, _ = await self._head(tool, env)
        live = None
        if head is not None:
            live = (await self._release(tool, env, head.release, head.digest))[0]
            if live.digest == bundle.digest and not force:
                return PushOutcome(tool, env, "unchanged", live, head.release, report, found)
        who = self._who(author, bundle.root)
        git = await asyncio.to_thread(git_info, bundle.root)
        uploaded = await self._put_blobs(
            bundle.files, {f.sha256 for f in live.files} if live is not None else set()
        )
        created = iso(self.clock())
        release, body = await self._record(
            tool,
            env,
            lambda number: Release(
                tool=tool,
                env=env,
                number=number,
                files=bundle.entries,
                created=created,
                author=who,
                message=message,
                parent=head.release if head is not None else None,
                validation=None
                if report is None
                else Validation(report.validator, _count(report, "warning")),
                git=git,
            ),
        )
        _, warnings = await self._move(release, body, head, etag, "push", message, who)
        previous = head.release if head is not None else None
        return PushOutcome(
            tool, env, "pushed", release, previous, report, found, uploaded, warnings
        )

    push = blocking_method(push_async)

    # -- rollback, promote, restore -------------------------------------------------------

    async def rollback_async(self, tool: str, env: str, *, to: int | None = None) -> MoveOutcome:
        """Make an earlier release of `env` live again: `to`, else the parent of the live one
        (what was live when it was pushed)."""
        check_tool(tool)
        await self._guard(env, validated=True, what="")
        head, etag, _ = await self._head(tool, env)
        if head is None:
            raise UsageError(f"{env} serves no {tool} configuration: nothing to roll back")
        live, _ = await self._release(tool, env, head.release, head.digest)
        target_number = to if to is not None else live.parent
        if target_number is None:
            raise UsageError(
                f"{tool} {live.ref} is the first release of {env}: nothing before it — name"
                " one with --to N"
            )
        target, body = await self._release(tool, env, target_number)
        if target.number == head.release:
            return MoveOutcome(tool, env, "rollback", "unchanged", live, head.release)
        message = f"rollback from {live.ref} to {target.ref}"
        who = self._who(None)
        _, warnings = await self._move(target, body, head, etag, "rollback", message, who)
        return MoveOutcome(tool, env, "rollback", "moved", target, head.release, warnings)

    rollback = blocking_method(rollback_async)

    async def promote_async(
        self,
        tool: str,
        *,
        source: str,
        target: str,
        version: int | None = None,
        min_age: timedelta | float = 0,
        message: str = "",
        author: str | None = None,
    ) -> MoveOutcome:
        """Make `target` serve what `source` serves (or its release `version`), as a new
        release of `target` with the same files. A protected target takes only a release whose
        files `source` serves now, and has for at least `min_age` (seconds, or a timedelta);
        and only one that was validated."""
        check_tool(tool)
        if source == target:
            raise UsageError(f"promote from {source} to itself: name two environments")
        settings = await self._env(source)
        await self._env(target)
        age = min_age if isinstance(min_age, timedelta) else timedelta(seconds=min_age)
        if age < timedelta(0):
            raise UsageError("min_age cannot be negative")
        source_head, _, _ = await self._head(tool, source)
        if version is not None:
            number = version
        elif source_head is not None:
            number = source_head.release
        else:
            raise UsageError(f"{source} serves no {tool} configuration: nothing to promote")
        chosen, _ = await self._release(tool, source, number)
        refusal = promotion_refusal(
            chosen,
            source_head,
            protected=settings.is_protected(target),
            now=self.clock(),
            min_age=age,
            target=target,
        )
        if refusal:
            raise UsageError(refusal)
        await self._guard(
            target,
            validated=chosen.validation is not None,
            what=f"{tool} {chosen.ref} was pushed with --no-validate",
        )
        head, etag, _ = await self._head(tool, target)
        live = None
        if head is not None:
            live = (await self._release(tool, target, head.release, head.digest))[0]
            if live.digest == chosen.digest:
                return MoveOutcome(tool, target, "promote", "unchanged", live, head.release)
        said = message or f"promoted from {chosen.ref}"
        who = self._who(author)
        created = iso(self.clock())
        release, body = await self._record(
            tool,
            target,
            lambda n: replace(
                chosen, env=target, number=n, created=created, author=who, message=said,
                parent=head.release if head is not None else None,
                origin={"action": "promote", "env": source, "release": chosen.number},
            )
        )  # fmt: skip
        _, warnings = await self._move(release, body, head, etag, "promote", said, who)
        previous = head.release if head is not None else None
        return MoveOutcome(tool, target, "promote", "moved", release, previous, warnings)

    promote = blocking_method(promote_async)

    async def adopt_async(
        self,
        release: Release,
        files: Mapping[str, bytes],
        *,
        env: str,
        origin: Mapping[str, Any],
        message: str,
        action: Action = "restore",
    ) -> MoveOutcome:
        """Make `env` serve the files of a release kept elsewhere (a backup): its blobs are
        written, then a new release of `env` with its files, validation and origin, made live
        as any move. Unchanged where `env` serves those files already."""
        tool = release.tool
        if Bundle.of(files).entries != release.files:
            raise TransferError(
                f"{tool} {release.ref}: the files given are not the files of the release"
                " (their sha256 differ) — the backup is damaged"
            )
        await self._guard(
            env,
            validated=release.validation is not None,
            what=f"{tool} {release.ref} was pushed with --no-validate",
        )
        head, etag, _ = await self._head(tool, env)
        live = None
        if head is not None:
            live = (await self._release(tool, env, head.release, head.digest))[0]
            if live.digest == release.digest:
                return MoveOutcome(tool, env, action, "unchanged", live, head.release)
        await self._put_blobs(files, {f.sha256 for f in live.files} if live else set())
        who = self._who(None)
        created = iso(self.clock())
        made, body = await self._record(
            tool,
            env,
            lambda n: replace(
                release, env=env, number=n, created=created, author=who, message=message,
                parent=head.release if head is not None else None, origin=dict(origin),
            )
        )  # fmt: skip
        _, warnings = await self._move(made, body, head, etag, action, message, who)
        previous = head.release if head is not None else None
        return MoveOutcome(tool, env, action, "moved", made, previous, warnings)

    adopt = blocking_method(adopt_async)

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

    # -- backup, restore, batch -------------------------------------------------------------

    async def backup_async(self, env: str, destination: str | os.PathLike[str]) -> BackupOutcome:
        """Back up what `env` serves of every tool: under an s3:// prefix, or into a local
        .tar.gz (see `archive.py`)."""
        from s3kit.configs.archive import backup_async

        await self._env(env)
        return await backup_async(self, env, destination)

    backup = blocking_method(backup_async)

    async def restore_async(
        self, source: str | os.PathLike[str], *, env: str | None = None, dryrun: bool = False
    ) -> RestoreOutcome:
        """Make `env` (default: the one backed up) serve what the backup at `source` holds."""
        from s3kit.configs.archive import restore_async

        return await restore_async(self, source, env=env, dryrun=dryrun)

    restore = blocking_method(restore_async)

    async def batch_async(self, plan: BatchPlan | str | os.PathLike[str]) -> list[BatchResult]:
        """Run a batch plan (or the plan file at that path): each item's result, in order."""
        from s3kit.configs.batch import BatchPlan, load_batch_plan, run_batch

        if not isinstance(plan, BatchPlan):
            plan = await asyncio.to_thread(load_batch_plan, os.fspath(plan))
        return await run_batch(self, plan)

    batch = blocking_method(batch_async)

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


def _count(report: ReportLike, severity: str) -> int:
    return sum(1 for f in report.findings if f.severity == severity)


__all__ = ["ConfigStore"]
