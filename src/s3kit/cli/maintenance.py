"""Top-level housekeeping commands: `s3kit cost` (storage cost per class) and
`s3kit multipart list|abort` (incomplete multipart uploads). Registered by `register(app)`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from s3kit._uri import S3Url
from s3kit.cli import output
from s3kit.cli.completion import complete_s3_url
from s3kit.cli.format import timestamp
from s3kit.cli.state import cli_s3_url, state_of
from s3kit.errors import UsageError
from s3kit.service import S3Service

multipart_app = typer.Typer(
    help="Incomplete multipart uploads: list them, abort them.", no_args_is_help=True
)

BucketOrPrefix = Annotated[
    str, typer.Argument(help="s3://bucket or s3://bucket/prefix", autocompletion=complete_s3_url)
]
OlderThan = Annotated[
    float | None,
    typer.Option(
        "--older-than", min=0, metavar="DAYS", help="Only uploads started more than DAYS days ago."
    ),
]


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")


def cost(
    ctx: typer.Context,
    path: BucketOrPrefix,
    prices: Annotated[
        Path | None,
        typer.Option(
            "--prices",
            metavar="FILE",
            help="YAML/JSON file of CLASS: USD per GB-month, over the built-in table.",
        ),
    ] = None,
    json_out: output.Json = False,
) -> None:
    """Estimate the monthly storage cost of a bucket or prefix.

    Per storage class, from list prices.

    Built-in prices are AWS us-east-1 list prices (storage only: no requests, retrievals,
    minimum durations or volume discounts). Example: s3kit cost s3://logs/2026/ --prices p.yaml
    """
    from s3kit.service.classes import DEFAULT_PRICES, prices_from_document

    url = cli_s3_url(path)
    table = dict(DEFAULT_PRICES)
    if prices is not None:
        from s3kit.cli.documents import load_document

        table = prices_from_document(load_document(prices))
    report = S3Service(state_of(ctx).session).storage_cost(url.bucket, url.key, prices=table)
    if json_out:
        output.emit(report.as_dict())
        return
    _say(f"{'CLASS':<20} {'OBJECTS':>10} {'BYTES':>16} {'USD/GB-MONTH':>13} {'USD/MONTH':>12}")
    for line in report.lines:
        price = "-" if line.usd_per_gb_month is None else f"{line.usd_per_gb_month:.5f}"
        monthly = "no price" if line.monthly_usd is None else f"{line.monthly_usd:.4f}"
        _say(
            f"{line.storage_class:<20} {line.objects:>10} {line.bytes:>16} {price:>13}"
            f" {monthly:>12}"
        )
    _say(
        f"{'TOTAL':<20} {report.objects:>10} {report.bytes:>16} {'':>13}"
        f" {report.monthly_usd:>12.4f}"
    )
    if report.unpriced:
        sys.stderr.write(
            f"s3kit: no price for {', '.join(report.unpriced)}; add it with --prices FILE\n"
        )


@multipart_app.command("list")
def multipart_list(
    ctx: typer.Context,
    path: BucketOrPrefix,
    older_than: OlderThan = None,
    json_out: output.Json = False,
    jsonl: output.Jsonl = False,
) -> None:
    """List incomplete multipart uploads (billed, yet in no listing).

    Example: s3kit multipart list s3://media --older-than 7
    """
    from s3kit.service.uploads import select_uploads

    mode = output.mode_of(json_out=json_out, jsonl=jsonl)
    url = cli_s3_url(path)
    service = S3Service(state_of(ctx).session)
    uploads = select_uploads(service.list_uploads(url.bucket, url.key), older_than_days=older_than)
    if mode != "text":
        output.emit_listing((u.as_dict() for u in uploads), jsonl=mode == "jsonl")
        return
    for upload in uploads:
        _say(f"{timestamp(upload.initiated)} {upload.upload_id} s3://{url.bucket}/{upload.key}")


@multipart_app.command("abort")
def multipart_abort(
    ctx: typer.Context,
    path: BucketOrPrefix,
    older_than: OlderThan = None,
    upload_id: Annotated[
        str | None,
        typer.Option("--upload-id", metavar="ID", help="Abort this upload only (needs --key)."),
    ] = None,
    key: Annotated[
        str | None, typer.Option("--key", metavar="KEY", help="Key of the upload(s) to abort.")
    ] = None,
    dryrun: Annotated[
        bool, typer.Option("--dryrun", help="Show what would be aborted; abort nothing.")
    ] = False,
    yes: Annotated[
        bool,
        typer.Option(
            "--yes", "-y", help="Abort every upload found without asking (no --older-than/--key)."
        ),
    ] = False,
    json_out: output.Json = False,
) -> None:
    """Abort incomplete multipart uploads under a prefix, or one upload. Without
    --older-than, --key or --upload-id every upload found goes, uploads still in progress too:
    that is asked on a terminal, and needs --yes elsewhere.

    Example: s3kit multipart abort s3://media --older-than 7 --dryrun
    """
    url = cli_s3_url(path)
    service = S3Service(state_of(ctx).session)
    if older_than is None and key is None and upload_id is None and not (dryrun or yes):
        found = service.abort_uploads(url.bucket, url.key, dryrun=True)
        if found:
            _confirm_abort_all(url, len(found))
        for upload in found:  # what was shown, not what a second listing would find
            service.abort_upload(url.bucket, upload.key, upload.upload_id)
        aborted = found
    else:
        aborted = service.abort_uploads(
            url.bucket, url.key, older_than_days=older_than, key=key, upload_id=upload_id,
            dryrun=dryrun,
        )  # fmt: skip
    if json_out:
        status: output.Status = "planned" if dryrun else "done"
        results = [
            output.item("abort", f"s3://{url.bucket}/{u.key}", status=status, **u.as_dict())
            for u in aborted
        ]
        output.emit({"aborted": 0 if dryrun else len(results), "results": results})
        return
    prefix = "(dryrun) " if dryrun else ""
    for upload in aborted:
        _say(f"{prefix}abort: s3://{url.bucket}/{upload.key} {upload.upload_id}")


def _confirm_abort_all(url: S3Url, count: int) -> None:
    """Ask before aborting every upload found, on a terminal; refuse elsewhere."""
    what = f"{count} incomplete multipart upload(s) under {url}"
    if not (sys.stdin.isatty() and sys.stderr.isatty()):
        raise UsageError(
            f"refusing to abort all {what} without confirmation: uploads still in progress"
            " would fail — pass --yes, or choose with --older-than DAYS or --key KEY"
        )
    sys.stderr.write(f"{what}; any still in progress will fail.\n")
    typer.confirm(f"Abort all {count}?", abort=True, err=True)


def register(app: typer.Typer) -> None:
    """Add `cost` and `multipart` to the top-level `s3kit` command."""
    app.command("cost")(cost)
    app.add_typer(multipart_app, name="multipart")
