"""`s3kit local start|stop|status|env`: the embedded SeaweedFS server.

`env` is the one command that prints a secret (the server's secret key): the user asked for
it, to hand the server to aws-cli, rclone or boto3. It goes to standard output only, never to
stderr or a log.
"""

from __future__ import annotations

import shlex
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated

import typer

from s3kit._local_server import LocalServer
from s3kit.cli import output
from s3kit.cli.format import human_size
from s3kit.cli.state import notice

app = typer.Typer(help="Manage the embedded local SeaweedFS server.", no_args_is_help=True)

DataDir = Annotated[
    Path | None,
    typer.Option(
        "--dir",
        metavar="FOLDER",
        envvar="S3KIT_LOCAL_DIR",
        help="Data folder.",
        show_default="the user data dir's, e.g. ~/.local/share/s3kit/local",
    ),
]


@app.command()
def start(
    data_dir: DataDir = None,
    port: Annotated[
        int | None,
        typer.Option(
            "--port",
            min=1,
            max=65535,
            metavar="PORT",
            help="S3 port to listen on, kept for later starts.",
            show_default="the last one, if free",
        ),
    ] = None,
) -> None:
    """Start the server (if it is not running) and print its endpoint.

    Example: s3kit local start --port 8333
    """
    server = LocalServer(data_dir, notify=notice)
    state, started = server.start(port=port)
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
    json_out: output.Json = False,
) -> None:
    """Show whether the server runs, its endpoint, data folder and size.

    Example: s3kit local status
    """
    info = LocalServer(data_dir).status()
    if json_out:
        output.emit(
            {
                "running": info.running,
                "endpoint": info.endpoint,
                "pid": info.pid,
                "data_dir": str(info.data_dir),
                "size_bytes": info.size_bytes,
            }
        )
        return
    sys.stdout.write(
        f"Status:   {'running' if info.running else 'stopped'}\n"
        f"Endpoint: {info.endpoint or '-'}\n"
        f"PID:      {info.pid or '-'}\n"
        f"Data dir: {info.data_dir}\n"
        f"Size:     {human_size(info.size_bytes)}\n"
    )


def shell_exports(variables: Mapping[str, str]) -> str:
    """`export NAME=VALUE` lines, each value quoted for sh."""
    return "".join(f"export {name}={shlex.quote(value)}\n" for name, value in variables.items())


@app.command()
def env(
    data_dir: DataDir = None,
    json_out: output.Json = False,
) -> None:
    """Print the server's endpoint, keys and region as AWS_* exports.

    The secret key too.

    For aws-cli, rclone and boto3: AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY
    and AWS_REGION, quoted for sh. Starts the server if it is not running.

    Example: eval "$(s3kit local env)"
    """
    state, started = LocalServer(data_dir, notify=notice).start()
    if started:
        notice(f"s3kit: started the local SeaweedFS server at {state.endpoint}")
    variables = state.client_environment()
    if json_out:
        output.emit(variables)
    else:
        sys.stdout.write(shell_exports(variables))
