"""Streamed one-way sync without a server: the walk as a stream (batches, backpressure, early
close, errors), the decisions against plan-first ones (both sides local folders), closer
looks beside the scan, the audit recorder of a growing plan and the bar's growing total."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator
from io import StringIO
from pathlib import Path

import pytest
from rich.console import Console

from s3kit._session import Session
from s3kit._sync import stream as stream_module
from s3kit._sync.audit import AuditRecord, PlanRecorder
from s3kit._sync.execute import _BusyTime
from s3kit._sync.plan import (
    NEW,
    Action,
    CompareOptions,
    Direction,
    Entry,
    Plan,
    entry,
    make_plan,
    revise,
)
from s3kit._sync.scan import (
    LocalSide,
    S3Side,
    ScanProgress,
    Side,
    build_selection,
    refine_async,
    scan_local,
    stream_local_async,
    walk_local,
)
from s3kit._sync.stream import StreamingSync
from s3kit._uri import LocalPath, S3Url
from s3kit.cli.progress import TransferProgress
from s3kit.errors import S3KitError
from s3kit.transfer import TransferEvent, TransferItem

OLD = 1_600_000_000.0


def offline_session() -> Session:
    return Session(
        endpoint_url="http://127.0.0.1:9", access_key_id="k", secret_access_key="s", env={}
    )


def write(root: Path, files: dict[str, bytes], mtime: float = OLD) -> None:
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        os.utime(path, (mtime, mtime))


def many(root: Path, count: int, folders: int = 10) -> None:
    for i in range(count):
        path = root / f"d{i % folders}" / f"f{i:05}"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")


async def collect(stream: AsyncIterator[Entry]) -> list[Entry]:
    return [item async for item in stream]


# -- the walk: one rule, as a list or as a stream ----------------------------------------------


def test_walk_list_and_stream_find_the_same(tmp_path: Path) -> None:
    root = tmp_path / "src"
    write(root, {"dir/x": b"1", "dir-2/x": b"2", "dir.x": b"3", "a.log": b"4", "k/e/p": b"5"})
    (root / "node_modules" / "m").mkdir(parents=True)
    (root / "outside").symlink_to(tmp_path)
    (root / "loop").symlink_to(root)
    said: dict[str, list[str]] = {"list": [], "stream": []}
    selection = build_selection(source_root=root)
    listed = scan_local(root, selection, follow_symlinks=True, warn=said["list"].append)
    found: list[Entry] = []
    assert walk_local(root, found.append, selection, follow_symlinks=True) is True
    progress = ScanProgress()
    streamed = asyncio.run(
        collect(
            stream_local_async(
                root, selection, follow_symlinks=True, warn=said["stream"].append,
                progress=progress, batch_size=2,
            )
        )
    )  # fmt: skip
    keys = ["dir-2/x", "dir.x", "dir/x", "k/e/p"]
    assert [e.key for e in listed.entries] == keys
    assert sorted(e.key for e in found) == sorted(e.key for e in streamed) == sorted(keys)
    assert sorted(streamed) == listed.entries
    assert sorted(said["list"]) == sorted(said["stream"]) and len(said["list"]) == 2
    assert (progress.entries, progress.finished, progress.complete) == (4, True, True)


def test_a_walk_waits_for_its_consumer(tmp_path: Path) -> None:
    """The queue is bounded: while nobody reads, the walk stops a few batches ahead."""
    many(tmp_path, 600)
    progress = ScanProgress()

    async def main() -> tuple[int, int]:
        stream = stream_local_async(tmp_path, progress=progress, batch_size=10, queue_batches=2)
        first = await anext(stream)
        assert first is not None
        await asyncio.sleep(0.5)  # plenty for the walk of 600 files to end, were it free to
        held = progress.entries
        rest = await collect(stream)
        return held, len(rest) + 1

    held, total = asyncio.run(main())
    # the batch being read, two queued, one waiting to be handed over, one being filled
    assert held <= 5 * 10, held
    assert total == progress.entries == 600 and progress.finished


def test_closing_a_stream_early_stops_the_walk(tmp_path: Path) -> None:
    many(tmp_path, 600)
    progress = ScanProgress()

    async def main() -> None:
        stream = stream_local_async(tmp_path, progress=progress, batch_size=10, queue_batches=2)
        for _ in range(5):
            await anext(stream)
        started = time.monotonic()
        await stream.aclose()  # returns once the walk's thread has ended
        assert time.monotonic() - started < 2
        stopped_at = progress.entries
        await asyncio.sleep(0.3)
        assert progress.entries == stopped_at

    asyncio.run(main())
    assert not progress.finished and progress.entries < 600


def test_a_walk_that_fails_raises_in_the_consumer(tmp_path: Path) -> None:
    with pytest.raises(S3KitError, match="missing: no such file or folder"):
        asyncio.run(collect(stream_local_async(tmp_path / "missing")))


# -- decisions: streamed equals planned ------------------------------------------------------


TREE = {
    "dir/x": b"1",
    "dir-2/x": b"22",
    "dir.x": b"333",
    "Readme": b"case twin one",
    "README": b"case twin two",
    "same": b"unchanged",
    "grown": b"longer than before",
    "edited": b"same size!",
    "touched": b"same bytes",
}


def make_sides(tmp_path: Path) -> tuple[LocalSide, LocalSide]:
    """A source with new, unchanged, resized, edited and touched files against a destination
    that also holds files the source lacks."""
    src, dst = tmp_path / "src", tmp_path / "dst"
    write(src, TREE)
    write(src, {"new/file": b"new"})
    write(dst, {k: v for k, v in TREE.items() if k not in ("dir-2/x", "README")})
    write(dst, {"grown": b"short", "edited": b"SAME SIZE!", "only-here": b"stays"})
    write(src, {"touched": b"same bytes"}, mtime=OLD + 100)
    return LocalSide(src), LocalSide(dst)


def planned(
    source: LocalSide, destination: LocalSide, direction: Direction, options: CompareOptions
) -> list[Action]:
    session = offline_session()
    plan = make_plan(
        scan_local(source.root).entries, scan_local(destination.root).entries, direction, options
    )
    refreshed = asyncio.run(refine_async(session, plan, source, destination))
    return revise(plan, refreshed, options).actions


def streamed(
    source: Side, destination: Side, direction: Direction, options: CompareOptions, **kw: int
) -> StreamingSync:
    sync = StreamingSync(offline_session(), source, destination, direction, options=options, **kw)
    decided = asyncio.run(collect_actions(sync))
    assert decided == sync.plan.actions  # the plan holds what was yielded, in that order
    return sync


async def collect_actions(sync: StreamingSync) -> list[Action]:
    return [action async for action in sync.actions()]


RULES = {
    "default": CompareOptions(),
    "size-only": CompareOptions(size_only=True),
    "checksum": CompareOptions(checksum=True),
    "exact-timestamps": CompareOptions(exact_timestamps=True),
}


@pytest.mark.parametrize("direction", ["upload", "download"])
@pytest.mark.parametrize("options", RULES.values(), ids=RULES.keys())
def test_streamed_decisions_equal_the_plan(
    tmp_path: Path, direction: Direction, options: CompareOptions
) -> None:
    source, destination = make_sides(tmp_path)
    expected = planned(source, destination, direction, options)
    sync = streamed(source, destination, direction, options, batch_size=2, looks=2)
    assert sorted(sync.plan.actions, key=lambda a: a.key) == expected
    assert (sync.plan.source_count, sync.plan.destination_count) == (10, 8)
    keys = {a.key for a in expected}
    assert {"dir-2/x", "README", "new/file", "grown"} <= keys  # never confused by neighbours
    assert "same" not in keys and "only-here" not in keys and "dir/x" not in keys
    assert ("edited" in keys) == options.checksum
    assert ("touched" in keys) == (not options.size_only and not options.checksum)


def test_a_streamed_sync_never_deletes() -> None:
    with pytest.raises(S3KitError, match="never deletes"):
        StreamingSync(
            offline_session(), LocalSide(Path("/a")), S3Side("b", ""), "upload",
            options=CompareOptions(delete=True),
        )  # fmt: skip


# -- closer looks run beside the scan, bounded ---------------------------------------------


def test_closer_looks_run_concurrently_and_bounded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source, destination = tmp_path / "src", tmp_path / "dst"
    names = {f"f{i:02}": b"same size" for i in range(40)}
    write(source, names)
    write(destination, names)
    running, peak = 0, 0

    async def slow_look(
        session: Session, src: Entry, dst: Entry, reason: str, *sides: Side, **options: object
    ) -> tuple[Entry | None, Entry | None]:
        nonlocal running, peak
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0.05)
        running -= 1
        changed = src.key.endswith("7")  # f07, f17, ...: the content differs
        return src._replace(etag="a" * 32), dst._replace(etag=("b" if changed else "a") * 32)

    monkeypatch.setattr(stream_module, "closer_look_async", slow_look)
    started = time.monotonic()
    sync = streamed(
        LocalSide(source), LocalSide(destination), "upload", CompareOptions(checksum=True),
        looks=8, batch_size=4,
    )  # fmt: skip
    assert peak == 8
    assert time.monotonic() - started < 40 * 0.05 / 2  # far from one look at a time
    assert sorted(a.key for a in sync.plan.actions) == ["f07", "f17", "f27", "f37"]
    assert {a.reason for a in sync.plan.actions} == {"content differs"}


def test_a_failed_look_stops_the_stream(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / "src", {"a": b"1", "b": b"2"})
    write(tmp_path / "dst", {"a": b"1", "b": b"2"})

    async def broken(*args: object, **options: object) -> tuple[Entry | None, Entry | None]:
        raise S3KitError("access denied")

    monkeypatch.setattr(stream_module, "closer_look_async", broken)
    sync = StreamingSync(
        offline_session(), LocalSide(tmp_path / "src"), LocalSide(tmp_path / "dst"), "upload",
        options=CompareOptions(checksum=True),
    )  # fmt: skip
    with pytest.raises(S3KitError, match="access denied"):
        asyncio.run(collect_actions(sync))


# -- the report side: a plan that grows ----------------------------------------------------


def test_recorder_learns_actions_added_after_it_was_made() -> None:
    plan = Plan("upload")
    src, dst = LocalSide(Path("/data")), S3Side("b", "p/")
    written: list[AuditRecord] = []
    recorder = PlanRecorder(plan, src, dst, written.append)
    for key in ("a", "b", "c"):
        plan.actions.append(Action("upload", key, NEW, entry(key, 1, 1.0)))
    item = TransferItem(src.location("b"), dst.location("b"), 1)
    recorder(TransferEvent("done", "upload", item))
    plan.actions.append(Action("upload", "d", NEW, entry("d", 1, 1.0)))
    recorder.finish()
    assert [(r["destination"], r["result"]) for r in written] == [
        ("s3://b/p/b", "done"),
        ("s3://b/p/a", "failed"),
        ("s3://b/p/c", "failed"),
        ("s3://b/p/d", "failed"),
    ]


def test_the_bar_has_no_total_until_the_scan_has_ended() -> None:
    output = StringIO()
    console = Console(file=output, force_terminal=True, width=120)

    # One object per item, passed with each of its events as the transfer layer does: the
    # bar tells items apart by identity, and a fresh object per event could reuse a freed id.
    items = [TransferItem(LocalPath(f"/d/{n}"), S3Url("b", str(n)), 10) for n in range(3)]

    def item(n: int) -> TransferItem:
        return items[n]

    with TransferProgress(console) as bar:
        for n in range(2):
            bar(TransferEvent("queued", "upload", item(n), bytes=10))
        bar(TransferEvent("progress", "upload", item(0), bytes=10))
        bar(TransferEvent("done", "upload", item(0), bytes=10))
        bar(TransferEvent("queued", "upload", item(2), bytes=10))  # found later by the scan
        bar(TransferEvent("done", "upload", item(1), bytes=10))
        task = bar._progress.tasks[0]
        assert (bar.figures.done, bar.figures.found) == (2, 3)
        assert (task.completed, task.total) == (10, None)  # what was found is no total
        assert bar.figures.line().startswith("2 done of 3 files found so far")
        bar(TransferEvent("scanned", "upload", item(2), bytes=30, files=3))
        assert (task.completed, task.total) == (10, 30)
    assert "2/3 files" in output.getvalue()


def test_the_selection_filters_the_stream(tmp_path: Path) -> None:
    write(tmp_path / "src", {"keep": b"1", "skip.tmp": b"2", "node_modules/m.js": b"3"})
    (tmp_path / "dst").mkdir()
    sync = StreamingSync(
        offline_session(), LocalSide(tmp_path / "src"), LocalSide(tmp_path / "dst"), "upload",
        selection=build_selection(),
    )  # fmt: skip
    assert [a.key for a in asyncio.run(collect_actions(sync))] == ["keep"]
    assert sync.plan.source_count == 1 and sync.complete


def test_busy_time_counts_only_while_transfers_are_under_way() -> None:
    """What the throughput history records for a streamed run: not the gaps in which the
    transfers waited for the scan."""
    now = [0.0]
    busy = _BusyTime(lambda: now[0])
    item = TransferItem(LocalPath("/d/a"), S3Url("b", "a"), 1)
    for at, kind in [(1, "queued"), (2, "queued"), (3, "done"), (4, "failed"),  # 3 s busy
                     (10, "progress"), (20, "queued"), (22, "done")]:  # fmt: skip
        now[0] = at
        busy.note(TransferEvent(kind, "upload", item))  # type: ignore[arg-type]
    assert busy.seconds == 5.0
