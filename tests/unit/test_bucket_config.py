"""Bucket configuration documents: the pure builders and validators, no server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from s3kit.errors import UsageError
from s3kit.service.configs import (
    build_analytics,
    build_cors_rule,
    build_encryption,
    build_intelligent_tiering,
    build_inventory,
    build_lifecycle_rule,
    build_metrics,
    build_notification,
    build_object_lock,
    build_replication,
    build_retention,
    build_website,
    parse_transition,
    validate_cors,
    validate_encryption,
    validate_id_config,
    validate_lifecycle,
    validate_mfa,
    validate_notifications,
    validate_object_lock,
    validate_replication,
    validate_website,
    website_endpoint,
)

# -- lifecycle ---------------------------------------------------------------------------------


def test_lifecycle_rule_with_every_action() -> None:
    rule = build_lifecycle_rule(
        rule_id="logs",
        prefix="logs/",
        expiration_days=365,
        transitions=[(30, "STANDARD_IA"), (90, "GLACIER")],
        noncurrent_expiration_days=7,
        abort_multipart_days=3,
    )
    assert rule == {
        "ID": "logs",
        "Status": "Enabled",
        "Filter": {"Prefix": "logs/"},
        "Expiration": {"Days": 365},
        "Transitions": [
            {"Days": 30, "StorageClass": "STANDARD_IA"},
            {"Days": 90, "StorageClass": "GLACIER"},
        ],
        "NoncurrentVersionExpiration": {"NoncurrentDays": 7},
        "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 3},
    }


def test_lifecycle_rule_disabled_and_whole_bucket() -> None:
    rule = build_lifecycle_rule(expiration_days=1, enabled=False)
    assert rule["Status"] == "Disabled"
    assert rule["Filter"] == {"Prefix": ""}


def test_lifecycle_rule_without_an_action_is_refused() -> None:
    with pytest.raises(UsageError, match="has no action"):
        build_lifecycle_rule(prefix="logs/")


@pytest.mark.parametrize("days", [0, -1])
def test_lifecycle_days_must_be_positive(days: int) -> None:
    with pytest.raises(UsageError, match="above 0"):
        build_lifecycle_rule(expiration_days=days)
    with pytest.raises(UsageError, match="above 0"):
        build_lifecycle_rule(abort_multipart_days=days)


def test_lifecycle_unknown_storage_class_names_the_choices() -> None:
    with pytest.raises(UsageError, match=r"unknown storage class 'GLACIERR'.*DEEP_ARCHIVE"):
        build_lifecycle_rule(transitions=[(30, "GLACIERR")])


def test_lifecycle_document_checks_name_the_rule() -> None:
    document = {
        "Rules": [
            {"ID": "ok", "Status": "Enabled", "Expiration": {"Days": 1}},
            {"ID": "bad", "Status": "Enabled"},
        ]
    }
    with pytest.raises(UsageError, match=r"rule 2 \(bad\) has no action"):
        validate_lifecycle(document)


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({}, "non-empty 'Rules'"),
        ({"Rules": []}, "non-empty 'Rules'"),
        ([1, 2], "must be a mapping"),
        ({"Rules": [{"Expiration": {"Days": 1}}]}, "Status must be Enabled or Disabled"),
        (
            {
                "Rules": [
                    {"ID": "a", "Status": "Enabled", "Expiration": {"Days": 1}},
                    {"ID": "a", "Status": "Enabled", "Expiration": {"Days": 2}},
                ]
            },
            "already has this ID",
        ),
        (
            {
                "Rules": [
                    {"Status": "Enabled", "NoncurrentVersionExpiration": {"NoncurrentDays": 0}}
                ]
            },
            "NoncurrentDays must be a whole number",
        ),
    ],
)
def test_lifecycle_bad_documents(document: Any, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        validate_lifecycle(document)


def test_lifecycle_accepts_the_wrapped_form_and_adds_an_empty_filter() -> None:
    config = validate_lifecycle(
        {"LifecycleConfiguration": {"Rules": [{"Status": "Enabled", "Expiration": {"Days": 5}}]}}
    )
    assert config["Rules"][0]["Filter"] == {}


@pytest.mark.parametrize(
    ("text", "expected"), [("30:glacier", (30, "GLACIER")), ("7:STANDARD_IA", (7, "STANDARD_IA"))]
)
def test_parse_transition(text: str, expected: tuple[int, str]) -> None:
    assert parse_transition(text) == expected


@pytest.mark.parametrize("text", ["GLACIER", "x:GLACIER", "30"])
def test_parse_transition_rejects_other_shapes(text: str) -> None:
    with pytest.raises(UsageError, match="DAYS:CLASS"):
        parse_transition(text)


# -- CORS --------------------------------------------------------------------------------------


def test_cors_rule() -> None:
    rule = build_cors_rule(
        origins=["https://a.example"], methods=["get", "PUT"], headers=["*"], max_age=600
    )
    assert rule == {
        "AllowedOrigins": ["https://a.example"],
        "AllowedMethods": ["GET", "PUT"],
        "AllowedHeaders": ["*"],
        "MaxAgeSeconds": 600,
    }


@pytest.mark.parametrize(
    ("origins", "methods", "message"),
    [
        ([], ["GET"], "no allowed origins"),
        (["*"], [], "no allowed methods"),
        (["*"], ["FETCH"], "unknown method 'FETCH'"),
    ],
)
def test_cors_rule_needs_origins_and_methods(
    origins: list[str], methods: list[str], message: str
) -> None:
    with pytest.raises(UsageError, match=message):
        build_cors_rule(origins=origins, methods=methods)


def test_cors_negative_max_age() -> None:
    with pytest.raises(UsageError, match="MaxAgeSeconds"):
        validate_cors(
            {
                "CORSRules": [
                    {"AllowedOrigins": ["*"], "AllowedMethods": ["GET"], "MaxAgeSeconds": -5}
                ]
            }
        )


# -- encryption, website, replication, notifications -------------------------------------------


def test_encryption_sse_s3_and_kms() -> None:
    assert build_encryption() == {
        "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
    }
    assert build_encryption(algorithm="aws:kms", kms_key_id="alias/k", bucket_key=True) == {
        "Rules": [
            {
                "ApplyServerSideEncryptionByDefault": {
                    "SSEAlgorithm": "aws:kms",
                    "KMSMasterKeyID": "alias/k",
                },
                "BucketKeyEnabled": True,
            }
        ]
    }


def test_encryption_refuses_a_key_without_kms_and_unknown_algorithms() -> None:
    with pytest.raises(UsageError, match="needs the aws:kms algorithm"):
        build_encryption(algorithm="AES256", kms_key_id="alias/k")
    with pytest.raises(UsageError, match="unknown algorithm 'DES'"):
        validate_encryption(
            {"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "DES"}}]}
        )


def test_website_documents() -> None:
    assert build_website(index="index.html", error="404.html") == {
        "IndexDocument": {"Suffix": "index.html"},
        "ErrorDocument": {"Key": "404.html"},
    }
    assert build_website(redirect_host="example.com", redirect_protocol="https") == {
        "RedirectAllRequestsTo": {"HostName": "example.com", "Protocol": "https"}
    }


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({}, "needs an index document"),
        ({"ErrorDocument": {"Key": "e.html"}}, "needs an index document"),
        ({"IndexDocument": {"Suffix": "a/index.html"}}, "must not contain '/'"),
        (
            {"RedirectAllRequestsTo": {"HostName": "x"}, "IndexDocument": {"Suffix": "i"}},
            "can have nothing else",
        ),
    ],
)
def test_website_bad_documents(document: Any, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        validate_website(document)


def test_website_endpoint_uses_the_dash_form() -> None:
    assert website_endpoint("demo", "eu-west-1") == "http://demo.s3-website-eu-west-1.amazonaws.com"


def test_replication_from_a_name_or_arn() -> None:
    config = build_replication(
        role="arn:aws:iam::123456789012:role/r", destination_bucket="copy", prefix="a/"
    )
    (rule,) = config["Rules"]
    assert rule["Destination"] == {"Bucket": "arn:aws:s3:::copy"}
    assert rule["Filter"] == {"Prefix": "a/"}
    assert rule["DeleteMarkerReplication"] == {"Status": "Disabled"}


@pytest.mark.parametrize(
    ("document", "message"),
    [
        ({"Rules": []}, "needs Role"),
        ({"Role": "arn:aws:iam::1:role/r", "Rules": []}, "non-empty 'Rules'"),
        (
            {
                "Role": "arn:aws:iam::1:role/r",
                "Rules": [{"Status": "Enabled", "Destination": {"Bucket": "b"}}],
            },
            "must be a bucket ARN",
        ),
    ],
)
def test_replication_bad_documents(document: Any, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        validate_replication(document)


@pytest.mark.parametrize(
    ("arn", "section", "field"),
    [
        ("arn:aws:sns:us-east-1:1:t", "TopicConfigurations", "TopicArn"),
        ("arn:aws:sqs:us-east-1:1:q", "QueueConfigurations", "QueueArn"),
        (
            "arn:aws:lambda:us-east-1:1:function:f",
            "LambdaFunctionConfigurations",
            "LambdaFunctionArn",
        ),
    ],
)
def test_notification_target_kind_comes_from_the_arn(arn: str, section: str, field: str) -> None:
    config = build_notification(target_arn=arn, prefix="in/", suffix=".jpg")
    (entry,) = config[section]
    assert entry[field] == arn
    assert entry["Events"] == ["s3:ObjectCreated:*"]
    assert entry["Filter"]["Key"]["FilterRules"] == [
        {"Name": "prefix", "Value": "in/"},
        {"Name": "suffix", "Value": ".jpg"},
    ]


def test_notification_bad_inputs() -> None:
    with pytest.raises(UsageError, match="not an SNS topic, SQS queue or Lambda"):
        build_notification(target_arn="arn:aws:s3:::bucket")
    with pytest.raises(UsageError, match="must start with 's3:'"):
        build_notification(target_arn="arn:aws:sqs:us-east-1:1:q", events=["ObjectCreated"])
    with pytest.raises(UsageError, match="unknown notification section"):
        validate_notifications({"Queues": []})
    assert validate_notifications({}) == {}


# -- object lock -------------------------------------------------------------------------------


def test_object_lock_documents() -> None:
    assert build_object_lock() == {"ObjectLockEnabled": "Enabled"}
    assert build_object_lock(mode="COMPLIANCE", years=1) == {
        "ObjectLockEnabled": "Enabled",
        "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Years": 1}},
    }


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"days": 3}, "needs --mode"),
        ({"mode": "GOVERNANCE"}, "either days or years"),
        ({"mode": "GOVERNANCE", "days": 1, "years": 1}, "either days or years"),
        ({"mode": "GOVERNANCE", "days": -1}, "above 0"),
        ({"mode": "STRICT", "days": 1}, "GOVERNANCE or COMPLIANCE"),
    ],
)
def test_object_lock_bad_inputs(kwargs: dict[str, Any], message: str) -> None:
    with pytest.raises(UsageError, match=message):
        build_object_lock(**kwargs)


def test_object_lock_refuses_disabling() -> None:
    with pytest.raises(UsageError, match="only be Enabled"):
        validate_object_lock({"ObjectLockEnabled": "Disabled"})


def test_retention_from_days_and_dates() -> None:
    now = datetime(2030, 1, 1, tzinfo=UTC)
    assert build_retention(mode="GOVERNANCE", days=2, now=now) == {
        "Mode": "GOVERNANCE",
        "RetainUntilDate": now + timedelta(days=2),
    }
    naive = build_retention(mode="COMPLIANCE", until=datetime(2031, 1, 1), now=now)
    assert naive["RetainUntilDate"] == datetime(2031, 1, 1, tzinfo=UTC)
    with pytest.raises(UsageError, match="in the past"):
        build_retention(mode="GOVERNANCE", until=datetime(2029, 1, 1, tzinfo=UTC), now=now)
    with pytest.raises(UsageError, match="one of them"):
        build_retention(mode="GOVERNANCE", now=now)


@pytest.mark.parametrize("mfa", ["123456", "serial 12345", "serial abcdef", "a b 123456"])
def test_mfa_needs_serial_and_six_digits(mfa: str) -> None:
    with pytest.raises(UsageError, match="6-digit code"):
        validate_mfa(mfa)


def test_mfa_accepts_an_arn_and_code() -> None:
    assert validate_mfa(" arn:aws:iam::1:mfa/root 123456 ") == "arn:aws:iam::1:mfa/root 123456"


# -- inventory, analytics, metrics, intelligent tiering ----------------------------------------


def test_inventory_document() -> None:
    config = build_inventory(
        config_id="daily", destination_bucket="reports", prefix="data/", fields=["Size"]
    )
    assert config == {
        "Id": "daily",
        "IsEnabled": True,
        "IncludedObjectVersions": "Current",
        "Schedule": {"Frequency": "Daily"},
        "Destination": {"S3BucketDestination": {"Bucket": "arn:aws:s3:::reports", "Format": "CSV"}},
        "Filter": {"Prefix": "data/"},
        "OptionalFields": ["Size"],
    }


def test_analytics_metrics_and_tiering_documents() -> None:
    analytics = build_analytics(config_id="a", export_bucket="out")
    export = analytics["StorageClassAnalysis"]["DataExport"]
    assert export["Destination"]["S3BucketDestination"]["Bucket"] == "arn:aws:s3:::out"
    assert build_metrics(config_id="m", prefix="p/") == {"Id": "m", "Filter": {"Prefix": "p/"}}
    assert build_intelligent_tiering(config_id="t", archive_days=90)["Tierings"] == [
        {"Days": 90, "AccessTier": "ARCHIVE_ACCESS"}
    ]
    with pytest.raises(UsageError, match="--archive-days"):
        build_intelligent_tiering(config_id="t")


def test_id_documents_check_the_id() -> None:
    with pytest.raises(UsageError, match="needs an Id"):
        validate_id_config("metrics", {})
    with pytest.raises(UsageError, match="needs an Id"):
        validate_id_config("metrics", {"Id": "has space"})
    with pytest.raises(UsageError, match="differs from --id"):
        validate_id_config("metrics", {"Id": "a"}, "b")
    assert validate_id_config("metrics", {"MetricsConfiguration": {}}, "b") == {"Id": "b"}


def test_inventory_document_needs_destination_and_schedule() -> None:
    with pytest.raises(UsageError, match=r"S3BucketDestination\.Bucket"):
        validate_id_config("inventory", {"Id": "i", "Schedule": {"Frequency": "Daily"}})
    with pytest.raises(UsageError, match="Daily or Weekly"):
        validate_id_config(
            "inventory",
            {
                "Id": "i",
                "Destination": {"S3BucketDestination": {"Bucket": "arn:aws:s3:::r"}},
                "Schedule": {"Frequency": "Hourly"},
            },
        )
