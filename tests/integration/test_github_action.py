"""s3kit's GitHub Action end to end: the entry script (`python -m s3kit.github.action`) run as
the composite action runs it, with the INPUT_* variables action.yml sets, AWS_* credentials as
aws-actions/configure-aws-credentials leaves them, and $GITHUB_OUTPUT, $GITHUB_STEP_SUMMARY and
$GITHUB_EVENT_PATH files made here — against SeaweedFS and moto, and the GitHub stand-in for the
pull-request previews. No internet."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Backend
from tests.github_standin import OPENAPI_MISSING, GitHubStandIn, running_standin
from tests.integration.cli_support import get, keys
from tests.integration.proxy import FaultProxy, HeaderCase, Request
from tests.unit.test_github_action import outputs_of

SHA = "0123456789abcdef0123456789abcdef01234567"
MOTO_SECRET = "motoSecretNeverShown0123456789"  # moto's own is "testing", its key id too
SESSION_TOKEN = "IQoJb3JpZ2luX2VjEOIDCsessionTokenNeverShown/0123456789+abc=="
GITHUB_TOKEN = "ghs_actionTokenNeverShown0123456789abcdef"
MiB = 1024 * 1024


@dataclass
class Ran:
    code: int
    stdout: str
    stderr: str
    outputs: dict[str, str]
    summary: str | None


def job_env(backend: Backend, endpoint: str | None = None) -> dict[str, str]:
    """The step's environment as a job with OIDC credentials has it, pointed at `backend`."""
    secret = MOTO_SECRET if backend.name == "moto" else backend.secret_key
    return {
        "AWS_ACCESS_KEY_ID": backend.access_key,
        "AWS_SECRET_ACCESS_KEY": secret,
        "AWS_REGION": "us-east-1",
        "INPUT_ENDPOINT_URL": endpoint or backend.endpoint,
        "INPUT_GITHUB_TOKEN": GITHUB_TOKEN,
    }


def run_action(
    workspace: Path,
    inputs: dict[str, str],
    env: dict[str, str],
    event: dict[str, Any] | None = None,
) -> Ran:
    """Run the entry script once in `workspace`, as the action's run step does."""
    files = workspace.parent / f"{workspace.name}-runner"
    files.mkdir(exist_ok=True)
    output, summary, event_path = files / "output", files / "summary", files / "event.json"
    for path in (output, summary):
        path.unlink(missing_ok=True)
    event_path.write_text(json.dumps(event or {}))
    # The test session's environment (already without AWS_*/S3KIT_*), without what a runner of
    # the test session itself may have set.
    base = {
        k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "INPUT_", "RUNNER_"))
    }
    runner = {
        "GITHUB_OUTPUT": str(output),
        "GITHUB_STEP_SUMMARY": str(summary),
        "GITHUB_EVENT_PATH": str(event_path),
        "GITHUB_EVENT_NAME": "push",
        "GITHUB_REPOSITORY": "octo/site",
        "GITHUB_SHA": SHA,
        "GITHUB_WORKSPACE": str(workspace),
    }
    variables = {f"INPUT_{name.upper().replace('-', '_')}": value for name, value in inputs.items()}
    done = subprocess.run(
        [sys.executable, "-m", "s3kit.github.action"],
        cwd=workspace,
        env=base | runner | env | variables,
        capture_output=True,
        text=True,
        timeout=600,
    )
    return Ran(
        done.returncode,
        done.stdout,
        done.stderr,
        outputs_of(output) if output.exists() else {},
        summary.read_text(encoding="utf-8") if summary.exists() else None,
    )


def write_site(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    where = tmp_path / "workspace"
    where.mkdir()
    return where


def test_a_deploy_writes_its_outputs_and_summary(
    backend: Backend, bucket: str, workspace: Path
) -> None:
    write_site(
        workspace / "dist",
        {
            "index.html": "<h1>hi</h1>",
            "about.html": "<p>about</p>",
            "assets/app.3f2a9c1b.js": "app()",
        },
    )
    inputs = {"command": "deploy", "source": "dist", "destination": f"s3://{bucket}"}
    ran = run_action(workspace, inputs, job_env(backend))
    assert ran.code == 0, ran.stdout + ran.stderr
    assert ran.outputs["deploy-id"] and ran.outputs["uploaded"] == "3"
    assert (ran.outputs["deleted"], ran.outputs["invalidation-id"]) == ("0", "")
    assert ran.outputs["url"] == f"s3://{bucket}/"  # no website address off AWS
    assert f"deployed {ran.outputs['deploy-id']} to s3://{bucket}" in ran.stdout
    assert ran.summary is not None and ran.summary.startswith(f"### s3kit deploy to s3://{bucket}")
    assert "<code>assets/app.3f2a9c1b.js</code> (new)" in ran.summary
    assert get(backend, bucket, "index.html") == b"<h1>hi</h1>"
    live = json.loads(get(backend, bucket, "_s3kit/current.json"))
    assert live["source"]["commit"] == SHA  # the workflow's commit, recorded

    (workspace / "dist" / "about.html").unlink()
    again = run_action(workspace, inputs | {"delete": "now"}, job_env(backend))
    assert again.code == 0, again.stdout + again.stderr
    assert (again.outputs["uploaded"], again.outputs["deleted"]) == ("0", "1")
    assert "about.html" not in keys(backend, bucket)
    same = run_action(workspace, inputs, job_env(backend))
    assert same.code == 0 and same.outputs["deploy-id"] == ""  # nothing new went live
    assert f"s3://{bucket} already serves this site" in same.stdout


def test_the_summary_of_a_site_too_big_to_list_stays_under_a_mebibyte(
    seaweed: Backend, workspace: Path
) -> None:
    """On SeaweedFS only: the summary is the same on every store (its truncation is unit-tested
    on both lists), and a thousand PUTs cost moto's server much longer. 1,200 files: more than
    the 100 listed and than one 1,000-key listing page, with names long enough (~920 bytes,
    four folders near the 255-byte limit of a name) that listing them all would pass 1 MiB."""
    from s3kit.service import S3Service

    bucket = f"big-{os.urandom(6).hex()}"
    service = S3Service(seaweed.session())
    service.create_bucket(bucket)
    folder = "/".join(f"{'section-' * 28}{n}" for n in range(4))
    names = [f"{folder}/page-{i:04}.html" for i in range(1200)]
    assert sum(len(name.encode()) for name in names) > MiB  # listed in full: over 1 MiB
    write_site(workspace / "dist", {name: name[-9:] for name in names})
    inputs = {"command": "deploy", "source": "dist", "destination": f"s3://{bucket}/big"}
    try:
        ran = run_action(workspace, inputs, job_env(seaweed))
    finally:
        service.empty_bucket(bucket)
        service.delete_bucket(bucket)
    assert ran.code == 0, ran.stdout[-2000:] + ran.stderr[-2000:]
    assert ran.outputs["uploaded"] == "1200"
    assert ran.summary is not None and len(ran.summary.encode()) < MiB
    assert "Uploaded (1,200)" in ran.summary and "… and 1,100 more" in ran.summary
    assert ran.summary.count("/page-") == 100


def test_bad_input_is_one_error_line_and_nothing_is_written(
    backend: Backend, bucket: str, workspace: Path
) -> None:
    write_site(workspace / "dist", {"index.html": "<h1>hi</h1>"})
    env = job_env(backend)
    ran = run_action(
        workspace,
        {
            "command": "deploy",
            "source": "dist",
            "destination": f"s3://{bucket}",
            "max-delete": "most",
        },
        env,
    )
    assert ran.code == 1
    lines = ran.stdout.splitlines()
    masks = [line for line in lines if line.startswith("::add-mask::")]
    assert lines[: len(masks)] == masks and len(masks) == 2  # the secret key, the token
    assert lines[len(masks) :] == [
        "::error title=s3kit::input 'max-delete': max_delete 'most' is neither a count nor a"
        " share — write 100 or '25%25'"  # % escaped for the runner
    ]
    assert (ran.outputs, ran.summary) == ({}, None)
    assert keys(backend, bucket) == []
    unknown = run_action(workspace, {"command": "publish", "destination": f"s3://{bucket}"}, env)
    assert unknown.code == 1 and "::error title=s3kit::input 'command': one of" in unknown.stdout


def test_the_session_token_reaches_the_store_and_every_secret_is_masked_first(
    moto: Backend, workspace: Path
) -> None:
    """OIDC credentials (key, secret, session token) are used as the job has them: every
    request carries the session token. Each secret is masked before anything else is said, and
    none appears anywhere after."""
    from s3kit.service import S3Service

    name = f"tok-{os.urandom(6).hex()}"
    S3Service(moto.session()).create_bucket(name)
    seen: list[str | None] = []

    def record(request: Request) -> bool:  # a "fault" that never fires: it only looks
        seen.append(request.headers.get("x-amz-security-token"))
        return False

    write_site(workspace / "dist", {"index.html": "<h1>hi</h1>", "a.css": "a{}"})
    with FaultProxy(moto.endpoint) as proxy:
        proxy.add_fault(HeaderCase(), match=record)
        env = job_env(moto, proxy.url) | {"AWS_SESSION_TOKEN": SESSION_TOKEN}
        ran = run_action(
            workspace, {"command": "deploy", "source": "dist", "destination": f"s3://{name}"}, env
        )
    assert ran.code == 0, ran.stdout + ran.stderr
    assert seen and set(seen) == {SESSION_TOKEN}
    lines = ran.stdout.splitlines()
    assert lines[:3] == [
        f"::add-mask::{MOTO_SECRET}",
        f"::add-mask::{SESSION_TOKEN}",
        f"::add-mask::{GITHUB_TOKEN}",
    ]
    after = "\n".join(lines[3:]) + ran.stderr + json.dumps(ran.outputs) + (ran.summary or "")
    for secret in (MOTO_SECRET, SESSION_TOKEN, GITHUB_TOKEN):
        assert secret not in after


def git(*args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.name=Site Bot", "-c", "user.email=bot@example.com",
         "-c", "init.defaultBranch=main", *args],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    return done.stdout.strip()


def test_a_deploy_from_the_repository_builds_its_commit_without_the_token(
    backend: Backend, bucket: str, workspace: Path, tmp_path: Path
) -> None:
    """No `source`: the workflow's commit of the repository is cloned (from GITHUB_SERVER_URL,
    here a folder of bare repositories), built, deployed and recorded."""
    server = tmp_path / "server"
    bare, work = server / "octo" / "site.git", tmp_path / "work"
    git("init", "--quiet", "--bare", str(bare))
    write_site(work, {"build.sh": 'mkdir -p dist && echo "token:${INPUT_GITHUB_TOKEN:-none}'
                      ' ${GITHUB_TOKEN:-none}" > dist/index.html\n'})  # fmt: skip
    git("init", "--quiet", str(work))
    git("-C", str(work), "add", "--all")
    git("-C", str(work), "commit", "--quiet", "-m", "site")
    git("-C", str(work), "push", "--quiet", bare.as_uri(), "main")
    head = git("-C", str(work), "rev-parse", "HEAD")
    env = job_env(backend) | {"GITHUB_SERVER_URL": server.as_uri(), "GITHUB_SHA": head}
    # The token reaches the clone's git (as a header, for GitHub's own host only), never the build.
    env |= {"INPUT_GITHUB_TOKEN": GITHUB_TOKEN, "GITHUB_API_URL": "http://127.0.0.1:1/api"}
    inputs = {"command": "deploy", "destination": f"s3://{bucket}/site", "build": "bash build.sh"}
    ran = run_action(workspace, inputs, env)
    assert ran.code == 0, ran.stdout + ran.stderr
    assert ran.outputs["uploaded"] == "1" and ran.outputs["deploy-id"]
    assert get(backend, bucket, "site/index.html") == b"token:none none\n"
    live = json.loads(get(backend, bucket, "site/_s3kit/current.json"))
    assert live["source"]["commit"] == head
    assert ran.summary is not None and f"octo/site@{head[:12]}" in ran.summary


def test_an_artifact_is_pushed_as_this_runs(backend: Backend, bucket: str, workspace: Path) -> None:
    write_site(workspace, {"dist/index.html": "<h1>hi</h1>", "coverage.xml": "<c/>"})
    env = job_env(backend) | {"GITHUB_RUN_ID": "4242", "GITHUB_RUN_ATTEMPT": "2"}
    inputs = {
        "command": "artifacts-push",
        "source": "dist\ncoverage.xml",
        "destination": f"s3://{bucket}/ci",
        "name": "site",
        "retention-days": "7",
    }
    ran = run_action(workspace, inputs, env)
    assert ran.code == 0, ran.stdout + ran.stderr
    where = "ci/octo/site/4242/2/site/"
    assert ran.outputs == {"url": f"s3://{bucket}/{where}", "uploaded": "2"}
    assert keys(backend, bucket, where) == [
        f"{where}{n}" for n in ("coverage.xml", "index.html", "manifest.json")
    ]


# -- previews: the GitHub stand-in ------------------------------------------------------------


@pytest.fixture
def standin() -> Iterator[GitHubStandIn]:
    if OPENAPI_MISSING is not None:
        pytest.skip(OPENAPI_MISSING)
    with running_standin() as running:
        yield running


def fork_run(head_sha: str, branch: str = "feature") -> dict[str, Any]:
    """A `workflow_run` event of a fork's pull request: GitHub lists no pull request in it."""
    return {
        "workflow_run": {
            "event": "pull_request",
            "conclusion": "success",
            "id": 99,
            "head_sha": head_sha,
            "head_branch": branch,
            "pull_requests": [],
            "head_repository": {"owner": {"login": "octo"}},
        }
    }


def test_a_forks_preview_is_found_by_its_head_commit_deployed_and_removed(
    backend: Backend, bucket: str, workspace: Path, standin: GitHubStandIn
) -> None:
    repo = standin.add_repo("octo/site")
    repo.add_pull(3, "Other work", head_ref="other")
    pull = repo.add_pull(7, "New landing page", head_ref="feature")
    write_site(workspace / "preview-site", {"index.html": "<h1>preview</h1>"})
    env = job_env(backend) | {
        "GITHUB_API_URL": standin.api_url,
        "GITHUB_EVENT_NAME": "workflow_run",
    }
    env["INPUT_GITHUB_TOKEN"] = standin.token
    inputs = {
        "command": "preview",
        "source": "preview-site",
        "destination": f"s3://{bucket}/pr",
        "base-url": "https://previews.example.com",
    }

    stale = run_action(workspace, inputs, env, fork_run("9" * 40))
    assert stale.code == 1 and "::error title=s3kit::no open pull request" in stale.stdout
    assert keys(backend, bucket) == []  # a build of an older commit is not deployed

    ran = run_action(workspace, inputs, env, fork_run(pull.head_sha))
    assert ran.code == 0, ran.stdout + ran.stderr
    assert ran.outputs["preview-url"] == ran.outputs["url"] == "https://previews.example.com/pr-7/"
    assert ran.outputs["uploaded"] == "1" and ran.outputs["deploy-id"]
    assert get(backend, bucket, "pr/pr-7/index.html") == b"<h1>preview</h1>"
    [comment] = [c for c in repo.comments if c.issue == 7]
    assert "https://previews.example.com/pr-7/" in comment.body
    said = [line for line in ran.stdout.splitlines() if not line.startswith("::add-mask::")]
    assert standin.token not in "\n".join(said) + ran.stderr

    closed = {"pull_request": {"number": 7}}
    removed = run_action(
        workspace,
        {"command": "preview-remove", "destination": f"s3://{bucket}/pr"},
        env | {"GITHUB_EVENT_NAME": "pull_request_target"},
        closed,
    )
    assert removed.code == 0, removed.stdout + removed.stderr
    assert int(removed.outputs["deleted"]) >= 2  # the site and its _s3kit/ records
    assert keys(backend, bucket, "pr/pr-7/") == []
