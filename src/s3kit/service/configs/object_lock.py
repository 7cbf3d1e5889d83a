"""Object lock: a bucket's default retention, and the retention and legal hold of one object
version.

A GOVERNANCE lock is bypassed only when the caller asks (`bypass_governance`); a COMPLIANCE lock
cannot be shortened by anyone. S3 has no DELETE for the bucket's object lock configuration.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal, cast, get_args

from s3kit._aio import async_twin
from s3kit.errors import S3KitError, server_code
from s3kit.service.configs.checks import need, positive_days, unwrap
from s3kit.service.configs.specs import (
    MISSING_CODES,
    OBJECT_LOCK,
    ConfigDocuments,
    Document,
    plain_document,
)

if TYPE_CHECKING:
    from mypy_boto3_s3.type_defs import (
        ObjectLockConfigurationTypeDef,
        ObjectLockRetentionOutputTypeDef,
        ObjectLockRetentionTypeDef,
    )

LockMode = Literal["GOVERNANCE", "COMPLIANCE"]


def build_object_lock(
    *, mode: LockMode | None = None, days: int | None = None, years: int | None = None
) -> Document:
    """The object lock configuration; with `mode`, a default retention of `days` or `years`."""
    config: Document = {"ObjectLockEnabled": "Enabled"}
    if mode is None:
        need(
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
    config = unwrap(document, "ObjectLockConfiguration", "an object lock configuration")
    config.setdefault("ObjectLockEnabled", "Enabled")
    need(config["ObjectLockEnabled"] == "Enabled", "ObjectLockEnabled can only be Enabled")
    rule = config.get("Rule")
    if rule is None:
        return config
    retention = rule.get("DefaultRetention") if isinstance(rule, dict) else None
    need(isinstance(retention, dict), "Rule needs DefaultRetention with Mode and Days or Years")
    assert isinstance(retention, dict)
    need(
        retention.get("Mode") in get_args(LockMode),
        f"retention mode must be GOVERNANCE or COMPLIANCE, not {retention.get('Mode')!r}",
    )
    periods = [k for k in ("Days", "Years") if retention.get(k)]
    need(len(periods) == 1, "a default retention needs either days or years (exactly one)")
    positive_days(retention[periods[0]], f"DefaultRetention.{periods[0]}")
    return config


def build_retention(
    *,
    mode: LockMode,
    until: datetime | None = None,
    days: int | None = None,
    now: datetime | None = None,
) -> ObjectLockRetentionOutputTypeDef:
    """Per-object retention: locked in `mode` until a date, or for `days` from `now`."""
    need(
        mode in get_args(LockMode), f"retention mode must be GOVERNANCE or COMPLIANCE, not {mode!r}"
    )
    need(
        (until is None) != (days is None),
        "give the retention end as a date or as days (one of them)",
    )
    now = now or datetime.now(UTC)
    if days is not None:
        until = now + timedelta(days=positive_days(days, "retention days"))
    assert until is not None
    if until.tzinfo is None:
        until = until.replace(tzinfo=UTC)
    need(until > now, f"the retention end {until.isoformat()} is in the past")
    return {"Mode": mode, "RetainUntilDate": until}


class ObjectLockMixin(ConfigDocuments):
    def get_object_lock(self, bucket: str) -> ObjectLockConfigurationTypeDef | None:
        return self._get_document(OBJECT_LOCK, bucket)

    def set_object_lock(self, bucket: str, config: Any) -> None:
        """Set the bucket's default retention (the bucket must have object lock enabled)."""
        self._put_document(OBJECT_LOCK, bucket, validate_object_lock(config))

    def get_retention(
        self, bucket: str, key: str, *, version_id: str | None = None
    ) -> ObjectLockRetentionOutputTypeDef | None:
        """``{"Mode", "RetainUntilDate"}`` of one object version; None if it has none."""
        kwargs: Document = {"Key": key, **({"VersionId": version_id} if version_id else {})}
        try:
            response = self.call(
                "get_object_retention", bucket=bucket, key=key, Bucket=bucket, **kwargs
            )
        except S3KitError as exc:
            if server_code(exc) in MISSING_CODES:
                return None
            raise
        retention = plain_document(response, "Retention") or None
        return cast("ObjectLockRetentionOutputTypeDef | None", retention)

    def set_retention(
        self,
        bucket: str,
        key: str,
        retention: ObjectLockRetentionTypeDef | ObjectLockRetentionOutputTypeDef,
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
            if server_code(exc) in MISSING_CODES:
                return False
            raise
        return bool(plain_document(response, "LegalHold").get("Status") == "ON")

    def set_legal_hold(
        self, bucket: str, key: str, on: bool, *, version_id: str | None = None
    ) -> None:
        kwargs: Document = {"Key": key, "LegalHold": {"Status": "ON" if on else "OFF"}}
        if version_id:
            kwargs["VersionId"] = version_id
        self.call("put_object_legal_hold", bucket=bucket, key=key, Bucket=bucket, **kwargs)

    # -- awaitable twins: the same calls on a worker thread (s3kit._aio.async_twin) ---------
    get_object_lock_async = async_twin(get_object_lock)
    set_object_lock_async = async_twin(set_object_lock)
    get_retention_async = async_twin(get_retention)
    set_retention_async = async_twin(set_retention)
    get_legal_hold_async = async_twin(get_legal_hold)
    set_legal_hold_async = async_twin(set_legal_hold)
