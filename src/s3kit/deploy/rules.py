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
  `caching.is_hashed_name`) gets `public, max-age=31536000, immutable`; everything else
  `public, max-age=300`.
- gzip is off; a rule turns it on with `gzip: true`, and that is obeyed for any type and size
  (a rule is an explicit choice; `compress.worth_compressing` is advice, not a veto).
- brotli is off; a rule's `brotli: sibling` writes `KEY.br` beside each compressible file it
  matches (`compress.worth_brotli`): the brotli bytes with KEY's Content-Type and
  Cache-Control and `Content-Encoding: br`. S3 serves the one stored encoding to every client,
  it cannot pick by Accept-Encoding, so siblings are refused unless the config says something
  in front of the bucket does (`serve: negotiating`: `s3kit website serve`, or a server of
  your own that answers `Accept-Encoding: br` with KEY.br and adds `Vary: Accept-Encoding`).
- `keep`: how many deploys the history keeps for `rollback` (20). An older one's record and
  the copies only it used (`_s3kit/blobs/`) are deleted by the first deploy after the grace
  period.

The file itself is read by `rules_file.py`, on yaml's node tree for the line numbers; the checks
are here (the dataclasses' `__post_init__` and the field functions they call), so a library
caller is refused exactly what the file is refused. Pure: no I/O.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Literal

from s3kit._sync.ignore import IgnoreRule, parse_rule
from s3kit.deploy.caching import default_cache_control
from s3kit.deploy.compress import worth_brotli
from s3kit.deploy.content_types import content_type_for
from s3kit.errors import UsageError

DEPLOY_CONFIG_FILE = "s3kit-deploy.yaml"
MANIFEST_PREFIX = "_s3kit/"  # the deploy's own manifests: always protected, never a site file

DEFAULT_GRACE_SECONDS = 7 * 86400.0
DEFAULT_INDEX_DOCUMENT = "index.html"
DEFAULT_KEEP = 20
ServeMode = Literal["s3", "negotiating"]
SERVE_MODES: tuple[ServeMode, ...] = ("s3", "negotiating")

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


def check_cache_control(value: object) -> str:
    return _check_header("cache_control", value, '"public, max-age=300"')


def check_content_type(value: object) -> str:
    example = '"text/html; charset=utf-8"'
    text = _check_header("content_type", value, example)
    if not _MEDIA_TYPE.fullmatch(text):
        raise UsageError(f"content_type '{text}' is not a media type — write e.g. {example}")
    return text


def check_bool(name: str, value: object) -> bool:
    if not isinstance(value, bool):
        raise UsageError(f"{name} must be true or false, not {value!r} — write {name}: true")
    return value


def check_pattern(name: str, value: object) -> str:
    if not isinstance(value, str) or not value.strip():
        raise UsageError(f"{name} has an empty pattern — write a pattern such as '*.html'")
    if parse_rule(value) is None:
        hint = f"escape the '#' as '\\{value}'" if value.startswith("#") else "write e.g. '*.html'"
        raise UsageError(f"{name} pattern '{value}' matches nothing in .gitignore syntax — {hint}")
    return value


def check_patterns(name: str, values: object, *, allow_empty: bool = False) -> tuple[str, ...]:
    if isinstance(values, str):
        values = (values,)
    if not isinstance(values, list | tuple) or not (values or allow_empty):
        raise UsageError(
            f"{name} is empty — write a pattern such as '*.html', or a list of patterns"
        )
    patterns = tuple(check_pattern(name, value) for value in values)
    if patterns and all(pattern.startswith("!") for pattern in patterns):
        raise UsageError(
            f"{name} has only '!' patterns, which exclude but never include — "
            "put a pattern that includes first, e.g. ['**', '!drafts/']"
        )
    return patterns


def check_index_document(value: object) -> str:
    if not isinstance(value, str) or not value.strip() or "/" in value:
        raise UsageError(
            f"index_document must be a file name without '/', not {value!r} — "
            f"write e.g. index_document: index.html"
        )
    return value


def check_error_document(value: object) -> str | None:
    if value is None:
        return None
    key = value.removeprefix("/") if isinstance(value, str) else ""
    if not key.strip() or key.endswith("/") or key.startswith(MANIFEST_PREFIX):
        raise UsageError(
            f"error_document must be a site file, not {value!r} — write e.g. "
            f"error_document: 404.html"
        )
    return key


BROTLI_NEEDS_NEGOTIATING = (
    "brotli: sibling needs serve: negotiating — S3 serves the stored encoding to every client "
    "and cannot pick KEY.br by Accept-Encoding; add serve: negotiating only if what serves the "
    "bucket does (s3kit website serve; see the README), else write gzip: true"
)


def check_serve(value: object) -> ServeMode:
    for mode in SERVE_MODES:
        if value == mode:
            return mode
    raise UsageError(
        f"serve must be one of {', '.join(SERVE_MODES)}, not {value!r} — write serve: s3,"
        " or serve: negotiating where what serves the bucket picks brotli siblings"
    )


def check_keep(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise UsageError(
            f"keep must be a whole number of deploys, at least 1, not {value!r} — write e.g."
            f" keep: {DEFAULT_KEEP}"
        )
    return value


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


def redirect_problems(
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


@functools.lru_cache(maxsize=1024)
def fingerprint_of(content_type: str, cache_control: str, gzip: bool, brotli: bool) -> str:
    """`FileHeaders.fingerprint`, worked out once per distinct headers (a site has a few; a
    plan asks for each file's, twice)."""
    fields = ["v1", content_type, cache_control, "gzip" if gzip else None]
    canonical = json.dumps(fields + (["br-sibling"] if brotli else []), separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class FileHeaders:
    """What a file is uploaded with. `gzip` means the body is stored gzip-compressed
    (`compress.gzip_bytes`) with `Content-Encoding: gzip`."""

    content_type: str
    cache_control: str
    gzip: bool = False
    brotli: bool = False  # a brotli sibling KEY.br is written beside it

    @property
    def content_encoding(self) -> str | None:
        return "gzip" if self.gzip else None

    def fingerprint(self) -> str:
        """16 hex digits of sha256 over the headers: equal headers, equal fingerprint, on every
        machine and run, so a manifest can tell a header-only change from no change. The
        sibling counts as a header (turning it on or off sends the file again); without one
        the fingerprint is what it was before siblings existed."""
        return fingerprint_of(self.content_type, self.cache_control, self.gzip, self.brotli)


@dataclass(frozen=True, slots=True, kw_only=True)
class Rule:
    """One entry of `rules:`. `None` fields are left to the defaults; `line` is where the rule
    was written (0 when built in code)."""

    patterns: tuple[str, ...]
    cache_control: str | None = None
    content_type: str | None = None
    gzip: bool | None = None
    brotli: bool | None = None  # `brotli: sibling`
    ignore: bool = False
    line: int = 0
    _compiled: tuple[IgnoreRule, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "patterns", check_patterns("match", self.patterns))
        if self.cache_control is not None:
            set_(self, "cache_control", check_cache_control(self.cache_control))
        if self.content_type is not None:
            set_(self, "content_type", check_content_type(self.content_type))
        if self.gzip is not None:
            check_bool("gzip", self.gzip)
        if self.brotli is not None:
            check_bool("brotli", self.brotli)
        check_bool("ignore", self.ignore)
        if self.ignore and any(
            value is not None
            for value in (self.cache_control, self.content_type, self.gzip, self.brotli)
        ):
            raise UsageError(
                "a rule with ignore: true uploads nothing, so its cache_control, content_type, "
                "gzip and brotli mean nothing — drop them, or drop ignore: true"
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
    to a path or URL. `serve` says what serves the bucket: "s3" (S3 itself, or anything that
    passes objects through as stored) or "negotiating" (something that picks a brotli
    sibling by Accept-Encoding — which a rule's `brotli` needs). `keep` is how many deploys
    the history keeps. `source` names the file it came from, for messages."""

    rules: tuple[Rule, ...] = ()
    protect: tuple[str, ...] = (MANIFEST_PREFIX,)
    max_delete: int | float | None = None
    grace_seconds: float = DEFAULT_GRACE_SECONDS
    redirects: dict[str, str] = field(default_factory=dict)
    index_document: str = DEFAULT_INDEX_DOCUMENT
    error_document: str | None = None
    serve: ServeMode = "s3"
    keep: int = DEFAULT_KEEP
    source: str | None = field(default=None, compare=False)
    _protected: tuple[IgnoreRule, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        rules = tuple(self.rules)
        if not all(isinstance(rule, Rule) for rule in rules):
            raise UsageError("rules must be Rule objects")
        set_(self, "rules", rules)
        protect = check_patterns("protect", self.protect, allow_empty=True)
        set_(self, "protect", (MANIFEST_PREFIX, *(p for p in protect if p != MANIFEST_PREFIX)))
        set_(self, "_protected", _compile(self.protect))
        set_(self, "max_delete", _check_max_delete(self.max_delete))
        set_(self, "grace_seconds", _check_grace_seconds(self.grace_seconds))
        set_(self, "index_document", check_index_document(self.index_document))
        set_(self, "error_document", check_error_document(self.error_document))
        redirects = dict(self.redirects)
        for _, message in redirect_problems(list(redirects.items()), self.index_document):
            raise UsageError(message)
        set_(self, "redirects", redirects)
        set_(self, "serve", check_serve(self.serve))
        set_(self, "keep", check_keep(self.keep))
        for rule in rules:
            if rule.brotli and self.serve != "negotiating":
                raise UsageError(BROTLI_NEEDS_NEGOTIATING)

    def rule_for(self, key: str) -> Rule | None:
        """The first rule matching `key`, the only one that applies to it."""
        return next((rule for rule in self.rules if rule.matches(key)), None)

    def headers_for(
        self, key: str, head: bytes = b"", size: int | None = None
    ) -> FileHeaders | None:
        """The headers `key` is uploaded with, or None when a rule ignores it. `head` is the
        file's first bytes (`content_types.SNIFF_BYTES`), needed only when
        `content_types.needs_head(key)`; b"" reads as an empty file. `size` (None: unknown)
        decides, with the type, whether a rule's brotli sibling is worth writing."""
        rule = self.rule_for(key)
        if rule is not None and rule.ignore:
            return None
        content_type = (rule and rule.content_type) or content_type_for(key, head)
        cache_control = (rule and rule.cache_control) or default_cache_control(key, content_type)
        brotli = bool(rule and rule.brotli) and worth_brotli(content_type, size)
        return FileHeaders(content_type, cache_control, bool(rule and rule.gzip), brotli)

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


__all__ = [
    "DEFAULT_GRACE_SECONDS",
    "DEFAULT_KEEP",
    "DEPLOY_CONFIG_FILE",
    "MANIFEST_PREFIX",
    "DeployConfig",
    "FileHeaders",
    "Rule",
    "parse_duration",
    "parse_max_delete",
    "redirect_key",
]
