"""The `s3kit` console script (`s3kit.cli.app:main`) and, by name, the root command's objects.

`s3kit --version` is answered here, before typer or any command is imported: the fastest
answer, and the one most often asked by scripts and installers. Everything else runs the root
group of cli/root.py. `from s3kit.cli.app import app` (and S3KitGroup, ...) keeps working for
tests and callers: such names are looked up in cli/root.py when first asked for.
"""

from __future__ import annotations

import os
import sys

TYPE_CHECKING = False  # typing's, without importing typing: `s3kit --version` needs none of it
if TYPE_CHECKING:
    from typing import Any

# 128 + SIGPIPE: what a shell reports for `ls | head` and for rclone (Go programs die of the
# signal), so a `set -o pipefail` script sees s3kit end as it sees every other Unix tool.
EXIT_OUTPUT_CLOSED = 141


def _answer_version(argv: list[str]) -> bool:
    """`s3kit --version` on its own, outside shell completion: what the root's eager
    --version option would print, without building the command."""
    if argv != ["--version"] or os.environ.get("_S3KIT_COMPLETE"):
        return False
    from s3kit._version import __version__

    sys.stdout.write(f"s3kit {__version__}\n")
    return True


def main() -> None:
    code = 0 if _answer_version(sys.argv[1:]) else _run()
    # Leave without interpreter finalisation: it would join the request threads' pools and
    # tear down every module, costing time after the work has succeeded. Everything worth
    # keeping is flushed first.
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BrokenPipeError:  # the reader left before the last buffered lines went out
            code = code or EXIT_OUTPUT_CLOSED
        except (OSError, ValueError):
            code = code or 1
    logging = sys.modules.get("logging")  # only a run that logged has handlers to flush
    if logging is not None:
        logging.shutdown()
    os._exit(code)


def _run() -> int:
    if os.environ.get("_S3KIT_COMPLETE", "").startswith("complete_"):
        # The shell asked for completions: anything on stderr would land on the command line
        # being typed. (completion.py prints nothing; this also covers what it cannot catch.)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stderr.fileno())
        os.close(devnull)
    try:
        _root().app(prog_name="s3kit")
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    return 0


def _root() -> Any:
    from s3kit.cli import root

    return root


def __getattr__(name: str) -> Any:
    # Not for the import system's own questions (`from s3kit.cli.app import main` asks for
    # `__path__`): those must not import the root.
    if not name.startswith("__"):
        try:
            return getattr(_root(), name)
        except AttributeError:
            pass
    raise AttributeError(f"module 's3kit.cli.app' has no attribute '{name}'")
