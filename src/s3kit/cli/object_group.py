"""`s3kit object ...`: metadata, tags, copy/move, batch delete, presigned POST, versions,
storage classes, Glacier restore and SSE-C key rotation. Each command parses, calls one
S3Service method, prints."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from s3kit._storage_classes import validate_storage_class
from s3kit._uri import S3Url
from s3kit.cli import output
from s3kit.cli.completion import complete_bucket, complete_s3_url
from s3kit.cli.cp_mv import parse_metadata
from s3kit.cli.documents import print_document
from s3kit.cli.format import timestamp
from s3kit.cli.state import cli_s3_url, state_of
from s3kit.errors import S3KitError, UsageError
from s3kit.service import MAX_PRESIGN_SECONDS, S3Service, validate_expiry

app = typer.Typer(
    help="Objects: metadata, tags, versions, copies and restores.\n\nAlso copy/move, batch"
    " delete, presigned POST, storage classes, Glacier restore and SSE-C key rotation.",
    no_args_is_help=True,
)
metadata_app = typer.Typer(help="User metadata and content headers.", no_args_is_help=True)
tags_app = typer.Typer(help="Object tags: get, set, delete.", no_args_is_help=True)
app.add_typer(metadata_app, name="metadata")
app.add_typer(tags_app, name="tags")

ObjectUrl = Annotated[str, typer.Argument(help="s3://bucket/key", autocompletion=complete_s3_url)]
ObjectDestination = Annotated[
    str,
    typer.Argument(help="s3://bucket/key, or s3://bucket/prefix/", autocompletion=complete_s3_url),
]
JsonOut = Annotated[bool, typer.Option("--json", help="Print JSON instead of YAML/text.")]
VersionId = Annotated[
    str, typer.Option("--version-id", metavar="VERSION_ID", help="The version to act on.")
]
OptionalVersion = Annotated[
    str | None,
    typer.Option(
        "--version-id",
        metavar="VERSION_ID",
        help="A specific version.",
        show_default="the latest",
    ),
]


def _service(ctx: typer.Context) -> S3Service:
    return S3Service(state_of(ctx).session)


def _object(text: str) -> S3Url:
    url = cli_s3_url(text)
    if url.is_prefix:
        raise UsageError(f"{url} is a bucket or prefix — name an object, e.g. s3://bucket/key")
    return url


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")


def _json(document: object) -> None:
    output.emit(document)


# -- head, metadata, tags ----------------------------------------------------------------------


@app.command("head")
def head(
    ctx: typer.Context,
    path: ObjectUrl,
    version_id: OptionalVersion = None,
    sse_c_key_file: Annotated[
        Path | None,
        typer.Option("--sse-c-key-file", metavar="FILE", help="SSE-C key of the object."),
    ] = None,
    json_out: JsonOut = False,
) -> None:
    """Show everything HeadObject says about an object.

    Size, ETag, content headers, metadata, storage class, SSE.

    Example: s3kit object head s3://docs/report.pdf --json
    """
    from s3kit._encryption import encryption_from_options

    url = _object(path)
    encryption = encryption_from_options(None, customer_key_file=sse_c_key_file)
    info = _service(ctx).head_object(
        url.bucket, url.key, version_id=version_id, encryption=encryption
    )
    print_document(info, json_out=json_out)


@metadata_app.command("set")
def metadata_set(
    ctx: typer.Context,
    path: ObjectUrl,
    metadata: Annotated[
        list[str] | None,
        typer.Option("--metadata", metavar="KEY=VALUE", help="User metadata (repeatable)."),
    ] = None,
    content_type: Annotated[
        str | None, typer.Option("--content-type", metavar="TYPE", help="Content-Type.")
    ] = None,
    cache_control: Annotated[
        str | None, typer.Option("--cache-control", metavar="VALUE", help="Cache-Control.")
    ] = None,
    replace: Annotated[
        bool,
        typer.Option(
            "--replace",
            help="Drop the user metadata not given here (without --replace: merge into it).",
        ),
    ] = False,
    json_out: JsonOut = False,
) -> None:
    """Change user metadata and content headers in place.

    Everything not named is kept.

    Example: s3kit object metadata set s3://docs/a.pdf --metadata owner=ana
    --cache-control max-age=60
    """
    url = _object(path)
    changes = parse_metadata(metadata or ())
    if not changes and content_type is None and cache_control is None and not replace:
        raise UsageError("nothing to change: give --metadata, --content-type or --cache-control")
    result = _service(ctx).set_object_metadata(
        url.bucket,
        url.key,
        metadata=changes,
        content_type=content_type,
        cache_control=cache_control,
        replace=replace,
    )
    print_document(
        {
            "Metadata": result.get("Metadata", {}),
            "ContentType": result.get("ContentType"),
            "CacheControl": result.get("CacheControl"),
        },
        json_out=json_out,
    )


@tags_app.command("get")
def tags_get(
    ctx: typer.Context,
    path: ObjectUrl,
    version_id: OptionalVersion = None,
    json_out: JsonOut = False,
) -> None:
    """Print the object's tags as key: value.

    Example: s3kit object tags get s3://docs/a.pdf
    """
    url = _object(path)
    print_document(
        _service(ctx).get_object_tags(url.bucket, url.key, version_id=version_id),
        json_out=json_out,
    )


@tags_app.command("set")
def tags_set(
    ctx: typer.Context,
    path: ObjectUrl,
    tags: Annotated[list[str], typer.Argument(help="key=value pairs; they replace all tags.")],
    version_id: OptionalVersion = None,
) -> None:
    """Replace the object's tags with the pairs given.

    S3 keeps one tag set per object.

    Example: s3kit object tags set s3://docs/a.pdf team=data env=prod
    """
    from s3kit.service.objects import parse_pairs

    url = _object(path)
    _service(ctx).set_object_tags(
        url.bucket, url.key, parse_pairs(tags, what="tags"), version_id=version_id
    )
    _say(f"tagged: {url}")


@tags_app.command("delete")
def tags_delete(ctx: typer.Context, path: ObjectUrl, version_id: OptionalVersion = None) -> None:
    """Remove every tag from the object.

    Example: s3kit object tags delete s3://docs/a.pdf
    """
    url = _object(path)
    _service(ctx).delete_object_tags(url.bucket, url.key, version_id=version_id)
    _say(f"tags deleted: {url}")


# -- copy, move, delete, presigned POST --------------------------------------------------------


def _copy(ctx: typer.Context, source: str, destination: str, *, move: bool) -> None:
    src, dst = _object(source), cli_s3_url(destination)
    summary = _service(ctx).copy_or_move(src, dst, move=move)
    target = dst.join(src.key.rsplit("/", 1)[-1]) if dst.is_prefix else dst
    _say(f"{'move' if move else 'copy'}: {src} to {target} ({summary.bytes} bytes)")


@app.command("copy")
def copy(
    ctx: typer.Context,
    source: ObjectUrl,
    destination: ObjectDestination,
) -> None:
    """Copy server-side, within or between buckets.

    In parts above 5 GiB.

    Example: s3kit object copy s3://inbox/a.csv s3://archive/2026/
    """
    _copy(ctx, source, destination, move=False)


@app.command("move")
def move(
    ctx: typer.Context,
    source: ObjectUrl,
    destination: ObjectDestination,
) -> None:
    """Copy server-side, then delete the source.

    The source is deleted only once the copy succeeded.

    Example: s3kit object move s3://inbox/a.csv s3://archive/2026/a.csv
    """
    _copy(ctx, source, destination, move=True)


@app.command("delete-many")
def delete_many(
    ctx: typer.Context,
    bucket_url: Annotated[str, typer.Argument(help="s3://bucket", autocompletion=complete_bucket)],
    keys: Annotated[list[str] | None, typer.Argument(help="Keys to delete.")] = None,
    from_file: Annotated[
        Path | None,
        typer.Option(
            "--from-file",
            metavar="FILE",
            help="File with one key a line ('-' for standard input).",
        ),
    ] = None,
    json_out: JsonOut = False,
) -> None:
    """Delete many keys, 1,000 per request.

    Every key that fails is reported (exit code 1).

    Example: s3kit object delete-many s3://logs --from-file old-keys.txt
    """
    from s3kit.service.objects import parse_key_lines

    url = cli_s3_url(bucket_url)
    if url.key:
        raise UsageError(f"name only the bucket (s3://{url.bucket}); keys follow it")
    wanted = list(keys or [])
    if from_file is not None:
        try:
            text = sys.stdin.read() if str(from_file) == "-" else from_file.read_text("utf-8")
        except OSError as exc:
            raise UsageError(f"cannot read {from_file}: {exc.strerror}") from None
        wanted += parse_key_lines(text)
    if not wanted:
        raise UsageError("no keys given: list them after the bucket or pass --from-file")
    report = _service(ctx).delete_keys(url.bucket, wanted)
    if json_out:
        where = f"s3://{url.bucket}/"
        results = [output.item("delete", where + key, status="done") for key in report.deleted]
        results += [
            output.item("delete", where + f.key, status="failed",
                        error=output.error_text(f.message, f.code))
            for f in report.failures
        ]  # fmt: skip
        _json({"deleted": len(report.deleted), "failed": len(report.failures), "results": results})
    else:
        for key in report.deleted:
            _say(f"delete: s3://{url.bucket}/{key}")
        for failure in report.failures:
            sys.stderr.write(
                f"s3kit: error: delete failed: s3://{url.bucket}/{failure.key}: {failure.code}"
                f" {failure.message}".rstrip()
                + "\n"
            )
    if report.failures:
        raise S3KitError(
            f"{len(report.failures)} of {len(wanted)} keys could not be deleted"
            + ("" if json_out else " (see the errors above)")
        )


@app.command("presign-post")
def presign_post(
    ctx: typer.Context,
    path: ObjectUrl,
    expires_in: Annotated[
        int,
        typer.Option(
            "--expires-in",
            metavar="SECONDS",
            help=f"Seconds the form stays valid (1-{MAX_PRESIGN_SECONDS}).",
        ),
    ] = 3600,
    content_length_range: Annotated[
        tuple[int, int] | None,
        typer.Option(
            "--content-length-range",
            metavar="MIN MAX",
            help="Sizes in bytes the upload may have.",
        ),
    ] = None,
    content_type_prefix: Annotated[
        str | None,
        typer.Option(
            "--content-type-prefix",
            metavar="PREFIX",
            help="Content-Type must start with this, e.g. image/.",
        ),
    ] = None,
) -> None:
    """Print a presigned POST for browser uploads.

    Its url and form fields, as JSON.

    Example: s3kit object presign-post s3://uploads/avatar.png --expires-in 600
    --content-length-range 1 1048576 --content-type-prefix image/
    """
    validate_expiry(expires_in)
    url = _object(path)
    _json(
        _service(ctx).presign_post(
            url.bucket,
            url.key,
            expires_in=expires_in,
            content_length_range=content_length_range,
            content_type_prefix=content_type_prefix,
        )
    )


# -- versions ----------------------------------------------------------------------------------


@app.command("versions")
def versions(
    ctx: typer.Context,
    path: Annotated[
        str,
        typer.Argument(
            help="s3://bucket/key or s3://bucket/prefix", autocompletion=complete_s3_url
        ),
    ],
    json_out: JsonOut = False,
    jsonl: output.Jsonl = False,
) -> None:
    """List versions and delete markers under a key or prefix.

    Every one of them, newest first for each key.

    Example: s3kit object versions s3://docs/report.pdf
    """
    mode = output.mode_of(json_out=json_out, jsonl=jsonl)
    url = cli_s3_url(path)
    entries = _service(ctx).list_versions(url.bucket, url.key)
    if mode != "text":
        output.emit_listing((entry.as_dict() for entry in entries), jsonl=mode == "jsonl")
        return
    for entry in entries:
        kind = "DELETE-MARKER" if entry.is_delete_marker else f"{entry.size:>13}"
        latest = "latest" if entry.is_latest else "      "
        _say(f"{timestamp(entry.last_modified)} {kind:>13} {latest} {entry.version_id} {entry.key}")


@app.command("get")
def get(
    ctx: typer.Context,
    path: ObjectUrl,
    destination: Annotated[Path, typer.Argument(help="Local file or folder.")],
    version_id: OptionalVersion = None,
) -> None:
    """Download one version of an object.

    The latest without --version-id.

    Example: s3kit object get s3://docs/report.pdf --version-id 3HL4kqtJ ./report-old.pdf
    """
    url = _object(path)
    size = _service(ctx).download_version(url.bucket, url.key, version_id, destination)
    which = f" (version {version_id})" if version_id else ""
    _say(f"download: {url}{which} to {destination} ({size} bytes)")


@app.command("delete-version")
def delete_version(ctx: typer.Context, path: ObjectUrl, version_id: VersionId) -> None:
    """Delete one version or delete marker permanently.

    Example: s3kit object delete-version s3://docs/report.pdf --version-id 3HL4kqtJ
    """
    url = _object(path)
    _service(ctx).delete_version(url.bucket, url.key, version_id)
    _say(f"deleted version {version_id} of {url}")


@app.command("restore-version")
def restore_version(ctx: typer.Context, path: ObjectUrl, version_id: VersionId) -> None:
    """Make an earlier version current again.

    It is copied over the key; the history is kept.

    Example: s3kit object restore-version s3://docs/report.pdf --version-id 3HL4kqtJ
    """
    url = _object(path)
    new_id = _service(ctx).restore_version(url.bucket, url.key, version_id)
    _say(f"restored version {version_id} of {url} as version {new_id or 'null'}")


@app.command("undelete")
def undelete(ctx: typer.Context, path: ObjectUrl) -> None:
    """Remove the delete marker hiding a key.

    That brings back its latest version.

    Example: s3kit object undelete s3://docs/report.pdf
    """
    url = _object(path)
    marker = _service(ctx).undelete(url.bucket, url.key)
    _say(f"undeleted {url} (removed delete marker {marker})")


# -- storage classes, restore, SSE-C -----------------------------------------------------------


@app.command("set-class")
def set_class(
    ctx: typer.Context,
    path: ObjectUrl,
    class_name: Annotated[str, typer.Argument(metavar="CLASS", help="STANDARD_IA, GLACIER, ...")],
) -> None:
    """Change an object's storage class.

    The object is copied onto itself.

    Example: s3kit object set-class s3://docs/2019.tar STANDARD_IA
    """
    chosen = validate_storage_class(class_name)
    url = _object(path)
    _service(ctx).set_storage_class(url.bucket, url.key, chosen)
    _say(f"storage class of {url} is now {chosen}")


@app.command("restore")
def restore(
    ctx: typer.Context,
    path: ObjectUrl,
    days: Annotated[
        int, typer.Option("--days", metavar="DAYS", help="Days the restored copy stays readable.")
    ],
    tier: Annotated[
        str, typer.Option("--tier", metavar="TIER", help="Standard, Bulk or Expedited.")
    ] = "Standard",
) -> None:
    """Start restoring a GLACIER or DEEP_ARCHIVE object.

    See restore-status.

    Example: s3kit object restore s3://archive/2019.tar --days 7 --tier Bulk
    """
    from s3kit.service.classes import validate_restore

    days, tier = validate_restore(days, tier)
    url = _object(path)
    outcome = _service(ctx).restore_object(url.bucket, url.key, days=days, tier=tier)
    if outcome == "already-restored":
        _say(f"{url} is already restored; its copy now expires {days} days from today")
    else:
        _say(f"restore of {url} started ({tier}, {days} days)")


@app.command("restore-status")
def restore_status(ctx: typer.Context, path: ObjectUrl, json_out: JsonOut = False) -> None:
    """Show the restore state of an archived object.

    Whether it is being restored or readable, and until when.

    Example: s3kit object restore-status s3://archive/2019.tar
    """
    url = _object(path)
    status = _service(ctx).restore_status(url.bucket, url.key)
    if json_out:
        _json(status.as_dict())
        return
    until = f" until {status.expiry.isoformat()}" if status.expiry else ""
    _say(f"{url}: {status.state}{until} (storage class {status.storage_class})")


@app.command("rotate-sse-c")
def rotate_sse_c(
    ctx: typer.Context,
    path: ObjectUrl,
    old_key_file: Annotated[
        Path,
        typer.Option(
            "--old-key-file", metavar="FILE", help="The current 32-byte key (raw or base64)."
        ),
    ],
    new_key_file: Annotated[
        Path,
        typer.Option("--new-key-file", metavar="FILE", help="The new 32-byte key (raw or base64)."),
    ],
) -> None:
    """Re-encrypt an SSE-C object under a new key, server-side.

    Example: s3kit object rotate-sse-c s3://vault/db.dump --old-key-file old.key
    --new-key-file new.key
    """
    from s3kit._encryption import Encryption, encryption_from_options

    def key_from(file: Path) -> Encryption:
        encryption = encryption_from_options("sse-c", customer_key_file=file, env={})
        assert encryption is not None
        return encryption

    url = _object(path)
    _service(ctx).rotate_sse_c_key(
        url.bucket, url.key, old=key_from(old_key_file), new=key_from(new_key_file)
    )
    _say(f"re-encrypted {url} with the new SSE-C key")
