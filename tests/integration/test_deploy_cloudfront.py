"""`s3kit deploy --cloudfront` against moto's CloudFront (a distribution made with boto3 in each
test): only the paths the deploy made stale are invalidated, once it is live, with the deploy id
as CallerReference; past the budget they collapse to wildcards; `--wait` sees it Completed; a
failed invalidation leaves the deploy live and says so; a dry run invalidates nothing."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Backend, CliInvoker
from tests.integration.cli_support import assert_failed, get
from tests.integration.test_deploy import SITE, deploy, log_lines, write_site


@pytest.fixture
def backend(moto: Backend) -> Backend:
    """CloudFront is AWS's alone: moto stands in for it (and for the bucket)."""
    return moto


def distribution(backend: Backend, bucket: str, origin_path: str = "") -> str:
    client = backend.session().client("cloudfront")
    origin = {
        "Id": "site",
        "DomainName": f"{bucket}.s3.amazonaws.com",
        "OriginPath": origin_path,
        "S3OriginConfig": {"OriginAccessIdentity": ""},
    }
    answer = client.create_distribution(
        DistributionConfig={
            "CallerReference": uuid.uuid4().hex,
            "Comment": "s3kit deploy test",
            "Enabled": True,
            "Origins": {"Quantity": 1, "Items": [origin]},
            "DefaultCacheBehavior": {
                "TargetOriginId": "site",
                "ViewerProtocolPolicy": "redirect-to-https",
                "MinTTL": 0,
                "ForwardedValues": {"QueryString": False, "Cookies": {"Forward": "none"}},
                "TrustedSigners": {"Enabled": False, "Quantity": 0},
            },
        }
    )
    return str(answer["Distribution"]["Id"])


def invalidations(backend: Backend, dist: str) -> list[dict[str, Any]]:
    client = backend.session().client("cloudfront")
    listed = client.list_invalidations(DistributionId=dist)["InvalidationList"]
    return [
        client.get_invalidation(DistributionId=dist, Id=item["Id"])["Invalidation"]
        for item in listed.get("Items") or []
    ]


def test_only_what_the_deploy_made_stale_is_invalidated_once_it_is_live(
    cli: CliInvoker, backend: Backend, bucket: str, tmp_path: Path
) -> None:
    dist = distribution(backend, bucket)
    root = write_site(tmp_path / "site", SITE)
    first = deploy(cli, backend, str(root), f"s3://{bucket}", "--cloudfront", dist)
    assert first["deploy_id"] and first["invalidation_id"] is None  # nothing was cached yet
    assert invalidations(backend, dist) == []

    (root / "index.html").write_text("<!doctype html><h1>v2</h1>")
    (root / "about" / "index.html").write_text("<!doctype html><h1>about v2</h1>")
    (root / "assets" / "app.3f2a9c1b.js").unlink()  # immutable: old pages may still load it
    (root / "assets" / "app.9e8d7c6b.js").write_text("console.log(2)")  # new: never cached
    (root / "LICENSE").unlink()
    expected = ["/", "/LICENSE", "/about/", "/about/index.html", "/index.html"]
    dry = deploy(cli, backend, str(root), f"s3://{bucket}", "--cloudfront", dist, "--dryrun",
                 "--delete", "now")  # fmt: skip
    assert dry["invalidation"]["status"] == "planned" and dry["invalidation"]["paths"] == expected
    assert invalidations(backend, dist) == []

    log = tmp_path / "deploy.log"
    second = deploy(cli, backend, str(root), f"s3://{bucket}", "--cloudfront", dist,
                    "--delete", "now", "--log-file", str(log))  # fmt: skip
    (made,) = invalidations(backend, dist)
    assert second["invalidation_id"] == made["Id"]
    assert made["InvalidationBatch"]["CallerReference"] == second["deploy_id"]
    assert made["InvalidationBatch"]["Paths"]["Items"] == expected
    assert second["invalidation"]["paths"] == expected
    manifest = json.loads(get(backend, bucket, "_s3kit/current.json"))
    assert manifest["summary"]["invalidation"] == made["Id"]
    history = cli("deploy", "history", f"s3://{bucket}", "--json", env=backend.env())
    assert json.loads(history.stdout)[-1]["invalidation"] == made["Id"]
    records = [r for r in log_lines(log) if r["action"] == "invalidate"]
    assert [r["path"] for r in records] == expected
    assert all(r["result"] == "done" and made["Id"] in r["reason"] for r in records)

    text = cli("deploy", str(root), f"s3://{bucket}", "--cloudfront", dist, env=backend.env())
    assert text.exit_code == 0 and "already serves this site" in text.stdout
    assert len(invalidations(backend, dist)) == 1  # no change, no invalidation


def test_past_the_budget_paths_collapse_and_wait_sees_the_invalidation_completed(
    cli: CliInvoker, backend: Backend, bucket: str, tmp_path: Path
) -> None:
    dist = distribution(backend, bucket, origin_path="/www")
    files = {"index.html": "<!doctype html>1", **{f"css/s{n}.css": "a{}" for n in range(5)}}
    root = write_site(tmp_path / "site", files)
    target = f"s3://{bucket}/www"
    deploy(cli, backend, str(root), target)
    for name in files:
        (root / name).write_text((root / name).read_text() + " ")
    result = cli("deploy", str(root), target, "--cloudfront", dist, "--cloudfront-path-prefix",
                 "/www", "--invalidation-budget", "3", "--wait", env=backend.env())  # fmt: skip
    assert result.exit_code == 0, result.stderr
    (made,) = invalidations(backend, dist)
    assert made["InvalidationBatch"]["Paths"]["Items"] == ["/www/", "/www/css/*", "/www/index.html"]
    assert f"invalidated 3 paths (covering 7) on {dist}: {made['Id']}, Completed" in result.stdout


def test_a_failed_invalidation_leaves_the_deploy_live_and_says_so(
    cli: CliInvoker, backend: Backend, bucket: str, tmp_path: Path
) -> None:
    root = write_site(tmp_path / "site", SITE)
    deploy(cli, backend, str(root), f"s3://{bucket}")
    (root / "index.html").write_text("<!doctype html><h1>v2</h1>")
    result = cli("deploy", str(root), f"s3://{bucket}", "--cloudfront", "ENOSUCHDIST",
                 env=backend.env())  # fmt: skip
    assert_failed(result)
    live = json.loads(get(backend, bucket, "_s3kit/current.json"))["id"]
    assert f"deploy {live} is live, but the CloudFront invalidation" in result.stderr
    assert "no distribution ENOSUCHDIST" in result.stderr
    assert "aws cloudfront create-invalidation --distribution-id ENOSUCHDIST" in result.stderr
    assert get(backend, bucket, "index.html") == b"<!doctype html><h1>v2</h1>"
    bad = cli("deploy", str(root), f"s3://{bucket}", "--cloudfront", "E1",
              "--invalidation-budget", "0", env=backend.env())  # fmt: skip
    assert bad.exit_code == 2 and "budget" in bad.stderr


def test_stale_files_deleted_after_the_grace_period_are_judged_by_their_stored_headers(
    cli: CliInvoker, backend: Backend, bucket: str, tmp_path: Path
) -> None:
    dist = distribution(backend, bucket)
    root = write_site(tmp_path / "site", SITE)
    deploy(cli, backend, str(root), f"s3://{bucket}")
    (root / "assets" / "app.3f2a9c1b.js").unlink()
    (root / "LICENSE").unlink()
    kept = deploy(cli, backend, str(root), f"s3://{bucket}", "--cloudfront", dist)
    assert kept["stale"] == 2 and kept["invalidation_id"] is None  # still served: nothing stale
    rules = tmp_path / "rules.yaml"
    rules.write_text("grace: 0\n")
    gone = deploy(cli, backend, str(root), f"s3://{bucket}", "--rules", str(rules),
                  "--cloudfront", dist)  # fmt: skip
    assert gone["deleted"] == 2
    # the live manifest no longer records them: their headers were read before the deletion
    (made,) = invalidations(backend, dist)
    assert made["InvalidationBatch"]["Paths"]["Items"] == ["/LICENSE"]


def test_a_rollback_invalidates_what_it_brings_back(
    cli: CliInvoker, backend: Backend, bucket: str, tmp_path: Path
) -> None:
    dist = distribution(backend, bucket)
    root = write_site(tmp_path / "site", SITE)
    deploy(cli, backend, str(root), f"s3://{bucket}")
    (root / "about" / "index.html").write_text("<!doctype html><h1>broken</h1>")
    deploy(cli, backend, str(root), f"s3://{bucket}")
    back = deploy(cli, backend, "rollback", f"s3://{bucket}", "--cloudfront", dist, "--wait")
    (made,) = invalidations(backend, dist)
    assert back["invalidation_id"] == made["Id"]
    assert made["InvalidationBatch"]["Paths"]["Items"] == ["/about/", "/about/index.html"]
    assert back["invalidation"]["status"] == "Completed"
