"""What every test server shares: the `Backend` record the tests get, waiting for a port to
answer, and stopping a child process by its pid within a bounded time.

Servers here must never listen beyond 127.0.0.1, never write logs or data outside the folder
they are given, and never be found or stopped by name: each keeps the `Popen` it started.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, Self

from s3kit._local_server import _http_ok as http_answers
from s3kit._local_server import free_ports
from s3kit._session import Session

__all__ = [
    "Backend",
    "LoopbackServer",
    "ServerProcess",
    "free_ports",
    "http_answers",
    "wait_until",
]


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

    def behind(self, endpoint: str, name: str | None = None) -> Backend:
        """The same server and keys reached through another endpoint (a proxy)."""
        return Backend(name or self.name, endpoint, self.access_key, self.secret_key)


def wait_until(
    ready: Callable[[], bool], timeout: float, what: str, alive: Callable[[], bool]
) -> None:
    """Poll `ready` until it holds; fail early, with `what`, when the process died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not alive():
            raise RuntimeError(f"{what} exited while starting")
        if ready():
            return
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not become ready within {timeout:.0f} s")


class ServerProcess:
    """One child process: its own session (signals never reach pytest), stdin closed,
    stdout/stderr into `log`, stopped with SIGTERM then, after `stop_timeout`, SIGKILL."""

    def __init__(
        self,
        command: Sequence[str],
        log: Path,
        *,
        cwd: Path | None = None,
        env: dict[str, str] | None = None,
        stop_timeout: float = 5.0,
    ) -> None:
        self.command = list(command)
        self.log = log
        self._cwd = cwd
        self._env = env
        self._stop_timeout = stop_timeout
        self._process: subprocess.Popen[bytes] | None = None
        self._log_handle: IO[bytes] | None = None

    @property
    def pid(self) -> int:
        assert self._process is not None, "not started"
        return self._process.pid

    def start(self) -> None:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        self._log_handle = self.log.open("ab")
        self._process = subprocess.Popen(
            self.command,
            cwd=self._cwd,
            env=self._env,
            stdin=subprocess.DEVNULL,
            stdout=self._log_handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def alive(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def stop(self) -> None:
        process = self._process
        if process is not None and process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=self._stop_timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(process.pid, signal.SIGKILL)
                process.wait(timeout=30)
        if self._log_handle is not None:
            self._log_handle.close()
            self._log_handle = None

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


class LoopbackServer:
    """A server run as one child process: a context manager that starts it, waits until
    `ready()` holds and stops it on the way out (also when starting failed). Subclasses set
    `endpoint`, `access_key`, `secret_key` and `process`, and define `ready`."""

    endpoint: str
    access_key: str
    secret_key: str
    process: ServerProcess
    start_timeout: float = 60.0

    def ready(self) -> bool:
        raise NotImplementedError

    def __enter__(self) -> Self:
        self.process.start()
        try:
            wait_until(
                self.ready,
                self.start_timeout,
                f"{type(self).__name__} (log: {self.process.log})",
                self.process.alive,
            )
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()

    def stop(self) -> None:
        self.process.stop()
