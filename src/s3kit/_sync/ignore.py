"""`.gitignore`-syntax patterns: `.s3kitignore`, `--exclude-from FILE` and the default exclusions.

The rules follow git's: blank lines and `#` comments are skipped, `!` re-includes, a trailing
`/` matches folders only, a `/` at the start or in the middle anchors the pattern to the root,
`*` and `?` stop at '/', `**` spans folders, and the last matching rule decides. As in git, a
file under an ignored folder cannot be re-included. Pure: paths in, decisions out.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

DEFAULT_EXCLUDES: tuple[str, ...] = (
    "*.tmp",
    "*.log",
    ".DS_Store",
    "Thumbs.db",
    ".git/",
    "__pycache__/",
    "node_modules/",
)


@dataclass(frozen=True, slots=True)
class IgnoreRule:
    pattern: str
    negate: bool
    dir_only: bool
    regex: re.Pattern[str]


def _translate(body: str) -> str:
    """The regular expression for a pattern body (no `!`, no trailing '/', no leading '/')."""
    out: list[str] = []
    i, n = 0, len(body)
    while i < n:
        char = body[i]
        if body.startswith("**/", i) and (i == 0 or body[i - 1] == "/"):
            out.append("(?:.*/)?")
            i += 3
        elif body.startswith("**", i) and i + 2 == n and (i == 0 or body[i - 1] == "/"):
            out.append(".*")
            i += 2
        elif char == "*":
            out.append("[^/]*")
            i += 1
        elif char == "?":
            out.append("[^/]")
            i += 1
        elif char == "\\" and i + 1 < n:
            out.append(re.escape(body[i + 1]))
            i += 2
        elif char == "[":
            end = body.find("]", i + 2 if body[i + 1 : i + 2] in ("!", "^", "]") else i + 1)
            if end == -1:
                out.append(re.escape(char))
                i += 1
                continue
            inner = body[i + 1 : end]
            if inner[:1] in ("!", "^"):
                inner = "^" + inner[1:]
            out.append("[" + inner.replace("\\", "\\\\") + "]")
            i = end + 1
        else:
            out.append(re.escape(char))
            i += 1
    return "".join(out)


def parse_rule(line: str) -> IgnoreRule | None:
    """One line of an ignore file, or None for blanks and comments."""
    text = line.rstrip("\n").rstrip("\r")
    if text.endswith(" ") and not text.endswith("\\ "):
        text = text.rstrip(" ")
    if not text or text.startswith("#"):
        return None
    negate = text.startswith("!")
    if negate or text.startswith(("\\!", "\\#")):
        text = text[1:]
    dir_only = text.endswith("/")
    text = text.rstrip("/")
    if not text:
        return None
    anchored = "/" in text
    body = text.lstrip("/")
    prefix = "^" if anchored else "^(?:.*/)?"
    return IgnoreRule(line.strip(), negate, dir_only, re.compile(prefix + _translate(body) + "$"))


@dataclass(frozen=True, slots=True)
class IgnoreRules:
    rules: Sequence[IgnoreRule] = ()
    # The last folder `ignores` decided, and its decision: a listing is in key order, so
    # consecutive keys nearly always share their folder (one entry, so memory stays flat).
    _last_folder: list[tuple[str, bool]] = field(
        default_factory=list, init=False, compare=False, repr=False
    )
    # For files and for folders: one expression matching where any rule does, when none of
    # those rules re-includes (then "the last match decides" is "any match ignores"); a
    # listing of a million keys asks once per key instead of once per rule.
    _any_of: dict[bool, re.Pattern[str] | None] = field(
        default_factory=dict, init=False, compare=False, repr=False
    )

    @classmethod
    def parse(cls, lines: Iterable[str]) -> IgnoreRules:
        return cls(tuple(rule for rule in map(parse_rule, lines) if rule is not None))

    def __add__(self, other: IgnoreRules) -> IgnoreRules:
        return IgnoreRules(tuple(self.rules) + tuple(other.rules))

    def __bool__(self) -> bool:
        return bool(self.rules)

    def matches(self, path: str, *, is_dir: bool) -> bool:
        """Whether the last rule matching `path` itself (not its folders) ignores it."""
        if is_dir not in self._any_of:
            self._any_of[is_dir] = self._combined(is_dir)
        combined = self._any_of[is_dir]
        if combined is not None:
            return combined.match(path) is not None
        ignored = False
        for rule in self.rules:
            if rule.dir_only and not is_dir:
                continue
            if rule.regex.match(path):
                ignored = not rule.negate
        return ignored

    def _combined(self, is_dir: bool) -> re.Pattern[str] | None:
        applying = [rule for rule in self.rules if is_dir or not rule.dir_only]
        if any(rule.negate for rule in applying):
            return None
        if not applying:
            return re.compile(r"(?!)")  # matches nothing
        return re.compile("|".join(f"(?:{rule.regex.pattern})" for rule in applying))

    def ignores(self, path: str, *, is_dir: bool = False) -> bool:
        """Whether `path` ('/'-separated, relative to the root) is ignored, its folders
        included: this is the check for a key seen in a flat S3 listing."""
        if not self.rules:
            return False
        folder = path.rpartition("/")[0]
        if folder and self._folder_ignored(folder):
            return True
        return self.matches(path, is_dir=is_dir)

    def _folder_ignored(self, folder: str) -> bool:
        """Whether `folder` or one of its parents is ignored."""
        last = self._last_folder[:1]  # one read: scans in two threads may share the rules
        if last and last[0][0] == folder:
            return last[0][1]
        parts = folder.split("/")
        decision = any(
            self.matches("/".join(parts[:depth]), is_dir=True) for depth in range(1, len(parts) + 1)
        )
        self._last_folder[:] = [(folder, decision)]
        return decision


DEFAULT_RULES = IgnoreRules.parse(DEFAULT_EXCLUDES)
