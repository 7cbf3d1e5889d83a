"""Storage classes, Glacier restore, cost estimates and SSE-C key rotation."""

from __future__ import annotations

from s3kit.service.base import ServiceBase


class StorageClassMixin(ServiceBase):
    pass
