"""A small file that cannot be read fails its upload as an s3kit error naming the file, before
any request (the read is translated without `translating`, see upload_file)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from s3kit._session import Session
from s3kit._uri import S3Url
from s3kit.errors import LocalPathError, S3KitError
from s3kit.transfer.context import TransferConfig, TransferContext, WriteOptions
from s3kit.transfer.upload import upload_file


def _context(tmp_path: Path) -> TransferContext:
    session = Session(
        endpoint_url="http://127.0.0.1:9", access_key_id="a", secret_access_key="b", env={}
    )
    return TransferContext(session, TransferConfig(journal_dir=tmp_path / "j"), WriteOptions())


@pytest.mark.parametrize("make", ["vanished", "folder"])
def test_a_small_file_that_cannot_be_read_is_a_local_path_error(tmp_path: Path, make: str) -> None:
    path = tmp_path / "gone.txt"
    if make == "folder":
        path.mkdir()  # listed as a file, replaced by a folder before the read
    ctx = _context(tmp_path)
    try:
        with pytest.raises(S3KitError) as caught:
            # size: as a folder walk passes it, so no stat comes before the read
            asyncio.run(upload_file(ctx, path, S3Url("b", "k"), lambda _: None, size=10))
    finally:
        ctx.close()
    assert isinstance(caught.value, LocalPathError), caught.value
    assert str(path) in str(caught.value)
    assert isinstance(caught.value.__cause__, OSError)
