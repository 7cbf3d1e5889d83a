"""Alertmanager 0.25's receivers (config/notifiers.go) as specs: each integration's fields,
what its UnmarshalYAML refuses (a webhook without a URL, PagerDuty without a key, a Telegram
chat without an id, ...), and the value types they share: Alertmanager's URL (http or https,
with a host; never repeated in a finding, it may carry a token), the host:port of a
smarthost, Go durations. What falls back to `global:` is checked by the configuration
(alertmanager.py), which knows both.
"""

from __future__ import annotations

import re
from typing import Any

from s3kit.configs.validate.durations import parse_go_duration
from s3kit.configs.validate.gosyntax import GO_TEMPLATE_BUILTINS, template_error, url_error
from s3kit.configs.validate.model import (
    Context,
    Duration,
    Integer,
    ListOf,
    Obj,
    Spec,
    Struct,
    Text,
    words,
)
from s3kit.configs.validate.promcommon import (
    FLAG,
    HTTP_CLIENT,
    SIGV4,
    STRING_MAP,
    STRINGS,
    TEXT,
    TLS_CONFIG,
    given,
)

__all__ = [
    "ALERTMANAGER_TEMPLATE_FUNCS",
    "GO_DURATION",
    "HOST_PORT",
    "HTTP_CONFIG",
    "RECEIVER",
    "RECEIVER_TYPES",
    "SECRET_URL",
    "URL",
]

ALERTMANAGER_TEMPLATE_FUNCS = GO_TEMPLATE_BUILTINS | frozenset(
    ["toUpper", "toLower", "title", "join", "match", "safeHtml", "reReplaceAll", "stringSlice"]
)
_SECRET_TOKEN = "<secret>"  # noqa: S105 (the placeholder amtool prints, not a secret)


def _check_am_url(ctx: Context, node: Any, value: str) -> None:
    """Alertmanager's URL: it parses, its scheme is http or https, it names a host. The URL is
    never repeated (it may hold a token)."""
    problem = url_error(value)
    m = re.match(r"([A-Za-z][A-Za-z0-9+.-]*):(//([^/?#]*))?", value)
    if problem is not None:
        ctx.error(node, f"invalid URL: {problem}")
    elif m is None or m.group(1).lower() not in ("http", "https"):
        scheme = "" if m is None else m.group(1)
        ctx.error(node, f'unsupported scheme "{scheme}" for URL')
    elif not (m.group(3) or "").rsplit("@", 1)[-1]:
        ctx.error(node, "missing host for URL")


def _check_secret_url(ctx: Context, node: Any, value: str) -> None:
    if value != _SECRET_TOKEN:
        _check_am_url(ctx, node, value)


def _check_host_port(ctx: Context, node: Any, value: str) -> None:
    if not value:
        return
    if value.startswith("["):
        close = value.find("]")
        ok = close > 0 and value[close + 1 : close + 2] == ":"
        port = value[close + 2 :] if ok else ""
        ok = ok and ":" not in port
    else:
        colon = value.rfind(":")
        ok = colon >= 0 and ":" not in value[:colon]
        port = value[colon + 1 :] if ok else ""
    if not ok:
        ctx.error(node, f"address {value}: missing port in address")
    elif not port:
        ctx.error(node, f'address "{value}": port cannot be empty')


URL = Text(_check_am_url)
SECRET_URL = Text(_check_secret_url)
HOST_PORT = Text(_check_host_port)
GO_DURATION = Duration(parse_go_duration)
HTTP_CONFIG = HTTP_CLIENT


# --- Receivers (config/notifiers.go) -------------------------------------------------------


def _notifier(name: str, fields: dict[str, Spec], check: Any = None) -> Struct:
    return Struct(
        f"config.{name}",
        {"send_resolved": FLAG, "http_config": HTTP_CONFIG, **fields},
        check=check,
    )


def _first_error(ctx: Context, c: Obj, problems: list[tuple[bool, str]]) -> None:
    for failed, message in problems:
        if failed:
            ctx.error(c.node, message)
            return


def _check_webex(ctx: Context, c: Obj) -> None:
    http = c.get("http_config")
    _first_error(
        ctx,
        c,
        [
            (not c.text("room_id"), "missing room_id on webex_config"),
            (
                http is None or http.get("authorization") is None,
                "missing webex_configs.http_config.authorization",
            ),
        ],
    )


def _check_email(ctx: Context, c: Obj) -> None:
    if not c.text("to"):
        ctx.error(c.node, "missing to address in email config")
        return
    seen: set[str] = set()
    for header in c.get("headers") or {}:
        canonical = "-".join(part[:1].upper() + part[1:].lower() for part in header.split("-"))
        if canonical in seen:
            ctx.error(c.at("headers"), f'duplicate header "{canonical}" in email config')
            return
        seen.add(canonical)


def _check_pagerduty(ctx: Context, c: Obj) -> None:
    keys = [
        c.text(k) for k in ("routing_key", "service_key", "routing_key_file", "service_key_file")
    ]
    _first_error(
        ctx,
        c,
        [
            (not any(keys), "missing service or routing key in PagerDuty config"),
            (bool(keys[0] and keys[2]), "at most one of routing_key & routing_key_file"),
            (bool(keys[1] and keys[3]), "at most one of service_key & service_key_file"),
        ],
    )


def _check_slack(ctx: Context, c: Obj) -> None:
    if given(c, "api_url") and c.text("api_url_file"):
        ctx.error(c.node, "at most one of api_url & api_url_file must be configured")


def _check_slack_action(ctx: Context, c: Obj) -> None:
    _first_error(
        ctx,
        c,
        [
            (not c.text("type"), "missing type in Slack action configuration"),
            (not c.text("text"), "missing text in Slack action configuration"),
            (
                not c.text("url") and not c.text("name"),
                "missing name or url in Slack action configuration",
            ),
        ],
    )


def _check_webhook(ctx: Context, c: Obj) -> None:
    if not given(c, "url"):
        ctx.error(c.node, "missing URL in webhook config")


def _check_wechat(ctx: Context, c: Obj) -> None:
    kind = c.text("message_type") or "text"
    if kind not in ("text", "markdown"):
        ctx.error(c.at("message_type"), f'weChat message type "{kind}" is not text or markdown')


_OPSGENIE_TYPES = ("team", "teams", "user", "escalation", "schedule")


def _check_opsgenie(ctx: Context, c: Obj) -> None:
    if c.text("api_key") and c.text("api_key_file"):
        ctx.error(c.node, "at most one of api_key & api_key_file must be configured")
        return
    for responder in c.get("responders") or []:
        if responder is None:
            responder = Obj(c.at("responders"))
        if not (responder.text("id") or responder.text("username") or responder.text("name")):
            ctx.error(responder.node, "opsGenieConfig responder has none of id, username or name")
            return
        kind = responder.text("type")
        if "{{" in kind:
            problem = template_error(kind, ALERTMANAGER_TEMPLATE_FUNCS)
            if problem is not None:
                ctx.error(
                    responder.at("type"), f"responder type is not a valid template: {problem}"
                )
                return
        elif kind.lower() not in _OPSGENIE_TYPES:
            ctx.error(
                responder.at("type"), f'responder type "{kind}" is not one of {_OPSGENIE_TYPES}'
            )
            return


_VICTOROPS_RESERVED = words(
    "routing_key message_type state_message entity_display_name "
    "monitoring_tool entity_id entity_state"
)


def _check_victorops(ctx: Context, c: Obj) -> None:
    reserved = [k for k in c.get("custom_fields") or {} if k in _VICTOROPS_RESERVED]
    _first_error(
        ctx,
        c,
        [
            (not c.text("routing_key"), "missing Routing key in VictorOps config"),
            (
                bool(c.text("api_key") and c.text("api_key_file")),
                "at most one of api_key & api_key_file must be configured",
            ),
            (bool(reserved), f"victorOps config contains reserved custom field {reserved[:1]}"),
        ],
    )


def _check_pushover(ctx: Context, c: Obj) -> None:
    _first_error(
        ctx,
        c,
        [
            (not c.text("user_key"), "missing user key in Pushover config"),
            (not c.text("token"), "missing token in Pushover config"),
        ],
    )


def _check_sns(ctx: Context, c: Obj) -> None:
    target, topic, phone = (c.text(k) == "" for k in ("target_arn", "topic_arn", "phone_number"))
    if (target != topic) != phone:  # Alertmanager's own expression, kept as written
        ctx.error(c.node, "must provide either a Target ARN, Topic ARN, or Phone Number for SNS")


def _check_telegram(ctx: Context, c: Obj) -> None:
    _first_error(
        ctx,
        c,
        [
            (not c.text("bot_token"), "missing bot_token on telegram_config"),
            (not c.get("chat_id"), "missing chat_id on telegram_config"),
            (
                c.text("parse_mode") not in ("", "Markdown", "MarkdownV2", "HTML"),
                "unknown parse_mode on telegram_config, must be Markdown, MarkdownV2, HTML or"
                " empty string",
            ),
        ],
    )


_SLACK_FIELD = Struct(
    "config.SlackField",
    {"title": TEXT, "value": TEXT, "short": FLAG},
    check=lambda ctx, c: _first_error(
        ctx,
        c,
        [
            (not c.text("title"), "missing title in Slack field configuration"),
            (not c.text("value"), "missing value in Slack field configuration"),
        ],
    ),
)
_SLACK_CONFIRM = Struct(
    "config.SlackConfirmationField",
    {"text": TEXT, "title": TEXT, "ok_text": TEXT, "dismiss_text": TEXT},
    check=lambda ctx, c: _first_error(
        ctx, c, [(not c.text("text"), "missing text in Slack confirmation configuration")]
    ),
)
_T = TEXT
RECEIVER_TYPES: dict[str, Struct] = {
    "webex_configs": _notifier(
        "WebexConfig", {"api_url": URL, "message": _T, "room_id": _T}, _check_webex
    ),
    "discord_configs": _notifier(
        "DiscordConfig", {"webhook_url": SECRET_URL, "title": _T, "message": _T}
    ),
    "email_configs": _notifier(
        "EmailConfig",
        {
            **dict.fromkeys(
                words(
                    "to from hello auth_username auth_password auth_password_file "
                    "auth_secret auth_identity html text"
                ),
                _T,
            ),
            "smarthost": HOST_PORT,
            "headers": STRING_MAP,
            "require_tls": FLAG,
            "tls_config": TLS_CONFIG,
        },
        _check_email,
    ),
    "pagerduty_configs": _notifier(
        "PagerdutyConfig",
        {
            **dict.fromkeys(
                words(
                    "service_key service_key_file routing_key routing_key_file "
                    "client client_url description source severity class "
                    "component group"
                ),
                _T,
            ),
            "url": URL,
            "details": STRING_MAP,
            "images": ListOf(
                Struct("config.PagerdutyImage", dict.fromkeys(("src", "alt", "href"), _T))
            ),
            "links": ListOf(Struct("config.PagerdutyLink", dict.fromkeys(("href", "text"), _T))),
        },
        _check_pagerduty,
    ),
    "slack_configs": _notifier(
        "SlackConfig",
        {
            **dict.fromkeys(
                words(
                    "api_url_file channel username color title title_link pretext "
                    "text footer fallback callback_id icon_emoji icon_url "
                    "image_url thumb_url"
                ),
                _T,
            ),
            "api_url": SECRET_URL,
            "fields": ListOf(_SLACK_FIELD),
            "short_fields": FLAG,
            "link_names": FLAG,
            "mrkdwn_in": STRINGS,
            "actions": ListOf(
                Struct(
                    "config.SlackAction",
                    {
                        **dict.fromkeys(("type", "text", "url", "style", "name", "value"), _T),
                        "confirm": _SLACK_CONFIRM,
                    },
                    check=_check_slack_action,
                )
            ),
        },
        _check_slack,
    ),
    "webhook_configs": _notifier(
        "WebhookConfig", {"url": URL, "max_alerts": Integer(unsigned=True)}, _check_webhook
    ),
    "wechat_configs": _notifier(
        "WechatConfig",
        {
            **dict.fromkeys(
                words("api_secret corp_id message to_user to_party to_tag agent_id message_type"),
                _T,
            ),
            "api_url": URL,
        },
        _check_wechat,
    ),
    "opsgenie_configs": _notifier(
        "OpsGenieConfig",
        {
            **dict.fromkeys(
                words(
                    "api_key api_key_file message description source entity "
                    "actions tags note priority"
                ),
                _T,
            ),
            "api_url": URL,
            "details": STRING_MAP,
            "responders": ListOf(
                Struct(
                    "config.OpsGenieConfigResponder",
                    dict.fromkeys(("id", "name", "username", "type"), _T),
                )
            ),
            "update_alerts": FLAG,
        },
        _check_opsgenie,
    ),
    "victorops_configs": _notifier(
        "VictorOpsConfig",
        {
            **dict.fromkeys(
                words(
                    "api_key api_key_file routing_key message_type state_message "
                    "entity_display_name monitoring_tool"
                ),
                _T,
            ),
            "api_url": URL,
            "custom_fields": STRING_MAP,
        },
        _check_victorops,
    ),
    "pushover_configs": _notifier(
        "PushoverConfig",
        {
            **dict.fromkeys(
                words("user_key token title message url url_title sound priority"),
                _T,
            ),
            "retry": GO_DURATION,
            "expire": GO_DURATION,
            "html": FLAG,
        },
        _check_pushover,
    ),
    "sns_configs": _notifier(
        "SNSConfig",
        {
            **dict.fromkeys(words("api_url topic_arn phone_number target_arn subject message"), _T),
            "sigv4": SIGV4,
            "attributes": STRING_MAP,
        },
        _check_sns,
    ),
    "telegram_configs": _notifier(
        "TelegramConfig",
        {
            "api_url": URL,
            "bot_token": _T,
            "chat_id": Integer(),
            "message": _T,
            "disable_notifications": FLAG,
            "parse_mode": _T,
        },
        _check_telegram,
    ),
}


def _check_receiver(ctx: Context, c: Obj) -> None:
    if not c.text("name"):
        ctx.error(c.node, "missing name in receiver")


RECEIVER = Struct(
    "config.Receiver",
    {"name": TEXT, **{key: ListOf(spec) for key, spec in RECEIVER_TYPES.items()}},
    check=_check_receiver,
)
