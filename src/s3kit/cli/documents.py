"""Configuration documents on the command line: read from YAML or JSON files, printed as YAML
(default) or JSON. Shared by every `get`/`set` command of bucket and object configuration."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from s3kit.cli.output import emit, plain
from s3kit.errors import UsageError


def load_document(path: Path) -> Any:
    """Parse a YAML or JSON file (JSON is YAML too); errors name the file and line."""
    import yaml

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "invalid YAML/JSON"
        raise UsageError(f"{path}{where}: {problem}") from None


def print_document(document: Any, *, json_out: bool) -> None:
    """Readable YAML by default, JSON with --json (the one style: cli/output.py), on stdout."""
    if json_out:
        emit(document)
        return
    import yaml

    sys.stdout.write(yaml.safe_dump(plain(document), sort_keys=False, allow_unicode=True))
