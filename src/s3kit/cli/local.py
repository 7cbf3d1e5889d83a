"""`s3kit local start|stop|status`: the embedded SeaweedFS server."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from s3kit._local_server import LocalServer
from s3kit.cli.format import human_size

app = typer.Typer(help="Manage the embedded local SeaweedFS server.", no_args_is_help=True)

DataDir = Annotated[
    Path | None,
    typer.Option(
        "--dir",
        envvar="S3KIT_LOCAL_DIR",
        help="Data folder (default: the user data dir, e.g. ~/.local/share/s3kit/local).",
    ),
]


@app.command()
def start(data_dir: DataDir = None) -> None:
    """Start the server (if it is not running) and print its endpoint.

    Example: s3kit local start
    """
    server = LocalServer(data_dir)
    state, started = server.start()
    verb = "started" if started else "already running"
    sys.stdout.write(
        f"local SeaweedFS {verb} at {state.endpoint} (pid {state.pid}, data in"
        f" {state.data_dir})\nstop it with: s3kit local stop\n"
    )


@app.command()
def stop(data_dir: DataDir = None) -> None:
    """Stop the server.

    Example: s3kit local stop
    """
    stopped = LocalServer(data_dir).stop()
    sys.stdout.write("local server stopped\n" if stopped else "local server was not running\n")


@app.command()
def status(
    data_dir: DataDir = None,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show whether the server runs, its endpoint, data folder and size.

    Example: s3kit local status
    """
    info = LocalServer(data_dir).status()
    if json_out:
        sys.stdout.write(
            json.dumps(
                {
                    "running": info.running,
                    "endpoint": info.endpoint,
                    "pid": info.pid,
                    "data_dir": str(info.data_dir),
                    "size_bytes": info.size_bytes,
                },
                indent=2,
            )
            + "\n"
        )
        return
    sys.stdout.write(
        f"Status:   {'running' if info.running else 'stopped'}\n"
        f"Endpoint: {info.endpoint or '-'}\n"
        f"PID:      {info.pid or '-'}\n"
        f"Data dir: {info.data_dir}\n"
        f"Size:     {human_size(info.size_bytes)}\n"
    )
