"""Access: bucket policies (and canned ones), bucket and object ACLs, public access block."""

from __future__ import annotations

from s3kit.service.base import ServiceBase


class AccessMixin(ServiceBase):
    pass
