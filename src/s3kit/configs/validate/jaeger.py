"""Built-in checks of a Jaeger v2 bundle. Jaeger v2 is an OpenTelemetry Collector build, so its
configuration is a collector configuration, checked as `otelcol validate` checks one: only the
sections receivers, processors, exporters, extensions, connectors and service; component IDs
`type[/name]`; `service.pipelines` named `traces`, `metrics` or `logs` (optionally `/name`),
each with at least one receiver and one exporter, naming only declared components, none twice;
a connector used on one side of a pipeline used on the other side too; `service.extensions`
declared; and the durations of common settings (`timeout`, `initial_interval`, ...) in Go's
syntax.

What each component accepts inside its own settings depends on the component and is not
modelled.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from s3kit.configs.validate.durations import parse_go_duration
from s3kit.configs.validate.model import (
    Context,
    Finding,
    entries,
    is_null,
    kind_of,
    words,
    yaml_files,
)

__all__ = ["PIPELINE_TYPES", "check"]

SECTIONS = ("receivers", "processors", "exporters", "extensions", "connectors", "service")
PIPELINE_TYPES = ("traces", "metrics", "logs")
_TYPE_RE = re.compile(r"^[a-zA-Z][0-9a-zA-Z_]{0,62}$")
_NAME_RE = re.compile(r"^[^\s/][^\s]*$")
# Settings that are time.Duration in the collector's common configs (exporterhelper's timeout
# and retry, batch, scrapers, health checks): a string there must be a Go duration.
DURATION_KEYS = frozenset(
    words(
        "timeout initial_interval max_interval max_elapsed_time collection_interval"
        " check_interval flush_interval send_batch_timeout idle_timeout read_timeout"
        " write_timeout keepalive_timeout refresh_interval"
    )
)
_ENV = re.compile(r"\$\{[^}]*\}|\$[A-Za-z_][A-Za-z0-9_]*")


def _id_problem(text: str, what: str) -> str | None:
    kind, _, name = text.partition("/")
    if not _TYPE_RE.match(kind):
        return f'invalid {what} id "{text}": the type must be letters, digits and _'
    if "/" in text and not _NAME_RE.match(name):
        return f'invalid {what} id "{text}": the name after "/" must not be empty'
    return None


def _strings(ctx: Context, node: Any, what: str) -> list[tuple[str, Any]]:
    if node is None or is_null(node):
        return []
    if not isinstance(node, yaml.SequenceNode):
        ctx.error(node, f"{what} must be a list, not {kind_of(node)}")
        return []
    items: list[tuple[str, Any]] = []
    for item in node.value:
        if isinstance(item, yaml.ScalarNode) and not is_null(item):
            items.append((str(item.value), item))
        else:
            ctx.error(item, f"{what} entries must be component IDs")
    return items


def _check_durations(ctx: Context, node: Any) -> None:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = getattr(key_node, "value", None)
            if (
                key in DURATION_KEYS
                and isinstance(value_node, yaml.ScalarNode)
                and value_node.tag == "tag:yaml.org,2002:str"
                and not _ENV.search(str(value_node.value))
            ):
                try:
                    parse_go_duration(str(value_node.value))
                except ValueError as exc:
                    ctx.error(value_node, f"'{key}' {exc}")
            else:
                _check_durations(ctx, value_node)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            _check_durations(ctx, item)


def check_config(ctx: Context, root: Any) -> None:
    if root is None or is_null(root):
        ctx.error(None, "the configuration is empty: it needs service.pipelines")
        return
    if not isinstance(root, yaml.MappingNode):
        ctx.error(root, f"the configuration must be a mapping, not {kind_of(root)}")
        return
    declared: dict[str, dict[str, Any]] = {s: {} for s in SECTIONS if s != "service"}
    service = None
    for key, key_node, value in entries(ctx, root):
        if key not in SECTIONS:
            ctx.error(key_node, f"'' has invalid keys: {key}")
            continue
        if key == "service":
            service = value
            continue
        if is_null(value):
            continue
        if not isinstance(value, yaml.MappingNode):
            ctx.error(value, f"'{key}' must be a mapping of component IDs")
            continue
        for component, component_node, settings in entries(ctx, value):
            problem = _id_problem(component, key.removesuffix("s"))
            if problem is not None:
                ctx.error(component_node, problem)
            declared[key][component] = component_node
            _check_durations(ctx, settings)
    _check_service(ctx, root, service, declared)


def _check_service(
    ctx: Context, root: Any, service: Any, declared: dict[str, dict[str, Any]]
) -> None:
    if service is None or is_null(service) or not isinstance(service, yaml.MappingNode):
        where = root if service is None else service
        ctx.error(where, "service must have at least one pipeline")
        return
    pipelines = None
    for key, key_node, value in entries(ctx, service):
        if key == "pipelines":
            pipelines = value
        elif key == "extensions":
            for name, node in _strings(ctx, value, "service.extensions"):
                if name not in declared["extensions"]:
                    ctx.error(
                        node,
                        f'service::extensions: references extension "{name}"'
                        " which is not configured",
                    )
        elif key != "telemetry":
            ctx.error(key_node, f"'service' has invalid keys: {key}")
    if (
        pipelines is None
        or is_null(pipelines)
        or not (isinstance(pipelines, yaml.MappingNode) and pipelines.value)
    ):
        ctx.error(pipelines or service, "service must have at least one pipeline")
        return
    connector_as_exporter: dict[str, Any] = {}
    connector_as_receiver: dict[str, Any] = {}
    for pipeline, pipeline_node, body in entries(ctx, pipelines):
        kind, _, name = pipeline.partition("/")
        if kind not in PIPELINE_TYPES or ("/" in pipeline and not _NAME_RE.match(name)):
            ctx.error(
                pipeline_node,
                f'pipeline "{pipeline}": the type must be one of {", ".join(PIPELINE_TYPES)},'
                " optionally followed by /name",
            )
            continue
        if not isinstance(body, yaml.MappingNode):
            ctx.error(body, f'pipeline "{pipeline}" must be a mapping')
            continue
        lists: dict[str, list[tuple[str, Any]]] = {}
        for key, key_node, value in entries(ctx, body):
            if key not in ("receivers", "processors", "exporters"):
                ctx.error(key_node, f"'pipelines::{pipeline}' has invalid keys: {key}")
                continue
            lists[key] = _strings(ctx, value, f"{pipeline}.{key}")
        for key in ("receivers", "exporters"):
            if not lists.get(key):
                ctx.error(body, f'pipeline "{pipeline}" must have at least one {key[:-1]}')
        for key, items in lists.items():
            seen: set[str] = set()
            for component, node in items:
                if component in seen:
                    ctx.error(
                        node,
                        f'pipeline "{pipeline}" references {key[:-1]} "{component}" multiple times',
                    )
                seen.add(component)
                if component in declared[key]:
                    continue
                if key != "processors" and component in declared["connectors"]:
                    side = connector_as_exporter if key == "exporters" else connector_as_receiver
                    side.setdefault(component, node)
                    continue
                ctx.error(
                    node,
                    f'pipeline "{pipeline}" references {key[:-1]} "{component}" which is not'
                    f" configured under {key}:",
                )
    for component, node in connector_as_exporter.items():
        if component not in connector_as_receiver:
            ctx.error(
                node,
                f'connector "{component}" used as exporter but not as receiver in any pipeline',
            )
    for component, node in connector_as_receiver.items():
        if component not in connector_as_exporter:
            ctx.error(
                node,
                f'connector "{component}" used as receiver but not as exporter in any pipeline',
            )


def check(root: Path, files: Sequence[str]) -> list[Finding]:
    """Findings for each collector configuration (each YAML file) in the bundle."""
    findings: list[Finding] = []
    for ctx, _, node in yaml_files(root, files, findings):
        check_config(ctx, node)
    return findings
