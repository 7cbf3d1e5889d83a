"""The checksums other tools leave on objects: reading them from headers and metadata, the
order they are preferred in, and computing them (composite ones over the parts) from bytes
arriving in any chunking."""

from __future__ import annotations

import base64
import hashlib
import random
import zlib
from pathlib import Path

import pytest

from s3kit.storage.base import user_metadata
from s3kit.transfer.checksum import (
    CRC_METADATA_KEY,
    ChecksumComputer,
    Expected,
    amz_checksum,
    crc64,
    crc_hex,
    etag_parts,
    expected_checksum,
    file_checksum,
)

MiB = 1024 * 1024
# Two parts (5 MiB and 1000 bytes of random.Random(1)) and the checksums SeaweedFS 4.48 and moto
# 5.2 answered for them when uploaded in those parts with ChecksumAlgorithm CRC32 / CRC32C.
_rng = random.Random(1)
PARTS = [_rng.randbytes(5 * MiB), _rng.randbytes(1000)]
COMPOSITE_CRC32 = "dsh5xA==-2"
COMPOSITE_CRC32C = "GejB+Q==-2"
FULL_CRC32 = "wuTbFw=="
MULTIPART_ETAG = '"1e0cc57a6ef359d3939216085a7a933a-2"'
# The ETag SeaweedFS 4.48 gave PARTS uploaded in those two parts without checksums.
PARTS_ETAG = '"79cd43e87a8980e1d65b0f33bcd3bad2-2"'


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def computed(expected: Expected, data: bytes, sizes: list[int], chunk: int) -> ChecksumComputer:
    computer = ChecksumComputer(expected, sizes)
    for start in range(0, len(data), chunk):
        computer.update(data[start : start + chunk])
    return computer


# -- reading what the object states -------------------------------------------------------------


def test_composite_as_seaweedfs_and_aws_state_it() -> None:
    found = amz_checksum(
        {"x-amz-checksum-crc32": COMPOSITE_CRC32, "x-amz-checksum-type": "COMPOSITE"},
        MULTIPART_ETAG,
    )
    assert found is not None
    assert (found.label, found.algorithm, found.parts) == ("crc32-composite", "crc32", 2)
    assert found.value == base64.b64decode("dsh5xA==")


def test_composite_as_moto_heads_it_is_read_from_the_multipart_etag() -> None:
    found = amz_checksum({"x-amz-checksum-crc32": "dsh5xA=="}, MULTIPART_ETAG)
    assert found is not None and (found.label, found.parts) == ("crc32-composite", 2)


def test_full_object_checksums() -> None:
    full = amz_checksum(
        {"x-amz-checksum-crc32": FULL_CRC32, "x-amz-checksum-type": "FULL_OBJECT"},
        MULTIPART_ETAG,
    )
    assert full is not None and (full.label, full.parts) == ("crc32", 0)
    single = amz_checksum({"x-amz-checksum-sha256": b64(b"x" * 32)}, '"' + "a" * 32 + '"')
    assert single is not None and (single.label, single.parts) == ("sha256", 0)
    # CRC64NVME is a whole-object checksum, whatever the ETag says.
    nvme = amz_checksum({"x-amz-checksum-crc64nvme": b64(b"12345678")}, MULTIPART_ETAG)
    assert nvme is not None and (nvme.label, nvme.parts) == ("crc64nvme", 0)


def test_no_checksum_or_an_unusable_one() -> None:
    assert amz_checksum({"etag": MULTIPART_ETAG}, MULTIPART_ETAG) is None
    # Composite, but of how many parts nobody says: nothing to compare with.
    assert (
        amz_checksum({"x-amz-checksum-crc32": "AAAAAA==", "x-amz-checksum-type": "COMPOSITE"}, "")
        is None
    )
    garbled = amz_checksum({"x-amz-checksum-sha1": "not base64!"}, "")
    assert garbled is not None and garbled.value == b""  # stated, unreadable: matches nothing
    assert not ChecksumComputer(garbled).matches()


def test_etag_parts_and_user_metadata() -> None:
    assert etag_parts(MULTIPART_ETAG) == 2
    assert etag_parts('"' + "a" * 32 + '"') == 0
    assert etag_parts(None) == 0
    headers = {"x-amz-meta-md5chksum": "abc", "x-amz-meta-mtime": "1.5", "etag": "x"}
    assert user_metadata(headers) == {"md5chksum": "abc", "mtime": "1.5"}


def test_order_of_preference() -> None:
    md5_etag = '"' + hashlib.md5(b"x", usedforsecurity=False).hexdigest() + '"'
    amz = {"x-amz-checksum-sha256": b64(hashlib.sha256(b"x").digest())}
    rclone = {"md5chksum": b64(hashlib.md5(b"x", usedforsecurity=False).digest())}
    mine = {CRC_METADATA_KEY: crc_hex(crc64(b"x")), **rclone}

    def label(metadata: dict[str, str], etag: str, headers: dict[str, str] | None) -> str | None:
        found = expected_checksum(metadata, etag, headers)
        return found.label if found else None

    assert label(mine, md5_etag, amz) == "crc64nvme"
    assert label(rclone, md5_etag, amz) == "sha256"
    assert label(rclone, md5_etag, {}) == "md5"
    assert label(rclone, md5_etag, None) == "md5"
    assert label(rclone, MULTIPART_ETAG, {}) == "md5chksum"
    # Last: the multipart ETag itself, unless the object is one whose ETag is no MD5.
    assert label({}, MULTIPART_ETAG, {}) == "md5-composite"
    assert label({}, MULTIPART_ETAG, None) is None
    assert label({}, MULTIPART_ETAG, {"x-amz-server-side-encryption": "aws:kms"}) is None
    sse_c = {"x-amz-server-side-encryption-customer-algorithm": "AES256"}
    assert label({}, MULTIPART_ETAG, sse_c) is None
    assert label({}, '"not-an-md5-2"', {}) is None


@pytest.mark.parametrize("chunk", [1000, 5 * MiB, 8 * MiB])
def test_a_multipart_etag_is_recomputed_from_the_parts(chunk: int) -> None:
    """The ETag SeaweedFS and moto gave PARTS, from the MD5s of the parts."""
    expected = expected_checksum({}, PARTS_ETAG, {})
    assert expected is not None and expected.parts == 2
    data = b"".join(PARTS)
    sizes = [len(p) for p in PARTS]
    assert computed(expected, data, sizes, chunk).matches()
    damaged = bytearray(data)
    damaged[7] ^= 1
    assert not computed(expected, bytes(damaged), sizes, chunk).matches()
    # Other part sizes make another ETag.
    assert not computed(expected, data, [4 * MiB, MiB + 1000], chunk).matches()
    assert expected.render(computed(expected, data, sizes, chunk).digest()) == PARTS_ETAG.strip('"')


# -- computing ----------------------------------------------------------------------------------


@pytest.mark.parametrize("chunk", [1000, 4096 * 3 + 1, 8 * MiB])
def test_composite_crc32_and_crc32c_match_what_the_servers_computed(chunk: int) -> None:
    data = b"".join(PARTS)
    sizes = [len(p) for p in PARTS]
    for stated, name in ((COMPOSITE_CRC32, "crc32"), (COMPOSITE_CRC32C, "crc32c")):
        expected = amz_checksum(
            {f"x-amz-checksum-{name}": stated, "x-amz-checksum-type": "COMPOSITE"}, ""
        )
        assert expected is not None
        result = computed(expected, data, sizes, chunk)
        assert result.matches(), expected.render(result.digest())
        assert expected.render(result.digest()) == stated


def test_full_object_crc32_is_plain_crc32() -> None:
    data = b"".join(PARTS)
    expected = amz_checksum({"x-amz-checksum-crc32": FULL_CRC32}, "")
    assert expected is not None
    assert computed(expected, data, [], 777_777).matches()
    assert base64.b64decode(FULL_CRC32) == zlib.crc32(data).to_bytes(4, "big")


def test_composite_sha256_is_the_sha256_of_the_part_digests() -> None:
    parts = [b"a" * 5000, b"b" * 3000, b"c" * 7]
    digest = hashlib.sha256(b"".join(hashlib.sha256(p).digest() for p in parts)).digest()
    expected = amz_checksum(
        {"x-amz-checksum-sha256": f"{b64(digest)}-3", "x-amz-checksum-type": "COMPOSITE"}, ""
    )
    assert expected is not None
    assert computed(expected, b"".join(parts), [5000, 3000, 7], 999).matches()


def test_a_flipped_byte_or_wrong_length_matches_nothing() -> None:
    data = bytearray(b"".join(PARTS))
    sizes = [len(p) for p in PARTS]
    expected = amz_checksum({"x-amz-checksum-crc32": COMPOSITE_CRC32}, MULTIPART_ETAG)
    assert expected is not None
    data[len(data) // 2] ^= 1
    assert not computed(expected, bytes(data), sizes, MiB).matches()
    data[len(data) // 2] ^= 1
    assert not computed(expected, bytes(data[:-1]), sizes, MiB).matches()  # short
    assert not computed(expected, bytes(data) + b"!", sizes, MiB).matches()  # long
    assert computed(expected, bytes(data), sizes, MiB).matches()
    with pytest.raises(ValueError, match="part sizes"):
        ChecksumComputer(expected, [len(data)])


@pytest.mark.parametrize("algorithm", ["crc32", "crc32c", "crc64nvme", "sha1", "sha256"])
def test_whole_object_checksums_of_each_algorithm(algorithm: str, tmp_path: Path) -> None:
    from awscrt import checksums

    data = random.Random(5).randbytes(300_001)
    if algorithm.startswith("crc"):
        width = 8 if algorithm == "crc64nvme" else 4
        digest = getattr(checksums, algorithm)(data).to_bytes(width, "big")
    else:
        digest = hashlib.new(algorithm, data).digest()
    expected = amz_checksum({f"x-amz-checksum-{algorithm}": b64(digest)}, "")
    assert expected is not None and expected.label == algorithm
    assert computed(expected, data, [], 65_536).matches()
    path = tmp_path / "f"
    path.write_bytes(data)
    assert file_checksum(str(path), expected, block=4097).matches()
    path.write_bytes(data[:-1] + b"\0")
    assert not file_checksum(str(path), expected).matches()


def test_md5_checks_render_as_stated() -> None:
    data = b"rclone wrote me"
    stated = b64(hashlib.md5(data, usedforsecurity=False).digest())
    rclone = expected_checksum({"md5chksum": stated}, MULTIPART_ETAG, {})
    assert rclone is not None and rclone.label == "md5chksum"
    result = computed(rclone, data, [], 4)
    assert result.matches() and rclone.render(result.digest()) == stated
    etag = expected_checksum({}, '"' + hashlib.md5(data, usedforsecurity=False).hexdigest() + '"')
    assert etag is not None and etag.label == "md5"
    assert computed(etag, data, [], 3).matches()
    mine = expected_checksum({CRC_METADATA_KEY: "ZZ"}, "")
    assert mine is not None and mine.value == b"" and not computed(mine, data, [], 3).matches()
