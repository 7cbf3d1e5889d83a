"""Bucket configuration: versioning, lifecycle, website, CORS, default encryption, replication,
notifications, acceleration, object lock, inventory, analytics, metrics, intelligent tiering.
"""

from __future__ import annotations

from s3kit.service.base import ServiceBase


class BucketConfigMixin(ServiceBase):
    pass
