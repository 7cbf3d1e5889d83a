"""The one retry policy: which failed attempts are worth sending again, how many attempts a
request gets, how long to wait between them, and the retry budget that stops a failing
endpoint from being hammered.

The Session builds one `RetryPolicy` and one `RetryBudget` from its settings and both clients
obey them through `decide`: the signed-request path (`storage.s3http`) runs its own loop with
it, and the boto3 clients have their retry decision replaced by it (session.py registers it on
botocore's `needs-retry` event), so a request is retried on the same answers, as many times and
after the same waits whichever client sends it, and both draw on the same budget.
`max_retries=N` (S3KIT_MAX_RETRIES) means N retries after the first attempt, N + 1 attempts in
all, as botocore's `max_attempts` client option always meant.

The rules are botocore's "standard" mode ones (its throttling and transient error codes, 429 and
5xx statuses, connection failures and timeouts; delays `rand(0, 1) * min(max_delay, base *
2**(n-1))` after attempt n, with a 1 s base for throttling and 50 ms otherwise).

The budget is a token bucket, the AWS SDKs' standard-mode retry quota: it starts full (500
tokens, S3KIT_RETRY_BUDGET), a retry costs 5 tokens (10 after a timeout, which held a
connection for the whole read timeout), a request that succeeds at its first attempt refunds
1 and one that succeeds after retries refunds what its last retry cost, never above the
capacity. When a retry cannot be paid for, the failed attempt is the request's last and its
error says the budget is spent. A bucket rather than a ratio of retries to requests over a
time window (Finagle's RetryBudget): it needs no clock, so it is deterministic and tested
without sleeping; it bounds a dead endpoint to capacity / 5 = 100 retries per Session in all,
however fast it fails, where a per-second allowance keeps paying out; and its numbers are the
ones boto3 users already know (botocore 1.44 itself now charges 14 per non-throttling retry:
the 1 % fault rate of `make bench-reliability` is far below either break-even, one failed
attempt in 5 or 14 successes). Pure: nothing here sleeps, sends or imports an SDK.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from s3kit.errors import UsageError

if TYPE_CHECKING:
    from s3kit._config import Settings

RetryKind = Literal["throttled", "transient", "connection", "timeout"]

DEFAULT_RETRY_BUDGET = 500  # tokens (S3KIT_RETRY_BUDGET)

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


class RetryBudget:
    """The retries one Session may still spend: a token bucket shared by every request of both
    clients (see the module docstring for the costs). `capacity=None`: unbounded (retries are
    limited by `max_retries` alone). Thread-safe."""

    RETRY_COST = 5
    TIMEOUT_COST = 10
    SUCCESS_REFUND = 1

    def __init__(self, capacity: int | None = DEFAULT_RETRY_BUDGET) -> None:
        if capacity is not None and capacity < 0:
            raise UsageError(f"the retry budget cannot be negative, not {capacity}")
        self.capacity = capacity
        self._available = capacity or 0
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> RetryBudget:
        return cls(settings.retry_budget or None)  # 0: no budget

    @property
    def available(self) -> int | None:
        """Tokens left (None: unbounded)."""
        return None if self.capacity is None else self._available

    def cost(self, kind: RetryKind) -> int:
        return self.TIMEOUT_COST if kind == "timeout" else self.RETRY_COST

    def spend(self, kind: RetryKind) -> int | None:
        """Pay for one retry after a failure of `kind`: the tokens taken, or None when the
        budget cannot pay (the failed attempt is then the last)."""
        cost = self.cost(kind)
        if self.capacity is None:
            return cost
        with self._lock:
            if cost > self._available:
                return None
            self._available -= cost
        return cost

    def succeeded(self, spent: int = 0) -> None:
        """A request ended in success: refund `spent` (what its last retry cost), or
        SUCCESS_REFUND when it was not retried; never above the capacity."""
        if self.capacity is None or self._available >= self.capacity:
            return
        with self._lock:
            self._available = min(self.capacity, self._available + (spent or self.SUCCESS_REFUND))


@dataclass(frozen=True, slots=True)
class RetryDecision:
    """What follows a failed attempt. `delay` None: it was the last; `cost`: the tokens its
    retry took from the budget (0 when not retried); `budget_spent`: it would have been
    retried, but the budget could not pay."""

    delay: float | None
    cost: int = 0
    budget_spent: bool = False


def decide(
    policy: RetryPolicy,
    budget: RetryBudget,
    attempt: int,
    kind: RetryKind | None,
    *,
    rand: Callable[[], float] = random.random,
) -> RetryDecision:
    """Whether and when attempt number `attempt`, failed for `kind` (None: not retryable), is
    sent again: the policy says whether it may be, the budget whether it can be paid for."""
    if kind is None or not policy.retrying(attempt, kind):
        return RetryDecision(None)
    cost = budget.spend(kind)
    if cost is None:
        return RetryDecision(None, budget_spent=True)
    return RetryDecision(policy.delay(attempt, kind, rand=rand), cost)
