"""`s3kit github deploy | sync` and `s3kit github preview ...` end to end: real git (bare
repositories made here, cloned over file://), the GitHub stand-in (refs, comments, deployments,
pull requests; every answer checked against GitHub's OpenAPI description), SeaweedFS and moto
for the bucket. No internet."""

from __future__ import annotations

import base64
import json
import subprocess
import tempfile
import uuid
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from s3kit._session import Session
from s3kit.service import S3Service
from tests import github_support
from tests.conftest import Backend, CliInvoker, CliResult
from tests.github_standin import GitHubStandIn, StandInRepo
from tests.github_support import api_env, module_bucket
from tests.integration.cli_support import get, keys, put

pytestmark = github_support.NEEDS_OPENAPI

BUILD = """set -e
echo "building $(cat src/version.txt)"
mkdir -p dist/assets
cp src/index.html dist/index.html
cp src/app.js "dist/assets/app.$(cat src/version.txt).js"
echo "token:${GITHUB_TOKEN:-none}" > dist/env.txt
"""


def git(*args: str, cwd: Path | None = None) -> str:
    done = subprocess.run(
        ["git", "-c", "user.name=Site Bot", "-c", "user.email=bot@example.com",
         "-c", "init.defaultBranch=main", *args],
        cwd=cwd, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return done.stdout.strip()


class Origin:
    """A bare repository (the "remote", reached over file://) and a working copy to commit
    from. The bare one allows partial clones, as GitHub does."""

    def __init__(self, root: Path) -> None:
        self.bare = root / "site.git"
        self.work = root / "work"
        git("init", "--quiet", "--bare", str(self.bare))
        git("-C", str(self.bare), "config", "uploadpack.allowFilter", "true")
        git("init", "--quiet", str(self.work))
        git("-C", str(self.work), "remote", "add", "origin", self.url)

    @property
    def url(self) -> str:
        return self.bare.as_uri()

    def commit(self, files: dict[str, str | None], message: str = "change") -> str:
        for name, text in files.items():
            path = self.work / name
            if text is None:
                path.unlink()
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        git("-C", str(self.work), "add", "--all")
        git("-C", str(self.work), "commit", "--quiet", "-m", message)
        git("-C", str(self.work), "push", "--quiet", "origin", "main")
        return git("-C", str(self.work), "rev-parse", "HEAD")


def first_site(version: str = "v1") -> dict[str, str | None]:
    return {
        "build.sh": BUILD,
        "src/version.txt": version,
        "src/index.html": f"<!doctype html><h1>{version}</h1>",
        "src/app.js": f"console.log('{version}')",
        "public/index.html": f"<!doctype html><p>committed {version}</p>",
        "README.md": "the site",
    }


@pytest.fixture
def origin(tmp_path: Path) -> Origin:
    return Origin(tmp_path / "origin")


standin = github_support.standin


@pytest.fixture
def site_bucket(backend: Backend, shared_buckets: dict[str, tuple[Session, str]]) -> str:
    return module_bucket(backend, shared_buckets)[1]


@pytest.fixture
def prefix() -> str:
    return f"t{uuid.uuid4().hex[:10]}"


@pytest.fixture
def clones(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Where the temporary clones go, to see that none is left."""
    where = tmp_path / "tmp"
    where.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(where))
    return where


def _app() -> typer.Typer:
    """The `s3kit` command with the `github` group: the real one once cli/github.py registers
    these commands, else the same registration on the real root callback."""
    import typer.main

    from s3kit.cli import app as root
    from s3kit.cli import github_site

    group = typer.main.get_command(root.app).commands.get("github")  # type: ignore[attr-defined]
    if group is not None and {"deploy", "sync", "preview"} <= set(group.commands):
        return root.app
    app = typer.Typer(cls=root.S3KitGroup, pretty_exceptions_enable=False, rich_markup_mode=None)
    app.callback()(root.root)
    github = typer.Typer()
    github.command("deploy")(github_site.deploy)
    github.command("sync")(github_site.sync)
    preview = typer.Typer()
    preview.command("deploy")(github_site.preview_deploy)
    preview.command("remove")(github_site.preview_remove)
    preview.command("prune")(github_site.preview_prune)
    github.add_typer(preview, name="preview")
    app.add_typer(github, name="github")
    return app


class GitHubCli:
    def __init__(self, monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> None:
        self.monkeypatch = monkeypatch
        self.env = env
        self.app = _app()

    def __call__(self, *args: str, env: dict[str, str] | None = None) -> CliResult:
        with self.monkeypatch.context() as patch:
            for name in ("GITHUB_TOKEN", "GH_TOKEN", "GITHUB_API_URL", "GITHUB_SERVER_URL",
                         "GITHUB_REPOSITORY", "GITHUB_RUN_ID"):  # fmt: skip
                patch.delenv(name, raising=False)
            for name, value in {**self.env, **(env or {})}.items():
                patch.setenv(name, value)
            result = CliRunner().invoke(self.app, ["github", *args], catch_exceptions=False)
        return CliResult(result.exit_code, result.stdout, result.stderr, result.stdout_bytes)


@pytest.fixture
def gh(monkeypatch: pytest.MonkeyPatch, backend: Backend) -> GitHubCli:
    return GitHubCli(monkeypatch, backend.env())


def history(cli: CliInvoker, backend: Backend, where: str) -> list[dict[str, Any]]:
    result = cli("deploy", "history", where, "--json", env=backend.env())
    assert result.exit_code == 0, result.stderr
    records: list[dict[str, Any]] = json.loads(result.stdout)
    return records


# -- github deploy / sync -------------------------------------------------------------------------


def test_the_clone_is_partial_and_of_the_commit_resolved(origin: Origin, tmp_path: Path) -> None:
    from s3kit.github.git import Git

    first = origin.commit(first_site())
    sparse = tmp_path / "sparse"
    assert Git(env={}).clone(origin.url, "main", sparse, sparse="public") == first
    assert (sparse / "public" / "index.html").is_file() and (sparse / "README.md").is_file()
    assert not (sparse / "src").exists()  # neither checked out nor, being blobs, fetched
    assert git("-C", str(sparse), "config", "remote.origin.promisor") == "true"
    assert git("-C", str(sparse), "rev-list", "--count", "HEAD") == "1"  # shallow

    second = origin.commit({"README.md": "moved on"})
    pinned = tmp_path / "pinned"  # main moved after it was resolved: the resolved one is cloned
    assert Git(env={}).clone(origin.url, "main", pinned, sha=first) == first
    assert Git(env={}).clone(origin.url, second, tmp_path / "by-sha") == second
    assert Git(env={}).ls_remote(origin.url, "main") == second


def test_a_ref_is_built_deployed_and_its_commit_recorded(
    gh: GitHubCli, cli: CliInvoker, backend: Backend, site_bucket: str, prefix: str,
    origin: Origin, clones: Path,
) -> None:  # fmt: skip
    sha = origin.commit(first_site())
    where = f"s3://{site_bucket}/{prefix}"
    result = gh("deploy", "octo/site", where, "--ref", "main", "--path", "dist",
                "--build", "bash build.sh", "--repo-url", origin.url)  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert "building v1" in result.stderr  # the build's output, on stderr
    assert f"octo/site main is at {sha}" in result.stdout
    assert get(backend, site_bucket, f"{prefix}/index.html") == b"<!doctype html><h1>v1</h1>"
    assert f"{prefix}/assets/app.v1.js" in keys(backend, site_bucket, prefix)
    assert f"{prefix}/README.md" not in keys(backend, site_bucket, prefix)
    [record] = history(cli, backend, where)
    assert record["source"]["commit"] == sha and record["live"]
    assert list(clones.iterdir()) == []  # the clone is gone

    # Without --build the clone is partial: only the folder asked for (and the root's files).
    result = gh("deploy", "octo/site", where, "--path", "public", "--repo-url", origin.url,
                "--delete", "now", "--json")  # fmt: skip
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["commit"] == sha and document["deploy"]["uploaded"] == 1
    assert document["deploy"]["deleted"] == 2  # the built files left at once (--delete now)
    assert (
        get(backend, site_bucket, f"{prefix}/index.html") == b"<!doctype html><p>committed v1</p>"
    )
    assert list(clones.iterdir()) == []


def test_sync_does_nothing_at_the_same_commit_and_deploys_a_new_one(
    gh: GitHubCli, cli: CliInvoker, backend: Backend, site_bucket: str, prefix: str,
    origin: Origin, standin: GitHubStandIn, clones: Path,
) -> None:  # fmt: skip
    repo = standin.add_repo("octo/site")
    first = origin.commit(first_site())
    repo.refs["heads/main"] = first  # the API resolves the ref (a token is set)
    where = f"s3://{site_bucket}/{prefix}"
    args = ("sync", "octo/site", where, "--build", "bash build.sh")
    done = gh(*args, "--repo-url", origin.url, env=api_env(standin))
    assert done.exit_code == 0, done.stderr
    assert f"is at {first}" in done.stdout
    assert standin.requests_for("repos/get-commit")
    assert get(backend, site_bucket, f"{prefix}/env.txt") == b"token:none\n"  # not given to it

    # At the same commit: nothing cloned (this URL would fail), nothing written.
    again = gh(*args, "--repo-url", origin.url + "-gone", env=api_env(standin))
    assert again.exit_code == 0, again.stderr
    assert again.stdout == f"{where} already at {first} (octo/site main)\n"
    assert len(history(cli, backend, where)) == 1

    second = origin.commit({"src/version.txt": "v2", "src/index.html": "<h1>v2</h1>"})
    repo.refs["heads/main"] = second
    moved = gh(*args, "--repo-url", origin.url, "--json", env=api_env(standin))
    assert moved.exit_code == 0, moved.stderr
    assert json.loads(moved.stdout)["already"] is False
    assert [r["source"]["commit"] for r in history(cli, backend, where)] == [first, second]
    assert get(backend, site_bucket, f"{prefix}/index.html") == b"<h1>v2</h1>"
    assert list(clones.iterdir()) == []


def test_s3service_deploys_from_github_and_from_a_folder(
    backend: Backend, site_bucket: str, prefix: str, origin: Origin, tmp_path: Path
) -> None:
    sha = origin.commit(first_site())
    service = S3Service(backend.session())
    done = service.deploy_from_github(
        site_bucket, "octo/site", branch="main", source_dir="public", prefix=prefix,
        repo_url=origin.url, env={},
    )  # fmt: skip
    assert done.commit == sha and done.outcome is not None and done.outcome.uploaded == 1
    again = service.deploy_from_github(site_bucket, "octo/site", source_dir="public",
                                       prefix=prefix, repo_url=origin.url, env={},
                                       only_if_changed=True)  # fmt: skip
    assert again.already
    local = write_site(tmp_path / "local", {"index.html": "<h1>local</h1>"})
    outcome = service.deploy(site_bucket, local, prefix=f"{prefix}/local", commit="abc")
    assert outcome.deploy_id is not None
    assert get(backend, site_bucket, f"{prefix}/local/index.html") == b"<h1>local</h1>"


def test_a_failing_build_deploys_nothing_and_a_missing_folder_is_named(
    gh: GitHubCli, backend: Backend, site_bucket: str, prefix: str, origin: Origin,
    clones: Path,
) -> None:  # fmt: skip
    origin.commit(first_site())
    where = f"s3://{site_bucket}/{prefix}"
    failed = gh("deploy", "octo/site", where, "--repo-url", origin.url,
                "--build", "echo compiling; exit 3")  # fmt: skip
    assert failed.exit_code == 1
    lines = failed.stderr.splitlines()
    assert lines[0] == "compiling"
    assert lines[-1] == "s3kit: error: the build failed (exit code 3) — nothing was deployed"
    assert keys(backend, site_bucket, prefix) == []

    missing = gh("deploy", "octo/site", where, "--repo-url", origin.url, "--path", "site")
    assert missing.exit_code == 2
    assert missing.stderr.splitlines() == [
        f"s3kit: error: octo/site at {git('-C', str(origin.work), 'rev-parse', 'HEAD')[:12]}"
        " has no folder 'site' — check --path"
    ]
    built = gh("deploy", "octo/site", where, "--repo-url", origin.url, "--path", "out",
               "--build", "true")  # fmt: skip
    assert built.exit_code == 2 and "has no folder 'out' after the build" in built.stderr
    assert keys(backend, site_bucket, prefix) == []
    assert list(clones.iterdir()) == []


def test_the_token_never_appears_in_output_or_errors(
    monkeypatch: pytest.MonkeyPatch, standin: GitHubStandIn, tmp_path: Path, clones: Path
) -> None:
    """The clone goes to the stand-in's host (GITHUB_SERVER_URL), which has no git there: git
    fails, with the token sent in a header, never in the URL, and redacted everywhere."""
    repo = standin.add_repo("octo/site", private=True)
    gh = GitHubCli(monkeypatch, {**api_env(standin), "GITHUB_SERVER_URL": standin.html_url,
                                 "S3KIT_ENDPOINT_URL": "http://127.0.0.1:9"})  # fmt: skip
    basic = base64.b64encode(f"x-access-token:{standin.token}".encode()).decode()
    for extra in ((), ("--debug",)):
        result = gh("deploy", "octo/site", "s3://www/site", "--ref", "main", *extra)
        assert result.exit_code == 1
        assert "s3kit: error: git clone of main from http://127.0.0.1:" in result.stderr
        for text in (result.stdout, result.stderr):
            assert standin.token not in text and basic not in text
    sent = [r for r in standin.requests if r.path.startswith("/octo/site.git/")]
    assert sent and all(r.headers.get("authorization") == f"Basic {basic}" for r in sent)
    assert all(standin.token not in r.path for r in standin.requests)
    preview = gh("preview", "deploy", str(tmp_path), "s3://www/previews", "--repository",
                 repo.slug, "--pr", "1")  # fmt: skip
    assert preview.exit_code == 2 and "#1 of octo/site is not open" in preview.stderr
    assert standin.token not in preview.stderr + preview.stdout


# -- previews -------------------------------------------------------------------------------------


def write_site(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def sticky(repo: StandInRepo, number: int) -> list[str]:
    return [c.body for c in repo.comments if c.issue == number and "<!-- s3kit:preview" in c.body]


def test_a_preview_is_deployed_commented_once_and_removed(
    gh: GitHubCli, backend: Backend, site_bucket: str, prefix: str, standin: GitHubStandIn,
    tmp_path: Path,
) -> None:  # fmt: skip
    repo = standin.add_repo("octo/site")
    pull = repo.add_pull(7, "New landing page")
    repo.add_comment(7, "looks good")
    site = write_site(tmp_path / "dist", {"index.html": "<h1>v1</h1>", "old.js": "old()"})
    root = f"s3://{site_bucket}/{prefix}"
    args = ("preview", "deploy", str(site), root, "--repository", "octo/site", "--pr", "7",
            "--base-url", "https://previews.example.com/", "--deployment")  # fmt: skip
    first = gh(*args, "--json", env=api_env(standin))
    assert first.exit_code == 0, first.stderr
    document = json.loads(first.stdout)
    assert document["url"] == "https://previews.example.com/pr-7/"
    assert document["commit"] == pull.head_sha
    assert get(backend, site_bucket, f"{prefix}/pr-7/index.html") == b"<h1>v1</h1>"
    [body] = sticky(repo, 7)
    assert "https://previews.example.com/pr-7/" in body and pull.head_sha[:12] in body
    [deployment] = repo.deployments
    assert deployment.request["transient_environment"] is True
    assert deployment.request["auto_merge"] is False
    assert deployment.request["required_contexts"] == []
    assert deployment.sha == pull.head_sha
    [status] = deployment.statuses
    assert (status.state, status.environment_url) == ("success", document["url"])

    (site / "old.js").unlink()
    (site / "index.html").write_text("<h1>v2</h1>")
    second = gh(*args, env=api_env(standin))
    assert second.exit_code == 0, second.stderr
    assert "preview of #7: https://previews.example.com/pr-7/" in second.stdout
    assert len(repo.comments) == 2 and len(sticky(repo, 7)) == 1  # the same comment, updated
    assert sticky(repo, 7)[0] != body and "1 deleted" in sticky(repo, 7)[0]
    assert f"{prefix}/pr-7/old.js" not in keys(backend, site_bucket, prefix)  # no grace period
    assert [d.statuses[-1].state for d in repo.deployments] == ["inactive", "success"]
    assert standin.token not in first.stdout + first.stderr + second.stdout + second.stderr

    removed = gh("preview", "remove", root, "--repository", "octo/site", "--pr", "7",
                 env=api_env(standin))  # fmt: skip
    assert removed.exit_code == 0, removed.stderr
    assert "removed the preview of #7" in removed.stdout
    assert keys(backend, site_bucket, f"{prefix}/pr-7/") == []  # the site and its _s3kit/
    assert "**Preview of #7:** removed." in sticky(repo, 7)[0] and len(sticky(repo, 7)) == 1
    assert repo.deployments[-1].statuses[-1].state == "inactive"


def test_prune_removes_only_the_previews_of_closed_pull_requests(
    gh: GitHubCli, backend: Backend, site_bucket: str, prefix: str, standin: GitHubStandIn,
    tmp_path: Path,
) -> None:  # fmt: skip
    repo = standin.add_repo("octo/site")
    for number in range(1, 4):
        repo.add_pull(number, f"change {number}", head_ref=f"topic-{number}")
    for number in range(10, 131):  # closed pull requests over two pages
        repo.add_pull(number, "old", state="closed", head_ref="old")
    site = write_site(tmp_path / "dist", {"index.html": "<h1>preview</h1>"})
    root = f"s3://{site_bucket}/{prefix}"
    for number in (1, 2, 3):
        made = gh("preview", "deploy", str(site), root, "--repository", "octo/site",
                  "--pr", str(number), env=api_env(standin))  # fmt: skip
        assert made.exit_code == 0, made.stderr
    put(backend, site_bucket, {f"{prefix}/pr-5/index.html": b"not a pull request",
                               f"{prefix}/assets/shared.css": b"body{}"})  # fmt: skip
    for pull in repo.pulls:
        if pull.number in (1, 3):
            pull.state = "closed"  # closed, and the close event never reached the workflow

    dry = gh("preview", "prune", root, "--repository", "octo/site", "--dryrun", "--json",
             env=api_env(standin))  # fmt: skip
    assert dry.exit_code == 0, dry.stderr
    plan = json.loads(dry.stdout)
    assert [r["pr"] for r in plan["removed"]] == [1, 3]
    assert plan["kept"] == [
        {"pr": 2, "reason": "open"},
        {"pr": 5, "reason": "not listed as closed"},
    ]
    assert f"{prefix}/pr-1/index.html" in keys(backend, site_bucket, prefix)

    pruned = gh("preview", "prune", root, "--repository", "octo/site", env=api_env(standin))
    assert pruned.exit_code == 0, pruned.stderr
    left = keys(backend, site_bucket, prefix)
    assert not any(k.startswith((f"{prefix}/pr-1/", f"{prefix}/pr-3/")) for k in left)
    assert f"{prefix}/pr-2/index.html" in left and f"{prefix}/pr-5/index.html" in left
    assert f"{prefix}/assets/shared.css" in left
    assert "kept the preview of #2: the pull request is open" in pruned.stdout
    assert all(f"**Preview of #{n}:** removed." in sticky(repo, n)[0] for n in (1, 3))
    assert "**Preview of #2:** removed." not in sticky(repo, 2)[0]
    pages = [r.query.get("page", ["1"])[0] for r in standin.requests_for("pulls/list")
             if r.query.get("state") == ["closed"]]  # fmt: skip
    assert "2" in pages  # the closed list was read past its first page
