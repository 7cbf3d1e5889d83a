"""`s3kit sync` with no arguments on a terminal: ask what to sync, show the plan, confirm.

The questions are a pure sequence (`ask_sync`) over two injected functions, one that asks and
one that says, so they are tested with scripted answers. The answers become an ordinary SOURCE,
DESTINATION and flags, handed to the same library call (through `cli.sync.run_one_way`, which
prints) the arguments would have reached: this module must never plan, compare or transfer
anything itself. Prompts go to stderr; stdout keeps
what `sync` prints.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import typer

from s3kit.errors import S3KitError, UsageError

Ask = Callable[[str], str]
Say = Callable[[str], None]
Direction = Literal["upload", "download"]


@dataclass(frozen=True, slots=True)
class Target:
    """Where the requests go: the current settings, a saved connection or an AWS profile."""

    kind: Literal["current", "connection", "profile"]
    name: str | None = None
    bucket: str | None = None  # a connection's default bucket: Enter picks it

    def label(self) -> str:
        if self.kind == "current":
            return "current settings"
        return f"{self.kind} {self.name}"


@dataclass(frozen=True, slots=True)
class SyncAnswers:
    target: Target
    direction: Direction
    local: Path
    bucket: str
    prefix: str
    delete: bool
    dry_run_first: bool

    @property
    def remote(self) -> str:
        return f"s3://{self.bucket}/{self.prefix.lstrip('/')}"

    @property
    def source(self) -> str:
        return str(self.local) if self.direction == "upload" else self.remote

    @property
    def destination(self) -> str:
        return self.remote if self.direction == "upload" else str(self.local)

    def command_line(self) -> str:
        """The equivalent non-interactive command, so it can be repeated or scripted."""
        import shlex

        parts = ["s3kit"]
        if self.target.kind != "current" and self.target.name is not None:
            parts += [f"--{self.target.kind}", self.target.name]
        parts += ["sync", self.source, self.destination]
        if self.delete:
            parts.append("--delete")
        return shlex.join(parts)


def _choose(ask: Ask, say: Say, title: str, options: Sequence[str], *, default: int) -> int:
    """A numbered menu; Enter takes `default` (1-based). Returns the 0-based index."""
    say(title)
    for number, option in enumerate(options, start=1):
        say(f"  {number}) {option}")
    while True:
        answer = ask(f"Choose 1-{len(options)} [{default}]: ").strip()
        if not answer:
            return default - 1
        if answer.isdigit() and 1 <= int(answer) <= len(options):
            return int(answer) - 1
        say(f"Please type a number from 1 to {len(options)}.")


def _yes_no(ask: Ask, say: Say, question: str, *, default: bool) -> bool:
    hint = "[Y/n]" if default else "[y/N]"
    while True:
        answer = ask(f"{question} {hint} ").strip().lower()
        if not answer:
            return default
        if answer in ("y", "yes"):
            return True
        if answer in ("n", "no"):
            return False
        say("Please answer y or n.")


def _local_path(ask: Ask, say: Say, direction: Direction) -> Path:
    question = "Local folder to upload: " if direction == "upload" else "Local folder to fill: "
    while True:
        text = ask(question).strip()
        if not text:
            say("Please type a path.")
            continue
        path = Path(text).expanduser()
        if direction == "upload" and not path.is_dir():
            say(f"{path} is not an existing folder.")
            continue
        if direction == "download" and path.exists() and not path.is_dir():
            say(f"{path} exists and is not a folder.")
            continue
        return path


def _bucket(ask: Ask, say: Say, buckets: Sequence[str] | str, default: str | None = None) -> str:
    """Pick from `buckets`, or type a name; a str is the reason the listing failed. Enter
    takes `default` when there is one."""
    if isinstance(buckets, str):
        say(f"Cannot list buckets ({buckets}).")
    elif buckets:
        say("Buckets:")
        for number, name in enumerate(buckets, start=1):
            say(f"  {number}) {name}")
    else:
        say("No buckets found.")
    listed = buckets if not isinstance(buckets, str) else ()
    question = "Bucket (number or name)" if listed else "Bucket name"
    question += f" [{default}]: " if default else ": "
    while True:
        answer = ask(question).strip() or (default or "")
        if answer.isdigit() and 1 <= int(answer) <= len(listed):
            return listed[int(answer) - 1]
        name = answer.removeprefix("s3://").strip("/")
        if name and "/" not in name and not name.isdigit():
            return name
        say("Please type a bucket name" + (" or a number from the list." if listed else "."))


def ask_sync(
    ask: Ask,
    say: Say,
    *,
    targets: Sequence[Target],
    list_buckets: Callable[[Target], Sequence[str]],
) -> SyncAnswers:
    """The question sequence. `ask` raises EOFError or KeyboardInterrupt to stop; so may
    `list_buckets` raise S3KitError, which becomes a typed bucket name instead."""
    target = targets[0]
    if len(targets) > 1:
        target = targets[
            _choose(ask, say, "Connect with:", [t.label() for t in targets], default=1)
        ]
    direction: Direction = ("upload", "download")[
        _choose(ask, say, "Direction:", ["upload  local → S3", "download  S3 → local"], default=1)
    ]
    local = _local_path(ask, say, direction)
    try:
        buckets: Sequence[str] | str = list_buckets(target)
    except S3KitError as exc:
        buckets = exc.message
    bucket = _bucket(ask, say, buckets, target.bucket)
    prefix = ask("Prefix inside the bucket (Enter for the whole bucket): ").strip().lstrip("/")
    side = "the bucket" if direction == "upload" else "the local folder"
    question = f"Delete files in {side} that the source does not have?"
    delete = _yes_no(ask, say, question, default=False)
    dry_run_first = _yes_no(ask, say, "Show what would change first (dry run)?", default=True)
    return SyncAnswers(target, direction, local, bucket, prefix, delete, dry_run_first)


# -- the terminal ------------------------------------------------------------------------------


def terminal_ask(prompt: str) -> str:
    """Ask on stderr, read a line from stdin; end of input is EOFError, as `input()` has it."""
    sys.stderr.write(prompt)
    sys.stderr.flush()
    line = sys.stdin.readline()
    if not line:
        raise EOFError
    return line.rstrip("\r\n")


def terminal_say(line: str) -> None:
    sys.stderr.write(line + "\n")
    sys.stderr.flush()


def available_targets(env: dict[str, str] | None = None) -> list[Target]:
    """Current settings first, then saved connections, then AWS profiles."""
    from s3kit._config import AwsFiles
    from s3kit._config.connections import ConnectionStore
    from s3kit.cli.state import default_bucket

    targets = [Target("current", bucket=default_bucket())]
    targets += [Target("connection", c.name, c.bucket) for c in ConnectionStore()]
    profiles = AwsFiles.from_env(dict(os.environ) if env is None else env).profile_names()
    targets += [Target("profile", name) for name in profiles]
    return targets


def run_interactive(
    ctx: typer.Context,
    library: Mapping[str, Any],
    display: Mapping[str, bool],
    *,
    source: str | None = None,
    destination: str | None = None,
    ask: Ask = terminal_ask,
    say: Say = terminal_say,
    terminal: Callable[[], bool] | None = None,
) -> None:
    """Called by `sync` when SOURCE or DESTINATION is missing, with the library's arguments
    and the display flags the other options on the command line make."""
    from s3kit.cli import sync as sync_command
    from s3kit.cli.state import state_of
    from s3kit.service import S3Service

    if source is not None or destination is not None:
        raise UsageError("sync needs both SOURCE and DESTINATION (or neither, on a terminal)")
    if not (terminal or sync_command._interactive)():
        raise UsageError(
            "sync needs SOURCE and DESTINATION (or run it on a terminal for the interactive mode)"
        )
    state = state_of(ctx)

    def list_buckets(target: Target) -> list[str]:
        # Before the Session is first built, so the choice decides where requests go.
        if target.kind == "connection":
            state.connection, state.profile = target.name, None
        elif target.kind == "profile":
            state.connection, state.profile = None, target.name
        return [info.name for info in S3Service(state.session).list_buckets()]

    try:
        answers = ask_sync(ask, say, targets=available_targets(), list_buckets=list_buckets)
        say(f"\nSame as: {answers.command_line()}")
        chosen = {**library, "delete": answers.delete}
        if answers.dry_run_first:
            sync_command.run_one_way(
                state, answers.source, answers.destination,
                {**chosen, "dryrun": True, "plan_out": None}, **display,
            )  # fmt: skip
        if not _yes_no(ask, say, "Proceed?", default=False):
            say("s3kit: nothing done")
            raise typer.Exit(1)
    except EOFError:
        say("\ns3kit: nothing done")
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        say("\ns3kit: interrupted — nothing done")
        raise typer.Exit(130) from None
    # Deletions were in the plan just shown and confirmed; without the dry run, sync asks.
    yes = display.get("yes", False) or answers.dry_run_first
    sync_command.run_one_way(
        state, answers.source, answers.destination, chosen, **{**display, "yes": yes}
    )
