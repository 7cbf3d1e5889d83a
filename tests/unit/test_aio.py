"""`run_bounded`: at most `limit` jobs at once, taken lazily, the first error raised; the
awaitable twins of blocking methods."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Coroutine, Iterator

import pytest

from s3kit._aio import async_iter_twin, async_twin, run_bounded, run_sync


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


# -- async twins ---------------------------------------------------------------------------------


class _Counter:
    def __init__(self) -> None:
        self.thread: str | None = None

    def add(self, x: int, *, times: int = 1) -> int:
        import threading

        self.thread = threading.current_thread().name
        return x * times

    def fail(self) -> None:
        raise ValueError("boom")

    def count(self, up_to: int) -> Iterator[int]:
        yield from range(up_to)

    add_async = async_twin(add)
    fail_async = async_twin(fail)
    count_async = async_iter_twin(count)


def test_an_async_twin_returns_what_the_method_returns_off_the_loop_thread() -> None:
    import threading

    counter = _Counter()
    assert asyncio.run(counter.add_async(3, times=4)) == 12
    assert counter.thread != threading.current_thread().name
    assert _Counter.add_async.__name__ == "add_async"
    assert inspect.signature(_Counter.add_async) == inspect.signature(_Counter.add)


def test_an_async_twin_raises_what_the_method_raises() -> None:
    with pytest.raises(ValueError, match="boom"):
        asyncio.run(_Counter().fail_async())


def test_an_async_iterator_twin_yields_every_item_then_stops() -> None:
    async def collect() -> list[int]:
        return [n async for n in _Counter().count_async(5)]

    assert asyncio.run(collect()) == [0, 1, 2, 3, 4]


@pytest.mark.parametrize("owner", ["s3kit.S3Service", "s3kit.S3Client"])
def test_every_public_operation_has_an_awaitable_twin_of_itself(owner: str) -> None:
    """Issue 10's "x / x_async" rule, kept: a new public method without its twin fails here."""
    import importlib

    module, _, name = owner.rpartition(".")
    cls = getattr(importlib.import_module(module), name)
    methods = {
        n: m
        for n, m in inspect.getmembers(cls, inspect.isfunction)
        if not n.startswith("_") and not n.endswith("_async") and n != "call"
    }
    assert len(methods) > 8
    missing = [n for n in methods if not hasattr(cls, f"{n}_async")]
    assert missing == []
    for n, method in methods.items():
        twin = getattr(cls, f"{n}_async")
        assert inspect.iscoroutinefunction(twin) or inspect.isasyncgenfunction(twin), n
        assert twin.__wrapped__ is method, f"{n}_async runs another method"


class _Counted:
    """A result that counts how often it is written out with repr()."""

    reprs = 0

    def __repr__(self) -> str:
        type(self).reprs += 1
        return "counted"


@pytest.mark.parametrize("inside_a_loop", [False, True])
def test_run_sync_never_writes_its_result_out(inside_a_loop: bool) -> None:
    """asyncio.run, restoring SIGINT's handler as it ends, wrote the main task (so its result:
    a cp's summary of every file) out twice with repr (issue 15): 20 ms and two 700 KB strings
    for 2,000 files, growing with the files."""
    _Counted.reprs = 0

    async def result() -> list[_Counted]:
        return [_Counted() for _ in range(100)]

    got: list[_Counted] = []

    async def from_a_loop() -> None:  # returns nothing: this asyncio.run is the test's own
        got.extend(run_sync(result()))

    if inside_a_loop:
        asyncio.run(from_a_loop())
    else:
        got.extend(run_sync(result()))
    assert len(got) == 100
    assert _Counted.reprs == 0
