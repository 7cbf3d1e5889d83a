"""Bad input and broken environments: every failure is one `s3kit: error:` line with the right
exit code, leaves nothing half-done behind, and never shows a secret."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from s3kit import __version__
from s3kit._local_server import free_ports
from tests.conftest import Backend, CliInvoker, unique_bucket_name
from tests.integration.cli_support import (
    assert_failed,
    assert_usage_error,
    bucket_names,
    distinct_secret_env,
    keys,
    put,
)

# -- bad names and missing things ------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ("ls", "s3://Bad_Name/"),
        ("cat", "s3://ab/key"),
        ("rm", "s3://bad..name/key"),
        ("cp", "-", "s3://UPPER/key"),
        ("presign", "s3://x/key"),
    ],
)
def test_invalid_bucket_name(cli: CliInvoker, backend: Backend, args: tuple[str, ...]) -> None:
    before = bucket_names(backend)
    result = cli(*args, env=backend.env(), input=b"data")
    assert_usage_error(result)
    assert "invalid bucket name" in result.stderr
    assert bucket_names(backend) == before


def test_cp_missing_local_file_writes_nothing(
    cli: CliInvoker, backend: Backend, bucket: str, tmp_path: Path
) -> None:
    missing = tmp_path / "nope.txt"
    for destination in (f"s3://{bucket}/", f"s3://{bucket}/k.txt"):
        result = cli("cp", str(missing), destination, env=backend.env())
        assert_failed(result)
        assert str(missing) in result.stderr
        assert "no such file" in result.stderr
    recursive = cli("cp", "-r", str(tmp_path / "no-folder"), f"s3://{bucket}/", env=backend.env())
    assert_failed(recursive)
    listing = cli("ls", f"s3://{bucket}", "--recursive", env=backend.env())
    assert listing.exit_code == 0, listing.stderr
    assert listing.stdout == ""


def test_cp_missing_object_creates_no_file_or_folder(
    cli: CliInvoker,
    backend: Backend,
    bucket: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    result = cli("cp", f"s3://{bucket}/missing", "./newdir/x.txt", env=backend.env())
    assert_failed(result)
    assert f"s3://{bucket}/missing" in result.stderr
    assert "does not exist" in result.stderr
    assert list(tmp_path.iterdir()) == []

    existing = tmp_path / "existing.txt"
    existing.write_bytes(b"keep me")
    overwrite = cli("cp", f"s3://{bucket}/missing", str(existing), env=backend.env())
    assert_failed(overwrite)
    assert existing.read_bytes() == b"keep me"
    assert [p.name for p in tmp_path.iterdir()] == ["existing.txt"]


def test_missing_bucket(
    cli: CliInvoker, backend: Backend, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    name = unique_bucket_name("gone")
    (tmp_path / "f.txt").write_bytes(b"f")
    for args in (
        ("ls", f"s3://{name}/"),
        ("ls", f"s3://{name}", "--recursive"),
        ("cat", f"s3://{name}/k"),
        ("cp", "f.txt", f"s3://{name}/k"),
        ("cp", f"s3://{name}/k", "out.txt"),
        ("rm", f"s3://{name}/k"),
        ("rb", f"s3://{name}"),
    ):
        result = cli(*args, env=backend.env())
        assert_failed(result)
        assert name in result.stderr, args
        assert "does not exist" in result.stderr, (args, result.stderr)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.txt"]
    assert name not in bucket_names(backend)


def test_rm_and_cat_of_a_missing_key_in_an_existing_bucket(
    cli: CliInvoker, backend: Backend, bucket: str
) -> None:
    put(backend, bucket, {"there": b"x"})
    cat = cli("cat", f"s3://{bucket}/not-there", env=backend.env())
    assert_failed(cat)
    assert f"s3://{bucket}/not-there does not exist" in cat.stderr
    assert f"bucket '{bucket}'" not in cat.stderr  # the bucket is there; the key is not
    # rm of what is gone is no failure (as S3 and `aws s3 rm` have it); it says so.
    rm = cli("rm", f"s3://{bucket}/not-there", env=backend.env())
    assert rm.exit_code == 0, rm.stderr
    assert f"s3://{bucket}/not-there did not exist" in rm.stderr
    assert f"bucket '{bucket}'" not in rm.stderr
    assert keys(backend, bucket) == ["there"]


# -- environment problems --------------------------------------------------------------------


def test_no_credentials(cli: CliInvoker) -> None:
    (port,) = free_ports(1)
    env = {"S3KIT_ENDPOINT_URL": f"http://127.0.0.1:{port}"}
    for args in (("ls",), ("cat", "s3://some-bucket/k"), ("whoami",)):
        result = cli(*args, env=env)
        assert_failed(result)
        assert "credentials" in result.stderr


@pytest.mark.parametrize(
    "args", [("ls",), ("ls", "s3://some-bucket/"), ("cat", "s3://some-bucket/k"), ("whoami",)]
)
def test_unreachable_endpoint(cli: CliInvoker, args: tuple[str, ...]) -> None:
    (port,) = free_ports(1)
    env = {
        "S3KIT_ENDPOINT_URL": f"http://127.0.0.1:{port}",
        "S3KIT_ACCESS_KEY_ID": "AKIDEXAMPLE",
        "S3KIT_SECRET_ACCESS_KEY": "unreachableSecret0123456789",
        "S3KIT_MAX_RETRIES": "0",
        "S3KIT_CONNECT_TIMEOUT": "1",
    }
    started = time.monotonic()
    result = cli(*args, env=env)
    assert time.monotonic() - started < 10
    assert_failed(result)
    assert "cannot reach" in result.stderr
    assert f"127.0.0.1:{port}" in result.stderr
    assert "unreachableSecret" not in result.stderr


# -- usage -----------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["0", "604801", "abc", "99999999999"])
def test_presign_expiry_out_of_range(cli: CliInvoker, value: str) -> None:
    # No backend: the value is checked before any configuration is resolved.
    result = cli("presign", "s3://some-bucket/k", "--expires-in", value)
    assert_usage_error(result)
    assert "--expires-in" in result.stderr
    assert result.stdout == ""


def test_version(cli: CliInvoker) -> None:
    result = cli("--version")
    assert result.exit_code == 0
    assert result.stdout == f"s3kit {__version__}\n"
    assert re.fullmatch(r"s3kit \d+\.\d+\.\d+\S*\n", result.stdout)
    assert result.stderr == ""


@pytest.mark.parametrize(
    "args",
    [
        ("frobnicate",),
        ("cp", "s3://some-bucket/k"),
        ("presign",),
        ("ls", "--no-such-option"),
        ("cp", "a.txt", "b.txt"),
        ("rm", "not-an-url"),
        ("cp", "-r", "-", "s3://some-bucket/p/"),
        ("cp", "http://example.invalid/x", "s3://some-bucket/k"),
    ],
)
def test_usage_errors_are_one_line(cli: CliInvoker, args: tuple[str, ...]) -> None:
    result = cli(*args)
    assert_usage_error(result)
    assert result.stdout == ""


def test_debug_shows_a_traceback_without_secrets(
    cli: CliInvoker, backend: Backend, bucket: str
) -> None:
    env, secret = distinct_secret_env(backend)
    quiet = cli("cat", f"s3://{bucket}/missing", env=env)
    assert_failed(quiet)

    loud = cli("--debug", "cat", f"s3://{bucket}/missing", env=env)
    assert loud.exit_code == 1
    assert "Traceback (most recent call last)" in loud.stderr
    assert loud.stderr.splitlines()[-1] == quiet.stderr.strip()
    assert secret not in loud.stderr
    assert secret not in loud.stdout

    presign = cli("--debug", "presign", f"s3://{bucket}/k", "--expires-in", "0", env=env)
    assert presign.exit_code == 2
    assert secret not in presign.stderr


def test_no_arguments_prints_help_and_exits_2(cli: CliInvoker) -> None:
    result = cli()
    assert result.exit_code == 2
    assert "Usage:" in result.stderr
    assert "presign" in result.stderr
    assert "Traceback" not in result.stderr


# -- a real process ----------------------------------------------------------------------------


def test_version_in_a_real_process_never_imports_boto3() -> None:
    bin_dir = Path(sys.executable).parent
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    run = subprocess.run(
        [str(bin_dir / "s3kit"), "--version"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout == f"s3kit {__version__}\n"

    code = "import sys; sys.argv=['s3kit','--version']; from s3kit.cli.app import main; main()"
    timed = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )
    assert timed.returncode == 0, timed.stderr
    assert timed.stdout == f"s3kit {__version__}\n"
    assert "s3kit.cli.app" in timed.stderr  # importtime did report the imports
    assert "boto3" not in timed.stderr
    assert "botocore" not in timed.stderr
