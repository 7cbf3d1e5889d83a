"""Downloads from `rclone serve s3`, which answers a ranged GET with status 200 (and
Content-Range) instead of 206: every download above the multipart threshold used to fail
there.
s3kit now falls back to one streamed, ETag-pinned and verified GET of the whole object, says so
once, and asks that bucket for no more ranges for the rest of the run.

The server is the session's real `rclone serve s3` (it serves each file's MD5 as its ETag).
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import Backend, CliInvoker, unique_bucket_name
from tests.integration.transfer_support import PART, payload

SMALL_PARTS = ("--part-size", "5MiB", "--multipart-threshold", "5MiB", "--part-concurrency", "2")
RANGES_IGNORED = "ignores byte ranges"  # the fallback's note, logged as a warning


def test_big_downloads_fall_back_to_whole_gets_once_per_bucket(
    cli: CliInvoker, rclone: Backend, tmp_path: Path
) -> None:
    backend = rclone
    first, second = payload(3 * PART + 17, seed=61), payload(2 * PART + 5, seed=62)
    bucket = unique_bucket_name("ranges")
    client = backend.session().client("s3")
    client.create_bucket(Bucket=bucket)
    # Written by another client, so there is no s3kit checksum: the MD5 ETag is what is left.
    client.put_object(Bucket=bucket, Key="a.bin", Body=first)
    client.put_object(Bucket=bucket, Key="b.bin", Body=second)
    out = tmp_path / "out"

    # One file at a time, so the second download starts after the first one's fallback.
    result = cli(
        "cp", "-r", f"s3://{bucket}/", str(out), *SMALL_PARTS, "--concurrency", "1", "--json",
        env=backend.env(),
    )  # fmt: skip

    assert result.exit_code == 0, result.stderr
    assert (out / "a.bin").read_bytes() == first
    assert (out / "b.bin").read_bytes() == second
    assert sorted(p.name for p in out.iterdir()) == ["a.bin", "b.bin"]  # no temporary files
    report = json.loads(result.stdout)
    # Each whole GET was checked against the MD5 ETag rclone serves.
    assert sorted((t["destination"], t["verified"]) for t in report["results"]) == [
        (str(out / "a.bin"), "md5"),
        (str(out / "b.bin"), "md5"),
    ]
    assert report["unverified"] == 0
    # One note, for the first object: the second one was not tried with ranges at all.
    notes = [line for line in result.stderr.splitlines() if RANGES_IGNORED in line]
    assert len(notes) == 1, result.stderr
    assert f"s3://{bucket}" in notes[0]
