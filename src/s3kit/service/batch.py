"""Batch operations over a prefix, glob or manifest."""

from __future__ import annotations

from s3kit.service.base import ServiceBase


class BatchMixin(ServiceBase):
    pass
