"""s3kit.cli.format: sizes and `aws s3 ls`-shaped listing lines."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

import pytest

from s3kit.cli.format import human_size, object_line, prefix_line, summary_lines, timestamp

KIB, MIB, GIB, TIB, PIB = (1024**n for n in range(1, 6))


@pytest.fixture
def utc() -> Iterator[None]:
    """Local time is UTC for the test, so printed timestamps are predictable."""
    saved = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    try:
        yield
    finally:
        if saved is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = saved
        time.tzset()


@pytest.mark.parametrize(
    ("size", "shown"),
    [
        (0, "0 Bytes"),
        (1, "1 Bytes"),
        (512, "512 Bytes"),
        (1023, "1023 Bytes"),
        (KIB, "1.0 KiB"),
        (KIB + 1, "1.0 KiB"),
        (1536, "1.5 KiB"),
        (10 * KIB, "10.0 KiB"),
        (MIB - 1, "1.0 MiB"),  # not '1024.0 KiB'
        (MIB - 52, "1023.9 KiB"),
        (MIB, "1.0 MiB"),
        (5 * MIB // 2, "2.5 MiB"),
        (GIB - 1, "1.0 GiB"),
        (3 * GIB, "3.0 GiB"),
        (TIB, "1.0 TiB"),
        (PIB, "1.0 PiB"),
        (2048 * PIB, "2048.0 PiB"),  # the largest unit keeps growing
    ],
)
def test_human_size(size: int, shown: str) -> None:
    assert human_size(size) == shown


def test_timestamp_is_local_time(utc: None) -> None:
    moment = datetime(2024, 3, 5, 14, 7, 9, tzinfo=timezone(timedelta(hours=2)))
    assert timestamp(moment) == "2024-03-05 12:07:09"


def test_timestamp_missing_is_blank_of_the_same_width() -> None:
    assert timestamp(None) == " " * 19
    assert len(timestamp(datetime(2024, 1, 1, tzinfo=UTC))) == 19


def test_object_line(utc: None) -> None:
    moment = datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert object_line(moment, 1234, "a.txt", human=False) == "2024-01-02 03:04:05       1234 a.txt"
    assert object_line(moment, 1536, "b.bin", human=True) == "2024-01-02 03:04:05    1.5 KiB b.bin"


def test_object_line_without_time() -> None:
    assert object_line(None, 0, "empty", human=False) == " " * 19 + " " + " " * 9 + "0 empty"


def test_names_line_up_between_objects_and_prefixes(utc: None) -> None:
    moment = datetime(2024, 1, 2, tzinfo=UTC)
    lines = [
        prefix_line("photos/"),
        object_line(moment, 5, "a.txt", human=False),
        object_line(moment, 9_999_999_999, "big.iso", human=False),
        object_line(moment, 3 * GIB, "big.iso", human=True),
        object_line(None, 1, "x", human=True),
    ]
    columns = {
        line.index(name)
        for line, name in zip(lines, ["photos/", "a.txt", "big.iso", "big.iso", "x"], strict=True)
    }
    assert columns == {31}
    assert prefix_line("photos/") == " " * 27 + "PRE photos/"


def test_summary_lines() -> None:
    assert summary_lines(3, 1536, human=False) == ["", "Total Objects: 3", "   Total Size: 1536"]
    assert summary_lines(3, 1536, human=True) == ["", "Total Objects: 3", "   Total Size: 1.5 KiB"]
    assert summary_lines(0, 0, human=True) == ["", "Total Objects: 0", "   Total Size: 0 Bytes"]
