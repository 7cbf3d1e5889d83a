"""The CloudFront invalidation of a deploy (deploy/cloudfront.py), without a server: which site
paths an edge may hold a wrong copy of, how they are written as CloudFront paths, how they are
collapsed to wildcards past the budget, the options' checks, and the calls (CallerReference,
retries on TooManyInvalidationsInProgress, --wait) against a fake client with a fake clock."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.exceptions import ClientError

from s3kit.deploy.caching import IMMUTABLE_CACHE_CONTROL
from s3kit.deploy.cloudfront import (
    DEFAULT_BUDGET,
    MAX_WILDCARDS,
    CloudFrontInvalidation,
    Invalidator,
    collapse,
    edge_stale_keys,
    invalidate,
    invalidation_records,
    url_path,
    url_paths,
)
from s3kit.deploy.manifest import Manifest
from s3kit.deploy.plan import SiteFile, make_plan
from s3kit.deploy.rules import DeployConfig, FileHeaders
from s3kit.errors import S3KitError, UsageError

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
HTML = FileHeaders("text/html; charset=utf-8", "no-cache", False)
HASHED = FileHeaders("text/javascript; charset=utf-8", IMMUTABLE_CACHE_CONTROL, False)
SHORT = FileHeaders("image/svg+xml", "public, max-age=300", False)


def site(key: str, content: str = "v1", headers: FileHeaders | None = None) -> SiteFile:
    chosen = headers or (HTML if key.endswith(".html") else HASHED)
    return SiteFile(key, f"sha-{content}", len(content), chosen)


def live(*files: SiteFile, **extra: Any) -> Manifest:
    return Manifest(
        id="20261130T000000Z-aaaaaa",
        created="2026-11-30T00:00:00Z",
        files={f.key: f.record(f.size, None) for f in files},
        **extra,
    )


# -- which site paths -------------------------------------------------------------------------


def test_changed_header_changed_and_deleted_paths_are_invalidated_but_not_new_or_immutable() -> (
    None
):
    before = live(
        site("index.html"),
        site("about/index.html"),
        site("logo.svg", headers=SHORT),
        site("gone.html"),
        site("assets/app.11111111.js"),
    )
    files = [
        site("index.html", "v2"),  # changed
        site("about/index.html"),  # unchanged
        site("logo.svg", headers=FileHeaders("image/svg+xml", "public, max-age=60", False)),
        site("assets/app.22222222.js"),  # a new hashed name: nothing cached under it
    ]
    plan = make_plan(files, before, DeployConfig(), now=NOW, delete="now")
    assert sorted(plan.deletions) == ["assets/app.11111111.js", "gone.html"]
    keys = edge_stale_keys(plan, before, stored=None, deleted=plan.deletions)
    # the old hashed asset was served immutable: old pages may still load it from the edge
    assert keys == ["gone.html", "index.html", "logo.svg"]


def test_an_immutable_file_is_skipped_only_while_it_was_and_stays_immutable() -> None:
    before = live(site("a.js"), site("b.js", headers=SHORT))
    fixed = FileHeaders(HASHED.content_type, "public, max-age=60", False)
    files = [site("a.js", headers=fixed), site("b.js", headers=HASHED)]
    plan = make_plan(files, before, DeployConfig(), now=NOW)
    # a.js: the edge holds an immutable copy the rules no longer want; b.js: the edge's copy
    # was not immutable. Both are out of date at the edge.
    assert edge_stale_keys(plan, before, stored=None, deleted=[]) == ["a.js", "b.js"]
    same = make_plan([site("a.js", "v2")], live(site("a.js")), DeployConfig(), now=NOW)
    assert edge_stale_keys(same, live(site("a.js")), stored=None, deleted=[]) == []


def test_a_new_file_over_an_object_the_bucket_already_had_is_invalidated() -> None:
    # a first deploy over a bucket another tool filled: the edge may hold those objects
    plan = make_plan([site("index.html"), site("new.html")], None, DeployConfig(), now=NOW)
    stored = {"index.html": 10, "not-ours.txt": 3}
    assert edge_stale_keys(plan, None, stored=stored, deleted=[]) == ["index.html"]
    # a file the bucket lost and gets again has its recorded content: nothing to invalidate
    before = live(site("index.html"))
    missing = make_plan([site("index.html")], before, DeployConfig(), now=NOW, stored={})
    assert [u.reason for u in missing.uploads] == ["missing"]
    assert edge_stale_keys(missing, before, stored={}, deleted=[]) == []


def test_redirects_are_invalidated_when_their_path_served_something_before() -> None:
    config = DeployConfig(redirects={"/old/": "/new/", "/page.html": "/", "/fresh": "/x"})
    before = live(site("index.html"), site("page.html"), redirects={"old/index.html": "/was/"})
    plan = make_plan([site("index.html")], before, config, now=NOW)
    assert sorted(plan.redirects) == ["fresh", "old/index.html", "page.html"]
    # a changed redirect and a file replaced by one; a brand-new redirect path was never cached
    assert edge_stale_keys(plan, before, stored=None, deleted=[]) == ["old/index.html", "page.html"]


def test_a_stale_file_deleted_after_the_grace_period_is_judged_by_its_stored_headers() -> None:
    left = "2026-11-01T00:00:00Z"
    before = live(site("index.html"), stale={"old.css": left, "x.js": left})
    plan = make_plan([site("index.html")], before, DeployConfig(), now=NOW)
    assert sorted(plan.deletions) == ["old.css", "x.js"]
    headers = {"old.css": "public, max-age=300", "x.js": IMMUTABLE_CACHE_CONTROL}
    assert edge_stale_keys(plan, before, stored=None, deleted=plan.deletions,
                           edge_cache_control=headers) == ["old.css"]  # fmt: skip
    # not known (HEAD found nothing): invalidated, to be safe
    assert edge_stale_keys(plan, before, stored=None, deleted=["x.js"]) == ["x.js"]


# -- CloudFront paths -------------------------------------------------------------------------


def test_an_index_document_is_also_invalidated_as_its_folder() -> None:
    keys = ["index.html", "docs/index.html", "docs/a.html", "docs/index.html.bak"]
    assert url_paths(keys) == [
        "/",
        "/docs/",
        "/docs/a.html",
        "/docs/index.html",
        "/docs/index.html.bak",
        "/index.html",
    ]
    assert url_paths(["docs/default.htm"], index_document="default.htm") == [
        "/docs/",
        "/docs/default.htm",
    ]


def test_the_path_prefix_maps_the_deploy_to_the_distributions_origin() -> None:
    assert url_paths(["index.html", "a/b.css"], prefix="/www") == [
        "/www/",
        "/www/a/b.css",
        "/www/index.html",
    ]


@pytest.mark.parametrize(
    ("key", "path"),
    [
        ("a b.html", "/a%20b.html"),
        ("café/menü.html", "/caf%C3%A9/men%C3%BC.html"),
        ("100%.html", "/100%25.html"),
        ("what?.html", "/what%3F.html"),
        ("#tag.html", "/%23tag.html"),
        ("~user/x", "/%7Euser/x"),
        ('q"<>{}|\\^[]`.txt', "/q%22%3C%3E%7B%7D%7C%5C%5E%5B%5D%60.txt"),
        ("a+b,c;d=e&f@g:h!$'()", "/a+b,c;d=e&f@g:h!$'()"),  # left as browsers send them
        ("icons/a*b.svg", "/icons/a*"),  # '*' can only end a path: a wildcard that covers it
    ],
)
def test_paths_are_url_encoded_as_cloudfront_requires(key: str, path: str) -> None:
    assert url_path(key) == path


# -- the budget ---------------------------------------------------------------------------------


def numbered(count: int, folder: str = "/assets/") -> list[str]:
    return [f"{folder}f{n:02d}.css" for n in range(count)]


@pytest.mark.parametrize("count", [DEFAULT_BUDGET - 1, DEFAULT_BUDGET])
def test_up_to_the_budget_every_path_is_invalidated_as_it_is(count: int) -> None:
    paths = numbered(count)
    assert collapse(paths) == paths


def test_one_past_the_budget_collapses_to_the_folder_that_covers_them() -> None:
    assert collapse([*numbered(DEFAULT_BUDGET), "/index.html"]) == ["/assets/*", "/index.html"]


def test_the_deepest_folders_are_collapsed_first_and_only_as_far_as_needed() -> None:
    paths = sorted(
        numbered(4, "/docs/api/")
        + numbered(3, "/docs/guide/")
        + ["/docs/index.html", "/index.html", "/about.html"]
    )
    assert collapse(paths, 9) == sorted(
        ["/docs/api/*", *numbered(3, "/docs/guide/"), "/docs/index.html", "/index.html",
         "/about.html"]
    )  # fmt: skip
    assert collapse(paths, 5) == ["/about.html", "/docs/api/*", "/docs/guide/*",
                                  "/docs/index.html", "/index.html"]  # fmt: skip
    assert collapse(paths, 3) == ["/about.html", "/docs/*", "/index.html"]
    assert collapse(paths, 2) == ["/*"]
    assert collapse(paths, 1) == ["/*"]


def test_a_path_a_wildcard_covers_is_not_sent_twice() -> None:
    assert collapse(["/icons/a*", "/icons/ab.svg", "/icons/b.svg"]) == ["/icons/a*", "/icons/b.svg"]


def covered(paths: list[str], path: str) -> bool:
    return any(path == p or (p.endswith("*") and path.startswith(p[:-1])) for p in paths)


def test_no_more_wildcards_than_cloudfront_allows_in_flight_whatever_the_budget() -> None:
    paths = [p for n in range(MAX_WILDCARDS + 3) for p in numbered(2, f"/s{n:02d}/")]
    assert collapse(paths, 1000) == paths  # within the budget: nothing collapsed
    # 18 wildcards (file names with a '*'), in pairs under 9 folders
    wild = [f"/g{k}/w{n}/a*" for k in range(9) for n in range(2)]
    result = collapse([*wild, "/index.html"], 1000)
    assert sum(p.endswith("*") for p in result) == MAX_WILDCARDS
    assert result[:3] == ["/g0/*", "/g1/*", "/g2/*"] and "/index.html" in result
    assert all(covered(result, p[:-1] + "x") for p in wild)


# -- options ------------------------------------------------------------------------------------


def test_the_options_check_themselves() -> None:
    options = CloudFrontInvalidation("E2QWRUHAPOMQZL", path_prefix="www/")
    assert options.path_prefix == "/www"
    assert CloudFrontInvalidation("E1", path_prefix="/").path_prefix == ""
    for bad in (
        {"distribution_id": ""},
        {"distribution_id": "E1 E2"},
        {"distribution_id": "E1", "budget": 0},
        {"distribution_id": "E1", "budget": 3001},
        {"distribution_id": "E1", "path_prefix": "/a*"},
        {"distribution_id": "E1", "wait_timeout": 0},
    ):
        with pytest.raises(UsageError):
            CloudFrontInvalidation(**bad)  # type: ignore[arg-type]


# -- the calls ----------------------------------------------------------------------------------


def client_error(code: str, operation: str = "CreateInvalidation") -> ClientError:
    return ClientError(
        {"Error": {"Code": code, "Message": f"{code} said the server"},
         "ResponseMetadata": {"HTTPStatusCode": 400}},
        operation,
    )  # fmt: skip


class FakeCloudFront:
    def __init__(self, busy: int = 0, statuses: tuple[str, ...] = ("Completed",)) -> None:
        self.busy = busy
        self.statuses = list(statuses)
        self.created: list[dict[str, Any]] = []
        self.polled = 0

    def create_invalidation(self, **call: Any) -> dict[str, Any]:
        if self.busy:
            self.busy -= 1
            raise client_error("TooManyInvalidationsInProgress")
        self.created.append(call)
        return {"Invalidation": {"Id": "I123", "Status": "InProgress"}}

    def get_invalidation(self, **call: Any) -> dict[str, Any]:
        self.polled += 1
        status = self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]
        return {"Invalidation": {"Id": call["Id"], "Status": status}}


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds

    def clock(self) -> float:
        return self.now


def invalidator(client: FakeCloudFront, time: FakeTime, **options: Any) -> Invalidator:
    return Invalidator(client, sleep=time.sleep, clock=time.clock, **options)


def test_the_caller_reference_is_the_deploy_id_so_a_retry_makes_no_second_invalidation() -> None:
    client, time = FakeCloudFront(busy=2), FakeTime()
    result = invalidate(
        invalidator(client, time), CloudFrontInvalidation("E1", budget=2), ["/a", "/b/x", "/b/y"],
        deploy_id="20261201T120000.000000Z-abcdef",
    )  # fmt: skip
    assert (result.id, result.status) == ("I123", "InProgress")
    assert (result.paths, result.wanted) == (["/a", "/b/*"], ["/a", "/b/x", "/b/y"])
    assert client.created == [
        {
            "DistributionId": "E1",
            "InvalidationBatch": {
                "Paths": {"Quantity": 2, "Items": ["/a", "/b/*"]},
                "CallerReference": "20261201T120000.000000Z-abcdef",
            },
        }
    ]
    assert time.slept == [2.0, 4.0]  # backoff between the answers TooManyInvalidations


def test_too_many_invalidations_in_progress_is_retried_a_bounded_number_of_times() -> None:
    client, time = FakeCloudFront(busy=100), FakeTime()
    with pytest.raises(S3KitError) as caught:
        invalidate(invalidator(client, time, attempts=4), CloudFrontInvalidation("E1"), ["/a"],
                   deploy_id="D1")  # fmt: skip
    message = caught.value.message
    assert "deploy D1 is live" in message and "TooManyInvalidationsInProgress" in message
    assert "aws cloudfront create-invalidation --distribution-id E1 --paths /a" in message
    assert "\n" not in message
    assert time.slept == [2.0, 4.0, 8.0] and client.created == []


def test_another_error_is_not_retried_and_says_the_deploy_is_live() -> None:
    class Missing(FakeCloudFront):
        def create_invalidation(self, **call: Any) -> dict[str, Any]:
            raise client_error("NoSuchDistribution")

    time = FakeTime()
    with pytest.raises(S3KitError, match=r"deploy D1 is live.*NoSuchDistribution") as caught:
        invalidate(invalidator(Missing(), time), CloudFrontInvalidation("E1"), ["/a"],
                   deploy_id="D1")  # fmt: skip
    assert time.slept == [] and caught.value.code == "NoSuchDistribution"


def test_wait_polls_until_completed() -> None:
    client, time = FakeCloudFront(statuses=("InProgress", "InProgress", "Completed")), FakeTime()
    options = CloudFrontInvalidation("E1", wait=True)
    result = invalidate(invalidator(client, time, poll=20.0), options, ["/a"], deploy_id="D")
    assert result.status == "Completed" and client.polled == 3
    assert time.slept == [20.0, 20.0]
    # moto answers COMPLETED
    upper = FakeCloudFront(statuses=("COMPLETED",))
    done = invalidate(invalidator(upper, FakeTime()), options, ["/a"], deploy_id="D")
    assert done.status == "Completed"


def test_wait_gives_up_after_its_timeout() -> None:
    client, time = FakeCloudFront(statuses=("InProgress",)), FakeTime()
    options = CloudFrontInvalidation("E1", wait=True, wait_timeout=60.0)
    with pytest.raises(S3KitError, match=r"deploy D is live.*I123 was still in progress"):
        invalidate(invalidator(client, time, poll=25.0), options, ["/a"], deploy_id="D")
    assert sum(time.slept) <= 60.0 and client.polled >= 2


def test_the_audit_records_name_each_path_and_what_a_wildcard_covers() -> None:
    client, time = FakeCloudFront(), FakeTime()
    wanted = [f"/assets/{name}" for name in "abcd"]
    result = invalidate(invalidator(client, time), CloudFrontInvalidation("E1", budget=1),
                        wanted, deploy_id="D")  # fmt: skip
    records = invalidation_records(result, clock=lambda: NOW)
    assert [(r["action"], r["path"], r["result"]) for r in records] == [
        ("invalidate", "/assets/*", "done")
    ]
    assert "covers 4 paths" in records[0]["reason"] and "I123" in records[0]["reason"]
    failed = invalidation_records(result, error=S3KitError("boom"), clock=lambda: NOW)
    assert failed[0]["result"] == "failed" and failed[0]["error"] == "boom"
