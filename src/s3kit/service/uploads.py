"""Multipart housekeeping: list and abort incomplete multipart uploads."""

from __future__ import annotations

from s3kit.service.base import ServiceBase


class UploadsMixin(ServiceBase):
    pass
