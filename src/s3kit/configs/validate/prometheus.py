"""Built-in checks of a Prometheus bundle, written to reach promtool 2.42's verdict.

A bundle holds Prometheus configuration files (checked as `promtool check config` checks them,
with the rule files they name, which resolve against the config file's folder) and rule files
(`promtool check rules`, prometheus_rules.py); a YAML file whose top is a mapping with `groups`
is a rule file, a top-level list a file_sd target list (checked when a configuration names it),
any other YAML file a configuration. Read from Prometheus 2.42's sources: config/config.go
(strict yaml.v2 structs and their UnmarshalYAML checks) and cmd/promtool (rule and file_sd
files must exist and decode, client cert files exist, static targets make addresses).

Not modelled, and so accepted: the fields inside the rarer service discoveries (only their
required setting is checked), relabelling's effect on targets, PromQL that promql-parser reads
differently from 2.42's parser, and a Go template's runtime. Never reads outside the bundle's
root: a file named outside it is reported as not checked.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from s3kit.configs.validate.durations import parse_base2_bytes
from s3kit.configs.validate.model import (
    YAML_SUFFIXES,
    Context,
    Duration,
    Finding,
    Integer,
    ListOf,
    MapOf,
    Number,
    Obj,
    Spec,
    Struct,
    Text,
    compose_first,
    is_null,
    load_yaml,
    read_text,
    text_data,
)
from s3kit.configs.validate.promcommon import (
    DURATION,
    FLAG,
    HTTP_CLIENT,
    LABEL_NAME_RE,
    LABEL_SET,
    SIGV4,
    STRING_MAP,
    STRINGS,
    TARGET_GROUP,
    TEXT,
    TLS_CONFIG,
    URL,
    NonNull,
    relabels,
)
from s3kit.configs.validate.prometheus_rules import check_rules
from s3kit.configs.validate.prometheus_sd import sd_field

__all__ = ["YAML_SUFFIXES", "check", "classify", "named_rule_files", "rule_file_globs"]

_RULE_PATH_RE = re.compile(r"^[^*]*(\*[^/]*)?$")


def _check_scrape(ctx: Context, c: Obj) -> None:
    if not c.text("job_name"):
        ctx.error(c.node, "job_name is empty")
    if not c.get("relabel_configs"):
        _check_static_addresses(ctx, c)


def _check_static_addresses(ctx: Context, c: Obj) -> None:
    for group in c.get("static_configs") or []:
        if group is None:
            continue
        for target, node in zip(
            group.get("targets") or [], group.at("targets").value, strict=False
        ):
            if "/" in target:
                ctx.error(node, f'"{target}" is not a valid hostname')


_SCRAPE_FIELDS: dict[str, Spec] = {
    "job_name": TEXT,
    "honor_labels": FLAG,
    "honor_timestamps": FLAG,
    "params": MapOf(STRINGS),
    "scrape_interval": DURATION,
    "scrape_timeout": DURATION,
    "metrics_path": TEXT,
    "scheme": TEXT,
    "body_size_limit": Duration(parse_base2_bytes),
    "sample_limit": Integer(unsigned=True),
    "target_limit": Integer(unsigned=True),
    "label_limit": Integer(unsigned=True),
    "label_name_length_limit": Integer(unsigned=True),
    "label_value_length_limit": Integer(unsigned=True),
    "relabel_configs": relabels("empty or null target relabeling rule in scrape config"),
    "metric_relabel_configs": relabels("empty or null metric relabeling rule in scrape config"),
}
SCRAPE_CONFIG = Struct(
    "config.ScrapeConfig",
    _SCRAPE_FIELDS,
    inline=(HTTP_CLIENT,),
    check=_check_scrape,
    more_fields=sd_field,
)


def _check_api_version(ctx: Context, node: Any, value: str) -> None:
    if value not in ("v1", "v2"):
        ctx.error(node, f"expected Alertmanager api version to be one of [v1 v2] but got {value}")


def _check_alertmanager(ctx: Context, c: Obj) -> None:
    if not c.get("relabel_configs"):
        _check_static_addresses(ctx, c)


ALERTMANAGER_CONFIG = Struct(
    "config.AlertmanagerConfig",
    {
        "scheme": TEXT,
        "path_prefix": TEXT,
        "timeout": DURATION,
        "api_version": Text(_check_api_version),
        "relabel_configs": relabels("empty or null Alertmanager target relabeling rule"),
    },
    inline=(HTTP_CLIENT,),
    check=_check_alertmanager,
    more_fields=sd_field,
)

_RESERVED_HEADERS = frozenset(
    [
        "host",
        "content-encoding",
        "content-length",
        "content-type",
        "user-agent",
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "www-authenticate",
        "accept-encoding",
        "x-prometheus-remote-write-version",
        "x-prometheus-remote-read-version",
        "x-amz-date",
        "x-amz-security-token",
        "x-amz-content-sha256",
    ]
)


def _check_headers(ctx: Context, c: Obj, *, tracing: bool = False) -> None:
    for header in c.get("headers") or {}:
        where = c.at("headers")
        if header.lower() == "authorization":
            ctx.error(
                where,
                "custom authorization header configuration is not yet supported"
                if tracing
                else "authorization header must be changed via the basic_auth, authorization,"
                " oauth2, or sigv4 parameter",
            )
        elif header.lower() in _RESERVED_HEADERS:
            ctx.error(where, f"{header} is a reserved header. It must not be changed")


def _check_remote_write(ctx: Context, c: Obj) -> None:
    if "url" not in c or c.get("url") is None or is_null(c.at("url")):
        ctx.error(c.node, "url for remote_write is empty")
        return
    _check_headers(ctx, c)
    auth = any(c.get(k) is not None for k in ("basic_auth", "authorization", "oauth2"))
    if auth and c.get("sigv4") is not None:
        ctx.error(
            c.node, "at most one of basic_auth, authorization, oauth2, & sigv4 must be configured"
        )


def _check_remote_read(ctx: Context, c: Obj) -> None:
    if "url" not in c or c.get("url") is None or is_null(c.at("url")):
        ctx.error(c.node, "url for remote_read is empty")
        return
    _check_headers(ctx, c)


REMOTE_WRITE = Struct(
    "config.RemoteWriteConfig",
    {
        "url": URL,
        "remote_timeout": DURATION,
        "headers": STRING_MAP,
        "write_relabel_configs": relabels("empty or null relabeling rule in remote write config"),
        "name": TEXT,
        "send_exemplars": FLAG,
        "send_native_histograms": FLAG,
        "queue_config": Struct(
            "config.QueueConfig",
            {
                "capacity": Integer(),
                "max_shards": Integer(),
                "min_shards": Integer(),
                "max_samples_per_send": Integer(),
                "batch_send_deadline": DURATION,
                "min_backoff": DURATION,
                "max_backoff": DURATION,
                "retry_on_http_429": FLAG,
            },
        ),
        "metadata_config": Struct(
            "config.MetadataConfig",
            {"send": FLAG, "send_interval": DURATION, "max_samples_per_send": Integer()},
        ),
        "sigv4": SIGV4,
    },
    inline=(HTTP_CLIENT,),
    check=_check_remote_write,
)
REMOTE_READ = Struct(
    "config.RemoteReadConfig",
    {
        "url": URL,
        "remote_timeout": DURATION,
        "headers": STRING_MAP,
        "read_recent": FLAG,
        "name": TEXT,
        "required_matchers": LABEL_SET,
        "filter_external_labels": FLAG,
    },
    inline=(HTTP_CLIENT,),
    check=_check_remote_read,
)


def _check_tracing(ctx: Context, c: Obj) -> None:
    client = c.text("client_type")
    if "client_type" in c and client not in ("http", "grpc"):
        ctx.error(
            c.at("client_type"),
            f"expected tracing client type to be to be http or grpc, but got {client}",
        )
        return
    _check_headers(ctx, c, tracing=True)
    if not c.text("endpoint"):
        ctx.error(c.node, "tracing endpoint must be set")
    elif c.text("compression") not in ("", "gzip"):
        ctx.error(
            c.at("compression"),
            f"invalid compression type {c.text('compression')} provided, valid options: gzip",
        )


TRACING = Struct(
    "config.TracingConfig",
    {
        "client_type": TEXT,
        "endpoint": TEXT,
        "sampling_fraction": Number(),
        "insecure": FLAG,
        "tls_config": TLS_CONFIG,
        "headers": STRING_MAP,
        "compression": TEXT,
        "timeout": DURATION,
    },
    check=_check_tracing,
)

_MINUTE = 60 * 10**9
_DEFAULT_INTERVAL = _MINUTE
_DEFAULT_TIMEOUT = 10 * 10**9


def _check_global(ctx: Context, c: Obj) -> None:
    interval = c.get("scrape_interval") or _DEFAULT_INTERVAL
    if (c.get("scrape_timeout") or 0) > interval:
        ctx.error(c.at("scrape_timeout"), "global scrape timeout greater than scrape interval")


GLOBAL = Struct(
    "config.GlobalConfig",
    {
        "scrape_interval": DURATION,
        "scrape_timeout": DURATION,
        "evaluation_interval": DURATION,
        "query_log_file": TEXT,
        "external_labels": LABEL_SET,
    },
    check=_check_global,
)


def _check_config(ctx: Context, c: Obj) -> None:
    for name in c.get("rule_files") or []:
        if not _RULE_PATH_RE.match(name):
            ctx.error(c.at("rule_files"), f'invalid rule file path "{name}"')
    glob_ = c.get("global") or Obj(None)
    interval = glob_.get("scrape_interval") or _DEFAULT_INTERVAL
    timeout = glob_.get("scrape_timeout") or min(_DEFAULT_TIMEOUT, interval)
    jobs: set[str] = set()
    for scrape in c.get("scrape_configs") or []:
        if scrape is None:
            continue
        job = scrape.text("job_name")
        own_interval = scrape.get("scrape_interval") or interval
        own_timeout = scrape.get("scrape_timeout") or 0
        if own_timeout > own_interval:
            ctx.error(
                scrape.at("scrape_timeout"),
                "scrape timeout greater than scrape interval for scrape config with job name"
                f' "{job}"',
            )
        scrape["_interval"] = own_interval
        scrape["_timeout"] = own_timeout or (own_interval if timeout > own_interval else timeout)
        if job in jobs:
            ctx.error(scrape.at("job_name"), f'found multiple scrape configs with job name "{job}"')
        jobs.add(job)
    for key, what in (("remote_write", "remote write"), ("remote_read", "remote read")):
        names: set[str] = set()
        for item in c.get(key) or []:
            if item is None:
                continue
            name = item.text("name")
            if name and name in names:
                ctx.error(item.at("name"), f'found multiple {what} configs with job name "{name}"')
            names.add(name)


CONFIG = Struct(
    "config.plain",
    {
        "global": GLOBAL,
        "alerting": Struct(
            "config.AlertingConfig",
            {
                "alert_relabel_configs": relabels("empty or null alert relabeling rule"),
                "alertmanagers": ListOf(ALERTMANAGER_CONFIG),
            },
        ),
        "rule_files": STRINGS,
        "scrape_configs": ListOf(NonNull(SCRAPE_CONFIG, "empty or null scrape config section")),
        "storage": Struct(
            "config.StorageConfig",
            {
                "tsdb": Struct("config.TSDBConfig", {"out_of_order_time_window": DURATION}),
                "exemplars": Struct("config.ExemplarsConfig", {"max_exemplars": Integer()}),
            },
        ),
        "tracing": TRACING,
        "remote_write": ListOf(NonNull(REMOTE_WRITE, "empty or null remote write config section")),
        "remote_read": ListOf(NonNull(REMOTE_READ, "empty or null remote read config section")),
    },
    check=_check_config,
)


def classify(text: str) -> str:
    """The kind of a YAML file, from its top: "rules", "targets" or "config" (a file that does
    not parse is a config: promtool check config is what would be asked of it)."""
    try:
        root = compose_first(text)
    except yaml.YAMLError:
        return "config"
    if isinstance(root, yaml.SequenceNode):
        return "targets"
    if isinstance(root, yaml.MappingNode) and any(
        isinstance(k, yaml.ScalarNode) and k.value == "groups" for k, _ in root.value
    ):
        return "rules"
    return "config"


def rule_file_globs(text: str) -> list[str]:
    """The rule_files a configuration's text names (for knowing which rule files it covers)."""
    data = text_data(text)
    names = data.get("rule_files") if isinstance(data, dict) else None
    return [str(n) for n in names if isinstance(n, str)] if isinstance(names, list) else []


def check(root: Path, files: Sequence[str]) -> list[Finding]:
    """Findings for the Prometheus bundle in `root`: each configuration with the rule and
    file_sd files it names, each rule file no configuration named."""
    findings: list[Finding] = []
    texts: dict[str, str] = {}
    for name in files:
        if not name.endswith(YAML_SUFFIXES):
            continue
        text = read_text(root, name, Context(name, findings))
        if text is not None:
            texts[name] = text
    covered: set[str] = set()
    for name, text in texts.items():
        if classify(text) == "config":
            covered |= named_rule_files(root, name, text)
            _check_config_file(root, name, text, findings)
    for name, text in texts.items():
        if classify(text) == "rules" and name not in covered:
            check_rules(Context(name, findings), text)
    return findings


def named_rule_files(root: Path, name: str, text: str) -> set[str]:
    """The bundle's rule files the configuration `name` names: promtool checks them with it."""
    folder = PurePosixPath(name).parent
    scratch = Context(name)
    named: set[str] = set()
    for pattern in rule_file_globs(text):
        named.update(_glob(root, folder, pattern, scratch, None) or ())
    return named


def _check_config_file(root: Path, name: str, text: str, findings: list[Finding]) -> None:
    ctx = Context(name, findings)
    ok, node = load_yaml(ctx, text)
    if not ok:
        return
    before = ctx.error_count
    config = Obj(node) if node is None else CONFIG.read(ctx, node)
    if config is None or ctx.error_count > before:
        return
    folder = PurePosixPath(name).parent
    rule_files: list[str] = []
    for pattern in config.get("rule_files") or []:
        matches = _glob(root, folder, pattern, ctx, config.at("rule_files"))
        if matches is None:
            continue
        if "*" not in pattern and not matches:
            ctx.error(config.at("rule_files"), f'"{pattern}" does not point to an existing file')
            return
        rule_files.extend(matches)
    if not _check_files_and_targets(root, folder, ctx, config):
        return
    for rule_file in rule_files:
        rule_ctx = Context(rule_file, findings)
        rule_text = read_text(root, rule_file, rule_ctx)
        if rule_text is not None:
            check_rules(rule_ctx, rule_text)


def _glob(
    root: Path, folder: PurePosixPath, pattern: str, ctx: Context, node: Any
) -> list[str] | None:
    """Bundle-relative names matching `pattern` (relative to the config's folder), or None
    after a warning when the pattern reaches outside the bundle."""
    joined = PurePosixPath(pattern) if pattern.startswith("/") else folder / pattern
    parts: list[str] = []
    for part in joined.parts:
        if part == "..":
            if not parts:
                parts = ["..", *parts]
                break
            parts.pop()
        elif part != ".":
            parts.append(part)
    if pattern.startswith("/") or (parts and parts[0] == ".."):
        ctx.warning(node, f'"{pattern}" is outside the bundle: not checked')
        return None
    relative = "/".join(parts)
    if not relative:
        return []
    return sorted(m.relative_to(root).as_posix() for m in root.glob(relative) if m.is_file())


def _check_files_and_targets(root: Path, folder: PurePosixPath, ctx: Context, config: Obj) -> bool:
    """promtool's checks past decoding: client cert and credentials files exist, file_sd files
    decode, static targets make addresses. False once one fails (promtool stops there)."""
    before = ctx.error_count
    for scrape in config.get("scrape_configs") or []:
        if scrape is None:
            continue
        credentials = (scrape.get("authorization") or Obj(None)).text("credentials_file") or (
            scrape.text("bearer_token_file")
        )
        if credentials and not _exists(root, folder, credentials):
            ctx.error(
                scrape.node,
                f'error checking authorization credentials or bearer token file "{credentials}":'
                " no such file",
            )
            return False
        tls_configs = [scrape.get("tls_config")] + [
            k8s.get("tls_config") for k8s in scrape.get("kubernetes_sd_configs") or [] if k8s
        ]
        for tls in tls_configs:
            if tls is not None and not _check_client_cert(root, folder, ctx, tls):
                return False
        if not _check_discovered(root, folder, ctx, scrape, scrape_job=True):
            return False
    for manager in (config.get("alerting") or Obj(None)).get("alertmanagers") or []:
        if manager is not None and not _check_discovered(
            root, folder, ctx, manager, scrape_job=False
        ):
            return False
    return ctx.error_count == before


def _check_client_cert(root: Path, folder: PurePosixPath, ctx: Context, tls: Obj) -> bool:
    cert, key = tls.text("cert_file"), tls.text("key_file")
    if cert and not key:
        ctx.error(tls.node, f'client cert file "{cert}" specified without client key file')
        return False
    if key and not cert:
        ctx.error(tls.node, f'client key file "{key}" specified without client cert file')
        return False
    for what, name in (("cert", cert), ("key", key)):
        if name and not _exists(root, folder, name):
            ctx.error(
                tls.at(f"{what}_file"), f'error checking client {what} file "{name}": no such file'
            )
            return False
    return True


def _exists(root: Path, folder: PurePosixPath, name: str) -> bool:
    if name.startswith("/"):
        return True  # outside the bundle: it is the deployment's to provide
    return (root / folder / name).exists()


def _check_discovered(
    root: Path, folder: PurePosixPath, ctx: Context, owner: Obj, *, scrape_job: bool
) -> bool:
    groups: list[tuple[Obj, Context]] = [
        (g, ctx) for g in owner.get("static_configs") or [] if g is not None
    ]
    for sd in owner.get("file_sd_configs") or []:
        if sd is None:
            continue
        for pattern in sd.get("files") or []:
            matches = _glob(root, folder, pattern, ctx, sd.at("files"))
            if not matches:
                if matches is not None:
                    ctx.warning(sd.at("files"), f'file "{pattern}" for file_sd does not exist')
                continue
            for match in matches:
                loaded = _load_targets(root, match, ctx)
                if loaded is None:
                    return False
                groups.extend(loaded)
    if owner.get("relabel_configs"):
        return True  # relabelling decides the addresses; not modelled
    scheme = owner.text("scheme") or "http"
    for group_index, (group, where) in enumerate(groups):
        labels = group.get("labels") or {}
        targets = group.get("targets") or []
        nodes = getattr(group.at("targets"), "value", [])
        for index, target in enumerate(targets):
            node = nodes[index] if index < len(nodes) else group.node
            problem = _address_problem(target, labels.get("__scheme__") or scheme, scrape_job)
            if problem is not None:
                where.error(node, f"instance {index} in group {group_index}: {problem}")
                return False
    return True


def _address_problem(address: str, scheme: str, scrape_job: bool) -> str | None:
    """scrape.PopulateLabels' verdict on one static target (notifier's, for Alertmanagers)."""
    if not address:
        return "no address" if scrape_job else None
    if "/" in address:
        return f'"{address}" is not a valid hostname'
    add_port = not _splits(address) and _splits(address + ":1234")
    if scrape_job and add_port and scheme not in ("http", "https", ""):
        return f'invalid scheme: "{scheme}"'
    return None


def _splits(address: str) -> bool:
    """Whether Go's net.SplitHostPort accepts `address`."""
    if address.startswith("["):
        close = address.find("]")
        return (
            close > 0 and address[close + 1 : close + 2] == ":" and ":" not in address[close + 2 :]
        )
    colon = address.rfind(":")
    return colon >= 0 and ":" not in address[:colon] and "[" not in address and "]" not in address


def _load_targets(root: Path, name: str, ctx: Context) -> list[tuple[Obj, Context]] | None:
    """A file_sd file's target groups, or None after the error promtool reports."""
    sd_ctx = Context(name, ctx.findings)
    text = read_text(root, name, sd_ctx)
    if text is None:
        return None
    suffix = PurePosixPath(name).suffix.lower()
    if suffix == ".json":
        return _json_targets(text, sd_ctx)
    ok, node = load_yaml(sd_ctx, text)
    if not ok:
        return None
    before = sd_ctx.error_count
    groups = ListOf(NonNull(TARGET_GROUP, "nil target group item found")).read(sd_ctx, node)
    if groups is None or sd_ctx.error_count > before:
        return None
    return [(g, sd_ctx) for g in groups if g is not None]


def _json_targets(text: str, ctx: Context) -> list[tuple[Obj, Context]] | None:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        ctx.error_at_line(exc.lineno, f"invalid JSON: {exc.msg}")
        return None
    if data is None:
        return []
    if not isinstance(data, list):
        ctx.error(None, "json: cannot unmarshal into []*targetgroup.Group")
        return None
    groups: list[tuple[Obj, Context]] = []
    for index, item in enumerate(data):
        if item is None:
            ctx.error(None, f"nil target group item found (index {index})")
            return None
        if not isinstance(item, dict):
            ctx.error(None, "json: cannot unmarshal into targetgroup.Group")
            return None
        group = Obj(None)
        targets = item.get("targets") or []
        labels = item.get("labels") or {}
        if not isinstance(targets, list) or not all(isinstance(t, str) for t in targets):
            ctx.error(None, "json: targets must be a list of strings")
            return None
        if not isinstance(labels, dict) or not all(isinstance(v, str) for v in labels.values()):
            ctx.error(None, "json: labels must be a map of strings")
            return None
        for key in labels:
            if not LABEL_NAME_RE.match(key):
                ctx.error(None, f'"{key}" is not a valid label name')
                return None
        group["targets"], group["labels"] = targets, labels
        groups.append((group, ctx))
    return groups
