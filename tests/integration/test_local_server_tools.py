"""The embedded server as other tools see it: a stable endpoint across restarts, `s3kit local
env` for aws-cli / rclone / boto3, its own endpoint named with --endpoint-url, and its logs kept
private inside its data folder.

Each start costs SeaweedFS a second or two: one module server for the tools' tests, and one
lifecycle test that restarts a second data folder a few times.
"""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from s3kit._local_server import LocalServer, LocalServerState, free_ports
from s3kit._session import Session
from s3kit.service import S3Service
from tests.conftest import CliInvoker

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServerState]:
    server = LocalServer(tmp_path_factory.mktemp("tools-seaweedfs"))
    state, _ = server.start()
    try:
        yield state
    finally:
        server.stop()


def _bucket_on(state: LocalServerState, name: str) -> None:
    direct = Session(
        endpoint_url=state.endpoint,
        access_key_id=state.access_key_id,
        secret_access_key=state.secret_access_key,
        env={},
    )
    S3Service(direct).create_bucket(name)
    direct.storage(name).put("notes/hello.txt", b"hello")


_BOTO3_LIST = (
    "import boto3; print(' '.join(b['Name'] for b in boto3.client('s3').list_buckets()['Buckets']))"
)


def test_local_env_exports_reach_the_server_from_boto3(
    running: LocalServerState, cli: CliInvoker
) -> None:
    _bucket_on(running, "env-visible")
    result = cli("local", "env", "--dir", running.data_dir)
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert [line.split("=", 1)[0] for line in lines] == [
        "export AWS_ENDPOINT_URL",
        "export AWS_ACCESS_KEY_ID",
        "export AWS_SECRET_ACCESS_KEY",
        "export AWS_REGION",
    ]
    assert running.secret_access_key not in result.stderr
    # A clean environment: only what `local env` printed tells boto3 where to go.
    env = {"PATH": os.environ["PATH"], "HOME": os.environ["HOME"]}
    script = f'{result.stdout}\nexec "$PYTHON" -c "$CODE"\n'
    listed = subprocess.run(
        ["sh", "-c", script],
        env={**env, "PYTHON": sys.executable, "CODE": _BOTO3_LIST},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert listed.returncode == 0, listed.stderr
    assert "env-visible" in listed.stdout.split()

    as_json = cli("local", "env", "--dir", running.data_dir, "--json")
    assert as_json.exit_code == 0, as_json.stderr
    assert json.loads(as_json.stdout) == {
        "AWS_ENDPOINT_URL": running.endpoint,
        "AWS_ACCESS_KEY_ID": running.access_key_id,
        "AWS_SECRET_ACCESS_KEY": running.secret_access_key,
        "AWS_REGION": "us-east-1",
    }


def test_endpoint_url_of_the_embedded_server_uses_its_keys(
    running: LocalServerState, cli: CliInvoker
) -> None:
    _bucket_on(running, "named-by-url")
    port = running.ports["s3"]
    env = {"S3KIT_LOCAL_DIR": running.data_dir}
    for url in (running.endpoint, f"http://localhost:{port}/"):
        result = cli("--endpoint-url", url, "ls", env=env)
        assert result.exit_code == 0, result.stderr
        assert "named-by-url" in result.stdout
        assert running.secret_access_key not in result.stdout + result.stderr
    # Another endpoint is not the embedded server's: no keys are lent to it.
    elsewhere = cli("--endpoint-url", f"https://127.0.0.1:{port}", "ls", env=env)
    assert elsewhere.exit_code != 0
    assert "no credentials found" in elsewhere.stderr
    # Keys that are configured are used as they are, even for its endpoint.
    wrong = cli(
        "--endpoint-url",
        running.endpoint,
        "ls",
        env={**env, "AWS_ACCESS_KEY_ID": "AKIAWRONG", "AWS_SECRET_ACCESS_KEY": "wrong"},
    )
    assert wrong.exit_code != 0


def _occupy(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # The stopped server's connections may still be in TIME_WAIT on it.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen()
    return sock


def _tmp_logs_of(pids: set[int]) -> list[str]:
    """weed's own log files in /tmp (weed.HOST.USER.log.LEVEL.DATE-TIME.PID) written by one
    of `pids`, and the weed.LEVEL links to them."""
    found = []
    for path in Path("/tmp").glob("weed.*"):
        target = path.resolve().name if path.is_symlink() else path.name
        if target.rsplit(".", 1)[-1] in {str(pid) for pid in pids}:
            found.append(str(path))
    return found


def _connected_to(port: int) -> bool:
    """True if a client holds a connection to 127.0.0.1:`port`, over TCP or over the unix
    socket weed opens beside each gRPC port (/tmp/seaweedfs-<role>-grpc-<port>.sock)."""
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[3] == "01" and fields[2] == f"0100007F:{port:04X}":  # ESTABLISHED
            return True
    for line in Path("/proc/net/unix").read_text().splitlines()[1:]:
        fields = line.split()
        if len(fields) == 8 and fields[5] == "03" and fields[7].endswith(f"-grpc-{port}.sock"):
            return True  # 03: connected
    return False


def _wait_until_connected_to(port: int) -> None:
    deadline = time.monotonic() + 60
    while not _connected_to(port):
        if time.monotonic() > deadline:
            raise AssertionError(f"nothing connected to port {port} within 60 s")
        time.sleep(0.2)


@pytest.fixture
def notices() -> list[str]:
    return []


@pytest.fixture
def server(tmp_path: Path, notices: list[str]) -> Iterator[LocalServer]:
    """A server of its own; stopped at the end whichever start (API or CLI) left it running."""
    server = LocalServer(tmp_path / "local", notify=notices.append)
    try:
        yield server
    finally:
        server.stop()


@pytest.mark.skipif(not Path("/proc/net/unix").exists(), reason="needs Linux /proc")
def test_restarts_keep_the_endpoint_and_the_logs_stay_private(
    server: LocalServer, notices: list[str], cli: CliInvoker
) -> None:
    data_dir = server.data_dir
    pids: set[int] = set()

    first, _ = server.start()
    pids.add(first.pid)
    # Its maintenance worker reaches the admin server's gRPC port (before: it dialled a port
    # nobody listened on, and retried for as long as the server ran, growing the log).
    _wait_until_connected_to(first.ports["admin_grpc"])
    _bucket_on(first, "logged")
    assert server.stop()

    # Its port taken while it was stopped: it moves, and says so in one line.
    with _occupy(first.ports["s3"]):
        moved = cli("local", "start", "--dir", str(data_dir))
        assert moved.exit_code == 0, moved.stderr
        state = server.running_state()
        assert state is not None
        pids.add(state.pid)
        assert state.endpoint != first.endpoint
        assert state.endpoint in moved.stdout
        notes = [line for line in moved.stderr.splitlines() if line]
        assert len(notes) == 1, moved.stderr
        assert str(first.ports["s3"]) in notes[0] and state.endpoint in notes[0]
        others = {k: v for k, v in state.ports.items() if k != "s3"}
        assert others == {k: v for k, v in first.ports.items() if k != "s3"}
        assert cli("local", "stop", "--dir", str(data_dir)).exit_code == 0

    # --port fixes the S3 port, and later starts keep it.
    (port,) = free_ports(1)
    fixed = cli("local", "start", "--dir", str(data_dir), "--port", str(port))
    assert fixed.exit_code == 0, fixed.stderr
    assert f"http://127.0.0.1:{port}" in fixed.stdout
    state = server.running_state()
    assert state is not None
    pids.add(state.pid)
    assert state.ports["s3"] == port
    again = cli("local", "start", "--dir", str(data_dir), "--port", str(port))
    assert again.exit_code == 0 and "already running" in again.stdout
    refused = cli("local", "start", "--dir", str(data_dir), "--port", str(port + 1))
    assert refused.exit_code == 1
    assert "local stop" in refused.stderr and len(refused.stderr.splitlines()) == 1
    assert server.stop()
    # A plain restart (no --port) keeps the endpoint and every other port, and says nothing.
    restarted, started = server.start()
    pids.add(restarted.pid)
    assert started
    assert restarted.ports["s3"] == port
    assert restarted.endpoint == state.endpoint
    assert restarted.ports == state.ports
    assert notices == []
    assert server.stop()

    # Nothing of any of these runs in /tmp; every log file is the owner's alone.
    assert _tmp_logs_of(pids) == []
    log_files = [p for p in (data_dir / "logs").rglob("*") if p.is_file()]
    assert log_files
    for path in [data_dir / "logs", *log_files]:
        mode = stat.S_IMODE(path.stat().st_mode)
        assert mode & 0o077 == 0, f"{path} is readable by others: {oct(mode)}"
    assert not (data_dir / "weed.log").exists()
