"""Built-in checks of a Loki bundle (Loki 2.9 to 3.x), as Loki reads its file at start-up:
strict yaml.v2 (dskit's cfg.YAML), so a top-level key no Loki release of that span knows is an
error; `schema_config` must hold at least one period, each with a valid `from` date
(YYYY-MM-DD), a known `store`, `object_store` (or a named store from `storage_config`) and
`schema` (v9 to v13), a 24h index period for tsdb and boltdb-shipper, `from` dates in
increasing order; and the durations of `limits_config`, `ingester` and `compactor` in the
syntax each field takes (Prometheus' for model.Duration fields, Go's for time.Duration ones).

The many settings inside the other sections change from release to release and are not
modelled: they are accepted as written.
"""

from __future__ import annotations

import datetime
import functools
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from s3kit.configs.validate.durations import parse_go_duration, parse_prometheus_duration
from s3kit.configs.validate.model import (
    Anything,
    Context,
    Duration,
    Finding,
    Flag,
    Integer,
    ListOf,
    MapOf,
    Obj,
    Spec,
    Struct,
    Text,
    text_data,
    words,
    yaml_files,
)

__all__ = ["TOP_LEVEL_KEYS", "check"]

# The root Config struct's keys across Loki 2.9.0 .. 3.7 (pkg/loki/loki.go at each tag).
TOP_LEVEL_KEYS = frozenset(
    words(
        "analytics auth_enabled ballast_bytes block_builder block_scheduler bloom_build"
        " bloom_compactor bloom_gateway chunk_store_config common compactor compactor_client"
        " compactor_grpc_client dataobj dataobj_explorer distributor frontend frontend_worker"
        " http_prefix index_gateway ingest_limits ingest_limits_frontend"
        " ingest_limits_frontend_client ingester ingester_client ingester_rf internal_server"
        " kafka_config kafka_ingester lbac legacy_read_target limits_config memberlist metastore"
        " metastore_client metrics_namespace no_auth_tenant operational_config partition_ring"
        " pattern_ingester profiling querier querier_rf query_engine query_range"
        " query_scheduler rate_service rate_service_client ruler ruler_storage runtime_config"
        " schema_config server shutdown_delay storage_config table_manager target"
        " tenant_limits_allow_publish tracing ui use_buffered_logger use_sync_logger"
    )
)
INDEX_STORES = frozenset(
    words(
        "tsdb boltdb-shipper boltdb aws aws-dynamo gcp gcp-columnkey bigtable bigtable-hashed"
        " cassandra grpc-store inmemory"
    )
)
OBJECT_STORES = frozenset(
    words(
        "aws s3 azure gcs alibabacloud bos cos swift filesystem inmemory aws-dynamo gcp"
        " gcp-columnkey bigtable bigtable-hashed cassandra grpc-store"
    )
)
_DAY = 24 * 60 * 60 * 10**9

PROM = Duration(parse_prometheus_duration)
GO = Duration(parse_go_duration)
_ANY = Anything()


def _durations(prometheus: str, go: str) -> dict[str, Spec]:
    return {**dict.fromkeys(prometheus.split(), PROM), **dict.fromkeys(go.split(), GO)}


# Only the duration fields are typed; every other key of these sections is taken as written.
_SECTION_DURATIONS: dict[str, dict[str, Spec]] = {
    "limits_config": _durations(
        "reject_old_samples_max_age creation_grace_period max_query_lookback max_query_length"
        " max_query_range max_cache_freshness_per_query max_metadata_cache_freshness"
        " max_stats_cache_freshness query_timeout split_queries_by_interval"
        " split_metadata_queries_by_interval split_recent_metadata_queries_by_interval"
        " recent_metadata_query_window split_instant_metric_queries_by_interval"
        " split_ingester_queries_by_interval min_sharding_lookback"
        " ruler_evaluation_delay_duration retention_period per_tenant_override_period",
        "ruler_remote_write_timeout ruler_remote_write_queue_batch_send_deadline"
        " ruler_remote_write_queue_min_backoff ruler_remote_write_queue_max_backoff"
        " ruler_remote_evaluation_timeout bloom_gateway_cache_key_interval"
        " simulated_push_latency bloom_build_builder_response_timeout",
    ),
    "ingester": _durations(
        "",
        "flush_check_period flush_op_timeout chunk_retain_period chunk_idle_period max_chunk_age"
        " sync_period query_store_max_look_back_period",
    ),
    "compactor": _durations(
        "",
        "compaction_interval apply_retention_interval retention_delete_delay"
        " retention_table_timeout delete_request_cancel_period delete_max_interval",
    ),
}


class _Section(Spec):
    """A section whose duration fields are typed and whose other keys are taken as written."""

    what = "struct"

    def __init__(self, durations: dict[str, Spec]) -> None:
        self.durations = durations

    def read(self, ctx: Context, node: Any) -> Any:
        values = MapOf(_ANY).read(ctx, node)
        for key, value_node in (values.nodes if values is not None else {}).items():
            spec = self.durations.get(key)
            if spec is not None:
                spec.read(ctx, value_node)
        return values


def _check_date(ctx: Context, node: Any, value: str) -> None:
    # Go's time.Parse("2006-01-02", …): four-digit year, two-digit month and day, a real date.
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        ctx.error(node, f'parsing time "{value}" as "2006-01-02": cannot parse')
        return
    try:
        datetime.date.fromisoformat(value)
    except ValueError:
        ctx.error(node, f'parsing time "{value}": day or month out of range')


def _check_schema(ctx: Context, node: Any, value: str) -> None:
    m = re.fullmatch(r"v(\d+)", value)
    if m is None or not 9 <= int(m.group(1)) <= 13:
        ctx.error(node, f"invalid schema version {value!r}: use v9 to v13 (v13 is current)")


def _check_store(ctx: Context, node: Any, value: str) -> None:
    if value not in INDEX_STORES:
        ctx.error(node, f"unknown index store {value!r}: use tsdb (or boltdb-shipper)")


_TABLE = {"prefix": Text(), "period": PROM, "tags": MapOf(Text())}
PERIOD = Struct(
    "config.PeriodConfig",
    {
        "from": Text(_check_date),
        "store": Text(_check_store),
        "object_store": Text(),
        "schema": Text(_check_schema),
        "index": Struct("config.IndexPeriodicTableConfig", {**_TABLE, "path_prefix": Text()}),
        "chunks": Struct("config.PeriodicTableConfig", _TABLE),
        "row_shards": Integer(unsigned=True),
    },
)
SCHEMA_CONFIG = Struct("config.SchemaConfig", {"configs": ListOf(PERIOD)})


def _check_root(ctx: Context, c: Obj, *, named: set[str]) -> None:
    schema = c.get("schema_config")
    periods = [p for p in (schema or {}).get("configs") or [] if p is not None]
    if not periods:
        where = c.at("schema_config")
        ctx.error(where, "invalid schema config: must specify at least one schema configuration")
        return
    previous: str | None = None
    for period in periods:
        store = period.text("store")
        object_store = period.text("object_store") or store
        if object_store and object_store not in OBJECT_STORES | named:
            ctx.error(period.at("object_store"), f"unknown object_store {object_store!r}")
        index = period.get("index") or Obj(period.node)
        if store in ("tsdb", "boltdb-shipper") and index.get("period") != _DAY:
            ctx.error(
                period.at("index"), f"{store} must always have periodic config for index set to 24h"
            )
        prefix = index.text("path_prefix") or "index/"
        if prefix.startswith("/") or not prefix.endswith("/") or "\\" in prefix:
            ctx.error(
                index.at("path_prefix"), "index path_prefix must end (and not start) with '/'"
            )
        start = period.text("from")
        if previous is not None and start and start <= previous:
            ctx.error(period.at("from"), "from time in schemas must be distinct and increasing")
        previous = start or previous


def _named_stores(data: Any) -> set[str]:
    """The names declared under storage_config.named_stores.<type>."""
    storage = data.get("storage_config") if isinstance(data, dict) else None
    named = storage.get("named_stores") if isinstance(storage, dict) else None
    names: set[str] = set()
    for stores in (named or {}).values() if isinstance(named, dict) else ():
        if isinstance(stores, dict):
            names.update(str(k) for k in stores)
    return names


def _top_field(key: str) -> Spec | None:
    if key == "schema_config":
        return SCHEMA_CONFIG
    if key in _SECTION_DURATIONS:
        return _Section(_SECTION_DURATIONS[key])
    if key == "auth_enabled":
        return Flag()
    if key == "shutdown_delay":
        return GO
    return _ANY if key in TOP_LEVEL_KEYS else None


def check(root: Path, files: Sequence[str]) -> list[Finding]:
    """Findings for each Loki configuration (each YAML file) in the bundle."""
    findings: list[Finding] = []
    for ctx, text, node in yaml_files(root, files, findings):
        named = _named_stores(text_data(text))
        spec = Struct(
            "loki.Config",
            {},
            more_fields=_top_field,
            check=functools.partial(_check_root, named=named),
        )
        config = Obj(node) if node is None else spec.read(ctx, node)
        if config is not None and node is None:
            _check_root(ctx, config, named=named)
    return findings
