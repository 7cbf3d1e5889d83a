"""`configs batch` runs its items a few at a time, each to its own result: run_batch over a
stand-in store (the store's own pushes and pulls are tested in test_configs_store.py)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, cast

import pytest

from s3kit.configs.batch import BatchItem, BatchPlan, run_batch
from s3kit.configs.store import ConfigStore
from s3kit.errors import ConflictError


class CountingStore:
    """Counts the items running at once; a push to `fail_env` raises as a lost swap does."""

    def __init__(self, fail_env: str = "") -> None:
        self.running = 0
        self.most = 0
        self.started: list[str] = []
        self.fail_env = fail_env

    async def _one(self, label: str) -> None:
        self.running += 1
        self.most = max(self.most, self.running)
        self.started.append(label)
        for _ in range(3):  # let every other runnable item start meanwhile
            await asyncio.sleep(0)
        self.running -= 1

    async def push_async(self, tool: str, env: str, paths: Any, **options: Any) -> str:
        await self._one(f"push {env}")
        if env == self.fail_env:
            raise ConflictError(f"{env} moved while this push ran")
        return f"pushed {env}"

    async def pull_async(self, tool: str, env: str, dest: Any, **options: Any) -> str:
        await self._one(f"pull {env}")
        return f"pulled {env}"


def plan(count: int, concurrency: int) -> BatchPlan:
    items = [
        BatchItem("push", "loki", f"e{n}", paths=(Path("loki.yml"),))
        if n % 2
        else BatchItem("pull", "loki", f"e{n}", dest=Path(f"out/{n}"))
        for n in range(count)
    ]
    return BatchPlan(tuple(items), concurrency)


@pytest.mark.parametrize("concurrency", [1, 3, 8])
def test_at_most_concurrency_items_run_at_once(concurrency: int) -> None:
    store = CountingStore()
    results = asyncio.run(run_batch(cast(ConfigStore, store), plan(8, concurrency)))
    assert store.most == min(concurrency, 8)
    assert len(store.started) == 8 and len(results) == 8


def test_each_item_has_its_own_result_in_the_plans_order() -> None:
    store = CountingStore(fail_env="e3")
    results = asyncio.run(run_batch(cast(ConfigStore, store), plan(6, 2)))
    assert [r.item.env for r in results] == [f"e{n}" for n in range(6)]
    assert [r.ok for r in results] == [True, True, True, False, True, True]
    failed = results[3]
    assert isinstance(failed.error, ConflictError) and failed.outcome is None
    assert [r.outcome for r in results if r.ok] == [
        "pulled e0", "pushed e1", "pulled e2", "pulled e4", "pushed e5",
    ]  # fmt: skip
