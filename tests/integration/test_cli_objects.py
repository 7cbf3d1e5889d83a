"""`s3kit ls | cp | mv | rm | cat` against every backend, through the real CLI entry point."""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.conftest import Backend, CliInvoker
from tests.integration.cli_support import (
    assert_failed,
    assert_usage_error,
    get,
    keys,
    put,
    tree,
)

DATE = r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}"
BINARY = bytes(range(256)) * 3 + b"\x00\r\n\xff"


def object_line(stdout: str, name: str) -> re.Match[str] | None:
    return re.search(rf"^{DATE}\s+(\S+(?: \S+)?) {re.escape(name)}$", stdout, re.MULTILINE)


# -- ls --------------------------------------------------------------------------------------


def test_ls_without_arguments_lists_buckets(cli: CliInvoker, backend: Backend, bucket: str) -> None:
    result = cli("ls", env=backend.env())
    assert result.exit_code == 0, result.stderr
    assert re.search(rf"^{DATE} {bucket}$", result.stdout, re.MULTILINE), result.stdout


def test_ls_bucket_shows_prefixes_and_objects(
    cli: CliInvoker, backend: Backend, bucket: str
) -> None:
    put(backend, bucket, {"top.txt": b"12345", "dir/x.txt": b"abc", "dir/sub/y.txt": b"y"})

    result = cli("ls", f"s3://{bucket}/", env=backend.env())
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert [line.strip() for line in lines if "PRE" in line] == ["PRE dir/"]
    match = object_line(result.stdout, "top.txt")
    assert match and match.group(1) == "5", result.stdout
    assert "x.txt" not in result.stdout

    inner = cli("ls", f"s3://{bucket}/dir/", env=backend.env())
    assert inner.exit_code == 0, inner.stderr
    assert "PRE sub/" in inner.stdout
    match = object_line(inner.stdout, "x.txt")
    assert match and match.group(1) == "3", inner.stdout
    assert "dir/x.txt" not in inner.stdout


def test_ls_prefix_without_slash_lists_like_aws(
    cli: CliInvoker, backend: Backend, bucket: str
) -> None:
    put(
        backend,
        bucket,
        {"dir/x.txt": b"1", "dir-2/y.txt": b"2", "dirfile.txt": b"333", "other.txt": b"4"},
    )
    result = cli("ls", f"s3://{bucket}/dir", env=backend.env())
    assert result.exit_code == 0, result.stderr
    prefixes = sorted(line.split()[-1] for line in result.stdout.splitlines() if "PRE" in line)
    assert prefixes == ["dir-2/", "dir/"]
    assert object_line(result.stdout, "dirfile.txt"), result.stdout
    assert "other.txt" not in result.stdout
    assert "x.txt" not in result.stdout


def test_ls_recursive_human_readable_summarize(
    cli: CliInvoker, backend: Backend, bucket: str
) -> None:
    put(backend, bucket, {"a/b/c.bin": b"x" * 2048, "a/d.txt": b"12", "e.txt": b"345"})

    result = cli("ls", f"s3://{bucket}", "--recursive", "--summarize", env=backend.env())
    assert result.exit_code == 0, result.stderr
    assert "PRE" not in result.stdout
    for key, size in (("a/b/c.bin", "2048"), ("a/d.txt", "2"), ("e.txt", "3")):
        match = object_line(result.stdout, key)
        assert match and match.group(1) == size, result.stdout
    assert "Total Objects: 3" in result.stdout
    assert re.search(r"Total Size: 2053$", result.stdout, re.MULTILINE), result.stdout

    human = cli(
        "ls", f"s3://{bucket}/a/", "-r", "--human-readable", "--summarize", env=backend.env()
    )
    assert human.exit_code == 0, human.stderr
    match = object_line(human.stdout, "a/b/c.bin")
    assert match and match.group(1) == "2.0 KiB", human.stdout
    match = object_line(human.stdout, "a/d.txt")
    assert match and match.group(1) == "2 Bytes", human.stdout
    assert "e.txt" not in human.stdout
    assert "Total Objects: 2" in human.stdout
    assert "Total Size: 2.0 KiB" in human.stdout


def test_ls_json_is_valid(cli: CliInvoker, backend: Backend, bucket: str) -> None:
    put(backend, bucket, {"dir/x.txt": b"abc", "top.txt": b"12345"})

    flat = cli("ls", f"s3://{bucket}/", "--json", env=backend.env())
    assert flat.exit_code == 0, flat.stderr
    records = json.loads(flat.stdout)
    assert {"prefix": "dir/"} in records
    (top,) = [r for r in records if r.get("key") == "top.txt"]
    assert top["size"] == 5
    assert {"last_modified", "etag", "storage_class"} <= set(top)

    deep = cli("ls", f"s3://{bucket}", "-r", "--json", env=backend.env())
    assert deep.exit_code == 0, deep.stderr
    assert sorted((r["key"], r["size"]) for r in json.loads(deep.stdout)) == [
        ("dir/x.txt", 3),
        ("top.txt", 5),
    ]

    # A prefix that matches nothing exits 1 in every output mode (as `aws s3 ls` does).
    empty = cli("ls", f"s3://{bucket}/nothing/", "--json", env=backend.env())
    assert empty.exit_code == 1, empty.stderr
    assert json.loads(empty.stdout) == []

    buckets = cli("ls", "--json", env=backend.env())
    assert buckets.exit_code == 0, buckets.stderr
    assert bucket in [b["name"] for b in json.loads(buckets.stdout)]


# -- cp --------------------------------------------------------------------------------------


def test_cp_local_file_to_bucket_and_key(
    cli: CliInvoker, backend: Backend, bucket: str, tmp_path: Path
) -> None:
    source = tmp_path / "report.txt"
    source.write_bytes(b"quarterly numbers")

    into = cli("cp", str(source), f"s3://{bucket}/", env=backend.env())
    assert into.exit_code == 0, into.stderr
    assert f"upload: {source} to s3://{bucket}/report.txt" in into.stdout

    named = cli("cp", str(source), f"s3://{bucket}/docs/renamed.txt", env=backend.env())
    assert named.exit_code == 0, named.stderr

    assert keys(backend, bucket) == ["docs/renamed.txt", "report.txt"]
    assert get(backend, bucket, "report.txt") == b"quarterly numbers"
    assert get(backend, bucket, "docs/renamed.txt") == b"quarterly numbers"


def test_cp_object_to_local_file_and_folder(
    cli: CliInvoker, backend: Backend, bucket: str, tmp_path: Path
) -> None:
    put(backend, bucket, {"deep/data.bin": BINARY})

    target = tmp_path / "copy.bin"
    result = cli("cp", f"s3://{bucket}/deep/data.bin", str(target), env=backend.env())
    assert result.exit_code == 0, result.stderr
    assert target.read_bytes() == BINARY

    folder = tmp_path / "folder"
    folder.mkdir()
    result = cli("cp", f"s3://{bucket}/deep/data.bin", str(folder), env=backend.env())
    assert result.exit_code == 0, result.stderr
    assert tree(folder) == {"data.bin": BINARY}


def test_cp_s3_to_s3_same_bucket_and_across(
    cli: CliInvoker, backend: Backend, bucket: str, other_bucket: str
) -> None:
    put(backend, bucket, {"src/a.bin": BINARY})

    same = cli("cp", f"s3://{bucket}/src/a.bin", f"s3://{bucket}/dst/", env=backend.env())
    assert same.exit_code == 0, same.stderr
    assert f"copy: s3://{bucket}/src/a.bin to s3://{bucket}/dst/a.bin" in same.stdout
    assert get(backend, bucket, "dst/a.bin") == BINARY

    across = cli("cp", f"s3://{bucket}/src/a.bin", f"s3://{other_bucket}/b.bin", env=backend.env())
    assert across.exit_code == 0, across.stderr
    assert get(backend, other_bucket, "b.bin") == BINARY
    assert keys(backend, bucket) == ["dst/a.bin", "src/a.bin"]


def test_cp_recursive_roundtrip_keeps_tree(
    cli: CliInvoker, backend: Backend, bucket: str, tmp_path: Path
) -> None:
    source = tmp_path / "src"
    files = {
        "top.txt": b"top",
        "nested/deeper/data.bin": BINARY,
        "nested/my file ü €.txt": "grüße".encode(),
        "empty.txt": b"",
    }
    for relative, data in files.items():
        path = source / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)

    up = cli("cp", "--recursive", str(source), f"s3://{bucket}/backup/", env=backend.env())
    assert up.exit_code == 0, up.stderr
    assert keys(backend, bucket) == sorted(f"backup/{k}" for k in files)

    back = tmp_path / "restored"
    down = cli("cp", "-r", f"s3://{bucket}/backup", str(back), env=backend.env())
    assert down.exit_code == 0, down.stderr
    assert tree(back) == files


def test_cp_stdin_and_stdout(cli: CliInvoker, backend: Backend, bucket: str) -> None:
    upload = cli("cp", "-", f"s3://{bucket}/piped.bin", env=backend.env(), input=BINARY)
    assert upload.exit_code == 0, upload.stderr
    assert get(backend, bucket, "piped.bin") == BINARY

    download = cli("cp", f"s3://{bucket}/piped.bin", "-", env=backend.env())
    assert download.exit_code == 0, download.stderr
    assert download.stdout_bytes == BINARY

    mixed = cli("cp", f"s3://{bucket}/piped.bin", "-", "--json", env=backend.env())
    assert mixed.exit_code == 2
    assert mixed.stdout_bytes == b""


def test_cp_dryrun_uploads_nothing(
    cli: CliInvoker, backend: Backend, bucket: str, tmp_path: Path
) -> None:
    (tmp_path / "a.txt").write_bytes(b"a")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.txt").write_bytes(b"b")

    result = cli("cp", "-r", "--dryrun", str(tmp_path), f"s3://{bucket}/p/", env=backend.env())
    assert result.exit_code == 0, result.stderr
    assert f"(dryrun) upload: {tmp_path / 'a.txt'} to s3://{bucket}/p/a.txt" in result.stdout
    assert f"(dryrun) upload: {tmp_path / 'sub' / 'b.txt'} to s3://{bucket}/p/sub/b.txt" in (
        result.stdout
    )
    assert keys(backend, bucket) == []

    single = cli("cp", "--dryrun", str(tmp_path / "a.txt"), f"s3://{bucket}/", env=backend.env())
    assert single.exit_code == 0, single.stderr
    assert single.stdout.startswith("(dryrun) upload: ")
    assert keys(backend, bucket) == []


def test_cp_json_summary(cli: CliInvoker, backend: Backend, bucket: str, tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_bytes(b"12345")
    (tmp_path / "b.txt").write_bytes(b"678")

    result = cli("cp", "-r", "--json", str(tmp_path), f"s3://{bucket}/", env=backend.env())
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert set(summary) == {
        "transferred", "bytes", "deleted", "failed", "skipped", "seconds", "failures",
        "unverified", "results",
    }  # fmt: skip
    assert (summary["transferred"], summary["deleted"], summary["failed"]) == (2, 0, 0)
    assert sorted(t["bytes"] for t in summary["results"]) == [3, 5]
    assert {(t["action"], t["status"], t["error"]) for t in summary["results"]} == {
        ("upload", "done", None)
    }
    assert summary["bytes"] == 8
    assert summary["failures"] == []
    assert summary["seconds"] >= 0


def test_cp_recursive_partial_failure_reports_and_continues(
    cli: CliInvoker, backend: Backend, bucket: str, tmp_path: Path
) -> None:
    put(backend, bucket, {"p/a.txt": b"a", "p/b.txt": b"b", "p/c.txt": b"c"})
    target = tmp_path / "out"
    (target / "b.txt").mkdir(parents=True)  # a folder where a file should land

    result = cli("cp", "-r", f"s3://{bucket}/p/", str(target), env=backend.env())
    assert result.exit_code == 1, (result.stdout, result.stderr)
    errors = result.stderr.splitlines()
    assert errors and all(line.startswith("s3kit: error:") for line in errors), result.stderr
    assert any("b.txt" in line for line in errors), result.stderr
    assert "1 of 3" in errors[-1]
    assert "Traceback" not in result.stderr
    assert (target / "a.txt").read_bytes() == b"a"
    assert (target / "c.txt").read_bytes() == b"c"
    assert (target / "b.txt").is_dir()

    as_json = cli("cp", "-r", "--json", f"s3://{bucket}/p/", str(target), env=backend.env())
    assert as_json.exit_code == 1
    summary = json.loads(as_json.stdout)
    assert (summary["transferred"], summary["failed"]) == (2, 1)
    assert [f["source"] for f in summary["failures"]] == [f"s3://{bucket}/p/b.txt"]


# -- mv --------------------------------------------------------------------------------------


def test_mv_local_to_s3_removes_the_file(
    cli: CliInvoker, backend: Backend, bucket: str, tmp_path: Path
) -> None:
    source = tmp_path / "move-me.txt"
    source.write_bytes(b"moving")
    result = cli("mv", str(source), f"s3://{bucket}/in/", env=backend.env())
    assert result.exit_code == 0, result.stderr
    assert get(backend, bucket, "in/move-me.txt") == b"moving"
    assert not source.exists()


def test_mv_s3_to_s3_removes_the_source_key(cli: CliInvoker, backend: Backend, bucket: str) -> None:
    put(backend, bucket, {"inbox/a.csv": b"1,2,3", "inbox/keep.csv": b"4"})
    result = cli("mv", f"s3://{bucket}/inbox/a.csv", f"s3://{bucket}/archive/", env=backend.env())
    assert result.exit_code == 0, result.stderr
    assert keys(backend, bucket) == ["archive/a.csv", "inbox/keep.csv"]
    assert get(backend, bucket, "archive/a.csv") == b"1,2,3"


def test_mv_missing_object_deletes_nothing(
    cli: CliInvoker, backend: Backend, bucket: str, tmp_path: Path
) -> None:
    put(backend, bucket, {"inbox/keep.csv": b"4"})
    to_s3 = cli("mv", f"s3://{bucket}/inbox/nope.csv", f"s3://{bucket}/dst.csv", env=backend.env())
    assert_failed(to_s3)
    assert "does not exist" in to_s3.stderr

    to_local = cli("mv", f"s3://{bucket}/inbox/nope.csv", str(tmp_path / "x"), env=backend.env())
    assert_failed(to_local)
    assert keys(backend, bucket) == ["inbox/keep.csv"]
    assert list(tmp_path.iterdir()) == []


# -- rm --------------------------------------------------------------------------------------


def test_rm_single_key(cli: CliInvoker, backend: Backend, bucket: str) -> None:
    put(backend, bucket, {"a.txt": b"a", "b.txt": b"b"})
    result = cli("rm", f"s3://{bucket}/a.txt", env=backend.env())
    assert result.exit_code == 0, result.stderr
    assert f"delete: s3://{bucket}/a.txt" in result.stdout
    assert keys(backend, bucket) == ["b.txt"]


def test_rm_missing_key_says_nothing_was_deleted(
    cli: CliInvoker, backend: Backend, bucket: str
) -> None:
    """Not a failure (S3, `aws s3 rm` and `object delete-many` agree), but said."""
    put(backend, bucket, {"a.txt": b"a"})
    result = cli("rm", f"s3://{bucket}/missing.txt", env=backend.env())
    assert (result.exit_code, result.stdout) == (0, ""), result.stderr
    assert "nothing was deleted" in result.stderr
    assert keys(backend, bucket) == ["a.txt"]


def test_rm_recursive_deletes_only_under_the_prefix(
    cli: CliInvoker, backend: Backend, bucket: str
) -> None:
    put(
        backend,
        bucket,
        {"dir/a": b"1", "dir/sub/b": b"2", "dir-2/c": b"3", "dirt": b"4", "other/d": b"5"},
    )
    result = cli("rm", "-r", f"s3://{bucket}/dir", env=backend.env())
    assert result.exit_code == 0, result.stderr
    assert sorted(result.stdout.splitlines()) == [
        f"delete: s3://{bucket}/dir/a",
        f"delete: s3://{bucket}/dir/sub/b",
    ]
    assert keys(backend, bucket) == ["dir-2/c", "dirt", "other/d"]


def test_rm_dryrun_deletes_nothing(cli: CliInvoker, backend: Backend, bucket: str) -> None:
    put(backend, bucket, {"dir/a": b"1", "dir/b": b"2"})
    result = cli("rm", "--recursive", "--dryrun", f"s3://{bucket}/dir/", env=backend.env())
    assert result.exit_code == 0, result.stderr
    assert sorted(result.stdout.splitlines()) == [
        f"(dryrun) delete: s3://{bucket}/dir/a",
        f"(dryrun) delete: s3://{bucket}/dir/b",
    ]
    single = cli("rm", "--dryrun", f"s3://{bucket}/dir/a", env=backend.env())
    assert single.exit_code == 0, single.stderr
    assert single.stdout == f"(dryrun) delete: s3://{bucket}/dir/a\n"
    assert keys(backend, bucket) == ["dir/a", "dir/b"]


def test_rm_prefix_without_recursive_is_a_usage_error(
    cli: CliInvoker, backend: Backend, bucket: str
) -> None:
    put(backend, bucket, {"dir/a": b"1"})
    result = cli("rm", f"s3://{bucket}/dir/", env=backend.env())
    assert_usage_error(result)
    assert "--recursive" in result.stderr
    assert keys(backend, bucket) == ["dir/a"]


# -- cat -------------------------------------------------------------------------------------


def test_cat_prints_exact_bytes(cli: CliInvoker, backend: Backend, bucket: str) -> None:
    put(backend, bucket, {"blob.bin": BINARY})
    result = cli("cat", f"s3://{bucket}/blob.bin", env=backend.env())
    assert result.exit_code == 0, result.stderr
    assert result.stdout_bytes == BINARY


def test_cat_missing_object_fails(cli: CliInvoker, backend: Backend, bucket: str) -> None:
    result = cli("cat", f"s3://{bucket}/missing.txt", env=backend.env())
    assert_failed(result)
    assert f"s3://{bucket}/missing.txt" in result.stderr
    assert result.stdout_bytes == b""
