"""Versions: list, get, delete, restore as current, undelete."""

from __future__ import annotations

from s3kit.service.base import ServiceBase


class VersionsMixin(ServiceBase):
    pass
