"""Streamed one-way sync against both servers: it transfers exactly what plan-first sync
transfers (local→S3, S3→local with stored mtimes, S3→S3), starts before the source scan ends
(a local walk, a listing of several pages), and is what the CLI runs when nothing needs the
whole plan first — with the same output, result document, audit log and history."""

from __future__ import annotations

import json
import time
from pathlib import Path
from unittest.mock import ANY

import pytest

import s3kit._sync.run as sync_run
from s3kit._aio import run_sync
from s3kit._session import Session
from s3kit._sync.execute import SyncExecutor, SyncResult
from s3kit._sync.oneway import prepare_sync_async, streaming_sync
from s3kit._sync.plan import CompareOptions, Plan
from s3kit._sync.scan import LocalSide, S3Side, build_selection
from s3kit._sync.stream import StreamingSync
from s3kit._sync.throughput import history_file
from s3kit._uri import parse_location
from s3kit.storage.base import ObjectInfo
from s3kit.transfer import TransferConfig, TransferEvent
from tests.conftest import Backend, CliInvoker, data_backends
from tests.integration.cli_support import keys, put, tree
from tests.integration.test_sync import write

backend = data_backends()  # seaweedfs, moto and rclone serve s3

OLD = 1_600_000_000.0


def plan_first(
    session: Session, source: str, destination: str, options: CompareOptions
) -> tuple[Plan, SyncResult]:
    prepared = run_sync(
        prepare_sync_async(
            session, parse_location(source), parse_location(destination), options=options,
            selection=build_selection(),
        )
    )  # fmt: skip
    result = SyncExecutor(session).run(prepared.plan, prepared.source, prepared.destination)
    return prepared.plan, result


def streamed(
    session: Session, source: str, destination: str, options: CompareOptions
) -> tuple[Plan, SyncResult]:
    sync = streaming_sync(
        session, parse_location(source), parse_location(destination), options=options,
        selection=build_selection(),
    )  # fmt: skip
    result = run_sync(sync.run_async(SyncExecutor(session)))
    return sync.plan, result


def both_modes(
    session: Session, source: str, destinations: tuple[str, str], options: CompareOptions
) -> set[tuple[str, str, str]]:
    """Plan-first into the first destination, streamed into the second (both alike before):
    the same actions, for the same reasons, with the same results. Returns the actions."""
    planned_plan, planned_result = plan_first(session, source, destinations[0], options)
    streamed_plan, streamed_result = streamed(session, source, destinations[1], options)
    assert planned_result.ok and streamed_result.ok, (planned_result, streamed_result)
    actions = {(a.kind, a.key, a.reason) for a in planned_plan.actions}
    assert {(a.kind, a.key, a.reason) for a in streamed_plan.actions} == actions
    assert len(streamed_plan.actions) == len(actions)
    assert (streamed_result.transferred, streamed_result.bytes) == (
        planned_result.transferred,
        planned_result.bytes,
    )
    assert (streamed_plan.source_count, streamed_plan.destination_count) == (
        planned_plan.source_count,
        planned_plan.destination_count,
    )
    return actions


def objects(session: Session, bucket: str, prefix: str) -> dict[str, tuple[int, str | None]]:
    listed = session.storage(bucket).list(prefix)
    return {e.key[len(prefix) :]: (e.size, e.etag) for e in listed if isinstance(e, ObjectInfo)}


BASE = {
    "dir/x": b"1",
    "dir-2/x": b"22",
    "dir.x": b"333",
    "Readme": b"lower case twin",
    "README": b"UPPER CASE TWIN",
    "same/one": b"unchanged",
    "grown": b"short",
    "edited": b"AAAA",
    "touched": b"tt",
}


def change(root: Path) -> None:
    """Resized, edited in place (same size, old mtime), touched (same bytes, newer) and new
    files, one of them a case twin of an existing folder."""
    write(root, {"grown": b"much longer now", "edited": b"BBBB"}, mtime=OLD)
    write(root, {"touched": b"tt"}, mtime=time.time() + 1000)
    write(root, {"dir-2/new": b"n", "Dir/x": b"twin", "new.txt": b"new"}, mtime=OLD)


@pytest.mark.parametrize("checksum", [False, True], ids=["times", "checksum"])
def test_local_to_s3_streamed_equals_plan_first(
    backend: Backend, bucket: str, tmp_path: Path, checksum: bool
) -> None:
    session = backend.session()
    write(tmp_path, BASE, mtime=OLD)
    urls = (f"s3://{bucket}/a", f"s3://{bucket}/b")
    for url in urls:
        plan_first(session, str(tmp_path), url, CompareOptions())
    change(tmp_path)
    actions = both_modes(session, str(tmp_path), urls, CompareOptions(checksum=checksum))
    moved = {key for _, key, _ in actions}
    expected = {"grown", "dir-2/new", "Dir/x", "new.txt"} | (
        {"edited"} if checksum else {"touched"}
    )
    assert moved == expected
    first, second = objects(session, bucket, "a/"), objects(session, bucket, "b/")
    assert first == second and len(first) == len(BASE) + 3


def test_s3_to_local_streamed_equals_plan_first_with_stored_mtimes(
    backend: Backend, bucket: str, tmp_path: Path
) -> None:
    """Unchanged files, older locally than their objects' LastModified, are looked at (a HEAD
    for the stored mtime) and left alone by both modes; files are stamped alike."""
    session = backend.session()
    source, url = tmp_path / "src", f"s3://{bucket}/p"
    write(source, BASE, mtime=OLD)
    plan_first(session, str(source), url, CompareOptions())
    put(backend, bucket, {"p/plain.txt": b"no mtime metadata"})
    targets = (tmp_path / "a", tmp_path / "b")
    for target in targets:
        plan_first(session, url, str(target), CompareOptions())
    stored = time.time() + 1000  # newer than LastModified, so the upload happens
    write(source, {"edited": b"BBBB"}, mtime=stored)
    write(source, {"grown": b"much longer now", "new/file": b"new"}, mtime=OLD)
    plan_first(session, str(source), url, CompareOptions())
    actions = both_modes(session, url, (str(targets[0]), str(targets[1])), CompareOptions())
    assert {key for _, key, _ in actions} == {"edited", "grown", "new/file"}
    assert (
        tree(targets[0]) == tree(targets[1]) == {**tree(source), "plain.txt": b"no mtime metadata"}
    )
    for name in tree(targets[0]):
        a, b = (target.joinpath(name).stat().st_mtime for target in targets)
        assert abs(a - b) < 0.01, name
    assert abs((targets[1] / "edited").stat().st_mtime - stored) < 0.01
    # And again: nothing moves, however the local mtimes compare with LastModified.
    again_plan, again = streamed(session, url, str(targets[1]), CompareOptions())
    assert (again.transferred, again_plan.actions) == (0, [])


def test_s3_to_s3_streamed_equals_plan_first(
    backend: Backend, bucket: str, other_bucket: str, tmp_path: Path
) -> None:
    session = backend.session()
    put(backend, bucket, {f"in/{key}": data for key, data in BASE.items()})
    urls = (f"s3://{other_bucket}/a", f"s3://{other_bucket}/b")
    for target in urls:
        plan_first(session, f"s3://{bucket}/in", target, CompareOptions())
    put(backend, bucket, {"in/grown": b"much longer now", "in/dir-2/new": b"n", "in/Dir/x": b"t"})
    actions = both_modes(session, f"s3://{bucket}/in", urls, CompareOptions())
    assert {key for _, key, _ in actions} == {"grown", "dir-2/new", "Dir/x"}
    first, second = objects(session, other_bucket, "a/"), objects(session, other_bucket, "b/")
    assert first == second and len(first) == len(BASE) + 2


# -- transfers start before the source scan ends -------------------------------------------


def first_events(sync: StreamingSync) -> tuple[dict[str, tuple[bool, int]], SyncExecutor]:
    """What the source scan had done when the first transfer was queued and when one ended."""
    seen: dict[str, tuple[bool, int]] = {}

    def on_event(event: TransferEvent) -> None:
        if event.kind in ("queued", "done"):
            seen.setdefault(event.kind, (sync.progress.finished, sync.progress.entries))

    # A small backlog: the scan may run ahead of the transfers by a few items only, so that
    # a transfer ends while it still goes on.
    config = TransferConfig(max_concurrent_files=2, max_backlog=4)
    return seen, SyncExecutor(sync.session, config=config, on_event=on_event)


def test_uploads_start_while_the_local_walk_goes_on(
    backend: Backend, bucket: str, tmp_path: Path
) -> None:
    for n in range(300):
        write(tmp_path, {f"d{n % 10}/f{n:03}": b"x"})
    session = backend.session()
    sync = StreamingSync(
        session, LocalSide(tmp_path), S3Side(bucket, "up/"), "upload",
        selection=build_selection(), batch_size=16, queue_batches=2,
    )  # fmt: skip
    seen, executor = first_events(sync)
    result = run_sync(sync.run_async(executor))
    assert result.ok and result.transferred == 300
    assert len(keys(backend, bucket, "up/")) == 300
    assert sync.progress.finished and sync.progress.entries == 300
    for kind in ("queued", "done"):
        finished, walked = seen[kind]
        assert not finished and walked < 300, (kind, seen)


def test_downloads_start_before_the_last_listing_page(
    backend: Backend, bucket: str, tmp_path: Path
) -> None:
    put(backend, bucket, {f"src/f{n:02}": b"y" for n in range(40)})
    session = backend.session()
    sync = StreamingSync(
        session, S3Side(bucket, "src/"), LocalSide(tmp_path), "download", page_size=5
    )
    seen, executor = first_events(sync)
    result = run_sync(sync.run_async(executor))
    assert result.ok and result.transferred == 40
    assert len(tree(tmp_path)) == 40 and sync.progress.finished
    for kind in ("queued", "done"):
        finished, listed = seen[kind]
        assert not finished and listed < 40 - 5, (kind, seen)  # not even on the last page


# -- the CLI ---------------------------------------------------------------------------------


@pytest.fixture
def modes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Which path each `s3kit sync` took: "stream" or "plan"."""
    taken: list[str] = []
    real_stream, real_prepare = sync_run.streaming_sync, sync_run.prepare_sync_async

    def stream(*args: object, **kwargs: object) -> StreamingSync:
        taken.append("stream")
        return real_stream(*args, **kwargs)  # type: ignore[arg-type]

    def prepare(*args: object, **kwargs: object) -> object:
        taken.append("plan")
        return real_prepare(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(sync_run, "streaming_sync", stream)
    monkeypatch.setattr(sync_run, "prepare_sync_async", prepare)
    return taken


def test_cli_streams_unless_the_whole_plan_is_needed(
    cli: CliInvoker, backend: Backend, bucket: str, tmp_path: Path, modes: list[str]
) -> None:
    source, url = tmp_path / "src", f"s3://{bucket}/p"
    write(source, {"a.txt": b"a", "dir/b.txt": b"bb"}, mtime=OLD)
    log = tmp_path / "audit.jsonl"
    first = cli("sync", str(source), url, "--log-file", str(log), env=backend.env())
    assert first.exit_code == 0, first.stderr
    # each line once its upload is done: in the order they end
    assert sorted(first.stdout.splitlines()[:2]) == [
        "upload: + a.txt (1 B)",
        "upload: + dir/b.txt (2 B)",
    ]
    assert "Done: 2 transferred, 0 deleted in " in first.stdout
    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert sorted((r["action"], r["destination"], r["reason"], r["result"]) for r in records) == [
        ("upload", f"{url}/a.txt", "new", "done"),
        ("upload", f"{url}/dir/b.txt", "new", "done"),
    ]
    history = json.loads(history_file().read_text())
    assert [runs for name, runs in history.items() if name.startswith("upload ")] == [[[2, 3, ANY]]]
    write(source, {"c.txt": b"ccc"}, mtime=OLD)
    document = json.loads(cli("sync", str(source), url, "--json", env=backend.env()).stdout)
    assert document == {
        "transferred": 1, "bytes": 3, "deleted": 0, "failed": 0, "skipped": 0, "seconds": ANY,
        "failures": [], "deletions_skipped": None,
    }  # fmt: skip
    assert modes == ["stream", "stream"]
    config = tmp_path / "s3kit.yaml"
    config.write_text("sync:\n  delete_removed: true\n", encoding="utf-8")
    plan_first_runs = [
        ["sync", str(source), url, "--delete"],
        ["sync", str(source), url, "--dryrun"],
        ["sync", str(source), url, "--plan-out", str(tmp_path / "plan.json")],
        ["sync", str(source), url, "--dir-markers"],
        ["--config", str(config), "sync", str(source), url],
    ]
    for args in plan_first_runs:
        done = cli(*args, env=backend.env())
        assert done.exit_code == 0, (args, done.stderr)
    assert modes == ["stream", "stream", "plan", "plan", "plan", "plan", "plan"]


def test_cli_stream_reports_a_failed_download(
    cli: CliInvoker, backend: Backend, bucket: str, tmp_path: Path, modes: list[str]
) -> None:
    """One download cannot land (a folder stands in its way): the others are done, the run
    says so and exits 1, and the log records both outcomes."""
    put(backend, bucket, {"p/ok.txt": b"fine", "p/blocked": b"nowhere to go"})
    target = tmp_path / "dst"
    write(target, {"blocked/inside": b"a folder where the file would go"})
    log = tmp_path / "audit.jsonl"
    url = f"s3://{bucket}/p"
    result = cli("sync", url, str(target), "--log-file", str(log), env=backend.env())
    assert result.exit_code == 1
    assert "1 of 2 actions failed" in result.stderr
    assert (target / "ok.txt").read_bytes() == b"fine"
    assert (target / "blocked" / "inside").is_file()
    records = {r["source"]: r for r in map(json.loads, log.read_text().splitlines())}
    assert {k: r["result"] for k, r in records.items()} == {
        f"{url}/ok.txt": "done",
        f"{url}/blocked": "failed",
    }
    assert records[f"{url}/blocked"]["error"]
    assert modes == ["stream"]
