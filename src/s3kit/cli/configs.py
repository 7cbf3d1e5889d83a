"""`s3kit configs`: versioned configuration of monitoring tools (Prometheus, Alertmanager,
Grafana, Loki, Jaeger) per environment, in a bucket.

Each command parses, calls one `s3kit.configs.ConfigStore` method, prints. The store is named
by `--store s3://bucket[/prefix]` (or S3KIT_CONFIGS_STORE); `open_store` is what every
command of the group (those of cli/configs_ops.py too) builds it with. Findings print as
`file:line: message (validator)`; warnings and secrets found go to stderr; a secret's value
is never printed (`diff` masks it).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import typer

from s3kit._aio import run_sync
from s3kit._units import human_size
from s3kit.cli import output
from s3kit.cli.completion import complete_location, complete_s3_url
from s3kit.cli.state import cli_s3_url, state_of
from s3kit.errors import S3KitError, UsageError

if TYPE_CHECKING:
    from s3kit._uri import S3Url
    from s3kit.configs import ConfigStore, ReportLike, SecretFinding

app = typer.Typer(
    help="Versioned configuration of monitoring tools, per environment.\n\nPrometheus,"
    " Alertmanager, Grafana, Loki and Jaeger configurations: validated pushes, pulls, diffs,"
    " history, rollback, promotion and backups, kept in a bucket (--store"
    " s3://bucket[/prefix]).",
    no_args_is_help=True,
)

STORE_ENV = "S3KIT_CONFIGS_STORE"
Store = Annotated[
    str | None,
    typer.Option(
        "--store",
        metavar="S3_URL",
        envvar=STORE_ENV,
        help=f"The store: s3://bucket[/prefix] (also {STORE_ENV}).",
        autocompletion=complete_s3_url,
        show_default=False,
    ),
]
Json = output.Json
ToolArg = Annotated[
    str,
    typer.Argument(
        metavar="TOOL",
        help="prometheus, alertmanager, grafana, loki or jaeger.",
        show_default=False,
    ),
]
EnvArg = Annotated[str, typer.Argument(metavar="ENV", help="The environment (staging, prod, ...).")]
ValidatorOption = Annotated[
    str,
    typer.Option(
        "--validator",
        metavar="WHICH",
        help="auto: the tool's own checker (promtool, amtool, ...) if installed, else s3kit's;"
        " real: only the tool's own; builtin: only s3kit's.",
    ),
]
Version = Annotated[
    int | None,
    typer.Option("--version", metavar="N", min=1, help="Release N.", show_default="the live one"),
]


def store_url(store: str | None) -> S3Url:
    """Where `--store` (or S3KIT_CONFIGS_STORE) says the store is."""
    if not store:
        raise UsageError(
            f"name the configuration store: --store s3://bucket[/prefix] (or set {STORE_ENV})"
        )
    return cli_s3_url(store)


def open_store(ctx: typer.Context, store: str | None) -> ConfigStore:
    """The ConfigStore `--store` names, on the command's Session."""
    from s3kit.configs import ConfigStore

    return ConfigStore(state_of(ctx).session, store_url(store))


def _validator(text: str) -> Literal["auto", "real", "builtin"]:
    if text not in ("auto", "real", "builtin"):
        raise UsageError(f"--validator takes auto, real or builtin, not '{text}'")
    return text  # type: ignore[return-value]  # checked just above


def finding_line(finding: Any) -> str:
    where = f"{finding.file}:{finding.line}" if finding.line else finding.file
    kind = "warning: " if finding.severity == "warning" else ""
    return f"{where}: {kind}{finding.message} ({finding.validator})"


def _say_findings(report: ReportLike | None, secrets: list[SecretFinding], *, out: Any) -> None:
    if report is not None:
        for finding in report.findings:
            out.write(finding_line(finding) + "\n")
    for secret in secrets:
        sys.stderr.write(f"s3kit: warning: {secret.message}\n")


def _warn(warnings: list[str]) -> None:
    for warning in warnings:
        sys.stderr.write(f"s3kit: warning: {warning}\n")


def _short(digest: str) -> str:
    return digest[:12]


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


# -- validate, push, pull ---------------------------------------------------------------------


@app.command("validate")
def validate(
    tool: ToolArg,
    paths: Annotated[
        list[Path], typer.Argument(metavar="PATH...", help="The configuration's files or folder.")
    ],
    validator: ValidatorOption = "auto",
    json_out: Json = False,
) -> None:
    """Validate local files as a push would (nothing is sent).

    Example: s3kit configs validate prometheus prometheus/
    """
    from s3kit.configs import validate_config
    from s3kit.configs.bundle import finding_document

    report, secrets = validate_config(tool, paths, validator=_validator(validator))
    if json_out:
        output.emit(
            {
                "tool": tool,
                "ok": report.ok,
                "validator": report.validator,
                "findings": [finding_document(f) for f in report.findings],
                "secrets": [{"file": s.file, "line": s.line, "key": s.key} for s in secrets],
            }
        )
    else:
        _say_findings(report, secrets, out=sys.stdout)
        if report.ok:
            sys.stdout.write(f"{tool}: valid ({report.validator})\n")
    if not report.ok:
        errors = sum(1 for f in report.findings if f.severity == "error")
        raise S3KitError(f"{tool}: {errors} error{'' if errors == 1 else 's'} found — see above")


@app.command("push")
def push(
    ctx: typer.Context,
    tool: ToolArg,
    env: EnvArg,
    paths: Annotated[
        list[Path], typer.Argument(metavar="PATH...", help="The configuration's files or folder.")
    ],
    message: Annotated[
        str, typer.Option("--message", "-m", metavar="MSG", help="What changed.")
    ] = "",
    validator: ValidatorOption = "auto",
    no_validate: Annotated[
        bool,
        typer.Option("--no-validate", help="Push without validating (refused for protected envs)."),
    ] = False,
    force: Annotated[
        bool, typer.Option("--force", help="A new release even if ENV serves these very files.")
    ] = False,
    store: Store = None,
    json_out: Json = False,
) -> None:
    """Validate the files and make them ENV's next release of TOOL.

    Example: s3kit configs push prometheus prod prometheus/ -m "alert on disk" --store s3://ops
    """
    from s3kit.configs import ConfigInvalid

    config_store = open_store(ctx, store)
    try:
        outcome = config_store.push(
            tool, env, paths, message=message, validator=_validator(validator),
            validate=not no_validate, force=force,
        )  # fmt: skip
    except ConfigInvalid as exc:
        if json_out:
            from s3kit.configs.bundle import finding_document

            output.emit(
                {
                    "tool": tool,
                    "env": env,
                    "status": "invalid",
                    "validator": exc.report.validator,
                    "findings": [finding_document(f) for f in exc.report.findings],
                }
            )
        else:
            _say_findings(exc.report, [], out=sys.stderr)
        raise
    if json_out:
        output.emit(outcome.document())
        return
    _say_findings(outcome.report, outcome.secrets, out=sys.stderr)
    _warn(outcome.warnings)
    release = outcome.release
    if outcome.status == "unchanged":
        sys.stdout.write(
            f"{tool} {release.ref} unchanged: {env} serves these files already"
            f" (digest {_short(release.digest)}; --force makes a new release)\n"
        )
        return
    report = outcome.report
    checked = f"validated by {report.validator}" if report is not None else "not validated"
    was = f", was {env}@{outcome.previous}" if outcome.previous else ""
    sys.stdout.write(
        f"pushed {tool} {release.ref} ({_count(len(release.files), 'file')},"
        f" {human_size(release.size)}, digest {_short(release.digest)}, {checked}{was})\n"
    )


@app.command("pull")
def pull(
    ctx: typer.Context,
    tool: ToolArg,
    env: EnvArg,
    dest: Annotated[Path, typer.Argument(metavar="DEST", help="The folder to write.")],
    version: Version = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace DEST even if a pull did not write it.")
    ] = False,
    store: Store = None,
    json_out: Json = False,
) -> None:
    """Write a release of TOOL in ENV into the folder DEST.

    The live one, or --version N; whole or not at all, every file checked against its sha256.
    """
    release = open_store(ctx, store).pull(tool, env, dest, version=version, force=force)
    if json_out:
        output.emit(
            {
                "tool": tool,
                "env": env,
                "release": release.number,
                "digest": release.digest,
                "dest": str(dest),
                "files": [f.document() for f in release.files],
            }
        )
        return
    sys.stdout.write(
        f"pulled {tool} {release.ref} into {dest} ({_count(len(release.files), 'file')},"
        f" digest {_short(release.digest)})\n"
    )


# -- diff, history ---------------------------------------------------------------------------


@app.command("diff")
def diff(
    ctx: typer.Context,
    tool: ToolArg,
    left: Annotated[str, typer.Argument(metavar="ENV[@N]", help="What to compare from.")],
    right: Annotated[
        str | None,
        typer.Argument(
            metavar="[ENV2[@N] | PATH]",
            help="What to compare to: another release, or local files (what a push would"
            " change). None: what ENV[@N] changed from its parent.",
            show_default=False,
        ),
    ] = None,
    exit_code: Annotated[
        bool, typer.Option("--exit-code", help="Exit 1 when there are differences.")
    ] = False,
    store: Store = None,
) -> None:
    """A unified diff per file, secrets masked (***).

    A second word that names an existing local path is that path; ENV@N is always a release.
    """
    other: str | Path | None = right
    if right is not None and "@" not in right and Path(right).exists():
        other = Path(right)
    result = open_store(ctx, store).diff(tool, left, other)
    if result.same:
        sys.stderr.write(f"no differences between {result.left} and {result.right}\n")
        return
    for file in result.files:
        sys.stdout.write(file.text)
    if exit_code:
        raise typer.Exit(1)


@app.command("history")
def history(
    ctx: typer.Context,
    tool: ToolArg,
    env: EnvArg,
    store: Store = None,
    json_out: Json = False,
) -> None:
    """List the releases of TOOL in ENV (* marks the live one).

    Oldest first; a push that lost the race to another is marked (never live).
    """
    entries = open_store(ctx, store).history(tool, env)
    if json_out:
        output.emit_listing(entry.document() for entry in entries)
        return
    if not entries:
        sys.stdout.write(f"no {tool} releases in {env}\n")
        return
    for entry in entries:
        r = entry.release
        mark = "*" if entry.live else " "
        checked = r.validation.validator if r.validation else "not validated"
        origin = dict(r.origin)
        how = (
            f" ← {origin.get('env')}@{origin.get('release')}"
            if origin.get("action") == "promote"
            else " (restored)"
            if origin.get("action") == "restore"
            else ""
        )
        never = "" if entry.served else " (never live)"
        said = f"  {r.message}" if r.message else ""
        sys.stdout.write(
            f"{mark} {r.number:>4}  {r.created}  {_short(r.digest)}  {_count(len(r.files), 'file')}"
            f"  {checked}  {r.author}{how}{never}{said}\n"
        )


# -- rollback, promote ------------------------------------------------------------------------


def _print_move(outcome: Any, json_out: bool) -> None:
    if json_out:
        output.emit(outcome.document())
        return
    _warn(outcome.warnings)
    release = outcome.release
    if outcome.status == "unchanged":
        sys.stdout.write(f"{outcome.tool} {outcome.env} unchanged: it serves {release.ref}\n")
        return
    was = f"{outcome.env}@{outcome.previous}" if outcome.previous else "nothing"
    verb = {"rollback": "rolled back", "promote": "promoted", "restore": "restored"}
    origin = dict(release.origin)
    source = f" from {origin['env']}@{origin['release']}" if outcome.action == "promote" else ""
    sys.stdout.write(
        f"{verb[outcome.action]} {outcome.tool}{source}: {outcome.env} serves {release.ref}"
        f" (was {was}, digest {_short(release.digest)})\n"
    )


@app.command("rollback")
def rollback(
    ctx: typer.Context,
    tool: ToolArg,
    env: EnvArg,
    to: Annotated[
        int | None,
        typer.Option(
            "--to",
            metavar="N",
            min=1,
            help="The release to serve.",
            show_default="the live one's parent",
        ),
    ] = None,
    store: Store = None,
    json_out: Json = False,
) -> None:
    """Make ENV serve an earlier release of TOOL again.

    The live release's parent, or --to N; logged as any move of the pointer is.
    """
    _print_move(open_store(ctx, store).rollback(tool, env, to=to), json_out)


@app.command("promote")
def promote(
    ctx: typer.Context,
    tool: ToolArg,
    source: Annotated[str, typer.Option("--from", metavar="ENV", help="Promote from ENV.")],
    target: Annotated[str, typer.Option("--to", metavar="ENV", help="Promote to ENV.")],
    version: Version = None,
    min_age: Annotated[
        str,
        typer.Option(
            "--min-age",
            metavar="AGE",
            help="Only what has been live in --from for AGE (30m, 1h, 2d).",
        ),
    ] = "0",
    message: Annotated[str, typer.Option("--message", "-m", metavar="MSG")] = "",
    store: Store = None,
    json_out: Json = False,
) -> None:
    """Make --to serve what --from serves (or its release N).

    A protected --to takes only what --from serves now, validated, live there for --min-age.
    """
    from s3kit.deploy.rules import parse_duration

    outcome = open_store(ctx, store).promote(
        tool, source=source, target=target, version=version,
        min_age=parse_duration(min_age), message=message,
    )  # fmt: skip
    _print_move(outcome, json_out)


# -- backup, restore, batch -------------------------------------------------------------------


@app.command("backup")
def backup(
    ctx: typer.Context,
    env: EnvArg,
    dest: Annotated[
        str,
        typer.Argument(
            metavar="DEST",
            help="s3://bucket/prefix, or a local FILE.tar.gz.",
            autocompletion=complete_location,
        ),
    ],
    store: Store = None,
    json_out: Json = False,
) -> None:
    """Back up what ENV serves of every tool."""
    outcome = open_store(ctx, store).backup(env, dest)
    if json_out:
        output.emit(outcome.document())
        return
    tools = ", ".join(f"{r.tool} {r.ref}" for r in outcome.releases)
    sys.stdout.write(f"backed up {env} ({tools}) to {dest}\n")


@app.command("restore")
def restore(
    ctx: typer.Context,
    source: Annotated[
        str,
        typer.Argument(
            metavar="SRC",
            help="s3://bucket/prefix, or a local FILE.tar.gz.",
            autocompletion=complete_location,
        ),
    ],
    env: Annotated[
        str | None,
        typer.Option(
            "--env", metavar="ENV", help="Restore into ENV.", show_default="the one backed up"
        ),
    ] = None,
    dryrun: Annotated[
        bool, typer.Option("--dryrun", help="Say what would change; change nothing.")
    ] = False,
    store: Store = None,
    json_out: Json = False,
) -> None:
    """Make an environment serve what a backup holds.

    Tool by tool, as new releases; the environment backed up, or --env ENV.
    """
    outcome = open_store(ctx, store).restore(source, env=env, dryrun=dryrun)
    if json_out:
        output.emit(outcome.document())
        return
    _warn(outcome.warnings)
    for item in outcome.items:
        was = f"{outcome.env}@{item.previous}" if item.previous else "nothing"
        if item.status == "unchanged":
            line = f"{item.tool}: unchanged ({outcome.env} serves those files already)"
        elif item.status == "planned":
            line = f"{item.tool}: would restore release {item.backed_up} (serves {was} now)"
        else:
            line = f"{item.tool}: restored as {outcome.env}@{item.release} (was {was})"
        sys.stdout.write(line + "\n")


@app.command("batch")
def batch(
    ctx: typer.Context,
    plan: Annotated[Path, typer.Argument(metavar="PLAN.yaml", help="The items to run.")],
    store: Store = None,
    json_out: Json = False,
) -> None:
    """Run a plan of pushes and pulls; exit 1 if any failed.

    A few at a time, each with its own result. PLAN.yaml: `items:` (or the list alone), each
    {action: push|pull, tool, env, path|dest, ...}, and `concurrency:` (4 if not given).
    """
    from s3kit.configs import load_batch_plan

    loaded = load_batch_plan(plan)  # checked whole before the store is touched
    results = run_sync(open_store(ctx, store).batch_async(loaded))
    failed = [r for r in results if not r.ok]
    if json_out:
        output.emit(
            {
                "done": len(results) - len(failed),
                "failed": len(failed),
                "results": [r.document() for r in results],
            }
        )
    else:
        for result in results:
            item, outcome = result.item, result.outcome
            if result.error is not None:
                line = f"failed  {item.label}: {result.error.message}"
            elif item.action == "pull":
                line = f"done    {item.label}: {item.env}@{getattr(outcome, 'number', '?')}"
                line += f" into {item.dest}"
            else:
                status = getattr(outcome, "status", "")
                number = getattr(getattr(outcome, "release", None), "number", "?")
                line = f"done    {item.label}: {item.env}@{number} ({status})"
            sys.stdout.write(line + "\n")
        if failed:
            raise S3KitError(f"{len(failed)} of {len(results)} items failed (see above)")
        sys.stdout.write(f"{len(results)} done\n")
    if failed:
        raise typer.Exit(1)


__all__ = [
    "STORE_ENV",
    "EnvArg",
    "Json",
    "Store",
    "ToolArg",
    "app",
    "finding_line",
    "open_store",
    "store_url",
]
