"""Shell completion against a real server: the protocol the shell drives (`s3kit` run with
_S3KIT_COMPLETE, COMP_WORDS and COMP_CWORD), bash and zsh themselves pressing Tab in a terminal,
and fish asked what it would offer (`complete -C`). zsh and fish come from Debian's packages,
unpacked into .venv/shells by `make test` (tests/servers/unpack-debs.sh).

SeaweedFS only: completion is two listing calls, the same on every server."""

from __future__ import annotations

import contextlib
import os
import pty
import select
import shlex
import shutil
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from s3kit.service import S3Service
from tests.conftest import Backend, unique_bucket_name

S3KIT = str(Path(sys.executable).with_name("s3kit"))
KEYS = ["a.txt", "dim.txt", "dir/x.txt", "dir/sub/y.txt"]


@pytest.fixture
def seeded(seaweed: Backend) -> Iterator[str]:
    name = unique_bucket_name("cpl")
    service = S3Service(seaweed.session())
    service.create_bucket(name)
    storage = seaweed.session().storage(name)
    for key in KEYS:
        storage.put(key, b"x")
    yield name
    with contextlib.suppress(Exception):
        service.empty_bucket(name)
        service.delete_bucket(name)


def complete(words: list[str], env: dict[str, str], *, cword: int | None = None) -> list[str]:
    """What `s3kit` answers bash for `words` (the last one being completed), as bash runs it:
    COMP_WORDS joined by newlines."""
    process = subprocess.run(
        [S3KIT],
        env={
            **os.environ,
            **env,
            "_S3KIT_COMPLETE": "complete_bash",
            "COMP_WORDS": "\n".join(words),
            "COMP_CWORD": str(len(words) - 1 if cword is None else cword),
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert (process.returncode, process.stderr) == (0, ""), process
    return [line for line in process.stdout.splitlines() if line]


def test_buckets_then_keys_one_level_at_a_time(seaweed: Backend, seeded: str) -> None:
    env = seaweed.env()
    assert f"s3://{seeded}/" in complete(["s3kit", "ls", "s3://"], env)
    assert complete(["s3kit", "ls", f"s3://{seeded[:12]}"], env) == [f"s3://{seeded}/"]
    assert complete(["s3kit", "ls", f"s3://{seeded}/"], env) == [
        f"s3://{seeded}/a.txt",
        f"s3://{seeded}/dim.txt",
        f"s3://{seeded}/dir/",
    ]
    assert complete(["s3kit", "cat", f"s3://{seeded}/dir/"], env) == [
        f"s3://{seeded}/dir/sub/",
        f"s3://{seeded}/dir/x.txt",
    ]
    assert complete(["s3kit", "rb", f"s3://{seeded[:12]}"], env) == [f"s3://{seeded}"]
    assert complete(["s3kit", "bucket", "versioning", "get", f"s3://{seeded[:12]}"], env) == [
        f"s3://{seeded}"
    ]


def test_local_or_s3_arguments(seaweed: Backend, seeded: str) -> None:
    env = seaweed.env()
    assert complete(["s3kit", "cp", "./x", f"s3://{seeded}/di"], env) == [
        f"s3://{seeded}/dim.txt",
        f"s3://{seeded}/dir/",
    ]
    assert complete(["s3kit", "sync", f"s3://{seeded}/dir/s"], env) == [f"s3://{seeded}/dir/sub/"]
    assert complete(["s3kit", "cp", "./"], env) == []  # the shell completes local paths


def test_words_bash_split_at_the_colon(seaweed: Backend, seeded: str) -> None:
    # `s3kit cp s3://B/di<Tab>`: bash hands over s3, :, //B/di and replaces only //B/di
    words = ["s3kit", "cp", "s3", ":", f"//{seeded}/di"]
    assert complete(words, seaweed.env()) == [f"//{seeded}/dim.txt", f"//{seeded}/dir/"]
    assert f"://{seeded}/" in complete(["s3kit", "ls", "s3", ":"], seaweed.env())


def test_global_options_on_the_line_are_honoured(seaweed: Backend, seeded: str) -> None:
    keys = {k: v for k, v in seaweed.env().items() if k != "S3KIT_ENDPOINT_URL"}
    url = f"s3://{seeded}/d"
    expected = [f"s3://{seeded}/dim.txt", f"s3://{seeded}/dir/"]
    before = ["s3kit", "--endpoint-url", seaweed.endpoint, "ls", url]
    after = ["s3kit", "ls", "--endpoint-url", seaweed.endpoint, url]
    assert complete(before, keys) == complete(after, keys) == expected
    # the line wins over the environment, as for the command: a dead endpoint answers nothing
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{sock.getsockname()[1]}"
    assert complete(["s3kit", "ls", "--endpoint-url", dead, url], seaweed.env()) == []


def test_the_cache_is_private_and_holds_no_credentials(
    seaweed: Backend, seeded: str, isolated_env: Path
) -> None:
    complete(["s3kit", "ls", f"s3://{seeded}/"], seaweed.env())
    folder = isolated_env / ".cache" / "s3kit" / "completion"
    files = list(folder.iterdir())
    assert files
    for file in files:
        assert stat.S_IMODE(file.stat().st_mode) == 0o600
        text = file.read_text()
        assert seaweed.secret_key not in text and seaweed.access_key not in text
        assert seaweed.endpoint not in text


def test_install_completion_writes_s3kits_bash_script(isolated_env: Path) -> None:
    process = subprocess.run(
        [S3KIT, "--install-completion", "bash"], capture_output=True, text=True, timeout=120
    )
    assert process.returncode == 0, process
    script = (isolated_env / ".bash_completions" / "s3kit.sh").read_text()
    assert "compopt -o nospace" in script
    assert "s3kit.sh" in (isolated_env / ".bashrc").read_text()


# -- bash, in a terminal ---------------------------------------------------------------------------


class Terminal:
    """An interactive bash in a pseudo-terminal: type into it, read what it prints."""

    def __init__(
        self, env: dict[str, str], argv: tuple[str, ...] = ("bash", "--norc", "--noprofile", "-i")
    ) -> None:
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child, the terminal its own: a shell with no startup files
            os.execvpe(argv[0], list(argv), env)  # noqa: S606
        self.seen = ""

    def type(self, text: str) -> None:
        os.write(self.fd, text.encode())

    def read_until(self, marker: str, timeout: float = 60) -> str:
        end = time.monotonic() + timeout
        while marker not in self.seen and time.monotonic() < end:
            ready, _, _ = select.select([self.fd], [], [], 0.2)
            if ready:
                try:
                    self.seen += os.read(self.fd, 65536).decode(errors="replace")
                except OSError:
                    break
        assert marker in self.seen, self.seen
        return self.seen

    def line(self, typed: str) -> str:
        """What the command line holds once `typed` (Tabs and all) is taken in, as echo
        prints it."""
        marker = f"LINE{len(self.seen)}:"
        self.type(typed + f"\x01echo {marker} \r")
        self.read_until(marker)
        seen = self.read_until("\n" + marker)  # the echo's output, not the typed line
        return seen.rsplit("\n" + marker, 1)[1].split("\r\n", 1)[0].strip()

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.type("exit\r")
        with contextlib.suppress(ChildProcessError):
            os.waitpid(self.pid, 0)
        os.close(self.fd)


@pytest.mark.skipif(shutil.which("bash") is None, reason="no bash on this machine")
def test_bash_tab_completes_buckets_and_keys(
    seaweed: Backend, seeded: str, isolated_env: Path
) -> None:
    subprocess.run([S3KIT, "--install-completion", "bash"], check=True, capture_output=True)
    names = {b.name for b in S3Service(seaweed.session()).list_buckets()}
    assert not any(name.startswith("et") for name in names)
    env = {
        **os.environ,
        **seaweed.env(),
        "PATH": f"{Path(S3KIT).parent}{os.pathsep}{os.environ['PATH']}",
        "INPUTRC": os.devnull,
        "TERM": "dumb",
        "PS1": "$ ",
    }
    terminal = Terminal(env)
    try:
        terminal.type(f"source {isolated_env / '.bash_completions' / 's3kit.sh'}\r")
        # the bucket, a prefix, a key: no space after the first two, so typing goes on
        assert terminal.line(f"s3kit ls s3://{seeded[:12]}\tdir\tx\t") == (
            f"s3kit ls s3://{seeded}/dir/x.txt"
        )
        assert terminal.line(f"s3kit cp s3://{seeded}/dir/s\t") == (
            f"s3kit cp s3://{seeded}/dir/sub/"
        )
        # no bucket starts with "et": nothing, where bash used to offer //etc/ from the disk
        assert terminal.line("s3kit ls s3://et\t") == "s3kit ls s3://et"
    finally:
        terminal.close()


# -- zsh and fish, unpacked from Debian's packages by tests/servers/unpack-debs.sh -----------

SHELLS = Path(__file__).resolve().parents[2] / ".venv" / "shells"  # make test unpacks them there
ZSH, FISH = SHELLS / "bin" / "zsh", SHELLS / "usr" / "bin" / "fish"


def _shell_env(seaweed: Backend, home: Path) -> dict[str, str]:
    return {
        **os.environ,
        **seaweed.env(),
        "HOME": str(home),
        "PATH": f"{Path(S3KIT).parent}{os.pathsep}{os.environ['PATH']}",
        "LD_LIBRARY_PATH": str(SHELLS / "usr" / "lib" / "x86_64-linux-gnu"),
        "TERM": "dumb",
    }


@pytest.mark.skipif(not FISH.exists(), reason="fish not unpacked (tests/servers/unpack-debs.sh)")
def test_fish_completes_buckets_and_keys(seaweed: Backend, seeded: str, isolated_env: Path) -> None:
    """fish itself, asked what it would offer (`complete -C`), after loading the script
    `s3kit --show-completion` prints in fish."""

    def offered(line: str) -> list[str]:
        script = f"s3kit --show-completion fish | source; complete -C {shlex.quote(line)}"
        process = subprocess.run(
            [str(FISH), "--no-config", "-c", script],
            env=_shell_env(seaweed, isolated_env),
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert process.returncode == 0, process
        return [row.split("\t")[0] for row in process.stdout.splitlines()]

    assert offered(f"s3kit ls s3://{seeded[:12]}") == [f"s3://{seeded}/"]
    assert offered(f"s3kit cp s3://{seeded}/di") == [
        f"s3://{seeded}/dim.txt",
        f"s3://{seeded}/dir/",
    ]
    assert offered("s3kit ls s3://et") == []  # nothing: no bucket starts so, and no local /etc


@pytest.mark.skipif(not ZSH.exists(), reason="zsh not unpacked (tests/servers/unpack-debs.sh)")
def test_zsh_tab_completes_buckets_and_keys(
    seaweed: Backend, seeded: str, isolated_env: Path
) -> None:
    """zsh with its own completion system (compinit), the script from `s3kit
    --show-completion`, and Tab pressed in a terminal."""
    functions = SHELLS / "usr" / "share" / "zsh" / "functions"
    modules = SHELLS / "usr" / "lib" / "x86_64-linux-gnu" / "zsh" / "5.9"
    zdotdir = isolated_env / "zdotdir"
    zdotdir.mkdir()
    # Where the unpacked zsh finds its modules and functions: set before the line editor
    # loads (the environment's MODULE_PATH is ignored), so in the startup files.
    (zdotdir / ".zshenv").write_text(f"module_path=({modules})\n")
    (zdotdir / ".zshrc").write_text(
        f"fpath=({functions}/**/*(/N) $fpath)\n"
        "autoload -Uz compinit && compinit -u -D\n"
        'eval "$(s3kit --show-completion zsh)"\n'
        "PS1='$ '\n"
    )
    env = {**_shell_env(seaweed, isolated_env), "ZDOTDIR": str(zdotdir)}
    terminal = Terminal(env, (str(ZSH), "-i"))
    try:
        terminal.type("echo READY\r")
        terminal.read_until("\nREADY")
        assert terminal.line(f"s3kit ls s3://{seeded[:12]}\tdir\tx\t") == (
            f"s3kit ls s3://{seeded}/dir/x.txt"
        )
        assert terminal.line("s3kit ls s3://et\t") == "s3kit ls s3://et"
    finally:
        terminal.close()


@pytest.mark.skipif(not ZSH.exists(), reason="zsh not unpacked (tests/servers/unpack-debs.sh)")
@pytest.mark.parametrize(
    "value", ["s3://b/a  b.txt", "s3://b/it's $HOME `x`", "s3://b/tab\there", "s3://b/é😀\\n"]
)
def test_zsh_reads_every_quoted_key_back_as_it_was(value: str) -> None:
    """The answer to zsh goes through typer's `eval $(...)`, which splits at whitespace and
    would run a `$(...)`: each key must come out of it exactly as it went in."""
    from s3kit.cli.completion import zsh_quote

    process = subprocess.run(
        [str(ZSH), "-f", "-c", f"eval print -rn -- $(print -r -- {shlex.quote(zsh_quote(value))})"],
        env={**os.environ, "LD_LIBRARY_PATH": str(SHELLS / "usr" / "lib" / "x86_64-linux-gnu")},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (process.returncode, process.stdout) == (0, value), process
