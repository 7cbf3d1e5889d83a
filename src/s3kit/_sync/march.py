"""The one lock-step walk of sorted sides, as rclone's `march`: the plan of a one-way sync walks
source and destination, two-way sync walks its saved state, the local folder and the remote
prefix. Each step names one key and what each side holds under it (None where a side has
nothing), in key order; every entry of every side is seen exactly once.

The streamed one-way sync cannot march: its source arrives in walk order, not sorted, so it
looks each entry up in the sorted destination instead (`stream._find`) and decides with the
same `plan.compare` rule.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")
K = TypeVar("K", bytes, str)


@dataclass(frozen=True, slots=True)
class Step(Generic[T, K]):
    """One key of the walk. `items[n]` is side n's entry of that key (None: it has none);
    `positions[n]` is that entry's index in side n, or, where side n has none, the index of
    its next entry — what a look ahead ("does this side hold anything under this folder?")
    starts from."""

    key: K
    items: tuple[T | None, ...]
    positions: tuple[int, ...]


def march(*sides: Sequence[T], key: Callable[[T], K]) -> Iterator[Step[T, K]]:
    """Walk `sides` (each sorted by `key`, without repeated keys) in lock step."""
    at = [0] * len(sides)
    while True:
        heads = [key(side[i]) for side, i in zip(sides, at, strict=True) if i < len(side)]
        if not heads:
            return
        lowest = min(heads)
        items: list[T | None] = []
        for n, side in enumerate(sides):
            here = at[n] < len(side) and key(side[at[n]]) == lowest
            items.append(side[at[n]] if here else None)
        positions = tuple(at)
        for n, item in enumerate(items):
            if item is not None:
                at[n] += 1
        yield Step(lowest, tuple(items), positions)


__all__ = ["Step", "march"]
