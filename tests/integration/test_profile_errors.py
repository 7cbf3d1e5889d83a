"""Profiles whose credentials cannot be had (issue 11 §4.5): an SSO profile with no token, a
role profile whose STS endpoint is a closed 127.0.0.1 port. The error names the profile and
the step that failed; `s3kit profiles --check` reports every profile instead of stopping at
the first that fails. Nothing here leaves 127.0.0.1: the SSO profile fails on its missing token
cache before any request, the role profile's STS endpoint is set in its services section."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import Backend, CliInvoker
from tests.integration.cli_support import assert_failed
from tests.servers.base import free_ports


@pytest.fixture
def aws_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, moto: Backend) -> int:
    """An AWS config file with an SSO profile, a role profile and a working keys profile;
    returns the closed port the role's STS endpoint points at."""
    (port,) = free_ports(1)
    config = tmp_path / "aws-config"
    config.write_text(
        f"""\
[profile sso-dev]
sso_start_url = https://example.awsapps.com/start
sso_region = us-east-1
sso_account_id = 123456789012
sso_role_name = Developer
region = us-east-1
endpoint_url = http://127.0.0.1:{port}

[sso-session corp]
sso_start_url = https://example.awsapps.com/start
sso_region = us-east-1

[profile sso-new]
sso_session = corp
sso_account_id = 123456789012
sso_role_name = Developer
region = us-east-1
endpoint_url = http://127.0.0.1:{port}

[profile base]
aws_access_key_id = AKIAEXAMPLEBASE
aws_secret_access_key = base-secret-0123456789
region = us-east-1

[profile deploy]
role_arn = arn:aws:iam::123456789012:role/deployer
source_profile = base
region = us-east-1
endpoint_url = http://127.0.0.1:{port}
services = closed-sts

[profile works]
aws_access_key_id = {moto.access_key}
aws_secret_access_key = {moto.secret_key}
region = us-east-1
endpoint_url = {moto.endpoint}

[services closed-sts]
sts =
  endpoint_url = http://127.0.0.1:{port}
""",
        encoding="utf-8",
    )
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("S3KIT_MAX_RETRIES", "0")
    return port


@pytest.mark.parametrize("profile", ["sso-dev", "sso-new"])
def test_an_sso_profile_without_a_token_says_to_log_in(
    cli: CliInvoker, aws_config: int, profile: str
) -> None:
    result = cli("--profile", profile, "ls")
    assert_failed(result)
    assert f"profile '{profile}'" in result.stderr
    assert f"aws sso login --profile {profile}" in result.stderr
    assert "unexpected" not in result.stderr


def test_a_role_profile_whose_sts_is_unreachable_names_the_step(
    cli: CliInvoker, aws_config: int
) -> None:
    result = cli("--profile", "deploy", "ls")
    assert_failed(result)
    assert "profile 'deploy'" in result.stderr
    assert "arn:aws:iam::123456789012:role/deployer" in result.stderr
    assert f"http://127.0.0.1:{aws_config}" in result.stderr
    assert "STS" in result.stderr
    assert "S3 endpoint" not in result.stderr


def test_profiles_check_reports_every_profile(cli: CliInvoker, aws_config: int) -> None:
    result = cli("profiles", "--check", "--json")
    assert result.exit_code == 1, result.stderr
    checks = {record["name"]: record["check"] for record in json.loads(result.stdout)}
    assert sorted(checks) == ["base", "deploy", "sso-dev", "sso-new", "works"]
    assert checks["works"]["ok"], checks["works"]
    failures = {
        name: check["error"]["message"] for name, check in checks.items() if not check["ok"]
    }
    assert sorted(failures) == ["base", "deploy", "sso-dev", "sso-new"]
    for name in ("sso-dev", "sso-new"):
        assert f"aws sso login --profile {name}" in failures[name]
    assert "STS" in failures["deploy"] and "profile 'deploy'" in failures["deploy"]
    assert "cannot reach" in failures["base"]
    assert "base-secret" not in result.stdout + result.stderr
