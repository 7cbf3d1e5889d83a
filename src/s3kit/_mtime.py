"""The `mtime` user metadata (`X-Amz-Meta-Mtime`): a file's modification time stored on its
object, so a download can give the file back its own time.

One format, written and read only here: seconds since the epoch with nine decimals
("1700000000.123456789"), which is what rclone writes under the same name, so a file moved by
either tool keeps its exact nanoseconds and neither sees the other's files as changed. Reading
also accepts fewer decimals (earlier s3kit versions wrote three), plain integers and a sign.
The arithmetic is on integers: a float cannot hold today's times to the nanosecond (its 53
bits give about a quarter of a microsecond), which is how a float round trip shifted every
time a little and made rclone re-stamp what s3kit uploaded.
"""

from __future__ import annotations

import re

MTIME_KEY = "mtime"
NS_PER_SECOND = 1_000_000_000
_DIGITS = 9
_SECONDS = re.compile(r"\s*([+-]?)(\d*)(?:\.(\d*))?\s*")


def format_mtime(ns: int) -> str:
    """`ns` nanoseconds since the epoch as the metadata value ("1700000000.123456789")."""
    sign = "-" if ns < 0 else ""
    seconds, fraction = divmod(abs(ns), NS_PER_SECOND)
    return f"{sign}{seconds}.{fraction:0{_DIGITS}d}"


def parse_mtime(text: str | None) -> int | None:
    """The nanoseconds in a metadata value, or None when it is missing or not a time.

    Digits past the ninth are dropped (no store keeps more than nanoseconds)."""
    if text is None:
        return None
    match = _SECONDS.fullmatch(text)
    if match is None:
        return None
    sign, whole, fraction = match.group(1), match.group(2), match.group(3) or ""
    if not whole and not fraction:
        return None
    ns = int(whole or "0") * NS_PER_SECOND + int(fraction[:_DIGITS].ljust(_DIGITS, "0"))
    return -ns if sign == "-" else ns


def seconds(ns: int) -> float:
    """`ns` as the float seconds the sync comparisons work in (their tolerance is 1 ms)."""
    return ns / NS_PER_SECOND


__all__ = ["MTIME_KEY", "NS_PER_SECOND", "format_mtime", "parse_mtime", "seconds"]
