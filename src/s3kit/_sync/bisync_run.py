"""Walk and act for a two-way sync: scan both sides into `bisync` records, ask the pure layer
for a plan, carry it out with conditional writes, and save the state.

Every S3 write states what it expects: an upload over a known object sends `If-Match` with the
ETag seen at the scan, a new path is created only if absent, and a remote delete first checks
the ETag. When someone wrote in between, the path fails with a ConflictError and keeps its old
state record, so the next run sees it as changed on both sides — a conflict, never a silent
overwrite. A local file is replaced or deleted only if it still has the size and mtime the
scan saw.

Files move through the transfer layer, as with cp: from the multipart threshold up, uploads go
in parallel parts with the condition on CompleteMultipartUpload (plus a HEAD just before, for
stores that ignore it — see transfer.upload), and downloads in parallel ranges pinned to the
scanned ETag, into a temporary file renamed into place. Progress goes out as TransferEvents.

The state is written only when the run gets to its end: paths that succeeded advance, failed
ones keep their previous record; an interrupted run writes nothing.

Local files are written, renamed and deleted only through `local_target`: never under a name
no file can have, never through a symlink that leads out of the folder. The scan does not
follow links, so a path behind such a link is unseen rather than absent: it is left out of
the plan (never "deleted locally", never downloaded through the link), keeps its record, and
is reported as skipped — the run fails, and says which link to remove.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from s3kit._aio import run_bounded
from s3kit._atomic import TEMP_PREFIX, TEMP_SUFFIX, replace_file
from s3kit._observe import logger
from s3kit._session import Session
from s3kit._sync.bisync import (
    BiAction,
    BiPlan,
    ConflictPolicy,
    LocalFile,
    RemoteObject,
    Synced,
    bisync_plan,
    check_deletes,
    clean_etag,
    next_state,
    resolve,
    resync_plan,
    wants_md5,
)
from s3kit._sync.execute import remove_empty_folders
from s3kit._sync.plan import DeleteGuard
from s3kit._sync.scan import (
    LocalSide,
    S3Side,
    Selection,
    Warn,
    build_selection,
    file_digests,
    scan_local,
    scan_s3_async,
)
from s3kit._sync.state import BisyncState
from s3kit._uri import LocalPath, S3Url
from s3kit.errors import (
    ConflictError,
    InvalidKey,
    LocalPathError,
    ObjectNotFound,
    S3KitError,
    UsageError,
    translate,
)
from s3kit.storage.base import etags_match
from s3kit.storage.local import local_target
from s3kit.transfer import (
    Action,
    EventCallback,
    TransferConfig,
    TransferEvent,
    TransferItem,
    WriteOptions,
    guarded,
)
from s3kit.transfer.context import TransferContext
from s3kit.transfer.download import download_version
from s3kit.transfer.upload import Precondition, upload_file

Ask = Callable[[BiAction], ConflictPolicy]
# A change of the plan has ended: its error, or None when it was done. Never called for one
# that did not run (deletions held back after a failure) nor for state-only adopt/forget.
BiActionCallback = Callable[[BiAction, S3KitError | None], None]

RESYNC_NEEDED = (
    "no saved state for this pair: run once with --resync, which makes both sides equal by"
    " copying what is missing each way (where both sides have a path, the newer wins) and"
    " deletes nothing; later runs propagate edits and deletes both ways"
)


def ns(seconds: float) -> int:
    """Nanoseconds from the scanner's float mtime (deterministic for one st_mtime_ns)."""
    return round(seconds * 1e9)


@dataclass(slots=True)
class BiResult:
    done: list[tuple[str, Synced | None]] = field(default_factory=list)
    uploaded: int = 0
    downloaded: int = 0
    deleted: int = 0
    failures: list[tuple[str, S3KitError]] = field(default_factory=list)
    deletions_skipped: int = 0

    @property
    def conflicts(self) -> list[tuple[str, S3KitError]]:
        return [(p, e) for p, e in self.failures if isinstance(e, ConflictError)]

    @property
    def ok(self) -> bool:
        return not self.failures and not self.deletions_skipped


@dataclass(slots=True)
class BisyncOutcome:
    plan: BiPlan
    result: BiResult | None = None  # None for a dry run
    unresolved: list[BiAction] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.unresolved and (self.result is None or self.result.ok)


@dataclass(slots=True)
class ScannedPair:
    """Both sides as records, and the paths the local scan cannot see: behind a symlink that
    leads out of the folder, with the error that says so."""

    local: dict[str, LocalFile]
    remote: dict[str, RemoteObject]
    complete: bool  # the local folder was read completely
    hidden: dict[str, S3KitError] = field(default_factory=dict)


async def scan_pair_async(
    session: Session,
    local: LocalSide,
    remote: S3Side,
    selection: Selection,
    state: dict[str, Synced],
    *,
    warn: Warn | None = None,
) -> ScannedPair:
    """Both sides as records; local files that only a content comparison can settle are
    hashed (same size as a single-part object, and new or changed on both sides). A path
    known to the state or the remote side but not found locally is checked: behind a symlink
    out of the folder it is `hidden`, not deleted."""
    scanned_local, scanned_remote = await asyncio.gather(
        asyncio.to_thread(scan_local, local.root, selection, warn=warn),
        scan_s3_async(session, remote, selection, warn=warn),
    )
    here = {e.key: LocalFile(e.size, ns(e.mtime)) for e in scanned_local.entries}
    there = {
        e.key: RemoteObject(e.size, clean_etag(e.etag), ns(e.mtime)) for e in scanned_remote.entries
    }
    hidden = await asyncio.to_thread(_behind_links, local, (set(state) | set(there)) - set(here))
    for key, item in list(here.items()):
        if wants_md5(state.get(key), item, there.get(key)):
            try:
                md5, _ = await asyncio.to_thread(file_digests, local.root / key, False)
            except OSError:
                continue
            here[key] = LocalFile(item.size, item.mtime_ns, md5)
    return ScannedPair(here, there, scanned_local.complete, hidden)


def _behind_links(local: LocalSide, paths: set[str]) -> dict[str, S3KitError]:
    hidden: dict[str, S3KitError] = {}
    for path in sorted(paths):
        try:
            local_target(local.root, path)
        except InvalidKey:  # no file can have that name: refused where it would be written
            continue
        except LocalPathError as exc:
            hidden[path] = exc
    return hidden


class BisyncExecutor:
    """Carries out a BiPlan between one folder and one prefix: `concurrency` paths at once,
    each file moved as `config` says (multipart threshold, part size, parts at once,
    bandwidth), events to `on_event` and each change's end to `on_action` (callbacks that
    raise are logged, never fatal)."""

    def __init__(
        self,
        session: Session,
        local: LocalSide,
        remote: S3Side,
        *,
        concurrency: int = 16,
        config: TransferConfig | None = None,
        on_event: EventCallback | None = None,
        on_action: BiActionCallback | None = None,
    ) -> None:
        self.session = session
        self.local = local
        self.remote = remote
        self.storage = session.storage(remote.bucket)
        self.concurrency = concurrency
        self.config = config or TransferConfig()
        self._emit = guarded(on_event)
        self._on_action = on_action
        self.ctx = TransferContext(session, self.config, WriteOptions())

    @contextlib.asynccontextmanager
    async def _reporting(
        self, action: Action, item: TransferItem, file: Path
    ) -> AsyncIterator[Callable[[int], None]]:
        """The events of one transfer: "queued" now, "progress" through the callback it
        yields, then "done" or "failed"."""
        self._emit(TransferEvent("queued", action, item, bytes=item.size or 0))
        moved = 0

        def progress(amount: int) -> None:
            nonlocal moved
            moved += amount
            self._emit(TransferEvent("progress", action, item, bytes=amount))

        try:
            yield progress
        except (S3KitError, OSError) as exc:
            error = exc if isinstance(exc, S3KitError) else translate(exc, path=str(file))
            self._emit(TransferEvent("failed", action, item, error))
            raise
        self._emit(TransferEvent("done", action, item, bytes=moved))

    def _file(self, path: str) -> Path:
        """The local file of `path`, to write, rename or delete (`local_target` refuses)."""
        return local_target(self.local.root, path)

    def _shown(self, path: str) -> Path:
        return self.local.root.joinpath(*path.split("/"))

    def _key(self, path: str) -> str:
        return self.remote.prefix + path

    def _announce(self, plan: BiPlan) -> None:
        """ "scanned" before anything moves: the plan is whole, so its transfers are known and
        a progress display can show a real total."""
        moves = plan.of("upload", "download", "keep-both")
        if not moves:
            return
        sizes = [(a.remote if a.kind == "download" else a.local) for a in moves]
        last = moves[-1]
        item = TransferItem(LocalPath(self.local.root / last.path), self.remote.location(last.path))
        self._emit(
            TransferEvent(
                "scanned", "download" if last.kind == "download" else "upload", item,
                bytes=sum(record.size for record in sizes if record is not None),
                files=len(moves),
            )
        )  # fmt: skip

    async def run_async(self, plan: BiPlan) -> BiResult:
        self._announce(plan)
        result = BiResult()
        early = [a for a in plan.actions if a.early]
        deletes = [a for a in plan.actions if a.kind.startswith("delete") and not a.early]
        middle = [a for a in plan.actions if a not in early and a not in deletes]
        try:
            await self._batch(early, result)
            await self._batch(middle, result)
            if result.failures and deletes:
                result.deletions_skipped = len(deletes)  # their records stay: redone next run
            else:
                await self._batch(deletes, result)
        finally:
            self.ctx.close()
        return result

    def _ended(self, action: BiAction, error: S3KitError | None) -> None:
        if self._on_action is None or action.kind in ("adopt", "forget"):
            return
        try:
            self._on_action(action, error)
        except Exception:
            logger.exception("action callback failed on %s %s", action.kind, action.path)

    async def _batch(self, actions: list[BiAction], result: BiResult) -> None:
        async def one(action: BiAction) -> None:
            try:
                records = await self._act(action, result)
            except S3KitError as exc:
                result.failures.append((action.path, exc))
                self._ended(action, exc)
                return
            except OSError as exc:
                error = translate(exc, path=str(self._shown(action.path)))
                result.failures.append((action.path, error))
                self._ended(action, error)
                return
            result.done.extend(records)
            self._ended(action, None)

        await run_bounded((one(a) for a in actions), self.concurrency)

    async def _act(self, a: BiAction, result: BiResult) -> list[tuple[str, Synced | None]]:
        if a.kind == "adopt" and a.local is not None and a.remote is not None:
            record = Synced(a.local.size, a.local.mtime_ns, a.remote.size, a.remote.etag)
            return [(a.path, record)]
        if a.kind == "forget":
            return [(a.path, None)]
        if a.kind == "conflict":
            return []  # left as is, reported by the caller; its record stays
        if a.kind == "upload" and a.local is not None:
            record = await self._put(a.path, a.path, a.local, a.if_match)
            result.uploaded += 1
            return [(a.path, record)]
        if a.kind == "download" and a.remote is not None:
            record = await self._get(a.path, a.path, a.remote, a.local)
            result.downloaded += 1
            return [(a.path, record)]
        if a.kind == "delete-remote":
            await self._delete_remote(a)
            result.deleted += 1
            return [(a.path, None)]
        if a.kind == "delete-local" and a.local is not None:
            await asyncio.to_thread(self._delete_local, a.path, a.local)
            result.deleted += 1
            return [(a.path, None)]
        if a.kind == "keep-both":
            return await self._keep_both(a, result)
        raise S3KitError(f"{a.path}: cannot carry out {a.kind}")  # pragma: no cover

    # -- primitives -------------------------------------------------------------------------

    def _check_local(self, path: str, expected: LocalFile | None) -> None:
        """The local file is still as scanned (None: still absent)."""
        try:
            info = self._file(path).stat()
        except FileNotFoundError:
            info = None
        now = None if info is None else (info.st_size, ns(info.st_mtime))
        wanted = None if expected is None else (expected.size, expected.mtime_ns)
        if now != wanted:
            raise ConflictError(
                f"{self._file(path)} changed during the sync; left as is — run the sync again"
            )

    async def _put(
        self, path: str, key_path: str, local: LocalFile, if_match: str | None
    ) -> Synced:
        """Upload local `path` to remote `key_path` only over the object with ETag `if_match`,
        or — None — only where there is none (never unconditionally)."""
        await asyncio.to_thread(self._check_local, path, local)
        file = self._file(path)
        target = S3Url(self.remote.bucket, self._key(key_path))
        item = TransferItem(LocalPath(file), target, local.size)
        async with self._reporting("upload", item, file) as progress:
            try:
                uploaded = await upload_file(
                    self.ctx, file, target, progress, size=local.size,
                    condition=Precondition(if_match),
                )  # fmt: skip
            except ConflictError as exc:
                raise ConflictError(
                    f"{target} was written by someone else during the sync; not overwritten —"
                    " the next run treats it as a conflict"
                ) from exc
        etag = uploaded.etag or (await self.storage.head_async(target.key)).etag
        return Synced(local.size, local.mtime_ns, local.size, clean_etag(etag))

    async def _get(
        self, key_path: str, path: str, remote: RemoteObject, expected: LocalFile | None
    ) -> Synced:
        """Download remote `key_path` (that very version) into a temporary file, then put it
        in place of local `path` if that is still as scanned (`expected`)."""
        target = self._file(path)
        temp = target.with_name(f"{TEMP_PREFIX}{target.name}{TEMP_SUFFIX}")
        source = S3Url(self.remote.bucket, self._key(key_path))
        item = TransferItem(source, LocalPath(target), remote.size, remote.etag)
        try:
            async with self._reporting("download", item, target) as progress:
                try:
                    # Quoted, as HTTP has it: moto refuses an unquoted If-Match on HEAD.
                    await download_version(
                        self.ctx, source, temp, progress, size=remote.size,
                        etag=f'"{remote.etag}"',
                    )  # fmt: skip
                except ConflictError as exc:
                    raise ConflictError(
                        f"{source} changed during the sync; not downloaded — the next run"
                        " looks again"
                    ) from exc
                await asyncio.to_thread(self._check_local, path, expected)
                replace_file(temp, target, mtime_ns=remote.mtime_ns)
        finally:
            temp.unlink(missing_ok=True)
        info = target.stat()
        return Synced(info.st_size, ns(info.st_mtime), remote.size, remote.etag)

    async def _delete_remote(self, a: BiAction) -> None:
        key = self._key(a.path)
        try:
            seen = await self.storage.head_async(key)
        except ObjectNotFound:
            return
        if not etags_match(seen.etag, a.if_match):
            raise ConflictError(
                f"s3://{self.remote.bucket}/{key} changed since the scan; not deleted"
            )
        await self.storage.delete_async(key)

    def _delete_local(self, path: str, expected: LocalFile) -> None:
        self._check_local(path, expected)
        file = self._file(path)
        file.unlink(missing_ok=True)
        remove_empty_folders(self.local.root, file)  # S3 has no empty folders, so none stay

    async def _keep_both(self, a: BiAction, result: BiResult) -> list[tuple[str, Synced | None]]:
        """Both copies survive on both sides: the winner under the name, the loser under
        `conflict_path`."""
        assert a.local is not None and a.remote is not None and a.conflict_path is not None
        other = a.conflict_path
        if a.winner == "local":
            loser = await self._get(a.path, other, a.remote, None)
            kept = await self._put(a.path, a.path, a.local, a.if_match)
            moved_local = LocalFile(loser.local_size, loser.local_mtime_ns)
            moved = await self._put(other, other, moved_local, None)
        else:
            await asyncio.to_thread(self._check_local, a.path, a.local)
            await asyncio.to_thread(self._file(a.path).replace, self._file(other))
            moved = await self._put(other, other, a.local, None)
            kept = await self._get(a.path, a.path, a.remote, None)
        result.uploaded += 1
        result.downloaded += 1
        return [(a.path, kept), (other, moved)]


async def bisync_async(
    session: Session,
    local: LocalSide,
    remote: S3Side,
    *,
    resync: bool = False,
    policy: ConflictPolicy = "rename",
    guard: DeleteGuard | None = None,
    dryrun: bool = False,
    selection: Selection | None = None,
    ask: Ask | None = None,
    before_execute: Callable[[BiPlan], None] | None = None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    state_folder: Path | None = None,
    concurrency: int = 16,
    warn: Warn | None = None,
    config: TransferConfig | None = None,
    on_event: EventCallback | None = None,
    on_action: BiActionCallback | None = None,
) -> BisyncOutcome:
    """One two-way sync run. `ask` answers `--conflict ask` (None: no one can answer);
    `before_execute` sees the plan just before anything is changed (tests use it to race);
    `config` says how files move (default: TransferConfig()), `on_event` hears each transfer
    and `on_action` each change once it has ended."""
    if not local.root.is_dir():
        raise UsageError(f"{local.root}: no such folder — create it or check the path")
    store = BisyncState(
        session.endpoint_label, remote.bucket, remote.prefix, local.root, folder=state_folder
    )
    if not resync and not store.exists():
        raise UsageError(RESYNC_NEEDED)
    previous = {} if resync else store.load()
    selection = selection or build_selection(source_root=local.root)
    scanned = await scan_pair_async(session, local, remote, selection, previous, warn=warn)
    here, hidden = scanned.local, scanned.hidden
    there = {path: item for path, item in scanned.remote.items() if path not in hidden}
    now = clock()
    if resync:
        plan = resync_plan(here, there)
    else:
        seen = {path: record for path, record in previous.items() if path not in hidden}
        plan = bisync_plan(seen, here, there, policy=policy, now=now)
    outcome = BisyncOutcome(plan)
    if policy == "ask" and plan.of("conflict"):
        if ask is None:
            raise UsageError(
                f"{len(plan.of('conflict'))} conflicts and no terminal to ask on; choose with"
                " --conflict newer|local|remote|rename|skip"
            )
        plan.actions = [
            resolve(a, ask(a), now) if a.kind == "conflict" else a for a in plan.actions
        ]
    check_deletes(plan, guard or DeleteGuard(), local_complete=scanned.complete)
    outcome.unresolved = plan.of("conflict")
    if dryrun:
        say = warn or (lambda message: logger.warning("%s", message))
        for error in hidden.values():  # a real run reports them as failures
            say(error.message)
        return outcome
    if before_execute is not None:
        before_execute(plan)
    executor = BisyncExecutor(
        session,
        local,
        remote,
        concurrency=concurrency,
        config=config,
        on_event=on_event,
        on_action=on_action,
    )
    outcome.result = await executor.run_async(plan)
    # Hidden paths fail the run but hold back no deletion: they are not part of the plan.
    outcome.result.failures.extend(hidden.items())
    store.save(next_state(previous, outcome.result.done), when=now.isoformat())
    return outcome


__all__ = [
    "RESYNC_NEEDED",
    "BiActionCallback",
    "BiResult",
    "BisyncExecutor",
    "BisyncOutcome",
    "ScannedPair",
    "bisync_async",
    "scan_pair_async",
]
