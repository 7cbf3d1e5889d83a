"""Versioning: enable or suspend it, and MFA delete (which needs the root account and its MFA
device).

A bucket that has been versioned can only be suspended, never unversioned: S3 has no DELETE for
versioning, and this module offers none.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Literal, cast, get_args

from s3kit._aio import async_twin
from s3kit.service.configs.checks import need
from s3kit.service.configs.specs import VERSIONING, ConfigDocuments, Document, plain_document

if TYPE_CHECKING:
    from mypy_boto3_s3.type_defs import VersioningConfigurationTypeDef

VersioningStatus = Literal["Enabled", "Suspended"]

_MFA_RE = re.compile(r"^\S+ \d{6}$")


def validate_mfa(mfa: str) -> str:
    """`--mfa "SERIAL CODE"`: the MFA device's serial number (or ARN) and its current code."""
    need(
        bool(_MFA_RE.match(mfa.strip())),
        "--mfa takes the device serial number and the current 6-digit code separated by a"
        " space, e.g. --mfa 'arn:aws:iam::123456789012:mfa/root-device 123456'",
    )
    return mfa.strip()


class VersioningMixin(ConfigDocuments):
    def get_versioning(self, bucket: str) -> VersioningConfigurationTypeDef:
        """``{"Status": "Enabled"|"Suspended", "MFADelete": ...}``; ``{}`` if never enabled."""
        response = self.call(VERSIONING.get, bucket=bucket, Bucket=bucket)
        return cast("VersioningConfigurationTypeDef", plain_document(response))

    def set_versioning(
        self,
        bucket: str,
        status: VersioningStatus,
        *,
        mfa: str | None = None,
        mfa_delete: bool | None = None,
    ) -> None:
        """Enable or suspend versioning. Changing MFA delete needs `mfa` ("SERIAL CODE") and
        the root account's credentials."""
        need(
            status in get_args(VersioningStatus),
            f"versioning status must be Enabled or Suspended, not {status!r}",
        )
        config: Document = {"Status": status}
        kwargs: Document = {}
        if mfa_delete is not None:
            need(mfa is not None, "changing MFA delete needs --mfa 'SERIAL CODE'")
            config["MFADelete"] = "Enabled" if mfa_delete else "Disabled"
        if mfa is not None:
            kwargs["MFA"] = validate_mfa(mfa)
        self._put_document(VERSIONING, bucket, config, **kwargs)

    # -- awaitable twins: the same calls on a worker thread (s3kit._aio.async_twin) ---------
    get_versioning_async = async_twin(get_versioning)
    set_versioning_async = async_twin(set_versioning)
