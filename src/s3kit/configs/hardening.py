"""What `configs init` asks of the store's bucket, and the documents that ask for it (pure).

`PostureSettings` is what init was asked (the environments, which are protected and by whom,
encryption, Object Lock or MFA delete, the lifecycle); it checks itself, so the library refuses
what the CLI refuses, and it is what `posture.json` records for `check_posture` to compare
against. The builders (`protect_statement`, `wanted_statements`, `wanted_rules`,
`encryption_document`) say what the bucket policy, lifecycle and default encryption should
hold; the mergers (`merge_policy`, `merge_lifecycle`) put the store's statements and rules
beside the user's own, never dropping one of theirs. Nothing here calls a server: `init.py`
applies these documents and `posture.py` reads them back.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from s3kit._uri import S3Url
from s3kit.configs.layout import check_env
from s3kit.errors import S3KitError, UsageError

POSTURE_KEY = "posture.json"  # what init asked for: PostureSettings.document()
NONCURRENT_DAYS = 90
NONCURRENT_RULE_ID = "s3kit-configs-expire-noncurrent-versions"
TLS_SID = "DenyInsecureTransport"  # the Sid of access.canned_policy("deny-insecure-transport")
PROTECT_SID = "S3kitConfigsProtect"
RELEASE_TAG = "s3kit-release-{env}"  # a principal tagged s3kit-release-prod=true releases prod

MFA_WITH_LIFECYCLE = (
    "MFA delete cannot be combined with the store's lifecycle rules: AWS refuses a lifecycle"
    " configuration on a bucket with MFA delete (noncurrent versions would never expire and"
    " unfinished uploads never be cleaned up). To keep a protected environment's history from"
    " being deleted, create the bucket with --object-lock instead (possible only when the"
    " bucket is created), or pass --no-lifecycle to keep every version forever"
)


# -- what init asks for ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class PostureSettings:
    """What `configs init` asks of the store's bucket; checks itself like the CLI would."""

    envs: tuple[str, ...]
    protected: tuple[str, ...] = ()
    releasers: tuple[str, ...] = ()  # IAM ARNs (aws:PrincipalArn) or user names (aws:username)
    kms_key: str | None = None
    tags: Mapping[str, str] = field(default_factory=dict)
    object_lock: bool = False
    mfa_delete: bool = False
    lifecycle: bool = True
    noncurrent_days: int = NONCURRENT_DAYS

    def __post_init__(self) -> None:
        if not self.envs:
            raise UsageError("a config store needs at least one environment (--envs dev,prod)")
        for env in self.envs:
            check_env(env)
        if len(set(self.envs)) != len(self.envs):
            raise UsageError("an environment is named twice in --envs")
        unknown = [env for env in self.protected if env not in self.envs]
        if unknown:
            raise UsageError(
                f"--protect names {', '.join(unknown)}, which --envs does not list"
                f" ({', '.join(self.envs)})"
            )
        sids = [protect_sid(env) for env in self.protected]
        if len(set(sids)) != len(sids):
            raise UsageError(
                "two protected environments differ only in punctuation; their policy"
                " statements would share a name — rename one"
            )
        if self.releasers and not self.protected:
            raise UsageError("--releaser names who may write protected environments: add --protect")
        if self.mfa_delete and self.lifecycle:
            raise UsageError(MFA_WITH_LIFECYCLE)
        if isinstance(self.noncurrent_days, bool) or self.noncurrent_days < 1:
            raise UsageError("noncurrent versions must be kept at least 1 day")
        if self.kms_key is not None and not self.kms_key.strip():
            raise UsageError("--kms-key is empty — give the key's ARN, id or alias")

    def document(self) -> dict[str, Any]:
        return {
            "envs": list(self.envs),
            "protected": list(self.protected),
            "releasers": list(self.releasers),
            "kms_key": self.kms_key,
            "tags": dict(self.tags),
            "object_lock": self.object_lock,
            "mfa_delete": self.mfa_delete,
            "lifecycle": self.lifecycle,
            "noncurrent_days": self.noncurrent_days,
        }

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> PostureSettings:
        try:
            return cls(
                envs=tuple(document["envs"]),
                protected=tuple(document.get("protected") or ()),
                releasers=tuple(document.get("releasers") or ()),
                kms_key=document.get("kms_key"),
                tags=dict(document.get("tags") or {}),
                object_lock=bool(document.get("object_lock")),
                mfa_delete=bool(document.get("mfa_delete")),
                lifecycle=bool(document.get("lifecycle", True)),
                noncurrent_days=int(document.get("noncurrent_days", NONCURRENT_DAYS)),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise S3KitError(f"the store's {POSTURE_KEY} is not one `configs init` wrote") from exc


def store_prefix(url: S3Url) -> str:
    """The key prefix of the store at `url`: '' at the bucket's root, else 'a/b/'."""
    key = url.key.strip("/")
    return f"{key}/" if key else ""


def plain_http(endpoint: str | None) -> bool:
    return bool(endpoint) and str(endpoint).lower().startswith("http://")


# -- the documents (pure) ----------------------------------------------------------------------


def protect_sid(env: str) -> str:
    """A policy Sid may hold only letters and digits: 'eu-prod' -> S3kitConfigsProtectEuProd."""
    return PROTECT_SID + "".join(p[:1].upper() + p[1:] for p in re.split(r"[^A-Za-z0-9]", env))


def protect_condition(env: str, releasers: Sequence[str]) -> dict[str, Any]:
    """Who may still write a protected environment's pointers. ARNs are matched on
    aws:PrincipalArn (wildcards allowed: an assumed role's sessions), other names on
    aws:username (an IAM user; a SeaweedFS identity's name); both kinds in one Deny are ANDed,
    so being either one is enough. With no releasers: principals tagged s3kit-release-ENV=true
    (AWS sets aws:PrincipalTag for IAM users and roles; a principal without the tag is denied)."""
    arns = [r for r in releasers if r.startswith("arn:")]
    names = [r for r in releasers if not r.startswith("arn:")]
    if not releasers:
        return {"StringNotEquals": {f"aws:PrincipalTag/{RELEASE_TAG.format(env=env)}": "true"}}
    condition: dict[str, Any] = {}
    if arns:
        condition["ArnNotLike"] = {"aws:PrincipalArn": arns}
    if names:
        condition["StringNotEquals"] = {"aws:username": names}
    return condition


def protect_statement(
    env: str, bucket: str, prefix: str, releasers: Sequence[str], *, partition: str = "aws"
) -> dict[str, Any]:
    """Deny writing or deleting anything under envs/ENV/ (the pointers `promote` moves)."""
    return {
        "Sid": protect_sid(env),
        "Effect": "Deny",
        "Principal": "*",
        "Action": ["s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion"],
        "Resource": f"arn:{partition}:s3:::{bucket}/{prefix}envs/{env}/*",
        "Condition": protect_condition(env, releasers),
    }


def wanted_statements(
    settings: PostureSettings, bucket: str, prefix: str, *, partition: str, tls_only: bool
) -> list[dict[str, Any]]:
    from s3kit.service.access import canned_policy

    statements: list[dict[str, Any]] = []
    if tls_only:
        tls = canned_policy("deny-insecure-transport", bucket, partition=partition)
        statements.extend(tls["Statement"])
    for env in settings.protected:
        statements.append(
            protect_statement(env, bucket, prefix, settings.releasers, partition=partition)
        )
    return statements


def _ours(statement: Any) -> bool:
    sid = statement.get("Sid") if isinstance(statement, dict) else None
    return isinstance(sid, str) and (sid == TLS_SID or sid.startswith(PROTECT_SID))


def merge_policy(
    existing: Mapping[str, Any] | None, ours: Sequence[Mapping[str, Any]]
) -> dict[str, Any] | None:
    """The bucket policy with the user's own statements kept and ours (by Sid) replaced; None
    when there is nothing to set."""
    found = (existing or {}).get("Statement", [])
    kept = [s for s in (found if isinstance(found, list) else [found]) if not _ours(s)]
    statements = [*kept, *(dict(s) for s in ours)]
    if not statements:
        return None
    return {"Version": "2012-10-17", "Statement": statements}


def wanted_rules(settings: PostureSettings, prefix: str) -> list[dict[str, Any]]:
    """The abort rule `secure_bucket` sets (whole bucket) and the noncurrent-version expiry,
    limited to the store's prefix: a bucket shared with other data keeps their versions."""
    from s3kit.service.buckets import secure_lifecycle_rule
    from s3kit.service.configs import build_lifecycle_rule

    if not settings.lifecycle:
        return []
    return [
        secure_lifecycle_rule(),
        build_lifecycle_rule(
            rule_id=NONCURRENT_RULE_ID,
            prefix=prefix,
            noncurrent_expiration_days=settings.noncurrent_days,
        ),
    ]


def merge_lifecycle(
    existing: Sequence[Mapping[str, Any]] | None, ours: Sequence[Mapping[str, Any]]
) -> list[dict[str, Any]]:
    """The user's own rules, then ours (a rule with one of our IDs is replaced)."""
    ids = {rule.get("ID") for rule in ours}
    kept = [dict(rule) for rule in existing or () if rule.get("ID") not in ids]
    return [*kept, *(dict(rule) for rule in ours)]


def encryption_document(settings: PostureSettings) -> dict[str, Any]:
    from s3kit.service.configs import build_encryption

    if settings.kms_key:
        return build_encryption(algorithm="aws:kms", kms_key_id=settings.kms_key, bucket_key=True)
    return build_encryption(algorithm="AES256")


__all__ = [
    "MFA_WITH_LIFECYCLE",
    "NONCURRENT_DAYS",
    "NONCURRENT_RULE_ID",
    "POSTURE_KEY",
    "PostureSettings",
    "encryption_document",
    "merge_lifecycle",
    "merge_policy",
    "plain_http",
    "protect_condition",
    "protect_sid",
    "protect_statement",
    "store_prefix",
    "wanted_rules",
    "wanted_statements",
]
