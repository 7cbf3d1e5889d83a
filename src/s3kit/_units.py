"""Byte units and the one human-readable size, for every layer (listings, sync plans, status).

Binary units throughout, as `ls -h` and `aws s3 ls --human-readable` print them: 1 KiB is
1024 bytes. Pure; imports nothing of s3kit, so any layer may use it.
"""

from __future__ import annotations

KiB = 1024
MiB = 1024 * KiB
GiB = 1024 * MiB
TiB = 1024 * GiB

_UNITS = ("KiB", "MiB", "GiB", "TiB", "PiB")


def human_size(size: int, *, bytes_unit: str = "Bytes") -> str:
    """'512 Bytes', '1.5 KiB', '3.0 GiB'. `bytes_unit` names sizes below 1 KiB ("B" where a
    line is short, as in sync plans)."""
    if size < KiB:
        return f"{size} {bytes_unit}"
    value = float(size)
    for unit in _UNITS:
        value /= 1024
        shown = f"{value:.1f}"
        # Compare what will be shown, so 1048575 bytes is '1.0 MiB', never '1024.0 KiB'.
        if float(shown) < 1024 or unit == _UNITS[-1]:
            return f"{shown} {unit}"
    raise AssertionError("unreachable")  # pragma: no cover


__all__ = ["GiB", "KiB", "MiB", "TiB", "human_size"]
