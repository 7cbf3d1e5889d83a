"""Walk: the two sides of a sync as compact `Entry` records — sorted lists for a plan, or
streams (`stream_local_async`, `stream_s3_async`) for a sync that transfers while it scans.
The lists are the streams collected, so both apply the same rules and warnings.

A local folder is walked by `storage.local.walk_folder` (the walk `cp -r` uses too), pruning
ignored folders (`node_modules/` is never entered); an S3 prefix is listed flat. The same
`Selection` filters both sides, so an excluded file is neither uploaded nor deleted on the
other side. Symlinks are skipped unless `follow_symlinks`; then loops and links that leave the
root are skipped with a warning. A folder that cannot be read makes the scan incomplete, which
forbids deletions. Keys no local file can have are not dropped here: they are refused, and
reported, where they would be written (`LocalSide.target`).

With `dir_markers`, folders take part too, as entries whose key ends in '/': locally, every
folder that holds nothing selected (a leaf that would otherwise vanish); in S3, the folder
markers under the prefix. The prefix or root itself is never one.

After a first plan, `refine_async` reads more where the listing is not enough: the `mtime`
s3kit stored on objects (one HEAD per download candidate, so unchanged files are not
downloaded again) and content digests for `--checksum`.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import stat as stat_module
from collections.abc import AsyncGenerator, Callable, Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path

from s3kit._aio import run_bounded
from s3kit._mtime import MTIME_KEY, parse_mtime, seconds
from s3kit._observe import logger
from s3kit._session import Session
from s3kit._sync.ignore import DEFAULT_RULES, IgnoreRules
from s3kit._sync.plan import (
    CONTENT_UNCHECKED,
    SOURCE_NEWER,
    TIME_DIFFERS,
    Direction,
    Entry,
    Plan,
    sort_entries,
)
from s3kit._uri import LocalPath, Location, S3Url
from s3kit.errors import (
    InvalidKey,
    LocalPathError,
    ObjectNotFound,
    S3KitError,
    UsageError,
    translate,
)
from s3kit.storage.base import ObjectInfo, user_metadata
from s3kit.storage.local import local_target, shown_key, stream_in_thread, walk_folder
from s3kit.transfer.checksum import crc64, crc_hex, expected_checksum
from s3kit.transfer.filters import Filters
from s3kit.transfer.paths import folder_prefix

IGNORE_FILE = ".s3kitignore"
MAX_IGNORE_BYTES = 1024 * 1024
Warn = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class LocalSide:
    root: Path

    def __str__(self) -> str:
        return str(self.root)

    def location(self, key: str) -> LocalPath:
        """Where `key` is, to show or read; writes and deletes go through `target`."""
        return LocalPath(self.root.joinpath(*key.split("/")))

    def target(self, key: str) -> Path:
        """The path to write, rename or delete for `key` (a folder marker 'a/b/': the
        folder): `local_target`, which refuses a name no file can have and a path through a
        symlink that leads out of the root."""
        return local_target(self.root, key, folder=key.endswith("/"))


@dataclass(frozen=True, slots=True)
class S3Side:
    bucket: str
    prefix: str  # '' or ending with '/'

    def __str__(self) -> str:
        return str(S3Url(self.bucket, self.prefix))

    def location(self, key: str) -> S3Url:
        return S3Url(self.bucket, self.prefix + key)


def refusals(plan: Plan, destination: Side) -> list[tuple[str, str]]:
    """(key, why) for every action of `plan` the run will refuse at `destination`, without
    touching anything: a name no local file can have, a path through a symlink out of the
    folder, a key an S3 object cannot be written under. What a dry run shows as skipped."""
    found: list[tuple[str, str]] = []
    for action in plan.actions:
        try:
            if isinstance(destination, LocalSide):
                destination.target(action.key)
            elif action.kind == "copy" and not action.key.endswith("/"):
                from s3kit.storage.s3 import object_key

                object_key(destination.prefix + action.key)
        except (InvalidKey, LocalPathError) as exc:
            found.append(
                (action.key, exc.message.removeprefix(f"skipped {shown_key(action.key)}: "))
            )
    return found


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


@dataclass(slots=True)
class ScanProgress:
    """How far a streamed scan has got, updated as it goes (from the walk's worker thread for
    a folder): entries found so far, whether it has finished, and whether it read everything."""

    entries: int = 0
    finished: bool = False
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
    """What `walk_local` finds, sorted in UTF-8 byte order of the relative key."""
    entries: list[Entry] = []
    complete = walk_local(
        root, entries.append, selection, follow_symlinks=follow_symlinks, warn=warn,
        must_exist=must_exist, dir_markers=dir_markers,
    )  # fmt: skip
    return ScanResult(sort_entries(entries), complete)


def walk_local(
    root: Path,
    found: Callable[[Entry], None],
    selection: Selection | None = None,
    *,
    follow_symlinks: bool = False,
    warn: Warn | None = None,
    must_exist: bool = True,
    dir_markers: bool = False,
) -> bool:
    """Call `found` with every selected file under `root`, in the order the walk meets them
    (not sorted); with `dir_markers`, also with every folder that holds nothing selected, as
    'a/b/' (its size: how many entries it holds, 0 when it is empty). Returns False when a
    folder could not be read: the scan is incomplete, which forbids deletions."""
    selection = selection or Selection()
    say = warn or (lambda message: logger.warning("%s", message))
    if not root.is_dir():
        if must_exist or root.exists():
            raise translate(FileNotFoundError(2, "no such folder"), path=str(root))
        return True
    taken = 0  # entries found so far: a folder that adds none holds nothing selected
    started: dict[str, int] = {}

    def file(path: str, info: os.stat_result) -> None:
        nonlocal taken
        if selection.accepts(path, walked=True):
            taken += 1
            raw = path.encode("utf-8", "surrogateescape")
            found(Entry(raw, info.st_size, info.st_mtime, exact_mtime=True))

    def prune(path: str) -> bool:
        if selection.prunes(path):
            return True
        started[path] = taken
        return False

    def leave(path: str, info: os.stat_result, held: int | None) -> None:
        nonlocal taken
        if (
            dir_markers
            and held is not None
            and taken == started.pop(path)  # nothing selected below: a leaf
            and selection.accepts_folder(path + "/", walked=True)
        ):
            taken += 1
            raw = (path + "/").encode("utf-8", "surrogateescape")
            found(Entry(raw, held, info.st_mtime, exact_mtime=True))

    complete = walk_folder(
        root, file, follow_symlinks=follow_symlinks, warn=say, prune=prune, leave=leave
    )
    if not complete:
        say(f"deletions are disabled for this run: a folder under {root} could not be read")
    return complete


async def stream_local_async(
    root: Path,
    selection: Selection | None = None,
    *,
    follow_symlinks: bool = False,
    warn: Warn | None = None,
    progress: ScanProgress | None = None,
    batch_size: int = 500,
    queue_batches: int = 4,
) -> AsyncGenerator[Entry, None]:
    """`walk_local` as a stream, for a sync that starts transferring before the walk ends.

    The walk runs in a worker thread and hands its entries to the event loop in batches
    through a bounded queue: when the consumer lags (every transfer slot busy), the walk waits
    instead of filling memory, at most `queue_batches` batches ahead. Entries come in walk
    order, not sorted. Closing the stream early stops the walk; a walk that fails raises here.
    """
    progress = progress if progress is not None else ScanProgress()

    def walk(found: Callable[[Entry], None]) -> None:
        def counted(item: Entry) -> None:
            progress.entries += 1
            found(item)

        progress.complete = walk_local(
            root, counted, selection, follow_symlinks=follow_symlinks, warn=warn
        )
        progress.finished = True

    entries = stream_in_thread(walk, batch_size=batch_size, queue_batches=queue_batches)
    async with contextlib.aclosing(entries):
        async for item in entries:
            yield item


async def scan_s3_async(
    session: Session,
    side: S3Side,
    selection: Selection | None = None,
    *,
    warn: Warn | None = None,
    dir_markers: bool = False,
    source: bool = True,
) -> ScanResult:
    """What `stream_s3_async` finds, sorted in UTF-8 byte order."""
    stream = stream_s3_async(
        session, side, selection, warn=warn, dir_markers=dir_markers, source=source
    )
    return ScanResult(sort_entries([item async for item in stream]))


async def stream_s3_async(
    session: Session,
    side: S3Side,
    selection: Selection | None = None,
    *,
    warn: Warn | None = None,
    dir_markers: bool = False,
    source: bool = True,
    progress: ScanProgress | None = None,
    page_size: int = 1000,
) -> AsyncGenerator[Entry, None]:
    """Every selected object under the prefix, page by page as the listing comes, in the
    server's order (SeaweedFS lists folder by folder, not in byte order). Folder markers (keys
    ending in '/') are skipped unless `dir_markers`."""
    selection = selection or Selection()
    say = warn or (lambda message: logger.warning("%s", message))
    listing = session.storage(side.bucket).list_async(side.prefix, page_size=page_size)
    async for item in listing:
        if not isinstance(item, ObjectInfo):
            continue
        relative = item.key[len(side.prefix) :]
        if item.key.endswith("/"):
            if dir_markers and _takes_part(side, item, selection, source, say):
                yield _counted(progress, replace_entry(relative, item))
            continue
        if not selection.accepts(relative):
            continue
        yield _counted(progress, replace_entry(relative, item))
    if progress is not None:
        progress.finished = True


def _counted(progress: ScanProgress | None, item: Entry) -> Entry:
    if progress is not None:
        progress.entries += 1
    return item


def _takes_part(
    side: S3Side, item: ObjectInfo, selection: Selection, source: bool, warn: Warn
) -> bool:
    """Whether the folder marker `item` takes part: not the prefix itself (the root), nor a
    folder the selection leaves out; at the source, not a marker holding bytes (no empty
    folder)."""
    relative = item.key[len(side.prefix) :]
    if not relative or not selection.accepts_folder(relative):
        return False
    where = f"s3://{side.bucket}/{item.key}"
    if source and item.size:
        warn(f"skipping {where}: a folder marker that holds {item.size} bytes")
        return False
    return True


async def scan_async(
    session: Session,
    side: Side,
    selection: Selection,
    *,
    source: bool,
    follow_symlinks: bool = False,
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
        session, side, selection, warn=warn, dir_markers=dir_markers, source=source
    )


# -- refine: read more where the listing is not enough ---------------------------------------


def needs_closer_look(direction: Direction, reason: str) -> bool:
    """Whether a transfer decided on the listings alone may be cancelled by reading more: a
    download planned only because LastModified is newer (the stored `mtime` may say the file
    is unchanged), or a `--checksum` pair whose digests are not known yet."""
    return reason == CONTENT_UNCHECKED or (
        direction == "download" and reason in (SOURCE_NEWER, TIME_DIFFERS)
    )


async def closer_look_async(
    session: Session, src: Entry, dst: Entry, reason: str, source: Side, destination: Side
) -> tuple[Entry | None, Entry | None]:
    """New (source, destination) entries for one such pair (None: unchanged): the stored
    `mtime` (one HEAD), or the digests (local MD5, and the stored CRC64NVME where an ETag is
    multipart)."""
    if reason == CONTENT_UNCHECKED:
        return await _with_digests(session, src, dst, source, destination)
    return await _with_stored_mtime(session, src, source), None


async def refine_async(
    session: Session,
    plan: Plan,
    source: Side,
    destination: Side,
    *,
    concurrency: int = 32,
) -> dict[bytes, tuple[Entry | None, Entry | None]]:
    """`closer_look_async` for every action of `plan` that needs one, `concurrency` at once."""
    refreshed: dict[bytes, tuple[Entry | None, Entry | None]] = {}

    async def one(src: Entry, dst: Entry, reason: str) -> None:
        refreshed[src.raw] = await closer_look_async(session, src, dst, reason, source, destination)

    await run_bounded(
        (
            one(a.source, a.destination, a.reason)
            for a in plan.transfers
            if a.source is not None
            and a.destination is not None
            and needs_closer_look(plan.direction, a.reason)
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
    stored = parse_mtime((info.metadata if info else {}).get(MTIME_KEY))
    return item if stored is None else item._replace(mtime=seconds(stored), exact_mtime=True)


def file_digests(path: Path, want_crc: bool) -> tuple[str, str | None]:
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
            md5, crc = await asyncio.to_thread(file_digests, side.location(item.key).path, want_crc)
        except OSError:
            return item
        return item._replace(etag=md5, crc=crc)
    if not want_crc:
        return item
    stored = await _remote_crc(session, side, item)
    return item._replace(crc=stored) if stored else item


async def _remote_crc(session: Session, side: S3Side, item: Entry) -> str | None:
    """The object's CRC64NVME of the whole, as hex: s3kit's metadata (older uploads), else S3's
    own full-object checksum (from a HEAD in checksum mode); None when it has neither."""
    try:
        response = await session.http().request_async(
            "HEAD", side.bucket, side.prefix + item.key, headers={"x-amz-checksum-mode": "ENABLED"}
        )
    except ObjectNotFound:
        return None
    headers = dict(response.headers)  # lower-case names
    # The rule downloads are checked by: s3kit's CRC first, then the object's own checksum.
    expected = expected_checksum(user_metadata(headers), headers.get("etag"), headers)
    if expected is None or expected.algorithm != "crc64nvme" or expected.parts:
        return None
    return expected.value.hex() or None


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
    async for item in session.storage(side.bucket).list_async(full, page_size=1):
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
    "ScanProgress",
    "ScanResult",
    "Selection",
    "Side",
    "build_selection",
    "closer_look_async",
    "file_digests",
    "folder_as_seen_async",
    "needs_closer_look",
    "read_ignore_file_async",
    "refine_async",
    "scan_async",
    "scan_local",
    "scan_s3_async",
    "side_of",
    "stream_local_async",
    "stream_s3_async",
    "walk_local",
]
