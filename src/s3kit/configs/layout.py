"""Where the configuration store keeps what, and the records it keeps there. Pure: names and
documents in, keys and records out; a document that is not a record s3kit wrote is an error
naming its key, never a silent empty history.

Everything lives under one `s3://bucket[/prefix]/`:

    store.json                               the store's settings, written by `configs init`:
                                             {"envs": [...], "protected": [...]}; no file: any
                                             environment name, none protected
    blobs/sha256/<hex>                       each file's bytes, named by their sha256; written
                                             with If-None-Match: * (one already there has the
                                             same bytes: that is fine), never overwritten
    releases/<tool>/<env>/<n>.json           one immutable manifest per push, n = 1, 2, ...,
                                             created with If-None-Match: * (two pushes cannot
                                             take one number: the loser takes n + 1)
    envs/<env>/<tool>/HEAD.json              what the environment serves: {"release": n,
                                             "digest": sha256 of that manifest's bytes, "seq":
                                             pointer moves so far, "move": the last one}; only
                                             changed by compare-and-swap (If-Match on the ETag
                                             read, If-None-Match for the first)
    envs/<env>/<tool>/log/<seq>-<when>.json  one record per pointer move (push, rollback,
                                             promote, restore): from, to, who, when; created
                                             after the swap that made it
    probe/conditional-<hex>                  a scratch object: does this store refuse a second
                                             If-None-Match write? (removed again)

A release holds its files (relative path, sha256, size), the bundle digest, how it was
validated (validator and version), its parent (the release live when it was pushed), author,
message, git commit, creation time and origin (push, promote from ENV@N, restore from a
backup). The bundle digest is the sha256 of the `sha256sum` lines of its files sorted by path
(`<sha256>  <path>\\n` each), so the same files give the same digest however they were pushed.

The move that made HEAD what it is lives in HEAD.json too: the log record written after the
swap can always be written again from it (a writer that died between the two leaves a log
the next move completes), and `seq` orders the log where clocks disagree.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, get_args

from s3kit.errors import S3KitError, UsageError

FORMAT = 1
Tool = Literal["prometheus", "alertmanager", "loki", "jaeger", "grafana"]
TOOLS: tuple[str, ...] = get_args(Tool)
Action = Literal["push", "rollback", "promote", "restore"]
ACTIONS: tuple[str, ...] = get_args(Action)

STORE_FILE = "store.json"
BLOBS = "blobs/sha256/"
RELEASES = "releases/"
ENVS = "envs/"
PROBE = "probe/"

_ENV_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,62}")
_HEX64 = re.compile(r"[0-9a-f]{64}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_RELEASE_NAME = re.compile(r"([1-9][0-9]*)\.json")
_LOG_NAME = re.compile(r"([0-9]+)-[0-9TZ]+\.json")


# -- names ----------------------------------------------------------------------------------------


def check_tool(tool: str) -> str:
    if tool not in TOOLS:
        raise UsageError(f"unknown tool '{tool}' — the store keeps {', '.join(TOOLS)}")
    return tool


def check_env(env: str) -> str:
    """An environment name: letters, digits, '.', '_' and '-', at most 63, not starting with
    punctuation (it is a key segment, and ENV@N names a release of it)."""
    if not _ENV_NAME.fullmatch(env):
        raise UsageError(
            f"'{env}' is not an environment name — use letters, digits, '.', '_' and '-'"
            " (e.g. staging, prod, eu-west-1)"
        )
    return env


def check_path(path: str) -> str:
    """A file's path inside a bundle: relative, '/'-separated, no '.' or '..' segment, no
    control character — what `pull` may write under its destination and nothing else."""
    problem = None
    if not path or path.startswith("/") or "\\" in path:
        problem = "it must be a relative '/'-separated path"
    elif any(part in ("", ".", "..") for part in path.split("/")):
        problem = "it has an empty, '.' or '..' segment"
    elif _CONTROL.search(path):
        problem = "it contains a control character"
    if problem:
        raise UsageError(f"{path!r} cannot be a file of a configuration bundle: {problem}")
    return path


def parse_ref(text: str) -> tuple[str, int | None]:
    """`ENV` (what it serves) or `ENV@N` (its release N)."""
    env, at, number = text.partition("@")
    if not at:
        return check_env(env), None
    if not number.isdigit() or int(number) < 1:
        raise UsageError(f"'{text}': write ENV or ENV@N, N a release number (1, 2, ...)")
    return check_env(env), int(number)


def blob_key(sha256: str) -> str:
    return BLOBS + sha256


def releases_prefix(tool: str, env: str) -> str:
    return f"{RELEASES}{tool}/{env}/"


def release_key(tool: str, env: str, number: int) -> str:
    return f"{releases_prefix(tool, env)}{number}.json"


def release_number(name: str) -> int | None:
    """The number of a release manifest from its name (`12.json`), None for anything else."""
    match = _RELEASE_NAME.fullmatch(name)
    return int(match.group(1)) if match else None


def env_prefix(env: str) -> str:
    return f"{ENVS}{env}/"


def head_key(env: str, tool: str) -> str:
    return f"{env_prefix(env)}{tool}/HEAD.json"


def log_prefix(env: str, tool: str) -> str:
    return f"{env_prefix(env)}{tool}/log/"


def log_seq(name: str) -> int | None:
    match = _LOG_NAME.fullmatch(name)
    return int(match.group(1)) if match else None


# -- time (s3kit.deploy.manifest has the same two; importing it loads all of deploy, 0.25 s) --


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def parse_iso(text: str) -> datetime:
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


# -- records ----------------------------------------------------------------------------------


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True, slots=True)
class FileEntry:
    """One file of a bundle: where it goes under the bundle's root, and its content."""

    path: str
    sha256: str
    size: int

    def __post_init__(self) -> None:
        check_path(self.path)
        if not _HEX64.fullmatch(self.sha256):
            raise UsageError(f"{self.path}: {self.sha256!r} is not a sha256 (64 hex digits)")
        if self.size < 0:
            raise UsageError(f"{self.path}: a size cannot be negative")

    @classmethod
    def of(cls, path: str, data: bytes) -> FileEntry:
        return cls(path, sha256_hex(data), len(data))

    def document(self) -> dict[str, Any]:
        return {"path": self.path, "sha256": self.sha256, "size": self.size}


def bundle_digest(files: Iterable[FileEntry]) -> str:
    """The sha256 of the files' `sha256sum` lines in path order: the same files, the same
    digest, whatever order they were given in (`sha256sum` over the sorted files agrees)."""
    lines = "".join(f"{f.sha256}  {f.path}\n" for f in sorted(files, key=lambda f: f.path))
    return sha256_hex(lines.encode("utf-8"))


def sorted_files(files: Iterable[FileEntry]) -> tuple[FileEntry, ...]:
    """The files in path order; two with one path are an error (a bundle is a folder)."""
    ordered = tuple(sorted(files, key=lambda f: f.path))
    for before, after in itertools.pairwise(ordered):
        if before.path == after.path:
            raise UsageError(f"the bundle names {before.path} twice")
    paths = {f.path for f in ordered}
    for entry in ordered:  # 'a' a file and 'a/b' a file cannot both be written under a folder
        parts = entry.path.split("/")
        for depth in range(1, len(parts)):
            if "/".join(parts[:depth]) in paths:
                raise UsageError(
                    f"the bundle has both a file {'/'.join(parts[:depth])} and {entry.path}"
                )
    return ordered


@dataclass(frozen=True, slots=True)
class Validation:
    """How a release was checked before it was recorded: by which validator (and version,
    "promtool 2.42.0", or "builtin"), and how many warnings it had. None on a release means
    it was pushed with --no-validate."""

    validator: str
    warnings: int = 0

    def document(self) -> dict[str, Any]:
        return {"validator": self.validator, "warnings": self.warnings}


@dataclass(frozen=True, slots=True)
class Release:
    """One recorded bundle of one tool for one environment (`releases/<tool>/<env>/<n>.json`)."""

    tool: str
    env: str
    number: int
    files: tuple[FileEntry, ...]
    created: str  # ISO 8601, UTC
    author: str
    message: str = ""
    parent: int | None = None  # the release the environment served when this one was made
    validation: Validation | None = None
    git: Mapping[str, Any] | None = None  # {"commit": sha, "dirty": bool}
    # How it came to be: {"action": "push"}, {"action": "promote", "env": ..., "release": n},
    # {"action": "restore", "source": ...}
    origin: Mapping[str, Any] = field(default_factory=lambda: {"action": "push"})

    def __post_init__(self) -> None:
        check_tool(self.tool)
        check_env(self.env)
        if self.number < 1:
            raise UsageError("release numbers start at 1")
        object.__setattr__(self, "files", sorted_files(self.files))

    @property
    def digest(self) -> str:
        return bundle_digest(self.files)

    @property
    def ref(self) -> str:
        return f"{self.env}@{self.number}"

    @property
    def size(self) -> int:
        return sum(f.size for f in self.files)

    def document(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "tool": self.tool,
            "env": self.env,
            "release": self.number,
            "digest": self.digest,
            "created": self.created,
            "author": self.author,
            "message": self.message,
            "parent": self.parent,
            "validation": self.validation.document() if self.validation else None,
            "git": dict(self.git) if self.git is not None else None,
            "origin": dict(self.origin),
            "files": [f.document() for f in self.files],
        }

    def body(self) -> bytes:
        """The bytes stored (and hashed into HEAD's `digest`): one fixed rendering."""
        return (json.dumps(self.document(), indent=1, sort_keys=True) + "\n").encode("utf-8")

    @classmethod
    def from_document(cls, document: Any, where: str) -> Release:
        try:
            _check_format(document)
            validation = document.get("validation")
            release = cls(
                tool=str(document["tool"]),
                env=str(document["env"]),
                number=int(document["release"]),
                files=tuple(
                    FileEntry(str(f["path"]), str(f["sha256"]), int(f["size"]))
                    for f in document["files"]
                ),
                created=str(document["created"]),
                author=str(document["author"]),
                message=str(document.get("message") or ""),
                parent=_optional_int(document.get("parent")),
                validation=None
                if validation is None
                else Validation(str(validation["validator"]), int(validation.get("warnings", 0))),
                git=dict(document["git"]) if document.get("git") is not None else None,
                origin=dict(document.get("origin") or {"action": "push"}),
            )
            if release.digest != document.get("digest"):
                raise ValueError("its digest is not the digest of the files it lists")
        except (KeyError, TypeError, ValueError, UsageError) as exc:
            raise _unreadable(where, "release manifest", exc) from exc
        return release


@dataclass(frozen=True, slots=True)
class LogRecord:
    """One pointer move (`envs/<env>/<tool>/log/<seq>-<when>.json`): `seq` counts the moves of
    that pointer, `from_release` is what it served before (None: nothing), `digest` the bundle
    digest now served. `id` tells this move's record from another with the same fields."""

    seq: int
    tool: str
    env: str
    action: Action
    from_release: int | None
    to_release: int
    digest: str
    who: str
    when: str  # ISO 8601, UTC
    message: str = ""
    id: str = ""

    def __post_init__(self) -> None:
        if self.action not in ACTIONS:
            raise UsageError(f"unknown pointer move {self.action!r}")

    @property
    def name(self) -> str:
        """The log object's name: it sorts by `seq` (zero-padded), then says when."""
        moment = parse_iso(self.when).astimezone(UTC)
        return f"{self.seq:08d}-{moment:%Y%m%dT%H%M%SZ}.json"

    @property
    def key(self) -> str:
        return log_prefix(self.env, self.tool) + self.name

    def document(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "seq": self.seq,
            "tool": self.tool,
            "env": self.env,
            "action": self.action,
            "from": self.from_release,
            "to": self.to_release,
            "digest": self.digest,
            "who": self.who,
            "when": self.when,
            "message": self.message,
            "id": self.id,
        }

    def body(self) -> bytes:
        return (json.dumps(self.document(), sort_keys=True) + "\n").encode("utf-8")

    @classmethod
    def from_document(cls, document: Any, where: str) -> LogRecord:
        try:
            _check_format(document)
            action = str(document["action"])
            if action not in ACTIONS:
                raise ValueError(f"unknown action {action!r}")
            return cls(
                seq=int(document["seq"]),
                tool=check_tool(str(document["tool"])),
                env=check_env(str(document["env"])),
                action=action,  # type: ignore[arg-type]  # checked against ACTIONS above
                from_release=_optional_int(document.get("from")),
                to_release=int(document["to"]),
                digest=str(document["digest"]),
                who=str(document["who"]),
                when=str(document["when"]),
                message=str(document.get("message") or ""),
                id=str(document.get("id") or ""),
            )
        except (KeyError, TypeError, ValueError, UsageError) as exc:
            raise _unreadable(where, "log record", exc) from exc


@dataclass(frozen=True, slots=True)
class Head:
    """What an environment serves of one tool (`envs/<env>/<tool>/HEAD.json`): release
    `release`, whose manifest's bytes have sha256 `digest`, made so by `move`."""

    release: int
    digest: str
    move: LogRecord

    @property
    def seq(self) -> int:
        return self.move.seq

    def document(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "release": self.release,
            "digest": self.digest,
            "seq": self.seq,
            "move": self.move.document(),
        }

    def body(self) -> bytes:
        return (json.dumps(self.document(), indent=1, sort_keys=True) + "\n").encode("utf-8")

    @classmethod
    def from_document(cls, document: Any, where: str) -> Head:
        try:
            _check_format(document)
            move = LogRecord.from_document(document["move"], where)
            head = cls(int(document["release"]), str(document["digest"]), move)
            if not _HEX64.fullmatch(head.digest) or int(document["seq"]) != move.seq:
                raise ValueError("its digest or seq is not one s3kit writes")
            if move.to_release != head.release:
                raise ValueError("its last move does not lead to its release")
        except (KeyError, TypeError, ValueError) as exc:
            raise _unreadable(where, "environment pointer", exc) from exc
        return head


@dataclass(frozen=True, slots=True)
class StoreSettings:
    """`store.json`: which environments the store has (empty: any name) and which of them are
    protected (only validated pushes, and promotions of what is live elsewhere, on a store
    whose conditional writes hold)."""

    envs: tuple[str, ...] = ()
    protected: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        for env in (*self.envs, *self.protected):
            check_env(env)

    def is_protected(self, env: str) -> bool:
        return env in self.protected

    def check(self, env: str, where: str) -> str:
        """`env`, if the store has it."""
        check_env(env)
        if self.envs and env not in self.envs and env not in self.protected:
            raise UsageError(
                f"{where} has no environment '{env}' — it has {', '.join(self.envs)} (store.json)"
            )
        return env

    def document(self) -> dict[str, Any]:
        return {"envs": list(self.envs), "protected": sorted(self.protected)}

    @classmethod
    def from_document(cls, document: Any, where: str) -> StoreSettings:
        """Read what `configs init` wrote; keys this version does not know are left alone."""
        try:
            if not isinstance(document, dict):
                raise ValueError("not a JSON object")
            envs, protected = document.get("envs") or [], document.get("protected") or []
            if not isinstance(envs, list) or not isinstance(protected, list):
                raise ValueError('"envs" and "protected" must be lists of names')
            return cls(tuple(str(e) for e in envs), frozenset(str(p) for p in protected))
        except (TypeError, ValueError, UsageError) as exc:
            raise _unreadable(where, "store settings file", exc) from exc


def _check_format(document: Any) -> None:
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        raise ValueError(f"not a format-{FORMAT} document")


def _optional_int(value: Any) -> int | None:
    return None if value is None else int(value)


def _unreadable(where: str, what: str, exc: BaseException) -> S3KitError:
    return S3KitError(
        f"{where} is not a {what} s3kit can read ({exc}) — it was changed by hand or by"
        " another tool; restore it from a backup (`s3kit configs restore`)"
    )


def read_json(data: bytes, where: str) -> Any:
    try:
        return json.loads(data)
    except ValueError as exc:
        raise S3KitError(
            f"{where} is not JSON — it was changed by hand or by another tool"
        ) from exc


__all__ = [
    "ACTIONS",
    "BLOBS",
    "ENVS",
    "FORMAT",
    "PROBE",
    "RELEASES",
    "STORE_FILE",
    "TOOLS",
    "Action",
    "FileEntry",
    "Head",
    "LogRecord",
    "Release",
    "StoreSettings",
    "Tool",
    "Validation",
    "blob_key",
    "bundle_digest",
    "check_env",
    "check_path",
    "check_tool",
    "env_prefix",
    "head_key",
    "iso",
    "log_prefix",
    "log_seq",
    "parse_iso",
    "parse_ref",
    "read_json",
    "release_key",
    "release_number",
    "releases_prefix",
    "sha256_hex",
    "sorted_files",
]
