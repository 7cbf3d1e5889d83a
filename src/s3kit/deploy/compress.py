"""Deterministic gzip for deploys, and which content types are worth it.

A deploy decides what changed by comparing hashes, so compressing the same bytes twice must
give the same bytes. `gzip.compress` stamps the current time unless told otherwise, and the
zlib gzip wrapper writes the OS byte of the machine it was built for; so s3kit writes the
10-byte header itself (no file name, no comment, mtime 0, OS "unknown" = 255, as Python's
own `GzipFile` writes it) around a raw deflate stream. The deflate stream is zlib's: it is
identical for the same zlib and level, but a different zlib build (zlib-ng, say) may choose
other, equally valid bytes — which is why change detection should hash the source bytes and
the headers (`FileHeaders.fingerprint`), not the compressed body. Pure: bytes in, bytes out.
"""

from __future__ import annotations

import struct
import zlib

from s3kit._units import KiB
from s3kit.errors import UsageError

GZIP_MIN_SIZE = KiB  # below this the ~20 bytes of gzip framing eat most of the saving

# Types that compress well beyond `text/*`, `*+json` and `*+xml`, which `is_compressible`
# accepts by pattern; images, audio, video, woff/woff2 and archives are compressed already.
COMPRESSIBLE: frozenset[str] = frozenset(
    {
        "application/atom+xml",
        "application/javascript",
        "application/json",
        "application/ld+json",
        "application/manifest+json",
        "application/rss+xml",
        "application/toml",
        "application/vnd.ms-fontobject",
        "application/wasm",
        "application/x-javascript",
        "application/xhtml+xml",
        "application/xml",
        "application/yaml",
        "font/otf",
        "font/ttf",
        "image/bmp",
        "image/svg+xml",
        "image/x-icon",
        "model/gltf+json",
        "text/css",
        "text/csv",
        "text/html",
        "text/javascript",
        "text/markdown",
        "text/plain",
        "text/xml",
    }
)

_MAGIC = b"\x1f\x8b"
_DEFLATE = 8
_OS_UNKNOWN = 255


def gzip_bytes(data: bytes, level: int = 9) -> bytes:
    """`data` as a gzip member whose bytes depend only on `data`, `level` and zlib."""
    if isinstance(level, bool) or not isinstance(level, int) or not 0 <= level <= 9:
        raise UsageError(f"gzip level must be a whole number from 0 to 9, not {level!r}")
    # XFL as RFC 1952 and CPython's gzip module set it: 2 = slowest, 4 = fastest.
    extra_flags = 2 if level == 9 else 4 if level == 1 else 0
    header = struct.pack("<2sBBIBB", _MAGIC, _DEFLATE, 0, 0, extra_flags, _OS_UNKNOWN)
    deflater = zlib.compressobj(level, zlib.DEFLATED, -zlib.MAX_WBITS, zlib.DEF_MEM_LEVEL)
    body = deflater.compress(data) + deflater.flush()
    trailer = struct.pack("<II", zlib.crc32(data), len(data) & 0xFFFFFFFF)
    return header + body + trailer


def base_type(content_type: str) -> str:
    """`text/html; charset=utf-8` → `text/html`."""
    return content_type.partition(";")[0].strip().lower()


def is_compressible(content_type: str) -> bool:
    """Whether bodies of this type usually shrink under gzip."""
    base = base_type(content_type)
    return base in COMPRESSIBLE or base.startswith("text/") or base.endswith(("+json", "+xml"))


def worth_compressing(content_type: str, size: int) -> bool:
    """A compressible type, and at least `GZIP_MIN_SIZE` bytes."""
    return size >= GZIP_MIN_SIZE and is_compressible(content_type)


__all__ = [
    "COMPRESSIBLE",
    "GZIP_MIN_SIZE",
    "base_type",
    "gzip_bytes",
    "is_compressible",
    "worth_compressing",
]
