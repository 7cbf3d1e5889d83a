"""What every `s3kit bucket <configuration>` command shares: the arguments, the choice
between --file and flags, printing a document, and the common `get`/`delete` pair."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from s3kit.cli.completion import complete_bucket
from s3kit.cli.documents import load_document, print_document
from s3kit.cli.mb_rb import bucket_only
from s3kit.cli.state import state_of
from s3kit.errors import UsageError
from s3kit.service import S3Service

BucketArg = Annotated[
    str, typer.Argument(help="s3://bucket", show_default=False, autocompletion=complete_bucket)
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of YAML.")]
FileOpt = Annotated[
    Path | None,
    typer.Option(
        "--file",
        "-f",
        metavar="FILE",
        help="The full document, YAML or JSON (as `get` prints it).",
    ),
]


def config_group(help_text: str) -> typer.Typer:
    return typer.Typer(help=help_text, no_args_is_help=True)


def service_of(ctx: typer.Context) -> S3Service:
    return S3Service(state_of(ctx).session)


def document_from(file: Path | None, flags_given: bool, build: Callable[[], Any]) -> Any:
    """The document from --file, or built from the flags; never both, never neither."""
    if file is not None and flags_given:
        raise UsageError("give either --file or the flags that build a document, not both")
    if file is not None:
        return load_document(file)
    if not flags_given:
        raise UsageError("nothing to set — give --file FILE or the flags (see --help)")
    return build()


def any_given(*values: Any) -> bool:
    """Whether any flag was typed (0 counts: `--expire-days 0` must reach validation)."""
    return any(v is not None and v is not False and v != [] for v in values)


def show_document(document: Any, *, json_out: bool, none: str) -> None:
    if document is None and not json_out:
        sys.stdout.write(none + "\n")
        return
    print_document(document, json_out=json_out)


def say(message: str) -> None:
    sys.stdout.write(message + "\n")


def add_get_delete(
    group: typer.Typer,
    what: str,
    get: Callable[[S3Service, str], Any] | None = None,
    delete: Callable[[S3Service, str], None] | None = None,
    *,
    none: str | None = None,
) -> None:
    """The `get` and `delete` commands every document-valued configuration shares. `get`
    answers None where the configuration is not set: `none` is then printed (default: the
    bucket has no `what`), or null with --json."""
    if get is not None:
        getter = get

        def get_command(ctx: typer.Context, path: BucketArg, json_out: JsonOpt = False) -> None:
            bucket = bucket_only(path)
            document = getter(service_of(ctx), bucket)
            shown = none if none is not None else f"s3://{bucket} has no {what}"
            show_document(document, json_out=json_out, none=shown)

        group.command("get", help=f"Print the bucket's {what}.\n\nYAML, or JSON with --json.")(
            get_command
        )
    if delete is not None:
        remover = delete

        def delete_command(ctx: typer.Context, path: BucketArg) -> None:
            bucket = bucket_only(path)
            remover(service_of(ctx), bucket)
            say(f"deleted the {what} of s3://{bucket}")

        group.command("delete", help=f"Remove the bucket's {what}.\n\nFine if it has none.")(
            delete_command
        )
