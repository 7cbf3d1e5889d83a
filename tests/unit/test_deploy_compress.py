"""Deterministic gzip: the same input gives the same bytes whatever the clock says, and only
types that shrink are worth it."""

from __future__ import annotations

import gzip
import hashlib
import random
import struct
import time
import zlib

import pytest

from s3kit.deploy.compress import (
    COMPRESSIBLE,
    GZIP_MIN_SIZE,
    gzip_bytes,
    is_compressible,
    worth_compressing,
)
from s3kit.deploy.content_types import TEXT_TYPES
from s3kit.errors import UsageError

SAMPLE = b"<!doctype html><title>s3kit</title>" + b"<p>hello, static world</p>\n" * 200


def test_the_clock_does_not_reach_the_bytes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(time, "time", lambda: 1_000_000_000.0)
    first = gzip_bytes(SAMPLE)
    monkeypatch.setattr(time, "time", lambda: 2_000_000_000.0)
    second = gzip_bytes(SAMPLE)
    assert first == second
    assert hashlib.sha256(first).digest() == hashlib.sha256(second).digest()


def test_the_stdlib_without_mtime_0_would_differ(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(time, "time", lambda: 1_000_000_000.0)
    first = gzip.compress(SAMPLE)
    monkeypatch.setattr(time, "time", lambda: 2_000_000_000.0)
    assert gzip.compress(SAMPLE) != first  # so the test above is a real check


@pytest.mark.parametrize("size", [0, 1, GZIP_MIN_SIZE - 1, GZIP_MIN_SIZE, 70_000, 300_000])
@pytest.mark.parametrize("level", [0, 1, 6, 9])
def test_round_trip(size: int, level: int) -> None:
    rng = random.Random(size)
    data = bytes(rng.randrange(256) for _ in range(size // 2)) + SAMPLE * (size // 2 // 100 + 1)
    data = data[:size]
    packed = gzip_bytes(data, level)
    assert gzip.decompress(packed) == data
    assert zlib.decompress(packed, wbits=31) == data  # strict single-member gzip reader
    assert gzip_bytes(data, level) == packed


def test_header_has_mtime_0_no_name_and_a_fixed_os_byte() -> None:
    packed = gzip_bytes(SAMPLE)
    magic, method, flags, mtime, extra_flags, os_byte = struct.unpack("<2sBBIBB", packed[:10])
    assert magic == b"\x1f\x8b"
    assert method == 8
    assert flags == 0  # no FNAME (0x08), FCOMMENT, FEXTRA or FHCRC
    assert not flags & 0x08
    assert mtime == 0
    assert extra_flags == 2  # level 9: slowest
    assert os_byte == 255
    crc, size = struct.unpack("<II", packed[-8:])
    assert crc == zlib.crc32(SAMPLE)
    assert size == len(SAMPLE)


def test_extra_flags_follow_the_level() -> None:
    assert gzip_bytes(SAMPLE, 1)[8] == 4
    assert gzip_bytes(SAMPLE, 6)[8] == 0
    assert len(gzip_bytes(SAMPLE, 9)) < len(SAMPLE)


@pytest.mark.parametrize("level", [-1, 10, True, 9.0])
def test_bad_levels_are_refused(level: object) -> None:
    with pytest.raises(UsageError, match="gzip level"):
        gzip_bytes(SAMPLE, level)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "content_type",
    [
        "text/html; charset=utf-8",
        "Text/HTML",
        "text/css",
        "text/x-unknown",  # any text/*
        "application/javascript",
        "text/javascript; charset=utf-8",
        "application/json",
        "application/vnd.api+json",  # any +json
        "application/xml",
        "application/soap+xml",  # any +xml
        "image/svg+xml; charset=utf-8",
        "application/wasm",
        "application/manifest+json; charset=utf-8",
        "font/ttf",
    ],
)
def test_compressible_types(content_type: str) -> None:
    assert is_compressible(content_type)
    assert worth_compressing(content_type, GZIP_MIN_SIZE)
    assert not worth_compressing(content_type, GZIP_MIN_SIZE - 1)
    assert not worth_compressing(content_type, 0)


@pytest.mark.parametrize(
    "content_type",
    [
        "image/png",
        "image/jpeg",
        "image/webp",
        "font/woff2",
        "video/mp4",
        "application/zip",
        "application/gzip",
        "application/octet-stream",
        "application/pdf",
    ],
)
def test_already_compressed_types_are_not_worth_it(content_type: str) -> None:
    assert not is_compressible(content_type)
    assert not worth_compressing(content_type, 10 * 1024 * 1024)


def test_every_text_type_of_the_table_is_compressible() -> None:
    assert all(is_compressible(base) for base in TEXT_TYPES)
    assert GZIP_MIN_SIZE == 1024
    assert "application/wasm" in COMPRESSIBLE
