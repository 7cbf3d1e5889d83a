"""`s3kit sync --bidirectional LOCAL s3://bucket/prefix`: parse, call `bisync_async`, print.

`--conflict ask` prompts on a terminal with both versions' time and size; without a terminal
nobody can answer, so a run that meets a conflict refuses (exit 2) instead of guessing. The
progress bar (a terminal, not --quiet/--json) starts only once the plan is settled, after any
question, and only when something is to be transferred.
"""

from __future__ import annotations

import contextlib
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

import typer

from s3kit._aio import run_sync
from s3kit.cli.copy import maybe_progress_bar
from s3kit.cli.progress import TransferProgress, progress_wanted
from s3kit.errors import S3KitError, UsageError
from s3kit.session import Session
from s3kit.sync.audit import AuditLog, bisync_records
from s3kit.sync.bisync import CONFLICT_POLICIES, BiAction, BiPlan, ConflictPolicy
from s3kit.sync.bisync_run import BisyncOutcome, bisync_async
from s3kit.sync.plan import DeleteGuard
from s3kit.sync.scan import LocalSide, S3Side, Selection, Side
from s3kit.transfer import TransferConfig, TransferEvent

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


def plan_lines(plan: BiPlan, *, would: bool) -> list[str]:
    lines = []
    for a in plan.changes:
        extra = f" (the other copy → {a.conflict_path})" if a.conflict_path else ""
        lines.append(
            f"{'(dryrun) ' if would else ''}{ARROWS[a.kind]}: {a.path}{extra} — {a.reason}"
        )
    return lines


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
    session: Session,
    local: Side,
    remote: Side,
    *,
    resync: bool,
    conflict: str,
    selection: Selection,
    force: bool,
    max_delete: int | None,
    dryrun: bool,
    quiet: bool,
    json_out: bool,
    concurrency: int,
    bidirectional: bool,
    log_file: Path | None = None,
    config: TransferConfig | None = None,
    progress: bool = True,
) -> None:
    if not bidirectional:
        raise UsageError("--resync only goes with --bidirectional")
    if not isinstance(local, LocalSide) or not isinstance(remote, S3Side):
        raise UsageError("--bidirectional syncs a local folder with an S3 prefix: LOCAL s3://...")
    if conflict not in CONFLICT_POLICIES:
        raise UsageError(f"--conflict must be one of {', '.join(CONFLICT_POLICIES)}")
    interactive = sys.stdin.isatty() and sys.stderr.isatty()

    def warn(message: str) -> None:
        sys.stderr.write(f"s3kit: warning: {message}\n")

    show_bar = not quiet and not json_out and progress_wanted(disabled=not progress)
    with contextlib.ExitStack() as stack:
        bar: TransferProgress | None = None

        def start_bar(plan: BiPlan) -> None:
            nonlocal bar
            moves = plan.of("upload", "download", "keep-both")
            bar = stack.enter_context(maybe_progress_bar(show_bar and bool(moves)))

        def on_event(event: TransferEvent) -> None:
            if bar is not None:
                bar(event)

        outcome = run_sync(
            bisync_async(
                session, local, remote, resync=resync, policy=conflict,
                guard=DeleteGuard(max_delete=max_delete, force=force), dryrun=dryrun,
                selection=selection, ask=_ask if interactive else None,
                before_execute=start_bar, concurrency=concurrency, warn=warn, config=config,
                on_event=on_event,
            )
        )  # fmt: skip
    if log_file is not None:
        with AuditLog(log_file) as log:
            log.write_all(bisync_records(outcome, local, remote))
    _report(outcome, dryrun=dryrun, quiet=quiet, json_out=json_out)


def _report(outcome: BisyncOutcome, *, dryrun: bool, quiet: bool, json_out: bool) -> None:
    result = outcome.result
    if json_out:
        document: dict[str, object] = {
            "actions": [
                {
                    "kind": a.kind,
                    "path": a.path,
                    "reason": a.reason,
                    "conflict_path": a.conflict_path,
                }
                for a in outcome.plan.changes
            ],
            "dryrun": dryrun,
        }
        if result is not None:
            document.update(
                uploaded=result.uploaded, downloaded=result.downloaded, deleted=result.deleted,
                failures=[{"path": p, "error": e.message} for p, e in result.failures],
            )  # fmt: skip
        sys.stdout.write(json.dumps(document) + "\n")
    elif not quiet:
        for line in plan_lines(outcome.plan, would=dryrun):
            sys.stdout.write(line + "\n")
        if result is not None:
            sys.stdout.write(
                f"Done: {result.uploaded} uploaded, {result.downloaded} downloaded,"
                f" {result.deleted} deleted\n"
            )
    if result is not None and result.deletions_skipped:
        sys.stderr.write(
            f"s3kit: warning: {result.deletions_skipped} deletions skipped because other"
            " actions failed; they are retried next run\n"
        )
    problems = len(outcome.unresolved) + (len(result.failures) if result else 0)
    if problems and not dryrun:
        for action in outcome.unresolved:
            sys.stderr.write(f"s3kit: conflict: {action.path}: {action.reason}\n")
        for path, error in result.failures if result else []:
            sys.stderr.write(f"s3kit: error: {path}: {error.message}\n")
        raise S3KitError(
            f"{problems} paths not synced (conflicts or errors above); they are looked at again"
            " next run"
        )


__all__ = ["plan_lines", "run_bisync"]
