"""Pull-request previews of a static site: `s3kit github preview deploy | remove | prune`.

`preview_deploy` deploys a folder built elsewhere to `<root>/pr-N/` (removed files go at once:
a preview has no old pages open for long), keeps one sticky comment on the pull request with
its URL, and optionally a GitHub Deployment; `preview_remove` deletes everything under
`pr-N/`; `preview_prune` removes the previews of closed pull requests, the safety net for a
close event that was missed. The preview's own record (`pr-N/_s3kit/preview.json`) holds the
id of its GitHub Deployment, so removing it can mark that inactive.

What it must never do: build anything (a preview takes a folder already built, so a fork's
code is built in the workflow's `pull_request` run, which has no secrets, and only deployed by
`workflow_run`); remove the preview of a pull request that is not known to be closed.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from s3kit._aio import async_twin
from s3kit._session import Session
from s3kit._uri import S3Url
from s3kit.deploy.manifest import STATE
from s3kit.deploy.rules import DeployConfig
from s3kit.deploy.run import DeployOutcome, deploy
from s3kit.errors import ObjectNotFound, S3KitError, UsageError
from s3kit.github.api import Deployment, GitHubRepo, IssueComment, find_sticky
from s3kit.github.client import GitHubClient
from s3kit.github.git import server_url
from s3kit.github.site import (
    check_base_url,
    client_or_env,
    default_base_url,
    destination_url,
)
from s3kit.storage.base import ObjectInfo, Prefix

PREVIEW_RECORD = STATE + "preview.json"
_PREVIEW = re.compile(r"pr-([1-9][0-9]{0,9})/")
_MARKER_KEY = re.compile(r"[A-Za-z0-9._:/-]{1,100}")


# -- the pure parts --------------------------------------------------------------------


def preview_destination(root: S3Url | str, pr: int) -> S3Url:
    """Where the preview of pull request `pr` lives: `<root>/pr-N/`."""
    if pr < 1:
        raise UsageError(f"--pr {pr}: a pull request number is 1 or more")
    where = destination_url(root)
    return S3Url(where.bucket, f"{where.folder}pr-{pr}/")


def preview_url(base_url: str, pr: int) -> str:
    """The preview's address: `base_url` (the root's) + `pr-N/`."""
    return f"{base_url.rstrip('/')}/pr-{pr}/"


def comment_key(root: S3Url) -> str:
    """The sticky comment's key for previews under `root`: one comment per preview root, so
    two sites previewed from one repository keep a comment each."""
    name = f"preview:{root.bucket}/{root.folder}".rstrip("/")
    if _MARKER_KEY.fullmatch(name):
        return name
    return "preview:" + hashlib.sha256(name.encode()).hexdigest()[:20]


def preview_comment(pr: int, url: str, commit: str | None, outcome: DeployOutcome) -> str:
    deploy_id = outcome.deploy_id or outcome.plan.base
    details = [
        f"commit `{commit[:12]}`" if commit else "",
        f"deploy `{deploy_id}`" if deploy_id else "",
        f"{outcome.uploaded} uploaded, {len(outcome.plan.unchanged)} unchanged,"
        f" {outcome.deleted} deleted",
    ]
    return (
        f"**Preview of #{pr}:** {url}\n\n"
        + " · ".join(part for part in details if part)
        + "\n\n<sub>Deployed by s3kit; removed when the pull request is closed.</sub>"
    )


def removed_comment(pr: int) -> str:
    return f"**Preview of #{pr}:** removed.\n\n<sub>s3kit deleted it from the bucket.</sub>"


def preview_numbers(prefixes: Iterable[str], root_prefix: str) -> list[int]:
    """The pull requests with a preview, from the common prefixes of a delimiter listing of
    the root (`previews/pr-12/`); anything else under the root is none of them."""
    found = set()
    for prefix in prefixes:
        if prefix.startswith(root_prefix):
            match = _PREVIEW.fullmatch(prefix[len(root_prefix) :])
            if match:
                found.add(int(match[1]))
    return sorted(found)


@dataclass(frozen=True, slots=True)
class PrunePlan:
    """Which previews go: those of closed pull requests, and only those."""

    remove: tuple[int, ...]
    open: tuple[int, ...]
    unknown: tuple[int, ...]  # neither open nor listed as closed: kept


def plan_prune(
    present: Iterable[int], open_numbers: Iterable[int], closed_numbers: Iterable[int]
) -> PrunePlan:
    opened, closed = set(open_numbers), set(closed_numbers)
    numbers = sorted(set(present))
    return PrunePlan(
        remove=tuple(n for n in numbers if n in closed and n not in opened),
        open=tuple(n for n in numbers if n in opened),
        unknown=tuple(n for n in numbers if n not in opened and n not in closed),
    )


def _log_url(env: Mapping[str, str]) -> str:
    """The Actions run that made the deploy, when running in one."""
    names = ("GITHUB_REPOSITORY", "GITHUB_RUN_ID")
    if all(env.get(name) for name in names):
        return f"{server_url(env)}/{env['GITHUB_REPOSITORY']}/actions/runs/{env['GITHUB_RUN_ID']}"
    return ""


# -- the bucket's record -----------------------------------------------------------------


def _read_record(session: Session, where: S3Url) -> dict[str, Any]:
    try:
        data = session.storage(where.bucket).get(where.key + PREVIEW_RECORD)
    except ObjectNotFound:
        return {}
    try:
        document = json.loads(data)
    except ValueError:
        return {}
    return document if isinstance(document, dict) else {}


def _write_record(session: Session, where: S3Url, record: Mapping[str, Any]) -> None:
    body = json.dumps(dict(record), indent=1, sort_keys=True).encode()
    session.storage(where.bucket).put(
        where.key + PREVIEW_RECORD, body, content_type="application/json", cache_control="no-cache"
    )


# -- deploy, remove, prune ---------------------------------------------------------------


@dataclass(slots=True, kw_only=True)
class PreviewDeploy:
    repository: str
    pr: int
    url: str
    commit: str
    destination: S3Url
    outcome: DeployOutcome
    comment: IssueComment | None = None  # None: the deploy failed, nothing was said
    deployment: Deployment | None = None

    @property
    def ok(self) -> bool:
        return self.outcome.ok

    def document(self) -> dict[str, Any]:
        return {
            "repository": self.repository,
            "pr": self.pr,
            "url": self.url,
            "commit": self.commit,
            "destination": str(self.destination),
            "comment": None
            if self.comment is None
            else {"id": self.comment.id, "url": self.comment.html_url},
            "deployment": None
            if self.deployment is None
            else {"id": self.deployment.id, "environment": self.deployment.environment},
            "deploy": self.outcome.document(),
        }


def environment_name(pr: int) -> str:
    return f"preview-pr-{pr}"


def preview_deploy(
    session: Session,
    repository: str,
    pr: int,
    source: str | os.PathLike[str],
    root: S3Url | str,
    *,
    base_url: str | None = None,
    deployment: bool = False,
    commit: str | None = None,
    config: DeployConfig | None = None,
    github: GitHubClient | None = None,
    env: Mapping[str, str] | None = None,
) -> PreviewDeploy:
    """Deploy the built site in `source` as the preview of pull request `pr` of `repository`,
    under `root`/pr-N/ (files that left the site are deleted at once), then keep the pull
    request's sticky comment pointing at it (`base_url` + pr-N/; default: the website address
    where one can be told, else the s3:// URL). With `deployment`, a GitHub Deployment of
    `commit` (default: the pull request's head) is recorded too, with a success status.
    A pull request that is not open gets no preview."""
    environ = dict(os.environ if env is None else env)
    where = destination_url(root)
    destination = preview_destination(where, pr)
    if base_url is not None:
        check_base_url(base_url)
    with client_or_env(github, environ) as client:
        repo = GitHubRepo(client, repository)
        pull = next((p for p in repo.pulls("open") if p.number == pr), None)
        if pull is None:
            raise UsageError(
                f"pull request #{pr} of {repo.slug} is not open — no preview was deployed"
            )
        sha = commit or pull.head_sha
        # force: the delete guard keeps a live site whole; a preview is a throwaway copy.
        outcome = deploy(session, source, destination, config=config or DeployConfig(),
                         delete="now", force=True, commit=sha)  # fmt: skip
        url = preview_url(base_url or default_base_url(session, where), pr)
        result = PreviewDeploy(repository=repo.slug, pr=pr, url=url, commit=sha,
                               destination=destination, outcome=outcome)  # fmt: skip
        if not outcome.ok:
            return result
        body = preview_comment(pr, url, sha, outcome)
        result.comment = repo.upsert_sticky_comment(pr, comment_key(where), body)
        previous = _read_record(session, destination).get("deployment_id")

        def keep(deployment_id: Any) -> None:  # what `preview_remove` marks inactive
            _write_record(session, destination, {
                "repository": repo.slug, "pr": pr, "commit": sha, "url": url,
                "deployment_id": deployment_id,
            })  # fmt: skip

        if not deployment:
            keep(previous)
            return result
        made = repo.create_deployment(
            sha, environment=environment_name(pr), description=f"Preview of #{pr}",
            transient_environment=True, production_environment=False,
        )  # fmt: skip
        result.deployment = made
        keep(made.id)
        repo.create_deployment_status(
            made.id, "success", environment_url=url, log_url=_log_url(environ),
            description=f"Preview of #{pr} deployed",
        )  # fmt: skip
        if isinstance(previous, int) and previous != made.id:
            # GitHub retires earlier deployments itself only for lasting environments.
            _deactivate(repo, previous, f"Replaced by deployment {made.id}")
    return result


preview_deploy_async = async_twin(preview_deploy)


def _deactivate(repo: GitHubRepo, deployment_id: int, why: str) -> bool:
    """Mark a deployment inactive; False when GitHub no longer has it."""
    try:
        repo.create_deployment_status(deployment_id, "inactive", description=why)
    except ObjectNotFound:
        return False
    return True


@dataclass(slots=True, kw_only=True)
class PreviewRemoval:
    repository: str
    pr: int
    destination: S3Url
    keys: list[str] = field(default_factory=list)  # what was (or, dry, would be) deleted
    dryrun: bool = False
    comment_updated: bool = False
    deployment_inactive: int | None = None  # the deployment marked inactive

    def document(self) -> dict[str, Any]:
        return {
            "repository": self.repository,
            "pr": self.pr,
            "destination": str(self.destination),
            "dryrun": self.dryrun,
            "deleted": 0 if self.dryrun else len(self.keys),
            "keys": list(self.keys),
            "comment_updated": self.comment_updated,
            "deployment_inactive": self.deployment_inactive,
        }


def preview_remove(
    session: Session,
    repository: str,
    pr: int,
    root: S3Url | str,
    *,
    dryrun: bool = False,
    github: GitHubClient | None = None,
    env: Mapping[str, str] | None = None,
) -> PreviewRemoval:
    """Delete every object under `root`/pr-N/ (the site and its `_s3kit/` records), then say
    so in the pull request's sticky comment, if it has one, and mark the preview's GitHub
    Deployment inactive, if it had one."""
    environ = dict(os.environ if env is None else env)
    where = destination_url(root)
    destination = preview_destination(where, pr)
    with client_or_env(github, environ) as client:
        repo = GitHubRepo(client, repository)
        return _remove(session, repo, pr, where, destination, dryrun=dryrun)


preview_remove_async = async_twin(preview_remove)


def _remove(
    session: Session, repo: GitHubRepo, pr: int, root: S3Url, destination: S3Url, *, dryrun: bool
) -> PreviewRemoval:
    storage = session.storage(destination.bucket)
    keys = [e.key for e in storage.list(destination.key) if isinstance(e, ObjectInfo)]
    removal = PreviewRemoval(repository=repo.slug, pr=pr, destination=destination, keys=keys,
                             dryrun=dryrun)  # fmt: skip
    if dryrun:
        return removal
    record = _read_record(session, destination)
    if keys:
        report = storage.delete_many(keys)
        if report.failures:
            first = report.failures[0]
            raise S3KitError(
                f"{len(report.failures)} of {len(keys)} objects of the preview of #{pr} could"
                f" not be deleted ({first.key}: {first.message}) — run it again"
            )
    key = comment_key(root)
    if find_sticky(repo.issue_comments(pr), key) is not None:
        repo.upsert_sticky_comment(pr, key, removed_comment(pr))
        removal.comment_updated = True
    deployment_id = record.get("deployment_id")
    if isinstance(deployment_id, int) and _deactivate(
        repo, deployment_id, f"Preview of #{pr} removed"
    ):
        removal.deployment_inactive = deployment_id
    return removal


@dataclass(slots=True, kw_only=True)
class PruneOutcome:
    repository: str
    root: S3Url
    plan: PrunePlan
    dryrun: bool = False
    removals: list[PreviewRemoval] = field(default_factory=list)

    def document(self) -> dict[str, Any]:
        return {
            "repository": self.repository,
            "root": str(self.root),
            "dryrun": self.dryrun,
            "removed": [removal.document() for removal in self.removals],
            "kept": [{"pr": n, "reason": "open"} for n in self.plan.open]
            + [{"pr": n, "reason": "not listed as closed"} for n in self.plan.unknown],
        }


def preview_prune(
    session: Session,
    repository: str,
    root: S3Url | str,
    *,
    dryrun: bool = False,
    github: GitHubClient | None = None,
    env: Mapping[str, str] | None = None,
) -> PruneOutcome:
    """Remove the previews under `root` whose pull request is closed (as `preview_remove`).
    The previews are the `pr-N/` prefixes the bucket has; a preview is removed only when its
    pull request is in GitHub's list of closed ones — never one that is open, nor one GitHub
    does not list (a number that is an issue, a pull request it cannot show)."""
    environ = dict(os.environ if env is None else env)
    where = destination_url(root)
    prefix = where.folder
    listing = session.storage(where.bucket).list(prefix, delimiter="/")
    present = preview_numbers((e.key for e in listing if isinstance(e, Prefix)), prefix)
    with client_or_env(github, environ) as client:
        repo = GitHubRepo(client, repository)
        opened: set[int] = set()
        closed: set[int] = set()
        if present:
            opened = {pull.number for pull in repo.pulls("open")}
            # The closed list is long in an old repository: stop once every preview left is
            # accounted for (the open list, usually one page, is asked first for that reason).
            wanted = set(present) - opened
            if wanted:
                for pull in repo.pulls("closed"):
                    if pull.number in wanted:
                        closed.add(pull.number)
                        if closed == wanted:
                            break
        plan = plan_prune(present, opened, closed)
        outcome = PruneOutcome(repository=repo.slug, root=where, plan=plan, dryrun=dryrun)
        for number in plan.remove:
            destination = preview_destination(where, number)
            outcome.removals.append(
                _remove(session, repo, number, where, destination, dryrun=dryrun)
            )
    return outcome


preview_prune_async = async_twin(preview_prune)


__all__ = [
    "PREVIEW_RECORD",
    "PreviewDeploy",
    "PreviewRemoval",
    "PruneOutcome",
    "PrunePlan",
    "comment_key",
    "environment_name",
    "plan_prune",
    "preview_comment",
    "preview_deploy",
    "preview_deploy_async",
    "preview_destination",
    "preview_numbers",
    "preview_prune",
    "preview_prune_async",
    "preview_remove",
    "preview_remove_async",
    "preview_url",
    "removed_comment",
]
