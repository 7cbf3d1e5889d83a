"""s3kit's GitHub Action without a server: action.yml itself (every input through `env:`, never
`${{ }}` in a script; the schema; zizmor), the example workflows, and the entry script's pure
parts — inputs checked against each other and the event, the pull request of a fork's
`workflow_run` by its head, secrets masked before anything else, outputs in the multi-line form
with a delimiter no value holds, a summary that stays small for any site."""

from __future__ import annotations

import importlib.util
import io
import json
import shutil
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

from s3kit.errors import CredentialsError
from s3kit.github.action import (
    OUTPUTS,
    ActionResult,
    bounded_summary,
    escape_data,
    library_env,
    main,
    make_session,
    render_summary,
    secret_values,
    write_outputs,
)
from s3kit.github.action_inputs import (
    SCRIPT_INPUTS,
    ActionInputError,
    ActionRequest,
    PullHead,
    event_commit,
    input_variable,
    parse_request,
    pull_request_of,
    read_inputs,
)

ROOT = Path(__file__).resolve().parents[2]
ACTION = ROOT / "action.yml"
WORKFLOWS = sorted((ROOT / "examples" / "workflows").glob("*.yml"))
SHA = "0123456789abcdef0123456789abcdef01234567"
HEAD = "fedcba9876543210fedcba9876543210fedcba98"

# Decided before any test runs: the tool checks skip, saying so, where the dev tools are not
# installed (pyproject's dev extras install them).
_BIN = Path(sys.executable).parent
ZIZMOR = shutil.which("zizmor", path=str(_BIN)) or shutil.which("zizmor")
NO_ZIZMOR = "zizmor is not installed (pip install -e '.[dev]')"
NO_CHECK_JSONSCHEMA = (
    None
    if importlib.util.find_spec("check_jsonschema") is not None
    else "check-jsonschema is not installed (pip install -e '.[dev]')"
)
# The audits zizmor raises on the fork-safe preview design itself: its two workflows exist to
# run with secrets for a fork's pull request without running its code (README: "Why zizmor
# flags two of the examples").
INTRINSIC = {
    ("dangerous-triggers", "preview-deploy.yml"),
    ("dangerous-triggers", "preview-remove.yml"),
}


def load(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


# -- action.yml -----------------------------------------------------------------------------------


def test_the_action_declares_every_input_the_script_reads_and_every_output() -> None:
    action = load(ACTION)
    assert set(action["inputs"]) == set(SCRIPT_INPUTS) | {"version"}
    assert action["inputs"]["command"]["required"] is True
    assert list(action["outputs"]) == list(OUTPUTS)
    for name, output in action["outputs"].items():
        assert output["value"] == f"${{{{ steps.run.outputs.{name} }}}}"


def test_every_input_reaches_the_scripts_through_env_and_none_through_the_script() -> None:
    steps = load(ACTION)["runs"]["steps"]
    assert load(ACTION)["runs"]["using"] == "composite"
    for step in steps:
        assert "${{" not in step["run"], f"{step['name']}: an expression inside run:"
    install, run = steps
    assert install["env"]["S3KIT_ACTION_VERSION"] == "${{ inputs.version }}"
    wanted = {input_variable(name): f"${{{{ inputs.{name} }}}}" for name in SCRIPT_INPUTS}
    given = {k: v for k, v in run["env"].items() if k.startswith("INPUT_")}
    assert given == wanted
    assert run["run"].strip() == '"$S3KIT_ACTION_PYTHON" -m s3kit.github.action'


def test_the_install_step_refuses_a_version_that_is_not_a_ref(tmp_path: Path) -> None:
    """The install script runs in bash with the version from env: a value meant as shell code
    stays a value, and is refused."""
    install = load(ACTION)["runs"]["steps"][0]["run"]
    marker = tmp_path / "ran"
    env = {
        "PATH": f"{_BIN}:/usr/bin:/bin",  # a python3 of 3.11 or newer first
        "S3KIT_ACTION_VERSION": f"v1; touch {marker}",
        "S3KIT_ACTION_REPOSITORY": "octo/s3kit",
        "S3KIT_ACTION_SERVER": "https://github.com",
        "GITHUB_ACTION_PATH": str(ROOT),
        "RUNNER_TEMP": str(tmp_path),
        "GITHUB_OUTPUT": str(tmp_path / "out"),
    }
    done = subprocess.run(["bash", "-c", install], env=env, capture_output=True, text=True)
    assert done.returncode == 1
    assert done.stdout == "::error title=s3kit::input 'version': a tag, branch or commit SHA\n"
    assert not marker.exists() and not (tmp_path / "s3kit-action").exists()


@pytest.mark.skipif(NO_CHECK_JSONSCHEMA is not None, reason=NO_CHECK_JSONSCHEMA or "")
def test_action_yml_and_the_example_workflows_pass_the_bundled_schemas() -> None:
    assert check_jsonschema("vendor.github-actions", ACTION).returncode == 0
    assert len(WORKFLOWS) == 5
    done = check_jsonschema("vendor.github-workflows", *WORKFLOWS)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.skipif(NO_CHECK_JSONSCHEMA is not None, reason=NO_CHECK_JSONSCHEMA or "")
def test_the_schema_check_refuses_a_broken_action(tmp_path: Path) -> None:
    broken = tmp_path / "action.yml"
    action = load(ACTION)
    action["runs"]["using"] = "docker-ish"
    broken.write_text(yaml.safe_dump(action))
    done = check_jsonschema("vendor.github-actions", broken)
    assert done.returncode == 1 and "runs" in done.stdout + done.stderr


# Runs check-jsonschema with every connection that leaves the machine refused and reported:
# the bundled schemas must be all it needs (CI has no internet).
_OFFLINE = """
import socket, sys
real = socket.socket.connect
def guarded(self, address):
    host = address[0] if isinstance(address, tuple) else address
    if isinstance(host, str) and not (host.startswith("127.") or host == "::1" or "/" in host):
        sys.stderr.write(f"NETWORK ATTEMPT {address}\\n")
        raise OSError("no network in this test")
    return real(self, address)
socket.socket.connect = guarded
def resolve(*args, **kwargs):
    sys.stderr.write(f"NETWORK ATTEMPT (resolve) {args[0]}\\n")
    raise socket.gaierror("no network in this test")
socket.getaddrinfo = resolve
from check_jsonschema import main
sys.argv = ["check-jsonschema", *sys.argv[1:]]
main()
"""


def check_jsonschema(schema: str, *files: Path) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-c", _OFFLINE, "--builtin-schema", schema, *map(str, files)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "NETWORK ATTEMPT" not in done.stderr
    return done


def zizmor(*paths: Path) -> list[dict[str, Any]]:
    """zizmor's findings of medium severity or more, offline, with no ignore comment or
    configuration honoured (nothing can be silenced)."""
    assert ZIZMOR is not None
    done = subprocess.run(
        [
            ZIZMOR,
            "--offline",
            "--no-config",
            "--no-ignores",
            "--no-progress",
            "--format",
            "json",
            "--min-severity",
            "medium",
            *map(str, paths),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert done.returncode in (0, 11, 12, 13, 14), done.stderr  # 1x: findings, by severity
    findings: list[dict[str, Any]] = json.loads(done.stdout)
    return findings


def _where(finding: dict[str, Any]) -> str:
    key = finding["locations"][0]["symbolic"]["key"]["Local"]  # {"verbatim_path": ...}
    return Path(next(iter(key.values()))).name


@pytest.mark.skipif(ZIZMOR is None, reason=NO_ZIZMOR)
def test_zizmor_finds_nothing_but_the_fork_safe_design_itself() -> None:
    found = {(f["ident"], _where(f)) for f in zizmor(ACTION, *WORKFLOWS)}
    assert found == INTRINSIC


@pytest.mark.skipif(ZIZMOR is None, reason=NO_ZIZMOR)
def test_zizmor_flags_an_expression_pasted_into_a_script(tmp_path: Path) -> None:
    """The check above can fail: an input interpolated into `run:` is found offline."""
    action = load(ACTION)
    action["runs"]["steps"][1]["run"] = 'echo "${{ inputs.destination }}"'
    bad = tmp_path / "action.yml"
    bad.write_text(yaml.safe_dump(action))
    assert "template-injection" in {f["ident"] for f in zizmor(bad)}


def test_the_examples_pin_every_action_to_a_commit_and_keep_secrets_out_of_pull_requests() -> None:
    for path in WORKFLOWS:
        workflow = load(path)
        assert workflow["permissions"] == {}, path.name  # each job asks for what it needs
        for job in workflow["jobs"].values():
            for step in job["steps"]:
                if "uses" in step:
                    ref = step["uses"].rpartition("@")[2]
                    assert len(ref) == 40 and int(ref, 16) >= 0, (path.name, step["uses"])
                if "actions/checkout" in step.get("uses", ""):
                    assert step["with"]["persist-credentials"] is False
    triggers = {path.name: set(load(path)[True]) for path in WORKFLOWS}  # YAML 1.1: on → True
    build = load(ROOT / "examples/workflows/preview-build.yml")["jobs"]["build"]
    assert triggers["preview-build.yml"] == {"pull_request"}
    assert "secrets" not in json.dumps(build)  # neither a secret nor secrets: inherit
    assert set(build["permissions"]) == {"contents"}
    for name in ("preview-deploy.yml", "preview-remove.yml"):  # secrets there: no PR code
        steps = [
            s
            for job in load(ROOT / "examples/workflows" / name)["jobs"].values()
            for s in job["steps"]
        ]
        assert not any("run" in s or "checkout" in s.get("uses", "") for s in steps), name


# -- workflow commands and files ---------------------------------------------------------------


def test_messages_are_escaped_as_the_runner_unescapes_them() -> None:
    assert escape_data("50% done\r\nnext") == "50%25 done%0D%0Anext"


def test_the_secrets_are_the_keys_tokens_and_endpoint_passwords() -> None:
    env = {
        "AWS_ACCESS_KEY_ID": "AKIAEXAMPLE",  # an identifier, not a secret
        "AWS_SECRET_ACCESS_KEY": "secret/key+1",
        "AWS_SESSION_TOKEN": "token-line-1\ntoken-line-2",
        "INPUT_GITHUB_TOKEN": "ghs_input",
        "GH_TOKEN": "ghs_input",
        "INPUT_ENDPOINT_URL": "https://user:p%40ss@s3.example.com",
    }
    assert secret_values(env) == [
        "secret/key+1",
        "token-line-1",
        "token-line-2",
        "ghs_input",
        "p%40ss",
        "p@ss",
    ]


def outputs_of(path: Path) -> dict[str, str]:
    """Parse $GITHUB_OUTPUT as the runner does (`name<<DELIM` ... `DELIM`, or `name=value`)."""
    found: dict[str, str] = {}
    lines = iter(path.read_text(encoding="utf-8").split("\n"))
    for line in lines:
        if "<<" in line:
            name, delimiter = line.split("<<", 1)
            value: list[str] = []
            for part in lines:
                if part == delimiter:
                    break
                value.append(part)
            else:
                raise AssertionError(f"{name}: no closing delimiter")
            found[name] = "\n".join(value)
        elif line:
            name, _, text = line.partition("=")
            found[name] = text
    return found


def test_outputs_are_written_multi_line_with_a_delimiter_no_value_holds(tmp_path: Path) -> None:
    tokens: Iterator[str] = iter(["aaaa", "bbbb", "cccc"])
    path = tmp_path / "output"
    path.write_text("earlier=kept\n")
    # The first delimiter is in the value: a value must never be able to close itself early.
    value = "line one\nghadelimiter_aaaa\nevil=1"
    write_outputs(path, {"url": value, "uploaded": "3"}, token=lambda: next(tokens))
    assert outputs_of(path) == {"earlier": "kept", "url": value, "uploaded": "3"}
    assert "url<<ghadelimiter_bbbb\n" in path.read_text()
    with pytest.raises(ValueError, match="not an output name"):
        write_outputs(path, {"x\ny": "1"})


# -- the event ----------------------------------------------------------------------------------


def workflow_run(**run: Any) -> dict[str, Any]:
    base = {
        "event": "pull_request",
        "head_sha": HEAD,
        "head_branch": "feature",
        "head_repository": {"owner": {"login": "forker"}},
        "pull_requests": [],
    }
    return {"workflow_run": base | run}


def test_the_pull_request_of_each_event() -> None:
    assert pull_request_of("pull_request", {"pull_request": {"number": 12}}) == 12
    assert pull_request_of("pull_request_target", {"number": 9, "pull_request": {}}) == 9
    same_repo = [{"number": 4, "head": {"sha": HEAD}}, {"number": 5, "head": {"sha": SHA}}]
    assert pull_request_of("workflow_run", workflow_run(pull_requests=same_repo)) == 4
    # A fork's run lists no pull request: found later by its head, never by a number it wrote.
    assert pull_request_of("workflow_run", workflow_run()) == PullHead("forker", "feature", HEAD)
    assert pull_request_of("workflow_run", workflow_run(event="push")) is None
    assert pull_request_of("push", {"pull_request": {"number": 3}}) is None
    two = [{"number": 4, "head": {"sha": HEAD}}, {"number": 6, "head": {"sha": HEAD}}]
    with pytest.raises(ActionInputError, match="heads 2 pull requests"):
        pull_request_of("workflow_run", workflow_run(pull_requests=two))


def test_the_commit_built_is_the_runs_head_then_the_pull_requests_then_github_sha() -> None:
    env = {"GITHUB_SHA": SHA}
    assert event_commit("workflow_run", workflow_run(), env) == HEAD
    assert event_commit("pull_request", {"pull_request": {"head": {"sha": HEAD}}}, env) == HEAD
    assert event_commit("push", {}, env) == SHA
    assert event_commit("push", {}, {"GITHUB_SHA": "not a sha"}) is None


# -- the inputs ---------------------------------------------------------------------------------


def request(
    inputs: Mapping[str, str], env: Mapping[str, str] | None = None, event: Any = None
) -> ActionRequest:
    given = {name: "" for name in SCRIPT_INPUTS} | dict(inputs)
    return parse_request(given, env or {}, event or {})


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "dist").mkdir()
    (tmp_path / "dist" / "index.html").write_text("<h1>hi</h1>")
    return tmp_path / "dist"


def test_a_deploy_of_a_folder(site: Path) -> None:
    env = {"GITHUB_SHA": SHA, "GITHUB_EVENT_NAME": "push"}
    made = request(
        {
            "command": "deploy",
            "source": "dist",
            "destination": "s3://www/site",
            "max-delete": "25%",
            "delete": "now",
            "cloudfront-distribution": "E2QWRUHAPOMQZL",
        },
        env,
    )
    assert (made.source, made.destination.bucket, made.destination.key) == (
        ("dist",),
        "www",
        "site",
    )
    assert (made.max_delete, made.delete, made.cloudfront) == (0.25, "now", "E2QWRUHAPOMQZL")
    assert made.commit == SHA and not made.from_repository
    assert (
        request(
            {"command": "deploy", "source": "dist", "destination": "s3://www", "max-delete": "10"}
        ).max_delete
        == 10
    )


def test_a_deploy_of_the_repository_at_the_workflows_commit() -> None:
    env = {"GITHUB_SHA": SHA, "GITHUB_REPOSITORY": "octo/site"}
    made = request({"command": "deploy", "destination": "s3://www", "build": "make"}, env)
    assert made.from_repository
    assert (made.repository, made.ref, made.path, made.build) == ("octo/site", SHA, "dist", "make")
    other = request(
        {"command": "deploy", "destination": "s3://www", "repository": "a/b", "path": "public"}, env
    )
    assert (other.ref, other.path) == ("main", "public")


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        (
            {"command": ""},
            "input 'command': one of deploy, preview, preview-remove,"
            " release-mirror, artifacts-push — got nothing",
        ),
        ({"command": "sync"}, "input 'command': one of .* — got 'sync'"),
        ({"command": "deploy", "source": "dist"}, "input 'destination': required"),
        (
            {"command": "deploy", "source": "dist", "destination": "www"},
            "input 'destination': 'www' is not an S3 URL",
        ),
        (
            {"command": "deploy", "source": "nope", "destination": "s3://www"},
            "input 'source': no folder 'nope'",
        ),
        (
            {"command": "deploy", "source": "dist", "destination": "s3://www", "build": "make"},
            "input 'build': not used by command deploy",
        ),
        (
            {"command": "deploy", "destination": "s3://www", "cloudfront-distribution": "E1"},
            r"input 'cloudfront-distribution': not used by deploy from the repository \(no",
        ),
        (
            {
                "command": "deploy",
                "source": "dist",
                "destination": "s3://www",
                "cloudfront-distribution": "not an id!",
            },
            "input 'cloudfront-distribution': 'not an id!' is not a CloudFront distribution id",
        ),
        (
            {
                "command": "deploy",
                "source": "dist",
                "destination": "s3://www",
                "max-delete": "lots",
            },
            "input 'max-delete': max_delete 'lots' is neither a count nor a share",
        ),
        (
            {"command": "deploy", "source": "dist", "destination": "s3://www", "delete": "later"},
            "input 'delete': deferred or now — got 'later'",
        ),
        (
            {"command": "deploy", "source": "dist", "destination": "s3://www", "rules": "x.yaml"},
            "input 'rules': no such rules file",
        ),
        (
            {
                "command": "deploy",
                "source": "dist",
                "destination": "s3://www",
                "endpoint-url": "s3.example.com",
            },
            "input 'endpoint-url': an http",
        ),
        (
            {
                "command": "deploy",
                "destination": "s3://www",
                "ref": "--upload-pack=x",
                "repository": "a/b",
            },
            "input 'ref': '--upload-pack=x' is not a branch",
        ),
        (
            {"command": "deploy", "destination": "s3://www", "path": "../up", "repository": "a/b"},
            "input 'path': ",
        ),
        (
            {
                "command": "preview",
                "source": "dist",
                "destination": "s3://previews",
                "build": "make",
            },
            "input 'build': preview never builds",
        ),
        (
            {"command": "preview", "destination": "s3://previews", "pr": "3"},
            "input 'source': required: the folder of the built site",
        ),
        (
            {"command": "preview", "source": "dist", "destination": "s3://previews", "pr": "3"},
            "input 'repository': required outside GitHub Actions",
        ),
        (
            {
                "command": "preview",
                "source": "dist",
                "destination": "s3://previews",
                "pr": "3",
                "repository": "not-a-slug",
            },
            "input 'repository': 'not-a-slug' is not a GitHub",
        ),
        (
            {
                "command": "preview-remove",
                "destination": "s3://previews",
                "repository": "a/b",
                "pr": "0",
            },
            "input 'pr': a pull request number, not '0'",
        ),
        (
            {"command": "preview-remove", "destination": "s3://previews", "repository": "a/b"},
            "input 'pr': required: no event",
        ),
        (
            {
                "command": "preview-remove",
                "destination": "s3://previews",
                "repository": "a/b",
                "base-url": "https://x",
            },
            "input 'base-url': not used by command preview-remove",
        ),
        (
            {"command": "release-mirror", "destination": "s3://downloads", "repository": "a/b"},
            "input 'ref': required: the release tag",
        ),
        (
            {"command": "artifacts-push", "destination": "s3://artifacts"},
            "input 'source': required",
        ),
        (
            {
                "command": "artifacts-push",
                "destination": "s3://artifacts",
                "source": "dist\nmissing.txt",
            },
            "input 'source': no such file or folder: 'missing.txt'",
        ),
        (
            {
                "command": "artifacts-push",
                "destination": "s3://artifacts",
                "source": "dist",
                "name": "a/b",
            },
            "input 'name': artifact name 'a/b' holds a character",
        ),
        (
            {
                "command": "artifacts-push",
                "destination": "s3://artifacts",
                "source": "dist",
                "retention-days": "0",
            },
            "input 'retention-days': a number of days",
        ),
    ],
)
def test_bad_inputs_are_refused_naming_the_input(
    site: Path, inputs: dict[str, str], message: str
) -> None:
    with pytest.raises(ActionInputError, match=message):
        request(inputs)


def test_previews_take_the_pull_request_and_commit_from_the_event(site: Path) -> None:
    env = {"GITHUB_REPOSITORY": "octo/site", "GITHUB_EVENT_NAME": "workflow_run", "GITHUB_SHA": SHA}
    made = request(
        {"command": "preview", "source": "dist", "destination": "s3://previews"},
        env,
        workflow_run(),
    )
    assert (made.pr, made.commit, made.repository) == (
        PullHead("forker", "feature", HEAD),
        HEAD,
        "octo/site",
    )
    assert made.rules is None  # never a rules file it was not named: the folder is a fork's
    given = request(
        {"command": "preview", "source": "dist", "destination": "s3://previews", "pr": "8"},
        env | {"GITHUB_EVENT_NAME": "push"},
    )
    assert (given.pr, given.commit) == (8, None)  # the pull request's head, then


def test_a_release_mirror_takes_the_published_release() -> None:
    env = {"GITHUB_REPOSITORY": "octo/tool", "GITHUB_EVENT_NAME": "release"}
    made = request(
        {"command": "release-mirror", "destination": "s3://downloads"},
        env,
        {"release": {"tag_name": "v1.2.0"}},
    )
    assert (made.repository, made.ref) == ("octo/tool", "v1.2.0")


def test_inputs_are_read_from_their_variables_stripped() -> None:
    inputs = read_inputs({"INPUT_BASE_URL": " https://x/ \n", "INPUT_COMMAND": "deploy"})
    assert inputs["base-url"] == "https://x/" and inputs["command"] == "deploy"
    assert inputs["pr"] == ""


# -- credentials ----------------------------------------------------------------------------------


def test_oidc_credentials_reach_the_session_untouched_the_session_token_included() -> None:
    job = {
        "AWS_ACCESS_KEY_ID": "ASIAEXAMPLE",
        "AWS_SECRET_ACCESS_KEY": "oidc-secret",
        "AWS_SESSION_TOKEN": "oidc-session-token",
        "AWS_REGION": "eu-west-1",
        "INPUT_GITHUB_TOKEN": "ghs_token",
    }
    calls = library_env(job)
    assert {k: calls[k] for k in job if k.startswith("AWS_")} == {
        k: v for k, v in job.items() if k.startswith("AWS_")
    }
    # The token goes as GITHUB_TOKEN, and not under the input's name, which a build would see.
    assert calls["GITHUB_TOKEN"] == "ghs_token" and "INPUT_GITHUB_TOKEN" not in calls
    session = make_session(ActionRequest(command="deploy", destination=_url("s3://www")), calls)
    credentials = session.credentials()
    assert (credentials.access_key_id, credentials.secret_access_key) == (
        "ASIAEXAMPLE",
        "oidc-secret",
    )
    assert credentials.session_token == "oidc-session-token"
    assert session.settings.region == "eu-west-1"


def test_no_credentials_is_an_error_never_the_embedded_server(isolated_env: Path) -> None:
    with pytest.raises(CredentialsError, match="no credentials found"):
        make_session(ActionRequest(command="deploy", destination=_url("s3://www")), {})
    assert not any(isolated_env.rglob("*.json"))  # no local server state was written


def _url(text: str) -> Any:
    from s3kit._uri import parse_s3_url

    return parse_s3_url(text)


def test_main_masks_the_secrets_before_it_says_anything(tmp_path: Path) -> None:
    out, err = io.StringIO(), io.StringIO()
    env = {
        "AWS_SECRET_ACCESS_KEY": "sekret-value",
        "AWS_SESSION_TOKEN": "session-tok",
        "INPUT_GITHUB_TOKEN": "ghs_tok",
        "INPUT_COMMAND": "deploy",
        "INPUT_DESTINATION": "s3://www",
        "INPUT_SOURCE": str(tmp_path / "nope"),
        "GITHUB_OUTPUT": str(tmp_path / "output"),
    }
    assert main(env, stdout=out, stderr=err) == 1
    lines = out.getvalue().splitlines()
    assert lines[:3] == [
        "::add-mask::sekret-value",
        "::add-mask::session-tok",
        "::add-mask::ghs_tok",
    ]
    assert len(lines) == 4 and lines[3].startswith("::error title=s3kit::input 'source': no folder")
    assert not (tmp_path / "output").exists()  # bad input: no output, nothing done


def test_an_unexpected_failure_is_one_error_line_with_the_secrets_masked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import s3kit.github.action as action

    def broken(*args: object) -> ActionResult:
        raise RuntimeError("boom with sekret-value inside")

    monkeypatch.setitem(action.RUNNERS, "release-mirror", broken)
    monkeypatch.setattr(action, "make_session", lambda *args: None)
    out, err = io.StringIO(), io.StringIO()
    env = {
        "AWS_SECRET_ACCESS_KEY": "sekret-value",
        "INPUT_COMMAND": "release-mirror",
        "INPUT_DESTINATION": "s3://downloads",
        "INPUT_REPOSITORY": "a/b",
        "INPUT_REF": "v1",
    }
    assert main(env, stdout=out, stderr=err) == 1
    said = out.getvalue().splitlines()
    assert said[0] == "::add-mask::sekret-value"
    assert said[1].startswith("::error title=s3kit::unexpected RuntimeError: boom with")
    assert "sekret-value" not in "\n".join(said[1:]) + err.getvalue()
    assert "Traceback" in err.getvalue()


# -- the summary ----------------------------------------------------------------------------------


def test_the_summary_shows_hostile_names_literally() -> None:
    result = ActionResult("deploy", "line", lists=[("Uploaded", [])])
    from s3kit.github.action import _code

    name = "a|b`<script>x</script>\n.html"
    result.lists = [("Uploaded", [_code(name)])]
    text = render_summary(result)
    assert "<script>" not in text and "a&#124;b`&lt;script&gt;" in text and "\\n.html" in text
    assert text.count("\n- ") == 1  # the line break in the name broke no line


def test_long_lists_are_counted_not_listed_and_the_summary_stays_small() -> None:
    names = [f"<code>{'d/' * 200}{i}.html</code>" for i in range(5000)]  # ~2 MiB of names
    result = ActionResult(
        "deploy",
        "line",
        rows=[("Uploaded", "5,000")],
        lists=[("Uploaded", names), ("Deleted", names)],
    )
    text = render_summary(result)
    assert text.count("… and 4,900 more") == 2 and "(5,000)" in text
    assert len(text.encode()) < 1024 * 1024
    small = bounded_summary(result, limit=20_000)
    assert len(small.encode()) <= 20_000 and "… and 4,990 more" in small
    assert bounded_summary(result, limit=300).count("- ") == 2  # only the counts
    assert "too long" in bounded_summary(result, limit=10)


def test_a_line_break_in_a_destination_cannot_issue_a_workflow_command(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import s3kit.github.action as action

    def deployed(request: ActionRequest, *args: object) -> ActionResult:
        return ActionResult("deploy", f"deployed to {request.destination}")

    monkeypatch.setitem(action.RUNNERS, "deploy", deployed)
    monkeypatch.setattr(action, "make_session", lambda *args: None)
    out = io.StringIO()
    env = {
        "INPUT_COMMAND": "deploy",
        "INPUT_DESTINATION": "s3://www/a\n::add-path::/evil",
        "INPUT_REPOSITORY": "a/b",
    }
    assert main(env, stdout=out, stderr=io.StringIO()) == 0
    assert out.getvalue() == "deployed to s3://www/a\\n::add-path::/evil\n"


def test_errors_mark_the_summary_failed() -> None:
    result = ActionResult("deploy to s3://www", "line", errors=["index.html: refused"])
    text = render_summary(result)
    assert text.startswith("### deploy to s3://www — failed\n")
    assert "- <code>index.html: refused</code>" in text
