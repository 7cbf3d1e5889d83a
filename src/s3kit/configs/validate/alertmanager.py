"""Built-in checks of an Alertmanager bundle, written to reach `amtool check-config`'s verdict
(Alertmanager 0.25: config/config.go, config/notifiers.go, timeinterval, pkg/labels).

Each YAML file of the bundle is an Alertmanager configuration: strict yaml.v2 structs (an
unknown key anywhere is an error), the route tree (a root receiver, no matchers at the root,
every receiver named in the tree defined, group_by labels valid and not repeated, matchers in
Alertmanager's syntax, regexes that compile), receivers with unique names and each
integration's required settings (alertmanager_receivers.py; here what falls back to `global:`
where Alertmanager lets it), inhibit
rules, time intervals, durations; then the notification templates the `templates:` globs match
(relative to the config's folder), parsed as Go templates. Template files (.tmpl) are checked
only through a configuration that names them.
"""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Sequence
from pathlib import Path, PurePosixPath
from typing import Any

from s3kit.configs.validate.alertmanager_receivers import (
    ALERTMANAGER_TEMPLATE_FUNCS,
    HOST_PORT,
    HTTP_CONFIG,
    RECEIVER,
    SECRET_URL,
    URL,
)
from s3kit.configs.validate.gosyntax import regex_error, template_error
from s3kit.configs.validate.model import (
    Context,
    Finding,
    ListOf,
    MapOf,
    Obj,
    Spec,
    Struct,
    Text,
    is_null,
    read_text,
    words,
    yaml_files,
)
from s3kit.configs.validate.promcommon import (
    DURATION,
    FLAG,
    LABEL_NAME_RE,
    STRING_MAP,
    STRINGS,
    TEXT,
    given,
)

__all__ = ["check", "parse_matchers"]

_MATCHER_RE = re.compile(r"^\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(=~|=|!=|!~)\s*((?s:.*?))\s*$")


# --- Matchers (pkg/labels/parse.go) --------------------------------------------------------


def parse_matchers(text: str) -> str | None:
    """The error Alertmanager 0.25's labels.ParseMatchers gives for `text`, or None."""
    text = text.removeprefix("{").removesuffix("}")
    tokens: list[str] = []
    token: list[str] = []
    inside_quotes = escaped = False
    for c in text:
        if c == "," and not inside_quotes:
            tokens.append("".join(token))
            token = []
            continue
        if c == '"':
            if not escaped:
                inside_quotes = not inside_quotes
            else:
                escaped = False
        elif c == "\\":
            escaped = not escaped
        else:
            escaped = False
        token.append(c)
    last = "".join(token).strip()
    if last:
        tokens.append(last)
    for item in tokens:
        problem = _parse_matcher(item)
        if problem is not None:
            return problem
    return None


def _parse_matcher(text: str) -> str | None:
    m = _MATCHER_RE.match(text)
    if m is None:
        return f"bad matcher format: {text}"
    raw = m.group(3)
    expect_quote = raw.startswith('"')
    if expect_quote:
        raw = raw[1:]
    value: list[str] = []
    escaped = False
    for i, c in enumerate(raw):
        if escaped:
            escaped = False
            value.append({"n": "\n", '"': '"', "\\": "\\"}.get(c, "\\" + c))
            continue
        if c == "\\":
            if i < len(raw) - 1:
                escaped = True
                continue
            value.append("\\")
        elif c == '"':
            if not expect_quote or i < len(raw) - 1:
                return f"matcher value contains unescaped double quote: {m.group(3)}"
            expect_quote = False
        else:
            value.append(c)
    if expect_quote:
        return f"matcher value contains unescaped double quote: {m.group(3)}"
    if m.group(2) in ("=~", "!~"):
        return regex_error("".join(value))
    return None


def _check_regexp(ctx: Context, node: Any, value: str) -> None:
    problem = regex_error(value)
    if problem is not None:
        ctx.error(node, problem)


def _check_label(ctx: Context, node: Any, value: str) -> None:
    if not LABEL_NAME_RE.match(value):
        ctx.error(node, f'"{value}" is not a valid label name')


class _Matchers(Spec):
    what = "[]string"

    def read(self, ctx: Context, node: Any) -> list[str] | None:
        lines = STRINGS.read(ctx, node)
        for line, item in zip(lines or [], getattr(node, "value", []), strict=False):
            problem = parse_matchers(line)
            if problem is not None:
                ctx.error(item, problem)
        return lines


class _MatchRegexps(Spec):
    what = "config.MatchRegexps"

    def read(self, ctx: Context, node: Any) -> Obj | None:
        values = MapOf(Text(_check_regexp)).read(ctx, node)
        for key in values or {}:
            if not LABEL_NAME_RE.match(key):
                ctx.error(values.key_nodes[key] if values else node, f'invalid label name "{key}"')
            elif values is not None and is_null(values.nodes[key]):
                ctx.error(values.nodes[key], f'invalid regexp value for "{key}"')
        return values


class _Match(Spec):
    what = "map[string]string"

    def read(self, ctx: Context, node: Any) -> Obj | None:
        values = STRING_MAP.read(ctx, node)
        for key in values or {}:
            if not LABEL_NAME_RE.match(key):
                ctx.error(values.key_nodes[key] if values else node, f'invalid label name "{key}"')
        return values


MATCHERS = _Matchers()
MATCH_RE = _MatchRegexps()
MATCH = _Match()
# --- Route, inhibition, time intervals ------------------------------------------------------


def _check_route(ctx: Context, c: Obj) -> None:
    group_by = c.get("group_by") or []
    labels = [label for label in group_by if label != "..."]
    for label in labels:
        if not LABEL_NAME_RE.match(label):
            ctx.error(c.at("group_by"), f'invalid label name "{label}" in group_by list')
            return
    if labels and len(labels) != len(group_by):
        ctx.error(c.at("group_by"), "cannot have wildcard group_by (`...`) and other labels")
        return
    duplicates = sorted({label for label in labels if labels.count(label) > 1})
    if duplicates:
        ctx.error(c.at("group_by"), f'duplicated label "{duplicates[0]}" in group_by')
        return
    for key in ("group_interval", "repeat_interval"):
        if given(c, key) and c.get(key) == 0:
            ctx.error(c.at(key), f"{key} cannot be zero")
            return


ROUTE = Struct(
    "config.Route",
    {
        "receiver": TEXT,
        "group_by": STRINGS,
        "match": MATCH,
        "match_re": MATCH_RE,
        "matchers": MATCHERS,
        "mute_time_intervals": STRINGS,
        "active_time_intervals": STRINGS,
        "continue": FLAG,
        "group_wait": DURATION,
        "group_interval": DURATION,
        "repeat_interval": DURATION,
    },
    check=_check_route,
)
ROUTE.fields["routes"] = ListOf(ROUTE)

INHIBIT_RULE = Struct(
    "config.InhibitRule",
    {
        "source_match": MATCH,
        "source_match_re": MATCH_RE,
        "source_matchers": MATCHERS,
        "target_match": MATCH,
        "target_match_re": MATCH_RE,
        "target_matchers": MATCHERS,
        "equal": ListOf(Text(_check_label)),
    },
)

_WEEKDAYS = {
    d: i for i, d in enumerate(words("sunday monday tuesday wednesday thursday friday saturday"))
}
_MONTHS = {
    m: i
    for i, m in enumerate(
        words(
            "january february march april may june july august september october november december"
        ),
        start=1,
    )
}
_TIME_RE = re.compile(r"^((([01][0-9])|(2[0-3])):[0-5][0-9])$|(^24:00$)")


class _Range(Spec):
    """One of a time interval's ranges (`monday:friday`, `1:5`, `-3:-1`, `2024`)."""

    what = "string"

    def __init__(self, kind: str) -> None:
        self.kind = kind

    def read(self, ctx: Context, node: Any) -> Any:
        text = TEXT.read(ctx, node)
        if text is None or is_null(node):
            return text
        problem = _range_problem(self.kind, text)
        if problem is not None:
            ctx.error(node, problem)
        return text


def _member(kind: str, text: str) -> int:
    if kind == "weekday":
        if text not in _WEEKDAYS:
            raise ValueError(f"{text} is not a valid weekday")
        return _WEEKDAYS[text]
    if kind == "month" and text in _MONTHS:
        return _MONTHS[text]
    try:
        return int(text)  # Go's strconv.Atoi: an optional sign, then digits
    except ValueError:
        raise ValueError(
            f"{text} is not a valid month" if kind == "month" else f'strconv.Atoi: parsing "{text}"'
        ) from None


def _range_problem(kind: str, text: str) -> str | None:
    lowered = text.lower()
    parts = lowered.split(":") if ":" in lowered else [lowered, lowered]
    if len(parts) != 2:
        return f"couldn't parse range {lowered}, invalid format"
    try:
        if any(not re.fullmatch(r"[+-]?[0-9]+|[a-z]+", p) for p in parts):
            raise ValueError(f"couldn't parse range {lowered}, invalid format")
        begin, end = _member(kind, parts[0]), _member(kind, parts[1])
    except ValueError as exc:
        return str(exc)
    if kind == "weekday":
        if begin > end:
            return "start day cannot be before end day"
        if not (0 <= begin <= 6 and 0 <= end <= 6):
            return f"{text} is not a valid day of the week: out of range"
    elif kind == "day":
        for day in (begin, end):
            if day == 0 or day < -31 or day > 31:
                return f"{day} is not a valid day of the month: out of range"
        if begin < 0 < end:
            return "end day must be negative if start day is negative"
        if (28 + begin if begin < 0 else begin) > (28 + end if end < 0 else end):
            return f"end day {end} is always before start day {begin}"
    elif begin > end:
        return f"end {kind} {end} is before start {kind} {begin}"
    return None


def _check_time_range(ctx: Context, c: Obj) -> None:
    start, end = c.text("start_time"), c.text("end_time")
    if not start or not end:
        ctx.error(c.node, "both start and end times must be provided")
        return
    minutes = []
    for value in (start, end):
        if not _TIME_RE.match(value):
            ctx.error(c.node, f"couldn't parse timestamp {value}, invalid format")
            return
        hours, mins = value.split(":")
        minutes.append(int(hours) * 60 + int(mins))
    if minutes[0] >= minutes[1]:
        ctx.error(c.node, "start time cannot be equal or greater than end time")


def _check_location(ctx: Context, node: Any, value: str) -> None:
    if value in ("", "UTC", "Local"):
        return
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        ctx.error(node, f"unknown time zone {value}")


_TIME_INTERVAL_SPEC = Struct(
    "timeinterval.TimeInterval",
    {
        "times": ListOf(
            Struct(
                "timeinterval.TimeRange",
                {"start_time": TEXT, "end_time": TEXT},
                check=_check_time_range,
            )
        ),
        "weekdays": ListOf(_Range("weekday")),
        "days_of_month": ListOf(_Range("day")),
        "months": ListOf(_Range("month")),
        "years": ListOf(_Range("year")),
        "location": Text(_check_location),
    },
)


def _named_intervals(what: str) -> Struct:
    def check(ctx: Context, c: Obj) -> None:
        if not c.text("name"):
            ctx.error(c.node, f"missing name in {what}")

    return Struct(
        "config.TimeInterval",
        {"name": TEXT, "time_intervals": ListOf(_TIME_INTERVAL_SPEC)},
        check=check,
    )


# --- The configuration ----------------------------------------------------------------------


def _global_value(glob_: Obj, key: str) -> bool:
    return glob_ is not None and bool(glob_.get(key))


def _check_config(ctx: Context, c: Obj) -> None:
    glob_ = c.get("global") or Obj(c.node)
    for key in ("slack_api_url", "opsgenie_api_key", "victorops_api_key", "smtp_auth_password"):
        if glob_.get(key) and glob_.text(f"{key}_file"):
            ctx.error(glob_.at(key), f"at most one of {key} & {key}_file must be configured")
            return
    names: dict[str, Any] = {}
    for receiver in c.get("receivers") or []:
        if receiver is None:
            continue
        name = receiver.text("name")
        if name in names:
            ctx.error(receiver.at("name"), f'notification config name "{name}" is not unique')
            return
        if _receiver_defaults_problem(ctx, receiver, glob_):
            return
        names[name] = receiver
    route = c.get("route")
    if route is None:
        ctx.error(c.at("route"), "no route provided in config")
        return
    if not route.text("receiver"):
        ctx.error(route.node, "root route must specify a default receiver")
        return
    if route.get("match") or route.get("match_re") or route.get("matchers"):
        ctx.error(route.node, "root route must not have any matchers")
        return
    for key in ("mute_time_intervals", "active_time_intervals"):
        if route.get(key):
            ctx.error(route.at(key), f"root route must not have any {key.replace('_', ' ')}")
            return
    if not _receivers_defined(ctx, route, names):
        return
    intervals: set[str] = set()
    for key, what in (
        ("mute_time_intervals", "mute time interval"),
        ("time_intervals", "time interval"),
    ):
        for interval in c.get(key) or []:
            if interval is None:
                continue
            name = interval.text("name")
            if name in intervals:
                ctx.error(interval.at("name"), f'{what} "{name}" is not unique')
                return
            intervals.add(name)
    if not _intervals_defined(ctx, route, intervals):
        return
    if route.get("continue"):
        ctx.error(route.at("continue"), "cannot have continue in root route")


def _receiver_defaults_problem(ctx: Context, receiver: Obj, glob_: Obj) -> bool:
    """What Config.UnmarshalYAML refuses when neither the integration nor `global:` sets it."""

    def missing(items: str, own: tuple[str, ...], global_keys: tuple[str, ...], msg: str) -> bool:
        for item in receiver.get(items) or []:
            if item is None:
                continue
            if not any(given(item, k) and item.get(k) for k in own) and not any(
                _global_value(glob_, k) for k in global_keys
            ):
                ctx.error(item.node, msg)
                return True
        return False

    checks = [
        ("email_configs", ("smarthost",), ("smtp_smarthost",), "no global SMTP smarthost set"),
        ("email_configs", ("from",), ("smtp_from",), "no global SMTP from set"),
        (
            "slack_configs",
            ("api_url", "api_url_file"),
            ("slack_api_url", "slack_api_url_file"),
            "no global Slack API URL set either inline or in a file",
        ),
        (
            "opsgenie_configs",
            ("api_key", "api_key_file"),
            ("opsgenie_api_key", "opsgenie_api_key_file"),
            "no global OpsGenie API Key set either inline or in a file",
        ),
        (
            "wechat_configs",
            ("api_secret",),
            ("wechat_api_secret",),
            "no global Wechat ApiSecret set",
        ),
        ("wechat_configs", ("corp_id",), ("wechat_api_corp_id",), "no global Wechat CorpID set"),
        (
            "victorops_configs",
            ("api_key", "api_key_file"),
            ("victorops_api_key", "victorops_api_key_file"),
            "no global VictorOps API Key set",
        ),
        ("discord_configs", ("webhook_url",), (), "no discord webhook URL provided"),
    ]
    return any(missing(*check) for check in checks)


def _receivers_defined(ctx: Context, route: Obj, names: dict[str, Any]) -> bool:
    for child in route.get("routes") or []:
        if child is not None and not _receivers_defined(ctx, child, names):
            return False
    receiver = route.text("receiver")
    if receiver and receiver not in names:
        ctx.error(route.at("receiver"), f'undefined receiver "{receiver}" used in route')
        return False
    return True


def _intervals_defined(ctx: Context, route: Obj, intervals: set[str]) -> bool:
    for child in route.get("routes") or []:
        if child is not None and not _intervals_defined(ctx, child, intervals):
            return False
    for key in ("active_time_intervals", "mute_time_intervals"):
        for name in route.get(key) or []:
            if name not in intervals:
                ctx.error(route.at(key), f'undefined time interval "{name}" used in route')
                return False
    return True


CONFIG = Struct(
    "config.plain",
    {
        "global": Struct(
            "config.GlobalConfig",
            {
                "resolve_timeout": DURATION,
                "http_config": HTTP_CONFIG,
                **dict.fromkeys(
                    words(
                        "smtp_from smtp_hello smtp_auth_username smtp_auth_password "
                        "smtp_auth_password_file smtp_auth_secret smtp_auth_identity "
                        "slack_api_url_file opsgenie_api_key opsgenie_api_key_file "
                        "wechat_api_secret wechat_api_corp_id victorops_api_key "
                        "victorops_api_key_file"
                    ),
                    TEXT,
                ),
                "smtp_smarthost": HOST_PORT,
                "smtp_require_tls": FLAG,
                "slack_api_url": SECRET_URL,
                **dict.fromkeys(
                    words(
                        "pagerduty_url opsgenie_api_url wechat_api_url "
                        "victorops_api_url telegram_api_url webex_api_url"
                    ),
                    URL,
                ),
            },
        ),
        "route": ROUTE,
        "inhibit_rules": ListOf(INHIBIT_RULE),
        "receivers": ListOf(RECEIVER),
        "templates": STRINGS,
        "mute_time_intervals": ListOf(_named_intervals("mute time interval")),
        "time_intervals": ListOf(_named_intervals("time interval")),
    },
    check=_check_config,
)


def check(root: Path, files: Sequence[str]) -> list[Finding]:
    """Findings for each Alertmanager configuration in the bundle, with its templates."""
    findings: list[Finding] = []
    for ctx, _, node in yaml_files(root, files, findings):
        _check_file(root, ctx, node)
    return findings


def _check_file(root: Path, ctx: Context, node: Any) -> None:
    if node is None:
        ctx.error(None, "no route provided in config")
        return
    before = ctx.error_count
    config = CONFIG.read(ctx, node)
    if config is None or ctx.error_count > before:
        return
    folder = PurePosixPath(ctx.file).parent
    for pattern in config.get("templates") or []:
        _check_templates(root, folder, pattern, ctx, config.at("templates"))


def _check_templates(
    root: Path, folder: PurePosixPath, pattern: str, ctx: Context, node: Any
) -> None:
    if pattern.startswith("/") or ".." in PurePosixPath(pattern).parts:
        ctx.warning(node, f'templates "{pattern}" is outside the bundle: not checked')
        return
    relative = (folder / pattern).as_posix()
    try:
        matches = sorted(p for p in root.glob(relative) if p.is_file())
    except ValueError as exc:
        ctx.error(node, f"syntax error in pattern: {exc}")
        return
    for path in matches:
        name = path.relative_to(root).as_posix()
        template_ctx = Context(name, ctx.findings)
        text = read_text(root, name, template_ctx)
        if text is None:
            continue
        problem = template_error(text, ALERTMANAGER_TEMPLATE_FUNCS)
        if problem is not None:
            line = re.search(r":(\d+):", problem)
            template_ctx.error_at_line(int(line.group(1)) if line else None, problem)
            return
