"""`s3kit website serve`: a deployed static site on 127.0.0.1, served as S3 website hosting
serves it, for stores without website endpoints (SeaweedFS, moto).

The library (`s3kit.website`) is imported by the command itself: it brings http.server, which
no other command needs. The URL is the only thing on stdout; the request log goes to stderr.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from s3kit.cli import output
from s3kit.cli.completion import complete_s3_url
from s3kit.cli.state import cli_s3_url, notice, state_of

app = typer.Typer(help="Static websites: try a deployed site locally.", no_args_is_help=True)


@app.command()
def serve(
    ctx: typer.Context,
    path: Annotated[
        str,
        typer.Argument(
            help="s3://bucket[/prefix]: the bucket, or the folder the site was deployed to.",
            autocompletion=complete_s3_url,
        ),
    ],
    port: Annotated[
        int,
        typer.Option(
            "--port",
            min=0,
            max=65535,
            metavar="PORT",
            help="Port on 127.0.0.1; 0 picks a free one.",
        ),
    ] = 8080,
    index: Annotated[
        str | None,
        typer.Option(
            "--index",
            metavar="NAME",
            help="Index document served for '/' and every folder.",
            show_default="the bucket's website configuration's, else index.html",
        ),
    ] = None,
    error: Annotated[
        str | None,
        typer.Option(
            "--error",
            metavar="KEY",
            help="Error document (relative to the site) served with 404 and 403.",
            show_default="the bucket's website configuration's, else plain text",
        ),
    ] = None,
    json_out: output.Json = False,
) -> None:
    """Serve a deployed site on 127.0.0.1 as S3 website hosting does.

    Index documents per folder, the error document, redirect objects and the bucket's routing
    rules, read with your credentials (which never leave s3kit), until Ctrl-C: for stores
    that have no website endpoints (SeaweedFS, moto). A deploy's brotli siblings (KEY.br) go
    to requests whose Accept-Encoding takes br, with Vary: Accept-Encoding.

    Example: s3kit website serve s3://demo/site --error 404.html
    """
    from s3kit.website import WebsiteServer

    url = cli_s3_url(path)
    server = WebsiteServer.for_bucket(
        state_of(ctx).session, url.bucket, url.key, index=index, error=error, port=port, log=notice
    )
    try:
        if json_out:
            output.emit({"url": server.url})
        else:
            sys.stdout.write(server.url + "\n")
        sys.stdout.flush()
        notice(f"serving {url} at {server.url} — press Ctrl-C to stop")
        server.serve_forever()
    except KeyboardInterrupt:
        pass  # how a user ends it: not a failure
    finally:
        server.close()
