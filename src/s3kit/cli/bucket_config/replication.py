"""`s3kit bucket replication get|set|delete`: replication to another bucket."""

from __future__ import annotations

from typing import Annotated

import typer

from s3kit.cli.bucket_config.base import (
    BucketArg,
    FileOpt,
    add_get_delete,
    any_given,
    config_group,
    document_from,
    say,
    service_of,
)
from s3kit.cli.mb_rb import bucket_only
from s3kit.errors import UsageError
from s3kit.service.configs import Document, build_replication

replication = config_group("Replication to another bucket (versioning on both).")
add_get_delete(
    replication,
    "replication configuration",
    lambda s, b: s.get_replication(b),
    lambda s, b: s.delete_replication(b),
)


@replication.command("set")
def replication_set(
    ctx: typer.Context,
    path: BucketArg,
    file: FileOpt = None,
    role: Annotated[
        str | None,
        typer.Option("--role", metavar="ARN", help="ARN of the IAM role S3 replicates as."),
    ] = None,
    destination: Annotated[
        str | None,
        typer.Option("--destination", metavar="BUCKET", help="Destination bucket ARN (or name)."),
    ] = None,
    prefix: Annotated[
        str, typer.Option("--prefix", metavar="PREFIX", help="Only keys under this prefix.")
    ] = "",
    storage_class: Annotated[
        str | None,
        typer.Option("--storage-class", metavar="CLASS", help="Storage class of the replicas."),
    ] = None,
    rule_id: Annotated[str | None, typer.Option("--id", metavar="ID", help="Rule ID.")] = None,
    delete_markers: Annotated[
        bool, typer.Option("--delete-markers", help="Replicate delete markers too.")
    ] = False,
) -> None:
    """Replace the replication configuration.

    Example: s3kit bucket replication set s3://demo --role arn:aws:iam::123456789012:role/repl
    --destination arn:aws:s3:::demo-copy
    """
    bucket = bucket_only(path)

    def build() -> Document:
        if not role or not destination:
            raise UsageError("replication from flags needs both --role and --destination")
        return build_replication(
            role=role,
            destination_bucket=destination,
            prefix=prefix,
            rule_id=rule_id,
            storage_class=storage_class,
            delete_markers=delete_markers,
        )

    document = document_from(file, any_given(role, destination, storage_class), build)
    service_of(ctx).set_replication(bucket, document)
    say(f"set the replication configuration of s3://{bucket}")
