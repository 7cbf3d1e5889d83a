"""Global options typed after the command, against both servers: `s3kit ls s3://b --endpoint-url
URL` reaches the server that URL names, for ls, cp, sync and bucket sub-commands alike.
(tests/unit/test_cli_global_options.py checks every global and every command without a server.)
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import Backend, CliInvoker
from tests.integration.cli_support import get, keys, put


def _keys_only(backend: Backend) -> dict[str, str]:
    """The credentials without the endpoint: only --endpoint-url can name the server."""
    return {k: v for k, v in backend.env().items() if k != "S3KIT_ENDPOINT_URL"}


def _profile(home: Path, backend: Backend) -> dict[str, str]:
    """A profile named `typed` holding the backend's keys; the environment names the endpoint
    only, so the command reaches the server with the keys of --profile or not at all."""
    aws = home / ".aws"
    aws.mkdir(exist_ok=True)
    (aws / "credentials").write_text(
        f"[typed]\naws_access_key_id = {backend.access_key}\n"
        f"aws_secret_access_key = {backend.secret_key}\n"
    )
    return {"S3KIT_ENDPOINT_URL": backend.endpoint}


def test_ls_cp_sync_and_bucket_commands_take_endpoint_url_after_the_command(
    cli: CliInvoker, backend: Backend, bucket: str, tmp_path: Path
) -> None:
    env, where = _keys_only(backend), ("--endpoint-url", backend.endpoint)
    (tmp_path / "a.txt").write_bytes(b"a")
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "b.txt").write_bytes(b"b")

    copied = cli("cp", str(tmp_path / "a.txt"), f"s3://{bucket}/a.txt", *where, env=env)
    synced = cli("sync", str(tmp_path / "site"), f"s3://{bucket}/site", *where, env=env)
    listed = cli("ls", f"s3://{bucket}/", "--recursive", f"--endpoint-url={backend.endpoint}",
                 env=env)  # fmt: skip
    versioning = cli("bucket", "versioning", "get", f"s3://{bucket}", *where, env=env)

    for result in (copied, synced, listed, versioning):
        assert result.exit_code == 0, result.stderr
    assert keys(backend, bucket) == ["a.txt", "site/b.txt"]
    assert listed.stdout.split()[-2:] == ["1", "site/b.txt"]
    assert versioning.stdout == f"s3://{bucket} has no versioning\n"


def test_profile_after_the_command_supplies_the_credentials(
    cli: CliInvoker, backend: Backend, bucket: str, tmp_path: Path, isolated_env: Path
) -> None:
    put(backend, bucket, {"k": b"v"})
    env = _profile(isolated_env, backend)
    out = tmp_path / "k"
    assert cli("ls", f"s3://{bucket}/", env=env).exit_code != 0  # no credentials without it
    listed = cli("ls", f"s3://{bucket}/", "--profile", "typed", env=env)
    fetched = cli("cp", f"s3://{bucket}/k", str(out), "--profile=typed", env=env)
    for result in (listed, fetched):
        assert result.exit_code == 0, result.stderr
    assert out.read_bytes() == b"v"


def test_debug_after_the_command_shows_the_traceback(
    cli: CliInvoker, backend: Backend, bucket: str
) -> None:
    quiet = cli("cat", f"s3://{bucket}/missing", env=backend.env())
    loud = cli("cat", f"s3://{bucket}/missing", "--debug", env=backend.env())
    assert quiet.exit_code == loud.exit_code == 1
    assert "Traceback (most recent call last)" not in quiet.stderr
    assert "Traceback (most recent call last)" in loud.stderr
    assert loud.stderr.splitlines()[-1] == quiet.stderr.strip()


def test_a_word_after_double_dash_is_never_a_global_option(
    cli: CliInvoker, backend: Backend, bucket: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`cp -- --debug s3://b/k` uploads the file named `--debug`."""
    (tmp_path / "--debug").write_bytes(b"odd name")
    monkeypatch.chdir(tmp_path)
    result = cli("cp", "--", "--debug", f"s3://{bucket}/odd", env=backend.env())
    assert result.exit_code == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert get(backend, bucket, "odd") == b"odd name"


def test_include_and_exclude_keep_their_order_around_a_global(
    cli: CliInvoker, backend: Backend, bucket: str, tmp_path: Path
) -> None:
    for name in ("a.txt", "b.log", "c.txt"):
        (tmp_path / name).write_bytes(b"x")
    env = _keys_only(backend)
    result = cli(
        "sync", str(tmp_path), f"s3://{bucket}/p", "--exclude", "*",
        "--endpoint-url", backend.endpoint, "--include", "*.txt", "--exclude", "c*",
        env=env,
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert keys(backend, bucket) == ["p/a.txt"]
