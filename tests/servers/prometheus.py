"""Prometheus' own programs, unpacked from Debian's packages into .venv/prometheus by
`make test` (tests/servers/unpack-debs.sh): promtool (checks the text format s3kit writes) and
a Pushgateway on a free 127.0.0.1 port (receives what `--metrics-push` sends)."""

from __future__ import annotations

from pathlib import Path

from tests.servers.base import LoopbackServer, ServerProcess, free_ports, http_answers

BIN = Path(__file__).resolve().parents[2] / ".venv" / "prometheus" / "usr" / "bin"
PROMTOOL = BIN / "promtool"
PUSHGATEWAY = BIN / "prometheus-pushgateway"


class Pushgateway(LoopbackServer):
    access_key = secret_key = ""

    def __init__(self, workdir: Path) -> None:
        (port,) = free_ports(1)
        self.endpoint = f"http://127.0.0.1:{port}"
        self.process = ServerProcess(
            [str(PUSHGATEWAY), f"--web.listen-address=127.0.0.1:{port}",
             f"--persistence.file={workdir / 'pushgateway.data'}"],
            workdir / "pushgateway.log",
        )  # fmt: skip

    def ready(self) -> bool:
        return http_answers(f"{self.endpoint}/-/ready")
