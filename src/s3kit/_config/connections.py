"""Saved connections: named bundles of endpoint, region, AWS profile and addressing style.

They live in `connections.toml` in the user config dir, one `[connections.NAME]` table each,
and are picked with `--connection NAME` or `S3KIT_CONNECTION`. This module must never store a
secret: a connection names an AWS profile for its credentials, and any value that looks like an
access key, a secret key or a URL with a password in it is refused on the way in and on the way
back out of the file. The file is written here (values are plain strings) and read with tomllib.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from urllib.parse import urlsplit

from s3kit._atomic import write_file
from s3kit._config.locations import CONNECTIONS_FILE, config_dir
from s3kit.errors import ConfigError, UsageError

ADDRESSING_STYLES = ("path", "virtual", "auto")

_NAME_RE = re.compile(r"[a-z0-9][a-z0-9_-]*\Z")
_ACCESS_KEY_RE = re.compile(r"(?<![A-Z0-9])(?:AKIA|ASIA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA)[A-Z0-9]{16}")
# AWS secret keys are 40 characters of base64; a run that long mixing cases and digits is
# not a hostname, region or profile name.
_SECRET_RUN_RE = re.compile(r"(?<![A-Za-z0-9/+=])[A-Za-z0-9/+=]{40,}(?![A-Za-z0-9/+=])")
_SECRET_FIELD_WORDS = ("secret", "password", "token", "access_key", "credential")


def validate_name(name: str) -> str:
    if not _NAME_RE.match(name) or len(name) > 64:
        raise UsageError(
            f"connection name '{name}' is not valid — use lowercase letters, digits, '-' and"
            " '_', starting with a letter or digit (at most 64 characters)"
        )
    return name


def looks_like_secret(value: str) -> bool:
    """True for values shaped like AWS keys, or URLs that carry a password."""
    if _ACCESS_KEY_RE.search(value):
        return True
    for run in _SECRET_RUN_RE.findall(value):
        mixed = any(c.isupper() for c in run) and any(c.islower() for c in run)
        if mixed and any(c.isdigit() or c in "/+" for c in run):
            return True
    if "://" in value:
        parts = urlsplit(value)
        if parts.username or parts.password:
            return True
    return False


@dataclass(frozen=True, slots=True, kw_only=True)
class Connection:
    """One saved connection. Every field but the name is optional; none holds a secret."""

    name: str
    endpoint_url: str | None = None
    region: str | None = None
    profile: str | None = None
    bucket: str | None = None
    addressing_style: str | None = None

    def values(self) -> dict[str, str]:
        """The fields that are set, name excluded, in file order."""
        result: dict[str, str] = {}
        for item in fields(self):
            value = getattr(self, item.name)
            if item.name != "name" and value is not None:
                result[item.name] = value
        return result


FIELDS = tuple(item.name for item in fields(Connection) if item.name != "name")


def make_connection(name: str, values: Mapping[str, str | None]) -> Connection:
    """A validated Connection: the name's shape, each value's shape, and no secrets."""
    validate_name(name)
    clean: dict[str, str | None] = {}
    for key, value in values.items():
        if key not in FIELDS:
            if any(word in key.lower() for word in _SECRET_FIELD_WORDS):
                raise UsageError(
                    f"connection '{name}': '{key}' looks like a credential — connections never"
                    " store secrets; put the keys in an AWS profile and use --profile"
                )
            raise UsageError(
                f"connection '{name}': unknown setting '{key}' — known: {', '.join(FIELDS)}"
            )
        if value is None or value == "":
            clean[key] = None
            continue
        if not isinstance(value, str):
            raise UsageError(f"connection '{name}': {key} must be a string")
        if looks_like_secret(value):
            raise UsageError(
                f"connection '{name}': the {key} value looks like a secret (an access key,"
                " a secret key or a URL with a password) — connections never store secrets;"
                " put the keys in an AWS profile and use --profile"
            )
        if any(ord(c) < 32 for c in value):
            raise UsageError(f"connection '{name}': {key} must not contain control characters")
        clean[key] = value
    endpoint = clean.get("endpoint_url")
    if endpoint is not None:
        parts = urlsplit(endpoint)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise UsageError(
                f"connection '{name}': endpoint URL '{endpoint}' is not valid — write it as"
                " http://host:port or https://host"
            )
        clean["endpoint_url"] = endpoint.rstrip("/")
    style = clean.get("addressing_style")
    if style is not None and style not in ADDRESSING_STYLES:
        raise UsageError(
            f"connection '{name}': addressing style must be path, virtual or auto, not '{style}'"
        )
    return Connection(name=name, **clean)


# -- TOML --------------------------------------------------------------------------------------


def _toml_string(value: str) -> str:
    out = ['"']
    for char in value:
        if char in ('"', "\\"):
            out.append("\\" + char)
        elif ord(char) < 32 or ord(char) == 127:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    out.append('"')
    return "".join(out)


def dumps(connections: Mapping[str, Connection]) -> str:
    """The TOML text for `connections`, sorted by name. Names are valid TOML bare keys."""
    lines = ["# s3kit saved connections — written by `s3kit connections`; never holds secrets."]
    for name in sorted(connections):
        lines += ["", f"[connections.{validate_name(name)}]"]
        lines += [
            f"{key} = {_toml_string(value)}" for key, value in connections[name].values().items()
        ]
    return "\n".join(lines) + "\n"


def loads(text: str, *, source: str = CONNECTIONS_FILE) -> dict[str, Connection]:
    """Parse connections TOML; every entry is validated as `make_connection` would."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"cannot parse {source}: {exc} — fix or remove the file") from None
    unknown = sorted(set(document) - {"connections"})
    if unknown:
        raise ConfigError(f"{source}: unknown table '{unknown[0]}' — only [connections.NAME]")
    table = document.get("connections", {})
    if not isinstance(table, dict):
        raise ConfigError(f"{source}: 'connections' must be a table of [connections.NAME]")
    result: dict[str, Connection] = {}
    for name, values in table.items():
        if not isinstance(values, dict):
            raise ConfigError(f"{source}: connections.{name} must be a table")
        try:
            result[name] = make_connection(name, values)
        except UsageError as exc:
            raise ConfigError(f"{source}: {exc.message}") from None
    return result


# -- the store ---------------------------------------------------------------------------------


class ConnectionStore:
    """The connections file: read whole, changed, written back atomically."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or config_dir() / CONNECTIONS_FILE

    def load(self) -> dict[str, Connection]:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {}
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read {self.path}: {type(exc).__name__}") from None
        return loads(text, source=str(self.path))

    def __iter__(self) -> Iterator[Connection]:
        connections = self.load()
        return iter([connections[name] for name in sorted(connections)])

    def get(self, name: str) -> Connection:
        connections = self.load()
        if name not in connections:
            known = ", ".join(sorted(connections)) or "none saved yet"
            raise UsageError(
                f"connection '{name}' does not exist ({known}) — add it with"
                f" `s3kit connections add {name} --endpoint-url URL`"
            )
        return connections[name]

    def add(self, connection: Connection) -> None:
        connections = self.load()
        if connection.name in connections:
            raise UsageError(
                f"connection '{connection.name}' already exists — change it with"
                f" `s3kit connections edit {connection.name}`"
            )
        connections[connection.name] = connection
        self._write(connections)

    def edit(self, name: str, changes: Mapping[str, str | None]) -> Connection:
        """Apply `changes` (a value of "" clears that setting) and save."""
        connections = self.load()
        current = self.get(name)
        merged: dict[str, str | None] = {**current.values()}
        for key, value in changes.items():
            if value is not None:
                merged[key] = value or None
        updated = make_connection(name, merged)
        connections[name] = updated
        self._write(connections)
        return updated

    def remove(self, name: str) -> None:
        connections = self.load()
        self.get(name)
        del connections[name]
        self._write(connections)

    def _write(self, connections: Mapping[str, Connection]) -> None:
        text = dumps(connections)
        try:
            # Owner-only, as the file has always been made (it names the profiles one uses).
            write_file(self.path, text.encode("utf-8"), fsync=True, mode=0o600)
        except OSError as exc:
            raise ConfigError(f"cannot write {self.path}: {exc.strerror}") from None


__all__ = [
    "ADDRESSING_STYLES",
    "CONNECTIONS_FILE",
    "FIELDS",
    "Connection",
    "ConnectionStore",
    "config_dir",
    "dumps",
    "loads",
    "looks_like_secret",
    "make_connection",
    "validate_name",
]
