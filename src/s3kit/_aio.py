"""Running s3kit's async code from synchronous callers (scripts, the CLI)."""

from __future__ import annotations

import asyncio
import functools
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterable, Iterator
from typing import Any, Concatenate, ParamSpec, TypeVar

T = TypeVar("T")
S = TypeVar("S")
P = ParamSpec("P")
R = TypeVar("R")


def _in_running_loop() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


async def _into(coro: Coroutine[Any, Any, T], box: dict[str, Any]) -> None:
    box["value"] = await coro


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run `coro` to completion; from inside a running loop (Jupyter), on a helper thread.

    The value comes out through a box, not as the main task's result: asyncio.run, restoring
    SIGINT's handler as it ends, writes that task out with repr — and with it a result such
    as a cp's summary of every file, twice (20 ms and two 700 KB strings for 2,000 files)."""
    box: dict[str, Any] = {}
    if not _in_running_loop():
        asyncio.run(_into(coro, box))
    else:

        def target() -> None:
            try:
                asyncio.run(_into(coro, box))
            except BaseException as exc:
                box["error"] = exc

        thread = threading.Thread(target=target, name="s3kit-sync")
        thread.start()
        thread.join()
        if "error" in box:
            raise box["error"]
    value: T = box["value"]
    return value


def iter_sync(agen: AsyncIterator[T]) -> Iterator[T]:
    """Iterate an async iterator from synchronous code, one item at a time."""
    loop = asyncio.new_event_loop()
    try:
        while True:
            try:
                yield loop.run_until_complete(agen.__anext__())
            except StopAsyncIteration:
                return
    finally:
        try:
            aclose = getattr(agen, "aclose", None)
            if aclose is not None:
                loop.run_until_complete(aclose())
            # Closing `agen` early (a reader that stops, `s3kit ls | head`) leaves the async
            # generators it was iterating to the loop's finalizer, which schedules their
            # aclose() as tasks: run them, as asyncio.run does, or closing the loop destroys
            # them pending ("Task was destroyed but it is pending!").
            loop.run_until_complete(loop.shutdown_asyncgens())
            pending = asyncio.all_tasks(loop)
            if pending:
                loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        finally:
            loop.close()


async def run_bounded(jobs: Iterable[Awaitable[None]], limit: int) -> None:
    """Await `jobs` with at most `limit` running at once, taking them from the iterable only
    as slots free up: a generator of 100,000 jobs never has more than `limit` in memory, where
    `asyncio.gather` would create them all first. The first exception stops the run and is
    raised once the running jobs have finished."""
    source = iter(jobs)

    async def worker() -> None:
        for job in source:  # one shared iterator: each job is taken by exactly one worker
            await job

    workers = [asyncio.create_task(worker()) for _ in range(max(1, limit))]
    try:
        await asyncio.gather(*workers)
    except BaseException:
        for task in workers:
            task.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        raise


def async_twin(
    method: Callable[Concatenate[S, P], T],
) -> Callable[Concatenate[S, P], Coroutine[Any, Any, T]]:
    """The `x_async` twin of a blocking method `x`: same signature, awaitable, run on a worker
    thread so the caller's event loop keeps going. In a class body: `x_async = async_twin(x)`
    (a type checker sees the exact signature; no second implementation to drift)."""

    @functools.wraps(method)
    async def twin(self: S, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return await asyncio.to_thread(method, self, *args, **kwargs)

    twin.__name__ = twin.__qualname__ = f"{method.__name__}_async"
    twin.__doc__ = f"Awaitable twin of `{method.__name__}` (run on a worker thread)."
    return twin


_DONE = object()


def async_iter_twin(
    method: Callable[Concatenate[S, P], Iterable[T]],
) -> Callable[Concatenate[S, P], AsyncIterator[T]]:
    """The `x_async` twin of a method returning an iterator: an async iterator whose every
    step (a page request, as the blocking one makes them) runs on a worker thread."""

    @functools.wraps(method)
    async def twin(self: S, /, *args: P.args, **kwargs: P.kwargs) -> AsyncIterator[T]:
        iterator = iter(await asyncio.to_thread(method, self, *args, **kwargs))
        while (item := await asyncio.to_thread(next, iterator, _DONE)) is not _DONE:
            yield item  # type: ignore[misc]  # _DONE is the only non-T value, handled above

    twin.__name__ = twin.__qualname__ = f"{method.__name__}_async"
    twin.__doc__ = f"Async-iterator twin of `{method.__name__}` (each step on a worker thread)."
    return twin


def blocking_twin(twin: Callable[P, Coroutine[Any, Any, R]], name: str) -> Callable[P, R]:
    """The blocking form `name` of the coroutine function `twin` (`sync = blocking_twin(
    sync_async, "sync")`): the same arguments, types and documentation, run to completion."""

    @functools.wraps(twin)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        return run_sync(twin(*args, **kwargs))

    run.__name__ = run.__qualname__ = name
    run.__doc__ = f"The blocking twin of `{twin.__name__}`:\n\n{twin.__doc__ or ''}"
    return run


def blocking_method(
    method: Callable[Concatenate[S, P], Coroutine[Any, Any, T]],
) -> Callable[Concatenate[S, P], T]:
    """The blocking method `x` of the async method `x_async`, in a class body: `x =
    blocking_method(x_async)` — the mirror image of `async_twin`, for classes whose work is
    async; the same signature for a type checker, so the two cannot drift."""

    @functools.wraps(method)
    def twin(self: S, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return run_sync(method(self, *args, **kwargs))

    twin.__name__ = twin.__qualname__ = method.__name__.removesuffix("_async")
    twin.__doc__ = f"The blocking twin of `{method.__name__}`."
    return twin
