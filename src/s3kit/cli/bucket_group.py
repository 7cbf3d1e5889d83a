"""`s3kit bucket ...`: bucket details, secure creation, tags, access and configuration.

Every command parses, calls one S3Service method and prints; documents are YAML by default
and JSON with --json. Deleting a bucket with --force asks first on a terminal, and refuses
to proceed unasked anywhere else unless --yes says so.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from s3kit.cli import bucket_config, output
from s3kit.cli.completion import complete_bucket, complete_s3_url
from s3kit.cli.documents import load_document, print_document
from s3kit.cli.format import timestamp
from s3kit.cli.mb_rb import EmptyFirst, bucket_only
from s3kit.cli.state import cli_s3_url, notice, state_of
from s3kit.errors import UsageError
from s3kit.service import S3Service
from s3kit.service.access import (
    CANNED_POLICIES,
    OBJECT_CANNED_ACLS,
    AclRequest,
    AclResult,
    Permission,
    canned_policy,
    combine_policies,
    parse_policy,
    partition_for_region,
    validate_policy,
)
from s3kit.service.buckets import BUCKET_CANNED_ACLS, BucketDetails, ContentSummary, parse_tags

app = typer.Typer(
    help="Buckets: details, tags, policies, ACLs and configuration.\n\nAlso secure creation"
    " and the public access block.",
    no_args_is_help=True,
)

Bucket = Annotated[
    str, typer.Argument(help="s3://bucket", metavar="s3://BUCKET", autocompletion=complete_bucket)
]
Json = Annotated[bool, typer.Option("--json", help="Print JSON instead of YAML.")]


def _service(ctx: typer.Context) -> S3Service:
    return S3Service(state_of(ctx).session)


def _out(line: str) -> None:
    sys.stdout.write(line + "\n")


# -- list, info, exists ------------------------------------------------------------------------


@app.command("list")
def list_(ctx: typer.Context, json_out: Json = False) -> None:
    """List buckets with their creation date and region.

    Example: s3kit bucket list --json
    """
    infos = _service(ctx).list_buckets(with_region=True)
    if json_out:
        print_document(
            [{"name": b.name, "created": b.created, "region": b.region} for b in infos],
            json_out=True,
        )
        return
    for info in infos:
        _out(f"{timestamp(info.created)}  {info.region or '-':<14}  {info.name}")


@app.command("info")
def info(ctx: typer.Context, path: Bucket, json_out: Json = False) -> None:
    """Show a bucket's region and settings.

    Versioning, encryption, tags, policy status, lifecycle, website, public access block and
    object lock — 'none' where not configured, 'not supported' where the store lacks the
    feature (with --json: null, and the reason in "errors").

    Example: s3kit bucket info s3://demo
    """
    details = _service(ctx).bucket_info(bucket_only(path))
    if json_out:
        output.emit(_info_document(details))
    else:
        print_document(details.document(), json_out=False)


def _info_document(details: BucketDetails) -> dict[str, Any]:
    """`bucket info --json`: each setting's document, null where it is not configured — and
    null too where the server would not say, with why in `errors` (code NotSupported where
    it lacks the feature)."""
    document: dict[str, Any] = {"bucket": details.name}
    errors: dict[str, output.ErrorObject] = {}
    for name, setting in details.settings.items():
        document[name] = setting.value if setting.state == "set" else None
        if setting.state in ("not supported", "error"):
            code = "NotSupported" if setting.state == "not supported" else None
            errors[name] = {"code": code, "message": setting.detail or setting.state}
    document["errors"] = errors
    return document


@app.command("exists")
def exists(ctx: typer.Context, path: Bucket) -> None:
    """Print yes if the bucket exists, else no.

    The exit code is 0 for yes, 1 for no.

    Example: s3kit bucket exists s3://demo && echo ready
    """
    found = _service(ctx).bucket_exists(bucket_only(path))
    _out("yes" if found else "no")
    if not found:
        raise typer.Exit(1)


# -- create, delete ------------------------------------------------------------------------


@app.command("create")
def create(
    ctx: typer.Context,
    path: Bucket,
    region: Annotated[
        str | None, typer.Option("--region", metavar="REGION", help="Region for the bucket.")
    ] = None,
    acl: Annotated[
        str | None,
        typer.Option("--acl", metavar="ACL", help=f"Canned ACL: {'|'.join(BUCKET_CANNED_ACLS)}."),
    ] = None,
    object_lock: Annotated[
        bool, typer.Option("--object-lock", help="Enable S3 Object Lock (implies versioning).")
    ] = False,
    secure: Annotated[
        bool,
        typer.Option(
            "--secure",
            help="Apply secure defaults: default encryption (AES256), versioning, public"
            " access block, abort incomplete multipart uploads after 7 days.",
        ),
    ] = False,
    tag: Annotated[
        list[str] | None,
        typer.Option("--tag", metavar="KEY=VALUE", help="A tag; repeat for more tags."),
    ] = None,
) -> None:
    """Create a bucket, optionally secure and tagged.

    Example: s3kit bucket create s3://demo --secure --tag team=data
    """
    bucket = bucket_only(path)
    tags = parse_tags(tag or [])
    if secure and acl not in (None, "private"):
        raise UsageError(f"--secure blocks public access; it cannot be combined with --acl {acl}")
    service = _service(ctx)
    service.create_bucket(bucket, region=region, acl=acl, object_lock=object_lock)
    _out(f"make_bucket: {bucket}")
    if secure:
        failed = False
        for step in service.secure_bucket(bucket, tags=tags):
            detail = f": {step.detail}" if step.detail else ""
            _out(f"  {step.state:<8} {step.name}{detail}")
            failed = failed or step.state == "failed"
        if failed:
            notice(f"s3kit: error: some secure defaults could not be applied to s3://{bucket}")
            raise typer.Exit(1)
    elif tags:
        service.set_bucket_tags(bucket, tags)
        _out(f"  applied  tags: {_tag_text(tags)}")


def _summary_text(summary: ContentSummary) -> str:
    return (
        f"{summary.objects} object(s), {summary.versions} older version(s),"
        f" {summary.delete_markers} delete marker(s), {summary.uploads} incomplete upload(s)"
    )


@app.command("delete")
def delete(
    ctx: typer.Context,
    path: Bucket,
    force: EmptyFirst = False,
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Do not ask for confirmation with --force.")
    ] = False,
) -> None:
    """Delete a bucket; with --force, empty it first.

    What would go is shown, and asked about, first.

    Example: s3kit bucket delete s3://demo --force --yes
    """
    bucket = bucket_only(path)
    service = _service(ctx)
    if force:
        summary = service.bucket_contents_summary(bucket)
        if summary.total:
            _out(f"s3://{bucket} holds {_summary_text(summary)}; all will be deleted.")
            if not yes:
                if not sys.stdin.isatty():
                    raise UsageError(
                        f"refusing to delete the contents of s3://{bucket} without"
                        " confirmation — pass --yes to confirm when not on a terminal"
                    )
                typer.confirm(f"Delete s3://{bucket} and everything in it?", abort=True)
            count = service.empty_bucket(bucket)
            _out(f"deleted {count} item(s)")
    service.delete_bucket(bucket)
    _out(f"remove_bucket: {bucket}")


# -- tags --------------------------------------------------------------------------------------

tags_app = typer.Typer(help="Bucket tags: get, set, add (merge), remove.")
app.add_typer(tags_app, name="tags")

TagPairs = Annotated[list[str], typer.Argument(help="KEY=VALUE ...", metavar="KEY=VALUE...")]


def _tag_text(tags: dict[str, str]) -> str:
    return ", ".join(f"{k}={v}" for k, v in tags.items()) or "(none)"


@tags_app.command("get")
def tags_get(ctx: typer.Context, path: Bucket, json_out: Json = False) -> None:
    """Print the bucket's tags as KEY: VALUE.

    Example: s3kit bucket tags get s3://demo
    """
    print_document(_service(ctx).get_bucket_tags(bucket_only(path)), json_out=json_out)


@tags_app.command("set")
def tags_set(ctx: typer.Context, path: Bucket, pairs: TagPairs) -> None:
    """Replace all of the bucket's tags.

    Example: s3kit bucket tags set s3://demo team=data env=prod
    """
    tags = _service(ctx).set_bucket_tags(bucket_only(path), parse_tags(pairs))
    _out(f"tags: {_tag_text(tags)}")


@tags_app.command("add")
def tags_add(ctx: typer.Context, path: Bucket, pairs: TagPairs) -> None:
    """Add tags, keeping the others.

    A key given again gets the new value.

    Example: s3kit bucket tags add s3://demo owner=alice
    """
    tags = _service(ctx).add_bucket_tags(bucket_only(path), parse_tags(pairs))
    _out(f"tags: {_tag_text(tags)}")


@tags_app.command("remove")
def tags_remove(
    ctx: typer.Context,
    path: Bucket,
    keys: Annotated[list[str], typer.Argument(help="Tag keys to remove.", metavar="KEY...")],
) -> None:
    """Remove the tags with these keys.

    Example: s3kit bucket tags remove s3://demo owner
    """
    remaining, missing = _service(ctx).remove_bucket_tags(bucket_only(path), keys)
    for key in missing:
        notice(f"s3kit: tag '{key}' was not set")
    _out(f"tags: {_tag_text(remaining)}")


# -- policy ------------------------------------------------------------------------------------

policy_app = typer.Typer(help="Bucket policy: get, set (file or canned), delete.")
app.add_typer(policy_app, name="policy")


@policy_app.command("get")
def policy_get(ctx: typer.Context, path: Bucket, json_out: Json = False) -> None:
    """Print the bucket policy, or 'none' (null with --json).

    Example: s3kit bucket policy get s3://demo --json
    """
    policy = _service(ctx).get_bucket_policy(bucket_only(path))
    if policy is None and not json_out:
        _out("none")
    else:
        print_document(policy, json_out=json_out)


def _read_policy(source: str) -> dict[str, Any]:
    if source == "-":
        return parse_policy(sys.stdin.read(), source="stdin")
    file = Path(source)
    if file.suffix.lower() in (".yaml", ".yml"):
        return validate_policy(load_document(file), source=source)
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read {source}: {exc.strerror}") from None
    return parse_policy(text, source=source)


@policy_app.command("set")
def policy_set(
    ctx: typer.Context,
    path: Bucket,
    file: Annotated[
        str | None,
        typer.Argument(help="Policy JSON file (or YAML, or - for stdin).", metavar="[FILE]"),
    ] = None,
    canned: Annotated[
        list[str] | None,
        typer.Option(
            "--canned",
            metavar="NAME",
            help=f"Standard policy for the bucket: {'|'.join(CANNED_POLICIES)}; repeat to combine.",
        ),
    ] = None,
    yes: Annotated[
        bool,
        typer.Option("--yes", "-y", help="Set deny-insecure-transport over plain HTTP anyway."),
    ] = False,
) -> None:
    """Replace the bucket policy with a file's or canned statements.

    Example: s3kit bucket policy set s3://demo --canned deny-insecure-transport
    """
    bucket = bucket_only(path)
    state = state_of(ctx)
    if (file is None) == (not canned):
        raise UsageError("give a policy FILE or --canned NAME (one of the two)")
    if canned:
        partition = partition_for_region(state.session.settings.region)
        policy = combine_policies(canned_policy(n, bucket, partition=partition) for n in canned)
        endpoint = state.session.endpoint_url or ""
        if "deny-insecure-transport" in canned and endpoint.startswith("http://") and not yes:
            raise UsageError(
                f"the endpoint {endpoint} is plain HTTP: deny-insecure-transport would deny"
                f" every later request to s3://{bucket} from here, even removing the policy —"
                " use an https endpoint, or pass --yes if the server does not enforce it"
            )
    else:
        policy = _read_policy(str(file))
    _service(ctx).set_bucket_policy(bucket, policy)
    _out(f"policy set on s3://{bucket} ({len(policy['Statement'])} statement(s))")


@policy_app.command("delete")
def policy_delete(ctx: typer.Context, path: Bucket) -> None:
    """Remove the bucket policy.

    Example: s3kit bucket policy delete s3://demo
    """
    bucket = bucket_only(path)
    _service(ctx).delete_bucket_policy(bucket)
    _out(f"policy deleted from s3://{bucket}")


# -- ACLs --------------------------------------------------------------------------------------

acl_app = typer.Typer(help="Bucket ACL: get, set (canned or explicit grants).")
app.add_typer(acl_app, name="acl")
object_acl_app = typer.Typer(help="Object ACL: get, set (canned or explicit grants).")
app.add_typer(object_acl_app, name="object-acl")

_GRANTEE_HELP = "id=CANONICAL_ID, uri=GROUP_URI, emailaddress=A@B or group=AllUsers; repeatable."


def _grant(name: str) -> Any:
    return typer.Option(name, metavar="GRANTEE", help=_GRANTEE_HELP)


GrantRead = Annotated[list[str] | None, _grant("--grant-read")]
GrantWrite = Annotated[list[str] | None, _grant("--grant-write")]
GrantReadAcp = Annotated[list[str] | None, _grant("--grant-read-acp")]
GrantWriteAcp = Annotated[list[str] | None, _grant("--grant-write-acp")]
GrantFull = Annotated[list[str] | None, _grant("--grant-full-control")]
VersionId = Annotated[
    str | None, typer.Option("--version-id", metavar="VERSION_ID", help="A specific version.")
]


def _grants(
    read: list[str] | None,
    write: list[str] | None,
    read_acp: list[str] | None,
    write_acp: list[str] | None,
    full: list[str] | None,
) -> dict[Permission, list[str]]:
    return {
        "READ": read or [],
        "WRITE": write or [],
        "READ_ACP": read_acp or [],
        "WRITE_ACP": write_acp or [],
        "FULL_CONTROL": full or [],
    }


def _report_acl(where: str, result: AclResult) -> None:
    _out(f"acl set on {where}")
    if result.missing:
        dropped = ", ".join(f"{p} for {g.header()}" for p, g in result.missing)
        notice(f"s3kit: warning: the server did not keep {dropped}")


@acl_app.command("get")
def acl_get(ctx: typer.Context, path: Bucket, json_out: Json = False) -> None:
    """Print the bucket's owner and grants.

    Example: s3kit bucket acl get s3://demo
    """
    print_document(_service(ctx).get_bucket_acl(bucket_only(path)), json_out=json_out)


@acl_app.command("set")
def acl_set(
    ctx: typer.Context,
    path: Bucket,
    acl: Annotated[
        str | None,
        typer.Option("--acl", metavar="ACL", help=f"Canned ACL: {'|'.join(BUCKET_CANNED_ACLS)}."),
    ] = None,
    grant_read: GrantRead = None,
    grant_write: GrantWrite = None,
    grant_read_acp: GrantReadAcp = None,
    grant_write_acp: GrantWriteAcp = None,
    grant_full_control: GrantFull = None,
) -> None:
    """Replace the bucket's ACL with a canned one or explicit grants.

    Grants replace all others, the owner's too unless granted again.

    Example: s3kit bucket acl set s3://demo --acl private
    """
    bucket = bucket_only(path)
    request = AclRequest.build(
        canned=acl,
        grants=_grants(
            grant_read, grant_write, grant_read_acp, grant_write_acp, grant_full_control
        ),
        allowed_canned=BUCKET_CANNED_ACLS,
    )
    _report_acl(f"s3://{bucket}", _service(ctx).set_bucket_acl(bucket, request))


ObjectPath = Annotated[
    str,
    typer.Argument(
        help="s3://bucket/key", metavar="s3://BUCKET/KEY", autocompletion=complete_s3_url
    ),
]


def _object_only(path: str) -> tuple[str, str]:
    url = cli_s3_url(path)
    if not url.key or url.key.endswith("/"):
        raise UsageError(f"'{path}' does not name an object; give s3://bucket/key")
    return url.bucket, url.key


@object_acl_app.command("get")
def object_acl_get(
    ctx: typer.Context, path: ObjectPath, version_id: VersionId = None, json_out: Json = False
) -> None:
    """Print an object's owner and grants.

    Example: s3kit bucket object-acl get s3://demo/report.pdf
    """
    bucket, key = _object_only(path)
    acl = _service(ctx).get_object_acl(bucket, key, version_id=version_id)
    print_document(acl, json_out=json_out)


@object_acl_app.command("set")
def object_acl_set(
    ctx: typer.Context,
    path: ObjectPath,
    acl: Annotated[
        str | None,
        typer.Option("--acl", metavar="ACL", help=f"Canned ACL: {'|'.join(OBJECT_CANNED_ACLS)}."),
    ] = None,
    grant_read: GrantRead = None,
    grant_read_acp: GrantReadAcp = None,
    grant_write_acp: GrantWriteAcp = None,
    grant_full_control: GrantFull = None,
    version_id: VersionId = None,
) -> None:
    """Replace an object's ACL with a canned one or with explicit grants.

    Example: s3kit bucket object-acl set s3://demo/report.pdf --acl public-read
    """
    bucket, key = _object_only(path)
    request = AclRequest.build(
        canned=acl,
        grants=_grants(grant_read, None, grant_read_acp, grant_write_acp, grant_full_control),
        allowed_canned=OBJECT_CANNED_ACLS,
    )
    result = _service(ctx).set_object_acl(bucket, key, request, version_id=version_id)
    _report_acl(f"s3://{bucket}/{key}", result)


# -- public access block -----------------------------------------------------------------------

pab_app = typer.Typer(help="Public access block: get, set, delete.")
app.add_typer(pab_app, name="public-access-block")


def _flag(name: str, text: str) -> Any:
    return typer.Option(f"--{name}/--no-{name}", help=text, show_default=False)


@pab_app.command("get")
def pab_get(ctx: typer.Context, path: Bucket, json_out: Json = False) -> None:
    """Print the bucket's public access block, or 'none'.

    With --json, null where there is none.

    Example: s3kit bucket public-access-block get s3://demo
    """
    config = _service(ctx).get_public_access_block(bucket_only(path))
    if config is None and not json_out:
        _out("none")
    else:
        print_document(config, json_out=json_out)


@pab_app.command("set")
def pab_set(
    ctx: typer.Context,
    path: Bucket,
    block_public_acls: Annotated[
        bool | None, _flag("block-public-acls", "Reject requests that add public ACLs.")
    ] = None,
    ignore_public_acls: Annotated[
        bool | None, _flag("ignore-public-acls", "Ignore public ACLs on the bucket and objects.")
    ] = None,
    block_public_policy: Annotated[
        bool | None,
        _flag("block-public-policy", "Reject bucket policies that grant public access."),
    ] = None,
    restrict_public_buckets: Annotated[
        bool | None,
        _flag("restrict-public-buckets", "Only the owner and AWS services reach a public bucket."),
    ] = None,
    all_: Annotated[bool, typer.Option("--all", help="Turn all four settings on.")] = False,
    json_out: Json = False,
) -> None:
    """Change public access block settings.

    Settings not named keep their value.

    Example: s3kit bucket public-access-block set s3://demo --all
    """
    bucket = bucket_only(path)
    changes = {
        "BlockPublicAcls": block_public_acls,
        "IgnorePublicAcls": ignore_public_acls,
        "BlockPublicPolicy": block_public_policy,
        "RestrictPublicBuckets": restrict_public_buckets,
    }
    if all_:
        if any(v is False for v in changes.values()):
            raise UsageError("--all turns every setting on; it cannot be combined with --no-*")
        changes = dict.fromkeys(changes, True)
    if all(v is None for v in changes.values()):
        raise UsageError("name at least one setting (e.g. --block-public-acls) or --all")
    config = _service(ctx).set_public_access_block(bucket, changes)
    print_document(config, json_out=json_out)


@pab_app.command("delete")
def pab_delete(ctx: typer.Context, path: Bucket) -> None:
    """Remove the bucket's public access block.

    Example: s3kit bucket public-access-block delete s3://demo
    """
    bucket = bucket_only(path)
    _service(ctx).delete_public_access_block(bucket)
    _out(f"public access block deleted from s3://{bucket}")


bucket_config.register(app)
