"""Reading `s3kit-deploy.yaml` (or the `deploy:` section of s3kit.yaml) into a `DeployConfig`.

Errors in the file are `DeployConfigError` (a `UsageError`): its message is the first problem,
one line, `FILE:LINE: what is wrong — what to write instead`, and `problems` lists all of them.
Validation works on yaml's node tree, as `_config/file.py` does, for the line numbers; the
checks themselves are the model's (`rules.py`: the dataclasses' `__post_init__` and the field
functions they call), so a library caller is refused exactly what the file is refused. Pure: no
I/O but reading the file in `load_deploy_config`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from s3kit.deploy.rules import (
    BROTLI_NEEDS_NEGOTIATING,
    DEFAULT_INDEX_DOCUMENT,
    DEPLOY_CONFIG_FILE,
    DeployConfig,
    Rule,
    check_bool,
    check_cache_control,
    check_content_type,
    check_error_document,
    check_index_document,
    check_keep,
    check_pattern,
    check_patterns,
    check_serve,
    parse_grace,
    parse_max_delete,
    redirect_problems,
)
from s3kit.errors import UsageError

_T = TypeVar("_T")

TOP_KEYS = (
    "rules",
    "protect",
    "max_delete",
    "grace",
    "redirects",
    "index_document",
    "error_document",
    "serve",
    "keep",
)
RULE_KEYS = ("match", "cache_control", "content_type", "gzip", "brotli", "ignore")
_BROTLI = (
    "S3 serves the one stored encoding whatever the browser's Accept-Encoding; write"
    " brotli: sibling (a KEY.br beside each compressible file, with serve: negotiating) or"
    " gzip: true"
)


class DeployConfigError(UsageError):
    """The deploy configuration is invalid. The message is the first problem, one line
    ('FILE:LINE: what is wrong — what to write instead'); `problems` holds every one."""

    def __init__(self, problems: Sequence[str]) -> None:
        super().__init__(problems[0])
        self.problems = tuple(problems)


def load_deploy_config(path: Path) -> DeployConfig:
    """Read and validate `path` (normally `s3kit-deploy.yaml`)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read deploy config {path}: {type(exc).__name__}") from None
    return parse_deploy_config(text, source=str(path))


def parse_deploy_config(text: str, *, source: str = DEPLOY_CONFIG_FILE) -> DeployConfig:
    """Validate `text` as s3kit-deploy.yaml: the settings at the top, or all under `deploy:`."""
    import yaml

    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        reason = getattr(exc, "problem", None) or "invalid YAML"
        if "alias" in str(getattr(exc, "context", "")):
            reason += " — quote a pattern that starts with '*', e.g. '*.js'"
        else:
            reason += " — fix the YAML there (quote values holding : # * ! [ or {)"
        raise DeployConfigError([f"{source}{line}: {reason}"]) from None
    if (
        isinstance(root, yaml.MappingNode)
        and len(root.value) == 1
        and isinstance(root.value[0][0], yaml.ScalarNode)
        and root.value[0][0].value == "deploy"
    ):
        root = root.value[0][1]
    return deploy_config_from_node(root, source)


def deploy_config_from_node(node: Any, source: str) -> DeployConfig:
    """The configuration in a yaml node (the file's root, or s3kit.yaml's `deploy:` value);
    raises DeployConfigError naming `source` and the lines."""
    return _Reader(source).config(node)


class _Reader:
    def __init__(self, source: str) -> None:
        import yaml

        self.yaml = yaml
        self.source = source
        self.problems: list[str] = []
        self.constructor = yaml.constructor.SafeConstructor()

    def problem(self, node: Any, message: str) -> None:
        self.problems.append(f"{self.source}:{node.start_mark.line + 1}: {message}")

    def check(self, node: Any, check: Callable[[], _T]) -> _T | None:
        """`check()`'s value, or None after recording its UsageError at `node`'s line."""
        try:
            return check()
        except UsageError as exc:
            self.problem(node, exc.message)
            return None

    def is_null(self, node: Any) -> bool:
        return isinstance(node, self.yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null"

    def value(self, node: Any, name: str) -> tuple[bool, Any]:
        """(True, the plain value of `node`), or (False, None) after recording why not."""
        try:
            return True, self.constructor.construct_object(node, deep=True)
        except self.yaml.YAMLError:
            hint = (
                "quote a pattern that starts with '!', e.g. '!drafts/'"
                if str(getattr(node, "tag", "")).startswith("!")
                else "write it as plain text, a number, true/false, a list or a mapping"
            )
            self.problem(node, f"{name} has a value YAML cannot read — {hint}")
            return False, None

    def entries(self, node: Any, what: str, known: Sequence[str]) -> Iterator[tuple[str, Any, Any]]:
        """(key, key node, value node) of a mapping, after reporting duplicate keys."""
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, self.yaml.ScalarNode) else None
            if not isinstance(key, str):
                self.problem(key_node, f"{what} keys must be names — known: {', '.join(known)}")
                continue
            if key in seen:
                self.problem(key_node, f"'{key}' appears twice in {what} — keep one")
                continue
            seen.add(key)
            yield key, key_node, value_node

    def config(self, node: Any) -> DeployConfig:
        yaml = self.yaml
        settings: dict[str, Any] = {}
        redirects_node = None
        if node is not None and not self.is_null(node):
            if not isinstance(node, yaml.MappingNode):
                self.problem(
                    node, "the deploy configuration must be a mapping — write e.g. grace: 7d"
                )
                raise DeployConfigError(self.problems)
            for key, key_node, value_node in self.entries(node, "the deploy settings", TOP_KEYS):
                if key not in TOP_KEYS:
                    hint = (
                        "put every deploy setting under deploy:, or none"
                        if key == "deploy"
                        else f"known: {', '.join(TOP_KEYS)}"
                    )
                    self.problem(key_node, f"unknown key '{key}' — {hint}")
                    continue
                if key == "redirects":
                    redirects_node = value_node
                elif self.is_null(value_node):
                    continue  # written but empty: the default
                elif key == "rules":
                    settings["rules"] = self.rules(value_node)
                elif key == "protect":
                    settings["protect"] = self.patterns(value_node, "protect")
                else:
                    self.setting(key, value_node, settings)
        if redirects_node is not None:
            index = settings.get("index_document", DEFAULT_INDEX_DOCUMENT)
            settings["redirects"] = self.redirects(redirects_node, index)
        if settings.get("serve", "s3") != "negotiating":
            for rule in settings.get("rules", ()):
                if rule.brotli:
                    self.problems.append(f"{self.source}:{rule.line}: {BROTLI_NEEDS_NEGOTIATING}")
        if self.problems:
            raise DeployConfigError(self.problems)
        try:
            return DeployConfig(source=self.source, **settings)
        except UsageError as exc:  # pragma: no cover - every check above runs first
            raise DeployConfigError([f"{self.source}:1: {exc.message}"]) from None

    def setting(self, key: str, node: Any, settings: dict[str, Any]) -> None:
        ok, raw = self.value(node, key)
        if not ok:
            return
        checks: dict[str, Callable[[], Any]] = {
            "max_delete": lambda: parse_max_delete(raw),
            "grace": lambda: parse_grace(raw),
            "index_document": lambda: check_index_document(raw),
            "error_document": lambda: check_error_document(raw),
            "serve": lambda: check_serve(raw),
            "keep": lambda: check_keep(raw),
        }
        name = "grace_seconds" if key == "grace" else key
        value = self.check(node, checks[key])
        if value is not None:
            settings[name] = value

    def patterns(self, node: Any, name: str) -> tuple[str, ...] | None:
        yaml = self.yaml
        items = node.value if isinstance(node, yaml.SequenceNode) else [node]
        if isinstance(node, yaml.MappingNode):
            self.problem(
                node, f"{name} must be a pattern or a list of patterns — write e.g. ['*.html']"
            )
            return None
        patterns: list[str] = []
        for item in items:
            ok, raw = self.value(item, name)
            if not ok:
                continue
            if not isinstance(raw, str):
                self.problem(
                    item, f"{name} patterns must be strings, not {raw!r} — quote it: '{raw}'"
                )
                continue
            pattern = self.check(item, partial(check_pattern, name, raw))
            if pattern is not None:
                patterns.append(pattern)
        if len(patterns) < len(items):
            return None
        return self.check(
            node, partial(check_patterns, name, patterns, allow_empty=name == "protect")
        )

    def rules(self, node: Any) -> tuple[Rule, ...]:
        yaml = self.yaml
        if not isinstance(node, yaml.SequenceNode):
            self.problem(node, "rules must be a list of rules — write e.g. - match: '*.html'")
            return ()
        rules: list[Rule] = []
        for item in node.value:
            rule = self.rule(item)
            if rule is not None:
                rules.append(rule)
        return tuple(rules)

    def rule(self, node: Any) -> Rule | None:
        yaml = self.yaml
        if not isinstance(node, yaml.MappingNode):
            self.problem(node, "each rule must be a mapping — write e.g. - match: '*.html'")
            return None
        before = len(self.problems)
        fields: dict[str, Any] = {}
        checks: dict[str, Callable[[Any], Any]] = {
            "cache_control": check_cache_control,
            "content_type": check_content_type,
            "gzip": lambda raw: check_bool("gzip", raw),
            "ignore": lambda raw: check_bool("ignore", raw),
        }
        for key, key_node, value_node in self.entries(node, "a rule", RULE_KEYS):
            if key == "match":
                fields["patterns"] = self.patterns(value_node, "match")
                continue
            if key in ("content_encoding", "brotli"):
                brotli = self.encoding(key, value_node)
                if brotli is not None:
                    fields["brotli"] = brotli
                continue
            if key not in checks:
                spelled = key.replace("-", "_").lower()
                hint = (
                    f"write {spelled}" if spelled in RULE_KEYS else f"known: {', '.join(RULE_KEYS)}"
                )
                self.problem(key_node, f"unknown rule key '{key}' — {hint}")
                continue
            if self.is_null(value_node):
                continue
            ok, raw = self.value(value_node, key)
            if ok:
                value = self.check(value_node, partial(checks[key], raw))
                if value is not None:
                    fields[key] = value
        if "patterns" not in fields and len(self.problems) == before:
            self.problem(node, "a rule needs match: — write e.g. - match: '*.html'")
        if len(self.problems) > before:
            return None
        return self.check(node, partial(Rule, line=node.start_mark.line + 1, **fields))

    def encoding(self, key: str, node: Any) -> bool | None:
        """`brotli:` in a rule (`sibling`, or false: True/False), or `content_encoding:`,
        which is refused: s3kit sets the encoding from `gzip:` and `brotli:`."""
        ok, raw = self.value(node, key)
        if not ok or (key == "brotli" and raw is None):
            return None
        if key == "brotli" and raw in ("sibling", False):
            return bool(raw == "sibling")
        if key == "brotli" or raw in ("br", "brotli"):
            self.problem(node, f"{key}: {raw} is refused — {_BROTLI}")
        elif raw == "gzip":
            self.problem(node, "content_encoding comes from gzip: — write gzip: true")
        else:
            self.problem(node, f"content_encoding: {raw} is not supported — write gzip: true")
        return None

    def redirects(self, node: Any, index_document: str) -> dict[str, str]:
        yaml = self.yaml
        if self.is_null(node):
            return {}
        if not isinstance(node, yaml.MappingNode):
            self.problem(
                node, 'redirects must be a mapping — write e.g. redirects: {"/old/": "/new/"}'
            )
            return {}
        pairs: list[tuple[object, object]] = []
        nodes: list[Any] = []
        seen: set[object] = set()
        for key_node, value_node in node.value:
            ok_source, source = self.value(key_node, "a redirect source")
            ok_target, target = self.value(value_node, "a redirect target")
            if not (ok_source and ok_target):
                continue
            if isinstance(source, str) and source in seen:
                self.problem(key_node, f"redirect '{source}' appears twice — keep one")
                continue
            if isinstance(source, str):
                seen.add(source)
            pairs.append((source, target))
            nodes.append(key_node)
        for position, message in redirect_problems(pairs, index_document):
            self.problem(nodes[position], message)
        return {str(source): str(target) for source, target in pairs}


__all__ = [
    "DeployConfigError",
    "deploy_config_from_node",
    "load_deploy_config",
    "parse_deploy_config",
]
