"""The prometheus/common pieces Prometheus and Alertmanager both decode, as specs for the
typed walk in model.py: durations, URLs, the HTTP client (basic_auth, authorization, oauth2,
bearer tokens, TLS, proxy) with its Validate rules, SigV4, label names and label sets, relabel
rules and static target groups (Prometheus v2.42 with prometheus/common v0.39).
"""

from __future__ import annotations

import re
from typing import Any

from s3kit.configs.validate.durations import parse_prometheus_duration
from s3kit.configs.validate.gosyntax import regex_error, url_error
from s3kit.configs.validate.model import (
    Context,
    Duration,
    Flag,
    Integer,
    ListOf,
    MapOf,
    Obj,
    Spec,
    Struct,
    Text,
    is_null,
    is_utf8,
)

__all__ = [
    "DURATION",
    "FLAG",
    "HTTP_CLIENT",
    "LABEL_NAME_RE",
    "LABEL_SET",
    "LABEL_VALUE",
    "METRIC_NAME_RE",
    "RELABEL",
    "SIGV4",
    "STRINGS",
    "STRING_MAP",
    "TARGET_GROUP",
    "TEXT",
    "TLS_CONFIG",
    "URL",
    "NonNull",
    "given",
    "relabels",
]

LABEL_NAME_RE = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")
METRIC_NAME_RE = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
_RELABEL_TARGET_RE = re.compile(r"^(?:(?:[a-zA-Z_]|\$(?:\{\w+\}|\w+))+\w*)+$", re.ASCII)


DURATION = Duration(parse_prometheus_duration)
TEXT = Text()
FLAG = Flag()
STRINGS = ListOf(TEXT)
STRING_MAP = MapOf(TEXT)


def _check_url(ctx: Context, node: Any, value: str) -> None:
    problem = url_error(value)
    if problem is not None:
        ctx.error(node, f"invalid URL: {problem}")


URL = Text(_check_url)


def _check_tls_version(ctx: Context, node: Any, value: str) -> None:
    if value not in ("TLS10", "TLS11", "TLS12", "TLS13"):
        ctx.error(node, f"unknown TLS version: {value}")


TLS_CONFIG = Struct(
    "config.TLSConfig",
    {
        "ca_file": TEXT,
        "cert_file": TEXT,
        "key_file": TEXT,
        "server_name": TEXT,
        "insecure_skip_verify": FLAG,
        "min_version": Text(_check_tls_version),
        "max_version": Text(_check_tls_version),
    },
)


def _http_client_problem(c: Obj) -> tuple[str, str] | None:
    """prometheus/common's HTTPClientConfig.Validate: the first problem, and its key."""
    basic, auth, oauth2 = c.get("basic_auth"), c.get("authorization"), c.get("oauth2")
    token, token_file = c.text("bearer_token"), c.text("bearer_token_file")
    if token and token_file:
        return "bearer_token", "at most one of bearer_token & bearer_token_file must be configured"
    if (basic is not None or oauth2 is not None) and (token or token_file):
        return "bearer_token", (
            "at most one of basic_auth, oauth2, bearer_token & bearer_token_file must be configured"
        )
    if basic is not None and basic.text("password") and basic.text("password_file"):
        return "basic_auth", "at most one of basic_auth password & password_file must be configured"
    if auth is not None:
        if token or token_file:
            return "authorization", "authorization is not compatible with bearer_token"
        if auth.text("credentials") and auth.text("credentials_file"):
            return "authorization", (
                "at most one of authorization credentials & credentials_file must be configured"
            )
        if auth.text("type").strip().lower() == "basic":
            return "authorization", (
                'authorization type cannot be set to "basic", use "basic_auth" instead'
            )
        if basic is not None or oauth2 is not None:
            return "authorization", "at most one of basic_auth, oauth2 & authorization"
    if oauth2 is not None:
        if basic is not None:
            return "oauth2", "at most one of basic_auth, oauth2 & authorization must be configured"
        if not oauth2.text("client_id"):
            return "oauth2", "oauth2 client_id must be configured"
        if not oauth2.text("client_secret") and not oauth2.text("client_secret_file"):
            return "oauth2", "either oauth2 client_secret or client_secret_file must be configured"
        if not oauth2.text("token_url"):
            return "oauth2", "oauth2 token_url must be configured"
        if oauth2.text("client_secret") and oauth2.text("client_secret_file"):
            return "oauth2", "at most one of oauth2 client_secret & client_secret_file"
    if c.get("proxy_connect_header") and not c.text("proxy_url"):
        return "proxy_connect_header", (
            "if proxy_connect_header is configured proxy_url must also be configured"
        )
    return None


def _check_http_client(ctx: Context, c: Obj) -> None:
    problem = _http_client_problem(c)
    if problem is not None:
        ctx.error(c.at(problem[0]), problem[1])


HTTP_CLIENT = Struct(
    "config.HTTPClientConfig",
    {
        "basic_auth": Struct(
            "config.BasicAuth", {"username": TEXT, "password": TEXT, "password_file": TEXT}
        ),
        "authorization": Struct(
            "config.Authorization", {"type": TEXT, "credentials": TEXT, "credentials_file": TEXT}
        ),
        "oauth2": Struct(
            "config.OAuth2",
            {
                "client_id": TEXT,
                "client_secret": TEXT,
                "client_secret_file": TEXT,
                "scopes": STRINGS,
                "token_url": TEXT,
                "endpoint_params": STRING_MAP,
                "proxy_url": URL,
                "tls_config": TLS_CONFIG,
            },
        ),
        "bearer_token": TEXT,
        "bearer_token_file": TEXT,
        "proxy_url": URL,
        "proxy_connect_header": MapOf(STRINGS),
        "tls_config": TLS_CONFIG,
        "follow_redirects": FLAG,
        "enable_http2": FLAG,
    },
    check=_check_http_client,
)


def _check_sigv4(ctx: Context, c: Obj) -> None:
    if bool(c.text("access_key")) != bool(c.text("secret_key")):
        ctx.error(
            c.node,
            "must provide a AWS SigV4 Access key and Secret Key if credentials are specified",
        )


SIGV4 = Struct(
    "sigv4.SigV4Config",
    {"region": TEXT, "access_key": TEXT, "secret_key": TEXT, "profile": TEXT, "role_arn": TEXT},
    check=_check_sigv4,
)


def _check_label_name(ctx: Context, node: Any, value: str) -> None:
    if not LABEL_NAME_RE.match(value):
        ctx.error(node, f'"{value}" is not a valid label name')


def _check_label_value(ctx: Context, node: Any, value: str) -> None:
    if not is_utf8(value):
        ctx.error(node, "label value is not valid UTF-8")


LABEL_NAME = Text(_check_label_name)
LABEL_VALUE = Text(_check_label_value)
LABEL_SET = MapOf(LABEL_VALUE, key=LABEL_NAME)


# Relabelling (model/relabel) and static target groups (discovery/targetgroup).


def _check_regex(ctx: Context, node: Any, value: str) -> None:
    problem = regex_error(value)
    if problem is not None:
        ctx.error(node, problem)


_RELABEL_ACTIONS = [
    "replace",
    "keep",
    "drop",
    "keepequal",
    "dropequal",
    "hashmod",
    "labelmap",
    "labeldrop",
    "labelkeep",
    "lowercase",
    "uppercase",
]


def _check_action(ctx: Context, node: Any, value: str) -> None:
    if value.lower() not in _RELABEL_ACTIONS:
        ctx.error(node, f'unknown relabel action "{value}"')


def given(c: Obj, key: str) -> bool:
    """Whether a pointer field is set (null leaves a Go pointer nil; a value field it zeroes)."""
    return key in c and not is_null(c.nodes[key])


def _set_or(c: Obj, key: str, default: str) -> str:
    """A string field that has a default: written (null zeroes it, as yaml.v2 does) or not."""
    return c.text(key) if key in c else default


def _check_relabel(ctx: Context, c: Obj) -> None:
    action = _set_or(c, "action", "replace").lower()
    target = c.text("target_label")
    replacement = _set_or(c, "replacement", "$1")
    separator = _set_or(c, "separator", ";")
    if not action:
        ctx.error(c.node, "relabel action cannot be empty")
        return
    equal = action in ("keepequal", "dropequal")
    if action == "hashmod" and not c.get("modulus"):
        ctx.error(c.node, "relabel configuration for hashmod requires non-zero modulus")
    elif not target and action in (
        "replace",
        "hashmod",
        "lowercase",
        "uppercase",
        "keepequal",
        "dropequal",
    ):
        ctx.error(
            c.node, f"relabel configuration for {action} action requires 'target_label' value"
        )
    elif action in ("replace", "lowercase", "uppercase", "keepequal", "dropequal") and not (
        _RELABEL_TARGET_RE.match(target)
    ):
        ctx.error(
            c.at("target_label"), f"\"{target}\" is invalid 'target_label' for {action} action"
        )
    elif action in ("lowercase", "uppercase", "keepequal", "dropequal") and replacement != "$1":
        ctx.error(c.at("replacement"), f"'replacement' can not be set for {action} action")
    elif action == "labelmap" and not _RELABEL_TARGET_RE.match(replacement):
        ctx.error(c.at("replacement"), f"\"{replacement}\" is invalid 'replacement' for labelmap")
    elif action == "hashmod" and not LABEL_NAME_RE.match(target):
        ctx.error(c.at("target_label"), f"\"{target}\" is invalid 'target_label' for hashmod")
    elif equal and (
        # Go compares the regexp pointer with the default's: any regex written differs.
        "regex" in c or c.get("modulus") or separator != ";" or replacement != "$1"
    ):
        ctx.error(c.node, f"{action} action requires only 'source_labels' and `target_label`")
    elif action in ("labeldrop", "labelkeep") and (
        "source_labels" in c
        or target
        or c.get("modulus")
        or separator != ";"
        or replacement != "$1"
    ):
        ctx.error(c.node, f"{action} action requires only 'regex', and no other fields")


RELABEL = Struct(
    "relabel.Config",
    {
        "source_labels": ListOf(LABEL_NAME),
        "separator": TEXT,
        "regex": Text(_check_regex),
        "modulus": Integer(unsigned=True),
        "target_label": TEXT,
        "replacement": TEXT,
        "action": Text(_check_action),
    },
    check=_check_relabel,
)


class NonNull(Spec):
    """A list item Go keeps as a pointer: null there is refused by the owner's check."""

    def __init__(self, inner: Spec, message: str) -> None:
        self.inner = inner
        self.message = message
        self.what = inner.what

    def read(self, ctx: Context, node: Any) -> Any:
        if is_null(node):
            ctx.error(node, self.message)
            return None
        return self.inner.read(ctx, node)


def relabels(message: str) -> ListOf:
    return ListOf(NonNull(RELABEL, message))


TARGET_GROUP = Struct(
    'struct { Targets []string "yaml:\\"targets\\""; Labels model.LabelSet "yaml:\\"labels\\"" }',
    {"targets": STRINGS, "labels": LABEL_SET},
)
