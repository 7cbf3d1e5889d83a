"""The one retry policy: which failed attempts are worth sending again, how many attempts a
request gets, and how long to wait between them.

The Session builds one `RetryPolicy` from its settings and both clients obey it: the signed-request
path (`storage.s3http`) runs its own loop with it, and the boto3 clients have their retry
decision replaced by it (session.py registers it on botocore's `needs-retry` event), so a
request is retried on the same answers, as many times and after the same waits whichever
client sends it. `max_retries=N` (S3KIT_MAX_RETRIES) means N retries after the first attempt,
N + 1 attempts in all, as botocore's `max_attempts` client option always meant.

The rules are botocore's "standard" mode ones (its throttling and transient error codes, 429 and
5xx statuses, connection failures; delays `rand(0, 1) * min(max_delay, base * 2**(n-1))` after
attempt n, with a 1 s base for throttling and 50 ms otherwise); there is no retry quota. Pure: it
never sleeps, sends or imports an SDK.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from s3kit.errors import UsageError

if TYPE_CHECKING:
    from s3kit._config import Settings

RetryKind = Literal["throttled", "transient", "connection"]

# botocore.retries.standard's lists (1.44), so both clients agree on what a retryable answer is.
THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "ProvisionedThroughputExceededException",
        "TransactionInProgressException",
        "RequestLimitExceeded",
        "BandwidthLimitExceeded",
        "LimitExceededException",
        "RequestThrottled",
        "SlowDown",
        "PriorRequestNotComplete",
        "EC2ThrottledException",
    }
)
TRANSIENT_CODES = frozenset(
    {
        "RequestTimeout",
        "RequestTimeoutException",
        "PriorRequestNotComplete",
        "IDPCommunicationError",
    }
)
TRANSIENT_STATUSES = frozenset({500, 502, 503, 504})


def retry_kind(status: int, code: str | None) -> RetryKind | None:
    """Why an error answer (`status`, S3 error `code`) may be sent again; None: it is final.
    An answer that failed after a 200 status line counts as a 500."""
    if code in THROTTLING_CODES or status == 429:
        return "throttled"
    if code in TRANSIENT_CODES or status in TRANSIENT_STATUSES:
        return "transient"
    return None


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryPolicy:
    """How many attempts a request gets (`max_attempts`, the first included) and the waits
    between them, in seconds."""

    max_attempts: int = 5
    base_delay: float = 0.05
    throttle_delay: float = 1.0
    max_delay: float = 20.0

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise UsageError(f"a request needs at least one attempt, not {self.max_attempts}")
        for name in ("base_delay", "throttle_delay", "max_delay"):
            if getattr(self, name) < 0:
                raise UsageError(f"retry {name.replace('_', ' ')} cannot be negative")

    @classmethod
    def from_settings(cls, settings: Settings) -> RetryPolicy:
        return cls(max_attempts=settings.max_retries + 1)

    @property
    def retries(self) -> int:
        """Retries after the first attempt (the `max_retries` setting)."""
        return self.max_attempts - 1

    def retrying(self, attempt: int, kind: RetryKind | None) -> bool:
        """Whether attempt number `attempt` (1-based), failed for `kind`, is followed by another."""
        return kind is not None and attempt < self.max_attempts

    def delay(
        self, attempt: int, kind: RetryKind, *, rand: Callable[[], float] = random.random
    ) -> float:
        """Seconds to wait after failed attempt number `attempt`: exponential, full jitter."""
        base = self.throttle_delay if kind == "throttled" else self.base_delay
        return rand() * min(self.max_delay, base * 2.0 ** (attempt - 1))
