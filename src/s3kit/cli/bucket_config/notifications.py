"""`s3kit bucket notifications get|set|delete`: event notifications to SNS, SQS, Lambda."""

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
from s3kit.service.configs import Document, build_notification

notifications = config_group("Event notifications to SNS, SQS and Lambda.")
add_get_delete(
    notifications,
    "event notifications",
    lambda s, b: s.get_notifications(b),
    lambda s, b: s.delete_notifications(b),
)


@notifications.command("set")
def notifications_set(
    ctx: typer.Context,
    path: BucketArg,
    file: FileOpt = None,
    target: Annotated[
        str | None,
        typer.Option("--target", metavar="ARN", help="SNS topic, SQS queue or Lambda ARN."),
    ] = None,
    events: Annotated[
        list[str] | None,
        typer.Option(
            "--event",
            metavar="EVENT",
            help="Event type, e.g. s3:ObjectRemoved:* (repeatable).",
            show_default="s3:ObjectCreated:*",
        ),
    ] = None,
    prefix: Annotated[
        str | None, typer.Option("--prefix", metavar="PREFIX", help="Key prefix filter.")
    ] = None,
    suffix: Annotated[
        str | None, typer.Option("--suffix", metavar="SUFFIX", help="Key suffix filter.")
    ] = None,
    config_id: Annotated[
        str | None, typer.Option("--id", metavar="ID", help="Configuration Id.")
    ] = None,
) -> None:
    """Replace the event notifications.

    Example: s3kit bucket notifications set s3://demo --target arn:aws:sqs:us-east-1:123456789012:q
    --event s3:ObjectCreated:* --suffix .jpg
    """
    bucket = bucket_only(path)

    def build() -> Document:
        if not target:
            raise UsageError("notifications from flags need --target ARN")
        return build_notification(
            target_arn=target,
            events=events or ["s3:ObjectCreated:*"],
            prefix=prefix,
            suffix=suffix,
            config_id=config_id,
        )

    document = document_from(file, any_given(target, events, prefix, suffix), build)
    service_of(ctx).set_notifications(bucket, document)
    say(f"set the event notifications of s3://{bucket}")
