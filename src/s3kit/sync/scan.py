"""Walk: the two sides of a sync as sorted lists of compact `Entry` records.

A local folder is walked with `os.scandir`, pruning ignored folders (`node_modules/` is never
entered); an S3 prefix is listed flat. The same `Selection` filters both sides, so an excluded
file is neither uploaded nor deleted on the other side. Symlinks are skipped unless
`follow_symlinks`; then loops and links that leave the root are skipped with a warning.
A folder that cannot be read makes the scan incomplete, which forbids deletions.

With `dir_markers`, folders take part too, as entries whose key ends in '/': locally, every
folder that holds nothing selected (a leaf that would otherwise vanish); in S3, the folder
markers under the prefix. The prefix or root itself is never one.

After a first plan, `refine_async` reads more where the listing is not enough: the `mtime`
s3kit stored on objects (one HEAD per download candidate, so unchanged files are not
downloaded again) and content digests for `--checksum`.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import stat as stat_module
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from typing import TYPE_CHECKING

from s3kit._aio import run_bounded
from s3kit.errors import ObjectNotFound, S3KitError, UsageError, translate
from s3kit.observe import logger
from s3kit.session import Session
from s3kit.storage.base import ObjectInfo, Prefix
from s3kit.storage.local import TEMP_PREFIX, TEMP_SUFFIX
from s3kit.sync.ignore import DEFAULT_RULES, IgnoreRules
from s3kit.sync.plan import (
    CONTENT_UNCHECKED,
    SOURCE_NEWER,
    TIME_DIFFERS,
    Entry,
    Plan,
    sort_entries,
)
from s3kit.transfer.checksum import CRC_METADATA_KEY, crc64, crc_hex
from s3kit.transfer.filters import Filters
from s3kit.transfer.paths import folder_prefix
from s3kit.uri import LocalPath, Location, S3Url

if TYPE_CHECKING:
    from s3kit.storage.s3 import S3Storage

IGNORE_FILE = ".s3kitignore"
MAX_IGNORE_BYTES = 1024 * 1024
Warn = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class LocalSide:
    root: Path

    def __str__(self) -> str:
        return str(self.root)

    def location(self, key: str) -> LocalPath:
        return LocalPath(self.root.joinpath(*key.split("/")))


@dataclass(frozen=True, slots=True)
class S3Side:
    bucket: str
    prefix: str  # '' or ending with '/'

    def __str__(self) -> str:
        return str(S3Url(self.bucket, self.prefix))

    def location(self, key: str) -> S3Url:
        return S3Url(self.bucket, self.prefix + key)


Side = LocalSide | S3Side


def side_of(location: Location) -> Side:
    if isinstance(location, S3Url):
        prefix = folder_prefix(location)
        return S3Side(prefix.bucket, prefix.key)
    if isinstance(location, LocalPath):
        return LocalSide(Path(location.path).expanduser().absolute())
    raise UsageError("sync works between folders and S3 prefixes, not standard streams")


@dataclass(frozen=True, slots=True)
class Selection:
    """Which relative paths take part: gitignore-style rules, then aws-style `--include` /
    `--exclude`, which win where one of them matches (so `--include '*.log'` brings back a
    default exclusion, except inside a folder the rules prune)."""

    ignore: IgnoreRules = field(default_factory=IgnoreRules)
    filters: Filters = field(default_factory=Filters)

    def prunes(self, folder: str) -> bool:
        return self.ignore.matches(folder, is_dir=True)

    def _decided(self, path: str) -> bool | None:
        """What the last matching `--include`/`--exclude` says, None when none matches."""
        decision: bool | None = None
        for kind, pattern in self.filters.rules:
            if fnmatchcase(path, pattern):
                decision = kind == "include"
        return decision

    def accepts(self, path: str, *, walked: bool = False) -> bool:
        """`walked`: the folders of `path` were already checked (a local walk)."""
        decision = self._decided(path)
        if decision is not None:
            return decision
        if walked:
            return not self.ignore.matches(path, is_dir=False)
        return not self.ignore.ignores(path)

    def accepts_folder(self, folder: str, *, walked: bool = False) -> bool:
        """Whether the marker of `folder` ('a/b/', as S3 names it) takes part: the filters see
        it with its '/', the ignore rules as a folder (`walked`: the walk did not prune it)."""
        decision = self._decided(folder)
        if decision is not None:
            return decision
        return walked or not self.ignore.ignores(folder.rstrip("/"), is_dir=True)


def build_selection(
    *,
    filters: Filters | None = None,
    default_excludes: bool = True,
    exclusions: Sequence[str] = (),
    exclude_from: Sequence[Path] = (),
    source_root: Path | None = None,
    source_ignore: str | None = None,
) -> Selection:
    """Default exclusions first, then the config file's `exclusions`, then `.s3kitignore` at
    the source root (`source_root` for a folder, or its text as `source_ignore` for a prefix),
    then each `--exclude-from` file: a later rule overrides an earlier one (`!*.log`
    re-includes)."""
    rules = DEFAULT_RULES if default_excludes else IgnoreRules()
    rules = rules + IgnoreRules.parse(exclusions)
    if source_ignore is not None:
        rules = rules + IgnoreRules.parse(source_ignore.splitlines())
    files = []
    if source_root is not None and (source_root / IGNORE_FILE).is_file():
        files.append(source_root / IGNORE_FILE)
    files.extend(exclude_from)
    for path in files:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise translate(exc, path=str(path)) from exc
        rules = rules + IgnoreRules.parse(text.splitlines())
    return Selection(rules, filters or Filters())


async def read_ignore_file_async(session: Session, side: S3Side) -> str | None:
    """The `.s3kitignore` object at the root of an S3 source, or None when there is none."""
    key = side.prefix + IGNORE_FILE
    storage = session.storage(side.bucket)
    try:
        info = await storage.head_async(key)
        if info.size > MAX_IGNORE_BYTES:
            raise UsageError(
                f"s3://{side.bucket}/{key} is larger than {MAX_IGNORE_BYTES // 1024} KiB, too big"
                " for an ignore file — rename it, or keep the rules in a file for --exclude-from"
            )
        data = await storage.get_async(key, if_match=info.etag) if info.size else b""
    except ObjectNotFound:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise UsageError(f"s3://{side.bucket}/{key} is not UTF-8 text") from None


@dataclass(slots=True)
class ScanResult:
    entries: list[Entry]
    complete: bool = True


def scan_local(
    root: Path,
    selection: Selection | None = None,
    *,
    follow_symlinks: bool = False,
    warn: Warn | None = None,
    must_exist: bool = True,
    dir_markers: bool = False,
) -> ScanResult:
    """Every selected file under `root`, sorted in UTF-8 byte order of its relative key; with
    `dir_markers`, also every folder that holds nothing selected, as 'a/b/' (its size: how many
    entries it holds, 0 when it is empty)."""
    selection = selection or Selection()
    say = warn or (lambda message: logger.warning("%s", message))
    if not root.is_dir():
        if must_exist or root.exists():
            raise translate(FileNotFoundError(2, "no such folder"), path=str(root))
        return ScanResult([])
    real_root = root.resolve()
    result = ScanResult([])
    _walk(
        root, "", selection, follow_symlinks, say, result, real_root, {_ident(real_root)},
        dir_markers,
    )  # fmt: skip
    result.entries = sort_entries(result.entries)
    return result


def _ident(path: Path) -> tuple[int, int]:
    info = path.stat()
    return info.st_dev, info.st_ino


def _walk(
    folder: Path,
    rel: str,
    selection: Selection,
    follow: bool,
    warn: Warn,
    result: ScanResult,
    real_root: Path,
    ancestors: set[tuple[int, int]],
    markers: bool,
) -> int | None:
    """Add what `folder` holds to `result`; return how many entries it has (None: unreadable)."""
    try:
        children = list(os.scandir(folder))
    except OSError as exc:
        warn(f"cannot read {folder}: {exc.strerror or exc}; deletions are disabled for this run")
        result.complete = False
        return None
    for child in children:
        name = child.name
        if name.startswith(TEMP_PREFIX) and name.endswith(TEMP_SUFFIX):
            continue
        path = rel + name
        try:
            is_link = child.is_symlink()
            if is_link and not follow:
                logger.debug("skipping symlink %s", child.path)
                continue
            info = child.stat(follow_symlinks=True)
        except OSError as exc:
            warn(f"skipping {child.path}: {exc.strerror or exc}")
            continue
        if is_link:
            target = Path(child.path).resolve()
            if not target.is_relative_to(real_root):
                warn(f"skipping {child.path}: the link leads outside the source folder")
                continue
        if stat_module.S_ISDIR(info.st_mode):
            if selection.prunes(path):
                continue
            ident = (info.st_dev, info.st_ino)
            if ident in ancestors:
                warn(f"skipping {child.path}: a symlink loop")
                continue
            before = len(result.entries)
            held = _walk(
                Path(child.path),
                path + "/",
                selection,
                follow,
                warn,
                result,
                real_root,
                ancestors | {ident},
                markers,
            )
            if (
                markers
                and held is not None
                and len(result.entries) == before  # nothing selected below: a leaf
                and selection.accepts_folder(path + "/", walked=True)
            ):
                raw = (path + "/").encode("utf-8", "surrogateescape")
                result.entries.append(Entry(raw, held, info.st_mtime, exact_mtime=True))
        elif stat_module.S_ISREG(info.st_mode) and selection.accepts(path, walked=True):
            raw = path.encode("utf-8", "surrogateescape")
            result.entries.append(Entry(raw, info.st_size, info.st_mtime, exact_mtime=True))
    return len(children)


def _local_key_problem(key: str) -> str | None:
    if any(part in ("", ".", "..") for part in key.split("/")):
        return "it has an empty, '.' or '..' segment"
    if os.sep != "/" and os.sep in key:
        return f"it contains '{os.sep}'"
    return None


async def scan_s3_async(
    session: Session,
    side: S3Side,
    selection: Selection | None = None,
    *,
    for_local: bool = False,
    warn: Warn | None = None,
    dir_markers: bool = False,
    source: bool = True,
) -> ScanResult:
    """Every selected object under the prefix, sorted in UTF-8 byte order. Folder markers
    (keys ending in '/') are skipped unless `dir_markers`; with `for_local`, so are keys no
    file or folder can have."""
    selection = selection or Selection()
    say = warn or (lambda message: logger.warning("%s", message))
    entries: list[Entry] = []
    storage = session.storage(side.bucket)
    listing = (
        _exact_listing(storage, side.prefix) if dir_markers else storage.list_async(side.prefix)
    )
    async for item in listing:
        if not isinstance(item, ObjectInfo):
            continue
        relative = item.key[len(side.prefix) :]
        if item.key.endswith("/"):
            if dir_markers and _takes_part(side, item, selection, source, for_local, say):
                entries.append(replace_entry(relative, item))
            continue
        if not selection.accepts(relative):
            continue
        if for_local and (problem := _local_key_problem(relative)) is not None:
            say(f"skipping s3://{side.bucket}/{item.key}: {problem}")
            continue
        entries.append(replace_entry(relative, item))
    return ScanResult(sort_entries(entries))


def _exact_listing(
    storage: S3Storage, prefix: str, *, page_size: int = 1000
) -> AsyncIterator[ObjectInfo | Prefix]:
    """A listing with every key as S3 has it. obstore's drops a trailing '/' (object_store
    paths), so the folder marker 'a/' would come out as a zero-byte object 'a'; the boto3
    listing, which `with_storage_class` selects, does not."""
    return storage.list_async(prefix, with_storage_class=True, page_size=page_size)


def _takes_part(
    side: S3Side, item: ObjectInfo, selection: Selection, source: bool, for_local: bool, warn: Warn
) -> bool:
    """Whether the folder marker `item` takes part: not the prefix itself (the root), nor a
    folder the selection leaves out; at the source, not a marker holding bytes (no empty
    folder) nor, for a local destination, one no folder can have."""
    relative = item.key[len(side.prefix) :]
    if not relative or not selection.accepts_folder(relative):
        return False
    where = f"s3://{side.bucket}/{item.key}"
    if source and item.size:
        warn(f"skipping {where}: a folder marker that holds {item.size} bytes")
        return False
    if for_local and (problem := _local_key_problem(relative[:-1])) is not None:
        warn(f"skipping {where}: {problem}")
        return False
    return True


async def scan_async(
    session: Session,
    side: Side,
    selection: Selection,
    *,
    source: bool,
    follow_symlinks: bool = False,
    for_local: bool = False,
    warn: Warn | None = None,
    dir_markers: bool = False,
) -> ScanResult:
    if isinstance(side, LocalSide):
        return await asyncio.to_thread(
            scan_local,
            side.root,
            selection,
            follow_symlinks=follow_symlinks,
            warn=warn,
            must_exist=source,
            dir_markers=dir_markers,
        )
    return await scan_s3_async(
        session, side, selection, for_local=for_local, warn=warn, dir_markers=dir_markers,
        source=source,
    )  # fmt: skip


# -- refine: read more where the listing is not enough ---------------------------------------


def _needs_mtime(plan: Plan, action_reason: str) -> bool:
    return plan.direction == "download" and action_reason in (SOURCE_NEWER, TIME_DIFFERS)


async def refine_async(
    session: Session,
    plan: Plan,
    source: Side,
    destination: Side,
    *,
    concurrency: int = 32,
) -> dict[bytes, tuple[Entry | None, Entry | None]]:
    """New (source, destination) entries for the actions a closer look may cancel: downloads
    planned only because LastModified is newer (HEAD for the stored `mtime`) and `--checksum`
    pairs (local MD5, and the stored CRC64NVME where an ETag is multipart)."""
    refreshed: dict[bytes, tuple[Entry | None, Entry | None]] = {}

    async def one(src: Entry, dst: Entry, reason: str) -> None:
        if reason == CONTENT_UNCHECKED:
            refreshed[src.raw] = await _with_digests(session, src, dst, source, destination)
        else:
            refreshed[src.raw] = (await _with_stored_mtime(session, src, source), None)

    await run_bounded(
        (
            one(a.source, a.destination, a.reason)
            for a in plan.transfers
            if a.source is not None
            and a.destination is not None
            and (a.reason == CONTENT_UNCHECKED or _needs_mtime(plan, a.reason))
        ),
        concurrency,
    )
    return refreshed


async def _head(session: Session, side: S3Side, item: Entry) -> ObjectInfo | None:
    try:
        return await session.storage(side.bucket).head_async(side.prefix + item.key)
    except ObjectNotFound:
        return None


async def _with_stored_mtime(session: Session, item: Entry, side: Side) -> Entry:
    if not isinstance(side, S3Side):
        return item
    info = await _head(session, side, item)
    value = (info.metadata if info else {}).get("mtime")
    try:
        return item._replace(mtime=float(value), exact_mtime=True) if value else item
    except ValueError:
        return item


def _file_digests(path: Path, want_crc: bool) -> tuple[str, str | None]:
    md5 = hashlib.md5(usedforsecurity=False)
    crc = 0
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            md5.update(block)
            if want_crc:
                crc = crc64(block, crc)
    return md5.hexdigest(), crc_hex(crc) if want_crc else None


def _multipart(item: Entry) -> bool:
    return "-" in (item.etag or "")


async def _digested(session: Session, item: Entry, side: Side, want_crc: bool) -> Entry:
    if isinstance(side, LocalSide):
        try:
            md5, crc = await asyncio.to_thread(
                _file_digests, side.location(item.key).path, want_crc
            )
        except OSError:
            return item
        return item._replace(etag=md5, crc=crc)
    if not want_crc:
        return item
    info = await _head(session, side, item)
    stored = (info.metadata if info else {}).get(CRC_METADATA_KEY)
    return item._replace(crc=stored) if stored else item


async def _with_digests(
    session: Session, src: Entry, dst: Entry, source: Side, destination: Side
) -> tuple[Entry, Entry]:
    want_crc = _multipart(src) or _multipart(dst)
    try:
        return (
            await _digested(session, src, source, want_crc),
            await _digested(session, dst, destination, want_crc),
        )
    except S3KitError:
        return src, dst


async def entry_as_seen_async(session: Session, side: Side, key: str) -> Entry | None:
    """The entry at `key` now (None when absent): what `apply` checks a plan against."""
    if isinstance(side, LocalSide):
        try:
            info = await asyncio.to_thread(os.stat, side.location(key).path)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise translate(exc, path=str(side.location(key))) from exc
        if not stat_module.S_ISREG(info.st_mode):
            return None
        return Entry(key.encode("utf-8", "surrogateescape"), info.st_size, info.st_mtime)
    info_s3 = await _head(session, side, Entry(key.encode("utf-8", "surrogateescape"), 0, 0.0))
    if info_s3 is None:
        return None
    return replace_entry(key, info_s3)


def replace_entry(key: str, info: ObjectInfo) -> Entry:
    return Entry(
        key.encode("utf-8", "surrogateescape"), info.size, info.last_modified.timestamp(), info.etag
    )


async def folder_as_seen_async(session: Session, side: Side, key: str) -> tuple[Entry | None, bool]:
    """The folder marker at `key` ('a/b/') now (None when absent), and whether the folder is
    there at all — a marker or anything under it: what `apply` checks folder actions against."""
    if isinstance(side, LocalSide):
        path = Path(side.location(key).path)
        try:
            held, mtime = await asyncio.to_thread(_local_folder, path)
        except (FileNotFoundError, NotADirectoryError):
            return None, False
        except OSError as exc:
            raise translate(exc, path=str(path)) from exc
        return Entry(key.encode("utf-8", "surrogateescape"), held, mtime), True
    full = side.prefix + key
    async for item in _exact_listing(session.storage(side.bucket), full, page_size=1):
        if isinstance(item, ObjectInfo):
            return (replace_entry(key, item) if item.key == full else None), True
    return None, False


def _local_folder(path: Path) -> tuple[int, float]:
    """How many entries the folder at `path` holds, and its mtime."""
    return sum(1 for _ in path.iterdir()), path.stat().st_mtime


__all__ = [
    "IGNORE_FILE",
    "LocalSide",
    "S3Side",
    "ScanResult",
    "Selection",
    "Side",
    "build_selection",
    "folder_as_seen_async",
    "read_ignore_file_async",
    "refine_async",
    "scan_async",
    "scan_local",
    "scan_s3_async",
    "side_of",
]
