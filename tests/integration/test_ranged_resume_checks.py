"""A ranged download hashes each range as it arrives only for the check it will make, so a run
resumed from a journal written without that hash must check the file another way — never
compare a part it never hashed. The journal is saved at most every second while the ranges
arrive, and always when the download is interrupted.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from s3kit._uri import LocalPath, S3Url
from s3kit.errors import EndpointError, TransferError
from s3kit.transfer import TransferManager
from s3kit.transfer.context import TransferConfig, TransferContext, WriteOptions
from s3kit.transfer.download import DownloadResult, download_version
from tests.conftest import Backend
from tests.integration.transfer_support import (
    PART,
    journal_files,
    leftovers,
    payload,
    small_parts,
    write_file,
)


def _download(
    backend: Backend, config: TransferConfig, source: S3Url, target: Path, stop_after: int
) -> DownloadResult:
    """`download_version` of `source`, its connection lost after `stop_after` ranges (0: never)."""
    seen: list[int] = []

    def progress(amount: int) -> None:
        seen.append(amount)
        if len(seen) == stop_after:
            raise EndpointError("the connection was lost")

    async def run() -> DownloadResult:
        ctx = TransferContext(backend.session(), config, WriteOptions())
        try:
            info = await ctx.reader(source.bucket).head_async(source.key)
            return await download_version(
                ctx, source, target, progress, size=info.size, etag=info.etag or ""
            )
        finally:
            ctx.close()

    return asyncio.run(run())


def test_a_download_stopped_unverified_is_verified_when_resumed(
    backend: Backend, bucket: str, tmp_path: Path
) -> None:
    data = payload(PART + 1234, seed=71)
    source = S3Url(bucket, "big.bin")
    TransferManager(backend.session(), config=small_parts(tmp_path / "up")).run(
        LocalPath(write_file(tmp_path / "up" / "big.bin", data)), source
    )
    journal = tmp_path / "journal"
    target = tmp_path / "down" / "big.bin"
    target.parent.mkdir()

    with pytest.raises(TransferError, match="resume"):
        _download(backend, small_parts(journal, verify=False), source, target, stop_after=1)
    assert len(journal_files(journal)) == 1  # saved as it was interrupted, its first range in it

    result = _download(backend, small_parts(journal), source, target, stop_after=0)

    assert result.resumed_bytes == PART
    assert result.verified == "crc64nvme"
    assert target.read_bytes() == data
    assert leftovers(target.parent) == []
    assert journal_files(journal) == []
