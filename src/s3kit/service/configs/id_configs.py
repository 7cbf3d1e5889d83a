"""The configurations a bucket keeps by id: inventory reports, storage class analysis,
CloudWatch request metrics filters and Intelligent-Tiering archive settings.

They share one API shape (list, get, put and delete by Id, named in `specs.ID_CONFIGS`), so
they share one set of methods taking the `kind`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import Any, Literal

from s3kit._aio import async_iter_twin, async_twin
from s3kit.service.configs.checks import need, positive_days, unwrap
from s3kit.service.configs.specs import ID_CONFIGS, ConfigDocuments, Document, IdConfigKind

_CONFIG_ID_RE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def validate_id_config(kind: IdConfigKind, document: Any, config_id: str | None = None) -> Document:
    """Check an inventory/analytics/metrics/intelligent-tiering document; `config_id`, when
    given, fills in a missing Id and must match a present one."""
    spec = ID_CONFIGS[kind]
    config = unwrap(document, spec.document, f"an {spec.label}")
    if config_id is not None:
        need(
            config.setdefault("Id", config_id) == config_id,
            f"the document's Id '{config['Id']}' differs from --id '{config_id}'",
        )
    found = config.get("Id")
    need(
        isinstance(found, str) and bool(_CONFIG_ID_RE.match(found)),
        f"an {spec.label} needs an Id of 1-64 letters, digits, '.', '_' or '-' (got {found!r})",
    )
    if kind == "inventory":
        target = ((config.get("Destination") or {}).get("S3BucketDestination") or {}).get("Bucket")
        need(
            isinstance(target, str) and target.startswith("arn:"),
            "an inventory needs Destination.S3BucketDestination.Bucket, a bucket ARN",
        )
        need(
            (config.get("Schedule") or {}).get("Frequency") in ("Daily", "Weekly"),
            "an inventory needs Schedule.Frequency Daily or Weekly",
        )
        config.setdefault("IsEnabled", True)
        config.setdefault("IncludedObjectVersions", "Current")
    elif kind == "analytics":
        config.setdefault("StorageClassAnalysis", {})
    elif kind == "intelligent-tiering":
        need(config.get("Status") in ("Enabled", "Disabled"), "Status must be Enabled or Disabled")
        tierings = config.get("Tierings")
        need(
            isinstance(tierings, list) and bool(tierings),
            "an intelligent-tiering configuration needs Tierings",
        )
        assert isinstance(tierings, list)
        for tier in tierings:
            need(
                tier.get("AccessTier") in ("ARCHIVE_ACCESS", "DEEP_ARCHIVE_ACCESS"),
                "AccessTier must be ARCHIVE_ACCESS or DEEP_ARCHIVE_ACCESS,"
                f" not {tier.get('AccessTier')!r}",
            )
            positive_days(tier.get("Days"), "Tierings.Days")
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
    need(bool(tierings), "give --archive-days and/or --deep-archive-days")
    config: Document = {
        "Id": config_id,
        "Status": "Enabled" if enabled else "Disabled",
        "Tierings": tierings,
        **_prefix_filter(prefix),
    }
    return validate_id_config("intelligent-tiering", config)


class IdConfigsMixin(ConfigDocuments):
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

    # -- awaitable twins: the same calls on a worker thread (s3kit._aio.async_twin) ---------
    list_id_configs_async = async_iter_twin(list_id_configs)
    get_id_config_async = async_twin(get_id_config)
    set_id_config_async = async_twin(set_id_config)
    delete_id_config_async = async_twin(delete_id_config)
