"""Global options typed after the command (`s3kit ls s3://b --profile x`), and `-h` in a cluster
of short flags: how the command line is rearranged before click parses it, and what each
command then sees. No server: the state is captured the moment a command asks for its Session.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import typer
import typer.main
from typer.testing import CliRunner

from s3kit._config.connections import ConnectionStore, make_connection
from s3kit._session import Session
from s3kit.cli.app import app
from s3kit.cli.state import CliState, Reports, hoist_global_options
from s3kit.errors import S3KitError, UsageError
from tests.conftest import S3kitCliRunner

ROOT: Any = typer.main.get_command(app)

# Every option of the root callback a user may type after the command, with a value for it.
GLOBALS: dict[str, str | None] = {
    "--profile": "work",
    "--endpoint-url": "http://127.0.0.1:9",
    "--region": "eu-west-3",
    "--connection": "saved",
    "--config": "PLACEHOLDER",  # filled in by the `globals_` fixture (a real file)
    "--local": None,
    "--debug": None,
    "--no-verify-ssl": None,
    "--ca-bundle": "/etc/ssl/certs/ca.pem",
    "--log-level": "info",
    "--log-format": "json",
    "--stats": None,
    "--stats-json": "PLACEHOLDER",  # a file in the test's folder (the `globals_` fixture)
    "--metrics-file": "PLACEHOLDER",
    "--metrics-push": "http://127.0.0.1:9",
}
# Commands that define an option of a global's name themselves: there it is theirs.
OWN_OPTIONS = {
    ("mb",): {"--region"},
    ("probe",): {"--endpoint-url"},
    ("bucket", "create"): {"--region"},
    ("connections", "add"): {"--endpoint-url", "--region", "--profile"},
    ("connections", "edit"): {"--endpoint-url", "--region", "--profile"},
}


def _command_paths(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    commands = getattr(command, "commands", None)
    if commands is None:
        yield path
        return
    for name, sub in commands.items():
        yield from _command_paths(sub, (*path, name))


def _words(option: str, value: str | None) -> list[str]:
    return [option] if value is None else [option, value]


# -- the rearrangement, over every command -------------------------------------------------------


def test_the_root_options_are_the_ones_moved() -> None:
    """A new root option must be added to GLOBALS (and so be movable) or be refused here."""
    names = {name for param in ROOT.params for name in param.opts}
    assert names - set(GLOBALS) == {"--version", "--install-completion", "--show-completion"}


def test_only_the_listed_commands_have_an_option_named_like_a_global() -> None:
    found: dict[tuple[str, ...], set[str]] = {}
    for path in _command_paths(ROOT):
        command = ROOT
        for name in path:
            command = command.commands[name]
        names = {n for p in command.params for n in (*getattr(p, "opts", ()),)}
        if clash := names & set(GLOBALS):
            found[path] = clash
    assert found == OWN_OPTIONS


@pytest.mark.parametrize("path", sorted(_command_paths(ROOT)), ids=" ".join)
def test_every_global_after_every_command_moves_in_front(path: tuple[str, ...]) -> None:
    for option, value in GLOBALS.items():
        typed = [*path, "ARG", *_words(option, value)]
        if option in OWN_OPTIONS.get(path, set()):
            assert hoist_global_options(ROOT, typed) == typed
        else:
            assert hoist_global_options(ROOT, typed) == [*_words(option, value), *path, "ARG"]


def test_the_equals_form_moves_as_one_word() -> None:
    typed = ["ls", "s3://b", "--profile=work", "--region=eu-west-3"]
    assert hoist_global_options(ROOT, typed) == ["--profile=work", "--region=eu-west-3", "ls",
                                                 "s3://b"]  # fmt: skip


def test_a_global_between_sub_commands_moves_too() -> None:
    typed = ["bucket", "versioning", "--profile", "work", "get", "s3://b", "--debug"]
    assert hoist_global_options(ROOT, typed) == [
        "--profile", "work", "--debug", "bucket", "versioning", "get", "s3://b",
    ]  # fmt: skip


def test_options_already_in_front_stay_and_come_first() -> None:
    typed = ["--local", "cp", "a", "s3://b/", "--debug", "-r"]
    assert hoist_global_options(ROOT, typed) == ["--local", "--debug", "cp", "a", "s3://b/", "-r"]


def test_a_globals_value_is_the_next_word_whatever_it_looks_like() -> None:
    """As click does for an option typed before the command."""
    typed = ["ls", "s3://b", "--profile", "--odd-name", "--recursive"]
    assert hoist_global_options(ROOT, typed) == ["--profile", "--odd-name", "ls", "s3://b",
                                                 "--recursive"]  # fmt: skip


@pytest.mark.parametrize(
    "typed",
    [
        # the values of the command's own options, though they look like globals
        ["cp", "a", "s3://b/k", "--cache-control", "--debug"],
        ["cp", "a", "s3://b/k", "--metadata=x", "--content-type", "--profile"],
        ["sync", "a", "s3://b", "--exclude", "--local", "--include", "--region"],
        ["bucket", "lifecycle", "set", "s3://b", "-f", "--debug"],
        ["object", "presign-post", "s3://b/k", "--content-length-range", "1", "--debug"],
        # what follows `--` is never an option
        ["cp", "--", "--debug", "s3://b/k"],
        ["cp", "a", "s3://b/k", "--", "--profile", "x"],
        # a command's own option named like a global
        ["mb", "s3://b", "--region", "eu-west-3"],
        ["connections", "add", "n", "--profile", "p", "--endpoint-url", "http://h"],
        # an unknown command: click says so, nothing is moved
        ["nosuch", "--debug"],
    ],
    ids=lambda typed: " ".join(typed),
)
def test_words_that_are_not_global_options_stay_where_they_are(typed: list[str]) -> None:
    assert hoist_global_options(ROOT, typed) == typed


def test_include_and_exclude_keep_their_order() -> None:
    typed = ["sync", "a", "s3://b", "--exclude", "*", "--profile", "p", "--include", "*.txt",
             "--debug", "--exclude", "x/*"]  # fmt: skip
    assert hoist_global_options(ROOT, typed) == [
        "--profile", "p", "--debug", "sync", "a", "s3://b",
        "--exclude", "*", "--include", "*.txt", "--exclude", "x/*",
    ]  # fmt: skip


def test_a_global_given_twice_with_different_values_is_refused() -> None:
    """Which account or endpoint a command reaches is never decided by word order."""
    for typed in (
        ["--profile", "prod", "ls", "s3://b", "--profile", "dev"],
        ["ls", "s3://b", "--profile=prod", "--profile", "dev"],
        ["--profile", "prod", "--profile", "dev", "ls"],
    ):
        with pytest.raises(UsageError, match=r"--profile was given twice \('prod', then 'dev'\)"):
            hoist_global_options(ROOT, typed)


def test_a_global_given_twice_with_the_same_value_is_fine() -> None:
    typed = ["--profile", "prod", "ls", "--profile=prod", "--debug", "--debug"]
    assert hoist_global_options(ROOT, typed) == [
        "--profile", "prod", "--profile=prod", "--debug", "--debug", "ls",
    ]  # fmt: skip


@pytest.mark.parametrize("tail", [["--profile"], ["--profile", "--", "x"]])
def test_a_global_without_its_value_is_refused(tail: list[str]) -> None:
    with pytest.raises(UsageError, match="--profile needs a value"):
        hoist_global_options(ROOT, ["ls", "s3://b", *tail])


# -- -h is help, and only on its own --------------------------------------------------------------


@pytest.mark.parametrize("cluster", ["-rh", "-hr", "-Hh", "-rHh"])
def test_h_inside_a_cluster_of_short_flags_is_refused_on_ls(cluster: str) -> None:
    with pytest.raises(UsageError, match="use -H") as caught:
        hoist_global_options(ROOT, ["ls", "s3://b", cluster])
    assert caught.value.message.startswith(f"{cluster}: -h means --help")


def test_h_inside_a_cluster_is_refused_on_other_commands() -> None:
    with pytest.raises(UsageError, match="-h means --help") as caught:
        hoist_global_options(ROOT, ["cp", "-rh", "a", "s3://b/"])
    assert "-H" not in caught.value.message


def test_a_short_option_value_containing_h_is_a_value() -> None:
    typed = ["bucket", "lifecycle", "set", "s3://b", "-fh.json"]
    assert hoist_global_options(ROOT, typed) == typed


# -- through the CLI: what the commands see -------------------------------------------------------


class _Stopped(S3KitError):
    pass


class _Recording(CliState):
    """A CliState that keeps what the global options set and stops the command the moment it
    asks for its Session: nothing is sent anywhere."""

    seen: list[tuple[Any, ...]]

    @property
    def session(self) -> Session:
        type(self).seen.append(_options_of(self))
        raise _Stopped("stopped before any request")


def _options_of(state: CliState) -> tuple[Any, ...]:
    return (state.profile, state.endpoint_url, state.region, state.use_local, state.debug,
            state.verify_ssl, state.ca_bundle, state.connection, state.config_path,
            state.log_level, state.log_format, state.reports)  # fmt: skip


@dataclass
class _Run:
    exit_code: int
    stderr: str
    options: tuple[Any, ...] | None


def _run(args: Sequence[str]) -> _Run:
    _Recording.seen = []
    result = S3kitCliRunner().invoke(app, list(args), obj=_Recording(), catch_exceptions=False)
    return _Run(result.exit_code, result.stderr, _Recording.seen[0] if _Recording.seen else None)


@pytest.fixture
def globals_(tmp_path: Path) -> dict[str, str | None]:
    """GLOBALS with the saved connection and the config file they name made real."""
    ConnectionStore().add(make_connection("saved", {"region": "eu-west-3"}))
    config = tmp_path / "s3kit.yaml"
    config.write_text("storage:\n  default_storage_class: STANDARD\n")
    return {
        **GLOBALS,
        "--config": str(config),
        "--stats-json": str(tmp_path / "stats.json"),
        "--metrics-file": str(tmp_path / "metrics.prom"),
    }


COMMANDS = {
    "ls": ["ls", "s3://bucket/prefix/"],
    "cp": ["cp", "FILE", "s3://bucket/key"],
    "sync": ["sync", "FOLDER", "s3://bucket/prefix"],
    "bucket versioning get": ["bucket", "versioning", "get", "s3://bucket"],
    "object tags get": ["object", "tags", "get", "s3://bucket/key"],
}


@pytest.mark.parametrize("command", COMMANDS)
def test_each_global_after_the_command_is_what_it_is_before_it(
    command: str, globals_: dict[str, str | None], tmp_path: Path
) -> None:
    (tmp_path / "folder").mkdir()
    (tmp_path / "file").write_bytes(b"x")
    words = [
        {"FILE": str(tmp_path / "file"), "FOLDER": str(tmp_path / "folder")}.get(word, word)
        for word in COMMANDS[command]
    ]
    untouched = _run(words).options
    assert untouched is not None
    for option, value in globals_.items():
        before = _run([*_words(option, value), *words])
        after = _run([*words, *_words(option, value)])
        assert after.exit_code == before.exit_code == 1, (option, after.stderr)
        assert "stopped before any request" in after.stderr
        assert after.options == before.options != untouched, option


def test_the_equals_form_and_both_sides_at_once_reach_the_command() -> None:
    result = _run(
        ["--debug", "ls", "s3://bucket", "--region=eu-west-3", "--endpoint-url=http://h:1"]
    )
    assert result.options is not None
    assert result.options[:5] == (None, "http://h:1", "eu-west-3", False, True)


def test_a_global_given_twice_is_one_error_line_and_exit_2() -> None:
    result = _run(["--region", "eu-west-1", "ls", "s3://bucket", "--region", "eu-west-3"])
    assert result.exit_code == 2
    assert result.options is None
    assert result.stderr == (
        "s3kit: error: --region was given twice ('eu-west-1', then 'eu-west-3'): give it once\n"
    )


def test_ls_h_prints_help_and_ls_rh_is_an_error() -> None:
    helped = S3kitCliRunner().invoke(app, ["ls", "-h"])
    assert helped.exit_code == 0
    assert "-H, --human-readable" in helped.stdout
    refused = S3kitCliRunner().invoke(app, ["ls", "s3://bucket", "-rh"])
    assert refused.exit_code == 2
    assert refused.stdout == ""
    assert refused.stderr.startswith("s3kit: error: -rh: -h means --help")
    assert refused.stderr.count("\n") == 1


def test_the_runner_that_builds_s3kit_once_answers_as_typers_own() -> None:
    """tests/conftest.py's S3kitCliRunner reuses one click tree for s3kit's app: it must give
    what typer's CliRunner (a tree built afresh) gives, run after run, and build any other
    typer app afresh."""
    for args in (["ls", "-h"], ["ls", "s3://bucket", "-rh"], ["--version"]):
        fresh = CliRunner().invoke(app, args)
        for _ in range(2):
            reused = S3kitCliRunner().invoke(app, args)
            assert (reused.exit_code, reused.stdout, reused.stderr) == (
                fresh.exit_code,
                fresh.stdout,
                fresh.stderr,
            ), args
    other = typer.Typer()
    other.command()(lambda: print("other"))
    assert S3kitCliRunner().invoke(other, []).stdout == "other\n"


def test_ls_capital_h_is_human_readable() -> None:
    result = _run(["ls", "s3://bucket", "-rH", "--summarize"])
    assert result.exit_code == 1 and "stopped before any request" in result.stderr


def test_without_globals_the_state_has_the_defaults() -> None:
    result = _run(["ls", "s3://bucket"])
    assert result.options == (
        None, None, None, False, False, None, None, None, None, None, None, Reports()
    )  # fmt: skip
