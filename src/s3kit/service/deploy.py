"""Static-site deploys from S3Service: a local folder (`s3kit.deploy`), or a folder of a GitHub
repository at a branch, tag or commit (`s3kit.github.site`), by bucket name and prefix.

A façade only: the deploys are those modules' (lock, order, manifest, history), imported on
first use so that S3Service costs nothing more to import.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Literal

from s3kit._aio import async_twin
from s3kit._uri import S3Url, validate_bucket_name
from s3kit.service.base import ServiceBase

if TYPE_CHECKING:
    from s3kit.deploy.rules import DeployConfig
    from s3kit.deploy.run import DeployOutcome
    from s3kit.github.client import GitHubClient
    from s3kit.github.site import RepositoryDeploy


def _destination(bucket_name: str, prefix: str) -> S3Url:
    validate_bucket_name(bucket_name)
    key = prefix.strip("/")
    return S3Url(bucket_name, f"{key}/" if key else "")


class DeployMixin(ServiceBase):
    def deploy(
        self,
        bucket_name: str,
        source_dir: str | os.PathLike[str],
        *,
        prefix: str = "",
        config: DeployConfig | None = None,
        dryrun: bool = False,
        delete: Literal["deferred", "now"] = "deferred",
        max_delete: int | float | None = None,
        force: bool = False,
        commit: str | None = None,
    ) -> DeployOutcome:
        """Deploy the built site in `source_dir` to `bucket_name`/`prefix` (as `s3kit deploy`:
        only changes sent, assets before pages, removed files deleted after the grace period)."""
        from s3kit.deploy.run import deploy

        return deploy(
            self.session, source_dir, _destination(bucket_name, prefix), config=config,
            dryrun=dryrun, delete=delete, max_delete=max_delete, force=force, commit=commit,
        )  # fmt: skip

    def deploy_from_github(
        self,
        bucket_name: str,
        repository: str,
        *,
        branch: str = "main",
        source_dir: str = "dist",
        prefix: str = "",
        build: str | None = None,
        repo_url: str | None = None,
        config: DeployConfig | None = None,
        dryrun: bool = False,
        delete: Literal["deferred", "now"] = "deferred",
        max_delete: int | float | None = None,
        force: bool = False,
        only_if_changed: bool = False,
        github: GitHubClient | None = None,
        env: Mapping[str, str] | None = None,
    ) -> RepositoryDeploy:
        """Deploy folder `source_dir` of GitHub `repository` (OWNER/NAME) at `branch` (or a tag
        or commit SHA) to `bucket_name`/`prefix`, after running `build` with bash in the clone
        (as `s3kit github deploy`; `only_if_changed` is `s3kit github sync`). The commit is
        recorded in the deploy's manifest."""
        from s3kit.github.site import deploy_repository

        return deploy_repository(
            self.session, repository, _destination(bucket_name, prefix), ref=branch,
            path=source_dir, build=build, repo_url=repo_url, config=config, dryrun=dryrun,
            delete=delete, max_delete=max_delete, force=force, only_if_changed=only_if_changed,
            github=github, env=env,
        )  # fmt: skip

    # -- awaitable twins: the same calls on a worker thread (s3kit._aio.async_twin) ---------
    deploy_async = async_twin(deploy)
    deploy_from_github_async = async_twin(deploy_from_github)
