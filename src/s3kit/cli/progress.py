"""Transfer events rendered as a rich progress bar: files, bytes, rate and ETA, on stderr."""

from __future__ import annotations

import sys
from types import TracebackType
from typing import TYPE_CHECKING

from s3kit.transfer import TransferEvent

if TYPE_CHECKING:  # rich costs ~30 ms to import: only a run that shows a bar pays for it
    from rich.console import Console
    from rich.progress import TaskID


def progress_wanted(*, disabled: bool, stream: object = None) -> bool:
    """A bar only for a person: not when asked not to, and not when stderr is no terminal."""
    target = stream if stream is not None else sys.stderr
    return not disabled and bool(getattr(target, "isatty", lambda: False)())


class TransferProgress:
    """Consumes TransferEvents; use as a context manager around the transfer."""

    def __init__(self, console: Console | None = None) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            DownloadColumn,
            Progress,
            TextColumn,
            TimeRemainingColumn,
            TransferSpeedColumn,
        )

        self.console = console or Console(stderr=True)
        self._progress = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(binary_units=True),
            TransferSpeedColumn(),
            TimeRemainingColumn(),
            console=self.console,
            transient=False,
        )
        self._task: TaskID | None = None
        self.files_total = 0
        self.files_done = 0
        self.failed = 0

    def __enter__(self) -> TransferProgress:
        self._progress.start()
        self._task = self._progress.add_task(self._description(), total=0)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._progress.stop()

    def _description(self) -> str:
        failed = f", {self.failed} failed" if self.failed else ""
        return f"{self.files_done}/{self.files_total} files{failed}"

    def __call__(self, event: TransferEvent) -> None:
        if self._task is None:
            return
        task = self._task
        if event.kind == "queued":
            self.files_total += 1
            total = self._progress.tasks[0].total or 0
            self._progress.update(task, total=total + event.bytes, description=self._description())
        elif event.kind == "progress":
            self._progress.advance(task, event.bytes)
        elif event.kind == "done":
            self.files_done += 1
            self._progress.update(task, description=self._description())
        elif event.kind == "failed":
            self.failed += 1
            self._progress.update(task, description=self._description())
