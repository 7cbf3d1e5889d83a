"""ServiceBase: the one path for every control-plane (boto3) call of S3Service.

`call` translates botocore errors into s3kit errors that carry the call's context;
retries (the Session's one policy), timeouts and request events are already set up on the
Session's client. Each feature module adds a mixin on top of this base.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from s3kit._session import Session
from s3kit.errors import S3KitError, for_operation, translating


class ServiceBase:
    def __init__(self, session: Session) -> None:
        self.session = session

    def call(
        self,
        operation: str,
        *,
        bucket: str | None = None,
        key: str | None = None,
        service: str = "s3",
        **kwargs: Any,
    ) -> Any:
        """Call boto3 `operation` with `kwargs`; `bucket`/`key` shape error messages and are
        the error's context, with the S3 name of the operation ("GetBucketPolicy")."""
        client = self.session.client(service)

        def adjust(error: S3KitError) -> S3KitError:
            return for_operation(error, operation, self.session.endpoint_label)

        with translating(
            operation=client.meta.method_to_api_mapping.get(operation, operation),
            bucket=bucket,
            key=key,
            endpoint=self.session.endpoint_url,
            adjust=adjust,
        ):
            method: Callable[..., Any] = getattr(client, operation)
            return method(**kwargs)
