"""The pure pieces of bucket administration: canned policies, policy validation, grantees,
ACL requests and their read-back check, public access block merging, tag parsing."""

from __future__ import annotations

import json
from typing import Any

import pytest

from s3kit.errors import UsageError, server_code
from s3kit.service.access import (
    GROUPS,
    AclRequest,
    Grantee,
    Permission,
    PolicyError,
    canned_policy,
    combine_policies,
    merge_public_access_block,
    missing_grants,
    parse_grantee,
    parse_policy,
    partition_for_region,
    validate_policy,
)
from s3kit.service.buckets import (
    BUCKET_CANNED_ACLS,
    ContentSummary,
    is_not_configured,
    parse_tags,
    secure_lifecycle_rule,
)

# -- canned policies ---------------------------------------------------------------------------


def test_public_read_allows_anyone_to_get_objects_of_that_bucket_only() -> None:
    policy = canned_policy("public-read", "demo")
    assert policy["Version"] == "2012-10-17"
    (statement,) = policy["Statement"]
    assert statement["Effect"] == "Allow"
    assert statement["Principal"] == "*"
    assert statement["Action"] == "s3:GetObject"
    assert statement["Resource"] == "arn:aws:s3:::demo/*"
    validate_policy(policy)


def test_deny_insecure_transport_covers_bucket_and_objects_when_not_tls() -> None:
    policy = canned_policy("deny-insecure-transport", "demo", partition="aws-cn")
    (statement,) = policy["Statement"]
    assert statement["Effect"] == "Deny"
    assert statement["Action"] == "s3:*"
    assert statement["Resource"] == ["arn:aws-cn:s3:::demo", "arn:aws-cn:s3:::demo/*"]
    assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    validate_policy(policy)


def test_unknown_canned_policy_names_the_choices() -> None:
    with pytest.raises(UsageError, match="public-read, deny-insecure-transport"):
        canned_policy("public-write", "demo")


def test_combined_canned_policies_keep_every_statement_in_order() -> None:
    combined = combine_policies(
        canned_policy(n, "demo") for n in ("public-read", "deny-insecure-transport")
    )
    assert [s["Sid"] for s in combined["Statement"]] == [
        "PublicReadGetObject",
        "DenyInsecureTransport",
    ]
    validate_policy(combined)


@pytest.mark.parametrize(
    ("region", "partition"),
    [
        (None, "aws"),
        ("eu-west-1", "aws"),
        ("cn-north-1", "aws-cn"),
        ("us-gov-west-1", "aws-us-gov"),
    ],
)
def test_partition_for_region(region: str | None, partition: str) -> None:
    assert partition_for_region(region) == partition


# -- policy validation -------------------------------------------------------------------------


def test_invalid_json_names_source_line_and_column() -> None:
    text = '{\n  "Version": "2012-10-17",\n  "Statement": [\n    {"Effect": "Allow",}\n  ]\n}'
    with pytest.raises(PolicyError) as caught:
        parse_policy(text, source="p.json")
    message = caught.value.message
    assert message.startswith("p.json is not valid JSON:")
    assert "line 4, column" in message
    assert "\n" not in message
    assert caught.value.exit_code == 2


def _statement(**overrides: Any) -> dict[str, Any]:
    statement: dict[str, Any] = {
        "Effect": "Allow",
        "Principal": "*",
        "Action": "s3:GetObject",
        "Resource": "arn:aws:s3:::demo/*",
    }
    statement.update(overrides)
    return {k: v for k, v in statement.items() if v is not None}


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        ([], "a policy is a JSON object"),
        ({"Version": "2012-10-17"}, "no Statement"),
        ({"Version": "2020-01-01", "Statement": [_statement()]}, "Version must be"),
        ({"Statement": []}, "non-empty list"),
        ({"Statement": "everything"}, "non-empty list"),
        ({"Statement": ["x"]}, r"Statement\[0\] must be an object"),
        (
            {"Statement": [_statement(Effect="allow")]},
            r'Effect must be "Allow" or "Deny" \(it is "allow"\)',
        ),
        ({"Statement": [_statement(), _statement(Effect=None)]}, r"Statement\[1\].*it is missing"),
        ({"Statement": [_statement(Action=None)]}, "no Action"),
        ({"Statement": [_statement(Principal=None)]}, "no Principal"),
        ({"Statement": [_statement(Resource=None)]}, "no Resource"),
        ({"Statement": [_statement(Action=[])]}, "Action must be a string or a list"),
        ({"Statement": [_statement(Action=["s3:GetObject", 3])]}, "Action must be a string"),
    ],
)
def test_policy_structure_problems_are_named(document: Any, problem: str) -> None:
    with pytest.raises(PolicyError, match=problem):
        validate_policy(document, source="p.json")


def test_valid_policy_with_not_forms_and_single_statement_object_passes() -> None:
    document = {
        "Version": "2012-10-17",
        "Statement": {
            "Effect": "Deny",
            "NotPrincipal": {"AWS": "arn:aws:iam::123456789012:root"},
            "NotAction": ["s3:GetObject"],
            "NotResource": "arn:aws:s3:::demo/public/*",
        },
    }
    assert parse_policy(json.dumps(document)) == document


def test_policy_over_20_kib_is_refused() -> None:
    statements = [
        _statement(Sid=f"S{i}", Resource=f"arn:aws:s3:::demo/{'x' * 200}/{i}") for i in range(120)
    ]
    with pytest.raises(PolicyError, match="at most 20 KiB"):
        validate_policy({"Version": "2012-10-17", "Statement": statements})


# -- grantees and ACL requests -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("id=abc123", Grantee("id", "abc123")),
        ('ID="abc123"', Grantee("id", "abc123")),
        ("uri=http://acs.amazonaws.com/groups/global/AllUsers", Grantee("uri", GROUPS["allusers"])),
        ("group=AllUsers", Grantee("uri", GROUPS["allusers"])),
        ("group=authenticatedusers", Grantee("uri", GROUPS["authenticatedusers"])),
        ("group=LogDelivery", Grantee("uri", "http://acs.amazonaws.com/groups/s3/LogDelivery")),
        ("emailaddress=a@example.com", Grantee("emailAddress", "a@example.com")),
    ],
)
def test_parse_grantee(text: str, expected: Grantee) -> None:
    assert parse_grantee(text) == expected


@pytest.mark.parametrize(
    "text", ["abc123", "id=", "user=abc", "group=Everyone", "uri=http://example.com/x"]
)
def test_bad_grantee_is_a_usage_error(text: str) -> None:
    with pytest.raises(UsageError):
        parse_grantee(text)


def test_grant_headers_join_grantees_per_permission() -> None:
    request = AclRequest.build(
        canned=None,
        grants={"READ": ["id=a", "group=AllUsers"], "FULL_CONTROL": ["id=owner"], "WRITE": []},
        allowed_canned=BUCKET_CANNED_ACLS,
    )
    assert request.parameters() == {
        "GrantRead": f'id="a", uri="{GROUPS["allusers"]}"',
        "GrantFullControl": 'id="owner"',
    }


@pytest.mark.parametrize(
    ("canned", "grants", "problem"),
    [
        ("private", {"READ": ["id=a"]}, "not both"),
        (None, {"READ": []}, "at least one"),
        ("public", {}, "unknown ACL 'public'"),
    ],
)
def test_acl_request_rejects(
    canned: str | None, grants: dict[Permission, list[str]], problem: str
) -> None:
    with pytest.raises(UsageError, match=problem):
        AclRequest.build(canned=canned, grants=grants, allowed_canned=BUCKET_CANNED_ACLS)


def _acl(*grants: tuple[str, dict[str, str]]) -> dict[str, Any]:
    owner = {"ID": "owner", "Type": "CanonicalUser"}
    held = [{"Grantee": owner, "Permission": "FULL_CONTROL"}]
    held += [{"Grantee": g, "Permission": p} for p, g in grants]
    return {"Owner": {"ID": "owner"}, "Grants": held}


def test_missing_grants_finds_what_the_server_dropped() -> None:
    request = AclRequest.build(
        canned=None, grants={"READ": ["id=a", "id=b"]}, allowed_canned=BUCKET_CANNED_ACLS
    )
    acl = _acl(("READ", {"ID": "a", "Type": "CanonicalUser"}))
    assert missing_grants(request, acl) == [("READ", Grantee("id", "b"))]


def test_canned_acls_expect_their_group_grants() -> None:
    everyone = {"URI": GROUPS["allusers"], "Type": "Group"}
    public_rw = AclRequest.build(
        canned="public-read-write", grants={}, allowed_canned=BUCKET_CANNED_ACLS
    )
    assert missing_grants(public_rw, _acl(("READ", everyone))) == [
        ("WRITE", Grantee("uri", GROUPS["allusers"]))
    ]
    private = AclRequest.build(canned="private", grants={}, allowed_canned=BUCKET_CANNED_ACLS)
    assert missing_grants(private, _acl()) == []


# -- public access block -----------------------------------------------------------------------


def test_public_access_block_merge_keeps_unnamed_settings() -> None:
    current = {
        "BlockPublicAcls": True,
        "IgnorePublicAcls": True,
        "BlockPublicPolicy": False,
        "RestrictPublicBuckets": False,
    }
    merged = merge_public_access_block(
        current, {"BlockPublicAcls": False, "BlockPublicPolicy": True}
    )
    assert merged == {
        "BlockPublicAcls": False,
        "IgnorePublicAcls": True,
        "BlockPublicPolicy": True,
        "RestrictPublicBuckets": False,
    }


def test_public_access_block_merge_without_current_defaults_to_off() -> None:
    assert merge_public_access_block(None, {"RestrictPublicBuckets": True}) == {
        "BlockPublicAcls": False,
        "IgnorePublicAcls": False,
        "BlockPublicPolicy": False,
        "RestrictPublicBuckets": True,
    }
    with pytest.raises(UsageError, match="BlockEverything"):
        merge_public_access_block(None, {"BlockEverything": True})


# -- tags and helpers --------------------------------------------------------------------------


def test_parse_tags_keeps_order_and_allows_empty_and_equals_in_values() -> None:
    assert parse_tags(["team=data", "empty=", "expr=a=b"]) == {
        "team": "data",
        "empty": "",
        "expr": "a=b",
    }


@pytest.mark.parametrize(
    ("pairs", "problem"),
    [
        (["team"], "not KEY=VALUE"),
        (["=data"], "not KEY=VALUE"),
        (["a=1", "a=2"], "given twice"),
        (["aws:owner=x"], "reserved prefix"),
        ([f"{'k' * 129}=v"], "longer than 128"),
        ([f"k={'v' * 257}"], "longer than 256"),
        ([f"k{i}=v" for i in range(51)], "at most 50"),
    ],
)
def test_parse_tags_rejects(pairs: list[str], problem: str) -> None:
    with pytest.raises(UsageError, match=problem):
        parse_tags(pairs)


def test_secure_lifecycle_rule_aborts_uploads_after_seven_days_everywhere() -> None:
    rule = secure_lifecycle_rule()
    assert rule["Status"] == "Enabled"
    assert rule["Filter"] == {"Prefix": ""}
    assert rule["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 7}


def test_content_summary_total() -> None:
    assert ContentSummary(objects=2, versions=3, delete_markers=1, uploads=4).total == 10


class _ClientError(Exception):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.response = {"Error": {"Code": code}}


@pytest.mark.parametrize(
    ("code", "not_configured"),
    [
        ("NoSuchTagSet", True),
        ("NoSuchBucketPolicy", True),
        ("ServerSideEncryptionConfigurationNotFoundError", True),
        ("NoSuchPublicAccessBlockConfiguration", True),
        ("NoSuchBucket", False),
        ("AccessDenied", False),
    ],
)
def test_not_configured_is_read_from_the_chained_server_code(
    code: str, not_configured: bool
) -> None:
    translated = UsageError("translated")
    translated.__cause__ = _ClientError(code)
    assert server_code(translated) == code
    assert is_not_configured(translated) is not_configured
    assert server_code(UsageError("no cause")) == ""
