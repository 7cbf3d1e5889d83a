"""The lock-step walk every planner uses: each entry of each side seen once, in key order,
with the positions a look ahead starts from."""

from __future__ import annotations

import random

from s3kit._sync.march import march


def _ident(value: str) -> str:
    return value


def test_nothing_to_walk() -> None:
    assert list(march([], [], key=_ident)) == []


def test_two_sides_line_up_by_key() -> None:
    steps = list(march(["a", "c", "d"], ["b", "c"], key=_ident))
    assert [(s.key, s.items) for s in steps] == [
        ("a", ("a", None)),
        ("b", (None, "b")),
        ("c", ("c", "c")),
        ("d", ("d", None)),
    ]
    # Where a side has nothing, its position is that of its next entry (len at the end).
    assert [s.positions for s in steps] == [(0, 0), (1, 0), (1, 1), (2, 2)]


def test_three_sides() -> None:
    steps = list(march(["b"], ["a", "b"], ["c"], key=_ident))
    assert [(s.key, s.items) for s in steps] == [
        ("a", (None, "a", None)),
        ("b", ("b", "b", None)),
        ("c", (None, None, "c")),
    ]


def test_records_are_walked_by_their_key() -> None:
    left = [(b"a", 1), (b"b", 2)]
    right = [(b"b", 20)]
    steps = list(march(left, right, key=lambda pair: pair[0]))
    assert [s.items for s in steps] == [((b"a", 1), None), ((b"b", 2), (b"b", 20))]


def test_every_entry_is_seen_once_in_order() -> None:
    rng = random.Random(7)
    alphabet = [f"k{n:03}" for n in range(200)]
    for _ in range(50):
        sides = [sorted(rng.sample(alphabet, rng.randint(0, 60))) for _ in range(3)]
        steps = list(march(*sides, key=_ident))
        keys = [s.key for s in steps]
        assert keys == sorted(set().union(*sides))
        for n, side in enumerate(sides):
            seen = [s.items[n] for s in steps if s.items[n] is not None]
            assert seen == side
            for s in steps:
                if s.items[n] is not None:
                    assert side[s.positions[n]] == s.items[n]
