"""The on-disk cache of config stores: pointers, release manifests and blobs, for `configs
watch` and `configs warm`.

Three kinds of entry, each a plain file under the user's cache folder
(`$XDG_CACHE_HOME/s3kit/configs`, platformdirs' user cache dir elsewhere):

- pointers (`envs/ENV/TOOL/HEAD.json`) are fresh for a TTL (30 s by default); after it they are
  revalidated with a conditional GET (If-None-Match with the ETag they came with): a 304 keeps
  the copy and restarts its TTL, a 200 replaces it. When the store cannot be reached, a copy at
  most `max_stale` seconds past its TTL is served (and said to be stale) instead of failing;
- release manifests (`releases/TOOL/ENV/N.json`) never change once written: kept until evicted,
  named by the digest HEAD gives them (the sha256 of their bytes), checked on every read;
- blobs (`blobs/sha256/HEX`) are content-addressed: kept until evicted, shared by every store,
  and checked against their sha256 on every read — a copy that does not match is dropped and
  fetched again, and a fetched blob that does not match is refused, never cached.

`index.json` records each entry's size and last use (for LRU eviction down to `max_bytes`) and
the counters `configs cache stats` shows (hits, misses, revalidations, stale copies served,
corrupted copies dropped, evictions). Those of this process also go to `on_count` (the CLI's
`s3kit.metrics.Metrics.count_cache`, for `--stats` and `/metrics`), one call per event.
Every file is JSON or raw bytes written atomically (`s3kit._atomic`); nothing is pickled.
Processes sharing the folder take a lock on the index while they change it (fcntl, where there
is one).

The store is reached through a `Transport` (`S3Transport` over the Session's signed HTTP path;
tests pass fakes), the clock is injected: the cache logic is pure apart from its folder.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Literal, Protocol

from s3kit._atomic import write_file
from s3kit._units import MiB
from s3kit.configs.layout import (
    Head,
    Release,
    blob_key,
    check_env,
    check_tool,
    head_key,
    read_json,
    release_key,
)
from s3kit.errors import (
    EndpointError,
    S3KitError,
    Throttled,
    TransferError,
    translate,
    translating,
)

if TYPE_CHECKING:
    from s3kit._session import Session
    from s3kit._uri import S3Url

DEFAULT_TTL = 30.0
DEFAULT_MAX_BYTES = 256 * MiB
INDEX = "index.json"
COUNTERS = ("hits", "misses", "revalidations", "stale", "dropped", "evicted")
_SHA256 = re.compile(r"[0-9a-f]{64}")

Source = Literal["cache", "revalidated", "fetched", "stale"]
Kind = Literal["pointer", "manifest", "blob"]


# -- the transport -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Fetched:
    body: bytes
    etag: str | None = None


class Transport(Protocol):
    """How the cache reaches one store; keys are relative to the store's root."""

    @property
    def scope(self) -> str:
        """Names the store (endpoint, bucket, prefix): cached pointers are kept per scope."""
        ...

    def get(self, key: str, *, if_none_match: str | None = None) -> Fetched | None:
        """The object, or None when `if_none_match` still matches (304 Not Modified). Raises
        `ObjectNotFound` for a missing key, other `S3KitError`s as the store answered."""
        ...

    def keys(self, prefix: str) -> Iterator[str]:
        """Every key under `prefix`, relative to the store's root."""
        ...


class S3Transport:
    """A store at s3://bucket[/prefix], over the Session's signed HTTP path (so every request
    is a `RequestEvent` on `session.events`)."""

    def __init__(self, session: Session, url: S3Url) -> None:
        self.session = session
        self.bucket = url.bucket
        key = url.key.strip("/")
        self.prefix = f"{key}/" if key else ""

    @property
    def scope(self) -> str:
        return f"{self.session.endpoint_label}/{self.bucket}/{self.prefix}"

    def get(self, key: str, *, if_none_match: str | None = None) -> Fetched | None:
        headers = {"If-None-Match": if_none_match} if if_none_match else None
        try:
            response = self.session.http().request(
                "GET", self.bucket, self.prefix + key, headers=headers, operation="GetObject"
            )
        except S3KitError as exc:
            # The signed path treats every 3xx as a redirect it must not follow; a 304 to a
            # conditional GET is the answer asked for.
            if exc.status == 304 and if_none_match:
                return None
            raise
        etag = next((v for k, v in response.headers.items() if k.lower() == "etag"), None)
        return Fetched(response.body, etag)

    def keys(self, prefix: str) -> Iterator[str]:
        from s3kit.storage.base import ObjectInfo

        for entry in self.session.storage(self.bucket).list(self.prefix + prefix):
            if isinstance(entry, ObjectInfo):
                yield entry.key[len(self.prefix) :]


def unreachable(exc: BaseException) -> bool:
    """The store could not answer (no connection, throttled, a 5xx): a stale copy may do.
    A definite answer (404, 403) is never papered over with one."""
    if isinstance(exc, Throttled):
        return True
    if isinstance(exc, EndpointError) and exc.status is None:
        return True
    return isinstance(exc, S3KitError) and (exc.status or 0) >= 500


# -- the cache ---------------------------------------------------------------------------------


def default_folder() -> Path:
    import platformdirs

    return Path(platformdirs.user_cache_dir("s3kit")) / "configs"


@dataclass(frozen=True, slots=True)
class Cached:
    """What the cache handed out, and where it came from; `age`: seconds since the store last
    confirmed it (0 when just fetched)."""

    body: bytes
    source: Source
    age: float = 0.0


@dataclass(frozen=True, slots=True)
class CacheStats:
    folder: str
    entries: int
    bytes: int
    max_bytes: int
    counters: dict[str, int] = field(default_factory=dict)

    def document(self) -> dict[str, Any]:
        return {
            "folder": self.folder,
            "entries": self.entries,
            "bytes": self.bytes,
            "max_bytes": self.max_bytes,
            **{name: self.counters.get(name, 0) for name in COUNTERS},
        }


class ConfigCache:
    """The cache in `folder` (the user cache folder by default). `ttl`: seconds a pointer is
    served without asking the store; `max_bytes`: the bound LRU eviction keeps; `clock`: wall
    time in seconds (entries outlive the process, so not a monotonic clock); `on_count`: told
    the name of each counter (COUNTERS) as this cache adds one to it."""

    def __init__(
        self,
        folder: Path | None = None,
        *,
        ttl: float = DEFAULT_TTL,
        max_bytes: int = DEFAULT_MAX_BYTES,
        clock: Callable[[], float] = time.time,
        on_count: Callable[[str], None] | None = None,
    ) -> None:
        if ttl < 0:
            raise S3KitError(f"a cache TTL cannot be negative ({ttl})")
        if max_bytes < 0:
            raise S3KitError(f"a cache size bound cannot be negative ({max_bytes})")
        self.folder = folder if folder is not None else default_folder()
        self.ttl = ttl
        self.max_bytes = max_bytes
        self._clock = clock
        self._on_count = on_count

    # -- reads ---------------------------------------------------------------------------------

    def pointer(
        self,
        transport: Transport,
        key: str,
        *,
        max_stale: float | None = None,
        refresh: bool = False,
    ) -> Cached:
        """A pointer: the cached copy while fresh (unless `refresh`), else revalidated or
        fetched; with `max_stale`, the last good copy when the store cannot be reached."""
        name = f"pointers/{_digest(transport.scope, key)}.json"
        record = self._read_pointer(name)
        now = self._clock()
        age = now - record["checked"] if record else 0.0
        if record is not None and not refresh and 0 <= age <= self.ttl:
            self._note(name, "hits")
            return Cached(record["body"], "cache", age)
        etag = record.get("etag") if record else None
        try:
            fetched = transport.get(key, if_none_match=etag)
        except S3KitError as exc:
            if record is None or max_stale is None or not unreachable(exc):
                raise
            if age - self.ttl > max_stale:
                raise S3KitError(
                    f"{exc.message} — and the cached copy of {key} was last confirmed"
                    f" {age:.0f} s ago, more than {max_stale:.0f} s past its TTL"
                ).context_of(exc) from exc
            self._note(name, "stale")
            return Cached(record["body"], "stale", age)
        if fetched is None and record is not None:
            self._write_pointer(name, transport.scope, key, record["body"], record["etag"], now)
            self._note(name, "revalidations")
            return Cached(record["body"], "revalidated")
        if fetched is None:  # a 304 to an unconditional GET: nothing to keep
            raise TransferError(f"{key}: the store answered 304 Not Modified to a plain GET")
        self._write_pointer(name, transport.scope, key, fetched.body, fetched.etag, now)
        self._note(name, "misses")
        return Cached(fetched.body, "fetched")

    def manifest(self, transport: Transport, key: str, sha256: str) -> Cached:
        """A release manifest, whose bytes must hash to `sha256` (HEAD's digest): written once
        by the store, so a cached copy that matches is used as it is."""
        name = f"manifests/{sha256}"
        data = _read_bytes(self.folder / name)
        if data is not None:
            if hashlib.sha256(data).hexdigest() == sha256:
                self._note(name, "hits")
                return Cached(data, "cache")
            self._drop(name)
        fetched = _fetch(transport, key)
        if hashlib.sha256(fetched.body).hexdigest() != sha256:
            raise TransferError(
                f"{key} from {transport.scope} does not match the digest its HEAD names — the"
                " pointer and the manifest disagree; release again or roll back"
            )
        self._store(name, fetched.body, "manifest")
        return Cached(fetched.body, "fetched")

    def blob(self, transport: Transport, sha256: str) -> Cached:
        """The blob with this sha256, checked on every read."""
        if not _SHA256.fullmatch(sha256):
            raise S3KitError(f"'{sha256}' is not a sha256 (64 lowercase hex digits)")
        name = f"blobs/{sha256}"
        data = _read_bytes(self.folder / name)
        if data is not None:
            if hashlib.sha256(data).hexdigest() == sha256:
                self._note(name, "hits")
                return Cached(data, "cache")
            self._drop(name)
        fetched = _fetch(transport, blob_key(sha256))
        if hashlib.sha256(fetched.body).hexdigest() != sha256:
            raise TransferError(
                f"blob {sha256[:12]}… from {transport.scope} does not match its sha256 — the"
                " store holds a damaged copy; release the files again"
            )
        self._store(name, fetched.body, "blob")
        return Cached(fetched.body, "fetched")

    # -- stats, clear --------------------------------------------------------------------------

    def stats(self) -> CacheStats:
        with self._index() as index:
            entries = index["entries"]
            return CacheStats(
                folder=str(self.folder),
                entries=len(entries),
                bytes=sum(int(e.get("size", 0)) for e in entries.values()),
                max_bytes=self.max_bytes,
                counters={name: int(index["counters"].get(name, 0)) for name in COUNTERS},
            )

    def clear(self) -> tuple[int, int]:
        """Remove every entry and reset the counters; returns (entries, bytes) removed."""
        removed = size = 0
        with self._index() as index:
            for kind in ("pointers", "manifests", "blobs"):
                folder = self.folder / kind
                if not folder.is_dir():
                    continue
                for path in folder.iterdir():
                    with contextlib.suppress(OSError):
                        size += path.stat().st_size
                        path.unlink()
                        removed += 1
            index["entries"] = {}
            index["counters"] = {}
        return removed, size

    # -- the index -----------------------------------------------------------------------------

    @contextlib.contextmanager
    def _index(self) -> Iterator[dict[str, Any]]:
        """The index, read under the folder's lock and written back after the block."""
        with translating(path=str(self.folder)):
            self.folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            with _locked(self.folder / ".lock"):
                index = _load_index(self.folder / INDEX)
                before = json.dumps(index, sort_keys=True)
                yield index
                text = json.dumps(index, sort_keys=True)
                if text != before:
                    write_file(self.folder / INDEX, text.encode(), fsync=False, mode=0o600)

    def _note(self, name: str, counter: str) -> None:
        with self._index() as index:
            entry = index["entries"].get(name)
            if entry is None and (self.folder / name).is_file():
                # A file the index lost (another process's write raced ours): adopt it.
                entry = index["entries"][name] = {"size": (self.folder / name).stat().st_size}
            if entry is not None:
                entry["used"] = self._clock()
            self._count(index, counter)

    def _count(self, index: dict[str, Any], counter: str) -> None:
        index["counters"][counter] = int(index["counters"].get(counter, 0)) + 1
        if self._on_count is not None:
            with contextlib.suppress(Exception):  # a metrics listener never breaks a read
                self._on_count(counter)

    def _store(self, name: str, data: bytes, kind: Kind) -> None:
        path = self.folder / name
        with translating(path=str(path)):
            write_file(path, data, fsync=False, mode=0o600)
        with self._index() as index:
            index["entries"][name] = {"size": len(data), "used": self._clock(), "kind": kind}
            self._count(index, "misses")
            self._evict(index, keep=name)

    def _drop(self, name: str) -> None:
        with contextlib.suppress(OSError):
            (self.folder / name).unlink()
        with self._index() as index:
            index["entries"].pop(name, None)
            self._count(index, "dropped")

    def _evict(self, index: dict[str, Any], *, keep: str) -> None:
        """Least recently used first, down to `max_bytes`; the entry just written stays."""
        entries: dict[str, dict[str, Any]] = index["entries"]
        total = sum(int(e.get("size", 0)) for e in entries.values())
        for name in plan_eviction(entries, total - self.max_bytes, keep=keep):
            with contextlib.suppress(OSError):
                (self.folder / name).unlink()
            total -= int(entries.pop(name).get("size", 0))
            self._count(index, "evicted")

    def _read_pointer(self, name: str) -> dict[str, Any] | None:
        data = _read_bytes(self.folder / name)
        if data is None:
            return None
        try:
            record = json.loads(data)
            record["body"] = base64.b64decode(record["body"], validate=True)
            record["checked"] = float(record["checked"])
        except (ValueError, KeyError, TypeError):
            self._drop(name)
            return None
        return dict(record)

    def _write_pointer(
        self, name: str, scope: str, key: str, body: bytes, etag: str | None, checked: float
    ) -> None:
        record = {
            "scope": scope,
            "key": key,
            "etag": etag,
            "checked": checked,
            "body": base64.b64encode(body).decode(),
        }
        data = json.dumps(record).encode()
        path = self.folder / name
        with translating(path=str(path)):
            write_file(path, data, fsync=False, mode=0o600)
        with self._index() as index:
            index["entries"][name] = {"size": len(data), "used": self._clock(), "kind": "pointer"}
            self._evict(index, keep=name)


def plan_eviction(
    entries: dict[str, dict[str, Any]], excess: int, *, keep: str | None = None
) -> list[str]:
    """Which entries to remove, least recently used first, to free `excess` bytes."""
    chosen: list[str] = []
    for name, entry in sorted(entries.items(), key=lambda item: float(item[1].get("used", 0))):
        if excess <= 0:
            break
        if name == keep:
            continue
        chosen.append(name)
        excess -= int(entry.get("size", 0))
    return chosen


def _digest(scope: str, key: str) -> str:
    return hashlib.sha256(f"{scope}\n{key}".encode()).hexdigest()


def _fetch(transport: Transport, key: str) -> Fetched:
    fetched = transport.get(key)
    if fetched is None:
        raise TransferError(f"{key}: the store answered 304 Not Modified to a plain GET")
    return fetched


def _read_bytes(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise translate(exc, path=str(path)) from exc


def _load_index(path: Path) -> dict[str, Any]:
    try:
        index = json.loads(path.read_bytes())
    except (OSError, ValueError):
        index = None
    if not isinstance(index, dict):
        index = {}
    if not isinstance(index.get("entries"), dict):
        index["entries"] = {}
    if not isinstance(index.get("counters"), dict):
        index["counters"] = {}
    index["version"] = 1
    return index


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    try:
        import fcntl
    except ImportError:  # Windows: one process at a time is the user's to keep
        yield
        return
    handle: IO[bytes]
    with path.open("ab") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


# -- releases through the cache ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Served:
    """What an environment's HEAD serves: the release (its manifest checked against HEAD's
    digest), and how fresh the pointer read was."""

    release: Release
    digest: str  # sha256 of the manifest's bytes, as HEAD.json names it
    pointer: Source = "fetched"
    pointer_age: float = 0.0

    @property
    def number(self) -> int:
        return self.release.number

    @property
    def name(self) -> str:
        """A folder name that changes with the release and its manifest."""
        return f"r{self.release.number}-{self.digest[:12]}"


def read_release(
    cache: ConfigCache,
    transport: Transport,
    tool: str,
    env: str,
    *,
    max_stale: float | None = None,
    refresh: bool = False,
) -> Served:
    """The release HEAD points at for `tool` in `env`. The manifest must hash to HEAD's
    digest: a cached or fetched copy that does not is dropped and fetched once more."""
    key = head_key(check_env(env), check_tool(tool))
    pointer = cache.pointer(transport, key, max_stale=max_stale, refresh=refresh)
    head = Head.from_document(read_json(pointer.body, key), key)
    where = release_key(tool, env, head.release)
    body = cache.manifest(transport, where, head.digest).body
    release = Release.from_document(read_json(body, where), where)
    if (release.tool, release.env, release.number) != (tool, env, head.release):
        raise S3KitError(
            f"{where} describes {release.tool} {release.ref}, not {env}@{head.release}"
        )
    return Served(release, head.digest, pointer.source, pointer.age)


def release_files(cache: ConfigCache, transport: Transport, served: Served) -> dict[str, bytes]:
    """Every file of the release, each checked against its sha256 and size."""
    contents: dict[str, bytes] = {}
    for file in served.release.files:
        data = cache.blob(transport, file.sha256).body
        if len(data) != file.size:
            raise TransferError(
                f"{file.path}: {len(data)} bytes, the release says {file.size} — the release"
                " manifest and its blob disagree"
            )
        contents[file.path] = data
    return contents


# -- warm ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Warmed:
    tool: str
    env: str
    release: int | None
    files: int = 0
    bytes: int = 0
    error: str | None = None


def heads(
    transport: Transport, *, env: str | None = None, tool: str | None = None
) -> list[tuple[str, str]]:
    """(tool, env) of every HEAD pointer in the store, sorted; limited to `env` / `tool`."""
    found: set[tuple[str, str]] = set()
    for key in transport.keys(f"envs/{env}/" if env else "envs/"):
        parts = key.split("/")
        shaped = len(parts) == 4 and parts[0] == "envs" and parts[3] == "HEAD.json"
        if shaped and (tool is None or parts[2] == tool):
            found.add((parts[2], parts[1]))
    return sorted(found)


def warm(
    cache: ConfigCache,
    transport: Transport,
    *,
    env: str | None = None,
    tool: str | None = None,
) -> list[Warmed]:
    """Fetch every HEAD pointer (asking the store, whatever their TTL) and what they point at,
    so that a later watch can start without the store. A pointer that fails is reported and
    the others still warm."""
    results: list[Warmed] = []
    for name, environment in heads(transport, env=env, tool=tool):
        try:
            served = read_release(cache, transport, name, environment, refresh=True)
            contents = release_files(cache, transport, served)
        except S3KitError as exc:
            results.append(Warmed(name, environment, None, error=exc.message))
            continue
        size = sum(len(data) for data in contents.values())
        results.append(Warmed(name, environment, served.number, len(contents), size))
    return results


__all__ = [
    "DEFAULT_MAX_BYTES",
    "DEFAULT_TTL",
    "CacheStats",
    "Cached",
    "ConfigCache",
    "Fetched",
    "S3Transport",
    "Served",
    "Transport",
    "Warmed",
    "default_folder",
    "heads",
    "plan_eviction",
    "read_release",
    "release_files",
    "unreachable",
    "warm",
]
