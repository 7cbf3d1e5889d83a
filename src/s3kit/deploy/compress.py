"""Deterministic gzip for deploys, and which content types are worth it.

A deploy decides what changed by comparing hashes, so compressing the same bytes twice must
give the same bytes. `gzip.compress` stamps the current time unless told otherwise, and the
zlib gzip wrapper writes the OS byte of the machine it was built for; so s3kit writes the
10-byte header itself (no file name, no comment, mtime 0, OS "unknown" = 255, as Python's
own `GzipFile` writes it) around a raw deflate stream. The deflate stream is zlib's: it is
identical for the same zlib and level, but a different zlib build (zlib-ng, say) may choose
other, equally valid bytes — which is why change detection should hash the source bytes and
the headers (`FileHeaders.fingerprint`), not the compressed body. Pure: bytes in, bytes out.

Brotli (for a rule's sibling `KEY.br`) has no header to stamp: its output depends on the
input, the quality and the window alone, so both are fixed here (11 and 22, the library's
defaults, written down so a change of default cannot change the bytes). The PyPI `brotli`
package is imported only when a file gets a sibling.
"""

from __future__ import annotations

import struct
import zlib

from s3kit._units import KiB
from s3kit.errors import UsageError

GZIP_MIN_SIZE = KiB  # below this the ~20 bytes of gzip framing eat most of the saving
BROTLI_QUALITY = 11
BROTLI_WINDOW = 22  # lgwin: a 4 MiB window
# A sibling is made in memory at quality 11 (about 1 MB/s): past this the deploy would stall,
# and the file goes without one.
BROTLI_MAX_SIZE = 64 * 1024 * KiB

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


def brotli_bytes(data: bytes) -> bytes:
    """`data` brotli-compressed, the same bytes for the same input and `brotli` library."""
    import brotli  # type: ignore[import-untyped]  # no stubs in the package

    result: bytes = brotli.compress(data, quality=BROTLI_QUALITY, lgwin=BROTLI_WINDOW)
    return result


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


def worth_brotli(content_type: str, size: int | None) -> bool:
    """Whether a rule's brotli sibling is written for a file: a compressible type, and (when
    the size is known) from `GZIP_MIN_SIZE` up to `BROTLI_MAX_SIZE` bytes."""
    if size is not None and not GZIP_MIN_SIZE <= size <= BROTLI_MAX_SIZE:
        return False
    return is_compressible(content_type)


__all__ = [
    "BROTLI_MAX_SIZE",
    "COMPRESSIBLE",
    "GZIP_MIN_SIZE",
    "base_type",
    "brotli_bytes",
    "gzip_bytes",
    "is_compressible",
    "worth_brotli",
    "worth_compressing",
]
