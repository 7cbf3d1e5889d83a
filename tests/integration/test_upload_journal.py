"""How often a multipart upload writes its resume journal (issue 15): at its creation, then at
most once every `JOURNAL_EVERY` seconds as parts finish, and at once when it is interrupted.
Written after every part, the journal cost a millisecond or more of CPU and a few of a stalled
event loop per part, growing with the parts it lists."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from s3kit._uri import S3Url
from s3kit.transfer import WriteOptions
from s3kit.transfer import journal as journal_module
from s3kit.transfer.context import TransferContext
from s3kit.transfer.journal import Journal, JournalEntry
from s3kit.transfer.parts import MiB
from s3kit.transfer.upload import upload_file
from tests.conftest import Backend, unique_bucket_name
from tests.integration.transfer_support import (
    journal_files,
    payload,
    pending,
    small_parts,
    write_file,
)


class CountingJournal(Journal):
    """A journal that keeps a copy of the parts each write listed."""

    def __init__(self, directory: Path) -> None:
        super().__init__(directory)
        self.writes: list[set[int]] = []

    def save(self, entry: JournalEntry) -> None:
        self.writes.append(set(entry.parts))
        super().save(entry)


@pytest.fixture(scope="module")
def bucket(seaweed: Backend) -> str:
    """One bucket for the module: SeaweedFS spends about a second on a new bucket's first
    write."""
    name = unique_bucket_name("jp")
    seaweed.session().client("s3").create_bucket(Bucket=name)
    return name


def _context(backend: Backend, journal_dir: Path) -> tuple[TransferContext, CountingJournal]:
    ctx = TransferContext(backend.session(), small_parts(journal_dir), WriteOptions())
    journal = ctx.journal = CountingJournal(journal_dir)
    return ctx, journal


def test_a_multipart_upload_writes_its_journal_once_not_after_every_part(
    seaweed: Backend, bucket: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(journal_module, "JOURNAL_EVERY", 3600.0)
    data = payload(2 * 5 * MiB, seed=31)  # two parts
    source = write_file(tmp_path / "big.bin", data)
    ctx, journal = _context(seaweed, tmp_path / "journal")
    try:
        result = asyncio.run(upload_file(ctx, source, S3Url(bucket, "big.bin"), lambda _: None))
    finally:
        ctx.close()

    assert result.multipart and result.size == len(data)
    assert journal.writes == [set()]  # at the creation, before any part: never one per part
    assert journal_files(tmp_path / "journal") == []
    assert seaweed.session().storage(bucket).get("big.bin") == data


def test_an_interrupted_upload_journals_every_part_it_finished(
    seaweed: Backend, bucket: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No write was due when the upload was cancelled: the interruption writes it, with every
    finished part, so the next run resends none of them."""
    monkeypatch.setattr(journal_module, "JOURNAL_EVERY", 3600.0)
    session = seaweed.session()
    source = write_file(tmp_path / "big.bin", payload(3 * 5 * MiB, seed=32))
    ctx, journal = _context(seaweed, tmp_path / "journal")
    finished: list[int] = []

    async def upload_until_two_parts() -> None:
        task = asyncio.ensure_future(
            upload_file(ctx, source, S3Url(bucket, "cut.bin"), finished.append)
        )
        while len(finished) < 2:
            await asyncio.sleep(0.005)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    try:
        asyncio.run(upload_until_two_parts())
    finally:
        ctx.close()

    assert journal.writes[0] == set()
    assert journal.writes[-1] >= {1, 2}, journal.writes
    assert len(journal.writes) == 2
    kept = journal.load("upload", ctx.endpoint_id, bucket, "cut.bin", str(source.resolve()))
    assert kept is not None and set(kept.parts) >= {1, 2}
    assert pending(session, bucket, "cut.bin") == [kept.upload_id]  # kept for the next run
