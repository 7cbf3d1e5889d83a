"""`s3kit deploy`: publish a static site to a bucket, and its history, rollback and unlock.

`s3kit deploy SRC s3://bucket/prefix` is `s3kit deploy run ...` (as `git stash` is
`git stash push`); the other words are subcommands. Each command parses, calls one function of
`s3kit.deploy.run`, prints. On a terminal (and without --json) the uploads show as cp's and
sync's progress bar, from the transfer events the library reports.
"""

from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer
from typer.core import TyperGroup

from s3kit._aio import run_sync
from s3kit._observe import redact
from s3kit._units import human_size
from s3kit.cli import output
from s3kit.cli.completion import complete_s3_url
from s3kit.cli.progress import progress_wanted
from s3kit.cli.state import cli_s3_url, state_of
from s3kit.errors import UsageError, translating

if TYPE_CHECKING:
    from s3kit.cli.progress import TransferProgress

DEPLOY_FILE = "s3kit-deploy.yaml"


class DeployGroup(TyperGroup):
    """Runs `run` when the first word is not a subcommand (a folder, or an option).
    `default_command` is also what `hoist_global_options` follows."""

    default_command = "run"

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = [self.default_command, *args]
        return super().parse_args(ctx, args)


app = typer.Typer(
    cls=DeployGroup,
    help="Deploy a static site.\n\n`s3kit deploy SITE_FOLDER s3://bucket/prefix`: only changed"
    " files are sent, assets before pages; removed files are deleted after a grace period;"
    " every deploy is recorded and can be rolled back.",
    no_args_is_help=True,
)

Json = output.Json
NoProgress = Annotated[bool, typer.Option("--no-progress", help="No progress bar.")]
LogFile = Annotated[
    Path | None,
    typer.Option(
        "--log-file", metavar="FILE", help="Append a JSON line per action to FILE (as sync does)."
    ),
]
CloudFront = Annotated[
    str | None,
    typer.Option(
        "--cloudfront",
        metavar="DIST_ID",
        help="Invalidate what the deploy made stale on this CloudFront distribution.",
    ),
]
PathPrefix = Annotated[
    str | None,
    typer.Option(
        "--cloudfront-path-prefix",
        metavar="PATH",
        help="Put PATH before each invalidated path (the distribution serves the bucket's root"
        " and the deploy went under PATH).",
        show_default="none: the distribution's origin path is the deploy's prefix",
    ),
]
Budget = Annotated[
    int | None,
    typer.Option(
        "--invalidation-budget",
        metavar="N",
        help="At most N invalidation paths; past it, folders become wildcards (/assets/*).",
        show_default="15",
    ),
]
Wait = Annotated[
    bool, typer.Option("--wait", help="Wait until CloudFront says the invalidation completed.")
]
S3Arg = typer.Argument(
    metavar="S3_URL",
    help="s3://bucket[/prefix]",
    show_default=False,
    autocompletion=complete_s3_url,
)


def _parse_max_delete(text: str | None) -> int | float | None:
    """`--max-delete 100` or `--max-delete 25%`, read as the rules file's `max_delete`."""
    from s3kit.deploy.rules import parse_max_delete

    if text is None:
        return None
    value = text.strip()
    return parse_max_delete(int(value) if value.isdigit() else value)


def load_config(path: Path | None) -> Any:
    """The deploy rules: `--rules FILE`, else ./s3kit-deploy.yaml if there is one, else the
    defaults."""
    from s3kit.deploy.rules import DeployConfig
    from s3kit.deploy.rules_file import load_deploy_config

    if path is None:
        found = Path(DEPLOY_FILE)
        return load_deploy_config(found) if found.is_file() else DeployConfig()
    if not path.is_file():
        raise UsageError(f"{path}: no such rules file")
    return load_deploy_config(path)


@app.command("run")
def run(
    ctx: typer.Context,
    source: Annotated[
        Path | None,
        typer.Argument(metavar="SITE_FOLDER", help="The built site.", show_default=False),
    ] = None,
    destination: Annotated[
        str | None,
        typer.Argument(
            metavar="S3_URL",
            help="s3://bucket[/prefix]",
            show_default=False,
            autocompletion=complete_s3_url,
        ),
    ] = None,
    rules_file: Annotated[
        Path | None,
        typer.Option(
            "--rules", metavar="FILE", help="Deploy rules file.", show_default=f"./{DEPLOY_FILE}"
        ),
    ] = None,
    dryrun: Annotated[
        bool, typer.Option("--dryrun", help="Print the plan; change nothing.")
    ] = False,
    plan_out: Annotated[
        Path | None,
        typer.Option("--plan-out", metavar="FILE", help="Write the plan to FILE; change nothing."),
    ] = None,
    apply: Annotated[
        Path | None,
        typer.Option(
            "--apply",
            metavar="FILE",
            help="Carry out a plan saved by --plan-out; refused if the site or bucket changed.",
        ),
    ] = None,
    delete: Annotated[
        str,
        typer.Option(
            "--delete",
            metavar="WHEN",
            help="deferred: removed files are deleted after the grace period; now: at once.",
        ),
    ] = "deferred",
    max_delete: Annotated[
        str | None,
        typer.Option(
            "--max-delete",
            metavar="N|P%",
            help="Refuse a deploy that removes more files than this.",
            show_default="the rules file's, else no limit",
        ),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Ignore --max-delete.")] = False,
    commit: Annotated[
        str | None, typer.Option("--commit", metavar="SHA", help="Record this commit.")
    ] = None,
    cloudfront: CloudFront = None,
    path_prefix: PathPrefix = None,
    budget: Budget = None,
    wait: Wait = False,
    website: Annotated[
        bool,
        typer.Option(
            "--website",
            help="Set the bucket's website index and error documents from the rules (a deploy"
            " to the bucket's root).",
        ),
    ] = False,
    spa: Annotated[
        bool,
        typer.Option(
            "--spa", help="A single-page app: --website, with the index document as error document."
        ),
    ] = False,
    log_file: LogFile = None,
    no_progress: NoProgress = False,
    json_out: Json = False,
) -> None:
    """Deploy SITE_FOLDER to S3_URL.

    Example: s3kit deploy public s3://www.example.com --dryrun
    """
    from s3kit.deploy.run import deploy_async

    if delete not in ("deferred", "now"):
        raise UsageError(f"--delete takes deferred or now, not '{delete}'")
    expect = None
    if apply is not None:
        saved = _read_plan(apply)
        expect = saved["plan"]
        source = source or Path(saved["source"])
        destination = destination or saved["destination"]
    if source is None or destination is None:
        raise UsageError("deploy needs the site folder and the s3:// destination")
    target = cli_s3_url(destination)
    invalidation = _invalidation(cloudfront, path_prefix, budget, wait)
    config = load_config(rules_file)
    session = state_of(ctx).session
    mode: Literal["deferred", "now"] = "now" if delete == "now" else "deferred"
    planning = dryrun or plan_out is not None
    with _progress_bar(_show_bar(no_progress, json_out, planning)) as bar:
        outcome = run_sync(
            deploy_async(
                session, source, target, config=config, dryrun=planning, delete=mode,
                max_delete=_parse_max_delete(max_delete), force=force, expect=expect,
                commit=commit, cloudfront=invalidation, website=website, spa=spa,
                log_file=log_file, on_event=bar,
            )
        )  # fmt: skip
    if plan_out is not None:
        document = {
            "source": str(source),
            "destination": str(target),
            "plan": outcome.plan.document(),
        }
        with translating(path=str(plan_out)):
            plan_out.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    if json_out:
        output.emit(outcome.document())
    elif outcome.dryrun:
        _print_plan(outcome, config)
    else:
        _print_outcome(outcome, config)
    if not outcome.ok:
        raise typer.Exit(1)


def _invalidation(
    distribution: str | None, path_prefix: str | None, budget: int | None, wait: bool
) -> Any:
    """The CloudFront options, checked: the others need --cloudfront."""
    from s3kit.deploy.cloudfront import DEFAULT_BUDGET, CloudFrontInvalidation

    if distribution is None:
        given = [
            name
            for name, value in (
                ("--cloudfront-path-prefix", path_prefix),
                ("--invalidation-budget", budget),
                ("--wait", wait or None),
            )
            if value is not None
        ]
        if given:
            raise UsageError(
                f"{given[0]} is about the CloudFront invalidation: add --cloudfront DIST_ID"
            )
        return None
    return CloudFrontInvalidation(
        distribution,
        budget=DEFAULT_BUDGET if budget is None else budget,
        path_prefix=path_prefix or "",
        wait=wait,
    )


def _show_bar(no_progress: bool, json_out: bool, dryrun: bool) -> bool:
    return not (no_progress or json_out or dryrun) and progress_wanted(disabled=False)


def _progress_bar(enabled: bool) -> contextlib.AbstractContextManager[TransferProgress | None]:
    """cp's progress bar where one shows; imported then only: cp's module brings the whole
    transfer layer and its options, which a deploy without a bar does not need."""
    if not enabled:
        return contextlib.nullcontext()
    from s3kit.cli.cp_mv import maybe_progress_bar

    return maybe_progress_bar(True)


def _read_plan(path: Path) -> dict[str, Any]:
    with translating(path=str(path)):
        text = path.read_text(encoding="utf-8")
    try:
        document = json.loads(text)
        if not isinstance(document, dict) or not isinstance(document.get("plan"), dict):
            raise ValueError
        return document
    except ValueError:
        raise UsageError(f"{path} is not a plan written by `s3kit deploy --plan-out`") from None


def _print_plan(outcome: Any, config: Any) -> None:
    plan = outcome.plan
    base = f"live deploy {plan.base}" if plan.base else "first deploy"
    out = sys.stdout
    out.write(f"Plan for {outcome.destination} ({base}):\n")
    for upload in plan.in_order():
        file = upload.file
        out.write(
            f"  upload   {upload.phase:<6} {upload.reason:<8} {file.key}"
            f" ({human_size(file.size)})\n"
        )
    for key, location in sorted(plan.redirects.items()):
        out.write(f"  redirect {key} → {location}\n")
    for key in plan.leaving:
        when = "now" if key in plan.deletions else "after the grace period"
        out.write(f"  remove   {key} (deleted {when})\n")
    for key in plan.deletions:
        if key not in plan.leaving:
            out.write(f"  delete   {key} (stale since {plan.stale.get(key) or 'earlier'})\n")
    if outcome.invalidation is not None:
        for path in outcome.invalidation.paths:
            out.write(f"  invalidate {path}\n")
    out.write(f"{len(plan.unchanged)} unchanged, {len(plan.stale)} stale kept for now\n")
    if plan.dropped or plan.blob_deletions:
        out.write(
            f"history: collects {_count(len(plan.dropped), 'old deploy')} and"
            f" {_count(len(plan.blob_deletions), 'copy', 'copies')} no kept deploy uses"
            " (under _s3kit/blobs/, apart from the site's files)\n"
        )


def _print_outcome(outcome: Any, config: Any) -> None:
    for path, error in outcome.failures:
        sys.stderr.write(f"s3kit: error: {path}: {redact(str(error))}\n")
    plan = outcome.plan
    if outcome.deploy_id is None and not outcome.failures:
        sys.stdout.write(f"{outcome.destination} already serves this site ({plan.base})\n")
    elif outcome.deploy_id is None:
        sys.stderr.write(
            "s3kit: error: the deploy did not go live (the previous one still is) — run it again\n"
        )
        return
    else:
        _print_deployed(outcome)
    _print_after_live(outcome, config)


def _print_after_live(outcome: Any, config: Any) -> None:
    from s3kit.deploy.website import SPA_LIMIT

    if outcome.website is not None:
        sys.stdout.write(outcome.website.line() + "\n")
        if outcome.website.spa:
            sys.stdout.write(f"note: {SPA_LIMIT.format(index=config.index_document)}\n")
    made = outcome.invalidation
    if made is not None and made.id is not None:
        sys.stdout.write(
            f"invalidated {_count(len(made.paths), 'path')} (covering {len(made.wanted)}) on"
            f" {made.distribution_id}: {made.id}, {made.status}\n"
        )
    for error in outcome.after_live:
        sys.stderr.write(f"s3kit: error: {redact(error.message)}\n")


def _print_deployed(outcome: Any) -> None:
    plan = outcome.plan
    parts = [
        f"{_count(outcome.uploaded, 'file')} uploaded ({human_size(outcome.bytes)})",
        f"{len(plan.unchanged)} unchanged",
    ]
    if plan.redirects:
        parts.append(f"{_count(len(plan.redirects), 'redirect')} written")
    parts.append(f"{outcome.deleted} deleted")
    if plan.stale:
        parts.append(f"{_count(len(plan.stale), 'removed file')} kept for the grace period")
    if plan.dropped or outcome.collected:
        parts.append(
            f"{_count(len(plan.dropped), 'old deploy')} and"
            f" {_count(outcome.collected, 'kept copy', 'kept copies')} collected"
        )
    sys.stdout.write(f"deployed {outcome.deploy_id} to {outcome.destination}: {', '.join(parts)}\n")


def _count(number: int, noun: str, plural: str | None = None) -> str:
    return f"{number} {noun if number == 1 else plural or noun + 's'}"


@app.command("history")
def history(
    ctx: typer.Context,
    destination: Annotated[str, S3Arg],
    json_out: Json = False,
) -> None:
    """List the deploys recorded at S3_URL, oldest first."""
    from s3kit.deploy.run import history_async, read_manifest

    target = cli_s3_url(destination)
    session = state_of(ctx).session
    deploys = run_sync(history_async(session, target))
    live, _ = run_sync(read_manifest(session, target))
    records: list[dict[str, Any]] = [
        {
            "id": m.id,
            "created": m.created,
            "live": live is not None and m.id == live.id,
            "files": len(m.files),
            "uploaded": m.summary.get("uploaded"),
            "deleted": m.summary.get("deleted"),
            "invalidation": m.summary.get("invalidation"),
            "source": m.source,
        }
        for m in deploys
    ]
    if json_out:
        output.emit_listing(records)
        return
    if not records:
        sys.stdout.write(f"no deploys recorded at {target}\n")
        return
    for record in records:
        mark = "*" if record["live"] else " "
        origin = ", ".join(f"{k} {v}" for k, v in dict(record["source"]).items())
        sys.stdout.write(
            f"{mark} {record['id']}  {record['created']}  {record['files']} files,"
            f" {record['uploaded']} uploaded  {origin}\n"
        )


@app.command("rollback")
def rollback(
    ctx: typer.Context,
    destination: Annotated[str, S3Arg],
    to: Annotated[
        str | None,
        typer.Option(
            "--to", metavar="ID", help="The deploy to bring back.", show_default="the previous one"
        ),
    ] = None,
    dryrun: Annotated[
        bool, typer.Option("--dryrun", help="Print the plan; change nothing.")
    ] = False,
    cloudfront: CloudFront = None,
    path_prefix: PathPrefix = None,
    budget: Budget = None,
    wait: Wait = False,
    log_file: LogFile = None,
    no_progress: NoProgress = False,
    json_out: Json = False,
) -> None:
    """Make an earlier deploy live again.

    A new deploy, copied on the server from the versions or copies the earlier one kept.
    """
    from s3kit.deploy.run import rollback_async

    target = cli_s3_url(destination)
    invalidation = _invalidation(cloudfront, path_prefix, budget, wait)
    session = state_of(ctx).session
    config = load_config(None)
    with _progress_bar(_show_bar(no_progress, json_out, dryrun)) as bar:
        outcome = run_sync(
            rollback_async(
                session, target, to=to, config=config, dryrun=dryrun, cloudfront=invalidation,
                log_file=log_file, on_event=bar,
            )
        )  # fmt: skip
    if json_out:
        output.emit(outcome.document())
    elif outcome.dryrun:
        _print_plan(outcome, config)
    else:
        _print_outcome(outcome, config)
    if not outcome.ok:
        raise typer.Exit(1)


@app.command("unlock")
def unlock(
    ctx: typer.Context,
    destination: Annotated[str, S3Arg],
) -> None:
    """Remove the lock a deploy that died left at S3_URL."""
    from s3kit.deploy.run import unlock_async

    target = cli_s3_url(destination)
    removed = run_sync(unlock_async(state_of(ctx).session, target))
    sys.stdout.write(f"{'removed the lock' if removed else 'no lock'} at {target}\n")


__all__ = ["app"]
