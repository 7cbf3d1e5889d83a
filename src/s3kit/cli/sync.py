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
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer

from s3kit._aio import run_sync
from s3kit._sync.execute import SyncResult, check_plan_async
from s3kit._sync.ignore import DEFAULT_EXCLUDES
from s3kit._sync.plan import Action, CompareOptions, Plan
from s3kit._sync.report import action_line, describe, done_line, failure_line, read_plan
from s3kit._sync.run import (
    SyncOutcome,
    carry_out_plan_async,
    default_write_options,
    sync_async,
)
from s3kit._sync.scan import Side, side_of
from s3kit._sync.throughput import describe_estimate
from s3kit.cli import output
from s3kit.cli.completion import complete_location
from s3kit.cli.cp_mv import (
    Acl,
    BwLimit,
    CacheControl,
    ContentEncoding,
    ContentType,
    CopyFlags,
    Dryrun,
    Exclude,
    FileConcurrency,
    Include,
    Metadata,
    NoProgress,
    PartSize,
    Quiet,
    Sse,
    SseCKey,
    SseKms,
    StorageClass,
    Threshold,
    build_config,
    maybe_progress_bar,
    write_options,
)
from s3kit.cli.progress import TransferProgress, notice, progress_wanted
from s3kit.cli.state import CliState, cli_location, raw_args, state_of
from s3kit.errors import S3KitError, UsageError
from s3kit.storage.local import shown_key
from s3kit.transfer import TransferEvent, WriteOptions
from s3kit.transfer.filters import filters_from_args

Yes = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask before deleting.")]
JsonOut = Annotated[
    bool, typer.Option("--json", help="Print the plan and the result as JSON on stdout.")
]
LogFile = Annotated[
    Path | None,
    typer.Option(
        "--log-file",
        metavar="FILE",
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


def _ask_deletions(plan: Plan) -> bool:
    """Show the plan and ask before deleting (on a terminal, without --yes or --force)."""
    for line in describe(plan):
        sys.stderr.write(line + "\n")
    return typer.confirm(f"Delete {len(plan.deletions)} entries?", err=True)


def _confirmation(*, yes: bool, force: bool) -> Callable[[Plan], bool] | None:
    """Who is asked before deleting: the person at the terminal. Elsewhere nobody can answer:
    each deletion is printed once it is done (`_Report`), never beforehand."""
    return None if yes or force or not _interactive() else _ask_deletions


def _nothing_done() -> NoReturn:
    sys.stderr.write("s3kit: nothing done\n")
    raise typer.Exit(1)


def _bar_on_demand(
    stack: contextlib.ExitStack, enabled: bool, *, quiet: bool = False
) -> Callable[[TransferEvent], None]:
    """Events for a progress bar that appears with the first transfer: a streamed sync cannot
    know upfront whether anything will move, and a run that moves nothing shows no bar. A whole
    plan's total comes first ("scanned"); a streamed sync's once its scan has ended, until then
    the bar shows what was found and what is done apart. Resumes and what an interruption kept
    are said whether a bar shows or not (`notice`; a resume not with `quiet`)."""
    bar: TransferProgress | None = None
    waiting = enabled

    def on_event(event: TransferEvent) -> None:
        nonlocal bar, waiting
        if waiting and (event.kind == "queued" or (event.kind == "scanned" and event.files)):
            waiting = False
            bar = stack.enter_context(maybe_progress_bar(True))
        if bar is not None:
            bar(event)
        notice(event, bar, quiet=quiet)

    return on_event


def _show_bar(*, progress: bool, quiet: bool, json_out: bool) -> bool:
    return progress and not quiet and not json_out and progress_wanted(disabled=False)


def _warn(message: str) -> None:
    sys.stderr.write(f"s3kit: warning: {message}\n")


def run_one_way(
    state: CliState,
    source: str,
    destination: str,
    library: Mapping[str, Any],
    *,
    yes: bool = False,
    quiet: bool = False,
    json_out: bool = False,
    progress: bool = True,
) -> None:
    """One one-way sync: the library's `sync_async` with `library` (its keyword arguments),
    and what the command prints around it — the plan of a dry run, each action as it ends, the
    closing count."""
    src, dst = cli_location(source), cli_location(destination)
    planning = bool(library.get("dryrun")) or library.get("plan_out") is not None

    def show(outcome: SyncOutcome) -> None:
        if planning:
            _show_plan(outcome, quiet=quiet, json_out=json_out)

    with contextlib.ExitStack() as stack:
        outcome = run_sync(
            sync_async(
                src,
                dst,
                session=state.session,
                settings=state.config,
                confirm=_confirmation(yes=yes, force=bool(library.get("force"))),
                on_plan=show,
                on_action=_Report(side_of(src), side_of(dst), quiet=quiet, json_out=json_out),
                on_event=_bar_on_demand(
                    stack,
                    _show_bar(progress=progress, quiet=quiet, json_out=json_out),
                    quiet=quiet,
                ),
                warn=_warn,
                **library,
            )
        )
    if outcome.cancelled:
        _nothing_done()
    plan_out = library.get("plan_out")
    if plan_out is not None:
        _say(f"Plan written to {plan_out}; carry it out with: s3kit apply {plan_out}",
             quiet=quiet or json_out)  # fmt: skip
    if outcome.result is not None:
        _finish(outcome, outcome.result, quiet=quiet, json_out=json_out)


def _finish(outcome: SyncOutcome, result: SyncResult, *, quiet: bool, json_out: bool) -> None:
    """The closing count (each action's line was printed as it ended) or the JSON result."""
    if json_out:
        output.emit(_json_result(outcome, result))
    elif not quiet:
        _say(
            done_line(
                transferred=result.transferred,
                deleted=result.deleted,
                failed=len(result.failures),
                skipped=outcome.skipped,
                seconds=result.seconds,
            )
        )
    if result.deletions_skipped:
        sys.stderr.write(f"s3kit: warning: {result.deletions_skipped}\n")
    if result.failures:
        raise S3KitError(
            f"{len(result.failures)} of {len(outcome.plan.actions)} actions failed"
            " (see the errors above)"
        )


def _json_result(outcome: SyncOutcome, result: SyncResult) -> dict[str, Any]:
    """The transfer summary (cli/output.py); `deletions_skipped` says why deletions were held
    back (null when none were). A failure names where it happened — the source of a
    transfer, the destination entry of a deletion — which finds its action in the plan."""
    actions: dict[str, tuple[str, str | None]] = {}
    if result.failures:
        source, destination = outcome.source, outcome.destination
        for action in outcome.plan.actions:
            if action.kind == "delete":
                actions[str(destination.location(action.key))] = ("delete", None)
            else:
                actions[str(source.location(action.key))] = (
                    action.kind, str(destination.location(action.key))
                )  # fmt: skip
    failures = []
    for where, error in result.failures:
        kind, target = actions.get(where, (None, None))
        failures.append(output.item(kind, where, target, status="failed",
                                    error=output.error_object(error)))  # fmt: skip
    return output.transfer_summary(
        transferred=result.transferred, bytes=result.bytes, deleted=result.deleted,
        skipped=outcome.skipped, seconds=result.seconds, failures=failures,
        deletions_skipped=result.deletions_skipped,
    )  # fmt: skip


def sync(
    ctx: typer.Context,
    source: Annotated[
        str | None,
        typer.Argument(
            help="Local folder or s3://bucket/prefix.", autocompletion=complete_location
        ),
    ] = None,
    destination: Annotated[
        str | None,
        typer.Argument(
            help="Local folder or s3://bucket/prefix.", autocompletion=complete_location
        ),
    ] = None,
    delete: Annotated[
        bool | None,
        typer.Option(
            "--delete/--no-delete",
            help="Delete destination entries absent from the source.",
            show_default="sync.delete_removed in s3kit.yaml, else --no-delete",
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
        typer.Option(
            "--exclude-from",
            metavar="FILE",
            help="File of .gitignore-style patterns (repeatable).",
        ),
    ] = None,
    no_default_excludes: Annotated[
        bool,
        typer.Option(
            "--no-default-excludes",
            help=f"Also sync what the built-in excludes skip: {' '.join(DEFAULT_EXCLUDES)}.",
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
        int | None,
        typer.Option("--max-delete", min=0, metavar="N", help="Refuse to delete more than N."),
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
            "--plan-out",
            metavar="FILE",
            help="Write the plan as JSON and change nothing; see `s3kit apply`.",
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
            help="Check every transfer end to end (ETag/MD5 and CRC64NVME).",
            show_default="sync.verify_checksums in s3kit.yaml, else --verify",
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
    storage_class_: StorageClass = None,
    sse: Sse = None,
    sse_kms_key_id: SseKms = None,
    sse_c_key_file: SseCKey = None,
    metadata: Metadata = None,
    content_type: ContentType = None,
    cache_control: CacheControl = None,
    content_encoding: ContentEncoding = None,
    acl: Acl = None,
    conflict: Annotated[
        str,
        typer.Option(
            "--conflict",
            metavar="RULE",
            help="With --bidirectional, a path changed on both sides: newer, local, remote,"
            " rename (keep both), skip or ask.",
        ),
    ] = "rename",
) -> None:
    """Make DESTINATION match SOURCE: local→S3, S3→local or S3→S3.

    S3→S3 copies are server-side.

    Transfers what is new, of another size, or newer at the source (as aws s3 sync does).
    .s3kitignore at the source root (gitignore syntax) is honoured.
    Examples: s3kit sync ./site s3://www/ --delete ; s3kit sync s3://docs/2026 ./2026 --dryrun
    """
    del include, exclude  # read in command-line order from the raw arguments
    state = state_of(ctx)
    flags = CopyFlags(
        concurrency=concurrency, part_size=part_size, threshold=threshold, bwlimit=bwlimit,
        storage_class=storage_class_, sse=sse, sse_kms_key_id=sse_kms_key_id,
        sse_c_key_file=sse_c_key_file, metadata=tuple(metadata or ()), content_type=content_type,
        cache_control=cache_control, content_encoding=content_encoding, acl=acl,
    )  # fmt: skip
    config = build_config(flags, state.config.transfer_overrides())
    object_options = {
        "--storage-class": storage_class_, "--sse": sse, "--sse-kms-key-id": sse_kms_key_id,
        "--sse-c-key-file": sse_c_key_file, "--metadata": metadata,
        "--content-type": content_type, "--cache-control": cache_control,
        "--content-encoding": content_encoding, "--acl": acl,
    }  # fmt: skip
    if plan_out is not None and (given := [f for f, v in object_options.items() if v]):
        raise UsageError(
            f"{', '.join(given)} cannot be used with --plan-out: a plan file does not record"
            " them, so `s3kit apply` would write the objects without them"
        )
    library: dict[str, Any] = {
        "delete": delete,
        "size_only": size_only,
        "exact_timestamps": exact_timestamps,
        "checksum": checksum,
        "filters": filters_from_args(raw_args()),
        "exclude_from": tuple(exclude_from or ()),
        "default_excludes": not no_default_excludes,
        "follow_symlinks": follow_symlinks,
        "dir_markers": dir_markers,
        "max_delete": max_delete,
        "force": force,
        "dryrun": dryrun,
        "plan_out": plan_out,
        "verify": verify,
        "transfer": config,
        "write": _write_options(state, flags),
        "log_file": log_file,
    }
    display = {"yes": yes, "quiet": quiet, "json_out": json_out, "progress": not no_progress}
    if source is None or destination is None:  # none at all, on a terminal: ask (issue 5)
        from s3kit.cli.sync_interactive import run_interactive

        run_interactive(ctx, library, display, source=source, destination=destination)
        return
    if bidirectional or resync:
        from s3kit.cli.bisync import run_bisync

        one_way_only = {
            "--delete": delete,
            "--checksum": checksum,
            "--size-only": size_only,
            "--exact-timestamps": exact_timestamps,
            "--plan-out": plan_out,
            "--dir-markers": dir_markers,
            **object_options,  # two-way sync takes no object options (yet)
        }
        given = [flag for flag, value in one_way_only.items() if value]
        if given:
            raise UsageError(f"{', '.join(given)} cannot be used with --bidirectional")
        if not bidirectional:
            raise UsageError("--resync only goes with --bidirectional")
        run_bisync(
            state, source, destination,
            {
                "resync": resync, "conflict": conflict, "filters": library["filters"],
                "exclude_from": library["exclude_from"],
                "default_excludes": library["default_excludes"], "max_delete": max_delete,
                "force": force, "dryrun": dryrun, "verify": verify, "transfer": config,
                "log_file": log_file,
            },
            quiet=quiet, json_out=json_out, progress=not no_progress,
        )  # fmt: skip
        return
    run_one_way(state, source, destination, library, **display)


def _write_options(state: CliState, flags: CopyFlags) -> WriteOptions | None:
    """What sync's new objects get: cp's object options (and SSE-C key, which reads of SSE-C
    objects need too), or None when they ask for nothing beyond the library's default (the
    config file's storage class), which then applies."""
    options = write_options(flags, state.config.storage.default_storage_class)
    return None if options == default_write_options(state.config) else options


def _show_plan(outcome: SyncOutcome, *, quiet: bool, json_out: bool) -> None:
    """What --dryrun / --plan-out print: the plan, what would be refused, the time estimate."""
    if json_out:
        output.emit(outcome.document())
    elif not quiet:
        for line in describe(outcome.plan):
            _say(line)
        for key, reason in outcome.refused:
            _say(f"Would skip {shown_key(key)}: {reason}")
        if (words := describe_estimate(outcome.estimated_seconds)) is not None:
            _say(f"Estimated time: {words} (from earlier syncs with this endpoint)")


def apply(
    ctx: typer.Context,
    plan_file: Annotated[Path, typer.Argument(help="A plan written by sync --plan-out.")],
    yes: Yes = False,
    quiet: Quiet = False,
    json_out: JsonOut = False,
    concurrency: FileConcurrency = None,
    no_progress: NoProgress = False,
) -> None:
    """Carry out a plan written by sync --plan-out.

    Exactly the plan in PLAN_FILE; refused if a source entry changed since.

    Example: s3kit sync ./site s3://www/ --delete --plan-out plan.json && s3kit apply plan.json
    """
    state = state_of(ctx)
    plan, source_text, destination_text = read_plan(plan_file)
    source = side_of(cli_location(source_text))
    destination = side_of(cli_location(destination_text))
    checked = run_sync(check_plan_async(state.session, plan, source, destination))
    problems = checked.changed
    if problems:
        shown = "; ".join(problems[:5]) + (
            f" (and {len(problems) - 5} more)" if len(problems) > 5 else ""
        )
        raise S3KitError(
            f"not applying {plan_file}: {shown} since the plan was made — nothing was done;"
            " run sync --plan-out again"
        )
    if checked.done:  # an apply run before, or the same change made meanwhile: not redone
        _say(f"{len(checked.done)} of the plan's {len(plan.actions)} actions already done;"
             " skipped", quiet=quiet or json_out)  # fmt: skip
        plan = checked.remaining(plan)
    confirm = _confirmation(yes=yes, force=False)
    if plan.deletions and confirm is not None and not confirm(plan):
        _nothing_done()
    config = build_config(CopyFlags(concurrency=concurrency), state.config.transfer_overrides())
    with contextlib.ExitStack() as stack:
        result = run_sync(
            carry_out_plan_async(
                state.session, plan, source, destination,
                transfer=config, write=default_write_options(state.config),
                on_action=_Report(source, destination, quiet=quiet, json_out=json_out),
                on_event=_bar_on_demand(
                    stack, _show_bar(progress=not no_progress, quiet=quiet, json_out=json_out),
                    quiet=quiet,
                ),
            )
        )  # fmt: skip
    outcome = SyncOutcome(plan, source, destination, CompareOptions(), complete=True, result=result)
    _finish(outcome, result, quiet=quiet, json_out=json_out)
