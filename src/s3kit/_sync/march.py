"""The one lock-step walk of sorted sides, as rclone's `march`: the plan of a one-way sync walks
source and destination, two-way sync walks its saved state, the local folder and the remote
prefix. Each step names one key and what each side holds under it (None where a side has
nothing), in key order; every entry of every side is seen exactly once.

The streamed one-way sync cannot march: its source arrives in walk order, not sorted, so it
looks each entry up in the sorted destination instead (`EntryIndex.find`) and decides with the
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
    """Walk `sides` (each sorted by `key`, without repeated keys) in lock step. Each entry is
    read from its side once (an `EntryIndex` makes it on every read)."""
    at = [0] * len(sides)
    heads: list[T | None] = [side[0] if side else None for side in sides]
    keys: list[K | None] = [None if head is None else key(head) for head in heads]
    while True:
        present = [k for k in keys if k is not None]
        if not present:
            return
        lowest = min(present)
        items = tuple(head if k == lowest else None for head, k in zip(heads, keys, strict=True))
        positions = tuple(at)
        for n, item in enumerate(items):
            if item is not None:
                at[n] += 1
                side = sides[n]
                head = side[at[n]] if at[n] < len(side) else None
                heads[n], keys[n] = head, None if head is None else key(head)
        yield Step(lowest, items, positions)


__all__ = ["Step", "march"]
