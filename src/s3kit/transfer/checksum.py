"""Checksums: the full-object CRC64NVME s3kit stores with every upload, and S3 ETags.

CRC64NVME because it is the fastest of the checksums S3 knows (about 25 GB/s on one core with
awscrt, against 1.8 GB/s for SHA-256), it is the default full-object checksum of S3 itself,
and CRCs of separate blocks combine into the CRC of the whole without re-reading, so parts
can be summed in parallel. It is stored in the object's user metadata (`s3kit-crc64nvme`, as
16 hex digits), which every S3-compatible store keeps, and verified on download when present.

ETags: a single-part upload's ETag is the MD5 of the content; a multipart one is the MD5 of
the concatenated part MD5s, followed by `-<parts>`. Both are recomputed and compared.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

CRC_METADATA_KEY = "s3kit-crc64nvme"


def crc64(data: bytes | memoryview, previous: int = 0) -> int:
    from awscrt.checksums import crc64nvme

    return int(crc64nvme(data, previous))


def crc64_combine(first: int, second: int, second_length: int) -> int:
    from awscrt.checksums import combine_crc64nvme

    return int(combine_crc64nvme(first, second, second_length))


def combine_all(parts: Iterable[tuple[int, int]]) -> int:
    """The CRC of the concatenation of blocks given as (crc, length) in order."""
    total = 0
    for crc, length in parts:
        total = crc64_combine(total, crc, length)
    return total


def crc_hex(value: int) -> str:
    return f"{value:016x}"


def md5_hex(data: bytes | memoryview) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def single_etag(md5: str) -> str:
    return f'"{md5}"'


def multipart_etag(part_md5s: Iterable[str]) -> str:
    """The ETag S3 gives a multipart object: MD5 of the binary part MD5s, then -<count>."""
    digests = [bytes.fromhex(md5) for md5 in part_md5s]
    return f'"{hashlib.md5(b"".join(digests), usedforsecurity=False).hexdigest()}-{len(digests)}"'


def normalise_etag(etag: str | None) -> str:
    return (etag or "").strip().strip('"').lower()


def etags_match(expected: str, actual: str | None) -> bool:
    return normalise_etag(expected) == normalise_etag(actual)


def file_md5_and_crc(path: str, block: int = 8 * 1024 * 1024) -> tuple[str, int]:
    """MD5 (hex) and CRC64NVME of a whole file, read once."""
    digest = hashlib.md5(usedforsecurity=False)
    crc = 0
    with open(path, "rb") as handle:  # noqa: PTH123 - a plain path string is fine here
        for chunk in iter(lambda: handle.read(block), b""):
            digest.update(chunk)
            crc = crc64(chunk, crc)
    return digest.hexdigest(), crc
