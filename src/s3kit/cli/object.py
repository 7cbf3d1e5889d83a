"""`s3kit object ...`: metadata, tags, ACLs, versions, storage classes, restore."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="Objects: metadata, tags, ACLs, versions, storage classes and Glacier restore.",
    no_args_is_help=True,
)
