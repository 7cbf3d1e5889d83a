"""`s3kit connections ...`, `--connection`, `s3kit profiles --check` and s3kit.yaml, end to end
against the SeaweedFS and moto servers the test session starts."""

from __future__ import annotations

import contextlib
import json
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from s3kit._local_server import free_ports
from s3kit.service import S3Service
from tests.conftest import Backend, CliInvoker, unique_bucket_name
from tests.integration.cli_support import assert_failed, assert_one_error_line, assert_usage_error


@pytest.fixture(autouse=True)
def user_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private user config dir, and a working directory without a stray s3kit.yaml."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return tmp_path / "xdg" / "s3kit"


def keys(backend: Backend) -> dict[str, str]:
    """Credentials only: the endpoint must come from the connection."""
    return {
        "S3KIT_ACCESS_KEY_ID": backend.access_key,
        "S3KIT_SECRET_ACCESS_KEY": backend.secret_key,
    }


@pytest.fixture
def weed_bucket(seaweed: Backend) -> Iterator[str]:
    name = unique_bucket_name("conn")
    service = S3Service(seaweed.session())
    service.create_bucket(name)
    seaweed.session().storage(name).put("hello.txt", b"hi")
    yield name
    with contextlib.suppress(Exception):
        service.empty_bucket(name)
        service.delete_bucket(name)


def dead_endpoint() -> str:
    (port,) = free_ports(1)
    return f"http://127.0.0.1:{port}"


def test_connection_supplies_the_endpoint_for_ls(
    cli: CliInvoker, seaweed: Backend, weed_bucket: str, user_config: Path
) -> None:
    added = cli("connections", "add", "weed", "--endpoint-url", seaweed.endpoint)
    assert added.exit_code == 0, added.stderr
    assert (user_config / "connections.toml").is_file()
    assert seaweed.secret_key not in (user_config / "connections.toml").read_text("utf-8")

    result = cli("--connection", "weed", "ls", f"s3://{weed_bucket}", env=keys(seaweed))
    assert result.exit_code == 0, result.stderr
    assert "hello.txt" in result.stdout

    by_env = cli("ls", f"s3://{weed_bucket}", env={**keys(seaweed), "S3KIT_CONNECTION": "weed"})
    assert by_env.exit_code == 0, by_env.stderr
    assert "hello.txt" in by_env.stdout


def test_explicit_endpoint_beats_the_connection(
    cli: CliInvoker, seaweed: Backend, weed_bucket: str
) -> None:
    assert cli("connections", "add", "dead", "--endpoint-url", dead_endpoint()).exit_code == 0
    result = cli(
        "--connection",
        "dead",
        "--endpoint-url",
        seaweed.endpoint,
        "ls",
        f"s3://{weed_bucket}",
        env=keys(seaweed),
    )
    assert result.exit_code == 0, result.stderr
    assert "hello.txt" in result.stdout


def test_a_missing_connection_stops_any_command_with_exit_2(cli: CliInvoker) -> None:
    result = cli("--connection", "nope", "ls")
    assert_usage_error(result)
    assert "connection 'nope' does not exist" in result.stderr
    assert_usage_error(cli("local", "status", env={"S3KIT_CONNECTION": "nope"}))
    assert_usage_error(cli("--connection", "Not A Name", "ls"))


def test_connections_test_ok_and_failing(cli: CliInvoker, seaweed: Backend) -> None:
    assert cli("connections", "add", "weed", "--endpoint-url", seaweed.endpoint).exit_code == 0
    ok = cli("connections", "test", "weed", env=keys(seaweed))
    assert ok.exit_code == 0, ok.stderr
    assert ok.stdout.startswith(f"weed: ok — {seaweed.endpoint} as ")
    assert seaweed.secret_key not in ok.stdout + ok.stderr

    wrong_secret = "WrongSecretNeverShown0123456789abcdefgh"
    bad = cli(
        "connections",
        "test",
        "weed",
        env={**keys(seaweed), "S3KIT_SECRET_ACCESS_KEY": wrong_secret, "S3KIT_MAX_RETRIES": "0"},
    )
    assert_failed(bad)
    assert bad.stderr.startswith("s3kit: error: weed: ")
    assert wrong_secret not in bad.stdout + bad.stderr

    assert cli("connections", "add", "noprofile", "--profile", "ghost").exit_code == 0
    missing = cli("connections", "test", "noprofile", env=keys(seaweed))
    assert_failed(missing)
    assert "profile 'ghost'" in missing.stderr


def test_connections_test_checks_the_bucket(
    cli: CliInvoker, seaweed: Backend, weed_bucket: str
) -> None:
    endpoint = seaweed.endpoint
    added = cli("connections", "add", "b", "--endpoint-url", endpoint, "--bucket", weed_bucket)
    assert added.exit_code == 0, added.stderr
    ok = cli("connections", "test", "b", env=keys(seaweed))
    assert ok.exit_code == 0, ok.stderr
    assert f"bucket '{weed_bucket}' found" in ok.stdout
    assert cli("connections", "edit", "b", "--bucket", "no-such-bucket-x").exit_code == 0
    gone = cli("connections", "test", "b", env=keys(seaweed))
    assert_failed(gone)
    assert "no-such-bucket-x" in gone.stderr


def test_connection_lifecycle_on_the_command_line(cli: CliInvoker) -> None:
    endpoint = dead_endpoint()
    add = cli("connections", "add", "c1", "--endpoint-url", endpoint, "--region", "eu-west-1")
    assert add.exit_code == 0, add.stderr
    assert_usage_error(cli("connections", "add", "c1", "--region", "x"))
    assert_usage_error(cli("connections", "add", "c2"))  # nothing to save
    refused = cli("connections", "add", "c3", "--profile", "AKIAIOSFODNN7EXAMPLE")
    assert_usage_error(refused)
    assert "AKIAIOSFODNN7EXAMPLE" not in refused.stderr

    edit = cli("connections", "edit", "c1", "--profile", "dev", "--region", "")
    assert edit.exit_code == 0, edit.stderr
    shown = json.loads(cli("connections", "show", "c1", "--json").stdout)
    assert shown == {
        "name": "c1",
        "endpoint_url": endpoint,
        "region": None,
        "profile": "dev",
        "bucket": None,
        "addressing_style": None,
    }
    table = cli("connections", "list").stdout.splitlines()
    assert table[0].split() == ["NAME", "ENDPOINT", "REGION", "PROFILE", "BUCKET", "STYLE"]
    assert table[1].split() == ["c1", endpoint, "-", "dev", "-", "-"]

    assert cli("connections", "remove", "c1").exit_code == 0
    assert json.loads(cli("connections", "list", "--json").stdout) == []
    assert_usage_error(cli("connections", "show", "c1"))


def test_profiles_lists_kinds_and_checks_against_moto(
    cli: CliInvoker, moto: Backend, isolated_env: Path
) -> None:
    aws = isolated_env / ".aws"
    aws.mkdir()
    (aws / "config").write_text(
        textwrap.dedent(
            f"""\
            [profile motoprof]
            region = us-east-1
            endpoint_url = {moto.endpoint}
            [profile nokeys]
            region = eu-west-1
            [profile roled]
            role_arn = arn:aws:iam::123456789012:role/r
            source_profile = motoprof
            [profile ssoer]
            sso_session = corp
            """
        ),
        encoding="utf-8",
    )
    secret = "motoSecretNeverShown0123456789"
    (aws / "credentials").write_text(
        f"[motoprof]\naws_access_key_id = AKIDMOTOPROFILE1\naws_secret_access_key = {secret}\n",
        encoding="utf-8",
    )
    listed = cli("profiles")
    assert listed.exit_code == 0, listed.stderr
    rows = [line.split() for line in listed.stdout.splitlines()]
    assert rows == [
        ["PROFILE", "REGION", "ENDPOINT", "KIND"],
        ["motoprof", "us-east-1", moto.endpoint, "keys"],
        ["nokeys", "eu-west-1", "-", "-"],
        ["roled", "-", "-", "role"],
        ["ssoer", "-", "-", "sso"],
    ]

    # Only the two profiles that cannot reach the internet are checked: a shadowing endpoint
    # in the environment must not change what a profile says.
    (aws / "config").write_text(
        (aws / "config").read_text("utf-8").split("[profile roled]")[0], encoding="utf-8"
    )
    checked = cli("profiles", "--check", "--json", env={"S3KIT_ENDPOINT_URL": dead_endpoint()})
    assert checked.exit_code == 1, checked.stderr  # one profile failed
    records = {record["name"]: record for record in json.loads(checked.stdout)}
    good, bad = records["motoprof"]["check"], records["nokeys"]["check"]
    assert (good["ok"], good["error"]) == (True, None)
    assert good["detail"].startswith(f"{moto.endpoint} as AKID…ILE1: arn:")
    assert (bad["ok"], bad["detail"]) == (False, None)
    assert bad["error"]["message"].startswith("no credentials found")
    assert secret not in checked.stdout + checked.stderr

    text = cli("profiles", "--check")
    assert text.exit_code == 1
    assert text.stdout.splitlines()[0].split() == ["PROFILE", "REGION", "ENDPOINT", "KIND", "CHECK"]
    assert secret not in text.stdout + text.stderr


def test_config_file_names_the_connection(
    cli: CliInvoker, seaweed: Backend, weed_bucket: str, tmp_path: Path
) -> None:
    assert cli("connections", "add", "weed", "--endpoint-url", seaweed.endpoint).exit_code == 0
    (tmp_path / "work" / "s3kit.yaml").write_text("aws:\n  connection: weed\n", encoding="utf-8")
    result = cli("ls", f"s3://{weed_bucket}", env=keys(seaweed))
    assert result.exit_code == 0, result.stderr
    assert "hello.txt" in result.stdout

    # The environment beats the file: a dead endpoint there must be the one tried.
    other = tmp_path / "other.yaml"
    other.write_text(f"aws:\n  endpoint_url: {dead_endpoint()}\n", encoding="utf-8")
    env = {**keys(seaweed), "S3KIT_ENDPOINT_URL": seaweed.endpoint}
    via_flag = cli("--config", str(other), "ls", f"s3://{weed_bucket}", env=env)
    assert via_flag.exit_code == 0, via_flag.stderr


def test_a_bad_config_file_reports_each_problem_and_exits_2(
    cli: CliInvoker, tmp_path: Path
) -> None:
    (tmp_path / "work" / "s3kit.yaml").write_text(
        "aws:\n  region: eu-west-1\n  colour: red\nperformance:\n  multipart_chunksize: 1KB\n",
        encoding="utf-8",
    )
    result = cli("local", "status")
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 2, result.stderr
    assert lines[0].startswith("s3kit: error: ") and "s3kit.yaml:3: unknown setting" in lines[0]
    assert "s3kit.yaml:5: performance.multipart_chunksize" in lines[1]

    missing = cli("--config", str(tmp_path / "missing.yaml"), "local", "status")
    assert_usage_error(missing)

    (tmp_path / "work" / "s3kit.yaml").write_text("aws:\n  connection: ghost\n", "utf-8")
    ghost = cli("local", "status")
    assert_usage_error(ghost)
    assert "aws.connection" in ghost.stderr
    assert_one_error_line(ghost)
    # The error says to add it: `connections add` must then work from this very folder.
    added = cli("connections", "add", "ghost", "--endpoint-url", "http://127.0.0.1:9")
    assert added.exit_code == 0, added.stderr
    assert cli("local", "status").exit_code != 2  # the file's connection exists now


def test_a_connections_default_bucket_stands_in_for_an_empty_bucket_name(
    cli: CliInvoker, seaweed: Backend, weed_bucket: str, tmp_path: Path
) -> None:
    added = cli("connections", "add", "weed", "--endpoint-url", seaweed.endpoint,
                "--bucket", weed_bucket)  # fmt: skip
    assert added.exit_code == 0, added.stderr
    listed = cli("--connection", "weed", "ls", "s3://", env=keys(seaweed))
    assert listed.exit_code == 0, listed.stderr
    assert "hello.txt" in listed.stdout
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text("<p>hi</p>")
    synced = cli("--connection", "weed", "sync", str(site), "s3:///web", env=keys(seaweed))
    assert synced.exit_code == 0, synced.stderr
    assert seaweed.session().storage(weed_bucket).get("web/index.html") == b"<p>hi</p>"
    without = cli("ls", "s3:///web/", env={**keys(seaweed), "S3KIT_ENDPOINT_URL": seaweed.endpoint})
    assert_usage_error(without)
    assert "has no bucket name" in without.stderr
