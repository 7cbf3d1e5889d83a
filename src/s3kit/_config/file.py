"""The `s3kit.yaml` config file: parsed, validated, and turned into `S3KitConfig`.

Where it is looked for, first hit wins: `--config FILE`, `S3KIT_CONFIG`, `./s3kit.yaml`, then
`s3kit.yaml` in the user config dir (`locations.find_config_file`, which imports none of this).
Validation works on yaml's node tree (`yaml.compose`) rather than on loaded values so that every
unknown key and bad value is reported with its line number, all of them at once, one line each.
Parsing is pure (`parse_config` takes text); a problem message never repeats a value that looks
like a secret.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from s3kit._config.connections import ADDRESSING_STYLES, looks_like_secret
from s3kit._config.connections import validate_name as validate_connection_name
from s3kit._config.locations import CONFIG_FILE, find_config_file
from s3kit._limits import MIN_PART
from s3kit._storage_classes import STORAGE_CLASSES, validate_storage_class
from s3kit._units import MiB
from s3kit.errors import UsageError


class ConfigFileError(UsageError):
    """The config file is invalid; `problems` holds one 'file:line: message' line each."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = tuple(problems)


@dataclass(frozen=True, slots=True, kw_only=True)
class AwsConfig:
    profile: str | None = None
    region: str | None = None
    endpoint_url: str | None = None
    connection: str | None = None
    addressing_style: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SyncConfig:
    """Defaults for `s3kit sync`; None means "not set here", so the engine's default applies."""

    delete_removed: bool | None = None
    verify_checksums: bool | None = None
    follow_symlinks: bool | None = None
    size_only: bool | None = None
    exact_timestamps: bool | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class StorageConfig:
    default_storage_class: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class PerformanceConfig:
    """Sizes are in bytes (the file may write them as "64MB", "8MiB" or a plain number)."""

    parallel_uploads: int | None = None
    multipart_threshold: int | None = None
    multipart_chunksize: int | None = None
    max_bandwidth: int | None = None  # bytes per second, all transfers together


LOG_LEVELS = ("debug", "info", "warning", "error")
LOG_FORMATS = ("text", "json")


@dataclass(frozen=True, slots=True, kw_only=True)
class LogConfig:
    """The CLI's logging when neither --log-level/--log-format nor S3KIT_LOG_* say (nor, for
    the level, --debug)."""

    level: str | None = None
    format: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class S3KitConfig:
    """Everything `s3kit.yaml` can say, typed. An absent file is `S3KitConfig()`."""

    source: Path | None = None
    aws: AwsConfig = field(default_factory=AwsConfig)
    sync: SyncConfig = field(default_factory=SyncConfig)
    storage: StorageConfig = field(default_factory=StorageConfig)
    performance: PerformanceConfig = field(default_factory=PerformanceConfig)
    log: LogConfig = field(default_factory=LogConfig)
    exclusions: tuple[str, ...] = ()
    # The `deploy:` section (s3kit deploy's rules), None when the file has none; a
    # DeployConfig, typed loosely here so that reading s3kit.yaml never imports the deploy code.
    deploy: Any = None

    def transfer_overrides(self) -> dict[str, int]:
        """The `TransferConfig` fields the performance section sets (for cp, mv and sync)."""
        perf = self.performance
        pairs = {
            "max_concurrent_files": perf.parallel_uploads,
            "multipart_threshold": perf.multipart_threshold,
            "multipart_chunksize": perf.multipart_chunksize,
            "bandwidth": perf.max_bandwidth,
        }
        return {name: value for name, value in pairs.items() if value is not None}


def load_config(path: Path) -> S3KitConfig:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read config file {path}: {type(exc).__name__}") from None
    return parse_config(text, source=path)


# -- validation --------------------------------------------------------------------------------

Check = Callable[[Any], Any]  # returns the clean value or raises ValueError with the reason


def _string(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("must be a non-empty string")
    if looks_like_secret(value):
        raise ValueError("looks like a secret — s3kit.yaml never holds keys; use an AWS profile")
    return value


def _boolean(value: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"must be true or false, not {value!r}")
    return value


def _endpoint(value: Any) -> str:
    from urllib.parse import urlsplit

    text = _string(value)
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"'{text}' is not a URL — write it as http://host:port or https://host")
    return text.rstrip("/")


def _connection_name(value: Any) -> str:
    text = _string(value)
    try:
        return validate_connection_name(text)
    except UsageError as exc:
        raise ValueError(exc.message) from None


def _addressing_style(value: Any) -> str:
    if value not in ADDRESSING_STYLES:
        raise ValueError(f"must be path, virtual or auto, not {value!r}")
    return str(value)


def _storage_class(value: Any) -> str:
    try:
        return validate_storage_class(_string(value))
    except UsageError:
        raise ValueError(
            f"'{value}' is not a storage class — use one of {', '.join(STORAGE_CLASSES)}"
        ) from None


def _one_of(choices: tuple[str, ...]) -> Check:
    def check(value: Any) -> str:
        if not isinstance(value, str) or value.lower() not in choices:
            raise ValueError(f"must be one of {', '.join(choices)}, not {value!r}")
        return value.lower()

    return check


def _count(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 1024:
        raise ValueError(f"must be a whole number from 1 to 1024, not {value!r}")
    return value


def _size(minimum: int) -> Check:
    def check(value: Any) -> int:
        # The one size parser s3kit has lives with multipart sizing; see transfer/parts.py.
        from s3kit.transfer.parts import parse_size

        if isinstance(value, bool):
            raise ValueError(f"must be a size like 64MB or 8MiB, not {value!r}")
        if isinstance(value, int):
            size = value
        elif isinstance(value, str):
            try:
                size = parse_size(value)
            except UsageError:
                raise ValueError(f"'{value}' is not a size — write it like 64MB or 8MiB") from None
        else:
            raise ValueError(f"must be a size like 64MB or 8MiB, not {value!r}")
        if size < minimum:
            least = f"{minimum // MiB}MiB" if minimum >= MiB else f"{minimum} byte"
            raise ValueError(f"must be at least {least}, not {value!r}")
        return size

    return check


_SCHEMA: dict[str, dict[str, Check]] = {
    "aws": {
        "profile": _string,
        "region": _string,
        "endpoint_url": _endpoint,
        "connection": _connection_name,
        "addressing_style": _addressing_style,
    },
    "sync": {
        "delete_removed": _boolean,
        "verify_checksums": _boolean,
        "follow_symlinks": _boolean,
        "size_only": _boolean,
        "exact_timestamps": _boolean,
    },
    "storage": {"default_storage_class": _storage_class},
    "performance": {
        "parallel_uploads": _count,
        "multipart_threshold": _size(1),
        "multipart_chunksize": _size(MIN_PART),
        "max_bandwidth": _size(1),
    },
    "log": {"level": _one_of(LOG_LEVELS), "format": _one_of(LOG_FORMATS)},
}
_SECTIONS = (*_SCHEMA, "exclusions", "deploy")


def parse_config(text: str, *, source: Path | str = CONFIG_FILE) -> S3KitConfig:
    """Validate `text` as s3kit.yaml; raise ConfigFileError listing every problem."""
    import yaml

    where = str(source)
    problems: list[str] = []

    def problem(node: Any, message: str) -> None:
        problems.append(f"{where}:{node.start_mark.line + 1}: {message}")

    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        reason = getattr(exc, "problem", None) or "invalid YAML"
        raise ConfigFileError([f"{where}{line}: {reason}"]) from None
    if root is None:
        return S3KitConfig(source=Path(source))
    if not isinstance(root, yaml.MappingNode):
        raise ConfigFileError([f"{where}:1: the file must be a mapping of sections"])

    constructor = yaml.constructor.SafeConstructor()
    values: dict[str, dict[str, Any]] = {name: {} for name in _SCHEMA}
    exclusions: list[str] = []
    deploy: Any = None
    seen: set[str] = set()
    for key_node, value_node in root.value:
        section = key_node.value
        if section in seen:
            problem(key_node, f"section '{section}' appears twice")
            continue
        seen.add(section)
        if section not in _SECTIONS:
            problem(key_node, f"unknown section '{section}' — known: {', '.join(_SECTIONS)}")
            continue
        if section == "exclusions":
            exclusions = _exclusions(value_node, problem, constructor)
            continue
        if section == "deploy":
            from s3kit.deploy.rules_file import DeployConfigError, deploy_config_from_node

            try:
                deploy = deploy_config_from_node(value_node, where)
            except DeployConfigError as exc:
                problems.extend(exc.problems)
            continue
        if isinstance(value_node, yaml.ScalarNode) and value_node.value in ("", "~", "null"):
            continue  # an empty section
        if not isinstance(value_node, yaml.MappingNode):
            problem(value_node, f"section '{section}' must be a mapping of settings")
            continue
        schema = _SCHEMA[section]
        for setting_node, raw_node in value_node.value:
            name = setting_node.value
            if name in values[section]:
                problem(setting_node, f"{section}.{name} appears twice")
                continue
            if name not in schema:
                hint = (
                    " — s3kit.yaml never holds secrets; name an AWS profile instead"
                    if any(word in str(name).lower() for word in ("secret", "token", "key_id"))
                    else f" — known: {', '.join(schema)}"
                )
                problem(setting_node, f"unknown setting '{section}.{name}'{hint}")
                continue
            try:
                raw = constructor.construct_object(raw_node, deep=True)
                values[section][name] = schema[name](raw)
            except ValueError as exc:
                problem(raw_node, f"{section}.{name} {exc}")
            except yaml.YAMLError:
                problem(raw_node, f"{section}.{name} has a value YAML cannot read")
    if problems:
        raise ConfigFileError(problems)
    return S3KitConfig(
        source=Path(source),
        aws=AwsConfig(**values["aws"]),
        sync=SyncConfig(**values["sync"]),
        storage=StorageConfig(**values["storage"]),
        performance=PerformanceConfig(**values["performance"]),
        log=LogConfig(**values["log"]),
        exclusions=tuple(exclusions),
        deploy=deploy,
    )


def _exclusions(node: Any, problem: Callable[[Any, str], None], constructor: Any) -> list[str]:
    import yaml

    if isinstance(node, yaml.ScalarNode) and node.value in ("", "~", "null"):
        return []
    if not isinstance(node, yaml.SequenceNode):
        problem(node, "exclusions must be a list of patterns, e.g. ['*.tmp', '.git/*']")
        return []
    patterns: list[str] = []
    for item in node.value:
        value = (
            constructor.construct_object(item, deep=True)
            if isinstance(item, yaml.ScalarNode)
            else None
        )
        if not isinstance(value, str) or not value:
            problem(item, "each exclusion must be a non-empty pattern string")
            continue
        patterns.append(value)
    return patterns


__all__ = [
    "CONFIG_FILE",
    "AwsConfig",
    "ConfigFileError",
    "LogConfig",
    "PerformanceConfig",
    "S3KitConfig",
    "StorageConfig",
    "SyncConfig",
    "find_config_file",
    "load_config",
    "parse_config",
]
