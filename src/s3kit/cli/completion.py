"""Shell completion: buckets and keys for `s3://` words, local paths for the rest.

On Tab the shell runs `s3kit` itself with `_S3KIT_COMPLETE` set (typer's protocol, e.g.
`_S3KIT_COMPLETE=complete_bash COMP_WORDS="s3kit ls s3://" COMP_CWORD=2 s3kit`). An argument
that takes an S3 URL names one of the callbacks below as its `autocompletion`:

- `s3://` and no '/' after the bucket yet: bucket names (ListBuckets);
- after the bucket: the keys and prefixes under what was typed, one level at a time
  (ListObjectsV2 with delimiter '/'), at most LIMIT of them, from one page;
- anything else: nothing, so the shell completes a local path itself (typer's scripts fall
  back to file completion when the answer is empty; a "file" item would be taken literally).

Answers are kept CACHE_SECONDS in the user cache dir, so pressing Tab again costs no request:
one 0600 file per endpoint, account and prefix, named by a digest of them, holding nothing but
the names (never a secret; the access key id only inside the digest).

The session is built as the command would build it (the global options already on the line,
the environment, s3kit.yaml, a saved connection), with a short connect timeout, no retries and
the embedded server used only if it already runs. This module must never print — not an error,
not a warning, not a traceback: the output lands in the middle of the user's command line — and
must never keep the shell waiting: a failing or slow endpoint gives no items within DEADLINE.

Bash splits `s3://bucket/key` at the colon (COMP_WORDBREAKS): s3kit's bash class joins the
pieces again (`rejoin_words`) and answers only the part after the colon, which is what bash
replaces; its script (BASH_SCRIPT) adds no space after a bucket or a prefix, so Tab can go on
one level further. zsh and fish get the same answers, each in its own form: for zsh one
`compadd` per item (no space after a bucket or a prefix), for fish an "s3://" word is always
s3kit's, so that neither falls back to completing `s3://et` as the local folder /etc. Global
options typed after the command are moved in front of it, as for a real run, so
`s3kit ls --profile x s3://<Tab>` lists with that profile.
"""

from __future__ import annotations

import contextlib
import functools
import io
import os
import threading
import time
from collections.abc import Callable, Generator, Iterable
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol, cast

import typer

if TYPE_CHECKING:
    from s3kit._local_server import LocalServer
    from s3kit._session import Session
    from s3kit.storage.base import ObjectInfo, Prefix

LIMIT = 200  # entries in one answer; a shell shows no more usefully anyway
CACHE_SECONDS = 10.0
CONNECT_TIMEOUT = 2.0
READ_TIMEOUT = 3.0
DEADLINE = 5.0  # the whole lookup, credentials included, before the shell gets nothing
_STALE_FILES = 3600.0  # cache files older than this are removed when another is written

# What an argument takes: a local path or an S3 URL, an S3 URL (bucket, key or prefix), a bucket.
Kind = Literal["location", "s3", "bucket"]


class Lister(Protocol):
    """What completion asks a store: its names, and the account they belong to."""

    @property
    def scope(self) -> str:
        """Who is asking, for the cache key (hashed): endpoint, profile, access key id."""
        ...

    def buckets(self) -> list[str]: ...

    def children(self, bucket: str, prefix: str, limit: int) -> list[str]:
        """Keys and common prefixes (ending in '/') directly under `prefix`, in key order."""
        ...


class CompletionCache:
    """Recent answers, one small private file each, valid for `ttl` seconds."""

    def __init__(
        self, folder: Path, *, ttl: float = CACHE_SECONDS, clock: Callable[[], float] = time.time
    ) -> None:
        self.folder = folder
        self._ttl = ttl
        self._clock = clock

    def path(self, key: Iterable[str]) -> Path:
        import hashlib  # only a lookup needs it, not every command that imports this module

        digest = hashlib.sha256("\0".join(key).encode("utf-8", "surrogateescape")).hexdigest()
        return self.folder / f"{digest[:40]}.json"

    def get(self, key: Iterable[str]) -> list[str] | None:
        import json  # as hashlib: for completion, not for every command

        try:
            saved = json.loads(self.path(key).read_text(encoding="utf-8"))
            at, names = float(saved["at"]), saved["names"]
        except (OSError, ValueError, KeyError, TypeError):
            return None
        fresh = 0 <= self._clock() - at <= self._ttl
        if not fresh or not isinstance(names, list):
            return None
        return [str(name) for name in names]

    def put(self, key: Iterable[str], names: list[str]) -> None:
        import json

        from s3kit._atomic import write_file

        self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        text = json.dumps({"at": self._clock(), "names": names})
        write_file(self.path(key), text.encode("utf-8"), fsync=False, mode=0o600)
        self._prune()

    def _prune(self) -> None:
        now = self._clock()
        for entry in self.folder.glob("*.json"):
            with contextlib.suppress(OSError):
                if now - entry.stat().st_mtime > _STALE_FILES:
                    entry.unlink()


def default_cache() -> CompletionCache:
    import platformdirs

    return CompletionCache(Path(platformdirs.user_cache_dir("s3kit")) / "completion")


def candidates(
    text: str,
    kind: Kind,
    connect: Callable[[], Lister],
    *,
    cache: CompletionCache | None = None,
    limit: int = LIMIT,
    default_bucket: str | None = None,
) -> list[str]:
    """The completions of `text` for an argument of `kind`. `connect` is called only when the
    store must be asked (an `s3://` word); whatever it raises is the caller's to swallow."""
    if not text.startswith("s3:"):
        # A start of "s3://" offers the scheme where only S3 makes sense; otherwise the shell
        # completes local paths (an empty answer is what lets it).
        return ["s3://"] if kind != "location" and text and "s3://".startswith(text) else []
    if not text.startswith("s3://"):
        if not "s3://".startswith(text):
            return []
        text = "s3://"
    rest = text[len("s3://") :]
    if rest.startswith("/"):  # s3:///key: the saved connection's bucket
        if default_bucket is None or kind == "bucket":
            return []
        return _keys("s3:///", default_bucket, rest[1:], connect, cache, limit)
    if "/" not in rest:
        lister = connect()
        names = _cached(cache, (lister.scope, "buckets"), lister.buckets)
        tail = "" if kind == "bucket" else "/"
        return [f"s3://{name}{tail}" for name in sorted(n for n in names if n.startswith(rest))][
            :limit
        ]
    if kind == "bucket":
        return []
    bucket, _, key = rest.partition("/")
    return _keys(f"s3://{bucket}/", bucket, key, connect, cache, limit)


def _keys(
    head: str,
    bucket: str,
    prefix: str,
    connect: Callable[[], Lister],
    cache: CompletionCache | None,
    limit: int,
) -> list[str]:
    lister = connect()
    # The listing asks for the whole typed prefix, not its folder: in a folder of a million
    # keys the first page of the folder would rarely hold the ones being typed.
    names = _cached(
        cache,
        (lister.scope, "keys", bucket, prefix),
        lambda: lister.children(bucket, prefix, limit),
    )
    return [head + name for name in names[:limit]]


def _cached(
    cache: CompletionCache | None, key: tuple[str, ...], fetch: Callable[[], list[str]]
) -> list[str]:
    if cache is None:
        return fetch()
    found = cache.get(key)
    if found is not None:
        return found
    names = fetch()
    with contextlib.suppress(OSError):  # an unwritable cache costs a request next time
        cache.put(key, names)
    return names


# -- the store, as the command would reach it -------------------------------------------------


class SessionLister:
    """`Lister` over a Session: ListBuckets through the service, one listing page for keys."""

    def __init__(self, session: Session) -> None:
        self._session = session

    @property
    def scope(self) -> str:
        settings = self._session.settings
        key_id = settings.credentials.access_key_id if settings.credentials else ""
        return "\0".join((self._session.endpoint_label, settings.profile or "", key_id))

    def buckets(self) -> list[str]:
        from s3kit.service import S3Service

        return [bucket.name for bucket in S3Service(self._session).list_buckets()]

    def children(self, bucket: str, prefix: str, limit: int) -> list[str]:
        from s3kit._aio import iter_sync

        listing = self._session.storage(bucket).list_async(prefix, delimiter="/", page_size=limit)
        # Closed at once: the generator then ends the event loop the listing runs in.
        entries = cast("Generator[ObjectInfo | Prefix]", iter_sync(listing))
        with contextlib.closing(entries):
            return [entry.key for entry in islice(entries, limit)]


def completion_session(ctx: typer.Context) -> tuple[Session, str | None]:
    """The Session the command being typed would use, built for completion, and the saved
    connection's default bucket. Click runs no callback while completing: the global options
    are read from what it parsed of the line, then s3kit.yaml and the connection are found as
    the root callback finds them."""
    from s3kit.cli.global_config import load_global_config
    from s3kit.cli.state import CliState, default_bucket

    params = ctx.find_root().params
    state = CliState()
    state.take_globals(params)
    load_global_config(state, connection=params.get("connection"), config=params.get("config"))
    env = state.session_env() or os.environ
    session = state.make_session(
        connect_timeout=CONNECT_TIMEOUT,
        read_timeout=READ_TIMEOUT,
        max_retries=0,
        notify=_ignore,
        local_server=_running_server(env.get("S3KIT_LOCAL_DIR")),
    )
    return session, default_bucket()


def _ignore(message: str) -> None:
    del message


def _running_server(local_dir: str | None) -> LocalServer:
    """The embedded server, if it runs already: a Tab must not start one (that takes seconds
    and leaves a server running); with none running, completion has nothing to ask."""
    from s3kit._local_server import LocalServer, LocalServerState
    from s3kit.errors import LocalServerError

    class RunningOnly(LocalServer):
        def start(self, *, port: int | None = None) -> tuple[LocalServerState, bool]:
            state = self.running_state()
            if state is None:
                raise LocalServerError("the local server is not running")
            return state, False

    return RunningOnly(Path(local_dir).expanduser() if local_dir else None, notify=_ignore)


def within(seconds: float, work: Callable[[], list[str]]) -> list[str]:
    """`work()`'s answer if it comes within `seconds`, else none; any exception is none too.
    The worker is a daemon thread: a completion run exits without waiting for it."""
    answer: list[list[str]] = []

    def run() -> None:
        with contextlib.suppress(Exception):
            answer.append(work())

    worker = threading.Thread(target=run, name="s3kit-complete", daemon=True)
    worker.start()
    worker.join(seconds)
    return answer[0] if answer else []


def complete(ctx: typer.Context, incomplete: str, kind: Kind) -> list[str]:
    """The completions for `incomplete`, never raising, never printing."""
    if not incomplete.startswith("s3:"):  # no store to ask: no session to build
        return candidates(incomplete, kind, _never)
    # stderr is caught as well: a warning or a log line would land on the user's command line.
    with contextlib.redirect_stderr(io.StringIO()):
        try:
            session, bucket = completion_session(ctx)
        except Exception:
            return []
        return within(
            DEADLINE,
            lambda: candidates(
                incomplete,
                kind,
                lambda: SessionLister(session),
                cache=default_cache(),
                default_bucket=bucket,
            ),
        )


def _never() -> Lister:
    raise AssertionError("a local path needs no store")


def complete_location(ctx: typer.Context, incomplete: str) -> list[str]:
    """A local path or an S3 URL (cp, mv, sync)."""
    return complete(ctx, incomplete, "location")


def complete_s3_url(ctx: typer.Context, incomplete: str) -> list[str]:
    """An S3 URL: a bucket, a prefix or a key (ls, rm, cat, object ...)."""
    return complete(ctx, incomplete, "s3")


def complete_bucket(ctx: typer.Context, incomplete: str) -> list[str]:
    """s3://bucket (mb, rb, bucket ...)."""
    return complete(ctx, incomplete, "bucket")


# -- the shells ---------------------------------------------------------------------------------

# typer's bash script with three changes: its output is read line by line (no glob expansion
# of a key with '*' in it), no space is added after a single answer ending in '/' (a bucket or
# a prefix, to be completed further), and an s3:// word with no answer gets no local file
# completion (bash would offer /dev for the "//d" it sees after the colon).
BASH_SCRIPT = r"""
%(complete_func)s() {
    local IFS=$'\n'
    mapfile -t COMPREPLY < <(env COMP_WORDS="${COMP_WORDS[*]}" \
                   COMP_CWORD=$COMP_CWORD \
                   %(autocomplete_var)s=complete_bash $1 2>/dev/null)
    if [[ ${#COMPREPLY[@]} -eq 1 && ${COMPREPLY[0]} == */ ]]; then
        compopt -o nospace
    fi
    local typed=${COMP_LINE:0:COMP_POINT}
    if [[ ${#COMPREPLY[@]} -eq 0 && ${typed##*[[:space:]]} == s3:* ]]; then
        compopt +o default
    fi
    return 0
}

complete -o default -F %(complete_func)s %(prog_name)s
"""


def rejoin_words(words: list[str], cword: int) -> tuple[list[str], int]:
    """The words up to the one being completed as they were typed, and how many characters of
    each answer bash must not be given back: it replaces only the part of the word after the
    last ':' or '='. Bash splits there, so `s3://b/k` comes as `s3`, `:`, `//b/k`: a word of
    colons joins its neighbours, as does '=' after an option name (`--dest=s3://b`, whose
    answers click computes for the value alone). (A colon typed alone between spaces is joined
    too: no s3kit argument is a lone ':'.)"""
    typed = [*words[:cword], words[cword] if cword < len(words) else ""]
    joined: list[str] = []
    glue = False
    for word in typed:
        splitter = bool(word) and (
            set(word) == {":"} or (word == "=" and len(joined) > 1 and joined[-1].startswith("-"))
        )
        if len(joined) > 1 and (splitter or glue):
            joined[-1] += word
            glue = splitter
        else:
            joined.append(word)
            glue = False
    word = joined[-1]
    value = word.partition("=")[2] if word.startswith("-") and "=" in word else word
    return joined, max(0, len(value) - len(typed[-1]))


_ZSH_PLAIN = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._-:@+=,")


def zsh_quote(value: str) -> str:
    """`value` as one zsh word that survives typer's `eval $(...)` (which splits the answer at
    whitespace): $'...' with every character outside a plain set escaped by its code point."""
    return (
        "$'"
        + "".join(
            c
            if c in _ZSH_PLAIN
            else (f"\\u{ord(c):04x}" if ord(c) <= 0xFFFF else f"\\U{ord(c):08x}")
            for c in value
        )
        + "'"
    )


@functools.cache
def _shell_classes() -> dict[str, type]:
    """typer's completion classes, each taught to move global options typed after the command
    to where click reads them (as `S3KitGroup.main` does for a real run), and bash to join the
    words it split."""
    from typer._click.shell_completion import CompletionItem, ShellComplete, get_completion_class
    from typer._completion_classes import BashComplete, FishComplete, ZshComplete

    from s3kit.cli.state import hoist_global_options

    class Hoisting(ShellComplete):
        def get_completions(self, args: list[str], incomplete: str) -> list[CompletionItem]:
            with contextlib.suppress(Exception):  # a line click will reject completes as typed
                args = hoist_global_options(self.cli, args)
            return super().get_completions(args, incomplete)

    class Bash(Hoisting, BashComplete):
        source_template = BASH_SCRIPT
        keep = 0

        def get_completion_args(self) -> tuple[list[str], str]:
            from typer._click.shell_completion import split_arg_string

            words = split_arg_string(os.environ.get("COMP_WORDS", ""))
            joined, self.keep = rejoin_words(words, int(os.environ.get("COMP_CWORD", "0")))
            return joined[1:-1], joined[-1]

        def format_completion(self, item: CompletionItem) -> str:
            return str(item.value)[self.keep :]

    class Fish(Hoisting, FishComplete):
        def complete(self) -> str:
            # fish asks first whether s3kit has answers ("is-args"); told no, it completes
            # local paths itself, and takes `s3://et` for the folder /etc. An s3:// word is
            # never a local path: with nothing to offer, the answer is still "mine".
            _, incomplete = self.get_completion_args()
            if os.environ.get("_TYPER_COMPLETE_FISH_ACTION") == "is-args" and (
                incomplete.startswith("s3:")
            ):
                raise SystemExit(0)
            return str(super().complete())

    class Zsh(Hoisting, ZshComplete):
        def complete(self) -> str:
            # typer answers zsh with `_arguments`, which puts a space after every match,
            # `s3://bucket/` included, and `_files` when there is none, which completes
            # `s3://et` to the folder /etc. For an s3:// word: one `compadd` per item, with
            # no space after a bucket or a prefix, and nothing at all when nothing matches.
            args, incomplete = self.get_completion_args()
            if not incomplete.startswith("s3:"):
                return str(super().complete())
            adds = []
            for item in self.get_completions(args, incomplete):
                value = str(item.value)
                suffix = "-S '' " if value.endswith("/") else ""
                adds.append(f"compadd {suffix}-- {zsh_quote(value)}")
            return "; ".join(adds) or ":"

    classes: dict[str, type] = {"bash": Bash, "fish": Fish, "zsh": Zsh}
    for name in ("powershell", "pwsh"):
        base = get_completion_class(name)
        if base is not None:
            classes[name] = type(base.__name__, (Hoisting, base), {})
    return classes


def use_s3kit_shells() -> None:
    """Put s3kit's completion classes and bash script where typer looks for them. Called before
    every run: typer registers its own classes each time it builds the command."""
    from typer import _completion_shared
    from typer._click.shell_completion import add_completion_class

    for name, cls in _shell_classes().items():
        add_completion_class(cls, name)
    # What --show-completion prints and --install-completion writes (typer reads this table).
    scripts = getattr(_completion_shared, "_completion_scripts", None)
    if isinstance(scripts, dict):
        scripts["bash"] = BASH_SCRIPT
