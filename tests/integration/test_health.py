"""`s3kit health` against the real servers: healthy, degraded (rclone ignores conditional
writes) and unhealthy (no bucket, no endpoint, wrong keys), with the exit codes a probe reads."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from typing import Any

import pytest

from s3kit.service import S3Service
from tests.conftest import Backend, CliInvoker, unique_bucket_name
from tests.integration.cli_support import keys
from tests.integration.known_gaps import known_gap


@pytest.fixture(params=["seaweedfs", "moto", "rclone"])
def server(request: pytest.FixtureRequest) -> Backend:
    fixture = {"seaweedfs": "seaweed", "moto": "moto", "rclone": "rclone"}[request.param]
    backend: Backend = request.getfixturevalue(fixture)
    return backend


@pytest.fixture
def checked_bucket(server: Backend) -> Iterator[str]:
    name = unique_bucket_name("health")
    service = S3Service(server.session())
    service.create_bucket(name)
    yield name
    service.empty_bucket(name)
    service.delete_bucket(name)


def run(cli: CliInvoker, backend: Backend, *args: str) -> tuple[int, dict[str, Any]]:
    result = cli("health", *args, "--json", env=backend.env())
    return result.exit_code, json.loads(result.stdout)


def test_a_deep_check_of_a_working_bucket(
    cli: CliInvoker, server: Backend, checked_bucket: str
) -> None:
    code, report = run(cli, server, f"s3://{checked_bucket}", "--deep")
    steps = {s["name"]: s for s in report["steps"]}
    assert list(steps) == [
        "connect", "liveness", "identity", "bucket", "canary", "conditional write", "clock"
    ]  # fmt: skip
    assert all(steps[n]["status"] == "ok" for n in ("connect", "identity", "bucket", "canary"))
    assert steps["liveness"]["status"] == ("ok" if server.name == "seaweedfs" else "skipped")
    assert abs(report["clock_skew_seconds"]) < 5
    assert keys(server, checked_bucket) == []  # the canary is gone
    if known_gap(server, "conditional writes") is not None:
        assert steps["conditional write"]["status"] == "degraded"
        assert (code, report["verdict"]) == (1, "degraded")
    else:
        assert steps["conditional write"]["status"] == "ok"
        assert (code, report["verdict"]) == (0, "healthy")


def test_a_missing_bucket_is_unhealthy(cli: CliInvoker, seaweed: Backend) -> None:
    name = unique_bucket_name("gone")
    code, report = run(cli, seaweed, f"s3://{name}", "--deep")
    assert (code, report["verdict"]) == (2, "unhealthy")
    assert report["steps"][-1]["name"] == "bucket"
    assert "does not exist" in report["steps"][-1]["detail"]


def test_an_endpoint_nobody_listens_on_is_unhealthy(cli: CliInvoker, seaweed: Backend) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{sock.getsockname()[1]}"
    result = cli("health", env={**seaweed.env(), "S3KIT_ENDPOINT_URL": dead})
    assert result.exit_code == 2
    assert result.stdout.splitlines()[0].endswith(": unhealthy")
    assert result.stdout.splitlines()[1].split()[:2] == ["connect", "failed"]


def test_keys_the_server_refuses_are_unhealthy_and_never_shown(
    cli: CliInvoker, seaweed: Backend
) -> None:
    secret = "wrong-secret-never-shown-0123456789"
    env = {**seaweed.env(), "S3KIT_SECRET_ACCESS_KEY": secret}
    result = cli("health", "--json", env=env)
    report = json.loads(result.stdout)
    assert (result.exit_code, report["steps"][-1]["name"]) == (2, "identity")
    assert report["steps"][-1]["status"] == "failed"
    assert secret not in result.stdout + result.stderr


def test_a_liveness_endpoint_that_answers_503_is_degraded(
    cli: CliInvoker, seaweed: Backend
) -> None:
    from tests.integration.proxy import ErrorReply, FaultProxy, matching

    with FaultProxy(seaweed.endpoint) as proxy:
        proxy.add_fault(ErrorReply("ServiceUnavailable", status=503),
                        match=matching(path="/healthz"), times=None)  # fmt: skip
        result = cli("health", "--json", env=seaweed.behind(proxy.url).env())
    report = json.loads(result.stdout)
    steps = {s["name"]: s for s in report["steps"]}
    assert (steps["liveness"]["status"], steps["liveness"]["detail"]) == (
        "degraded", "/healthz answered 503")  # fmt: skip
    assert steps["identity"]["status"] == "ok"
    assert (result.exit_code, report["verdict"]) == (1, "degraded")


def test_a_clock_an_hour_off_is_degraded(seaweed: Backend) -> None:
    import time

    from s3kit.health import check_health

    name = unique_bucket_name("skew")
    session = seaweed.session()
    service = S3Service(session)
    service.create_bucket(name)
    try:
        report = check_health(session, name, deep=True, wall=lambda: time.time() + 3600)
    finally:
        service.empty_bucket(name)
        service.delete_bucket(name)
    clock = report.steps[-1]
    assert (clock.name, clock.status) == ("clock", "degraded")
    assert report.clock_skew is not None and 3590 < report.clock_skew < 3610
    assert (report.verdict, report.exit_code) == ("degraded", 1)
