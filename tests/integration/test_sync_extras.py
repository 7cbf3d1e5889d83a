"""`s3kit sync --log-file` (the audit log) and resuming an interrupted sync, on both servers."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tests.conftest import Backend, CliInvoker
from tests.integration.cli_support import get, keys, put
from tests.integration.test_sync import write

MiB = 1024 * 1024


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_log_file_records_upload_delete_and_dryrun(
    cli: CliInvoker, backend: Backend, bucket: str, tmp_path: Path
) -> None:
    src, log = tmp_path / "src", tmp_path / "audit.jsonl"
    write(src, {"a.txt": b"aaa", "b.txt": b"bb"}, mtime=time.time() - 100)
    put(backend, bucket, {"site/b.txt": b"bb", "site/gone.txt": b"old"})
    url = f"s3://{bucket}/site"
    planned = cli("sync", str(src), url, "--delete", "--dryrun", "--log-file", str(log),
                  env=backend.env())  # fmt: skip
    assert planned.exit_code == 0, planned.stderr
    assert keys(backend, bucket) == ["site/b.txt", "site/gone.txt"]
    done = cli("sync", str(src), url, "--delete", "--log-file", str(log), env=backend.env())
    assert done.exit_code == 0, done.stderr
    records = lines(log)
    summary = [(r["action"], r["reason"], r["result"]) for r in records]
    assert summary == [
        ("upload", "new", "planned"),
        ("delete", "not in source", "planned"),
        ("upload", "new", "done"),
        ("delete", "not in source", "done"),
    ]
    upload, delete = records[2], records[3]
    assert upload["source"] == str(src / "a.txt")
    assert upload["destination"] == f"{url}/a.txt"
    assert upload["bytes"] == 3 and upload["error"] is None
    assert delete["path"] == f"{url}/gone.txt"
    assert backend.secret_key not in log.read_text()


def test_log_file_bidirectional(
    cli: CliInvoker, backend: Backend, bucket: str, tmp_path: Path
) -> None:
    src, log = tmp_path / "src", tmp_path / "audit.jsonl"
    write(src, {"here.txt": b"h"})
    put(backend, bucket, {"p/there.txt": b"tt"})
    url = f"s3://{bucket}/p"
    result = cli("sync", "--bidirectional", "--resync", str(src), url, "--log-file", str(log),
                 env=backend.env())  # fmt: skip
    assert result.exit_code == 0, result.stderr
    got = sorted((r["action"], r["path"], r["result"], r["bytes"]) for r in lines(log))
    assert got == [("download", "there.txt", "done", 2), ("upload", "here.txt", "done", 1)]


def _journal_has_part(journal: Path) -> bool:
    for path in journal.glob("*.json"):
        try:
            if json.loads(path.read_text()).get("parts"):
                return True
        except (OSError, ValueError):
            continue
    return False


def test_interrupted_sync_resumes(backend: Backend, bucket: str, tmp_path: Path) -> None:
    src = tmp_path / "src"
    small = {f"small/{i}.txt": f"file {i}".encode() for i in range(5)}
    big = os.urandom(16 * MiB)
    write(src, {**small, "big.bin": big}, mtime=time.time() - 100)
    url = f"s3://{bucket}/backup"
    state = tmp_path / "state"
    journal = state / "s3kit" / "journal"
    env = {**os.environ, **backend.env(), "XDG_STATE_HOME": str(state)}
    command = [
        str(Path(sys.executable).parent / "s3kit"), "sync", str(src), url, "--no-progress",
        "--multipart-threshold", "5MiB", "--part-size", "5MiB", "--bwlimit", "4MiB",
    ]  # fmt: skip
    first = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 20
    # Kill once a part is journalled and the small files are in (they may queue behind it).
    while not (_journal_has_part(journal) and len(keys(backend, bucket)) == len(small)):
        assert first.poll() is None, "the sync ended before it could be interrupted"
        assert time.monotonic() < deadline, "no journalled part within 20 s"
        time.sleep(0.05)
    first.send_signal(signal.SIGKILL)
    first.wait()
    assert "backup/big.bin" not in keys(backend, bucket)
    finished = {k.removeprefix("backup/") for k in keys(backend, bucket)}
    assert finished, "no small file finished before the kill"

    log = tmp_path / "rerun.jsonl"
    rerun = subprocess.run(
        [*command, "--log-file", str(log)], env=env, capture_output=True, timeout=60
    )
    assert rerun.returncode == 0, rerun.stderr.decode()
    uploaded = {r["destination"].removeprefix(f"{url}/") for r in lines(log)}
    assert "big.bin" in uploaded
    assert not uploaded & finished, "finished files were sent again"
    assert all(r["result"] == "done" for r in lines(log))
    assert get(backend, bucket, "backup/big.bin") == big
    for name, data in small.items():
        assert get(backend, bucket, f"backup/{name}") == data
    assert list(journal.glob("*.json")) == []
