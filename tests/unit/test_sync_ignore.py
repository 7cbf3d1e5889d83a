"""The ignore rules decide as git does, whether they are asked rule by rule (some rule
re-includes) or through the one expression made of them all (none does)."""

from __future__ import annotations

import itertools

from s3kit._sync.ignore import DEFAULT_RULES, IgnoreRules

PATHS = [
    "a.log", "x/a.log", "node_modules", "x/node_modules", "node_modules/m", ".git", "a/.git/b",
    "Thumbs.db", "thumbs.db", "keep.log", "build", "build/out.o", "src/build", "docs/a.md",
    "a.tmp.txt", "caf\udce9.tmp", "a\nb.log", "deep/er/x.o", "x.o",
]  # fmt: skip


def one_by_one(rules: IgnoreRules, path: str, *, is_dir: bool) -> bool:
    """The last matching rule decides: git's rule, read literally."""
    ignored = False
    for rule in rules.rules:
        if not (rule.dir_only and not is_dir) and rule.regex.match(path):
            ignored = not rule.negate
    return ignored


def test_every_rule_set_decides_as_git_reads_it() -> None:
    sets = [
        DEFAULT_RULES,
        IgnoreRules(),
        IgnoreRules.parse(["*.o", "/build/"]),
        DEFAULT_RULES + IgnoreRules.parse(["!keep.log"]),
        IgnoreRules.parse(["deep/**", "!deep/er/x.o", "*.o"]),
    ]
    for rules, path, is_dir in itertools.product(sets, PATHS, (False, True)):
        assert rules.matches(path, is_dir=is_dir) == one_by_one(rules, path, is_dir=is_dir), (
            [r.pattern for r in rules.rules], path, is_dir,
        )  # fmt: skip
    assert DEFAULT_RULES.matches("x/a.log", is_dir=False)
    assert not (DEFAULT_RULES + IgnoreRules.parse(["!keep.log"])).matches("keep.log", is_dir=False)
