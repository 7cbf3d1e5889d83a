"""`s3kit bucket lifecycle get|set|delete`: expiration, transitions, cleanup rules."""

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
from s3kit.service.configs import build_lifecycle_rule, parse_transition

lifecycle = config_group(
    "Lifecycle rules: expiry, transitions, cleanup.\n\nExpiration, transitions to other"
    " storage classes, cleanup of old versions and unfinished uploads."
)
add_get_delete(
    lifecycle,
    "lifecycle configuration",
    lambda s, b: s.get_lifecycle(b),
    lambda s, b: s.delete_lifecycle(b),
)


@lifecycle.command("set")
def lifecycle_set(
    ctx: typer.Context,
    path: BucketArg,
    file: FileOpt = None,
    rule_id: Annotated[str | None, typer.Option("--id", metavar="ID", help="Rule ID.")] = None,
    prefix: Annotated[
        str, typer.Option("--prefix", metavar="PREFIX", help="Only keys under this prefix.")
    ] = "",
    expire_days: Annotated[
        int | None,
        typer.Option(
            "--expire-days", metavar="DAYS", help="Delete objects DAYS days after creation."
        ),
    ] = None,
    transition: Annotated[
        list[str] | None,
        typer.Option(
            "--transition",
            metavar="DAYS:CLASS",
            help="Move objects to CLASS after DAYS days, e.g. 30:STANDARD_IA (repeatable).",
        ),
    ] = None,
    noncurrent_days: Annotated[
        int | None,
        typer.Option(
            "--noncurrent-expire-days",
            metavar="DAYS",
            help="Delete old versions DAYS days later.",
        ),
    ] = None,
    abort_days: Annotated[
        int | None,
        typer.Option(
            "--abort-multipart-days",
            metavar="DAYS",
            help="Abort unfinished uploads after DAYS days.",
        ),
    ] = None,
    disabled: Annotated[bool, typer.Option("--disabled", help="Add the rule disabled.")] = False,
) -> None:
    """Replace the lifecycle rules: one from flags, or a whole --file.

    Example: s3kit bucket lifecycle set s3://demo --prefix logs/ --expire-days 30
    """
    bucket = bucket_only(path)
    document = document_from(
        file,
        any_given(expire_days, transition, noncurrent_days, abort_days),
        lambda: {
            "Rules": [
                build_lifecycle_rule(
                    rule_id=rule_id,
                    prefix=prefix,
                    expiration_days=expire_days,
                    transitions=[parse_transition(t) for t in transition or []],
                    noncurrent_expiration_days=noncurrent_days,
                    abort_multipart_days=abort_days,
                    enabled=not disabled,
                )
            ]
        },
    )
    service_of(ctx).set_lifecycle(bucket, document)
    say(f"set the lifecycle configuration of s3://{bucket}")
