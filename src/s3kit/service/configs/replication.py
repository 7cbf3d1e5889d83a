"""Replication of a bucket's objects to another bucket, as an IAM role (S3 needs versioning on
both buckets)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from s3kit._aio import async_twin
from s3kit._storage_classes import REPLICA_STORAGE_CLASSES
from s3kit.service.configs.checks import need, rule_name, rules_of, unwrap
from s3kit.service.configs.specs import REPLICATION, ConfigDocuments, Document

if TYPE_CHECKING:
    from mypy_boto3_s3.type_defs import ReplicationConfigurationTypeDef


def build_replication(
    *,
    role: str,
    destination_bucket: str,
    prefix: str = "",
    rule_id: str | None = None,
    storage_class: str | None = None,
    delete_markers: bool = False,
) -> Document:
    """Replicate the objects under `prefix` to another bucket (given by ARN or name), as the
    IAM role `role` (ARN)."""
    if not destination_bucket.startswith("arn:"):
        destination_bucket = f"arn:aws:s3:::{destination_bucket}"
    destination: Document = {"Bucket": destination_bucket}
    if storage_class:
        destination["StorageClass"] = storage_class.upper()
    rule: Document = {
        "Status": "Enabled",
        "Priority": 1,
        "Filter": {"Prefix": prefix},
        "DeleteMarkerReplication": {"Status": "Enabled" if delete_markers else "Disabled"},
        "Destination": destination,
    }
    if rule_id:
        rule["ID"] = rule_id
    return validate_replication({"Role": role, "Rules": [rule]})


def validate_replication(document: Any) -> Document:
    config = unwrap(document, "ReplicationConfiguration", "a replication configuration")
    role = config.get("Role")
    need(
        isinstance(role, str) and role.startswith("arn:"),
        "a replication configuration needs Role: the ARN of the IAM role S3 replicates as"
        " (arn:aws:iam::ACCOUNT:role/NAME)",
    )
    for index, rule in enumerate(rules_of(config, "Rules", "a replication configuration"), 1):
        name = f"replication {rule_name(index, rule)}"
        need(
            rule.get("Status") in ("Enabled", "Disabled"),
            f"{name}: Status must be Enabled or Disabled",
        )
        target = (rule.get("Destination") or {}).get("Bucket")
        need(
            isinstance(target, str) and target.startswith("arn:") and ":s3:::" in target,
            f"{name}: Destination.Bucket must be a bucket ARN (arn:aws:s3:::NAME), not {target!r}",
        )
        storage_class = (rule.get("Destination") or {}).get("StorageClass")
        need(
            storage_class is None or storage_class in REPLICA_STORAGE_CLASSES,
            f"{name}: unknown storage class {storage_class!r}",
        )
    return config


class ReplicationMixin(ConfigDocuments):
    def get_replication(self, bucket: str) -> ReplicationConfigurationTypeDef | None:
        return self._get_document(REPLICATION, bucket)

    def set_replication(self, bucket: str, config: Any) -> None:
        """Replace the replication configuration; S3 needs versioning enabled on both buckets."""
        self._put_document(REPLICATION, bucket, validate_replication(config))

    def delete_replication(self, bucket: str) -> None:
        self._delete_document(REPLICATION, bucket)

    # -- awaitable twins: the same calls on a worker thread (s3kit._aio.async_twin) ---------
    get_replication_async = async_twin(get_replication)
    set_replication_async = async_twin(set_replication)
    delete_replication_async = async_twin(delete_replication)
