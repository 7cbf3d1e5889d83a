"""The test harness: real servers on loopback, started once per test session.

- `seaweed` / `moto`: a SeaweedFS (`weed mini`, started through s3kit's own LocalServer) and a
  moto server (`python -m moto.server`, its own process), both on free 127.0.0.1 ports, both
  stopped by pid at the end.
- `backend`: parametrized over both; `bucket`: a fresh bucket on it for each test.
- `isolated_env` (autouse): no test sees the developer's ~/.aws, AWS_* or S3KIT_* variables, or
  asks the EC2 metadata service for anything.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from s3kit.local_server import LocalServer, free_ports
from s3kit.service import S3Service
from s3kit.session import Session


@dataclass(frozen=True)
class Backend:
    name: str
    endpoint: str
    access_key: str
    secret_key: str

    def session(self, **options: object) -> Session:
        return Session(
            endpoint_url=self.endpoint,
            access_key_id=self.access_key,
            secret_access_key=self.secret_key,
            env={},
            **options,  # type: ignore[arg-type]
        )

    def env(self) -> dict[str, str]:
        """Environment variables that point the CLI at this backend."""
        return {
            "S3KIT_ENDPOINT_URL": self.endpoint,
            "S3KIT_ACCESS_KEY_ID": self.access_key,
            "S3KIT_SECRET_ACCESS_KEY": self.secret_key,
        }


_CLEARED_PREFIXES = ("AWS_", "S3KIT_")


@pytest.fixture(autouse=True)
def isolated_env(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path_factory.mktemp("home")
    for name in list(os.environ):
        if name.startswith(_CLEARED_PREFIXES):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(home / ".aws" / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(home / ".aws" / "credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / ".local" / "state"))
    return home


def _wait_http(url: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1):  # noqa: S310 - loopback
                return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


@pytest.fixture(scope="session")
def seaweed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backend]:
    server = LocalServer(tmp_path_factory.mktemp("seaweedfs"))
    state, _ = server.start()
    try:
        yield Backend("seaweedfs", state.endpoint, state.access_key_id, state.secret_access_key)
    finally:
        server.stop()


@pytest.fixture(scope="session")
def moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backend]:
    (port,) = free_ports(1)
    log = (tmp_path_factory.mktemp("moto") / "moto.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        _wait_http(f"http://127.0.0.1:{port}/moto-api/", timeout=60)
        yield Backend("moto", f"http://127.0.0.1:{port}", "testing", "testing")
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait()
        log.close()


@pytest.fixture(params=["seaweedfs", "moto"])
def backend(request: pytest.FixtureRequest) -> Backend:
    fixture = {"seaweedfs": "seaweed", "moto": "moto"}[request.param]
    result: Backend = request.getfixturevalue(fixture)
    return result


def unique_bucket_name(prefix: str = "t") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:16]}"


@pytest.fixture
def session(backend: Backend) -> Session:
    return backend.session()


@pytest.fixture
def bucket(backend: Backend) -> Iterator[str]:
    """A new, empty bucket on `backend`, removed with everything in it afterwards."""
    name = unique_bucket_name()
    service = S3Service(backend.session())
    service.create_bucket(name)
    yield name
    with contextlib.suppress(Exception):
        service.empty_bucket(name)
        service.delete_bucket(name)


@pytest.fixture
def other_bucket(backend: Backend) -> Iterator[str]:
    """A second fresh bucket on `backend`, for copies between buckets."""
    name = unique_bucket_name("t2")
    service = S3Service(backend.session())
    service.create_bucket(name)
    yield name
    service.empty_bucket(name)
    service.delete_bucket(name)


@pytest.fixture(scope="module")
def shared_buckets() -> Iterator[dict[str, tuple[Session, str]]]:
    """One Session and one bucket per S3 backend for a whole module, for suites that empty the
    bucket after each test instead: creating a bucket costs SeaweedFS most of a second (it
    grows a volume collection per bucket), and each new Session builds its own boto3 client."""
    made: dict[str, tuple[Session, str]] = {}
    yield made
    for session, name in made.values():
        with contextlib.suppress(Exception):
            service = S3Service(session)
            service.empty_bucket(name)
            service.delete_bucket(name)


@dataclass
class CliResult:
    exit_code: int
    stdout: str
    stderr: str
    stdout_bytes: bytes


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch) -> CliInvoker:
    return CliInvoker(monkeypatch)


class CliInvoker:
    """Runs `s3kit ...` in-process, with environment variables set for that run only."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self._monkeypatch = monkeypatch

    def __call__(
        self, *args: str, env: dict[str, str] | None = None, input: bytes | str | None = None
    ) -> CliResult:
        from s3kit.cli.app import app

        with self._monkeypatch.context() as patch:
            for name, value in (env or {}).items():
                patch.setenv(name, value)
            result = CliRunner().invoke(app, list(args), input=input, catch_exceptions=False)
        return CliResult(
            exit_code=result.exit_code,
            stdout=result.stdout,
            stderr=result.stderr,
            stdout_bytes=result.stdout_bytes,
        )


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Leave without interpreter finalisation (see s3kit.cli.app.main): obstore's Tokio
    threads racing Py_Finalize can abort an otherwise finished, green run."""
    if os.environ.get("S3KIT_TEST_HARD_EXIT", "1") == "1":
        session.config.add_cleanup(lambda: _hard_exit(exitstatus))


def _hard_exit(status: int) -> None:
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(int(status))
