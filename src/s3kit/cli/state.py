"""The per-invocation state of the CLI: global options, and the Session built from them."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from s3kit._uri import Location, S3Url, parse_location, parse_s3_url, validate_bucket_name
from s3kit.errors import UsageError

if TYPE_CHECKING:  # the Session and what it builds load when a command first needs them
    import typer

    from s3kit._config.file import S3KitConfig
    from s3kit._observe import RedactingFilter
    from s3kit._session import Session
    from s3kit.metrics import Metrics
    from s3kit.storage.s3 import S3Storage

# The command line as typed: click hands options over grouped by name, but --include and
# --exclude are applied in the order they were typed, as aws s3 does.
_RAW_ARGS: ContextVar[tuple[str, ...]] = ContextVar("s3kit_raw_args", default=())


def set_raw_args(args: Sequence[str]) -> None:
    _RAW_ARGS.set(tuple(args))


def raw_args() -> tuple[str, ...]:
    return _RAW_ARGS.get()


# The root callback's options (by parameter name) that may also be typed after the command,
# as aws-cli and rclone allow: `s3kit ls s3://b --profile x`. --version and shell completion
# stay where click expects them.
MOVABLE_GLOBALS = frozenset(
    {"profile", "endpoint_url", "region", "connection", "config", "use_local", "debug",
     "no_verify_ssl", "ca_bundle", "log_level", "log_format", "stats", "stats_json",
     "metrics_file", "metrics_push"}
)  # fmt: skip


def hoist_global_options(root: Any, args: Sequence[str]) -> list[str]:
    """`args` with the global options typed after the command name moved in front of it, so
    click (which takes a group's options only before its sub-command) sees them where it
    expects them. `root` is the click group of the `s3kit` command.

    The walk follows the command tree as click will: a command's own options keep their values
    (`--cache-control --debug` sets Cache-Control to "--debug"), an option of a command named
    like a global stays that command's (`mb --region`), nothing after `--` moves, and every
    other word keeps its place, so --include/--exclude keep their order. A global's value is
    the next word whatever it looks like, as click takes it. A global given twice with two
    values is refused rather than decided by word order: which account or endpoint a command
    reaches must not hang on where an alias put its options. `-h` inside a cluster of short
    flags (`ls -rh`) is refused too: click would print the help and do nothing.
    """
    words = list(args)
    movable = {name: p for name, p in _options(root).items() if p.name in MOVABLE_GLOBALS}
    start = _after_options(root, words, 0)
    moved: list[str] = []
    kept: list[str] = []
    command = root
    at = start
    while at < len(words):
        word = words[at]
        if word == "--":
            kept += words[at:]
            break
        if not _is_option(word):
            if hasattr(command, "commands"):  # a group: this word names its sub-command
                default = getattr(command, "default_command", None)
                if word not in command.commands and default is not None:
                    command = command.commands[default]  # `deploy SITE ...` is `deploy run SITE`
                else:
                    command = command.commands.get(word)
                if command is None:  # click reports the unknown command; nothing is moved
                    return words
            kept.append(word)
            at += 1
            continue
        name, equals, _ = word.partition("=")
        own = _options(command)
        if not word.startswith("--"):
            taken = _short_cluster(command, word)
        elif name in own:
            taken = 0 if equals else _arity(own[name])
        elif name not in movable:  # click reports the unknown option
            taken = 0
        else:
            taken = 0 if equals else _arity(movable[name])
            if taken and (at + taken >= len(words) or "--" in words[at + 1 : at + 1 + taken]):
                raise UsageError(f"{name} needs a value")
            moved += words[at : at + 1 + taken]
            at += 1 + taken
            continue
        kept += words[at : at + 1 + taken]
        at += 1 + taken
    front = words[:start] + moved
    _refuse_two_values(front, movable)
    return front + kept


def _options(command: Any) -> dict[str, Any]:
    """`command`'s options by every name they answer to (`--delete`, `--no-delete`, `-r`)."""
    return {
        name: param
        for param in command.params
        if param.param_type_name == "option"
        for name in (*param.opts, *param.secondary_opts)
    }


def _arity(option: Any) -> int:
    """How many words follow `option`'s name: none for a flag."""
    return 0 if option.is_flag or option.count else int(option.nargs)


def _is_option(word: str) -> bool:
    return word.startswith("-") and len(word) > 1


def _after_options(command: Any, words: list[str], at: int) -> int:
    """The index of the first word at or after `at` that is not an option of `command` or its
    value (the sub-command's name), or len(words)."""
    own = _options(command)
    while at < len(words) and _is_option(words[at]) and words[at] != "--":
        name, equals, _ = words[at].partition("=")
        if words[at].startswith("--"):
            taken = 0 if equals or name not in own else _arity(own[name])
        else:
            taken = _short_cluster(command, words[at])
        at += 1 + taken
    return at if at < len(words) and words[at] != "--" else len(words)


def _short_cluster(command: Any, word: str) -> int:
    """How many words after `word` (`-r`, `-rq`, `-fFILE`, `-f FILE`) are its value."""
    own = _options(command)
    for index, letter in enumerate(word[1:], start=2):
        option = own.get("-" + letter)
        if option is None:
            if letter == "h" and len(word) > 2:
                hint = (
                    "; for sizes in KiB, MiB, GiB use -H (--human-readable)"
                    if "--human-readable" in own
                    else "; give it on its own"
                )
                raise UsageError(f"{word}: -h means --help and cannot be combined with other"
                                 f" flags{hint}")  # fmt: skip
            return 0  # an unknown letter: click reports it
        if _arity(option):
            return 0 if index < len(word) else _arity(option)  # the rest of the word is the value
    return 0


def _refuse_two_values(front: list[str], movable: dict[str, Any]) -> None:
    values: dict[str, str] = {}
    at = 0
    while at < len(front):
        name, equals, value = front[at].partition("=")
        option = movable.get(name)
        if option is None or not _arity(option):
            at += 1
            continue
        if not equals:
            at += 1
            value = front[at] if at < len(front) else ""
        first = values.setdefault(option.name, value)
        if first != value:
            raise UsageError(f"{name} was given twice ({first!r}, then {value!r}): give it once")
        at += 1


# The bucket `s3://` and `s3:///key` stand for on this command line: the active saved
# connection's default bucket, set once the connection is known. The CLI's own, handed to the
# parsers explicitly: no library call ever reads it.
_DEFAULT_BUCKET: ContextVar[str | None] = ContextVar("s3kit_default_bucket", default=None)


def set_default_bucket(name: str | None) -> None:
    _DEFAULT_BUCKET.set(None if name is None else validate_bucket_name(name))


def default_bucket() -> str | None:
    return _DEFAULT_BUCKET.get()


def cli_location(text: str) -> Location:
    """A location typed on the command line (`s3:///key` names the connection's bucket)."""
    return parse_location(text, default_bucket=_DEFAULT_BUCKET.get())


def cli_s3_url(text: str) -> S3Url:
    """An S3 URL typed on the command line (`s3:///key` names the connection's bucket)."""
    return parse_s3_url(text, default_bucket=_DEFAULT_BUCKET.get())


def notice(message: str) -> None:
    """Say something to the person at the terminal, on stderr, without touching stdout."""
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


@dataclass(slots=True)
class CliState:
    profile: str | None = None
    endpoint_url: str | None = None
    region: str | None = None
    use_local: bool = False
    debug: bool = False
    verify_ssl: bool | None = None  # None: as the environment says (S3KIT_NO_VERIFY_SSL)
    ca_bundle: str | None = None
    connection: str | None = None
    config_path: Path | None = None
    log_filter: RedactingFilter | None = None
    # What the run reports about its requests at the end (--stats, --stats-json,
    # --metrics-file, --metrics-push); `metrics` counts them when any of these is asked for.
    reports: Reports = field(default_factory=lambda: Reports())
    metrics: Metrics | None = None
    log_level: str | None = None
    log_format: str | None = None
    log_requests: bool = False  # --log-level info or debug: each session's requests are logged
    _session: Session | None = field(default=None, repr=False)
    _config: S3KitConfig | None = field(default=None, repr=False)

    @property
    def config(self) -> S3KitConfig:
        """The validated s3kit.yaml (S3KitConfig() when there is none): cp, mv and sync read
        their defaults from it. Made when first asked for: with no file, most commands never
        import the config file's module."""
        if self._config is None:
            from s3kit._config.file import S3KitConfig

            self._config = S3KitConfig()
        return self._config

    @config.setter
    def config(self, value: S3KitConfig) -> None:
        self._config = value

    def take_globals(self, params: Mapping[str, Any]) -> None:
        """The global options as click parsed them for the root command (by parameter name):
        the root callback's, and shell completion's, which runs no callback."""
        self.profile, self.endpoint_url = params.get("profile"), params.get("endpoint_url")
        self.region, self.ca_bundle = params.get("region"), params.get("ca_bundle")
        self.use_local, self.debug = bool(params.get("use_local")), bool(params.get("debug"))
        self.verify_ssl = False if params.get("no_verify_ssl") else None
        self.log_level, self.log_format = params.get("log_level"), params.get("log_format")
        self.reports = Reports(
            table=bool(params.get("stats")),
            json_file=params.get("stats_json"),
            prometheus_file=params.get("metrics_file"),
            push_url=params.get("metrics_push"),
        )
        if self.reports.wanted and self.metrics is None:
            from s3kit.metrics import Metrics

            self.metrics = Metrics()
        _CURRENT.set(self)

    @property
    def session(self) -> Session:
        if self._session is None:
            self._session = self.make_session()
        return self._session

    def make_session(self, **overrides: Any) -> Session:
        """A new Session from the global options; `overrides` are further Session arguments
        (shell completion's short timeouts, its silence, its server that never starts)."""
        arguments: dict[str, Any] = {
            "profile": self.profile,
            "endpoint_url": self.endpoint_url,
            "region": self.region,
            "use_local": True if self.use_local else None,
            "verify_ssl": self.verify_ssl,
            "ca_bundle": self.ca_bundle,
            "env": self.session_env(),
            "notify": notice,
        }
        from s3kit._session import Session

        session = Session(**{**arguments, **overrides})
        if self.metrics is not None:
            self.metrics.watch(session)
        if self.log_requests:
            from s3kit._observe import log_request

            session.events.subscribe(log_request)
        return session

    def session_env(self) -> dict[str, str] | None:
        """The environment the Session resolves from: --connection and the config file found
        here reach `resolve_settings` as S3KIT_CONNECTION and S3KIT_CONFIG, so they take the
        same place in the resolution order as for a library user who sets those variables."""
        if self.connection is None and self.config_path is None:
            return None
        env = dict(os.environ)
        if self.connection is not None:
            env["S3KIT_CONNECTION"] = self.connection
        if self.config_path is not None:
            env["S3KIT_CONFIG"] = str(self.config_path)
        return env

    def storage(self, bucket: str) -> S3Storage:
        return self.session.storage(bucket)

    def register_secrets(self) -> None:
        """Give the log redaction filter the literal secrets once they are known."""
        if self.log_filter is not None and self._session is not None:
            for secret in self._session.secrets():
                self.log_filter.add_secret(secret)


@dataclass(frozen=True, slots=True)
class Reports:
    """The end-of-run reports asked for on the command line."""

    table: bool = False  # --stats: a table on stderr
    json_file: Path | None = None  # --stats-json FILE
    prometheus_file: Path | None = None  # --metrics-file FILE (textfile collector)
    push_url: str | None = None  # --metrics-push URL (a Pushgateway)

    @property
    def wanted(self) -> bool:
        return bool(self.table or self.json_file or self.prometheus_file or self.push_url)


_CURRENT: ContextVar[CliState | None] = ContextVar("s3kit_cli_state", default=None)


def current_state() -> CliState | None:
    """The state of the command being run (for what happens after it: the reports)."""
    return _CURRENT.get()


def state_of(ctx: typer.Context) -> CliState:
    root = ctx.find_root()
    if not isinstance(root.obj, CliState):
        root.obj = CliState()
    return root.obj
