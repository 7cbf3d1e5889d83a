"""Help in one style, over the whole command tree: every option's metavar says what to type,
defaults are written one way (typer's `[default: X]`, never by hand in the help text), and the
command lists show each summary whole."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer.main

from s3kit.cli.app import app

# Words typer prints for Python types (`<str>`, `<list[str]>`, `<int range>`, `<path>`).
TYPE_WORDS = re.compile(r"\b(str|int|float|bool|list|dict|tuple|path|Path|range|None|datetime)\b")
S3KIT = str(Path(sys.executable).with_name("s3kit"))


def _tree() -> Iterator[tuple[list[str], Any, Any]]:
    """(path, click command, its context) for every command and group under `s3kit`."""
    root = typer.main.get_command(app)

    def walk(command: Any, path: list[str], parent: Any) -> Iterator[tuple[list[str], Any, Any]]:
        ctx = command.context_class(command, info_name=path[-1] if path else "s3kit", parent=parent)
        yield path, command, ctx
        for name, sub in getattr(command, "commands", {}).items():
            yield from walk(sub, [*path, name], ctx)

    yield from walk(root, [], None)


def _options() -> Iterator[tuple[str, Any, Any]]:
    for path, command, ctx in _tree():
        for param in command.params:
            if param.param_type_name == "option" and not param.hidden:
                yield " ".join(["s3kit", *path, param.opts[0]]), param, ctx


def test_the_tree_is_walked() -> None:
    names = {where for where, _, _ in _options()}
    assert {"s3kit cp --include", "s3kit bucket lifecycle set --transition"} <= names
    assert len(names) > 250


def test_every_option_metavar_says_what_to_type() -> None:
    wrong = []
    for where, option, ctx in _options():
        if option.is_flag or option.count:
            continue
        shown = option.get_help_record(ctx)[0]  # "-f, --file FILE"
        metavar = option.metavar
        if (
            metavar is None
            or "[" in metavar
            or "<" in metavar
            or "<" in shown
            or TYPE_WORDS.search(metavar)
        ):
            wrong.append(f"{where}: {shown}")
    assert wrong == []


def test_defaults_are_written_one_way() -> None:
    # typer writes `[default: X]` after the help; a hand-written "(default ...)" is a second
    # style, and goes stale when the default changes.
    wrong = []
    for path, command, _ in _tree():
        for param in command.params:
            text = getattr(param, "help", None) or ""
            if re.search(r"\(default\b|\bdefault:|\bthe default\b|by default", text, re.I):
                wrong.append(f"s3kit {' '.join(path)} {param.name}: {text}")
    assert wrong == []


def _groups() -> list[list[str]]:
    return [path for path, command, _ in _tree() if hasattr(command, "commands")]


@pytest.mark.parametrize("path", _groups(), ids=lambda path: " ".join(["s3kit", *path]))
def test_command_lists_show_whole_summaries(path: list[str]) -> None:
    # The real command in a wide terminal (click's own test runner forces another width).
    process = subprocess.run(
        [S3KIT, *path, "--help"],
        env={**os.environ, "COLUMNS": "200"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert process.returncode == 0, process.stderr
    listing = process.stdout.split("\nCommands:\n", 1)[1]
    cut = [line for line in listing.splitlines() if line.endswith("...") or "…" in line]
    assert cut == []
