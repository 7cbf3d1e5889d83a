"""`s3kit presign | whoami` against every backend."""

from __future__ import annotations

import json
import urllib.request
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.conftest import Backend, CliInvoker
from tests.integration.cli_support import (
    assert_failed,
    assert_usage_error,
    distinct_secret_env,
    get,
    put,
)
from tests.integration.known_gaps import known_gap

PAYLOAD = bytes(range(256)) + b"presigned"


def _fetch(url: str, *, method: str = "GET", data: bytes | None = None) -> tuple[int, bytes]:
    assert urlsplit(url).hostname == "127.0.0.1", url
    # An explicit type: urllib would send binary data as form-urlencoded, which moto's server
    # then tries to parse as a form and never answers.
    headers = {"Content-Type": "application/octet-stream"} if data is not None else {}
    request = urllib.request.Request(url, data=data, method=method, headers=headers)  # noqa: S310
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 - loopback
        return response.status, response.read()


def _signature(url: str) -> str:
    (value,) = parse_qs(urlsplit(url).query)["X-Amz-Signature"]
    return value


# -- presign ---------------------------------------------------------------------------------


def test_presign_get_downloads_the_object(cli: CliInvoker, backend: Backend, bucket: str) -> None:
    put(backend, bucket, {"dir/file.bin": PAYLOAD})
    result = cli("presign", f"s3://{bucket}/dir/file.bin", "--expires-in", "600", env=backend.env())
    assert result.exit_code == 0, result.stderr
    url = result.stdout.strip()
    assert "\n" not in url
    assert "X-Amz-Signature=" in url
    assert parse_qs(urlsplit(url).query)["X-Amz-Expires"] == ["600"]
    status, body = _fetch(url)
    assert status == 200
    assert body == PAYLOAD


def test_presign_put_uploads_the_object(cli: CliInvoker, backend: Backend, bucket: str) -> None:
    result = cli("presign", f"s3://{bucket}/upload.bin", "--method", "put", env=backend.env())
    assert result.exit_code == 0, result.stderr
    status, _ = _fetch(result.stdout.strip(), method="PUT", data=PAYLOAD)
    assert status == 200
    assert get(backend, bucket, "upload.bin") == PAYLOAD


@pytest.mark.parametrize("seconds", ["0", "604801", "-5"])
def test_presign_expiry_out_of_range(
    cli: CliInvoker, backend: Backend, bucket: str, seconds: str
) -> None:
    result = cli("presign", f"s3://{bucket}/k", "--expires-in", seconds, env=backend.env())
    assert_usage_error(result)
    assert "--expires-in" in result.stderr
    assert result.stdout == ""


def test_presign_longest_expiry_is_accepted(cli: CliInvoker, backend: Backend, bucket: str) -> None:
    result = cli("presign", f"s3://{bucket}/k", "--expires-in", "604800", env=backend.env())
    assert result.exit_code == 0, result.stderr
    assert "X-Amz-Expires=604800" in result.stdout


def test_presign_rejects_other_methods_and_prefixes(
    cli: CliInvoker, backend: Backend, bucket: str
) -> None:
    delete = cli("presign", f"s3://{bucket}/k", "--method", "DELETE", env=backend.env())
    assert_usage_error(delete)
    assert "GET or PUT" in delete.stderr
    prefix = cli("presign", f"s3://{bucket}/dir/", env=backend.env())
    assert_usage_error(prefix)


def test_presign_never_logs_the_signature_or_secret(
    cli: CliInvoker, backend: Backend, bucket: str
) -> None:
    put(backend, bucket, {"k": b"v"})
    env, secret = distinct_secret_env(backend)
    for args in (("presign",), ("--debug", "presign")):
        result = cli(*args, f"s3://{bucket}/k", env=env)
        assert result.exit_code == 0, result.stderr
        signature = _signature(result.stdout.strip())
        assert signature not in result.stderr
        assert secret not in result.stderr
        assert secret not in result.stdout


# -- whoami ----------------------------------------------------------------------------------


def test_whoami_shows_the_identity(cli: CliInvoker, backend: Backend) -> None:
    env, secret = distinct_secret_env(backend)
    result = cli("whoami", env=env)
    assert result.exit_code == 0, result.stderr
    assert f"Endpoint:    {backend.endpoint}" in result.stdout
    assert "S3KIT_* environment variables" in result.stdout
    assert secret not in result.stdout + result.stderr
    if backend.name == "moto":
        assert "Account:     123456789012" in result.stdout
        assert "ARN:         arn:aws:" in result.stdout
    else:
        assert "Account:" in result.stdout or "ListBuckets works" in result.stdout, result.stdout


def test_whoami_json(cli: CliInvoker, backend: Backend, bucket: str) -> None:
    result = cli("whoami", "--json", env=backend.env())
    assert result.exit_code == 0, result.stderr
    identity = json.loads(result.stdout)
    assert identity["endpoint"] == backend.endpoint
    assert identity["method"] in ("sts", "list-buckets")
    if identity["method"] == "sts":
        assert identity["account"]
    else:
        assert identity["buckets"] >= 1  # at least the test's own bucket
    if backend.name == "moto":
        assert identity["method"] == "sts"
        assert identity["account"] == "123456789012"
    if len(backend.access_key) > 8:
        assert identity["access_key"] != backend.access_key  # masked


def test_whoami_with_a_wrong_secret(cli: CliInvoker, backend: Backend) -> None:
    unchecked = known_gap(backend, "signature check")
    wrong = "wrongSecretValue0123456789"
    env = {**backend.env(), "S3KIT_SECRET_ACCESS_KEY": wrong}
    if unchecked is not None:
        accepted = cli("whoami", env=env)
        assert accepted.exit_code == 0, (accepted.stdout, accepted.stderr)
        pytest.skip(unchecked)
    for args in (("whoami",), ("--debug", "whoami")):
        result = cli(*args, env=env)
        assert result.exit_code == 1, (result.stdout, result.stderr)
        assert result.stderr.splitlines()[-1].startswith("s3kit: error:")
        assert "credentials" in result.stderr.splitlines()[-1]
        assert wrong not in result.stdout + result.stderr
        if args == ("whoami",):
            assert_failed(result)
