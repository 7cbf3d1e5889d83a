"""Metrics: what every request of a run did, counted from the request events.

`Metrics` subscribes to one or more Sessions (`metrics.watch(session)`) and counts, from each
`RequestEvent`: requests by operation and outcome, attempts' latency per operation (a
histogram, and exact percentiles from the samples kept), retries by reason, and bytes by
direction; and, from a config store's cache (`ConfigCache(on_count=metrics.count_cache)`),
its hits, misses, revalidations (304), stale copies served, copies dropped and evictions.
`snapshot()` gives an immutable `MetricsSnapshot`, which renders as the table
`--stats` prints, a JSON document (`--stats-json`), or Prometheus' text format
(`--metrics-file`, `--metrics-push`).

A request's outcome is its last attempt's: `success` (2xx/3xx), `not_found` (a 404 other than
NoSuchBucket: expected where a caller asks whether something exists, so it does not count
against the success rate),
`client_error` (another 4xx), `throttled` (429, SlowDown and the like), `server_error` (5xx),
`timeout` and `network` (no answer). The success rate is (success + not_found) / requests.

There is no process-wide registry: a `Metrics` counts what it was given (STYLE: no module-level
mutable state), and the CLI makes one per command. Recording never raises into a request (the
events layer already guards subscribers) and holds a lock only to add numbers.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from s3kit._retry import THROTTLING_CODES

if TYPE_CHECKING:
    from s3kit._session import Session
    from s3kit.events import RequestEvent

Outcome = Literal[
    "success", "not_found", "client_error", "throttled", "server_error", "timeout", "network"
]
OUTCOMES: tuple[Outcome, ...] = (
    "success", "not_found", "client_error", "throttled", "server_error", "timeout", "network"
)  # fmt: skip
# Latency buckets (seconds), Prometheus' defaults widened for transfers of big parts.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
SAMPLES_KEPT = 100_000  # per operation; past it, percentiles come from the histogram
# The config store cache's counters, as s3kit.configs.cache.COUNTERS names them (not imported:
# counting requests must not load the config store's code).
CACHE_EVENTS = ("hits", "misses", "revalidations", "stale", "dropped", "evicted")


def outcome_of(event: RequestEvent) -> Outcome:
    status = event.status
    if status is None:
        return "timeout" if event.error_code == "Timeout" else "network"
    if status < 400:
        return "success"
    if status == 429 or (event.error_code or "") in THROTTLING_CODES:
        return "throttled"
    if status == 404 and event.error_code != "NoSuchBucket":
        return "not_found"
    return "client_error" if status < 500 else "server_error"


@dataclass(slots=True)
class _Operation:
    outcomes: dict[Outcome, int] = field(default_factory=dict)
    attempts: int = 0
    retries: int = 0
    seconds: float = 0.0
    buckets: list[int] = field(default_factory=lambda: [0] * (len(BUCKETS) + 1))
    samples: list[float] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class OperationStats:
    operation: str
    requests: int  # requests ended (their last attempt)
    attempts: int
    retries: int
    outcomes: Mapping[str, int]
    seconds: float  # all attempts together
    buckets: tuple[int, ...]  # attempts per latency bucket (BUCKETS, then +Inf), not cumulative
    p50: float | None
    p95: float | None
    p99: float | None

    @property
    def success_rate(self) -> float | None:
        good = self.outcomes.get("success", 0) + self.outcomes.get("not_found", 0)
        return good / self.requests if self.requests else None


@dataclass(frozen=True, slots=True)
class MetricsSnapshot:
    operations: Mapping[str, OperationStats]
    retries_by_reason: Mapping[str, int]
    bytes_sent: int
    bytes_received: int
    cache: Mapping[str, int] = field(default_factory=dict)  # config cache events, by name
    retry_budget_refusals: int = 0  # retryable failures not retried: the retry budget was spent

    @property
    def requests(self) -> int:
        return sum(op.requests for op in self.operations.values())

    @property
    def success_rate(self) -> float | None:
        requests = self.requests
        if not requests:
            return None
        good = sum(
            op.outcomes.get("success", 0) + op.outcomes.get("not_found", 0)
            for op in self.operations.values()
        )
        return good / requests

    def document(self) -> dict[str, Any]:
        """The `--stats-json` document."""
        return {
            "requests": self.requests,
            "success_rate": self.success_rate,
            "bytes_sent": self.bytes_sent,
            "bytes_received": self.bytes_received,
            "retries": dict(sorted(self.retries_by_reason.items())),
            "retry_budget_refusals": self.retry_budget_refusals,
            "config_cache": {name: self.cache.get(name, 0) for name in CACHE_EVENTS}
            if self.cache
            else None,
            "operations": [
                {
                    "operation": op.operation,
                    "requests": op.requests,
                    "attempts": op.attempts,
                    "retries": op.retries,
                    "outcomes": dict(op.outcomes),
                    "success_rate": op.success_rate,
                    "p50_seconds": op.p50,
                    "p95_seconds": op.p95,
                    "p99_seconds": op.p99,
                }
                for op in sorted(self.operations.values(), key=lambda o: o.operation)
            ],
        }

    def table(self) -> str:
        """The `--stats` table, for a person."""
        rows = [("operation", "requests", "success", "p50", "p95", "p99", "retries")]
        for op in sorted(self.operations.values(), key=lambda o: o.operation):
            rows.append(
                (
                    op.operation,
                    str(op.requests),
                    _percent(op.success_rate),
                    _ms(op.p50),
                    _ms(op.p95),
                    _ms(op.p99),
                    str(op.retries),
                )
            )
        rows.append(
            ("all", str(self.requests), _percent(self.success_rate), "", "", "",
             str(sum(self.retries_by_reason.values())))
        )  # fmt: skip
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
        lines = [
            "  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in
                      enumerate(zip(row, widths, strict=True))).rstrip()
            for row in rows
        ]  # fmt: skip
        if self.retries_by_reason or self.retry_budget_refusals:
            lines.append(
                "retries: "
                + ", ".join(f"{why} {n}" for why, n in sorted(self.retries_by_reason.items()))
                + f"; refused by the retry budget: {self.retry_budget_refusals}"
            )
        if self.cache:
            lines.append(
                "config cache: "
                + ", ".join(f"{name} {self.cache.get(name, 0)}" for name in CACHE_EVENTS)
            )
        return "\n".join(lines) + "\n"

    def prometheus(self, *, labels: Mapping[str, str] | None = None) -> str:
        """Prometheus' text exposition format (0.0.4): what node_exporter's textfile collector
        and a Pushgateway read."""
        extra = dict(labels or {})
        out: list[str] = []

        def line(name: str, value: float, **label: str) -> None:
            merged = {**extra, **label}
            inside = ",".join(f'{k}="{_escape(v)}"' for k, v in merged.items())
            out.append(
                f"{name}{{{inside}}} {_number(value)}" if inside else f"{name} {_number(value)}"
            )

        out += [
            "# HELP s3kit_requests_total Requests ended, by S3 operation and outcome.",
            "# TYPE s3kit_requests_total counter",
        ]
        for op in sorted(self.operations.values(), key=lambda o: o.operation):
            for outcome in OUTCOMES:
                if op.outcomes.get(outcome):
                    line("s3kit_requests_total", op.outcomes[outcome], operation=op.operation,
                         outcome=outcome)  # fmt: skip
        out += [
            "# HELP s3kit_retries_total Attempts sent again, by reason.",
            "# TYPE s3kit_retries_total counter",
        ]
        for reason, count in sorted(self.retries_by_reason.items()):
            line("s3kit_retries_total", count, reason=reason)
        out += [
            "# HELP s3kit_retry_budget_refusals_total Retryable failures not retried: the"
            " session's retry budget was spent.",
            "# TYPE s3kit_retry_budget_refusals_total counter",
        ]
        line("s3kit_retry_budget_refusals_total", self.retry_budget_refusals)
        out += [
            "# HELP s3kit_bytes_total Request and answer body bytes, by direction.",
            "# TYPE s3kit_bytes_total counter",
        ]
        line("s3kit_bytes_total", self.bytes_sent, direction="sent")
        line("s3kit_bytes_total", self.bytes_received, direction="received")
        out += [
            "# HELP s3kit_request_duration_seconds Latency of each attempt, by S3 operation.",
            "# TYPE s3kit_request_duration_seconds histogram",
        ]
        for op in sorted(self.operations.values(), key=lambda o: o.operation):
            running = 0
            for bound, count in zip((*BUCKETS, math.inf), op.buckets, strict=True):
                running += count
                le = "+Inf" if bound == math.inf else _number(bound)
                line("s3kit_request_duration_seconds_bucket", running, operation=op.operation,
                     le=le)  # fmt: skip
            line("s3kit_request_duration_seconds_sum", op.seconds, operation=op.operation)
            line("s3kit_request_duration_seconds_count", op.attempts, operation=op.operation)
        if self.cache:
            out += [
                "# HELP s3kit_config_cache_events_total Config store cache events: hits,"
                " misses, revalidations (304), stale copies served, copies dropped, evictions.",
                "# TYPE s3kit_config_cache_events_total counter",
            ]
            for name in CACHE_EVENTS:
                line("s3kit_config_cache_events_total", self.cache.get(name, 0), event=name)
        return "\n".join(out) + "\n"


class Metrics:
    """Counts the request events of the sessions it watches. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._operations: dict[str, _Operation] = {}
        self._retries: dict[str, int] = {}
        self._sent = 0
        self._received = 0
        self._cache: dict[str, int] = {}
        self._refused = 0

    def watch(self, session: Session) -> Callable[[], None]:
        """Count `session`'s requests from now on; returns the function that stops it."""
        return session.events.subscribe(self.record)

    def record(self, event: RequestEvent) -> None:
        with self._lock:
            op = self._operations.get(event.operation)
            if op is None:
                op = self._operations[event.operation] = _Operation()
            op.attempts += 1
            op.seconds += event.seconds
            op.buckets[_bucket(event.seconds)] += 1
            if len(op.samples) < SAMPLES_KEPT:
                op.samples.append(event.seconds)
            self._sent += event.bytes_sent
            self._received += event.bytes_received
            if event.retrying:
                op.retries += 1
                reason = event.retry_reason or "unknown"
                self._retries[reason] = self._retries.get(reason, 0) + 1
            else:
                outcome = outcome_of(event)
                op.outcomes[outcome] = op.outcomes.get(outcome, 0) + 1
                self._refused += event.retry_budget_spent

    def count_cache(self, event: str) -> None:
        """One config cache event (CACHE_EVENTS): a `ConfigCache(on_count=...)` listener."""
        with self._lock:
            self._cache[event] = self._cache.get(event, 0) + 1

    def snapshot(self) -> MetricsSnapshot:
        with self._lock:
            operations = {
                name: OperationStats(
                    operation=name,
                    requests=sum(op.outcomes.values()),
                    attempts=op.attempts,
                    retries=op.retries,
                    outcomes={str(k): v for k, v in op.outcomes.items()},
                    seconds=op.seconds,
                    buckets=tuple(op.buckets),
                    p50=_percentile(op, 0.50),
                    p95=_percentile(op, 0.95),
                    p99=_percentile(op, 0.99),
                )
                for name, op in self._operations.items()
            }
            return MetricsSnapshot(
                operations,
                dict(self._retries),
                self._sent,
                self._received,
                dict(self._cache),
                retry_budget_refusals=self._refused,
            )


def _bucket(seconds: float) -> int:
    for index, bound in enumerate(BUCKETS):
        if seconds <= bound:
            return index
    return len(BUCKETS)


def _percentile(op: _Operation, q: float) -> float | None:
    """The nearest-rank percentile of the samples; past SAMPLES_KEPT, the upper bound of the
    histogram bucket that holds it."""
    if not op.attempts:
        return None
    if len(op.samples) == op.attempts:
        ordered = sorted(op.samples)
        return ordered[max(0, math.ceil(q * len(ordered)) - 1)]
    rank, seen = math.ceil(q * op.attempts), 0
    for bound, count in zip((*BUCKETS, math.inf), op.buckets, strict=True):
        seen += count
        if seen >= rank:
            return bound
    return math.inf  # pragma: no cover - the buckets hold every attempt


def _percent(rate: float | None) -> str:
    return "-" if rate is None else f"{rate:.2%}"


def _ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:.0f} ms"


def _number(value: float) -> str:
    if value == math.inf:
        return "+Inf"
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


__all__ = [
    "BUCKETS",
    "CACHE_EVENTS",
    "OUTCOMES",
    "Metrics",
    "MetricsSnapshot",
    "OperationStats",
    "Outcome",
    "outcome_of",
]
