"""`run_bounded`: at most `limit` jobs at once, taken lazily, the first error raised."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Iterator

import pytest

from s3kit._aio import run_bounded, run_sync


def test_never_more_than_limit_at_once_and_jobs_are_taken_lazily() -> None:
    running = peak = finished = 0
    in_flight_when_created: list[int] = []

    async def job() -> None:
        nonlocal running, peak, finished
        running += 1
        peak = max(peak, running)
        await asyncio.sleep(0)
        running -= 1
        finished += 1

    def jobs() -> Iterator[Coroutine[None, None, None]]:
        for created in range(500):
            in_flight_when_created.append(created - finished)
            yield job()

    run_sync(run_bounded(jobs(), 7))
    assert peak == 7 and finished == 500
    # A job is made only when a worker is free: never more than 7 made and unfinished.
    assert max(in_flight_when_created) <= 7


def test_the_first_error_is_raised_and_the_rest_is_not_started() -> None:
    started: list[int] = []

    async def job(n: int) -> None:
        started.append(n)
        await asyncio.sleep(0)
        if n == 3:
            raise ValueError("job 3 failed")

    with pytest.raises(ValueError, match="job 3 failed"):
        run_sync(run_bounded((job(n) for n in range(1000)), 2))
    assert len(started) < 10
