"""`s3kit github release mirror` against the GitHub stand-in (every answer held to GitHub's
OpenAPI description) and a real S3 server (`backend`: SeaweedFS and moto): assets land once,
a re-run finds them already mirrored, other bytes at a key are a conflict and stay, an asset
still uploading is skipped, latest.json is written last and only moves forward, and a download
that does not match GitHub's digest uploads nothing."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator

import pytest

from s3kit._session import Session
from s3kit._units import MiB
from s3kit.errors import TransferError
from s3kit.events import RequestEvent
from s3kit.github import GitHubRepo
from s3kit.github.release import mirror_releases
from tests import github_support
from tests.conftest import CliInvoker
from tests.github_standin import GitHubStandIn
from tests.github_support import Place, api_env, client_of

pytestmark = github_support.NEEDS_OPENAPI

TOOL = b"the tool, version one\n" * 500
NOTES = b"no digest for this one\n"


place = github_support.place
standin = github_support.standin


@pytest.fixture
def repo(standin: GitHubStandIn) -> Iterator[GitHubRepo]:
    with client_of(standin) as client:
        yield GitHubRepo(client, "octo/tool")


def puts(session: Session) -> list[str]:
    """The keys of every PutObject the session sends from now on, in order."""
    seen: list[str] = []

    def record(event: RequestEvent) -> None:
        if event.operation == "PutObject" and event.status == 200 and event.key:
            seen.append(event.key)

    session.events.subscribe(record)
    return seen


def github_env(place: Place, standin: GitHubStandIn) -> dict[str, str]:
    return {**place.backend.env(), **api_env(standin)}


def test_one_tag_is_mirrored_then_a_rerun_finds_it_all_already_there(
    standin: GitHubStandIn, repo: GitHubRepo, place: Place
) -> None:
    github = standin.add_repo("octo/tool")
    release = github.add_release("v1.0", name="One")
    github.add_asset(release, "tool.tar.gz", TOOL, content_type="application/gzip")
    github.add_asset(release, "NOTES.txt", NOTES, digest=None)
    first = mirror_releases(place.session, repo, place.url, tag="v1.0")
    assert first.ok and (first.count("mirrored"), first.count("already")) == (2, 0)
    assert place.listed() == [
        "tool/latest.json", "tool/v1.0/NOTES.txt", "tool/v1.0/release.json",
        "tool/v1.0/tool.tar.gz",
    ]  # fmt: skip
    assert place.get("tool/v1.0/tool.tar.gz") == TOOL
    storage = place.session.storage(place.bucket)
    head = storage.head(place.prefix + "tool/v1.0/tool.tar.gz")
    assert head.metadata["sha256"] == hashlib.sha256(TOOL).hexdigest()
    assert head.content_type == "application/gzip"
    assert storage.head(place.prefix + "tool/v1.0/NOTES.txt").metadata["sha256"] == (
        hashlib.sha256(NOTES).hexdigest()
    )
    record = place.json("tool/v1.0/release.json")
    assert (record["tag"], record["name"], record["skipped_open"]) == ("v1.0", "One", [])
    assert record["published_at"] is not None
    assert sorted((a["key"], a["size"], a["sha256"]) for a in record["assets"]) == sorted(
        (place.prefix + f"tool/v1.0/{name}", len(data), hashlib.sha256(data).hexdigest())
        for name, data in (("tool.tar.gz", TOOL), ("NOTES.txt", NOTES))
    )
    assert place.json("tool/latest.json")["tag"] == "v1.0"

    downloads = len(standin.object_requests)
    written = puts(place.session)
    again = mirror_releases(place.session, repo, place.url, tag="v1.0")
    assert again.ok and (again.count("mirrored"), again.count("already")) == (0, 2)
    # No asset key written again; only NOTES.txt (GitHub lists no digest) was downloaded, to
    # compare it with the sha256 its object records.
    assert written == [place.prefix + "tool/v1.0/release.json"]
    assert len(standin.object_requests) == downloads + 1


def test_other_bytes_at_a_key_are_a_conflict_and_nothing_is_overwritten(
    standin: GitHubStandIn, place: Place, cli: CliInvoker
) -> None:
    github = standin.add_repo("octo/tool")
    release = github.add_release("v1.0")
    tool = github.add_asset(release, "tool.tar.gz", TOOL)
    notes = github.add_asset(release, "NOTES.txt", NOTES, digest=None)
    env = github_env(place, standin)
    first = cli("github", "release", "mirror", "octo/tool", str(place.url), "--tag", "v1.0",
                env=env)  # fmt: skip
    assert first.exit_code == 0, first.stderr
    # The release is rebuilt on GitHub with other bytes of the same size.
    tool.data = TOOL.replace(b"one", b"two")
    tool.digest = "sha256:" + hashlib.sha256(tool.data).hexdigest()
    notes.data = NOTES.upper()
    written = puts(place.session)
    result = cli(
        "github", "release", "mirror", "octo/tool", str(place.url), "--tag", "v1.0", "--json",
        env=env,
    )  # fmt: skip
    assert result.exit_code == 1, result.stderr
    document = json.loads(result.stdout)
    assert (document["failed"], document["mirrored"], document["already"]) == (2, 0, 0)
    for item in document["assets"]:
        assert item["status"] == "failed" and item["conflict"] is True
        assert "not overwritten" in item["error"]["message"]
    assert document["releases"][0]["record"] is None and document["latest"] is None
    assert place.get("tool/v1.0/tool.tar.gz") == TOOL
    assert place.get("tool/v1.0/NOTES.txt") == NOTES
    assert written == []


def test_an_asset_still_uploading_is_skipped_and_latest_waits_for_it(
    standin: GitHubStandIn, place: Place, cli: CliInvoker
) -> None:
    github = standin.add_repo("octo/tool")
    release = github.add_release("v1.0")
    github.add_asset(release, "tool.tar.gz", TOOL)
    github.add_asset(release, "tool.zip", b"half of it", state="open")
    result = cli("github", "release", "mirror", "octo/tool", str(place.url), "--latest",
                 env=github_env(place, standin))  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert 'skipped   v1.0/tool.zip: still being uploaded to GitHub (state "open")' in (
        result.stderr
    )
    assert "1 mirrored, 0 already there, 1 still uploading, 0 failed" in result.stdout
    assert "latest.json not moved" in result.stderr
    assert place.listed() == ["tool/v1.0/release.json", "tool/v1.0/tool.tar.gz"]
    assert place.json("tool/v1.0/release.json")["skipped_open"] == ["tool.zip"]


def test_latest_json_is_written_last_and_only_moves_forward(
    standin: GitHubStandIn, repo: GitHubRepo, place: Place
) -> None:
    github = standin.add_repo("octo/tool")
    releases = [
        github.add_release("v1.0", assets={"tool.tar.gz": b"one"}),
        github.add_release("v2.0", assets={"tool.tar.gz": b"two", "tool.zip": b"two zipped"}),
        github.add_release("v3.0-rc1", prerelease=True, assets={"tool.tar.gz": b"three?"}),
    ]
    for day, release in enumerate(releases, 1):  # published a day apart
        release.created_at = f"2024-01-0{day}T12:00:00Z"
    written = puts(place.session)
    destination = place.url
    result = mirror_releases(place.session, repo, destination, latest=True)
    assert result.ok and result.latest_tag == "v2.0"
    assert written[-1] == place.prefix + "tool/latest.json"
    assert sorted(written[:2]) == [place.prefix + "tool/v2.0/tool.tar.gz",
                                   place.prefix + "tool/v2.0/tool.zip"]  # fmt: skip
    assert written[2] == place.prefix + "tool/v2.0/release.json"
    latest = place.json("tool/latest.json")
    assert (latest["tag"], latest["release"]) == ("v2.0", place.prefix + "tool/v2.0/release.json")
    # An older tag mirrored afterwards leaves latest where it is; a prerelease never moves it.
    for tag in ("v1.0", "v3.0-rc1"):
        older = mirror_releases(place.session, repo, destination, tag=tag)
        assert older.ok and older.latest_key is None
    assert place.json("tool/latest.json")["tag"] == "v2.0"
    assert place.get("tool/v1.0/tool.tar.gz") == b"one"


def test_all_releases_oldest_first_without_drafts_and_a_dry_run_writes_nothing(
    standin: GitHubStandIn, repo: GitHubRepo, place: Place
) -> None:
    github = standin.add_repo("octo/tool")
    for tag in ("v1", "v2", "v3"):
        github.add_release(tag, assets={"tool.bin": tag.encode()})
    github.add_release("v4", draft=True, assets={"tool.bin": b"draft"})
    destination = place.url
    planned = mirror_releases(place.session, repo, destination, all_releases=True, dryrun=True)
    assert planned.ok and planned.count("planned") == 3 and planned.latest_tag == "v3"
    assert place.listed() == []
    written = puts(place.session)
    result = mirror_releases(place.session, repo, destination, all_releases=True)
    assert [r.tag for r in result.releases] == ["v1", "v2", "v3"]
    assert result.skipped_drafts == ["v4"]
    assert [key[len(place.prefix) :] for key in written if key.endswith("tool.bin")] == [
        "tool/v1/tool.bin", "tool/v2/tool.bin", "tool/v3/tool.bin",
    ]  # fmt: skip
    assert place.json("tool/latest.json")["tag"] == "v3"


def test_a_big_asset_goes_up_in_parts_and_an_unrecorded_object_is_read_to_compare(
    standin: GitHubStandIn, repo: GitHubRepo, place: Place
) -> None:
    github = standin.add_repo("octo/tool")
    release = github.add_release("v1.0")
    big = bytes(range(256)) * (6 * 4096)  # 6 MiB
    github.add_asset(release, "big.bin", big)
    github.add_asset(release, "small.bin", b"same bytes")
    github.add_asset(release, "other.bin", b"GitHub's one")
    storage = place.session.storage(place.bucket)
    # Written by another tool, without a sha256 record: only their bytes can tell.
    storage.put(place.prefix + "tool/v1.0/small.bin", b"same bytes")
    storage.put(place.prefix + "tool/v1.0/other.bin", b"someone's!!!")
    destination = place.url
    result = mirror_releases(place.session, repo, destination, tag="v1.0", big_asset=5 * MiB)
    outcomes = {asset.name: asset.outcome for asset in result.assets}
    assert outcomes == {"big.bin": "mirrored", "small.bin": "already", "other.bin": "failed"}
    conflict = next(asset for asset in result.assets if asset.name == "other.bin")
    assert conflict.conflict and "holds other bytes" in str(conflict.error)
    head = storage.head(place.prefix + "tool/v1.0/big.bin")
    assert (head.etag or "").strip('"').endswith("-1")  # one part of a multipart upload
    assert head.metadata["sha256"] == hashlib.sha256(big).hexdigest()
    assert place.get("tool/v1.0/big.bin") == big
    assert place.get("tool/v1.0/other.bin") == b"someone's!!!"


def test_a_download_that_does_not_match_githubs_digest_uploads_nothing(
    standin: GitHubStandIn, repo: GitHubRepo, place: Place
) -> None:
    github = standin.add_repo("octo/tool")
    release = github.add_release("v1.0")
    tool = github.add_asset(release, "tool.tar.gz", TOOL)
    tool.data = TOOL[::-1]  # the size GitHub lists, other bytes than its digest says
    result = mirror_releases(place.session, repo, place.url, tag="v1.0")
    assert not result.ok
    (failed,) = result.assets
    assert failed.outcome == "failed" and isinstance(failed.error, TransferError)
    assert "GitHub lists — nothing was written" in failed.error.message
    assert place.listed() == []  # no asset, no release.json, no latest.json


def test_a_bad_layout_is_refused_before_github_is_asked(
    standin: GitHubStandIn, place: Place, cli: CliInvoker
) -> None:
    result = cli("github", "release", "mirror", "octo/tool", str(place.url), "--tag", "v1",
                 "--layout", "{repo}/{version}/{name}", env=github_env(place, standin))  # fmt: skip
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and "unknown placeholder {version}" in result.stderr
    assert standin.requests == []
    both = cli("github", "release", "mirror", "octo/tool", str(place.url), "--tag", "v1",
               "--latest", env=github_env(place, standin))  # fmt: skip
    assert both.exit_code == 2 and "exactly one of --tag TAG, --latest or --all" in both.stderr
