"""Prometheus rule files as promtool 2.42 checks them (model/rulefmt: yaml.v3, known fields
only; then each group and rule): group names set and unique, each rule a `record` or an `alert`,
its `expr` parsed as the PromQL of 2.42, durations, label and annotation names, the alert's
templates parsed, and promtool's lint of duplicate rules (a warning: promtool still passes).

PromQL is read by the promql-parser package (a compiled Rust parser); what 2.42 did not yet
have is refused after it: the functions and aggregations added later, quoted UTF-8 names,
`or` inside a selector.
"""

from __future__ import annotations

import contextlib
import functools
import re
from typing import Any

import yaml

from s3kit.configs.validate.gosyntax import GO_TEMPLATE_BUILTINS, template_error
from s3kit.configs.validate.model import (
    Context,
    Integer,
    ListOf,
    Obj,
    Spec,
    Struct,
    is_null,
    load_yaml,
)
from s3kit.configs.validate.promcommon import (
    DURATION,
    LABEL_NAME_RE,
    METRIC_NAME_RE,
    STRING_MAP,
    TEXT,
)

__all__ = ["PROMETHEUS_TEMPLATE_FUNCS", "check_rules", "promql_error"]

PROMETHEUS_TEMPLATE_FUNCS = GO_TEMPLATE_BUILTINS | frozenset(
    [
        "query",
        "first",
        "label",
        "value",
        "strvalue",
        "args",
        "reReplaceAll",
        "safeHtml",
        "match",
        "title",
        "toUpper",
        "toLower",
        "graphLink",
        "tableLink",
        "sortByLabel",
        "stripPort",
        "stripDomain",
        "humanize",
        "humanize1024",
        "humanizeDuration",
        "humanizePercentage",
        "humanizeTimestamp",
        "toTime",
        "pathPrefix",
        "externalURL",
        "parseDuration",
    ]
)


PROMQL_FUNCTIONS = frozenset(
    [
        "abs",
        "absent",
        "absent_over_time",
        "acos",
        "acosh",
        "asin",
        "asinh",
        "atan",
        "atanh",
        "avg_over_time",
        "ceil",
        "changes",
        "clamp",
        "clamp_max",
        "clamp_min",
        "cos",
        "cosh",
        "count_over_time",
        "days_in_month",
        "day_of_month",
        "day_of_week",
        "day_of_year",
        "deg",
        "delta",
        "deriv",
        "exp",
        "floor",
        "histogram_count",
        "histogram_sum",
        "histogram_fraction",
        "histogram_quantile",
        "holt_winters",
        "hour",
        "idelta",
        "increase",
        "irate",
        "label_replace",
        "label_join",
        "last_over_time",
        "ln",
        "log10",
        "log2",
        "max_over_time",
        "min_over_time",
        "minute",
        "month",
        "pi",
        "predict_linear",
        "present_over_time",
        "quantile_over_time",
        "rad",
        "rate",
        "resets",
        "round",
        "scalar",
        "sgn",
        "sin",
        "sinh",
        "sort",
        "sort_desc",
        "sqrt",
        "stddev_over_time",
        "stdvar_over_time",
        "sum_over_time",
        "tan",
        "tanh",
        "time",
        "timestamp",
        "vector",
        "year",
    ]
)
PROMQL_AGGREGATIONS = frozenset(
    [
        "sum",
        "avg",
        "count",
        "min",
        "max",
        "group",
        "stddev",
        "stdvar",
        "topk",
        "bottomk",
        "count_values",
        "quantile",
    ]
)
_PROMQL_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`', re.DOTALL)


def promql_error(expr: str) -> str | None:
    """The parse error Prometheus 2.42 gives for `expr`, or None: promql-parser reads the
    syntax and types; then what 2.42 did not yet have is refused (functions and aggregations
    added later, quoted UTF-8 names, `or` inside a selector)."""
    import promql_parser

    _register_legacy_functions(promql_parser)
    quoted = _quoted_label_name(expr)
    if quoted is not None:
        return f'unexpected string {quoted} in label matching, expected identifier or "}}"'
    try:
        tree = promql_parser.parse(expr)
    except (ValueError, TypeError) as exc:
        return str(exc) or "invalid PromQL"
    problems: list[str] = []

    def visit(node: Any) -> None:
        if isinstance(node, promql_parser.Call) and node.func.name not in PROMQL_FUNCTIONS:
            problems.append(f'unknown function with name "{node.func.name}"')
        elif isinstance(node, promql_parser.AggregateExpr):
            op = str(node.op)
            if op not in PROMQL_AGGREGATIONS:
                problems.append(f'unexpected aggregation "{op}"')
        elif isinstance(node, promql_parser.VectorSelector) and node.matchers.or_matchers:
            problems.append("unexpected 'or' in label matching")

    promql_parser.walk(tree, visit)
    return problems[0] if problems else None


@functools.cache
def _register_legacy_functions(promql_parser: Any) -> None:
    """holt_winters was renamed in Prometheus 3 and newer parsers dropped it; 2.42 has it.
    The registry is the extension's own (process-wide, additive): registering twice is refused
    with ValueError, which means it is already there."""
    vt = promql_parser.ValueType
    with contextlib.suppress(ValueError):
        promql_parser.register_extra_functions(
            [promql_parser.Function("holt_winters", [vt.Matrix, vt.Scalar, vt.Scalar], vt.Vector)]
        )


def _quoted_label_name(expr: str) -> str | None:
    """A string where 2.42's lexer wants a label name (`{"a.b"="c"}`, `{"metric"}`)."""
    depth = 0
    previous = ""
    pos = 0
    while pos < len(expr):
        c = expr[pos]
        if c == "#":
            end = expr.find("\n", pos)
            pos = len(expr) if end < 0 else end
            continue
        if c in "\"'`":
            m = _PROMQL_STRING.match(expr, pos)
            if m is None:
                return None  # unterminated: the parser says so
            if depth and previous in ("{", ","):
                return m.group(0)
            previous = "string"
            pos = m.end()
            continue
        if c == "{":
            depth += 1
        elif c == "}":
            depth = max(0, depth - 1)
        if not c.isspace():
            previous = c
        pos += 1
    return None


class _Node(Spec):
    """A yaml.Node field of rulefmt: any node; its Value is a scalar's text, else ""."""

    def read(self, ctx: Context, node: Any) -> Any:
        return node


_RULE = Struct(
    "rulefmt.RuleNode",
    {
        "record": _Node(),
        "alert": _Node(),
        "expr": _Node(),
        "for": DURATION,
        "keep_firing_for": DURATION,
        "labels": STRING_MAP,
        "annotations": STRING_MAP,
    },
)
_RULE_GROUP = Struct(
    "rulefmt.RuleGroup",
    {"name": TEXT, "interval": DURATION, "limit": Integer(), "rules": ListOf(_RULE)},
)
RULE_GROUPS = Struct("rulefmt.RuleGroups", {"groups": ListOf(_RULE_GROUP)})
_TEMPLATE_VARIABLES = ("$labels", "$externalLabels", "$externalURL", "$value")


def _scalar_text(node: Any) -> str:
    if isinstance(node, yaml.ScalarNode) and not is_null(node):
        return str(node.value)
    return ""


def check_rules(ctx: Context, text: str) -> int:
    """Check one rule file's text; the number of rules it holds."""
    ok, root = load_yaml(ctx, text)
    if not ok or root is None:
        return 0
    before = ctx.error_count
    groups = RULE_GROUPS.read(ctx, root)
    if ctx.error_count > before or groups is None:
        return 0  # rulefmt validates only what decoded
    names: set[str] = set()
    count = 0
    seen_rules: dict[tuple[str, tuple[tuple[str, str], ...]], int | None] = {}
    for group in groups.get("groups") or []:
        if group is None:
            group = Obj(None)
        name = group.text("name")
        if not name:
            ctx.error(group.node, "Groupname must not be empty")
        if name in names:
            ctx.error(group.node, f'groupname: "{name}" is repeated in the same file')
        names.add(name)
        for index, rule in enumerate(group.get("rules") or [], start=1):
            if rule is None:
                rule = Obj(None)
            count += 1
            _check_rule(ctx, name, index, rule)
            key = (
                _scalar_text(rule.get("alert")) or _scalar_text(rule.get("record")),
                tuple(sorted((rule.get("labels") or {}).items())),
            )
            if key in seen_rules:
                ctx.warning(
                    rule.node,
                    f"duplicate rule: {key[0]} with the same labels as the rule at line "
                    f"{seen_rules[key]} (promtool's lint: might cause inconsistency)",
                )
            else:
                seen_rules[key] = None if rule.node is None else rule.node.start_mark.line + 1
    return count


def _check_rule(ctx: Context, group: str, index: int, rule: Obj) -> None:
    record_node, alert_node, expr_node = rule.get("record"), rule.get("alert"), rule.get("expr")
    record, alert, expr = (
        _scalar_text(record_node),
        _scalar_text(alert_node),
        _scalar_text(expr_node),
    )
    where = f'group "{group}", rule {index}, "{alert or record}"'
    node = rule.node
    if record and alert:
        ctx.error(record_node, f"{where}: only one of 'record' and 'alert' must be set")
    if not record and not alert:
        ctx.error(node, f"{where}: one of 'record' or 'alert' must be set")
    if not expr:
        ctx.error(expr_node or node, f"{where}: field 'expr' must be set in rule")
    else:
        problem = promql_error(expr)
        if problem is not None:
            ctx.error(expr_node, f"{where}: could not parse expression: {problem}")
    if record:
        if rule.get("annotations"):
            ctx.error(record_node, f"{where}: invalid field 'annotations' in recording rule")
        if rule.get("for"):
            ctx.error(record_node, f"{where}: invalid field 'for' in recording rule")
        if rule.get("keep_firing_for"):
            ctx.error(record_node, f"{where}: invalid field 'keep_firing_for' in recording rule")
        if not METRIC_NAME_RE.match(record):
            ctx.error(record_node, f"{where}: invalid recording rule name: {record}")
    labels = rule.get("labels") or Obj(None)
    for key in labels:
        if not LABEL_NAME_RE.match(key) or key == "__name__":
            ctx.error(labels.key_nodes.get(key), f"{where}: invalid label name: {key}")
    annotations = rule.get("annotations") or Obj(None)
    for key in annotations:
        if not LABEL_NAME_RE.match(key):
            ctx.error(annotations.key_nodes.get(key), f"{where}: invalid annotation name: {key}")
    if alert:
        for kind, values in (("label", labels), ("annotation", annotations)):
            for key, value in values.items():
                problem = template_error(
                    value or "", PROMETHEUS_TEMPLATE_FUNCS, variables=_TEMPLATE_VARIABLES
                )
                if problem is not None:
                    ctx.error(values.nodes.get(key), f'{where}: {kind} "{key}": {problem}')
