"""Transfer events rendered as a progress line on stderr, and what the command says beside it.

While the source is still being walked or listed, a total is only what was found so far: a bar
over it would sit near 100 % and its time left would mean nothing. So until the transfer layer
says the plan is complete (the "scanned" event) the line shows what was found and what is done
as two figures, and the rate, beside a pulsing bar; from then on a bar that fills, done of
total, the rate and the time left. (A producer that never says so, as two-way sync does not,
keeps the first form: true, if less telling.)
A size learned late (a single download's, from its HEAD) joins the total when it comes; while
any size is unknown there is no time left to show. Bytes a run resumes were not moved by it:
they count as done, never in the rate.

One unit system everywhere: binary sizes and rates (KiB, MiB/s), as `_units.human_size` prints
every size in s3kit; rich's own columns, decimal, are not used.

Beside the bar (`notice`): a resumed transfer is said at once; what an interruption kept (a
pending upload, a download's temporary file) is remembered for the command's Ctrl-C handler,
which says it once everything has stopped (`kept_lines`).
"""

from __future__ import annotations

import sys
import time
from collections import deque
from collections.abc import Callable
from contextvars import ContextVar
from types import TracebackType
from typing import TYPE_CHECKING

from s3kit._units import human_size
from s3kit._uri import S3Url

if TYPE_CHECKING:  # rich costs ~30 ms to import: only a run that shows a bar pays for it
    from rich.console import Console
    from rich.progress import TaskID

    from s3kit.transfer import TransferEvent


def progress_wanted(*, disabled: bool, stream: object = None) -> bool:
    """A bar only for a person: not when asked not to, and not when stderr is no terminal."""
    target = stream if stream is not None else sys.stderr
    return not disabled and bool(getattr(target, "isatty", lambda: False)())


def size(amount: float) -> str:
    return human_size(int(amount), bytes_unit="B")


def speed(per_second: float) -> str:
    return f"{size(per_second)}/s"


def duration(seconds: float) -> str:
    whole = int(seconds + 0.5)
    return f"{whole // 3600}:{whole // 60 % 60:02d}:{whole % 60:02d}"


class Rate:
    """Bytes per second over about the last `window` seconds, what the time left is reckoned
    from; it falls while nothing moves."""

    def __init__(self, clock: Callable[[], float], window: float = 10.0) -> None:
        self._clock, self._window = clock, window
        self._total = 0
        # (time, bytes counted by then); the oldest sample kept is the window's baseline.
        self._samples: deque[tuple[float, int]] = deque([(clock(), 0)])

    def add(self, amount: int) -> None:
        now = self._clock()
        self._total += amount
        self._samples.append((now, self._total))
        while len(self._samples) > 2 and self._samples[1][0] <= now - self._window:
            self._samples.popleft()

    def per_second(self) -> float | None:
        """None until something has moved."""
        if self._total == 0:
            return None
        since, counted = self._samples[0]
        elapsed = self._clock() - since
        return (self._total - counted) / elapsed if elapsed > 0 else None


class Figures:
    """The counts behind the line, from the events alone: pure, the clock injected."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.found = 0  # items found so far (queued, or refused by the plan); then the total
        self.found_bytes = 0
        self.done = 0
        self.failed = 0
        self.moved = 0  # bytes done, resumed ones included
        self.scanned = False  # the plan is complete: `found` and `found_bytes` are totals
        self.rate = Rate(clock)
        self._learned = 0  # bytes of sizes learned late ("sized"): in no plan's figure
        # Items by identity (the transfer layer passes one object per item). Each map holds
        # its items, so an id stays theirs while it is in one: a freed item's id, which
        # Python reuses, can never make a new item look already queued, sized or resumed.
        self._unsized: dict[int, object] = {}  # queued without a size and not sized since
        self._queued: dict[int, object] = {}  # queued and not ended
        self._resumed: dict[int, object] = {}  # their next "progress" is the bytes resumed

    @property
    def total_bytes(self) -> int | None:
        """The bytes of the whole run, once the plan is complete and every size known."""
        return self.found_bytes if self.scanned and not self._unsized else None

    def note(self, event: TransferEvent) -> None:
        item, kind = event.item, event.kind
        ident = id(item)
        if kind == "queued":
            self._queued[ident] = item
            if item.size is None:
                self._unsized[ident] = item
            if not self.scanned:
                self.found += 1
                self.found_bytes += event.bytes
        elif kind == "sized" and ident in self._unsized:
            del self._unsized[ident]
            self._learned += event.bytes
            self.found_bytes += event.bytes
        elif kind == "scanned":
            self.scanned = True
            self.found, self.found_bytes = event.files, event.bytes + self._learned
        elif kind == "resumed":
            self._resumed[ident] = item
        elif kind == "progress":
            self.moved += event.bytes
            if ident in self._resumed:
                del self._resumed[ident]
            else:
                self.rate.add(event.bytes)
        elif kind in ("done", "failed"):
            self._ended(event)

    def _ended(self, event: TransferEvent) -> None:
        ident = id(event.item)
        if ident in self._queued:
            del self._queued[ident]
        elif event.item.refused is None:
            return  # no transfer of the plan: a sync's deletion, or a folder it made
        elif not self.scanned:  # refused by the plan: never queued, and still found
            self.found += 1
            self.found_bytes += event.item.size or 0
        if event.kind == "done":
            self.done += 1
        else:
            self.failed += 1
        self._unsized.pop(ident, None)
        self._resumed.pop(ident, None)

    def seconds_left(self) -> float | None:
        total, per_second = self.total_bytes, self.rate.per_second()
        if total is None or not per_second:
            return None
        return max(0, total - self.moved) / per_second

    def line(self) -> str:
        failed = f", {self.failed} failed" if self.failed else ""
        per_second = self.rate.per_second()
        rate = [speed(per_second)] if per_second is not None else []
        if not self.scanned and not self.found:
            return "0 files found so far"
        if not self.scanned:
            return " · ".join(
                [
                    f"{self.done} done of {self.found} files found so far{failed}",
                    f"{size(self.moved)} of {size(self.found_bytes)}",
                    *rate,
                ]
            )
        total = self.total_bytes
        moved = size(self.moved) if total is None else f"{size(self.moved)}/{size(total)}"
        parts = [f"{self.done}/{self.found} files{failed}", moved, *rate]
        if (left := self.seconds_left()) is not None and left > 0:
            parts.append(f"{duration(left)} left")
        return " · ".join(parts)


class TransferProgress:
    """Consumes TransferEvents; use as a context manager around the transfer. `console` and
    `clock` are for tests (a `Console(file=StringIO())`, a fake clock)."""

    def __init__(
        self, console: Console | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, Progress, ProgressColumn, Task
        from rich.table import Column
        from rich.text import Text

        figures = self.figures = Figures(clock)

        class FiguresColumn(ProgressColumn):
            def render(self, task: Task) -> Text:
                return Text(figures.line(), no_wrap=True, overflow="ellipsis")

        self.console = console or Console(stderr=True)
        # Without a total (the plan not complete yet) rich's bar pulses instead of filling.
        self._progress = Progress(
            BarColumn(bar_width=20), FiguresColumn(table_column=Column(no_wrap=True)),
            console=self.console, transient=False, get_time=clock,
        )  # fmt: skip
        self._task: TaskID | None = None

    def __enter__(self) -> TransferProgress:
        self._progress.start()
        self._task = self._progress.add_task("", total=None)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._progress.stop()

    def __call__(self, event: TransferEvent) -> None:
        if self._task is None:
            return
        self.figures.note(event)
        if event.kind != "planned":
            total = self.figures.total_bytes
            self._progress.update(self._task, completed=self.figures.moved, total=total)

    def print(self, line: str) -> None:
        """`line` above the bar."""
        self.console.print(line, markup=False, highlight=False, soft_wrap=True)


# What the interruptions of this command kept, one line each, for its Ctrl-C handler
# (`kept_lines`). One list per command (`start_command`): tasks and threads append to it.
_KEPT: ContextVar[list[str] | None] = ContextVar("s3kit_kept", default=None)


def start_command() -> None:
    _KEPT.set([])


def kept_lines() -> list[str]:
    return list(_KEPT.get() or ())


def _what(event: TransferEvent) -> str:
    item = event.item
    kind = "upload" if isinstance(item.destination, S3Url) else "download"
    return f"{kind} of {item.source} to {item.destination}"


def resumed_line(event: TransferEvent) -> str | None:
    work = event.partial
    if event.kind != "resumed" or work is None:
        return None
    return (
        f"s3kit: resuming: {size(work.done)} of {size(work.total)} already there"
        f" (the {_what(event)})"
    )


def kept_line(event: TransferEvent) -> str | None:
    work = event.partial
    if event.kind != "interrupted" or work is None:
        return None
    amount = f"{size(work.done)} of {size(work.total)}"
    if work.temp_path:
        kept = f"the partial {_what(event)} in {work.temp_path} ({amount} received)"
    else:
        kept = f"the partial {_what(event)} ({amount} sent)"
    return f"s3kit: interrupted: kept {kept}; run the same command to resume"


def notice(event: TransferEvent, bar: TransferProgress | None, *, quiet: bool = False) -> bool:
    """Say what a person must know of `event` beside the bar — a resume at once (above the
    bar; not with `quiet`), what an interruption kept once the command stops — and whether
    `event` was one of those."""
    if (line := resumed_line(event)) is not None:
        if quiet:
            pass
        elif bar is not None:
            bar.print(line)
        else:
            sys.stderr.write(line + "\n")
        return True
    if event.kind == "interrupted":
        kept = _KEPT.get()
        if (line := kept_line(event)) is not None and kept is not None:
            kept.append(line)
        return True
    return False
