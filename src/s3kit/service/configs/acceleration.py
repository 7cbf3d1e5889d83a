"""S3 Transfer Acceleration: on or suspended (it cannot be removed once configured)."""

from __future__ import annotations

from typing import Literal

from s3kit._aio import async_twin
from s3kit.service.configs.checks import need
from s3kit.service.configs.specs import ACCELERATION, ConfigDocuments


class AccelerationMixin(ConfigDocuments):
    def get_acceleration(self, bucket: str) -> Literal["Enabled", "Suspended"] | None:
        """None if acceleration was never configured."""
        status = self.call(ACCELERATION.get, bucket=bucket, Bucket=bucket).get("Status")
        return "Enabled" if status == "Enabled" else "Suspended" if status == "Suspended" else None

    def set_acceleration(self, bucket: str, enabled: bool) -> None:
        need(
            "." not in bucket or not enabled,
            f"bucket '{bucket}' has a dot in its name, and S3 Transfer Acceleration only"
            " works for names without dots",
        )
        self._put_document(ACCELERATION, bucket, {"Status": "Enabled" if enabled else "Suspended"})

    # -- awaitable twins: the same calls on a worker thread (s3kit._aio.async_twin) ---------
    get_acceleration_async = async_twin(get_acceleration)
    set_acceleration_async = async_twin(set_acceleration)
