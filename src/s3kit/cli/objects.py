"""Object commands: ls, cp, mv, rm, cat. Each parses, calls the library, prints."""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer

from s3kit._aio import iter_sync, run_sync
from s3kit._uri import parse_s3_url
from s3kit.cli import format as fmt
from s3kit.cli.state import state_of
from s3kit.errors import ObjectNotFound, S3KitError, UsageError
from s3kit.service import S3Service
from s3kit.storage.base import ObjectInfo, Prefix
from s3kit.transfer.paths import folder_prefix

Recursive = Annotated[
    bool, typer.Option("--recursive", "-r", help="Act on every object under the prefix/folder.")
]
Dryrun = Annotated[bool, typer.Option("--dryrun", help="Show what would happen; change nothing.")]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing but errors.")]
JsonOut = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]


def _out(line: str) -> None:
    sys.stdout.write(line + "\n")


def _err(line: str) -> None:
    sys.stderr.write(f"s3kit: {line}\n")


def ls(
    ctx: typer.Context,
    path: Annotated[
        str | None, typer.Argument(help="s3://bucket[/prefix]; none lists buckets.")
    ] = None,
    recursive: Recursive = False,
    human_readable: Annotated[
        bool, typer.Option("--human-readable", help="Sizes as KiB, MiB, GiB.")
    ] = False,
    summarize: Annotated[
        bool, typer.Option("--summarize", help="End with the object count and total size.")
    ] = False,
    json_out: JsonOut = False,
) -> None:
    """List buckets, or the objects and prefixes under s3://bucket/prefix.

    Example: s3kit ls s3://demo/site/ --recursive --human-readable --summarize
    """
    state = state_of(ctx)
    if path is None:
        buckets = S3Service(state.session).list_buckets()
        if json_out:
            _out(
                json.dumps(
                    [
                        {"name": b.name, "created": b.created.isoformat() if b.created else None}
                        for b in buckets
                    ],
                    indent=2,
                )
            )
        else:
            for bucket in buckets:
                _out(f"{fmt.timestamp(bucket.created)} {bucket.name}")
        return
    url = parse_s3_url(path)
    storage = state.storage(url.bucket)
    # Without --recursive, `s3://b/dir` lists like `aws s3 ls`: entries starting with "dir".
    folder = url.key.rsplit("/", 1)[0] + "/" if "/" in url.key else ""
    entries = storage.list_async(url.key, delimiter=None if recursive else "/")
    count = total = 0
    first = True
    if json_out:
        sys.stdout.write("[")
    for entry in iter_sync(entries):
        if isinstance(entry, ObjectInfo):
            count += 1
            total += entry.size
        if json_out:
            record: dict[str, object] = (
                {"prefix": entry.key}
                if isinstance(entry, Prefix)
                else {
                    "key": entry.key,
                    "size": entry.size,
                    "last_modified": entry.last_modified.isoformat(),
                    "etag": entry.etag,
                    "storage_class": entry.storage_class,
                }
            )
            sys.stdout.write(("\n  " if first else ",\n  ") + json.dumps(record))
            first = False
            continue
        name = entry.key if recursive else entry.key[len(folder) :]
        if isinstance(entry, Prefix):
            _out(fmt.prefix_line(name))
        else:
            _out(fmt.object_line(entry.last_modified, entry.size, name, human=human_readable))
    if json_out:
        sys.stdout.write("\n]\n" if not first else "]\n")
    elif summarize:
        for line in fmt.summary_lines(count, total, human=human_readable):
            _out(line)


def rm(
    ctx: typer.Context,
    path: Annotated[str, typer.Argument(help="s3://bucket/key, or a prefix with --recursive.")],
    recursive: Recursive = False,
    dryrun: Dryrun = False,
    quiet: Quiet = False,
) -> None:
    """Delete an object, or every object under a prefix with --recursive.

    Example: s3kit rm --recursive --dryrun s3://demo/site/
    """
    url = parse_s3_url(path)
    storage = state_of(ctx).storage(url.bucket)
    tag = "(dryrun) " if dryrun else ""
    if not recursive:
        if url.is_prefix:
            raise UsageError(f"{url} is a bucket or prefix — add --recursive to delete under it")
        if not storage.exists(url.key):
            raise ObjectNotFound(f"{url} does not exist — nothing was deleted")
        if not dryrun:
            storage.delete(url.key)
        if not quiet:
            _out(f"{tag}delete: {url}")
        return
    prefix = folder_prefix(url) if url.key else url
    batch: list[str] = []
    failed = 0

    def flush() -> None:
        nonlocal failed
        deleted = list(batch)
        if batch and not dryrun:
            report = run_sync(storage.delete_many_async(list(batch)))
            deleted = report.deleted
            for failure in report.failures:
                failed += 1
                _err(f"delete failed: s3://{url.bucket}/{failure.key}: {failure.code}"
                     f" {failure.message}".rstrip())  # fmt: skip
        if not quiet:
            for key in deleted:
                _out(f"{tag}delete: s3://{url.bucket}/{key}")
        batch.clear()

    for entry in iter_sync(storage.list_async(prefix.key)):
        if isinstance(entry, ObjectInfo):
            batch.append(entry.key)
            if len(batch) == 1000:
                flush()
    flush()
    if failed:
        raise S3KitError(f"{failed} object(s) under {prefix} could not be deleted (listed above)")


def cat(
    ctx: typer.Context,
    path: Annotated[str, typer.Argument(help="s3://bucket/key")],
) -> None:
    """Write an object's content to standard output.

    Example: s3kit cat s3://demo/site/index.html | head
    """
    url = parse_s3_url(path)
    if url.is_prefix:
        raise UsageError(f"{url} is a bucket or prefix — name an object")
    out = sys.stdout.buffer
    for chunk in state_of(ctx).storage(url.bucket).stream(url.key):
        out.write(chunk)
    out.flush()
