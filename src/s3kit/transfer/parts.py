"""Multipart sizing: pure rules that keep every upload within S3's limits.

S3 allows parts of 5 MiB to 5 GiB (the last part may be smaller), at most 10,000 parts, and
objects up to 5 TiB (`s3kit._limits`). `plan_parts` starts from the requested chunk size and
doubles it until the object fits in 10,000 parts, so a 5 TiB object still uploads with the
default settings.
"""

from __future__ import annotations

from dataclasses import dataclass

# S3's limits are written once in s3kit._limits, importable by layers that must not pull in the
# transfer package; they stay importable from here, where multipart sizing uses them.
from s3kit._limits import MAX_OBJECT as MAX_OBJECT
from s3kit._limits import MAX_PART as MAX_PART
from s3kit._limits import MAX_PARTS as MAX_PARTS
from s3kit._limits import MAX_SINGLE_PUT as MAX_SINGLE_PUT
from s3kit._limits import MIN_PART as MIN_PART
from s3kit._units import GiB as GiB
from s3kit._units import KiB as KiB
from s3kit._units import MiB as MiB
from s3kit._units import TiB as TiB
from s3kit.errors import UsageError

DEFAULT_THRESHOLD = 64 * MiB
DEFAULT_CHUNK = 16 * MiB

_UNITS = {
    "": 1, "b": 1,
    "k": KiB, "kb": 1000, "kib": KiB,
    "m": MiB, "mb": 1000**2, "mib": MiB,
    "g": GiB, "gb": 1000**3, "gib": GiB,
    "t": TiB, "tb": 1000**4, "tib": TiB,
}  # fmt: skip


def parse_size(text: str) -> int:
    """'64MiB' → 67108864; '8MB' → 8000000; '10M' and '10m' → 10 MiB; '512' → 512 bytes."""
    raw = text.strip().lower().replace(" ", "").removesuffix("/s")
    number = raw.rstrip("abcdefghijklmnopqrstuvwxyz")
    unit = raw[len(number) :]
    if unit not in _UNITS or not number:
        raise UsageError(f"'{text}' is not a size — write it like 512KiB, 64MiB, 1GiB or 10MB")
    try:
        value = float(number)
    except ValueError:
        raise UsageError(f"'{text}' is not a size — write it like 64MiB") from None
    if value < 0:
        raise UsageError(f"size '{text}' is negative")
    return int(value * _UNITS[unit])


@dataclass(frozen=True, slots=True)
class Part:
    number: int  # 1-based, as S3 numbers parts
    offset: int
    size: int


def part_size_for(object_size: int, chunk_size: int = DEFAULT_CHUNK) -> int:
    """The part size to use for `object_size` bytes, starting from `chunk_size`."""
    if object_size > MAX_OBJECT:
        raise UsageError(f"objects are limited to 5 TiB; this one is {object_size} bytes")
    size = min(max(chunk_size, MIN_PART), MAX_PART)
    while size * MAX_PARTS < object_size:
        size = min(size * 2, MAX_PART)
    return size


def plan_parts(object_size: int, chunk_size: int = DEFAULT_CHUNK) -> list[Part]:
    """The parts of a multipart upload of `object_size` bytes."""
    size = part_size_for(object_size, chunk_size)
    count = max(1, -(-object_size // size))
    return [
        Part(number, (number - 1) * size, min(size, object_size - (number - 1) * size))
        for number in range(1, count + 1)
    ]


def use_multipart(object_size: int, threshold: int = DEFAULT_THRESHOLD) -> bool:
    """Multipart from `threshold` up; always above the 5 GiB single-PUT limit."""
    return object_size >= max(threshold, MIN_PART) or object_size > MAX_SINGLE_PUT
