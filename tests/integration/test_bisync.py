"""`s3kit sync --bidirectional` against both servers: first run, edits and deletes both ways,
conflicts, and a remote write racing the run."""

from __future__ import annotations

import time
from pathlib import Path

from s3kit._aio import run_sync
from s3kit._sync.bisync import BiPlan
from s3kit._sync.bisync_run import bisync_async
from s3kit._sync.scan import LocalSide, S3Side
from s3kit.errors import ConflictError
from tests.conftest import Backend, CliInvoker, CliResult
from tests.integration.cli_support import get, keys, put, tree


def write(root: Path, files: dict[str, bytes], *, age: float = 0) -> None:
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        if age:
            stamp = time.time() - age
            import os

            os.utime(path, (stamp, stamp))


def remote_tree(backend: Backend, bucket: str) -> dict[str, bytes]:
    return {k.removeprefix("pre/"): get(backend, bucket, k) for k in keys(backend, bucket, "pre/")}


def bisync(cli: CliInvoker, backend: Backend, local: Path, bucket: str, *args: str) -> CliResult:
    return cli("sync", "--bidirectional", str(local), f"s3://{bucket}/pre", *args,
               env=backend.env())  # fmt: skip


def ok(result: CliResult) -> CliResult:
    assert result.exit_code == 0, (result.stdout, result.stderr)
    return result


def start(cli: CliInvoker, backend: Backend, bucket: str, local: Path) -> None:
    """Local {a, d/b}, remote {c}, then --resync: both sides hold all three."""
    write(local, {"a.txt": b"a1", "d/b.txt": b"b1"}, age=100)
    put(backend, bucket, {"pre/c.txt": b"c1"})
    refused = bisync(cli, backend, local, bucket)
    assert refused.exit_code == 2, refused.stderr
    assert "--resync" in refused.stderr and "deletes nothing" in refused.stderr
    assert remote_tree(backend, bucket) == {"c.txt": b"c1"}
    ok(bisync(cli, backend, local, bucket, "--resync"))
    expected = {"a.txt": b"a1", "d/b.txt": b"b1", "c.txt": b"c1"}
    assert tree(local) == expected
    assert remote_tree(backend, bucket) == expected


def test_resync_then_edits_propagate_both_ways(
    cli: CliInvoker, backend: Backend, bucket: str, tmp_path: Path
) -> None:
    start(cli, backend, bucket, tmp_path)
    quiet = ok(bisync(cli, backend, tmp_path, bucket))
    assert "Done: 0 uploaded, 0 downloaded, 0 deleted" in quiet.stdout
    write(tmp_path, {"a.txt": b"a2-local"})
    put(backend, bucket, {"pre/c.txt": b"c2-remote", "pre/new.txt": b"n"})
    dry = ok(bisync(cli, backend, tmp_path, bucket, "--dryrun"))
    assert "(dryrun) upload: local → remote: a.txt" in dry.stdout
    assert tree(tmp_path)["c.txt"] == b"c1"
    moved = ok(bisync(cli, backend, tmp_path, bucket))
    assert "Done: 1 uploaded, 2 downloaded, 0 deleted" in moved.stdout
    expected = {"a.txt": b"a2-local", "d/b.txt": b"b1", "c.txt": b"c2-remote", "new.txt": b"n"}
    assert tree(tmp_path) == expected
    assert remote_tree(backend, bucket) == expected
    again = ok(bisync(cli, backend, tmp_path, bucket))
    assert "Done: 0 uploaded, 0 downloaded, 0 deleted" in again.stdout


def test_deletes_propagate_and_are_not_resurrected(
    cli: CliInvoker, backend: Backend, bucket: str, tmp_path: Path
) -> None:
    start(cli, backend, bucket, tmp_path)
    (tmp_path / "c.txt").unlink()
    backend.session().storage(bucket).delete("pre/d/b.txt")
    ok(bisync(cli, backend, tmp_path, bucket))
    assert tree(tmp_path) == {"a.txt": b"a1"}
    assert not (tmp_path / "d").exists()  # the folder it emptied went too
    assert remote_tree(backend, bucket) == {"a.txt": b"a1"}
    for _ in range(2):
        ok(bisync(cli, backend, tmp_path, bucket))
        assert tree(tmp_path) == {"a.txt": b"a1"}
        assert remote_tree(backend, bucket) == {"a.txt": b"a1"}


def test_edit_edit_conflict_rename_keeps_both(
    cli: CliInvoker, backend: Backend, bucket: str, tmp_path: Path
) -> None:
    start(cli, backend, bucket, tmp_path)
    write(tmp_path, {"a.txt": b"local edit"}, age=50)  # older than the remote edit
    put(backend, bucket, {"pre/a.txt": b"remote edit!"})
    result = ok(bisync(cli, backend, tmp_path, bucket))
    assert "conflict: keep both: a.txt" in result.stdout
    here, there = tree(tmp_path), remote_tree(backend, bucket)
    assert here == there
    assert here["a.txt"] == b"remote edit!"  # the newer keeps the name
    (loser,) = [k for k in here if k.startswith("a.conflict-")]
    assert loser.endswith("-local.txt") and here[loser] == b"local edit"
    again = ok(bisync(cli, backend, tmp_path, bucket))
    assert "Done: 0 uploaded, 0 downloaded, 0 deleted" in again.stdout


def test_concurrent_remote_write_is_a_conflict_not_an_overwrite(
    cli: CliInvoker, backend: Backend, bucket: str, tmp_path: Path
) -> None:
    start(cli, backend, bucket, tmp_path)
    write(tmp_path, {"a.txt": b"local edit"})
    session = backend.session()

    def race(plan: BiPlan) -> None:
        assert [(a.kind, a.path) for a in plan.actions] == [("upload", "a.txt")]
        session.storage(bucket).put("pre/a.txt", b"written meanwhile")

    outcome = run_sync(
        bisync_async(session, LocalSide(tmp_path), S3Side(bucket, "pre/"), before_execute=race)
    )
    assert outcome.result is not None and not outcome.ok
    ((path, error),) = outcome.result.failures
    assert path == "a.txt" and isinstance(error, ConflictError)
    assert get(backend, bucket, "pre/a.txt") == b"written meanwhile"
    # The next run sees a change on both sides: a conflict, here resolved by keeping both.
    ok(bisync(cli, backend, tmp_path, bucket))
    here = tree(tmp_path)
    assert here == remote_tree(backend, bucket)
    assert sorted(here.values()) == sorted([b"local edit", b"written meanwhile", b"b1", b"c1"])


def test_skip_policy_reports_the_conflict_and_exits_1(
    cli: CliInvoker, backend: Backend, bucket: str, tmp_path: Path
) -> None:
    start(cli, backend, bucket, tmp_path)
    write(tmp_path, {"a.txt": b"local edit"})
    put(backend, bucket, {"pre/a.txt": b"remote edit"})
    for policy in ("skip", "ask"):  # ask: no terminal here, so it refuses
        result = bisync(cli, backend, tmp_path, bucket, "--conflict", policy)
        assert result.exit_code == (1 if policy == "skip" else 2), result.stderr
        assert "a.txt" in result.stderr or "conflict" in result.stderr
    assert tree(tmp_path)["a.txt"] == b"local edit"
    assert get(backend, bucket, "pre/a.txt") == b"remote edit"
    ok(bisync(cli, backend, tmp_path, bucket, "--conflict", "local"))
    assert get(backend, bucket, "pre/a.txt") == b"local edit"


def test_one_way_flags_are_refused_with_bidirectional(
    cli: CliInvoker, seaweed: Backend, tmp_path: Path
) -> None:
    result = cli("sync", "--bidirectional", "--delete", str(tmp_path), "s3://some-bucket/p",
                 env=seaweed.env())  # fmt: skip
    assert result.exit_code == 2
    assert "--delete cannot be used with --bidirectional" in result.stderr
    markers = cli("sync", "--bidirectional", "--dir-markers", "--size-only", str(tmp_path),
                  "s3://some-bucket/p", env=seaweed.env())  # fmt: skip
    assert markers.exit_code == 2
    assert "--size-only, --dir-markers cannot be used with --bidirectional" in markers.stderr, (
        markers.stderr
    )
