"""cp's plan: the copies `cp source destination [--recursive]` means, as a stream of items.

Walk and decide, never act: a local folder is walked (the walk sync uses), a prefix listed;
`paths` maps each entry to its destination and `filters` decide whether it goes. An entry that
must not be copied (a key no local file may have) becomes a refused item, reported by the
TransferManager as failed; the plan itself raises only when it cannot start (no such folder,
no such bucket, a pair cp cannot do).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator, Callable
from pathlib import Path

from s3kit._session import Session
from s3kit._uri import LocalPath, Location, S3Url
from s3kit.errors import LocalPathError, S3KitError, translate, translating
from s3kit.storage.base import ObjectInfo
from s3kit.storage.local import stream_in_thread, walk_folder
from s3kit.transfer.filters import Filters
from s3kit.transfer.items import TransferItem
from s3kit.transfer.paths import (
    base_name,
    check_pair,
    folder_prefix,
    recursive_destination,
    single_destination,
)


async def plan_copies(
    session: Session,
    source: Location,
    destination: Location,
    *,
    recursive: bool = False,
    filters: Filters | None = None,
) -> AsyncGenerator[TransferItem, None]:
    """The copies `cp source destination` means; `filters` choose among the files or keys of
    a recursive copy."""
    check_pair(source, destination, recursive=recursive)
    if not recursive:
        yield _single_item(source, destination)
        return
    rules = filters or Filters()
    if isinstance(source, LocalPath):
        items = _folder_items(source, destination, rules)
    elif isinstance(source, S3Url):
        items = _prefix_items(session, source, destination, rules)
    else:
        return
    # Closed with this stream, not left to asyncio's shutdown (see TransferManager.run_async).
    async with contextlib.aclosing(items):
        async for item in items:
            yield item


async def _folder_items(
    source: LocalPath, destination: Location, rules: Filters
) -> AsyncGenerator[TransferItem, None]:
    root = Path(source.path)
    if not root.is_dir():
        if root.exists():
            raise LocalPathError(f"{source} is a file, not a folder")
        raise translate(FileNotFoundError(2, "no such folder"), path=str(source))
    complete = True

    def walk(found: Callable[[tuple[str, int]], None]) -> None:
        # The walk sync uses: links inside the source followed (as `aws s3 cp` follows
        # links), loops and links out of it skipped with a warning.
        nonlocal complete
        complete = walk_folder(
            root, lambda rel, info: found((rel, info.st_size)), follow_symlinks=True
        )

    files = stream_in_thread(walk, batch_size=100)
    async with contextlib.aclosing(files):
        async for relative, size in files:
            if rules.accepts(relative):
                yield TransferItem(
                    LocalPath(root.joinpath(*relative.split("/"))),
                    recursive_destination(relative, destination),
                    size,
                )
    if not complete:
        unread = LocalPathError(
            f"{root}: some folders could not be read (see the warnings); what they"
            " hold was not copied"
        )
        yield TransferItem(source, destination, refused=unread)


async def _prefix_items(
    session: Session, source: S3Url, destination: Location, rules: Filters
) -> AsyncGenerator[TransferItem, None]:
    prefix = folder_prefix(source)
    storage = session.storage(prefix.bucket)
    async for entry in storage.list_async(prefix.key):
        if not isinstance(entry, ObjectInfo) or entry.key.endswith("/"):
            continue
        relative = entry.key[len(prefix.key) :]
        if not rules.accepts(relative):
            continue
        here = S3Url(prefix.bucket, entry.key)
        try:
            there = recursive_destination(relative, destination)
        except S3KitError as exc:  # no local file may have that name, or be there
            yield TransferItem(here, destination, entry.size, entry.etag, refused=exc)
            continue
        yield TransferItem(here, there, entry.size, entry.etag)


def _single_item(source: Location, destination: Location) -> TransferItem:
    if isinstance(source, LocalPath):
        with translating(path=str(source)):
            size: int | None = source.path.stat().st_size
        name = source.path.name
    elif isinstance(source, S3Url):
        size, name = None, base_name(source.key)
    else:
        size, name = None, ""
    dest_is_dir = isinstance(destination, LocalPath) and destination.path.is_dir()
    return TransferItem(
        source, single_destination(name, destination, dest_is_dir=dest_is_dir), size
    )
