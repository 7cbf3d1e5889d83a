"""What a validation says (Finding, ValidationReport) and the typed walk of YAML nodes the
built-in checks share.

The built-in checks read a file the way the tool's Go code decodes it (gopkg.in/yaml.v2
`UnmarshalStrict` into structs): a key the struct lacks is an error, a key set twice is an error,
null leaves a field at its zero value, a string field takes any scalar, a list or struct field
refuses a scalar. A `Struct` spec lists a struct's fields and, in `check`, what its
`UnmarshalYAML` then validates; findings carry the line of the node they are about
(`yaml.compose` keeps the marks). Nothing here runs a program or reads past the bundle's root.
"""

from __future__ import annotations

import base64
import contextlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml

__all__ = [
    "Anything",
    "Context",
    "Duration",
    "Finding",
    "Flag",
    "Integer",
    "ListOf",
    "MapOf",
    "Number",
    "Obj",
    "Spec",
    "Struct",
    "Text",
    "ValidationReport",
    "compose_first",
    "is_utf8",
    "line_of",
    "load_yaml",
    "node_data",
    "text_data",
    "words",
]

Severity = Literal["error", "warning"]
BUILTIN = "builtin"

_NULL = "tag:yaml.org,2002:null"
_BOOL = "tag:yaml.org,2002:bool"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_MERGE = "tag:yaml.org,2002:merge"


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem in one file: `file` is relative to the bundle's root; `line` counts from 1
    (None when the checker names no line)."""

    file: str
    line: int | None
    message: str
    severity: Severity = "error"
    validator: str = BUILTIN

    def __post_init__(self) -> None:
        if self.severity not in ("error", "warning"):
            raise ValueError(f"severity must be 'error' or 'warning', not {self.severity!r}")
        if self.line is not None and self.line < 1:
            raise ValueError(f"line numbers count from 1, not {self.line}")

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{where}: {self.severity}: {self.message}"


@dataclass(frozen=True, slots=True)
class ValidationReport:
    """The verdict on a bundle: `ok` when no finding is an error; `validator` names what
    checked it ("promtool 2.42.0", "amtool 0.25.0", "builtin")."""

    ok: bool
    validator: str
    findings: tuple[Finding, ...]

    def __post_init__(self) -> None:
        has_errors = any(f.severity == "error" for f in self.findings)
        if self.ok == has_errors:
            raise ValueError("ok must be True exactly when no finding is an error")

    @classmethod
    def of(cls, validator: str, findings: Sequence[Finding]) -> ValidationReport:
        return cls(
            ok=not any(f.severity == "error" for f in findings),
            validator=validator,
            findings=tuple(findings),
        )

    @property
    def errors(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity == "error")


class Context:
    """One file being checked: its name relative to the root and the findings so far."""

    def __init__(self, file: str, findings: list[Finding] | None = None) -> None:
        self.file = file
        self.findings: list[Finding] = [] if findings is None else findings

    def error(self, node: Any, message: str) -> None:
        self.findings.append(Finding(self.file, line_of(node), message, "error"))

    def warning(self, node: Any, message: str) -> None:
        self.findings.append(Finding(self.file, line_of(node), message, "warning"))

    def error_at_line(self, line: int | None, message: str) -> None:
        """An error found outside YAML nodes (a JSON file, a template), at a known line."""
        self.findings.append(Finding(self.file, line, message, "error"))

    @property
    def error_count(self) -> int:
        return sum(1 for f in self.findings if f.severity == "error")


def words(text: str) -> list[str]:
    """The names in a space-separated list (how the spec tables spell long key lists)."""
    return text.split()


def line_of(node: Any) -> int | None:
    mark = getattr(node, "start_mark", None)
    return None if mark is None else int(mark.line) + 1


YAML_SUFFIXES = (".yml", ".yaml")

# libyaml's composer when PyYAML was built with it (several times faster, the same marks).
_COMPOSER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def compose_first(text: str) -> yaml.Node | None:
    """The first document's root node (Go's decoders read only that one); raises YAMLError."""
    return next(iter(yaml.compose_all(text, Loader=_COMPOSER)), None)


def load_yaml(ctx: Context, text: str) -> tuple[bool, yaml.Node | None]:
    """(True, the first document's root node or None when empty), or (False, None) after
    recording the syntax error with its line."""
    try:
        return True, compose_first(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = None if mark is None else int(mark.line) + 1
        problem = getattr(exc, "problem", None) or "invalid YAML"
        ctx.findings.append(Finding(ctx.file, line, f"YAML syntax error: {problem}"))
        return False, None


def read_text(root: Path, name: str, ctx: Context) -> str | None:
    """The file's text, or None after recording why it cannot be read."""
    path = root / name
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        ctx.error(None, "file not found")
    except (OSError, UnicodeDecodeError) as exc:
        ctx.error(None, f"cannot read the file: {type(exc).__name__}")
    return None


def yaml_files(
    root: Path, files: Sequence[str], findings: list[Finding]
) -> Iterator[tuple[Context, str, yaml.Node | None]]:
    """Each YAML file of the bundle that reads and parses, with its context, text and root node
    (None when empty); the others' reasons are recorded in `findings`."""
    for name in files:
        if not name.endswith(YAML_SUFFIXES):
            continue
        ctx = Context(name, findings)
        text = read_text(root, name, ctx)
        if text is None:
            continue
        ok, node = load_yaml(ctx, text)
        if ok:
            yield ctx, text, node


def is_null(node: Any) -> bool:
    return isinstance(node, yaml.ScalarNode) and node.tag == _NULL


def kind_of(node: Any) -> str:
    """The YAML kind as Go's error messages name it: !!map, !!seq, !!str, !!int, ..."""
    if isinstance(node, yaml.MappingNode):
        return "!!map"
    if isinstance(node, yaml.SequenceNode):
        return "!!seq"
    tag = str(getattr(node, "tag", ""))
    return "!!" + tag.rsplit(":", 1)[-1] if tag.startswith("tag:yaml.org,2002:") else tag


def entries(ctx: Context, node: yaml.MappingNode) -> Iterator[tuple[str, Any, Any]]:
    """(key, key node, value node) of a mapping, merges (`<<`) applied, after reporting a key
    set twice (yaml.v2's strict mode and yaml.v3 both refuse that)."""
    seen: dict[str, int | None] = {}
    for key_node, value_node in _merged(node):
        key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
        if key is None:
            ctx.error(key_node, "a mapping key must be a plain value")
            continue
        if key in seen:
            ctx.error(key_node, f'key "{key}" already set in this mapping (line {seen[key]})')
            continue
        seen[key] = line_of(key_node)
        yield key, key_node, value_node


def _merged(node: yaml.MappingNode) -> list[tuple[Any, Any]]:
    pairs: list[tuple[Any, Any]] = []
    merged: list[tuple[Any, Any]] = []
    for key_node, value_node in node.value:
        if isinstance(key_node, yaml.ScalarNode) and key_node.tag == _MERGE:
            sources = (
                value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
            )
            for source in sources:
                if isinstance(source, yaml.MappingNode):
                    merged.extend(_merged(source))
            continue
        pairs.append((key_node, value_node))
    own = {k.value for k, _ in pairs if isinstance(k, yaml.ScalarNode)}
    return [(k, v) for k, v in merged if k.value not in own] + pairs


class Obj(dict[str, Any]):
    """A struct's decoded fields, keeping the nodes so later checks can name lines."""

    def __init__(self, node: Any) -> None:
        super().__init__()
        self.node = node
        self.nodes: dict[str, Any] = {}
        self.key_nodes: dict[str, Any] = {}

    def at(self, key: str) -> Any:
        """The value node of `key`, or the struct's own node when the key is absent."""
        return self.nodes.get(key, self.node)

    def text(self, key: str) -> str:
        value = self.get(key)
        return value if isinstance(value, str) else ""


class Spec:
    """How one Go type decodes from a node; `read` returns the plain value."""

    what = "value"

    def read(self, ctx: Context, node: Any) -> Any:
        raise NotImplementedError

    def refuse(self, ctx: Context, node: Any) -> None:
        # A string is not repeated: in the wrong place it may be a password.
        value = node.value if isinstance(node, yaml.ScalarNode) else None
        quoted = isinstance(value, str) and node.tag != "tag:yaml.org,2002:str" and len(value) < 60
        shown = f" `{value}`" if quoted else ""
        ctx.error(node, f"cannot unmarshal {kind_of(node)}{shown} into {self.what}")


class Anything(Spec):
    """A field whose content the checks do not model (an interface{} in Go)."""

    def read(self, ctx: Context, node: Any) -> Any:
        return node


class Text(Spec):
    """A Go string: any scalar, as written; null is ""."""

    what = "string"

    def __init__(self, check: Callable[[Context, Any, str], None] | None = None) -> None:
        self.check = check

    def read(self, ctx: Context, node: Any) -> str | None:
        if is_null(node):
            return ""
        if not isinstance(node, yaml.ScalarNode):
            self.refuse(ctx, node)
            return None
        value = str(node.value)
        if node.tag == "tag:yaml.org,2002:binary":
            # yaml.v2 decodes !!binary into the string's bytes; bytes that are not UTF-8 are
            # kept as surrogates, for checks that need valid UTF-8 to refuse.
            try:
                value = base64.b64decode(value).decode("utf-8", "surrogateescape")
            except ValueError:
                ctx.error(node, "!!binary value is not valid base64")
                return None
        if self.check is not None:
            self.check(ctx, node, value)
        return value


def is_utf8(text: str) -> bool:
    """False for text holding bytes that were not UTF-8 (see Text's !!binary)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


# yaml.v2 also reads a plain y/Y/n/N as a bool; PyYAML (YAML 1.1 too) leaves those strings.
_V2_BOOLS = {"y": True, "Y": True, "n": False, "N": False}


class Flag(Spec):
    what = "bool"

    def read(self, ctx: Context, node: Any) -> bool | None:
        if is_null(node):
            return False
        if isinstance(node, yaml.ScalarNode) and node.tag == _BOOL:
            return str(node.value).lower() in ("true", "yes", "on")
        plain_style = not node.style if isinstance(node, yaml.ScalarNode) else False  # None or ""
        if plain_style and node.value in _V2_BOOLS:
            return _V2_BOOLS[node.value]
        self.refuse(ctx, node)
        return None


class Integer(Spec):
    def __init__(self, *, unsigned: bool = False) -> None:
        self.unsigned = unsigned
        self.what = "uint" if unsigned else "int"

    def read(self, ctx: Context, node: Any) -> int | None:
        if is_null(node):
            return 0
        value: int | None = None
        if isinstance(node, yaml.ScalarNode) and node.tag == _INT:
            with contextlib.suppress(ValueError):
                value = int(str(node.value).replace("_", ""), 0)
        elif isinstance(node, yaml.ScalarNode) and node.tag == _FLOAT:
            # yaml.v2 stores a float in an int field, truncated (5.0 and 5.5 are 5).
            with contextlib.suppress(ValueError, OverflowError):
                value = int(float(str(node.value).replace("_", "")))
            if value is not None:
                return value  # and a negative one in a uint field, wrapped around
        if value is not None and not (self.unsigned and value < 0):
            return value
        self.refuse(ctx, node)
        return None


class Number(Spec):
    what = "float64"

    def read(self, ctx: Context, node: Any) -> float | None:
        if is_null(node):
            return 0.0
        if isinstance(node, yaml.ScalarNode) and node.tag in (_INT, _FLOAT):
            value = node_data(node)
            if isinstance(value, int | float):
                return float(value)
        self.refuse(ctx, node)
        return None


class Duration(Spec):
    """A duration read from the scalar's text by `parse` (durations.py); nanoseconds."""

    what = "duration"

    def __init__(self, parse: Callable[[str], int]) -> None:
        self.parse = parse

    def read(self, ctx: Context, node: Any) -> int | None:
        if is_null(node):
            return 0
        if not isinstance(node, yaml.ScalarNode):
            self.refuse(ctx, node)
            return None
        try:
            return self.parse(str(node.value))
        except ValueError as exc:
            ctx.error(node, str(exc))
            return None


class ListOf(Spec):
    def __init__(self, item: Spec) -> None:
        self.item = item
        self.what = f"[]{item.what}"

    def read(self, ctx: Context, node: Any) -> list[Any] | None:
        if is_null(node):
            return []
        if not isinstance(node, yaml.SequenceNode):
            self.refuse(ctx, node)
            return None
        return [self.item.read(ctx, item) for item in node.value]


class MapOf(Spec):
    """A Go map: any keys (read by `key`), values read by `value`."""

    def __init__(self, value: Spec, key: Spec | None = None) -> None:
        self.key = key or Text()
        self.value = value
        self.what = f"map[{self.key.what}]{value.what}"

    def read(self, ctx: Context, node: Any) -> Obj | None:
        if is_null(node):
            return Obj(node)
        if not isinstance(node, yaml.MappingNode):
            self.refuse(ctx, node)
            return None
        result = Obj(node)
        for key, key_node, value_node in entries(ctx, node):
            self.key.read(ctx, key_node)
            result[key] = self.value.read(ctx, value_node)
            result.nodes[key] = value_node
            result.key_nodes[key] = key_node
        return result


Check = Callable[[Context, Obj], None]


class Struct(Spec):
    """A Go struct decoded strictly: the fields it knows (`fields`, plus those of `inline`
    structs), then `check` — what its UnmarshalYAML validates — when the fields decoded."""

    def __init__(
        self,
        name: str,
        fields: Mapping[str, Spec],
        *,
        inline: Sequence[Struct] = (),
        check: Check | None = None,
        more_fields: Callable[[str], Spec | None] | None = None,
    ) -> None:
        self.what = name
        self.fields: dict[str, Spec] = {}
        for part in inline:
            self.fields.update(part.fields)
        self.fields.update(fields)
        self.inline = tuple(inline)
        self.check = check
        self.more_fields = more_fields

    def spec_for(self, key: str) -> Spec | None:
        spec = self.fields.get(key)
        if spec is None and self.more_fields is not None:
            spec = self.more_fields(key)
        return spec

    def read(self, ctx: Context, node: Any) -> Obj | None:
        if is_null(node):
            return None
        if not isinstance(node, yaml.MappingNode):
            self.refuse(ctx, node)
            return None
        before = ctx.error_count
        result = Obj(node)
        for key, key_node, value_node in entries(ctx, node):
            spec = self.spec_for(key)
            if spec is None:
                ctx.error(key_node, f"field {key} not found in type {self.what}")
                continue
            result[key] = spec.read(ctx, value_node)
            result.nodes[key] = value_node
            result.key_nodes[key] = key_node
        if ctx.error_count == before:
            for part in self.inline:
                if part.check is not None:
                    part.check(ctx, result)
            if self.check is not None and ctx.error_count == before:
                self.check(ctx, result)
        return result

    def with_fields(
        self, name: str, fields: Mapping[str, Spec], *, check: Check | None = None
    ) -> Struct:
        """This struct with more fields (Go's inline embedding of a shared struct)."""
        return Struct(name, fields, inline=(self,), check=check)


class _DataLoader(yaml.SafeLoader):
    """Plain data as Go would see it: a date-like scalar stays a string (PyYAML would build a
    date, and raise on 2020-13-01)."""


def _date_as_text(loader: _DataLoader, node: yaml.ScalarNode) -> str:
    return str(node.value)


_DataLoader.add_constructor("tag:yaml.org,2002:timestamp", _date_as_text)
_CANNOT_BUILD = (yaml.YAMLError, ValueError, TypeError, OverflowError, RecursionError)


def node_data(node: Any) -> Any:
    """The node as plain Python data (for checks that only need values), or None when it
    cannot be built."""
    if node is None:
        return None
    try:
        return _DataLoader("").construct_object(node, deep=True)
    except _CANNOT_BUILD:
        return None


def text_data(text: str) -> Any:
    """The first YAML document of `text` as plain data, or None (a syntax error is reported
    by load_yaml, not here)."""
    try:
        node = compose_first(text)
    except _CANNOT_BUILD:
        return None
    return node_data(node)
