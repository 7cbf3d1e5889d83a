"""`s3kit bucket inventory|analytics|metrics|intelligent-tiering list|get|set|delete`: the
configurations a bucket keeps by id, one command group each."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Literal

import typer

from s3kit.cli.bucket_config.base import (
    BucketArg,
    FileOpt,
    JsonOpt,
    any_given,
    config_group,
    say,
    service_of,
    show_document,
)
from s3kit.cli.documents import load_document, print_document
from s3kit.cli.mb_rb import bucket_only
from s3kit.errors import UsageError
from s3kit.service.configs import (
    ID_CONFIGS,
    Document,
    IdConfigKind,
    build_analytics,
    build_intelligent_tiering,
    build_inventory,
    build_metrics,
    validate_id_config,
)

IdArg = Annotated[str, typer.Argument(help="The configuration's Id.", show_default=False)]


def _id_group(kind: IdConfigKind, help_text: str) -> typer.Typer:
    group = config_group(help_text)
    label = ID_CONFIGS[kind].label

    @group.command(
        "list", help=f"List the bucket's {label}s.\n\nTheir Ids; the full documents with --json."
    )
    def list_command(ctx: typer.Context, path: BucketArg, json_out: JsonOpt = False) -> None:
        bucket = bucket_only(path)
        documents = list(service_of(ctx).list_id_configs(kind, bucket))
        if json_out:
            print_document(documents, json_out=True)
        else:
            for document in documents:
                say(str(document.get("Id", "")))

    @group.command("get", help=f"Print one {label}.\n\nYAML, or JSON with --json.")
    def get_command(
        ctx: typer.Context, path: BucketArg, config_id: IdArg, json_out: JsonOpt = False
    ) -> None:
        bucket = bucket_only(path)
        document = service_of(ctx).get_id_config(kind, bucket, config_id)
        show_document(
            document, json_out=json_out, none=f"s3://{bucket} has no {label} '{config_id}'"
        )

    @group.command("delete", help=f"Delete one {label}.\n\nFine if it is not there.")
    def delete_command(ctx: typer.Context, path: BucketArg, config_id: IdArg) -> None:
        bucket = bucket_only(path)
        service_of(ctx).delete_id_config(kind, bucket, config_id)
        say(f"deleted the {label} '{config_id}' of s3://{bucket}")

    return group


def _set_id_config(
    ctx: typer.Context,
    kind: IdConfigKind,
    path: str,
    file: Path | None,
    config_id: str | None,
    flags_given: bool,
    build: Callable[[str], Document],
) -> None:
    """--file (with its own Id, or --id), or --id and flags; then one call."""
    bucket = bucket_only(path)
    if file is not None:
        if flags_given:
            raise UsageError("give either --file or the flags that build a document, not both")
        document = validate_id_config(kind, load_document(file), config_id)
    elif not config_id:
        raise UsageError("give --file FILE, or --id ID and the flags (see --help)")
    else:
        document = build(config_id)
    service_of(ctx).set_id_config(kind, bucket, document)
    say(f"set the {ID_CONFIGS[kind].label} '{document['Id']}' of s3://{bucket}")


ConfigIdOpt = Annotated[
    str | None, typer.Option("--id", metavar="ID", help="The configuration's Id.")
]
PrefixOpt = Annotated[
    str | None, typer.Option("--prefix", metavar="PREFIX", help="Only keys under this prefix.")
]

inventory = _id_group("inventory", "Inventory reports: list, get, set, delete.")


@inventory.command("set")
def inventory_set(
    ctx: typer.Context,
    path: BucketArg,
    file: FileOpt = None,
    config_id: ConfigIdOpt = None,
    destination: Annotated[
        str | None,
        typer.Option(
            "--destination", metavar="BUCKET", help="Bucket ARN (or name) for the reports."
        ),
    ] = None,
    destination_prefix: Annotated[
        str | None,
        typer.Option("--destination-prefix", metavar="PREFIX", help="Prefix of the reports."),
    ] = None,
    format: Annotated[
        Literal["CSV", "ORC", "Parquet"],
        typer.Option("--format", metavar="CSV|ORC|Parquet", help="Report format."),
    ] = "CSV",
    frequency: Annotated[
        Literal["Daily", "Weekly"],
        typer.Option("--frequency", metavar="Daily|Weekly", help="How often."),
    ] = "Daily",
    prefix: PrefixOpt = None,
    all_versions: Annotated[
        bool, typer.Option("--all-versions", help="List every version, not just current.")
    ] = False,
    fields: Annotated[
        list[str] | None,
        typer.Option(
            "--field",
            metavar="FIELD",
            help="Optional field, e.g. Size, StorageClass (repeatable).",
        ),
    ] = None,
) -> None:
    """Create or replace an inventory.

    Example: s3kit bucket inventory set s3://demo --id daily --destination arn:aws:s3:::reports
    """

    def build(config_id: str) -> Document:
        if not destination:
            raise UsageError("an inventory from flags needs --destination")
        return build_inventory(
            config_id=config_id,
            destination_bucket=destination,
            destination_prefix=destination_prefix,
            format=format,
            frequency=frequency,
            prefix=prefix,
            versions="All" if all_versions else "Current",
            fields=fields or [],
        )

    _set_id_config(ctx, "inventory", path, file, config_id, any_given(destination), build)


analytics = _id_group("analytics", "Storage class analysis: list, get, set, delete.")


@analytics.command("set")
def analytics_set(
    ctx: typer.Context,
    path: BucketArg,
    file: FileOpt = None,
    config_id: ConfigIdOpt = None,
    prefix: PrefixOpt = None,
    export_destination: Annotated[
        str | None,
        typer.Option("--export-destination", metavar="BUCKET", help="Bucket ARN for CSV exports."),
    ] = None,
    export_prefix: Annotated[
        str | None, typer.Option("--export-prefix", metavar="PREFIX", help="Prefix of the exports.")
    ] = None,
) -> None:
    """Create or replace a storage class analysis.

    Example: s3kit bucket analytics set s3://demo --id all
    """

    def build(config_id: str) -> Document:
        return build_analytics(
            config_id=config_id,
            prefix=prefix,
            export_bucket=export_destination,
            export_prefix=export_prefix,
        )

    flags = any_given(prefix, export_destination, export_prefix)
    _set_id_config(ctx, "analytics", path, file, config_id, flags, build)


metrics = _id_group(
    "metrics", "Request metrics filters: list, get, set, delete.\n\nFor CloudWatch."
)


@metrics.command("set")
def metrics_set(
    ctx: typer.Context,
    path: BucketArg,
    file: FileOpt = None,
    config_id: ConfigIdOpt = None,
    prefix: PrefixOpt = None,
) -> None:
    """Create or replace a metrics filter.

    Example: s3kit bucket metrics set s3://demo --id logs --prefix logs/
    """
    _set_id_config(
        ctx,
        "metrics",
        path,
        file,
        config_id,
        any_given(prefix),
        lambda config_id: build_metrics(config_id=config_id, prefix=prefix),
    )


tiering = _id_group(
    "intelligent-tiering",
    "Intelligent-Tiering: list, get, set, delete.\n\nIts archive tiers' settings.",
)


@tiering.command("set")
def tiering_set(
    ctx: typer.Context,
    path: BucketArg,
    file: FileOpt = None,
    config_id: ConfigIdOpt = None,
    prefix: PrefixOpt = None,
    archive_days: Annotated[
        int | None,
        typer.Option(
            "--archive-days", metavar="DAYS", help="Archive Access tier after DAYS days (90+)."
        ),
    ] = None,
    deep_archive_days: Annotated[
        int | None,
        typer.Option(
            "--deep-archive-days",
            metavar="DAYS",
            help="Deep Archive Access tier after DAYS days (180+).",
        ),
    ] = None,
) -> None:
    """Create or replace an Intelligent-Tiering configuration.

    Example: s3kit bucket intelligent-tiering set s3://demo --id archive --archive-days 90
    """
    _set_id_config(
        ctx,
        "intelligent-tiering",
        path,
        file,
        config_id,
        any_given(prefix, archive_days, deep_archive_days),
        lambda config_id: build_intelligent_tiering(
            config_id=config_id,
            archive_days=archive_days,
            deep_archive_days=deep_archive_days,
            prefix=prefix,
        ),
    )
