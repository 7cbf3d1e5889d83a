"""LocalStorage: the Storage protocol over a folder, keys being '/'-separated relative paths.

Writes go to a temporary file in the destination folder and are renamed into place after
fsync, so a reader never sees a half-written file and a failed write leaves nothing behind.
User metadata has nowhere to live on a plain filesystem and is dropped, except `mtime`, which
sets the file's modification time. Listings are in UTF-8 byte order, like S3's.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import os
import shutil
from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from s3kit.errors import ConflictError, InvalidKey, ObjectNotFound, UsageError, translate
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
from s3kit.uri import validate_key


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
        """The file behind `key`; refuses keys that would escape the root."""
        validate_key(key)
        parts = key.split("/")
        if any(part in ("", ".", "..") for part in parts):  # "a/" would name the file "a"
            raise InvalidKey(f"key '{key}' cannot be stored as a local path")
        return self.root.joinpath(*parts)

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
            mtime = _parse_mtime(metadata)
            etag = await asyncio.to_thread(writer.commit, mtime)
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
        try:
            await asyncio.to_thread(target.unlink, missing_ok=True)
        except OSError as exc:
            raise translate(exc, path=str(target)) from exc

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
            metadata={"mtime": f"{stat.st_mtime:.3f}"},
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
            if _is_temp(child.name):
                continue
            is_dir = child.is_dir(follow_symlinks=False)
            if not is_dir and not child.is_file():  # links to folders, sockets, broken links
                continue
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


_counter = itertools.count()
TEMP_PREFIX = ".s3kit-"
TEMP_SUFFIX = ".part"


def temp_name(target: Path, tag: str | None = None) -> Path:
    """A hidden name next to `target` for its bytes in flight. With `tag` it is the same on
    every run (a resumable download); without, it is unique to this process and write."""
    stem = target.name[:120]
    unique = tag or f"{os.getpid()}-{next(_counter)}"
    return target.parent / f"{TEMP_PREFIX}{stem}.{unique}{TEMP_SUFFIX}"


def open_new(path: Path) -> tuple[int, list[Path]]:
    """Create `path` for writing (mode 0666 less the umask, like any new file), making missing
    folders; returns the descriptor and the folders it made, deepest first."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0)
    try:
        return os.open(path, flags, 0o666), []
    except FileNotFoundError:
        made = []
        for folder in (path.parent, *path.parent.parents):
            if folder.exists():
                break
            made.append(folder)
        path.parent.mkdir(parents=True, exist_ok=True)
        return os.open(path, flags, 0o666), made


def remove_made(made: list[Path]) -> None:
    for folder in made:  # deepest first; only folders a failed write created
        with contextlib.suppress(OSError):
            folder.rmdir()


class AtomicFile:
    """A file written under a temporary name in its destination folder and renamed into place
    on `commit` (after fsync); `abort` (or any failure) removes it and any folder it made,
    leaving nothing behind."""

    def __init__(self, target: Path) -> None:
        self.target = target
        self.tmp = temp_name(target)
        try:
            fd, self._made_dirs = open_new(self.tmp)
        except OSError as exc:
            raise translate(exc, path=str(target)) from exc
        self._handle: IO[bytes] = os.fdopen(fd, "wb")
        self._digest = hashlib.md5(usedforsecurity=False)

    def write(self, chunk: bytes) -> None:
        try:
            self._handle.write(chunk)
        except OSError as exc:
            self.abort()
            raise translate(exc, path=str(self.target)) from exc
        self._digest.update(chunk)

    def write_all(self, chunks: Iterable[bytes]) -> None:
        for chunk in chunks:
            self.write(chunk)

    @property
    def md5_hex(self) -> str:
        return self._digest.hexdigest()

    def commit(self, mtime: float | None = None, *, fsync: bool = True) -> str:
        """Make the file visible under its name. Returns the MD5 ETag of what was written.

        `fsync=False` keeps the rename atomic for other processes but not across a power cut;
        the transfer layer uses it for small files, where an fsync each costs more than the
        file itself."""
        try:
            self._handle.flush()
            if fsync:
                os.fsync(self._handle.fileno())
            self._handle.close()
            if mtime is not None:
                os.utime(self.tmp, (mtime, mtime))
            self.tmp.replace(self.target)
        except OSError as exc:
            self.abort()
            raise translate(exc, path=str(self.target)) from exc
        return f'"{self._digest.hexdigest()}"'

    def abort(self) -> None:
        with contextlib.suppress(OSError):
            self._handle.close()
        self.tmp.unlink(missing_ok=True)
        remove_made(self._made_dirs)


def write_atomic(target: Path, data: bytes, mtime: float | None, *, fsync: bool) -> None:
    """`target` gets exactly `data` or stays as it was: the lean path for small files (one
    create, write, rename — no MD5, no buffering layer)."""
    tmp = temp_name(target)
    made: list[Path] = []
    try:
        fd, made = open_new(tmp)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            if fsync:
                os.fsync(fd)
        finally:
            os.close(fd)
        if mtime is not None:
            os.utime(tmp, (mtime, mtime))
        tmp.replace(target)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        remove_made(made)
        raise translate(exc, path=str(target)) from exc


def _is_temp(name: str) -> bool:
    return name.startswith(TEMP_PREFIX) and name.endswith(TEMP_SUFFIX)


def _holds_file(folder: str) -> bool:
    """Whether a file lies anywhere under `folder`. S3 shows a common prefix only while some
    key has it, so an empty folder (left by a delete, or made by hand) is not listed."""
    subfolders = []
    try:
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    subfolders.append(entry.path)
                elif entry.is_file() and not _is_temp(entry.name):
                    return True
    except OSError:
        return False
    return any(_holds_file(sub) for sub in subfolders)


def _parse_mtime(metadata: Mapping[str, str] | None) -> float | None:
    try:
        return float(metadata["mtime"]) if metadata and "mtime" in metadata else None
    except ValueError:
        return None


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
        try:
            handle = body.open("rb")
        except OSError as exc:
            raise translate(exc, path=str(body)) from exc
        with handle:
            yield from iter(lambda: handle.read(DEFAULT_CHUNK), b"")
    elif hasattr(body, "read"):
        yield from iter(lambda: body.read(DEFAULT_CHUNK), b"")
    else:
        for chunk in body:  # type: ignore[union-attr]
            yield bytes(chunk)
