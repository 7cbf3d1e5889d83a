"""Logging and redaction: the one place that decides what may be printed about a request.

Nothing s3kit logs or prints may contain a secret: access secrets, session tokens, SSE-C keys,
presigned-URL signatures, Authorization headers or credentials written into a URL. `redact`
masks the patterns those take in URLs, headers and messages, and `RedactingFilter` applies it
(plus any literal secrets it was given) to every log record that reaches an s3kit handler,
`--debug` included.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

logger = logging.getLogger("s3kit")

MASK = "***"

_PATTERNS: tuple[re.Pattern[str], ...] = (
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
    for pattern in _PATTERNS:
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
