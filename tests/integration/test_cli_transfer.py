"""`s3kit cp` / `mv` transfer options against every backend: filters, what uploads set on
objects, encryption, verification, the JSON summary, moves, and resuming a copy after the
process was killed (a real `s3kit` subprocess, SIGKILLed once its journal shows a part).
"""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from s3kit._uri import LocalPath, Location, S3Url
from s3kit.transfer import TransferEvent, TransferManager
from s3kit.transfer.checksum import CRC_METADATA_KEY, PART_SIZE_KEY, crc64, crc_b64
from tests.conftest import Backend, CliInvoker
from tests.integration.cli_support import assert_failed, assert_usage_error, get, keys
from tests.integration.known_gaps import known_gap
from tests.integration.transfer_support import (
    BIG,
    PART,
    journal_files,
    leftovers,
    payload,
    pending,
    small_parts,
    write_file,
)

# Four parts; a copy is killed once two are done, so resuming reports 10 MiB at once, more than
# any one part could.
RESUMABLE = 3 * PART + 1024 * 1024 + 4321
SMALL_PARTS = ("--part-size", "5MiB", "--multipart-threshold", "5MiB", "--part-concurrency", "1")


def s3_client(backend: Backend) -> Any:
    return backend.session().client("s3")


# -- filters -----------------------------------------------------------------------------------


def test_include_and_exclude_apply_in_command_line_order(
    cli: CliInvoker, backend: Backend, bucket: str, tmp_path: Path
) -> None:
    for name in ("a.txt", "b.log", "sub/c.txt", "sub/d.bin"):
        write_file(tmp_path / "src" / name, name.encode())
    src = str(tmp_path / "src")

    result = cli(
        "cp", "-r", src, f"s3://{bucket}/only/", "--exclude", "*", "--include", "*.txt",
        env=backend.env(),
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert keys(backend, bucket, "only/") == ["only/a.txt", "only/sub/c.txt"]

    result = cli(
        "cp", "-r", src, f"s3://{bucket}/none/", "--include", "*.txt", "--exclude", "*",
        env=backend.env(),
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert keys(backend, bucket, "none/") == []


# -- what an upload sets -----------------------------------------------------------------------


def test_upload_sets_metadata_content_type_and_cache_control(
    cli: CliInvoker, backend: Backend, bucket: str, tmp_path: Path
) -> None:
    source = write_file(tmp_path / "page.html", b"<p>hi</p>")
    result = cli(
        "cp", str(source), f"s3://{bucket}/page.html",
        "--metadata", "Owner=ann", "--metadata", "team=web",
        "--content-type", "text/x-custom", "--cache-control", "max-age=60",
        env=backend.env(),
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr

    head = s3_client(backend).head_object(Bucket=bucket, Key="page.html")
    assert head["Metadata"]["owner"] == "ann"
    assert head["Metadata"]["team"] == "web"
    assert head["ContentType"] == "text/x-custom"
    assert head["CacheControl"] == "max-age=60"


def test_multipart_upload_sets_metadata_and_content_type(
    cli: CliInvoker, backend: Backend, bucket: str, tmp_path: Path
) -> None:
    source = write_file(tmp_path / "big.bin", payload(BIG))
    result = cli(
        "cp", str(source), f"s3://{bucket}/big.bin", *SMALL_PARTS,
        "--metadata", "owner=ann", "--content-type", "text/x-custom",
        env=backend.env(),
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr

    head = s3_client(backend).head_object(Bucket=bucket, Key="big.bin")
    assert head["ETag"].strip('"').endswith("-3")
    assert head["Metadata"]["owner"] == "ann"
    assert PART_SIZE_KEY in head["Metadata"]  # and S3's full-object checksum, not metadata
    checked = s3_client(backend).head_object(Bucket=bucket, Key="big.bin", ChecksumMode="ENABLED")
    assert checked["ChecksumCRC64NVME"] == crc_b64(crc64(payload(BIG)))
    assert head["ContentType"] == "text/x-custom"


@pytest.mark.parametrize("size", [100, BIG], ids=["single", "multipart"])
def test_storage_class_is_set(
    cli: CliInvoker, backend: Backend, bucket: str, tmp_path: Path, size: int
) -> None:
    source = write_file(tmp_path / "cold.bin", payload(size))
    result = cli(
        "cp", str(source), f"s3://{bucket}/cold.bin", *SMALL_PARTS,
        "--storage-class", "standard_ia", env=backend.env(),
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    head = s3_client(backend).head_object(Bucket=bucket, Key="cold.bin")
    assert head.get("StorageClass") == "STANDARD_IA"


@pytest.mark.parametrize(
    "option",
    [
        ("--storage-class", "FROZEN"),
        ("--part-size", "1MiB"),
        ("--bwlimit", "abc"),
        ("--bwlimit", "0"),
        ("--sse", "rot13"),
    ],
    ids=lambda o: f"{o[0]}={o[1]}",
)
def test_bad_transfer_options_are_usage_errors(
    cli: CliInvoker, moto: Backend, tmp_path: Path, option: tuple[str, str]
) -> None:
    source = write_file(tmp_path / "a.txt", b"a")
    destination = tmp_path / "out.txt"
    for args in ((str(source), "s3://nowhere-bucket/a.txt"), ("s3://nowhere/a", str(destination))):
        result = cli("cp", *args, *option, env=moto.env())
        assert_usage_error(result)
        assert option[1] in result.stderr
    assert not destination.exists()


# -- encryption --------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [100, BIG], ids=["single", "multipart"])
def test_sse_s3(cli: CliInvoker, backend: Backend, bucket: str, tmp_path: Path, size: int) -> None:
    data = payload(size)
    source = write_file(tmp_path / "secret.bin", data)
    result = cli(
        "cp", str(source), f"s3://{bucket}/secret.bin", *SMALL_PARTS, "--sse", "AES256",
        env=backend.env(),
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    head = s3_client(backend).head_object(Bucket=bucket, Key="secret.bin")
    assert head.get("ServerSideEncryption") == "AES256"
    assert get(backend, bucket, "secret.bin") == data


SSE_C_KEY = bytes(range(65, 97))  # 32 printable bytes, so a leak would show up as text


def _key_option(tmp_path: Path) -> tuple[str, str]:
    key_file = tmp_path / "sse-c.key"
    key_file.write_bytes(SSE_C_KEY)
    return ("--sse-c-key-file", str(key_file))


@pytest.mark.parametrize("size", [100, BIG], ids=["single", "multipart"])
def test_sse_c_round_trip_never_shows_the_key(
    cli: CliInvoker, backend: Backend, bucket: str, tmp_path: Path, size: int
) -> None:
    data = payload(size)
    source = write_file(tmp_path / "secret.bin", data)
    out = tmp_path / "back.bin"
    url = f"s3://{bucket}/secret.bin"

    up = cli("cp", str(source), url, *SMALL_PARTS, *_key_option(tmp_path), env=backend.env())
    down = cli("cp", url, str(out), *SMALL_PARTS, *_key_option(tmp_path), env=backend.env())

    for result in (up, down):
        assert result.exit_code == 0, result.stderr
        for secret in (SSE_C_KEY.decode(), base64.b64encode(SSE_C_KEY).decode()):
            assert secret not in result.stdout + result.stderr
    assert out.read_bytes() == data


@pytest.mark.parametrize("size", [100, BIG], ids=["single", "multipart"])
def test_sse_c_objects_cannot_be_read_without_the_key(
    cli: CliInvoker, backend: Backend, bucket: str, tmp_path: Path, size: int
) -> None:
    ignores_sse_c = known_gap(backend, "SSE-C")
    data = payload(size)
    source = write_file(tmp_path / "secret.bin", data)
    url = f"s3://{bucket}/secret.bin"
    up = cli("cp", str(source), url, *SMALL_PARTS, *_key_option(tmp_path), env=backend.env())
    assert up.exit_code == 0, up.stderr
    if ignores_sse_c is not None:
        plain = cli("cp", url, str(tmp_path / "plain.bin"), *SMALL_PARTS, env=backend.env())
        assert plain.exit_code == 0, plain.stderr
        assert (tmp_path / "plain.bin").read_bytes() == data
        pytest.skip(ignores_sse_c)

    head = s3_client(backend).head_object(
        Bucket=bucket, Key="secret.bin", SSECustomerAlgorithm="AES256", SSECustomerKey=SSE_C_KEY
    )
    assert head.get("SSECustomerAlgorithm") == "AES256"
    without_key = cli("cp", url, str(tmp_path / "plain.bin"), *SMALL_PARTS, env=backend.env())
    assert_failed(without_key)
    assert not (tmp_path / "plain.bin").exists()


# -- verification, summary, moves --------------------------------------------------------------


@pytest.mark.parametrize("size", [100, BIG], ids=["single", "ranged"])
def test_no_verify_downloads_an_object_with_a_wrong_checksum(
    cli: CliInvoker, backend: Backend, bucket: str, tmp_path: Path, size: int
) -> None:
    data = payload(size)
    backend.session().storage(bucket).put("bad.bin", data, metadata={CRC_METADATA_KEY: "0" * 16})
    out = tmp_path / "bad.bin"

    refused = cli("cp", f"s3://{bucket}/bad.bin", str(out), *SMALL_PARTS, env=backend.env())
    assert_failed(refused)
    assert "CRC64NVME" in refused.stderr
    assert list(tmp_path.iterdir()) == []

    result = cli(
        "cp", f"s3://{bucket}/bad.bin", str(out), *SMALL_PARTS, "--no-verify", env=backend.env()
    )
    assert result.exit_code == 0, result.stderr
    assert out.read_bytes() == data
    assert leftovers(tmp_path) == []


def test_json_summary(cli: CliInvoker, backend: Backend, bucket: str, tmp_path: Path) -> None:
    write_file(tmp_path / "src" / "a.bin", b"a" * 10)
    write_file(tmp_path / "src" / "sub" / "b.bin", b"b" * 32)
    result = cli(
        "cp", "-r", str(tmp_path / "src"), f"s3://{bucket}/", "--json", env=backend.env()
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)  # the summary alone: no per-file lines
    assert (summary["transferred"], summary["bytes"], summary["failures"]) == (2, 42, [])
    assert summary["seconds"] >= 0


def test_mv_removes_the_source_only_after_the_upload_succeeded(
    cli: CliInvoker, backend: Backend, bucket: str, tmp_path: Path
) -> None:
    data = payload(BIG)
    source = write_file(tmp_path / "big.bin", data)

    failed = cli(
        "mv", str(source), "s3://no-such-bucket-s3kit/big.bin", *SMALL_PARTS, env=backend.env()
    )
    assert_failed(failed)
    assert source.read_bytes() == data

    result = cli("mv", str(source), f"s3://{bucket}/big.bin", *SMALL_PARTS, env=backend.env())
    assert result.exit_code == 0, result.stderr
    assert not source.exists()
    assert get(backend, bucket, "big.bin") == data
    assert pending(backend.session(), bucket) == []


# -- resuming after a kill ---------------------------------------------------------------------


def _cli_env(backend: Backend, state: Path) -> dict[str, str]:
    """The backend's variables, with the journal (platformdirs' state folder) under `state`."""
    return {**backend.env(), "XDG_STATE_HOME": str(state)}


def _killed_after_parts(
    args: list[str], env: dict[str, str], journal: Path, kind: str, parts: int
) -> dict[str, Any]:
    """Run `s3kit cp ARGS` as a real process, SIGKILL it once its journal lists `parts`
    finished parts, and return the journal entry as the dead process left it."""
    executable = Path(sys.executable).parent / "s3kit"
    log = journal.parent.parent / f"{kind}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as output:
        process = subprocess.Popen(
            [str(executable), "cp", *args],
            env={**os.environ, **env},
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                if process.poll() is not None:
                    pytest.fail(
                        f"s3kit exited ({process.returncode}) before the kill: {log.read_text()}"
                    )
                entry = _journal_entry(journal, kind)
                if entry is not None and len(entry["parts"]) >= parts:
                    break
                time.sleep(0.02)
            else:
                pytest.fail(f"the {kind} journal never listed {parts} parts: {log.read_text()}")
        finally:
            if process.poll() is None:
                os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
    assert process.returncode == -signal.SIGKILL, log.read_text()
    entry = _journal_entry(journal, kind)
    assert entry is not None
    return entry


def _journal_entry(journal: Path, kind: str) -> dict[str, Any] | None:
    for path in journal.glob(f"{kind}-*.json"):
        try:
            entry: dict[str, Any] = json.loads(path.read_text())
        except (OSError, ValueError):  # replaced between glob and read
            continue
        return entry
    return None


def _resume_with_library(
    backend: Backend, journal: Path, source: Location, target: Location
) -> list[TransferEvent]:
    events: list[TransferEvent] = []
    TransferManager(backend.session(), config=small_parts(journal), on_event=events.append).run(
        source, target
    )
    return [e for e in events if e.kind == "progress"]


def test_killed_upload_resumes_from_its_journal(
    backend: Backend, bucket: str, tmp_path: Path
) -> None:
    data = payload(RESUMABLE, seed=21)
    source = write_file(tmp_path / "big.bin", data)
    journal = tmp_path / "state" / "s3kit" / "journal"
    args = [str(source), f"s3://{bucket}/big.bin", *SMALL_PARTS, "--bwlimit", "4MiB"]

    entry = _killed_after_parts(args, _cli_env(backend, tmp_path / "state"), journal, "upload", 2)

    done = {int(n): part for n, part in entry["parts"].items()}
    listed = s3_client(backend).list_parts(
        Bucket=bucket, Key="big.bin", UploadId=entry["upload_id"]
    )
    on_server = {p["PartNumber"]: p["ETag"] for p in listed.get("Parts", [])}
    assert set(done) <= set(on_server)
    assert all(on_server[n].strip('"') == done[n]["etag"].strip('"') for n in done)

    progress = _resume_with_library(backend, journal, LocalPath(source), S3Url(bucket, "big.bin"))

    assert get(backend, bucket, "big.bin") == data
    # The finished parts were reported at once as resumed and not sent again.
    assert progress[0].bytes == sum(part["size"] for part in done.values())
    assert len(progress) == 1 + 4 - len(done)
    assert sum(e.bytes for e in progress) == RESUMABLE
    assert pending(backend.session(), bucket) == []  # the killed upload itself was completed
    assert journal_files(journal) == []


def test_killed_upload_is_found_on_the_server_with_resume(
    cli: CliInvoker, backend: Backend, bucket: str, tmp_path: Path
) -> None:
    data = payload(BIG, seed=22)
    source = write_file(tmp_path / "big.bin", data)
    journal = tmp_path / "state" / "s3kit" / "journal"
    env = _cli_env(backend, tmp_path / "state")
    url = f"s3://{bucket}/big.bin"

    entry = _killed_after_parts(
        [str(source), url, *SMALL_PARTS, "--bwlimit", "4MiB"], env, journal, "upload", 1
    )
    for path in journal_files(journal):
        path.unlink()
    assert pending(backend.session(), bucket) == [entry["upload_id"]]

    result = cli("cp", str(source), url, *SMALL_PARTS, "--resume", "--json", env=env)

    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["bytes"] == BIG
    assert get(backend, bucket, "big.bin") == data
    # Without --resume a new upload would start and the killed one would stay pending.
    assert pending(backend.session(), bucket) == []
    assert journal_files(journal) == []


def test_killed_download_resumes_into_its_temporary_file(
    backend: Backend, bucket: str, tmp_path: Path
) -> None:
    data = payload(RESUMABLE, seed=23)
    TransferManager(backend.session(), config=small_parts(tmp_path / "up-journal")).run(
        LocalPath(write_file(tmp_path / "up" / "big.bin", data)), S3Url(bucket, "big.bin")
    )
    out_dir = tmp_path / "down"
    out_dir.mkdir()
    out = out_dir / "out.bin"
    journal = tmp_path / "state" / "s3kit" / "journal"
    args = [f"s3://{bucket}/big.bin", str(out), *SMALL_PARTS, "--bwlimit", "4MiB"]

    entry = _killed_after_parts(args, _cli_env(backend, tmp_path / "state"), journal, "download", 2)

    assert not out.exists()
    temp = Path(entry["temp_path"])
    assert leftovers(out_dir) == [temp.name]
    assert "out.bin" in temp.name and temp.name.endswith(".part")
    assert temp.stat().st_size == RESUMABLE

    progress = _resume_with_library(backend, journal, S3Url(bucket, "big.bin"), LocalPath(out))

    assert out.read_bytes() == data
    assert leftovers(out_dir) == []
    assert journal_files(journal) == []
    done = entry["parts"]
    assert progress[0].bytes == sum(part["size"] for part in done.values())
    assert len(progress) == 1 + 4 - len(done)
    assert sum(e.bytes for e in progress) == RESUMABLE


def test_config_file_defaults_reach_cp(cli: CliInvoker, moto: Backend, tmp_path: Path) -> None:
    from s3kit.service import S3Service
    from tests.conftest import unique_bucket_name

    bucket = unique_bucket_name()
    S3Service(moto.session()).create_bucket(bucket)
    config = tmp_path / "s3kit.yaml"
    config.write_text("storage:\n  default_storage_class: STANDARD_IA\n")
    source = write_file(tmp_path / "doc.txt", b"config defaults")
    result = cli("--config", str(config), "cp", str(source), f"s3://{bucket}/", env=moto.env())
    assert result.exit_code == 0, result.stderr
    head = moto.session().client("s3").head_object(Bucket=bucket, Key="doc.txt")
    assert head["StorageClass"] == "STANDARD_IA"
    explicit = cli("--config", str(config), "cp", str(source), f"s3://{bucket}/b.txt",
                   "--storage-class", "STANDARD", env=moto.env())  # fmt: skip
    assert explicit.exit_code == 0, explicit.stderr
    head = moto.session().client("s3").head_object(Bucket=bucket, Key="b.txt")
    assert head.get("StorageClass", "STANDARD") == "STANDARD"
