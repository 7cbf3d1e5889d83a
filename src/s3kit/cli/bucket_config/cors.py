"""`s3kit bucket cors get|set|delete`: cross-origin rules for browsers."""

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
from s3kit.service.configs import build_cors_rule

cors = config_group("Cross-origin (CORS) rules for browsers.")
add_get_delete(
    cors, "CORS configuration", lambda s, b: s.get_cors(b), lambda s, b: s.delete_cors(b)
)


@cors.command("set")
def cors_set(
    ctx: typer.Context,
    path: BucketArg,
    file: FileOpt = None,
    origins: Annotated[
        list[str] | None,
        typer.Option(
            "--allowed-origin",
            metavar="ORIGIN",
            help="e.g. https://example.com or * (repeatable).",
        ),
    ] = None,
    methods: Annotated[
        list[str] | None,
        typer.Option(
            "--allowed-method",
            metavar="METHOD",
            help="GET, PUT, POST, DELETE or HEAD (repeatable).",
        ),
    ] = None,
    headers: Annotated[
        list[str] | None,
        typer.Option("--allowed-header", metavar="HEADER", help="Request header (repeatable)."),
    ] = None,
    expose: Annotated[
        list[str] | None,
        typer.Option(
            "--expose-header",
            metavar="HEADER",
            help="Response header scripts may read (repeatable).",
        ),
    ] = None,
    max_age: Annotated[
        int | None,
        typer.Option("--max-age", metavar="SECONDS", help="Seconds browsers may cache the answer."),
    ] = None,
    rule_id: Annotated[str | None, typer.Option("--id", metavar="ID", help="Rule ID.")] = None,
) -> None:
    """Replace the CORS rules: one rule from flags, or the whole --file.

    Example: s3kit bucket cors set s3://demo --allowed-origin https://example.com
    --allowed-method GET
    """
    bucket = bucket_only(path)
    document = document_from(
        file,
        any_given(origins, methods, headers, expose, max_age),
        lambda: {
            "CORSRules": [
                build_cors_rule(
                    origins=origins or [],
                    methods=methods or [],
                    headers=headers or [],
                    expose_headers=expose or [],
                    max_age=max_age,
                    rule_id=rule_id,
                )
            ]
        },
    )
    service_of(ctx).set_cors(bucket, document)
    say(f"set the CORS configuration of s3://{bucket}")
