"""`s3kit bucket ...`: bucket details, secure creation, tags, access and configuration."""

from __future__ import annotations

import typer

from s3kit.cli import bucket_config

app = typer.Typer(
    help="Buckets: details, secure creation, tags, policies, ACLs, public access block and"
    " every bucket configuration.",
    no_args_is_help=True,
)
bucket_config.register(app)
