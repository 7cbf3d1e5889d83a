"""The `s3kit` command's root: its global options, its commands and the error boundary.

Exit codes: 0 success, 1 a failed operation, 2 a usage error. Every error is one line on
stderr; a traceback (redacted) appears only with --debug. The commands are known by name
(cli/command_table.py) and imported only when run, so this module imports none of them, and
nothing that only some command needs: no boto3, asyncio, rich or yaml. The console script's
entry point, with its `--version` short cut, is `s3kit.cli.app:main`.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from s3kit import __version__
from s3kit._observe import redact
from s3kit.cli import completion
from s3kit.cli.app import EXIT_OUTPUT_CLOSED
from s3kit.cli.command_table import COMMANDS, LazyGroup, resolve_annotations
from s3kit.cli.global_config import load_global_config, setup_logging
from s3kit.cli.progress import kept_lines, start_command
from s3kit.cli.state import hoist_global_options, set_raw_args, state_of
from s3kit.errors import S3KitError

try:  # recent typer releases carry their own copy of click and raise its exceptions
    from typer._click import exceptions as click_errors
except ImportError:  # older typer raises click's own (click is then a dependency of typer)
    from click import exceptions as click_errors  # type: ignore[no-redef]


def _debug_requested(argv: list[str]) -> bool:
    return "--debug" in argv or os.environ.get("S3KIT_DEBUG", "") in ("1", "true")


def _fail(message: str) -> None:
    sys.stderr.write(f"s3kit: error: {redact(message).splitlines()[0] if message else ''}\n")


class _OutputGone(Exception):
    """A BrokenPipeError on its way out of a command, no longer an OSError: typer's own EPIPE
    handling (exit 1, output wrappers) must not get to it before `S3KitGroup.main`."""


def _end_quietly() -> None:
    # Python's recommended pattern: point stdout at /dev/null so that the interpreter's last
    # flush of what is still buffered cannot fail a second time, then leave without a word.
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    sys.exit(EXIT_OUTPUT_CLOSED)


class _Interrupted(BaseException):
    """Ctrl-C on its way out of a command, no longer a KeyboardInterrupt: typer would turn
    that into a silent exit 130 before `S3KitGroup.main` could say what was kept."""


def _say_interrupted() -> None:
    # What the interrupted transfers kept for the next run, else the bare fact.
    for line in kept_lines() or ["s3kit: interrupted"]:
        sys.stderr.write(line + "\n")


def _traceback() -> str:
    import traceback  # with linecache and tokenize, ~10 ms: only --debug shows one

    return traceback.format_exc()


class S3KitGroup(LazyGroup):
    """Turns every exception into one line on stderr and the right exit code."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except BrokenPipeError as exc:  # `OutputClosed` from the library is one too
            raise _OutputGone() from exc
        except KeyboardInterrupt as exc:
            raise _Interrupted() from exc

    def main(  # type: ignore[override]
        self,
        args: list[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        typed = sys.argv[1:] if args is None else list(args)
        completion.use_s3kit_shells()
        if not standalone_mode:
            argv = hoist_global_options(self, typed)
            return super().main(argv, prog_name, complete_var, False, **extra)
        try:
            argv = hoist_global_options(self, typed)
        except S3KitError as exc:
            _fail(exc.message)
            sys.exit(exc.exit_code)
        try:
            self._run(argv, prog_name, complete_var, **extra)
        except SystemExit as exc:
            # The run's reports (--stats, --metrics-file, ...) come after it, whatever its end;
            # one that cannot be written fails a run that had succeeded.
            from s3kit.cli.reports import report_run

            if not report_run() and exc.code in (0, None):
                raise SystemExit(1) from None
            raise

    def _run(self, argv: list[str], prog_name: str | None, complete_var: str | None,
             **extra: Any) -> None:  # fmt: skip
        debug = _debug_requested(argv)
        set_raw_args(argv)
        start_command()
        try:
            code = super().main(argv, prog_name or "s3kit", complete_var, False, **extra)
        except typer.Exit as exc:
            sys.exit(exc.exit_code)
        except (_OutputGone, BrokenPipeError):
            # The reader of our stdout went away (`s3kit ls ... | head -1`): not an error.
            _end_quietly()
        except typer.Abort:
            sys.stderr.write("s3kit: aborted\n")
            sys.exit(1)
        except click_errors.NoArgsIsHelpError as exc:
            sys.stderr.write(exc.format_message() + "\n")
            sys.exit(2)
        except click_errors.UsageError as exc:
            hint = f" (see `{exc.ctx.command_path} --help`)" if exc.ctx is not None else ""
            _fail(exc.format_message() + hint)
            sys.exit(2)
        except click_errors.ClickException as exc:
            _fail(exc.format_message())
            sys.exit(exc.exit_code)
        except S3KitError as exc:
            if debug:
                sys.stderr.write(redact(_traceback()))
            _fail(exc.message)
            sys.exit(exc.exit_code)
        except (_Interrupted, KeyboardInterrupt):
            _say_interrupted()
            sys.exit(130)
        except Exception as exc:
            if debug:
                sys.stderr.write(redact(_traceback()))
            _fail(f"unexpected {type(exc).__name__}: {exc} (run with --debug for details)")
            sys.exit(1)
        # Without standalone mode an Exit raised inside a command (sync's questions end with
        # Exit(130) on Ctrl-C) comes back as its exit code instead of being raised.
        sys.exit(code if isinstance(code, int) else 0)


class S3KitRoot(S3KitGroup):
    """The `s3kit` group itself: S3KitGroup with every s3kit command, each loaded on use."""

    table = COMMANDS


app = typer.Typer(
    cls=S3KitRoot,
    name="s3kit",
    help="One tool for Amazon S3 and S3-compatible stores. With nothing configured, commands"
    " use a local SeaweedFS server that s3kit starts itself. The options below may also be"
    " given after the command (s3kit ls s3://b --profile work).",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        sys.stdout.write(f"s3kit {__version__}\n")
        raise typer.Exit(0)


@app.callback()
def root(
    ctx: typer.Context,
    profile: Annotated[
        str | None,
        typer.Option("--profile", metavar="NAME", help="AWS profile from ~/.aws/config."),
    ] = None,
    endpoint_url: Annotated[
        str | None,
        typer.Option(
            "--endpoint-url", metavar="URL", help="S3 endpoint, e.g. http://127.0.0.1:8333."
        ),
    ] = None,
    region: Annotated[
        str | None, typer.Option("--region", metavar="REGION", help="Region name.")
    ] = None,
    connection: Annotated[
        str | None,
        typer.Option(
            "--connection",
            metavar="NAME",
            envvar="S3KIT_CONNECTION",
            help="Saved connection (see `s3kit connections`); explicit flags still win.",
        ),
    ] = None,
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            metavar="FILE",
            envvar="S3KIT_CONFIG",
            help="Config file (s3kit.yaml).",
            show_default="./s3kit.yaml, then the one in the user config dir",
        ),
    ] = None,
    use_local: Annotated[
        bool,
        typer.Option("--local", help="Use the embedded local server, whatever else is set."),
    ] = False,
    debug: Annotated[
        bool,
        typer.Option("--debug", help="Debug logging (every request) and tracebacks, redacted."),
    ] = False,
    no_verify_ssl: Annotated[
        bool,
        typer.Option(
            "--no-verify-ssl",
            help="Accept any TLS certificate (a test endpoint); prefer --ca-bundle.",
        ),
    ] = False,
    ca_bundle: Annotated[
        str | None,
        typer.Option(
            "--ca-bundle",
            metavar="FILE",
            help="PEM file of CA certificates to trust (also AWS_CA_BUNDLE).",
        ),
    ] = None,
    log_level: Annotated[
        str | None,
        typer.Option(
            "--log-level",
            metavar="LEVEL",
            envvar="S3KIT_LOG_LEVEL",
            help="debug, info, warning or error; info logs failed and retried requests, debug"
            " every request.",
            show_default="warning",
        ),
    ] = None,
    log_format: Annotated[
        str | None,
        typer.Option(
            "--log-format",
            metavar="FORMAT",
            envvar="S3KIT_LOG_FORMAT",
            help="text or json (one object a line).",
            show_default="text",
        ),
    ] = None,
    stats: Annotated[
        bool,
        typer.Option("--stats", help="Print request counts, success rate and latency at the end."),
    ] = False,
    stats_json: Annotated[
        Path | None,
        typer.Option("--stats-json", metavar="FILE", help="Write the --stats figures as JSON."),
    ] = None,
    metrics_file: Annotated[
        Path | None,
        typer.Option(
            "--metrics-file",
            metavar="FILE",
            help="Write the metrics in Prometheus' text format (node_exporter textfile).",
        ),
    ] = None,
    metrics_push: Annotated[
        str | None,
        typer.Option("--metrics-push", metavar="URL", help="Push the metrics to a Pushgateway."),
    ] = None,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    state = state_of(ctx)
    state.take_globals(ctx.params)
    setup_logging(state, log_level, log_format)
    load_global_config(
        state,
        connection=connection,
        config=config,
        managing_connections=ctx.invoked_subcommand == "connections",
    )


resolve_annotations(app)  # typer would evaluate the root's fifteen options' text again and again
