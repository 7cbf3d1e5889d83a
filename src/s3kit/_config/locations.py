"""Where s3kit's own files are looked for: the user config dir, `s3kit.yaml` and the saved
connections' file.

Every command asks whether there is an `s3kit.yaml`; most users have none. So finding one is
a stat or two here, and nothing more: the parser (`file`, with yaml) and the connections' reader
(`connections`, with tomllib) are imported only when there is a file for them to read.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from s3kit.errors import UsageError

CONFIG_FILE = "s3kit.yaml"
CONNECTIONS_FILE = "connections.toml"


def config_dir() -> Path:
    """The user's s3kit config folder (platformdirs: ~/.config/s3kit on Linux)."""
    import platformdirs

    return Path(platformdirs.user_config_dir("s3kit"))


def find_config_file(
    explicit: Path | None = None,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    user_dir: Path | None = None,
) -> Path | None:
    """The config file to use, or None. A file named explicitly must exist."""
    env = os.environ if env is None else env
    named = explicit or (Path(env["S3KIT_CONFIG"]) if env.get("S3KIT_CONFIG") else None)
    if named is not None:
        named = named.expanduser()
        if not named.is_file():
            raise UsageError(f"config file {named} does not exist — check --config/S3KIT_CONFIG")
        return named
    for folder in (cwd or Path.cwd(), user_dir or config_dir()):
        candidate = folder / CONFIG_FILE
        if candidate.is_file():
            return candidate
    return None


__all__ = ["CONFIG_FILE", "CONNECTIONS_FILE", "config_dir", "find_config_file"]
