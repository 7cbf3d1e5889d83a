"""Progress that tells the truth, on both servers: the transfer layer says when a plan is
complete ("scanned") and what a single download's size is ("sized"); Ctrl-C says what was kept
and that the same command resumes, and the resumed run says what was already there; the bar of
the real `s3kit` on a pseudo-terminal shows a single download's real size in binary units."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

import s3kit
from s3kit._config.file import S3KitConfig
from s3kit._uri import LocalPath, S3Url
from s3kit.transfer import TransferConfig, TransferEvent, TransferManager
from tests.conftest import Backend, CliInvoker
from tests.integration.cli_support import get, put
from tests.integration.test_sync_interactive import Terminal
from tests.integration.transfer_support import BIG, PART, payload, small_parts, write_file

MiB = 1024 * 1024
SMALL_PARTS = ("--part-size", "5MiB", "--multipart-threshold", "5MiB", "--part-concurrency", "1")


def _kinds(events: list[TransferEvent], *wanted: str) -> list[str]:
    return [e.kind for e in events if e.kind in wanted]


# -- the transfer layer says when the plan is complete --------------------------------------


def test_a_recursive_copy_says_when_its_plan_is_complete(
    backend: Backend, bucket: str, tmp_path: Path
) -> None:
    sizes = [10, 2000, 300, 4, 55]
    for n, amount in enumerate(sizes):
        write_file(tmp_path / "src" / f"d{n % 2}" / f"f{n}.bin", b"x" * amount)
    events: list[TransferEvent] = []
    manager = TransferManager(backend.session(), on_event=events.append, concurrency=1)

    summary = manager.upload_folder(tmp_path / "src", f"s3://{bucket}/p/")

    assert summary.files == len(sizes)
    scanned = [e for e in events if e.kind == "scanned"]
    assert len(scanned) == 1
    assert (scanned[0].files, scanned[0].bytes) == (len(sizes), sum(sizes))
    kinds = _kinds(events, "queued", "scanned")
    assert kinds == ["queued"] * len(sizes) + ["scanned"]  # after the last item found


@pytest.mark.parametrize("to", ["file", "object"])
def test_a_single_download_or_copy_tells_the_size_it_learned(
    backend: Backend, bucket: str, tmp_path: Path, to: str
) -> None:
    """The report: `218,103,808/0 bytes` — a single download's size was never known to the
    bar: the plan has none (no listing), only the download's HEAD learns it. A server-side
    copy of one object learns it the same way."""
    put(backend, bucket, {"big.bin": payload(3 * MiB)})
    events: list[TransferEvent] = []
    target = LocalPath(tmp_path / "out.bin") if to == "file" else S3Url(bucket, "copy.bin")
    TransferManager(backend.session(), on_event=events.append).run(S3Url(bucket, "big.bin"), target)
    queued = next(e for e in events if e.kind == "queued")
    assert queued.item.size is None
    sized = [e for e in events if e.kind == "sized"]
    assert [e.bytes for e in sized] == [3 * MiB]
    assert events.index(sized[0]) < next(i for i, e in enumerate(events) if e.kind == "progress")


def _tree(root: Path, count: int) -> Path:
    past = time.time() - 3600
    for n in range(count):
        path = root / f"f{n}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"y" * (n + 1))
        os.utime(path, (past, past))
    return root


def test_a_streamed_sync_says_when_its_scan_ended(
    backend: Backend, bucket: str, tmp_path: Path
) -> None:
    events: list[TransferEvent] = []
    outcome = s3kit.sync(
        _tree(tmp_path / "site", 4), f"s3://{bucket}/s", session=backend.session(),
        settings=S3KitConfig(), on_event=events.append,
    )  # fmt: skip
    assert outcome.result is not None and outcome.result.transferred == 4
    scanned = [e for e in events if e.kind == "scanned"]
    assert [(e.files, e.bytes) for e in scanned] == [(4, 1 + 2 + 3 + 4)]
    assert _kinds(events, "queued", "scanned")[-1] == "scanned"


def test_a_planned_sync_says_its_total_before_anything_moves(
    backend: Backend, bucket: str, tmp_path: Path
) -> None:
    events: list[TransferEvent] = []
    outcome = s3kit.sync(
        _tree(tmp_path / "site", 3), f"s3://{bucket}/s", session=backend.session(),
        settings=S3KitConfig(), delete=True, on_event=events.append,  # --delete: plan first
    )  # fmt: skip
    assert outcome.result is not None and outcome.result.transferred == 3
    scanned = [e for e in events if e.kind == "scanned"]
    assert [(e.files, e.bytes) for e in scanned] == [(3, 1 + 2 + 3)]  # once
    assert events[0].kind == "scanned"


# -- Ctrl-C says what was kept; the next run says what it resumed ---------------------------


def _env(backend: Backend, state: Path) -> dict[str, str]:
    return {**os.environ, **backend.env(), "XDG_STATE_HOME": str(state)}


def _journal(state: Path, kind: str) -> dict[str, Any] | None:
    for path in (state / "s3kit" / "journal").glob(f"{kind}-*.json"):
        try:
            entry: dict[str, Any] = json.loads(path.read_text())
        except (OSError, ValueError):  # replaced between glob and read
            continue
        return entry
    return None


def _interrupted_after_a_part(
    args: list[str], env: dict[str, str], state: Path, kind: str
) -> tuple[int, str, dict[str, Any]]:
    """Run the real `s3kit cp ARGS`, send it SIGINT (what Ctrl-C sends) once its journal lists
    a finished part, and return its exit code, its stderr and the journal it left."""
    process = subprocess.Popen(
        [str(Path(sys.executable).with_name("s3kit")), "cp", *args],
        env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        start_new_session=True,  # SIGINT as the default handler gets it, not ignored
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while (entry := _journal(state, kind)) is None or not entry["parts"]:
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"no part was journalled: {process.communicate()}")
            time.sleep(0.02)
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    entry = _journal(state, kind)
    assert entry is not None, err
    return process.returncode, err.decode(), entry


def _kept(entry: dict[str, Any]) -> int:
    return sum(part["size"] for part in entry["parts"].values())


def _size(amount: int) -> str:
    from s3kit._units import human_size

    return human_size(amount, bytes_unit="B")


def test_ctrl_c_says_what_upload_was_kept_and_the_rerun_says_it_resumes(
    cli: CliInvoker, backend: Backend, bucket: str, tmp_path: Path
) -> None:
    data = payload(BIG, seed=31)
    source = write_file(tmp_path / "big.bin", data)
    state = tmp_path / "state"
    url = f"s3://{bucket}/big.bin"
    args = [str(source), url, *SMALL_PARTS, "--bwlimit", "4MiB"]

    code, err, entry = _interrupted_after_a_part(args, _env(backend, state), state, "upload")

    assert code == 130, err
    kept = _kept(entry)
    assert err.splitlines() == [
        f"s3kit: interrupted: kept the partial upload of {source} to {url}"
        f" ({_size(kept)} of {_size(BIG)} sent); run the same command to resume"
    ]
    rerun = cli(
        "cp", str(source), url, *SMALL_PARTS, env={**backend.env(), "XDG_STATE_HOME": str(state)}
    )
    assert rerun.exit_code == 0, rerun.stderr
    assert (
        f"s3kit: resuming: {_size(kept)} of {_size(BIG)} already there"
        f" (the upload of {source} to {url})"
    ) in rerun.stderr.splitlines()
    assert get(backend, bucket, "big.bin") == data


def test_ctrl_c_says_where_the_partial_download_is_and_the_rerun_resumes_it(
    cli: CliInvoker, backend: Backend, bucket: str, tmp_path: Path
) -> None:
    data = payload(BIG, seed=32)
    TransferManager(backend.session(), config=small_parts(tmp_path / "up")).run(
        LocalPath(write_file(tmp_path / "up.bin", data)), S3Url(bucket, "big.bin")
    )
    state = tmp_path / "state"
    url, out = f"s3://{bucket}/big.bin", tmp_path / "down" / "big.bin"
    out.parent.mkdir()
    args = [url, str(out), *SMALL_PARTS, "--bwlimit", "4MiB"]

    code, err, entry = _interrupted_after_a_part(args, _env(backend, state), state, "download")

    assert code == 130, err
    kept, temp = _kept(entry), Path(entry["temp_path"])
    assert temp.is_file() and not out.exists()
    assert err.splitlines() == [
        f"s3kit: interrupted: kept the partial download of {url} to {out} in {temp}"
        f" ({_size(kept)} of {_size(BIG)} received); run the same command to resume"
    ]
    rerun = cli(
        "cp", url, str(out), *SMALL_PARTS, env={**backend.env(), "XDG_STATE_HOME": str(state)}
    )
    assert rerun.exit_code == 0, rerun.stderr
    assert (
        f"s3kit: resuming: {_size(kept)} of {_size(BIG)} already there"
        f" (the download of {url} to {out})"
    ) in rerun.stderr.splitlines()
    assert out.read_bytes() == data and not temp.exists()


# -- the bar of the real s3kit on a terminal ------------------------------------------------


def _terminal_env(backend: Backend, home: Path, term: str) -> dict[str, str]:
    kept = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "S3KIT_"))}
    return {
        **kept, **backend.env(), "HOME": str(home), "XDG_STATE_HOME": str(home / "state"),
        "XDG_CONFIG_HOME": str(home / "config"), "TERM": term, "COLUMNS": "120",
    }  # fmt: skip


def test_the_bar_of_a_single_download_shows_its_size_in_binary_units(
    backend: Backend, bucket: str, tmp_path: Path
) -> None:
    """The reports: `218,103,808/0 bytes` for a single download, and `88.0/476.8 MiB
    108.8 MB/s` — binary sizes beside a decimal rate. (A dumb terminal: rich draws the last
    frame only.)"""
    put(backend, bucket, {"big.bin": payload(3 * MiB + 5)})
    term = Terminal(
        ["cp", f"s3://{bucket}/big.bin", str(tmp_path / "out.bin")],
        _terminal_env(backend, tmp_path / "home", "dumb"), cwd=tmp_path,
    )  # fmt: skip
    assert term.finish() == 0, term.text()
    last = term.text().strip().splitlines()[-1]
    assert re.search(r"1/1 files · 3\.0 MiB/3\.0 MiB · [\d.]+ (B|KiB|MiB|GiB)/s$", last), last
    assert not re.search(r"\b(kB|MB|GB)\b|/0 bytes", term.text()), term.text()


def test_ctrl_c_with_nothing_kept_says_it_was_interrupted(
    backend: Backend, bucket: str, tmp_path: Path
) -> None:
    """Ctrl-C used to end a copy with exit 130 and not a word."""
    source = write_file(tmp_path / "small.bin", payload(PART - 1))  # one PUT: nothing to keep
    term = Terminal(
        ["cp", str(source), f"s3://{bucket}/small.bin", "--bwlimit", "1MiB"],
        _terminal_env(backend, tmp_path / "home", "xterm"), cwd=tmp_path,
    )  # fmt: skip
    try:
        term.expect("0/1 files")  # the bar is up: the copy is under way, held by --bwlimit
        os.kill(term.process.pid, signal.SIGINT)
    except BaseException:
        term.close()
        raise
    assert term.finish() == 130, term.text()
    assert "s3kit: interrupted\n" in term.text()


def test_while_a_recursive_copy_scans_the_bar_shows_found_and_done_apart(
    backend: Backend, bucket: str, tmp_path: Path
) -> None:
    """The report: a recursive copy's total grew as files were found, so the bar sat near
    100 % and its ETA meant nothing. More files than the walk may run ahead of the copies, one
    copy at a time, each held by --bwlimit: the walk cannot end for seconds, and meanwhile the
    bar shows what was found and what is done apart, with no time left."""
    backlog = TransferConfig().max_backlog
    folder = tmp_path / "many"
    folder.mkdir()
    for n in range(backlog + 50):
        (folder / f"f{n:05d}").write_bytes(b"z" * 100)
    term = Terminal(
        ["cp", "-r", str(folder), f"s3://{bucket}/many/", "--concurrency", "1",
         "--bwlimit", "1KiB"],
        _terminal_env(backend, tmp_path / "home", "xterm"), cwd=tmp_path,
    )  # fmt: skip
    try:
        term.expect(" done of ", timeout=30)  # "N done of M files found so far"
        os.kill(term.process.pid, signal.SIGINT)
    except BaseException:
        term.close()
        raise
    assert term.finish() == 130, term.text()
    frames = term.text()
    assert " left" not in frames and "%" not in frames
    assert re.search(r"\d+ done of \d+ files found so far", frames), frames
    # The walk is closed with the run: asyncio's shutdown used to close its generators all at
    # once, and print their clash ("aclose(): asynchronous generator is already running").
    assert "Traceback" not in frames and "asynchronous generator" not in frames, frames
    assert frames.rstrip().endswith("s3kit: interrupted"), frames


@pytest.mark.parametrize("delete", [False, True], ids=["streamed", "planned"])
def test_the_bar_of_a_sync_ends_with_its_real_total(
    backend: Backend, bucket: str, tmp_path: Path, delete: bool
) -> None:
    """A streamed sync's total comes when its scan has ended; a planned one's (--delete plans
    first) before its first transfer: either way the last frame is done of a real total."""
    site = _tree(tmp_path / "site", 3)
    args = ["sync", str(site), f"s3://{bucket}/s", *(["--delete", "--yes"] if delete else [])]
    term = Terminal(args, _terminal_env(backend, tmp_path / "home", "dumb"), cwd=tmp_path)
    assert term.finish() == 0, term.text()
    assert "3/3 files · 6 B/6 B" in term.text(), term.text()
