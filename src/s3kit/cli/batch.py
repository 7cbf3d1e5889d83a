"""`s3kit batch ACTION`: one action on every object a prefix, glob or manifest selects."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from s3kit.cli import output
from s3kit.cli.completion import complete_s3_url
from s3kit.cli.cp_mv import parse_metadata, storage_class
from s3kit.cli.state import cli_s3_url, state_of
from s3kit.errors import S3KitError, UsageError
from s3kit.service import S3Service
from s3kit.service.batch import ACTIONS, BatchResult


def _item(result: BatchResult) -> dict[str, Any]:
    """A result as an item (cli/output.py), with the `bucket` and `key` a JSON-lines manifest
    takes: a report can be given back as --manifest (its failed lines, say)."""
    failed = result.status == "failed"
    return output.item(
        result.action, f"s3://{result.bucket}/{result.key}", status=result.status,
        error=output.error_text(result.error, result.code) if failed else None,
        bucket=result.bucket, key=result.key,
    )  # fmt: skip


def batch(
    ctx: typer.Context,
    action: Annotated[str, typer.Argument(help=f"One of: {', '.join(ACTIONS)}.")],
    location: Annotated[
        str,
        typer.Argument(
            help="s3://bucket[/prefix] the objects are in.", autocompletion=complete_s3_url
        ),
    ],
    glob: Annotated[
        str | None,
        typer.Option(
            "--glob", metavar="PATTERN", help="Only keys matching this glob, e.g. 'logs/*.gz'."
        ),
    ] = None,
    manifest: Annotated[
        Path | None,
        typer.Option(
            "--manifest",
            metavar="FILE",
            help="CSV (bucket,key[,version]) or JSON-lines key list.",
        ),
    ] = None,
    destination: Annotated[
        str | None,
        typer.Option(
            "--dest",
            metavar="S3_URL",
            help="copy: s3://bucket/prefix to copy into.",
            autocompletion=complete_s3_url,
        ),
    ] = None,
    tag: Annotated[
        list[str] | None,
        typer.Option("--tag", metavar="KEY=VALUE", help="tag: a tag (repeatable)."),
    ] = None,
    metadata: Annotated[
        list[str] | None,
        typer.Option(
            "--metadata", metavar="KEY=VALUE", help="set-metadata: user metadata (repeatable)."
        ),
    ] = None,
    storage_class_: Annotated[
        str | None,
        typer.Option("--storage-class", metavar="CLASS", help="set-storage-class: the class."),
    ] = None,
    days: Annotated[
        int, typer.Option("--days", metavar="DAYS", help="restore: days to keep the copy.")
    ] = 1,
    tier: Annotated[
        str, typer.Option("--tier", metavar="TIER", help="restore: Standard, Bulk or Expedited.")
    ] = "Standard",
    concurrency: Annotated[
        int,
        typer.Option(
            "--concurrency", min=1, max=256, metavar="N", help="Objects acted on at once."
        ),
    ] = 16,
    dryrun: Annotated[
        bool, typer.Option("--dryrun", help="List the keys; change nothing.")
    ] = False,
    report: Annotated[
        Path | None,
        typer.Option(
            "--report",
            metavar="FILE",
            help="Write per-key results as JSON lines (items, as --jsonl).",
        ),
    ] = None,
    json_out: Annotated[
        bool, typer.Option("--json", help="Print a JSON report: action, objects, failed, results.")
    ] = False,
    jsonl: output.Jsonl = False,
) -> None:
    """Copy, delete, tag or restore many objects at once.

    Also sets the metadata or the storage class of many objects.

    Examples: s3kit batch tag s3://logs/2025/ --tag retain=no ;
    s3kit batch delete s3://logs --glob 'tmp/*.log' --dryrun ;
    s3kit batch copy s3://a/in/ --dest s3://b/out/ --report copy.jsonl
    """
    items = output.ItemReport(output.mode_of(json_out=json_out, jsonl=jsonl))
    if action not in ACTIONS:
        raise UsageError(f"unknown batch action '{action}' — use one of {', '.join(ACTIONS)}")
    source = cli_s3_url(location)
    params: dict[str, object] = {"days": days, "tier": tier, "source_prefix": source.key}
    if destination:
        target = cli_s3_url(destination)
        params["destination_bucket"] = target.bucket
        params["destination_prefix"] = target.key
    if tag:
        params["tags"] = parse_metadata(tag)
    if metadata:
        params["metadata"] = parse_metadata(metadata)
    if storage_class_:
        params["storage_class"] = storage_class(storage_class_)
    if tier not in ("Standard", "Bulk", "Expedited"):
        raise UsageError(f"--tier must be Standard, Bulk or Expedited, not '{tier}'")
    service = S3Service(state_of(ctx).session)
    targets = service.select_keys(source.bucket, prefix=source.key, glob=glob, manifest=manifest)
    quiet = items.mode != "text"

    def show(result: BatchResult) -> None:
        items.add(_item(result))
        if result.status == "failed":
            sys.stderr.write(
                f"s3kit: error: {action} s3://{result.bucket}/{result.key}: {result.error}\n"
            )
        elif not quiet:
            prefix = "(dryrun) " if result.status == "planned" else ""
            sys.stdout.write(f"{prefix}{action}: s3://{result.bucket}/{result.key}\n")

    results = service.batch(
        action,
        targets,
        params=params,
        concurrency=concurrency,
        dryrun=dryrun,
        on_result=show,
    )
    if report is not None:
        output.write_lines(report, map(_item, results))
    failed = [r for r in results if r.status == "failed"]
    items.close(action=action, objects=len(results), failed=len(failed))
    if failed:
        raise S3KitError(f"{len(failed)} of {len(results)} objects failed (see the errors above)")
