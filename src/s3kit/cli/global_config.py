"""What the root's global options set up before any command runs: stderr logging
(`setup_logging`) and the configuration (`load_global_config`: --connection and s3kit.yaml).

Every command pays for this, so it reads only what is there: with no saved connection named and
no s3kit.yaml found (a stat of each place one may be), nothing is parsed and neither the
config-file parser nor the connections' reader is imported.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import typer

from s3kit._observe import RedactingFilter, redact
from s3kit.cli.state import CliState, set_default_bucket
from s3kit.errors import UsageError

LOG_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING,
              "error": logging.ERROR}  # fmt: skip


def setup_logging(state: CliState, level: str | None, fmt: str | None) -> None:
    """stderr logging, redacted: `--log-level` (default warning; `--debug` is debug),
    `--log-format text|json`. At info and below every failed or retried request is one record,
    at debug every request (`_observe.log_request`)."""
    name = (level or ("debug" if state.debug else "warning")).lower()
    if name not in LOG_LEVELS:
        raise UsageError(f"--log-level must be one of {', '.join(LOG_LEVELS)}, not '{level}'")
    if (fmt or "text") not in ("text", "json"):
        raise UsageError(f"--log-format must be text or json, not '{fmt}'")
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        from s3kit._observe import JsonFormatter

        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("s3kit: %(levelname)s %(name)s: %(message)s"))
    state.log_filter = RedactingFilter()
    handler.addFilter(state.log_filter)
    for logger_name in ("s3kit", "botocore", "urllib3"):
        log = logging.getLogger(logger_name)
        log.handlers = [handler]
        log.propagate = False
    logging.getLogger("s3kit").setLevel(LOG_LEVELS[name])
    state.log_requests = LOG_LEVELS[name] <= logging.INFO
    # botocore at DEBUG would dump request headers; INFO shows retries and endpoints only.
    logging.getLogger("botocore").setLevel(logging.INFO if state.debug else logging.ERROR)


def load_global_config(
    state: CliState,
    *,
    connection: str | None,
    config: Path | None,
    managing_connections: bool = False,
) -> None:
    """Check --connection/S3KIT_CONNECTION and find, validate and keep the config file.

    Done before any command runs, so a missing connection or a broken s3kit.yaml stops every
    command with exit code 2 rather than only those that reach the server — except that the
    `connections` commands (`managing_connections`) still run when s3kit.yaml names a
    connection not saved yet: they are how it gets saved.
    """
    from s3kit._config.locations import find_config_file  # with the settings: not for --help

    set_default_bucket(None)  # this run's connection decides, not an earlier one's
    if connection is not None:
        from s3kit._config.connections import ConnectionStore, validate_name

        set_default_bucket(ConnectionStore().get(validate_name(connection)).bucket)
        state.connection = connection
    path = find_config_file(config, env={})
    if path is None:
        return
    from s3kit._config.file import ConfigFileError, load_config

    try:
        state.config = load_config(path)
    except ConfigFileError as exc:
        for line in exc.problems:
            sys.stderr.write(f"s3kit: error: {redact(line)}\n")
        raise typer.Exit(2) from None
    state.config_path = path
    log = state.config.log  # below --log-level/--log-format, S3KIT_LOG_* and --debug
    if (log.level and state.log_level is None and not state.debug) or (
        log.format and state.log_format is None
    ):
        level = state.log_level or (None if state.debug else log.level)
        setup_logging(state, level, state.log_format or log.format)
    named = state.config.aws.connection
    if named is not None and connection is None:
        from s3kit._config.connections import ConnectionStore

        try:
            set_default_bucket(ConnectionStore().get(named).bucket)
        except UsageError as exc:
            if not managing_connections:
                raise UsageError(f"{path}: aws.connection: {exc.message}") from None
