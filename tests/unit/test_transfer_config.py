"""TransferConfig refuses what the CLI refuses, at every bound (±1), with the CLI's messages; the
CLI's `build_config` leaves the checking to it. No server."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from s3kit.cli.cp_mv import CopyFlags, build_config
from s3kit.errors import UsageError
from s3kit.transfer import TransferConfig
from s3kit.transfer.parts import MAX_PART, MIN_PART, GiB, MiB

ACCEPTED: list[dict[str, Any]] = [
    {"multipart_chunksize": MIN_PART},
    {"multipart_chunksize": MIN_PART + 1},
    {"multipart_chunksize": MAX_PART - 1},
    {"multipart_chunksize": MAX_PART},
    {"multipart_threshold": 0},  # below 5 MiB acts as 5 MiB (parts.use_multipart)
    {"multipart_threshold": 1},
    {"max_concurrent_files": 1},
    {"max_concurrent_files": 1024},
    {"max_concurrent_parts": 1},
    {"max_concurrent_parts": 256},
    {"bandwidth": 1},
    {"bandwidth": None},
]

REFUSED: list[tuple[dict[str, Any], str]] = [
    ({"multipart_chunksize": MIN_PART - 1}, "--part-size must be at least 5MiB, not 5242879 bytes"),
    ({"multipart_chunksize": 1 * MiB}, "--part-size must be at least 5MiB, not 1MiB"),
    ({"multipart_chunksize": 1_000_000}, "--part-size must be at least 5MiB, not 1MB"),
    ({"multipart_chunksize": MAX_PART + 1},
     "--part-size must be at most 5GiB, not 5368709121 bytes"),
    ({"multipart_chunksize": 6 * GiB}, "--part-size must be at most 5GiB, not 6GiB"),
    ({"multipart_threshold": -1}, "--multipart-threshold must be at least 0, not -1"),
    ({"max_concurrent_files": 0}, "--concurrency must be from 1 to 1024, not 0"),
    ({"max_concurrent_files": 1025}, "--concurrency must be from 1 to 1024, not 1025"),
    ({"max_concurrent_parts": 0}, "--part-concurrency must be from 1 to 256, not 0"),
    ({"max_concurrent_parts": 257}, "--part-concurrency must be from 1 to 256, not 257"),
    ({"bandwidth": 0}, "--bwlimit must be more than 0"),
    ({"bandwidth": -1}, "--bwlimit must be more than 0"),
]  # fmt: skip


def _id(settings: dict[str, Any]) -> str:
    return ",".join(f"{name}={value}" for name, value in settings.items())


@pytest.mark.parametrize("settings", ACCEPTED, ids=_id)
def test_accepts_each_bound(settings: dict[str, Any]) -> None:
    config = TransferConfig(**settings)
    for name, value in settings.items():
        assert getattr(config, name) == value


@pytest.mark.parametrize(("settings", "message"), REFUSED, ids=[_id(s) for s, _ in REFUSED])
def test_refuses_beyond_each_bound(settings: dict[str, Any], message: str) -> None:
    with pytest.raises(UsageError) as raised:
        TransferConfig(**settings)
    assert str(raised.value) == message


def test_replace_validates_too() -> None:
    with pytest.raises(UsageError, match="--concurrency"):
        dataclasses.replace(TransferConfig(), max_concurrent_files=0)


def test_the_defaults_are_valid() -> None:
    TransferConfig()


# -- the CLI leaves the checking to TransferConfig ------------------------------------------


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (CopyFlags(part_size="1MiB"), "--part-size must be at least 5MiB, not 1MiB"),
        (CopyFlags(part_size="6GiB"), "--part-size must be at most 5GiB, not 6GiB"),
        (CopyFlags(bwlimit="0"), "--bwlimit must be more than 0"),
        (CopyFlags(part_concurrency=0), "--part-concurrency must be from 1 to 256, not 0"),
    ],
    ids=["part-size-small", "part-size-large", "bwlimit-0", "part-concurrency-0"],
)
def test_build_config_refuses_through_transfer_config(flags: CopyFlags, message: str) -> None:
    with pytest.raises(UsageError) as raised:
        build_config(flags)
    assert str(raised.value) == message


def test_build_config_checks_the_config_file_values_too() -> None:
    # The config file's own check has no upper bound on the part size; the library's has.
    with pytest.raises(UsageError, match="at most 5GiB"):
        build_config(CopyFlags(), {"multipart_chunksize": 6 * GiB})


def test_build_config_keeps_what_is_valid() -> None:
    config = build_config(
        CopyFlags(part_size="5MiB", threshold="0", bwlimit="1", concurrency=1024),
        {"multipart_chunksize": 64 * MiB},
    )
    assert (config.multipart_chunksize, config.multipart_threshold, config.bandwidth) == (
        MIN_PART,
        0,
        1,
    )
    assert config.max_concurrent_files == 1024
