"""Downloads from `rclone serve s3`, which answers a ranged GET with status 200 (and
Content-Range) instead of 206: obstore refuses such an answer ("Received non-partial response
when range requested"), so every download above the multipart threshold used to fail there.
s3kit now falls back to one streamed, ETag-pinned and verified GET of the whole object, says so
once, and asks that bucket for no more ranges for the rest of the run.

The server is a real `rclone serve s3` over a local folder, started here for this module (its
buckets are the folder's subfolders; it serves each file's MD5 as its ETag).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from s3kit.local_server import free_ports
from tests.conftest import Backend, CliInvoker
from tests.integration.transfer_support import PART, payload, write_file

SMALL_PARTS = ("--part-size", "5MiB", "--multipart-threshold", "5MiB", "--part-concurrency", "2")
RANGES_IGNORED = "ignores byte ranges"  # the fallback's note, logged as a warning


@pytest.fixture(scope="module")
def rclone_s3(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Backend, Path]]:
    """A `rclone serve s3` on a free loopback port over a fresh folder: (backend, folder)."""
    root = tmp_path_factory.mktemp("rclone")
    data = root / "data"
    data.mkdir()
    (port,) = free_ports(1)
    access, secret = "AKIDRCLONETEST01", "rcloneTestSecret0123456789"
    executable = Path(sys.executable).parent / "rclone"
    with (root / "rclone.log").open("wb") as log:
        process = subprocess.Popen(
            [
                str(executable), "serve", "s3", "--addr", f"127.0.0.1:{port}",
                "--auth-key", f"{access},{secret}", "--config", "/dev/null", str(data),
            ],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    try:
        _wait_listening(f"http://127.0.0.1:{port}/", process, root / "rclone.log")
        yield Backend("rclone", f"http://127.0.0.1:{port}", access, secret), data
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait()


def _wait_listening(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"rclone serve s3 exited: {log.read_text()}")
        try:
            with urllib.request.urlopen(url, timeout=1):  # noqa: S310 - loopback
                return
        except urllib.error.HTTPError:  # an S3 error answer: it is listening
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"rclone serve s3 did not answer at {url}: {log.read_text()}")


def test_big_downloads_fall_back_to_whole_gets_once_per_bucket(
    cli: CliInvoker, rclone_s3: tuple[Backend, Path], tmp_path: Path
) -> None:
    backend, data = rclone_s3
    first, second = payload(3 * PART + 17, seed=61), payload(2 * PART + 5, seed=62)
    write_file(data / "ranges" / "a.bin", first)
    write_file(data / "ranges" / "b.bin", second)
    out = tmp_path / "out"

    # One file at a time, so the second download starts after the first one's fallback.
    result = cli(
        "cp", "-r", "s3://ranges/", str(out), *SMALL_PARTS, "--concurrency", "1", "--json",
        env=backend.env(),
    )  # fmt: skip

    assert result.exit_code == 0, result.stderr
    assert (out / "a.bin").read_bytes() == first
    assert (out / "b.bin").read_bytes() == second
    assert sorted(p.name for p in out.iterdir()) == ["a.bin", "b.bin"]  # no temporary files
    report = json.loads(result.stdout)
    # Each whole GET was checked against the MD5 ETag rclone serves.
    assert sorted((t["destination"], t["verified"]) for t in report["transfers"]) == [
        (str(out / "a.bin"), "md5"),
        (str(out / "b.bin"), "md5"),
    ]
    assert report["unverified"] == 0
    # One note, for the first object: the second one was not tried with ranges at all.
    notes = [line for line in result.stderr.splitlines() if RANGES_IGNORED in line]
    assert len(notes) == 1, result.stderr
    assert "s3://ranges" in notes[0]
