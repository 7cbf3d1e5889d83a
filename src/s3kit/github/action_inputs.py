"""The inputs of s3kit's GitHub Action, checked: what `python -m s3kit.github.action` is asked
to do (`parse_request`), from the INPUT_* variables action.yml sets (every input passes through
`env:`, never through `${{ }}` inside a script) and the event's payload ($GITHUB_EVENT_PATH),
which gives the pull request of a `pull_request` or `workflow_run` event when the `pr` input is
empty.

What it must never do: reach the network; ignore an input silently (an input the command does
not take is refused); let `preview` build (it takes a folder built elsewhere and refuses
`build`: the folder may come from a fork); trust a pull request number the fork could have
chosen (a fork's `workflow_run` is matched to its pull request later, by the head commit GitHub
reports: `PullHead`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal

from s3kit._uri import S3Url, parse_s3_url
from s3kit.errors import UsageError

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


class ActionInputError(UsageError):
    """An input the action cannot use; nothing was done."""


def input_variable(name: str) -> str:
    """The variable action.yml passes input `name` in: INPUT_BASE_URL for base-url."""
    return "INPUT_" + name.upper().replace("-", "_")


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
    from s3kit.github.artifact_manifest import split_repository

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
    from s3kit.github.artifact_manifest import validate_artifact_name

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
