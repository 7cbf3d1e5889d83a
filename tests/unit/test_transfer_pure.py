"""Pure pieces of the transfer layer: part sizing, size parsing, checksums, the bandwidth limit
and the resume journal."""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import os
from pathlib import Path

import pytest

from s3kit.errors import UsageError
from s3kit.storage.base import etags_match
from s3kit.transfer.bandwidth import BandwidthLimiter
from s3kit.transfer.checksum import (
    combine_all,
    crc64,
    crc_hex,
    md5_hex,
    multipart_etag,
)
from s3kit.transfer.journal import Journal, JournalEntry, JournalPart
from s3kit.transfer.parts import (
    MAX_PART,
    MAX_PARTS,
    GiB,
    MiB,
    TiB,
    parse_size,
    part_size_for,
    plan_parts,
    use_multipart,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("512", 512),
        ("8KiB", 8192),
        ("64MiB", 64 * MiB),
        ("64mb", 64_000_000),
        ("10M", 10 * MiB),
        ("1.5GiB", int(1.5 * GiB)),
        ("10MiB/s", 10 * MiB),
        (" 2 g ", 2 * GiB),
    ],
)
def test_parse_size(text: str, expected: int) -> None:
    assert parse_size(text) == expected


@pytest.mark.parametrize("text", ["", "MiB", "ten", "5 parsecs", "-1MiB"])
def test_parse_size_rejects(text: str) -> None:
    with pytest.raises(UsageError):
        parse_size(text)


def test_parts_cover_the_object_exactly() -> None:
    size = 100 * MiB + 7
    parts = plan_parts(size, 8 * MiB)
    assert [p.number for p in parts] == list(range(1, len(parts) + 1))
    assert sum(p.size for p in parts) == size
    assert all(p.size == 8 * MiB for p in parts[:-1])
    assert parts[-1].size == (100 * MiB + 7) - 12 * 8 * MiB
    assert all(b.offset == a.offset + a.size for a, b in itertools.pairwise(parts))


def test_part_size_grows_to_fit_ten_thousand_parts() -> None:
    size = 5 * TiB
    part = part_size_for(size, 8 * MiB)
    assert part * MAX_PARTS >= size
    assert part <= MAX_PART
    assert len(plan_parts(size, 8 * MiB)) <= MAX_PARTS


def test_part_size_never_below_five_mib() -> None:
    assert part_size_for(100 * MiB, 1 * MiB) == 5 * MiB


def test_objects_over_five_tib_are_refused() -> None:
    with pytest.raises(UsageError, match="5 TiB"):
        plan_parts(5 * TiB + 1)


def test_use_multipart_threshold() -> None:
    assert not use_multipart(64 * MiB - 1, 64 * MiB)
    assert use_multipart(64 * MiB, 64 * MiB)
    assert use_multipart(6 * GiB, 100 * GiB)  # single PUTs stop at 5 GiB


def test_crc_of_parts_combines_to_crc_of_whole() -> None:
    data = os.urandom(3 * MiB + 11)
    blocks = [data[:MiB], data[MiB : 2 * MiB + 5], data[2 * MiB + 5 :]]
    combined = combine_all((crc64(b), len(b)) for b in blocks)
    assert combined == crc64(data)
    assert crc64(data[MiB:], crc64(data[:MiB])) == crc64(data)
    assert len(crc_hex(combined)) == 16


def test_multipart_etag_is_md5_of_part_md5s() -> None:
    parts = [b"a" * 10, b"b" * 20]
    expected = hashlib.md5(
        b"".join(hashlib.md5(p, usedforsecurity=False).digest() for p in parts),
        usedforsecurity=False,
    ).hexdigest()
    assert multipart_etag(md5_hex(p) for p in parts) == f'"{expected}-2"'


def test_etags_match_ignores_quotes_and_case() -> None:
    assert etags_match('"ABC-2"', "abc-2")
    assert not etags_match('"abc"', '"abd"')
    assert not etags_match('"abc"', None)


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_bandwidth_limiter_paces_to_rate() -> None:
    clock = FakeClock()

    async def scenario() -> None:
        limiter = BandwidthLimiter(1000, clock=clock, sleep=clock.sleep)
        await limiter.acquire(1000)  # the first second's burst passes at once
        assert clock.now == 0
        await limiter.acquire(500)
        await limiter.acquire(1500)

    asyncio.run(scenario())
    assert clock.now == pytest.approx(2.0)


def test_bandwidth_limiter_rejects_zero() -> None:
    with pytest.raises(ValueError):
        BandwidthLimiter(0)


def test_journal_round_trip_and_drop(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    entry = JournalEntry(
        kind="upload",
        endpoint="http://127.0.0.1:1",
        bucket="b",
        key="k",
        local_path="/tmp/x",
        size=10,
        mtime_ns=5,
        part_size=5,
        upload_id="u-1",
        parts={1: JournalPart(etag='"e"', md5="m", crc=7, size=5)},
    )
    journal.save(entry)
    loaded = journal.load("upload", "http://127.0.0.1:1", "b", "k", "/tmp/x")
    assert loaded == entry
    assert journal.load("upload", "http://127.0.0.1:1", "b", "other", "/tmp/x") is None
    journal.drop(entry)
    assert journal.load("upload", "http://127.0.0.1:1", "b", "k", "/tmp/x") is None


def test_journal_ignores_and_removes_corrupt_entries(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    entry = JournalEntry("download", "e", "b", "k", "/x", 1, 0, 1)
    journal.save(entry)
    journal.path_for(entry).write_text("{not json")
    assert journal.load("download", "e", "b", "k", "/x") is None
    assert not journal.path_for(entry).exists()


def test_an_error_inside_a_200_body_is_recognised() -> None:
    from s3kit.storage.s3http import Response, _error_in_body

    failed = Response(
        200,
        {},
        b'<?xml version="1.0"?>\n<Error><Code>InternalError</Code><Message>x</Message></Error>',
    )
    done = Response(200, {}, b"<CopyObjectResult><ETag>&quot;e&quot;</ETag></CopyObjectResult>")
    assert _error_in_body(failed)
    assert not _error_in_body(done)
    assert not _error_in_body(Response(200, {}, b""))
