"""`configs init`: create or harden the config store's bucket, then read it all back.

`init_store` creates the bucket (or takes an existing one), applies `secure_bucket`'s defaults
(default encryption — SSE-S3, or SSE-KMS with a key —, versioning, public access block, a
lifecycle that aborts unfinished uploads, tags) plus what a store of configurations needs (the
documents of `hardening.py`): a lifecycle rule expiring noncurrent versions under the store's
prefix, a bucket policy denying plain-HTTP requests and denying writes to a protected
environment's pointers to anyone but its releasers, MFA delete or Object Lock when asked. It
writes `store.json` (the environments) and `posture.json` (what init asked for), then reports
what `posture.check_posture` reads back.

It never weakens a bucket: a policy, lifecycle rules and tags of the user's own are kept, and
what AWS would refuse halfway (Object Lock on an existing bucket, MFA delete beside a lifecycle)
or what would drop an environment or a protection is refused before anything changes.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from s3kit._uri import S3Url, validate_bucket_name
from s3kit.configs.hardening import (
    MFA_WITH_LIFECYCLE,
    POSTURE_KEY,
    PostureSettings,
    encryption_document,
    merge_lifecycle,
    merge_policy,
    plain_http,
    store_prefix,
    wanted_rules,
    wanted_statements,
)
from s3kit.configs.posture import (
    STORE_KEY,
    Posture,
    check_posture,
    envs_of,
    get_json,
    protected_of,
    rules_of,
    tls_skipped,
)
from s3kit.errors import NotSupported, S3KitError, UsageError

if TYPE_CHECKING:
    from s3kit._session import Session
    from s3kit.service import S3Service
    from s3kit.service.buckets import SecureStep

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


def _put_json(session: Session, bucket: str, key: str, document: Mapping[str, Any]) -> None:
    body = (json.dumps(document, indent=2, sort_keys=True) + "\n").encode()
    session.storage(bucket).put(key, body, content_type="application/json")


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
    store = get_json(session, bucket, prefix + STORE_KEY) or {}
    where = f"s3://{bucket}/{prefix}{STORE_KEY}"
    dropped = [e for e in envs_of(store) if e not in settings.envs]
    if dropped:
        raise UsageError(
            f"{where} has environment(s) {', '.join(dropped)}, which --envs leaves out — list"
            " them too (init never removes an environment)"
        )
    unprotected = [e for e in protected_of(store) if e not in settings.protected]
    if unprotected:
        raise UsageError(
            f"{where} protects {', '.join(unprotected)}, which --protect leaves out — list"
            " them too (init never removes a protection)"
        )
    _refuse_before_changes(service, bucket, settings)
    rules = _or_empty(lambda: rules_of(service.get_lifecycle(bucket)))
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


__all__ = ["InitReport", "init_store"]
