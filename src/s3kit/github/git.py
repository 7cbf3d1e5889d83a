"""Running git for `s3kit github deploy`: which commit a ref names (`ls-remote`), and a shallow
clone of exactly that commit, over any URL git accepts (https, ssh, file://).

A clone asks for as little as it can: one commit (`--depth 1`), and, where only the site's
folder is needed, no file contents but those of that folder (`--filter=blob:none --sparse`, then
`git sparse-checkout set PATH`). A server that refuses any of that gets a plain shallow clone.

What it must never do: put a token in a URL, an argument or a message. The token travels in an
`http.<origin>/.extraheader` set through git's GIT_CONFIG_* environment variables (what
actions/checkout writes into .git/config), only to the GitHub server's own origin over https
(or plain http to this machine), never to another host; git's stderr is redacted before it
reaches an error. It never prompts (GIT_TERMINAL_PROMPT=0), and the GIT_* variables of a caller
(a hook's GIT_DIR) never steer it at another repository.
"""

from __future__ import annotations

import base64
import contextlib
import os
import re
import shutil
import stat
import subprocess
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

from s3kit._observe import redact
from s3kit._uri import is_loopback
from s3kit.errors import S3KitError, UsageError

DEFAULT_SERVER_URL = "https://github.com"
_FULL_SHA = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
# What a caller's environment may hold that would point git at another repository or make it
# print what it sends (GIT_TRACE_CURL shows headers; git redacts them, but not all versions).
_STEERING = (
    "GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY", "GIT_COMMON_DIR",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES", "GIT_NAMESPACE", "GIT_PREFIX", "GIT_CEILING_DIRECTORIES",
    "GIT_DISCOVERY_ACROSS_FILESYSTEM", "GIT_TRACE", "GIT_TRACE_CURL", "GIT_TRACE_PACKET",
    "GIT_TRACE2", "GIT_TRACE2_EVENT", "GIT_TRACE2_PERF", "GIT_CURL_VERBOSE",
)  # fmt: skip

# Runs one command: (argv, working folder, environment, stdin text) -> its result.
Runner = Callable[
    [Sequence[str], Path | None, Mapping[str, str], str | None],
    "subprocess.CompletedProcess[str]",
]


class GitError(S3KitError):
    """git failed, or is not installed; the message holds git's own words, redacted."""


def _run(
    args: Sequence[str], cwd: Path | None, env: Mapping[str, str], text: str | None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        list(args), cwd=cwd, env=dict(env), input=text, capture_output=True, text=True,
        errors="replace", check=False,
        stdin=subprocess.DEVNULL if text is None else None,
    )  # fmt: skip


def server_url(env: Mapping[str, str]) -> str:
    """The GitHub server repositories are cloned from: GITHUB_SERVER_URL (set in Actions, the
    Enterprise Server's address there), else https://github.com; no trailing slash."""
    return (env.get("GITHUB_SERVER_URL", "").strip() or DEFAULT_SERVER_URL).rstrip("/")


def repository_url(repository: str, env: Mapping[str, str]) -> str:
    """The clone URL of OWNER/NAME on the GitHub server."""
    return f"{server_url(env)}/{repository}.git"


def is_full_sha(text: str) -> bool:
    return _FULL_SHA.fullmatch(text) is not None


def ref_name(ref: str) -> str:
    """A branch or tag as `git clone --branch` takes it (without refs/heads/, refs/tags/)."""
    for prefix in ("refs/heads/", "refs/tags/"):
        if ref.startswith(prefix):
            return ref[len(prefix) :]
    return ref


def pick_ref(listing: str, ref: str) -> str | None:
    """The commit `ref` names in `git ls-remote` output: the exact ref when it is spelled out
    (refs/...), else the branch, else the tag (the commit an annotated tag points to, its
    `^{}` line); None when it names none of them."""
    found: dict[str, str] = {}
    for line in listing.splitlines():
        sha, _, name = line.strip().partition("\t")
        if sha and name:
            found[name] = sha
    wanted = [ref] if ref.startswith("refs/") else [f"refs/heads/{ref}", f"refs/tags/{ref}"]
    for name in wanted:
        if name + "^{}" in found:
            return found[name + "^{}"]
        if name in found:
            return found[name]
    return None


def safe_path(path: str) -> str:
    """A folder of the repository as '/'-separated relative path ("." for the root); a path that
    is absolute or climbs out (`..`) is refused."""
    text = path.strip().replace("\\", "/")
    pure = PurePosixPath(text or ".")
    if pure.is_absolute() or ".." in pure.parts:
        raise UsageError(f"--path {path!r} must be a folder inside the repository, e.g. dist")
    return pure.as_posix()


def _origin(url: str) -> tuple[str, str, int] | None:
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    scheme = parts.scheme.lower()
    return scheme, parts.hostname.lower(), parts.port or (443 if scheme == "https" else 80)


def display_url(url: str) -> str:
    """`url` fit for a message: credentials written into it (user:token@) masked."""
    return redact(url)


class Git:
    """git, run for one GitHub server: `token` (a GitHub token, or None) goes to that server's
    origin only (`server` as GITHUB_SERVER_URL gives it). `env` is the environment git starts
    from (default: this process's), `runner` runs one git command (tests swap it)."""

    def __init__(
        self,
        *,
        token: str | None = None,
        server: str = DEFAULT_SERVER_URL,
        env: Mapping[str, str] | None = None,
        runner: Runner = _run,
        executable: str = "git",
    ) -> None:
        self._token = token or None
        self._server_origin = _origin(server)
        self._base_env = dict(os.environ if env is None else env)
        self._runner = runner
        self._executable = executable

    def __repr__(self) -> str:
        return f"Git(token={'***' if self._token else None})"

    # -- the environment ---------------------------------------------------------------------

    def sends_token_to(self, url: str) -> bool:
        """Whether a request to `url` carries the token: only to the GitHub server's origin,
        and over https unless that is this machine."""
        origin = _origin(url)
        if self._token is None or origin is None or origin != self._server_origin:
            return False
        return origin[0] == "https" or is_loopback(origin[1])

    def environment(self, url: str) -> dict[str, str]:
        """The environment a git command for `url` runs with."""
        env = {k: v for k, v in self._base_env.items() if k not in _STEERING}
        env["GIT_TERMINAL_PROMPT"] = "0"
        env["GCM_INTERACTIVE"] = "never"
        if self.sends_token_to(url):
            assert self._token is not None and self._server_origin is not None
            scheme, host, port = self._server_origin
            default = 443 if scheme == "https" else 80
            name = f"[{host}]" if ":" in host else host
            origin = f"{scheme}://{name}" + ("" if port == default else f":{port}")
            try:
                count = int(env.get("GIT_CONFIG_COUNT", "0"))
            except ValueError:
                count = 0
            env[f"GIT_CONFIG_KEY_{count}"] = f"http.{origin}/.extraheader"
            env[f"GIT_CONFIG_VALUE_{count}"] = f"Authorization: Basic {self._basic()}"
            env["GIT_CONFIG_COUNT"] = str(count + 1)
        return env

    def _basic(self) -> str:
        assert self._token is not None
        return base64.b64encode(f"x-access-token:{self._token}".encode()).decode()

    def _secrets(self) -> list[str]:
        return [self._token, self._basic()] if self._token else []

    # -- commands ----------------------------------------------------------------------------

    def run(
        self, args: Sequence[str], *, url: str, cwd: Path | None = None, input: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        """One git command about `url`, its output captured (stdout never holds a secret: the
        commands run here print refs and SHAs; stderr is redacted where it is shown)."""
        try:
            return self._runner([self._executable, *args], cwd, self.environment(url), input)
        except FileNotFoundError:
            raise GitError(
                "git is not installed (s3kit github deploy runs it to clone) — install git"
            ) from None

    def _fail(self, what: str, done: subprocess.CompletedProcess[str]) -> GitError:
        said = _last_words(redact(done.stderr or "", self._secrets()))
        return GitError(
            f"{what} failed (git exit code {done.returncode}){': ' + said if said else ''}"
        )

    def ls_remote(self, url: str, ref: str) -> str:
        """The commit `ref` (a branch or tag) names at `url`; a full SHA is taken as it is."""
        if is_full_sha(ref):
            return ref
        done = self.run(["ls-remote", "--", url, ref], url=url)
        if done.returncode != 0:
            raise self._fail(f"git ls-remote {display_url(url)}", done)
        sha = pick_ref(done.stdout, ref)
        if sha is None:
            raise UsageError(
                f"no branch or tag {ref!r} at {display_url(url)} — give a branch, a tag or a"
                " full commit SHA (or set GITHUB_TOKEN to resolve short SHAs through the API)"
            )
        return sha

    def clone(
        self, url: str, ref: str, dest: Path, *, sha: str | None = None, sparse: str | None = None
    ) -> str:
        """A shallow clone of `ref` at `url` into `dest` (which must not exist); with `sha`, of
        that commit or not at all. With `sparse` (a folder), only that folder and the root's
        files are fetched and checked out where the server allows it. Returns the commit
        checked out."""
        if is_full_sha(ref):
            self._fetch_commit(url, ref, dest)
            return self.head(dest, url)
        name = ref_name(ref)
        cloned = False
        if sparse not in (None, "", "."):
            cloned = (
                self._clone(url, name, dest, partial=True) is None
                and self._sparse_set(dest, url, str(sparse)) is None
            )
            if not cloned:  # the plain clone below says what is wrong, if anything is
                remove_tree(dest)
        if not cloned:
            error = self._clone(url, name, dest, partial=False)
            if error is not None:
                remove_tree(dest)
                if sha is None:
                    raise error
                try:  # a short SHA the API resolved is no branch to clone: fetch the commit
                    self._fetch_commit(url, sha, dest)
                except GitError:
                    raise error from None
                return self.head(dest, url)
        head = self.head(dest, url)
        if sha is not None and head != sha:
            # The ref moved between resolving and cloning it (or the clone URL is a mirror that
            # lags): fetch the very commit resolved, or say why not.
            fetched = self.run(["fetch", "--quiet", "--depth", "1", "origin", sha], url=url,
                               cwd=dest)  # fmt: skip
            if fetched.returncode != 0:
                raise GitError(
                    f"{ref} at {display_url(url)} is now {head[:12]}, not the {sha[:12]} it was"
                    " resolved to, and that commit cannot be fetched — run again"
                )
            self._checkout(url, dest, sha)
            head = self.head(dest, url)
        return head

    def _clone(self, url: str, name: str, dest: Path, *, partial: bool) -> GitError | None:
        args = ["-c", "advice.detachedHead=false", "clone", "--quiet", "--depth", "1",
                "--no-tags", f"--branch={name}"]  # fmt: skip
        if partial:
            args += ["--filter=blob:none", "--sparse"]
        done = self.run([*args, "--", url, str(dest)], url=url)
        if done.returncode == 0:
            return None
        return self._fail(f"git clone of {name} from {display_url(url)}", done)

    def _sparse_set(self, dest: Path, url: str, folder: str) -> GitError | None:
        """Check out only `folder` (and the root's files, which cone mode always keeps); the
        folder goes on stdin, so no name is ever read as an option."""
        done = self.run(["sparse-checkout", "set", "--stdin"], url=url, cwd=dest,
                        input=folder + "\n")  # fmt: skip
        return None if done.returncode == 0 else self._fail("git sparse-checkout set", done)

    def _checkout(self, url: str, dest: Path, sha: str) -> None:
        done = self.run(["-c", "advice.detachedHead=false", "checkout", "--quiet", "--detach",
                         sha], url=url, cwd=dest)  # fmt: skip
        if done.returncode != 0:
            raise self._fail(f"git checkout {sha[:12]}", done)

    def _fetch_commit(self, url: str, sha: str, dest: Path) -> None:
        """`dest` made a repository holding commit `sha` alone, checked out (for servers that
        let a client ask for a commit by SHA: GitHub, and git's protocol v2)."""
        steps: list[tuple[list[str], Path | None]] = [
            (["init", "--quiet", str(dest)], None),
            (["remote", "add", "--", "origin", url], dest),
            (["fetch", "--quiet", "--depth", "1", "origin", sha], dest),
        ]
        try:
            for args, cwd in steps:
                done = self.run(args, url=url, cwd=cwd)
                if done.returncode != 0:
                    raise self._fail(f"fetching commit {sha[:12]} from {display_url(url)}", done)
            self._checkout(url, dest, sha)
        except BaseException:
            remove_tree(dest)
            raise

    def head(self, dest: Path, url: str) -> str:
        done = self.run(["rev-parse", "HEAD"], url=url, cwd=dest)
        if done.returncode != 0:
            raise self._fail("git rev-parse HEAD", done)
        return done.stdout.strip()


def _last_words(stderr: str) -> str:
    """What git said that matters: its fatal/error lines, else its last line."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    chosen = [line for line in lines if line.startswith(("fatal:", "error:"))] or lines[-1:]
    return " / ".join(chosen)[:400]


def remove_tree(path: Path) -> None:
    """Remove `path` and everything in it, read-only files and folders too (git packs are
    read-only; so are some of what builds leave), without following links out of it."""

    def writable_then_retry(function: Callable[..., object], name: str, _: object) -> None:
        entry = Path(name)
        with contextlib.suppress(OSError):
            entry.parent.chmod(stat.S_IRWXU)
            if not entry.is_symlink():  # a link's mode is its target's, maybe outside
                entry.chmod(stat.S_IRWXU)
        with contextlib.suppress(FileNotFoundError):
            function(name)

    if path.is_symlink() or path.is_file():
        path.unlink(missing_ok=True)
    elif path.exists():
        shutil.rmtree(path, onerror=writable_then_retry)


__all__ = [
    "DEFAULT_SERVER_URL",
    "Git",
    "GitError",
    "display_url",
    "is_full_sha",
    "pick_ref",
    "ref_name",
    "remove_tree",
    "repository_url",
    "safe_path",
    "server_url",
]
