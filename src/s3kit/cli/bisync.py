"""`s3kit sync --bidirectional LOCAL s3://bucket/prefix`: parse, call the library's `bisync_async`,
print.

`--conflict ask` prompts on a terminal with both versions' time and size; without a terminal
nobody can answer, so a run that meets a conflict refuses (exit 2) instead of guessing. The
progress bar (a terminal, not --quiet/--json) starts only once the plan is settled, after any
question, and only when something is to be transferred.

A run prints what happened, after it happened: each change's line once it is done, its error
once it failed, nothing for a deletion held back because something failed, then the count of
what was done, failed and skipped. A dry run prints the plan.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import typer

from s3kit._aio import run_sync
from s3kit._sync.bisync import BiAction, BiPlan, ConflictPolicy
from s3kit._sync.bisync_run import BisyncOutcome
from s3kit._sync.run import bisync_async
from s3kit._sync.scan import Side, side_of
from s3kit.cli import output
from s3kit.cli.cp_mv import maybe_progress_bar
from s3kit.cli.progress import TransferProgress, progress_wanted
from s3kit.cli.state import CliState, cli_location
from s3kit.errors import S3KitError
from s3kit.transfer import TransferEvent

ARROWS = {
    "upload": "upload: local → remote",
    "download": "download: remote → local",
    "delete-remote": "delete remote",
    "delete-local": "delete local",
    "keep-both": "conflict: keep both",
    "conflict": "conflict: left as is",
}


def _when(mtime_ns: int) -> str:
    return datetime.fromtimestamp(mtime_ns / 1e9, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def action_line(a: BiAction, *, would: bool) -> str:
    extra = f" (the other copy → {a.conflict_path})" if a.conflict_path else ""
    return f"{'(dryrun) ' if would else ''}{ARROWS[a.kind]}: {a.path}{extra} — {a.reason}"


def plan_lines(plan: BiPlan, *, would: bool) -> list[str]:
    return [action_line(a, would=would) for a in plan.changes]


class _Report:
    """Prints each change once it has ended (`bisync_async`'s `on_action`): its line on
    stdout, or its error on stderr; remembers which failures it has told."""

    def __init__(self, *, quiet: bool) -> None:
        self._quiet = quiet
        self._reader_gone = False  # `| head`: the run goes on, the closing line ends it
        self.told: set[str] = set()

    def __call__(self, action: BiAction, error: S3KitError | None) -> None:
        if self._reader_gone:
            return
        try:
            if error is not None:
                self.told.add(action.path)
                sys.stderr.write(f"s3kit: error: {action.path}: {error.message}\n")
            elif not self._quiet:
                sys.stdout.write(action_line(action, would=False) + "\n")
        except BrokenPipeError:
            self._reader_gone = True


def _ask(action: BiAction) -> ConflictPolicy:
    assert action.local is not None and action.remote is not None
    sys.stderr.write(
        f"{action.path} {action.reason}:\n"
        f"  local:  {_when(action.local.mtime_ns)}, {action.local.size} B\n"
        f"  remote: {_when(action.remote.mtime_ns)}, {action.remote.size} B\n"
    )
    answers: dict[str, ConflictPolicy] = {"l": "local", "r": "remote", "b": "rename", "s": "skip"}
    while True:
        answer = typer.prompt(
            "Keep [l]ocal, [r]emote, [b]oth (rename the older), or [s]kip?", err=True
        )
        if answer.strip().lower()[:1] in answers:
            return answers[answer.strip().lower()[:1]]


def run_bisync(
    state: CliState,
    local: str,
    remote: str,
    library: Mapping[str, Any],
    *,
    quiet: bool,
    json_out: bool,
    progress: bool = True,
) -> None:
    """One two-way sync: the library's `bisync_async` with `library` (its keyword arguments),
    and what the command prints around it."""
    interactive = sys.stdin.isatty() and sys.stderr.isatty()

    def warn(message: str) -> None:
        sys.stderr.write(f"s3kit: warning: {message}\n")

    show_bar = not quiet and not json_out and progress_wanted(disabled=not progress)
    moved, started = 0, time.monotonic()
    with contextlib.ExitStack() as stack:
        bar: TransferProgress | None = None

        def start_bar(plan: BiPlan) -> None:
            nonlocal bar
            moves = plan.of("upload", "download", "keep-both")
            bar = stack.enter_context(maybe_progress_bar(show_bar and bool(moves)))

        def on_event(event: TransferEvent) -> None:
            nonlocal moved
            if event.kind == "done" and event.action != "delete":
                moved += event.bytes  # for --json: BiResult counts files, not bytes
            if bar is not None:
                bar(event)

        report = _Report(quiet=quiet or json_out)
        outcome = run_sync(
            bisync_async(
                cli_location(local), cli_location(remote), session=state.session,
                settings=state.config, ask=_ask if interactive else None,
                before_execute=start_bar, warn=warn, on_event=on_event, on_action=report,
                **library,
            )
        )  # fmt: skip
    if json_out:
        sides = (side_of(cli_location(local)), side_of(cli_location(remote)))
        output.emit(_json_document(outcome, sides, moved, time.monotonic() - started))
    _report(outcome, dryrun=bool(library.get("dryrun")), quiet=quiet, json_out=json_out,
            told=report.told)  # fmt: skip


def _json_document(
    outcome: BisyncOutcome, sides: tuple[Side, Side], moved: int, seconds: float
) -> dict[str, Any]:
    """--json: the plan of a dry run ({"actions", "dryrun": true}), else the transfer summary
    (cli/output.py) with bisync's extras — `uploaded`, `downloaded`, `deletions_skipped` (why
    deletions were held back, or null) and the plan's `actions`. Every path not synced is a
    failure: an error, or a conflict left unresolved."""
    actions = [
        {"action": a.kind, "path": a.path, "reason": a.reason, "conflict_path": a.conflict_path}
        for a in outcome.plan.changes
    ]
    result = outcome.result
    if result is None:
        return {"actions": actions, "dryrun": True}
    local, remote = sides
    kinds = {a.path: a.kind for a in outcome.plan.changes}
    ends = {"upload": (local, remote), "download": (remote, local), "delete-remote": (remote,),
            "delete-local": (local,)}  # fmt: skip

    def failure(kind: str | None, path: str, error: output.ErrorObject | None) -> dict[str, Any]:
        where = ends.get(kind or "", (local, remote))
        target = where[1].location(path) if len(where) > 1 else None
        return output.item(kind, where[0].location(path), target, status="failed", error=error)

    failures = [failure(kinds.get(p), p, output.error_object(e)) for p, e in result.failures]
    failures += [failure("conflict", a.path, output.error_text(a.reason or "conflict"))
                 for a in outcome.unresolved]  # fmt: skip
    held_back = result.deletions_skipped
    return output.transfer_summary(
        transferred=result.uploaded + result.downloaded, bytes=moved, deleted=result.deleted,
        skipped=held_back, seconds=seconds, failures=failures, uploaded=result.uploaded,
        downloaded=result.downloaded,
        deletions_skipped=_held_back(held_back) if held_back else None,
        actions=actions,
    )  # fmt: skip


def _held_back(deletions: int) -> str:
    return f"{deletions} deletions skipped because other actions failed; they are retried next run"


def _report(
    outcome: BisyncOutcome, *, dryrun: bool, quiet: bool, json_out: bool, told: set[str]
) -> None:
    """After the run: the plan (a dry run) or the count of what was done, failed and
    skipped, then what is left to say on stderr — `told` failures were printed as they came."""
    result = outcome.result
    quiet = quiet or json_out  # run_bisync printed the JSON document
    if not quiet and result is None:
        for line in plan_lines(outcome.plan, would=True):
            sys.stdout.write(line + "\n")
    elif not quiet and result is not None:
        counts = [
            f"{result.uploaded} uploaded",
            f"{result.downloaded} downloaded",
            f"{result.deleted} deleted",
        ]
        if result.failures:
            counts.append(f"{len(result.failures)} failed")
        if result.deletions_skipped:
            counts.append(f"{result.deletions_skipped} skipped")
        sys.stdout.write(f"Done: {', '.join(counts)}\n")
    if result is not None and result.deletions_skipped:
        sys.stderr.write(f"s3kit: warning: {_held_back(result.deletions_skipped)}\n")
    problems = len(outcome.unresolved) + (len(result.failures) if result else 0)
    if problems and not dryrun:
        for action in outcome.unresolved:
            sys.stderr.write(f"s3kit: conflict: {action.path}: {action.reason}\n")
        for path, error in result.failures if result else []:
            if path not in told:  # paths the run never got to (behind a symlink, say)
                sys.stderr.write(f"s3kit: error: {path}: {error.message}\n")
        raise S3KitError(
            f"{problems} paths not synced (conflicts or errors above); they are looked at again"
            " next run"
        )


__all__ = ["action_line", "plan_lines", "run_bisync"]
