"""Request events: one `RequestEvent` per attempt of every remote call, for logs, metrics and
tracing.

Each Session has its own `RequestEvents` (`session.events`; pass `Session(events=...)` to let
several sessions share one), so there is no process-wide registry to leak between libraries or
tests. Both clients publish to it: the signed-request path once per attempt it sends, and the
boto3 clients from botocore's `needs-retry` event, which fires once per attempt too.

What it must never do: let a subscriber break a call (one that raises is logged and ignored),
cost anything when nobody listens (publishers check `active` before they build an event), or
carry a secret (no headers, no query strings, no URLs: an event names the operation, bucket and
key, and what the server answered). Subscribers run on the thread that made the request, so a
slow one slows the request down.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from s3kit._observe import logger

Client = Literal["http", "boto3"]


@dataclass(frozen=True, slots=True, kw_only=True)
class RequestEvent:
    """One attempt of one request, after its answer (or its failure) arrived."""

    client: Client  # "http": the signed-request path; "boto3": the control plane
    operation: str  # the S3 API name: "GetObject", "ListObjectsV2", "GetBucketVersioning"
    method: str
    bucket: str | None
    key: str | None
    attempt: int  # 1 for the first
    status: int | None  # None: no answer (the connection failed)
    seconds: float  # from the attempt's start until its answer's head (a whole body if read)
    bytes_sent: int  # the request body
    bytes_received: int  # the answer's body as read, or as announced for a streamed one
    request_id: str | None  # x-amz-request-id
    error_code: str | None  # the S3 error code of an error answer; "Timeout": none in time
    retrying: bool  # another attempt follows
    # why it is retried: "throttled", "transient", "connection", "timeout"
    retry_reason: str | None = None
    retry_delay: float | None = None  # seconds waited before the next attempt
    # retryable with attempts left, but not retried: the Session's retry budget is spent
    retry_budget_spent: bool = False


Subscriber = Callable[[RequestEvent], None]


class RequestEvents:
    """Subscribers to one Session's request events. Thread-safe."""

    def __init__(self) -> None:
        self._subscribers: tuple[Subscriber, ...] = ()
        self._failed: set[int] = set()
        self._lock = threading.Lock()

    @property
    def active(self) -> bool:
        """Whether anyone listens: publishers build no event otherwise."""
        return bool(self._subscribers)

    def subscribe(self, callback: Subscriber) -> Callable[[], None]:
        """Call `callback` with every event from now on; returns the function that stops it."""
        with self._lock:
            self._subscribers = (*self._subscribers, callback)

        def unsubscribe() -> None:
            with self._lock:
                kept = list(self._subscribers)
                if callback in kept:
                    kept.remove(callback)
                self._subscribers = tuple(kept)

        return unsubscribe

    def publish(self, event: RequestEvent) -> None:
        # A snapshot: subscribing or leaving during a publish takes effect with the next one.
        for callback in self._subscribers:
            try:
                callback(event)
            except Exception:
                # Loud once per subscriber, then quiet: it would fail on every request.
                first = id(callback) not in self._failed
                self._failed.add(id(callback))
                logger.log(
                    logging.WARNING if first else logging.DEBUG,
                    "request event subscriber %r failed; the request goes on",
                    callback,
                    exc_info=True,
                )
