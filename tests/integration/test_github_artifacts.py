"""`s3kit github artifacts push|pull` against real S3 servers (`backend`: SeaweedFS and moto): a
nested folder round trip with its tags and manifest, the highest attempt found, and every way a
pull refuses an artifact (other bytes, an object the manifest does not list, no manifest) with
nothing written. The pure parts (the run from the environment, names, the manifest, the listing
check) are tested first, without a server."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from s3kit._uri import S3Url
from s3kit.errors import ConflictError, ObjectNotFound, TransferError, UsageError
from s3kit.github.artifact_manifest import (
    ActionsRun,
    ArtifactManifest,
    ManifestEntry,
    artifact_prefix,
    check_listing,
    validate_artifact_name,
)
from s3kit.github.artifacts import collect_files, pull_artifacts, push_artifact
from tests import github_support
from tests.conftest import CliInvoker
from tests.github_support import Place
from tests.integration.cli_support import tree

SHA_X = hashlib.sha256(b"x").hexdigest()


# -- the pure parts ---------------------------------------------------------------------------


def test_the_run_comes_from_actions_or_from_every_option() -> None:
    env = {"GITHUB_REPOSITORY": "octo/site", "GITHUB_RUN_ID": "77", "GITHUB_RUN_ATTEMPT": "2"}
    assert ActionsRun.from_env(env) == ActionsRun("octo", "site", 77, 2)
    assert ActionsRun.from_env(env, attempt=3).attempt == 3
    assert ActionsRun.from_env({}, repository="o/r", run_id=1, attempt=1) == ActionsRun(
        "o", "r", 1, 1
    )
    with pytest.raises(UsageError, match=r"not inside a GitHub Actions job \(GITHUB_RUN_ID,"
                                         r" GITHUB_RUN_ATTEMPT not set\)"):  # fmt: skip
        ActionsRun.from_env({}, repository="o/r")
    with pytest.raises(UsageError, match="is not a GitHub repository"):
        ActionsRun.from_env({**env, "GITHUB_REPOSITORY": "no-slash"})
    with pytest.raises(UsageError, match="run id 'x' is not a positive number"):
        ActionsRun.from_env({**env, "GITHUB_RUN_ID": "x"})


@pytest.mark.parametrize("name", ["", ".", "..", "a/b", "a:b", 'a"b', "a\nb", " padded"])
def test_names_github_refuses_are_refused(name: str) -> None:
    with pytest.raises(UsageError):
        validate_artifact_name(name)


def test_artifact_keys() -> None:
    run = ActionsRun("octo", "site", 77, 2)
    assert artifact_prefix(S3Url("b"), run, "site") == "octo/site/77/2/site/"
    assert artifact_prefix(S3Url("b", "ci"), run, "site") == "ci/octo/site/77/2/site/"


def manifest(*entries: ManifestEntry) -> ArtifactManifest:
    return ArtifactManifest(repository="o/r", run_id=1, attempt=1, name="n", created_at="",
                            retention_days=None, files=entries)  # fmt: skip


def test_a_listing_is_held_against_the_manifest() -> None:
    wanted = manifest(ManifestEntry("a.txt", 1, SHA_X), ManifestEntry("d/b.txt", 2, SHA_X),
                      ManifestEntry("gone.txt", 3, SHA_X))  # fmt: skip
    check = check_listing(wanted, {"a.txt": 1, "d/b.txt": 5, "extra.sh": 9})
    assert not check.ok
    assert check.problems() == [
        ("extra.sh", "not in the manifest"),
        ("gone.txt", "in the manifest, not in the bucket"),
        ("d/b.txt", "5 bytes, the manifest says 2"),
    ]
    assert check_listing(wanted, {"a.txt": 1, "d/b.txt": 2, "gone.txt": 3}).ok


@pytest.mark.parametrize(
    ("path", "said"),
    [("../escape", r"'\.' or '\.\.' segment"), ("/abs", "starts with '/'"),
     ("manifest.json", "where s3kit keeps"), ("a//b", "empty segment")],
)  # fmt: skip
def test_a_manifest_naming_a_path_outside_the_folder_is_not_trusted(path: str, said: str) -> None:
    document = manifest(ManifestEntry("ok.txt", 1, SHA_X)).document()
    document["files"].append({"path": path, "size": 1, "sha256": SHA_X})
    with pytest.raises(TransferError, match=said):
        ArtifactManifest.parse(json.dumps(document).encode(), "s3://b/manifest.json")


def test_files_to_push_keep_their_paths_and_clashes_are_refused(tmp_path: Path) -> None:
    (tmp_path / "dist" / "css").mkdir(parents=True)
    (tmp_path / "dist" / "index.html").write_text("i")
    (tmp_path / "dist" / "css" / "a.css").write_text("a")
    (tmp_path / "index.html").write_text("other")
    (tmp_path / "notes.txt").write_text("n")
    found = collect_files([tmp_path / "dist", tmp_path / "notes.txt"])
    assert [f.relative for f in found] == ["css/a.css", "index.html", "notes.txt"]
    with pytest.raises(UsageError, match=r"'index\.html' comes from both"):
        collect_files([tmp_path / "dist", tmp_path / "index.html"])
    with pytest.raises(UsageError, match="nothing to push"):
        (tmp_path / "empty").mkdir()
        collect_files([tmp_path / "empty"])


# -- against the servers ------------------------------------------------------------------------


place = github_support.place


@pytest.fixture
def build(tmp_path: Path) -> Path:
    root = tmp_path / "dist"
    (root / "assets" / "img").mkdir(parents=True)
    (root / "index.html").write_text("<h1>site</h1>\n")
    (root / "assets" / "app.js").write_text("console.log(1)\n" * 100)
    (root / "assets" / "img" / "logo.png").write_bytes(bytes(range(256)) * 40)
    return root


ACTIONS = {"GITHUB_REPOSITORY": "octo/site", "GITHUB_RUN_ID": "77", "GITHUB_RUN_ATTEMPT": "1"}


def test_push_then_pull_a_nested_folder_with_tags_and_a_manifest(
    place: Place, build: Path, tmp_path: Path, cli: CliInvoker
) -> None:
    (tmp_path / "report.txt").write_text("all green\n")
    pushed = cli(
        "github", "artifacts", "push", str(build), str(tmp_path / "report.txt"), str(place.url),
        "--name", "site", "--retention-days", "7", env={**place.backend.env(), **ACTIONS},
    )  # fmt: skip
    assert pushed.exit_code == 0, pushed.stderr
    assert "pushed 4 files" in pushed.stdout and "tagged 7 days" in pushed.stdout
    base = "octo/site/77/1/site/"
    names = ["assets/app.js", "assets/img/logo.png", "index.html", "manifest.json", "report.txt"]
    assert place.listed() == [base + name for name in names]
    s3 = place.session.client("s3")
    for key in place.listed():
        tags = s3.get_object_tagging(Bucket=place.bucket, Key=place.prefix + key)["TagSet"]
        assert tags == [{"Key": "s3kit-retention-days", "Value": "7"}], key
    document = json.loads(place.session.storage(place.bucket).get(place.prefix + base
                                                                   + "manifest.json"))  # fmt: skip
    assert (document["repository"], document["run_id"], document["attempt"]) == ("octo/site", 77, 1)
    logo = (build / "assets" / "img" / "logo.png").read_bytes()
    assert {"path": "assets/img/logo.png", "size": len(logo),
            "sha256": hashlib.sha256(logo).hexdigest()} in document["files"]  # fmt: skip

    out = tmp_path / "out"
    pulled = cli(
        "github", "artifacts", "pull", str(place.url), str(out), "--repository", "octo/site",
        "--run-id", "77", "--json", env=place.backend.env(),
    )  # fmt: skip
    assert pulled.exit_code == 0, pulled.stderr
    summary = json.loads(pulled.stdout)
    assert summary["attempt"] == 1 and summary["artifacts"][0]["files"] == 4
    expected = {**tree(build), "report.txt": b"all green\n"}
    assert tree(out / "site") == expected
    assert [p.name for p in out.iterdir()] == ["site"]  # no staging folder left behind


def test_the_highest_attempt_is_pulled_and_a_name_twice_is_refused(
    place: Place, build: Path, tmp_path: Path
) -> None:
    for attempt in (1, 2):
        (build / "index.html").write_text(f"attempt {attempt}\n")
        run = ActionsRun("octo", "site", 78, attempt)
        assert push_artifact(place.session, [build], place.url, run=run, name="site").ok
    with pytest.raises(ConflictError, match="was pushed already"):
        push_artifact(place.session, [build], place.url, run=ActionsRun("octo", "site", 78, 2),
                      name="site")  # fmt: skip
    result = pull_artifacts(place.session, place.url, tmp_path / "out", repository="octo/site",
                            run_id=78, name="site")  # fmt: skip
    assert result.ok and result.run.attempt == 2
    assert (tmp_path / "out" / "index.html").read_text() == "attempt 2\n"
    with pytest.raises(ObjectNotFound, match="no artifacts of run 79"):
        pull_artifacts(place.session, place.url, tmp_path / "none", repository="octo/site",
                       run_id=79)  # fmt: skip


def test_a_pull_refuses_what_the_manifest_does_not_vouch_for_and_writes_nothing(
    place: Place, build: Path, tmp_path: Path
) -> None:
    run = ActionsRun("octo", "site", 80, 1)
    assert push_artifact(place.session, [build], place.url, run=run, name="site").ok
    storage = place.session.storage(place.bucket)
    base = place.prefix + artifact_prefix(S3Url(place.bucket), run, "site")
    out = tmp_path / "out"

    def pull() -> list[str]:
        result = pull_artifacts(place.session, place.url, out, repository="octo/site", run_id=80)
        assert not result.ok
        assert not out.exists() or list(out.iterdir()) == []  # nothing written, no staging left
        return [str(error) for _, error in result.artifacts[0].failures]

    # The same size, other bytes: found only by the manifest's SHA-256, after the download.
    js = storage.get(base + "assets/app.js")
    storage.put(base + "assets/app.js", js.replace(b"1", b"2"))
    (said,) = pull()
    assert "assets/app.js: sha256" in said and "the manifest says" in said
    storage.put(base + "assets/app.js", js)
    # An object the manifest does not list: refused before anything is downloaded.
    storage.put(base + "assets/extra.js", b"alert(1)")
    (said,) = pull()
    assert "assets/extra.js: not in the manifest — artifact 'site' refused" in said
    storage.delete(base + "assets/extra.js")
    # No manifest: the push never finished.
    storage.delete(base + "manifest.json")
    (said,) = pull()
    assert "has no manifest.json: its push did not finish" in said


def test_outside_actions_push_is_refused_in_one_line(
    place: Place, build: Path, cli: CliInvoker, monkeypatch: pytest.MonkeyPatch
) -> None:
    for variable in ACTIONS:  # this suite may itself run in a GitHub Actions job
        monkeypatch.delenv(variable, raising=False)
    result = cli("github", "artifacts", "push", str(build), str(place.url),
                 env=place.backend.env())  # fmt: skip
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1
    assert "not inside a GitHub Actions job" in result.stderr and "--run-id" in result.stderr
    assert place.listed() == []
