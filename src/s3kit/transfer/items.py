"""The records of a transfer run: what is to be copied (`TransferItem`), what happens to it as
it goes (`TransferEvent`), what an interrupted copy keeps for the next run (`Partial`), how it
ended (`ItemResult`) and the run's `TransferSummary`.

Plain dataclasses, no I/O: planners (cp's walk, sync's plan) make items, the TransferManager
turns them into events and results, and callers (the CLI, sync, scripts) read them. An event
callback must never break a transfer: `guarded` is the one wrapper that sees to it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from s3kit._observe import logger
from s3kit._uri import Location
from s3kit.errors import S3KitError

Action = Literal["upload", "download", "copy", "move", "delete"]
Outcome = Literal["done", "failed", "planned"]
EventKind = Literal[
    "queued", "sized", "resumed", "progress", "done", "failed", "interrupted", "planned", "scanned"
]


@dataclass(frozen=True, slots=True)
class TransferItem:
    source: Location
    destination: Location
    size: int | None = None
    etag: str | None = None
    # Why the item must not be carried out (a key no local file can have, a destination
    # through a symlink out of the folder): reported as failed, and nothing is touched.
    refused: S3KitError | None = None


@dataclass(frozen=True, slots=True)
class Partial:
    """Work on one file or object that outlives a run: what an interrupted transfer kept for
    the next run of the same copy, or what a run found kept and goes on from."""

    done: int  # bytes already there: parts on the server, or ranges in the temporary file
    total: int  # bytes of the whole file or object
    # A download's temporary file (next to its destination); "" for an upload, whose parts
    # wait on the server in a pending multipart upload that the resume journal names.
    temp_path: str = ""


# What a one-object transfer says of a Partial: "resumed" when it goes on from one it found,
# "kept" when an interruption leaves one for the next run.
PartialCallback = Callable[[Literal["resumed", "kept"], Partial], None]


@dataclass(frozen=True, slots=True)
class TransferEvent:
    """One thing that happened in a run. By `kind`:

    - "queued": the item is planned and waits for its turn; `bytes` is its size, 0 if unknown.
    - "sized": the size of an item queued without one, once the transfer learned it (`bytes`).
    - "resumed": the transfer goes on from work an earlier run kept (`partial`); the bytes
      already there then come as one "progress".
    - "progress": `bytes` more moved.
    - "done" (`bytes` moved, `verified`), "failed" (`error`; `partial` if something was kept
      for the next run): how the item ended.
    - "interrupted": the run was cancelled (Ctrl-C) while the item was under way; `partial`
      is what was kept for the next run, None if nothing was.
    - "planned": what a dry run would do instead of all of the above.
    - "scanned": the plan is complete (a folder walked, a listing read): it had `files` items
      of `bytes` bytes (sizes known from the plan). `item` is its last item; a plan of none
      has no "scanned", as it ends at once.
    """

    kind: EventKind
    action: Action
    item: TransferItem
    error: S3KitError | None = None
    bytes: int = 0
    # "done" downloads: the check the bytes passed (DownloadResult.verified), "" if none could
    # be made; None for every other event and item.
    verified: str | None = None
    files: int = 0  # "scanned": the items of the whole plan
    partial: Partial | None = None


@dataclass(frozen=True, slots=True)
class ItemResult:
    """How one item ended: copied ("done"), not copied ("failed", with the error), or only
    planned (a dry run; `bytes` is then the size the copy would move, if known)."""

    item: TransferItem
    action: Action
    outcome: Outcome
    bytes: int = 0
    # As TransferEvent.verified: for a download, the check its bytes passed ("" if none could
    # be made); None for everything else.
    verified: str | None = None
    error: S3KitError | None = None
    # A failed transfer's work kept for the next run of the same copy (an endpoint that went
    # away mid-upload, say), None if nothing was kept.
    partial: Partial | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(slots=True)
class TransferSummary:
    files: int = 0  # items done (or planned, in a dry run)
    bytes: int = 0
    seconds: float = 0.0
    failures: list[tuple[TransferItem, S3KitError]] = field(default_factory=list)
    unverified: int = 0  # downloads with nothing to check their bytes against
    downloads: int = 0  # downloads done, verified or not
    # Every item in the order it ended (with keep_results; see TransferManager.run_items).
    results: list[ItemResult] = field(default_factory=list)
    # The error every item would have met, at which the run stopped (no such bucket, say):
    # items after it were not attempted (TransferManager.run_items_async). None: it went on.
    stopped: S3KitError | None = None

    @property
    def ok(self) -> bool:
        return not self.failures and self.stopped is None

    def add(self, result: ItemResult, *, keep: bool = True) -> None:
        """Count `result` in; with `keep`, also list it in `results`."""
        if result.error is not None:
            self.failures.append((result.item, result.error))
        else:
            self.files += 1
            self.bytes += result.bytes
            if result.verified is not None:
                self.downloads += 1
                if result.verified == "":
                    self.unverified += 1
        if keep:
            self.results.append(result)


EventCallback = Callable[[TransferEvent], None]


def guarded(callback: EventCallback | None) -> EventCallback:
    """`callback` made harmless: what it raises is logged, never propagated — a broken
    progress display or audit log must not break a transfer or a sync."""

    def emit(event: TransferEvent) -> None:
        if callback is None:
            return
        try:
            callback(event)
        except Exception:
            logger.exception("event callback failed on %s %s", event.kind, event.action)

    return emit
