"""moto's server mode (`python -m moto.server`) in its own process: the stand-in for AWS-only
APIs. It keeps everything in memory and accepts any key pair."""

from __future__ import annotations

import sys
from pathlib import Path

from tests.servers.base import LoopbackServer, ServerProcess, free_ports, http_answers


class MotoServer(LoopbackServer):
    def __init__(self, workdir: Path) -> None:
        (port,) = free_ports(1)
        self.endpoint = f"http://127.0.0.1:{port}"
        self.access_key = "testing"
        self.secret_key = "testing"
        self.process = ServerProcess(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            workdir / "moto.log",
            stop_timeout=10.0,
        )

    def ready(self) -> bool:
        return http_answers(f"{self.endpoint}/moto-api/")
