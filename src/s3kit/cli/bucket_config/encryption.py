"""`s3kit bucket encryption get|set|delete`: default encryption of new objects."""

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
from s3kit.service.configs import SseAlgorithm, build_encryption

encryption = config_group("Default encryption of new objects: SSE-S3 or SSE-KMS.")
add_get_delete(
    encryption,
    "default encryption",
    lambda s, b: s.get_encryption(b),
    lambda s, b: s.delete_encryption(b),
)


@encryption.command("set")
def encryption_set(
    ctx: typer.Context,
    path: BucketArg,
    file: FileOpt = None,
    sse: Annotated[
        SseAlgorithm | None,
        typer.Option(
            "--sse",
            metavar="ALGORITHM",
            help="AES256 (SSE-S3), aws:kms (SSE-KMS) or aws:kms:dsse.",
            show_default="AES256; aws:kms with --kms-key-id",
        ),
    ] = None,
    kms_key_id: Annotated[
        str | None,
        typer.Option(
            "--kms-key-id", metavar="KEY_ID", help="KMS key id, ARN or alias (implies aws:kms)."
        ),
    ] = None,
    bucket_key: Annotated[
        bool | None,
        typer.Option("--bucket-key/--no-bucket-key", help="Use an S3 Bucket Key for SSE-KMS."),
    ] = None,
) -> None:
    """Set default encryption.

    Example: s3kit bucket encryption set s3://demo --sse aws:kms --kms-key-id alias/demo
    """
    bucket = bucket_only(path)
    algorithm: SseAlgorithm = sse or ("aws:kms" if kms_key_id else "AES256")
    document = document_from(
        file,
        file is None or any_given(sse, kms_key_id, bucket_key),  # no flags at all: SSE-S3
        lambda: build_encryption(algorithm=algorithm, kms_key_id=kms_key_id, bucket_key=bucket_key),
    )
    service_of(ctx).set_encryption(bucket, document)
    say(f"set the default encryption of s3://{bucket}")
