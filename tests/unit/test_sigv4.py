"""The SigV4 signer must produce exactly what botocore's signer produces for the same request."""

from __future__ import annotations

from datetime import UTC, datetime

import botocore.auth
import pytest
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from s3kit.storage.sigv4 import UNSIGNED_PAYLOAD, canonical_query, sign_headers, uri_encode


class UnsignedPayloadAuth(S3SigV4Auth):
    def payload(self, request: AWSRequest) -> str:
        return UNSIGNED_PAYLOAD


NOW = datetime(2026, 11, 21, 12, 30, 45, tzinfo=UTC)


def botocore_authorization(
    method: str,
    url: str,
    headers: dict[str, str],
    token: str | None,
    monkeypatch: pytest.MonkeyPatch,
) -> str:
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: NOW.replace(tzinfo=None))
    request = AWSRequest(method=method, url=url, headers=dict(headers))
    auth = UnsignedPayloadAuth(Credentials("AKIDEXAMPLE", "secret/key+x", token), "s3", "eu-west-1")
    auth.add_auth(request)
    return str(request.headers["Authorization"])


@pytest.mark.parametrize(
    ("method", "path", "query", "headers", "token"),
    [
        ("PUT", "/bucket/a/b.txt", {"partNumber": "3", "uploadId": "x y/z"}, {}, None),
        ("POST", "/bucket/k%20with%20space", {"uploads": ""}, {"Content-Type": "text/plain"}, None),
        ("GET", "/bucket/caf%C3%A9", {"uploadId": "abc"}, {"x-amz-meta-mtime": "12"}, "tok"),
        ("DELETE", "/bucket/x", {"uploadId": "a+b=c"}, {}, None),
    ],
)
def test_matches_botocore(
    method: str,
    path: str,
    query: dict[str, str],
    headers: dict[str, str],
    token: str | None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    host = "127.0.0.1:8333"
    signed = sign_headers(
        method=method,
        host=host,
        path=path,
        query=query,
        headers=headers,
        access_key="AKIDEXAMPLE",
        secret_key="secret/key+x",
        session_token=token,
        region="eu-west-1",
        now=NOW,
    )
    qs = (
        canonical_query(query).replace("uploads=", "uploads")
        if query == {"uploads": ""}
        else (canonical_query(query))
    )
    url = f"http://{host}{path}" + (f"?{qs}" if qs else "")
    expected = botocore_authorization(method, url, headers, token, monkeypatch)
    assert signed["authorization"] == expected


def test_uri_encode_keeps_unreserved_only() -> None:
    assert uri_encode("a b/c~d+e=", keep_slash=True) == "a%20b/c~d%2Be%3D"
    assert uri_encode("a/b", keep_slash=False) == "a%2Fb"
