"""What a deploy does with each file: its headers, whether it is skipped or protected, and the
deploy's own limits, read from `s3kit-deploy.yaml` (or the `deploy:` section of s3kit.yaml).

Rules are s3deploy's routes: each has `.gitignore`-style patterns, the first rule whose
patterns match a key wins, and it is the only rule applied; a field that rule leaves unset
takes the default below, never a later rule's value. Patterns (in `rules` and `protect`) are
compiled by the `.s3kitignore` engine (`_sync/ignore.parse_rule`): `*`, `?`, `**`, `[...]`,
a leading or inner '/' anchors, a trailing '/' means a folder. A pattern matches a key when it
matches the key or one of its folders, and the last pattern that matches decides, so a `!`
pattern takes out whatever came before it — unlike .gitignore, files under a folder too:
`['**', '!drafts/']` is every file outside drafts/. Defaults, right for a static site:

- Content-Type from s3kit's own table (`content_types.py`), sniffed for unknown names.
- Cache-Control: HTML (text/html or application/xhtml+xml, so a sniffed extensionless page
  too) gets `no-cache` (always revalidated: a new deploy shows at once); a hashed asset (see
  `is_hashed_name`) gets `public, max-age=31536000, immutable`; everything else
  `public, max-age=300`.
- gzip is off; a rule turns it on with `gzip: true`, and that is obeyed for any type and size
  (a rule is an explicit choice; `compress.worth_compressing` is advice, not a veto).
  Brotli is refused: S3 serves the one stored encoding to every client, it cannot pick by
  Accept-Encoding, and sibling `.br` objects are not supported yet.

Errors in the file are `DeployConfigError` (a `UsageError`): its message is the first problem,
one line, `FILE:LINE: what is wrong — what to write instead`, and `problems` lists all of them.
Validation works on yaml's node tree, as `_config/file.py` does, for the line numbers; the
checks themselves live in the dataclasses' `__post_init__` and the field functions they call,
so a library caller is refused exactly what the file is refused. Pure: no I/O but reading
the file in `load_deploy_config`.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from s3kit._sync.ignore import IgnoreRule, parse_rule
from s3kit.deploy.compress import base_type
from s3kit.deploy.content_types import content_type_for
from s3kit.errors import UsageError

_T = TypeVar("_T")

DEPLOY_CONFIG_FILE = "s3kit-deploy.yaml"
MANIFEST_PREFIX = "_s3kit/"  # the deploy's own manifests: always protected, never a site file

HTML_CACHE_CONTROL = "no-cache"
IMMUTABLE_CACHE_CONTROL = "public, max-age=31536000, immutable"
DEFAULT_CACHE_CONTROL = "public, max-age=300"
DEFAULT_GRACE_SECONDS = 7 * 86400.0
DEFAULT_INDEX_DOCUMENT = "index.html"

_HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})

# -- hashed file names -------------------------------------------------------------------------

_SEPARATORS = re.compile(r"[.-]")
_HEX = re.compile(r"[0-9a-f]{8,}")
_BASE64URL = re.compile(r"[A-Za-z0-9_]{8,}")
_BARE_HEX_MIN = 16


def is_hashed_name(key: str) -> bool:
    """Whether the file name carries a content hash, so its bytes never change under it.

    The name's last extension is set aside (a name without one is never hashed) and the rest
    is split at '.' and '-' into segments. The name is hashed when a segment other than the
    first is either
      - hex: 8+ characters of 0-9a-f with at least one digit and one letter
        (`app.3f2a9c1b.js`, `main-5d41402abc4b2a76.css`), or
      - base64url: 8+ characters of A-Za-z0-9_ with a digit, an upper- and a lower-case
        letter (`chunk.a1B2c3D4e5.js`, Vite's `index-D4kA9zQx.js`),
    or when the first segment is hex of 16+ characters (Next.js's `0a1b2c3d4e5f6789.css`).

    A wrong "yes" caches a changing file for a year and a wrong "no" costs five minutes of
    caching, so the test leans to "no": all-digit runs are dates and ids (`photo-20240115`),
    a single case with digits is a word or a size (`html5shiv`, `1920x1080`, `INV00012`), and
    a short first segment is the file's own name (`face2face.png`). Missed on purpose: hashes
    that happen to lack a digit or a letter, uppercase base32 (esbuild), and base64url hashes
    containing '-' (split into two segments). A rule's `cache_control` overrides all of this.
    """
    name = key.rpartition("/")[2]
    stem, dot, extension = name.rpartition(".")
    if not (dot and stem and extension):
        return False
    first, *rest = _SEPARATORS.split(stem)
    if len(first) >= _BARE_HEX_MIN and _is_hex_hash(first):
        return True
    return any(_is_hex_hash(segment) or _is_base64url_hash(segment) for segment in rest)


def _is_hex_hash(segment: str) -> bool:
    return (
        _HEX.fullmatch(segment) is not None
        and any(c.isdigit() for c in segment)
        and any(c.isalpha() for c in segment)
    )


def _is_base64url_hash(segment: str) -> bool:
    return (
        _BASE64URL.fullmatch(segment) is not None
        and any(c.isdigit() for c in segment)
        and any(c.isupper() for c in segment)
        and any(c.islower() for c in segment)
    )


def default_cache_control(key: str, content_type: str) -> str:
    """The Cache-Control a file gets when no rule sets one (see the module docstring)."""
    if base_type(content_type) in _HTML_TYPES:
        return HTML_CACHE_CONTROL
    if is_hashed_name(key):
        return IMMUTABLE_CACHE_CONTROL
    return DEFAULT_CACHE_CONTROL


# -- values as written ---------------------------------------------------------------------------

_DURATION = re.compile(r"(?:\d+(?:\.\d+)?[smhdw])+")
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)([smhdw])")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_PERCENT = re.compile(r"(\d+(?:\.\d+)?)\s*%")
_MEDIA_TYPE = re.compile(r"[A-Za-z0-9][\w.+-]*/[\w.+-]+(?:\s*;.*)?")
_URL = re.compile(r"https?://[^/\s]+(?:/.*)?")


def parse_duration(text: str) -> float:
    """Seconds in `7d`, `12h`, `30m`, `90s`, `1w`, `1h30m`, `1.5h` or `0`."""
    spec = text.strip()
    if spec == "0":
        return 0.0
    if not _DURATION.fullmatch(spec):
        raise UsageError(f"'{text}' is not a duration — write it like 7d, 12h, 30m, 90s or 0")
    return float(sum(float(n) * _UNIT_SECONDS[unit] for n, unit in _DURATION_PART.findall(spec)))


def parse_grace(value: object) -> float:
    """A written `grace`: a duration string, or the number 0."""
    if isinstance(value, str):
        return parse_duration(value)
    if isinstance(value, int | float) and not isinstance(value, bool) and value == 0:
        return 0.0
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise UsageError(
            f"grace {value!r} has no unit — write it like 7d, 12h, 30m or {value}s (or 0)"
        )
    raise UsageError(f"grace must be a duration, not {value!r} — write it like 7d, 12h or 0")


def parse_max_delete(value: object) -> int | float | None:
    """A written `max_delete`: a count (`100`), a share (`"25%"` → 0.25) or null (no limit)."""
    if value is None:
        return None
    if isinstance(value, str):
        percent = _PERCENT.fullmatch(value.strip())
        if percent is None:
            raise UsageError(
                f"max_delete '{value}' is neither a count nor a share — write 100 or '25%'"
            )
        share = float(percent[1]) / 100
        if not 0 < share <= 1:
            raise UsageError(
                f"max_delete '{value}' must be above 0% and at most 100% — write e.g. '25%'"
            )
        return share
    if isinstance(value, float):
        raise UsageError(
            f"max_delete {value!r} is not a whole count — write a count like 100, or a share "
            f"as a percentage like '25%'"
        )
    return _check_max_delete(value)


def _check_max_delete(value: object) -> int | float | None:
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 1:
            raise UsageError(
                f"max_delete must be at least 1, not {value} — write a count like 100, or a "
                f"share like '25%'"
            )
        return value
    if isinstance(value, float) and 0 < value <= 1:
        return value
    raise UsageError(
        f"max_delete must be a count of at least 1 or a share above 0 and at most 1, "
        f"not {value!r} — write 100 or '25%'"
    )


def _check_grace_seconds(value: object) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or value < 0
    ):
        raise UsageError(f"grace must be 0 seconds or more, not {value!r} — write e.g. 7d or 0")
    return float(value)


def _check_header(name: str, value: object, example: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise UsageError(f"{name} must be a non-empty string — write e.g. {name}: {example}")
    if not all(" " <= c <= "~" for c in value):
        raise UsageError(
            f"{name} must be printable ASCII on one line (it is an HTTP header) — "
            f"write e.g. {name}: {example}"
        )
    return value.strip()


def _check_cache_control(value: object) -> str:
    return _check_header("cache_control", value, '"public, max-age=300"')


def _check_content_type(value: object) -> str:
    example = '"text/html; charset=utf-8"'
    text = _check_header("content_type", value, example)
    if not _MEDIA_TYPE.fullmatch(text):
        raise UsageError(f"content_type '{text}' is not a media type — write e.g. {example}")
    return text


def _check_bool(name: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise UsageError(f"{name} must be true or false, not {value!r} — write {name}: true")
    return value


def _check_pattern(name: str, value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise UsageError(f"{name} has an empty pattern — write a pattern such as '*.html'")
    if parse_rule(value) is None:
        hint = f"escape the '#' as '\\{value}'" if value.startswith("#") else "write e.g. '*.html'"
        raise UsageError(f"{name} pattern '{value}' matches nothing in .gitignore syntax — {hint}")
    return value


def _check_patterns(name: str, values: object, *, allow_empty: bool = False) -> tuple[str, ...]:
    if isinstance(values, str):
        values = (values,)
    if not isinstance(values, list | tuple) or not (values or allow_empty):
        raise UsageError(
            f"{name} is empty — write a pattern such as '*.html', or a list of patterns"
        )
    patterns = tuple(_check_pattern(name, value) for value in values)
    if patterns and all(pattern.startswith("!") for pattern in patterns):
        raise UsageError(
            f"{name} has only '!' patterns, which exclude but never include — "
            "put a pattern that includes first, e.g. ['**', '!drafts/']"
        )
    return patterns


def _check_index_document(value: object) -> str:
    if not isinstance(value, str) or not value.strip() or "/" in value:
        raise UsageError(
            f"index_document must be a file name without '/', not {value!r} — "
            f"write e.g. index_document: index.html"
        )
    return value


def _check_error_document(value: object) -> str | None:
    if value is None:
        return None
    key = value.removeprefix("/") if isinstance(value, str) else ""
    if not key.strip() or key.endswith("/") or key.startswith(MANIFEST_PREFIX):
        raise UsageError(
            f"error_document must be a site file, not {value!r} — write e.g. "
            f"error_document: 404.html"
        )
    return key


def _compile(patterns: Sequence[str]) -> tuple[IgnoreRule, ...]:
    return tuple(rule for rule in map(parse_rule, patterns) if rule is not None)


def _matches(compiled: Sequence[IgnoreRule], key: str) -> bool:
    """Whether the last of `compiled` to match `key` or one of its folders is not a `!`."""
    parts = key.removeprefix("/").split("/")
    path = "/".join(parts)
    folders = ["/".join(parts[:depth]) for depth in range(1, len(parts))]
    decided = False
    for rule in compiled:
        if (not rule.dir_only and rule.regex.match(path)) or any(
            rule.regex.match(folder) for folder in folders
        ):
            decided = not rule.negate
    return decided


def redirect_key(source: str, index_document: str = DEFAULT_INDEX_DOCUMENT) -> str:
    """The object that carries a redirect: `/old/` → `old/index.html`, `/a.html` → `a.html`."""
    key = source.removeprefix("/")
    return key + index_document if not key or key.endswith("/") else key


def _check_redirect(source: object, target: object) -> tuple[str, str]:
    example = 'redirects: {"/old/": "/new/"}'
    if not isinstance(source, str) or not source.startswith("/"):
        raise UsageError(
            f"redirect source {source!r} must be a site path starting with '/' — "
            f"write e.g. {example}"
        )
    if any(c in source for c in "?#*") or "//" in source or any(c.isspace() for c in source):
        raise UsageError(
            f"redirect source '{source}' must be a plain path (S3 matches no queries, "
            f"fragments, wildcards or spaces) — write e.g. {example}"
        )
    if source.removeprefix("/").startswith(MANIFEST_PREFIX):
        raise UsageError(
            f"redirect source '{source}' is under {MANIFEST_PREFIX}, the deploy's own manifests "
            f"— redirect a path of the site"
        )
    if not isinstance(target, str) or not (target.startswith("/") or _URL.fullmatch(target)):
        raise UsageError(
            f"redirect target {target!r} for '{source}' must be a path starting with '/' or an "
            f"http(s):// URL — write e.g. {example}"
        )
    if not all("!" <= c <= "~" for c in target):
        raise UsageError(
            f"redirect target '{target}' must be printable ASCII without spaces (it is an HTTP "
            f"header) — percent-encode it, e.g. /caf%C3%A9/"
        )
    return source, target


def _redirect_problems(
    pairs: Sequence[tuple[object, object]], index_document: str
) -> Iterator[tuple[int, str]]:
    """(position, message) for each bad entry of `pairs`, and for each entry that would write
    the same object as an earlier one."""
    owners: dict[str, str] = {}
    for position, (source, target) in enumerate(pairs):
        try:
            path, _ = _check_redirect(source, target)
        except UsageError as exc:
            yield position, exc.message
            continue
        key = redirect_key(path, index_document)
        if key in owners:
            yield (
                position,
                f"redirects '{owners[key]}' and '{path}' both write the object {key} — "
                f"keep one of them",
            )
            continue
        owners[key] = path


# -- the configuration -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FileHeaders:
    """What a file is uploaded with. `gzip` means the body is stored gzip-compressed
    (`compress.gzip_bytes`) with `Content-Encoding: gzip`."""

    content_type: str
    cache_control: str
    gzip: bool = False

    @property
    def content_encoding(self) -> str | None:
        return "gzip" if self.gzip else None

    def fingerprint(self) -> str:
        """16 hex digits of sha256 over the headers: equal headers, equal fingerprint, on every
        machine and run, so a manifest can tell a header-only change from no change."""
        canonical = json.dumps(
            ["v1", self.content_type, self.cache_control, self.content_encoding],
            separators=(",", ":"),
        )
        return hashlib.sha256(canonical.encode()).hexdigest()[:16]


@dataclass(frozen=True, slots=True, kw_only=True)
class Rule:
    """One entry of `rules:`. `None` fields are left to the defaults; `line` is where the rule
    was written (0 when built in code)."""

    patterns: tuple[str, ...]
    cache_control: str | None = None
    content_type: str | None = None
    gzip: bool | None = None
    ignore: bool = False
    line: int = 0
    _compiled: tuple[IgnoreRule, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "patterns", _check_patterns("match", self.patterns))
        if self.cache_control is not None:
            set_(self, "cache_control", _check_cache_control(self.cache_control))
        if self.content_type is not None:
            set_(self, "content_type", _check_content_type(self.content_type))
        if self.gzip is not None:
            _check_bool("gzip", self.gzip)
        _check_bool("ignore", self.ignore)
        if self.ignore and (
            self.cache_control is not None or self.content_type is not None or self.gzip is not None
        ):
            raise UsageError(
                "a rule with ignore: true uploads nothing, so its cache_control, content_type "
                "and gzip mean nothing — drop them, or drop ignore: true"
            )
        set_(self, "_compiled", _compile(self.patterns))

    def matches(self, key: str) -> bool:
        """Whether `key` ('/'-separated, relative to the site root) is one of this rule's."""
        return _matches(self._compiled, key)


@dataclass(frozen=True, slots=True, kw_only=True)
class DeployConfig:
    """The whole deploy configuration; `DeployConfig()` is the right default for a static site.

    `protect` always holds `_s3kit/` first. `max_delete` is a count (int >= 1) or a share of
    the live files (float, 0 < x <= 1); None is no limit. `grace_seconds` is how long a file
    no longer in the site stays before a later deploy deletes it. `redirects` maps site paths
    to a path or URL. `source` names the file it came from, for messages."""

    rules: tuple[Rule, ...] = ()
    protect: tuple[str, ...] = (MANIFEST_PREFIX,)
    max_delete: int | float | None = None
    grace_seconds: float = DEFAULT_GRACE_SECONDS
    redirects: dict[str, str] = field(default_factory=dict)
    index_document: str = DEFAULT_INDEX_DOCUMENT
    error_document: str | None = None
    source: str | None = field(default=None, compare=False)
    _protected: tuple[IgnoreRule, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        rules = tuple(self.rules)
        if not all(isinstance(rule, Rule) for rule in rules):
            raise UsageError("rules must be Rule objects")
        set_(self, "rules", rules)
        protect = _check_patterns("protect", self.protect, allow_empty=True)
        set_(self, "protect", (MANIFEST_PREFIX, *(p for p in protect if p != MANIFEST_PREFIX)))
        set_(self, "_protected", _compile(self.protect))
        set_(self, "max_delete", _check_max_delete(self.max_delete))
        set_(self, "grace_seconds", _check_grace_seconds(self.grace_seconds))
        set_(self, "index_document", _check_index_document(self.index_document))
        set_(self, "error_document", _check_error_document(self.error_document))
        redirects = dict(self.redirects)
        for _, message in _redirect_problems(list(redirects.items()), self.index_document):
            raise UsageError(message)
        set_(self, "redirects", redirects)

    def rule_for(self, key: str) -> Rule | None:
        """The first rule matching `key`, the only one that applies to it."""
        return next((rule for rule in self.rules if rule.matches(key)), None)

    def headers_for(self, key: str, head: bytes = b"") -> FileHeaders | None:
        """The headers `key` is uploaded with, or None when a rule ignores it. `head` is the
        file's first bytes (`content_types.SNIFF_BYTES`), needed only when
        `content_types.needs_head(key)`; b"" reads as an empty file."""
        rule = self.rule_for(key)
        if rule is not None and rule.ignore:
            return None
        content_type = (rule and rule.content_type) or content_type_for(key, head)
        cache_control = (rule and rule.cache_control) or default_cache_control(key, content_type)
        return FileHeaders(content_type, cache_control, bool(rule and rule.gzip))

    def protects(self, key: str) -> bool:
        """Whether a deploy must never delete `key` (the manifests under `_s3kit/`, always)."""
        key = key.removeprefix("/")
        return key.startswith(MANIFEST_PREFIX) or _matches(self._protected, key)

    def delete_limit(self, live_files: int) -> int | None:
        """How many deletions one deploy may make when the live site has `live_files` files;
        None is no limit. A share rounds down, so "25%" of 3 files allows none."""
        if self.max_delete is None:
            return None
        if isinstance(self.max_delete, float):
            return math.floor(live_files * self.max_delete + 1e-9)
        return self.max_delete

    def redirect_objects(self) -> dict[str, str]:
        """Object key → redirect target (the `x-amz-website-redirect-location` to write)."""
        return {
            redirect_key(source, self.index_document): target
            for source, target in self.redirects.items()
        }


# -- reading the file --------------------------------------------------------------------------

TOP_KEYS = (
    "rules",
    "protect",
    "max_delete",
    "grace",
    "redirects",
    "index_document",
    "error_document",
)
RULE_KEYS = ("match", "cache_control", "content_type", "gzip", "ignore")
_BROTLI = (
    "S3 cannot negotiate brotli (it serves the one stored encoding whatever the browser's "
    "Accept-Encoding) and sibling .br objects are not supported yet; write gzip: true instead"
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
            "index_document": lambda: _check_index_document(raw),
            "error_document": lambda: _check_error_document(raw),
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
            pattern = self.check(item, partial(_check_pattern, name, raw))
            if pattern is not None:
                patterns.append(pattern)
        if len(patterns) < len(items):
            return None
        return self.check(
            node, partial(_check_patterns, name, patterns, allow_empty=name == "protect")
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
            "cache_control": _check_cache_control,
            "content_type": _check_content_type,
            "gzip": lambda raw: _check_bool("gzip", raw),
            "ignore": lambda raw: _check_bool("ignore", raw),
        }
        for key, key_node, value_node in self.entries(node, "a rule", RULE_KEYS):
            if key == "match":
                fields["patterns"] = self.patterns(value_node, "match")
                continue
            if key in ("content_encoding", "brotli"):
                self.encoding(key, value_node)
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

    def encoding(self, key: str, node: Any) -> None:
        """`content_encoding:` or `brotli:` in a rule: s3kit sets the encoding from `gzip:`."""
        ok, raw = self.value(node, key)
        if not ok or (key == "brotli" and raw is False):
            return
        if key == "brotli" or raw in ("br", "brotli"):
            self.problem(node, f"{key}: {raw} is refused — {_BROTLI}")
        elif raw == "gzip":
            self.problem(node, "content_encoding comes from gzip: — write gzip: true")
        else:
            self.problem(node, f"content_encoding: {raw} is not supported — write gzip: true")

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
        for position, message in _redirect_problems(pairs, index_document):
            self.problem(nodes[position], message)
        return {str(source): str(target) for source, target in pairs}


__all__ = [
    "DEFAULT_CACHE_CONTROL",
    "DEFAULT_GRACE_SECONDS",
    "DEPLOY_CONFIG_FILE",
    "HTML_CACHE_CONTROL",
    "IMMUTABLE_CACHE_CONTROL",
    "MANIFEST_PREFIX",
    "DeployConfig",
    "DeployConfigError",
    "FileHeaders",
    "Rule",
    "default_cache_control",
    "deploy_config_from_node",
    "is_hashed_name",
    "load_deploy_config",
    "parse_deploy_config",
    "parse_duration",
    "parse_max_delete",
    "redirect_key",
]
