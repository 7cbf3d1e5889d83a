"""`s3kit bucket versioning get|enable|suspend`, with MFA delete."""

from __future__ import annotations

from typing import Annotated

import typer

from s3kit.cli.bucket_config.base import BucketArg, add_get_delete, config_group, say, service_of
from s3kit.cli.mb_rb import bucket_only

versioning = config_group("Versioning: get, enable, suspend (with MFA delete).")
add_get_delete(versioning, "versioning", lambda s, b: s.get_versioning(b) or None)
MfaOpt = Annotated[
    str | None,
    typer.Option(
        "--mfa",
        metavar="'SERIAL CODE'",
        help="MFA device serial (or ARN) and its current code, as one argument.",
    ),
]
MfaDeleteOpt = Annotated[
    bool | None,
    typer.Option(
        "--mfa-delete/--no-mfa-delete",
        help="Require MFA to delete versions or change versioning (needs --mfa).",
    ),
]


@versioning.command("enable")
def versioning_enable(
    ctx: typer.Context, path: BucketArg, mfa: MfaOpt = None, mfa_delete: MfaDeleteOpt = None
) -> None:
    """Turn versioning on. Example: s3kit bucket versioning enable s3://demo"""
    bucket = bucket_only(path)
    service_of(ctx).set_versioning(bucket, "Enabled", mfa=mfa, mfa_delete=mfa_delete)
    say(f"versioning of s3://{bucket}: Enabled")


@versioning.command("suspend")
def versioning_suspend(
    ctx: typer.Context, path: BucketArg, mfa: MfaOpt = None, mfa_delete: MfaDeleteOpt = None
) -> None:
    """Stop creating new versions (existing ones stay). Versioning cannot be switched off."""
    bucket = bucket_only(path)
    service_of(ctx).set_versioning(bucket, "Suspended", mfa=mfa, mfa_delete=mfa_delete)
    say(f"versioning of s3://{bucket}: Suspended")
