"""The entry script of s3kit's GitHub Action: `python -m s3kit.github.action`, run by the
composite action in the repository's action.yml.

It reads the action's inputs from the INPUT_* variables action.yml sets (every input passes
through `env:`, never through `${{ }}` inside a script), checks them, makes one s3kit library
call, and reports the ways Actions reads: `::add-mask::` for every secret, `::error::` lines,
step outputs in $GITHUB_OUTPUT, a Markdown job summary in $GITHUB_STEP_SUMMARY. The pull
request of a `pull_request` or `workflow_run` event comes from $GITHUB_EVENT_PATH when the
`pr` input is empty. Every command has its library call; nothing runs the CLI.

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
from typing import Any, Final, Literal, TextIO

from s3kit._observe import redact
from s3kit._units import human_size
from s3kit._uri import S3Url, parse_s3_url
from s3kit.errors import S3KitError, UsageError

Command = Literal["deploy", "preview", "preview-remove", "release-mirror", "artifacts-push"]
COMMANDS: Final[tuple[Command, ...]] = (
    "deploy", "preview", "preview-remove", "release-mirror", "artifacts-push",
)  # fmt: skip
# What each command (and `deploy`'s second form, from the repository) takes besides the
# shared inputs; anything else given is refused, so a setting is never silently ignored.
_DEPLOY = {"destination", "base-url", "max-delete", "delete", "rules"}
TAKES: Final[Mapping[str, frozenset[str]]] = {
    "deploy": frozenset(_DEPLOY | {"source", "cloudfront-distribution"}),
    "deploy-repository": frozenset(_DEPLOY | {"repository", "ref", "path", "build"}),
    "preview": frozenset({"source", "destination", "repository", "pr", "base-url", "rules"}),
    "preview-remove": frozenset({"destination", "repository", "pr"}),
    "release-mirror": frozenset({"destination", "repository", "ref"}),
    "artifacts-push": frozenset({"source", "destination", "name", "retention-days"}),
}
SHARED: Final = ("command", "endpoint-url", "region", "github-token")
# The inputs the script reads (action.yml's `version` is the install step's alone).
SCRIPT_INPUTS: Final[tuple[str, ...]] = SHARED + tuple(sorted(set().union(*TAKES.values())))
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


class ActionInputError(UsageError):
    """An input the action cannot use; nothing was done."""


def input_variable(name: str) -> str:
    """The variable action.yml passes input `name` in: INPUT_BASE_URL for base-url."""
    return "INPUT_" + name.upper().replace("-", "_")


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


# -- the inputs -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PullHead:
    """A fork's pull request, named by GitHub only by its head: `workflow_run` events list no
    pull request for a fork, and a number the fork's build wrote could be anyone's."""

    owner: str
    branch: str
    sha: str


@dataclass(frozen=True, slots=True, kw_only=True)
class ActionRequest:
    """What to do, checked: one command and what it takes."""

    command: Command
    destination: S3Url
    source: tuple[str, ...] = ()  # the site folder; the files and folders of an artifact
    repository: str | None = None
    ref: str | None = None
    path: str | None = None
    build: str | None = None
    pr: int | PullHead | None = None
    commit: str | None = None  # the commit the folder was built from, when the event says
    base_url: str | None = None
    cloudfront: str | None = None
    max_delete: int | float | None = None
    delete: Literal["deferred", "now"] = "deferred"
    rules: Path | None = None
    name: str = "artifact"
    retention_days: int | None = None
    endpoint_url: str | None = None
    region: str | None = None

    @property
    def from_repository(self) -> bool:
        return self.command == "deploy" and not self.source


def read_inputs(env: Mapping[str, str]) -> dict[str, str]:
    """Every input the script reads, stripped; "" when not given (Actions passes "" then)."""
    return {name: env.get(input_variable(name), "").strip() for name in SCRIPT_INPUTS}


def read_event(env: Mapping[str, str]) -> dict[str, Any]:
    """The event's payload ($GITHUB_EVENT_PATH), {} when there is none to read."""
    path = env.get("GITHUB_EVENT_PATH", "")
    if not path:
        return {}
    try:
        document = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return document if isinstance(document, dict) else {}


def _fail(name: str, message: str) -> ActionInputError:
    return ActionInputError(f"input '{name}': {message}")


def _checked(name: str, check: Callable[[], Any]) -> Any:
    """`check()`, its UsageError said as one about input `name`."""
    try:
        return check()
    except UsageError as exc:
        raise _fail(name, exc.message) from None


def _get(node: Any, *path: str) -> Any:
    for part in path:
        node = node.get(part) if isinstance(node, dict) else None
    return node


def pull_request_of(event_name: str, event: Mapping[str, Any]) -> int | PullHead | None:
    """The pull request an event is about: its number for `pull_request` and
    `pull_request_target`; for `workflow_run`, the run's own pull request where GitHub lists it
    (one of this repository's branches), else its head (a fork). None: not about one."""
    if event_name in ("pull_request", "pull_request_target"):
        number = _get(event, "pull_request", "number") or event.get("number")
        return number if isinstance(number, int) and number > 0 else None
    if event_name != "workflow_run":
        return None
    run = event.get("workflow_run")
    if not isinstance(run, dict) or run.get("event") not in ("pull_request", "pull_request_target"):
        return None
    head_sha = run.get("head_sha")
    listed = [
        entry.get("number")
        for entry in run.get("pull_requests") or []
        if isinstance(entry, dict) and _get(entry, "head", "sha") == head_sha
    ]
    if len(listed) == 1 and isinstance(listed[0], int):
        return listed[0]
    if len(listed) > 1:
        raise _fail("pr", f"the run's commit heads {len(listed)} pull requests — say which")
    owner, branch = _get(run, "head_repository", "owner", "login"), run.get("head_branch")
    if isinstance(owner, str) and isinstance(branch, str) and isinstance(head_sha, str):
        return PullHead(owner, branch, head_sha) if owner and branch and head_sha else None
    return None


def event_commit(event_name: str, event: Mapping[str, Any], env: Mapping[str, str]) -> str | None:
    """The commit the files were built from: the run's head (`workflow_run`), the pull
    request's head, else the commit the workflow runs on (GITHUB_SHA)."""
    sha = {
        "workflow_run": _get(event, "workflow_run", "head_sha"),
        "pull_request": _get(event, "pull_request", "head", "sha"),
        "pull_request_target": _get(event, "pull_request", "head", "sha"),
    }.get(event_name, env.get("GITHUB_SHA"))
    return sha if isinstance(sha, str) and re.fullmatch(r"[0-9a-f]{40}", sha) else None


def parse_request(
    inputs: Mapping[str, str], env: Mapping[str, str], event: Mapping[str, Any]
) -> ActionRequest:
    """Check the inputs against each other and the event; raises ActionInputError naming the
    input at fault. Nothing here reaches the network."""
    command = inputs.get("command", "")
    if command not in COMMANDS:
        given = f"'{command}'" if command else "nothing"
        raise _fail("command", f"one of {', '.join(COMMANDS)} — got {given}")
    source = tuple(line.strip() for line in inputs.get("source", "").splitlines() if line.strip())
    mode = "deploy-repository" if command == "deploy" and not source else command
    stray = sorted(n for n, v in inputs.items() if v and n not in SHARED and n not in TAKES[mode])
    if stray and mode == "preview" and "build" in stray:
        raise _fail("build", "preview never builds: build in a workflow without secrets and"
                    " give the built folder as source (see the fork-safe example)")  # fmt: skip
    if stray:
        why = (
            "deploy from the repository (no source)" if mode == "deploy-repository"
            else f"command {command}"
        )  # fmt: skip
        raise _fail(stray[0], f"not used by {why} — remove it")
    if not inputs.get("destination"):
        raise _fail("destination", "required: s3://bucket[/prefix]")
    destination = _checked("destination", lambda: parse_s3_url(inputs["destination"]))
    event_name = env.get("GITHUB_EVENT_NAME", "")
    options: dict[str, Any] = {"command": command, "destination": destination, "source": source}
    options |= _session_options(inputs)
    if command in ("deploy", "preview"):
        options |= _site_options(command, inputs, source)
    if mode == "deploy-repository":
        options |= _repository_options(inputs, env)
    elif command == "deploy":
        options["commit"] = event_commit(event_name, event, env)
    if command in ("preview", "preview-remove", "release-mirror"):
        options["repository"] = _repository(inputs, env)
    if command in ("preview", "preview-remove"):
        options["pr"] = _pull_request(inputs, event_name, event)
    if command == "preview":
        options["commit"] = event_commit(event_name, event, {})
    if command == "release-mirror":
        options["ref"] = _release_tag(inputs, event_name, event)
    if command == "artifacts-push":
        options |= _artifact_options(inputs, source)
    return ActionRequest(**options)


def _session_options(inputs: Mapping[str, str]) -> dict[str, Any]:
    endpoint, region = inputs.get("endpoint-url") or None, inputs.get("region") or None
    if endpoint is not None and not re.fullmatch(r"https?://[^\s/]+(/\S*)?", endpoint):
        raise _fail("endpoint-url", "an http(s) URL, such as https://s3.example.com")
    if region is not None and not re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", region):
        raise _fail("region", f"'{region}' is not a region name, such as eu-west-1")
    return {"endpoint_url": endpoint, "region": region}


def _site_options(command: str, inputs: Mapping[str, str], source: tuple[str, ...]) -> Any:
    from s3kit.deploy.rules import parse_max_delete
    from s3kit.github.site import check_base_url

    options: dict[str, Any] = {}
    if command == "preview" and len(source) != 1:
        raise _fail("source", "required: the folder of the built site")
    if len(source) > 1:
        raise _fail("source", "one folder: the built site")
    if source and not Path(source[0]).is_dir():
        raise _fail("source", f"no folder {source[0]!r} (paths are relative to the workspace)")
    if base_url := inputs.get("base-url"):
        options["base_url"] = _checked("base-url", lambda: check_base_url(base_url))
    if rules := inputs.get("rules"):
        if not Path(rules).is_file():
            raise _fail("rules", f"no such rules file: {rules!r}")
        options["rules"] = Path(rules)
    if distribution := inputs.get("cloudfront-distribution"):
        from s3kit.deploy.cloudfront import CloudFrontInvalidation

        options["cloudfront"] = _checked(
            "cloudfront-distribution", lambda: CloudFrontInvalidation(distribution).distribution_id
        )
    if text := inputs.get("max-delete"):
        value: str | int = int(text) if text.isdigit() else text
        options["max_delete"] = _checked("max-delete", lambda: parse_max_delete(value))
    delete = inputs.get("delete") or "deferred"
    if delete not in ("deferred", "now"):
        raise _fail("delete", f"deferred or now — got '{delete}'")
    options["delete"] = delete
    return options


def _repository(inputs: Mapping[str, str], env: Mapping[str, str]) -> str:
    from s3kit.github.artifacts import split_repository

    slug = inputs.get("repository") or env.get("GITHUB_REPOSITORY", "")
    if not slug:
        raise _fail("repository", "required outside GitHub Actions: OWNER/REPO")
    owner, name = _checked("repository", lambda: split_repository(slug))
    return f"{owner}/{name}"


def _repository_options(inputs: Mapping[str, str], env: Mapping[str, str]) -> dict[str, Any]:
    from s3kit.github.git import safe_path

    repository = _repository(inputs, env)
    ref = inputs.get("ref")
    if not ref:  # the commit this workflow runs on, when it is this repository's
        sha = env.get("GITHUB_SHA", "")
        ref = sha if repository == env.get("GITHUB_REPOSITORY") and sha else "main"
    if ref.startswith("-") or any(char.isspace() for char in ref):
        raise _fail("ref", f"'{ref}' is not a branch, tag or commit SHA")
    path = inputs.get("path") or "dist"
    _checked("path", lambda: safe_path(path))
    return {"repository": repository, "ref": ref, "path": path,
            "build": inputs.get("build") or None}  # fmt: skip


def _pull_request(inputs: Mapping[str, str], event_name: str, event: Mapping[str, Any]) -> Any:
    text = inputs.get("pr")
    if text:
        if not re.fullmatch(r"[1-9][0-9]{0,9}", text):
            raise _fail("pr", f"a pull request number, not '{text}'")
        return int(text)
    found = pull_request_of(event_name, event)
    if found is None:
        why = f"the {event_name} event is about no pull request" if event_name else "no event"
        raise _fail("pr", f"required: {why} (pull_request and workflow_run events give it)")
    return found


def _release_tag(inputs: Mapping[str, str], event_name: str, event: Mapping[str, Any]) -> str:
    tag = inputs.get("ref") or (
        _get(event, "release", "tag_name") if event_name == "release" else None
    )
    if not isinstance(tag, str) or not tag:
        raise _fail("ref", "required: the release tag to mirror (a release event gives it)")
    return tag


def _artifact_options(inputs: Mapping[str, str], source: tuple[str, ...]) -> dict[str, Any]:
    from s3kit.github.artifacts import validate_artifact_name

    if not source:
        raise _fail("source", "required: the files and folders to push, one per line")
    missing = [path for path in source if not Path(path).exists()]
    if missing:
        raise _fail("source", f"no such file or folder: {missing[0]!r}")
    name = inputs.get("name") or "artifact"
    options: dict[str, Any] = {"name": _checked("name", lambda: validate_artifact_name(name))}
    if days := inputs.get("retention-days"):
        if not re.fullmatch(r"[1-9][0-9]{0,4}", days):
            raise _fail("retention-days", f"a number of days, 1 or more — got '{days}'")
        options["retention_days"] = int(days)
    return options


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
    from s3kit.deploy.rules import DeployConfig, load_deploy_config

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
    from s3kit.github.site import preview_deploy, preview_remove

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
    from s3kit.github.artifacts import ActionsRun, push_artifact

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
