"""S3's limits, each written once in s3kit._limits, used at their boundaries by every caller:
exactly the limit is allowed in one request, one byte more is not."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

import pytest

from s3kit import _limits as limits
from s3kit._limits import (
    MAX_COPY_OBJECT,
    MAX_OBJECT,
    MAX_PART,
    MAX_PARTS,
    MAX_POST_UPLOAD,
    MAX_SINGLE_PUT,
    MIN_PART,
    copy_in_parts,
)
from s3kit._units import GiB, MiB, TiB
from s3kit._uri import S3Url
from s3kit.errors import UsageError
from s3kit.service.objects import validate_content_length_range
from s3kit.transfer import parts
from s3kit.transfer.context import TransferConfig, WriteOptions
from s3kit.transfer.copy import copy_object
from s3kit.transfer.parts import part_size_for, plan_parts, use_multipart

# From the S3 API reference (PutObject, CopyObject, UploadPart, POST policy, DeleteObjects).
S3_LIMITS = {
    "MIN_PART": 5 * MiB,
    "MAX_PART": 5 * GiB,
    "MAX_PARTS": 10_000,
    "MAX_OBJECT": 5 * TiB,
    "MAX_SINGLE_PUT": 5_368_709_120,
    "MAX_COPY_OBJECT": 5_368_709_120,
    "MAX_POST_UPLOAD": 5_368_709_120,
    "DELETE_BATCH": 1000,
}


@pytest.mark.parametrize(("name", "value"), S3_LIMITS.items())
def test_each_limit_is_s3s(name: str, value: int) -> None:
    assert getattr(limits, name) == value


def test_the_transfer_layer_uses_the_same_definitions() -> None:
    for name in ("MIN_PART", "MAX_PART", "MAX_PARTS", "MAX_OBJECT", "MAX_SINGLE_PUT"):
        assert getattr(parts, name) is getattr(limits, name), name


def test_a_copy_goes_in_parts_only_above_5_gib() -> None:
    assert not copy_in_parts(0)
    assert not copy_in_parts(MAX_COPY_OBJECT)  # exactly 5 GiB: one CopyObject
    assert copy_in_parts(MAX_COPY_OBJECT + 1)


def test_an_upload_goes_in_parts_above_5_gib_whatever_the_threshold() -> None:
    assert not use_multipart(MAX_SINGLE_PUT, 100 * GiB)
    assert use_multipart(MAX_SINGLE_PUT + 1, 100 * GiB)


def test_part_sizes_stay_within_s3s_range() -> None:
    assert part_size_for(1, 1) == MIN_PART
    assert part_size_for(MAX_OBJECT, 100 * GiB) == MAX_PART
    assert len(plan_parts(MAX_OBJECT)) <= MAX_PARTS
    with pytest.raises(UsageError, match="5 TiB"):
        part_size_for(MAX_OBJECT + 1)


def test_a_post_policy_allows_up_to_5_gib() -> None:
    assert validate_content_length_range(0, MAX_POST_UPLOAD) == (0, MAX_POST_UPLOAD)
    with pytest.raises(UsageError, match="cannot exceed 5 GiB"):
        validate_content_length_range(0, MAX_POST_UPLOAD + 1)


# -- the transfer layer's copy picks its path by the same rule -----------------------------------


class _PartCopy(Exception):
    """Raised where the multipart path starts (it reads the source's head first)."""


@dataclass
class _Answer:
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class _Http:
    requests: list[tuple[str, str, str, dict[str, str]]] = field(default_factory=list)

    async def request_async(
        self, method: str, bucket: str, key: str, *, headers: dict[str, str], **_: Any
    ) -> _Answer:
        self.requests.append((method, bucket, key, headers))
        return _Answer()


@dataclass
class _Context:
    """The parts of a TransferContext a copy of known size and ETag touches."""

    http: _Http = field(default_factory=_Http)
    options: WriteOptions = field(default_factory=WriteOptions)
    config: TransferConfig = field(default_factory=TransferConfig)
    read_encryption: None = None

    def reader(self, bucket: str) -> Any:
        raise _PartCopy(bucket)


def _copy(size: int) -> _Context:
    ctx = _Context()
    moved: list[int] = []
    asyncio.run(
        copy_object(
            ctx,  # type: ignore[arg-type]
            S3Url("src", "big.bin"),
            S3Url("dst", "big.bin"),
            moved.append,
            size=size,
            etag='"e"',
        )
    )
    assert moved == [size]
    return ctx


def test_copy_object_of_exactly_5_gib_is_one_copy_object_request() -> None:
    ctx = _copy(MAX_COPY_OBJECT)
    [(method, bucket, key, headers)] = ctx.http.requests
    assert (method, bucket, key) == ("PUT", "dst", "big.bin")
    assert headers["x-amz-copy-source"].endswith("src/big.bin")


def test_copy_object_of_5_gib_and_one_byte_copies_part_by_part() -> None:
    with pytest.raises(_PartCopy):
        _copy(MAX_COPY_OBJECT + 1)
