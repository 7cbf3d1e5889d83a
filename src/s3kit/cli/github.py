"""`s3kit github ...`: GitHub release assets and Actions artifacts kept in a bucket.

`release mirror` copies a repository's release assets into a bucket, never over an object
already there; `artifacts push` / `artifacts pull` keep a workflow run's build outputs in a
bucket, keyed by run and attempt, checked against a manifest. Each command parses, calls one
function of `s3kit.github.release` or `s3kit.github.artifacts`, prints. The GitHub token and
API address come from GITHUB_TOKEN (or GH_TOKEN) and GITHUB_API_URL, as Actions sets them.

Other `github` subcommands join `app` from their own modules; nothing here is shared state.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from s3kit._observe import redact
from s3kit._units import human_size
from s3kit.cli import github_site, output
from s3kit.cli.completion import complete_s3_url
from s3kit.cli.state import cli_s3_url, state_of

if TYPE_CHECKING:
    from s3kit.errors import S3KitError
    from s3kit.github.artifacts import PulledArtifact, PullResult, PushResult
    from s3kit.github.release_plan import AssetResult, MirrorResult

app = typer.Typer(
    help="Publish from GitHub.\n\nSites from a repository, previews per pull request, release"
    " assets, Actions artifacts.",
    no_args_is_help=True,
)
release_app = typer.Typer(help="Mirror release assets into a bucket.", no_args_is_help=True)
artifacts_app = typer.Typer(help="Actions run artifacts: push, pull.", no_args_is_help=True)
preview_app = typer.Typer(
    help="A site per pull request: deploy, remove, prune.", no_args_is_help=True
)
app.add_typer(release_app, name="release")
app.add_typer(artifacts_app, name="artifacts")
app.add_typer(preview_app, name="preview")
app.command("deploy")(github_site.deploy)
app.command("sync")(github_site.sync)
preview_app.command("deploy")(github_site.preview_deploy)
preview_app.command("remove")(github_site.preview_remove)
preview_app.command("prune")(github_site.preview_prune)

Json = output.Json
Destination = Annotated[
    str,
    typer.Argument(
        metavar="S3_URL", help="s3://bucket[/prefix]", show_default=False,
        autocompletion=complete_s3_url,
    ),
]  # fmt: skip


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")


def _warn(line: str) -> None:
    sys.stderr.write(line + "\n")


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _error_line(where: str, error: S3KitError | None) -> None:
    """One error line per failed item; `where` is said unless the message says it already."""
    message = redact(str(error)) if error is not None else "failed"
    _warn(f"s3kit: error: {message}" if where in message else f"s3kit: error: {where}: {message}")


# -- release mirror ---------------------------------------------------------------------------


@release_app.command("mirror")
def mirror(
    ctx: typer.Context,
    repository: Annotated[
        str, typer.Argument(metavar="OWNER/REPO", help="The GitHub repository.", show_default=False)
    ],
    destination: Destination,
    tag: Annotated[
        str | None, typer.Option("--tag", metavar="TAG", help="Mirror the release of TAG.")
    ] = None,
    latest: Annotated[
        bool, typer.Option("--latest", help="Mirror the latest full release.")
    ] = False,
    all_releases: Annotated[
        bool, typer.Option("--all", help="Mirror every release, oldest first (not drafts).")
    ] = False,
    layout: Annotated[
        str,
        typer.Option(
            "--layout",
            metavar="TEMPLATE",
            help="Key of each asset below the prefix: {owner} {repo} {tag} {name}.",
        ),
    ] = "{repo}/{tag}/{name}",
    dryrun: Annotated[
        bool, typer.Option("--dryrun", help="Say what would be mirrored; download nothing.")
    ] = False,
    json_out: Json = False,
) -> None:
    """Mirror release assets into a bucket.

    An asset key that exists already is never overwritten: with the same SHA-256 it counts as
    already mirrored, with other bytes it is a conflict (exit 1).

    Example: s3kit github release mirror octo/tool s3://downloads --latest
    """
    from s3kit.github.api import GitHubRepo
    from s3kit.github.client import GitHubClient
    from s3kit.github.release import mirror_releases
    from s3kit.github.release_plan import Layout

    chosen = Layout(layout)  # a bad template fails before anything is asked of GitHub
    target = cli_s3_url(destination)
    session = state_of(ctx).session
    report = None if json_out else _asset_printer(target.bucket)
    with GitHubClient() as client:
        repo = GitHubRepo(client, repository)
        result = mirror_releases(
            session, repo, target, tag=tag, latest=latest, all_releases=all_releases,
            layout=chosen, dryrun=dryrun, on_asset=report,
        )  # fmt: skip
    if json_out:
        output.emit(mirror_document(result))
    else:
        _print_mirror(result)
    if not result.ok:
        raise typer.Exit(1)


def _asset_url(result: MirrorResult, asset: AssetResult) -> str | None:
    return None if asset.key is None else f"s3://{result.destination.bucket}/{asset.key}"


def _asset_printer(bucket: str) -> Callable[[AssetResult], None]:
    """A line for each asset as it ends: the run may take a while (--all)."""

    def show(asset: AssetResult) -> None:
        shown = f"{asset.tag}/{asset.name}"
        where = f"s3://{bucket}/{asset.key}"
        if asset.outcome == "failed":
            _error_line(shown, asset.error)
        elif asset.outcome == "skipped_open":
            _warn(f"skipped   {shown}: {asset.note}")
        elif asset.outcome == "planned":
            _say(f"planned   {shown} → {where} ({human_size(asset.size)}; {asset.note})")
        elif asset.outcome == "already":
            _say(f"already   {shown} ({where})")
        else:
            _say(f"mirrored  {shown} → {where} ({human_size(asset.size)})")

    return show


def _print_mirror(result: MirrorResult) -> None:
    if result.skipped_drafts:
        _warn(f"skipped drafts: {', '.join(result.skipped_drafts)}")
    if not result.releases:
        _say(f"{result.repository}: no releases to mirror")
        return
    counts = [
        f"{result.count('mirrored')} mirrored",
        f"{result.count('already')} already there",
        f"{result.count('skipped_open')} still uploading",
        f"{result.count('failed')} failed",
    ]
    if result.dryrun:
        counts.insert(0, f"{result.count('planned')} to mirror or compare")
    verb = "would mirror" if result.dryrun else "mirrored"
    _say(f"{result.repository} {verb} to {result.destination}: {', '.join(counts)}")
    if result.latest_error is not None:
        _error_line("latest.json", result.latest_error)
    elif result.latest_key is not None:
        where = f"s3://{result.destination.bucket}/{result.latest_key}"
        _say(f"latest.json → {result.latest_tag} ({where})")
    elif result.latest_note:
        _warn(f"latest.json {result.latest_note}")


def _status(asset: AssetResult) -> output.Status:
    """An asset's item status: a skip or "already there" is done, as a mirrored one is."""
    if asset.outcome == "failed":
        return "failed"
    return "planned" if asset.outcome == "planned" else "done"


def mirror_document(result: MirrorResult) -> dict[str, Any]:
    """The --json document of `release mirror`: the counts, each release, each asset."""
    assets = [
        output.item(
            "skip" if asset.outcome == "skipped_open" else "mirror", asset.url,
            _asset_url(result, asset), status=_status(asset),
            error=output.error_object(asset.error), outcome=asset.outcome, release=asset.tag,
            name=asset.name, size=asset.size, sha256=asset.sha256, conflict=asset.conflict,
            note=asset.note or None,
        )
        for asset in result.assets
    ]  # fmt: skip
    where = result.destination.bucket
    return {
        "repository": result.repository,
        "destination": str(result.destination),
        "dryrun": result.dryrun,
        "mirrored": result.count("mirrored"),
        "already": result.count("already"),
        "skipped_open": result.count("skipped_open"),
        "failed": result.count("failed"),
        "planned": result.count("planned"),
        "releases": [
            {
                "tag": release.tag,
                "complete": release.complete,
                "record": None
                if release.record_key is None
                else f"s3://{where}/{release.record_key}",
            }
            for release in result.releases
        ],
        "skipped_drafts": result.skipped_drafts,
        "latest": None
        if result.latest_key is None
        else {"tag": result.latest_tag, "record": f"s3://{where}/{result.latest_key}"},
        "latest_note": result.latest_note or None,
        "latest_error": output.error_object(result.latest_error),
        "assets": assets,
    }


# -- artifacts push / pull ----------------------------------------------------------------------

Repository = Annotated[
    str | None,
    typer.Option(
        "--repository", metavar="OWNER/REPO", show_default="$GITHUB_REPOSITORY",
        help="The repository whose run this is.",
    ),
]  # fmt: skip
RunId = Annotated[
    int | None,
    typer.Option("--run-id", metavar="N", show_default="$GITHUB_RUN_ID", help="The workflow run."),
]
Attempt = Annotated[
    int | None,
    typer.Option(
        "--attempt", metavar="N", show_default="$GITHUB_RUN_ATTEMPT", help="The run's attempt."
    ),
]


@artifacts_app.command("push")
def push(
    ctx: typer.Context,
    paths: Annotated[
        list[Path],
        typer.Argument(metavar="PATH", show_default=False, help="Files and folders to push."),
    ],
    destination: Destination,
    name: Annotated[
        str, typer.Option("--name", metavar="NAME", help="The artifact's name.")
    ] = "artifact",
    retention_days: Annotated[
        int | None,
        typer.Option(
            "--retention-days",
            metavar="N",
            min=1,
            help="Tag every object s3kit-retention-days=N, for a lifecycle rule to expire.",
        ),
    ] = None,
    repository: Repository = None,
    run_id: RunId = None,
    attempt: Attempt = None,
    json_out: Json = False,
) -> None:
    """Push files as an artifact of this run.

    Keys: PREFIX/OWNER/REPO/RUN_ID/ATTEMPT/NAME/<path>, then NAME/manifest.json (path, size
    and SHA-256 of each file), written last. Inside a GitHub Actions job the run comes from
    GITHUB_REPOSITORY, GITHUB_RUN_ID and GITHUB_RUN_ATTEMPT.

    Example: s3kit github artifacts push dist s3://ci-artifacts --name site --retention-days 7
    """
    from s3kit.github.artifact_manifest import ActionsRun
    from s3kit.github.artifacts import push_artifact

    target = cli_s3_url(destination)
    run = ActionsRun.from_env(repository=repository, run_id=run_id, attempt=attempt)
    session = state_of(ctx).session
    result = push_artifact(
        session, paths, target, run=run, name=name,
        retention_days=retention_days,
    )  # fmt: skip
    if json_out:
        output.emit(push_document(result))
    else:
        for where, error in result.failures:
            _error_line(where, error)
        if result.ok:
            kept = (
                f", tagged {result.retention_days} days"
                if result.retention_days is not None
                else ""
            )
            _say(
                f"pushed {_count(len(result.files), 'file')} ({human_size(result.bytes)}) as"
                f" {name!r} to"
                f" {result.location}{kept}"
            )
        else:
            _warn(f"s3kit: error: the push of {name!r} did not finish: no manifest written")
    if not result.ok:
        raise typer.Exit(1)


def push_document(result: PushResult) -> dict[str, Any]:
    where = result.location.bucket
    return {
        "repository": result.run.slug,
        "run_id": result.run.run_id,
        "attempt": result.run.attempt,
        "name": result.name,
        "destination": str(result.location),
        "manifest": None if result.manifest_key is None else f"s3://{where}/{result.manifest_key}",
        "retention_days": result.retention_days,
        "files": len(result.files),
        "bytes": result.bytes,
        "failed": len(result.failures),
        "failures": [_failure(where_, error) for where_, error in result.failures],
    }


def _failure(where: str, error: S3KitError) -> dict[str, Any]:
    return output.item("push", None, where, status="failed", error=output.error_object(error))


@artifacts_app.command("pull")
def pull(
    ctx: typer.Context,
    source: Destination,
    dest: Annotated[
        Path, typer.Argument(metavar="DEST", help="The folder to pull into.", show_default=False)
    ],
    repository: Annotated[
        str, typer.Option("--repository", metavar="OWNER/REPO", help="The repository.")
    ],
    run_id: Annotated[int, typer.Option("--run-id", metavar="N", help="The workflow run.")],
    attempt: Annotated[
        int | None,
        typer.Option(
            "--attempt",
            metavar="N",
            min=1,
            show_default="the highest present",
            help="The run's attempt.",
        ),
    ] = None,
    name: Annotated[
        str | None,
        typer.Option(
            "--name",
            metavar="NAME",
            show_default="every artifact, each into DEST/NAME",
            help="Pull this artifact, into DEST itself.",
        ),
    ] = None,
    json_out: Json = False,
) -> None:
    """Pull a run's artifacts, checked.

    Every file is checked against the artifact's manifest.json (size and SHA-256); an object
    the manifest does not list refuses the artifact. An artifact is written whole or not at
    all.

    Example: s3kit github artifacts pull s3://ci-artifacts --repository octo/site --run-id 77 out
    """
    from s3kit.github.artifacts import pull_artifacts

    location = cli_s3_url(source)
    session = state_of(ctx).session
    result = pull_artifacts(
        session, location, dest, repository=repository, run_id=run_id, attempt=attempt,
        name=name,
    )  # fmt: skip
    if json_out:
        output.emit(pull_document(result))
    else:
        for artifact in result.artifacts:
            _print_pulled(artifact)
    if not result.ok:
        raise typer.Exit(1)


def _print_pulled(artifact: PulledArtifact) -> None:
    for where, error in artifact.failures:
        _error_line(where, error)
    if artifact.ok:
        _say(
            f"pulled {artifact.name!r}: {_count(len(artifact.files), 'file')}"
            f" ({human_size(artifact.bytes)}) into {artifact.dest}"
        )


def pull_document(result: PullResult) -> dict[str, Any]:
    return {
        "repository": result.run.slug,
        "run_id": result.run.run_id,
        "attempt": result.run.attempt,
        "source": str(result.location),
        "artifacts": [
            {
                "name": artifact.name,
                "dest": str(artifact.dest),
                "ok": artifact.ok,
                "files": len(artifact.files),
                "bytes": artifact.bytes,
                "failures": [
                    output.item(
                        "pull", where, None, status="failed", error=output.error_object(error)
                    )
                    for where, error in artifact.failures
                ],
            }
            for artifact in result.artifacts
        ],
        "failed": sum(len(artifact.failures) for artifact in result.artifacts),
    }
