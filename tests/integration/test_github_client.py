"""s3kit's GitHub client against the GitHub stand-in (tests/github_standin.py), whose every
answer is checked against GitHub's OpenAPI description: each endpoint s3kit uses, the scripted
rate limits and faults, and the token kept to the API's own host."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from s3kit.errors import CredentialsError, ObjectNotFound, Throttled, TransferError, UsageError
from s3kit.github import GitHubClient, GitHubRepo, RateLimitPolicy, find_sticky, sticky_marker
from tests import github_support
from tests.github_standin import Fault, GitHubStandIn, running_standin
from tests.github_support import FakeTime, client_of

pytestmark = github_support.NEEDS_OPENAPI


standin = github_support.standin


@pytest.fixture
def clock() -> FakeTime:
    return FakeTime()


@pytest.fixture
def client(standin: GitHubStandIn, clock: FakeTime) -> Iterator[GitHubClient]:
    with client_of(standin, clock) as made:
        yield made


def no_token_reached_the_download_host(standin: GitHubStandIn) -> bool:
    return bool(standin.object_requests) and all(
        request.authorization is None and request.status == 200
        for request in standin.object_requests
    )


def test_repository_commit_and_ref(standin: GitHubStandIn, client: GitHubClient) -> None:
    repo = standin.add_repo("octo/site", private=True)
    sha = repo.add_commit("Deploy me", tags=("v1.0",))
    github = GitHubRepo(client, "octo/site")
    info = github.get()
    assert (info.full_name, info.default_branch, info.private) == ("octo/site", "main", True)
    commit = github.commit("main")
    assert commit.sha == sha and commit.message == "Deploy me" and len(commit.parents) == 1
    assert github.resolve_ref("v1.0") == sha
    assert github.resolve_ref(sha[:10]) == sha
    with pytest.raises(UsageError, match="no commit, branch or tag 'nope' in octo/site"):
        github.resolve_ref("nope")


def test_tarball_is_downloaded_from_the_archive_host_without_the_token(
    standin: GitHubStandIn, client: GitHubClient, tmp_path: Path
) -> None:
    repo = standin.add_repo("octo/site", private=True)
    tarball = b"\x1f\x8b fake gzip " * 1000
    sha = repo.add_commit("release", tarball=tarball)
    done = GitHubRepo(client, "octo/site").download_tarball(sha, tmp_path / "site.tar.gz")
    assert (tmp_path / "site.tar.gz").read_bytes() == tarball
    assert done.sha256 == hashlib.sha256(tarball).hexdigest()
    assert standin.object_requests[0].path == f"/codeload/octo/site/legacy.tar.gz/{sha}"
    assert no_token_reached_the_download_host(standin)
    api = standin.requests_for("repos/download-tarball-archive")[0]
    assert api.headers["authorization"] == f"Bearer {standin.token}"


def test_releases_by_list_tag_and_latest(standin: GitHubStandIn, client: GitHubClient) -> None:
    repo = standin.add_repo("octo/site")
    repo.add_release("v1.0", assets={"site.tar.gz": b"one"})
    repo.add_release("v2.0-rc1", prerelease=True)
    repo.add_release("v3.0-draft", draft=True)
    github = GitHubRepo(client, "octo/site")
    assert [r.tag_name for r in github.releases()] == ["v3.0-draft", "v2.0-rc1", "v1.0"]
    by_tag = github.release_by_tag("v1.0")
    assert [a.name for a in by_tag.assets] == ["site.tar.gz"]
    assert by_tag.assets[0].sha256 == hashlib.sha256(b"one").hexdigest()
    assert github.latest_release().tag_name == "v1.0"
    with pytest.raises(ObjectNotFound, match=r"no published release for tag 'v3\.0-draft'"):
        github.release_by_tag("v3.0-draft")


def test_no_latest_release_says_why(standin: GitHubStandIn, client: GitHubClient) -> None:
    standin.add_repo("octo/site").add_release("v0.1-rc", prerelease=True)
    with pytest.raises(ObjectNotFound, match="has no published release"):
        GitHubRepo(client, "octo/site").latest_release()


def test_release_assets_listed_and_downloaded(
    standin: GitHubStandIn, client: GitHubClient, tmp_path: Path
) -> None:
    repo = standin.add_repo("octo/site")
    release = repo.add_release("v1.0")
    data = bytes(range(256)) * 400
    repo.add_asset(release, "site.tar.gz", data)
    repo.add_asset(release, "old.zip", b"no digest here", digest=None)
    repo.add_asset(release, "direct.bin", b"streamed by the API", direct=True)
    repo.add_asset(release, "partial.bin", b"half", state="open")
    github = GitHubRepo(client, "octo/site")
    assets = {a.name: a for a in github.release_assets(release.id)}
    assert assets["site.tar.gz"].size == len(data) and assets["old.zip"].sha256 is None
    assert github.release_asset(assets["site.tar.gz"].id) == assets["site.tar.gz"]
    github.download_release_asset(assets["site.tar.gz"], tmp_path / "site.tar.gz")
    github.download_release_asset(assets["old.zip"], tmp_path / "old.zip")
    github.download_release_asset(assets["direct.bin"], tmp_path / "direct.bin")
    assert (tmp_path / "site.tar.gz").read_bytes() == data
    assert (tmp_path / "old.zip").read_bytes() == b"no digest here"
    assert (tmp_path / "direct.bin").read_bytes() == b"streamed by the API"
    assert no_token_reached_the_download_host(standin)
    assert len(standin.object_requests) == 2  # direct.bin came from the API itself
    with pytest.raises(TransferError, match="still being uploaded \\(state 'open'\\)"):
        github.download_release_asset(assets["partial.bin"], tmp_path / "partial.bin")
    assert not (tmp_path / "partial.bin").exists()


def test_a_wrong_asset_digest_leaves_nothing(
    standin: GitHubStandIn, client: GitHubClient, tmp_path: Path
) -> None:
    repo = standin.add_repo("octo/site")
    release = repo.add_release("v1.0")
    repo.add_asset(release, "site.tar.gz", b"tampered", digest="sha256:" + "ab" * 32)
    github = GitHubRepo(client, "octo/site")
    (asset,) = github.release_assets(release.id)
    (tmp_path / "site.tar.gz").write_bytes(b"the previous download")
    with pytest.raises(TransferError, match="GitHub lists — nothing was written"):
        github.download_release_asset(asset, tmp_path / "site.tar.gz")
    assert [p.name for p in tmp_path.iterdir()] == ["site.tar.gz"]
    assert (tmp_path / "site.tar.gz").read_bytes() == b"the previous download"


def test_artifacts_listed_downloaded_and_expired(
    standin: GitHubStandIn, client: GitHubClient, tmp_path: Path
) -> None:
    repo = standin.add_repo("octo/site")
    repo.add_artifact(77, "site", b"PK\x03\x04 site zip")
    repo.add_artifact(77, "coverage", b"PK\x03\x04 coverage zip")
    repo.add_artifact(78, "site", b"PK\x03\x04 other run")
    old = repo.add_artifact(77, "old-site", b"PK gone", expired=True)
    github = GitHubRepo(client, "octo/site")
    found = {a.name: a for a in github.run_artifacts(77)}
    assert sorted(found) == ["coverage", "old-site", "site"]
    assert [a.name for a in github.run_artifacts(77, name="site")] == ["site"]
    done = github.download_artifact(found["site"], tmp_path / "site.zip")
    assert (tmp_path / "site.zip").read_bytes() == b"PK\x03\x04 site zip"
    assert done.sha256 == found["site"].sha256
    assert no_token_reached_the_download_host(standin)
    with pytest.raises(ObjectNotFound, match=r"'old-site' .* has expired"):
        github.download_artifact(found["old-site"], tmp_path / "old.zip")
    # Listed before it expired, asked for after: GitHub answers 410 Gone.
    listed = found["coverage"]
    next(a for a in repo.artifacts if a.name == "coverage").expired = True
    with pytest.raises(ObjectNotFound, match=r"'coverage' .* has expired — GitHub deletes") as gone:
        github.download_artifact(listed, tmp_path / "coverage.zip")
    assert gone.value.status == 410
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site.zip"]
    assert old.expired


def test_sticky_comment_is_created_then_updated_in_place(
    standin: GitHubStandIn, client: GitHubClient
) -> None:
    repo = standin.add_repo("octo/site")
    repo.add_pull(12, "Change the header")
    repo.add_comment(12, "Looks good!")
    github = GitHubRepo(client, "octo/site")
    first = github.upsert_sticky_comment(12, "deploy-preview", "Preview: http://one.example/")
    second = github.upsert_sticky_comment(12, "deploy-preview", "Preview: http://two.example/")
    again = github.upsert_sticky_comment(12, "deploy-preview", "Preview: http://two.example/")
    assert first.id == second.id == again.id
    comments = list(github.issue_comments(12))
    assert [c.body for c in comments] == [
        "Looks good!",
        f"{sticky_marker('deploy-preview')}\nPreview: http://two.example/",
    ]
    assert find_sticky(comments, "deploy-preview") == comments[1]
    assert len(standin.requests_for("issues/create-comment")) == 1
    assert len(standin.requests_for("issues/update-comment")) == 1  # the third changed nothing
    plain = github.create_comment(12, "a plain one")
    assert github.update_comment(plain.id, "edited").body == "edited"


def test_comments_are_read_over_three_pages(standin: GitHubStandIn, client: GitHubClient) -> None:
    repo = standin.add_repo("octo/site")
    repo.add_issue(5)
    for n in range(205):
        repo.add_comment(5, f"comment {n}")
    bodies = [c.body for c in GitHubRepo(client, "octo/site").issue_comments(5)]
    assert bodies == [f"comment {n}" for n in range(205)]
    pages = standin.requests_for("issues/list-comments")
    assert [r.path for r in pages] == [
        "/repos/octo/site/issues/5/comments",
        f"/repositories/{repo.id}/issues/5/comments",
        f"/repositories/{repo.id}/issues/5/comments",
    ]
    assert [r.query["page"] for r in pages[1:]] == [["2"], ["3"]]
    assert all(r.query["per_page"] == ["100"] for r in pages)


def test_deployment_and_its_status(standin: GitHubStandIn, client: GitHubClient) -> None:
    repo = standin.add_repo("octo/site")
    sha = repo.add_commit("feature work", branch="feature")
    github = GitHubRepo(client, "octo/site")
    deployment = github.create_deployment(
        sha, environment="pr-12", description="s3kit preview", transient_environment=True,
        production_environment=False, payload={"bucket": "previews"},
    )  # fmt: skip
    assert (deployment.sha, deployment.environment) == (sha, "pr-12")
    assert deployment.transient_environment and not deployment.production_environment
    sent = repo.deployments[0].request
    assert sent["auto_merge"] is False and sent["required_contexts"] == []
    status = github.create_deployment_status(
        deployment.id, "success", environment_url="https://pr-12.example.com/",
        log_url="https://ci.example.com/run/1", description="x" * 200,
    )  # fmt: skip
    assert status.state == "success" and status.environment == "pr-12"
    assert status.environment_url == "https://pr-12.example.com/"
    assert len(status.description) == 140
    with pytest.raises(UsageError, match="No ref found for: nope"):
        github.create_deployment("nope", environment="pr-12")


def test_pull_requests_by_state(standin: GitHubStandIn, client: GitHubClient) -> None:
    repo = standin.add_repo("octo/site")
    repo.add_pull(1, "Merged one", state="closed", merged=True, head_ref="one")
    repo.add_pull(2, "Abandoned", state="closed", head_ref="two")
    repo.add_pull(3, "Open one", head_ref="three", draft=True)
    github = GitHubRepo(client, "octo/site")
    assert [p.number for p in github.pulls("open")] == [3]
    closed = list(github.pulls("closed"))
    assert [(p.number, p.merged_at is not None) for p in closed] == [(2, False), (1, True)]
    assert [p.number for p in github.pulls("all")] == [3, 2, 1]
    assert [p.number for p in github.pulls("all", head="octo:two")] == [2]
    opened = next(iter(github.pulls()))
    assert (opened.head_ref, opened.base_ref, opened.draft) == ("three", "main", True)


@pytest.mark.parametrize(
    ("faults", "waits"),
    [
        ([Fault.retry_after(3)], [3.0]),
        ([Fault.retry_after(4, status=429)], [4.0]),
        ([Fault.too_many_requests(), Fault.secondary()], [60.0, 120.0]),
        ([Fault.primary(reset=1_700_000_042)], [43.0]),
    ],
    ids=["403-retry-after", "429-retry-after", "429-then-secondary", "primary-reset"],
)
def test_rate_limits_are_waited_out(
    standin: GitHubStandIn,
    client: GitHubClient,
    clock: FakeTime,
    faults: list[Fault],
    waits: list[float],
) -> None:
    standin.add_repo("octo/site")
    standin.fail("repos/get", *faults)
    assert GitHubRepo(client, "octo/site").get().full_name == "octo/site"
    assert clock.sleeps == waits
    assert len(standin.requests_for("repos/get")) == len(faults) + 1


def test_a_limit_reset_too_far_away_fails_at_once(standin: GitHubStandIn, clock: FakeTime) -> None:
    standin.add_repo("octo/site")
    standin.fail("pulls/list", Fault.primary(reset=1_700_000_000 + 2 * 3600))
    client = client_of(standin, clock, rate_limits=RateLimitPolicy(max_wait=600))
    with pytest.raises(Throttled, match=r"in 2\.0 h .* longer than the 10 min s3kit waits"):
        list(GitHubRepo(client, "octo/site").pulls())
    assert clock.sleeps == []


def test_private_repository_without_a_token(standin: GitHubStandIn) -> None:
    standin.add_repo("octo/secret", private=True)
    client = GitHubClient(api_url=standin.api_url, env={})
    with pytest.raises(ObjectNotFound, match="or it is private — set GITHUB_TOKEN"):
        GitHubRepo(client, "octo/secret").get()


def test_a_refused_token_says_what_to_set(standin: GitHubStandIn) -> None:
    standin.add_repo("octo/site")
    client = GitHubClient(env={"GITHUB_TOKEN": "ghp_wrong", "GITHUB_API_URL": standin.api_url})
    with pytest.raises(CredentialsError) as caught:
        list(GitHubRepo(client, "octo/site").releases())
    assert str(caught.value) == (
        "GitHub refused the token — set GITHUB_TOKEN to a token with contents:read"
    )
    assert "ghp_wrong" not in repr(caught.value)


def test_github_enterprise_server_shape(tmp_path: Path) -> None:
    with running_standin(prefix="/api/v3") as ghes:
        repo = ghes.add_repo("corp/site", private=True)
        release = repo.add_release("v1")
        repo.add_asset(release, "site.tar.gz", b"enterprise bytes")
        client = GitHubClient(env={"GITHUB_API_URL": ghes.api_url, "GH_TOKEN": ghes.token})
        github = GitHubRepo(client, "corp/site")
        assert client.api_url.endswith("/api/v3")
        asset = github.latest_release().assets[0]
        github.download_release_asset(asset, tmp_path / "site.tar.gz")
        assert (tmp_path / "site.tar.gz").read_bytes() == b"enterprise bytes"
        assert all(r.path.startswith("/api/v3/") for r in ghes.requests)
        assert no_token_reached_the_download_host(ghes)


def test_every_request_sent_githubs_headers(standin: GitHubStandIn, client: GitHubClient) -> None:
    standin.add_repo("octo/site").add_pull(1, "x")
    github = GitHubRepo(client, "octo/site")
    github.get()
    list(github.pulls())
    for request in standin.requests:
        assert request.headers["x-github-api-version"] == "2022-11-28"
        assert request.headers["accept"] == "application/vnd.github+json"
        assert request.headers["user-agent"].startswith("s3kit/")
