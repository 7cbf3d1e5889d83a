"""How long a sync plan will take, from what earlier syncs to the same endpoint measured.

Each finished sync that moved something records (files, bytes, seconds) for its endpoint and
direction; the last `KEEP` runs are kept in `throughput.json` in the user's state folder. A
run's time is modelled as `per_file × files + per_byte × bytes` — the per-file part is request
latency, the per-byte part bandwidth — fitted by least squares over the kept runs (`fit`, pure).
With a single run, or runs too alike to tell the two parts apart, the estimate scales the largest
run's time by the larger of the two ratios, which errs on the long side.

An estimate is only as good as the runs it comes from, so there is none for a plan beyond their
reach: more than `REACH` times the files or the bytes of the largest run measured. A few runs
of a few hundred bytes say nothing of 2 MB (scaling one by the byte ratio once promised "about
9.2 h"): which of latency and bandwidth dominates changes with size, and a straight line through
tiny runs cannot tell. No history, or none that reaches the plan, no estimate.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from s3kit._observe import logger
from s3kit.storage.local import write_atomic

KEEP = 20
# How far beyond the largest run measured (in files, and in bytes) an estimate may go.
REACH = 4.0
FILE_NAME = "throughput.json"


class Run(NamedTuple):
    files: int
    bytes: int
    seconds: float


@dataclass(frozen=True, slots=True)
class Model:
    per_file: float  # seconds per transfer
    per_byte: float  # seconds per byte

    def seconds(self, files: int, size: int) -> float:
        return self.per_file * files + self.per_byte * size


def fit(runs: Sequence[Run]) -> Model | None:
    """The least-squares model of `runs` with both costs non-negative; None without data."""
    useful = [r for r in runs if r.files > 0 and r.seconds > 0]
    if not useful:
        return None
    sff = sum(r.files * r.files for r in useful)
    sbb = sum(float(r.bytes) * r.bytes for r in useful)
    sfb = sum(float(r.files) * r.bytes for r in useful)
    stf = sum(r.seconds * r.files for r in useful)
    stb = sum(r.seconds * r.bytes for r in useful)
    determinant = sff * sbb - sfb * sfb
    if sbb > 0 and determinant > 1e-9 * sff * sbb:
        per_file = (stf * sbb - stb * sfb) / determinant
        per_byte = (stb * sff - stf * sfb) / determinant
        if per_file >= 0 and per_byte >= 0:
            return Model(per_file, per_byte)
    return None


def estimate(runs: Sequence[Run], files: int, size: int) -> float | None:
    """Seconds a plan of `files` transfers and `size` bytes should take, or None when the
    runs measured do not reach that far (see the module docstring)."""
    if files == 0:
        return 0.0
    useful = [r for r in runs if r.files > 0 and r.seconds > 0]
    if not useful:
        return None
    if files > REACH * max(r.files for r in useful) or size > REACH * max(r.bytes for r in useful):
        return None
    model = fit(useful)
    if model is not None:
        return model.seconds(files, size)
    largest = max(useful, key=lambda r: (r.bytes, r.files))
    ratio = max(files / largest.files, size / largest.bytes if largest.bytes else 0.0)
    return largest.seconds * ratio


def history_file() -> Path:
    import platformdirs

    return Path(platformdirs.user_state_dir("s3kit")) / FILE_NAME


class ThroughputHistory:
    """The kept runs, per endpoint and direction. Unreadable history is no history: an
    estimate is a nicety and must never stop a sync."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or history_file()

    def _load(self) -> dict[str, list[list[float]]]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return data if isinstance(data, dict) else {}

    @staticmethod
    def _name(endpoint: str, direction: str) -> str:
        return f"{direction} {endpoint}"

    def runs(self, endpoint: str, direction: str) -> list[Run]:
        kept = self._load().get(self._name(endpoint, direction), [])
        try:
            return [Run(int(f), int(b), float(s)) for f, b, s in kept]
        except (TypeError, ValueError):
            return []

    def record(self, endpoint: str, direction: str, run: Run) -> None:
        if run.files <= 0 or run.seconds <= 0:
            return
        data = self._load()
        name = self._name(endpoint, direction)
        kept = [*data.get(name, []), [run.files, run.bytes, round(run.seconds, 3)]]
        data[name] = kept[-KEEP:]
        try:
            write_atomic(self.path, json.dumps(data).encode(), None, fsync=False)
        except OSError as exc:
            logger.debug("cannot save the throughput history: %s", exc)


def describe_estimate(seconds: float | None) -> str | None:
    """'about 2 min' for the plan's Total, or None when there is nothing to say."""
    if seconds is None or seconds <= 0:
        return None
    if seconds < 1:
        return "under a second"
    if seconds < 90:
        return f"about {seconds:.0f} s"
    if seconds < 90 * 60:
        return f"about {seconds / 60:.0f} min"
    return f"about {seconds / 3600:.1f} h"


__all__ = ["REACH", "Model", "Run", "ThroughputHistory", "describe_estimate", "estimate", "fit"]
