"""ServiceBase: the one path for every control-plane (boto3) call of S3Service.

`call` and `pages` translate botocore errors into s3kit errors; retries and timeouts are already
configured on the Session's client. Each feature module adds a mixin on top of this base.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from s3kit.errors import for_operation, translate
from s3kit.session import Session


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
        """Call boto3 `operation` with `kwargs`; `bucket`/`key` only shape error messages."""
        client = self.session.client(service)
        try:
            method: Callable[..., Any] = getattr(client, operation)
            return method(**kwargs)
        except Exception as exc:
            error = translate(exc, bucket=bucket, key=key, endpoint=self.session.endpoint_url)
            raise for_operation(error, operation, self.session.endpoint_label) from exc

    def pages(self, operation: str, bucket: str, **kwargs: Any) -> Iterator[dict[str, Any]]:
        """Every page of a paginated boto3 operation, fetched lazily."""
        client = self.session.client("s3")
        try:
            yield from client.get_paginator(operation).paginate(**kwargs)
        except Exception as exc:
            raise translate(exc, bucket=bucket, endpoint=self.session.endpoint_url) from exc
