"""Pure formatting of sizes, dates and listing lines, shaped like `aws s3 ls` output."""

from __future__ import annotations

from datetime import datetime

_UNITS = ("Bytes", "KiB", "MiB", "GiB", "TiB", "PiB")


def human_size(size: int) -> str:
    """`aws s3 ls --human-readable` style: '512 Bytes', '1.5 KiB', '3.0 GiB'."""
    if size < 1024:
        return f"{size} Bytes"
    value = float(size)
    for unit in _UNITS[1:]:
        value /= 1024
        shown = f"{value:.1f}"
        # Compare what will be shown, so 1048575 bytes is '1.0 MiB', never '1024.0 KiB'.
        if float(shown) < 1024 or unit == _UNITS[-1]:
            return f"{shown} {unit}"
    raise AssertionError("unreachable")  # pragma: no cover


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
