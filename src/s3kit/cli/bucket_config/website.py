"""`s3kit bucket website get|set|delete`: static website hosting and its endpoint."""

from __future__ import annotations

import sys
from typing import Annotated, Literal

import typer

from s3kit.cli.bucket_config.base import (
    BucketArg,
    FileOpt,
    JsonOpt,
    add_get_delete,
    any_given,
    config_group,
    document_from,
    say,
    service_of,
    show_document,
)
from s3kit.cli.mb_rb import bucket_only
from s3kit.service import S3Service
from s3kit.service.configs import build_website

website = config_group(
    "Static website hosting: documents or a redirect.\n\nIndex and error documents, or a"
    " redirect of every request."
)


def _endpoint_line(service: S3Service, bucket: str) -> str:
    url = service.website_url(bucket)
    if url:
        return f"website endpoint: {url}"
    return (
        f"website endpoint: depends on the server at {service.session.endpoint_label}"
        " (only AWS has fixed website endpoints)"
    )


@website.command("get")
def website_get(ctx: typer.Context, path: BucketArg, json_out: JsonOpt = False) -> None:
    """Print the website configuration and the endpoint it is served at."""
    bucket = bucket_only(path)
    service = service_of(ctx)
    document = service.get_website(bucket)
    show_document(document, json_out=json_out, none=f"s3://{bucket} has no website configuration")
    if document is not None:
        line = _endpoint_line(service, bucket)
        # Stays a comment in YAML and off stdout with JSON, so the output can be fed to `set`.
        if json_out:
            sys.stderr.write(line + "\n")
        else:
            say(f"# {line}")


@website.command("set")
def website_set(
    ctx: typer.Context,
    path: BucketArg,
    file: FileOpt = None,
    index: Annotated[
        str | None, typer.Option("--index", metavar="KEY", help="Index document, e.g. index.html.")
    ] = None,
    error: Annotated[
        str | None, typer.Option("--error", metavar="KEY", help="Error document, e.g. 404.html.")
    ] = None,
    redirect_host: Annotated[
        str | None,
        typer.Option(
            "--redirect-host", metavar="HOST", help="Redirect every request to this host."
        ),
    ] = None,
    redirect_protocol: Annotated[
        Literal["http", "https"] | None,
        typer.Option(
            "--redirect-protocol", metavar="http|https", help="Protocol of the redirects."
        ),
    ] = None,
) -> None:
    """Serve the bucket as a website.

    Example: s3kit bucket website set s3://demo --index index.html --error 404.html
    """
    bucket = bucket_only(path)
    document = document_from(
        file,
        any_given(index, error, redirect_host, redirect_protocol),
        lambda: build_website(
            index=index,
            error=error,
            redirect_host=redirect_host,
            redirect_protocol=redirect_protocol,
        ),
    )
    service = service_of(ctx)
    service.set_website(bucket, document)
    say(f"set the website configuration of s3://{bucket}")
    say(_endpoint_line(service, bucket))


add_get_delete(website, "website configuration", delete=lambda s, b: s.delete_website(b))
