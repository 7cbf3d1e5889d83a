"""The audit log of `sync --log-file`: one JSON line per action — what, why, how it ended.

Records are built by pure functions (`audit_record`, `planned_records`, `bisync_records`) and
appended by `AuditLog`. They hold locations (s3:// URLs and local paths), reasons, sizes and
error messages — never credentials, headers or presigned URLs. Writing a line must never break
a sync: a failed write is logged and the run goes on.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Literal, TypedDict

from s3kit._observe import logger
from s3kit._sync.bisync import BiAction
from s3kit._sync.bisync_run import BisyncOutcome
from s3kit._sync.plan import Action, Plan
from s3kit._sync.scan import Side
from s3kit.errors import S3KitError, translating
from s3kit.transfer import EventCallback, TransferEvent

# "redirect" and "invalidate": what `deploy --log-file` records beside its uploads and deletions.
AuditAction = Literal[
    "upload",
    "download",
    "copy",
    "delete",
    "mkdir",
    "skip",
    "conflict",
    "keep",
    "redirect",
    "invalidate",
]
AuditResult = Literal["done", "failed", "planned"]
Clock = Callable[[], datetime]

# Bidirectional kinds as audit actions; "adopt"/"forget" only touch the saved state.
_BI_ACTIONS: Mapping[str, AuditAction] = {
    "upload": "upload",
    "download": "download",
    "delete-remote": "delete",
    "delete-local": "delete",
    "conflict": "conflict",
    "keep-both": "keep",
}


class AuditRecord(TypedDict, total=False):
    time: str
    action: AuditAction
    path: str
    source: str
    destination: str
    reason: str
    bytes: int
    result: AuditResult
    error: str | None


def _now() -> datetime:
    return datetime.now(UTC)


def audit_record(
    action: AuditAction,
    *,
    reason: str,
    result: AuditResult,
    size: int = 0,
    path: str | None = None,
    source: str | None = None,
    destination: str | None = None,
    error: str | None = None,
    clock: Clock = _now,
) -> AuditRecord:
    """One line: `path` for what has one place (a deletion, a new folder, a two-way path),
    `source` and `destination` for a transfer."""
    record: AuditRecord = {"time": clock().isoformat(timespec="milliseconds"), "action": action}
    if path is not None:
        record["path"] = path
    if source is not None:
        record["source"] = source
    if destination is not None:
        record["destination"] = destination
    record["reason"] = reason
    record["bytes"] = size
    record["result"] = result
    record["error"] = error
    return record


def action_record(
    action: Action,
    source: Side,
    destination: Side,
    *,
    result: AuditResult,
    error: str | None = None,
    clock: Clock = _now,
) -> AuditRecord:
    """The record of one one-way plan action."""
    if action.kind in ("delete", "mkdir"):
        return audit_record(
            action.kind,
            path=str(destination.location(action.key)),
            reason=action.reason,
            size=action.size,
            result=result,
            error=error,
            clock=clock,
        )
    return audit_record(
        action.kind,
        source=str(source.location(action.key)),
        destination=str(destination.location(action.key)),
        reason=action.reason,
        size=action.size,
        result=result,
        error=error,
        clock=clock,
    )


def planned_records(
    plan: Plan, source: Side, destination: Side, *, clock: Clock = _now
) -> list[AuditRecord]:
    """Every action of a plan not carried out (a dry run), and the deletions held back."""
    records = [
        action_record(a, source, destination, result="planned", clock=clock) for a in plan.actions
    ]
    return records + withheld_records(plan, destination, clock=clock)


def withheld_records(plan: Plan, destination: Side, *, clock: Clock = _now) -> list[AuditRecord]:
    return [
        audit_record(
            "skip", path=str(destination.location(key)), reason=reason, result="done", clock=clock
        )
        for key, reason in plan.withheld
    ]


class PlanRecorder:
    """Turns the executor's "done"/"failed" events into records of the plan's actions;
    `finish` writes those that never got an event (deletions skipped after failures). The
    plan may still be growing (a streamed sync adds each action before its transfer starts):
    actions added since are taken in at each event."""

    def __init__(
        self,
        plan: Plan,
        source: Side,
        destination: Side,
        write: Callable[[AuditRecord], None],
        *,
        clock: Clock = _now,
    ) -> None:
        self._source, self._destination, self._write, self._clock = (
            source,
            destination,
            write,
            clock,
        )
        self._plan = plan
        self._known = 0
        self._pending: dict[tuple[str, str], Action] = {}
        self._learn()

    def _learn(self) -> None:
        # Events name a new folder with the plan's direction (transfer events know no "mkdir").
        direction, destination = self._plan.direction, self._destination
        for a in self._plan.actions[self._known :]:
            kind = direction if a.kind == "mkdir" else a.kind
            self._pending[(kind, str(destination.location(a.key)))] = a
        self._known = len(self._plan.actions)

    def __call__(self, event: TransferEvent) -> None:
        if event.kind not in ("done", "failed"):
            return
        self._learn()
        action = self._pending.pop((event.action, str(event.item.destination)), None)
        if action is None:
            return
        error = event.error.message if event.error is not None else None
        self._write(
            action_record(
                action,
                self._source,
                self._destination,
                result=event.kind,
                error=error,
                clock=self._clock,
            )
        )

    def finish(self, skipped_because: str | None = None) -> None:
        self._learn()
        for action in list(self._pending.values()):
            self._write(
                action_record(
                    action,
                    self._source,
                    self._destination,
                    result="failed",
                    error=skipped_because or "not carried out",
                    clock=self._clock,
                )
            )
        self._pending.clear()


def chained(*callbacks: EventCallback | None) -> EventCallback:
    def on_event(event: TransferEvent) -> None:
        for callback in callbacks:
            if callback is not None:
                callback(event)

    return on_event


def bisync_records(
    outcome: BisyncOutcome, local: Side, remote: Side, *, clock: Clock = _now
) -> list[AuditRecord]:
    """The records of a two-way run (or dry run: `outcome.result` is None)."""
    result = outcome.result
    failures = {path: error for path, error in result.failures} if result else {}
    records = []
    for a in outcome.plan.changes:
        kind = _BI_ACTIONS.get(a.kind)
        if kind is None:
            continue
        status: AuditResult
        error: str | None = None
        if result is None:
            status = "planned"
        elif a.path in failures:
            status, error = "failed", failures[a.path].message
        elif a.kind == "conflict":
            status, error = "failed", "conflict left as is; looked at again next run"
        elif a.kind.startswith("delete") and result.deletions_skipped:
            status, error = "failed", "skipped because other actions failed"
        else:
            status = "done"
        records.append(
            audit_record(
                kind,
                path=_bi_path(a, local, remote),
                reason=a.reason,
                size=_bi_size(a),
                result=status,
                error=error,
                clock=clock,
            )
        )
    return records


def _bi_path(a: BiAction, local: Side, remote: Side) -> str:
    if a.kind == "delete-remote":
        return str(remote.location(a.path))
    if a.kind == "delete-local":
        return str(local.location(a.path))
    return a.path


def _bi_size(a: BiAction) -> int:
    chosen = a.remote if a.kind == "download" else a.local or a.remote
    return chosen.size if chosen is not None else 0


class AuditLog:
    """Appends records to a file, one JSON line each, flushed line by line so an
    interrupted run leaves what it did. Use as a context manager."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._handle: IO[str] | None = None

    def __enter__(self) -> AuditLog:
        with translating(path=str(self.path)):
            self._handle = self.path.open("a", encoding="utf-8")
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def write(self, record: AuditRecord) -> None:
        if self._handle is None:
            raise S3KitError(f"the audit log {self.path} is not open")
        line = json.dumps(record, ensure_ascii=False) + "\n"
        with self._lock:
            try:
                self._handle.write(line)
                self._handle.flush()
            except OSError:  # the log must never break the sync it records
                logger.exception("cannot write to the audit log %s", self.path)

    def write_all(self, records: Iterable[AuditRecord]) -> None:
        for record in records:
            self.write(record)


__all__ = [
    "AuditLog",
    "AuditRecord",
    "PlanRecorder",
    "action_record",
    "audit_record",
    "bisync_records",
    "chained",
    "planned_records",
    "withheld_records",
]
