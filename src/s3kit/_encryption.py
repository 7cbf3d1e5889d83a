"""Server-side encryption settings for writes and reads: SSE-S3, SSE-KMS and SSE-C.

An SSE-C key is a secret: it is kept out of every repr, message and log line, and it is only
ever sent over HTTPS or to a loopback address, where nobody can read it off the wire.
"""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from s3kit._uri import is_loopback
from s3kit.errors import UsageError

SseMode = Literal["AES256", "aws:kms", "sse-c"]
SSE_C_ENV = "S3KIT_SSE_C_KEY"


@dataclass(frozen=True, slots=True)
class Encryption:
    mode: SseMode
    kms_key_id: str | None = None
    customer_key: bytes | None = field(default=None, repr=False)

    @property
    def changes_etag(self) -> bool:
        """SSE-KMS and SSE-C objects have ETags that are not the MD5 of their content."""
        return self.mode in ("aws:kms", "sse-c")

    def _customer_headers(self, prefix: str) -> dict[str, str]:
        assert self.customer_key is not None
        return {
            f"{prefix}-algorithm": "AES256",
            f"{prefix}-key": base64.b64encode(self.customer_key).decode(),
            f"{prefix}-key-MD5": base64.b64encode(
                hashlib.md5(self.customer_key, usedforsecurity=False).digest()
            ).decode(),
        }

    def write_headers(self) -> dict[str, str]:
        """Headers for PutObject / CreateMultipartUpload (and, for SSE-C, every UploadPart)."""
        if self.mode == "sse-c":
            return self._customer_headers("x-amz-server-side-encryption-customer")
        headers: dict[str, str] = {"x-amz-server-side-encryption": self.mode}
        if self.kms_key_id:
            headers["x-amz-server-side-encryption-aws-kms-key-id"] = self.kms_key_id
        return headers

    def part_headers(self) -> dict[str, str]:
        return self.write_headers() if self.mode == "sse-c" else {}

    def read_headers(self) -> dict[str, str]:
        return self.write_headers() if self.mode == "sse-c" else {}

    def check_transport(self, endpoint: str | None) -> None:
        """Refuse to send an SSE-C key in clear text to anything but this machine."""
        if self.mode == "sse-c":
            check_key_transport(endpoint)


def check_key_transport(endpoint: str | None) -> None:
    """The one check before an SSE-C key leaves this process, on any path (signed requests,
    boto3): over HTTPS, or plain HTTP to a loopback address only."""
    if endpoint is None:
        return
    parts = urlsplit(endpoint)
    if parts.scheme == "https":
        return
    host = parts.hostname or ""
    if not is_loopback(host):
        raise UsageError(
            f"refusing to send an SSE-C key over plain HTTP to {host} — use an https:// endpoint"
        )


def _decode_key(raw: bytes, origin: str) -> bytes:
    if len(raw) == 32:
        return raw
    text = raw.strip()
    try:
        decoded = base64.b64decode(text, validate=True)
    except ValueError:
        decoded = b""
    if len(decoded) == 32:
        return decoded
    raise UsageError(
        f"the SSE-C key from {origin} must be 32 bytes, raw or base64-encoded (44 characters)"
    )


def encryption_from_options(
    sse: str | None,
    *,
    kms_key_id: str | None = None,
    customer_key_file: Path | None = None,
    env: dict[str, str] | None = None,
) -> Encryption | None:
    """Build the Encryption that `--sse`, `--sse-kms-key-id` and `--sse-c-key-file` ask for.

    `--sse-c-key-file` (or S3KIT_SSE_C_KEY, base64) alone implies SSE-C.
    """
    environ = os.environ if env is None else env
    key: bytes | None = None
    if customer_key_file is not None:
        try:
            key = _decode_key(customer_key_file.read_bytes(), str(customer_key_file))
        except OSError as exc:
            raise UsageError(
                f"cannot read the SSE-C key file {customer_key_file}: {exc.strerror}"
            ) from None
    elif sse in ("sse-c", "SSE-C") or (sse is None and environ.get(SSE_C_ENV)):
        if not environ.get(SSE_C_ENV):
            raise UsageError(f"SSE-C needs a key: pass --sse-c-key-file FILE or set {SSE_C_ENV}")
        key = _decode_key(environ[SSE_C_ENV].encode(), SSE_C_ENV)
    if key is not None:
        if sse not in (None, "sse-c", "SSE-C"):
            raise UsageError(f"--sse {sse} cannot be combined with an SSE-C key")
        return Encryption("sse-c", customer_key=key)
    if sse is None:
        if kms_key_id:
            return Encryption("aws:kms", kms_key_id=kms_key_id)
        return None
    mode = {"aes256": "AES256", "aws:kms": "aws:kms", "kms": "aws:kms"}.get(sse.lower())
    if mode is None:
        raise UsageError(f"--sse must be AES256, aws:kms or sse-c, not '{sse}'")
    if kms_key_id and mode != "aws:kms":
        raise UsageError("--sse-kms-key-id needs --sse aws:kms")
    return Encryption(mode, kms_key_id=kms_key_id)  # type: ignore[arg-type]
