"""Access: bucket policies (and canned ones), bucket and object ACLs, public access block.

The pure half — parsing and checking policy documents, building the canned ones, parsing
grantees, comparing the grants asked for with those the server kept — runs before any
request, so a bad document fails locally with the line and column. The mixin only calls
S3. Nothing here ever weakens access on its own: every change is one the caller asked for.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from s3kit._acls import OBJECT_CANNED_ACLS as OBJECT_CANNED_ACLS
from s3kit._aio import async_twin
from s3kit._uri import validate_bucket_name, validate_key
from s3kit.errors import BucketNotEmpty, NotSupported, S3KitError, UsageError
from s3kit.service.base import ServiceBase
from s3kit.service.buckets import is_not_configured

POLICY_VERSIONS = ("2012-10-17", "2008-10-17")
MAX_POLICY_BYTES = 20 * 1024  # S3's limit for a bucket policy
CANNED_POLICIES = ("public-read", "deny-insecure-transport")
PUBLIC_ACCESS_BLOCK_FIELDS = (
    "BlockPublicAcls",
    "IgnorePublicAcls",
    "BlockPublicPolicy",
    "RestrictPublicBuckets",
)

Permission = Literal["READ", "WRITE", "READ_ACP", "WRITE_ACP", "FULL_CONTROL"]
PERMISSIONS: tuple[Permission, ...] = ("READ", "WRITE", "READ_ACP", "WRITE_ACP", "FULL_CONTROL")
# boto3 parameter carrying each permission's grantees (x-amz-grant-* headers).
_GRANT_PARAMETERS: dict[Permission, str] = {
    "READ": "GrantRead",
    "WRITE": "GrantWrite",
    "READ_ACP": "GrantReadACP",
    "WRITE_ACP": "GrantWriteACP",
    "FULL_CONTROL": "GrantFullControl",
}
GROUPS_URI = "http://acs.amazonaws.com/groups/"
GROUPS = {
    "allusers": GROUPS_URI + "global/AllUsers",
    "authenticatedusers": GROUPS_URI + "global/AuthenticatedUsers",
    "logdelivery": GROUPS_URI + "s3/LogDelivery",
}
_GRANTEE_KINDS = ("id", "uri", "emailaddress", "group")


class PolicyError(UsageError):
    """A policy document that S3 would refuse, found before sending it."""


# -- policies --------------------------------------------------------------------------------


def partition_for_region(region: str | None) -> str:
    """The ARN partition of a region: policies in China and GovCloud name other partitions."""
    if region and region.startswith("cn-"):
        return "aws-cn"
    if region and region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def canned_policy(name: str, bucket: str, *, partition: str = "aws") -> dict[str, Any]:
    """The standard policy document `name` for `bucket`:

    - public-read: anyone may GetObject on every object;
    - deny-insecure-transport: every request not made over TLS is denied (the AWS
      Foundational Security Best Practices control S3.5).
    """
    arn = f"arn:{partition}:s3:::{bucket}"
    if name == "public-read":
        statement: dict[str, Any] = {
            "Sid": "PublicReadGetObject",
            "Effect": "Allow",
            "Principal": "*",
            "Action": "s3:GetObject",
            "Resource": f"{arn}/*",
        }
    elif name == "deny-insecure-transport":
        statement = {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [arn, f"{arn}/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }
    else:
        raise UsageError(
            f"unknown canned policy '{name}' — choose one of {', '.join(CANNED_POLICIES)}"
        )
    return {"Version": "2012-10-17", "Statement": [statement]}


def combine_policies(documents: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """One document holding the statements of all `documents`, in order."""
    statements: list[Any] = []
    for document in documents:
        found = document.get("Statement", [])
        statements.extend(found if isinstance(found, list) else [found])
    return {"Version": "2012-10-17", "Statement": statements}


def parse_policy(text: str, *, source: str = "policy") -> dict[str, Any]:
    """Parse and check a JSON policy document; errors name `source`, line and column."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise PolicyError(
            f"{source} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}"
        ) from None
    return validate_policy(document, source=source)


def validate_policy(document: Any, *, source: str = "policy") -> dict[str, Any]:
    """Check the structure S3 requires of a bucket policy and return the document.

    Version (if given) is one IAM knows; Statement is a statement or a list of them; each
    has Effect Allow|Deny, Action or NotAction, Principal or NotPrincipal, Resource or
    NotResource. The full grammar is left to the server.
    """
    if not isinstance(document, dict):
        raise PolicyError(f"{source}: a policy is a JSON object with Version and Statement")
    version = document.get("Version")
    if version is not None and version not in POLICY_VERSIONS:
        raise PolicyError(
            f'{source}: Version must be "2012-10-17" (or the older "2008-10-17"),'
            f" not {json.dumps(version)}"
        )
    if "Statement" not in document:
        raise PolicyError(f"{source}: no Statement — add a list of statements")
    statements = document["Statement"]
    if isinstance(statements, dict):
        statements = [statements]
    if not isinstance(statements, list) or not statements:
        raise PolicyError(f"{source}: Statement must be a non-empty list of statements")
    for index, statement in enumerate(statements):
        _check_statement(statement, f"{source}: Statement[{index}]")
    size = len(json.dumps(document, separators=(",", ":")).encode())
    if size > MAX_POLICY_BYTES:
        raise PolicyError(f"{source}: {size} bytes; a bucket policy may have at most 20 KiB")
    return document


def _check_statement(statement: Any, where: str) -> None:
    if not isinstance(statement, dict):
        raise PolicyError(f"{where} must be an object")
    effect = statement.get("Effect")
    if effect not in ("Allow", "Deny"):
        shown = "missing" if effect is None else json.dumps(effect)
        raise PolicyError(f'{where}: Effect must be "Allow" or "Deny" (it is {shown})')
    for first, second in (
        ("Action", "NotAction"),
        ("Principal", "NotPrincipal"),
        ("Resource", "NotResource"),
    ):
        if first not in statement and second not in statement:
            raise PolicyError(f"{where} has no {first} (or {second})")
    for name in ("Action", "NotAction", "Resource", "NotResource"):
        value = statement.get(name)
        if value is None:
            continue
        values = value if isinstance(value, list) else [value]
        if not values or not all(isinstance(v, str) and v for v in values):
            raise PolicyError(f"{where}: {name} must be a string or a list of strings")


# -- ACL grants ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Grantee:
    """Who a grant is for, in the form S3 grant headers take: id, uri or emailAddress."""

    kind: Literal["id", "uri", "emailAddress"]
    value: str

    def header(self) -> str:
        return f'{self.kind}="{self.value}"'

    def matches(self, grantee: Mapping[str, Any]) -> bool:
        """Whether a Grantee element of a GetBucketAcl/GetObjectAcl answer is this one."""
        key = {"id": "ID", "uri": "URI", "emailAddress": "EmailAddress"}[self.kind]
        return grantee.get(key) == self.value


def parse_grantee(text: str) -> Grantee:
    """`id=CANONICAL_ID`, `uri=http://acs.amazonaws.com/groups/...`, `emailaddress=a@b` or
    the shorthand `group=AllUsers|AuthenticatedUsers|LogDelivery`."""
    kind, sep, value = text.partition("=")
    kind = kind.strip().lower()
    value = value.strip().strip('"')
    if not sep or kind not in _GRANTEE_KINDS or not value:
        raise UsageError(
            f"grantee '{text}' is not id=CANONICAL_ID, uri=GROUP_URI, emailaddress=ADDRESS or"
            " group=AllUsers|AuthenticatedUsers|LogDelivery"
        )
    if kind == "group":
        uri = GROUPS.get(value.lower())
        if uri is None:
            raise UsageError(
                f"unknown group '{value}' — choose AllUsers, AuthenticatedUsers or LogDelivery"
            )
        return Grantee("uri", uri)
    if kind == "uri" and not value.startswith(GROUPS_URI):
        raise UsageError(f"grantee uri '{value}' is not a group URI under {GROUPS_URI}")
    if kind == "emailaddress":
        return Grantee("emailAddress", value)
    return Grantee("id" if kind == "id" else "uri", value)


@dataclass(frozen=True, slots=True)
class AclRequest:
    """What `acl set` asks for: a canned ACL, or explicit grants — never both (S3 refuses)."""

    canned: str | None = None
    grants: dict[Permission, tuple[Grantee, ...]] = field(default_factory=dict)

    @classmethod
    def build(
        cls,
        *,
        canned: str | None,
        grants: Mapping[Permission, Sequence[str]],
        allowed_canned: Sequence[str],
    ) -> AclRequest:
        parsed = {p: tuple(parse_grantee(g) for g in grants[p]) for p in grants if grants[p]}
        if canned is not None and parsed:
            raise UsageError("give either a canned --acl or --grant-* options, not both")
        if canned is None and not parsed:
            raise UsageError("give a canned --acl or at least one --grant-* option")
        if canned is not None and canned not in allowed_canned:
            raise UsageError(f"unknown ACL '{canned}' — choose one of {', '.join(allowed_canned)}")
        return cls(canned, parsed)

    def parameters(self) -> dict[str, str]:
        """The boto3 PutBucketAcl/PutObjectAcl arguments for this request."""
        if self.canned is not None:
            return {"ACL": self.canned}
        return {
            _GRANT_PARAMETERS[p]: ", ".join(g.header() for g in grantees)
            for p, grantees in self.grants.items()
        }

    def expected(self) -> list[tuple[Permission, Grantee]]:
        """The grants (besides the owner's) the resulting ACL must hold."""
        if self.canned is None:
            return [(p, g) for p, grantees in self.grants.items() for g in grantees]
        every = Grantee("uri", GROUPS["allusers"])
        by_canned: dict[str, list[tuple[Permission, Grantee]]] = {
            "public-read": [("READ", every)],
            "public-read-write": [("READ", every), ("WRITE", every)],
            "authenticated-read": [("READ", Grantee("uri", GROUPS["authenticatedusers"]))],
        }
        return by_canned.get(self.canned, [])


def missing_grants(request: AclRequest, acl: Mapping[str, Any]) -> list[tuple[Permission, Grantee]]:
    """Grants asked for that the ACL read back does not hold: some stores accept a grant and
    silently drop it (SeaweedFS keeps only grantees it knows as identities)."""
    held = acl.get("Grants", [])
    return [
        (permission, grantee)
        for permission, grantee in request.expected()
        if not any(
            g.get("Permission") == permission and grantee.matches(g.get("Grantee", {}))
            for g in held
        )
    ]


@dataclass(frozen=True, slots=True)
class AclResult:
    """The ACL as read back after a change, and what of the request it lacks."""

    acl: dict[str, Any]
    missing: list[tuple[Permission, Grantee]]


def _acl_document(response: Mapping[str, Any]) -> dict[str, Any]:
    return {"Owner": response.get("Owner", {}), "Grants": response.get("Grants", [])}


# -- public access block --------------------------------------------------------------------


def merge_public_access_block(
    current: Mapping[str, bool] | None, changes: Mapping[str, bool | None]
) -> dict[str, bool]:
    """The configuration after applying `changes` (None keeps the current value, False when
    there is none) to `current`."""
    unknown = set(changes) - set(PUBLIC_ACCESS_BLOCK_FIELDS)
    if unknown:
        raise UsageError(f"unknown public access block setting(s): {', '.join(sorted(unknown))}")
    merged: dict[str, bool] = {}
    for name in PUBLIC_ACCESS_BLOCK_FIELDS:
        change = changes.get(name)
        merged[name] = bool((current or {}).get(name, False)) if change is None else change
    return merged


# -- the mixin -------------------------------------------------------------------------------


class AccessMixin(ServiceBase):
    # policy

    def get_bucket_policy(self, bucket: str) -> dict[str, Any] | None:
        """The bucket policy as a document, or None when the bucket has none."""
        validate_bucket_name(bucket)
        try:
            response = self.call("get_bucket_policy", bucket=bucket, Bucket=bucket)
        except S3KitError as exc:
            if is_not_configured(exc):
                return None
            raise
        policy: dict[str, Any] = json.loads(response["Policy"])
        return policy

    def set_bucket_policy(self, bucket: str, policy: Mapping[str, Any]) -> None:
        validate_bucket_name(bucket)
        document = validate_policy(dict(policy))
        self.call("put_bucket_policy", bucket=bucket, Bucket=bucket, Policy=json.dumps(document))

    def delete_bucket_policy(self, bucket: str) -> None:
        validate_bucket_name(bucket)
        self.call("delete_bucket_policy", bucket=bucket, Bucket=bucket)

    # ACLs

    def get_bucket_acl(self, bucket: str) -> dict[str, Any]:
        validate_bucket_name(bucket)
        return _acl_document(self.call("get_bucket_acl", bucket=bucket, Bucket=bucket))

    def set_bucket_acl(self, bucket: str, request: AclRequest) -> AclResult:
        """Replace the bucket's ACL, then read it back to report grants the store dropped."""
        validate_bucket_name(bucket)
        self.call("put_bucket_acl", bucket=bucket, Bucket=bucket, **request.parameters())
        acl = self.get_bucket_acl(bucket)
        return AclResult(acl, missing_grants(request, acl))

    def get_object_acl(
        self, bucket: str, key: str, *, version_id: str | None = None
    ) -> dict[str, Any]:
        validate_bucket_name(bucket)
        validate_key(key)
        extra = {"VersionId": version_id} if version_id else {}
        response = self.call(
            "get_object_acl", bucket=bucket, key=key, Bucket=bucket, Key=key, **extra
        )
        return _acl_document(response)

    def set_object_acl(
        self, bucket: str, key: str, request: AclRequest, *, version_id: str | None = None
    ) -> AclResult:
        validate_bucket_name(bucket)
        validate_key(key)
        extra = {"VersionId": version_id} if version_id else {}
        self.call(
            "put_object_acl",
            bucket=bucket,
            key=key,
            Bucket=bucket,
            Key=key,
            **extra,
            **request.parameters(),
        )
        acl = self.get_object_acl(bucket, key, version_id=version_id)
        return AclResult(acl, missing_grants(request, acl))

    # public access block

    def get_public_access_block(self, bucket: str) -> dict[str, bool] | None:
        """The bucket's public access block, or None when it has none. Raises NotSupported
        where the store does not implement it (SeaweedFS)."""
        validate_bucket_name(bucket)
        try:
            response = self.call("get_public_access_block", bucket=bucket, Bucket=bucket)
        except S3KitError as exc:
            if is_not_configured(exc):
                return None
            raise
        if not response.get("PublicAccessBlockConfiguration"):
            # S3 always sends its four settings; rclone serve s3 answers ?publicAccessBlock
            # with a listing of the bucket, which boto3 reads as an empty configuration.
            raise NotSupported(
                f"{self.session.endpoint_label} does not support public access blocks (its"
                " answer to GetPublicAccessBlock holds none)"
            )
        config: dict[str, bool] = response["PublicAccessBlockConfiguration"]
        return config

    def set_public_access_block(
        self, bucket: str, changes: Mapping[str, bool | None]
    ) -> dict[str, bool]:
        """Change the named settings (None keeps the current one); returns what was set."""
        config = merge_public_access_block(self.get_public_access_block(bucket), changes)
        self.call(
            "put_public_access_block",
            bucket=bucket,
            Bucket=bucket,
            PublicAccessBlockConfiguration=config,
        )
        return config

    def delete_public_access_block(self, bucket: str) -> None:
        """Remove the block, if there is one. Asked for first: a store that routes a DELETE
        with a sub-resource it does not know to DeleteBucket (rclone serve s3) would delete
        an empty bucket."""
        if self.get_public_access_block(bucket) is None:
            return
        try:
            self.call("delete_public_access_block", bucket=bucket, Bucket=bucket)
        except BucketNotEmpty as exc:
            raise NotSupported(
                f"{self.session.endpoint_label} does not support public access blocks (it"
                " answered as if asked to delete the bucket)"
            ) from exc

    # -- awaitable twins: the same calls on a worker thread (s3kit._aio.async_twin) ---------
    get_bucket_policy_async = async_twin(get_bucket_policy)
    set_bucket_policy_async = async_twin(set_bucket_policy)
    delete_bucket_policy_async = async_twin(delete_bucket_policy)
    get_bucket_acl_async = async_twin(get_bucket_acl)
    set_bucket_acl_async = async_twin(set_bucket_acl)
    get_object_acl_async = async_twin(get_object_acl)
    set_object_acl_async = async_twin(set_object_acl)
    get_public_access_block_async = async_twin(get_public_access_block)
    set_public_access_block_async = async_twin(set_public_access_block)
    delete_public_access_block_async = async_twin(delete_public_access_block)
