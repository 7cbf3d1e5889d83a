"""`s3kit --version` in a real process loads none of the logging and metrics machinery (issue
14: "keep the import cost out of --version"): Python's own import log says which modules a run
imported, so this checks module sets, never a time."""

from __future__ import annotations

import os
import subprocess
import sys

# What only a command that logs, counts or reports needs.
NOT_FOR_VERSION = {"logging", "json", "s3kit._observe", "s3kit.metrics", "s3kit.events",
                   "s3kit.cli.reports", "s3kit._metrics_http"}  # fmt: skip


def imported_by(*args: str) -> set[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["PYTHONPROFILEIMPORTTIME"] = "1"
    done = subprocess.run(
        [sys.executable, "-c", "from s3kit.cli.app import main; main()", *args],
        capture_output=True, text=True, env=env, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    return {
        line.rsplit("|", 1)[1].strip()
        for line in done.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }


def test_version_imports_no_logging_json_or_metrics() -> None:
    modules = imported_by("--version")
    assert "s3kit.cli.app" in modules  # the log is read as meant
    assert modules & NOT_FOR_VERSION == set()
