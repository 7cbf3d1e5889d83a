"""Pure formatting of sizes, dates and listing lines, shaped like `aws s3 ls` output."""

from __future__ import annotations

from datetime import datetime

# The one human-readable size, `aws s3 ls --human-readable` style ('512 Bytes', '1.5 KiB').
from s3kit._units import human_size as human_size


def timestamp(moment: datetime | None) -> str:
    """Local time, 'YYYY-MM-DD HH:MM:SS', as aws-cli prints it."""
    if moment is None:
        return " " * 19
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def object_line(moment: datetime | None, size: int, name: str, *, human: bool) -> str:
    shown = human_size(size) if human else str(size)
    return f"{timestamp(moment)} {shown:>10} {name}"


def prefix_line(name: str) -> str:
    return f"{'PRE':>30} {name}"


def summary_lines(count: int, total: int, *, human: bool) -> list[str]:
    shown = human_size(total) if human else str(total)
    return ["", f"Total Objects: {count}", f"   Total Size: {shown}"]
