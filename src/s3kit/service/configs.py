"""Bucket configuration: versioning, lifecycle, website, CORS, default encryption, replication,
notifications, acceleration, object lock, inventory, analytics, metrics, intelligent tiering.

Documents have the shape boto3 uses (the S3 API's, e.g. ``{"Rules": [...]}`` for lifecycle), so
that what a `get_*` returns can be handed back to the matching `set_*` unchanged. The `build_*`
functions make the common single-rule documents from plain arguments and the `validate_*`
functions check a whole document; both are pure and raise `UsageError` with the rule and field at
fault before anything is sent. A configuration that is not there reads as ``None``, and deleting
one that is not there succeeds.

This module must never send a document it has not validated, and never guess at what a user
left out: it fills in only fields the API requires whose value is not in doubt (an empty
lifecycle ``Filter`` is the whole bucket; a rule's ``Status`` is never assumed). Deleting first
reads the configuration, because some servers treat a DELETE they do not understand as
DeleteBucket (see `_delete_config`).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, get_args

from s3kit.errors import (
    BucketNotEmpty,
    NotSupported,
    PermissionDenied,
    S3KitError,
    UsageError,
    server_code,
)
from s3kit.service.base import ServiceBase

Document = dict[str, Any]
VersioningStatus = Literal["Enabled", "Suspended"]
LockMode = Literal["GOVERNANCE", "COMPLIANCE"]
SseAlgorithm = Literal["AES256", "aws:kms", "aws:kms:dsse"]
IdConfigKind = Literal["inventory", "analytics", "metrics", "intelligent-tiering"]

TRANSITION_STORAGE_CLASSES = (
    "STANDARD_IA",
    "ONEZONE_IA",
    "INTELLIGENT_TIERING",
    "GLACIER_IR",
    "GLACIER",
    "DEEP_ARCHIVE",
)
REPLICA_STORAGE_CLASSES = ("STANDARD", "REDUCED_REDUNDANCY", *TRANSITION_STORAGE_CLASSES)
CORS_METHODS = ("GET", "PUT", "POST", "DELETE", "HEAD")
LIFECYCLE_ACTIONS = (
    "Expiration",
    "Transitions",
    "NoncurrentVersionExpiration",
    "NoncurrentVersionTransitions",
    "AbortIncompleteMultipartUpload",
)
NOTIFICATION_TARGETS = {  # document key -> (ARN field, ARN service)
    "TopicConfigurations": ("TopicArn", "sns"),
    "QueueConfigurations": ("QueueArn", "sqs"),
    "LambdaFunctionConfigurations": ("LambdaFunctionArn", "lambda"),
}
_MFA_RE = re.compile(r"^\S+ \d{6}$")
_CONFIG_ID_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")

# Error codes meaning "this bucket has no such configuration" (each GET has its own).
_MISSING_CODES = frozenset(
    {
        "NoSuchLifecycleConfiguration",
        "NoSuchCORSConfiguration",
        "ServerSideEncryptionConfigurationNotFoundError",
        "NoSuchWebsiteConfiguration",
        "ReplicationConfigurationNotFoundError",
        "ObjectLockConfigurationNotFoundError",
        "NoSuchObjectLockConfiguration",
        "NoSuchObjectLegalHold",
        "NoSuchConfiguration",
        "NoSuchInventoryConfig",
    }
)


# -- pure builders and validators -------------------------------------------------------------


def _positive_days(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise UsageError(f"{where} must be a whole number of days above 0, not {value!r}")
    return value


def _need(condition: bool, message: str) -> None:
    if not condition:
        raise UsageError(message)


def _unwrap(document: Any, wrapper: str, what: str) -> Document:
    """Accept both the bare document and the one wrapped as the API names it (what `aws s3api`
    prints, e.g. ``{"LifecycleConfiguration": {...}}``)."""
    if isinstance(document, dict) and set(document) == {wrapper}:
        document = document[wrapper]
    if not isinstance(document, dict):
        raise UsageError(f"{what} must be a mapping, not {type(document).__name__}")
    return dict(document)


def _rules(document: Document, key: str, what: str) -> list[Document]:
    rules = document.get(key)
    _need(isinstance(rules, list) and bool(rules), f"{what} needs a non-empty '{key}' list")
    assert isinstance(rules, list)
    for index, rule in enumerate(rules, 1):
        _need(isinstance(rule, dict), f"{what}: {key}[{index}] must be a mapping")
    return rules


def _rule_name(index: int, rule: Document) -> str:
    return f"rule {index}" + (f" ({rule['ID']})" if rule.get("ID") else "")


def parse_transition(text: str) -> tuple[int, str]:
    """'30:GLACIER' -> (30, 'GLACIER'), as typed after --transition."""
    days, sep, storage_class = text.partition(":")
    _need(
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
    config = _unwrap(document, "LifecycleConfiguration", "a lifecycle configuration")
    rules = _rules(config, "Rules", "a lifecycle configuration")
    _need(
        len(rules) <= 1000, f"a lifecycle configuration holds at most 1000 rules, not {len(rules)}"
    )
    seen: set[str] = set()
    for index, rule in enumerate(rules, 1):
        name = _rule_name(index, rule)
        rule_id = rule.get("ID")
        if rule_id is not None:
            _need(
                isinstance(rule_id, str) and 0 < len(rule_id) <= 255,
                f"{name}: ID must be 1-255 characters",
            )
            _need(rule_id not in seen, f"{name}: another rule already has this ID")
            seen.add(rule_id)
        _need(
            rule.get("Status") in ("Enabled", "Disabled"),
            f"{name}: Status must be Enabled or Disabled, not {rule.get('Status')!r}",
        )
        _need(
            any(rule.get(action) for action in LIFECYCLE_ACTIONS),
            f"{name} has no action — give it at least one of {', '.join(LIFECYCLE_ACTIONS)}",
        )
        expiration = rule.get("Expiration")
        if expiration:
            _need(isinstance(expiration, dict), f"{name}: Expiration must be a mapping")
            if "Days" in expiration:
                _positive_days(expiration["Days"], f"{name}: Expiration.Days")
        for key, days_key in (
            ("Transitions", "Days"),
            ("NoncurrentVersionTransitions", "NoncurrentDays"),
        ):
            for step in rule.get(key) or []:
                _need(isinstance(step, dict), f"{name}: each of {key} must be a mapping")
                if days_key in step:
                    _positive_days(step[days_key], f"{name}: {key}.{days_key}")
                storage_class = step.get("StorageClass")
                _need(
                    storage_class in TRANSITION_STORAGE_CLASSES,
                    f"{name}: unknown storage class {storage_class!r} for {key} — use one of"
                    f" {', '.join(TRANSITION_STORAGE_CLASSES)}",
                )
        noncurrent = rule.get("NoncurrentVersionExpiration")
        if noncurrent and "NoncurrentDays" in noncurrent:
            _positive_days(
                noncurrent["NoncurrentDays"], f"{name}: NoncurrentVersionExpiration.NoncurrentDays"
            )
        abort = rule.get("AbortIncompleteMultipartUpload")
        if abort:
            _positive_days(
                abort.get("DaysAfterInitiation"),
                f"{name}: AbortIncompleteMultipartUpload.DaysAfterInitiation",
            )
        if "Filter" not in rule and "Prefix" not in rule:
            rule["Filter"] = {}  # S3 wants one of them; an empty filter is the whole bucket
    return config


def build_cors_rule(
    *,
    origins: Sequence[str],
    methods: Sequence[str],
    headers: Sequence[str] = (),
    expose_headers: Sequence[str] = (),
    max_age: int | None = None,
    rule_id: str | None = None,
) -> Document:
    """One CORS rule: which origins may use which methods (and headers)."""
    rule: Document = {
        "AllowedOrigins": list(origins),
        "AllowedMethods": [m.upper() for m in methods],
    }
    if rule_id:
        rule["ID"] = rule_id
    if headers:
        rule["AllowedHeaders"] = list(headers)
    if expose_headers:
        rule["ExposeHeaders"] = list(expose_headers)
    if max_age is not None:
        rule["MaxAgeSeconds"] = max_age
    validate_cors({"CORSRules": [rule]})
    return rule


def validate_cors(document: Any) -> Document:
    """Check a CORS configuration ``{"CORSRules": [...]}``."""
    config = _unwrap(document, "CORSConfiguration", "a CORS configuration")
    rules = _rules(config, "CORSRules", "a CORS configuration")
    _need(len(rules) <= 100, f"a CORS configuration holds at most 100 rules, not {len(rules)}")
    for index, rule in enumerate(rules, 1):
        name = f"CORS {_rule_name(index, rule)}"
        origins, methods = rule.get("AllowedOrigins"), rule.get("AllowedMethods")
        _need(
            isinstance(origins, list) and bool(origins),
            f"{name} has no allowed origins — give at least one (e.g. https://example.com or *)",
        )
        _need(
            isinstance(methods, list) and bool(methods),
            f"{name} has no allowed methods — give at least one of {', '.join(CORS_METHODS)}",
        )
        assert isinstance(methods, list)
        for method in methods:
            _need(
                method in CORS_METHODS,
                f"{name}: unknown method {method!r} — use {', '.join(CORS_METHODS)}",
            )
        if "MaxAgeSeconds" in rule:
            age = rule["MaxAgeSeconds"]
            _need(
                isinstance(age, int) and not isinstance(age, bool) and age >= 0,
                f"{name}: MaxAgeSeconds must be a whole number of seconds, 0 or more",
            )
    return config


def build_encryption(
    *,
    algorithm: SseAlgorithm = "AES256",
    kms_key_id: str | None = None,
    bucket_key: bool | None = None,
) -> Document:
    """Default encryption: SSE-S3 (AES256) or SSE-KMS (aws:kms, optionally with a key id and
    an S3 Bucket Key, which cuts KMS requests)."""
    default: Document = {"SSEAlgorithm": algorithm}
    if kms_key_id:
        default["KMSMasterKeyID"] = kms_key_id
    rule: Document = {"ApplyServerSideEncryptionByDefault": default}
    if bucket_key is not None:
        rule["BucketKeyEnabled"] = bucket_key
    return validate_encryption({"Rules": [rule]})


def validate_encryption(document: Any) -> Document:
    """Check a default-encryption configuration ``{"Rules": [...]}``."""
    config = _unwrap(
        document, "ServerSideEncryptionConfiguration", "a default-encryption configuration"
    )
    for index, rule in enumerate(_rules(config, "Rules", "a default-encryption configuration"), 1):
        default = rule.get("ApplyServerSideEncryptionByDefault")
        _need(
            isinstance(default, dict),
            f"encryption rule {index} needs ApplyServerSideEncryptionByDefault",
        )
        assert isinstance(default, dict)
        algorithm = default.get("SSEAlgorithm")
        _need(
            algorithm in get_args(SseAlgorithm),
            f"encryption rule {index}: unknown algorithm {algorithm!r} — use AES256 (SSE-S3),"
            " aws:kms (SSE-KMS) or aws:kms:dsse",
        )
        _need(
            not default.get("KMSMasterKeyID") or str(algorithm).startswith("aws:kms"),
            f"encryption rule {index}: a KMS key id needs the aws:kms algorithm",
        )
    return config


def build_website(
    *,
    index: str | None = None,
    error: str | None = None,
    redirect_host: str | None = None,
    redirect_protocol: Literal["http", "https"] | None = None,
) -> Document:
    """Static website hosting: an index (and error) document, or a redirect of everything."""
    config: Document = {}
    if redirect_host:
        config["RedirectAllRequestsTo"] = {"HostName": redirect_host}
        if redirect_protocol:
            config["RedirectAllRequestsTo"]["Protocol"] = redirect_protocol
    if index:
        config["IndexDocument"] = {"Suffix": index}
    if error:
        config["ErrorDocument"] = {"Key": error}
    return validate_website(config)


def validate_website(document: Any) -> Document:
    config = _unwrap(document, "WebsiteConfiguration", "a website configuration")
    redirect = config.get("RedirectAllRequestsTo")
    if redirect:
        _need(
            set(config) == {"RedirectAllRequestsTo"},
            "a website that redirects all requests can have nothing else (no index or error"
            " document, no routing rules)",
        )
        _need(
            isinstance(redirect, dict) and bool(redirect.get("HostName")),
            "RedirectAllRequestsTo needs a HostName",
        )
        return config
    suffix = (config.get("IndexDocument") or {}).get("Suffix")
    _need(
        bool(suffix),
        "a website needs an index document (e.g. index.html) or a redirect host",
    )
    _need("/" not in str(suffix), f"the index document '{suffix}' must not contain '/'")
    return config


def website_endpoint(bucket: str, region: str) -> str:
    """The AWS website endpoint of a bucket (the dash form every region answers)."""
    return f"http://{bucket}.s3-website-{region}.amazonaws.com"


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
    config = _unwrap(document, "ReplicationConfiguration", "a replication configuration")
    role = config.get("Role")
    _need(
        isinstance(role, str) and role.startswith("arn:"),
        "a replication configuration needs Role: the ARN of the IAM role S3 replicates as"
        " (arn:aws:iam::ACCOUNT:role/NAME)",
    )
    for index, rule in enumerate(_rules(config, "Rules", "a replication configuration"), 1):
        name = f"replication {_rule_name(index, rule)}"
        _need(
            rule.get("Status") in ("Enabled", "Disabled"),
            f"{name}: Status must be Enabled or Disabled",
        )
        target = (rule.get("Destination") or {}).get("Bucket")
        _need(
            isinstance(target, str) and target.startswith("arn:") and ":s3:::" in target,
            f"{name}: Destination.Bucket must be a bucket ARN (arn:aws:s3:::NAME), not {target!r}",
        )
        storage_class = (rule.get("Destination") or {}).get("StorageClass")
        _need(
            storage_class is None or storage_class in REPLICA_STORAGE_CLASSES,
            f"{name}: unknown storage class {storage_class!r}",
        )
    return config


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
    _need(
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
    config = _unwrap(document, "NotificationConfiguration", "a notification configuration")
    known = {*NOTIFICATION_TARGETS, "EventBridgeConfiguration"}
    unknown = sorted(set(config) - known)
    _need(
        not unknown,
        f"unknown notification section(s) {', '.join(unknown)} — use {', '.join(sorted(known))}",
    )
    for key, (field, _service) in NOTIFICATION_TARGETS.items():
        entries = config.get(key) or []
        _need(isinstance(entries, list), f"{key} must be a list")
        for index, entry in enumerate(entries, 1):
            name = f"{key}[{index}]"
            _need(isinstance(entry, dict) and bool(entry.get(field)), f"{name} needs {field}")
            events = entry.get("Events")
            _need(
                isinstance(events, list) and bool(events),
                f"{name} needs at least one event, e.g. s3:ObjectCreated:*",
            )
            for event in events:
                _need(
                    isinstance(event, str) and event.startswith("s3:"),
                    f"{name}: event {event!r} must start with 's3:', e.g. s3:ObjectRemoved:*",
                )
    return config


def build_object_lock(
    *, mode: LockMode | None = None, days: int | None = None, years: int | None = None
) -> Document:
    """The object lock configuration; with `mode`, a default retention of `days` or `years`."""
    config: Document = {"ObjectLockEnabled": "Enabled"}
    if mode is None:
        _need(
            days is None and years is None,
            "a default retention period needs --mode GOVERNANCE or COMPLIANCE",
        )
        return config
    retention: Document = {"Mode": mode}
    if days is not None:
        retention["Days"] = days
    if years is not None:
        retention["Years"] = years
    config["Rule"] = {"DefaultRetention": retention}
    return validate_object_lock(config)


def validate_object_lock(document: Any) -> Document:
    config = _unwrap(document, "ObjectLockConfiguration", "an object lock configuration")
    config.setdefault("ObjectLockEnabled", "Enabled")
    _need(config["ObjectLockEnabled"] == "Enabled", "ObjectLockEnabled can only be Enabled")
    rule = config.get("Rule")
    if rule is None:
        return config
    retention = rule.get("DefaultRetention") if isinstance(rule, dict) else None
    _need(isinstance(retention, dict), "Rule needs DefaultRetention with Mode and Days or Years")
    assert isinstance(retention, dict)
    _need(
        retention.get("Mode") in get_args(LockMode),
        f"retention mode must be GOVERNANCE or COMPLIANCE, not {retention.get('Mode')!r}",
    )
    periods = [k for k in ("Days", "Years") if retention.get(k)]
    _need(len(periods) == 1, "a default retention needs either days or years (exactly one)")
    _positive_days(retention[periods[0]], f"DefaultRetention.{periods[0]}")
    return config


def build_retention(
    *,
    mode: LockMode,
    until: datetime | None = None,
    days: int | None = None,
    now: datetime | None = None,
) -> Document:
    """Per-object retention: locked in `mode` until a date, or for `days` from `now`."""
    _need(
        mode in get_args(LockMode), f"retention mode must be GOVERNANCE or COMPLIANCE, not {mode!r}"
    )
    _need(
        (until is None) != (days is None),
        "give the retention end as a date or as days (one of them)",
    )
    now = now or datetime.now(UTC)
    if days is not None:
        until = now + timedelta(days=_positive_days(days, "retention days"))
    assert until is not None
    if until.tzinfo is None:
        until = until.replace(tzinfo=UTC)
    _need(until > now, f"the retention end {until.isoformat()} is in the past")
    return {"Mode": mode, "RetainUntilDate": until}


def validate_mfa(mfa: str) -> str:
    """`--mfa "SERIAL CODE"`: the MFA device's serial number (or ARN) and its current code."""
    _need(
        bool(_MFA_RE.match(mfa.strip())),
        "--mfa takes the device serial number and the current 6-digit code separated by a"
        " space, e.g. --mfa 'arn:aws:iam::123456789012:mfa/root-device 123456'",
    )
    return mfa.strip()


# -- configurations kept by id (inventory, analytics, metrics, intelligent tiering) -----------


@dataclass(frozen=True, slots=True)
class IdConfigSpec:
    """How one id-keyed configuration is named in the API."""

    kind: IdConfigKind
    operation: str  # put_bucket_<operation>_configuration, ...
    document: str  # InventoryConfiguration, ...

    @property
    def label(self) -> str:
        return f"{self.kind} configuration"


ID_CONFIGS: dict[IdConfigKind, IdConfigSpec] = {
    "inventory": IdConfigSpec("inventory", "inventory", "InventoryConfiguration"),
    "analytics": IdConfigSpec("analytics", "analytics", "AnalyticsConfiguration"),
    "metrics": IdConfigSpec("metrics", "metrics", "MetricsConfiguration"),
    "intelligent-tiering": IdConfigSpec(
        "intelligent-tiering", "intelligent_tiering", "IntelligentTieringConfiguration"
    ),
}


def validate_id_config(kind: IdConfigKind, document: Any, config_id: str | None = None) -> Document:
    """Check an inventory/analytics/metrics/intelligent-tiering document; `config_id`, when
    given, fills in a missing Id and must match a present one."""
    spec = ID_CONFIGS[kind]
    config = _unwrap(document, spec.document, f"an {spec.label}")
    if config_id is not None:
        _need(
            config.setdefault("Id", config_id) == config_id,
            f"the document's Id '{config['Id']}' differs from --id '{config_id}'",
        )
    found = config.get("Id")
    _need(
        isinstance(found, str) and bool(_CONFIG_ID_RE.match(found)),
        f"an {spec.label} needs an Id of 1-64 letters, digits, '.', '_' or '-' (got {found!r})",
    )
    if kind == "inventory":
        target = ((config.get("Destination") or {}).get("S3BucketDestination") or {}).get("Bucket")
        _need(
            isinstance(target, str) and target.startswith("arn:"),
            "an inventory needs Destination.S3BucketDestination.Bucket, a bucket ARN",
        )
        _need(
            (config.get("Schedule") or {}).get("Frequency") in ("Daily", "Weekly"),
            "an inventory needs Schedule.Frequency Daily or Weekly",
        )
        config.setdefault("IsEnabled", True)
        config.setdefault("IncludedObjectVersions", "Current")
    elif kind == "analytics":
        config.setdefault("StorageClassAnalysis", {})
    elif kind == "intelligent-tiering":
        _need(config.get("Status") in ("Enabled", "Disabled"), "Status must be Enabled or Disabled")
        tierings = config.get("Tierings")
        _need(
            isinstance(tierings, list) and bool(tierings),
            "an intelligent-tiering configuration needs Tierings",
        )
        assert isinstance(tierings, list)
        for tier in tierings:
            _need(
                tier.get("AccessTier") in ("ARCHIVE_ACCESS", "DEEP_ARCHIVE_ACCESS"),
                "AccessTier must be ARCHIVE_ACCESS or DEEP_ARCHIVE_ACCESS,"
                f" not {tier.get('AccessTier')!r}",
            )
            _positive_days(tier.get("Days"), "Tierings.Days")
    return config


def _prefix_filter(prefix: str | None) -> Document:
    return {"Filter": {"Prefix": prefix}} if prefix else {}


def build_inventory(
    *,
    config_id: str,
    destination_bucket: str,
    destination_prefix: str | None = None,
    format: Literal["CSV", "ORC", "Parquet"] = "CSV",
    frequency: Literal["Daily", "Weekly"] = "Daily",
    prefix: str | None = None,
    versions: Literal["Current", "All"] = "Current",
    fields: Sequence[str] = (),
    enabled: bool = True,
) -> Document:
    """A daily or weekly inventory of the bucket's objects, written to another bucket."""
    if not destination_bucket.startswith("arn:"):
        destination_bucket = f"arn:aws:s3:::{destination_bucket}"
    destination: Document = {"Bucket": destination_bucket, "Format": format}
    if destination_prefix:
        destination["Prefix"] = destination_prefix
    config: Document = {
        "Id": config_id,
        "IsEnabled": enabled,
        "IncludedObjectVersions": versions,
        "Schedule": {"Frequency": frequency},
        "Destination": {"S3BucketDestination": destination},
        **_prefix_filter(prefix),
    }
    if fields:
        config["OptionalFields"] = list(fields)
    return validate_id_config("inventory", config)


def build_analytics(
    *,
    config_id: str,
    prefix: str | None = None,
    export_bucket: str | None = None,
    export_prefix: str | None = None,
) -> Document:
    """Storage class analysis, optionally exported as CSV to a bucket."""
    analysis: Document = {}
    if export_bucket:
        if not export_bucket.startswith("arn:"):
            export_bucket = f"arn:aws:s3:::{export_bucket}"
        destination: Document = {"Format": "CSV", "Bucket": export_bucket}
        if export_prefix:
            destination["Prefix"] = export_prefix
        analysis["DataExport"] = {
            "OutputSchemaVersion": "V_1",
            "Destination": {"S3BucketDestination": destination},
        }
    config = {"Id": config_id, "StorageClassAnalysis": analysis, **_prefix_filter(prefix)}
    return validate_id_config("analytics", config)


def build_metrics(*, config_id: str, prefix: str | None = None) -> Document:
    """CloudWatch request metrics for the bucket, or for the objects under `prefix`."""
    return validate_id_config("metrics", {"Id": config_id, **_prefix_filter(prefix)})


def build_intelligent_tiering(
    *,
    config_id: str,
    archive_days: int | None = None,
    deep_archive_days: int | None = None,
    prefix: str | None = None,
    enabled: bool = True,
) -> Document:
    """Move INTELLIGENT_TIERING objects not accessed for N days to the archive tiers."""
    tierings = [
        {"Days": days, "AccessTier": tier}
        for days, tier in (
            (archive_days, "ARCHIVE_ACCESS"),
            (deep_archive_days, "DEEP_ARCHIVE_ACCESS"),
        )
        if days is not None
    ]
    _need(bool(tierings), "give --archive-days and/or --deep-archive-days")
    config: Document = {
        "Id": config_id,
        "Status": "Enabled" if enabled else "Disabled",
        "Tierings": tierings,
        **_prefix_filter(prefix),
    }
    return validate_id_config("intelligent-tiering", config)


# -- the service mixin ------------------------------------------------------------------------


def _plain(response: Any, key: str | None = None) -> Document:
    body = response.get(key) if key and isinstance(response, dict) else response
    if not isinstance(body, dict):
        return {}
    return {k: v for k, v in body.items() if k != "ResponseMetadata"}


class BucketConfigMixin(ServiceBase):
    """get_* returns the document (None if the bucket has none), set_* validates and replaces
    it, delete_* removes it (and succeeds if there was none)."""

    # -- plumbing ---------------------------------------------------------------------------

    def _get_config(
        self, operation: str, bucket: str, key: str | None = None, **kwargs: Any
    ) -> Document | None:
        try:
            response = self.call(operation, bucket=bucket, Bucket=bucket, **kwargs)
        except S3KitError as exc:
            code = server_code(exc)
            # moto answers a missing inventory/metrics/... id with NoSuchBucket.
            if code in _MISSING_CODES or (code == "NoSuchBucket" and "Id" in kwargs):
                self._confirm_bucket(bucket)
                return None
            raise
        return _plain(response, key)

    def _confirm_bucket(self, bucket: str) -> None:
        """Raise BucketNotFound if the bucket is missing. SeaweedFS answers a GET of a
        configuration on a missing bucket with the "no such configuration" code."""
        with contextlib.suppress(PermissionDenied):  # may read the config but not HEAD
            self.call("head_bucket", bucket=bucket, Bucket=bucket)

    def _put_config(self, operation: str, bucket: str, **kwargs: Any) -> None:
        self.call(operation, bucket=bucket, Bucket=bucket, **kwargs)

    def _delete_config(
        self, operation: str, bucket: str, exists: Callable[[], object], **kwargs: Any
    ) -> None:
        """DELETE a configuration only if `exists()` finds one. SeaweedFS 4.x and moto 5.x route
        a DELETE with a sub-resource they do not know (?website, ?inventory, ...) to
        DeleteBucket, and so delete an empty bucket; asking first keeps that from happening
        where the GET is answered properly, and a BucketNotEmpty answer is reported as what it
        is rather than as a bucket problem."""
        if exists() is None:
            return
        try:
            self.call(operation, bucket=bucket, Bucket=bucket, **kwargs)
        except BucketNotEmpty as exc:
            raise NotSupported(
                f"{self.session.endpoint_label} does not support {operation} (it answered as if"
                " asked to delete the bucket)"
            ) from exc
        except S3KitError as exc:
            if server_code(exc) not in _MISSING_CODES:
                raise

    # -- versioning -------------------------------------------------------------------------

    def get_versioning(self, bucket: str) -> Document:
        """``{"Status": "Enabled"|"Suspended", "MFADelete": ...}``; ``{}`` if never enabled."""
        return _plain(self.call("get_bucket_versioning", bucket=bucket, Bucket=bucket))

    def set_versioning(
        self,
        bucket: str,
        status: VersioningStatus,
        *,
        mfa: str | None = None,
        mfa_delete: bool | None = None,
    ) -> None:
        """Enable or suspend versioning. Changing MFA delete needs `mfa` ("SERIAL CODE") and
        the root account's credentials."""
        _need(
            status in get_args(VersioningStatus),
            f"versioning status must be Enabled or Suspended, not {status!r}",
        )
        config: Document = {"Status": status}
        kwargs: Document = {}
        if mfa_delete is not None:
            _need(mfa is not None, "changing MFA delete needs --mfa 'SERIAL CODE'")
            config["MFADelete"] = "Enabled" if mfa_delete else "Disabled"
        if mfa is not None:
            kwargs["MFA"] = validate_mfa(mfa)
        self._put_config("put_bucket_versioning", bucket, VersioningConfiguration=config, **kwargs)

    # -- lifecycle --------------------------------------------------------------------------

    def get_lifecycle(self, bucket: str) -> Document | None:
        return self._get_config("get_bucket_lifecycle_configuration", bucket)

    def set_lifecycle(self, bucket: str, config: Any) -> None:
        """Replace the whole lifecycle configuration with `config` (``{"Rules": [...]}``)."""
        document = validate_lifecycle(config)
        kwargs: Document = {}
        minimum = document.pop("TransitionDefaultMinimumObjectSize", None)
        if minimum:  # what get_lifecycle returns is accepted back as it is
            kwargs["TransitionDefaultMinimumObjectSize"] = minimum
        self._put_config(
            "put_bucket_lifecycle_configuration",
            bucket,
            LifecycleConfiguration=document,
            **kwargs,
        )

    def delete_lifecycle(self, bucket: str) -> None:
        self._delete_config("delete_bucket_lifecycle", bucket, lambda: self.get_lifecycle(bucket))

    # -- website ----------------------------------------------------------------------------

    def get_website(self, bucket: str) -> Document | None:
        return self._get_config("get_bucket_website", bucket)

    def set_website(self, bucket: str, config: Any) -> None:
        self._put_config(
            "put_bucket_website",
            bucket,
            WebsiteConfiguration=validate_website(config),
        )

    def delete_website(self, bucket: str) -> None:
        self._delete_config("delete_bucket_website", bucket, lambda: self.get_website(bucket))

    def website_url(self, bucket: str) -> str | None:
        """The website endpoint on AWS; None on another endpoint, where it depends on how that
        server serves websites (if at all)."""
        if self.session.endpoint_url is not None:
            return None
        location = self.call("get_bucket_location", bucket=bucket, Bucket=bucket)
        region = location.get("LocationConstraint") or "us-east-1"
        return website_endpoint(bucket, "eu-west-1" if region == "EU" else str(region))

    # -- CORS -------------------------------------------------------------------------------

    def get_cors(self, bucket: str) -> Document | None:
        return self._get_config("get_bucket_cors", bucket)

    def set_cors(self, bucket: str, config: Any) -> None:
        self._put_config("put_bucket_cors", bucket, CORSConfiguration=validate_cors(config))

    def delete_cors(self, bucket: str) -> None:
        self._delete_config("delete_bucket_cors", bucket, lambda: self.get_cors(bucket))

    # -- default encryption -----------------------------------------------------------------

    def get_encryption(self, bucket: str) -> Document | None:
        return self._get_config(
            "get_bucket_encryption", bucket, "ServerSideEncryptionConfiguration"
        )

    def set_encryption(self, bucket: str, config: Any) -> None:
        self._put_config(
            "put_bucket_encryption",
            bucket,
            ServerSideEncryptionConfiguration=validate_encryption(config),
        )

    def delete_encryption(self, bucket: str) -> None:
        self._delete_config("delete_bucket_encryption", bucket, lambda: self.get_encryption(bucket))

    # -- replication ------------------------------------------------------------------------

    def get_replication(self, bucket: str) -> Document | None:
        return self._get_config("get_bucket_replication", bucket, "ReplicationConfiguration")

    def set_replication(self, bucket: str, config: Any) -> None:
        """Replace the replication configuration; S3 needs versioning enabled on both buckets."""
        self._put_config(
            "put_bucket_replication",
            bucket,
            ReplicationConfiguration=validate_replication(config),
        )

    def delete_replication(self, bucket: str) -> None:
        self._delete_config(
            "delete_bucket_replication", bucket, lambda: self.get_replication(bucket)
        )

    # -- event notifications ----------------------------------------------------------------

    def get_notifications(self, bucket: str) -> Document | None:
        """The notification configuration; None if it has no target."""
        document = self._get_config("get_bucket_notification_configuration", bucket)
        return document or None

    def set_notifications(self, bucket: str, config: Any) -> None:
        self._put_config(
            "put_bucket_notification_configuration",
            bucket,
            NotificationConfiguration=validate_notifications(config),
        )

    def delete_notifications(self, bucket: str) -> None:
        """S3 has no delete: an empty configuration turns every notification off."""
        if self.get_notifications(bucket) is None:
            return
        self._put_config(
            "put_bucket_notification_configuration",
            bucket,
            NotificationConfiguration={},
        )

    # -- transfer acceleration --------------------------------------------------------------

    def get_acceleration(self, bucket: str) -> Literal["Enabled", "Suspended"] | None:
        """None if acceleration was never configured."""
        status = self.call("get_bucket_accelerate_configuration", bucket=bucket, Bucket=bucket).get(
            "Status"
        )
        return "Enabled" if status == "Enabled" else "Suspended" if status == "Suspended" else None

    def set_acceleration(self, bucket: str, enabled: bool) -> None:
        _need(
            "." not in bucket or not enabled,
            f"bucket '{bucket}' has a dot in its name, and S3 Transfer Acceleration only"
            " works for names without dots",
        )
        self._put_config(
            "put_bucket_accelerate_configuration",
            bucket,
            AccelerateConfiguration={"Status": "Enabled" if enabled else "Suspended"},
        )

    # -- object lock ------------------------------------------------------------------------

    def get_object_lock(self, bucket: str) -> Document | None:
        return self._get_config("get_object_lock_configuration", bucket, "ObjectLockConfiguration")

    def set_object_lock(self, bucket: str, config: Any) -> None:
        """Set the bucket's default retention (the bucket must have object lock enabled)."""
        self._put_config(
            "put_object_lock_configuration",
            bucket,
            ObjectLockConfiguration=validate_object_lock(config),
        )

    def get_retention(
        self, bucket: str, key: str, *, version_id: str | None = None
    ) -> Document | None:
        """``{"Mode", "RetainUntilDate"}`` of one object version; None if it has none."""
        kwargs: Document = {"Key": key, **({"VersionId": version_id} if version_id else {})}
        try:
            response = self.call(
                "get_object_retention", bucket=bucket, key=key, Bucket=bucket, **kwargs
            )
        except S3KitError as exc:
            if server_code(exc) in _MISSING_CODES:
                return None
            raise
        return _plain(response, "Retention") or None

    def set_retention(
        self,
        bucket: str,
        key: str,
        retention: Document,
        *,
        version_id: str | None = None,
        bypass_governance: bool = False,
    ) -> None:
        """Lock one object version (see `build_retention`). Shortening a GOVERNANCE lock needs
        `bypass_governance`; a COMPLIANCE lock can never be shortened."""
        kwargs: Document = {"Key": key, "Retention": retention}
        if version_id:
            kwargs["VersionId"] = version_id
        if bypass_governance:
            kwargs["BypassGovernanceRetention"] = True
        self.call("put_object_retention", bucket=bucket, key=key, Bucket=bucket, **kwargs)

    def get_legal_hold(self, bucket: str, key: str, *, version_id: str | None = None) -> bool:
        """Whether a legal hold is on for one object version."""
        kwargs: Document = {"Key": key, **({"VersionId": version_id} if version_id else {})}
        try:
            response = self.call(
                "get_object_legal_hold", bucket=bucket, key=key, Bucket=bucket, **kwargs
            )
        except S3KitError as exc:
            if server_code(exc) in _MISSING_CODES:
                return False
            raise
        return bool(_plain(response, "LegalHold").get("Status") == "ON")

    def set_legal_hold(
        self, bucket: str, key: str, on: bool, *, version_id: str | None = None
    ) -> None:
        kwargs: Document = {"Key": key, "LegalHold": {"Status": "ON" if on else "OFF"}}
        if version_id:
            kwargs["VersionId"] = version_id
        self.call("put_object_legal_hold", bucket=bucket, key=key, Bucket=bucket, **kwargs)

    # -- inventory, analytics, metrics, intelligent tiering ---------------------------------

    def list_id_configs(self, kind: IdConfigKind, bucket: str) -> Iterator[Document]:
        """Every configuration of `kind` on the bucket, page by page."""
        spec = ID_CONFIGS[kind]
        kwargs: Document = {}
        while True:
            response = self.call(
                f"list_bucket_{spec.operation}_configurations",
                bucket=bucket,
                Bucket=bucket,
                **kwargs,
            )
            yield from response.get(f"{spec.document}List", [])
            token = response.get("NextContinuationToken")
            if not response.get("IsTruncated") or not token:
                return
            kwargs["ContinuationToken"] = token

    def get_id_config(self, kind: IdConfigKind, bucket: str, config_id: str) -> Document | None:
        spec = ID_CONFIGS[kind]
        document = self._get_config(
            f"get_bucket_{spec.operation}_configuration", bucket, spec.document, Id=config_id
        )
        # A server that ignores the sub-resource answers with an empty document: nothing is set.
        return document if document and document.get("Id") else None

    def set_id_config(self, kind: IdConfigKind, bucket: str, config: Any) -> None:
        """Create or replace the configuration with the document's Id."""
        spec = ID_CONFIGS[kind]
        document = validate_id_config(kind, config)
        self._put_config(
            f"put_bucket_{spec.operation}_configuration",
            bucket,
            Id=document["Id"],
            **{spec.document: document},
        )

    def delete_id_config(self, kind: IdConfigKind, bucket: str, config_id: str) -> None:
        self._delete_config(
            f"delete_bucket_{ID_CONFIGS[kind].operation}_configuration",
            bucket,
            lambda: self.get_id_config(kind, bucket, config_id),
            Id=config_id,
        )
