"""Who the credentials belong to."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from s3kit._aio import async_twin
from s3kit.errors import EndpointError, S3KitError
from s3kit.service.buckets import BucketsMixin


@dataclass(frozen=True, slots=True)
class Identity:
    endpoint: str
    access_key: str
    credentials_source: str
    account: str | None
    arn: str | None
    user_id: str | None
    buckets: int | None
    method: Literal["sts", "list-buckets"]


def mask_key(access_key: str) -> str:
    """`AKIA…WXYZ`: enough to recognise a key, not enough to use it."""
    return access_key if len(access_key) <= 8 else f"{access_key[:4]}…{access_key[-4:]}"


class IdentityMixin(BucketsMixin):
    def whoami(self) -> Identity:
        """Who the credentials belong to: STS GetCallerIdentity where the endpoint offers it,
        otherwise proof that ListBuckets works with them."""
        settings = self.session.settings
        creds = self.session.credentials()
        base = {
            "endpoint": self.session.endpoint_label,
            "access_key": mask_key(creds.access_key_id),
            "credentials_source": settings.credentials_source,
        }
        try:
            ident = self.call("get_caller_identity", service="sts")
            return Identity(
                **base,
                account=ident.get("Account"),
                arn=ident.get("Arn"),
                user_id=ident.get("UserId"),
                buckets=None,
                method="sts",
            )
        except S3KitError as sts_error:
            if settings.is_aws and not settings.use_local:
                raise
            sts_failure = sts_error
        try:
            buckets = len(self.list_buckets())
        except S3KitError as exc:
            if exc.message == sts_failure.message or (
                isinstance(exc, EndpointError) and isinstance(sts_failure, EndpointError)
            ):
                raise  # an endpoint that cannot be reached is said once, not twice
            raise type(exc)(f"{exc}; STS was not usable either: {sts_failure}").context_of(
                exc
            ) from exc
        return Identity(
            **base, account=None, arn=None, user_id=None, buckets=buckets, method="list-buckets"
        )

    # -- awaitable twins: the same calls on a worker thread (s3kit._aio.async_twin) ---------
    whoami_async = async_twin(whoami)
