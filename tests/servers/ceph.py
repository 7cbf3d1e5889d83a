"""A real Ceph RGW (S3 gateway) for the tests: one mon, one memstore OSD, one radosgw.

Everything lives in the work folder the caller gives: the generated ceph.conf, the monmap, the
mon and OSD stores, logs, pid files, admin sockets, the run, crash and tmp dirs. Nothing is read
from or written to /etc/ceph, /var/lib/ceph, /var/run/ceph or /tmp (every command gets
`--conf`), and every daemon binds 127.0.0.1 only. Auth is off (`auth * required = none`); the
S3 user's keys are made up per cluster.

The daemons run in the foreground (`-f`) as our own child processes and are stopped by pid,
never by name, so a developer's own Ceph (or another test session's) is never touched.

There is no ceph-mgr: the S3 path does not need it (the mgr reports PG states and runs the
autoscaler), so every pool keeps the small fixed PG count set here, and PG states are read from
the OSD itself (`ceph tell osd.0 dump_pgstate_history`).
"""

from __future__ import annotations

import json
import secrets
import shutil
import socket
import string
import subprocess
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

import boto3
from botocore.config import Config

from tests.servers.base import ServerProcess, free_ports, http_answers

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

BINARIES = ("ceph-mon", "ceph-osd", "radosgw", "radosgw-admin", "ceph", "monmaptool")
START_TIMEOUT = 180.0
# radosgw finishes in-flight requests on SIGTERM; more than this means it is stuck.
STOP_TIMEOUT = 15.0
# One Ceph command answers in well under a second; this only bounds a stuck one.
_COMMAND_TIMEOUT = 60.0
_MEMSTORE_BYTES = 2 * 1024**3
_LOG_TAIL_LINES = 40
_CLEAN = "Started/Primary/Active/Clean"
_RGW = "client.rgw.gateway"


def ceph_unavailable() -> str | None:
    """None when every Ceph binary the cluster needs is on PATH, else why it cannot start."""
    missing = [name for name in BINARIES if shutil.which(name) is None]
    if missing:
        return (
            f"Ceph is not installed (no {', '.join(missing)} on PATH); "
            "`bash tests/servers/install-ceph.sh` installs it from Debian"
        )
    return None


class CephStartError(RuntimeError):
    """The cluster did not come up; the message carries the tail of the log that tells why."""


def _tail(path: Path, lines: int = _LOG_TAIL_LINES) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError as exc:
        return f"(no log: {exc})"
    return "\n".join(text.splitlines()[-lines:])


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def _random_key(length: int, alphabet: str) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))


class CephRgw:
    """A one-node Ceph cluster with an S3 gateway, as a context manager.

    On enter it makes the cluster from nothing and returns once an S3 request signed with the
    user's keys succeeds and every PG is active+clean; `endpoint`, `access_key` and
    `secret_key` then describe it. On exit every daemon it started is stopped by pid.
    """

    def __init__(self, workdir: Path) -> None:
        self.workdir = Path(workdir).resolve()
        self.fsid = str(uuid.uuid4())
        mon_port, rgw_port = free_ports(2)
        self.mon_port = mon_port
        self.mon_addr = f"v2:127.0.0.1:{mon_port}"
        self.rgw_port = rgw_port
        self.endpoint = f"http://127.0.0.1:{rgw_port}"
        self.access_key = _random_key(20, string.ascii_uppercase + string.digits)
        self.secret_key = _random_key(40, string.ascii_letters + string.digits)
        self.conf = self.workdir / "ceph.conf"
        self.log_dir = self.workdir / "log"
        self.run_dir = self.workdir / "run"
        self.startup_seconds: float | None = None
        self._daemons: list[tuple[str, ServerProcess]] = []
        self._deadline = 0.0

    # -- configuration -------------------------------------------------------------------

    def _write_conf(self) -> None:
        w = self.workdir
        self.conf.write_text(
            f"""[global]
fsid = {self.fsid}
mon host = {self.mon_addr}
mon initial members = a
public addr = 127.0.0.1
cluster addr = 127.0.0.1
ms bind ipv4 = true
ms bind ipv6 = false
ms bind msgr1 = false
# With auth off only crc framing can be agreed ("secure" needs a session key), and a daemon's
# default mode towards the mon is "secure" alone: radosgw then hangs in AUTH_CONNECTING.
ms cluster mode = crc secure
ms service mode = crc secure
ms client mode = crc secure
ms mon cluster mode = crc secure
ms mon service mode = crc secure
ms mon client mode = crc secure
auth cluster required = none
auth service required = none
auth client required = none
keyring = {w}/keyring
run dir = {self.run_dir}
# The command-line tools need no admin socket. The daemons need theirs, also for `ceph tell`
# (without one, tell commands hang), so each daemon runs in the run dir and binds a relative
# path there: a unix socket path is limited to 107 bytes, and a work folder may be longer.
admin socket =
pid file = {self.run_dir}/$name.pid
log file = {self.log_dir}/$name.log
mon cluster log file = {self.log_dir}/$cluster.$channel.log
log to stderr = false
crash dir = {w}/crash
tmp dir = {w}/tmp
# One OSD holds every replica: size 1, and CRUSH picks among OSDs, not hosts.
osd pool default size = 1
osd pool default min size = 1
mon allow pool size one = true
mon allow pool delete = true
mon warn on pool no redundancy = false
osd crush chooseleaf type = 0
# No mgr, so no autoscaler: a fixed, small PG count keeps radosgw's ~7 pools far below the
# per-OSD PG limit (pool creation fails with ERANGE past it).
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
mon max pg per osd = 1000
# The volume the tests run on may be fuller than the mon's 5 %/30 % free-space guards allow.
mon data avail crit = 0
mon data avail warn = 0

[mon]
mon data = {w}/mon
admin socket = $name.asok
chdir = {self.run_dir}
# The mon batches map changes for 1 s by default, and radosgw's start makes ~7 pools one
# after the other, each several map changes: 20 s of start-up instead of 4.
paxos propose interval = 0.1
paxos min wait = 0.01

[osd]
osd data = {w}/osd
admin socket = $name.asok
chdir = {self.run_dir}
osd objectstore = memstore
memstore device bytes = {_MEMSTORE_BYTES}
# 2 GiB would weigh ~0 in CRUSH (weights are TiB), and an OSD of weight 0 gets no PGs.
osd crush initial weight = 1
osd op num shards = 2
osd op num threads per shard = 1

[{_RGW}]
rgw data = {w}/rgw
admin socket = $name.asok
chdir = {self.run_dir}
rgw frontends = beast endpoint=127.0.0.1:{self.rgw_port}
rgw thread pool size = 32
# Deleted objects and aborted uploads hold memstore's RAM until garbage collection, which by
# default waits two hours: a long test run would fill the 2 GiB.
rgw gc obj min wait = 10
rgw gc processor period = 20
"""
        )

    # -- commands and daemons ------------------------------------------------------------

    def _remaining(self) -> float:
        return min(_COMMAND_TIMEOUT, max(5.0, self._deadline - time.monotonic()))

    def _run(self, *args: str) -> str:
        """Runs one Ceph tool against this cluster; its stdout, or CephStartError with stderr
        (never stdout: radosgw-admin prints the user's secret key there)."""
        # Options stay out of messages: radosgw-admin's carry the keys.
        shown = "`" + " ".join([arg for arg in args if not arg.startswith("-")][:4]) + "`"
        timeout = self._remaining()
        try:
            result = subprocess.run(
                [args[0], "--conf", str(self.conf), *args[1:]],
                cwd=self.run_dir,  # `--mkfs` reads the daemons' sections: relative socket paths
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise CephStartError(f"{shown} took over {timeout:.0f} s") from exc
        if result.returncode != 0:
            detail = result.stderr.strip()[-2000:]
            raise CephStartError(f"{shown} exited {result.returncode}: {detail}")
        return result.stdout

    def _ceph(self, *args: str) -> str:
        return self._run("ceph", f"--connect-timeout={int(self._remaining())}", *args)

    def _spawn(self, name: str, *args: str) -> None:
        daemon = ServerProcess(
            [args[0], "--conf", str(self.conf), "-f", *args[1:]],
            self.log_dir / f"{name}.out",
            cwd=self.run_dir,
            stop_timeout=STOP_TIMEOUT,
        )
        self._daemons.append((name, daemon))
        daemon.start()

    def _logs(self, name: str) -> str:
        return (
            f"--- {self.log_dir / name}.log ---\n{_tail(self.log_dir / f'{name}.log')}\n"
            f"--- {name}.out ---\n{_tail(self.log_dir / f'{name}.out')}"
        )

    def _wait(self, what: str, log: str, ready: Callable[[], bool]) -> None:
        """Polls `ready` until the deadline; fails at once when one of our daemons died."""
        last_error = ""
        while time.monotonic() < self._deadline:
            for name, daemon in self._daemons:
                if not daemon.alive():
                    raise CephStartError(
                        f"{name} exited while waiting for {what}\n{self._logs(name)}"
                    )
            try:
                if ready():
                    return
            except Exception as exc:  # not up yet: CephStartError, boto3's errors, ...
                last_error = f"{type(exc).__name__}: {exc}"
            time.sleep(0.5)
        raise CephStartError(
            f"{what} not ready within {START_TIMEOUT:.0f} s of the start"
            + (f" (last error: {last_error})" if last_error else "")
            + f"\n{self._logs(log)}"
        )

    # -- start-up steps ------------------------------------------------------------------

    def _make_mon(self) -> None:
        monmap = str(self.workdir / "monmap")
        self._run(
            "monmaptool",
            "--create",
            "--fsid",
            self.fsid,
            "--addv",
            "a",
            f"[{self.mon_addr}]",
            monmap,
        )
        self._run("ceph-mon", "-i", "a", "--mkfs", "--monmap", monmap)
        self._spawn("mon.a", "ceph-mon", "-i", "a")
        # Until the mon listens, a `ceph` command would just wait; polling the port instead
        # notices at once a mon that died.
        self._wait("the mon", "mon.a", lambda: _listening(self.mon_port))

    def _make_osd(self) -> None:
        osd_uuid = str(uuid.uuid4())
        osd_id = self._ceph("osd", "new", osd_uuid).strip()
        self._run("ceph-osd", "-i", osd_id, "--mkfs", "--osd-uuid", osd_uuid)
        self._spawn(f"osd.{osd_id}", "ceph-osd", "-i", osd_id)

        def up_and_in() -> bool:
            stat = json.loads(self._ceph("osd", "stat", "--format", "json"))
            return int(stat["num_up_osds"]) == 1 and int(stat["num_in_osds"]) == 1

        self._wait("the OSD", f"osd.{osd_id}", up_and_in)

    def _start_rgw(self) -> None:
        # radosgw creates its first pools before it opens the port, so this waits for them.
        self._spawn(_RGW, "radosgw", "-n", _RGW)
        self._wait("radosgw's port", _RGW, lambda: http_answers(self.endpoint))

    def _make_user(self) -> None:
        self._run(
            "radosgw-admin",
            "user",
            "create",
            "--uid=s3kit",
            "--display-name=s3kit",
            f"--access-key={self.access_key}",
            f"--secret-key={self.secret_key}",
        )

    def client(self) -> S3Client:
        """A boto3 S3 client for the gateway, signed with the user's keys."""
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            region_name="us-east-1",
            config=Config(
                s3={"addressing_style": "path"},
                retries={"max_attempts": 1},
                connect_timeout=5,
                read_timeout=60,
            ),
        )

    def _warm_up(self) -> None:
        """Makes radosgw create the pools it otherwise creates on first use (bucket index,
        data, multipart meta), so no test's first request waits seconds for a new pool."""
        client = self.client()

        def signed_request_works() -> bool:
            client.list_buckets()
            return True

        self._wait("S3 with the user's keys", _RGW, signed_request_works)
        bucket = f"warm-up-{uuid.uuid4().hex[:12]}"
        client.create_bucket(Bucket=bucket)
        client.put_object(Bucket=bucket, Key="k", Body=b"x")
        upload = client.create_multipart_upload(Bucket=bucket, Key="m")
        client.abort_multipart_upload(Bucket=bucket, Key="m", UploadId=upload["UploadId"])
        client.delete_object(Bucket=bucket, Key="k")
        client.delete_bucket(Bucket=bucket)

    def pg_states(self) -> dict[str, str]:
        """Every PG the cluster's pools should have, with its state on the OSD ("missing"
        for one the OSD does not hold yet)."""
        pools = json.loads(self._ceph("osd", "pool", "ls", "detail", "--format", "json"))
        history = json.loads(self._ceph("tell", "osd.0", "dump_pgstate_history"))
        held = {pg["pg"]: pg["currently"] for pg in history["pgs"]}
        return {
            f"{pool['pool_id']}.{index:x}": held.get(f"{pool['pool_id']}.{index:x}", "missing")
            for pool in pools
            for index in range(int(pool["pg_num"]))
        }

    def _wait_clean(self) -> None:
        def all_clean() -> bool:
            return all(state == _CLEAN for state in self.pg_states().values())

        self._wait("active+clean PGs", "osd.0", all_clean)

    # -- lifecycle -----------------------------------------------------------------------

    def start(self) -> None:
        reason = ceph_unavailable()
        if reason:
            raise CephStartError(reason)
        started = time.monotonic()
        self._deadline = started + START_TIMEOUT
        for folder in ("mon", "osd", "rgw", "crash", "tmp", "log", "run"):
            (self.workdir / folder).mkdir(parents=True, exist_ok=True)
        self._write_conf()
        try:
            self._make_mon()
            self._make_osd()
            self._start_rgw()
            self._make_user()
            self._warm_up()
            self._wait_clean()
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - started

    def stop(self) -> None:
        """Stops the daemons newest first (radosgw, OSD, mon), each by its pid."""
        while self._daemons:
            _name, daemon = self._daemons.pop()
            daemon.stop()

    def __enter__(self) -> CephRgw:
        self.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.stop()
