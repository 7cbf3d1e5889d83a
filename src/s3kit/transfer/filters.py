"""`--include` / `--exclude` with `aws s3` semantics: every rule is tried in the order given and
the last one that matches decides; with no match a path is included. Patterns are matched
against the path relative to the source folder or prefix, and `*` also matches '/'.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Literal

Rule = tuple[Literal["include", "exclude"], str]


@dataclass(frozen=True, slots=True)
class Filters:
    rules: Sequence[Rule] = ()

    def __bool__(self) -> bool:
        return bool(self.rules)

    def accepts(self, relative: str) -> bool:
        decision = True
        for kind, pattern in self.rules:
            if fnmatchcase(relative, pattern):
                decision = kind == "include"
        return decision


def filters_from_args(argv: Sequence[str]) -> Filters:
    """Rules in command-line order from raw arguments (`--exclude X`, `--include=Y`, ...)."""
    rules: list[Rule] = []
    items = list(argv)
    for index, arg in enumerate(items):
        for kind in ("include", "exclude"):
            flag = f"--{kind}"
            if arg == flag and index + 1 < len(items):
                rules.append((kind, items[index + 1]))
            elif arg.startswith(flag + "="):
                rules.append((kind, arg[len(flag) + 1 :]))
    return Filters(tuple(rules))
