"""Credentials written into a URL (`http://KEY:SECRET@host`) are masked like every other
secret: by `redact`'s patterns anywhere in a message, and by `Session.secrets()` as literals
for the log filter, however they are spelled."""

from __future__ import annotations

import io
import logging

import pytest

from s3kit._observe import MASK, RedactingFilter, redact
from s3kit._session import Session
from s3kit.errors import EndpointError, translate


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "cannot reach http://AKIAUSER:sEcReT@127.0.0.1:9 — check",
            "cannot reach http://***@127.0.0.1:9 — check",
        ),
        (
            "GET https://user:p%40ss@host.example/b/k?x=1 failed",
            "GET https://***@host.example/b/k?x=1 failed",
        ),
        ("'http://tok3nValue@h:1/'", "'http://***@h:1/'"),
        # a password holding an unencoded '@': the host is what follows the last one
        ("URL: http://u:a@b@127.0.0.1:1/x", "URL: http://***@127.0.0.1:1/x"),
        ('"endpoint_url": "http://k:s@[::1]:8333"', '"endpoint_url": "http://***@[::1]:8333"'),
    ],
)
def test_userinfo_of_a_url_is_masked(text: str, expected: str) -> None:
    assert redact(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "s3://bucket/key@2024.txt",
        "http://127.0.0.1:8333/bucket/user@example.com",
        "mail someone@example.com about http://127.0.0.1:1/",
    ],
)
def test_an_at_sign_outside_the_authority_is_left_alone(text: str) -> None:
    assert redact(text) == text


def test_session_secrets_include_the_endpoint_password_in_every_spelling() -> None:
    session = Session(
        endpoint_url="http://AKIAUSER:p%40ssWord@127.0.0.1:9",
        access_key_id="x",
        secret_access_key="yyyy-secret",
        env={},
    )
    secrets = session.secrets()
    assert "p%40ssWord" in secrets and "p@ssWord" in secrets
    assert "yyyy-secret" in secrets


def test_an_unreachable_endpoint_error_names_no_credentials() -> None:
    error = translate(ConnectionError("refused"), endpoint="http://KEY:SECRETVALUE@127.0.0.1:9")
    assert isinstance(error, EndpointError)
    assert "SECRETVALUE" not in error.message and "KEY" not in error.message
    assert "http://***@127.0.0.1:9" in error.message


def test_log_filter_masks_the_url_form_and_the_decoded_literal() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RedactingFilter(["p@ssWord"]))
    log = logging.getLogger("s3kit.test_redact")
    log.handlers, log.propagate = [handler], False
    log.error("retry %s", "http://u:p%40ssWord@h:1/b")
    log.error("server said: bad password p@ssWord")
    assert "ssWord" not in stream.getvalue()
    assert stream.getvalue().count(MASK) == 2
