"""Logs, metrics and their reports against a real server: `--stats`, `--stats-json`,
`--metrics-file` checked by Prometheus' own promtool, `--metrics-push` received by a real
Pushgateway, `--log-level` / `--log-format json` request records with no secret in them.

SeaweedFS only: the figures come from the request events, the same on every server."""

from __future__ import annotations

import json
import subprocess
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import Backend, CliInvoker
from tests.integration.cli_support import put
from tests.servers.prometheus import PROMTOOL, PUSHGATEWAY, Pushgateway

PROMETHEUS = "Prometheus' programs not unpacked (tests/servers/unpack-debs.sh)"


@pytest.fixture
def seeded(seaweed: Backend, bucket_on_seaweed: str) -> str:
    put(seaweed, bucket_on_seaweed, {"a.txt": b"a", "dir/b.txt": b"bb"})
    return bucket_on_seaweed


@pytest.fixture
def bucket_on_seaweed(seaweed: Backend) -> Iterator[str]:
    from s3kit.service import S3Service
    from tests.conftest import unique_bucket_name

    name = unique_bucket_name("obs")
    service = S3Service(seaweed.session())
    service.create_bucket(name)
    yield name
    service.empty_bucket(name)
    service.delete_bucket(name)


def test_stats_print_a_table_after_the_output(
    cli: CliInvoker, seaweed: Backend, seeded: str
) -> None:
    result = cli("ls", f"s3://{seeded}/", "--stats", env=seaweed.env())
    assert result.exit_code == 0, result.stderr
    assert "a.txt" in result.stdout and "operation" not in result.stdout
    rows = [line.split() for line in result.stderr.splitlines()]
    assert rows[0] == ["operation", "requests", "success", "p50", "p95", "p99", "retries"]
    listing = next(row for row in rows if row[0] == "ListObjectsV2")
    assert listing[1:3] == ["1", "100.00%"]
    assert rows[-1][0] == "all"


def test_stats_json_counts_failures_too(
    cli: CliInvoker, seaweed: Backend, seeded: str, tmp_path: Path
) -> None:
    report = tmp_path / "stats.json"
    result = cli(
        "cat", f"s3://{seeded}/missing.txt", "--stats-json", str(report), env=seaweed.env()
    )
    assert result.exit_code == 1
    document = json.loads(report.read_text())
    get = next(op for op in document["operations"] if op["operation"] == "GetObject")
    assert get["outcomes"] == {"not_found": 1}
    assert document["requests"] >= 1 and document["success_rate"] == 1.0


@pytest.mark.skipif(not PROMTOOL.exists(), reason=PROMETHEUS)
def test_the_metrics_file_is_what_promtool_accepts(
    cli: CliInvoker, seaweed: Backend, seeded: str, tmp_path: Path
) -> None:
    target = tmp_path / "textfile" / "s3kit.prom"
    target.parent.mkdir()
    result = cli("cp", "-r", f"s3://{seeded}/", str(tmp_path / "down"), "--metrics-file",
                 str(target), env=seaweed.env())  # fmt: skip
    assert result.exit_code == 0, result.stderr
    text = target.read_text()
    assert 's3kit_requests_total{operation="GetObject",outcome="success"} 2' in text
    assert [p.name for p in target.parent.iterdir()] == ["s3kit.prom"]  # no temporary left
    check = subprocess.run(
        [str(PROMTOOL), "check", "metrics"], input=text, capture_output=True, text=True, timeout=60
    )
    assert check.returncode == 0, check.stdout + check.stderr


def test_an_unwritable_metrics_file_fails_a_run_that_succeeded(
    cli: CliInvoker, seaweed: Backend, seeded: str, tmp_path: Path
) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    target = tmp_path / "a-file" / "x.prom"
    result = cli("ls", f"s3://{seeded}/", "--metrics-file", str(target), env=seaweed.env())
    assert result.exit_code == 1
    assert "a.txt" in result.stdout
    assert len(result.stderr.strip().splitlines()) == 1 and "x.prom" in result.stderr


@pytest.mark.skipif(not PUSHGATEWAY.exists(), reason=PROMETHEUS)
def test_metrics_reach_a_real_pushgateway(
    cli: CliInvoker, seaweed: Backend, seeded: str, tmp_path: Path
) -> None:
    with Pushgateway(tmp_path) as gateway:
        result = cli("ls", f"s3://{seeded}/", "--metrics-push", gateway.endpoint, env=seaweed.env())
        assert result.exit_code == 0, result.stderr
        with urllib.request.urlopen(f"{gateway.endpoint}/metrics", timeout=10) as answer:  # noqa: S310
            scraped = answer.read().decode()
    assert any(
        line.startswith("s3kit_requests_total{")
        and 'job="s3kit"' in line
        and 'operation="ListObjectsV2"' in line
        for line in scraped.splitlines()
    ), scraped


def test_a_pushgateway_that_is_not_there_is_one_error_line(
    cli: CliInvoker, seaweed: Backend, seeded: str
) -> None:
    result = cli("ls", f"s3://{seeded}/", "--metrics-push", "http://127.0.0.1:9", env=seaweed.env())
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1 and "Pushgateway" in result.stderr


def test_json_logs_have_one_record_per_request_and_no_secret(
    cli: CliInvoker, seaweed: Backend, seeded: str
) -> None:
    result = cli("ls", f"s3://{seeded}/", "--log-level", "debug", "--log-format", "json",
                 env=seaweed.env())  # fmt: skip
    assert result.exit_code == 0, result.stderr
    records = [json.loads(line) for line in result.stderr.splitlines() if line.strip()]
    requests = [r for r in records if r.get("event") == "request"]
    listing = [r for r in requests if r["operation"] == "ListObjectsV2"]
    assert listing and listing[0]["status"] == 200 and listing[0]["bucket"] == seeded
    assert {"time", "level", "logger", "message", "attempt", "seconds"} <= set(listing[0])
    assert seaweed.secret_key not in result.stderr and seaweed.access_key not in result.stderr


def test_info_logs_failed_requests_only(cli: CliInvoker, seaweed: Backend, seeded: str) -> None:
    result = cli("cat", f"s3://{seeded}/missing.txt", "--log-level", "info", env=seaweed.env())
    assert result.exit_code == 1
    logged = [line for line in result.stderr.splitlines() if "s3kit.request" in line]
    assert len(logged) == 1 and "GetObject GET" in logged[0] and "404" in logged[0]
    quiet = cli("cat", f"s3://{seeded}/a.txt", "--log-level", "info", env=seaweed.env())
    assert "s3kit.request" not in quiet.stderr


def test_a_bad_log_level_is_a_usage_error(cli: CliInvoker, seaweed: Backend) -> None:
    result = cli("ls", "--log-level", "loud", env=seaweed.env())
    assert result.exit_code == 2 and "--log-level" in result.stderr


# -- the log section of s3kit.yaml, below flags and S3KIT_LOG_* -----------------------------------


def test_the_config_files_log_section_sits_below_the_environment_and_the_flags(
    cli: CliInvoker, seaweed: Backend, seeded: str, tmp_path: Path
) -> None:
    config = tmp_path / "s3kit.yaml"
    config.write_text("log:\n  level: info\n  format: json\n")
    env = {**seaweed.env(), "S3KIT_CONFIG": str(config)}
    missing = f"s3://{seeded}/missing.txt"

    from_file = cli("cat", missing, env=env)
    records = [json.loads(line) for line in from_file.stderr.splitlines() if line.startswith("{")]
    assert [(r["operation"], r["status"]) for r in records if r.get("event") == "request"] == [
        ("GetObject", 404)
    ]
    from_env = cli("cat", missing, env={**env, "S3KIT_LOG_FORMAT": "text"})
    assert "s3kit: INFO s3kit.request: GetObject GET" in from_env.stderr
    assert not any(line.startswith("{") for line in from_env.stderr.splitlines())
    from_flag = cli("cat", missing, "--log-level", "error", env={**env, "S3KIT_LOG_LEVEL": "info"})
    assert "s3kit.request" not in from_flag.stderr and '"request"' not in from_flag.stderr


def test_a_bad_log_setting_in_the_file_is_reported_with_its_line(
    cli: CliInvoker, seaweed: Backend, tmp_path: Path
) -> None:
    config = tmp_path / "s3kit.yaml"
    config.write_text("log:\n  level: loud\n  colour: red\n")
    result = cli("ls", env={**seaweed.env(), "S3KIT_CONFIG": str(config)})
    assert result.exit_code == 2
    assert result.stderr.splitlines() == [
        f"s3kit: error: {config}:2: log.level must be one of debug, info, warning, error,"
        " not 'loud'",
        f"s3kit: error: {config}:3: unknown setting 'log.colour' — known: level, format",
    ]


# -- no secret in any log, whatever the format and level ------------------------------------------

CANARY_TOKEN = "CanaryTokenNeverShown0123456789abcdef"
CANARY_SSE_C = bytes(range(97, 123)) + b"012345"  # 32 printable bytes: a leak shows as text


@pytest.mark.parametrize("fmt", ["text", "json"])
@pytest.mark.parametrize("loud", [("--log-level", "debug"), ("--debug",)], ids=["debug", "tb"])
def test_no_secret_token_or_sse_c_key_in_any_log(
    cli: CliInvoker,
    seaweed: Backend,
    seeded: str,
    tmp_path: Path,
    fmt: str,
    loud: tuple[str, ...],
) -> None:
    """Debug is the loudest level (every record of info, warning and error is in it too);
    --debug adds tracebacks and botocore's own records. Succeeding and failing commands: an
    SSE-C upload and read, a read of a missing key, a session token the server refuses and a
    wrong secret."""
    import base64

    key_file = tmp_path / "sse-c.key"
    key_file.write_bytes(CANARY_SSE_C)
    (tmp_path / "up.txt").write_bytes(b"secret body")
    url = f"s3://{seeded}/sse/up.txt"
    wrong_secret = "WrongSecretNeverShown0123456789abcdef"
    runs = [
        (0, seaweed.env(), ("cp", str(tmp_path / "up.txt"), url, "--sse", "sse-c",
                            "--sse-c-key-file", str(key_file))),
        (0, seaweed.env(), ("cp", url, str(tmp_path / "down.txt"), "--sse-c-key-file",
                            str(key_file))),
        (1, seaweed.env(), ("cp", f"s3://{seeded}/missing", str(tmp_path / "gone.txt"),
                            "--sse-c-key-file", str(key_file))),
        (1, {**seaweed.env(), "S3KIT_SESSION_TOKEN": CANARY_TOKEN}, ("ls", f"s3://{seeded}/")),
        (1, {**seaweed.env(), "S3KIT_SECRET_ACCESS_KEY": wrong_secret}, ("ls", f"s3://{seeded}/")),
    ]  # fmt: skip
    secrets = [seaweed.secret_key, wrong_secret, CANARY_TOKEN, CANARY_SSE_C.decode(),
               base64.b64encode(CANARY_SSE_C).decode()]  # fmt: skip
    for code, env, args in runs:
        result = cli(*loud, "--log-format", fmt, *args, env=env)
        assert result.exit_code == code, (args, result.stderr)
        # --debug is debug level too: every request is a record, in either format.
        assert "s3kit.request" in result.stderr, (args, result.stderr)
        for secret in secrets:
            assert secret not in result.stderr + result.stdout, (args, secret)


# -- one event per request, as a proxy in front of the server counts them -------------------------


def test_every_attempt_of_either_client_is_one_event_as_the_proxy_counts_it(
    seaweed: Backend, bucket_on_seaweed: str
) -> None:
    from s3kit.events import RequestEvent
    from s3kit.service import S3Service
    from tests.integration.proxy import ErrorReply, FaultProxy, Reset, matching

    with FaultProxy(seaweed.endpoint) as proxy:
        session = seaweed.behind(proxy.url).session()
        heard: list[RequestEvent] = []
        session.events.subscribe(heard.append)
        # One retried answer on each client, and a reset of a kept-alive connection (once sent
        # again inside the connection pool, with no event of its own): attempts are counted,
        # not calls.
        proxy.add_fault(ErrorReply("SlowDown", status=503), match=matching(method="PUT"))
        proxy.add_fault(ErrorReply(status=500), match=matching(query="versioning"))
        proxy.add_fault(Reset("request"), match=matching(method="HEAD"))
        proxy.add_fault(Reset("request"), match=matching(query="versioning"), nth=3)
        storage = session.storage(bucket_on_seaweed)
        storage.put("seam/a.txt", b"abc")
        assert storage.get("seam/a.txt") == b"abc"
        assert storage.head("seam/a.txt").size == 3
        assert [e.key for e in storage.list("seam/")] == ["seam/a.txt"]
        S3Service(session).get_versioning(bucket_on_seaweed)
        S3Service(session).get_versioning(bucket_on_seaweed)
        storage.delete("seam/a.txt")
        seen = proxy.exchanges

    assert {e.client for e in heard} == {"http", "boto3"}
    assert len(heard) == len(seen), (heard, seen)
    assert [e.method for e in heard] == [x.method for x in seen]
    assert [e.status for e in heard] == [x.status for x in seen]
    assert sum(e.retrying for e in heard) == 4
