"""`s3kit health`: is the endpoint there, does it answer as S3, can this account use the
bucket — with exit codes a container probe or cron understands (0 healthy, 1 degraded,
2 unhealthy)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from s3kit.cli import output
from s3kit.cli.completion import complete_bucket
from s3kit.cli.state import cli_s3_url, state_of


def health(
    ctx: typer.Context,
    bucket: Annotated[
        str | None,
        typer.Argument(
            metavar="S3_URL",
            help="s3://bucket to check too.",
            show_default=False,
            autocompletion=complete_bucket,
        ),
    ] = None,
    deep: Annotated[
        bool,
        typer.Option(
            "--deep",
            help="Also write, read back and delete a canary object, try a conditional write and"
            " measure the clock skew (needs S3_URL).",
        ),
    ] = False,
    json_out: output.Json = False,
) -> None:
    """Check that the endpoint, the credentials and a bucket work.

    Exit code 0: healthy, 1: degraded (works, with a warning), 2: unhealthy. Example: s3kit
    health s3://backups --deep
    """
    from s3kit.health import check_health

    name = cli_s3_url(bucket).bucket if bucket else None
    report = check_health(state_of(ctx).session, name, deep=deep)
    if json_out:
        output.emit(report.document())
    else:
        target = f" s3://{name}" if name else ""
        sys.stdout.write(f"{report.endpoint}{target}: {report.verdict}\n")
        for step in report.steps:
            detail = f"  {step.detail}" if step.detail else ""
            sys.stdout.write(
                f"  {step.name:<18} {step.status:<9} {step.seconds * 1000:7.0f} ms{detail}\n"
            )
    raise typer.Exit(report.exit_code)
