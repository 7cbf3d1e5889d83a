"""Lifecycle rules: expiration, transitions to colder storage classes, expiry of noncurrent
versions and cleanup of unfinished multipart uploads.

A rule's ``Status`` is never assumed; an empty ``Filter`` (the whole bucket) is the only field
filled in for the user.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from s3kit._aio import async_twin
from s3kit._storage_classes import TRANSITION_STORAGE_CLASSES
from s3kit.service.configs.checks import need, positive_days, rule_name, rules_of, unwrap
from s3kit.service.configs.specs import LIFECYCLE, ConfigDocuments, Document

if TYPE_CHECKING:
    from mypy_boto3_s3.type_defs import BucketLifecycleConfigurationTypeDef

LIFECYCLE_ACTIONS = (
    "Expiration",
    "Transitions",
    "NoncurrentVersionExpiration",
    "NoncurrentVersionTransitions",
    "AbortIncompleteMultipartUpload",
)


def parse_transition(text: str) -> tuple[int, str]:
    """'30:GLACIER' -> (30, 'GLACIER'), as typed after --transition."""
    days, sep, storage_class = text.partition(":")
    need(
        bool(sep) and days.strip().isdigit(),
        f"transition '{text}' must be DAYS:CLASS, e.g. 30:GLACIER",
    )
    return int(days), storage_class.strip().upper()


def build_lifecycle_rule(
    *,
    rule_id: str | None = None,
    prefix: str = "",
    expiration_days: int | None = None,
    transitions: Sequence[tuple[int, str]] = (),
    noncurrent_expiration_days: int | None = None,
    abort_multipart_days: int | None = None,
    enabled: bool = True,
) -> Document:
    """One lifecycle rule: expire after N days, move to storage classes, expire noncurrent
    versions, abort unfinished multipart uploads; limited to `prefix` if given."""
    rule: Document = {"Status": "Enabled" if enabled else "Disabled", "Filter": {"Prefix": prefix}}
    if rule_id:
        rule["ID"] = rule_id
    if expiration_days is not None:
        rule["Expiration"] = {"Days": expiration_days}
    if transitions:
        rule["Transitions"] = [{"Days": d, "StorageClass": c} for d, c in transitions]
    if noncurrent_expiration_days is not None:
        rule["NoncurrentVersionExpiration"] = {"NoncurrentDays": noncurrent_expiration_days}
    if abort_multipart_days is not None:
        rule["AbortIncompleteMultipartUpload"] = {"DaysAfterInitiation": abort_multipart_days}
    validate_lifecycle({"Rules": [rule]})
    return rule


def validate_lifecycle(document: Any) -> Document:
    """Check a lifecycle configuration ``{"Rules": [...]}``; returns it, ready to send."""
    config = unwrap(document, "LifecycleConfiguration", "a lifecycle configuration")
    rules = rules_of(config, "Rules", "a lifecycle configuration")
    need(
        len(rules) <= 1000, f"a lifecycle configuration holds at most 1000 rules, not {len(rules)}"
    )
    seen: set[str] = set()
    for index, rule in enumerate(rules, 1):
        name = rule_name(index, rule)
        rule_id = rule.get("ID")
        if rule_id is not None:
            need(
                isinstance(rule_id, str) and 0 < len(rule_id) <= 255,
                f"{name}: ID must be 1-255 characters",
            )
            need(rule_id not in seen, f"{name}: another rule already has this ID")
            seen.add(rule_id)
        need(
            rule.get("Status") in ("Enabled", "Disabled"),
            f"{name}: Status must be Enabled or Disabled, not {rule.get('Status')!r}",
        )
        need(
            any(rule.get(action) for action in LIFECYCLE_ACTIONS),
            f"{name} has no action — give it at least one of {', '.join(LIFECYCLE_ACTIONS)}",
        )
        expiration = rule.get("Expiration")
        if expiration:
            need(isinstance(expiration, dict), f"{name}: Expiration must be a mapping")
            if "Days" in expiration:
                positive_days(expiration["Days"], f"{name}: Expiration.Days")
        for key, days_key in (
            ("Transitions", "Days"),
            ("NoncurrentVersionTransitions", "NoncurrentDays"),
        ):
            for step in rule.get(key) or []:
                need(isinstance(step, dict), f"{name}: each of {key} must be a mapping")
                if days_key in step:
                    positive_days(step[days_key], f"{name}: {key}.{days_key}")
                storage_class = step.get("StorageClass")
                need(
                    storage_class in TRANSITION_STORAGE_CLASSES,
                    f"{name}: unknown storage class {storage_class!r} for {key} — use one of"
                    f" {', '.join(TRANSITION_STORAGE_CLASSES)}",
                )
        noncurrent = rule.get("NoncurrentVersionExpiration")
        if noncurrent and "NoncurrentDays" in noncurrent:
            positive_days(
                noncurrent["NoncurrentDays"], f"{name}: NoncurrentVersionExpiration.NoncurrentDays"
            )
        abort = rule.get("AbortIncompleteMultipartUpload")
        if abort:
            positive_days(
                abort.get("DaysAfterInitiation"),
                f"{name}: AbortIncompleteMultipartUpload.DaysAfterInitiation",
            )
        if "Filter" not in rule and "Prefix" not in rule:
            rule["Filter"] = {}  # S3 wants one of them; an empty filter is the whole bucket
    return config


class LifecycleMixin(ConfigDocuments):
    def get_lifecycle(self, bucket: str) -> BucketLifecycleConfigurationTypeDef | None:
        return self._get_document(LIFECYCLE, bucket)

    def set_lifecycle(self, bucket: str, config: Any) -> None:
        """Replace the whole lifecycle configuration with `config` (``{"Rules": [...]}``)."""
        document = validate_lifecycle(config)
        kwargs: Document = {}
        minimum = document.pop("TransitionDefaultMinimumObjectSize", None)
        if minimum:  # what get_lifecycle returns is accepted back as it is
            kwargs["TransitionDefaultMinimumObjectSize"] = minimum
        self._put_document(LIFECYCLE, bucket, document, **kwargs)

    def delete_lifecycle(self, bucket: str) -> None:
        self._delete_document(LIFECYCLE, bucket)

    # -- awaitable twins: the same calls on a worker thread (s3kit._aio.async_twin) ---------
    get_lifecycle_async = async_twin(get_lifecycle)
    set_lifecycle_async = async_twin(set_lifecycle)
    delete_lifecycle_async = async_twin(delete_lifecycle)
