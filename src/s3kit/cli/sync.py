"""`s3kit sync SRC DST` and `s3kit apply PLAN`: parse, call the sync library, print.

Deletions and confirmation: on a terminal the plan is shown and confirmed before anything is
deleted (`--yes` or `--force` skip the question). Without a terminal nobody can answer, so
`--delete` goes ahead as `aws s3 sync` does — but every deletion is printed (on stderr with
--quiet/--json), and the delete guard still applies.

What a run prints is what happened, after it happened: an action's line once it is done, its
error line once it failed, nothing for one that never ran (a deletion held back because a
transfer failed), and a closing count of what was done, failed and skipped.
"""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from s3kit._aio import run_sync
from s3kit.cli.copy import (
    BwLimit,
    CopyFlags,
    Dryrun,
    Exclude,
    FileConcurrency,
    Include,
    NoProgress,
    PartSize,
    Quiet,
    Threshold,
    build_config,
    maybe_progress_bar,
    storage_class,
)
from s3kit.cli.progress import TransferProgress, progress_wanted
from s3kit.cli.state import CliState, raw_args, state_of
from s3kit.errors import S3KitError, UsageError
from s3kit.observe import redact
from s3kit.storage.local import shown_key
from s3kit.sync import (
    CompareOptions,
    DeleteGuard,
    Plan,
    PreparedSync,
    StreamingSync,
    SyncExecutor,
    SyncResult,
    changes_since_async,
    prepare_sync_async,
    streaming_sync,
)
from s3kit.sync.audit import AuditLog, PlanRecorder, chained, planned_records, withheld_records
from s3kit.sync.ignore import DEFAULT_EXCLUDES
from s3kit.sync.plan import Action
from s3kit.sync.report import (
    action_line,
    describe,
    done_line,
    failure_line,
    plan_document,
    read_plan,
    write_plan,
)
from s3kit.sync.scan import (
    LocalSide,
    S3Side,
    Selection,
    Side,
    build_selection,
    read_ignore_file_async,
    refusals,
    side_of,
)
from s3kit.sync.throughput import Run, ThroughputHistory, describe_estimate, estimate
from s3kit.transfer import TransferConfig, TransferEvent, WriteOptions
from s3kit.transfer.filters import filters_from_args
from s3kit.uri import parse_location

Yes = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask before deleting.")]
JsonOut = Annotated[
    bool, typer.Option("--json", help="Print the plan and the result as JSON on stdout.")
]
LogFile = Annotated[
    Path | None,
    typer.Option(
        "--log-file",
        help="Append one JSON line per action (what, why, result) to FILE; with --dryrun,"
        " the planned actions.",
    ),
]


def _interactive() -> bool:
    return sys.stdin.isatty() and sys.stderr.isatty()


def _say(line: str, *, quiet: bool = False, to_err: bool = False) -> None:
    if quiet:
        return
    (sys.stderr if to_err else sys.stdout).write(line + "\n")


class _Report:
    """Prints each action of a running sync once it has ended (`SyncExecutor`'s `on_action`):
    its line on stdout — a deletion's on stderr under --quiet/--json, so none goes unseen — or
    its error on stderr. While a progress bar shows, rich prints both above it. A reader that
    went away (`| head`) ends the reporting, not the sync: the closing line ends the command."""

    def __init__(self, source: Side, destination: Side, *, quiet: bool, json_out: bool) -> None:
        self._source, self._destination = source, destination
        self._quiet, self._json = quiet, json_out
        self._reader_gone = False

    def __call__(self, action: Action, error: S3KitError | None) -> None:
        if self._reader_gone:
            return
        try:
            if error is not None:
                side = self._destination if action.kind == "delete" else self._source
                where = str(side.location(action.key))
                sys.stderr.write(failure_line(action, where, error.message) + "\n")
            elif action.kind == "delete":
                _say(action_line(action, would=False), to_err=self._quiet or self._json)
            else:
                _say(action_line(action, would=False), quiet=self._quiet or self._json)
        except BrokenPipeError:
            self._reader_gone = True


def _confirm_deletions(plan: Plan, *, yes: bool, force: bool) -> None:
    """Show the plan and ask on a terminal. Elsewhere nobody can answer: each deletion is
    printed once it is done (`_Report`), never beforehand."""
    deletions = plan.deletions
    if deletions and _interactive() and not (yes or force):
        for line in describe(plan):
            sys.stderr.write(line + "\n")
        if not typer.confirm(f"Delete {len(deletions)} entries?", err=True):
            sys.stderr.write("s3kit: nothing done\n")
            raise typer.Exit(1)


def _bar_on_demand(stack: contextlib.ExitStack, enabled: bool) -> Callable[[TransferEvent], None]:
    """Events for a progress bar that appears with the first queued transfer: a streamed sync
    cannot know upfront whether anything will move, and a run that moves nothing shows no bar.
    Its totals grow as transfers are queued."""
    bar: TransferProgress | None = None
    waiting = enabled

    def on_event(event: TransferEvent) -> None:
        nonlocal bar, waiting
        if waiting and event.kind == "queued":
            waiting = False
            bar = stack.enter_context(maybe_progress_bar(True))
        if bar is not None:
            bar(event)

    return on_event


def _execute(
    ctx: typer.Context,
    plan: Plan,
    source: Side,
    destination: Side,
    *,
    config: TransferConfig,
    quiet: bool,
    json_out: bool,
    progress: bool,
    options: WriteOptions | None = None,
    log_file: Path | None = None,
    streamed: StreamingSync | None = None,
) -> SyncResult:
    """Carry out `plan`, or with `streamed`, decide and carry out at once (`plan` being the
    one `streamed` fills)."""
    state = state_of(ctx)
    show_bar = progress and not quiet and not json_out and progress_wanted(disabled=False)
    with contextlib.ExitStack() as stack:
        recorder = None
        if log_file is not None:
            log = stack.enter_context(AuditLog(log_file))
            log.write_all(withheld_records(plan, destination))
            recorder = PlanRecorder(plan, source, destination, log.write)
        executor = SyncExecutor(
            state.session,
            config=config,
            options=options,
            on_event=chained(_bar_on_demand(stack, show_bar), recorder),
            on_action=_Report(source, destination, quiet=quiet, json_out=json_out),
        )
        result = (
            run_sync(streamed.run_async(executor))
            if streamed is not None
            else executor.run(plan, source, destination)
        )
        if recorder is not None:
            recorder.finish(result.deletions_skipped)
    if result.transferred and not result.failures:
        ThroughputHistory().record(
            _history_key(state),
            plan.direction,
            Run(result.transferred, result.bytes, result.transfer_seconds),
        )
    return result


def _finish(plan: Plan, result: SyncResult, *, quiet: bool, json_out: bool) -> None:
    """The closing count (each action's line was printed as it ended) or the JSON result."""
    ended = result.transferred + result.deleted + len(result.failures)
    # Never carried out: deletions held back after a failure, folders found not empty any
    # more; and the deletions the plan withheld ("not deleting ..." above).
    skipped = max(0, len(plan.actions) - ended) + len(plan.withheld)
    if json_out:
        sys.stdout.write(
            json.dumps(
                {
                    "transferred": result.transferred,
                    "bytes": result.bytes,
                    "deleted": result.deleted,
                    "seconds": round(result.seconds, 3),
                    "failures": [
                        {"path": path, "error": error.message} for path, error in result.failures
                    ],
                    "deletions_skipped": result.deletions_skipped,
                }
            )
            + "\n"
        )
    elif not quiet:
        _say(
            done_line(
                transferred=result.transferred,
                deleted=result.deleted,
                failed=len(result.failures),
                skipped=skipped,
                seconds=result.seconds,
            )
        )
    if result.deletions_skipped:
        sys.stderr.write(f"s3kit: warning: {result.deletions_skipped}\n")
    if result.failures:
        raise S3KitError(
            f"{len(result.failures)} of {len(plan.actions)} actions failed (see the errors above)"
        )


def sync(
    ctx: typer.Context,
    source: Annotated[
        str | None, typer.Argument(help="Local folder or s3://bucket/prefix.")
    ] = None,
    destination: Annotated[
        str | None, typer.Argument(help="Local folder or s3://bucket/prefix.")
    ] = None,
    delete: Annotated[
        bool | None,
        typer.Option(
            "--delete/--no-delete",
            help="Delete destination entries absent from the source (default: s3kit.yaml's"
            " sync.delete_removed, else no).",
            show_default=False,
        ),
    ] = None,
    size_only: Annotated[
        bool | None,
        typer.Option(
            "--size-only/--no-size-only",
            help="Compare sizes only, not timestamps.",
            show_default=False,
        ),
    ] = None,
    exact_timestamps: Annotated[
        bool | None,
        typer.Option(
            "--exact-timestamps/--no-exact-timestamps",
            help="S3→local: download when timestamps differ at all, not only when newer.",
            show_default=False,
        ),
    ] = None,
    checksum: Annotated[
        bool,
        typer.Option(
            "--checksum",
            help="Compare content (MD5 against single-part ETags, or s3kit's stored CRC64NVME)"
            " instead of timestamps; reads every same-size local file.",
        ),
    ] = False,
    include: Include = None,
    exclude: Exclude = None,
    exclude_from: Annotated[
        list[Path] | None,
        typer.Option("--exclude-from", help="File of .gitignore-style patterns (repeatable)."),
    ] = None,
    no_default_excludes: Annotated[
        bool,
        typer.Option(
            "--no-default-excludes",
            help=f"Also sync what is skipped by default: {' '.join(DEFAULT_EXCLUDES)}.",
        ),
    ] = False,
    follow_symlinks: Annotated[
        bool | None,
        typer.Option(
            "--follow-symlinks/--no-follow-symlinks",
            help="Follow symlinks inside the source (loops are skipped).",
            show_default=False,
        ),
    ] = None,
    dir_markers: Annotated[
        bool,
        typer.Option(
            "--dir-markers",
            help="Keep empty folders: each becomes a folder marker (an empty object ending in"
            " '/') and back; with --delete, markers of folders the source lacks are removed.",
        ),
    ] = False,
    max_delete: Annotated[
        int | None, typer.Option("--max-delete", min=0, help="Refuse to delete more than N.")
    ] = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force", help="Allow deleting more than half of the destination; do not ask."
        ),
    ] = False,
    dryrun: Dryrun = False,
    plan_out: Annotated[
        Path | None,
        typer.Option(
            "--plan-out", help="Write the plan as JSON and change nothing; see `s3kit apply`."
        ),
    ] = None,
    yes: Yes = False,
    quiet: Quiet = False,
    json_out: JsonOut = False,
    concurrency: FileConcurrency = None,
    no_progress: NoProgress = False,
    verify: Annotated[
        bool | None,
        typer.Option(
            "--verify/--no-verify",
            help="Check every transfer end to end (ETag/MD5 and CRC64NVME); on by default"
            " (s3kit.yaml: sync.verify_checksums).",
            show_default=False,
        ),
    ] = None,
    bidirectional: Annotated[
        bool,
        typer.Option(
            "--bidirectional",
            help="Two-way sync between a local folder (SOURCE) and an S3 prefix: edits and"
            " deletes on either side propagate.",
        ),
    ] = False,
    resync: Annotated[
        bool,
        typer.Option(
            "--resync",
            help="With --bidirectional: start over — copy what is missing each way, newer"
            " wins where both have a path, delete nothing.",
        ),
    ] = False,
    log_file: LogFile = None,
    part_size: PartSize = None,
    threshold: Threshold = None,
    bwlimit: BwLimit = None,
    conflict: Annotated[
        str,
        typer.Option(
            "--conflict",
            help="With --bidirectional, a path changed on both sides: newer, local, remote,"
            " rename (keep both), skip or ask.",
        ),
    ] = "rename",
) -> None:
    """Make DESTINATION match SOURCE: local→S3, S3→local or S3→S3 (server-side copies).

    Transfers what is new, of another size, or newer at the source (as aws s3 sync does).
    .s3kitignore at the source root (gitignore syntax) is honoured.
    Examples: s3kit sync ./site s3://www/ --delete ; s3kit sync s3://docs/2026 ./2026 --dryrun
    """
    del include, exclude  # read in command-line order from the raw arguments
    if source is None or destination is None:  # none at all, on a terminal: ask (issue 5)
        from s3kit.cli.sync_interactive import run_interactive

        run_interactive(ctx, source=source, destination=destination)
        return
    state = state_of(ctx)
    src, dst = parse_location(source), parse_location(destination)
    src_side = side_of(src)
    defaults = state.config.sync
    config = build_config(
        CopyFlags(concurrency=concurrency, part_size=part_size, threshold=threshold,
                  bwlimit=bwlimit, verify=_setting(verify, defaults.verify_checksums, True)),
        state.config.transfer_overrides(),
    )  # fmt: skip
    selection = _selection(state, src_side, exclude_from, no_default_excludes=no_default_excludes)
    if bidirectional or resync:
        from s3kit.cli.bisync import run_bisync

        one_way_only = {
            "--delete": delete,
            "--checksum": checksum,
            "--size-only": size_only,
            "--exact-timestamps": exact_timestamps,
            "--plan-out": plan_out,
            "--dir-markers": dir_markers,
        }
        given = [flag for flag, value in one_way_only.items() if value]
        if given:
            raise UsageError(f"{', '.join(given)} cannot be used with --bidirectional")

        run_bisync(
            state.session, src_side, side_of(dst), resync=resync, conflict=conflict,
            selection=selection, force=force, max_delete=max_delete, dryrun=dryrun, quiet=quiet,
            json_out=json_out, concurrency=config.max_concurrent_files,
            bidirectional=bidirectional, log_file=log_file, config=config,
            progress=not no_progress,
        )  # fmt: skip
        return
    options = CompareOptions(
        size_only=_setting(size_only, defaults.size_only, False),
        exact_timestamps=_setting(exact_timestamps, defaults.exact_timestamps, False),
        checksum=checksum,
        delete=_setting(delete, defaults.delete_removed, False),
    )

    def warn(message: str) -> None:
        sys.stderr.write(f"s3kit: warning: {message}\n")

    follow = _setting(follow_symlinks, defaults.follow_symlinks, False)
    if _can_stream(options, dryrun=dryrun, plan_out=plan_out, dir_markers=dir_markers):
        streamed = streaming_sync(
            state.session, src, dst, options=options, selection=selection,
            follow_symlinks=follow, warn=warn,
        )  # fmt: skip
        result = _execute(
            ctx, streamed.plan, streamed.source, streamed.destination,
            config=config, options=_write_options(state), quiet=quiet, json_out=json_out,
            progress=not no_progress, log_file=log_file, streamed=streamed,
        )  # fmt: skip
        _finish(streamed.plan, result, quiet=quiet, json_out=json_out)
        return
    prepared = run_sync(
        prepare_sync_async(
            state.session,
            src,
            dst,
            options=options,
            selection=selection,
            follow_symlinks=follow,
            warn=warn,
            dir_markers=dir_markers,
        )
    )
    plan = prepared.plan
    guard = DeleteGuard(max_delete=max_delete, force=force)
    if dryrun or plan_out is not None:
        seconds = _estimate(state, plan)
        document = _document(prepared, options, seconds)
        _show_plan(prepared, document, seconds, log_file=log_file, quiet=quiet, json_out=json_out)
        guard.check(plan, source_complete=prepared.complete)
        if plan_out is not None:
            write_plan(plan_out, document)
            _say(f"Plan written to {plan_out}; carry it out with: s3kit apply {plan_out}",
                 quiet=quiet or json_out)  # fmt: skip
        return
    for key, reason in plan.withheld:
        warn(f"not deleting {key}: {reason}")
    guard.check(plan, source_complete=prepared.complete)
    _confirm_deletions(plan, yes=yes, force=force)
    result = _execute(
        ctx, plan, prepared.source, prepared.destination,
        config=config, options=_write_options(state), quiet=quiet, json_out=json_out,
        progress=not no_progress, log_file=log_file,
    )  # fmt: skip
    _finish(plan, result, quiet=quiet, json_out=json_out)


def _document(
    prepared: PreparedSync, options: CompareOptions, seconds: float | None
) -> dict[str, Any]:
    """The plan as JSON, with the time estimate (None when nothing was measured yet)."""
    plan = prepared.plan
    document = plan_document(plan, str(prepared.source), str(prepared.destination), options)
    document["estimated_seconds"] = None if seconds is None else round(seconds, 1)
    document["refused"] = [
        {"key": key, "reason": reason} for key, reason in refusals(plan, prepared.destination)
    ]
    return document


def _show_plan(
    prepared: PreparedSync,
    document: dict[str, Any],
    seconds: float | None,
    *,
    log_file: Path | None,
    quiet: bool,
    json_out: bool,
) -> None:
    """What --dryrun / --plan-out print (and log): the plan, its total and time estimate."""
    plan = prepared.plan
    if log_file is not None:
        with AuditLog(log_file) as log:
            log.write_all(planned_records(plan, prepared.source, prepared.destination))
    if json_out:
        sys.stdout.write(json.dumps(document) + "\n")
    elif not quiet:
        for line in describe(plan):
            _say(line)
        for refused in document["refused"]:
            _say(f"Would skip {shown_key(refused['key'])}: {refused['reason']}")
        if (words := describe_estimate(seconds)) is not None:
            _say(f"Estimated time: {words} (from earlier syncs with this endpoint)")


def _can_stream(
    options: CompareOptions, *, dryrun: bool, plan_out: Path | None, dir_markers: bool
) -> bool:
    """Whether the run can transfer while it scans (`streaming_sync`): only when nothing needs
    the whole plan first. Deletions do (the delete guard and the confirmation weigh the whole
    picture), so do folder markers (whether one is wanted depends on what sorts after it), a
    dry run and a plan file."""
    return not (dryrun or plan_out is not None or options.delete or dir_markers)


def _setting(flag: bool | None, configured: bool | None, default: bool) -> bool:
    """A flag as typed, else the config file's value, else the built-in default."""
    if flag is not None:
        return flag
    return default if configured is None else configured


def _selection(
    state: CliState, source: Side, exclude_from: list[Path] | None, *, no_default_excludes: bool
) -> Selection:
    """The rules of one run: defaults, s3kit.yaml's exclusions, the source's .s3kitignore (a
    file in a folder, an object under a prefix), --exclude-from, then --include/--exclude."""
    ignore_text = (
        run_sync(read_ignore_file_async(state.session, source))
        if isinstance(source, S3Side)
        else None
    )
    return build_selection(
        filters=filters_from_args(raw_args()),
        default_excludes=not no_default_excludes,
        exclusions=state.config.exclusions,
        exclude_from=tuple(exclude_from or ()),
        source_root=source.root if isinstance(source, LocalSide) else None,
        source_ignore=ignore_text,
    )


def _write_options(state: CliState) -> WriteOptions:
    return WriteOptions(storage_class=storage_class(state.config.storage.default_storage_class))


def _history_key(state: CliState) -> str:
    """The endpoint the throughput history is kept under, in a file: never with credentials
    written into its URL."""
    return redact(state.session.endpoint_label)


def _estimate(state: CliState, plan: Plan) -> float | None:
    runs = ThroughputHistory().runs(_history_key(state), plan.direction)
    return estimate(runs, len(plan.transfers), plan.bytes)


def apply(
    ctx: typer.Context,
    plan_file: Annotated[Path, typer.Argument(help="A plan written by sync --plan-out.")],
    yes: Yes = False,
    quiet: Quiet = False,
    json_out: JsonOut = False,
    concurrency: FileConcurrency = None,
    no_progress: NoProgress = False,
) -> None:
    """Carry out exactly the plan in PLAN_FILE; refuse if a source entry changed since.

    Example: s3kit sync ./site s3://www/ --delete --plan-out plan.json && s3kit apply plan.json
    """
    state = state_of(ctx)
    plan, source_text, destination_text = read_plan(plan_file)
    source = side_of(parse_location(source_text))
    destination = side_of(parse_location(destination_text))
    problems = run_sync(changes_since_async(state.session, plan, source, destination))
    if problems:
        shown = "; ".join(problems[:5]) + (
            f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        )
        raise S3KitError(
            f"not applying {plan_file}: {shown} since the plan was made — nothing was done;"
            " run sync --plan-out again"
        )
    _confirm_deletions(plan, yes=yes, force=False)
    config = build_config(CopyFlags(concurrency=concurrency), state.config.transfer_overrides())
    result = _execute(
        ctx, plan, source, destination,
        config=config, options=_write_options(state), quiet=quiet, json_out=json_out,
        progress=not no_progress,
    )  # fmt: skip
    _finish(plan, result, quiet=quiet, json_out=json_out)


def register(app: Any) -> None:
    app.command("sync")(sync)
    app.command("apply")(apply)
