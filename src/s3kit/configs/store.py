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

Reading (the live release, history, pull, diff) is `reader.StoreReader`'s, which ConfigStore
extends. Blocking methods run their `_async` twin (the implementation). Nothing here prints:
outcomes are returned, problems raised as `S3KitError`s.
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
from s3kit._uri import S3Url
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
)
from s3kit.configs.layout import (
    PROBE,
    Action,
    Head,
    LogRecord,
    Release,
    Validation,
    blob_key,
    check_tool,
    head_key,
    iso,
    release_key,
    sha256_hex,
)
from s3kit.configs.outcomes import MoveOutcome, PushOutcome, promotion_refusal
from s3kit.configs.reader import StoreReader
from s3kit.errors import (
    ConflictError,
    NotSupported,
    S3KitError,
    TransferError,
    UsageError,
)

if TYPE_CHECKING:
    from s3kit._session import Session
    from s3kit.configs.archive import BackupOutcome, RestoreOutcome
    from s3kit.configs.batch import BatchPlan, BatchResult

Clock = Callable[[], datetime]
_NUMBER_TRIES = 100  # release numbers tried before a push gives up (each taken by another)


class ConfigStore(StoreReader):
    """The configuration store at `location` (`s3://bucket[/prefix]`, or a bucket name): what
    StoreReader reads, and every change (push, rollback, promote, restore, batch).

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
        super().__init__(session, location, concurrency=concurrency)
        self.clock, self.author, self.validators = clock, author, validators
        self._conditional = conditional_writes

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

    async def _guard(self, env: str, *, validated: bool, what: str, probe: bool = True) -> None:
        """Refuse a write to a protected environment that is not validated, or on a store
        whose conditional writes do not hold (`probe`: find that out with a scratch object
        where not known yet; a dry run, which writes nothing, does not)."""
        settings = await self._env(env)
        if not settings.is_protected(env):
            return
        if not validated:
            raise UsageError(f"{env} is protected: it takes only validated configurations — {what}")
        if (probe or self._conditional is not None) and not await self.conditional_writes_async():
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
        dryrun: bool = False,
    ) -> MoveOutcome:
        """Make `env` serve the files of a release kept elsewhere (a backup): its blobs are
        written, then a new release of `env` with its files, validation and origin, made live
        as any move. Unchanged where `env` serves those files already. `dryrun`: the same
        checks and refusals, then "planned" with nothing written."""
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
            probe=not dryrun,
        )
        head, etag, _ = await self._head(tool, env)
        live = None
        if head is not None:
            live = (await self._release(tool, env, head.release, head.digest))[0]
            if live.digest == release.digest:
                return MoveOutcome(tool, env, action, "unchanged", live, head.release)
        if dryrun:
            return MoveOutcome(
                tool, env, action, "planned", release, head.release if head else None
            )
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


def _count(report: ReportLike, severity: str) -> int:
    return sum(1 for f in report.findings if f.severity == severity)


__all__ = ["ConfigStore"]
