"""Bucket commands: mb, rb."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from s3kit.cli.completion import complete_bucket
from s3kit.cli.state import cli_s3_url, state_of
from s3kit.errors import UsageError
from s3kit.service import S3Service


def bucket_only(path: str) -> str:
    """The bucket of `s3://bucket`; a URL naming an object is a usage error."""
    url = cli_s3_url(path)
    if url.key:
        raise UsageError(f"'{path}' names an object; give just the bucket, e.g. s3://{url.bucket}")
    return url.bucket


def mb(
    ctx: typer.Context,
    path: Annotated[str, typer.Argument(help="s3://bucket", autocompletion=complete_bucket)],
    region: Annotated[
        str | None, typer.Option("--region", metavar="REGION", help="Region for the bucket.")
    ] = None,
) -> None:
    """Make a bucket.

    Example: s3kit mb s3://demo
    """
    bucket = bucket_only(path)
    S3Service(state_of(ctx).session).create_bucket(bucket, region=region)
    sys.stdout.write(f"make_bucket: {bucket}\n")


EmptyFirst = Annotated[
    bool,
    typer.Option(
        "--force", help="First delete every object, version, delete marker and unfinished upload."
    ),
]


def rb(
    ctx: typer.Context,
    path: Annotated[str, typer.Argument(help="s3://bucket", autocompletion=complete_bucket)],
    force: EmptyFirst = False,
) -> None:
    """Remove a bucket; it must be empty unless --force is given.

    Example: s3kit rb --force s3://demo
    """
    bucket = bucket_only(path)
    service = S3Service(state_of(ctx).session)
    if force:

        def said(item: dict[str, Any]) -> None:
            what = "abort upload" if "UploadId" in item else "delete"
            # "null" is the version of an object written while versioning was off: to the
            # user it is just the object.
            version_id = item.get("VersionId")
            version = f" (version {version_id})" if version_id and version_id != "null" else ""
            sys.stdout.write(f"{what}: s3://{bucket}/{item['Key']}{version}\n")

        service.empty_bucket(bucket, on_delete=said)
    service.delete_bucket(bucket)
    sys.stdout.write(f"remove_bucket: {bucket}\n")
