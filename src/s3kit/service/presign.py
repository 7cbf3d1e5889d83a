"""Presigned URLs."""

from __future__ import annotations

from typing import Literal

from s3kit._aio import async_twin
from s3kit._uri import validate_bucket_name, validate_key
from s3kit.errors import UsageError
from s3kit.service.base import ServiceBase

MAX_PRESIGN_SECONDS = 7 * 24 * 3600  # SigV4 presigned URLs live at most seven days


def validate_expiry(seconds: int) -> int:
    if not 1 <= seconds <= MAX_PRESIGN_SECONDS:
        raise UsageError(
            f"--expires-in must be between 1 and {MAX_PRESIGN_SECONDS} seconds (7 days),"
            f" not {seconds}"
        )
    return seconds


class PresignMixin(ServiceBase):
    def presign(
        self,
        bucket: str,
        key: str,
        *,
        expires_in: int = 3600,
        method: Literal["GET", "PUT"] = "GET",
    ) -> str:
        validate_bucket_name(bucket)
        validate_key(key)
        validate_expiry(expires_in)
        operation = {"GET": "get_object", "PUT": "put_object"}.get(method.upper())
        if operation is None:
            raise UsageError(f"--method must be GET or PUT, not '{method}'")
        url: str = self.call(
            "generate_presigned_url",
            bucket=bucket,
            key=key,
            ClientMethod=operation,
            Params={"Bucket": bucket, "Key": key},
            ExpiresIn=expires_in,
        )
        return url

    # -- awaitable twins: the same calls on a worker thread (s3kit._aio.async_twin) ---------
    presign_async = async_twin(presign)
