"""The entry script of s3kit's GitHub Action: `python -m s3kit.github.action`, run by the
composite action in the repository's action.yml.

It reads the action's inputs from the INPUT_* variables action.yml sets (every input passes
through `env:`, never through `${{ }}` inside a script), checks them (`action_inputs`, which
also finds the pull request of a `pull_request` or `workflow_run` event in $GITHUB_EVENT_PATH
when the `pr` input is empty), makes one s3kit library call, and reports the ways Actions
reads: `::add-mask::` for every secret, `::error::` lines, step outputs in $GITHUB_OUTPUT, a
Markdown job summary in $GITHUB_STEP_SUMMARY. Every command has its library call; nothing runs
the CLI.

What it must never do: print anything before the secrets are masked, or a secret after;
build a pull request's code (`preview` takes a folder built elsewhere and refuses `build`, and
never reads a rules file it was not named: the folder may come from a fork); trust a pull
request number the fork could have chosen (a fork's `workflow_run` is matched to its pull
request by the head commit GitHub reports); start the embedded local server when no
credentials are configured (a job has no use for one, and would deploy into it silently).
"""

from __future__ import annotations

import html
import json
import os
import re
import secrets
import sys
import traceback
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final, TextIO

from s3kit._observe import redact
from s3kit._units import human_size
from s3kit.errors import S3KitError
from s3kit.github.action_inputs import (
    ActionRequest,
    PullHead,
    parse_request,
    read_event,
    read_inputs,
)

OUTPUTS: Final = ("url", "preview-url", "deploy-id", "uploaded", "deleted", "invalidation-id")
# Masked before anything is printed: keys, session tokens (OIDC's), GitHub tokens.
SECRET_VARIABLES: Final = (
    "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "S3KIT_SECRET_ACCESS_KEY",
    "S3KIT_SESSION_TOKEN", "GITHUB_TOKEN", "GH_TOKEN", "INPUT_GITHUB_TOKEN",
)  # fmt: skip
URL_VARIABLES: Final = (
    "INPUT_ENDPOINT_URL", "S3KIT_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL",
)  # fmt: skip
MAX_LISTED: Final = 100  # files named per list in the summary; the rest are counted
SUMMARY_LIMIT: Final = 512 * 1024  # GitHub keeps at most 1 MiB of one step's summary
_OUTPUT_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


# -- workflow commands and files ----------------------------------------------------------------


def escape_data(text: str) -> str:
    """A workflow command's message as the runner unescapes it (%, CR, LF)."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def secret_values(env: Mapping[str, str]) -> list[str]:
    """The secrets in `env`, one per line (the runner masks line by line): secret keys, session
    tokens, GitHub tokens, and the password of an endpoint URL."""
    from urllib.parse import unquote, urlsplit

    found: list[str] = []
    for name in SECRET_VARIABLES:
        found += env.get(name, "").splitlines()
    for name in URL_VARIABLES:
        try:
            password = urlsplit(env.get(name, "").strip()).password
        except ValueError:
            password = None
        if password:
            found += [password, unquote(password)]
    unique = dict.fromkeys(value.strip() for value in found)
    return [value for value in unique if value]


def mask_secrets(values: Iterable[str], out: TextIO) -> None:
    for value in values:
        out.write(f"::add-mask::{escape_data(value)}\n")
    out.flush()


def write_outputs(
    path: Path, outputs: Mapping[str, str], *, token: Callable[[], str] = secrets.token_hex
) -> None:
    """Append `outputs` to $GITHUB_OUTPUT in the multi-line form (`name<<DELIM`), each with a
    random delimiter that its value does not contain: no value can end one early and set
    another output."""
    lines: list[str] = []
    for name, value in outputs.items():
        if not _OUTPUT_NAME.fullmatch(name):
            raise ValueError(f"{name!r} is not an output name")
        delimiter = f"ghadelimiter_{token()}"
        while delimiter in value:
            delimiter = f"ghadelimiter_{token()}"
        lines += [f"{name}<<{delimiter}", value, delimiter]
    with path.open("a", encoding="utf-8") as file:
        file.write("".join(line + "\n" for line in lines))


# -- what the run did -------------------------------------------------------------------------


@dataclass(slots=True)
class ActionResult:
    """What a command did, for the outputs, the summary and the log."""

    title: str
    line: str  # for the log: one line
    outputs: dict[str, str] = field(default_factory=dict)
    rows: list[tuple[str, str]] = field(default_factory=list)  # the summary's table
    lists: list[tuple[str, list[str]]] = field(default_factory=list)  # heading, items
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def printable(text: str) -> str:
    """`text` on one line: a line break in a key or a name, escaped, cannot start a line of
    the log that the runner would read as a workflow command."""
    return text if text.isprintable() else json.dumps(text, ensure_ascii=False)[1:-1]


def _code(text: str) -> str:
    """`text` shown literally in Markdown (a table cell or a list item): a file name can hold
    anything, a backtick, a pipe, a tag or a line break included."""
    return "<code>" + html.escape(printable(text)).replace("|", "&#124;") + "</code>"


def render_summary(result: ActionResult, *, max_listed: int = MAX_LISTED) -> str:
    status = "" if result.ok else " — failed"
    parts = [f"### {html.escape(result.title)}{status}\n"]
    if result.rows:
        parts.append("\n| | |\n|---|---|\n")
        parts += [f"| {name} | {value} |\n" for name, value in result.rows]
    if result.errors:
        parts.append("\n**Errors**\n\n")
        parts += [f"- {_code(error)}\n" for error in result.errors[:max_listed]]
        parts += _more(len(result.errors), max_listed)
    for heading, items in result.lists:
        if not items:
            continue
        parts.append(f"\n<details><summary>{heading} ({len(items):,})</summary>\n\n")
        parts += [f"- {item}\n" for item in items[:max_listed]]
        parts += _more(len(items), max_listed)
        parts.append("\n</details>\n")
    return "".join(parts)


def _more(count: int, shown: int) -> list[str]:
    return [f"- … and {count - shown:,} more\n"] if count > shown else []


def bounded_summary(result: ActionResult, limit: int = SUMMARY_LIMIT) -> str:
    """The summary, under `limit` bytes: fewer names per list until it fits (names can be
    long), then none."""
    for listed in (MAX_LISTED, 10, 0):
        text = render_summary(result, max_listed=listed)
        if len(text.encode()) <= limit:
            return text
    return f"### {html.escape(result.title)}\n\n(the summary was too long to show)\n"


def _deploy_result(title: str, outcome: Any, url: str, base: dict[str, str]) -> ActionResult:
    """The outputs and summary of one deploy (a site's, or a preview's)."""
    plan = outcome.plan
    invalidation = outcome.invalidation
    outputs = base | {
        "url": url,
        "deploy-id": outcome.deploy_id or "",
        "uploaded": str(outcome.uploaded),
        "deleted": str(outcome.deleted),
        "invalidation-id": (invalidation.id or "") if invalidation else "",
    }
    live = outcome.deploy_id or plan.base or "none"
    rows = [
        ("Live deploy", _code(live)),
        ("Uploaded", f"{outcome.uploaded:,} files ({human_size(outcome.bytes)})"),
        ("Unchanged", f"{len(plan.unchanged):,}"),
        ("Deleted", f"{outcome.deleted:,}"),
        ("Address", _code(url)),
    ]
    if plan.stale:
        rows.insert(4, ("Kept for the grace period", f"{len(plan.stale):,}"))
    if invalidation is not None and invalidation.id:
        rows.append(("Invalidation", f"{_code(invalidation.id)} ({len(invalidation.paths)} paths)"))
    errors = [f"{path}: {error.message}" for path, error in outcome.failures]
    if outcome.failures and outcome.deploy_id is None:
        errors.append("the deploy did not go live (the previous one still is) — run it again")
    errors += [error.message for error in outcome.after_live]
    if outcome.deploy_id is None and not errors:
        line = f"{outcome.destination} already serves this site ({plan.base})"
    else:
        line = (
            f"deployed {outcome.deploy_id} to {outcome.destination}: {outcome.uploaded} uploaded,"
            f" {len(plan.unchanged)} unchanged, {outcome.deleted} deleted"
        )
    lists = [
        ("Uploaded", [f"{_code(u.file.key)} ({u.reason})" for u in plan.in_order()]),
        ("Deleted", [_code(key) for key in plan.deletions]),
    ]
    return ActionResult(title, line, outputs, rows, lists, errors)


# -- the commands ---------------------------------------------------------------------------------


def library_env(env: Mapping[str, str]) -> dict[str, str]:
    """The environment the library calls see: the job's as it is (the AWS_* keys and session
    token of aws-actions/configure-aws-credentials included), the token input as GITHUB_TOKEN
    and not under its input's name (a build must never see it)."""
    made = {name: value for name, value in env.items() if name != "INPUT_GITHUB_TOKEN"}
    if token := env.get("INPUT_GITHUB_TOKEN", "").strip():
        made["GITHUB_TOKEN"] = token
    return made


def make_session(request: ActionRequest, env: Mapping[str, str]) -> Any:
    """The Session of the run, resolved at once so a configuration error comes first. Never the
    embedded local server: with no credentials it is an error naming what to set."""
    from s3kit._session import Session

    session = Session(endpoint_url=request.endpoint_url, region=request.region, use_local=False,
                      env=env)  # fmt: skip
    _ = session.settings
    return session


def _rules(path: Path | None) -> Any:
    from s3kit.deploy.rules import DeployConfig
    from s3kit.deploy.rules_file import load_deploy_config

    return load_deploy_config(path) if path is not None else DeployConfig()


def run_deploy(request: ActionRequest, session: Any, env: Mapping[str, str]) -> ActionResult:
    from s3kit.deploy.run import deploy
    from s3kit.github.site import default_base_url, deploy_repository

    where = request.destination
    if request.from_repository:
        assert request.repository is not None and request.ref is not None
        done = deploy_repository(
            session, request.repository, where, ref=request.ref, path=request.path or "dist",
            build=request.build, config=_rules(request.rules) if request.rules else None,
            delete=request.delete, max_delete=request.max_delete, env=env,
        )  # fmt: skip
        url = request.base_url or default_base_url(session, where)
        title = f"s3kit deploy: {request.repository}@{done.commit[:12]} to {where}"
        if done.outcome is None:
            line = f"{where} already at {done.commit} ({request.repository} {request.ref})"
            return ActionResult(title, line, {"url": url, "deploy-id": "", "uploaded": "0",
                                              "deleted": "0", "invalidation-id": ""})  # fmt: skip
        return _deploy_result(title, done.outcome, url, {})
    # A rules file in the workspace, as `s3kit deploy` finds it: this is the repository's own.
    rules = request.rules or (Path("s3kit-deploy.yaml") if Path("s3kit-deploy.yaml").is_file()
                              else None)  # fmt: skip
    outcome = deploy(
        session, request.source[0], where, config=_rules(rules), delete=request.delete,
        max_delete=request.max_delete, commit=request.commit, cloudfront=request.cloudfront,
    )  # fmt: skip
    url = request.base_url or default_base_url(session, where)
    return _deploy_result(f"s3kit deploy to {where}", outcome, url, {})


def find_pull(repo: Any, head: PullHead) -> int:
    """The open pull request whose head is `head`'s commit (a fork's, named by GitHub)."""
    for pull in repo.pulls("open", head=f"{head.owner}:{head.branch}"):
        if pull.head_sha == head.sha:
            return int(pull.number)
    raise S3KitError(
        f"no open pull request of {repo.slug} has the run's commit {head.sha[:12]} at its head"
        f" ({head.owner}:{head.branch}): it was closed, or got a newer commit — nothing deployed"
    )


def run_preview(request: ActionRequest, session: Any, env: Mapping[str, str]) -> ActionResult:
    from s3kit.github.api import GitHubRepo
    from s3kit.github.client import GitHubClient
    from s3kit.github.preview import preview_deploy, preview_remove

    assert request.repository is not None and request.pr is not None
    with GitHubClient(env=env) as client:
        pr = request.pr
        if isinstance(pr, PullHead):
            pr = find_pull(GitHubRepo(client, request.repository), pr)
        if request.command == "preview-remove":
            removal = preview_remove(session, request.repository, pr, request.destination,
                                     github=client, env=env)  # fmt: skip
            count, under = len(removal.keys), removal.destination
            return ActionResult(
                f"s3kit preview of #{pr} removed",
                f"removed the preview of #{pr}: {count} objects under {under}",
                {"deleted": str(count)},
                [("Deleted", f"{count:,} objects under {_code(str(under))}")],
            )
        done = preview_deploy(
            session, request.repository, pr, request.source[0], request.destination,
            base_url=request.base_url, commit=request.commit, config=_rules(request.rules),
            github=client, env=env,
        )  # fmt: skip
    result = _deploy_result(f"s3kit preview of #{pr}", done.outcome, done.url,
                            {"preview-url": done.url})  # fmt: skip
    if done.ok:
        result.line += f" — preview of #{pr}: {done.url}"
    return result


def run_release_mirror(
    request: ActionRequest, session: Any, env: Mapping[str, str]
) -> ActionResult:
    from s3kit.github.api import GitHubRepo
    from s3kit.github.client import GitHubClient
    from s3kit.github.release import mirror_releases

    assert request.repository is not None
    with GitHubClient(env=env) as client:
        result = mirror_releases(session, GitHubRepo(client, request.repository),
                                 request.destination, tag=request.ref)  # fmt: skip
    counts = {name: result.count(name) for name in ("mirrored", "already", "skipped_open")}
    errors = [
        f"{a.tag}/{a.name}: {a.error.message if a.error else 'failed'}"
        for a in result.assets
        if not a.ok
    ]
    if result.latest_error is not None:
        errors.append(f"latest.json: {result.latest_error.message}")
    line = (
        f"{result.repository} {request.ref} mirrored to {result.destination}:"
        f" {counts['mirrored']} mirrored, {counts['already']} already there,"
        f" {counts['skipped_open']} still uploading, {len(errors)} failed"
    )
    rows = [("Mirrored", str(counts["mirrored"])), ("Already there", str(counts["already"])),
            ("Still uploading", str(counts["skipped_open"]))]  # fmt: skip
    if result.latest_key is not None:
        rows.append(("latest.json", f"{_code(result.latest_tag or '')}"))
    assets = [f"{_code(f'{a.tag}/{a.name}')} ({a.outcome})" for a in result.assets]
    return ActionResult(
        f"s3kit release mirror: {result.repository} {request.ref}", line,
        {"url": str(result.destination), "uploaded": str(counts["mirrored"])}, rows,
        [("Assets", assets)], errors,
    )  # fmt: skip


def run_artifacts_push(
    request: ActionRequest, session: Any, env: Mapping[str, str]
) -> ActionResult:
    from s3kit.github.artifact_manifest import ActionsRun
    from s3kit.github.artifacts import push_artifact

    run = ActionsRun.from_env(env)
    result = push_artifact(session, [Path(p) for p in request.source], request.destination,
                           run=run, name=request.name,
                           retention_days=request.retention_days)  # fmt: skip
    errors = [f"{where}: {error.message}" for where, error in result.failures]
    if not result.ok and not errors:
        errors.append(f"the push of {request.name!r} did not finish: no manifest written")
    return ActionResult(
        f"s3kit artifact {request.name!r} pushed",
        f"pushed {len(result.files)} files ({human_size(result.bytes)}) as {request.name!r} to"
        f" {result.location}",
        {"url": str(result.location), "uploaded": str(len(result.files))},
        [("Files", f"{len(result.files):,} ({human_size(result.bytes)})"),
         ("Location", _code(str(result.location)))],
        [("Files", [_code(entry.path) for entry in result.files])], errors,
    )  # fmt: skip


RUNNERS: Final[Mapping[str, Callable[[ActionRequest, Any, Mapping[str, str]], ActionResult]]] = {
    "deploy": run_deploy,
    "preview": run_preview,
    "preview-remove": run_preview,
    "release-mirror": run_release_mirror,
    "artifacts-push": run_artifacts_push,
}


# -- main -----------------------------------------------------------------------------------------


def main(
    env: Mapping[str, str] | None = None,
    *,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """Run the action once; the exit code (0, or 1 with `::error::` lines said)."""
    environ = dict(os.environ if env is None else env)
    out, err = stdout or sys.stdout, stderr or sys.stderr
    hidden = secret_values(environ)
    mask_secrets(hidden, out)  # first: nothing is printed before the runner knows the secrets

    def error(message: str) -> int:
        out.write(f"::error title=s3kit::{escape_data(redact(message, hidden))}\n")
        out.flush()
        return 1

    try:
        request = parse_request(read_inputs(environ), environ, read_event(environ))
        calls = library_env(environ)
        session = make_session(request, calls)
        result = RUNNERS[request.command](request, session, calls)
    except S3KitError as exc:
        return error(exc.message)
    except Exception as exc:  # a defect: said as one line, the traceback (masked) for a report
        err.write(redact("".join(traceback.format_exception(exc)), hidden))
        return error(f"unexpected {type(exc).__name__}: {exc} — please report it")
    out.write(printable(redact(result.line, hidden)) + "\n")
    for message in result.errors:
        error(message)
    if path := environ.get("GITHUB_OUTPUT"):
        write_outputs(Path(path), {name: redact(v, hidden) for name, v in result.outputs.items()})
    if path := environ.get("GITHUB_STEP_SUMMARY"):
        with Path(path).open("a", encoding="utf-8") as file:
            file.write(redact(bounded_summary(result), hidden))
    out.flush()
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
