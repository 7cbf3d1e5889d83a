"""A ranged download's writes: its temporary file refuses writes once closed (the thread of a
cancelled range may still be reading, and the descriptor's number may name another file by
then), and a range's body goes to its offset, hashed, refused when longer or shorter than the
range — before anything lands past the range's end."""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from s3kit._uri import S3Url
from s3kit.errors import TransferError
from s3kit.transfer.download import _into, _PartFile
from s3kit.transfer.parts import Part


def test_a_write_after_close_never_reaches_the_file_now_holding_the_number(
    tmp_path: Path,
) -> None:
    part_file = _PartFile(os.open(tmp_path / "download.part", os.O_RDWR | os.O_CREAT))
    part_file.write(memoryview(b"range"), 0)
    part_file.close()
    other = os.open(tmp_path / "other", os.O_RDWR | os.O_CREAT)  # likely the same number
    try:
        with pytest.raises(TransferError, match="stopped"):
            part_file.write(memoryview(b"late"), 0)
    finally:
        os.close(other)
    assert (tmp_path / "other").read_bytes() == b""
    assert (tmp_path / "download.part").read_bytes() == b"range"


def test_writes_land_at_their_offsets(tmp_path: Path) -> None:
    path = tmp_path / "download.part"
    part_file = _PartFile(os.open(path, os.O_RDWR | os.O_CREAT))
    part_file.write(memoryview(b"world"), 6)
    part_file.write(memoryview(b"hello "), 0)
    part_file.fsync()
    part_file.close()
    assert path.read_bytes() == b"hello world"


class _Pieces:
    """Stands for S3Http: hands `body` to the sink four bytes at a time."""

    def __init__(self, body: bytes) -> None:
        self.body = body

    async def read_through_async(
        self, answer: object, sink: Callable[[memoryview], None], limit: int | None = None
    ) -> int:
        for start in range(0, len(self.body), 4):
            sink(memoryview(self.body[start : start + 4]))
        return len(self.body)


def _range(tmp_path: Path, body: bytes, part: Part) -> tuple[bytes, bytes]:
    """(the digest `_into` returned, the file after) for `body` answered for `part`."""
    path = tmp_path / "download.part"
    path.write_bytes(b"." * 32)
    out = _PartFile(os.open(path, os.O_RDWR))
    ctx: Any = SimpleNamespace(http=_Pieces(body))
    try:
        read = _into(ctx, S3Url("b", "k"), out, part, "md5")
        digest = asyncio.run(read(ctx))
    finally:
        out.close()
        written = path.read_bytes()
    return digest, written


def test_a_range_is_written_at_its_offset_and_hashed(tmp_path: Path) -> None:
    digest, written = _range(tmp_path, b"0123456789", Part(2, 10, 10))
    assert digest == hashlib.md5(b"0123456789").digest()
    assert written == b"." * 10 + b"0123456789" + b"." * 12


def test_a_range_answered_longer_is_refused_before_it_spills_over(tmp_path: Path) -> None:
    with pytest.raises(TransferError, match="range 2 came back longer"):
        _range(tmp_path, b"0123456789ab", Part(2, 10, 10))
    assert (tmp_path / "download.part").read_bytes()[20:] == b"." * 12


def test_a_range_answered_short_is_refused(tmp_path: Path) -> None:
    with pytest.raises(TransferError, match="range 2 came back short"):
        _range(tmp_path, b"01234567", Part(2, 10, 10))
