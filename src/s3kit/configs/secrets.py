"""Secrets written into configuration files: found (a push warns about each), and masked where
s3kit shows a file's text (`configs diff`). Pure: text in, findings or masked text out.

A secret is the value of a key that names one — *password*, *secret*, *token*, api_key,
credentials (Prometheus' `authorization.credentials`), authorization, private_key — in YAML
(`key: value`, block scalars, flow mappings), JSON (`"key": "value"`, minified dashboards
too) and INI (`key = value`, grafana.ini), and the password of a URL (`http://user:pw@host`).
Not secrets: keys that name where a secret is rather than holding it (`password_file`,
`token_url`, `credentials_file`), references resolved when the tool runs (`${VAR}`, `$VAR`,
Grafana's `$__env{...}`/`$__file{...}`, `{{ templates }}`), Alertmanager's own `<secret>`,
empty values and booleans.

Masking keeps every line where it was (the same number of lines), so a diff made over the real
text can be shown over the masked one: a rotated password shows as a changed line, `***` on
both sides, never as its value.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from s3kit._observe import MASK

_WORDS = ("password", "passwd", "secret", "token", "apikey", "credentials", "privatekey")
_EXACT = frozenset({"authorization"})
# A key ending so names where the secret is, or something about it, not the secret itself.
_NOT_SECRET_ENDINGS = (
    "file", "files", "path", "url", "uri", "endpoint", "dir", "ttl", "name", "type",
    "length", "enabled", "required", "header", "duration", "expiry", "timeout", "mode",
)  # fmt: skip
_REFERENCE = re.compile(
    r"""\$\{[^}]*\}|\$[A-Za-z_][A-Za-z0-9_]*$|\$__(?:env|file|vault)\{[^}]*\}|\{\{.*\}\}|<secret>""",
    re.IGNORECASE,
)
_NOT_A_VALUE = frozenset({"", '""', "''", "null", "~", "true", "false", "yes", "no", "on", "off"})

# `"key": "value"` or `'key': 'value'` anywhere on a line (JSON, YAML flow style).
_QUOTED_PAIR = re.compile(
    r"""(?P<q>["'])(?P<key>[A-Za-z0-9_.\-]+)(?P=q)\s*:\s*(?P<value>"(?:[^"\\]|\\.)*"|'[^']*')"""
)
# `key: value` starting a YAML line (optionally a list item).
_YAML_LINE = re.compile(
    r"""^(?P<lead>\s*(?:-\s+)*)(?P<key>[A-Za-z0-9_.\-]+)\s*:(?:\s+(?P<value>.*?))?\s*$"""
)
# `key: value` inside a flow mapping: `{user: a, password: b}`.
_FLOW_PAIR = re.compile(
    r"""[{,]\s*(?P<key>[A-Za-z0-9_.\-]+)\s*:\s+"""
    r"""(?P<value>"(?:[^"\\]|\\.)*"|'[^']*'|[^,"'{}\[\]\s][^,{}]*?)\s*(?=[,}])"""
)
# `key = value` (INI, TOML, properties).
_INI_LINE = re.compile(r"""^\s*(?P<key>[A-Za-z0-9_.\-]+)\s*=\s*(?P<value>.*?)\s*$""")
_URL_PASSWORD = re.compile(r"""(?i)\b[a-z][a-z0-9+.\-]*://[^\s/:@'"]+:(?P<value>[^\s/@'"]+)@""")
_BLOCK = re.compile(r"[|>][-+0-9]*")


@dataclass(frozen=True, slots=True)
class SecretFinding:
    """An inline secret: in which file, on which line (1-based), under which key."""

    file: str
    line: int
    key: str

    @property
    def message(self) -> str:
        return (
            f"{self.file}:{self.line}: an inline secret ({self.key}) — it is stored in the"
            " bucket as written; prefer a *_file setting or an environment reference"
        )


def is_secret_key(key: str) -> bool:
    name = re.sub(r"[^a-z0-9]", "", key.lower())
    if name.endswith(_NOT_SECRET_ENDINGS):
        return False
    return name in _EXACT or any(word in name for word in _WORDS)


def _extent(value: str) -> tuple[int, int] | None:
    """Where the scalar of a written value is, quotes and a trailing comment left out; None
    when it is no value (empty, a boolean, a reference resolved at run time)."""
    if value[:1] in "\"'":
        quote, at = value[0], 1
        while at < len(value) and value[at] != quote:
            at += 2 if quote == '"' and value[at] == "\\" else 1
        start, end = 1, min(at, len(value))
    else:
        start, end = 0, len(re.split(r"\s+[#;]", value, maxsplit=1)[0].rstrip())
    inner = value[start:end]
    if value[: end + 1].strip().lower() in _NOT_A_VALUE or inner.strip().lower() in _NOT_A_VALUE:
        return None
    if not inner.strip() or _REFERENCE.search(inner):
        return None
    return start, end


def _spans(lines: Sequence[str]) -> Iterator[tuple[int, int, int, str]]:
    """Each secret value as (line index, start, end, key): the characters to mask."""
    block_key: str | None = None  # inside a block scalar (`password: |`) of this key
    block_indent = 0
    for index, line in enumerate(lines):
        if block_key is not None:
            indent = len(line) - len(line.lstrip())
            if not line.strip() or indent > block_indent:
                if line.strip():
                    yield index, indent, len(line.rstrip("\r\n")), block_key
                continue
            block_key = None
        found, block = _line_spans(line)
        if block is not None:
            block_key, block_indent = block
        for start, end, key in found:
            yield index, start, end, key


def _line_spans(line: str) -> tuple[list[tuple[int, int, str]], tuple[str, int] | None]:
    """The secret values of one line, and (key, indent) when a secret block scalar starts."""
    taken: list[tuple[int, int, str]] = []

    def add(key: str, start: int, end: int) -> None:
        if all(end <= a or start >= b for a, b, _ in taken):
            taken.append((start, end, key))

    def pair(key: str, value: str, offset: int) -> None:
        extent = _extent(value) if is_secret_key(key) else None
        if extent is not None:
            add(key, offset + extent[0], offset + extent[1])

    block = None
    for match in _QUOTED_PAIR.finditer(line):
        pair(match["key"], match["value"], match.start("value"))
    yaml = _YAML_LINE.match(line)
    if yaml and yaml["value"] is not None and is_secret_key(yaml["key"]):
        value = yaml["value"]
        if _BLOCK.fullmatch(re.split(r"\s+#", value, maxsplit=1)[0].strip()):
            block = yaml["key"], len(yaml["lead"])
        elif value[:1] not in "{[":
            pair(yaml["key"], value, yaml.start("value"))
    for match in _FLOW_PAIR.finditer(line):
        pair(match["key"], match["value"], match.start("value"))
    ini = None if yaml else _INI_LINE.match(line)
    if ini:
        pair(ini["key"], ini["value"], ini.start("value"))
    for match in _URL_PASSWORD.finditer(line):
        if not _REFERENCE.search(match["value"]):
            add("password in a URL", *match.span("value"))
    return sorted(taken), block


def find_secrets(file: str, text: str) -> list[SecretFinding]:
    """The inline secrets of one file's text, in line order."""
    lines = text.splitlines()
    seen: set[tuple[int, str]] = set()
    found = []
    for index, _, _, key in _spans(lines):
        if (index, key) not in seen:
            seen.add((index, key))
            found.append(SecretFinding(file, index + 1, key))
    return found


def masked_lines(text: str) -> list[str]:
    """`text`'s lines (ends kept), each secret value replaced by `***`."""
    lines = text.splitlines(keepends=True)
    cuts: dict[int, list[tuple[int, int]]] = {}
    for index, start, end, _ in _spans(lines):
        cuts.setdefault(index, []).append((start, end))
    for index, spans in cuts.items():
        line = lines[index]
        for start, end in sorted(spans, reverse=True):
            line = line[:start] + MASK + line[end:]
        lines[index] = line
    return lines


def mask_secrets(text: str) -> str:
    return "".join(masked_lines(text))


def masked_diff(
    before: str | None, after: str | None, before_name: str, after_name: str, *, context: int = 3
) -> str:
    """A unified diff from `before` to `after` (None: the file is not on that side), decided
    over the real text and shown over the masked text: a changed secret is a changed line whose
    both sides read `***`. '' when they are the same."""
    old = (before or "").splitlines(keepends=True)
    new = (after or "").splitlines(keepends=True)
    if old == new and (before is None) == (after is None):
        return ""
    old_shown, new_shown = masked_lines(before or ""), masked_lines(after or "")
    out = [
        f"--- {before_name if before is not None else '/dev/null'}\n",
        f"+++ {after_name if after is not None else '/dev/null'}\n",
    ]
    matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
    for group in matcher.get_grouped_opcodes(context):
        first, last = group[0], group[-1]
        out.append(f"@@ -{_range(first[1], last[2])} +{_range(first[3], last[4])} @@\n")
        for tag, i1, i2, j1, j2 in group:
            if tag == "equal":
                out += [" " + _ended(line) for line in new_shown[j1:j2]]
                continue
            out += ["-" + _ended(line) for line in old_shown[i1:i2]]
            out += ["+" + _ended(line) for line in new_shown[j1:j2]]
    return "".join(out)


def _range(start: int, stop: int) -> str:
    """A hunk's line range as unified diffs write it (difflib's `_format_range_unified`)."""
    length = stop - start
    beginning = start + 1 if length else start
    return str(beginning) if length == 1 else f"{beginning},{length}"


def _ended(line: str) -> str:
    return line if line.endswith("\n") else line + "\n\\ No newline at end of file\n"


__all__ = ["SecretFinding", "find_secrets", "is_secret_key", "mask_secrets", "masked_diff"]
