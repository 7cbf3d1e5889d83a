"""Logging and redaction: the one place that decides what may be printed about a request.

Nothing s3kit logs or prints may contain a secret: access secrets, session tokens, SSE-C keys,
presigned-URL signatures, Authorization headers or credentials written into a URL. `redact`
masks the patterns those take in URLs, headers and messages, and `RedactingFilter` applies it
(plus any literal secrets it was given) to every log record that reaches an s3kit handler,
`--debug` included.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from s3kit.events import RequestEvent

logger = logging.getLogger("s3kit")

MASK = "***"


@functools.cache
def _patterns() -> tuple[re.Pattern[str], ...]:
    """The secret-shaped patterns, compiled on the first `redact` (about 1.5 ms, which a
    command that prints nothing to redact never pays)."""
    return (
        # credentials written into a URL's authority (`--endpoint-url http://KEY:SECRET@host`):
        # the whole userinfo goes, since a lone user part is often a token; the greedy run stops
        # at the authority's end, so it takes everything up to the last '@' before the host
        re.compile(r"(?i)\b([a-z][a-z0-9+.\-]*://)[^\s/?#'\"<>]+(?=@)"),
        # query-string signing parameters of presigned URLs (SigV4 and SigV2); a value never
        # contains brackets, so one ending a sentence or an XML element stays readable
        re.compile(
            r"(?i)((?:X-Amz-Signature|X-Amz-Credential|X-Amz-Security-Token|Signature|"
            r"AWSAccessKeyId)=)[^&\s'\"()<>]+"
        ),
        # headers, in "Name: value", "'name': 'value'" and botocore's "'name': b'value'" forms;
        # a value stops at '&' so a header-named query parameter cannot swallow the rest of a URL
        re.compile(
            r"(?i)((?:authorization|x-amz-security-token|"
            r"x-amz-server-side-encryption-customer-key(?:-md5)?|"
            r"x-amz-copy-source-server-side-encryption-customer-key(?:-md5)?)['\"]?\s*[:=]\s*"
            r"(?:b?['\"])?)[^'\"\n,}&]+"
        ),
        # keyword arguments and config keys
        re.compile(
            r"(?i)((?:aws_secret_access_key|secret_access_key|aws_session_token|session_token|"
            r"secret_key|sse_customer_key|SSECustomerKey)['\"]?\s*[:=]\s*(?:b?['\"])?)[^'\"\s,}]+"
        ),
    )


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """Mask every secret-looking value in `text`, and each literal in `secrets`."""
    for pattern in _patterns():
        text = pattern.sub(lambda m: m.group(1) + MASK, text)
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, MASK)
    return text


class RedactingFilter(logging.Filter):
    """Rewrites each record's message through `redact` before any handler formats it."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self._secrets: set[str] = set(secrets)

    def add_secret(self, secret: str | None) -> None:
        if secret:
            self._secrets.add(secret)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record must not break logging
            return True
        record.msg = redact(message, self._secrets)
        record.args = None
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redact(
                logging.Formatter().formatException(record.exc_info), self._secrets
            )
            record.exc_info = None
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per record (`--log-format json`): time, level, logger, message, and the
    record's `fields` (a request's operation, status, ...), every string redacted."""

    def format(self, record: logging.LogRecord) -> str:
        import json
        from datetime import UTC, datetime

        document: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": redact(record.getMessage()),
        }
        fields = getattr(record, "fields", None)
        if isinstance(fields, dict):
            for name, value in fields.items():
                document[name] = redact(value) if isinstance(value, str) else value
        if record.exc_text:
            document["traceback"] = record.exc_text
        return json.dumps(document, ensure_ascii=False)


request_logger = logging.getLogger("s3kit.request")


def log_request(event: RequestEvent) -> None:
    """One log record per request attempt (a `session.events` subscriber): DEBUG when it
    succeeded, INFO when it is retried or failed, so `--log-level info` shows what went wrong
    and `--log-level debug` every request."""
    failed = event.status is None or event.status >= 400
    level = logging.INFO if failed or event.retrying else logging.DEBUG
    if not request_logger.isEnabledFor(level):
        return
    where = f"s3://{event.bucket}/{event.key or ''}" if event.bucket else "(no bucket)"
    answer = "no answer" if event.status is None else str(event.status)
    detail = f" {event.error_code}" if event.error_code else ""
    retry = (
        f", retried ({event.retry_reason}) in {event.retry_delay:.2f} s"
        if event.retrying and event.retry_delay is not None
        else ""
    )
    request_logger.log(
        level,
        "%s %s %s attempt %d: %s%s in %.0f ms, %d bytes sent, %d received%s",
        event.operation,
        event.method,
        where,
        event.attempt,
        answer,
        detail,
        event.seconds * 1000,
        event.bytes_sent,
        event.bytes_received,
        retry,
        extra={
            "fields": {
                "event": "request",
                "client": event.client,
                "operation": event.operation,
                "method": event.method,
                "bucket": event.bucket,
                "key": event.key,
                "attempt": event.attempt,
                "status": event.status,
                "seconds": round(event.seconds, 6),
                "bytes_sent": event.bytes_sent,
                "bytes_received": event.bytes_received,
                "request_id": event.request_id,
                "error_code": event.error_code,
                "retrying": event.retrying,
                "retry_reason": event.retry_reason,
            }
        },
    )
