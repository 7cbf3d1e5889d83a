"""The questions `s3kit sync` asks with no arguments, driven by scripted answers (no server)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

import pytest

from s3kit.cli.sync_interactive import SyncAnswers, Target, ask_sync
from s3kit.errors import S3KitError

TARGETS = [Target("current"), Target("connection", "minio"), Target("profile", "work")]


class Script:
    """Answers prompts in order; records every prompt and line said. Past the end: EOF."""

    def __init__(self, answers: Iterable[str | BaseException]) -> None:
        self.answers = list(answers)
        self.prompts: list[str] = []
        self.said: list[str] = []

    def ask(self, prompt: str) -> str:
        self.prompts.append(prompt)
        if not self.answers:
            raise EOFError
        answer = self.answers.pop(0)
        if isinstance(answer, BaseException):
            raise answer
        return answer

    def say(self, line: str) -> None:
        self.said.append(line)


def run(
    script: Script,
    buckets: Sequence[str] = ("alpha", "beta"),
    targets: Sequence[Target] = TARGETS,
) -> tuple[SyncAnswers, list[Target]]:
    listed_for: list[Target] = []

    def list_buckets(target: Target) -> Sequence[str]:
        listed_for.append(target)
        return buckets

    answers = ask_sync(script.ask, script.say, targets=targets, list_buckets=list_buckets)
    return answers, listed_for


def test_upload_with_defaults(tmp_path: Path) -> None:
    # connection, direction, folder, bucket, prefix, delete?, dry run?
    script = Script(["", "", str(tmp_path), "2", "", "", ""])
    answers, listed_for = run(script)
    assert answers == SyncAnswers(
        Target("current"), "upload", tmp_path, "beta", "", delete=False, dry_run_first=True
    )
    assert (answers.source, answers.destination) == (str(tmp_path), "s3://beta/")
    assert listed_for == [Target("current")]
    assert answers.command_line() == f"s3kit sync {tmp_path} s3://beta/"
    assert not script.answers
    assert "  1) current settings" in script.said and "  2) beta" in script.said


def test_download_through_a_profile_with_delete(tmp_path: Path) -> None:
    target = tmp_path / "not-yet"
    script = Script(["3", "2", str(target), "other-bucket", "/photos/2026/", "y", "no"])
    answers, listed_for = run(script)
    assert answers.direction == "download"
    assert (answers.source, answers.destination) == ("s3://other-bucket/photos/2026/", str(target))
    assert (answers.delete, answers.dry_run_first) == (True, False)
    assert listed_for == [Target("profile", "work")]
    assert answers.command_line() == (
        f"s3kit --profile work sync s3://other-bucket/photos/2026/ {target} --delete"
    )


def test_invalid_answers_are_asked_again(tmp_path: Path) -> None:
    missing = tmp_path / "missing"
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    connection, direction = ["9", "1"], ["upwards", "1"]
    folder = [str(missing), str(a_file), "", str(tmp_path)]
    rest = ["7", "s3://gamma/", "", "maybe", "n", ""]  # bucket, prefix, delete?, dry run?
    script = Script([*connection, *direction, *folder, *rest])
    answers, _ = run(script)
    assert (answers.local, answers.bucket, answers.delete) == (tmp_path, "gamma", False)
    assert f"{missing} is not an existing folder." in script.said
    assert f"{a_file} is not an existing folder." in script.said
    assert script.said.count("Please type a number from 1 to 3.") == 1
    assert "Please type a number from 1 to 2." in script.said
    assert "Please answer y or n." in script.said
    assert not script.answers


def test_a_single_target_is_not_asked_and_a_listing_failure_lets_one_type(
    tmp_path: Path,
) -> None:
    script = Script(["2", str(tmp_path), "typed", "", "", ""])

    def refuse(target: Target) -> Sequence[str]:
        raise S3KitError("access denied")

    answers = ask_sync(script.ask, script.say, targets=[Target("current")], list_buckets=refuse)
    assert (answers.target, answers.bucket) == (Target("current"), "typed")
    assert "Cannot list buckets (access denied)." in script.said
    assert not any("Connect with" in line for line in script.said)


@pytest.mark.parametrize("stop", [KeyboardInterrupt(), EOFError()])
def test_ctrl_c_or_end_of_input_stops_the_questions(tmp_path: Path, stop: BaseException) -> None:
    script = Script(["", "", str(tmp_path), stop, "never read"])
    with pytest.raises(type(stop)):
        run(script)
    assert script.answers == ["never read"]


def test_enter_takes_the_connections_default_bucket(tmp_path: Path) -> None:
    # connection (the saved one), direction, folder, bucket (Enter), prefix, delete?, dry run?
    targets = [Target("current"), Target("connection", "prod", "www")]
    script = Script(["2", "", str(tmp_path), "", "site", "", ""])
    answers, _ = run(script, targets=targets)
    assert answers.bucket == "www" and answers.remote == "s3://www/site"
    assert "Bucket (number or name) [www]: " in script.prompts
