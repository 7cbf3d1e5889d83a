"""Object commands: ls, rm, cat. Each parses, calls the library, prints.

What only running a command needs (the storage layer, the service layer) is imported when it
runs: `s3kit ls --help` loads none of it, and `s3kit ls s3://b/` lists without an event loop.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Annotated

import typer

from s3kit.cli import format as fmt
from s3kit.cli import output
from s3kit.cli.completion import complete_s3_url
from s3kit.cli.state import cli_s3_url, state_of
from s3kit.errors import S3KitError, UsageError

if TYPE_CHECKING:
    from s3kit.storage.base import ObjectInfo, Prefix

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


def _record(entry: ObjectInfo | Prefix) -> dict[str, object]:
    """One record of an `ls` listing (README "JSON output")."""
    from s3kit.storage.base import Prefix  # loaded by then: a lookup, next to the JSON's cost

    if isinstance(entry, Prefix):
        return {"prefix": entry.key}
    return {
        "key": entry.key,
        "size": entry.size,
        "last_modified": entry.last_modified,
        "etag": entry.etag,
        "storage_class": entry.storage_class,
    }


def ls(
    ctx: typer.Context,
    path: Annotated[
        str | None,
        typer.Argument(
            help="s3://bucket[/prefix]; none lists buckets.", autocompletion=complete_s3_url
        ),
    ] = None,
    recursive: Recursive = False,
    human_readable: Annotated[
        bool,
        # -H as s5cmd has it: -h is --help on every command, as in every typer/click tool.
        typer.Option("--human-readable", "-H", help="Sizes as KiB, MiB, GiB."),
    ] = False,
    summarize: Annotated[
        bool, typer.Option("--summarize", help="End with the object count and total size.")
    ] = False,
    json_out: JsonOut = False,
    jsonl: output.Jsonl = False,
) -> None:
    """List buckets, or the objects and prefixes under a prefix.

    Example: s3kit ls s3://demo/site/ --recursive --human-readable --summarize
    """
    from s3kit.storage.base import ObjectInfo, Prefix

    state = state_of(ctx)
    mode = output.mode_of(json_out=json_out, jsonl=jsonl)
    if path is None:
        from s3kit.service import S3Service

        buckets = S3Service(state.session).list_buckets()
        if mode != "text":
            records = ({"name": b.name, "created": b.created} for b in buckets)
            output.emit_listing(records, jsonl=mode == "jsonl")
        else:
            for bucket in buckets:
                _out(f"{fmt.timestamp(bucket.created)} {bucket.name}")
        return
    url = cli_s3_url(path)
    storage = state.storage(url.bucket)
    # Without --recursive, `s3://b/dir` lists like `aws s3 ls`: entries starting with "dir".
    folder = url.key.rsplit("/", 1)[0] + "/" if "/" in url.key else ""
    entries = storage.list(url.key, delimiter=None if recursive else "/")
    matched = 0

    def counted() -> Iterator[ObjectInfo | Prefix]:
        nonlocal matched
        for entry in entries:
            matched += 1
            yield entry

    if mode != "text":
        output.emit_listing(map(_record, counted()), jsonl=mode == "jsonl")
        _nothing_matched(url.key, matched)
        return
    count = total = 0
    for entry in counted():
        if isinstance(entry, ObjectInfo):
            count += 1
            total += entry.size
        name = entry.key if recursive else entry.key[len(folder) :]
        if isinstance(entry, Prefix):
            _out(fmt.prefix_line(name))
        else:
            _out(fmt.object_line(entry.last_modified, entry.size, name, human=human_readable))
    if summarize:
        for line in fmt.summary_lines(count, total, human=human_readable):
            _out(line)
    _nothing_matched(url.key, matched)


def _nothing_matched(prefix: str, matched: int) -> None:
    """`ls` of a prefix that matches nothing exits 1, silently, as `aws s3 ls` and grep do;
    a bucket with nothing in it lists as empty (exit 0)."""
    if prefix and not matched:
        raise typer.Exit(1)


def rm(
    ctx: typer.Context,
    path: Annotated[
        str,
        typer.Argument(
            help="s3://bucket/key, or a prefix with --recursive.", autocompletion=complete_s3_url
        ),
    ],
    recursive: Recursive = False,
    dryrun: Dryrun = False,
    quiet: Quiet = False,
    json_out: Annotated[
        bool, typer.Option("--json", help="Print a JSON report: deleted, failed, results.")
    ] = False,
    jsonl: output.Jsonl = False,
) -> None:
    """Delete an object, or all under a prefix with --recursive.

    Example: s3kit rm --recursive --dryrun s3://demo/site/
    """
    from s3kit._aio import run_sync
    from s3kit.storage.base import ObjectInfo
    from s3kit.transfer.paths import folder_prefix

    items = output.ItemReport(output.mode_of(json_out=json_out, jsonl=jsonl))
    quiet = quiet or items.mode != "text"
    status: output.Status = "planned" if dryrun else "done"
    url = cli_s3_url(path)
    storage = state_of(ctx).storage(url.bucket)
    tag = "(dryrun) " if dryrun else ""
    if not recursive:
        if url.is_prefix:
            raise UsageError(f"{url} is a bucket or prefix — add --recursive to delete under it")
        if not storage.exists(url.key):
            # As S3's DeleteObject, `aws s3 rm` and `object delete-many`: what is gone is not
            # an error (exit 0); unlike them, rm looks first, and says so.
            sys.stderr.write(f"s3kit: warning: {url} did not exist — nothing was deleted\n")
            items.close(deleted=0, failed=0)
            return
        if not dryrun:
            storage.delete(url.key)
        if not quiet:
            _out(f"{tag}delete: {url}")
        items.add(output.item("delete", url, status=status))
        items.close(deleted=items.count("done"), failed=0)
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
                error = output.error_text(failure.message, failure.code)
                items.add(output.item("delete", f"s3://{url.bucket}/{failure.key}",
                                      status="failed", error=error))  # fmt: skip
        for key in deleted:
            if not quiet:
                _out(f"{tag}delete: s3://{url.bucket}/{key}")
            items.add(output.item("delete", f"s3://{url.bucket}/{key}", status=status))
        batch.clear()

    for entry in storage.list(prefix.key):
        if isinstance(entry, ObjectInfo):
            batch.append(entry.key)
            if len(batch) == 1000:
                flush()
    flush()
    items.close(deleted=items.count("done"), failed=failed)
    if failed:
        raise S3KitError(f"{failed} object(s) under {prefix} could not be deleted (listed above)")


def cat(
    ctx: typer.Context,
    path: Annotated[str, typer.Argument(help="s3://bucket/key", autocompletion=complete_s3_url)],
) -> None:
    """Write an object's content to standard output.

    Example: s3kit cat s3://demo/site/index.html | head
    """
    url = cli_s3_url(path)
    if url.is_prefix:
        raise UsageError(f"{url} is a bucket or prefix — name an object")
    out = sys.stdout.buffer
    for chunk in state_of(ctx).storage(url.bucket).stream(url.key):
        out.write(chunk)
    out.flush()
