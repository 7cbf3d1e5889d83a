"""Part sizes of an upload from a stream of unknown length (standard input)."""

from __future__ import annotations

from s3kit.transfer.parts import MAX_OBJECT, MAX_PARTS, MiB
from s3kit.transfer.upload import stream_part_size


def test_parts_keep_the_chunk_size_for_the_first_thousand_then_double() -> None:
    chunk = 8 * MiB
    assert stream_part_size(1, chunk) == chunk
    assert stream_part_size(1000, chunk) == chunk
    assert stream_part_size(1001, chunk) == 2 * chunk
    assert stream_part_size(2001, chunk) == 4 * chunk


def test_no_part_is_below_s3s_minimum() -> None:
    assert stream_part_size(1, 1024) == 5 * MiB


def test_ten_thousand_parts_hold_more_than_s3s_largest_object() -> None:
    total = sum(stream_part_size(n, 8 * MiB) for n in range(1, MAX_PARTS + 1))
    assert total > MAX_OBJECT
