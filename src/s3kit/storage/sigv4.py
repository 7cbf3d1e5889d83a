"""AWS Signature Version 4 for the raw S3 requests s3kit makes itself (see s3http).

boto3 costs half a second to import and signs every payload with SHA-256 over plain HTTP, so
every data-plane request (object reads and writes, listings, deletes, multipart parts) is sent
with this signer and `UNSIGNED-PAYLOAD`; the integrity of bodies is checked by the server
through Content-MD5 and by s3kit through ETags and checksums. Pure functions: the
clock comes in as an argument.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
from collections.abc import Mapping
from datetime import datetime
from urllib.parse import quote

UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode("utf-8"), hashlib.sha256).digest()


def uri_encode(text: str, *, keep_slash: bool) -> str:
    """RFC 3986 encoding as SigV4 wants it: unreserved characters stay, all else is %XX."""
    return quote(text, safe="/~" if keep_slash else "~")


def canonical_query(query: Mapping[str, str]) -> str:
    pairs = sorted(
        (uri_encode(k, keep_slash=False), uri_encode(v, keep_slash=False)) for k, v in query.items()
    )
    return "&".join(f"{k}={v}" for k, v in pairs)


@functools.lru_cache(maxsize=8)  # the same for every request of a day: 4 HMACs, 17 µs each time
def signing_key(secret: str, day: str, region: str, service: str = "s3") -> bytes:
    key = _hmac(("AWS4" + secret).encode("utf-8"), day)
    key = _hmac(key, region)
    key = _hmac(key, service)
    return _hmac(key, "aws4_request")


def sign_headers(
    *,
    method: str,
    host: str,
    path: str,
    query: Mapping[str, str],
    headers: Mapping[str, str],
    access_key: str,
    secret_key: str,
    session_token: str | None,
    region: str,
    now: datetime,
    payload_hash: str = UNSIGNED_PAYLOAD,
) -> dict[str, str]:
    """Return `headers` plus Host, X-Amz-Date, X-Amz-Content-Sha256 and Authorization.

    `path` is the already URI-encoded request path (as it goes on the wire); S3 signs it as is,
    without encoding it a second time.
    """
    amz_date = now.strftime("%Y%m%dT%H%M%SZ")
    day = amz_date[:8]
    signed: dict[str, str] = {k.lower(): str(v).strip() for k, v in headers.items()}
    signed["host"] = host
    signed["x-amz-date"] = amz_date
    signed["x-amz-content-sha256"] = payload_hash
    if session_token:
        signed["x-amz-security-token"] = session_token
    names = sorted(signed)
    canonical_headers = "".join(f"{name}:{' '.join(signed[name].split())}\n" for name in names)
    signed_names = ";".join(names)
    canonical_request = "\n".join(
        [method, path, canonical_query(query), canonical_headers, signed_names, payload_hash]
    )
    scope = f"{day}/{region}/s3/aws4_request"
    string_to_sign = "\n".join(
        [
            "AWS4-HMAC-SHA256",
            amz_date,
            scope,
            hashlib.sha256(canonical_request.encode("utf-8")).hexdigest(),
        ]
    )
    signature = hmac.new(
        signing_key(secret_key, day, region), string_to_sign.encode("utf-8"), hashlib.sha256
    ).hexdigest()
    result = {name: signed[name] for name in names}
    result["authorization"] = (
        f"AWS4-HMAC-SHA256 Credential={access_key}/{scope}, SignedHeaders={signed_names},"
        f" Signature={signature}"
    )
    return result
