"""The pure part of `s3kit website serve`: request path → key, and what S3 website hosting
answers (index documents, the folder redirect, redirect objects, routing rules, the error
document, 304s), over a dict of objects — no server."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

import pytest

from s3kit.errors import UsageError
from s3kit.storage.base import ObjectInfo
from s3kit.website import (
    Decision,
    Plain,
    Redirect,
    Request,
    RoutingRule,
    Serve,
    Site,
    SiteObject,
    decide,
    site_key,
)
from s3kit.website.serve import Missing, accepts_brotli

WHEN = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)


class Bucket:
    """Objects by key; a key in `denied` answers 403, any other missing key 404. Records
    every key asked for."""

    def __init__(
        self,
        keys: list[str],
        *,
        redirects: Mapping[str, str] | None = None,
        denied: tuple[str, ...] = (),
    ) -> None:
        self.objects = {
            key: SiteObject(
                ObjectInfo(key, len(key), WHEN, etag=f'"etag-{key}"'),
                (redirects or {}).get(key),
            )
            for key in keys
        }
        self.denied = denied
        self.asked: list[str] = []

    def __call__(self, key: str) -> SiteObject | Missing:
        self.asked.append(key)
        if key in self.denied:
            return 403
        return self.objects.get(key, 404)


def get(
    target: str,
    bucket: Bucket,
    site: Site | None = None,
    *,
    method: str = "GET",
    if_none_match: str | None = None,
) -> Decision:
    request = Request(method, target, "127.0.0.1:8080", if_none_match)
    return decide(request, site or Site(), bucket)


def served(decision: Decision, status: int = 200) -> str:
    assert isinstance(decision, Serve), decision
    assert decision.status == status
    return decision.obj.info.key


# -- request path → key ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "key"),
    [
        ("/", ""),
        ("/index.html", "index.html"),
        ("/docs/", "docs/"),
        ("/docs", "docs"),
        ("/docs/guide.html?x=1&y=/../z", "docs/guide.html"),  # the query is ignored
        ("/docs/guide.html#part", "docs/guide.html"),
        ("/with%20space.html", "with space.html"),  # keys are URL-decoded
        ("/a%2Fb.html", "a/b.html"),  # an encoded slash is a slash of the key
        ("/caf%C3%A9.html", "café.html"),
        ("/a+b.html", "a+b.html"),
        ("/docs/./guide.html", "docs/guide.html"),
        ("/docs/.", "docs/"),
        ("/docs/x/..", "docs/"),
        ("/docs/../index.html", "index.html"),
        ("/../secret.txt", "secret.txt"),  # never above the root
        ("/../../../../secret.txt", "secret.txt"),
        ("/%2e%2e/secret.txt", "secret.txt"),
        ("/%2E%2E%2Fsecret.txt", "secret.txt"),
        ("/docs/..%2F..%2F..%2Fsecret.txt", "secret.txt"),
        ("/..", ""),
        ("http://example.com/docs/?q", "docs/"),  # the absolute form of a request target
    ],
)
def test_site_key(target: str, key: str) -> None:
    assert site_key(target) == key


@pytest.mark.parametrize("target", ["*", "docs", "/bad%ff.html", "/nul%00.html", "/cr%0d.html"])
def test_targets_that_name_no_key(target: str) -> None:
    assert site_key(target) is None


# -- index documents and the folder redirect ------------------------------------------------


def test_root_and_folders_serve_their_index_document() -> None:
    bucket = Bucket(["index.html", "docs/index.html"])
    assert served(get("/", bucket)) == "index.html"
    assert served(get("/docs/", bucket)) == "docs/index.html"
    assert served(get("/?page=2", bucket)) == "index.html"


def test_the_index_suffix_is_the_sites() -> None:
    bucket = Bucket(["docs/default.htm"])
    assert served(get("/docs/", bucket, Site(index="default.htm"))) == "docs/default.htm"


def test_a_folder_without_its_slash_is_sent_to_it_with_302() -> None:
    bucket = Bucket(["docs/index.html"])
    assert get("/docs", bucket) == Redirect(302, "/docs/")
    assert bucket.asked == ["docs", "docs/index.html"]
    assert get("/my%20docs", Bucket(["my docs/index.html"])) == Redirect(302, "/my%20docs/")


def test_an_object_named_like_the_folder_is_served_rather() -> None:
    bucket = Bucket(["docs", "docs/index.html"])
    assert served(get("/docs", bucket)) == "docs"


def test_a_denied_key_still_finds_the_folders_index() -> None:
    # A bucket readable without s3:ListBucket answers 403 for a key that is not there.
    bucket = Bucket(["docs/index.html"], denied=("docs",))
    assert get("/docs", bucket) == Redirect(302, "/docs/")


def test_a_missing_folder_index_is_a_404() -> None:
    bucket = Bucket(["index.html"], denied=())
    assert get("/docs/", bucket) == Plain(404, "404 Not Found")
    assert bucket.asked == ["docs/index.html"]  # no redirect check for a folder


# -- errors ---------------------------------------------------------------------------------


def test_a_missing_key_without_an_error_document_is_plain_404() -> None:
    assert get("/nope.html", Bucket(["index.html"])) == Plain(404, "404 Not Found")


def test_a_missing_key_serves_the_error_document_with_404() -> None:
    bucket = Bucket(["404.html"])
    assert served(get("/nope.html", bucket, Site(error="404.html")), 404) == "404.html"


def test_an_error_document_that_is_missing_too_is_plain_404() -> None:
    assert get("/nope.html", Bucket([]), Site(error="404.html")) == Plain(404, "404 Not Found")


def test_a_denied_key_is_403_with_the_error_document() -> None:
    bucket = Bucket(["err.html"], denied=("private.html",))
    assert get("/private.html", bucket) == Plain(403, "403 Forbidden")
    assert served(get("/private.html", bucket, Site(error="err.html")), 403) == "err.html"


def test_a_target_naming_no_key_is_a_404() -> None:
    bucket = Bucket(["404.html"])
    assert served(get("/bad%ff", bucket, Site(error="404.html")), 404) == "404.html"
    assert bucket.asked == ["404.html"]


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"])
def test_only_get_and_head(method: str) -> None:
    bucket = Bucket(["index.html"])
    assert get("/", bucket, method=method) == Plain(405, "405 Method Not Allowed")
    assert bucket.asked == []


def test_head_is_decided_as_get() -> None:
    bucket = Bucket(["index.html", "docs/index.html"])
    assert served(get("/", bucket, method="HEAD")) == "index.html"
    assert get("/docs", bucket, method="HEAD") == Redirect(302, "/docs/")
    assert get("/x", bucket, method="HEAD") == Plain(404, "404 Not Found")


# -- redirect objects and conditional requests ----------------------------------------------


def test_an_object_with_a_redirect_location_is_a_301() -> None:
    bucket = Bucket(["old.html"], redirects={"old.html": "/new.html"})
    assert get("/old.html", bucket) == Redirect(301, "/new.html")


def test_a_folder_index_with_a_redirect_location_is_a_301() -> None:
    bucket = Bucket(["moved/index.html"], redirects={"moved/index.html": "https://example.com/"})
    assert get("/moved/", bucket) == Redirect(301, "https://example.com/")


@pytest.mark.parametrize(
    "header",
    ['"etag-index.html"', "*", 'W/"etag-index.html"', '"other", "etag-index.html"'],
)
def test_if_none_match_that_matches_is_304(header: str) -> None:
    decision = get("/", Bucket(["index.html"]), if_none_match=header)
    assert served(decision, 304) == "index.html"


def test_if_none_match_that_differs_is_served() -> None:
    decision = get("/", Bucket(["index.html"]), if_none_match='"other"')
    assert served(decision) == "index.html"


# -- the site's prefix ----------------------------------------------------------------------


def test_keys_are_looked_up_under_the_prefix() -> None:
    bucket = Bucket(["site/index.html", "site/docs/index.html", "site/404.html"])
    site = Site(prefix="site", error="404.html")
    assert site.prefix == "site/"
    assert served(get("/", bucket, site)) == "site/index.html"
    assert get("/docs", bucket, site) == Redirect(302, "/docs/")
    assert served(get("/nope", bucket, site), 404) == "site/404.html"


@pytest.mark.parametrize(
    "target",
    [
        "/../secret.txt",
        "/..%2Fsecret.txt",
        "/%2e%2e/secret.txt",
        "/%2e%2e%2fsecret.txt",
        "/docs/%2e%2e/%2e%2e/secret.txt",
        "/a/../../../secret.txt",
        "//secret.txt",
        "/%2Fsecret.txt",
        "/./../secret.txt",
    ],
)
def test_hostile_paths_never_leave_the_prefix(target: str) -> None:
    bucket = Bucket(["secret.txt", "site/404.html"])
    decision = get(target, bucket, Site(prefix="site/", error="404.html"))
    assert served(decision, 404) == "site/404.html"
    assert bucket.asked and all(key.startswith("site/") for key in bucket.asked)
    assert not any(".." in key.split("/") for key in bucket.asked)


# -- routing rules --------------------------------------------------------------------------


def test_a_key_prefix_rule_redirects_before_any_lookup() -> None:
    rule = RoutingRule(key_prefix="docs/", replace_key_prefix="documents/")
    bucket = Bucket(["docs/a.html"])
    decision = get("/docs/a%20b.html", bucket, Site(rules=(rule,)))
    assert decision == Redirect(301, "http://127.0.0.1:8080/documents/a%20b.html")
    assert bucket.asked == []


def test_replace_key_with_host_protocol_and_code() -> None:
    rule = RoutingRule(
        key_prefix="old",
        host_name="example.com",
        protocol="https",
        replace_key="new.html",
        redirect_code=302,
    )
    decision = get("/old/page.html", Bucket([]), Site(rules=(rule,)))
    assert decision == Redirect(302, "https://example.com/new.html")


def test_a_rule_without_a_replacement_keeps_the_key() -> None:
    rule = RoutingRule(key_prefix="", host_name="example.com")
    assert get("/a/b.html", Bucket([]), Site(rules=(rule,))) == Redirect(
        301, "http://example.com/a/b.html"
    )


def test_an_empty_replacement_prefix_strips_the_prefix() -> None:
    rule = RoutingRule(key_prefix="v1/", replace_key_prefix="")
    assert get("/v1/x.html", Bucket([]), Site(rules=(rule,))) == Redirect(
        301, "http://127.0.0.1:8080/x.html"
    )


def test_an_error_code_rule_applies_only_after_that_error() -> None:
    rule = RoutingRule(error_code=404, host_name="fallback.example", replace_key_prefix="mirror/")
    bucket = Bucket(["here.html"])
    site = Site(rules=(rule,), error="404.html")
    assert served(get("/here.html", bucket, site)) == "here.html"
    assert get("/gone.html", bucket, site) == Redirect(
        301, "http://fallback.example/mirror/gone.html"
    )
    denied = Bucket([], denied=("secret.html",))
    assert get("/secret.html", denied, site) == Plain(403, "403 Forbidden")


def test_both_conditions_must_hold() -> None:
    rule = RoutingRule(key_prefix="blog/", error_code=404, replace_key_prefix="archive/")
    bucket = Bucket(["blog/live.html"])
    site = Site(rules=(rule,))
    assert served(get("/blog/live.html", bucket, site)) == "blog/live.html"
    assert get("/blog/old.html", bucket, site) == Redirect(
        301, "http://127.0.0.1:8080/archive/old.html"
    )
    assert get("/other.html", bucket, site) == Plain(404, "404 Not Found")


def test_an_error_code_rule_waits_for_the_folder_redirect() -> None:
    rule = RoutingRule(error_code=404, host_name="elsewhere.example")
    bucket = Bucket(["docs/index.html"])
    assert get("/docs", bucket, Site(rules=(rule,))) == Redirect(302, "/docs/")


def test_the_first_rule_that_applies_wins() -> None:
    rules = (
        RoutingRule(key_prefix="a/b/", replace_key="first.html"),
        RoutingRule(key_prefix="a/", replace_key="second.html"),
    )
    site = Site(rules=rules)
    assert get("/a/b/c", Bucket([]), site) == Redirect(301, "http://127.0.0.1:8080/first.html")
    assert get("/a/c", Bucket([]), site) == Redirect(301, "http://127.0.0.1:8080/second.html")


def test_rules_see_the_key_after_dot_segments_are_resolved() -> None:
    rule = RoutingRule(key_prefix="private/", host_name="login.example")
    decision = get("/public/../private/x.html", Bucket(["private/x.html"]), Site(rules=(rule,)))
    assert decision == Redirect(301, "http://login.example/private/x.html")


# -- the site from a bucket's website configuration ----------------------------------------


CONFIG = {
    "IndexDocument": {"Suffix": "home.html"},
    "ErrorDocument": {"Key": "errors/404.html"},
    "RoutingRules": [
        {
            "Condition": {"KeyPrefixEquals": "docs/"},
            "Redirect": {"ReplaceKeyPrefixWith": "documents/", "HttpRedirectCode": "302"},
        },
        {
            "Condition": {"HttpErrorCodeReturnedEquals": "404"},
            "Redirect": {"HostName": "example.com", "Protocol": "https"},
        },
    ],
}


def test_site_from_a_configuration() -> None:
    site = Site.from_config(CONFIG, prefix="site")
    assert site == Site(
        prefix="site/",
        index="home.html",
        error="errors/404.html",
        rules=(
            RoutingRule(key_prefix="docs/", replace_key_prefix="documents/", redirect_code=302),
            RoutingRule(error_code=404, host_name="example.com", protocol="https"),
        ),
    )


def test_the_command_lines_documents_take_the_configurations_place() -> None:
    site = Site.from_config(CONFIG, index="index.htm", error="oops.html")
    assert (site.index, site.error, len(site.rules)) == ("index.htm", "oops.html", 2)


def test_no_configuration_is_index_html_and_plain_errors() -> None:
    assert Site.from_config(None) == Site(prefix="", index="index.html", error=None, rules=())
    assert Site.from_config(None, error="404.html").error == "404.html"


def test_redirect_all_requests_is_a_rule_for_every_key() -> None:
    config = {"RedirectAllRequestsTo": {"HostName": "www.example.com", "Protocol": "https"}}
    site = Site.from_config(config)
    decision = get("/any/page.html?q=1", Bucket(["any/page.html"]), site)
    assert decision == Redirect(301, "https://www.example.com/any/page.html")


@pytest.mark.parametrize(
    "rule",
    [
        {"Redirect": {"ReplaceKeyWith": "a", "ReplaceKeyPrefixWith": "b"}},
        {"Condition": {"KeyPrefixEquals": "a/"}},
        {"Redirect": {"HttpRedirectCode": "200"}},
        {"Redirect": {"HttpRedirectCode": "soon"}},
        {"Condition": {"HttpErrorCodeReturnedEquals": "200"}, "Redirect": {"HostName": "x"}},
        {"Redirect": {"Protocol": "ftp"}},
    ],
)
def test_invalid_routing_rules_are_refused(rule: dict[str, dict[str, str]]) -> None:
    with pytest.raises(UsageError):
        Site.from_config({"IndexDocument": {"Suffix": "index.html"}, "RoutingRules": [rule]})


@pytest.mark.parametrize("index", ["", "a/index.html"])
def test_an_index_document_is_a_plain_name(index: str) -> None:
    with pytest.raises(UsageError, match="index document"):
        Site(index=index)


def test_the_error_document_must_name_an_object() -> None:
    with pytest.raises(UsageError, match="error document"):
        Site(error="errors/")
    assert Site(error="/404.html").error == "404.html"


# -- brotli siblings --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "takes"),
    [
        ("gzip, deflate, br", True),
        ("br;q=0.5", True),
        ("BR", True),
        ("*", True),
        ("gzip, *;q=0.1", True),
        ("gzip", False),
        ("br;q=0", False),
        ("*, br;q=0", False),
        ("br;q=x", False),
        ("", False),
        (None, False),
    ],
)
def test_which_accept_encoding_takes_brotli(header: str | None, takes: bool) -> None:
    assert accepts_brotli(header) is takes


def sibling_bucket() -> Bucket:
    bucket = Bucket([])
    for key, encoding in (("site.css", None), ("site.css.br", "br"), ("logo.png", None)):
        content_type = "image/png" if key.endswith(".png") else "text/css; charset=utf-8"
        info = ObjectInfo(key, 10, WHEN, etag=f'"etag-{key}"', content_type=content_type,
                          content_encoding=encoding)  # fmt: skip
        bucket.objects[key] = SiteObject(info)
    return bucket


def test_a_request_taking_br_gets_the_sibling_others_the_file_both_with_vary() -> None:
    bucket = sibling_bucket()
    request = Request("GET", "/site.css", "127.0.0.1", accept_encoding="gzip, br")
    assert decide(request, Site(), bucket) == Serve(bucket.objects["site.css.br"], vary=True)
    plain = Request("GET", "/site.css", "127.0.0.1", accept_encoding="gzip")
    assert decide(plain, Site(), bucket) == Serve(bucket.objects["site.css"], vary=True)
    tagged = Request("GET", "/site.css", "127.0.0.1", '"etag-site.css.br"', "br")
    assert decide(tagged, Site(), bucket) == Serve(bucket.objects["site.css.br"], 304, True)


def test_no_sibling_is_looked_for_beside_an_image_or_a_sibling() -> None:
    bucket = sibling_bucket()
    for target in ("/logo.png", "/site.css.br"):
        bucket.asked.clear()
        decision = decide(Request("GET", target, "127.0.0.1", accept_encoding="br"), Site(), bucket)
        assert isinstance(decision, Serve) and not decision.vary
        assert bucket.asked == [target[1:]]


def test_an_object_that_is_not_brotli_is_no_sibling() -> None:
    bucket = sibling_bucket()
    bucket.objects["site.css.br"] = SiteObject(ObjectInfo("site.css.br", 3, WHEN))
    request = Request("GET", "/site.css", "127.0.0.1", accept_encoding="br")
    assert decide(request, Site(), bucket) == Serve(bucket.objects["site.css"])
