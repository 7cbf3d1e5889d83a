"""Metrics (s3kit/metrics.py), from events alone: outcomes, retries, percentiles, and the three
renderings (table, JSON, Prometheus text)."""

from __future__ import annotations

import math
from typing import Any

import pytest

from s3kit.events import RequestEvent
from s3kit.metrics import BUCKETS, Metrics, outcome_of


def event(**fields: Any) -> RequestEvent:
    base: dict[str, Any] = {
        "client": "http",
        "operation": "GetObject",
        "method": "GET",
        "bucket": "b",
        "key": "k",
        "attempt": 1,
        "status": 200,
        "seconds": 0.02,
        "bytes_sent": 0,
        "bytes_received": 10,
        "request_id": None,
        "error_code": None,
        "retrying": False,
    }
    return RequestEvent(**{**base, **fields})


@pytest.mark.parametrize(
    ("status", "code", "outcome"),
    [
        (200, None, "success"),
        (304, None, "success"),
        (404, "NoSuchKey", "not_found"),
        (404, None, "not_found"),  # a HEAD's 404 has no body to name the code
        (404, "NoSuchBucket", "client_error"),
        (403, "AccessDenied", "client_error"),
        (429, None, "throttled"),
        (503, "SlowDown", "throttled"),
        (500, "InternalError", "server_error"),
        (None, None, "network"),
        (None, "Timeout", "timeout"),
    ],
)
def test_outcomes(status: int | None, code: str | None, outcome: str) -> None:
    assert outcome_of(event(status=status, error_code=code)) == outcome


def test_a_retried_request_counts_once_with_its_last_outcome_and_its_retries() -> None:
    metrics = Metrics()
    metrics.record(
        event(status=503, error_code="SlowDown", retrying=True, retry_reason="throttled")
    )
    metrics.record(event(attempt=2, status=500, retrying=True, retry_reason="transient"))
    metrics.record(event(attempt=3, status=200))
    metrics.record(event(operation="HeadObject", method="HEAD", status=404))
    snap = metrics.snapshot()
    get = snap.operations["GetObject"]
    assert (get.requests, get.attempts, get.retries) == (1, 3, 2)
    assert get.outcomes == {"success": 1}
    assert snap.retries_by_reason == {"throttled": 1, "transient": 1}
    assert snap.requests == 2 and snap.success_rate == 1.0  # a 404 is an answer, not a failure
    metrics.record(event(status=403, error_code="AccessDenied"))
    assert metrics.snapshot().success_rate == pytest.approx(2 / 3)


def test_percentiles_are_nearest_rank_over_every_attempt() -> None:
    metrics = Metrics()
    for n in range(1, 101):
        metrics.record(event(seconds=n / 1000))
    op = metrics.snapshot().operations["GetObject"]
    assert (op.p50, op.p95, op.p99) == (0.05, 0.095, 0.099)
    assert sum(op.buckets) == 100


def test_past_the_samples_kept_percentiles_come_from_the_buckets(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("s3kit.metrics.SAMPLES_KEPT", 10)
    metrics = Metrics()
    for _ in range(20):
        metrics.record(event(seconds=0.3))
    op = metrics.snapshot().operations["GetObject"]
    assert op.p50 == 0.5  # the upper bound of the bucket (0.25, 0.5]
    metrics.record(event(seconds=100.0))
    assert metrics.snapshot().operations["GetObject"].p99 == math.inf


def test_the_prometheus_text_has_counters_and_a_cumulative_histogram() -> None:
    metrics = Metrics()
    metrics.record(event(seconds=0.02, bytes_received=7))
    metrics.record(event(seconds=3.0, bytes_received=5))
    put = {"operation": "PutObject", "method": "PUT", "bytes_sent": 4, "bytes_received": 0}
    metrics.record(event(**put, status=500, retrying=True, retry_reason="transient"))
    text = metrics.snapshot().prometheus(labels={"instance": 'a"b'})
    lines = text.splitlines()
    assert (
        's3kit_requests_total{instance="a\\"b",operation="GetObject",outcome="success"} 2' in lines
    )
    assert 's3kit_retries_total{instance="a\\"b",reason="transient"} 1' in lines
    assert 's3kit_bytes_total{instance="a\\"b",direction="received"} 12' in lines
    buckets = [line for line in lines if line.startswith("s3kit_request_duration_seconds_bucket")]
    get = [line for line in buckets if 'operation="GetObject"' in line]
    assert len(get) == len(BUCKETS) + 1
    assert get[1].endswith(" 0") and get[2].endswith(" 1")  # le=0.01: 0; le=0.025: 1
    assert get[-1].endswith(" 2") and 'le="+Inf"' in get[-1]
    assert text.endswith("\n")


def test_the_table_and_the_document() -> None:
    metrics = Metrics()
    assert "all" in metrics.snapshot().table()
    metrics.record(event())
    metrics.record(event(status=404))
    table = metrics.snapshot().table().splitlines()
    assert table[0].split() == ["operation", "requests", "success", "p50", "p95", "p99", "retries"]
    assert table[1].split()[:3] == ["GetObject", "2", "100.00%"]
    document = metrics.snapshot().document()
    assert document["requests"] == 2 and document["operations"][0]["outcomes"] == {
        "success": 1,
        "not_found": 1,
    }
