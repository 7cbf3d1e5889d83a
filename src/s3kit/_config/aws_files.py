"""The AWS shared files (`~/.aws/config`, `~/.aws/credentials`, or where AWS_CONFIG_FILE and
AWS_SHARED_CREDENTIALS_FILE point), read as plain INI: profiles and their keys."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from s3kit.errors import ConfigError

if TYPE_CHECKING:  # imported only when there is a file to read
    import configparser


@dataclass(frozen=True, slots=True)
class AwsFiles:
    """The two AWS profile files, located the way the AWS CLI locates them."""

    config_path: Path
    credentials_path: Path

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> AwsFiles:
        home = Path(env.get("HOME") or Path.home())
        return cls(
            Path(env.get("AWS_CONFIG_FILE") or home / ".aws" / "config").expanduser(),
            Path(
                env.get("AWS_SHARED_CREDENTIALS_FILE") or home / ".aws" / "credentials"
            ).expanduser(),
        )

    def profile(self, name: str) -> dict[str, str] | None:
        """The merged keys of profile `name` from both files, or None if neither has it."""
        merged: dict[str, str] = {}
        found = False
        config_section = "default" if name == "default" else f"profile {name}"
        for path, section in (
            (self.config_path, config_section),
            (self.credentials_path, name),
        ):
            parser = _read_ini(path)
            if parser is not None and parser.has_section(section):
                found = True
                merged.update(dict(parser.items(section)))
        return merged if found else None

    def profile_names(self) -> list[str]:
        names: set[str] = set()
        config = _read_ini(self.config_path)
        if config is not None:
            for section in config.sections():
                if section == "default":
                    names.add("default")
                elif section.startswith("profile "):
                    names.add(section[len("profile ") :].strip())
        credentials = _read_ini(self.credentials_path)
        if credentials is not None:
            names.update(credentials.sections())
        return sorted(names)


def _read_ini(path: Path) -> configparser.RawConfigParser | None:
    if not path.is_file():
        return None
    import configparser

    parser = configparser.RawConfigParser()
    try:
        parser.read(path, encoding="utf-8")
    except configparser.Error as exc:
        # configparser's message quotes the offending line, which may hold a secret: say
        # where the problem is, never what the line says.
        line = getattr(exc, "lineno", None)
        where = f" near line {line}" if line else ""
        raise ConfigError(
            f"cannot parse {path}{where} ({type(exc).__name__}) — fix the file's INI syntax"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {type(exc).__name__}") from None
    return parser


__all__ = ["AwsFiles"]
