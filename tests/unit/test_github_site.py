"""The pure parts of `s3kit github deploy` and the previews, and how git and the build are run:
which ref a listing names, which folders are refused, where the token may go (never into an
argument or a message), the clone's fallbacks (a scripted git), the build's output and exit
code, and which previews prune removes."""

from __future__ import annotations

import base64
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from s3kit._uri import S3Url
from s3kit.errors import UsageError
from s3kit.github.git import Git, GitError, pick_ref, ref_name, repository_url, safe_path
from s3kit.github.preview import (
    comment_key,
    plan_prune,
    preview_destination,
    preview_numbers,
    preview_url,
)
from s3kit.github.site import BuildFailed, build_environment, run_build

TOKEN = "ghs_unitTestTokenNeverShown0123456789"
SHA = "a" * 40
OTHER = "b" * 40

LISTING = f"""{SHA}\trefs/heads/main
{OTHER}\trefs/tags/v1
{"c" * 40}\trefs/tags/v1^{{}}
{"d" * 40}\trefs/heads/feature/v1
"""


def test_a_ref_is_the_branch_then_the_tag_then_the_exact_name() -> None:
    assert pick_ref(LISTING, "main") == SHA
    assert pick_ref(LISTING, "v1") == "c" * 40  # the commit an annotated tag points to
    assert pick_ref(LISTING, "refs/heads/feature/v1") == "d" * 40
    assert pick_ref(LISTING, "feature") is None
    assert pick_ref(LISTING, "nope") is None
    assert ref_name("refs/heads/main") == "main" and ref_name("refs/tags/v1") == "v1"


@pytest.mark.parametrize("path", ["dist", "site/public", "./dist/", "."])
def test_folders_inside_the_repository_are_taken(path: str) -> None:
    assert not safe_path(path).startswith(("/", "./"))


@pytest.mark.parametrize("path", ["/etc", "../elsewhere", "dist/../../x"])
def test_folders_outside_the_repository_are_refused(path: str) -> None:
    with pytest.raises(UsageError, match="inside the repository"):
        safe_path(path)


def test_the_clone_url_follows_the_github_server() -> None:
    assert repository_url("octo/site", {}) == "https://github.com/octo/site.git"
    env = {"GITHUB_SERVER_URL": "https://ghe.example.com/"}
    assert repository_url("octo/site", env) == "https://ghe.example.com/octo/site.git"


# -- where the token goes -------------------------------------------------------------------------


def header(env: Mapping[str, str]) -> dict[str, str]:
    count = int(env.get("GIT_CONFIG_COUNT", "0"))
    return {env[f"GIT_CONFIG_KEY_{i}"]: env[f"GIT_CONFIG_VALUE_{i}"] for i in range(count)}


def test_the_token_goes_in_a_header_for_the_github_server_only() -> None:
    git = Git(token=TOKEN, server="https://github.com", env={"PATH": "/usr/bin"})
    env = git.environment("https://github.com/octo/site.git")
    basic = base64.b64encode(f"x-access-token:{TOKEN}".encode()).decode()
    assert header(env) == {"http.https://github.com/.extraheader": f"Authorization: Basic {basic}"}
    assert env["GIT_TERMINAL_PROMPT"] == "0"
    for elsewhere in (
        "https://gitlab.example.com/octo/site.git",  # another host
        "http://github.com/octo/site.git",  # plain http
        "file:///srv/site.git",
        "git@github.com:octo/site.git",  # ssh: its own keys
    ):
        assert header(git.environment(elsewhere)) == {}, elsewhere


def test_plain_http_carries_the_token_only_to_this_machine() -> None:
    git = Git(token=TOKEN, server="http://127.0.0.1:8080", env={})
    assert git.sends_token_to("http://127.0.0.1:8080/octo/site.git")
    assert not Git(token=TOKEN, server="http://ghe.internal", env={}).sends_token_to(
        "http://ghe.internal/octo/site.git"
    )
    assert header(git.environment("http://127.0.0.1:8080/o/s.git")).keys() == {
        "http.http://127.0.0.1:8080/.extraheader"
    }


def test_the_callers_git_variables_neither_steer_git_nor_lose_their_config() -> None:
    env = {"GIT_DIR": "/elsewhere/.git", "GIT_TRACE_CURL": "1", "GIT_CONFIG_COUNT": "1",
           "GIT_CONFIG_KEY_0": "core.askPass", "GIT_CONFIG_VALUE_0": ""}  # fmt: skip
    made = Git(token=TOKEN, env=env).environment("https://github.com/o/s.git")
    assert "GIT_DIR" not in made and "GIT_TRACE_CURL" not in made
    assert made["GIT_CONFIG_KEY_0"] == "core.askPass" and made["GIT_CONFIG_COUNT"] == "2"
    assert made["GIT_CONFIG_KEY_1"] == "http.https://github.com/.extraheader"


class ScriptedGit:
    """Answers git commands from a script of (words the command holds, exit code, stderr), each
    entry used once; any other command succeeds (a clone making its folder, HEAD being SHA)."""

    def __init__(self, *script: tuple[tuple[str, ...], int, str]) -> None:
        self.script = list(script)
        self.calls: list[list[str]] = []

    def __call__(
        self, args: Sequence[str], cwd: Path | None, env: Mapping[str, str], text: str | None
    ) -> subprocess.CompletedProcess[str]:
        words = list(args)[1:]
        self.calls.append(words)
        code, stderr = 0, ""
        for index, (holds, scripted, said) in enumerate(self.script):
            if all(word in words for word in holds):
                del self.script[index]
                code, stderr = scripted, said
                break
        if code == 0 and "clone" in words:
            Path(words[-1]).mkdir(parents=True)
        out = SHA + "\n" if words[:2] == ["rev-parse", "HEAD"] else ""
        return subprocess.CompletedProcess(args, code, out, stderr)


def test_a_server_refusing_partial_clones_gets_a_plain_shallow_clone(tmp_path: Path) -> None:
    runner = ScriptedGit((("--sparse",), 128, "fatal: filtering not supported\n"))
    head = Git(runner=runner, env={}).clone("https://x/o/s.git", "main", tmp_path / "c",
                                            sparse="dist")  # fmt: skip
    assert head == SHA
    clones = [call for call in runner.calls if "clone" in call]
    assert len(clones) == 2
    assert "--sparse" in clones[0] and "--filter=blob:none" in clones[0]
    assert "--sparse" not in clones[1] and "--depth" in clones[1]
    assert clones[1][-2:] == ["https://x/o/s.git", str(tmp_path / "c")]


def test_the_partial_clone_checks_out_the_site_folder_only(tmp_path: Path) -> None:
    runner = ScriptedGit()
    Git(runner=runner, env={}).clone("https://x/o/s.git", "main", tmp_path / "c", sparse="dist")
    assert any(call[:3] == ["sparse-checkout", "set", "--stdin"] for call in runner.calls)
    assert sum("clone" in call for call in runner.calls) == 1


def test_git_errors_are_redacted_and_no_argument_holds_the_token(tmp_path: Path) -> None:
    basic = base64.b64encode(f"x-access-token:{TOKEN}".encode()).decode()
    said = f"fatal: unable to access 'https://x-access-token:{TOKEN}@github.com/': {basic} 403\n"
    runner = ScriptedGit(
        (("--sparse",), 128, said), (("clone",), 128, said), (("fetch",), 128, said)
    )
    git = Git(token=TOKEN, runner=runner, env={})
    with pytest.raises(GitError) as caught:
        git.clone("https://github.com/o/s.git", "main", tmp_path / "c", sparse="dist")
    assert TOKEN not in str(caught.value) and basic not in str(caught.value)
    assert "unable to access" in str(caught.value)
    assert all(TOKEN not in word and basic not in word for call in runner.calls for word in call)


def test_a_commit_is_fetched_by_its_sha(tmp_path: Path) -> None:
    runner = ScriptedGit()
    assert Git(runner=runner, env={}).clone("https://x/o/s.git", SHA, tmp_path / "c") == SHA
    assert ["fetch", "--quiet", "--depth", "1", "origin", SHA] in runner.calls
    assert not any("clone" in call for call in runner.calls)


def test_a_ref_that_moved_since_it_was_resolved_is_pinned_to_the_resolved_commit(
    tmp_path: Path,
) -> None:
    runner = ScriptedGit()
    with pytest.raises(GitError, match="cannot be fetched"):
        # HEAD (scripted: SHA) is not OTHER, and fetching OTHER fails
        Git(runner=ScriptedGit((("fetch",), 128, "fatal: no such commit")), env={}).clone(
            "https://x/o/s.git", "main", tmp_path / "c", sha=OTHER
        )
    Git(runner=runner, env={}).clone("https://x/o/s.git", "main", tmp_path / "d", sha=OTHER)
    assert ["fetch", "--quiet", "--depth", "1", "origin", OTHER] in runner.calls


# -- the build ------------------------------------------------------------------------------------


def test_the_build_streams_its_output_and_never_sees_the_token(tmp_path: Path) -> None:
    lines: list[str] = []
    env = build_environment({"PATH": "/usr/bin:/bin", "GITHUB_TOKEN": TOKEN, "GH_TOKEN": TOKEN})
    assert "GITHUB_TOKEN" not in env and "GH_TOKEN" not in env
    run_build(
        f'echo one; echo two >&2; echo "token:${{GITHUB_TOKEN:-none}}"; echo {TOKEN}',
        tmp_path, env=env, on_output=lines.append, secrets=[TOKEN],
    )  # fmt: skip
    assert lines == ["one\n", "two\n", "token:none\n", "***\n"]


def test_a_failing_build_names_its_exit_code(tmp_path: Path) -> None:
    with pytest.raises(BuildFailed, match=r"exit code 3\) — nothing was deployed"):
        run_build("false || exit 3", tmp_path, env={"PATH": "/usr/bin:/bin"},
                  on_output=lambda _: None)  # fmt: skip
    with pytest.raises(BuildFailed, match="exit code 1"):  # -e: a failing step stops it
        run_build("false; echo not reached", tmp_path, env={"PATH": "/usr/bin:/bin"},
                  on_output=lambda _: None)  # fmt: skip


def test_a_broken_output_callback_does_not_break_the_build(tmp_path: Path) -> None:
    def broken(_: str) -> None:
        raise RuntimeError("display gone")

    run_build("echo fine", tmp_path, env={"PATH": "/usr/bin:/bin"}, on_output=broken)


# -- previews -------------------------------------------------------------------------------------


def test_a_preview_lives_under_its_number_below_the_root() -> None:
    assert preview_destination("s3://www/previews", 12) == S3Url("www", "previews/pr-12/")
    assert preview_destination("s3://www", 3) == S3Url("www", "pr-3/")
    assert preview_url("https://p.example.com/", 12) == "https://p.example.com/pr-12/"
    with pytest.raises(UsageError):
        preview_destination("s3://www", 0)


def test_one_comment_key_per_preview_root() -> None:
    assert comment_key(S3Url("www", "previews/")) == "preview:www/previews"
    assert comment_key(S3Url("www", "")) != comment_key(S3Url("www", "previews/"))
    odd = comment_key(S3Url("www", "prévisualisation de site/"))
    assert odd.startswith("preview:") and len(odd) <= 100 and " " not in odd


def test_previews_are_the_pr_prefixes_under_the_root() -> None:
    prefixes = ["previews/pr-3/", "previews/pr-12/", "previews/assets/", "previews/pr-x/",
                "previews/pr-0/", "other/pr-4/", "previews/pr-07/"]  # fmt: skip
    assert preview_numbers(prefixes, "previews/") == [3, 12]


def test_prune_removes_the_previews_of_closed_pull_requests_only() -> None:
    plan = plan_prune([1, 2, 3, 5], open_numbers=[2, 3], closed_numbers=[1, 3, 9])
    assert plan.remove == (1,)  # 3 is listed open too: kept, whatever the closed list says
    assert plan.open == (2, 3)
    assert plan.unknown == (5,)
