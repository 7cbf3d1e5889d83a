"""Configuration documents on the command line: read from YAML or JSON files, printed as YAML
(default) or JSON. Shared by every `get`/`set` command of bucket and object configuration."""

from __future__ import annotations

import json
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Any

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


def _plain(value: Any) -> Any:
    """boto3 answers with datetimes and bytes; make them printable."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if k != "ResponseMetadata"}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value


def print_document(document: Any, *, json_out: bool) -> None:
    """Readable YAML by default, JSON with --json, on stdout."""
    plain = _plain(document)
    if json_out:
        sys.stdout.write(json.dumps(plain, indent=2, sort_keys=False) + "\n")
        return
    import yaml

    sys.stdout.write(yaml.safe_dump(plain, sort_keys=False, allow_unicode=True))
