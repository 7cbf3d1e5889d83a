"""`s3kit connections ...` and `s3kit profiles` (the global --connection and --config are
loaded by cli/global_config.py).

Thin: the connections file, its validation and the config file live in `s3kit._config`. Nothing
here prints a secret: connections hold none, and `profiles` shows only a profile's kind of
credentials and, with --check, the masked access key that whoami reports.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from typing import Annotated, Any

import typer

from s3kit._config import AwsFiles
from s3kit._config.connections import Connection, ConnectionStore, make_connection, validate_name
from s3kit._observe import redact
from s3kit.cli import output
from s3kit.cli.state import notice
from s3kit.errors import BucketNotFound, S3KitError, UsageError

app = typer.Typer(
    help="Saved connections: endpoint, region and profile by name.\n\nEach holds an endpoint,"
    " region, AWS profile and addressing style under a name (never secrets). Use one with"
    " `s3kit --connection NAME ...`.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

EndpointOpt = Annotated[
    str | None,
    typer.Option("--endpoint-url", metavar="URL", help="S3 endpoint, e.g. https://s3.example.com."),
]
RegionOpt = Annotated[str | None, typer.Option("--region", metavar="REGION", help="Region name.")]
ProfileOpt = Annotated[
    str | None,
    typer.Option("--profile", metavar="NAME", help="AWS profile that holds the credentials."),
]
BucketOpt = Annotated[
    str | None,
    typer.Option("--bucket", metavar="BUCKET", help="Default bucket: s3:// and s3:///key name it."),
]
StyleOpt = Annotated[
    str | None, typer.Option("--addressing-style", metavar="STYLE", help="path, virtual or auto.")
]

# Settings that would shadow what a connection or profile says when checking it on its own.
_SHADOWING_ENV = (
    "S3KIT_CONNECTION",
    "S3KIT_CONFIG",
    "S3KIT_PROFILE",
    "S3KIT_ENDPOINT_URL",
    "S3KIT_REGION",
    "S3KIT_ADDRESSING_STYLE",
    "S3KIT_ACCESS_KEY_ID",
    "S3KIT_SECRET_ACCESS_KEY",
    "S3KIT_SESSION_TOKEN",
    "S3KIT_LOCAL",
    "AWS_PROFILE",
    "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_S3",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
)


# -- connections -------------------------------------------------------------------------------


def _settings(
    endpoint_url: str | None,
    region: str | None,
    profile: str | None,
    bucket: str | None,
    addressing_style: str | None,
) -> dict[str, str | None]:
    return {
        "endpoint_url": endpoint_url,
        "region": region,
        "profile": profile,
        "bucket": bucket,
        "addressing_style": addressing_style,
    }


def _as_dict(connection: Connection) -> dict[str, str | None]:
    return {
        "name": connection.name,
        **_settings(None, None, None, None, None),
        **connection.values(),
    }


@app.command("add")
def add(
    name: Annotated[str, typer.Argument(help="Name: lowercase letters, digits, '-' and '_'.")],
    endpoint_url: EndpointOpt = None,
    region: RegionOpt = None,
    profile: ProfileOpt = None,
    bucket: BucketOpt = None,
    addressing_style: StyleOpt = None,
) -> None:
    """Save a connection.

    Example: s3kit connections add minio --endpoint-url http://127.0.0.1:9000 --profile minio
    """
    values = _settings(endpoint_url, region, profile, bucket, addressing_style)
    if all(value is None for value in values.values()):
        raise UsageError(
            "nothing to save — give at least one of --endpoint-url, --region, --profile,"
            " --bucket or --addressing-style"
        )
    connection = make_connection(name, values)
    store = ConnectionStore()
    store.add(connection)
    sys.stdout.write(f"added connection '{name}' to {store.path}\n")


@app.command("list")
def list_(json_out: output.Json = False) -> None:
    """List saved connections.

    Example: s3kit connections list --json
    """
    connections = list(ConnectionStore())
    if json_out:
        output.emit([_as_dict(c) for c in connections])
        return
    if not connections:
        notice(
            "no saved connections — add one with `s3kit connections add NAME --endpoint-url URL`"
        )
        return
    headers = ("NAME", "ENDPOINT", "REGION", "PROFILE", "BUCKET", "STYLE")
    rows = [
        (
            c.name,
            c.endpoint_url or "-",
            c.region or "-",
            c.profile or "-",
            c.bucket or "-",
            c.addressing_style or "-",
        )
        for c in connections
    ]
    sys.stdout.write(format_table(headers, rows))


@app.command("show")
def show(
    name: Annotated[str, typer.Argument(help="Connection name.")], json_out: output.Json = False
) -> None:
    """Show one connection's settings.

    Example: s3kit connections show minio
    """
    connection = ConnectionStore().get(validate_name(name))
    data = _as_dict(connection)
    if json_out:
        output.emit(data)
        return
    width = max(len(key) for key in data)
    sys.stdout.write("".join(f"{key:<{width}}  {value or '-'}\n" for key, value in data.items()))


@app.command("edit")
def edit(
    name: Annotated[str, typer.Argument(help="Connection name.")],
    endpoint_url: EndpointOpt = None,
    region: RegionOpt = None,
    profile: ProfileOpt = None,
    bucket: BucketOpt = None,
    addressing_style: StyleOpt = None,
) -> None:
    """Change a connection's settings.

    An empty value ("") clears that setting.

    Example: s3kit connections edit minio --region eu-west-1 --bucket ""
    """
    changes = _settings(endpoint_url, region, profile, bucket, addressing_style)
    if all(value is None for value in changes.values()):
        raise UsageError("nothing to change — give at least one setting flag")
    ConnectionStore().edit(validate_name(name), changes)
    sys.stdout.write(f"updated connection '{name}'\n")


@app.command("remove")
def remove(name: Annotated[str, typer.Argument(help="Connection name.")]) -> None:
    """Forget a connection.

    Example: s3kit connections remove minio
    """
    ConnectionStore().remove(validate_name(name))
    sys.stdout.write(f"removed connection '{name}'\n")


@app.command("test")
def test(name: Annotated[str, typer.Argument(help="Connection name.")]) -> None:
    """Connect with a saved connection and check the credentials.

    With whoami, then ListBuckets.

    Example: s3kit connections test minio
    """
    connection = ConnectionStore().get(validate_name(name))
    env = {k: v for k, v in os.environ.items() if k not in ("S3KIT_CONNECTION", "S3KIT_CONFIG")}
    env["S3KIT_CONNECTION"] = connection.name
    try:
        summary = _check(env, profile=None, bucket=connection.bucket)
    except S3KitError as exc:
        sys.stderr.write(f"s3kit: error: {name}: {exc.message.splitlines()[0]}\n")
        raise typer.Exit(exc.exit_code) from None
    sys.stdout.write(f"{name}: ok — {summary}\n")


def _check(env: Mapping[str, str], *, profile: str | None, bucket: str | None) -> str:
    """whoami (and HeadBucket for `bucket`) on a fresh Session; a one-line summary."""
    from s3kit._session import Session
    from s3kit.service import S3Service

    session = Session(profile=profile, use_local=False, env=env, notify=notice)
    service = S3Service(session)
    identity = service.whoami()
    who = (
        identity.arn
        if identity.method == "sts"
        else f"ListBuckets works ({identity.buckets} buckets)"
    )
    summary = f"{identity.endpoint} as {identity.access_key}: {who}"
    if bucket:
        if not service.bucket_exists(bucket):
            raise BucketNotFound(f"bucket '{bucket}' does not exist at {identity.endpoint}")
        summary += f"; bucket '{bucket}' found"
    return summary


def format_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(row[i]) for row in [headers, *rows]) for i in range(len(headers))]
    lines = [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in [headers, *rows]
    ]
    return "\n".join(lines) + "\n"


# -- profiles ----------------------------------------------------------------------------------


def profile_kind(values: Mapping[str, str]) -> str:
    """How a profile gets credentials: keys, role, sso, process, or '-' for none of them."""
    if "credential_process" in values:
        return "process"
    if "sso_session" in values or "sso_start_url" in values:
        return "sso"
    if any(key in values for key in ("role_arn", "web_identity_token_file")):
        return "role"
    if "aws_access_key_id" in values:
        return "keys"
    return "-"


def profiles(
    check: Annotated[
        bool, typer.Option("--check", help="Check each profile's credentials (whoami).")
    ] = False,
    json_out: output.Json = False,
) -> None:
    """List the AWS profiles (~/.aws/config and credentials).

    Example: s3kit profiles --check
    """
    files = AwsFiles.from_env(os.environ)
    names = files.profile_names()
    env = {k: v for k, v in os.environ.items() if k not in _SHADOWING_ENV}
    records: list[dict[str, str | None]] = []
    # With --json a check is {"ok", "detail", "error"}, not the table's "ok — ..." text.
    checks: list[dict[str, Any]] = []
    failed = False
    for name in names:
        values = files.profile(name) or {}
        record: dict[str, str | None] = {
            "name": name,
            "region": values.get("region"),
            "endpoint_url": values.get("endpoint_url"),
            "kind": profile_kind(values),
        }
        if check:
            try:
                summary = _check(env, profile=name, bucket=None)
                record["check"] = "ok — " + summary
                checks.append({"ok": True, "detail": summary, "error": None})
            except S3KitError as exc:
                failed = True
                record["check"] = "failed — " + exc.message.splitlines()[0]
                error = output.error_text(exc.message.splitlines()[0], exc.code)
                checks.append({"ok": False, "detail": None, "error": error})
        records.append(record)
    if json_out:
        output.emit([{**r, "check": c} for r, c in zip(records, checks, strict=True)] if check
                    else records)  # fmt: skip
    elif not records:
        notice(f"no AWS profiles in {files.config_path} or {files.credentials_path}")
    else:
        headers = ["PROFILE", "REGION", "ENDPOINT", "KIND"] + (["CHECK"] if check else [])
        rows = [[value or "-" for value in record.values()] for record in records]
        sys.stdout.write(redact(format_table(headers, rows)))
    if failed:
        raise typer.Exit(1)
