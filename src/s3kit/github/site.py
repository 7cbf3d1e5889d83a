"""Static sites from GitHub: deploy a repository's ref (`s3kit github deploy | sync`).

`deploy_repository` resolves a ref to its commit (through the API when there is a token, else
`git ls-remote`), clones that commit (shallow; only the site's folder when nothing is built),
runs the build, and deploys the folder with the commit recorded in the manifest, through
`s3kit.deploy` like any deploy. With `only_if_changed` (`s3kit github sync`) nothing is cloned
when the live deploy already records that commit. Pull-request previews are `preview`'s; the
address of a deployed site (`default_base_url`, `check_base_url`) serves both.

What it must never do: build code with the GitHub token in reach (the build runs without
GITHUB_TOKEN/GH_TOKEN); leave a clone behind.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from s3kit._aio import async_twin, run_sync
from s3kit._observe import logger as _root_logger
from s3kit._observe import redact
from s3kit._session import Session
from s3kit._uri import S3Url, parse_s3_url
from s3kit.deploy.plan import DeleteMode
from s3kit.deploy.rules import DeployConfig
from s3kit.deploy.run import DeployOutcome, deploy, read_manifest
from s3kit.errors import EndpointError, S3KitError, UsageError
from s3kit.github.api import GitHubRepo
from s3kit.github.client import GitHubClient
from s3kit.github.git import Git, remove_tree, repository_url, safe_path, server_url
from s3kit.github.rules import TOKEN_VARIABLES, resolve_token

log = _root_logger.getChild("github")

RULES_FILE = "s3kit-deploy.yaml"
# What `--build` runs in: bash as GitHub Actions runs a `run:` step (a failing command stops it).
BUILD_SHELL = ("bash", "--noprofile", "--norc", "-eo", "pipefail", "-c")

Output = Callable[[str], None]


class BuildFailed(S3KitError):
    """`--build` ended with a non-zero exit code: nothing was deployed."""


def _to_stderr(text: str) -> None:
    sys.stderr.write(text)
    sys.stderr.flush()


def destination_url(destination: S3Url | str) -> S3Url:
    return destination if isinstance(destination, S3Url) else parse_s3_url(destination)


@contextlib.contextmanager
def client_or_env(github: GitHubClient | None, env: Mapping[str, str]) -> Iterator[GitHubClient]:
    """`github`, or a client from the environment (GITHUB_TOKEN, GITHUB_API_URL) closed after."""
    if github is not None:
        yield github
        return
    with GitHubClient(env=env) as made:
        yield made


# -- the build -----------------------------------------------------------------------------------


def build_environment(env: Mapping[str, str]) -> dict[str, str]:
    """The environment a build runs in: the caller's, without the GitHub token."""
    return {name: value for name, value in env.items() if name not in TOKEN_VARIABLES}


def run_build(
    command: str,
    cwd: Path,
    *,
    env: Mapping[str, str],
    on_output: Output = _to_stderr,
    secrets: Iterable[str] = (),
) -> None:
    """Run `command` with bash in `cwd`, its output (stdout and stderr, in order) handed to
    `on_output` line by line with `secrets` masked. A non-zero exit raises `BuildFailed`; an
    interrupted build is stopped, with everything it started."""
    hidden = [secret for secret in secrets if secret]
    try:
        process = subprocess.Popen(
            [*BUILD_SHELL, command], cwd=cwd, env=dict(env), stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    except FileNotFoundError:
        raise UsageError("--build runs bash, which is not installed here") from None
    assert process.stdout is not None
    try:
        for raw in process.stdout:
            _emit(on_output, redact(raw.decode("utf-8", "replace"), hidden))
        code = process.wait()
    except BaseException:
        _stop(process)
        raise
    finally:
        process.stdout.close()
    if code != 0:
        how = f"exit code {code}" if code > 0 else f"signal {-code}"
        raise BuildFailed(f"the build failed ({how}) — nothing was deployed")


def _emit(on_output: Output, text: str) -> None:
    try:
        on_output(text)
    except Exception:  # a broken display must not break the build
        log.warning("the build output callback failed", exc_info=True)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """End the build and whatever it started (it runs in a process group of its own)."""
    for sig, wait in ((signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, sig)
        try:
            process.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


# -- deploy a repository -------------------------------------------------------------------------


@dataclass(slots=True, kw_only=True)
class RepositoryDeploy:
    """What `deploy_repository` did: the commit `ref` named, and the deploy of it (None: the
    destination was already at that commit, and nothing was cloned)."""

    repository: str
    ref: str
    commit: str
    destination: S3Url
    outcome: DeployOutcome | None = None

    @property
    def already(self) -> bool:
        return self.outcome is None

    @property
    def ok(self) -> bool:
        return self.outcome is None or self.outcome.ok

    def document(self) -> dict[str, Any]:
        return {
            "repository": self.repository,
            "ref": self.ref,
            "commit": self.commit,
            "destination": str(self.destination),
            "already": self.already,
            "deploy": None if self.outcome is None else self.outcome.document(),
        }


def resolve_commit(repo: GitHubRepo, ref: str, url: str, *, git: Git, use_api: bool) -> str:
    """The commit `ref` names: from the API with `use_api` (one request, short SHAs too), else
    — or when the API cannot be reached — from `git ls-remote url`."""
    if use_api:
        try:
            return repo.resolve_ref(ref)
        except EndpointError as exc:
            log.info("the GitHub API did not resolve %s (%s); asking git", ref, exc)
    return git.ls_remote(url, ref)


def deploy_repository(
    session: Session,
    repository: str,
    destination: S3Url | str,
    *,
    ref: str = "main",
    path: str = "dist",
    build: str | None = None,
    repo_url: str | None = None,
    config: DeployConfig | None = None,
    dryrun: bool = False,
    delete: DeleteMode = "deferred",
    max_delete: int | float | None = None,
    force: bool = False,
    only_if_changed: bool = False,
    github: GitHubClient | None = None,
    git: Git | None = None,
    env: Mapping[str, str] | None = None,
    on_output: Output = _to_stderr,
    workdir: Path | None = None,
) -> RepositoryDeploy:
    """Deploy folder `path` of GitHub repository `repository` (OWNER/NAME) at `ref` to
    `destination`, after running `build` (bash, in the clone) when given. The clone comes from
    `repo_url`, else GITHUB_SERVER_URL (https://github.com)/OWNER/NAME.git, and is removed
    afterwards whatever happens. The rules are `config`, else the repository's own
    s3kit-deploy.yaml (at its root), else the defaults. With `only_if_changed`, a destination
    whose live deploy records the commit already is left alone. `env` stands in for the
    environment (GITHUB_TOKEN / GH_TOKEN, GITHUB_SERVER_URL, GITHUB_API_URL); `github` and `git`
    for the API client and the git runner; `on_output` receives the build's output."""
    environ = dict(os.environ if env is None else env)
    target = destination_url(destination)
    folder = safe_path(path)
    if not ref or ref.strip() != ref or ref.startswith("-"):
        raise UsageError(f"--ref {ref!r} is not a branch, tag or commit SHA")
    token = resolve_token(None, environ)
    git = git or Git(token=token, server=server_url(environ), env=environ)
    url = repo_url or repository_url(repository, environ)
    with client_or_env(github, environ) as client:
        repo = GitHubRepo(client, repository)  # refuses what is not OWNER/NAME
        sha = resolve_commit(repo, ref, url, git=git, use_api=client.authenticated)
    if only_if_changed:
        live, _ = run_sync(read_manifest(session, target))
        if live is not None and live.source.get("commit") == sha:
            return RepositoryDeploy(repository=repo.slug, ref=ref, commit=sha, destination=target)
    work = Path(tempfile.mkdtemp(prefix="s3kit-github-", dir=workdir))
    try:
        clone = work / "repo"
        head = git.clone(url, ref, clone, sha=sha, sparse=None if build else folder)
        if build:
            run_build(build, clone, env=build_environment(environ), on_output=on_output,
                      secrets=[token] if token else [])  # fmt: skip
        site = _site_folder(clone, folder, f"{repo.slug} at {head[:12]}", built=bool(build))
        rules = config or _repository_rules(clone, f"{repo.slug}@{head[:12]}:{RULES_FILE}")
        outcome = deploy(
            session, site, target, config=rules, dryrun=dryrun, delete=delete,
            max_delete=max_delete, force=force, commit=head,
        )  # fmt: skip
    finally:
        remove_tree(work)
    return RepositoryDeploy(
        repository=repo.slug, ref=ref, commit=head, destination=target, outcome=outcome
    )


deploy_repository_async = async_twin(deploy_repository)


def _site_folder(clone: Path, folder: str, what: str, *, built: bool) -> Path:
    """The folder to deploy, which must be a folder inside the clone (not a link out of it)."""
    site = (clone / folder).resolve()
    after = " after the build" if built else ""
    if not site.is_dir():
        raise UsageError(f"{what} has no folder {folder!r}{after} — check --path")
    if site != clone.resolve() and clone.resolve() not in site.parents:
        raise UsageError(f"{what}: {folder!r} leads out of the repository — refused")
    return site


def _repository_rules(clone: Path, source: str) -> DeployConfig:
    from s3kit.deploy.rules_file import parse_deploy_config

    found = clone / RULES_FILE
    if not found.is_file():
        return DeployConfig()
    try:
        text = found.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read {source}: {type(exc).__name__}") from None
    return parse_deploy_config(text, source=source)


# -- the site's address ----------------------------------------------------------------------------


def check_base_url(base_url: str) -> str:
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"--base-url {base_url!r} is not an http(s) URL")
    return base_url


def default_base_url(session: Session, root: S3Url) -> str:
    """The root's address: its S3 website endpoint where one can be told (AWS), else its
    s3:// URL."""
    from s3kit.service import S3Service

    try:
        website = S3Service(session).website_url(root.bucket)
    except S3KitError:
        website = None
    if website is None:
        return f"s3://{root.bucket}/{root.folder}"
    return f"{website}/{root.folder}"


__all__ = [
    "BUILD_SHELL",
    "RULES_FILE",
    "BuildFailed",
    "RepositoryDeploy",
    "build_environment",
    "check_base_url",
    "client_or_env",
    "default_base_url",
    "deploy_repository",
    "deploy_repository_async",
    "destination_url",
    "resolve_commit",
    "run_build",
]
