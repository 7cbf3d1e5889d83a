"""The embedded server's pure rules, without starting it: which ports a start uses, when an
endpoint is the embedded server's own (and what the settings do with its keys then), and the
lines `s3kit local env` prints."""

from __future__ import annotations

import itertools
import shlex
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from s3kit._config import AwsFiles, Credentials, SessionOptions, Settings, resolve_settings
from s3kit._local_server import (
    ADMIN_GRPC_OFFSET,
    PORT_NAMES,
    LocalServerState,
    choose_ports,
    same_endpoint,
    weed_command,
)
from s3kit.cli.local import shell_exports
from s3kit.errors import CredentialsError, LocalServerError

PREVIOUS = {
    "master": 41001,
    "master_grpc": 41002,
    "volume": 41003,
    "volume_grpc": 41004,
    "filer": 41005,
    "filer_grpc": 41006,
    "s3": 41007,
    "s3_grpc": 41008,
    "admin": 41009,
    "admin_grpc": 41009 + ADMIN_GRPC_OFFSET,
}


def _fresh_from(start: int) -> Callable[[int], list[int]]:
    """Hands out new ports from `start` on, as `free_ports` would."""
    counter = itertools.count(start)
    return lambda count: [next(counter) for _ in range(count)]


def _all_free(port: int) -> bool:
    return True


def _check(ports: dict[str, int]) -> None:
    assert set(ports) == set(PORT_NAMES)
    assert len(set(ports.values())) == len(PORT_NAMES), ports
    # weed mini's maintenance workers dial the admin at its HTTP port + 10000, whatever
    # -admin.port.grpc says; any other gRPC port leaves them retrying for ever.
    assert ports["admin_grpc"] == ports["admin"] + ADMIN_GRPC_OFFSET
    assert all(0 < port <= 65535 for port in ports.values())


def test_first_start_takes_fresh_ports() -> None:
    ports = choose_ports(None, is_free=_all_free, fresh=_fresh_from(30000))
    _check(ports)


def test_previous_ports_are_kept_when_free() -> None:
    assert choose_ports(PREVIOUS, is_free=_all_free, fresh=_fresh_from(30000)) == PREVIOUS


def test_a_taken_port_alone_is_replaced() -> None:
    taken = {PREVIOUS["s3"], PREVIOUS["volume_grpc"]}
    ports = choose_ports(PREVIOUS, is_free=lambda p: p not in taken, fresh=_fresh_from(30000))
    _check(ports)
    assert ports["s3"] not in taken and ports["volume_grpc"] not in taken
    kept = {name: port for name, port in ports.items() if name not in ("s3", "volume_grpc")}
    assert kept == {name: PREVIOUS[name] for name in kept}


def test_fresh_candidates_that_are_taken_or_collide_are_skipped() -> None:
    # The candidates repeat a port already in use and one that is taken elsewhere.
    candidates = iter([PREVIOUS["master"], 30001, 30002, 30003])
    ports = choose_ports(
        PREVIOUS,
        is_free=lambda p: p not in (PREVIOUS["s3"], 30001),
        fresh=lambda count: [next(candidates) for _ in range(count)],
    )
    assert ports["s3"] == 30002


def test_admin_pair_is_moved_when_its_grpc_twin_is_taken_or_out_of_range() -> None:
    # 60000 and 65000 have no port 10000 above them: skipped.
    candidates = iter([60000, 65000, 30000, 30001])
    ports = choose_ports(
        PREVIOUS,
        is_free=lambda p: p != PREVIOUS["admin_grpc"],
        fresh=lambda count: [next(candidates) for _ in range(count)],
    )
    _check(ports)
    assert ports["admin"] == 30000
    assert {name: ports[name] for name in PORT_NAMES if not name.startswith("admin")} == {
        name: PREVIOUS[name] for name in PORT_NAMES if not name.startswith("admin")
    }


def test_an_old_state_with_an_unrelated_admin_grpc_port_is_repaired() -> None:
    old = {**PREVIOUS, "admin_grpc": 41010}
    ports = choose_ports(old, is_free=_all_free, fresh=_fresh_from(30000))
    _check(ports)
    assert ports["s3"] == PREVIOUS["s3"]


def test_a_fixed_s3_port_wins_and_moves_what_it_collides_with() -> None:
    ports = choose_ports(
        PREVIOUS, s3_port=PREVIOUS["filer"], is_free=_all_free, fresh=_fresh_from(30000)
    )
    _check(ports)
    assert ports["s3"] == PREVIOUS["filer"]
    assert ports["filer"] != PREVIOUS["filer"]
    assert ports["master"] == PREVIOUS["master"]


def test_a_fixed_s3_port_that_is_taken_is_refused() -> None:
    with pytest.raises(LocalServerError, match=r"port 41007 .* taken"):
        choose_ports(
            PREVIOUS, s3_port=41007, is_free=lambda p: p != 41007, fresh=_fresh_from(30000)
        )


def test_no_free_port_at_all_is_an_error_not_a_hang() -> None:
    with pytest.raises(LocalServerError, match="free ports"):
        choose_ports(None, is_free=lambda p: False, fresh=_fresh_from(30000))


def test_weed_command_passes_the_admin_grpc_port_chosen() -> None:
    argv = weed_command("weed", Path("/d"), PREVIOUS, Path("/d/s3.json"))
    assert f"-admin.port.grpc={PREVIOUS['admin'] + ADMIN_GRPC_OFFSET}" in argv
    assert argv[1] == "-logdir=/d/logs"


@pytest.mark.parametrize(
    ("given", "same"),
    [
        ("http://127.0.0.1:8333", True),
        ("http://127.0.0.1:8333/", True),
        ("HTTP://LOCALHOST:8333", True),
        ("http://localhost:8333/", True),
        ("https://127.0.0.1:8333", False),
        ("http://127.0.0.1:8334", False),
        ("http://127.0.0.1", False),
        ("http://10.0.0.1:8333", False),
        ("http://127.0.0.1:8333/bucket", False),
        ("not a url", False),
    ],
)
def test_same_endpoint(given: str, same: bool) -> None:
    assert same_endpoint(given, "http://127.0.0.1:8333") is same


def test_default_ports_are_normalised() -> None:
    assert same_endpoint("http://127.0.0.1", "http://localhost:80/")
    assert same_endpoint("https://localhost", "https://127.0.0.1:443")


def test_client_environment_names_the_server_and_its_keys() -> None:
    state = LocalServerState(
        pid=1,
        endpoint="http://127.0.0.1:8333",
        access_key_id="S3KITABC",
        secret_access_key="se'cr et$x",
        ports=PREVIOUS,
        data_dir="/d",
        started_at=0.0,
    )
    assert state.client_environment() == {
        "AWS_ENDPOINT_URL": "http://127.0.0.1:8333",
        "AWS_ACCESS_KEY_ID": "S3KITABC",
        "AWS_SECRET_ACCESS_KEY": "se'cr et$x",
        "AWS_REGION": "us-east-1",
    }


def test_shell_exports_survive_sh_quoting() -> None:
    variables = {"AWS_SECRET_ACCESS_KEY": "se'cr et$x`y`\"z", "AWS_REGION": "us-east-1"}
    text = shell_exports(variables)
    quoted = shlex.quote(variables["AWS_SECRET_ACCESS_KEY"])
    assert text.splitlines()[0] == f"export AWS_SECRET_ACCESS_KEY={quoted}"
    script = text + 'printf "%s\\n%s\\n" "$AWS_SECRET_ACCESS_KEY" "$AWS_REGION"'
    out = subprocess.run(["sh", "-c", script], capture_output=True, text=True, check=True)
    assert out.stdout.splitlines() == [variables["AWS_SECRET_ACCESS_KEY"], "us-east-1"]


def _resolve_with_local_keys(
    tmp_path: Path, options: SessionOptions, env: dict[str, str]
) -> tuple[Settings, list[tuple[str, Path | None]]]:
    asked: list[tuple[str, Path | None]] = []

    def local_credentials(endpoint: str, local_dir: Path | None) -> Credentials | None:
        asked.append((endpoint, local_dir))
        return Credentials("S3KITLOCAL", "local-secret") if "8333" in endpoint else None

    files = AwsFiles(tmp_path / "config", tmp_path / "credentials")
    settings = resolve_settings(options, env, files, local_credentials=local_credentials)
    return settings, asked


def test_an_endpoint_without_keys_gets_the_embedded_servers_when_it_is_its_own(
    tmp_path: Path,
) -> None:
    settings, asked = _resolve_with_local_keys(
        tmp_path,
        SessionOptions(endpoint_url="http://localhost:8333"),
        {"S3KIT_LOCAL_DIR": str(tmp_path / "local")},
    )
    assert asked == [("http://localhost:8333", tmp_path / "local")]
    assert settings.credentials == Credentials("S3KITLOCAL", "local-secret")
    assert settings.endpoint_url == "http://localhost:8333"
    assert not settings.use_local


def test_configured_keys_are_never_replaced_and_other_endpoints_still_fail(
    tmp_path: Path,
) -> None:
    env = {"AWS_ACCESS_KEY_ID": "AKIAOWN", "AWS_SECRET_ACCESS_KEY": "own-secret"}
    settings, asked = _resolve_with_local_keys(
        tmp_path, SessionOptions(endpoint_url="http://127.0.0.1:8333"), env
    )
    assert asked == []
    assert settings.credentials == Credentials("AKIAOWN", "own-secret")
    with pytest.raises(CredentialsError, match="no credentials found"):
        _resolve_with_local_keys(tmp_path, SessionOptions(endpoint_url="http://h:9000"), {})
