"""Probe: which S3 features an endpoint supports."""

from __future__ import annotations

from s3kit.service.base import ServiceBase


class ProbeMixin(ServiceBase):
    pass
