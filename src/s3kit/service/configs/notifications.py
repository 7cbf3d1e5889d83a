"""Event notifications to SNS topics, SQS queues and Lambda functions.

S3 has no DELETE for them: turning them off is sending an empty configuration.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from s3kit._aio import async_twin
from s3kit.service.configs.checks import need, unwrap
from s3kit.service.configs.specs import NOTIFICATIONS, ConfigDocuments, Document

if TYPE_CHECKING:
    from mypy_boto3_s3.type_defs import NotificationConfigurationTypeDef

NOTIFICATION_TARGETS = {  # document key -> (ARN field, ARN service)
    "TopicConfigurations": ("TopicArn", "sns"),
    "QueueConfigurations": ("QueueArn", "sqs"),
    "LambdaFunctionConfigurations": ("LambdaFunctionArn", "lambda"),
}


def build_notification(
    *,
    target_arn: str,
    events: Sequence[str] = ("s3:ObjectCreated:*",),
    prefix: str | None = None,
    suffix: str | None = None,
    config_id: str | None = None,
) -> Document:
    """A notification configuration with one target: an SNS topic, SQS queue or Lambda
    function, chosen by the service named in its ARN."""
    parts = target_arn.split(":")
    service = parts[2] if len(parts) > 2 and parts[0] == "arn" else ""
    kinds = {svc: (key, field) for key, (field, svc) in NOTIFICATION_TARGETS.items()}
    need(
        service in kinds,
        f"'{target_arn}' is not an SNS topic, SQS queue or Lambda function ARN"
        " (arn:aws:sns|sqs|lambda:REGION:ACCOUNT:NAME)",
    )
    key, field = kinds[service]
    entry: Document = {field: target_arn, "Events": list(events)}
    if config_id:
        entry["Id"] = config_id
    rules = [{"Name": n, "Value": v} for n, v in (("prefix", prefix), ("suffix", suffix)) if v]
    if rules:
        entry["Filter"] = {"Key": {"FilterRules": rules}}
    return validate_notifications({key: [entry]})


def validate_notifications(document: Any) -> Document:
    """Check an event notification configuration; ``{}`` means no notifications."""
    config = unwrap(document, "NotificationConfiguration", "a notification configuration")
    known = {*NOTIFICATION_TARGETS, "EventBridgeConfiguration"}
    unknown = sorted(set(config) - known)
    need(
        not unknown,
        f"unknown notification section(s) {', '.join(unknown)} — use {', '.join(sorted(known))}",
    )
    for key, (field, _service) in NOTIFICATION_TARGETS.items():
        entries = config.get(key) or []
        need(isinstance(entries, list), f"{key} must be a list")
        for index, entry in enumerate(entries, 1):
            name = f"{key}[{index}]"
            need(isinstance(entry, dict) and bool(entry.get(field)), f"{name} needs {field}")
            events = entry.get("Events")
            need(
                isinstance(events, list) and bool(events),
                f"{name} needs at least one event, e.g. s3:ObjectCreated:*",
            )
            for event in events:
                need(
                    isinstance(event, str) and event.startswith("s3:"),
                    f"{name}: event {event!r} must start with 's3:', e.g. s3:ObjectRemoved:*",
                )
    return config


class NotificationsMixin(ConfigDocuments):
    def get_notifications(self, bucket: str) -> NotificationConfigurationTypeDef | None:
        """The notification configuration; None if it has no target."""
        document = self._get_document(NOTIFICATIONS, bucket)
        return document or None

    def set_notifications(self, bucket: str, config: Any) -> None:
        self._put_document(NOTIFICATIONS, bucket, validate_notifications(config))

    def delete_notifications(self, bucket: str) -> None:
        """S3 has no delete: an empty configuration turns every notification off."""
        if self.get_notifications(bucket) is None:
            return
        self._put_document(NOTIFICATIONS, bucket, {})

    # -- awaitable twins: the same calls on a worker thread (s3kit._aio.async_twin) ---------
    get_notifications_async = async_twin(get_notifications)
    set_notifications_async = async_twin(set_notifications)
    delete_notifications_async = async_twin(delete_notifications)
