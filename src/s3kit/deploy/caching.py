"""The Cache-Control a deploy gives a file no rule sets one for: `no-cache` for HTML (always
revalidated, so a new deploy shows at once), a year and `immutable` for a file whose name carries
a content hash, five minutes for the rest. Pure: names and types in, a header out.
"""

from __future__ import annotations

import re

from s3kit.deploy.compress import base_type

HTML_CACHE_CONTROL = "no-cache"
IMMUTABLE_CACHE_CONTROL = "public, max-age=31536000, immutable"
DEFAULT_CACHE_CONTROL = "public, max-age=300"

_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})

# -- hashed file names -------------------------------------------------------------------------

_SEPARATORS = re.compile(r"[.-]")
_HEX = re.compile(r"[0-9a-f]{8,}")
_BASE64URL = re.compile(r"[A-Za-z0-9_]{8,}")
_BARE_HEX_MIN = 16


def is_hashed_name(key: str) -> bool:
    """Whether the file name carries a content hash, so its bytes never change under it.

    The name's last extension is set aside (a name without one is never hashed) and the rest
    is split at '.' and '-' into segments. The name is hashed when a segment other than the
    first is either
      - hex: 8+ characters of 0-9a-f with at least one digit and one letter
        (`app.3f2a9c1b.js`, `main-5d41402abc4b2a76.css`), or
      - base64url: 8+ characters of A-Za-z0-9_ with a digit, an upper- and a lower-case
        letter (`chunk.a1B2c3D4e5.js`, Vite's `index-D4kA9zQx.js`),
    or when the first segment is hex of 16+ characters (Next.js's `0a1b2c3d4e5f6789.css`).

    A wrong "yes" caches a changing file for a year and a wrong "no" costs five minutes of
    caching, so the test leans to "no": all-digit runs are dates and ids (`photo-20240115`),
    a single case with digits is a word or a size (`html5shiv`, `1920x1080`, `INV00012`), and
    a short first segment is the file's own name (`face2face.png`). Missed on purpose: hashes
    that happen to lack a digit or a letter, uppercase base32 (esbuild), and base64url hashes
    containing '-' (split into two segments). A rule's `cache_control` overrides all of this.
    """
    name = key.rpartition("/")[2]
    stem, dot, extension = name.rpartition(".")
    if not (dot and stem and extension):
        return False
    first, *rest = _SEPARATORS.split(stem)
    if len(first) >= _BARE_HEX_MIN and _is_hex_hash(first):
        return True
    return any(_is_hex_hash(segment) or _is_base64url_hash(segment) for segment in rest)


def _is_hex_hash(segment: str) -> bool:
    return (
        _HEX.fullmatch(segment) is not None
        and any(c.isdigit() for c in segment)
        and any(c.isalpha() for c in segment)
    )


def _is_base64url_hash(segment: str) -> bool:
    return (
        _BASE64URL.fullmatch(segment) is not None
        and any(c.isdigit() for c in segment)
        and any(c.isupper() for c in segment)
        and any(c.islower() for c in segment)
    )


def default_cache_control(key: str, content_type: str) -> str:
    """The Cache-Control a file gets when no rule sets one (see the module docstring)."""
    if base_type(content_type) in _HTML_TYPES:
        return HTML_CACHE_CONTROL
    if is_hashed_name(key):
        return IMMUTABLE_CACHE_CONTROL
    return DEFAULT_CACHE_CONTROL


__all__ = [
    "DEFAULT_CACHE_CONTROL",
    "HTML_CACHE_CONTROL",
    "IMMUTABLE_CACHE_CONTROL",
    "default_cache_control",
    "is_hashed_name",
]
