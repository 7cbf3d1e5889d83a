"""The time estimate of a sync plan, from earlier runs (pure, plus the history file)."""

from __future__ import annotations

from pathlib import Path

import pytest

from s3kit._sync.throughput import (
    KEEP,
    REACH,
    Model,
    Run,
    ThroughputHistory,
    describe_estimate,
    estimate,
    fit,
)


def test_fit_recovers_per_file_and_per_byte_costs() -> None:
    truth = Model(per_file=0.002, per_byte=1e-8)
    runs = [
        Run(f, b, truth.seconds(f, b))
        for f, b in [(5000, 40_000_000), (1, 10**9), (300, 3 * 10**8)]
    ]
    model = fit(runs)
    assert model is not None
    assert model.per_file == pytest.approx(truth.per_file, rel=1e-6)
    assert model.per_byte == pytest.approx(truth.per_byte, rel=1e-6)
    assert estimate(runs, 100, 5 * 10**8) == pytest.approx(truth.seconds(100, 5 * 10**8))


def test_one_run_scales_by_the_larger_ratio_within_its_reach() -> None:
    runs = [Run(100, 1_000_000, 2.0)]
    assert fit(runs) is None  # one run cannot tell latency from bandwidth
    assert estimate(runs, 200, 1_000_000) == pytest.approx(4.0)
    assert estimate(runs, 1, 3_000_000) == pytest.approx(6.0)


def test_tiny_runs_say_nothing_of_a_much_larger_sync() -> None:
    """The report: after a few runs of a few hundred bytes, a 2 MB dry run was "about 9.2 h"
    (the last tiny run scaled by the byte ratio). Nothing measured comes near 2 MB: no
    estimate, whatever the model."""
    runs = [Run(1, 120, 0.6), Run(2, 300, 0.7), Run(1, 90, 0.55)]
    assert estimate(runs, 3, 2_000_000) is None
    assert describe_estimate(estimate(runs, 3, 2_000_000)) is None
    # Files too: three runs of a file or two say nothing of a thousand.
    assert estimate(runs, 1000, 200) is None


def test_a_fit_is_not_stretched_beyond_its_reach() -> None:
    truth = Model(per_file=0.002, per_byte=1e-8)
    runs = [Run(f, b, truth.seconds(f, b)) for f, b in [(50, 4_000_000), (1, 10**7), (30, 10**6)]]
    assert fit(runs) is not None
    within = estimate(runs, 100, REACH * 10**7)
    assert within == pytest.approx(truth.seconds(100, REACH * 10**7))
    assert estimate(runs, 100, REACH * 10**7 + 1) is None
    assert estimate(runs, int(REACH * 50) + 1, 10) is None


def test_no_history_no_estimate_and_nothing_to_do_takes_no_time() -> None:
    assert estimate([], 10, 100) is None
    assert estimate([Run(0, 0, 0.0)], 10, 100) is None
    assert estimate([], 0, 0) == 0.0


def test_a_negative_cost_falls_back_to_scaling() -> None:
    # More files took less time: least squares would give a negative per-file cost.
    runs = [Run(10, 10**6, 10.0), Run(1000, 10**6, 0.5)]
    assert fit(runs) is None
    assert estimate(runs, 1000, 10**6) == pytest.approx(0.5)


@pytest.mark.parametrize(
    ("seconds", "words"),
    [(None, None), (0.0, None), (0.4, "under a second"), (12.2, "about 12 s"),
     (600, "about 10 min"), (7200, "about 2.0 h")],
)  # fmt: skip
def test_describe_estimate(seconds: float | None, words: str | None) -> None:
    assert describe_estimate(seconds) == words


def test_history_keeps_the_last_runs_per_endpoint_and_direction(tmp_path: Path) -> None:
    history = ThroughputHistory(tmp_path / "state" / "throughput.json")
    assert history.runs("http://127.0.0.1:1", "upload") == []
    for n in range(KEEP + 5):
        history.record("http://127.0.0.1:1", "upload", Run(n + 1, 10 * (n + 1), 0.5))
    history.record("http://127.0.0.1:1", "download", Run(7, 70, 1.0))
    history.record("http://127.0.0.1:1", "upload", Run(0, 0, 0.0))  # nothing moved: ignored
    runs = ThroughputHistory(history.path).runs("http://127.0.0.1:1", "upload")
    assert len(runs) == KEEP and runs[-1] == Run(KEEP + 5, 10 * (KEEP + 5), 0.5)
    assert history.runs("http://127.0.0.1:1", "download") == [Run(7, 70, 1.0)]
    assert history.runs("http://127.0.0.1:2", "upload") == []


def test_a_damaged_history_is_no_history(tmp_path: Path) -> None:
    path = tmp_path / "throughput.json"
    path.write_text("{not json")
    history = ThroughputHistory(path)
    assert history.runs("e", "upload") == []
    history.record("e", "upload", Run(1, 1, 1.0))
    assert history.runs("e", "upload") == [Run(1, 1, 1.0)]
    path.write_text('{"upload e": [["x", 1, 2]]}')
    assert history.runs("e", "upload") == []
