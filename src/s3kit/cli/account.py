"""Account-level commands: presign, whoami."""

from __future__ import annotations

import sys
from dataclasses import asdict
from typing import Annotated, Literal

import typer

from s3kit.cli import output
from s3kit.cli.completion import complete_s3_url
from s3kit.cli.state import cli_s3_url, state_of
from s3kit.errors import UsageError
from s3kit.service import MAX_PRESIGN_SECONDS, S3Service, validate_expiry


def presign(
    ctx: typer.Context,
    path: Annotated[str, typer.Argument(help="s3://bucket/key", autocompletion=complete_s3_url)],
    expires_in: Annotated[
        int,
        typer.Option(
            "--expires-in",
            metavar="SECONDS",
            help=f"Seconds the URL stays valid (1-{MAX_PRESIGN_SECONDS}).",
        ),
    ] = 3600,
    method: Annotated[
        str, typer.Option("--method", metavar="GET|PUT", help="GET to download, PUT to upload.")
    ] = "GET",
) -> None:
    """Print a presigned URL granting GET or PUT on one object.

    Whoever holds the URL needs no credentials until it expires.

    Example: s3kit presign s3://demo/site/index.html --expires-in 600
    """
    validate_expiry(expires_in)
    if method.upper() not in ("GET", "PUT"):
        raise UsageError(f"--method must be GET or PUT, not '{method}'")
    url = cli_s3_url(path)
    if url.is_prefix:
        raise UsageError(f"{url} is a bucket or prefix — name an object")
    service = S3Service(state_of(ctx).session)
    verb: Literal["GET", "PUT"] = "GET" if method.upper() == "GET" else "PUT"
    # The URL is the output the user asked for; it is never logged.
    sys.stdout.write(
        service.presign(url.bucket, url.key, expires_in=expires_in, method=verb) + "\n"
    )


def whoami(
    ctx: typer.Context,
    json_out: output.Json = False,
) -> None:
    """Show the endpoint and identity the configuration reaches.

    Example: s3kit --profile prod whoami
    """
    identity = S3Service(state_of(ctx).session).whoami()
    if json_out:
        output.emit(asdict(identity))
        return
    lines = [
        f"Endpoint:    {identity.endpoint}",
        f"Access key:  {identity.access_key}",
        f"Credentials: {identity.credentials_source}",
    ]
    if identity.method == "sts":
        lines += [f"Account:     {identity.account}", f"ARN:         {identity.arn}"]
    else:
        lines.append(
            f"Identity:    STS is not available here; ListBuckets works ({identity.buckets}"
            " buckets visible)"
        )
    sys.stdout.write("\n".join(lines) + "\n")
