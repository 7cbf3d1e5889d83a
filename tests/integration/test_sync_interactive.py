"""`s3kit sync` with no arguments: the real executable on a pseudo-terminal, answering its
questions, against the SeaweedFS server; and the usage error when there is no terminal."""

from __future__ import annotations

import contextlib
import os
import pty
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from s3kit.service import S3Service
from tests.conftest import Backend, CliInvoker, unique_bucket_name
from tests.integration.cli_support import assert_usage_error, keys


class Terminal:
    """The real `s3kit` on a pseudo-terminal: wait for a prompt, type an answer."""

    def __init__(self, args: list[str], env: dict[str, str], cwd: Path) -> None:
        command = [str(Path(sys.executable).with_name("s3kit")), *args]
        self.primary, secondary = pty.openpty()
        self.process = subprocess.Popen(
            command,
            stdin=secondary,
            stdout=secondary,
            stderr=secondary,
            env=env,
            cwd=cwd,
            start_new_session=True,
        )
        os.close(secondary)
        self.output = b""
        self.seen = b""

    def _read(self, timeout: float) -> bool:
        ready, _, _ = select.select([self.primary], [], [], timeout)
        if not ready:
            return True
        try:
            chunk = os.read(self.primary, 4096)
        except OSError:  # the child closed the terminal
            return False
        self.output += chunk
        return bool(chunk)

    def expect(self, text: str, timeout: float = 15) -> None:
        """Read until `text` has appeared since the last answer."""
        deadline = time.monotonic() + timeout
        while text.encode() not in self.output:
            if time.monotonic() > deadline or not self._read(0.2):
                raise AssertionError(f"no {text!r} in: {self.text()}")

    def exchange(self, prompt: str, line: str) -> None:
        """Wait for `prompt`, then type `line`; later prompts are looked for after this one."""
        self.expect(prompt)
        self.seen += self.output
        self.output = b""
        os.write(self.primary, line.encode() + b"\n")

    def finish(self, timeout: float = 30) -> int:
        deadline = time.monotonic() + timeout
        while self.process.poll() is None and time.monotonic() < deadline:
            if not self._read(0.2):
                break
        with contextlib.suppress(OSError):
            while self._read(0.05) and select.select([self.primary], [], [], 0)[0]:
                pass
        try:
            return self.process.wait(timeout=max(1.0, deadline - time.monotonic()))
        finally:
            self.close()

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        with contextlib.suppress(OSError):
            os.close(self.primary)

    def text(self) -> str:
        return (self.seen + self.output).decode(errors="replace").replace("\r\n", "\n")


@pytest.fixture
def weed_bucket(seaweed: Backend) -> Iterator[str]:
    name = unique_bucket_name("ia")
    service = S3Service(seaweed.session())
    service.create_bucket(name)
    yield name
    with contextlib.suppress(Exception):
        service.empty_bucket(name)
        service.delete_bucket(name)


@pytest.fixture
def site(tmp_path: Path) -> Path:
    folder = tmp_path / "site"
    (folder / "css").mkdir(parents=True)
    (folder / "index.html").write_text("<h1>hi</h1>")
    (folder / "css" / "main.css").write_text("h1 {}")
    return folder


def _env(backend: Backend, home: Path) -> dict[str, str]:
    kept = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "S3KIT_"))}
    return {
        **kept,
        **backend.env(),
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "XDG_STATE_HOME": str(home / ".local" / "state"),
        "AWS_CONFIG_FILE": str(home / ".aws" / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(home / ".aws" / "credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
        "TERM": "dumb",
    }


def _upload(seaweed: Backend, bucket: str, site: Path, tmp_path: Path, proceed: str) -> Terminal:
    term = Terminal(["sync"], _env(seaweed, tmp_path / "home"), cwd=tmp_path)
    try:
        term.exchange("Choose 1-2 [1]: ", "1")  # no saved connections or profiles: direction
        term.exchange("Local folder to upload: ", str(site))
        term.exchange("Bucket (number or name): ", bucket)
        term.exchange("Prefix inside the bucket", "www")
        term.exchange("does not have? [y/N] ", "")
        term.exchange("(dry run)? [Y/n] ", "")
        term.exchange("Proceed? [y/N] ", proceed)
    except BaseException:
        term.close()
        raise
    return term


def test_interactive_upload_puts_the_folder_in_the_bucket(
    seaweed: Backend, weed_bucket: str, site: Path, tmp_path: Path
) -> None:
    term = _upload(seaweed, weed_bucket, site, tmp_path, "y")
    code = term.finish()
    output = term.text()
    assert code == 0, output
    assert f") {weed_bucket}\n" in output.split("Buckets:\n", 1)[1]  # listed, not only typed
    assert f"Same as: s3kit sync {site} s3://{weed_bucket}/www\n" in output
    plan, after = output.split("Proceed?", 1)
    assert "Would upload: + index.html" in plan and "Total: 2 uploads" in plan
    assert "Done: 2 transferred" in after
    assert keys(seaweed, weed_bucket) == ["www/css/main.css", "www/index.html"]


def test_answering_no_at_proceed_uploads_nothing(
    seaweed: Backend, weed_bucket: str, site: Path, tmp_path: Path
) -> None:
    term = _upload(seaweed, weed_bucket, site, tmp_path, "n")
    code = term.finish()
    assert code == 1, term.text()
    assert "Would upload: + index.html" in term.text()  # the plan was shown, then refused
    assert "nothing done" in term.text()
    assert keys(seaweed, weed_bucket) == []


def test_ctrl_c_at_a_prompt_exits_130(seaweed: Backend, tmp_path: Path) -> None:
    term = Terminal(["sync"], _env(seaweed, tmp_path / "home"), cwd=tmp_path)
    try:
        term.exchange("Choose 1-2 [1]: ", "1")
        term.expect("Local folder to upload: ")
        # What Ctrl-C does to the foreground process (the child has a session of its own, so
        # the terminal is not its controlling one and a typed ^C would not reach it).
        os.kill(term.process.pid, signal.SIGINT)
    except BaseException:
        term.close()
        raise
    assert term.finish() == 130, term.text()
    assert "interrupted" in term.text()


def test_without_a_terminal_sync_needs_both_arguments(cli: CliInvoker) -> None:
    result = cli("sync")
    assert_usage_error(result)
    assert "SOURCE and DESTINATION" in result.stderr
    assert "terminal" in result.stderr


def test_one_argument_alone_is_a_usage_error(cli: CliInvoker, tmp_path: Path) -> None:
    result = cli("sync", str(tmp_path))
    assert_usage_error(result)
    assert "DESTINATION" in result.stderr
