"""The one JSON schema of the command line: what every `--json` and `--jsonl` prints.

Under --json a command prints exactly one JSON document on stdout, indented by two spaces, and
nothing else there (its messages go to stderr). The shapes, shown to users in the README's
"JSON output" section:

- **listing**: an array of records, objects with the same keys (`ls`: key, size,
  last_modified, etag, storage_class, or {"prefix"} for a common prefix). Where a listing can
  be long, `--jsonl` prints the same records one compact object a line, as they arrive.
- **error**: `{"code": the S3 error code or null, "message": ...}`; null where nothing
  failed — never "".
- **item**: what one action did to one object or file: `{"action", "source", "destination",
  "status": "done" | "failed" | "planned", "error"}`. `source` is what the action reads or
  removes; `destination` is where it writes, null when it writes nothing elsewhere (a delete,
  a tag). A command may add keys (cp: bytes, verified; batch: bucket, key).
- **transfer summary** (cp, mv, sync, apply, sync --bidirectional): `{"transferred", "bytes",
  "deleted", "failed", "skipped", "seconds", "failures": [item, ...]}` and the command's extras.
- **report** (rm -r, object delete-many, batch, multipart abort): counts and
  `"results": [item, ...]`; with `--jsonl` the items alone, one a line.
- **empty**: a configuration that is not set is null; an empty collection is [] or {}.
- **booleans**: true or false; what could not be found out is null, with an error saying why.

This module shapes and prints what a command hands it; it never decides what a command does.
"""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterable
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any, Literal, TypedDict

import typer

from s3kit.errors import S3KitError, UsageError, translating

INDENT = 2

# The --json flag of every command that prints one JSON document (or listing) when asked.
Json = Annotated[bool, typer.Option("--json", help="Print JSON.")]
Jsonl = Annotated[
    bool,
    typer.Option(
        "--jsonl", help="Print one JSON object per line, as they come (for long listings)."
    ),
]
Status = Literal["done", "failed", "planned"]
Mode = Literal["text", "json", "jsonl"]


class ErrorObject(TypedDict):
    code: str | None
    message: str


def mode_of(*, json_out: bool, jsonl: bool = False) -> Mode:
    """Which output the flags ask for; both at once is a usage error."""
    if json_out and jsonl:
        raise UsageError("give --json or --jsonl, not both")
    return "jsonl" if jsonl else "json" if json_out else "text"


def plain(value: Any) -> Any:
    """What json can write: boto3 answers with datetimes and bytes, and ResponseMetadata."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items() if k != "ResponseMetadata"}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return value


def dumps(document: Any) -> str:
    import json  # a text listing, as most are, needs none

    return json.dumps(plain(document), indent=INDENT)


def emit(document: Any) -> None:
    """The one document of a --json command, on stdout."""
    sys.stdout.write(dumps(document) + "\n")


def line(record: Any) -> str:
    """One compact JSON line (`--jsonl`, report files)."""
    import json

    return json.dumps(plain(record))


def emit_listing(records: Iterable[Any], *, jsonl: bool = False) -> None:
    """A listing as it is read: with `jsonl` one line per record, else one array written
    record by record — the same text `emit(list(records))` would print, without holding a
    listing of millions in memory."""
    out = sys.stdout
    if jsonl:
        for record in records:
            out.write(line(record) + "\n")
        return
    first = True
    for record in records:
        out.write(("[\n" if first else ",\n") + textwrap.indent(dumps(record), " " * INDENT))
        first = False
    out.write("[]\n" if first else "\n]\n")


def write_lines(path: Path, records: Iterable[Any]) -> None:
    """Records as JSON lines in a file (`batch --report`)."""
    with translating(path=str(path)), path.open("w", encoding="utf-8") as out:
        for record in records:
            out.write(line(record) + "\n")


def error_object(error: S3KitError | None) -> ErrorObject | None:
    if error is None:
        return None
    return {"code": error.code or None, "message": error.message or type(error).__name__}


def error_text(message: str, code: str = "") -> ErrorObject | None:
    """For results that keep only the text of their error (a batch result, a refused key of
    a bulk delete): no text and no code is no error."""
    if not message and not code:
        return None
    return {"code": code or None, "message": message or code}


def item(
    action: str | None,
    source: object | None,
    destination: object | None = None,
    *,
    status: Status,
    error: ErrorObject | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """One item (see the module docstring); locations become their text."""
    return {
        "action": action,
        "source": None if source is None else str(source),
        "destination": None if destination is None else str(destination),
        "status": status,
        "error": error,
        **extra,
    }


def transfer_summary(
    *,
    transferred: int,
    bytes: int,
    deleted: int,
    skipped: int,
    seconds: float,
    failures: list[dict[str, Any]],
    **extra: Any,
) -> dict[str, Any]:
    """The closing document of every command that transfers (see the module docstring)."""
    return {
        "transferred": transferred,
        "bytes": bytes,
        "deleted": deleted,
        "failed": len(failures),
        "skipped": skipped,
        "seconds": round(seconds, 3),
        "failures": failures,
        **extra,
    }


class ItemReport:
    """The items of a report as they come: one a line at once (--jsonl), or kept for the
    closing document (--json); nothing in text mode, which prints its own lines."""

    def __init__(self, mode: Mode) -> None:
        self.mode = mode
        self.items: list[dict[str, Any]] = []
        self._counts: dict[str, int] = {}

    def add(self, record: dict[str, Any]) -> None:
        self._counts[record["status"]] = self._counts.get(record["status"], 0) + 1
        if self.mode == "jsonl":
            sys.stdout.write(line(record) + "\n")
        elif self.mode == "json":
            self.items.append(record)

    def count(self, status: Status) -> int:
        return self._counts.get(status, 0)

    def close(self, **counts: Any) -> None:
        """Under --json, the report: `counts` first, then "results"."""
        if self.mode == "json":
            emit({**counts, "results": self.items})
