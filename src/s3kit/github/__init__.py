"""GitHub's REST API for s3kit's deploy features: the client (`client`: token, rate limits,
redirects, pagination, downloads; GitHub's rules for them, pure, in `rules`) and typed calls on
one repository (`api.GitHubRepo`).

A small client of s3kit's own over urllib3 rather than an SDK: GitHub's rules for well-behaved
clients (serial calls, rate-limit waits, the token kept to the API's own host) live in one
place, and importing this package costs no more than urllib3. It is not part of `s3kit`'s
top-level names; import it as `s3kit.github`.
"""

from __future__ import annotations

from s3kit.github.api import (
    Artifact,
    Commit,
    Deployment,
    DeploymentState,
    DeploymentStatus,
    GitHubRepo,
    IssueComment,
    PullRequest,
    PullState,
    Release,
    ReleaseAsset,
    Repository,
    find_sticky,
    sticky_marker,
)
from s3kit.github.client import Downloaded, GitHubClient, Reply
from s3kit.github.rules import Endpoint, RateLimitPolicy, RateLimitWait

__all__ = [
    "Artifact",
    "Commit",
    "Deployment",
    "DeploymentState",
    "DeploymentStatus",
    "Downloaded",
    "Endpoint",
    "GitHubClient",
    "GitHubRepo",
    "IssueComment",
    "PullRequest",
    "PullState",
    "RateLimitPolicy",
    "RateLimitWait",
    "Release",
    "ReleaseAsset",
    "Reply",
    "Repository",
    "find_sticky",
    "sticky_marker",
]
