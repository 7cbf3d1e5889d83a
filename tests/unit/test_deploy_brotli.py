"""Brotli siblings (KEY.br beside KEY) in the deploy rules, the compressor and the planner, and
the bounded history that collects the deploy's own copies (`_s3kit/blobs/`) — pure, no server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from s3kit.deploy.compress import BROTLI_MAX_SIZE, brotli_bytes, worth_brotli
from s3kit.deploy.manifest import FileRecord, Manifest, iso
from s3kit.deploy.plan import DeployDeleteRefused, SiteFile, make_plan, seed_history
from s3kit.deploy.rules import DeployConfig, FileHeaders, Rule
from s3kit.deploy.rules_file import DeployConfigError, parse_deploy_config
from s3kit.errors import UsageError

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
CSS = FileHeaders("text/css; charset=utf-8", "public, max-age=300")
CSS_BR = FileHeaders("text/css; charset=utf-8", "public, max-age=300", brotli=True)


def config_of(text: str) -> DeployConfig:
    return parse_deploy_config(text, source="s3kit-deploy.yaml")


# -- the rule ---------------------------------------------------------------------------------


def test_a_sibling_is_refused_unless_the_config_says_something_negotiates() -> None:
    with pytest.raises(DeployConfigError) as caught:
        config_of("rules:\n  - match: '*.css'\n    brotli: sibling\n")
    assert caught.value.problems[0].startswith("s3kit-deploy.yaml:2: brotli: sibling needs serve:")
    with pytest.raises(UsageError, match="serve: negotiating"):
        DeployConfig(rules=(Rule(patterns=("*.css",), brotli=True),))
    config = config_of("serve: negotiating\nrules:\n  - match: '*.css'\n    brotli: sibling\n")
    assert config.serve == "negotiating" and config.rules[0].brotli is True


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("serve: cloudfront\n", "serve must be one of s3, negotiating"),
        ("keep: 0\n", "keep must be a whole number of deploys, at least 1"),
        ("keep: two\n", "keep must be a whole number"),
        ("rules:\n  - match: '*.css'\n    ignore: true\n    brotli: sibling\n", "ignore: true"),
    ],
)
def test_bad_serve_keep_and_brotli_settings(text: str, problem: str) -> None:
    with pytest.raises(DeployConfigError) as caught:
        config_of("serve: negotiating\n" + text if "serve" not in text else text)
    assert problem in caught.value.problems[0]


def test_a_sibling_is_for_compressible_files_of_a_useful_size() -> None:
    config = config_of("serve: negotiating\nrules:\n  - match: '**'\n    brotli: sibling\n")
    assert config.headers_for("a.css", size=5000) == CSS_BR
    assert config.headers_for("a.css") == CSS_BR  # size unknown: the type decides
    assert config.headers_for("a.css", size=100) == CSS  # framing would eat the saving
    headers = config.headers_for("a.png", size=5000)
    assert headers is not None and not headers.brotli  # compressed already
    assert not worth_brotli("text/css", BROTLI_MAX_SIZE + 1)


def test_the_sibling_is_part_of_the_header_fingerprint_and_nothing_else_changes() -> None:
    assert CSS_BR.fingerprint() != CSS.fingerprint()
    # Without a sibling the fingerprint is the one manifests recorded before siblings existed.
    assert CSS.fingerprint() == FileHeaders(CSS.content_type, CSS.cache_control).fingerprint()
    assert (
        FileHeaders("text/plain", "no-cache").fingerprint() == "db9a776ff3a8b00b"
    )  # as before siblings


def test_brotli_output_is_deterministic_and_decodes() -> None:
    import brotli

    data = b"body { color: red }\n" * 500
    assert brotli_bytes(data) == brotli_bytes(bytes(data))
    assert brotli.decompress(brotli_bytes(data)) == data
    assert len(brotli_bytes(data)) < len(data) // 10


# -- the plan ---------------------------------------------------------------------------------


def site(key: str, content: str = "v1", headers: FileHeaders = CSS_BR) -> SiteFile:
    return SiteFile(key, f"sha-{content}", 2000, headers)


def manifest(*files: SiteFile, deploy_id: str = "d1", **extra: Any) -> Manifest:
    return Manifest(
        id=deploy_id,
        created="2026-11-30T00:00:00Z",
        files={f.key: f.record(f.size, None, 300 if f.headers.brotli else None) for f in files},
        **extra,
    )


NEGOTIATING = DeployConfig(serve="negotiating", grace_seconds=3600)


def test_a_sibling_leaves_with_its_file_and_max_delete_counts_files() -> None:
    live = manifest(site("a.css"), site("b.css"), site("c.css", headers=CSS))
    plan = make_plan([site("c.css", headers=CSS)], live, NEGOTIATING, now=NOW, max_delete=2)
    assert plan.leaving == ["a.css", "a.css.br", "b.css", "b.css.br"]
    with pytest.raises(DeployDeleteRefused, match="takes 2 files off the site"):
        make_plan([site("c.css", headers=CSS)], live, NEGOTIATING, now=NOW, max_delete=1)
    later = make_plan(
        [site("c.css", headers=CSS)],
        manifest(site("c.css", headers=CSS), stale=plan.stale),
        NEGOTIATING,
        now=NOW + timedelta(hours=2),
    )
    assert later.deletions == ["a.css", "a.css.br", "b.css", "b.css.br"]


def test_turning_the_sibling_off_sends_the_file_and_retires_the_sibling() -> None:
    plan = make_plan([site("a.css", headers=CSS)], manifest(site("a.css")), NEGOTIATING, now=NOW)
    assert [(u.file.key, u.reason) for u in plan.uploads] == [("a.css", "headers")]
    assert plan.leaving == ["a.css.br"]


def test_a_missing_sibling_sends_its_file_again() -> None:
    live = manifest(site("a.css"))
    stored = {"a.css": 2000, "a.css.br": 300}
    assert make_plan([site("a.css")], live, NEGOTIATING, now=NOW, stored=stored).uploads == []
    plan = make_plan([site("a.css")], live, NEGOTIATING, now=NOW, stored={"a.css": 2000})
    assert [(u.file.key, u.reason) for u in plan.uploads] == [("a.css", "missing")]


def test_a_site_file_in_a_siblings_place_is_refused() -> None:
    files = [site("a.css"), site("a.css.br", headers=CSS)]
    with pytest.raises(UsageError, match=r"a\.css\.br is a file of the site"):
        make_plan(files, None, NEGOTIATING, now=NOW)


def test_a_record_with_a_sibling_round_trips_and_an_old_one_reads_without() -> None:
    record = site("a.css").record(2000, None, 300, "v-br")
    assert record.blobs() == (record.blob, record.blob + ".br")
    document = manifest(site("a.css"), history=["d1"], older_blobs={}).document()
    back = Manifest.from_document(document, "x")
    assert back.files["a.css"].brotli_size == 300 and back.history == ["d1"]
    old = manifest(site("a.css", headers=CSS)).document()
    assert "brotli_size" not in old["files"]["a.css"] and "history" not in old
    read = Manifest.from_document(old, "x")
    assert read.history is None and read.older_blobs is None
    assert read.files["a.css"].brotli_size is None


# -- the bounded history ----------------------------------------------------------------------


def record(content: str) -> FileRecord:
    return site("a.css", content, CSS).record(2000, None)


def test_a_deploy_past_keep_retires_the_oldest_and_collects_after_the_grace_period() -> None:
    config = DeployConfig(keep=2, grace_seconds=3600)
    v1, v2, v3 = record("v1"), record("v2"), record("v3")
    live = Manifest(
        "d3", iso(NOW), {"a.css": v3}, history=["d1", "d2", "d3"],
        older_blobs={v1.blob: "d1", v2.blob: "d2"},
    )  # fmt: skip
    plan = make_plan([site("a.css", "v4", CSS)], live, config, now=NOW)
    assert plan.history == ["d3"]  # and the new deploy after it: keep=2
    assert plan.retired == {"d1": iso(NOW), "d2": iso(NOW)}
    assert (plan.dropped, plan.blob_deletions) == ([], [])  # in their grace period

    later = NOW + timedelta(hours=2)
    after = Manifest("d4", iso(NOW), {"a.css": record("v4")}, history=["d3", "d4"],
                     retired=plan.retired,
                     older_blobs={v1.blob: "d1", v2.blob: "d2", v3.blob: "d3"})  # fmt: skip
    plan = make_plan([site("a.css", "v4", CSS)], after, config, now=later)
    assert plan.dropped == ["d1", "d2"]
    assert plan.blob_deletions == sorted([v1.blob, v2.blob])  # d3 is kept, so is v3's copy
    assert plan.document()["collect"] == {"deploys": ["d1", "d2"], "blobs": 2}


def test_a_blob_a_file_of_the_plan_names_is_never_collected() -> None:
    config = DeployConfig(keep=1, grace_seconds=0)
    v1, v2 = record("v1"), record("v2")
    live = Manifest("d2", iso(NOW), {"a.css": v2}, history=["d1", "d2"],
                    older_blobs={v1.blob: "d1"})  # fmt: skip
    back_to_v1 = SiteFile("a.css", "sha-v1", 2000, CSS, restore=v1)  # a rollback to d1
    plan = make_plan([back_to_v1], live, config, now=NOW)
    assert plan.dropped == ["d1", "d2"]
    assert plan.blob_deletions == [v2.blob]  # v1's copy is what the rollback copies from


def test_a_manifest_from_before_the_history_collects_nothing_until_seeded() -> None:
    v1, v2 = record("v1"), record("v2")
    old = Manifest("d1", iso(NOW), {"a.css": v1})
    live = Manifest("d2", iso(NOW), {"a.css": v2}, previous="d1")
    config = DeployConfig(keep=1, grace_seconds=0)
    assert make_plan([site("a.css", "v3", CSS)], live, config, now=NOW).blob_deletions == []
    seeded = seed_history(live, [old, live])
    assert seeded.history == ["d1", "d2"] and seeded.older_blobs == {v1.blob: "d1"}
    plan = make_plan([site("a.css", "v3", CSS)], seeded, config, now=NOW)
    assert plan.blob_deletions == sorted([v1.blob, v2.blob])


def test_the_readmes_brotli_example_is_a_valid_rules_file() -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.split("### deploy — publish a static site", 1)[1].split("\n### ", 1)[0]
    blocks = [b.split("```", 1)[0] for b in section.split("```yaml\n")[1:]]
    blocks = [block for block in blocks if "brotli:" in block]
    assert len(blocks) == 1
    config = config_of(blocks[0])
    assert config.serve == "negotiating" and config.rules[0].brotli


def test_the_plan_and_the_summary_count_the_collection_apart_from_the_site(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from s3kit._uri import S3Url
    from s3kit.cli.deploy import _print_deployed, _print_plan
    from s3kit.deploy.plan import DeployPlan
    from s3kit.deploy.report import DeployOutcome

    plan = DeployPlan(
        base="d3", dropped=["d1"], blob_deletions=["_s3kit/blobs/x", "_s3kit/blobs/y"]
    )
    _print_plan(DeployOutcome(S3Url("www", ""), plan, dryrun=True), DeployConfig())
    printed = capsys.readouterr().out
    assert "0 unchanged, 0 stale kept for now\n" in printed
    assert printed.endswith(
        "history: collects 1 old deploy and 2 copies no kept deploy uses (under _s3kit/blobs/,"
        " apart from the site's files)\n"
    )
    _print_deployed(DeployOutcome(S3Url("www", ""), plan, deploy_id="d4", collected=2))
    assert "0 deleted, 1 old deploy and 2 kept copies collected" in capsys.readouterr().out
