"""`s3kit sync` and `s3kit apply` against both servers: local→S3, S3→local, S3→S3."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from tests.conftest import Backend, CliInvoker, data_backends
from tests.integration.cli_support import keys, put, tree

backend = data_backends()  # seaweedfs, moto and rclone serve s3


def write(root: Path, files: dict[str, bytes], mtime: float | None = None) -> None:
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        if mtime is not None:
            os.utime(path, (mtime, mtime))


def run_json(cli: CliInvoker, backend: Backend, *args: str) -> dict[str, object]:
    result = cli("sync", *args, "--json", env=backend.env())
    assert result.exit_code == 0, (result.stdout, result.stderr)
    data: dict[str, object] = json.loads(result.stdout)  # one document, nothing else
    return data


SOURCE = {
    "dir/x": b"1",
    "dir-2/x": b"22",
    "dir.x": b"333",
    "docs/report.txt": b"report",
    "app.log": b"log",
    "node_modules/m.js": b"js",
    "secret/key": b"k",
    ".s3kitignore": b"secret/\n",
}
SYNCED = [".s3kitignore", "dir-2/x", "dir.x", "dir/x", "docs/report.txt"]


def test_upload_resync_change_and_delete(
    cli: CliInvoker, backend: Backend, bucket: str, tmp_path: Path
) -> None:
    write(tmp_path, SOURCE, mtime=time.time() - 100)
    url = f"s3://{bucket}/site"
    first = run_json(cli, backend, str(tmp_path), url)
    assert first["transferred"] == 5
    assert keys(backend, bucket) == [f"site/{k}" for k in SYNCED]
    # Nothing changed: nothing moves, whatever order the server lists in.
    again = run_json(cli, backend, str(tmp_path), url, "--delete")
    assert again == {**again, "transferred": 0, "deleted": 0}
    # One file changed: only it moves.
    write(tmp_path, {"dir-2/x": b"changed"})
    changed = cli("sync", str(tmp_path), url, env=backend.env())
    assert changed.exit_code == 0, changed.stderr
    assert "upload: + dir-2/x (7 B)" in changed.stdout
    assert "Done: 1 transferred, 0 deleted" in changed.stdout
    # --delete removes what the source lost, but never what the filters exclude.
    put(backend, bucket, {"site/server.log": b"kept", "site/extra.txt": b"gone"})
    (tmp_path / "dir.x").unlink()
    deleted = cli("sync", str(tmp_path), url, "--delete", env=backend.env())
    assert deleted.exit_code == 0, deleted.stderr
    assert "delete: - dir.x" in deleted.stdout
    assert keys(backend, bucket) == [
        "site/.s3kitignore", "site/dir-2/x", "site/dir/x", "site/docs/report.txt",
        "site/server.log",
    ]  # fmt: skip


def test_delete_guard_and_max_delete(
    cli: CliInvoker, backend: Backend, bucket: str, tmp_path: Path
) -> None:
    put(backend, bucket, {f"f{i:02}": b"x" for i in range(24)})
    write(tmp_path, {f"f{i:02}": b"x" for i in range(4)})
    refused = cli("sync", str(tmp_path), f"s3://{bucket}", "--delete", env=backend.env())
    assert refused.exit_code == 1
    assert "20 of 24" in refused.stderr
    assert len(keys(backend, bucket)) == 24
    limited = cli(
        "sync", str(tmp_path), f"s3://{bucket}", "--delete", "--force", "--max-delete", "5",
        env=backend.env(),
    )  # fmt: skip
    assert limited.exit_code == 1 and "--max-delete 5" in limited.stderr
    empty = tmp_path / "empty"
    empty.mkdir()
    nothing = cli("sync", str(empty), f"s3://{bucket}", "--delete", "--force", env=backend.env())
    assert nothing.exit_code == 1 and "source is empty" in nothing.stderr
    forced = cli("sync", str(tmp_path), f"s3://{bucket}", "--delete", "--force", "--exclude",
                 "empty/*", env=backend.env())  # fmt: skip
    assert forced.exit_code == 0, forced.stderr
    assert keys(backend, bucket) == ["f00", "f01", "f02", "f03"]


def test_download_restores_mtimes_then_nothing_to_do(
    cli: CliInvoker, backend: Backend, bucket: str, tmp_path: Path
) -> None:
    source, target = tmp_path / "src", tmp_path / "dst"
    stamp = 1_700_000_000.25
    write(source, {"a/b.txt": b"bee", "a-b.txt": b"ab", "c": b"c"}, mtime=stamp)
    run_json(cli, backend, str(source), f"s3://{bucket}/p/")
    put(backend, bucket, {"p/plain.txt": b"no mtime metadata"})
    down = run_json(cli, backend, f"s3://{bucket}/p", str(target))
    assert down["transferred"] == 4
    assert tree(target) == {**tree(source), "plain.txt": b"no mtime metadata"}
    assert abs((target / "a" / "b.txt").stat().st_mtime - stamp) < 0.01
    again = run_json(cli, backend, f"s3://{bucket}/p", str(target), "--delete")
    assert (again["transferred"], again["deleted"]) == (0, 0)
    exact = run_json(cli, backend, f"s3://{bucket}/p", str(target), "--exact-timestamps")
    assert exact["transferred"] == 0
    (target / "stray.txt").write_text("stray")
    cleaned = run_json(cli, backend, f"s3://{bucket}/p", str(target), "--delete")
    assert cleaned["deleted"] == 1 and not (target / "stray.txt").exists()


def test_s3_to_s3_and_checksum(
    cli: CliInvoker, backend: Backend, bucket: str, other_bucket: str, tmp_path: Path
) -> None:
    put(backend, bucket, {"in/a": b"a", "in/dir/b": b"b", "in/dir-2/c": b"c"})
    copied = run_json(cli, backend, f"s3://{bucket}/in", f"s3://{other_bucket}/out")
    assert copied["transferred"] == 3
    assert keys(backend, other_bucket) == ["out/a", "out/dir-2/c", "out/dir/b"]
    again = run_json(cli, backend, f"s3://{bucket}/in", f"s3://{other_bucket}/out", "--delete")
    assert (again["transferred"], again["deleted"]) == (0, 0)
    # --checksum: same content with a newer mtime is left alone; other content moves.
    write(tmp_path, {"a": b"a", "dir/b": b"X"}, mtime=time.time() + 60)
    checked = run_json(cli, backend, str(tmp_path), f"s3://{bucket}/in", "--checksum")
    assert checked["transferred"] == 1


def test_checksum_compares_multipart_objects_by_their_full_object_crc(
    cli: CliInvoker, backend: Backend, bucket: str, tmp_path: Path
) -> None:
    """A file uploaded in parts has S3's full-object CRC64NVME (no s3kit metadata for it):
    `--checksum` compares the local file with that, so a touched file stays, an edited one
    of the same size moves."""
    parts = ("--multipart-threshold", "5MiB", "--part-size", "5MiB")
    data = bytes(range(256)) * (24 * 1024)  # 6 MiB: two parts
    write(tmp_path / "src", {"big.bin": data})
    url = f"s3://{bucket}/mp"
    assert run_json(cli, backend, str(tmp_path / "src"), url, *parts)["transferred"] == 1
    write(tmp_path / "src", {"big.bin": data}, mtime=time.time() + 60)
    touched = run_json(cli, backend, str(tmp_path / "src"), url, "--checksum", *parts)
    assert touched["transferred"] == 0, touched
    write(tmp_path / "src", {"big.bin": data[:-1] + b"!"}, mtime=time.time() + 120)
    edited = run_json(cli, backend, str(tmp_path / "src"), url, "--checksum", *parts)
    assert edited["transferred"] == 1, edited


def test_dryrun_plan_out_and_apply(
    cli: CliInvoker, backend: Backend, bucket: str, tmp_path: Path
) -> None:
    source = tmp_path / "src"
    write(source, {"new.txt": b"new", "docs/report.pdf": b"%PDF"})
    put(backend, bucket, {"old.txt": b"old"})
    url = f"s3://{bucket}"
    dry = cli("sync", str(source), url, "--delete", "--dryrun", env=backend.env())
    assert dry.exit_code == 0, dry.stderr
    assert "Would upload: + docs/report.pdf (4 B)" in dry.stdout
    assert "Would delete: - old.txt" in dry.stdout
    assert "Total: 2 uploads, 1 deletion" in dry.stdout
    assert keys(backend, bucket) == ["old.txt"]
    plan = tmp_path / "plan.json"
    out = cli("sync", str(source), url, "--delete", "--plan-out", str(plan), env=backend.env())
    assert out.exit_code == 0, out.stderr
    assert keys(backend, bucket) == ["old.txt"]
    # A source file changed since the plan: apply refuses and does nothing.
    write(source, {"new.txt": b"newer!"})
    refused = cli("apply", str(plan), env=backend.env())
    assert refused.exit_code == 1
    assert "new.txt changed" in refused.stderr
    assert keys(backend, bucket) == ["old.txt"]
    out = cli("sync", str(source), url, "--delete", "--plan-out", str(plan), env=backend.env())
    applied = cli("apply", str(plan), env=backend.env())
    assert applied.exit_code == 0, applied.stderr
    assert keys(backend, bucket) == ["docs/report.pdf", "new.txt"]


def test_filters_and_exclude_from(
    cli: CliInvoker, backend: Backend, bucket: str, tmp_path: Path
) -> None:
    source = tmp_path / "src"
    write(source, {"a.txt": b"a", "b.md": b"b", "build/o": b"o", "x.log": b"l", "y.tmp": b"t"})
    ignore = tmp_path / "ignore"
    ignore.write_text("build/\n")
    result = run_json(
        cli, backend, str(source), f"s3://{bucket}", "--exclude", "*.md",
        "--exclude-from", str(ignore), "--no-default-excludes", "--exclude", "*.tmp",
    )  # fmt: skip
    assert result["transferred"] == 2
    assert keys(backend, bucket) == ["a.txt", "x.log"]


def test_download_delete_removes_folders_it_emptied(
    cli: CliInvoker, backend: Backend, bucket: str, tmp_path: Path
) -> None:
    local = tmp_path / "copy"
    put(backend, bucket, {"p/keep.txt": b"k", "p/old/deep/gone.txt": b"g", "p/old/x.txt": b"x"})
    first = cli("sync", f"s3://{bucket}/p", str(local), env=backend.env())
    assert first.exit_code == 0, first.stderr
    assert (local / "old" / "deep" / "gone.txt").is_file()
    client = backend.session().client("s3")
    client.delete_object(Bucket=bucket, Key="p/old/deep/gone.txt")
    second = cli("sync", f"s3://{bucket}/p", str(local), "--delete", env=backend.env())
    assert second.exit_code == 0, second.stderr
    assert not (local / "old" / "deep").exists()  # emptied by the delete: removed
    assert (local / "old" / "x.txt").is_file()  # still holds a file: kept
    client.delete_object(Bucket=bucket, Key="p/old/x.txt")
    client.delete_object(Bucket=bucket, Key="p/keep.txt")
    client.put_object(Bucket=bucket, Key="p/new.txt", Body=b"n")
    third = cli("sync", f"s3://{bucket}/p", str(local), "--delete", env=backend.env())
    assert third.exit_code == 0, third.stderr
    assert sorted(p.name for p in local.iterdir()) == ["new.txt"]
    assert local.is_dir()  # the root itself stays
