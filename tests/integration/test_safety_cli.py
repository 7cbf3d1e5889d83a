"""Safety of the CLI's destructive and reporting paths, against the real backends: a versioned
bucket is not deleted without --force, sync reports what happened (not what it planned), a
closed stdout ends quietly, and credentials in an endpoint URL are never printed back."""

from __future__ import annotations

import contextlib
import fcntl
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncGenerator, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from s3kit._local_server import free_ports
from s3kit._sync import run as sync_run
from s3kit.cli import bisync as cli_bisync
from s3kit.service import S3Service
from tests.conftest import Backend, CliInvoker, unique_bucket_name
from tests.integration.cli_support import assert_failed, bucket_names

# -- 3: a bucket with versions or delete markers is not empty ------------------------------------


@pytest.fixture
def versioned(backend: Backend) -> Iterator[str]:
    """A versioned bucket holding only a noncurrent version and a delete marker: ListObjects
    shows nothing, yet the bucket is not empty."""
    name = unique_bucket_name("ver")
    service = S3Service(backend.session())
    service.create_bucket(name)
    client = backend.session().client("s3")
    client.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    client.put_object(Bucket=name, Key="doc.txt", Body=b"v1")
    client.delete_object(Bucket=name, Key="doc.txt")
    yield name
    with contextlib.suppress(Exception):
        service.empty_bucket(name)
        service.delete_bucket(name)


def _versions(backend: Backend, bucket: str) -> dict[str, Any]:
    answer: dict[str, Any] = backend.session().client("s3").list_object_versions(Bucket=bucket)
    return answer


@pytest.mark.parametrize("command", [["rb"], ["bucket", "delete"]])
def test_a_bucket_with_only_versions_and_markers_is_not_deleted_without_force(
    cli: CliInvoker, backend: Backend, versioned: str, command: list[str]
) -> None:
    before = _versions(backend, versioned)
    assert len(before.get("Versions", [])) == 1 and len(before.get("DeleteMarkers", [])) == 1
    result = cli(*command, f"s3://{versioned}", env=backend.env())
    assert_failed(result)
    assert "not empty" in result.stderr and "--force" in result.stderr
    assert versioned in bucket_names(backend)
    after = _versions(backend, versioned)
    assert len(after.get("Versions", [])) == 1 and len(after.get("DeleteMarkers", [])) == 1


def test_a_bucket_with_only_a_pending_upload_is_not_deleted_without_force(
    cli: CliInvoker, backend: Backend, bucket: str
) -> None:
    client = backend.session().client("s3")
    client.create_multipart_upload(Bucket=bucket, Key="big.bin")
    result = cli("rb", f"s3://{bucket}", env=backend.env())
    assert_failed(result)
    assert "not empty" in result.stderr and "--force" in result.stderr
    assert bucket in bucket_names(backend)


@pytest.mark.parametrize("command", [["rb", "--force"], ["bucket", "delete", "--force", "--yes"]])
def test_force_removes_every_version_and_marker(
    cli: CliInvoker, backend: Backend, versioned: str, command: list[str]
) -> None:
    result = cli(*command, f"s3://{versioned}", env=backend.env())
    assert result.exit_code == 0, (result.stdout, result.stderr)
    assert f"remove_bucket: {versioned}" in result.stdout
    assert versioned not in bucket_names(backend)


# -- 20: credentials written into the endpoint URL are never printed back ------------------------

URL_USER = "AKIAURLUSER0000"
URL_PASSWORD = "urlPassw0rdNeverShown"


@pytest.fixture(scope="module")
def unreachable_with_credentials() -> str:
    """An endpoint URL carrying user:password whose port nobody listens on."""
    (port,) = free_ports(1)
    return f"http://{URL_USER}:{URL_PASSWORD}@127.0.0.1:{port}"


@pytest.mark.parametrize("debug", [False, True], ids=["plain", "debug"])
@pytest.mark.parametrize(
    "command",
    [
        ["ls"],
        ["ls", "s3://some-bucket/"],
        ["cp", "s3://some-bucket/key", "-"],
        ["mb", "s3://some-bucket"],
        ["probe"],
    ],
    ids=lambda c: "-".join([*c[:1], str(len(c))]),
)
def test_credentials_in_the_endpoint_url_are_never_printed(
    cli: CliInvoker, unreachable_with_credentials: str, command: list[str], debug: bool
) -> None:
    env = {
        "S3KIT_ACCESS_KEY_ID": "someKeyId",
        "S3KIT_SECRET_ACCESS_KEY": "someSecretValue",
        "S3KIT_MAX_RETRIES": "0",
    }
    flags = ["--debug"] if debug else []
    result = cli(*flags, "--endpoint-url", unreachable_with_credentials, *command, env=env)
    output = result.stdout + result.stderr
    assert "127.0.0.1" in output  # the endpoint is still named, only its userinfo goes
    assert URL_PASSWORD not in output and URL_USER not in output, output
    if command != ["probe"]:  # probe reports each failed feature in its table and exits 0
        assert result.exit_code == 1, output
        assert "cannot reach http://***@127.0.0.1:" in result.stderr.splitlines()[-1]
    if debug and command != ["probe"]:
        assert "Traceback" in result.stderr


# -- 16: a closed stdout ends the command quietly, as Unix tools do -----------------------------

F_SETPIPE_SZ = 1031  # Linux fcntl: a pipe as small as one page, so output outgrows it surely
S3KIT = str(Path(sys.executable).with_name("s3kit"))


def _piped_to_head(
    args: list[str], head_args: list[str], env: dict[str, str]
) -> tuple[int, bytes, bytes]:
    """`s3kit ARGS | head HEAD_ARGS` with real processes: (s3kit's exit status, what head
    printed, what s3kit wrote to stderr). The pipe holds one page, and every command here
    writes far more, so s3kit is still writing when head has gone: its next write fails with
    EPIPE whatever the timing."""
    read_end, write_end = os.pipe()
    fcntl.fcntl(write_end, F_SETPIPE_SZ, 4096)
    with tempfile.TemporaryFile() as errors:
        s3kit = subprocess.Popen(
            [S3KIT, *args],
            stdin=subprocess.DEVNULL,
            stdout=write_end,
            stderr=errors,
            env={**os.environ, **env},
        )
        head = subprocess.Popen(["head", *head_args], stdin=read_end, stdout=subprocess.PIPE)
        os.close(read_end)
        os.close(write_end)
        shown, _ = head.communicate(timeout=120)
        status = s3kit.wait(timeout=120)
        errors.seek(0)
        return status, shown, errors.read()


# How s3kit meets a closed stdout is the same whatever the server: SeaweedFS only, which takes
# the 600 PUTs in half moto's time.
ON_SEAWEEDFS_ONLY = pytest.mark.parametrize("backend", ["seaweedfs"], indirect=True)


@ON_SEAWEEDFS_ONLY
def test_a_closed_stdout_ends_quietly(backend: Backend, bucket: str) -> None:
    storage = backend.session().storage(bucket)
    # streamed in chunks of at least 8 MiB: more than one, since only a later write fails
    storage.put("big.bin", b"x" * (17 * 1024 * 1024))
    names = [f"many/file-{i:05d}.txt" for i in range(600)]  # `ls -r`: ~30 KB of lines
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda key: storage.put(key, b"x"), names))
    cases = {
        "cp to stdout": (["cp", f"s3://{bucket}/big.bin", "-"], ["-c", "10"]),
        "cat": (["cat", f"s3://{bucket}/big.bin"], ["-c", "10"]),
        "ls -r": (["ls", "-r", f"s3://{bucket}/"], ["-n", "1"]),
        "ls -r --json": (["ls", "-r", "--json", f"s3://{bucket}/"], ["-n", "1"]),
    }
    seen = {}
    for name, (args, head_args) in cases.items():
        status, shown, errors = _piped_to_head(args, head_args, backend.env())
        seen[name] = (status, len(shown), errors.decode(errors="replace"))
    expected_shown = {"cp to stdout": 10, "cat": 10}
    for name, (status, shown_bytes, errors_text) in seen.items():
        assert errors_text == "", (name, seen)
        # 141 = 128 + SIGPIPE: what `ls | head` and rclone end with, so `set -o pipefail`
        # scripts see s3kit as they see every other Unix tool
        assert status == 141, (name, seen)
        if name in expected_shown:
            assert shown_bytes == expected_shown[name], (name, seen)
        else:
            assert shown_bytes > 0, (name, seen)


@ON_SEAWEEDFS_ONLY
def test_a_sync_whose_reader_left_still_syncs_everything(
    backend: Backend, bucket: str, tmp_path: Path
) -> None:
    names = [f"many/file-{i:05d}.txt" for i in range(600)]  # ~22 KB of "upload: +" lines
    for name in names:
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")
    status, shown, errors = _piped_to_head(
        ["sync", str(tmp_path), f"s3://{bucket}/s/"], ["-n", "1"], backend.env()
    )
    assert errors == b"", errors
    assert status == 141
    assert shown.startswith(b"upload: + many/file-")
    assert sorted(keys_of(backend, bucket)) == [f"s/{name}" for name in names]


# -- 13: sync prints what happened, after it happened ---------------------------------------------


def _write(root: Path, files: dict[str, bytes], *, age: float = 100) -> None:
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        stamp = time.time() - age
        os.utime(path, (stamp, stamp))


def _lines(text: str, start: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith(start)]


@pytest.fixture
def vanishing(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Files to delete once the plan is made and before it is carried out (a file removed
    while the sync runs): their upload then fails for real, with the OS error. Put in place on
    both the plan-first and the streamed path of the library's sync."""
    doomed: list[Path] = []
    real_prepare, real_stream = sync_run.prepare_sync_async, sync_run.streaming_sync

    async def prepare(*args: Any, **kwargs: Any) -> Any:
        prepared = await real_prepare(*args, **kwargs)
        for path in doomed:
            path.unlink()
        return prepared

    def stream(*args: Any, **kwargs: Any) -> Any:
        streamed = real_stream(*args, **kwargs)
        decide = streamed.actions

        async def actions() -> AsyncGenerator[Any, None]:
            async with contextlib.aclosing(decide()) as decided:
                async for action in decided:
                    for path in doomed:
                        if path.name == Path(action.key).name and path.exists():
                            path.unlink()
                    yield action

        streamed.actions = actions  # type: ignore[method-assign]
        return streamed

    monkeypatch.setattr(sync_run, "prepare_sync_async", prepare)
    monkeypatch.setattr(sync_run, "streaming_sync", stream)
    return doomed


def test_sync_reports_a_failed_upload_and_the_deletion_it_held_back(
    cli: CliInvoker, backend: Backend, bucket: str, tmp_path: Path, vanishing: list[Path]
) -> None:
    url = f"s3://{bucket}/site"
    backend.session().storage(bucket).put("site/old.html", b"old")
    _write(tmp_path, {"new.html": b"new", "ok.html": b"fine"})
    vanishing.append(tmp_path / "new.html")
    result = cli("sync", str(tmp_path), url, "--delete", env=backend.env())
    assert result.exit_code == 1, (result.stdout, result.stderr)
    assert _lines(result.stdout, "upload: +") == ["upload: + ok.html (4 B)"]
    assert "new.html" not in result.stdout
    assert not _lines(result.stdout + result.stderr, "delete: -")  # held back: never ran
    errors = [line for line in result.stderr.splitlines() if "new.html" in line]
    assert len(errors) == 1 and errors[0].startswith("s3kit: error: upload failed:"), errors
    assert "Done: 1 transferred, 0 deleted, 1 failed, 1 skipped in " in result.stdout
    assert sorted(keys_of(backend, bucket)) == ["site/ok.html", "site/old.html"]


def test_streamed_sync_reports_a_failed_upload(
    cli: CliInvoker, backend: Backend, bucket: str, tmp_path: Path, vanishing: list[Path]
) -> None:
    url = f"s3://{bucket}/site"
    _write(tmp_path, {"new.html": b"new", "ok.html": b"fine"})
    vanishing.append(tmp_path / "new.html")
    result = cli("sync", str(tmp_path), url, env=backend.env())
    assert result.exit_code == 1, (result.stdout, result.stderr)
    assert _lines(result.stdout, "upload: +") == ["upload: + ok.html (4 B)"]
    assert "new.html" not in result.stdout
    errors = [line for line in result.stderr.splitlines() if "new.html" in line]
    assert len(errors) == 1 and errors[0].startswith("s3kit: error: upload failed:"), errors
    assert "Done: 1 transferred, 0 deleted, 1 failed in " in result.stdout


def test_sync_prints_each_deletion_once_it_is_done(
    cli: CliInvoker, backend: Backend, bucket: str, tmp_path: Path
) -> None:
    url = f"s3://{bucket}/site"
    backend.session().storage(bucket).put("site/old.html", b"old")
    _write(tmp_path, {"ok.html": b"fine"})
    result = cli("sync", str(tmp_path), url, "--delete", env=backend.env())
    assert result.exit_code == 0, (result.stdout, result.stderr)
    # transfers first, deletions only after they all succeeded
    assert result.stdout.splitlines()[:2] == ["upload: + ok.html (4 B)", "delete: - old.html"]
    assert "Done: 1 transferred, 1 deleted in " in result.stdout
    quiet = cli("sync", str(tmp_path), url, "--delete", "--quiet", env=backend.env())
    assert quiet.exit_code == 0 and quiet.stdout == "", (quiet.stdout, quiet.stderr)


def test_a_deletion_refused_by_the_delete_guard_is_not_printed(
    cli: CliInvoker, backend: Backend, bucket: str, tmp_path: Path
) -> None:
    url = f"s3://{bucket}/site"
    backend.session().storage(bucket).put("site/old.html", b"old")
    _write(tmp_path, {"ok.html": b"fine"})
    result = cli("sync", str(tmp_path), url, "--delete", "--max-delete", "0", env=backend.env())
    assert result.exit_code != 0, (result.stdout, result.stderr)
    assert not _lines(result.stdout + result.stderr, "delete: -")
    assert "--max-delete 0" in result.stderr  # said why it deleted nothing
    assert sorted(keys_of(backend, bucket)) == ["site/old.html"]


def test_bidirectional_sync_reports_what_was_done_not_the_plan(
    cli: CliInvoker,
    backend: Backend,
    bucket: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = f"s3://{bucket}/pre"
    _write(tmp_path, {"old.html": b"old", "keep.txt": b"k"})
    first = cli("sync", "--bidirectional", "--resync", str(tmp_path), url, env=backend.env())
    assert first.exit_code == 0, first.stderr
    (tmp_path / "old.html").unlink()  # -> delete remote
    _write(tmp_path, {"new.html": b"new"})  # -> upload, made to fail
    backend.session().storage(bucket).put("pre/from-remote.txt", b"r")  # -> download
    real = cli_bisync.bisync_async

    async def racing(*args: Any, **kwargs: Any) -> Any:
        before = kwargs["before_execute"]

        def remove_then_start(plan: Any) -> None:
            (tmp_path / "new.html").unlink()
            before(plan)

        kwargs["before_execute"] = remove_then_start
        return await real(*args, **kwargs)

    monkeypatch.setattr(cli_bisync, "bisync_async", racing)
    result = cli("sync", "--bidirectional", str(tmp_path), url, env=backend.env())
    assert result.exit_code == 1, (result.stdout, result.stderr)
    assert (
        _lines(result.stdout, "download: remote → local:")
        == ["download: remote → local: from-remote.txt — new on remote"]
        or len(_lines(result.stdout, "download: remote → local: from-remote.txt")) == 1
    )
    assert "new.html" not in result.stdout
    assert "old.html" not in result.stdout  # its deletion was held back
    errors = [line for line in result.stderr.splitlines() if "new.html" in line]
    assert len(errors) == 1 and errors[0].startswith("s3kit: error:"), result.stderr
    assert "Done: 0 uploaded, 1 downloaded, 0 deleted, 1 failed, 1 skipped" in result.stdout
    assert "old.html" in {k.removeprefix("pre/") for k in keys_of(backend, bucket)}


def keys_of(backend: Backend, bucket: str) -> list[str]:
    from s3kit.storage.base import ObjectInfo

    storage = backend.session().storage(bucket)
    return [e.key for e in storage.list("") if isinstance(e, ObjectInfo)]
