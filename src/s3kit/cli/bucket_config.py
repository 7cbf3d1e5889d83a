"""`s3kit bucket <configuration> get|set|delete`: every bucket configuration document.

Each `set` takes either `--file FILE` (YAML or JSON, the full document in the shape `get`
prints, so `get > f; edit f; set --file f` round-trips) or flags that build the common
single-rule case. Commands only parse, call one `S3Service` method and print; every check
of a document lives in `s3kit.service.configs`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

import typer

from s3kit.cli.buckets import bucket_only
from s3kit.cli.documents import load_document, print_document
from s3kit.cli.state import state_of
from s3kit.errors import UsageError
from s3kit.service import S3Service
from s3kit.service.configs import (
    ID_CONFIGS,
    Document,
    IdConfigKind,
    LockMode,
    SseAlgorithm,
    build_analytics,
    build_cors_rule,
    build_encryption,
    build_intelligent_tiering,
    build_inventory,
    build_lifecycle_rule,
    build_metrics,
    build_notification,
    build_object_lock,
    build_replication,
    build_retention,
    build_website,
    parse_transition,
    validate_id_config,
)
from s3kit.uri import parse_s3_url

BucketArg = Annotated[str, typer.Argument(help="s3://bucket", show_default=False)]
ObjectArg = Annotated[str, typer.Argument(help="s3://bucket/key", show_default=False)]
IdArg = Annotated[str, typer.Argument(help="The configuration's Id.", show_default=False)]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of YAML.")]
FileOpt = Annotated[
    Path | None,
    typer.Option("--file", "-f", help="The full document, YAML or JSON (as `get` prints it)."),
]
VersionOpt = Annotated[str | None, typer.Option("--version-id", help="A specific version.")]


def _group(help_text: str) -> typer.Typer:
    return typer.Typer(help=help_text, no_args_is_help=True)


def _service(ctx: typer.Context) -> S3Service:
    return S3Service(state_of(ctx).session)


def _object(path: str) -> tuple[str, str]:
    url = parse_s3_url(path)
    if not url.key or url.key.endswith("/"):
        raise UsageError(f"'{path}' names no object; give s3://bucket/key")
    return url.bucket, url.key


def _document(file: Path | None, flags_given: bool, build: Callable[[], Any]) -> Any:
    """The document from --file, or built from the flags; never both, never neither."""
    if file is not None and flags_given:
        raise UsageError("give either --file or the flags that build a document, not both")
    if file is not None:
        return load_document(file)
    if not flags_given:
        raise UsageError("nothing to set — give --file FILE or the flags (see --help)")
    return build()


def _given(*values: Any) -> bool:
    """Whether any flag was typed (0 counts: `--expire-days 0` must reach validation)."""
    return any(v is not None and v is not False and v != [] for v in values)


def _show(document: Any, *, json_out: bool, none: str) -> None:
    if document is None and not json_out:
        sys.stdout.write(none + "\n")
        return
    print_document(document, json_out=json_out)


def _said(message: str) -> None:
    sys.stdout.write(message + "\n")


def _add_get_delete(
    group: typer.Typer,
    what: str,
    get: Callable[[S3Service, str], Any] | None = None,
    delete: Callable[[S3Service, str], None] | None = None,
) -> None:
    """The `get` and `delete` commands every document-valued configuration shares."""
    if get is not None:
        getter = get

        def get_command(ctx: typer.Context, path: BucketArg, json_out: JsonOpt = False) -> None:
            bucket = bucket_only(path)
            document = getter(_service(ctx), bucket)
            _show(document, json_out=json_out, none=f"s3://{bucket} has no {what}")

        group.command("get", help=f"Print the bucket's {what} (YAML, or JSON with --json).")(
            get_command
        )
    if delete is not None:
        remover = delete

        def delete_command(ctx: typer.Context, path: BucketArg) -> None:
            bucket = bucket_only(path)
            remover(_service(ctx), bucket)
            _said(f"deleted the {what} of s3://{bucket}")

        group.command("delete", help=f"Remove the bucket's {what} (fine if it has none).")(
            delete_command
        )


# -- versioning -------------------------------------------------------------------------------

versioning = _group("Object versioning: get, enable, suspend (with MFA delete).")
_add_get_delete(versioning, "versioning", lambda s, b: s.get_versioning(b) or None)
MfaOpt = Annotated[
    str | None,
    typer.Option("--mfa", help="'SERIAL CODE': MFA device serial (or ARN) and current code."),
]
MfaDeleteOpt = Annotated[
    bool | None,
    typer.Option(
        "--mfa-delete/--no-mfa-delete",
        help="Require MFA to delete versions or change versioning (needs --mfa).",
    ),
]


@versioning.command("enable")
def versioning_enable(
    ctx: typer.Context, path: BucketArg, mfa: MfaOpt = None, mfa_delete: MfaDeleteOpt = None
) -> None:
    """Turn versioning on. Example: s3kit bucket versioning enable s3://demo"""
    bucket = bucket_only(path)
    _service(ctx).set_versioning(bucket, "Enabled", mfa=mfa, mfa_delete=mfa_delete)
    _said(f"versioning of s3://{bucket}: Enabled")


@versioning.command("suspend")
def versioning_suspend(
    ctx: typer.Context, path: BucketArg, mfa: MfaOpt = None, mfa_delete: MfaDeleteOpt = None
) -> None:
    """Stop creating new versions (existing ones stay). Versioning cannot be switched off."""
    bucket = bucket_only(path)
    _service(ctx).set_versioning(bucket, "Suspended", mfa=mfa, mfa_delete=mfa_delete)
    _said(f"versioning of s3://{bucket}: Suspended")


# -- lifecycle --------------------------------------------------------------------------------

lifecycle = _group("Lifecycle rules: expiration, transitions, cleanup of versions and uploads.")
_add_get_delete(
    lifecycle,
    "lifecycle configuration",
    lambda s, b: s.get_lifecycle(b),
    lambda s, b: s.delete_lifecycle(b),
)


@lifecycle.command("set")
def lifecycle_set(
    ctx: typer.Context,
    path: BucketArg,
    file: FileOpt = None,
    rule_id: Annotated[str | None, typer.Option("--id", help="Rule ID.")] = None,
    prefix: Annotated[str, typer.Option("--prefix", help="Only keys under this prefix.")] = "",
    expire_days: Annotated[
        int | None, typer.Option("--expire-days", help="Delete objects N days after creation.")
    ] = None,
    transition: Annotated[
        list[str] | None,
        typer.Option("--transition", help="DAYS:CLASS, e.g. 30:STANDARD_IA (repeatable)."),
    ] = None,
    noncurrent_days: Annotated[
        int | None,
        typer.Option("--noncurrent-expire-days", help="Delete old versions N days later."),
    ] = None,
    abort_days: Annotated[
        int | None,
        typer.Option("--abort-multipart-days", help="Abort unfinished uploads after N days."),
    ] = None,
    disabled: Annotated[bool, typer.Option("--disabled", help="Add the rule disabled.")] = False,
) -> None:
    """Replace the lifecycle configuration: one rule from flags, or the whole --file.

    Example: s3kit bucket lifecycle set s3://demo --prefix logs/ --expire-days 30
    """
    bucket = bucket_only(path)
    document = _document(
        file,
        _given(expire_days, transition, noncurrent_days, abort_days),
        lambda: {
            "Rules": [
                build_lifecycle_rule(
                    rule_id=rule_id,
                    prefix=prefix,
                    expiration_days=expire_days,
                    transitions=[parse_transition(t) for t in transition or []],
                    noncurrent_expiration_days=noncurrent_days,
                    abort_multipart_days=abort_days,
                    enabled=not disabled,
                )
            ]
        },
    )
    _service(ctx).set_lifecycle(bucket, document)
    _said(f"set the lifecycle configuration of s3://{bucket}")


# -- website ----------------------------------------------------------------------------------

website = _group("Static website hosting: index and error documents, or redirect everything.")


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
    service = _service(ctx)
    document = service.get_website(bucket)
    _show(document, json_out=json_out, none=f"s3://{bucket} has no website configuration")
    if document is not None:
        line = _endpoint_line(service, bucket)
        # Stays a comment in YAML and off stdout with JSON, so the output can be fed to `set`.
        if json_out:
            sys.stderr.write(line + "\n")
        else:
            _said(f"# {line}")


@website.command("set")
def website_set(
    ctx: typer.Context,
    path: BucketArg,
    file: FileOpt = None,
    index: Annotated[str | None, typer.Option("--index", help="e.g. index.html")] = None,
    error: Annotated[str | None, typer.Option("--error", help="e.g. 404.html")] = None,
    redirect_host: Annotated[
        str | None, typer.Option("--redirect-host", help="Redirect every request to this host.")
    ] = None,
    redirect_protocol: Annotated[
        Literal["http", "https"] | None,
        typer.Option("--redirect-protocol", help="Protocol of the redirects."),
    ] = None,
) -> None:
    """Serve the bucket as a website.

    Example: s3kit bucket website set s3://demo --index index.html --error 404.html
    """
    bucket = bucket_only(path)
    document = _document(
        file,
        _given(index, error, redirect_host, redirect_protocol),
        lambda: build_website(
            index=index,
            error=error,
            redirect_host=redirect_host,
            redirect_protocol=redirect_protocol,
        ),
    )
    service = _service(ctx)
    service.set_website(bucket, document)
    _said(f"set the website configuration of s3://{bucket}")
    _said(_endpoint_line(service, bucket))


_add_get_delete(website, "website configuration", delete=lambda s, b: s.delete_website(b))


# -- CORS -------------------------------------------------------------------------------------

cors = _group("Cross-origin resource sharing (CORS) rules for browsers.")
_add_get_delete(
    cors, "CORS configuration", lambda s, b: s.get_cors(b), lambda s, b: s.delete_cors(b)
)


@cors.command("set")
def cors_set(
    ctx: typer.Context,
    path: BucketArg,
    file: FileOpt = None,
    origins: Annotated[
        list[str] | None,
        typer.Option("--allowed-origin", help="e.g. https://example.com or * (repeatable)."),
    ] = None,
    methods: Annotated[
        list[str] | None,
        typer.Option("--allowed-method", help="GET, PUT, POST, DELETE or HEAD (repeatable)."),
    ] = None,
    headers: Annotated[
        list[str] | None, typer.Option("--allowed-header", help="Request header (repeatable).")
    ] = None,
    expose: Annotated[
        list[str] | None,
        typer.Option("--expose-header", help="Response header scripts may read (repeatable)."),
    ] = None,
    max_age: Annotated[
        int | None, typer.Option("--max-age", help="Seconds browsers may cache the answer.")
    ] = None,
    rule_id: Annotated[str | None, typer.Option("--id", help="Rule ID.")] = None,
) -> None:
    """Replace the CORS rules: one rule from flags, or the whole --file.

    Example: s3kit bucket cors set s3://demo --allowed-origin https://example.com
    --allowed-method GET
    """
    bucket = bucket_only(path)
    document = _document(
        file,
        _given(origins, methods, headers, expose, max_age),
        lambda: {
            "CORSRules": [
                build_cors_rule(
                    origins=origins or [],
                    methods=methods or [],
                    headers=headers or [],
                    expose_headers=expose or [],
                    max_age=max_age,
                    rule_id=rule_id,
                )
            ]
        },
    )
    _service(ctx).set_cors(bucket, document)
    _said(f"set the CORS configuration of s3://{bucket}")


# -- default encryption -----------------------------------------------------------------------

encryption = _group("Default encryption of new objects: SSE-S3 or SSE-KMS.")
_add_get_delete(
    encryption,
    "default encryption",
    lambda s, b: s.get_encryption(b),
    lambda s, b: s.delete_encryption(b),
)


@encryption.command("set")
def encryption_set(
    ctx: typer.Context,
    path: BucketArg,
    file: FileOpt = None,
    sse: Annotated[
        SseAlgorithm | None,
        typer.Option("--sse", help="AES256 (SSE-S3, the default) or aws:kms (SSE-KMS)."),
    ] = None,
    kms_key_id: Annotated[
        str | None, typer.Option("--kms-key-id", help="KMS key id, ARN or alias (implies aws:kms).")
    ] = None,
    bucket_key: Annotated[
        bool | None,
        typer.Option("--bucket-key/--no-bucket-key", help="Use an S3 Bucket Key for SSE-KMS."),
    ] = None,
) -> None:
    """Set default encryption.

    Example: s3kit bucket encryption set s3://demo --sse aws:kms --kms-key-id alias/demo
    """
    bucket = bucket_only(path)
    algorithm: SseAlgorithm = sse or ("aws:kms" if kms_key_id else "AES256")
    document = _document(
        file,
        file is None or _given(sse, kms_key_id, bucket_key),  # no flags at all: SSE-S3
        lambda: build_encryption(algorithm=algorithm, kms_key_id=kms_key_id, bucket_key=bucket_key),
    )
    _service(ctx).set_encryption(bucket, document)
    _said(f"set the default encryption of s3://{bucket}")


# -- replication ------------------------------------------------------------------------------

replication = _group("Replication to another bucket (needs versioning on both).")
_add_get_delete(
    replication,
    "replication configuration",
    lambda s, b: s.get_replication(b),
    lambda s, b: s.delete_replication(b),
)


@replication.command("set")
def replication_set(
    ctx: typer.Context,
    path: BucketArg,
    file: FileOpt = None,
    role: Annotated[
        str | None, typer.Option("--role", help="ARN of the IAM role S3 replicates as.")
    ] = None,
    destination: Annotated[
        str | None, typer.Option("--destination", help="Destination bucket ARN (or name).")
    ] = None,
    prefix: Annotated[str, typer.Option("--prefix", help="Only keys under this prefix.")] = "",
    storage_class: Annotated[
        str | None, typer.Option("--storage-class", help="Storage class of the replicas.")
    ] = None,
    rule_id: Annotated[str | None, typer.Option("--id", help="Rule ID.")] = None,
    delete_markers: Annotated[
        bool, typer.Option("--delete-markers", help="Replicate delete markers too.")
    ] = False,
) -> None:
    """Replace the replication configuration.

    Example: s3kit bucket replication set s3://demo --role arn:aws:iam::123456789012:role/repl
    --destination arn:aws:s3:::demo-copy
    """
    bucket = bucket_only(path)

    def build() -> Document:
        if not role or not destination:
            raise UsageError("replication from flags needs both --role and --destination")
        return build_replication(
            role=role,
            destination_bucket=destination,
            prefix=prefix,
            rule_id=rule_id,
            storage_class=storage_class,
            delete_markers=delete_markers,
        )

    document = _document(file, _given(role, destination, storage_class), build)
    _service(ctx).set_replication(bucket, document)
    _said(f"set the replication configuration of s3://{bucket}")


# -- event notifications ----------------------------------------------------------------------

notifications = _group("Event notifications to SNS topics, SQS queues and Lambda functions.")
_add_get_delete(
    notifications,
    "event notifications",
    lambda s, b: s.get_notifications(b),
    lambda s, b: s.delete_notifications(b),
)


@notifications.command("set")
def notifications_set(
    ctx: typer.Context,
    path: BucketArg,
    file: FileOpt = None,
    target: Annotated[
        str | None, typer.Option("--target", help="SNS topic, SQS queue or Lambda ARN.")
    ] = None,
    events: Annotated[
        list[str] | None,
        typer.Option("--event", help="e.g. s3:ObjectCreated:* (the default; repeatable)."),
    ] = None,
    prefix: Annotated[str | None, typer.Option("--prefix", help="Key prefix filter.")] = None,
    suffix: Annotated[str | None, typer.Option("--suffix", help="Key suffix filter.")] = None,
    config_id: Annotated[str | None, typer.Option("--id", help="Configuration Id.")] = None,
) -> None:
    """Replace the event notifications.

    Example: s3kit bucket notifications set s3://demo --target arn:aws:sqs:us-east-1:123456789012:q
    --event s3:ObjectCreated:* --suffix .jpg
    """
    bucket = bucket_only(path)

    def build() -> Document:
        if not target:
            raise UsageError("notifications from flags need --target ARN")
        return build_notification(
            target_arn=target,
            events=events or ["s3:ObjectCreated:*"],
            prefix=prefix,
            suffix=suffix,
            config_id=config_id,
        )

    document = _document(file, _given(target, events, prefix, suffix), build)
    _service(ctx).set_notifications(bucket, document)
    _said(f"set the event notifications of s3://{bucket}")


# -- transfer acceleration --------------------------------------------------------------------

acceleration = _group("S3 Transfer Acceleration: get, enable, suspend.")
_add_get_delete(
    acceleration,
    "transfer acceleration",
    lambda s, b: {"Status": s.get_acceleration(b) or "never configured"},
)


@acceleration.command("enable")
def acceleration_enable(ctx: typer.Context, path: BucketArg) -> None:
    """Turn Transfer Acceleration on. Example: s3kit bucket acceleration enable s3://demo"""
    bucket = bucket_only(path)
    _service(ctx).set_acceleration(bucket, True)
    _said(f"transfer acceleration of s3://{bucket}: Enabled")


@acceleration.command("suspend")
def acceleration_suspend(ctx: typer.Context, path: BucketArg) -> None:
    """Turn Transfer Acceleration off."""
    bucket = bucket_only(path)
    _service(ctx).set_acceleration(bucket, False)
    _said(f"transfer acceleration of s3://{bucket}: Suspended")


# -- object lock ------------------------------------------------------------------------------

object_lock = _group(
    "Object lock: the bucket's default retention, and per-object retention and legal holds."
)
_add_get_delete(object_lock, "object lock configuration", lambda s, b: s.get_object_lock(b))
ModeOpt = Annotated[
    LockMode | None, typer.Option("--mode", help="GOVERNANCE or COMPLIANCE.", case_sensitive=False)
]


@object_lock.command("set")
def object_lock_set(
    ctx: typer.Context,
    path: BucketArg,
    file: FileOpt = None,
    mode: ModeOpt = None,
    days: Annotated[int | None, typer.Option("--days", help="Default retention in days.")] = None,
    years: Annotated[
        int | None, typer.Option("--years", help="Default retention in years.")
    ] = None,
) -> None:
    """Set the default retention of a bucket created with object lock.

    Example: s3kit bucket object-lock set s3://demo --mode GOVERNANCE --days 30
    """
    bucket = bucket_only(path)
    document = _document(
        file,
        _given(mode, days, years),
        lambda: build_object_lock(mode=mode, days=days, years=years),
    )
    _service(ctx).set_object_lock(bucket, document)
    _said(f"set the object lock configuration of s3://{bucket}")


retention = _group("Retention of one object version: get, set.")
object_lock.add_typer(retention, name="retention")


@retention.command("get")
def retention_get(
    ctx: typer.Context, path: ObjectArg, version_id: VersionOpt = None, json_out: JsonOpt = False
) -> None:
    """Print an object's retention mode and end date."""
    bucket, key = _object(path)
    document = _service(ctx).get_retention(bucket, key, version_id=version_id)
    _show(document, json_out=json_out, none=f"s3://{bucket}/{key} has no retention")


def _parse_date(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise UsageError(
            f"--until '{text}' is not a date; use ISO 8601, e.g. 2030-01-31 or 2030-01-31T12:00:00Z"
        ) from None


@retention.command("set")
def retention_set(
    ctx: typer.Context,
    path: ObjectArg,
    mode: ModeOpt = None,
    until: Annotated[
        str | None, typer.Option("--until", help="End date, ISO 8601 (UTC if no zone).")
    ] = None,
    days: Annotated[int | None, typer.Option("--days", help="Retain for N days from now.")] = None,
    version_id: VersionOpt = None,
    bypass_governance: Annotated[
        bool,
        typer.Option("--bypass-governance", help="Allow shortening a GOVERNANCE retention."),
    ] = False,
) -> None:
    """Lock an object version.

    Example: s3kit bucket object-lock retention set s3://demo/a.pdf --mode GOVERNANCE --days 7
    """
    bucket, key = _object(path)
    if mode is None:
        raise UsageError("give --mode GOVERNANCE or COMPLIANCE")
    document = build_retention(mode=mode, until=_parse_date(until) if until else None, days=days)
    _service(ctx).set_retention(
        bucket, key, document, version_id=version_id, bypass_governance=bypass_governance
    )
    _said(f"s3://{bucket}/{key} retained ({mode}) until {document['RetainUntilDate'].isoformat()}")


legal_hold = _group("Legal hold on one object version: get, set ON|OFF.")
object_lock.add_typer(legal_hold, name="legal-hold")


@legal_hold.command("get")
def legal_hold_get(ctx: typer.Context, path: ObjectArg, version_id: VersionOpt = None) -> None:
    """Print ON or OFF."""
    bucket, key = _object(path)
    _said("ON" if _service(ctx).get_legal_hold(bucket, key, version_id=version_id) else "OFF")


@legal_hold.command("set")
def legal_hold_set(
    ctx: typer.Context,
    path: ObjectArg,
    status: Annotated[
        Literal["ON", "OFF"], typer.Argument(help="ON or OFF.", case_sensitive=False)
    ],
    version_id: VersionOpt = None,
) -> None:
    """Put or lift a legal hold.

    Example: s3kit bucket object-lock legal-hold set s3://demo/a.pdf ON
    """
    bucket, key = _object(path)
    on = status.upper() == "ON"
    _service(ctx).set_legal_hold(bucket, key, on, version_id=version_id)
    _said(f"legal hold on s3://{bucket}/{key}: {'ON' if on else 'OFF'}")


# -- inventory, analytics, metrics, intelligent tiering ---------------------------------------


def _id_group(kind: IdConfigKind, help_text: str) -> typer.Typer:
    group = _group(help_text)
    label = ID_CONFIGS[kind].label

    @group.command("list", help=f"List the bucket's {label}s (Ids; full documents with --json).")
    def list_command(ctx: typer.Context, path: BucketArg, json_out: JsonOpt = False) -> None:
        bucket = bucket_only(path)
        documents = list(_service(ctx).list_id_configs(kind, bucket))
        if json_out:
            print_document(documents, json_out=True)
        else:
            for document in documents:
                _said(str(document.get("Id", "")))

    @group.command("get", help=f"Print one {label} (YAML, or JSON with --json).")
    def get_command(
        ctx: typer.Context, path: BucketArg, config_id: IdArg, json_out: JsonOpt = False
    ) -> None:
        bucket = bucket_only(path)
        document = _service(ctx).get_id_config(kind, bucket, config_id)
        _show(document, json_out=json_out, none=f"s3://{bucket} has no {label} '{config_id}'")

    @group.command("delete", help=f"Delete one {label} (fine if it is not there).")
    def delete_command(ctx: typer.Context, path: BucketArg, config_id: IdArg) -> None:
        bucket = bucket_only(path)
        _service(ctx).delete_id_config(kind, bucket, config_id)
        _said(f"deleted the {label} '{config_id}' of s3://{bucket}")

    return group


def _set_id_config(
    ctx: typer.Context,
    kind: IdConfigKind,
    path: str,
    file: Path | None,
    config_id: str | None,
    flags_given: bool,
    build: Callable[[str], Document],
) -> None:
    """--file (with its own Id, or --id), or --id and flags; then one call."""
    bucket = bucket_only(path)
    if file is not None:
        if flags_given:
            raise UsageError("give either --file or the flags that build a document, not both")
        document = validate_id_config(kind, load_document(file), config_id)
    elif not config_id:
        raise UsageError("give --file FILE, or --id ID and the flags (see --help)")
    else:
        document = build(config_id)
    _service(ctx).set_id_config(kind, bucket, document)
    _said(f"set the {ID_CONFIGS[kind].label} '{document['Id']}' of s3://{bucket}")


ConfigIdOpt = Annotated[str | None, typer.Option("--id", help="The configuration's Id.")]
PrefixOpt = Annotated[str | None, typer.Option("--prefix", help="Only keys under this prefix.")]

inventory = _id_group(
    "inventory", "Inventory reports of the bucket's objects: list, get, set, delete."
)


@inventory.command("set")
def inventory_set(
    ctx: typer.Context,
    path: BucketArg,
    file: FileOpt = None,
    config_id: ConfigIdOpt = None,
    destination: Annotated[
        str | None, typer.Option("--destination", help="Bucket ARN (or name) for the reports.")
    ] = None,
    destination_prefix: Annotated[
        str | None, typer.Option("--destination-prefix", help="Prefix of the reports.")
    ] = None,
    format: Annotated[
        Literal["CSV", "ORC", "Parquet"], typer.Option("--format", help="Report format.")
    ] = "CSV",
    frequency: Annotated[
        Literal["Daily", "Weekly"], typer.Option("--frequency", help="How often.")
    ] = "Daily",
    prefix: PrefixOpt = None,
    all_versions: Annotated[
        bool, typer.Option("--all-versions", help="List every version, not just current.")
    ] = False,
    fields: Annotated[
        list[str] | None,
        typer.Option("--field", help="Optional field, e.g. Size, StorageClass (repeatable)."),
    ] = None,
) -> None:
    """Create or replace an inventory.

    Example: s3kit bucket inventory set s3://demo --id daily --destination arn:aws:s3:::reports
    """

    def build(config_id: str) -> Document:
        if not destination:
            raise UsageError("an inventory from flags needs --destination")
        return build_inventory(
            config_id=config_id,
            destination_bucket=destination,
            destination_prefix=destination_prefix,
            format=format,
            frequency=frequency,
            prefix=prefix,
            versions="All" if all_versions else "Current",
            fields=fields or [],
        )

    _set_id_config(ctx, "inventory", path, file, config_id, _given(destination), build)


analytics = _id_group("analytics", "Storage class analysis: list, get, set, delete.")


@analytics.command("set")
def analytics_set(
    ctx: typer.Context,
    path: BucketArg,
    file: FileOpt = None,
    config_id: ConfigIdOpt = None,
    prefix: PrefixOpt = None,
    export_destination: Annotated[
        str | None, typer.Option("--export-destination", help="Bucket ARN for CSV exports.")
    ] = None,
    export_prefix: Annotated[
        str | None, typer.Option("--export-prefix", help="Prefix of the exports.")
    ] = None,
) -> None:
    """Create or replace a storage class analysis.

    Example: s3kit bucket analytics set s3://demo --id all
    """

    def build(config_id: str) -> Document:
        return build_analytics(
            config_id=config_id,
            prefix=prefix,
            export_bucket=export_destination,
            export_prefix=export_prefix,
        )

    flags = _given(prefix, export_destination, export_prefix)
    _set_id_config(ctx, "analytics", path, file, config_id, flags, build)


metrics = _id_group("metrics", "CloudWatch request metrics filters: list, get, set, delete.")


@metrics.command("set")
def metrics_set(
    ctx: typer.Context,
    path: BucketArg,
    file: FileOpt = None,
    config_id: ConfigIdOpt = None,
    prefix: PrefixOpt = None,
) -> None:
    """Create or replace a metrics filter.

    Example: s3kit bucket metrics set s3://demo --id logs --prefix logs/
    """
    _set_id_config(
        ctx,
        "metrics",
        path,
        file,
        config_id,
        _given(prefix),
        lambda config_id: build_metrics(config_id=config_id, prefix=prefix),
    )


tiering = _id_group(
    "intelligent-tiering", "Intelligent-Tiering archive settings: list, get, set, delete."
)


@tiering.command("set")
def tiering_set(
    ctx: typer.Context,
    path: BucketArg,
    file: FileOpt = None,
    config_id: ConfigIdOpt = None,
    prefix: PrefixOpt = None,
    archive_days: Annotated[
        int | None, typer.Option("--archive-days", help="Archive Access tier after N days (90+).")
    ] = None,
    deep_archive_days: Annotated[
        int | None,
        typer.Option("--deep-archive-days", help="Deep Archive Access tier after N days (180+)."),
    ] = None,
) -> None:
    """Create or replace an Intelligent-Tiering configuration.

    Example: s3kit bucket intelligent-tiering set s3://demo --id archive --archive-days 90
    """
    _set_id_config(
        ctx,
        "intelligent-tiering",
        path,
        file,
        config_id,
        _given(prefix, archive_days, deep_archive_days),
        lambda config_id: build_intelligent_tiering(
            config_id=config_id,
            archive_days=archive_days,
            deep_archive_days=deep_archive_days,
            prefix=prefix,
        ),
    )


GROUPS: dict[str, typer.Typer] = {
    "versioning": versioning,
    "lifecycle": lifecycle,
    "website": website,
    "cors": cors,
    "encryption": encryption,
    "replication": replication,
    "notifications": notifications,
    "acceleration": acceleration,
    "object-lock": object_lock,
    "inventory": inventory,
    "analytics": analytics,
    "metrics": metrics,
    "intelligent-tiering": tiering,
}


def register(app: typer.Typer) -> None:
    """Add the configuration sub-groups (versioning, lifecycle, ...) to `s3kit bucket`."""
    for name, group in GROUPS.items():
        app.add_typer(group, name=name)
