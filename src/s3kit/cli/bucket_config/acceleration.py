"""`s3kit bucket acceleration get|enable|suspend`: S3 Transfer Acceleration."""

from __future__ import annotations

import typer

from s3kit.cli.bucket_config.base import BucketArg, add_get_delete, config_group, say, service_of
from s3kit.cli.mb_rb import bucket_only

acceleration = config_group("S3 Transfer Acceleration: get, enable, suspend.")
add_get_delete(
    acceleration,
    "transfer acceleration",
    lambda s, b: {"Status": status} if (status := s.get_acceleration(b)) else None,
    none="Status: never configured",
)


@acceleration.command("enable")
def acceleration_enable(ctx: typer.Context, path: BucketArg) -> None:
    """Turn Transfer Acceleration on. Example: s3kit bucket acceleration enable s3://demo"""
    bucket = bucket_only(path)
    service_of(ctx).set_acceleration(bucket, True)
    say(f"transfer acceleration of s3://{bucket}: Enabled")


@acceleration.command("suspend")
def acceleration_suspend(ctx: typer.Context, path: BucketArg) -> None:
    """Turn Transfer Acceleration off."""
    bucket = bucket_only(path)
    service_of(ctx).set_acceleration(bucket, False)
    say(f"transfer acceleration of s3://{bucket}: Suspended")
