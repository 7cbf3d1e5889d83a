"""The test harness: real servers on loopback, started once per test session.

- `seaweed` / `moto`: a SeaweedFS (`weed mini`, started through s3kit's own LocalServer) and a
  moto server (`python -m moto.server`, its own process), both on free 127.0.0.1 ports, both
  stopped by pid at the end.
- `backend`: parametrized over both; `bucket`: a fresh bucket on it for each test.
- The conformance set (tests/integration/test_conformance.py): `conformance_backend`,
  parametrized over `weed mini`, `seaweed_server` (`weed server -filer -s3`), `moto`, `rclone`
  (`rclone serve s3` over a folder) and, with S3KIT_TEST_CEPH=1, `ceph` (a real Ceph RGW).
  Each server starts the first time a test asks for it; tests/servers/ has the servers.
- `isolated_env` (autouse): no test sees the developer's ~/.aws, AWS_* or S3KIT_* variables, or
  asks the EC2 metadata service for anything.
"""

from __future__ import annotations

import contextlib
import functools
import os
import signal
import sys
import threading
import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol
from unittest import mock

import pytest
import typer.testing
from typer.testing import CliRunner

from s3kit._session import Session
from s3kit.service import S3Service
from tests.servers import Backend, MotoServer, RcloneS3, WeedMini, WeedServer

__all__ = ["Backend", "CliInvoker", "CliResult", "S3kitCliRunner", "unique_bucket_name"]

CEPH_ENV = "S3KIT_TEST_CEPH"
# The servers every conformance test runs against, by `Backend.name`.
CONFORMANCE_BACKENDS = ["seaweedfs", "seaweedfs-server", "moto", "rclone"] + (
    ["ceph"] if os.environ.get(CEPH_ENV) == "1" else []
)
_FIXTURE_OF = {
    "seaweedfs": "seaweed",
    "seaweedfs-server": "seaweed_server",
    "moto": "moto",
    "rclone": "rclone",
    "ceph": "ceph",
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


class _Server(Protocol):
    endpoint: str
    access_key: str
    secret_key: str


def _serve(name: str, server: AbstractContextManager[_Server]) -> Iterator[Backend]:
    with server as running:
        yield Backend(name, running.endpoint, running.access_key, running.secret_key)


@pytest.fixture(scope="session")
def seaweed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backend]:
    """`weed mini`, as `s3kit local start` runs it."""
    yield from _serve("seaweedfs", WeedMini(tmp_path_factory.mktemp("seaweedfs")))


@pytest.fixture(scope="session")
def moto(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backend]:
    yield from _serve("moto", MotoServer(tmp_path_factory.mktemp("moto")))


@pytest.fixture(scope="session")
def seaweed_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backend]:
    """`weed server -filer -s3`: master, volume server, filer and S3 gateway."""
    yield from _serve("seaweedfs-server", WeedServer(tmp_path_factory.mktemp("weed-server")))


@pytest.fixture(scope="session")
def rclone(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backend]:
    """`rclone serve s3` over a local folder."""
    yield from _serve("rclone", RcloneS3(tmp_path_factory.mktemp("rclone")))


@pytest.fixture(scope="session")
def ceph(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backend]:
    """A real Ceph RGW, only with S3KIT_TEST_CEPH=1; skipped with the reason Ceph cannot
    start here (known before starting it: binaries missing, not permitted, ...)."""
    if os.environ.get(CEPH_ENV) != "1":
        pytest.skip(f"Ceph RGW runs only with {CEPH_ENV}=1")
    from tests.servers.ceph import CephRgw, ceph_unavailable

    reason = ceph_unavailable()
    if reason is not None:
        pytest.skip(f"Ceph RGW unavailable: {reason}")
    yield from _serve("ceph", CephRgw(tmp_path_factory.mktemp("ceph")))


@pytest.fixture(params=["seaweedfs", "moto"])
def backend(request: pytest.FixtureRequest) -> Backend:
    result: Backend = request.getfixturevalue(_FIXTURE_OF[request.param])
    return result


# The servers the data-path suites (storage, transfer, sync) run against: the two the rest of
# the suite uses, and rclone serve s3, a third S3 implementation (gofakes3).
DATA_BACKENDS = ["seaweedfs", "moto", "rclone"]


def _pick_backend(request: pytest.FixtureRequest) -> Backend:
    result: Backend = request.getfixturevalue(_FIXTURE_OF[request.param])
    return result


def data_backends() -> Any:
    """A `backend` fixture over DATA_BACKENDS, for a module to take in place of the default
    (seaweedfs, moto) one: `backend = data_backends()` at its top."""
    return pytest.fixture(params=DATA_BACKENDS, name="backend")(_pick_backend)


@pytest.fixture(scope="module", params=CONFORMANCE_BACKENDS)
def conformance_backend(request: pytest.FixtureRequest) -> Backend:
    """Every server of the conformance set in turn; module-scoped, so a module runs all its
    tests on one server before it moves to the next."""
    result: Backend = request.getfixturevalue(_FIXTURE_OF[request.param])
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


@functools.cache
def _s3kit_command() -> Any:
    from typer.main import get_command

    from s3kit.cli.app import app

    return get_command(app)


def _command_of(typer_app: Any) -> Any:
    """What typer.testing's `_get_command` returns, with s3kit's own app built only once."""
    from typer._completion_classes import completion_init
    from typer.main import get_command

    from s3kit.cli.app import app

    if typer_app is not app:
        return get_command(typer_app)
    completion_init()  # what every build does first: registers typer's completion classes
    return _s3kit_command()


class S3kitCliRunner(CliRunner):
    """typer's CliRunner, building s3kit's click command tree once per test session instead
    of on every `invoke`: a build costs ~0.15 s of CPU, minutes over the suite's CLI runs. A
    run never changes the tree (`s3kit` itself builds it once per process), and the build's
    one side effect, typer's completion classes registered again, is still done each time.
    Any other typer app is built afresh, as CliRunner does."""

    def invoke(self, app: Any, *args: Any, **kwargs: Any) -> typer.testing.Result:
        with mock.patch.object(typer.testing, "_get_command", _command_of):
            return super().invoke(app, *args, **kwargs)


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
            result = S3kitCliRunner().invoke(app, list(args), input=input, catch_exceptions=False)
        return CliResult(
            exit_code=result.exit_code,
            stdout=result.stdout,
            stderr=result.stderr,
            stdout_bytes=result.stdout_bytes,
        )


def pytest_sessionstart(session: pytest.Session) -> None:
    """SIGTERM (`timeout`, a CI job cancelled) ends the run after the current test, with the
    fixtures torn down: the servers run in sessions of their own, never see the signal, and
    would otherwise be left running with nobody to stop them. (Raising from the handler is no
    good: it lands in whatever runs, an SDK callback may swallow it.) A second SIGTERM
    interrupts at once."""
    if threading.current_thread() is not threading.main_thread():
        return

    def stop_after_this_test(signum: int, frame: object) -> None:
        session.shouldstop = f"signal {signum}: stopped after the test that was running"
        signal.signal(signal.SIGTERM, signal.default_int_handler)

    signal.signal(signal.SIGTERM, stop_after_this_test)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Leave without interpreter finalisation (see s3kit.cli.app.main): a request thread
    still blocked in a read (left by a test that failed mid-transfer) would hold the exit of
    an otherwise finished run for its whole read timeout."""
    if os.environ.get("S3KIT_TEST_HARD_EXIT", "1") == "1":
        session.config.add_cleanup(lambda: _hard_exit(exitstatus))


def _hard_exit(status: int) -> None:
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(int(status))
