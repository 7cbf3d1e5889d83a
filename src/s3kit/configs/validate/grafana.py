"""Built-in checks of a Grafana provisioning bundle (Grafana has no offline checker, so these
are the only ones): datasource files (a numeric `apiVersion`, each datasource with a name and a
type, names unique and at most one `isDefault` per organisation across all files, uids valid),
dashboard provider files (named, unique, a `path` for file providers), and dashboard JSON files
(an object with a title; a uid of at most 40 letters, digits, `-` and `_`, unique across the
bundle).

Grafana decodes provisioning YAML leniently: a key it does not know is ignored, an `access`
other than proxy/direct becomes proxy, apiVersion 2 reads as 1, so those are warnings here.
Two datasources of one name in one organisation Grafana does not refuse (the later one wins);
they are refused here, as a mistake. Alerting provisioning files are recognised and only their
YAML syntax is checked.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from s3kit.configs.validate.model import (
    YAML_SUFFIXES,
    Context,
    Finding,
    entries,
    is_null,
    kind_of,
    line_of,
    load_yaml,
    node_data,
    read_text,
    words,
)

__all__ = ["MAX_UID_LENGTH", "check", "uid_problem"]

MAX_UID_LENGTH = 40
_UID_RE = re.compile(r"^[a-zA-Z0-9\-_]*$")
DATASOURCE_KEYS = frozenset(
    words(
        "name type access orgId uid url user database basicAuth basicAuthUser withCredentials"
        " isDefault jsonData secureJsonData version editable apiVersion password"
        " basicAuthPassword"
    )
)
PROVIDER_KEYS = frozenset(
    words(
        "name orgId folder folderUid type disableDeletion editable updateIntervalSeconds"
        " allowUiUpdates options"
    )
)
_ALERTING_KEYS = frozenset(
    words(
        "groups deleteRules contactPoints deleteContactPoints policies resetPolicies templates"
        " deleteTemplates muteTimes deleteMuteTimes"
    )
)


def uid_problem(uid: object) -> str | None:
    """Why Grafana refuses `uid` (util.IsValidShortUID and its 40-character limit), or None."""
    if not isinstance(uid, str):
        return "uid must be a string"
    if len(uid) > MAX_UID_LENGTH:
        return f"uid is {len(uid)} characters: at most {MAX_UID_LENGTH}"
    if not _UID_RE.match(uid):
        return "uid may hold only letters, digits, '-' and '_'"
    return None


class _Bundle:
    """What must be unique across the bundle's files."""

    def __init__(self, findings: list[Finding]) -> None:
        self.findings = findings
        self.datasource_names: dict[tuple[int, str], str] = {}
        self.defaults: dict[int, str] = {}
        self.dashboard_uids: dict[str, str] = {}
        self.provider_names: dict[str, str] = {}


def _value(node: Any) -> Any:
    return node_data(node)


def _org(ctx: Context, item: dict[str, Any], nodes: dict[str, Any]) -> int:
    org = item.get("orgId", 1)
    if org is None:
        return 1
    if isinstance(org, bool) or not isinstance(org, int):
        ctx.error(nodes.get("orgId"), "orgId must be a number")
        return 1
    return org or 1


def _check_api_version(ctx: Context, root: Any, node: Any) -> None:
    """Grafana reads apiVersion as an integer: above 0 the current format (1), else the
    deprecated one."""
    version = _value(node)
    if node is None or version in (None, 0):
        ctx.warning(node or root, "apiVersion is missing: Grafana reads the deprecated format")
    elif isinstance(version, bool) or not isinstance(version, int):
        ctx.error(node, f"apiVersion must be a number (1), not {version!r}")
    elif version != 1:
        ctx.warning(node, f"apiVersion {version}: Grafana reads it as 1")


def _check_datasources(ctx: Context, root: Any, bundle: _Bundle) -> None:
    version_node = None
    for key, _, value in entries(ctx, root):
        if key == "apiVersion":
            version_node = value
    _check_api_version(ctx, root, version_node)
    for key, key_node, value in entries(Context(ctx.file), root):
        if key == "datasources":
            _check_datasource_list(ctx, value, bundle)
        elif key not in ("apiVersion", "deleteDatasources", "prune"):
            ctx.warning(key_node, f"unknown key '{key}': Grafana ignores it")


def _items(ctx: Context, node: Any, what: str) -> list[tuple[dict[str, Any], dict[str, Any], Any]]:
    """(values, value nodes, item node) of each mapping in a list."""
    if node is None or is_null(node):
        return []
    if not isinstance(node, yaml.SequenceNode):
        ctx.error(node, f"{what} must be a list, not {kind_of(node)}")
        return []
    items = []
    for item in node.value:
        if not isinstance(item, yaml.MappingNode):
            ctx.error(item, f"each of {what} must be a mapping")
            continue
        nodes = {key: value for key, _, value in entries(ctx, item)}
        keys = {key: key_node for key, key_node, _ in entries(Context(ctx.file), item)}
        items.append(({k: _value(v) for k, v in nodes.items()}, {**nodes, "_keys": keys}, item))
    return items


def _check_datasource_list(ctx: Context, node: Any, bundle: _Bundle) -> None:
    for item, nodes, item_node in _items(ctx, node, "datasources"):
        for key, key_node in nodes["_keys"].items():
            if key not in DATASOURCE_KEYS:
                ctx.warning(key_node, f"unknown datasource key '{key}': Grafana ignores it")
        name = item.get("name")
        if not isinstance(name, str) or not name:
            ctx.error(item_node, "a datasource needs a name")
            continue
        if not item.get("type"):
            ctx.error(item_node, f'datasource "{name}" needs a type')
        if item.get("access") not in (None, "", "proxy", "direct"):
            ctx.warning(
                nodes.get("access"),
                f'datasource "{name}": access is not proxy or direct: Grafana uses proxy',
            )
        if "uid" in item and item["uid"] is not None:
            problem = uid_problem(item["uid"])
            if problem is not None:
                ctx.error(nodes.get("uid"), f'datasource "{name}": {problem}')
        org = _org(ctx, item, nodes)
        where = f"{ctx.file}:{line_of(item_node)}"
        if (org, name) in bundle.datasource_names:
            ctx.error(
                item_node,
                f'datasource "{name}" (org {org}) is also provisioned at '
                f"{bundle.datasource_names[(org, name)]}",
            )
        else:
            bundle.datasource_names[(org, name)] = where
        if item.get("isDefault") is True:
            if org in bundle.defaults:
                ctx.error(
                    nodes.get("isDefault"),
                    f"only one datasource per organization can be marked as default: org {org}"
                    f" already has one at {bundle.defaults[org]}",
                )
            else:
                bundle.defaults[org] = where


def _check_providers(ctx: Context, root: Any, bundle: _Bundle) -> None:
    version_node = None
    for key, key_node, value in entries(ctx, root):
        if key == "apiVersion":
            version_node = value
        elif key == "providers":
            _check_provider_list(ctx, value, bundle)
        else:
            ctx.warning(key_node, f"unknown key '{key}': Grafana ignores it")
    _check_api_version(ctx, root, version_node)


def _check_provider_list(ctx: Context, node: Any, bundle: _Bundle) -> None:
    for item, nodes, item_node in _items(ctx, node, "providers"):
        for key, key_node in nodes["_keys"].items():
            if key not in PROVIDER_KEYS:
                ctx.warning(key_node, f"unknown provider key '{key}': Grafana ignores it")
        name = item.get("name")
        if not isinstance(name, str) or not name:
            ctx.error(item_node, "a dashboard provider needs a name")
            continue
        if name in bundle.provider_names:
            ctx.error(
                item_node,
                f'dashboard provider "{name}" is also defined at {bundle.provider_names[name]}',
            )
        else:
            bundle.provider_names[name] = f"{ctx.file}:{line_of(item_node)}"
        options = item.get("options")
        if item.get("type", "file") in (None, "file") and not (
            isinstance(options, dict) and options.get("path")
        ):
            ctx.error(item_node, f'dashboard provider "{name}" needs options.path')
        if item.get("folderUid"):
            problem = uid_problem(item["folderUid"])
            if problem is not None:
                ctx.error(nodes.get("folderUid"), f'provider "{name}" folderUid: {problem}')


def _check_dashboard(ctx: Context, text: str, bundle: _Bundle) -> None:
    try:
        dashboard = json.loads(text)
    except json.JSONDecodeError as exc:
        ctx.error_at_line(exc.lineno, f"invalid JSON: {exc.msg}")
        return
    if not isinstance(dashboard, dict):
        ctx.error_at_line(1, "a dashboard must be a JSON object")
        return
    title = dashboard.get("title")
    if not isinstance(title, str) or not title.strip():
        ctx.error_at_line(_json_line(text, "title"), "dashboard title cannot be empty")
    uid = dashboard.get("uid")
    if uid is None or uid == "":
        return
    line = _json_line(text, "uid")
    problem = uid_problem(uid)
    if problem is not None:
        ctx.error_at_line(line, f"dashboard {problem}")
        return
    if uid in bundle.dashboard_uids:
        ctx.error_at_line(
            line, f'dashboard uid "{uid}" is also used by {bundle.dashboard_uids[uid]}'
        )
    else:
        bundle.dashboard_uids[uid] = ctx.file


def _json_line(text: str, key: str) -> int | None:
    """The line of the top-level `key` of a JSON object: the least indented occurrence."""
    best: tuple[int, int] | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        m = re.match(rf'^(\s*)(?:\{{\s*)?"{re.escape(key)}"\s*:', line)
        if m is not None and (best is None or len(m.group(1)) < best[0]):
            best = (len(m.group(1)), number)
    return None if best is None else best[1]


def _check_yaml(ctx: Context, text: str, bundle: _Bundle) -> None:
    ok, root = load_yaml(ctx, text)
    if not ok:
        return
    if root is None or is_null(root):
        ctx.warning(None, "the file is empty: Grafana provisions nothing from it")
        return
    if not isinstance(root, yaml.MappingNode):
        ctx.error(root, f"a provisioning file must be a mapping, not {kind_of(root)}")
        return
    keys = {getattr(k, "value", None) for k, _ in root.value}
    if keys & {"datasources", "deleteDatasources"}:
        _check_datasources(ctx, root, bundle)
    elif "providers" in keys:
        _check_providers(ctx, root, bundle)
    elif not keys & _ALERTING_KEYS:
        ctx.warning(root, "not a datasources, dashboards or alerting provisioning file")


def check(root: Path, files: Sequence[str]) -> list[Finding]:
    """Findings for the Grafana provisioning bundle: YAML provisioning files, JSON dashboards."""
    findings: list[Finding] = []
    bundle = _Bundle(findings)
    for name in sorted(files):
        is_json = name.endswith(".json")
        if not is_json and not name.endswith(YAML_SUFFIXES):
            continue
        ctx = Context(name, findings)
        text = read_text(root, name, ctx)
        if text is None:
            continue
        if is_json:
            _check_dashboard(ctx, text, bundle)
        else:
            _check_yaml(ctx, text, bundle)
    return findings
