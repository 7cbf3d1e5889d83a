"""What the settings are, once resolved (`resolve.resolve_settings` says where they come from):
the caller's options, the credentials, and the settings every client of a Session uses."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

DEFAULT_REGION = "us-east-1"
AddressingStyle = Literal["path", "virtual", "auto"]


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionOptions:
    """What the caller asked for explicitly; every field left None is resolved from elsewhere."""

    profile: str | None = None
    endpoint_url: str | None = None
    region: str | None = None
    access_key_id: str | None = None
    secret_access_key: str | None = field(default=None, repr=False)
    session_token: str | None = field(default=None, repr=False)
    addressing_style: AddressingStyle | None = None
    max_retries: int | None = None
    retry_budget: int | None = None  # retry tokens per Session (_retry.RetryBudget); 0: no budget
    connect_timeout: float | None = None
    read_timeout: float | None = None
    use_local: bool | None = None
    local_dir: Path | None = None
    verify_ssl: bool | None = None  # False: accept any TLS certificate (a test endpoint)
    ca_bundle: str | None = None  # a PEM file of certificates to trust instead of the system's


@dataclass(frozen=True, slots=True)
class Credentials:
    access_key_id: str
    secret_access_key: str = field(repr=False)
    session_token: str | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True, kw_only=True)
class Settings:
    endpoint_url: str | None
    region: str
    profile: str | None
    credentials: Credentials | None
    credentials_source: str
    needs_chain: bool
    addressing_style: AddressingStyle
    max_retries: int
    connect_timeout: float
    read_timeout: float
    use_local: bool
    local_dir: Path | None
    verify_ssl: bool = True
    ca_bundle: str | None = None
    retry_budget: int = 500  # _retry.DEFAULT_RETRY_BUDGET; 0: no budget

    @property
    def is_aws(self) -> bool:
        """True when requests go to Amazon S3 itself rather than an S3-compatible store."""
        if self.endpoint_url is None:
            return True
        host = urlsplit(self.endpoint_url).hostname or ""
        return host.endswith(".amazonaws.com") or host.endswith(".amazonaws.com.cn")

    @property
    def endpoint_label(self) -> str:
        """The endpoint as it may be shown: credentials in its URL masked."""
        from s3kit._observe import redact

        return redact(self.endpoint_url or f"Amazon S3 ({self.region})")


__all__ = ["DEFAULT_REGION", "AddressingStyle", "Credentials", "SessionOptions", "Settings"]
