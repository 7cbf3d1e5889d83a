"""Shell completion of s3:// words (cli/completion.py) without a server: the stages, the bound,
the cache, failures, the local fallback, and bash's split words."""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from typer.testing import CliRunner

from s3kit.cli import completion
from s3kit.cli.app import app
from s3kit.cli.completion import LIMIT, CompletionCache, candidates, rejoin_words, within


class FakeLister:
    """Buckets and a key tree in memory; counts what it was asked."""

    scope = "fake-endpoint\0default"

    def __init__(self, buckets: list[str], keys: list[str] | None = None) -> None:
        self._buckets = buckets
        self._keys = sorted(keys or [])
        self.asked: list[tuple[str, ...]] = []

    def buckets(self) -> list[str]:
        self.asked.append(("buckets",))
        return list(self._buckets)

    def children(self, bucket: str, prefix: str, limit: int) -> list[str]:
        """As ListObjectsV2 with delimiter '/': keys and common prefixes under `prefix`."""
        self.asked.append(("children", bucket, prefix, str(limit)))
        found: list[str] = []
        for key in self._keys:
            if not key.startswith(prefix):
                continue
            slash = key.find("/", len(prefix))
            entry = key if slash < 0 else key[: slash + 1]
            if entry not in found:
                found.append(entry)
        return found[:limit]


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def no_store() -> FakeLister:
    raise AssertionError("the store must not be asked")


# -- the stages ------------------------------------------------------------------------------------


def test_the_bucket_stage_lists_matching_buckets() -> None:
    lister = FakeLister(["beta", "alpha", "alps"])
    assert candidates("s3://", "s3", lambda: lister) == ["s3://alpha/", "s3://alps/", "s3://beta/"]
    assert candidates("s3://al", "s3", lambda: lister) == ["s3://alpha/", "s3://alps/"]
    assert candidates("s3://alpha", "location", lambda: lister) == ["s3://alpha/"]
    # the scheme typed only in part stands for all of it
    assert candidates("s3:", "s3", lambda: lister) == ["s3://alpha/", "s3://alps/", "s3://beta/"]
    assert candidates("s3:/", "location", lambda: lister)[0] == "s3://alpha/"


def test_a_bucket_argument_gets_bucket_names_only() -> None:
    lister = FakeLister(["alpha"], ["a/b.txt"])
    assert candidates("s3://a", "bucket", lambda: lister) == ["s3://alpha"]
    assert candidates("s3://alpha/", "bucket", lambda: lister) == []
    assert lister.asked == [("buckets",)]


def test_the_key_stage_lists_one_level_under_what_was_typed() -> None:
    lister = FakeLister(["docs"], ["a.txt", "dir/x.txt", "dir/sub/y.txt", "dim.txt", "other/z"])
    assert candidates("s3://docs/", "s3", lambda: lister) == [
        "s3://docs/a.txt",
        "s3://docs/dim.txt",
        "s3://docs/dir/",
        "s3://docs/other/",
    ]
    assert candidates("s3://docs/di", "location", lambda: lister) == [
        "s3://docs/dim.txt",
        "s3://docs/dir/",
    ]
    assert candidates("s3://docs/dir/", "s3", lambda: lister) == [
        "s3://docs/dir/sub/",
        "s3://docs/dir/x.txt",
    ]
    # the listing asks for the typed prefix itself, with the bound, never the whole bucket
    assert ("children", "docs", "di", str(LIMIT)) in lister.asked


def test_the_connections_default_bucket_completes_after_three_slashes() -> None:
    lister = FakeLister([], ["k1", "k2/x"])
    got = candidates("s3:///k", "s3", lambda: lister, default_bucket="home")
    assert got == ["s3:///k1", "s3:///k2/"]
    assert lister.asked == [("children", "home", "k", str(LIMIT))]
    assert candidates("s3:///k", "s3", no_store) == []  # no saved bucket: nothing to list


def test_answers_are_bounded() -> None:
    many = FakeLister([f"b{i:04d}" for i in range(1000)], [f"k{i:04d}" for i in range(1000)])
    assert len(candidates("s3://", "s3", lambda: many)) == LIMIT
    assert len(candidates("s3://b0000/", "s3", lambda: many)) == LIMIT
    assert len(candidates("s3://b0000/", "s3", lambda: many, limit=5)) == 5
    assert LIMIT == 200


# -- the local fallback ----------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "./re", "/tmp/x", "report.pdf", "s", "s3", "-"])
def test_local_paths_are_left_to_the_shell(text: str) -> None:
    # An empty answer is what makes typer's scripts complete file names instead.
    assert candidates(text, "location", no_store) == []


def test_an_s3_only_argument_offers_the_scheme() -> None:
    assert candidates("s", "s3", no_store) == ["s3://"]
    assert candidates("s3", "bucket", no_store) == ["s3://"]
    assert candidates("", "s3", no_store) == []
    assert candidates("./x", "s3", no_store) == []
    assert candidates("s3:x", "s3", no_store) == []


# -- the cache -------------------------------------------------------------------------------------


def test_a_second_tab_within_the_ttl_is_answered_from_the_cache(tmp_path: Path) -> None:
    clock = Clock()
    cache = CompletionCache(tmp_path / "cache", ttl=10, clock=clock)
    lister = FakeLister(["alpha"], ["a/x", "b"])
    first = candidates("s3://alpha/", "s3", lambda: lister, cache=cache)
    again = candidates("s3://alpha/", "s3", lambda: lister, cache=cache)
    assert first == again == ["s3://alpha/a/", "s3://alpha/b"]
    assert lister.asked == [("children", "alpha", "", str(LIMIT))]
    candidates("s3://a", "s3", lambda: lister, cache=cache)
    candidates("s3://", "s3", lambda: lister, cache=cache)
    assert lister.asked.count(("buckets",)) == 1
    clock.now += 11
    candidates("s3://alpha/", "s3", lambda: lister, cache=cache)
    assert len([a for a in lister.asked if a[0] == "children"]) == 2


def test_cache_files_are_private_and_hold_only_names(tmp_path: Path) -> None:
    cache = CompletionCache(tmp_path / "cache", clock=Clock())
    cache.put(("http://127.0.0.1:1\0work", "keys", "b", "p"), ["p1", "p/"])
    (file,) = (tmp_path / "cache").iterdir()
    assert stat.S_IMODE(file.stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "cache").stat().st_mode) == 0o700
    saved = json.loads(file.read_text())
    assert set(saved) == {"at", "names"}
    assert saved["names"] == ["p1", "p/"]
    assert "127.0.0.1" not in file.name and "work" not in file.read_text()


def test_the_cache_is_per_account(tmp_path: Path) -> None:
    cache = CompletionCache(tmp_path, clock=Clock())
    one, other = FakeLister(["mine"]), FakeLister(["theirs"])
    other.scope = "fake-endpoint\0other-profile"
    assert candidates("s3://", "s3", lambda: one, cache=cache) == ["s3://mine/"]
    assert candidates("s3://", "s3", lambda: other, cache=cache) == ["s3://theirs/"]


def test_an_unreadable_or_broken_cache_is_a_miss(tmp_path: Path) -> None:
    cache = CompletionCache(tmp_path, clock=Clock())
    key = ("scope", "buckets")
    cache.path(key).write_text("{not json")
    assert cache.get(key) is None
    cache.path(key).write_text(json.dumps({"at": "x", "names": []}))
    assert cache.get(key) is None


# -- failures: nothing, quickly, silently ----------------------------------------------------------


def test_a_failing_store_gives_no_items() -> None:
    class Broken(FakeLister):
        def buckets(self) -> list[str]:
            raise OSError("connection refused")

    broken = Broken([])
    assert within(5, lambda: candidates("s3://", "s3", lambda: broken)) == []


def test_a_store_that_does_not_answer_gives_no_items_at_the_deadline() -> None:
    release = threading.Event()

    def hanging() -> list[str]:
        release.wait()
        return ["s3://late/"]

    try:
        assert within(0.01, hanging) == []
    finally:
        release.set()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _complete(words: str, cword: int, **env: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(
        app,
        [],
        env={"_S3KIT_COMPLETE": "complete_bash", "COMP_WORDS": words, "COMP_CWORD": str(cword)}
        | env,
    )
    return result.exit_code, result.stdout, result.stderr


def test_an_unreachable_endpoint_completes_nothing_and_says_nothing() -> None:
    env = {
        "S3KIT_ENDPOINT_URL": f"http://127.0.0.1:{_closed_port()}",
        "S3KIT_ACCESS_KEY_ID": "AKIDEXAMPLE",
        "S3KIT_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    }
    assert _complete("s3kit ls s3://", 2, **env) == (0, "\n", "")
    assert _complete("s3kit cp ./a s3://bucket/", 3, **env) == (0, "\n", "")


def test_an_endpoint_that_never_answers_completes_nothing(isolated_env: Path) -> None:
    # It accepts the connection and says nothing: the short read timeout, no retries and the
    # deadline end the Tab, and the real process exits with the request still hanging.
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        env = {
            **os.environ,
            "S3KIT_ENDPOINT_URL": f"http://127.0.0.1:{silent.getsockname()[1]}",
            "S3KIT_ACCESS_KEY_ID": "AKIDEXAMPLE",
            "S3KIT_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "_S3KIT_COMPLETE": "complete_bash",
            "COMP_WORDS": "s3kit ls s3://bucket/",
            "COMP_CWORD": "2",
        }
        done = subprocess.run(
            [str(Path(sys.executable).with_name("s3kit"))],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert (done.returncode, done.stdout.strip(), done.stderr) == (0, "", "")


def test_a_broken_config_completes_nothing_and_says_nothing(tmp_path: Path) -> None:
    config = tmp_path / "s3kit.yaml"
    config.write_text("transfer: [unclosed\n")
    assert _complete("s3kit ls s3://", 2, S3KIT_CONFIG=str(config)) == (0, "\n", "")
    assert _complete("s3kit --connection nope ls s3://", 4) == (0, "\n", "")


def test_completion_never_starts_the_local_server(isolated_env: Path) -> None:
    # Nothing configured: a command would start the embedded server; a Tab must not.
    assert _complete("s3kit ls s3://", 2) == (0, "\n", "")
    data = isolated_env / ".local" / "share" / "s3kit" / "local"
    assert not (data / "server.json").exists()


def test_local_words_never_build_a_session(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(ctx: object) -> object:
        raise AssertionError("no session for a local path")

    monkeypatch.setattr(completion, "completion_session", refuse)
    assert _complete("s3kit cp ./rep", 2) == (0, "\n", "")
    assert _complete("s3kit ls s", 2) == (0, "s3://\n", "")


# -- bash's words ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("words", "cword", "joined", "keep"),
    [
        # bash splits at ':' (COMP_WORDBREAKS): s3://b/k comes in three words
        (["s3kit", "ls", "s3", ":", "//b/k"], 4, ["s3kit", "ls", "s3://b/k"], 3),
        (["s3kit", "ls", "s3", ":"], 3, ["s3kit", "ls", "s3:"], 2),
        (["s3kit", "ls", "s3://b/k"], 2, ["s3kit", "ls", "s3://b/k"], 0),
        (["s3kit", "cp", "s3", ":", "//b/x", "."], 5, ["s3kit", "cp", "s3://b/x", "."], 0),
        (["s3kit", "ls"], 2, ["s3kit", "ls", ""], 0),
        (["s3kit", "ls", "s3", ":", "//b/a", ":", "b"], 6, ["s3kit", "ls", "s3://b/a:b"], 9),
        # --dest=s3://b: click completes the value after '=', bash replaces what follows ':'
        (
            ["s3kit", "batch", "copy", "--dest", "=", "s3", ":", "//b"],
            7,
            ["s3kit", "batch", "copy", "--dest=s3://b"],
            3,
        ),
    ],
)
def test_bash_words_are_joined_again(
    words: list[str], cword: int, joined: list[str], keep: int
) -> None:
    assert rejoin_words(words, cword) == (joined, keep)


def test_bash_gets_the_answer_for_the_part_after_the_colon() -> None:
    # the protocol as bash drives it, with the words it split; s3kit ls s3<Tab> needs no store
    code, out, err = _complete("s3kit\nls\ns3", 2)
    assert (code, out, err) == (0, "s3://\n", "")
    code, out, err = _complete("s3kit\nls\ns3\n:", 3)  # s3:<Tab>, no store: nothing
    assert (code, out, err) == (0, "\n", "")


def test_completion_script_is_s3kits(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["--show-completion", "bash"])
    assert result.exit_code == 0
    assert "compopt -o nospace" in result.stdout
    assert "_S3KIT_COMPLETE=complete_bash" in result.stdout
    assert "complete -o default -F _s3kit_completion s3kit" in result.stdout


def test_every_s3_argument_completes() -> None:
    # Whatever takes an S3 URL (its help names s3://) has a completion callback.
    import typer.main

    missing = []

    def walk(command: object, path: list[str]) -> None:
        for param in getattr(command, "params", []):
            text = getattr(param, "help", None) or ""
            where = " ".join([*path, param.name])
            if "s3://" in text and param._custom_shell_complete is None:
                missing.append(where)
        for name, sub in getattr(command, "commands", {}).items():
            walk(sub, [*path, name])

    walk(typer.main.get_command(app), ["s3kit"])
    # a connection's --bucket takes a bare name (its help says what s3:// then means)
    assert missing == ["s3kit connections add bucket", "s3kit connections edit bucket"]
