"""Objects: metadata, tagging, copy/move, batch delete, presigned POST."""

from __future__ import annotations

from s3kit.service.base import ServiceBase


class ObjectsMixin(ServiceBase):
    pass
