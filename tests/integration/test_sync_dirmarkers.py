"""`s3kit sync --dir-markers` against both servers: empty folders become folder markers (keys
ending in '/') and back, S3→S3 copies them, `--delete` removes only those whose folder the
source lacks, and dry runs, plan files and audit logs carry them; without the flag, markers
are left alone. Keys are checked with boto3, independently of s3kit's own listing."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from tests.conftest import Backend, CliInvoker, CliResult

TREE_FOLDERS = ["empty", "nested/deeper", "full/sub", "modules/node_modules/pkg", "a-b", "a.x"]
TREE_FILES = {"full/file.txt": b"file", "modules/node_modules/pkg/m.js": b"js", "a-b/f": b"1"}
# What the tree above becomes: 'modules/' holds only node_modules/, which is never synced.
TREE_KEYS = ["a-b/f", "a.x/", "empty/", "full/file.txt", "full/sub/", "modules/",
             "nested/deeper/"]  # fmt: skip


def make_tree(root: Path) -> None:
    """The files are older than their uploads (moto's LastModified has whole seconds)."""
    for folder in TREE_FOLDERS:
        (root / folder).mkdir(parents=True, exist_ok=True)
    past = time.time() - 100
    for name, data in TREE_FILES.items():
        (root / name).write_bytes(data)
        os.utime(root / name, (past, past))


def put_objects(backend: Backend, bucket: str, objects: dict[str, bytes]) -> None:
    client = backend.session().client("s3")
    for key, data in objects.items():
        client.put_object(Bucket=bucket, Key=key, Body=data)


def exact_keys(backend: Backend, bucket: str, prefix: str = "") -> dict[str, int]:
    """Every key under `prefix` (without it) with its size, as S3 has it."""
    client = backend.session().client("s3")
    listed = client.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])
    return {o["Key"][len(prefix) :]: o["Size"] for o in listed}


def local_tree(root: Path) -> list[str]:
    """Every file and folder under `root`, folders with a trailing '/'."""
    return sorted(
        p.relative_to(root).as_posix() + ("/" if p.is_dir() else "") for p in root.rglob("*")
    )


def run(cli: CliInvoker, backend: Backend, *args: str) -> CliResult:
    result = cli("sync", *args, env=backend.env())
    assert result.exit_code == 0, (result.stdout, result.stderr)
    return result


def run_json(cli: CliInvoker, backend: Backend, *args: str) -> dict[str, object]:
    data: dict[str, object] = json.loads(run(cli, backend, *args, "--json").stdout)
    return data


def test_upload_makes_markers_and_download_makes_folders(
    cli: CliInvoker, backend: Backend, bucket: str, tmp_path: Path
) -> None:
    make_tree(tmp_path / "src")
    url = f"s3://{bucket}/site"
    first = run_json(cli, backend, str(tmp_path / "src"), url, "--dir-markers")
    assert first["transferred"] == len(TREE_KEYS)
    stored = exact_keys(backend, bucket, "site/")
    assert sorted(stored) == TREE_KEYS
    assert all(stored[key] == 0 for key in TREE_KEYS if key.endswith("/"))
    again = run_json(cli, backend, str(tmp_path / "src"), url, "--dir-markers", "--delete")
    assert again == {**again, "transferred": 0, "deleted": 0}
    # And back: each marker is an empty folder again.
    run(cli, backend, url, str(tmp_path / "back"), "--dir-markers")
    assert local_tree(tmp_path / "back") == [
        "a-b/", "a-b/f", "a.x/", "empty/", "full/", "full/file.txt", "full/sub/", "modules/",
        "nested/", "nested/deeper/",
    ]  # fmt: skip
    unchanged = run_json(cli, backend, url, str(tmp_path / "back"), "--dir-markers", "--delete")
    assert unchanged == {**unchanged, "transferred": 0, "deleted": 0}


def test_download_skips_the_root_and_keeps_neighbours_apart(
    cli: CliInvoker, backend: Backend, bucket: str, tmp_path: Path
) -> None:
    put_objects(backend, bucket, {
        "p/": b"", "p/photos/2026/": b"", "p/a/": b"", "p/a/x": b"x", "p/a-b": b"ab",
        "p/a.x": b"ax", "p/b/": b"",
    })  # fmt: skip
    result = run(cli, backend, f"s3://{bucket}/p", str(tmp_path), "--dir-markers")
    assert "create folder: + photos/2026/" in result.stdout
    assert "create folder: + b/" in result.stdout
    assert "create folder: + a/" not in result.stdout  # 'a/x' carries it
    assert local_tree(tmp_path) == ["a-b", "a.x", "a/", "a/x", "b/", "photos/", "photos/2026/"]
    again = run(cli, backend, f"s3://{bucket}/p", str(tmp_path), "--dir-markers", "--dryrun")
    assert again.stdout.strip() == "Total: nothing to do"


def test_download_skips_markers_no_folder_can_have(
    cli: CliInvoker, backend: Backend, bucket: str, tmp_path: Path
) -> None:
    put_objects(backend, bucket, {"p/odd/": b"abc", "p/bad//": b"", "p/ok/": b""})
    if backend.name == "seaweedfs":
        # The gap, asserted: SeaweedFS stores 'dir/' as a folder, dropping its bytes and
        # folding '//', so neither odd marker exists there to be skipped.
        listed = {e.key: e.size for e in backend.session().storage(bucket).list("p/")}
        assert "p/bad//" not in listed and listed.get("p/odd/", 0) == 0, listed
        return
    result = cli("sync", f"s3://{bucket}/p", str(tmp_path), "--dir-markers", env=backend.env())
    assert result.exit_code == 1, (result.stdout, result.stderr)  # skipped keys fail the run
    assert f"skipping s3://{bucket}/p/odd/: a folder marker that holds 3 bytes" in result.stderr
    assert "skipped bad//: cannot be a local folder name (it has an empty" in result.stderr
    assert local_tree(tmp_path) == ["ok/"]


def test_s3_to_s3_copies_markers_and_deletes_them_with_the_folder(
    cli: CliInvoker, backend: Backend, bucket: str, other_bucket: str
) -> None:
    put_objects(backend, bucket, {"src/empty/": b"", "src/f": b"f", "src/keep/x": b"x"})
    source, target = f"s3://{bucket}/src", f"s3://{other_bucket}/dst"
    first = run_json(cli, backend, source, target, "--dir-markers")
    assert first["transferred"] == 3
    assert exact_keys(backend, other_bucket) == {"dst/empty/": 0, "dst/f": 1, "dst/keep/x": 1}
    put_objects(backend, other_bucket, {"dst/keep/": b"", "dst/stale/": b""})
    backend.session().client("s3").delete_object(Bucket=bucket, Key="src/empty/")
    result = run(cli, backend, source, target, "--dir-markers", "--delete")
    assert "delete: - empty/" in result.stdout
    assert "delete: - stale/" in result.stdout
    assert "keep/" not in result.stdout  # the source has the folder, through keep/x
    assert exact_keys(backend, other_bucket) == {"dst/f": 1, "dst/keep/": 0, "dst/keep/x": 1}


def test_delete_into_a_bucket_removes_only_markers_of_folders_the_source_lacks(
    cli: CliInvoker, backend: Backend, bucket: str, tmp_path: Path
) -> None:
    (tmp_path / "kept").mkdir()
    (tmp_path / "kept" / "file").write_bytes(b"k")
    (tmp_path / "other" / "deep").mkdir(parents=True)
    put_objects(backend, bucket, {"site/gone/": b"", "site/kept/": b"", "site/other/": b"",
                                  "site/gone-2": b"file"})  # fmt: skip
    result = run(cli, backend, str(tmp_path), f"s3://{bucket}/site", "--dir-markers", "--delete")
    assert "delete: - gone/" in result.stdout
    assert exact_keys(backend, bucket, "site/") == {
        "kept/": 0, "kept/file": 1, "other/": 0, "other/deep/": 0,
    }  # fmt: skip


def test_delete_into_a_folder_removes_empty_folders_only(
    cli: CliInvoker, backend: Backend, bucket: str, tmp_path: Path
) -> None:
    put_objects(backend, bucket, {"p/f": b"f", "p/new/": b""})
    for folder in ["stale", "a/b", "logs", "new"]:
        (tmp_path / folder).mkdir(parents=True)
    (tmp_path / "logs" / "app.log").write_bytes(b"excluded by default")
    result = run(cli, backend, f"s3://{bucket}/p", str(tmp_path), "--dir-markers", "--delete")
    assert "delete: - stale/" in result.stdout
    assert "delete: - a/b/" in result.stdout
    assert "not deleting logs/: folder is not empty" in result.stderr
    assert local_tree(tmp_path) == ["f", "logs/", "logs/app.log", "new/"]


def test_dryrun_and_log_file_show_folders(
    cli: CliInvoker, backend: Backend, bucket: str, tmp_path: Path
) -> None:
    (tmp_path / "src" / "photos" / "2026").mkdir(parents=True)
    (tmp_path / "src" / "a.txt").write_bytes(b"abc")
    put_objects(backend, bucket, {"site/old/": b""})
    url, log = f"s3://{bucket}/site", tmp_path / "audit.jsonl"
    args = (str(tmp_path / "src"), url, "--dir-markers", "--delete", "--log-file", str(log))
    planned = run(cli, backend, *args, "--dryrun")
    assert planned.stdout.splitlines() == [
        "Would upload: + a.txt (3 B)",
        "Would delete: - old/",
        "Would create folder: + photos/2026/",
        "Total: 1 upload, 1 new folder, 1 deletion (3 B to transfer)",
    ]
    assert exact_keys(backend, bucket) == {"site/old/": 0}
    run(cli, backend, *args)
    assert exact_keys(backend, bucket) == {"site/a.txt": 3, "site/photos/2026/": 0}
    records = [json.loads(line) for line in log.read_text().splitlines()]
    folders = [(r["action"], r["path"], r["result"]) for r in records if r["action"] != "upload"]
    assert folders == [
        ("delete", f"{url}/old/", "planned"),
        ("mkdir", f"{url}/photos/2026/", "planned"),
        ("delete", f"{url}/old/", "done"),
        ("mkdir", f"{url}/photos/2026/", "done"),
    ]


def test_apply_carries_out_and_checks_folder_actions(
    cli: CliInvoker, backend: Backend, bucket: str, tmp_path: Path
) -> None:
    (tmp_path / "src" / "empty").mkdir(parents=True)
    (tmp_path / "src" / "gone-soon").mkdir()
    put_objects(backend, bucket, {"site/old/": b""})
    url, plan = f"s3://{bucket}/site", tmp_path / "plan.json"
    args = (str(tmp_path / "src"), url, "--dir-markers", "--delete", "--plan-out", str(plan))
    run(cli, backend, *args)
    document = json.loads(plan.read_text())
    assert [(a["action"], a["key"]) for a in document["actions"]] == [
        ("mkdir", "empty/"), ("mkdir", "gone-soon/"), ("delete", "old/"),
    ]  # fmt: skip
    assert document["summary"]["folders"] == 2
    # The source lost a folder and gained one the plan deletes: apply refuses, changes nothing.
    (tmp_path / "src" / "gone-soon").rmdir()
    (tmp_path / "src" / "old").mkdir()
    refused = cli("apply", str(plan), "--yes", env=backend.env())
    assert refused.exit_code == 1
    assert "gone-soon is gone" in refused.stderr
    assert "old appeared in the source" in refused.stderr
    assert exact_keys(backend, bucket) == {"site/old/": 0}
    (tmp_path / "src" / "old").rmdir()
    run(cli, backend, *args)
    applied = cli("apply", str(plan), "--yes", env=backend.env())
    assert applied.exit_code == 0, applied.stderr
    assert exact_keys(backend, bucket) == {"site/empty/": 0}


def test_without_the_flag_empty_folders_are_not_uploaded(
    cli: CliInvoker, backend: Backend, bucket: str, tmp_path: Path
) -> None:
    make_tree(tmp_path)
    first = run_json(cli, backend, str(tmp_path), f"s3://{bucket}/site")
    assert first["transferred"] == 2
    assert exact_keys(backend, bucket, "site/") == {"a-b/f": 1, "full/file.txt": 4}


def test_without_the_flag_markers_are_skipped(
    cli: CliInvoker, backend: Backend, bucket: str, tmp_path: Path
) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "f").write_bytes(b"f")
    put_objects(backend, bucket, {"site/marker/": b"", "site/f": b"f"})
    upload = run(cli, backend, str(tmp_path / "src"), f"s3://{bucket}/site", "--delete")
    download = cli("sync", f"s3://{bucket}/site", str(tmp_path / "dst"), env=backend.env())
    assert "marker" not in upload.stdout + download.stdout + download.stderr
    assert download.exit_code == 0
    assert "marker/" in exact_keys(backend, bucket, "site/")
