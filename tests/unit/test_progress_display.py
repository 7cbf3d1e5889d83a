"""The progress line (cli/progress.py), from events alone: found so far and done apart until the
plan is complete, then a real total and time left; sizes learned late; resumed bytes out of the
rate; one unit system; the lines said of a resume and of what an interruption kept."""

from __future__ import annotations

import re
from dataclasses import replace
from io import StringIO
from pathlib import Path

from rich.console import Console

from s3kit._uri import LocalPath, S3Url
from s3kit.cli.progress import (
    Figures,
    Rate,
    TransferProgress,
    duration,
    kept_line,
    kept_lines,
    notice,
    resumed_line,
    start_command,
)
from s3kit.errors import LocalPathError
from s3kit.transfer import Partial, TransferEvent, TransferItem

MiB = 1024 * 1024


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def upload(name: str, size: int | None) -> TransferItem:
    return TransferItem(LocalPath(Path(f"/data/{name}")), S3Url("bkt", name), size)


def download(name: str, size: int | None) -> TransferItem:
    return TransferItem(S3Url("bkt", name), LocalPath(Path(f"/data/{name}")), size)


def event(kind: str, item: TransferItem, amount: int = 0, **extra: object) -> TransferEvent:
    action = "upload" if isinstance(item.destination, S3Url) else "download"
    return TransferEvent(kind, action, item, bytes=amount, **extra)  # type: ignore[arg-type]


def test_while_scanning_found_and_done_are_apart_and_no_time_left_is_shown() -> None:
    """The report: a recursive copy's total grew as files were found, so the bar sat near
    100 % and its ETA meant nothing. Until "scanned", no total and no time left."""
    clock = Clock()
    figures = Figures(clock)
    items = [upload(f"f{n}", 10 * MiB) for n in range(3)]
    for item in items:
        figures.note(event("queued", item, 10 * MiB))
    clock.now += 2
    figures.note(event("progress", items[0], 10 * MiB))
    figures.note(event("done", items[0], 10 * MiB))

    assert figures.total_bytes is None and figures.seconds_left() is None
    line = figures.line()
    assert line == "1 done of 3 files found so far · 10.0 MiB of 30.0 MiB · 5.0 MiB/s"

    figures.note(event("queued", upload("f3", 10 * MiB), 10 * MiB))  # the walk goes on
    figures.note(event("scanned", items[-1], 40 * MiB, files=4))
    assert figures.total_bytes == 40 * MiB
    assert figures.line() == "1/4 files · 10.0 MiB/40.0 MiB · 5.0 MiB/s · 0:00:06 left"


def test_a_whole_plan_announced_first_has_its_total_from_the_start() -> None:
    figures = Figures(Clock())
    item = download("a", 5 * MiB)
    figures.note(event("scanned", item, 50 * MiB, files=10))
    figures.note(event("queued", item, 5 * MiB))  # queued later: the total holds
    assert (figures.found, figures.total_bytes) == (10, 50 * MiB)
    assert figures.line().startswith("0/10 files · 0 B/50.0 MiB")


def test_a_single_download_learns_its_size_from_the_transfer() -> None:
    """The report: `218,103,808/0 bytes`, ETA 0:00:00 — the object's size was never known to
    the bar. The download's "sized" brings it."""
    clock = Clock()
    figures = Figures(clock)
    item = download("big.bin", None)
    figures.note(event("queued", item))
    figures.note(event("scanned", item, 0, files=1))
    assert figures.total_bytes is None  # not 0: unknown
    assert figures.line() == "0/1 files · 0 B"
    figures.note(event("sized", item, 208 * MiB))
    clock.now += 4
    figures.note(event("progress", item, 8 * MiB))
    assert figures.total_bytes == 208 * MiB
    assert figures.line() == "0/1 files · 8.0 MiB/208.0 MiB · 2.0 MiB/s · 0:01:40 left"


def test_a_size_learned_before_the_scan_ends_stays_in_the_total() -> None:
    figures = Figures(Clock())
    item = download("big.bin", None)
    figures.note(event("queued", item))
    figures.note(event("sized", item, 3 * MiB))
    figures.note(event("scanned", item, 0, files=1))
    assert figures.total_bytes == 3 * MiB


def test_resumed_bytes_count_as_done_but_not_in_the_rate() -> None:
    clock = Clock()
    figures = Figures(clock)
    item = upload("big.bin", 100 * MiB)
    figures.note(event("queued", item, 100 * MiB))
    figures.note(event("scanned", item, 100 * MiB, files=1))
    figures.note(event("resumed", item, 60 * MiB, partial=Partial(60 * MiB, 100 * MiB)))
    figures.note(event("progress", item, 60 * MiB))  # at once: the parts already there
    clock.now += 5
    figures.note(event("progress", item, 10 * MiB))
    assert figures.moved == 70 * MiB
    assert figures.rate.per_second() == 2 * MiB  # 10 MiB in 5 s, not 70
    assert figures.seconds_left() == 15


def test_refused_and_failed_items_count_but_move_nothing() -> None:
    figures = Figures(Clock())
    ok, bad = upload("ok", 10), upload("bad", 20)
    refused = replace(upload("x", 30), refused=LocalPathError("no such name"))
    figures.note(event("queued", ok, 10))
    figures.note(event("queued", bad, 20))
    figures.note(event("failed", refused))  # refused by the plan: never queued
    figures.note(event("failed", bad))
    assert (figures.found, figures.found_bytes, figures.failed) == (3, 60, 1 + 1)
    assert figures.line().startswith("0 done of 3 files found so far, 2 failed")


def test_a_syncs_deletions_and_folders_are_no_transfers_of_its_plan() -> None:
    figures = Figures(Clock())
    item = upload("a", 10)
    figures.note(event("scanned", item, 10, files=1))
    figures.note(event("queued", item, 10))
    figures.note(event("progress", item, 10))
    figures.note(event("done", item, 10))
    gone = S3Url("bkt", "gone")
    figures.note(TransferEvent("done", "delete", TransferItem(gone, gone)))
    folder = TransferItem(LocalPath(Path("/data/new/")), S3Url("bkt", "new/"))
    figures.note(TransferEvent("failed", "upload", folder, LocalPathError("no")))
    assert (figures.done, figures.failed, figures.found) == (1, 0, 1)
    assert figures.line().startswith("1/1 files · 10 B/10 B")


def test_the_rate_covers_the_last_seconds_and_falls_while_nothing_moves() -> None:
    clock = Clock()
    rate = Rate(clock, window=10)
    assert rate.per_second() is None
    for _ in range(20):
        clock.now += 1
        rate.add(MiB)
    assert rate.per_second() == MiB
    clock.now += 10
    assert rate.per_second() is not None and rate.per_second() < MiB  # type: ignore[operator]


def test_duration() -> None:
    assert [duration(s) for s in (0, 59.6, 61, 3 * 3600 + 5)] == [
        "0:00:00",
        "0:01:00",
        "0:01:01",
        "3:00:05",
    ]


def test_one_unit_system_in_the_rendered_bar() -> None:
    """The report: `88.0/476.8 MiB 108.8 MB/s` — binary sizes beside a decimal rate. Every
    figure of the bar is binary now."""
    clock = Clock()
    out = StringIO()
    with TransferProgress(Console(file=out, width=150), clock=clock) as bar:
        item = upload("big.bin", 500_000_000)
        bar(event("queued", item, 500_000_000))
        bar(event("scanned", item, 500_000_000, files=1))
        clock.now += 1
        bar(event("progress", item, 92_274_688))
    text = out.getvalue()
    assert "88.0 MiB/476.8 MiB · 88.0 MiB/s" in text
    assert not re.search(r"\d (kB|MB|GB)\b", text)


def test_the_lines_said_of_a_resume_and_of_what_an_interruption_kept() -> None:
    up, down = upload("big.bin", 20 * MiB), download("big.bin", 20 * MiB)
    kept_up = event("interrupted", up, 10 * MiB, partial=Partial(10 * MiB, 20 * MiB))
    assert kept_line(kept_up) == (
        "s3kit: interrupted: kept the partial upload of /data/big.bin to s3://bkt/big.bin"
        " (10.0 MiB of 20.0 MiB sent); run the same command to resume"
    )
    temp = "/data/.big.bin.s3kit-1234.part"
    kept_down = event("interrupted", down, 5 * MiB, partial=Partial(5 * MiB, 20 * MiB, temp))
    assert kept_line(kept_down) == (
        "s3kit: interrupted: kept the partial download of s3://bkt/big.bin to /data/big.bin in"
        f" {temp} (5.0 MiB of 20.0 MiB received); run the same command to resume"
    )
    assert kept_line(event("interrupted", up)) is None  # nothing kept: nothing to say
    resumed = event("resumed", up, 10 * MiB, partial=Partial(10 * MiB, 20 * MiB))
    assert resumed_line(resumed) == (
        "s3kit: resuming: 10.0 MiB of 20.0 MiB already there"
        " (the upload of /data/big.bin to s3://bkt/big.bin)"
    )

    start_command()
    assert notice(kept_up, None) and notice(event("interrupted", up), None)
    assert not notice(event("progress", up, 1), None)
    assert kept_lines() == [kept_line(kept_up)]
    start_command()
    assert kept_lines() == []


def test_an_item_that_never_ended_cannot_lend_its_id_to_a_new_one() -> None:
    """Items are told apart by identity. An item the run left behind (resumed, then the run
    stopped before its bytes came) stays held by the figures, so Python cannot give its id to
    a new item, whose bytes would then be taken for the old one's resumed bytes and left out
    of the rate."""
    clock = Clock()
    figures = Figures(clock)
    for n in range(50):  # CPython reuses a freed object's memory at once, most times
        left = download(f"left-{n}.bin", 10)
        figures.note(event("queued", left))
        figures.note(event("resumed", left))
        del left  # no one else holds it now
        new = download(f"new-{n}.bin", 1)
        figures.note(event("queued", new))
        clock.now += 1
        figures.note(event("progress", new, 1))
        figures.note(event("done", new))
    assert figures.rate.per_second() == 50 / 50  # every new item's byte, in 50 s
