"""s3kit._observe: `redact` and the `RedactingFilter` on a real logger."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from s3kit._observe import MASK, RedactingFilter, redact

SIGNATURE = "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"
TOKEN = "IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQD+token=="
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
SSE_KEY = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="


# -- redact -----------------------------------------------------------------------------------


def test_presigned_url_query_parameters() -> None:
    url = (
        "https://bucket.s3.us-east-1.amazonaws.com/photo.jpg?X-Amz-Algorithm=AWS4-HMAC-SHA256"
        "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20240101%2Fus-east-1%2Fs3%2Faws4_request"
        "&X-Amz-Date=20240101T000000Z&X-Amz-Expires=3600&X-Amz-SignedHeaders=host"
        f"&X-Amz-Security-Token={TOKEN}&X-Amz-Signature={SIGNATURE}&x-id=GetObject"
    )
    assert redact(url) == (
        "https://bucket.s3.us-east-1.amazonaws.com/photo.jpg?X-Amz-Algorithm=AWS4-HMAC-SHA256"
        "&X-Amz-Credential=***"
        "&X-Amz-Date=20240101T000000Z&X-Amz-Expires=3600&X-Amz-SignedHeaders=host"
        "&X-Amz-Security-Token=***&X-Amz-Signature=***&x-id=GetObject"
    )


def test_sigv2_query_parameters() -> None:
    url = "https://b.s3.amazonaws.com/k?AWSAccessKeyId=AKIA1&Expires=1700000000&Signature=abc%2B"
    assert redact(url) == (
        "https://b.s3.amazonaws.com/k?AWSAccessKeyId=***&Expires=1700000000&Signature=***"
    )


def test_query_parameters_are_case_insensitive() -> None:
    assert redact("x-amz-signature=deadbeef") == "x-amz-signature=***"


def test_authorization_header_line() -> None:
    line = (
        "Authorization: AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20240101/us-east-1/"
        f"s3/aws4_request, SignedHeaders=host;x-amz-date, Signature={SIGNATURE}"
    )
    redacted = redact(line)
    assert SIGNATURE not in redacted
    assert "AKIAIOSFODNN7EXAMPLE" not in redacted
    assert redacted == "Authorization: ***, SignedHeaders=host;x-amz-date, Signature=***"


def test_authorization_in_a_headers_dict() -> None:
    text = (
        "headers={'Authorization': 'AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE/20240101/us-east-1"
        f"/s3/aws4_request, SignedHeaders=host, Signature={SIGNATURE}', 'Host': 'b.s3'}}"
    )
    redacted = redact(text)
    assert SIGNATURE not in redacted
    assert "AKIAEXAMPLE" not in redacted
    assert "'Host': 'b.s3'" in redacted
    assert redacted.startswith("headers={'Authorization': '***")


def test_botocore_prepared_request_headers_with_bytes_values() -> None:
    # botocore logs "Sending http request: <AWSPreparedRequest ... headers={...}>" with bytes
    # values; the b'' prefix must not let the value through.
    text = (
        "headers={'x-amz-server-side-encryption-customer-algorithm': b'AES256', "
        f"'x-amz-server-side-encryption-customer-key': b'{SSE_KEY}', "
        "'x-amz-server-side-encryption-customer-key-MD5': b'mT2HRsMGJ5IX5C+0rreZ8Q==', "
        f"'X-Amz-Security-Token': b'{TOKEN}', "
        "'Authorization': b'AWS4-HMAC-SHA256 Credential=AKIAX/20240101/us-east-1/s3/aws4_request,"
        f" SignedHeaders=host, Signature={SIGNATURE}'}}"
    )
    redacted = redact(text)
    for secret in (SSE_KEY, TOKEN, SIGNATURE, "mT2HRsMGJ5IX5C+0rreZ8Q=="):
        assert secret not in redacted
    assert "'x-amz-server-side-encryption-customer-key': b'***'" in redacted
    assert "'X-Amz-Security-Token': b'***'" in redacted
    assert "'x-amz-server-side-encryption-customer-algorithm': b'AES256'" in redacted


@pytest.mark.parametrize(
    "header",
    [
        "x-amz-server-side-encryption-customer-key",
        "x-amz-server-side-encryption-customer-key-MD5",
        "x-amz-copy-source-server-side-encryption-customer-key",
        "x-amz-security-token",
    ],
)
def test_secret_headers_in_canonical_request_form(header: str) -> None:
    # the signer's canonical request lists headers as "name:value" with no space
    assert redact(f"{header}:{SSE_KEY}\nhost:b.s3") == f"{header}:***\nhost:b.s3"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"aws_secret_access_key = {SECRET}", "aws_secret_access_key = ***"),
        (f"aws_secret_access_key={SECRET}", "aws_secret_access_key=***"),
        (f"{{'aws_secret_access_key': '{SECRET}'}}", "{'aws_secret_access_key': '***'}"),
        (f"secret_access_key='{SECRET}', region", "secret_access_key='***', region"),
        (f"aws_session_token: {TOKEN}", "aws_session_token: ***"),
        (f"{{'SSECustomerKey': '{SSE_KEY}'}}", "{'SSECustomerKey': '***'}"),
        (f"sse_customer_key={SSE_KEY}", "sse_customer_key=***"),
    ],
)
def test_secret_keywords(text: str, expected: str) -> None:
    assert redact(text) == expected


def test_literal_secrets() -> None:
    text = f"using key {SECRET} and token {TOKEN} at eu-west-1"
    assert redact(text, [SECRET, TOKEN]) == "using key *** and token *** at eu-west-1"


def test_short_or_empty_literal_secrets_are_ignored() -> None:
    # masking "" or a 3-character string would mangle every message
    assert redact("abc def", ["", "abc"]) == "abc def"
    assert redact("abcd def", ["abcd"]) == f"{MASK} def"


def test_text_without_secrets_is_unchanged() -> None:
    text = "GET s3://bucket/key?versionId=3 (200 OK), Signed headers: host; size=1024"
    assert redact(text) == text


# -- RedactingFilter --------------------------------------------------------------------------


@pytest.fixture
def captured() -> Iterator[tuple[logging.Logger, RedactingFilter, io.StringIO]]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    log = logging.getLogger("s3kit.tests.observe")
    log.setLevel(logging.DEBUG)
    log.propagate = False
    log.addHandler(handler)
    log_filter = RedactingFilter([SECRET])
    log.addFilter(log_filter)
    try:
        yield log, log_filter, stream
    finally:
        log.removeFilter(log_filter)
        log.removeHandler(handler)
        log.propagate = True


def test_filter_redacts_message_and_arguments(
    captured: tuple[logging.Logger, RedactingFilter, io.StringIO],
) -> None:
    log, _, stream = captured
    log.info("presigned %s with secret %s", f"?X-Amz-Signature={SIGNATURE}", SECRET)
    assert stream.getvalue() == "INFO presigned ?X-Amz-Signature=*** with secret ***\n"


def test_filter_add_secret(captured: tuple[logging.Logger, RedactingFilter, io.StringIO]) -> None:
    log, log_filter, stream = captured
    log_filter.add_secret("later-added-token")
    log_filter.add_secret(None)
    log_filter.add_secret("")
    log.warning("token is later-added-token")
    assert stream.getvalue() == "WARNING token is ***\n"


def test_filter_redacts_exception_text(
    captured: tuple[logging.Logger, RedactingFilter, io.StringIO],
) -> None:
    log, _, stream = captured
    try:
        raise RuntimeError(f"request failed: aws_secret_access_key={SECRET} Signature={SIGNATURE}")
    except RuntimeError:
        log.exception("upload failed")
    output = stream.getvalue()
    assert output.startswith("ERROR upload failed\nTraceback (most recent call last):")
    assert "RuntimeError: request failed: aws_secret_access_key=*** Signature=***" in output
    assert SECRET not in output
    assert SIGNATURE not in output


def test_filter_keeps_malformed_records(
    captured: tuple[logging.Logger, RedactingFilter, io.StringIO],
) -> None:
    log, log_filter, _ = captured
    record = log.makeRecord(log.name, logging.INFO, __file__, 1, "%s %s", ("only one",), None)
    # getMessage() fails on this record; the filter must let it through, not raise
    assert log_filter.filter(record) is True
    assert record.msg == "%s %s"


def test_filter_returns_true_and_clears_args() -> None:
    log_filter = RedactingFilter()
    record = logging.LogRecord("s3kit", logging.DEBUG, __file__, 1, "key=%s", (SECRET,), None)
    assert log_filter.filter(record) is True
    assert record.args is None
    assert record.getMessage() == f"key={SECRET}"  # not a known pattern nor a listed literal
    log_filter.add_secret(SECRET)
    record = logging.LogRecord("s3kit", logging.DEBUG, __file__, 1, "key=%s", (SECRET,), None)
    log_filter.filter(record)
    assert record.getMessage() == "key=***"


def test_filter_on_a_handler_covers_child_loggers() -> None:
    # The CLI attaches the filter to its handler, so records from child loggers
    # (s3kit.transfer, botocore.endpoint) are redacted too.
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(name)s %(message)s"))
    handler.addFilter(RedactingFilter([SECRET]))
    parent = logging.getLogger("s3kit.tests.parent")
    parent.addHandler(handler)
    parent.setLevel(logging.DEBUG)
    parent.propagate = False
    try:
        logging.getLogger("s3kit.tests.parent.child").debug(
            "headers={'X-Amz-Security-Token': b'%s'} secret=%s", TOKEN, SECRET
        )
    finally:
        parent.removeHandler(handler)
        parent.propagate = True
    assert stream.getvalue() == (
        "s3kit.tests.parent.child headers={'X-Amz-Security-Token': b'***'} secret=***\n"
    )
