"""`s3kit bucket <configuration> get|set|delete`: every bucket configuration document."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add the configuration sub-groups (versioning, lifecycle, ...) to `s3kit bucket`."""
