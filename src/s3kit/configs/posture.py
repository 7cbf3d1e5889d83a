"""The config store's bucket read back: `check_posture` reports every setting init set.

Each setting is one `Check`: ok, drift (read back, and not what was asked), not supported (the
store refused or has no such API; also the TLS-only policy, never set over a plain-HTTP
endpoint, which it would lock out), accepted but ignored (the store answered 200 and does not
keep or enforce the setting: SeaweedFS's MFA delete, moto's public access block), or error
(could not be read). It never reports a setting as ok without having read it back from the
store. What is compared against is what init asked (`posture.json`, written by `init.py`), else
the defaults for store.json's environments.

The deciders (`decide` and the `check_*` functions) are pure, over what was read (`Read`); the
I/O is `read_settings`, `read_store`, the public-ACL probe and `check_posture`. It never changes
a setting: the probe writes one empty scratch object and deletes the version it wrote.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from s3kit._uri import S3Url, validate_bucket_name
from s3kit.configs.hardening import (
    POSTURE_KEY,
    PostureSettings,
    plain_http,
    protect_sid,
    store_prefix,
    wanted_rules,
    wanted_statements,
)
from s3kit.configs.layout import STORE_FILE, StoreSettings
from s3kit.errors import NotSupported, ObjectNotFound, PermissionDenied, S3KitError
from s3kit.errors import server_code as _server_code

if TYPE_CHECKING:
    from s3kit._session import Session
    from s3kit.service import S3Service

CheckStatus = Literal["ok", "drift", "not supported", "accepted but ignored", "error"]

STORE_KEY = STORE_FILE
PROBE_KEY = ".s3kit-posture-probe"


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
        "encryption": _read(lambda: rules_of(service.get_encryption(bucket))),
        "versioning": _read(lambda: service.get_versioning(bucket)),
        "object_lock": _read(lambda: service.get_object_lock(bucket)),
        "public_access_block": _read(lambda: service.get_public_access_block(bucket)),
        "policy": _read(lambda: service.get_bucket_policy(bucket)),
        "lifecycle": _read(lambda: rules_of(service.get_lifecycle(bucket))),
        "tags": _read(lambda: service.get_bucket_tags(bucket)),
    }


def rules_of(document: Mapping[str, Any] | None) -> Any:
    return (document or {}).get("Rules")


def get_json(session: Session, bucket: str, key: str) -> dict[str, Any] | None:
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


@dataclass(frozen=True, slots=True)
class StoreRecord:
    """What the store's root says about it: store.json, and posture.json if init wrote it."""

    store: dict[str, Any] | None
    settings: PostureSettings | None
    accepted: tuple[str, ...] = ()


def read_store(session: Session, url: S3Url) -> StoreRecord:
    prefix = store_prefix(url)
    store = get_json(session, url.bucket, prefix + STORE_KEY)
    posture = get_json(session, url.bucket, prefix + POSTURE_KEY)
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
        checks.append(Check("store.json", "ok", f"environments {', '.join(envs_of(record.store))}"))
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
                envs=tuple(envs_of(record.store)) or settings.envs,
                protected=tuple(protected_of(record.store)),
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


def envs_of(store: Mapping[str, Any]) -> list[str]:
    return list(StoreSettings.from_document(store, STORE_KEY).envs)


def protected_of(store: Mapping[str, Any]) -> list[str]:
    return sorted(StoreSettings.from_document(store, STORE_KEY).protected)


def _defaults(store: Mapping[str, Any] | None) -> PostureSettings:
    envs = envs_of(store or {}) or ["default"]
    protected = protected_of(store or {})
    return PostureSettings(envs=tuple(envs), protected=tuple(p for p in protected if p in envs))


__all__ = [
    "Check",
    "CheckStatus",
    "Posture",
    "Read",
    "StoreRecord",
    "check_posture",
    "decide",
    "normalized",
    "read_settings",
    "read_store",
]
