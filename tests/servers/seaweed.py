"""SeaweedFS two ways: `weed mini` through s3kit's own LocalServer (the embedded default users
get), and the classic `weed server -filer -s3` (master, volume, filer and S3 gateway in one
process, as a small deployment runs them).

Both listen and advertise on 127.0.0.1 only, with telemetry off and every port — gRPC ones too —
chosen free, so nothing falls back to a default port another test run holds. Logs, data and
the unix sockets weed makes stay inside the folder each server is given.
"""

from __future__ import annotations

import json
import secrets
from pathlib import Path
from types import TracebackType

from s3kit._local_server import (
    LocalServer,
    _cluster_ready,
    find_weed,
    remove_sockets,
    weed_flags,
)
from tests.servers.base import LoopbackServer, ServerProcess, free_ports, http_answers

# Paths of unix sockets are limited to ~108 bytes; beyond that weed cannot start, so a socket
# goes into the work folder only when its path fits.
_SOCKET_PATH_LIMIT = 100
_PORTS = (
    "master",
    "master_grpc",
    "volume",
    "volume_grpc",
    "filer",
    "filer_grpc",
    "s3",
    "s3_grpc",
)


class WeedMini:
    """`weed mini` as `s3kit local start` runs it."""

    def __init__(self, workdir: Path) -> None:
        self._server = LocalServer(workdir)
        self.endpoint = ""
        self.access_key = ""
        self.secret_key = ""

    def __enter__(self) -> WeedMini:
        state, _ = self._server.start()
        self.endpoint = state.endpoint
        self.access_key, self.secret_key = state.access_key_id, state.secret_access_key
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._server.stop()


def write_identities(path: Path, access_key: str, secret_key: str) -> None:
    """The `-s3.config` file: one identity allowed everything."""
    identity = {
        "name": "s3kit-tests",
        "credentials": [{"accessKey": access_key, "secretKey": secret_key}],
        "actions": ["Admin", "Read", "Write", "List", "Tagging"],
    }
    path.write_text(json.dumps({"identities": [identity]}), encoding="utf-8")
    path.chmod(0o600)


def weed_server_command(
    weed: str, workdir: Path, ports: dict[str, int], s3_config: Path
) -> list[str]:
    logs = workdir / "logs"
    command = [
        weed,
        f"-logdir={logs}",  # a global flag: before the subcommand
        "server",
        "-filer",
        "-s3",
        *weed_flags(workdir, ports, s3_config),
        "-sftp=false",
        "-iam=false",
        "-mq.broker=false",
        "-mq.agent=false",
        # Each bucket is a collection that grows volumes of its own; the default of 8 volumes
        # of 30 GiB runs out after a couple of buckets.
        "-volume.max=100",
        "-master.volumeSizeLimitMB=1024",
        # The volume server waits this long after SIGTERM before it stops (10 s by default,
        # which is most of why `weed server` seemed to ignore SIGTERM).
        "-volume.preStopSeconds=0",
        # A lone master elects itself; with the default 10 s timeout it often did so just
        # after the volume server's first heartbeat, refused as "not current leader", and the
        # volume server only tried again 5 s later (a start of ~8 s instead of ~3.5 s).
        "-master.electionTimeout=500ms",
    ]
    for flag, name in (("-s3.localSocket", "s3.sock"), ("-filer.localSocket", "filer.sock")):
        socket = workdir / name
        if len(str(socket)) < _SOCKET_PATH_LIMIT:
            command.append(f"{flag}={socket}")
    return command


class WeedServer(LoopbackServer):
    """`weed server -filer -s3` on free loopback ports, data and logs under `workdir`."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.access_key = "WEEDSERVER" + secrets.token_hex(6).upper()
        self.secret_key = secrets.token_urlsafe(30)
        self.ports = dict(zip(_PORTS, free_ports(len(_PORTS)), strict=True))
        self.endpoint = f"http://127.0.0.1:{self.ports['s3']}"
        (workdir / "data").mkdir(parents=True, exist_ok=True)
        # Its logs as the embedded server keeps them: in its own folder (never weed's default
        # /tmp), readable by the owner only.
        (workdir / "logs").mkdir(parents=True, exist_ok=True, mode=0o700)
        s3_config = workdir / "s3-identities.json"
        write_identities(s3_config, self.access_key, self.secret_key)
        # Its filer stops its gRPC server "gracefully", which waits for the S3 gateway's
        # metadata subscription in the same process, for ever (seaweedfs 4.48): after a
        # short bounded wait it is killed. Its data is scratch, so nothing is lost.
        self.process = ServerProcess(
            weed_server_command(find_weed(), workdir, self.ports, s3_config),
            workdir / "logs" / "weed-server.out",
            cwd=workdir,
            stop_timeout=3.0,
        )

    def ready(self) -> bool:
        return http_answers(f"{self.endpoint}/") and _cluster_ready(self.ports["master"])

    def stop(self) -> None:
        self.process.stop()
        remove_sockets(self.ports)
