"""LocalStorage: the Storage protocol over a folder, keys being '/'-separated relative paths;
and the local-file ground every copy and sync stands on.

Writes go through `s3kit._atomic`: to a temporary file in the destination folder, renamed
into place after fsync, so a reader never sees a half-written file and a failed write leaves
nothing behind. User metadata has nowhere to live on a plain filesystem and is dropped,
except `mtime`, which sets the file's modification time (to the nanosecond, see
`s3kit._mtime`). Listings are in UTF-8 byte order, like S3's.

Two rules live here once, for every caller (LocalStorage, cp -r, sync, two-way sync):
`local_target` maps a key to the path it may be written, renamed or deleted at under a root —
never a name no file can have, never through a symlink that leads out of the root; and
`walk_folder` is the one walk of a local tree — symlinks skipped unless followed, and then
loops and links out of the root skipped with a warning, never a crash.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import shutil
import stat as stat_module
import sys
import threading
from collections.abc import (
    AsyncGenerator,
    AsyncIterable,
    AsyncIterator,
    Callable,
    Iterator,
    Mapping,
)
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TypeVar

# The atomic-write helpers lived here; they stay importable from this module.
from s3kit._atomic import TEMP_PREFIX as TEMP_PREFIX
from s3kit._atomic import TEMP_SUFFIX as TEMP_SUFFIX
from s3kit._atomic import AtomicFile, is_temp_name
from s3kit._atomic import open_new as open_new
from s3kit._atomic import remove_made as remove_made
from s3kit._atomic import temp_name as temp_name
from s3kit._atomic import write_atomic as write_atomic
from s3kit._mtime import MTIME_KEY, format_mtime, parse_mtime
from s3kit._observe import logger
from s3kit._uri import validate_key
from s3kit.errors import (
    ConflictError,
    InvalidKey,
    LocalPathError,
    ObjectNotFound,
    UsageError,
    translate,
    translating,
)
from s3kit.storage.base import (
    DEFAULT_CHUNK,
    Body,
    ObjectInfo,
    Prefix,
    PutMode,
    PutResult,
    SyncStorageMixin,
    validate_range,
)


def _etag_of(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return f'"{digest.hexdigest()}"'


class LocalStorage(SyncStorageMixin):
    """A folder seen as a bucket. ETags are the MD5 of the content, as S3 gives single parts."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root).expanduser().resolve()

    @property
    def url(self) -> str:
        return str(self.root)

    def path_for(self, key: str) -> Path:
        """The file behind `key` (`local_target`: no key that escapes the root or goes
        through a symlink out of it)."""
        validate_key(key)
        return local_target(self.root, key)

    # -- writes ----------------------------------------------------------------------------

    async def put_async(
        self,
        key: str,
        body: Body,
        *,
        content_type: str | None = None,
        cache_control: str | None = None,
        metadata: Mapping[str, str] | None = None,
        mode: PutMode = "overwrite",
        if_match: str | None = None,
    ) -> PutResult:
        target = self.path_for(key)
        await asyncio.to_thread(self._check_conditions, target, mode, if_match)
        if isinstance(body, AsyncIterable):
            # Wait for the first chunk before touching the disk: a source that fails at once
            # (missing object, no access) then leaves no file and no folder behind.
            chunks = aiter(body)
            first = await anext(chunks, b"")
            writer = await asyncio.to_thread(AtomicFile, target)
        else:
            writer = await asyncio.to_thread(AtomicFile, target)
        try:
            if isinstance(body, AsyncIterable):
                await asyncio.to_thread(writer.write, bytes(first))
                async for chunk in chunks:
                    await asyncio.to_thread(writer.write, bytes(chunk))
            else:
                await asyncio.to_thread(writer.write_all, _iter_body(body))
            mtime_ns = parse_mtime((metadata or {}).get(MTIME_KEY))
            etag = await asyncio.to_thread(writer.commit, mtime_ns)
        except BaseException:
            writer.abort()
            raise
        return PutResult(etag=etag)

    @staticmethod
    def _check_conditions(target: Path, mode: PutMode, if_match: str | None) -> None:
        if mode == "create" and target.exists():
            raise ConflictError(f"{target} already exists, so it was not overwritten")
        if if_match is not None:
            current = _etag_of(target) if target.is_file() else None
            if current != if_match:
                raise ConflictError(f"{target} changed since it was read; not overwritten")

    async def delete_async(self, key: str) -> None:
        target = self.path_for(key)
        with translating(path=str(target)):
            await asyncio.to_thread(target.unlink, missing_ok=True)

    async def copy_async(self, src_key: str, dst_key: str) -> None:
        source, target = self.path_for(src_key), self.path_for(dst_key)
        if not source.is_file():
            raise ObjectNotFound(f"{source} does not exist")
        await self.put_async(dst_key, source)
        with contextlib.suppress(OSError):
            shutil.copystat(source, target)

    # -- reads -----------------------------------------------------------------------------

    def _open(self, key: str) -> IO[bytes]:
        path = self.path_for(key)
        try:
            return path.open("rb")
        except FileNotFoundError:
            raise ObjectNotFound(f"{path} does not exist") from None
        except OSError as exc:
            raise translate(exc, path=str(path)) from exc

    def _check_match(self, key: str, if_match: str | None) -> None:
        if if_match is not None and _etag_of(self.path_for(key)) != if_match:
            raise ConflictError(f"{self.path_for(key)} changed since it was read")

    async def get_async(
        self,
        key: str,
        *,
        start: int | None = None,
        end: int | None = None,
        if_match: str | None = None,
    ) -> bytes:
        chunks = [c async for c in self.stream_async(key, start=start, end=end, if_match=if_match)]
        return b"".join(chunks)

    async def stream_async(
        self,
        key: str,
        *,
        start: int | None = None,
        end: int | None = None,
        if_match: str | None = None,
        chunk_size: int = DEFAULT_CHUNK,
    ) -> AsyncIterator[bytes]:
        empty = not validate_range(start, end)
        handle = await asyncio.to_thread(self._open, key)
        with handle:
            await asyncio.to_thread(self._check_match, key, if_match)
            size = os.fstat(handle.fileno()).st_size
            if start and start >= size:  # as S3 answers: 416 InvalidRange
                raise UsageError(f"the requested range starts past the end of {key} ({size} B)")
            if empty:
                return
            position = start or 0
            handle.seek(position)
            while end is None or position < end:
                want = chunk_size if end is None else min(chunk_size, end - position)
                chunk = await asyncio.to_thread(handle.read, want)
                if not chunk:
                    return
                position += len(chunk)
                yield chunk

    async def head_async(self, key: str) -> ObjectInfo:
        path = self.path_for(key)
        try:
            stat = await asyncio.to_thread(path.stat)
        except FileNotFoundError:
            raise ObjectNotFound(f"{path} does not exist") from None
        except OSError as exc:
            raise translate(exc, path=str(path)) from exc
        if not path.is_file():
            raise ObjectNotFound(f"{path} is not a file")
        return ObjectInfo(
            key=key,
            size=stat.st_size,
            last_modified=datetime.fromtimestamp(stat.st_mtime, UTC),
            etag=await asyncio.to_thread(_etag_of, path),
            metadata={MTIME_KEY: format_mtime(stat.st_mtime_ns)},
        )

    async def exists_async(self, key: str) -> bool:
        return await asyncio.to_thread(self.path_for(key).is_file)

    async def list_async(
        self,
        prefix: str = "",
        *,
        delimiter: str | None = None,
        start_after: str | None = None,
        page_size: int = 1000,
    ) -> AsyncIterator[ObjectInfo | Prefix]:
        walker = self._walk(prefix, delimiter, start_after)
        while True:
            batch = await asyncio.to_thread(_take, walker, page_size)
            for entry in batch:
                yield entry
            if len(batch) < page_size:
                return

    def _walk(
        self, prefix: str, delimiter: str | None, start_after: str | None
    ) -> Iterator[ObjectInfo | Prefix]:
        """Entries under `prefix` in UTF-8 byte order, walking one folder at a time."""
        folder = prefix.rsplit("/", 1)[0] if "/" in prefix else ""
        base = self.root / folder if folder else self.root
        rel_base = folder + "/" if folder else ""
        for entry in self._walk_dir(base, rel_base, prefix, delimiter):
            if start_after is None or entry.key > start_after:
                yield entry

    def _walk_dir(
        self, path: Path, rel: str, prefix: str, delimiter: str | None
    ) -> Iterator[ObjectInfo | Prefix]:
        try:
            children = list(os.scandir(path))
        except (FileNotFoundError, NotADirectoryError):
            return
        except OSError as exc:
            raise translate(exc, path=str(path)) from exc
        # A folder "a" sorts as "a/" among its siblings, so "a-b" < "a/" < "a0" as in S3.
        named = []
        for child in children:
            if is_temp_name(child.name):
                continue
            try:
                is_dir = child.is_dir(follow_symlinks=False)
                # Links to folders, sockets, broken links and link loops are not keys.
                if not is_dir and not child.is_file():
                    continue
            except OSError:
                continue
            if child.is_symlink() and not _inside(os.path.realpath(child.path), str(self.root)):
                continue  # the link leads out of the root: `path_for` refuses the key
            key = rel + child.name + ("/" if is_dir else "")
            named.append((key.encode("utf-8", "surrogateescape"), key, child, is_dir))
        named.sort(key=lambda item: item[0])
        for _, key, child, is_dir in named:
            if not (key.startswith(prefix) or prefix.startswith(key)):
                continue
            if is_dir:
                if delimiter == "/" and key.startswith(prefix):
                    if _holds_file(child.path):
                        yield Prefix(key)
                else:
                    yield from self._walk_dir(Path(child.path), key, prefix, delimiter)
                continue
            if not key.startswith(prefix):
                continue
            try:
                stat = child.stat(follow_symlinks=True)
            except OSError:
                continue
            yield ObjectInfo(
                key=key,
                size=stat.st_size,
                last_modified=datetime.fromtimestamp(stat.st_mtime, UTC),
            )


def _holds_file(folder: str) -> bool:
    """Whether a file lies anywhere under `folder`. S3 shows a common prefix only while some
    key has it, so an empty folder (left by a delete, or made by hand) is not listed."""
    subfolders = []
    try:
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    subfolders.append(entry.path)
                elif entry.is_file() and not is_temp_name(entry.name):
                    return True
    except OSError:
        return False
    return any(_holds_file(sub) for sub in subfolders)


def _take(iterator: Iterator[ObjectInfo | Prefix], count: int) -> list[ObjectInfo | Prefix]:
    batch = []
    for entry in iterator:
        batch.append(entry)
        if len(batch) >= count:
            break
    return batch


def _iter_body(body: Body) -> Iterator[bytes]:
    if isinstance(body, bytes | bytearray | memoryview):
        yield bytes(body)
    elif isinstance(body, Path):
        with translating(path=str(body)):
            handle = body.open("rb")
        with handle:
            yield from iter(lambda: handle.read(DEFAULT_CHUNK), b"")
    elif hasattr(body, "read"):
        yield from iter(lambda: body.read(DEFAULT_CHUNK), b"")
    else:
        for chunk in body:  # type: ignore[union-attr]
            yield bytes(chunk)


# -- keys as local paths ---------------------------------------------------------------------

NAME_MAX = 255  # bytes in one file name, on every common filesystem
PATH_MAX = 1024 if sys.platform == "darwin" else 4096  # bytes in a whole path, with its NUL


def shown_key(key: str) -> str:
    """`key` fit for a message: control characters (a NUL, say) as escapes."""
    if key.isprintable():
        return key
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in key)


def local_name_problem(key: str, *, folder: bool = False) -> str | None:
    """Why nothing under a folder can be named `key` ('/'-separated), or None when something
    can. `folder`: `key` names a folder the way S3 folder markers do ('a/b/')."""
    if not key:
        return "it is empty"
    if "\x00" in key:
        return "it contains a NUL byte"
    if key.startswith("/"):
        return "it starts with '/'"
    parts = key.split("/")
    if folder:
        if parts[-1] != "":
            return "it does not end with '/'"
        parts.pop()
    elif parts[-1] == "":
        return "it ends with '/'"
    if any(part in (".", "..") for part in parts):
        return "it has a '.' or '..' segment"
    if "" in parts:
        return "it has an empty segment ('//')"
    if os.sep != "/" and os.sep in key:
        return f"it contains '{os.sep}'"
    if any(len(part.encode("utf-8", "surrogateescape")) > NAME_MAX for part in parts):
        return f"a segment is longer than {NAME_MAX} bytes"
    return None


def local_target(root: Path, key: str, *, folder: bool = False) -> Path:
    """The path `key` ('/'-separated, relative; with `folder`, a folder marker 'a/b/') names
    under `root`, for writing, renaming or deleting there: the one mapping from keys to local
    paths, with the checks every local write and delete passes.

    - A key no file can have ('.', '..' or empty segments, a leading or trailing '/', a NUL,
      a name over 255 bytes, a path over PATH_MAX) is an `InvalidKey`, "skipped KEY: cannot
      be a local file name (why)".
    - A symlink on the way — a folder, or the file itself — that resolves outside `root` is a
      `LocalPathError`: writing through it would put the file outside the folder (and a later
      two-way run would take the file it cannot see for deleted); renaming over it or
      deleting it would act on what the link stands for. Links that stay inside are fine.

    The check runs just before the write: a link made in between is the race every
    path-based tool has (only O_NOFOLLOW-style opens at each level would close it)."""
    what = "folder" if folder else "file"
    problem = local_name_problem(key, folder=folder)
    if problem is not None:
        raise InvalidKey(f"skipped {shown_key(key)}: cannot be a local {what} name ({problem})")
    parts = key.split("/")
    if folder:
        parts.pop()
    path = root.joinpath(*parts)
    if len(os.fsencode(path)) >= PATH_MAX:
        raise InvalidKey(
            f"skipped {shown_key(key)}: cannot be a local {what} name (the path would be"
            f" longer than {PATH_MAX - 1} bytes)"
        )
    escape = _link_out_of(root, parts)
    if escape is not None:
        link, target = escape
        raise LocalPathError(
            f"skipped {shown_key(key)}: {link} is a symlink to {target}, outside {root};"
            " s3kit does not write or delete through it — remove the link or copy elsewhere"
        )
    return path


def _link_out_of(root: Path, parts: list[str]) -> tuple[str, str] | None:
    """The first symlink among root/parts[0], root/parts[0]/parts[1], ... that resolves
    outside `root`, with where it leads; None when there is none (one lstat per existing
    component, a realpath per link)."""
    real_root: str | None = None
    # Strings, not Paths: this runs for every key a recursive download plans, and pathlib's
    # joins cost more than the lstat itself. (A root of "." joins as pathlib would: "a/b".)
    here = os.fspath(root)
    for part in parts:
        here = part if here == "." else os.path.join(here, part)  # noqa: PTH118
        try:
            mode = os.lstat(here).st_mode
        except OSError:  # not there (yet): nothing further down exists, so no link either
            return None
        if stat_module.S_ISLNK(mode):
            real_root = real_root or os.path.realpath(root)
            target = os.path.realpath(here)
            if not _inside(target, real_root):
                return here, target
    return None


def _inside(path: str, folder: str) -> bool:
    """Whether the resolved `path` is `folder` or lies under it (both resolved)."""
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


# -- the one walk of a local folder ----------------------------------------------------------

Warn = Callable[[str], None]
T = TypeVar("T")


def walk_folder(
    root: Path,
    found: Callable[[str, os.stat_result], None],
    *,
    follow_symlinks: bool = False,
    warn: Warn | None = None,
    prune: Callable[[str], bool] | None = None,
    leave: Callable[[str, os.stat_result, int | None], None] | None = None,
) -> bool:
    """Walk the folder `root` (which must exist), calling `found(relative, stat)` for every
    regular file in the order the walk meets them (not sorted; `relative` is '/'-separated).
    `prune(relative)` is asked before a subfolder is entered (True: skip it); `leave(relative,
    stat, held)` is called once it was walked, `held` being how many entries it has (None:
    unreadable).

    Symlinks are skipped (logged at debug level) unless `follow_symlinks`; then a link that
    resolves outside `root`, or back to a folder being walked (a loop), is skipped with a
    warning, as is anything that cannot be stat'ed (a link to itself: ELOOP). s3kit's own
    temporary files are never reported. Returns False when a folder could not be read
    (warned): the walk is incomplete."""
    say = warn or (lambda message: logger.warning("%s", message))
    walk = _FolderWalk(found, follow_symlinks, say, os.path.realpath(root), prune, leave)
    top = root.stat()
    walk.folder(str(root), "", frozenset({(top.st_dev, top.st_ino)}))
    return walk.complete


class _FolderWalk:
    """What one `walk_folder` carries down the tree."""

    __slots__ = ("complete", "follow", "found", "leave", "prune", "real_root", "warn")

    def __init__(
        self,
        found: Callable[[str, os.stat_result], None],
        follow: bool,
        warn: Warn,
        real_root: str,
        prune: Callable[[str], bool] | None,
        leave: Callable[[str, os.stat_result, int | None], None] | None,
    ) -> None:
        self.found, self.follow, self.warn, self.real_root = found, follow, warn, real_root
        self.prune, self.leave = prune, leave
        self.complete = True

    def folder(self, folder: str, rel: str, ancestors: frozenset[tuple[int, int]]) -> int | None:
        """Report what `folder` holds; return how many entries it has (None: unreadable)."""
        try:
            children = list(os.scandir(folder))
        except OSError as exc:
            self.warn(f"cannot read {folder}: {exc.strerror or exc}; what it holds is left out")
            self.complete = False
            return None
        for child in children:
            name = child.name
            if is_temp_name(name):
                continue
            try:
                is_link = child.is_symlink()
                if is_link and not self.follow:
                    logger.debug("skipping symlink %s", child.path)
                    continue
                info = child.stat(follow_symlinks=True)
            except OSError as exc:
                self.warn(f"skipping {child.path}: {exc.strerror or exc}")
                continue
            if is_link and not _inside(os.path.realpath(child.path), self.real_root):
                self.warn(f"skipping {child.path}: the link leads outside the source folder")
                continue
            path = rel + name
            if stat_module.S_ISDIR(info.st_mode):
                if self.prune is not None and self.prune(path):
                    continue
                ident = (info.st_dev, info.st_ino)
                if ident in ancestors:
                    self.warn(f"skipping {child.path}: a symlink loop")
                    continue
                held = self.folder(child.path, path + "/", ancestors | {ident})
                if self.leave is not None:
                    self.leave(path, info, held)
            elif stat_module.S_ISREG(info.st_mode):
                self.found(path, info)
        return len(children)


class _Stopped(Exception):
    """The consumer of a streamed walk went away: unwind the walk."""


async def stream_in_thread(
    produce: Callable[[Callable[[T], None]], None],
    *,
    batch_size: int = 500,
    queue_batches: int = 4,
) -> AsyncGenerator[T, None]:
    """What `produce(found)` finds, as a stream: `produce` runs in a worker thread (a walk of
    a folder, typically) and calls `found(item)` for each item, which reaches the event loop
    in batches through a bounded queue. When the consumer lags, `found` waits instead of
    filling memory, at most `queue_batches` batches ahead. Closing the stream early stops
    `produce` (its `found` raises); what `produce` raises is raised here."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[list[T] | None] = asyncio.Queue(max(1, queue_batches))
    stopped = threading.Event()
    batch: list[T] = []

    def hand_over(items: list[T] | None) -> None:
        if stopped.is_set():
            raise _Stopped
        handed = asyncio.run_coroutine_threadsafe(queue.put(items), loop)
        while True:
            try:
                handed.result(timeout=0.2)
                return
            except TimeoutError:  # the queue is full: wait, unless nobody will read it
                if stopped.is_set():
                    handed.cancel()
                    raise _Stopped from None

    def found(item: T) -> None:
        batch.append(item)
        if len(batch) >= batch_size:
            hand_over(batch.copy())
            batch.clear()

    def work() -> None:
        try:
            produce(found)
            if batch:
                hand_over(batch)
        except _Stopped:
            return
        finally:
            if not stopped.is_set():
                with contextlib.suppress(_Stopped):
                    hand_over(None)

    worker = asyncio.ensure_future(asyncio.to_thread(work))
    try:
        while (items := await queue.get()) is not None:
            for item in items:
                yield item
        await worker  # the producer's own error, if it failed
    finally:
        stopped.set()
        while not queue.empty():  # frees a producer waiting on a full queue
            queue.get_nowait()
        await asyncio.gather(worker, return_exceptions=True)
