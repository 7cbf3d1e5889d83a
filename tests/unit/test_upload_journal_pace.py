"""JournalPace: an upload's journal written at most once a second as parts finish, on a fake
clock (tests/integration/test_upload_journal.py has it on a real upload)."""

from __future__ import annotations

from pathlib import Path

from s3kit.transfer.journal import Journal, JournalEntry, JournalPace, JournalPart


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


class Writes(Journal):
    def __init__(self, directory: Path) -> None:
        super().__init__(directory)
        self.parts: list[list[int]] = []

    def save(self, entry: JournalEntry) -> None:
        self.parts.append(sorted(entry.parts))
        super().save(entry)


def _entry() -> JournalEntry:
    return JournalEntry(
        kind="upload", endpoint="http://127.0.0.1:1", bucket="b", key="k",
        local_path="/data/big.bin", size=30, mtime_ns=1, part_size=10, upload_id="u",
    )  # fmt: skip


def _finish(entry: JournalEntry, number: int) -> None:
    entry.parts[number] = JournalPart(etag=f'"{number}"', md5="0" * 32, crc=number, size=10)


def test_parts_finishing_within_a_second_are_written_once_the_second_is_over(
    tmp_path: Path,
) -> None:
    clock, journal, entry = Clock(), Writes(tmp_path), _entry()
    pace = JournalPace(journal, every=1.0, clock=clock)
    for number, at in ((1, 100.2), (2, 100.9), (3, 101.0), (4, 101.5), (5, 102.4)):
        clock.now = at
        _finish(entry, number)
        pace.part_done(entry)
    assert journal.parts == [[1, 2, 3], [1, 2, 3, 4, 5]]


def test_flush_writes_the_parts_not_written_yet_and_only_those(tmp_path: Path) -> None:
    clock, journal, entry = Clock(), Writes(tmp_path), _entry()
    pace = JournalPace(journal, every=1.0, clock=clock)
    pace.flush()  # nothing finished: nothing to write
    _finish(entry, 1)
    pace.part_done(entry)
    pace.flush()
    pace.flush()
    assert journal.parts == [[1]]
    loaded = journal.load("upload", entry.endpoint, "b", "k", "/data/big.bin")
    assert loaded is not None and set(loaded.parts) == {1}


def test_forget_leaves_an_aborted_upload_unwritten(tmp_path: Path) -> None:
    clock, journal, entry = Clock(), Writes(tmp_path), _entry()
    pace = JournalPace(journal, every=1.0, clock=clock)
    _finish(entry, 1)
    pace.part_done(entry)
    pace.forget()
    pace.flush()
    assert journal.parts == []
    assert not list(tmp_path.iterdir())
