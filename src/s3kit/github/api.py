"""Typed calls of the GitHub REST endpoints s3kit's deploy features use, on one repository.

Each method is one GitHub operation (its operationId in `Endpoint.operation`), through the one
`GitHubClient` path; answers become small frozen records holding the fields s3kit reads, so a
caller never digs in GitHub's JSON. Lists are iterators that fetch the next page only when the
caller gets there. Sticky pull-request comments (one comment s3kit keeps updating) are found by
a hidden marker (`sticky_marker`), the way GitHub bots do it.

What it must never do: write a download anywhere but its destination, or keep one whose bytes
differ from what GitHub lists (size, `digest`); download a release asset still uploading.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, TypeVar
from urllib.parse import quote

from s3kit.errors import ConflictError, EndpointError, ObjectNotFound, TransferError, UsageError
from s3kit.github.client import DEFAULT_MAX_DOWNLOAD, Downloaded, GitHubClient
from s3kit.github.rules import MEDIA_RAW, Endpoint

PullState = Literal["open", "closed", "all"]
DeploymentState = Literal[
    "error", "failure", "inactive", "in_progress", "queued", "pending", "success"
]

_OWNER = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$")
_NAME = re.compile(r"^[A-Za-z0-9._-]{1,100}$")
_MARKER_KEY = re.compile(r"^[A-Za-z0-9._:/-]{1,100}$")
_DESCRIPTION_MAX = 140  # GitHub refuses a longer deployment status description (422)


def _time(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) and value else None


def _digest(value: Any) -> str | None:
    """The hex SHA-256 of a `digest` field ("sha256:..."), or None where GitHub gives none."""
    if not isinstance(value, str) or not value.lower().startswith("sha256:"):
        return None
    hex_digest = value.split(":", 1)[1].lower()
    return hex_digest if re.fullmatch(r"[0-9a-f]{64}", hex_digest) else None


def _login(user: Any) -> str | None:
    return str(user["login"]) if isinstance(user, dict) and "login" in user else None


@dataclass(frozen=True, slots=True, kw_only=True)
class Repository:
    id: int
    full_name: str
    default_branch: str
    private: bool
    archived: bool
    html_url: str

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Repository:
        return cls(
            id=int(data["id"]),
            full_name=str(data["full_name"]),
            default_branch=str(data["default_branch"]),
            private=bool(data["private"]),
            archived=bool(data.get("archived", False)),
            html_url=str(data["html_url"]),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Commit:
    sha: str
    message: str
    html_url: str
    parents: tuple[str, ...]
    author_name: str | None
    committed_at: datetime | None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Commit:
        inner = data["commit"]
        committer = inner.get("committer") or {}
        author = inner.get("author") or {}
        return cls(
            sha=str(data["sha"]),
            message=str(inner["message"]),
            html_url=str(data["html_url"]),
            parents=tuple(str(parent["sha"]) for parent in data["parents"]),
            author_name=author.get("name"),
            committed_at=_time(committer.get("date")),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class ReleaseAsset:
    id: int
    name: str
    label: str | None
    state: Literal["uploaded", "open"]
    content_type: str
    size: int
    sha256: str | None  # hex, from the API's `digest`; None for assets GitHub has none for
    browser_download_url: str

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ReleaseAsset:
        state = data["state"]
        if state not in ("uploaded", "open"):
            raise ValueError(f"asset state {state!r}")
        return cls(
            id=int(data["id"]),
            name=str(data["name"]),
            label=data.get("label"),
            state=state,
            content_type=str(data["content_type"]),
            size=int(data["size"]),
            sha256=_digest(data.get("digest")),
            browser_download_url=str(data["browser_download_url"]),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Release:
    id: int
    tag_name: str
    name: str | None
    draft: bool
    prerelease: bool
    target_commitish: str
    html_url: str
    created_at: datetime | None
    published_at: datetime | None
    assets: tuple[ReleaseAsset, ...]

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Release:
        return cls(
            id=int(data["id"]),
            tag_name=str(data["tag_name"]),
            name=data.get("name"),
            draft=bool(data["draft"]),
            prerelease=bool(data["prerelease"]),
            target_commitish=str(data["target_commitish"]),
            html_url=str(data["html_url"]),
            created_at=_time(data.get("created_at")),
            published_at=_time(data.get("published_at")),
            assets=tuple(ReleaseAsset.from_json(asset) for asset in data["assets"]),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Artifact:
    id: int
    name: str
    size_in_bytes: int
    expired: bool
    sha256: str | None
    created_at: datetime | None
    expires_at: datetime | None
    head_sha: str | None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Artifact:
        run = data.get("workflow_run") or {}
        return cls(
            id=int(data["id"]),
            name=str(data["name"]),
            size_in_bytes=int(data["size_in_bytes"]),
            expired=bool(data["expired"]),
            sha256=_digest(data.get("digest")),
            created_at=_time(data.get("created_at")),
            expires_at=_time(data.get("expires_at")),
            head_sha=run.get("head_sha"),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class IssueComment:
    id: int
    body: str
    user_login: str | None
    html_url: str
    created_at: datetime | None
    updated_at: datetime | None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> IssueComment:
        return cls(
            id=int(data["id"]),
            body=str(data.get("body") or ""),
            user_login=_login(data.get("user")),
            html_url=str(data["html_url"]),
            created_at=_time(data.get("created_at")),
            updated_at=_time(data.get("updated_at")),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Deployment:
    id: int
    sha: str
    ref: str
    environment: str
    task: str
    transient_environment: bool
    production_environment: bool
    statuses_url: str

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Deployment:
        return cls(
            id=int(data["id"]),
            sha=str(data["sha"]),
            ref=str(data["ref"]),
            environment=str(data["environment"]),
            task=str(data["task"]),
            transient_environment=bool(data.get("transient_environment", False)),
            production_environment=bool(data.get("production_environment", False)),
            statuses_url=str(data["statuses_url"]),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class DeploymentStatus:
    id: int
    state: DeploymentState
    environment: str
    environment_url: str
    log_url: str
    description: str

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> DeploymentStatus:
        return cls(
            id=int(data["id"]),
            state=data["state"],
            environment=str(data.get("environment") or ""),
            environment_url=str(data.get("environment_url") or ""),
            log_url=str(data.get("log_url") or ""),
            description=str(data.get("description") or ""),
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class PullRequest:
    number: int
    state: str
    title: str
    html_url: str
    user_login: str | None
    head_ref: str
    head_sha: str
    base_ref: str
    draft: bool
    merged_at: datetime | None
    closed_at: datetime | None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> PullRequest:
        return cls(
            number=int(data["number"]),
            state=str(data["state"]),
            title=str(data["title"]),
            html_url=str(data["html_url"]),
            user_login=_login(data.get("user")),
            head_ref=str(data["head"]["ref"]),
            head_sha=str(data["head"]["sha"]),
            base_ref=str(data["base"]["ref"]),
            draft=bool(data.get("draft", False)),
            merged_at=_time(data.get("merged_at")),
            closed_at=_time(data.get("closed_at")),
        )


_Record = TypeVar("_Record")


def _parse(parse: Callable[[Any], _Record], data: Any, endpoint: Endpoint) -> _Record:
    """`parse(data)`, an answer missing what GitHub documents raising a clear error."""
    try:
        return parse(data)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise EndpointError(
            f"GitHub's answer to {endpoint.what} is not the document its API describes"
            f" ({type(exc).__name__}: {exc})"
        ).add_context(operation=endpoint.operation) from exc


def sticky_marker(key: str) -> str:
    """The hidden line that marks s3kit's sticky comment `key` ("deploy-preview")."""
    if not _MARKER_KEY.match(key):
        raise UsageError(f"sticky comment key {key!r}: use letters, digits and . _ : / -")
    return f"<!-- s3kit:{key} -->"


def find_sticky(comments: Iterable[IssueComment], key: str) -> IssueComment | None:
    """The first (oldest) comment carrying the marker of `key`, or None."""
    marker = sticky_marker(key)
    return next((comment for comment in comments if marker in comment.body), None)


class GitHubRepo:
    """The endpoints of one repository, `slug` "OWNER/NAME" (GITHUB_REPOSITORY's form)."""

    def __init__(self, client: GitHubClient, slug: str) -> None:
        owner, _, name = slug.strip().partition("/")
        if not _OWNER.match(owner) or not _NAME.match(name) or name in (".", ".."):
            raise UsageError(f"{slug!r} is not a GitHub repository — use OWNER/NAME")
        self.client = client
        self.owner = owner
        self.name = name

    @property
    def slug(self) -> str:
        return f"{self.owner}/{self.name}"

    def __repr__(self) -> str:
        return f"GitHubRepo({self.slug!r}, api_url={self.client.api_url!r})"

    def _path(self, *parts: str | int) -> str:
        tail = "/".join(quote(str(part), safe="") for part in parts)
        return f"/repos/{quote(self.owner, safe='')}/{quote(self.name, safe='')}" + (
            f"/{tail}" if tail else ""
        )

    def _endpoint(
        self,
        operation: str,
        what: str,
        permission: str,
        *,
        not_found: str | None = None,
        gone: str | None = None,
        invalid: str | None = None,
    ) -> Endpoint:
        return Endpoint(
            operation=operation, what=what, permission=permission, not_found=not_found,
            gone=gone, invalid=invalid,
        )  # fmt: skip

    # -- repository, commits, tarballs ----------------------------------------------------------

    def get(self) -> Repository:
        """The repository (GET /repos/{owner}/{repo})."""
        endpoint = self._endpoint("repos/get", f"repository {self.slug}", "metadata:read")
        data = self.client.request_json("GET", self._path(), endpoint=endpoint)
        return _parse(Repository.from_json, data, endpoint)

    def commit(self, ref: str) -> Commit:
        """The commit a branch, tag or SHA names (GET /repos/{owner}/{repo}/commits/{ref})."""
        endpoint = self._ref_endpoint("repos/get-commit", ref)
        data = self.client.request_json("GET", self._path("commits", ref), endpoint=endpoint)
        return _parse(Commit.from_json, data, endpoint)

    def resolve_ref(self, ref: str) -> str:
        """The commit SHA a branch, tag or SHA names: the same endpoint with GitHub's `sha`
        media type, which answers the 40 hex digits alone instead of the commit and its diff."""
        endpoint = self._ref_endpoint("repos/get-commit", ref)
        reply = self.client.request(
            "GET", self._path("commits", ref), endpoint=endpoint,
            accept="application/vnd.github.sha",
        )  # fmt: skip
        sha = reply.body.decode("ascii", "replace").strip()
        if not re.fullmatch(r"[0-9a-f]{40}|[0-9a-f]{64}", sha):
            raise EndpointError(
                f"GitHub answered {endpoint.what} with {sha[:60]!r}, not a commit SHA"
            ).add_context(operation=endpoint.operation)
        return sha

    def _ref_endpoint(self, operation: str, ref: str) -> Endpoint:
        if not ref or ref.strip() != ref:
            raise UsageError(f"{ref!r} is not a git ref — give a branch, tag or commit SHA")
        return self._endpoint(
            operation, f"{ref} of {self.slug}", "contents:read",
            not_found=f"no commit, branch or tag {ref!r} in {self.slug}, or the token cannot see"
            " the repository",
            invalid=f"no commit, branch or tag {ref!r} in {self.slug}",
        )  # fmt: skip

    def download_tarball(
        self, ref: str, dest: Path, *, max_bytes: int = DEFAULT_MAX_DOWNLOAD
    ) -> Downloaded:
        """The gzipped tar of the tree at `ref` into `dest` (GET .../tarball/{ref}, which GitHub
        redirects to its archive host; the token goes no further than the API)."""
        endpoint = self._ref_endpoint("repos/download-tarball-archive", ref)
        return self.client.download(
            self._path("tarball", ref), dest, endpoint=endpoint, max_bytes=max_bytes
        )

    # -- releases and their assets ---------------------------------------------------------------

    def releases(self) -> Iterator[Release]:
        """Every release, newest first (drafts only where the token may push)."""
        endpoint = self._endpoint("repos/list-releases", f"the releases of {self.slug}",
                                  "contents:read")  # fmt: skip
        for data in self.client.paginate(self._path("releases"), endpoint=endpoint):
            yield _parse(Release.from_json, data, endpoint)

    def release_by_tag(self, tag: str) -> Release:
        endpoint = self._endpoint(
            "repos/get-release-by-tag", f"release {tag} of {self.slug}", "contents:read",
            not_found=f"no published release for tag {tag!r} in {self.slug}, or the token cannot"
            " see the repository",
        )  # fmt: skip
        data = self.client.request_json("GET", self._path("releases", "tags", tag),
                                        endpoint=endpoint)  # fmt: skip
        return _parse(Release.from_json, data, endpoint)

    def latest_release(self) -> Release:
        """The latest published full release (not a draft, not a prerelease)."""
        endpoint = self._endpoint(
            "repos/get-latest-release", f"the latest release of {self.slug}", "contents:read",
            not_found=f"{self.slug} has no published release (drafts and prereleases do not"
            " count), or the token cannot see it",
        )  # fmt: skip
        data = self.client.request_json("GET", self._path("releases", "latest"),
                                        endpoint=endpoint)  # fmt: skip
        return _parse(Release.from_json, data, endpoint)

    def release_assets(self, release_id: int) -> Iterator[ReleaseAsset]:
        endpoint = self._endpoint("repos/list-release-assets",
                                  f"the assets of release {release_id} of {self.slug}",
                                  "contents:read")  # fmt: skip
        path = self._path("releases", release_id, "assets")
        for data in self.client.paginate(path, endpoint=endpoint):
            yield _parse(ReleaseAsset.from_json, data, endpoint)

    def release_asset(self, asset_id: int) -> ReleaseAsset:
        what = f"release asset {asset_id} of {self.slug}"
        endpoint = self._endpoint("repos/get-release-asset", what, "contents:read")
        data = self.client.request_json("GET", self._path("releases", "assets", asset_id),
                                        endpoint=endpoint)  # fmt: skip
        return _parse(ReleaseAsset.from_json, data, endpoint)

    def download_release_asset(
        self, asset: ReleaseAsset, dest: Path, *, max_bytes: int = DEFAULT_MAX_DOWNLOAD
    ) -> Downloaded:
        """The asset's bytes into `dest`, checked against its size and, where GitHub lists one,
        its SHA-256 `digest`. An asset still uploading (state "open") is refused."""
        what = f"release asset {asset.name!r} of {self.slug}"
        if asset.state != "uploaded":
            raise TransferError(
                f"{what} is still being uploaded (state {asset.state!r}) — wait for the upload"
                " to finish, then try again"
            ).add_context(operation="repos/get-release-asset")
        endpoint = self._endpoint("repos/get-release-asset", what, "contents:read")
        return self.client.download(
            self._path("releases", "assets", asset.id), dest, endpoint=endpoint,
            accept=MEDIA_RAW, max_bytes=max_bytes, size=asset.size, sha256=asset.sha256,
        )  # fmt: skip

    # -- Actions artifacts -----------------------------------------------------------------------

    def run_artifacts(self, run_id: int, *, name: str | None = None) -> Iterator[Artifact]:
        """The artifacts of workflow run `run_id` (only those called `name`, when given)."""
        endpoint = self._endpoint(
            "actions/list-workflow-run-artifacts",
            f"the artifacts of run {run_id} of {self.slug}", "actions:read",
            not_found=f"no workflow run {run_id} in {self.slug}, or the token cannot see it",
        )  # fmt: skip
        params = {"name": name} if name else None
        path = self._path("actions", "runs", run_id, "artifacts")
        for data in self.client.paginate(path, endpoint=endpoint, params=params,
                                         items_key="artifacts"):  # fmt: skip
            yield _parse(Artifact.from_json, data, endpoint)

    def download_artifact(
        self, artifact: Artifact, dest: Path, *, max_bytes: int = DEFAULT_MAX_DOWNLOAD
    ) -> Downloaded:
        """The artifact's zip into `dest`, checked against its `digest` where GitHub lists one.
        An expired artifact fails with that said, before or after asking."""
        what = f"artifact {artifact.name!r} ({artifact.id}) of {self.slug}"
        expired = (
            f"{what} has expired — GitHub deletes artifacts after their retention period;"
            " run the workflow again to make it anew"
        )
        if artifact.expired:
            raise ObjectNotFound(expired).add_context(
                status=410, operation="actions/download-artifact"
            )
        endpoint = self._endpoint("actions/download-artifact", what, "actions:read",
                                  gone=expired)  # fmt: skip
        return self.client.download(
            self._path("actions", "artifacts", artifact.id, "zip"), dest, endpoint=endpoint,
            max_bytes=max_bytes, sha256=artifact.sha256,
        )  # fmt: skip

    # -- pull-request comments -------------------------------------------------------------------

    def issue_comments(self, number: int) -> Iterator[IssueComment]:
        """The comments of issue or pull request `number`, oldest first."""
        endpoint = self._endpoint(
            "issues/list-comments", f"the comments of #{number} in {self.slug}",
            "pull_requests:read",
            not_found=f"no issue or pull request #{number} in {self.slug}, or the token cannot"
            " see it",
        )  # fmt: skip
        path = self._path("issues", number, "comments")
        for data in self.client.paginate(path, endpoint=endpoint):
            yield _parse(IssueComment.from_json, data, endpoint)

    def create_comment(self, number: int, body: str) -> IssueComment:
        endpoint = self._endpoint(
            "issues/create-comment", f"a comment on #{number} in {self.slug}",
            "pull_requests:write",
            not_found=f"no issue or pull request #{number} in {self.slug}, or the token cannot"
            " see it",
        )  # fmt: skip
        data = self.client.request_json("POST", self._path("issues", number, "comments"),
                                        endpoint=endpoint, body={"body": body})  # fmt: skip
        return _parse(IssueComment.from_json, data, endpoint)

    def update_comment(self, comment_id: int, body: str) -> IssueComment:
        endpoint = self._endpoint(
            "issues/update-comment", f"comment {comment_id} in {self.slug}",
            "pull_requests:write",
        )  # fmt: skip
        data = self.client.request_json("PATCH", self._path("issues", "comments", comment_id),
                                        endpoint=endpoint, body={"body": body})  # fmt: skip
        return _parse(IssueComment.from_json, data, endpoint)

    def upsert_sticky_comment(self, number: int, key: str, body: str) -> IssueComment:
        """Keep one comment of s3kit's on #`number` for `key`: the comment carrying its hidden
        marker is updated (not at all when it says this already), or a new one is made."""
        text = f"{sticky_marker(key)}\n{body}"
        found = find_sticky(self.issue_comments(number), key)
        if found is None:
            return self.create_comment(number, text)
        if found.body == text:
            return found
        return self.update_comment(found.id, text)

    # -- deployments -----------------------------------------------------------------------------

    def create_deployment(
        self,
        ref: str,
        *,
        environment: str,
        description: str = "",
        transient_environment: bool = False,
        production_environment: bool | None = None,
        task: str = "deploy",
        payload: Mapping[str, Any] | None = None,
    ) -> Deployment:
        """Record a deployment of `ref` to `environment`. Never merges the default branch into
        `ref` (auto_merge false) and never waits on commit statuses (required_contexts []):
        s3kit deploys exactly the commit it was given."""
        endpoint = self._endpoint("repos/create-deployment",
                                  f"a deployment of {ref} to {environment} in {self.slug}",
                                  "deployments:write")  # fmt: skip
        body: dict[str, Any] = {
            "ref": ref,
            "task": task,
            "environment": environment,
            "description": description,
            "auto_merge": False,
            "required_contexts": [],
            "transient_environment": transient_environment,
        }
        if production_environment is not None:
            body["production_environment"] = production_environment
        if payload is not None:
            body["payload"] = dict(payload)
        reply = self.client.request("POST", self._path("deployments"), endpoint=endpoint,
                                    body=body)  # fmt: skip
        if reply.status != 201:
            raise ConflictError(
                f"GitHub did not create {endpoint.what} (answered {reply.status}:"
                f" {reply.body[:200].decode('utf-8', 'replace')})"
            ).add_context(status=reply.status, operation=endpoint.operation)
        data = self.client.decode(reply, endpoint)
        return _parse(Deployment.from_json, data, endpoint)

    def create_deployment_status(
        self,
        deployment_id: int,
        state: DeploymentState,
        *,
        environment_url: str = "",
        log_url: str = "",
        description: str = "",
        environment: str | None = None,
        auto_inactive: bool | None = None,
    ) -> DeploymentStatus:
        """Set the state of deployment `deployment_id` (its description cut to GitHub's 140
        characters)."""
        endpoint = self._endpoint("repos/create-deployment-status",
                                  f"the status of deployment {deployment_id} in {self.slug}",
                                  "deployments:write")  # fmt: skip
        if len(description) > _DESCRIPTION_MAX:
            description = description[: _DESCRIPTION_MAX - 1] + "…"
        body: dict[str, Any] = {
            "state": state,
            "environment_url": environment_url,
            "log_url": log_url,
            "description": description,
        }
        if environment is not None:
            body["environment"] = environment
        if auto_inactive is not None:
            body["auto_inactive"] = auto_inactive
        path = self._path("deployments", deployment_id, "statuses")
        data = self.client.request_json("POST", path, endpoint=endpoint, body=body)
        return _parse(DeploymentStatus.from_json, data, endpoint)

    # -- pull requests ---------------------------------------------------------------------------

    def pulls(
        self, state: PullState = "open", *, head: str | None = None, base: str | None = None
    ) -> Iterator[PullRequest]:
        """The pull requests in `state`; `head` ("owner:branch") and `base` narrow the list."""
        if state not in ("open", "closed", "all"):
            raise UsageError(f"pull request state {state!r}: use open, closed or all")
        endpoint = self._endpoint("pulls/list", f"the {state} pull requests of {self.slug}",
                                  "pull_requests:read")  # fmt: skip
        params: dict[str, str | int] = {"state": state}
        if head:
            params["head"] = head
        if base:
            params["base"] = base
        for data in self.client.paginate(self._path("pulls"), endpoint=endpoint, params=params):
            yield _parse(PullRequest.from_json, data, endpoint)


__all__ = [
    "Artifact",
    "Commit",
    "Deployment",
    "DeploymentState",
    "DeploymentStatus",
    "GitHubRepo",
    "IssueComment",
    "PullRequest",
    "PullState",
    "Release",
    "ReleaseAsset",
    "Repository",
    "find_sticky",
    "sticky_marker",
]
