"""The config store's bucket: `init` hardens it, `check_posture` reads every setting back.

`init_store` creates the bucket (or takes an existing one), applies `secure_bucket`'s defaults
(default encryption — SSE-S3, or SSE-KMS with a key —, versioning, public access block, a
lifecycle that aborts unfinished uploads, tags) plus what a store of configurations needs: a
lifecycle rule expiring noncurrent versions under the store's prefix, a bucket policy denying
plain-HTTP requests and denying writes to a protected environment's pointers to anyone but its
releasers, MFA delete or Object Lock when asked. It writes `store.json` (the environments) and
`posture.json` (what init asked for, read by `check_posture`), then reads everything back.

`check_posture` reports each setting as one `Check`: ok, drift (read back, and not what was
asked), not supported (the store refused or has no such API; also the TLS-only policy, never set
over a plain-HTTP endpoint, which it would lock out), accepted but ignored (the store answered
200 and does not keep or enforce the setting: SeaweedFS's MFA delete, moto's public access
block), or error (could not be read). It never reports a setting as ok without having read it
back from the store, and never weakens anything: a bucket policy or lifecycle configuration of
the user's own keeps its other statements and rules.

The builders and deciders (`protect_statement`, `merge_policy`, `merge_lifecycle`, the
`check_*` functions) are pure; the I/O is `init_store`, `read_store`, `check_posture`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from s3kit._uri import S3Url, validate_bucket_name
from s3kit.configs.layout import STORE_FILE, StoreSettings, check_env
from s3kit.errors import NotSupported, ObjectNotFound, PermissionDenied, S3KitError, UsageError
from s3kit.errors import server_code as _server_code

if TYPE_CHECKING:
    from s3kit._session import Session
    from s3kit.service import S3Service
    from s3kit.service.buckets import SecureStep

CheckStatus = Literal["ok", "drift", "not supported", "accepted but ignored", "error"]

STORE_KEY = STORE_FILE
POSTURE_KEY = "posture.json"
PROBE_KEY = ".s3kit-posture-probe"
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


# -- the checks (pure) ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Check:
    """One setting of the store's bucket, as read back."""

    name: str
    status: CheckStatus
    detail: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    def document(self) -> dict[str, str]:
        return {"name": self.name, "status": self.status, "detail": self.detail}


@dataclass(frozen=True, slots=True)
class Posture:
    store: str
    checks: tuple[Check, ...]

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)

    def check(self, name: str) -> Check:
        return next(c for c in self.checks if c.name == name)

    def document(self) -> dict[str, Any]:
        return {
            "store": self.store,
            "ok": self.ok,
            "checks": [check.document() for check in self.checks],
        }


@dataclass(frozen=True, slots=True)
class Read:
    """A setting as the store answered: `value` (None: not configured), or why not."""

    value: Any = None
    unsupported: str | None = None
    error: str | None = None


def _unread(name: str, read: Read) -> Check | None:
    if read.unsupported is not None:
        return Check(name, "not supported", read.unsupported)
    if read.error is not None:
        return Check(name, "error", read.error)
    return None


def check_encryption(settings: PostureSettings, read: Read) -> Check:
    name = "default encryption"
    failed = _unread(name, read)
    if failed:
        return failed
    want = "aws:kms" if settings.kms_key else "AES256"
    rules = read.value or []
    default = rules[0].get("ApplyServerSideEncryptionByDefault", {}) if rules else {}
    algorithm, key = default.get("SSEAlgorithm"), default.get("KMSMasterKeyID")
    if algorithm is None:
        return Check(name, "drift", f"none set (wanted {want})")
    if algorithm != want:
        return Check(name, "drift", f"{algorithm} (wanted {want})")
    if settings.kms_key and key != settings.kms_key:
        return Check(name, "drift", f"aws:kms with key {key or 'the AWS managed key'}"
                     f" (wanted {settings.kms_key})")  # fmt: skip
    return Check(name, "ok", f"aws:kms, key {key}" if settings.kms_key else "AES256 (SSE-S3)")


def check_versioning(read: Read) -> Check:
    name = "versioning"
    failed = _unread(name, read)
    if failed:
        return failed
    status = (read.value or {}).get("Status")
    if status == "Enabled":
        return Check(name, "ok", "Enabled")
    return Check(name, "drift", f"{status or 'never enabled'} (wanted Enabled)")


def check_mfa_delete(read: Read, *, accepted: bool) -> Check:
    """`accepted`: init's PutBucketVersioning with MFADelete was answered 2xx."""
    name = "MFA delete"
    failed = _unread(name, read)
    if failed:
        return failed
    if (read.value or {}).get("MFADelete") == "Enabled":
        return Check(name, "ok", "Enabled")
    if accepted:
        return Check(
            name,
            "accepted but ignored",
            "the store answered 200 when init enabled it and does not keep it (versioning"
            " reads back without MFADelete)",
        )
    return Check(name, "drift", "not enabled (wanted Enabled)")


def check_object_lock(read: Read) -> Check:
    name = "object lock"
    failed = _unread(name, read)
    if failed:
        return failed
    if (read.value or {}).get("ObjectLockEnabled") == "Enabled":
        return Check(name, "ok", "Enabled")
    return Check(name, "drift", "not enabled — possible only when a bucket is created")


ProbeOutcome = Literal["refused", "accepted", "not probed"]


def check_public_access_block(read: Read, probe: ProbeOutcome, probe_detail: str = "") -> Check:
    """Read back all four settings on; `probe`: what a public-read ACL on a scratch object got
    (a store that keeps the block but does not enforce it accepts it)."""
    from s3kit.service.access import PUBLIC_ACCESS_BLOCK_FIELDS

    name = "public access block"
    failed = _unread(name, read)
    if failed:
        return failed
    config = read.value or {}
    off = [f for f in PUBLIC_ACCESS_BLOCK_FIELDS if config.get(f) is not True]
    if off:
        return Check(name, "drift", f"{', '.join(off)} not on" if config else "none set")
    if probe == "accepted":
        return Check(
            name,
            "accepted but ignored",
            "the four settings read back on, but a public-read ACL was still accepted: the"
            " store does not enforce them",
        )
    if probe == "refused":
        return Check(name, "ok", "all four on; a public-read ACL is refused")
    return Check(name, "ok", f"all four on (enforcement not probed{probe_detail})")


def _as_list(value: Any) -> list[Any]:
    return sorted(value, key=json.dumps) if isinstance(value, list) else [value]


_LISTS = frozenset({"Action", "NotAction", "Resource", "NotResource"})


def normalized(statement: Mapping[str, Any], *, condition: bool = False) -> dict[str, Any]:
    """A statement (or rule) compared as IAM reads it: one value or a list of one are the same,
    and order within a list does not matter (a store may rewrite either)."""
    out: dict[str, Any] = {}
    for key, value in statement.items():
        inside = condition or key == "Condition"
        if isinstance(value, dict):
            out[key] = normalized(value, condition=inside)
        elif isinstance(value, list) or key in _LISTS or condition:
            out[key] = _as_list(value)
        else:
            out[key] = value
    return out


def check_statement(name: str, wanted: Mapping[str, Any], read: Read) -> Check:
    failed = _unread(name, read)
    if failed:
        return failed
    statements = (read.value or {}).get("Statement", [])
    statements = statements if isinstance(statements, list) else [statements]
    found = next((s for s in statements if s.get("Sid") == wanted["Sid"]), None)
    if found is None:
        return Check(name, "drift", f"the bucket policy has no {wanted['Sid']} statement")
    if normalized(found) != normalized(wanted):
        return Check(name, "drift", f"statement {wanted['Sid']} differs from what init set")
    return Check(name, "ok", f"statement {wanted['Sid']}")


def check_rule(name: str, wanted: Mapping[str, Any], read: Read) -> Check:
    failed = _unread(name, read)
    if failed:
        return failed
    found = next((r for r in read.value or [] if r.get("ID") == wanted["ID"]), None)
    if found is None:
        return Check(name, "drift", f"no lifecycle rule {wanted['ID']}")
    if normalized(found) != normalized(wanted):
        return Check(name, "drift", f"rule {wanted['ID']} differs from what init set")
    return Check(name, "ok", _rule_text(wanted))


def _rule_text(rule: Mapping[str, Any]) -> str:
    if "NoncurrentVersionExpiration" in rule:
        days = rule["NoncurrentVersionExpiration"]["NoncurrentDays"]
        where = rule.get("Filter", {}).get("Prefix") or "the whole bucket"
        return f"noncurrent versions expire after {days} days ({where})"
    days = rule["AbortIncompleteMultipartUpload"]["DaysAfterInitiation"]
    return f"unfinished multipart uploads aborted after {days} days"


def check_tags(wanted: Mapping[str, str], read: Read) -> Check:
    name = "tags"
    failed = _unread(name, read)
    if failed:
        return failed
    found = read.value or {}
    wrong = [k for k, v in wanted.items() if found.get(k) != v]
    if wrong:
        return Check(name, "drift", f"{', '.join(wrong)} not as asked")
    return Check(name, "ok", ", ".join(f"{k}={v}" for k, v in wanted.items()))


def tls_skipped(endpoint: str) -> Check:
    return Check(
        "TLS-only policy",
        "not supported",
        f"the endpoint {endpoint} is plain HTTP: a policy denying requests without TLS would"
        " deny every later request from here, even removing it (SeaweedFS enforces it) — not"
        " set; use an https endpoint",
    )


def decide(
    settings: PostureSettings,
    reads: Mapping[str, Read],
    *,
    bucket: str,
    prefix: str,
    partition: str,
    endpoint: str | None,
    accepted: Iterable[str] = (),
    probe: ProbeOutcome = "not probed",
    probe_detail: str = "",
) -> list[Check]:
    """Every check, from what was read (`reads`, by setting) — the pure half of posture."""
    accepted = set(accepted)
    checks = [
        check_encryption(settings, reads["encryption"]),
        check_versioning(reads["versioning"]),
    ]
    if settings.mfa_delete:
        checks.append(check_mfa_delete(reads["versioning"], accepted="MFA delete" in accepted))
    if settings.object_lock:
        checks.append(check_object_lock(reads["object_lock"]))
    checks.append(check_public_access_block(reads["public_access_block"], probe, probe_detail))
    tls_only = not plain_http(endpoint)
    statements = wanted_statements(settings, bucket, prefix, partition=partition, tls_only=tls_only)
    if not tls_only:
        checks.append(tls_skipped(str(endpoint)))
    for statement in statements:
        sid = statement["Sid"]
        env = next((e for e in settings.protected if protect_sid(e) == sid), None)
        name = "TLS-only policy" if env is None else f"protect {env}"
        checks.append(check_statement(name, statement, reads["policy"]))
    for rule in wanted_rules(settings, prefix):
        name = (
            "lifecycle: noncurrent versions"
            if "NoncurrentVersionExpiration" in rule
            else "lifecycle: incomplete uploads"
        )
        checks.append(check_rule(name, rule, reads["lifecycle"]))
    if settings.tags:
        checks.append(check_tags(settings.tags, reads["tags"]))
    return checks


# -- reading and writing the store ------------------------------------------------------------


def _read(action: Any) -> Read:
    try:
        return Read(action())
    except NotSupported as exc:
        return Read(unsupported=exc.message)
    except S3KitError as exc:
        return Read(error=exc.message)


def read_settings(service: S3Service, bucket: str) -> dict[str, Read]:
    """Each setting posture checks, read on its own (one failing leaves the others)."""
    return {
        "encryption": _read(lambda: _rules(service.get_encryption(bucket))),
        "versioning": _read(lambda: service.get_versioning(bucket)),
        "object_lock": _read(lambda: service.get_object_lock(bucket)),
        "public_access_block": _read(lambda: service.get_public_access_block(bucket)),
        "policy": _read(lambda: service.get_bucket_policy(bucket)),
        "lifecycle": _read(lambda: _rules(service.get_lifecycle(bucket))),
        "tags": _read(lambda: service.get_bucket_tags(bucket)),
    }


def _rules(document: Mapping[str, Any] | None) -> Any:
    return (document or {}).get("Rules")


def _get_json(session: Session, bucket: str, key: str) -> dict[str, Any] | None:
    try:
        body = session.storage(bucket).get(key)
    except ObjectNotFound:
        return None
    try:
        document = json.loads(body)
    except ValueError:
        document = None
    if not isinstance(document, dict):
        raise S3KitError(f"s3://{bucket}/{key} is not a JSON object — it was not written by s3kit")
    return document


def _put_json(session: Session, bucket: str, key: str, document: Mapping[str, Any]) -> None:
    body = (json.dumps(document, indent=2, sort_keys=True) + "\n").encode()
    session.storage(bucket).put(key, body, content_type="application/json")


@dataclass(frozen=True, slots=True)
class StoreRecord:
    """What the store's root says about it: store.json, and posture.json if init wrote it."""

    store: dict[str, Any] | None
    settings: PostureSettings | None
    accepted: tuple[str, ...] = ()


def read_store(session: Session, url: S3Url) -> StoreRecord:
    prefix = store_prefix(url)
    store = _get_json(session, url.bucket, prefix + STORE_KEY)
    posture = _get_json(session, url.bucket, prefix + POSTURE_KEY)
    if posture is None:
        return StoreRecord(store, None)
    settings = PostureSettings.from_document(posture.get("settings") or {})
    return StoreRecord(store, settings, tuple(posture.get("accepted") or ()))


def _probe_public_acl(
    session: Session, service: S3Service, bucket: str, prefix: str
) -> tuple[ProbeOutcome, str]:
    """Write an empty scratch object, ask for a public-read ACL on it, delete it (the version
    written, so a versioned bucket keeps nothing)."""
    key = prefix + PROBE_KEY
    try:
        written = session.storage(bucket).put(key, b"")
    except S3KitError as exc:
        return "not probed", f": cannot write the probe object ({exc.message})"
    try:
        service.call(
            "put_object_acl", bucket=bucket, key=key, Bucket=bucket, Key=key, ACL="public-read"
        )
    except PermissionDenied:
        return "refused", ""
    except S3KitError as exc:
        if _server_code(exc) == "AccessControlListNotSupported":
            return "refused", ""  # ACLs are disabled (bucket owner enforced): none can be public
        return "not probed", f": the ACL request failed ({exc.message})"
    else:
        return "accepted", ""
    finally:
        extra = {"VersionId": written.version_id} if written.version_id else {}
        # A leftover empty probe object is harmless; the next probe overwrites it.
        with contextlib.suppress(S3KitError):
            service.call("delete_object", bucket=bucket, key=key, Bucket=bucket, Key=key, **extra)


def check_posture(
    session: Session,
    url: S3Url,
    *,
    settings: PostureSettings | None = None,
    accepted: Iterable[str] | None = None,
    probe: bool = True,
) -> Posture:
    """Read every setting of the store at `url` back and compare it with what init asked for
    (`settings`, else the store's posture.json, else the defaults for store.json's
    environments). `probe`: test the public access block with a scratch object."""
    from s3kit.service import S3Service
    from s3kit.service.access import partition_for_region

    validate_bucket_name(url.bucket)
    service = S3Service(session)
    prefix = store_prefix(url)
    checks: list[Check] = []
    record = read_store(session, url)
    if record.store is None:
        checks.append(Check("store.json", "drift", f"no {prefix}{STORE_KEY}: run `configs init`"))
    else:
        checks.append(Check("store.json", "ok", f"environments {', '.join(_envs(record.store))}"))
    if settings is None:
        settings = record.settings
        if accepted is None:
            accepted = record.accepted
        if settings is None:
            settings = _defaults(record.store)
            checks.append(Check("posture.json", "drift", "none: checked against init's defaults"))
        elif record.store is not None:
            # store.json names the environments now (the store may have added some since).
            settings = dataclasses.replace(
                settings,
                envs=tuple(_envs(record.store)) or settings.envs,
                protected=tuple(_protected(record.store)),
            )
    reads = read_settings(service, url.bucket)
    outcome: ProbeOutcome = "not probed"
    detail = ""
    pab = reads["public_access_block"]
    if probe and pab.unsupported is None and pab.error is None and pab.value:
        outcome, detail = _probe_public_acl(session, service, url.bucket, prefix)
    checks.extend(
        decide(
            settings,
            reads,
            bucket=url.bucket,
            prefix=prefix,
            partition=partition_for_region(session.settings.region),
            endpoint=session.endpoint_url,
            accepted=accepted or (),
            probe=outcome,
            probe_detail=detail,
        )
    )
    return Posture(str(S3Url(url.bucket, prefix)), tuple(checks))


def _envs(store: Mapping[str, Any]) -> list[str]:
    return list(StoreSettings.from_document(store, STORE_KEY).envs)


def _protected(store: Mapping[str, Any]) -> list[str]:
    return sorted(StoreSettings.from_document(store, STORE_KEY).protected)


def _defaults(store: Mapping[str, Any] | None) -> PostureSettings:
    envs = _envs(store or {}) or ["default"]
    protected = _protected(store or {})
    return PostureSettings(envs=tuple(envs), protected=tuple(p for p in protected if p in envs))


# -- init ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class InitReport:
    """What `init_store` did (`steps`, in order) and the posture read back afterwards."""

    created: bool
    steps: tuple[SecureStep, ...]
    posture: Posture

    def document(self) -> dict[str, Any]:
        return {
            "created": self.created,
            "steps": [{"name": s.name, "state": s.state, "detail": s.detail} for s in self.steps],
            **self.posture.document(),
        }


def init_store(
    session: Session,
    url: S3Url,
    settings: PostureSettings,
    *,
    mfa: str | None = None,
    probe: bool = True,
) -> InitReport:
    """Create or harden the bucket of the store at `url`, write store.json and posture.json,
    and read every setting back. `mfa` ("SERIAL CODE", root credentials) enables MFA delete
    when `settings.mfa_delete`. Refuses, before changing anything, what AWS would refuse
    halfway (Object Lock on an existing bucket without it, MFA delete beside a lifecycle) and
    what would weaken the store (dropping an environment or a protection)."""
    from s3kit.service import S3Service
    from s3kit.service.access import partition_for_region
    from s3kit.service.buckets import SecureStep
    from s3kit.service.configs import validate_mfa

    bucket = validate_bucket_name(url.bucket)
    if settings.mfa_delete:
        if mfa is None:
            raise UsageError("MFA delete needs the root account's MFA device: --mfa-delete"
                             " 'SERIAL CODE'")  # fmt: skip
        mfa = validate_mfa(mfa)
    service = S3Service(session)
    prefix = store_prefix(url)
    found = _existing(session, service, bucket, prefix, settings)
    if found is None:
        service.create_bucket(bucket, object_lock=settings.object_lock)
        found = _Existing()
    steps = [SecureStep("bucket", "applied", "created" if found.created else "exists")]
    rules = merge_lifecycle(found.rules, wanted_rules(settings, prefix))
    steps += service.secure_bucket(
        bucket,
        tags={**found.tags, **settings.tags} if settings.tags else None,
        encryption=encryption_document(settings),
        lifecycle_rules=rules if settings.lifecycle else [],
    )
    endpoint = session.endpoint_url
    ours = wanted_statements(
        settings, bucket, prefix, partition=partition_for_region(session.settings.region),
        tls_only=not plain_http(endpoint),
    )  # fmt: skip
    if plain_http(endpoint):
        steps.append(SecureStep("TLS-only policy", "skipped", tls_skipped(str(endpoint)).detail))
    policy = merge_policy(found.policy, ours)
    if ours and policy is not None:
        steps.append(_step(f"bucket policy ({len(ours)} statement(s) of the store)",
                           lambda: service.set_bucket_policy(bucket, policy)))  # fmt: skip
    if settings.mfa_delete:
        steps.append(_step("MFA delete", lambda: service.set_versioning(
            bucket, "Enabled", mfa=mfa, mfa_delete=True)))  # fmt: skip
    store = {**found.store, "envs": list(settings.envs), "protected": list(settings.protected)}
    accepted = [s.name for s in steps if s.state == "applied"] + [STORE_KEY]
    try:
        _put_json(session, bucket, prefix + STORE_KEY, store)
        _put_json(session, bucket, prefix + POSTURE_KEY,
                  {"settings": settings.document(), "accepted": accepted})  # fmt: skip
    except S3KitError as exc:
        raise S3KitError(
            f"the bucket's settings are applied, but writing {prefix}{STORE_KEY} failed:"
            f" {exc.message} — run init again once that is fixed"
        ).context_of(exc) from exc
    steps.append(SecureStep(STORE_KEY, "applied", ", ".join(settings.envs)))
    posture = check_posture(session, url, settings=settings, accepted=accepted, probe=probe)
    return InitReport(found.created, tuple(steps), posture)


@dataclass(frozen=True, slots=True)
class _Existing:
    """What an existing bucket holds that init keeps (none for a bucket init creates)."""

    created: bool = True
    store: dict[str, Any] = field(default_factory=dict)
    rules: list[dict[str, Any]] = field(default_factory=list)
    policy: dict[str, Any] | None = None
    tags: dict[str, str] = field(default_factory=dict)


def _existing(
    session: Session, service: S3Service, bucket: str, prefix: str, settings: PostureSettings
) -> _Existing | None:
    """The bucket's own store.json, lifecycle rules, policy and tags; None if there is no
    bucket. Raises UsageError for what init must refuse before changing anything."""
    if not service.bucket_exists(bucket):
        return None
    store = _get_json(session, bucket, prefix + STORE_KEY) or {}
    where = f"s3://{bucket}/{prefix}{STORE_KEY}"
    dropped = [e for e in _envs(store) if e not in settings.envs]
    if dropped:
        raise UsageError(
            f"{where} has environment(s) {', '.join(dropped)}, which --envs leaves out — list"
            " them too (init never removes an environment)"
        )
    unprotected = [e for e in _protected(store) if e not in settings.protected]
    if unprotected:
        raise UsageError(
            f"{where} protects {', '.join(unprotected)}, which --protect leaves out — list"
            " them too (init never removes a protection)"
        )
    _refuse_before_changes(service, bucket, settings)
    rules = _or_empty(lambda: _rules(service.get_lifecycle(bucket)))
    if settings.mfa_delete and rules:
        raise UsageError(f"s3://{bucket} has lifecycle rules. {MFA_WITH_LIFECYCLE}")
    return _Existing(
        created=False,
        store=store,
        rules=rules,
        policy=_or_none(lambda: service.get_bucket_policy(bucket)),
        tags=_or_empty_dict(lambda: service.get_bucket_tags(bucket)),
    )


def _refuse_before_changes(service: S3Service, bucket: str, settings: PostureSettings) -> None:
    if settings.object_lock:
        lock = _or_none(lambda: service.get_object_lock(bucket))
        if not lock or lock.get("ObjectLockEnabled") != "Enabled":
            raise UsageError(
                f"s3://{bucket} exists without Object Lock, which can only be turned on when a"
                " bucket is created — init a new bucket with --object-lock"
            )
    if settings.lifecycle:
        versioning = _or_none(lambda: service.get_versioning(bucket)) or {}
        if versioning.get("MFADelete") == "Enabled":
            raise UsageError(f"s3://{bucket} has MFA delete on. {MFA_WITH_LIFECYCLE}")


def _step(name: str, action: Callable[[], object]) -> SecureStep:
    from s3kit.service.buckets import SecureStep

    try:
        action()
    except NotSupported as exc:
        return SecureStep(name, "skipped", exc.message)
    except S3KitError as exc:
        return SecureStep(name, "failed", exc.message)
    return SecureStep(name, "applied")


def _or_none(action: Callable[[], Any]) -> Any:
    try:
        return action()
    except NotSupported:
        return None


def _or_empty(action: Callable[[], Any]) -> list[dict[str, Any]]:
    return list(_or_none(action) or [])


def _or_empty_dict(action: Callable[[], Any]) -> dict[str, str]:
    return dict(_or_none(action) or {})


__all__ = [
    "MFA_WITH_LIFECYCLE",
    "Check",
    "CheckStatus",
    "InitReport",
    "Posture",
    "PostureSettings",
    "Read",
    "StoreRecord",
    "check_posture",
    "decide",
    "init_store",
    "merge_lifecycle",
    "merge_policy",
    "normalized",
    "protect_condition",
    "protect_statement",
    "read_settings",
    "read_store",
    "store_prefix",
    "wanted_rules",
    "wanted_statements",
]
