"""The library's one-way sync: `s3kit.sync(source, destination, ...)` and `sync_async` do
exactly what `s3kit sync` does, and the CLI command is a thin client of them.

What a run does, in order: the settings of s3kit.yaml fill what the caller left unset
(`delete_removed`, `verify_checksums`, `follow_symlinks`, `size_only`, `exact_timestamps`,
`exclusions`, the performance section, the default storage class); the selection is built
(default excludes, the config's exclusions, `.s3kitignore` at the source, exclude files, then
the include/exclude rules in order); then either

- **streamed** — transfers start while the source is still being scanned — when nothing needs
  the whole plan first, or
- **planned** — both sides scanned, the whole plan made and shown to `on_plan`; a dry run or a
  plan file stops there (the plan written as JSON); otherwise the delete guard weighs the plan
  (`DeleteRefused`), `confirm` is asked before anything is deleted, and the plan is carried out.

The audit log (`log_file`) gets one line per action, and a successful run's throughput goes into
the history the time estimates of later dry runs come from. Failures of single actions do not
raise: they are in the outcome's `result.failures`, as each one ended (`on_action`).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from s3kit._aio import blocking_twin
from s3kit._config.file import S3KitConfig, find_config_file, load_config
from s3kit._observe import redact
from s3kit._session import Session
from s3kit._sync import bisync_run
from s3kit._sync.audit import (
    AuditLog,
    PlanRecorder,
    bisync_records,
    chained,
    planned_records,
    withheld_records,
)
from s3kit._sync.bisync import CONFLICT_POLICIES, BiPlan
from s3kit._sync.bisync_run import Ask, BiActionCallback, BisyncOutcome
from s3kit._sync.execute import ActionCallback, SyncExecutor, SyncResult
from s3kit._sync.oneway import PreparedSync, prepare_sync_async, streaming_sync
from s3kit._sync.plan import CompareOptions, DeleteGuard, Plan
from s3kit._sync.report import plan_document, write_plan
from s3kit._sync.scan import (
    LocalSide,
    S3Side,
    Selection,
    Side,
    Warn,
    build_selection,
    read_ignore_file_async,
    refusals,
    side_of,
)
from s3kit._sync.throughput import Run, ThroughputHistory, estimate
from s3kit._uri import LocalPath, Location, parse_location
from s3kit.errors import UsageError
from s3kit.transfer import EventCallback, TransferConfig, WriteOptions
from s3kit.transfer.filters import Filters, Rule

PlaceLike = str | os.PathLike[str] | Location


Confirm = Callable[[Plan], bool]


@dataclass(slots=True)
class SyncOutcome:
    """What a sync planned and did. `result` is None when nothing was carried out: a dry run,
    a plan file, or deletions the `confirm` callback declined (`cancelled`)."""

    plan: Plan
    source: Side
    destination: Side
    options: CompareOptions
    complete: bool  # both sides were read completely (only then may anything be deleted)
    result: SyncResult | None = None
    cancelled: bool = False
    # For a planned run: how long it should take, from earlier syncs with this endpoint
    # (None until something was measured), and the actions the run would refuse (key, why).
    estimated_seconds: float | None = None
    refused: list[tuple[str, str]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Nothing failed (a dry run, or a run with every action done)."""
        return not self.cancelled and (self.result is None or self.result.ok)

    @property
    def skipped(self) -> int:
        """Actions never carried out — deletions held back after a failure, folders found not
        empty any more — plus the deletions the plan withheld."""
        withheld = len(self.plan.withheld)
        if self.result is None:
            return withheld
        result = self.result
        ended = result.transferred + result.deleted + len(result.failures)
        return max(0, len(self.plan.actions) - ended) + withheld

    def document(self) -> dict[str, Any]:
        """The plan as JSON (what `--plan-out` writes and `--dryrun --json` prints)."""
        document = plan_document(self.plan, str(self.source), str(self.destination), self.options)
        seconds = self.estimated_seconds
        document["estimated_seconds"] = None if seconds is None else round(seconds, 1)
        document["refused"] = [{"key": key, "reason": why} for key, why in self.refused]
        return document


def _location(place: PlaceLike) -> Location:
    if isinstance(place, str):
        return parse_location(place)
    if isinstance(place, os.PathLike):
        return LocalPath(Path(place).expanduser(), as_folder=True)
    return place


def _setting(value: bool | None, configured: bool | None, default: bool) -> bool:
    """A value the caller gave, else the config file's, else the built-in default."""
    if value is not None:
        return value
    return default if configured is None else configured


def file_settings() -> S3KitConfig:
    """The s3kit.yaml the CLI would use here (S3KIT_CONFIG, ./s3kit.yaml, then the user config
    folder's), or the defaults when there is none."""
    path = find_config_file()
    return S3KitConfig() if path is None else load_config(path)


def endpoint_key(session: Session) -> str:
    """The endpoint the throughput history is kept under, in a file: never with credentials
    written into its URL."""
    return redact(session.endpoint_label)


def _filters(rules: Filters | Sequence[Rule] | None) -> Filters:
    if rules is None:
        return Filters()
    return rules if isinstance(rules, Filters) else Filters(tuple(rules))


@dataclass(frozen=True, slots=True, kw_only=True)
class _Execution:
    """How actions are carried out, whoever decided them."""

    session: Session
    transfer: TransferConfig
    write: WriteOptions
    log_file: Path | None
    record_history: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class _Run:
    """One resolved request: every default filled, ready to run."""

    execution: _Execution
    source: Location
    destination: Location
    compare: CompareOptions
    follow_symlinks: bool
    dir_markers: bool
    guard: DeleteGuard
    dryrun: bool
    plan_out: Path | None

    @property
    def session(self) -> Session:
        return self.execution.session

    @property
    def streams(self) -> bool:
        """Whether the run can transfer while it scans: only when nothing needs the whole
        plan first. Deletions do (the delete guard and the confirmation weigh the whole
        picture), so do folder markers (whether one is wanted depends on what sorts after it),
        a dry run and a plan file."""
        return not (
            self.dryrun or self.plan_out is not None or self.compare.delete or self.dir_markers
        )


async def sync_async(
    source: PlaceLike,
    destination: PlaceLike,
    *,
    session: Session | None = None,
    delete: bool | None = None,
    size_only: bool | None = None,
    exact_timestamps: bool | None = None,
    checksum: bool = False,
    filters: Filters | Sequence[Rule] | None = None,
    exclude_from: Sequence[str | os.PathLike[str]] = (),
    default_excludes: bool = True,
    follow_symlinks: bool | None = None,
    dir_markers: bool = False,
    max_delete: int | None = None,
    force: bool = False,
    dryrun: bool = False,
    plan_out: str | os.PathLike[str] | None = None,
    verify: bool | None = None,
    transfer: TransferConfig | None = None,
    write: WriteOptions | None = None,
    log_file: str | os.PathLike[str] | None = None,
    confirm: Confirm | None = None,
    on_plan: Callable[[SyncOutcome], None] | None = None,
    on_action: ActionCallback | None = None,
    on_event: EventCallback | None = None,
    warn: Warn | None = None,
    settings: S3KitConfig | None = None,
    record_history: bool = True,
) -> SyncOutcome:
    """Make `destination` match `source` (a local folder or an s3:// prefix on either side;
    S3→S3 copies server-side), as `s3kit sync` does.

    Transfers what is new, of another size, or newer at the source; with `delete`, removes
    what the source lacks — never more than the delete guard allows (`max_delete`; more than
    half of a destination of 20 entries or more only with `force`; nothing when the source is
    empty or could not be read completely), and only after `confirm(plan)` says yes when it is
    given. `filters`: ("include"|"exclude", pattern) rules, the last match deciding, as
    `--include`/`--exclude`. `settings`: the s3kit.yaml to take defaults from (by default the
    one the CLI would find; `S3KitConfig()` for none). `transfer`: how transfers run (by
    default the settings' performance section); `verify` checks every transfer end to end (None:
    s3kit.yaml's `sync.verify_checksums`, else what `transfer` says — on unless turned off).
    `write` says what uploads set (by default the settings' storage class).
    """
    session = session or Session()
    settings = file_settings() if settings is None else settings
    defaults = settings.sync
    transfer = transfer_config(settings, transfer, verify)
    if write is None:
        write = default_write_options(settings)
    run = _Run(
        execution=_Execution(
            session=session,
            transfer=transfer,
            write=write,
            log_file=None if log_file is None else Path(log_file),
            record_history=record_history,
        ),
        source=_location(source),
        destination=_location(destination),
        compare=CompareOptions(
            size_only=_setting(size_only, defaults.size_only, False),
            exact_timestamps=_setting(exact_timestamps, defaults.exact_timestamps, False),
            checksum=checksum,
            delete=_setting(delete, defaults.delete_removed, False),
        ),
        follow_symlinks=_setting(follow_symlinks, defaults.follow_symlinks, False),
        dir_markers=dir_markers,
        guard=DeleteGuard(max_delete=max_delete, force=force),
        dryrun=dryrun,
        plan_out=None if plan_out is None else Path(plan_out),
    )
    selection = await selection_async(
        session,
        side_of(run.source),
        settings,
        _filters(filters),
        tuple(Path(path) for path in exclude_from),
        default_excludes=default_excludes,
    )
    if run.streams:
        return await _streamed(run, selection, on_action=on_action, on_event=on_event, warn=warn)
    return await _planned(
        run, selection, confirm=confirm, on_plan=on_plan, on_action=on_action,
        on_event=on_event, warn=warn, ask=not force,
    )  # fmt: skip


sync = blocking_twin(sync_async, "sync")


def transfer_config(
    settings: S3KitConfig, transfer: TransferConfig | None, verify: bool | None
) -> TransferConfig:
    """How a sync's transfers run: `transfer`, else the settings' performance section; with
    `verify`, else the settings' `sync.verify_checksums`, deciding the end-to-end checks."""
    if transfer is None:
        configured: dict[str, Any] = settings.transfer_overrides()
        transfer = TransferConfig(**configured)
    checks = settings.sync.verify_checksums if verify is None else verify
    return transfer if checks is None else replace(transfer, verify=checks)


def default_write_options(settings: S3KitConfig) -> WriteOptions:
    """What uploads set when the caller says nothing: the settings' default storage class."""
    return WriteOptions(storage_class=settings.storage.default_storage_class)


async def selection_async(
    session: Session,
    source: Side,
    settings: S3KitConfig,
    filters: Filters,
    exclude_from: tuple[Path, ...],
    *,
    default_excludes: bool,
) -> Selection:
    """The rules of one run: defaults, s3kit.yaml's exclusions, the source's .s3kitignore (a
    file in a folder, an object under a prefix), exclude files, then the include/exclude
    rules."""
    ignore_text = (
        await read_ignore_file_async(session, source) if isinstance(source, S3Side) else None
    )
    return build_selection(
        filters=filters,
        default_excludes=default_excludes,
        exclusions=settings.exclusions,
        exclude_from=exclude_from,
        source_root=source.root if isinstance(source, LocalSide) else None,
        source_ignore=ignore_text,
    )


async def _streamed(
    run: _Run,
    selection: Selection,
    *,
    on_action: ActionCallback | None,
    on_event: EventCallback | None,
    warn: Warn | None,
) -> SyncOutcome:
    streamed = streaming_sync(
        run.session, run.source, run.destination, options=run.compare, selection=selection,
        follow_symlinks=run.follow_symlinks, warn=warn,
        read_encryption=run.execution.write.read_encryption,
    )  # fmt: skip
    outcome = SyncOutcome(
        streamed.plan, streamed.source, streamed.destination, run.compare, complete=False
    )
    outcome.result = await _carry_out(
        run.execution, outcome, on_action, on_event, streamed.run_async
    )
    outcome.complete = streamed.complete
    return outcome


async def _planned(
    run: _Run,
    selection: Selection,
    *,
    confirm: Confirm | None,
    on_plan: Callable[[SyncOutcome], None] | None,
    on_action: ActionCallback | None,
    on_event: EventCallback | None,
    warn: Warn | None,
    ask: bool,
) -> SyncOutcome:
    prepared: PreparedSync = await prepare_sync_async(
        run.session, run.source, run.destination, options=run.compare, selection=selection,
        follow_symlinks=run.follow_symlinks, warn=warn, dir_markers=run.dir_markers,
        read_encryption=run.execution.write.read_encryption,
    )  # fmt: skip
    plan = prepared.plan
    outcome = SyncOutcome(
        plan, prepared.source, prepared.destination, run.compare, prepared.complete
    )
    if run.dryrun or run.plan_out is not None:
        history = ThroughputHistory().runs(endpoint_key(run.session), plan.direction)
        outcome.estimated_seconds = estimate(history, len(plan.transfers), plan.bytes)
        outcome.refused = refusals(plan, prepared.destination)
        if run.execution.log_file is not None:
            with AuditLog(run.execution.log_file) as log:
                log.write_all(planned_records(plan, prepared.source, prepared.destination))
        if on_plan is not None:
            on_plan(outcome)
        run.guard.check(plan, source_complete=prepared.complete)
        if run.plan_out is not None:
            write_plan(run.plan_out, outcome.document())
        return outcome
    if warn is not None:
        for key, reason in plan.withheld:
            warn(f"not deleting {key}: {reason}")
    run.guard.check(plan, source_complete=prepared.complete)
    if on_plan is not None:
        on_plan(outcome)
    if plan.deletions and ask and confirm is not None and not confirm(plan):
        outcome.cancelled = True
        return outcome

    async def whole_plan(executor: SyncExecutor) -> SyncResult:
        return await executor.run_async(plan, prepared.source, prepared.destination)

    outcome.result = await _carry_out(run.execution, outcome, on_action, on_event, whole_plan)
    return outcome


async def carry_out_plan_async(
    session: Session,
    plan: Plan,
    source: Side,
    destination: Side,
    *,
    transfer: TransferConfig | None = None,
    write: WriteOptions | None = None,
    log_file: str | os.PathLike[str] | None = None,
    on_action: ActionCallback | None = None,
    on_event: EventCallback | None = None,
    record_history: bool = True,
) -> SyncResult:
    """Carry out a plan made earlier (`s3kit apply`): check first with `changes_since_async`
    that its source did not change since."""
    execution = _Execution(
        session=session,
        transfer=transfer or TransferConfig(),
        write=write or WriteOptions(),
        log_file=None if log_file is None else Path(log_file),
        record_history=record_history,
    )
    outcome = SyncOutcome(plan, source, destination, CompareOptions(), complete=True)

    async def whole_plan(executor: SyncExecutor) -> SyncResult:
        return await executor.run_async(plan, source, destination)

    return await _carry_out(execution, outcome, on_action, on_event, whole_plan)


async def _carry_out(
    run: _Execution,
    outcome: SyncOutcome,
    on_action: ActionCallback | None,
    on_event: EventCallback | None,
    body: Callable[[SyncExecutor], Any],
) -> SyncResult:
    """Run `body` with an executor wired to the audit log, then keep the throughput."""
    plan = outcome.plan
    with contextlib.ExitStack() as stack:
        recorder = None
        if run.log_file is not None:
            log = stack.enter_context(AuditLog(run.log_file))
            log.write_all(withheld_records(plan, outcome.destination))
            recorder = PlanRecorder(plan, outcome.source, outcome.destination, log.write)
        executor = SyncExecutor(
            run.session,
            config=run.transfer,
            options=run.write,
            on_event=chained(on_event, recorder),
            on_action=on_action,
        )
        result: SyncResult = await body(executor)
        if recorder is not None:
            recorder.finish(result.deletions_skipped)
    if run.record_history and result.transferred and not result.failures:
        ThroughputHistory().record(
            endpoint_key(run.session),
            plan.direction,
            Run(result.transferred, result.bytes, result.transfer_seconds),
        )
    return result


# -- two-way ---------------------------------------------------------------------------------


async def bisync_async(
    local: PlaceLike,
    remote: PlaceLike,
    *,
    session: Session | None = None,
    resync: bool = False,
    conflict: str = "rename",
    filters: Filters | Sequence[Rule] | None = None,
    exclude_from: Sequence[str | os.PathLike[str]] = (),
    default_excludes: bool = True,
    max_delete: int | None = None,
    force: bool = False,
    dryrun: bool = False,
    verify: bool | None = None,
    transfer: TransferConfig | None = None,
    log_file: str | os.PathLike[str] | None = None,
    ask: Ask | None = None,
    before_execute: Callable[[BiPlan], None] | None = None,
    on_action: BiActionCallback | None = None,
    on_event: EventCallback | None = None,
    warn: Warn | None = None,
    settings: S3KitConfig | None = None,
) -> BisyncOutcome:
    """Two-way sync of a local folder and an S3 prefix, as `s3kit sync --bidirectional`
    does: edits and deletions on either side propagate, from the state the previous run saved
    (`resync=True` starts over: copy what is missing each way, newer wins, delete nothing).
    `conflict`: a path changed on both sides — newer, local, remote, rename (keep both), skip,
    or ask (then `ask(action)` decides; without it such a run refuses). The delete guard,
    s3kit.yaml's defaults and the selection rules are those of `sync`; `log_file` gets one
    line per change."""
    session = session or Session()
    settings = file_settings() if settings is None else settings
    local_side, remote_side = side_of(_location(local)), side_of(_location(remote))
    if not isinstance(local_side, LocalSide) or not isinstance(remote_side, S3Side):
        raise UsageError("--bidirectional syncs a local folder with an S3 prefix: LOCAL s3://...")
    if conflict not in CONFLICT_POLICIES:
        raise UsageError(f"--conflict must be one of {', '.join(CONFLICT_POLICIES)}")
    transfer = transfer_config(settings, transfer, verify)
    selection = await selection_async(
        session, local_side, settings, _filters(filters),
        tuple(Path(path) for path in exclude_from), default_excludes=default_excludes,
    )  # fmt: skip
    outcome = await bisync_run.bisync_async(
        session, local_side, remote_side, resync=resync, policy=conflict,
        guard=DeleteGuard(max_delete=max_delete, force=force), dryrun=dryrun,
        selection=selection, ask=ask, before_execute=before_execute,
        concurrency=transfer.max_concurrent_files, warn=warn, config=transfer,
        on_event=on_event, on_action=on_action,
    )  # fmt: skip
    if log_file is not None:
        with AuditLog(Path(log_file)) as log:
            log.write_all(bisync_records(outcome, local_side, remote_side))
    return outcome


bisync = blocking_twin(bisync_async, "bisync")
