"""S3's size and count limits, each written once, for every layer that must respect them.

From the S3 API reference: a single PUT carries at most 5 GiB; CopyObject takes sources up to
5 GiB (larger ones are copied part by part with UploadPartCopy); a multipart upload has 1 to
10,000 parts of 5 MiB to 5 GiB each (the last may be smaller) and makes objects up to 5 TiB; a
browser POST upload is capped at 5 GiB; DeleteObjects takes 1,000 keys per request. Each limit
is inclusive: an object of exactly 5 GiB may be PUT or copied in one request.

Pure; imports nothing but the units, so the config file, the service layer and the transfer
layer all use these without importing each other.
"""

from __future__ import annotations

from s3kit._units import GiB, MiB, TiB

MIN_PART = 5 * MiB
MAX_PART = 5 * GiB
MAX_PARTS = 10_000
MAX_OBJECT = 5 * TiB
MAX_SINGLE_PUT = 5 * GiB
MAX_COPY_OBJECT = 5 * GiB  # the largest source CopyObject accepts
MAX_POST_UPLOAD = 5 * GiB  # the largest content-length-range a POST policy may allow
DELETE_BATCH = 1000  # keys in one DeleteObjects request


def copy_in_parts(size: int) -> bool:
    """Whether a server-side copy of `size` bytes must go part by part (UploadPartCopy)."""
    return size > MAX_COPY_OBJECT


__all__ = [
    "DELETE_BATCH",
    "MAX_COPY_OBJECT",
    "MAX_OBJECT",
    "MAX_PART",
    "MAX_PARTS",
    "MAX_POST_UPLOAD",
    "MAX_SINGLE_PUT",
    "MIN_PART",
    "copy_in_parts",
]
