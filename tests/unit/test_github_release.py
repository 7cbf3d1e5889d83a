"""The pure core of `s3kit github release mirror`: the layout template, the keys it makes, what
to do with each asset given what is at its key, and which release latest.json may name."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import pytest

from s3kit._uri import S3Url
from s3kit.errors import InvalidKey, UsageError
from s3kit.github.api import ReleaseAsset
from s3kit.github.release_plan import (
    AssetResult,
    Existing,
    LatestPointer,
    Layout,
    Outcome,
    ReleaseResult,
    asset_key,
    compare_digests,
    decide_asset,
    latest_candidate,
    latest_record_key,
    moves_latest,
    release_record_key,
    validate_layout,
)
from s3kit.storage.base import ObjectInfo

SHA_A = hashlib.sha256(b"a").hexdigest()
SHA_B = hashlib.sha256(b"b").hexdigest()


def asset(*, state: str = "uploaded", size: int = 10, sha256: str | None = SHA_A) -> ReleaseAsset:
    return ReleaseAsset(
        id=1, name="tool.tar.gz", label=None, state=state,  # type: ignore[arg-type]
        content_type="application/gzip", size=size, sha256=sha256,
        browser_download_url="https://github.com/o/r/releases/download/v1/tool.tar.gz",
    )  # fmt: skip


# -- the layout -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "template",
    ["{repo}/{tag}/{name}", "{owner}/{repo}/{tag}/{name}", "{name}", "dl/{tag}-{name}",
     "{{literal}}/{tag}/{name}"],
)  # fmt: skip
def test_good_layouts_are_kept(template: str) -> None:
    assert validate_layout(template) == template
    assert Layout(template).template == template


@pytest.mark.parametrize(
    ("template", "said"),
    [
        ("{repo}/{version}/{name}", r"unknown placeholder \{version\}"),
        ("{repo}/{}/{name}", r"unknown placeholder \{\}"),
        ("{repo}/{0}/{name}", r"unknown placeholder \{0\}"),
        ("{repo}/{name.upper}", r"unknown placeholder \{name.upper\}"),
        ("{repo}/{name[0]}", r"unknown placeholder \{name\[0\]\}"),
        ("{repo}/{tag!r}/{name}", "takes no conversion or format"),
        ("{repo}/{tag:>8}/{name}", "takes no conversion or format"),
        ("{repo}/{tag}", r"has no \{name\}"),
        ("{repo}/{tag/{name}", "placeholders are"),
        ("{repo}/{tag}}/{name}", "placeholders are"),
        ("/{repo}/{name}", "makes keys like '/repo/asset.bin'"),
        ("{repo}//{name}", "empty"),
        ("{repo}/../{name}", r"'\.\.'"),
        ("{name}/", "makes keys like"),
    ],
)
def test_bad_layouts_are_refused_saying_why(template: str, said: str) -> None:
    with pytest.raises(UsageError, match=said):
        Layout(template)


# -- keys -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "prefix"),
    [(S3Url("b"), ""), (S3Url("b", "mirror"), "mirror/"), (S3Url("b", "a/b/"), "a/b/")],
)
def test_the_prefix_is_a_folder(url: S3Url, prefix: str) -> None:
    assert url.folder == prefix


def test_keys_of_assets_and_records() -> None:
    dest = S3Url("b", "mirror")
    values = {"owner": "octo", "repo": "tool", "tag": "v1.2", "name": "tool.tar.gz"}
    assert asset_key(dest, Layout(), **values) == "mirror/tool/v1.2/tool.tar.gz"
    layout = Layout("{owner}/{repo}/{tag}/{name}")
    assert asset_key(S3Url("b"), layout, **values) == "octo/tool/v1.2/tool.tar.gz"
    assert release_record_key(dest, "tool", "v1.2") == "mirror/tool/v1.2/release.json"
    assert latest_record_key(dest, "tool") == "mirror/tool/latest.json"
    # A tag may hold '/': it becomes folders, as on GitHub's own download URLs.
    nested = asset_key(dest, Layout(), **{**values, "tag": "release/1.0"})
    assert nested == "mirror/tool/release/1.0/tool.tar.gz"


@pytest.mark.parametrize("tag", ["..", ".", "a//b", "v1/"])
def test_a_tag_that_makes_an_unaddressable_key_is_refused(tag: str) -> None:
    with pytest.raises(InvalidKey):
        asset_key(S3Url("b"), Layout(), owner="o", repo="r", tag=tag, name="x.bin")


# -- what to do with an asset ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("the_asset", "existing", "step"),
    [
        (asset(state="open"), None, "skip_open"),
        (asset(state="open"), Existing(10, SHA_B), "skip_open"),  # not even a conflict yet
        (asset(), None, "upload"),
        (asset(sha256=None), None, "upload"),
        (asset(), Existing(10, SHA_A), "already"),
        (asset(), Existing(10, SHA_B), "conflict"),
        (asset(), Existing(11, SHA_A), "conflict"),  # the size settles it, whatever it says
        (asset(sha256=None), Existing(9, None), "conflict"),
        (asset(sha256=None), Existing(10, SHA_A), "compare"),  # GitHub lists no digest
        (asset(), Existing(10, None), "compare"),  # the object records none
        (asset(sha256=None), Existing(10, None), "compare"),
    ],
)
def test_each_asset_decision(the_asset: ReleaseAsset, existing: Existing | None, step: str) -> None:
    assert decide_asset(the_asset, existing) == step


def test_the_comparison_settles_it() -> None:
    assert compare_digests(SHA_A, SHA_A.upper()) == "already"
    assert compare_digests(SHA_A, SHA_B) == "conflict"


def test_what_is_at_a_key_is_read_from_its_metadata() -> None:
    when = datetime(2024, 1, 1, tzinfo=UTC)
    info = ObjectInfo("k", 10, when, metadata={"sha256": SHA_A.upper()})
    assert Existing.from_info(info) == Existing(10, SHA_A)
    # Anything that is not a SHA-256 is no record of one: the bytes will tell.
    assert Existing.from_info(ObjectInfo("k", 10, when, metadata={"sha256": "x"})).sha256 is None
    assert Existing.from_info(ObjectInfo("k", 10, when)).sha256 is None


# -- latest.json ----------------------------------------------------------------------------------


def release(
    tag: str,
    day: int,
    release_id: int,
    *,
    prerelease: bool = False,
    outcomes: tuple[Outcome, ...] = ("mirrored",),
    recorded: bool = True,
) -> ReleaseResult:
    made = ReleaseResult(
        tag=tag, name=tag, release_id=release_id, prerelease=prerelease,
        published_at=datetime(2024, 1, day, tzinfo=UTC),
        record_key=f"r/{tag}/release.json" if recorded else None,
    )  # fmt: skip
    for outcome in outcomes:
        made.assets.append(
            AssetResult(tag=tag, name=f"{outcome}.bin", url="", key="k", size=1, sha256=None,
                        outcome=outcome)
        )  # fmt: skip
    return made


def test_latest_names_the_newest_complete_full_release() -> None:
    v1, v2 = release("v1", 1, 10), release("v2", 2, 20)
    rc = release("v3-rc1", 3, 30, prerelease=True)
    open_asset = release("v4", 4, 40, outcomes=("mirrored", "skipped_open"))
    failed = release("v5", 5, 50, outcomes=("failed",), recorded=False)
    assert latest_candidate([v1, v2, rc, open_asset, failed]) is v2
    assert latest_candidate([v2, v1]) is v2  # order of the run does not matter
    assert latest_candidate([rc]) is None
    assert latest_candidate([]) is None
    # No assets at all is complete: a release may have none.
    assert latest_candidate([release("v0", 1, 5, outcomes=())]) is not None


def test_latest_only_moves_forward() -> None:
    old = LatestPointer("v1", "2024-01-01T00:00:00+00:00", 10)
    new = LatestPointer("v2", "2024-01-02T00:00:00+00:00", 20)
    assert moves_latest(None, old)
    assert moves_latest(old, new)
    assert not moves_latest(new, old)  # mirroring an old tag never turns latest back
    assert not moves_latest(new, new)  # already there: nothing to write
    # Published in the same second: GitHub's ids only grow.
    same_second = LatestPointer("v2.1", new.published_at, 21)
    assert moves_latest(new, same_second)
