"""`s3kit bucket object-lock get|set`, and `retention` and `legal-hold` of one object
version."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import typer

from s3kit.cli.bucket_config.base import (
    BucketArg,
    FileOpt,
    JsonOpt,
    add_get_delete,
    any_given,
    config_group,
    document_from,
    say,
    service_of,
    show_document,
)
from s3kit.cli.completion import complete_s3_url
from s3kit.cli.mb_rb import bucket_only
from s3kit.cli.state import cli_s3_url
from s3kit.errors import UsageError
from s3kit.service.configs import LockMode, build_object_lock, build_retention

ObjectArg = Annotated[
    str, typer.Argument(help="s3://bucket/key", show_default=False, autocompletion=complete_s3_url)
]
VersionOpt = Annotated[
    str | None, typer.Option("--version-id", metavar="VERSION_ID", help="A specific version.")
]


def _object(path: str) -> tuple[str, str]:
    url = cli_s3_url(path)
    if not url.key or url.key.endswith("/"):
        raise UsageError(f"'{path}' names no object; give s3://bucket/key")
    return url.bucket, url.key


object_lock = config_group(
    "Object lock: retention and legal holds.\n\nThe bucket's default retention, and"
    " per-object retention and legal holds."
)
add_get_delete(object_lock, "object lock configuration", lambda s, b: s.get_object_lock(b))
ModeOpt = Annotated[
    LockMode | None,
    typer.Option("--mode", metavar="MODE", help="GOVERNANCE or COMPLIANCE.", case_sensitive=False),
]


@object_lock.command("set")
def object_lock_set(
    ctx: typer.Context,
    path: BucketArg,
    file: FileOpt = None,
    mode: ModeOpt = None,
    days: Annotated[
        int | None, typer.Option("--days", metavar="DAYS", help="Default retention in days.")
    ] = None,
    years: Annotated[
        int | None, typer.Option("--years", metavar="YEARS", help="Default retention in years.")
    ] = None,
) -> None:
    """Set the default retention of a bucket with object lock.

    The bucket must have been created with object lock.

    Example: s3kit bucket object-lock set s3://demo --mode GOVERNANCE --days 30
    """
    bucket = bucket_only(path)
    document = document_from(
        file,
        any_given(mode, days, years),
        lambda: build_object_lock(mode=mode, days=days, years=years),
    )
    service_of(ctx).set_object_lock(bucket, document)
    say(f"set the object lock configuration of s3://{bucket}")


retention = config_group("Retention of one object version: get, set.")
object_lock.add_typer(retention, name="retention")


@retention.command("get")
def retention_get(
    ctx: typer.Context, path: ObjectArg, version_id: VersionOpt = None, json_out: JsonOpt = False
) -> None:
    """Print an object's retention mode and end date."""
    bucket, key = _object(path)
    document = service_of(ctx).get_retention(bucket, key, version_id=version_id)
    show_document(document, json_out=json_out, none=f"s3://{bucket}/{key} has no retention")


def _parse_date(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(
            f"--until '{text}' is not a date; use ISO 8601, e.g. 2030-01-31 or 2030-01-31T12:00:00Z"
        ) from None


@retention.command("set")
def retention_set(
    ctx: typer.Context,
    path: ObjectArg,
    mode: ModeOpt = None,
    until: Annotated[
        str | None,
        typer.Option("--until", metavar="DATE", help="End date, ISO 8601 (UTC if no zone)."),
    ] = None,
    days: Annotated[
        int | None, typer.Option("--days", metavar="DAYS", help="Retain for DAYS days from now.")
    ] = None,
    version_id: VersionOpt = None,
    bypass_governance: Annotated[
        bool,
        typer.Option("--bypass-governance", help="Allow shortening a GOVERNANCE retention."),
    ] = False,
) -> None:
    """Lock an object version.

    Example: s3kit bucket object-lock retention set s3://demo/a.pdf --mode GOVERNANCE --days 7
    """
    bucket, key = _object(path)
    if mode is None:
        raise UsageError("give --mode GOVERNANCE or COMPLIANCE")
    document = build_retention(mode=mode, until=_parse_date(until) if until else None, days=days)
    service_of(ctx).set_retention(
        bucket, key, document, version_id=version_id, bypass_governance=bypass_governance
    )
    say(f"s3://{bucket}/{key} retained ({mode}) until {document['RetainUntilDate'].isoformat()}")


legal_hold = config_group("Legal hold on one object version: get, set ON|OFF.")
object_lock.add_typer(legal_hold, name="legal-hold")


@legal_hold.command("get")
def legal_hold_get(ctx: typer.Context, path: ObjectArg, version_id: VersionOpt = None) -> None:
    """Print ON or OFF."""
    bucket, key = _object(path)
    say("ON" if service_of(ctx).get_legal_hold(bucket, key, version_id=version_id) else "OFF")


@legal_hold.command("set")
def legal_hold_set(
    ctx: typer.Context,
    path: ObjectArg,
    status: Annotated[
        Literal["ON", "OFF"], typer.Argument(help="ON or OFF.", case_sensitive=False)
    ],
    version_id: VersionOpt = None,
) -> None:
    """Put or lift a legal hold.

    Example: s3kit bucket object-lock legal-hold set s3://demo/a.pdf ON
    """
    bucket, key = _object(path)
    on = status.upper() == "ON"
    service_of(ctx).set_legal_hold(bucket, key, on, version_id=version_id)
    say(f"legal hold on s3://{bucket}/{key}: {'ON' if on else 'OFF'}")
