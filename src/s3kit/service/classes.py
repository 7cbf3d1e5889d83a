"""Storage classes, Glacier restore, cost estimates and SSE-C key rotation.

Changing an object's storage class or its SSE-C key are both copies of the object onto itself,
made by the transfer layer (`ObjectsMixin.server_copy`), so objects above 5 GiB take the
multipart path. The cost estimate is list-price arithmetic over a listing: it never reads
billing data and must not be mistaken for an invoice (no request, retrieval, minimum-duration,
minimum-size or volume-tier charges).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any, Literal

from s3kit._aio import async_twin
from s3kit._storage_classes import ARCHIVE_CLASSES, validate_storage_class
from s3kit._units import GiB
from s3kit._uri import S3Url, validate_bucket_name, validate_key
from s3kit.errors import UsageError
from s3kit.service.base import ServiceBase
from s3kit.service.objects import (
    MAX_COPY_OBJECT,
    copy_in_place,
    head_object,
    server_copy,
    sse_c_arguments,
)
from s3kit.storage.base import ObjectInfo

if TYPE_CHECKING:
    from s3kit._encryption import Encryption

GB = GiB  # AWS bills storage per GB-month with 1 GB = 2^30 bytes

# Public list prices, USD per GB-month, US East (N. Virginia), first 50 TB/month tier, from
# https://aws.amazon.com/s3/pricing/ ("Storage pricing" tab) as published in 2025.
# INTELLIGENT_TIERING is priced at its Frequent Access tier (objects move to cheaper tiers on
# their own, which a listing cannot see); REDUCED_REDUNDANCY is the last published legacy price.
# OUTPOSTS and SNOW have no per-GB list price (they are billed as hardware) and are absent:
# their usage is reported without a cost. Override any of them with `--prices FILE`. Every
# other class of `s3kit._storage_classes.STORAGE_CLASSES` has a price (a unit test holds this).
DEFAULT_PRICES: Mapping[str, float] = {
    "STANDARD": 0.023,
    "INTELLIGENT_TIERING": 0.023,
    "STANDARD_IA": 0.0125,
    "ONEZONE_IA": 0.01,
    "EXPRESS_ONEZONE": 0.11,
    "GLACIER_IR": 0.004,
    "GLACIER": 0.0036,
    "DEEP_ARCHIVE": 0.00099,
    "REDUCED_REDUNDANCY": 0.024,
}

RESTORE_TIERS = ("Standard", "Bulk", "Expedited")
MAX_RESTORE_DAYS = 30_000  # the largest Days S3 accepts in a RestoreRequest

RestoreState = Literal["not-archived", "archived", "in-progress", "restored"]


# -- cost: pure ---------------------------------------------------------------------------------


@dataclass(slots=True)
class ClassUsage:
    objects: int = 0
    bytes: int = 0


@dataclass(frozen=True, slots=True)
class CostLine:
    storage_class: str
    objects: int
    bytes: int
    usd_per_gb_month: float | None
    monthly_usd: float | None


@dataclass(frozen=True, slots=True)
class CostReport:
    lines: list[CostLine]
    objects: int
    bytes: int
    monthly_usd: float
    unpriced: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "classes": [
                {
                    "storage_class": line.storage_class,
                    "objects": line.objects,
                    "bytes": line.bytes,
                    "usd_per_gb_month": line.usd_per_gb_month,
                    "monthly_usd": line.monthly_usd,
                }
                for line in self.lines
            ],
            "total": {
                "objects": self.objects,
                "bytes": self.bytes,
                "monthly_usd": self.monthly_usd,
            },
            "unpriced": self.unpriced,
        }


def prices_from_document(
    document: Any, base: Mapping[str, float] = DEFAULT_PRICES
) -> dict[str, float]:
    """The built-in table with the classes a --prices document names replaced."""
    if not isinstance(document, Mapping):
        raise UsageError("the prices file must map STORAGE_CLASS to USD per GB-month")
    prices = dict(base)
    for name, value in document.items():
        if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z_]+", name):
            raise UsageError(f"prices file: '{name}' is not a storage class name")
        if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
            raise UsageError(
                f"prices file: {name} must be a non-negative number (USD per GB-month),"
                f" not {value!r}"
            )
        prices[name.upper()] = float(value)
    return prices


def add_usage(usage: dict[str, ClassUsage], storage_class: str | None, size: int) -> None:
    # ListObjectsV2 leaves StorageClass out for STANDARD on some servers.
    entry = usage.setdefault((storage_class or "STANDARD").upper(), ClassUsage())
    entry.objects += 1
    entry.bytes += size


def estimate_cost(usage: Mapping[str, ClassUsage], prices: Mapping[str, float]) -> CostReport:
    """Monthly storage cost per class at `prices`, classes sorted by name."""
    lines: list[CostLine] = []
    unpriced: list[str] = []
    for name in sorted(usage):
        item = usage[name]
        price = prices.get(name)
        cost = None if price is None else item.bytes / GB * price
        if price is None:
            unpriced.append(name)
        lines.append(CostLine(name, item.objects, item.bytes, price, cost))
    return CostReport(
        lines=lines,
        objects=sum(u.objects for u in usage.values()),
        bytes=sum(u.bytes for u in usage.values()),
        monthly_usd=sum(line.monthly_usd or 0.0 for line in lines),
        unpriced=unpriced,
    )


# -- restore: pure ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RestoreStatus:
    storage_class: str
    state: RestoreState
    expiry: datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "storage_class": self.storage_class,
            "state": self.state,
            "expiry": self.expiry.isoformat() if self.expiry else None,
        }


_ONGOING_RE = re.compile(r'ongoing-request\s*=\s*"(true|false)"', re.IGNORECASE)
_EXPIRY_RE = re.compile(r'expiry-date\s*=\s*"([^"]+)"', re.IGNORECASE)


def restore_status_from_head(head: Mapping[str, Any]) -> RestoreStatus:
    """Read HeadObject's Restore header: `ongoing-request="true"` while the restore runs,
    `ongoing-request="false", expiry-date="..."` once the temporary copy is readable."""
    storage_class = str(head.get("StorageClass") or "STANDARD")
    header = str(head.get("Restore") or "")
    ongoing = _ONGOING_RE.search(header)
    if ongoing is None:
        archived = storage_class in ARCHIVE_CLASSES
        return RestoreStatus(storage_class, "archived" if archived else "not-archived")
    if ongoing.group(1).lower() == "true":
        return RestoreStatus(storage_class, "in-progress")
    expiry_match = _EXPIRY_RE.search(header)
    expiry = None
    if expiry_match:
        try:
            expiry = parsedate_to_datetime(expiry_match.group(1))
        except (TypeError, ValueError):
            expiry = None
    return RestoreStatus(storage_class, "restored", expiry)


def validate_restore(days: int, tier: str) -> tuple[int, str]:
    if not 1 <= days <= MAX_RESTORE_DAYS:
        raise UsageError(f"--days must be between 1 and {MAX_RESTORE_DAYS}, not {days}")
    canonical = {t.lower(): t for t in RESTORE_TIERS}.get(tier.lower())
    if canonical is None:
        raise UsageError(f"--tier must be one of {', '.join(RESTORE_TIERS)}, not '{tier}'")
    return days, canonical


# -- the mixin ----------------------------------------------------------------------------------


def _kept_encryption(head: Mapping[str, Any]) -> Encryption | None:
    from s3kit._encryption import Encryption

    sse = head.get("ServerSideEncryption")
    if sse == "aws:kms":
        return Encryption("aws:kms", kms_key_id=head.get("SSEKMSKeyId"))
    if sse == "AES256":
        return Encryption("AES256")
    return None


class StorageClassMixin(ServiceBase):
    def set_storage_class(self, bucket: str, key: str, storage_class: str) -> None:
        """Copy the object onto itself in `storage_class`, keeping its metadata, content
        headers and SSE-S3/KMS settings (multipart through the transfer layer above 5 GiB)."""
        from s3kit.transfer.context import WriteOptions

        chosen = validate_storage_class(storage_class)
        validate_bucket_name(bucket)
        validate_key(key)
        head = head_object(self, bucket, key)
        if int(head.get("ContentLength", 0)) <= MAX_COPY_OBJECT:
            copy_in_place(self, bucket, key, head, changes={"StorageClass": chosen})
            return
        options = WriteOptions(storage_class=chosen, encryption=_kept_encryption(head))
        server_copy(self.session, S3Url(bucket, key), S3Url(bucket, key), options=options)

    def restore_object(
        self, bucket: str, key: str, *, days: int, tier: str = "Standard"
    ) -> Literal["started", "already-restored"]:
        """Ask for a temporary readable copy of a GLACIER / DEEP_ARCHIVE object for `days`."""
        days, tier = validate_restore(days, tier)
        validate_bucket_name(bucket)
        validate_key(key)
        response = self.call(
            "restore_object",
            bucket=bucket,
            key=key,
            Bucket=bucket,
            Key=key,
            RestoreRequest={"Days": days, "GlacierJobParameters": {"Tier": tier}},
        )
        status = int(response.get("ResponseMetadata", {}).get("HTTPStatusCode", 202))
        # 202: restore started; 200: a restored copy exists and only its expiry moved.
        return "already-restored" if status == 200 else "started"

    def restore_status(self, bucket: str, key: str) -> RestoreStatus:
        return restore_status_from_head(head_object(self, bucket, key))

    def storage_usage(self, bucket: str, prefix: str = "") -> dict[str, ClassUsage]:
        """Objects and bytes per storage class under `prefix`, from one listing."""
        validate_bucket_name(bucket)
        return usage_from_sizes(
            (entry.storage_class, entry.size)
            for entry in self.session.storage(bucket).list(prefix)
            if isinstance(entry, ObjectInfo)
        )

    def storage_cost(
        self, bucket: str, prefix: str = "", *, prices: Mapping[str, float] = DEFAULT_PRICES
    ) -> CostReport:
        return estimate_cost(self.storage_usage(bucket, prefix), prices)

    def rotate_sse_c_key(self, bucket: str, key: str, *, old: Encryption, new: Encryption) -> None:
        """Re-encrypt an SSE-C object under a new customer key, server-side (the bytes never
        leave the server). Metadata and storage class are kept."""
        from s3kit.transfer.context import WriteOptions

        for which, enc in (("old", old), ("new", new)):
            if enc.mode != "sse-c" or enc.customer_key is None:
                raise UsageError(f"the {which} key must be an SSE-C customer key")
            enc.check_transport(self.session.endpoint_url)
        if old.customer_key == new.customer_key:
            raise UsageError("the old and new SSE-C keys are the same; nothing to rotate")
        head = head_object(self, bucket, key, encryption=old)  # fails early on a wrong old key
        if int(head.get("ContentLength", 0)) <= MAX_COPY_OBJECT:
            # An in-place COPY that only changes the SSE-C key is refused by SeaweedFS and moto
            # ("This copy request is illegal..."); REPLACE with the metadata resent is not.
            endpoint = self.session.endpoint_url
            changes = sse_c_arguments(new, endpoint)
            changes.update({f"CopySource{k}": v for k, v in sse_c_arguments(old, endpoint).items()})
            copy_in_place(self, bucket, key, head, changes=changes)
            return
        stored_class = head.get("StorageClass")
        options = WriteOptions(
            storage_class=stored_class if stored_class not in (None, "STANDARD") else None,
            encryption=new,
        )
        server_copy(
            self.session,
            S3Url(bucket, key),
            S3Url(bucket, key),
            options=options,
            read_encryption=old,
        )

    # -- awaitable twins: the same calls on a worker thread (s3kit._aio.async_twin) ---------
    set_storage_class_async = async_twin(set_storage_class)
    restore_object_async = async_twin(restore_object)
    restore_status_async = async_twin(restore_status)
    storage_usage_async = async_twin(storage_usage)
    storage_cost_async = async_twin(storage_cost)
    rotate_sse_c_key_async = async_twin(rotate_sse_c_key)


def usage_from_sizes(entries: Iterable[tuple[str | None, int]]) -> dict[str, ClassUsage]:
    """Usage per class from (storage class, size) pairs: the pure half of `storage_usage`."""
    usage: dict[str, ClassUsage] = {}
    for storage_class, size in entries:
        add_usage(usage, storage_class, size)
    return usage


__all__ = [
    "DEFAULT_PRICES",
    "ClassUsage",
    "CostLine",
    "CostReport",
    "RestoreStatus",
    "StorageClassMixin",
    "estimate_cost",
    "prices_from_document",
    "restore_status_from_head",
    "usage_from_sizes",
    "validate_restore",
]
