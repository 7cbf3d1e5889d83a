"""`s3kit probe`: the compatibility matrix of an endpoint."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from s3kit._observe import redact
from s3kit.cli import output
from s3kit.cli.state import state_of
from s3kit.service import S3Service
from s3kit.service.probe import ProbeResult

_MARK = {"supported": "yes", "not supported": "no", "error": "error"}


def _record(result: ProbeResult) -> dict[str, object]:
    """`supported` is true or false — or null where the probe could not tell, with `error`
    saying why (the text's yes, no and error)."""
    known = result.status != "error"
    return {
        "feature": result.feature,
        "supported": result.status == "supported" if known else None,
        "detail": result.detail,
        "error": None if known else output.error_text(result.detail or "the probe failed"),
    }


def probe(
    ctx: typer.Context,
    endpoint_url: Annotated[
        str | None,
        typer.Option(
            "--endpoint-url",
            metavar="URL",
            help="Endpoint to probe.",
            show_default="the current one",
        ),
    ] = None,
    json_out: output.Json = False,
) -> None:
    """Show which S3 features the endpoint supports.

    Each feature is tried once on a scratch bucket.

    Everything the probe creates is removed again. Example: s3kit probe --endpoint-url
    http://127.0.0.1:8333
    """
    state = state_of(ctx)
    if endpoint_url:
        state.endpoint_url = endpoint_url
    service = S3Service(state.session)
    if json_out:
        output.emit_listing(map(_record, service.probe()))
        return
    sys.stdout.write(f"Probing {redact(state.session.endpoint_label)}\n\n")
    sys.stdout.write(f"{'feature':<36} {'supported':<10} detail\n")

    def show(result: ProbeResult) -> None:
        sys.stdout.write(f"{result.feature:<36} {_MARK[result.status]:<10} {result.detail}\n")
        sys.stdout.flush()

    service.probe(on_result=show)
