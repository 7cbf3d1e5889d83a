"""`s3kit github deploy | sync` and `s3kit github preview deploy | remove | prune`: static
sites from GitHub repositories, and pull-request previews.

Command functions only: cli/github.py registers them in the `github` group (and its `preview`
subgroup). Each parses, calls one function of `s3kit.github.site` (deploy, sync) or
`s3kit.github.preview`, prints. GITHUB_TOKEN (or GH_TOKEN) is the token, GITHUB_API_URL and
GITHUB_SERVER_URL the GitHub it talks to, and GITHUB_REPOSITORY the default --repository, as in
GitHub Actions.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any, Literal

import typer

from s3kit.cli import output
from s3kit.cli.completion import complete_s3_url
from s3kit.cli.deploy import _parse_max_delete, _print_outcome, _print_plan, load_config
from s3kit.cli.state import cli_s3_url, state_of
from s3kit.errors import UsageError

Json = output.Json
Dryrun = Annotated[bool, typer.Option("--dryrun", help="Print what would be done; change nothing.")]
Repository = Annotated[
    str,
    typer.Argument(metavar="OWNER/REPO", help="The GitHub repository.", show_default=False),
]
RepositoryOption = Annotated[
    str,
    typer.Option(
        "--repository",
        metavar="OWNER/REPO",
        envvar="GITHUB_REPOSITORY",
        help="The GitHub repository.",
    ),
]
Destination = Annotated[
    str,
    typer.Argument(
        metavar="S3_URL",
        help="s3://bucket[/prefix]",
        show_default=False,
        autocompletion=complete_s3_url,
    ),
]
PreviewRoot = Annotated[
    str,
    typer.Argument(
        metavar="S3_URL",
        help="s3://bucket[/prefix]: previews go to its pr-N/.",
        show_default=False,
        autocompletion=complete_s3_url,
    ),
]
Pr = Annotated[int, typer.Option("--pr", metavar="N", min=1, help="The pull request number.")]
Ref = Annotated[
    str, typer.Option("--ref", metavar="REF", help="The branch, tag or commit SHA to deploy.")
]
SitePath = Annotated[
    str,
    typer.Option("--path", metavar="PATH", help="The folder of the built site in the repository."),
]
Build = Annotated[
    str | None,
    typer.Option(
        "--build",
        metavar="COMMAND",
        help="Run COMMAND with bash in the clone first (its output goes to stderr).",
    ),
]
RepoUrl = Annotated[
    str | None,
    typer.Option(
        "--repo-url",
        metavar="URL",
        help="Clone from URL (any URL git takes: https, ssh, file://).",
        show_default="$GITHUB_SERVER_URL/OWNER/REPO.git",
    ),
]
Rules = Annotated[
    Path | None,
    typer.Option(
        "--rules",
        metavar="FILE",
        help="Deploy rules file.",
        show_default="the repository's s3kit-deploy.yaml",
    ),
]
Delete = Annotated[
    str,
    typer.Option(
        "--delete",
        metavar="WHEN",
        help="deferred: removed files are deleted after the grace period; now: at once.",
    ),
]
MaxDelete = Annotated[
    str | None,
    typer.Option(
        "--max-delete",
        metavar="N|P%",
        help="Refuse a deploy that removes more files than this.",
        show_default="the rules file's, else no limit",
    ),
]
Force = Annotated[bool, typer.Option("--force", help="Ignore --max-delete.")]


def deploy(
    ctx: typer.Context,
    repository: Repository,
    destination: Destination,
    ref: Ref = "main",
    path: SitePath = "dist",
    build: Build = None,
    repo_url: RepoUrl = None,
    rules_file: Rules = None,
    dryrun: Dryrun = False,
    delete: Delete = "deferred",
    max_delete: MaxDelete = None,
    force: Force = False,
    json_out: Json = False,
) -> None:
    """Deploy a GitHub repository's site folder at a ref.

    Clones REF, runs --build if given, deploys --path to S3_URL and records the commit
    (`s3kit deploy history` shows it). Example:
    s3kit github deploy octo/site s3://www --ref main --path dist --build "npm ci && npm run build"
    """
    _deploy(ctx, repository, destination, ref, path, build, repo_url, rules_file, dryrun,
            delete, max_delete, force, json_out, only_if_changed=False)  # fmt: skip


def sync(
    ctx: typer.Context,
    repository: Repository,
    destination: Destination,
    ref: Ref = "main",
    path: SitePath = "dist",
    build: Build = None,
    repo_url: RepoUrl = None,
    rules_file: Rules = None,
    dryrun: Dryrun = False,
    delete: Delete = "deferred",
    max_delete: MaxDelete = None,
    force: Force = False,
    json_out: Json = False,
) -> None:
    """Deploy a ref unless S3_URL is at its commit already.

    As `github deploy`, but when the live deploy at S3_URL records the commit REF names,
    nothing is cloned or written: safe to run on a schedule.
    """
    _deploy(ctx, repository, destination, ref, path, build, repo_url, rules_file, dryrun,
            delete, max_delete, force, json_out, only_if_changed=True)  # fmt: skip


def _deploy(
    ctx: typer.Context,
    repository: str,
    destination: str,
    ref: str,
    path: str,
    build: str | None,
    repo_url: str | None,
    rules_file: Path | None,
    dryrun: bool,
    delete: str,
    max_delete: str | None,
    force: bool,
    json_out: bool,
    *,
    only_if_changed: bool,
) -> None:
    from s3kit.github.site import deploy_repository

    if delete not in ("deferred", "now"):
        raise UsageError(f"--delete takes deferred or now, not '{delete}'")
    mode: Literal["deferred", "now"] = "now" if delete == "now" else "deferred"
    target = cli_s3_url(destination)
    config = load_config(rules_file) if rules_file is not None else None
    done = deploy_repository(
        state_of(ctx).session, repository, target, ref=ref, path=path, build=build or None,
        repo_url=repo_url, config=config, dryrun=dryrun, delete=mode,
        max_delete=_parse_max_delete(max_delete), force=force, only_if_changed=only_if_changed,
    )  # fmt: skip
    if json_out:
        output.emit(done.document())
    elif done.outcome is None:
        sys.stdout.write(f"{done.destination} already at {done.commit} ({repository} {ref})\n")
    else:
        sys.stdout.write(f"{done.repository} {ref} is at {done.commit}\n")
        if done.outcome.dryrun:
            _print_plan(done.outcome, config)
        else:
            _print_outcome(done.outcome, config)
    if not done.ok:
        raise typer.Exit(1)


def preview_deploy(
    ctx: typer.Context,
    source: Annotated[
        Path,
        typer.Argument(metavar="SITE_FOLDER", help="The built site.", show_default=False),
    ],
    destination: PreviewRoot,
    repository: RepositoryOption,
    pr: Pr,
    base_url: Annotated[
        str | None,
        typer.Option(
            "--base-url",
            metavar="URL",
            help="The address S3_URL is served at; the preview is at URL/pr-N/.",
            show_default="the bucket's S3 website address, else the s3:// URL",
        ),
    ] = None,
    deployment: Annotated[
        bool,
        typer.Option("--deployment", help="Also record a GitHub Deployment of the preview."),
    ] = False,
    commit: Annotated[
        str | None,
        typer.Option(
            "--commit",
            metavar="SHA",
            help="The commit SITE_FOLDER was built from.",
            show_default="the pull request's head",
        ),
    ] = None,
    json_out: Json = False,
) -> None:
    """Deploy SITE_FOLDER as the preview of pull request N.

    It goes to S3_URL/pr-N/; files gone from the site are deleted at once. One comment on the
    pull request, updated in place, gives the preview's address. SITE_FOLDER is built
    beforehand, in a run without secrets: a fork's code is never built where the token is.
    """
    from s3kit.github.preview import preview_deploy as run

    root = cli_s3_url(destination)
    done = run(
        state_of(ctx).session, repository, pr, source, root, base_url=base_url,
        deployment=deployment, commit=commit, config=load_config(None),
    )  # fmt: skip
    if json_out:
        output.emit(done.document())
    else:
        _print_outcome(done.outcome, None)
        if done.comment is not None:
            sys.stdout.write(f"preview of #{pr}: {done.url}\n")
    if not done.ok:
        raise typer.Exit(1)


def preview_remove(
    ctx: typer.Context,
    destination: PreviewRoot,
    repository: RepositoryOption,
    pr: Pr,
    dryrun: Dryrun = False,
    json_out: Json = False,
) -> None:
    """Delete the preview of pull request N.

    Everything under S3_URL/pr-N/ is deleted; its comment then says so, and its GitHub
    Deployment, if any, is marked inactive.
    """
    from s3kit.github.preview import preview_remove as run

    done = run(state_of(ctx).session, repository, pr, cli_s3_url(destination), dryrun=dryrun)
    if json_out:
        output.emit(done.document())
        return
    _print_removal(done)


def _print_removal(done: Any) -> None:
    if not done.keys:
        sys.stdout.write(f"no preview of #{done.pr} at {done.destination}\n")
    elif done.dryrun:
        sys.stdout.write(
            f"would remove the preview of #{done.pr}: {len(done.keys)} objects under"
            f" {done.destination}\n"
        )
    else:
        sys.stdout.write(
            f"removed the preview of #{done.pr}: {len(done.keys)} objects under"
            f" {done.destination}\n"
        )


def preview_prune(
    ctx: typer.Context,
    destination: PreviewRoot,
    repository: RepositoryOption,
    dryrun: Dryrun = False,
    json_out: Json = False,
) -> None:
    """Remove the previews of closed pull requests.

    Every S3_URL/pr-N/ whose pull request GitHub lists as closed is removed as by
    `preview remove`: the safety net for a close event that was missed, to run on a
    schedule. A preview of an open pull request is never removed.
    """
    from s3kit.github.preview import preview_prune as run

    done = run(state_of(ctx).session, repository, cli_s3_url(destination), dryrun=dryrun)
    if json_out:
        output.emit(done.document())
        return
    for removal in done.removals:
        _print_removal(removal)
    for number in done.plan.open:
        sys.stdout.write(f"kept the preview of #{number}: the pull request is open\n")
    for number in done.plan.unknown:
        sys.stdout.write(
            f"kept the preview of #{number}: not a closed pull request of {done.repository}\n"
        )
    if not (done.removals or done.plan.open or done.plan.unknown):
        sys.stdout.write(f"no previews at {done.root}\n")


__all__ = ["deploy", "preview_deploy", "preview_prune", "preview_remove", "sync"]
