"""Walk: the two sides of a sync as sorted lists of compact `Entry` records.

A local folder is walked with `os.scandir`, pruning ignored folders (`node_modules/` is never
entered); an S3 prefix is listed flat. The same `Selection` filters both sides, so an excluded
file is neither uploaded nor deleted on the other side. Symlinks are skipped unless
`follow_symlinks`; then loops and links that leave the root are skipped with a warning.
A folder that cannot be read makes the scan incomplete, which forbids deletions.

After a first plan, `refine_async` reads more where the listing is not enough: the `mtime`
s3kit stored on objects (one HEAD per download candidate, so unchanged files are not
downloaded again) and content digests for `--checksum`.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import stat as stat_module
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path

from s3kit.errors import ObjectNotFound, S3KitError, UsageError, translate
from s3kit.observe import logger
from s3kit.session import Session
from s3kit.storage.base import ObjectInfo
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

    def accepts(self, path: str, *, walked: bool = False) -> bool:
        """`walked`: the folders of `path` were already checked (a local walk)."""
        decision: bool | None = None
        for kind, pattern in self.filters.rules:
            if fnmatchcase(path, pattern):
                decision = kind == "include"
        if decision is not None:
            return decision
        if walked:
            return not self.ignore.matches(path, is_dir=False)
        return not self.ignore.ignores(path)


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
) -> ScanResult:
    """Every selected file under `root`, sorted in UTF-8 byte order of its relative key."""
    selection = selection or Selection()
    say = warn or (lambda message: logger.warning("%s", message))
    if not root.is_dir():
        if must_exist or root.exists():
            raise translate(FileNotFoundError(2, "no such folder"), path=str(root))
        return ScanResult([])
    real_root = root.resolve()
    result = ScanResult([])
    _walk(root, "", selection, follow_symlinks, say, result, real_root, {_ident(real_root)})
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
) -> None:
    try:
        children = list(os.scandir(folder))
    except OSError as exc:
        warn(f"cannot read {folder}: {exc.strerror or exc}; deletions are disabled for this run")
        result.complete = False
        return
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
            _walk(
                Path(child.path),
                path + "/",
                selection,
                follow,
                warn,
                result,
                real_root,
                ancestors | {ident},
            )
        elif stat_module.S_ISREG(info.st_mode) and selection.accepts(path, walked=True):
            raw = path.encode("utf-8", "surrogateescape")
            result.entries.append(Entry(raw, info.st_size, info.st_mtime, exact_mtime=True))


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
) -> ScanResult:
    """Every selected object under the prefix, sorted in UTF-8 byte order. Folder markers
    (keys ending in '/') are skipped; with `for_local`, so are keys no file can have."""
    selection = selection or Selection()
    say = warn or (lambda message: logger.warning("%s", message))
    entries: list[Entry] = []
    storage = session.storage(side.bucket)
    async for item in storage.list_async(side.prefix):
        if not isinstance(item, ObjectInfo) or item.key.endswith("/"):
            continue
        relative = item.key[len(side.prefix) :]
        if not selection.accepts(relative):
            continue
        if for_local and (problem := _local_key_problem(relative)) is not None:
            say(f"skipping s3://{side.bucket}/{item.key}: {problem}")
            continue
        entries.append(
            Entry(
                relative.encode("utf-8", "surrogateescape"),
                item.size,
                item.last_modified.timestamp(),
                item.etag,
            )
        )
    return ScanResult(sort_entries(entries))


async def scan_async(
    session: Session,
    side: Side,
    selection: Selection,
    *,
    source: bool,
    follow_symlinks: bool = False,
    for_local: bool = False,
    warn: Warn | None = None,
) -> ScanResult:
    if isinstance(side, LocalSide):
        return await asyncio.to_thread(
            scan_local,
            side.root,
            selection,
            follow_symlinks=follow_symlinks,
            warn=warn,
            must_exist=source,
        )
    return await scan_s3_async(session, side, selection, for_local=for_local, warn=warn)


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
    slots = asyncio.Semaphore(concurrency)
    refreshed: dict[bytes, tuple[Entry | None, Entry | None]] = {}

    async def one(src: Entry, dst: Entry, reason: str) -> None:
        async with slots:
            if reason == CONTENT_UNCHECKED:
                refreshed[src.raw] = await _with_digests(session, src, dst, source, destination)
            else:
                refreshed[src.raw] = (await _with_stored_mtime(session, src, source), None)

    tasks = [
        one(a.source, a.destination, a.reason)
        for a in plan.transfers
        if a.source is not None
        and a.destination is not None
        and (a.reason == CONTENT_UNCHECKED or _needs_mtime(plan, a.reason))
    ]
    await asyncio.gather(*tasks)
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


__all__ = [
    "IGNORE_FILE",
    "LocalSide",
    "S3Side",
    "ScanResult",
    "Selection",
    "Side",
    "build_selection",
    "read_ignore_file_async",
    "refine_async",
    "scan_async",
    "scan_local",
    "scan_s3_async",
    "side_of",
]
