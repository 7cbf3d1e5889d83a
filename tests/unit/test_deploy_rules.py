"""Deploy rules: first match wins, defaults for a static site, hashed-name detection, protect,
limits, redirects, and s3kit-deploy.yaml refused line by line."""

from __future__ import annotations

import textwrap
from dataclasses import replace
from pathlib import Path

import pytest
import yaml

from s3kit.deploy.caching import (
    DEFAULT_CACHE_CONTROL,
    HTML_CACHE_CONTROL,
    IMMUTABLE_CACHE_CONTROL,
    is_hashed_name,
)
from s3kit.deploy.rules import (
    DEFAULT_GRACE_SECONDS,
    DeployConfig,
    FileHeaders,
    Rule,
    parse_duration,
    parse_max_delete,
    redirect_key,
)
from s3kit.deploy.rules_file import (
    DeployConfigError,
    deploy_config_from_node,
    load_deploy_config,
    parse_deploy_config,
)
from s3kit.errors import UsageError

HTML = "text/html; charset=utf-8"


def parse(text: str) -> DeployConfig:
    return parse_deploy_config(textwrap.dedent(text), source="s3kit-deploy.yaml")


def problems_of(text: str) -> list[str]:
    with pytest.raises(DeployConfigError) as caught:
        parse(text)
    error = caught.value
    assert isinstance(error, UsageError)
    assert error.exit_code == 2
    assert "\n" not in error.message
    assert error.message == error.problems[0]
    return list(error.problems)


def only_problem(text: str) -> str:
    problems = problems_of(text)
    assert len(problems) == 1, problems
    return problems[0]


# -- defaults ----------------------------------------------------------------------------------


def test_defaults() -> None:
    config = DeployConfig()
    assert config.rules == ()
    assert config.protect == ("_s3kit/",)
    assert config.max_delete is None
    assert config.grace_seconds == DEFAULT_GRACE_SECONDS == 7 * 86400
    assert config.redirects == {}
    assert config.index_document == "index.html"
    assert config.error_document is None
    assert parse("") == config
    assert parse("# nothing yet\n") == config


@pytest.mark.parametrize(
    ("key", "head", "cache_control"),
    [
        ("index.html", b"", HTML_CACHE_CONTROL),
        ("blog/post.HTM", b"", HTML_CACHE_CONTROL),
        ("about", b"<!doctype html>", HTML_CACHE_CONTROL),  # extensionless, sniffed
        ("page.xhtml", b"", HTML_CACHE_CONTROL),
        ("page.3f2a9c1b.html", b"", HTML_CACHE_CONTROL),  # HTML first, even when hashed
        ("app.3f2a9c1b.js", b"", IMMUTABLE_CACHE_CONTROL),
        ("LICENSE", b"MIT License", DEFAULT_CACHE_CONTROL),
        ("logo.png", b"", DEFAULT_CACHE_CONTROL),
        ("app.js", b"", DEFAULT_CACHE_CONTROL),
    ],
)
def test_default_cache_control(key: str, head: bytes, cache_control: str) -> None:
    headers = DeployConfig().headers_for(key, head)
    assert headers is not None
    assert headers.cache_control == cache_control
    assert headers.gzip is False
    assert headers.content_encoding is None


def test_default_constants_are_right_for_a_static_site() -> None:
    assert HTML_CACHE_CONTROL == "no-cache"
    assert IMMUTABLE_CACHE_CONTROL == "public, max-age=31536000, immutable"
    assert DEFAULT_CACHE_CONTROL == "public, max-age=300"


# -- hashed names ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key",
    [
        "app.3f2a9c1b.js",
        "main-5d41402abc4b2a76.css",
        "chunk.a1B2c3D4e5.js",
        "assets/index-D4kA9zQx.js",  # Vite
        "static/js/main.8a3f2b1c.chunk.js",  # create-react-app
        "static/js/787.4f3a2b1c.chunk.js",
        "_next/static/chunks/framework-2c79e2a64abdb08b.js",
        "_next/static/css/0a1b2c3d4e5f6789.css",  # a bare 16-hex name
        "css/main.min.0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9.css",
        "app.3f2a9c1b.js.map",
        "a-1234567f.png",  # exactly 8 hex with a letter
        "x.Ab3dEfGh.woff2",
    ],
)
def test_hashed_names(key: str) -> None:
    assert is_hashed_name(key)
    headers = DeployConfig().headers_for(key)
    assert headers is not None and headers.cache_control == IMMUTABLE_CACHE_CONTROL


@pytest.mark.parametrize(
    "key",
    [
        "jquery-3.7.1.min.js",
        "logo-2024.png",
        "README.md",
        "app.3f2a9c1.js",  # 7 hex: one short
        "photo-20240115.jpg",  # all digits: a date
        "id-12345678.png",
        "a-deadbeef.png",  # all letters: a word
        "hero-1920x1080.jpg",  # a size
        "html5shiv.js",  # a name with a digit
        "moment-with-locales2.js",
        "invoice-INV00012.pdf",  # one case: an id
        "bootstrap4-grid.css",
        "face2face.png",  # hex-looking, but the file's own name
        "0a1b2c3d4e5f678.css",  # a bare hex name of 15
        "app.3f2a9c1g.js",  # not hex, and no upper case
        "3f2a9c1b4e5d6f70/app.js",  # the hash is a folder's, not the file's
        "app.3f2a9c1b",  # the "hash" is the extension
        "LICENSE",
        "SourceSans3-Regular.woff2",
        "font-roboto-v30-latin-regular.woff2",
    ],
)
def test_not_hashed_names(key: str) -> None:
    assert not is_hashed_name(key)
    headers = DeployConfig().headers_for(key, b"text")
    assert headers is not None and headers.cache_control == DEFAULT_CACHE_CONTROL


# -- rules in code -----------------------------------------------------------------------------


def test_first_matching_rule_wins_and_is_the_only_one_applied() -> None:
    config = DeployConfig(
        rules=(
            Rule(patterns=("*.js",), content_type="application/x-special"),
            Rule(patterns=("app.*",), cache_control="max-age=1", gzip=True),
        )
    )
    js = config.headers_for("app.js")
    # The second rule also matches app.js, but only the first applies: unset fields are
    # defaults, never the next rule's values.
    assert js == FileHeaders("application/x-special", DEFAULT_CACHE_CONTROL, False)
    css = config.headers_for("app.css")
    assert css == FileHeaders("text/css; charset=utf-8", "max-age=1", True)
    assert config.rule_for("app.css") is config.rules[1]
    assert config.rule_for("other.css") is None


def test_an_earlier_rule_shields_files_from_a_later_ignore() -> None:
    config = DeployConfig(
        rules=(
            Rule(patterns=("drafts/keep.md",)),
            Rule(patterns=("drafts/",), ignore=True),
        )
    )
    assert config.headers_for("drafts/keep.md") is not None
    assert config.headers_for("drafts/other.md") is None
    assert config.headers_for("drafts") is not None  # a file named drafts is not the folder
    assert config.headers_for("posts/a.md") is not None


def test_ignore_applies_only_to_matching_keys() -> None:
    config = DeployConfig(rules=(Rule(patterns=("*.psd", ".*"), ignore=True),))
    assert config.headers_for("art/cover.psd") is None
    assert config.headers_for(".env") is None
    assert config.headers_for("cover.png") is not None


@pytest.mark.parametrize(
    ("patterns", "key", "matched"),
    [
        (("*.js",), "deep/a/b.js", True),
        (("/index.html",), "index.html", True),
        (("/index.html",), "blog/index.html", False),  # anchored
        (("index.html",), "blog/index.html", True),
        (("assets/",), "assets/css/site.css", True),
        (("assets/",), "other/assets", False),
        (("assets/**",), "assets/a/b/c.png", True),
        (("**", "!drafts/"), "drafts/a.md", False),  # `!` takes out a folder
        (("**", "!drafts/"), "posts/a.md", True),
        (("*.js", "!vendor/*.js"), "vendor/x.js", False),
        (("*.js", "!vendor/*.js"), "src/vendor/x.js", True),  # `vendor/*.js` is anchored
        (("assets/", "!assets/raw/**"), "assets/raw/x.bin", False),
        (("assets/", "!assets/raw/**"), "assets/x.bin", True),
        (("*.md", "!README.md", "README.md"), "README.md", True),  # the last match decides
        (("a?c.txt",), "abc.txt", True),
        (("a?c.txt",), "a/c.txt", False),
        (("[ab].txt",), "b.txt", True),
        (("[ab].txt",), "c.txt", False),
    ],
)
def test_pattern_semantics(patterns: tuple[str, ...], key: str, matched: bool) -> None:
    rule = Rule(patterns=patterns)
    assert rule.matches(key) is matched
    assert rule.matches("/" + key) is matched


def test_gzip_is_opt_in_and_obeyed_even_for_a_type_that_does_not_shrink() -> None:
    config = DeployConfig(
        rules=(Rule(patterns=("*.png",), gzip=True), Rule(patterns=("*.css",), gzip=False))
    )
    png = config.headers_for("a.png")
    assert png == FileHeaders("image/png", DEFAULT_CACHE_CONTROL, True)
    assert png.content_encoding == "gzip"
    css = config.headers_for("a.css")
    assert css is not None and css.gzip is False
    js = config.headers_for("a.js")
    assert js is not None and js.gzip is False


def test_a_rule_built_in_code_validates_itself() -> None:
    assert Rule(patterns="*.js").patterns == ("*.js",)  # type: ignore[arg-type]
    assert Rule(patterns=["*.js"]).patterns == ("*.js",)  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="match is empty"):
        Rule(patterns=())
    with pytest.raises(UsageError, match="only '!' patterns"):
        Rule(patterns=("!*.js",))
    with pytest.raises(UsageError, match="ignore: true uploads nothing"):
        Rule(patterns=("*.js",), ignore=True, gzip=False)
    with pytest.raises(UsageError, match="printable ASCII"):
        Rule(patterns=("*.js",), cache_control="no-cache\r\nX-Evil: 1")
    with pytest.raises(UsageError, match="not a media type"):
        Rule(patterns=("*.js",), content_type="javascript")
    with pytest.raises(UsageError, match="true or false"):
        Rule(patterns=("*.js",), gzip="yes")  # type: ignore[arg-type]


# -- fingerprints ------------------------------------------------------------------------------


def test_fingerprint_is_stable_short_hex_and_sees_every_header() -> None:
    headers = FileHeaders("text/css; charset=utf-8", DEFAULT_CACHE_CONTROL, False)
    fingerprint = headers.fingerprint()
    assert len(fingerprint) == 16
    assert int(fingerprint, 16) >= 0
    # The value itself is pinned: manifests written by one run are read by the next.
    assert fingerprint == "e333c72a98c1c802"
    assert FileHeaders("text/css; charset=utf-8", DEFAULT_CACHE_CONTROL).fingerprint() == (
        fingerprint
    )
    others = {
        FileHeaders("text/plain", DEFAULT_CACHE_CONTROL, False).fingerprint(),
        FileHeaders("text/css; charset=utf-8", "no-cache", False).fingerprint(),
        FileHeaders("text/css; charset=utf-8", DEFAULT_CACHE_CONTROL, True).fingerprint(),
    }
    assert fingerprint not in others
    assert len(others) == 3


# -- protect -----------------------------------------------------------------------------------


def test_protect_always_holds_the_manifests() -> None:
    assert DeployConfig(protect=()).protect == ("_s3kit/",)
    assert DeployConfig(protect=("uploads/",)).protect == ("_s3kit/", "uploads/")
    assert DeployConfig(protect=("uploads/", "_s3kit/")).protect == ("_s3kit/", "uploads/")
    assert parse("protect: [uploads/]").protect == ("_s3kit/", "uploads/")
    assert parse("protect: []").protect == ("_s3kit/",)
    assert parse("protect: uploads/").protect == ("_s3kit/", "uploads/")


def test_protects() -> None:
    config = DeployConfig(protect=("uploads/", "!uploads/tmp/", "*.keep", "!_s3kit/"))
    assert config.protects("_s3kit/current.json")
    assert config.protects("/_s3kit/deploys/1.json")
    assert config.protects("uploads/a.png")
    assert not config.protects("uploads/tmp/a.png")
    assert config.protects("x/y.keep")
    assert not config.protects("index.html")
    assert not config.protects("_s3kitx/a")
    assert not DeployConfig().protects("uploads/a.png")


# -- durations and delete limits ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("0", 0),
        ("0s", 0),
        ("1s", 1),
        ("90s", 90),
        ("30m", 1800),
        ("12h", 43200),
        ("7d", 604800),
        ("1w", 604800),
        ("1h30m", 5400),
        ("1.5h", 5400),
        (" 7d ", 604800),
    ],
)
def test_durations(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds
    assert parse(f"grace: '{text}'").grace_seconds == seconds


@pytest.mark.parametrize("text", ["", "7", "-1s", "7D", "1y", "d", "1 d", "7days", "1h 30m"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(UsageError, match="not a duration"):
        parse_duration(text)


def test_grace_in_the_file() -> None:
    assert parse("grace: 0").grace_seconds == 0
    assert parse("grace: 7d").grace_seconds == 7 * 86400
    assert parse("grace:").grace_seconds == DEFAULT_GRACE_SECONDS
    assert only_problem("grace: 7\n") == (
        "s3kit-deploy.yaml:1: grace 7 has no unit — write it like 7d, 12h, 30m or 7s (or 0)"
    )
    assert "s3kit-deploy.yaml:1: '3 days' is not a duration" in only_problem("grace: 3 days")
    assert "grace must be a duration" in only_problem("grace: [1]")
    with pytest.raises(UsageError, match="grace must be 0 seconds or more"):
        DeployConfig(grace_seconds=-1)
    with pytest.raises(UsageError, match="grace must be 0 seconds or more"):
        DeployConfig(grace_seconds=float("inf"))


@pytest.mark.parametrize(
    ("written", "value"),
    [("1", 1), ("100", 100), ("'100%'", 1.0), ("'25%'", 0.25), ("12.5%", 0.125), ("~", None)],
)
def test_max_delete(written: str, value: int | float | None) -> None:
    config = parse(f"max_delete: {written}")
    assert config.max_delete == value
    assert type(config.max_delete) is type(value)


@pytest.mark.parametrize(
    ("written", "reason"),
    [
        ("'0%'", "must be above 0% and at most 100%"),
        ("'101%'", "must be above 0% and at most 100%"),
        ("0", "must be at least 1"),
        ("-1", "must be at least 1"),
        ("0.5", "not a whole count"),
        ("true", "must be a count"),
        ("'many'", "neither a count nor a share"),
        ("'100'", "neither a count nor a share"),
    ],
)
def test_bad_max_delete(written: str, reason: str) -> None:
    problem = only_problem(f"rules: []\nmax_delete: {written}\n")
    assert problem.startswith("s3kit-deploy.yaml:2: max_delete ")
    assert reason in problem
    assert " — write " in problem


def test_max_delete_in_code_and_the_delete_limit() -> None:
    assert DeployConfig(max_delete=1).delete_limit(1000) == 1
    assert DeployConfig(max_delete=1.0).delete_limit(7) == 7  # a float is a share: all
    assert DeployConfig(max_delete=0.25).delete_limit(10) == 2  # rounds down
    assert DeployConfig(max_delete=0.25).delete_limit(3) == 0
    assert DeployConfig(max_delete=0.29).delete_limit(100) == 29  # no float fuzz
    assert DeployConfig().delete_limit(10**6) is None
    assert parse_max_delete("100%") == 1.0
    for bad in (0, -1, 0.0, 1.5, True):
        with pytest.raises(UsageError, match="max_delete"):
            DeployConfig(max_delete=bad)


# -- redirects and documents -------------------------------------------------------------------


def test_redirects() -> None:
    config = parse(
        """\
        redirects:
          "/old/": "/new/"
          "/": "https://example.com/"
          "/a.html": "/b.html"
          "/docs": "http://docs.example.com/x?y=1"
        """
    )
    assert config.redirects == {
        "/old/": "/new/",
        "/": "https://example.com/",
        "/a.html": "/b.html",
        "/docs": "http://docs.example.com/x?y=1",
    }
    assert config.redirect_objects() == {
        "old/index.html": "/new/",
        "index.html": "https://example.com/",
        "a.html": "/b.html",
        "docs": "http://docs.example.com/x?y=1",
    }
    assert redirect_key("/x/", "default.htm") == "x/default.htm"


@pytest.mark.parametrize(
    ("entry", "reason"),
    [
        ('old/: "/new/"', "must be a site path starting with '/'"),
        ('"/old/": "new/"', "must be a path starting with '/' or an http(s):// URL"),
        ('"/old/": "ftp://x/"', "must be a path starting with '/' or an http(s):// URL"),
        ('"/old/": 5', "must be a path starting with '/' or an http(s):// URL"),
        ('"/old/*": "/new/"', "must be a plain path"),
        ('"/old?x=1": "/new/"', "must be a plain path"),
        ('"//old": "/new/"', "must be a plain path"),
        ('"/_s3kit/x": "/new/"', "the deploy's own manifests"),
        ('"/old/": "/caf\u00e9/"', "percent-encode it"),
        ('"/old/": "/a b/"', "percent-encode it"),
        ("5: /new/", "must be a site path starting with '/'"),
    ],
)
def test_bad_redirects(entry: str, reason: str) -> None:
    problem = only_problem(f"index_document: index.html\nredirects:\n  {entry}\n")
    assert problem.startswith("s3kit-deploy.yaml:3: redirect ")
    assert reason in problem


def test_redirects_that_write_the_same_object_conflict() -> None:
    problem = only_problem(
        """\
        index_document: home.html
        redirects:
          "/a/": "/b/"
          "/a/home.html": "/c/"
        """
    )
    assert problem == (
        "s3kit-deploy.yaml:4: redirects '/a/' and '/a/home.html' both write the object "
        "a/home.html — keep one of them"
    )
    with pytest.raises(UsageError, match="both write the object"):
        DeployConfig(redirects={"/a/": "/b/", "/a/index.html": "/c/"})


def test_documents() -> None:
    config = parse("index_document: default.htm\nerror_document: /404.html\n")
    assert (config.index_document, config.error_document) == ("default.htm", "404.html")
    assert "write e.g. index_document: index.html" in only_problem("index_document: a/b.html")
    assert "write e.g. index_document: index.html" in only_problem("index_document: 5")
    assert "write e.g. error_document: 404.html" in only_problem("error_document: ''")
    assert "write e.g. error_document: 404.html" in only_problem("error_document: _s3kit/e")
    assert parse("error_document: ~").error_document is None


# -- the file ----------------------------------------------------------------------------------

FULL = """\
rules:
  - match: "*.html"
    cache_control: "public, max-age=60"
  - match: ["assets/**", "!assets/raw/**"]
    gzip: true
  - match: drafts/
    ignore: true
  - match: feed
    content_type: application/rss+xml
protect: [uploads/]
max_delete: "25%"
grace: 12h
redirects:
  "/old/": "/new/"
index_document: index.html
error_document: 404.html
"""


def test_a_full_file() -> None:
    config = parse(FULL)
    assert config.rules == (
        Rule(patterns=("*.html",), cache_control="public, max-age=60", line=2),
        Rule(patterns=("assets/**", "!assets/raw/**"), gzip=True, line=4),
        Rule(patterns=("drafts/",), ignore=True, line=6),
        Rule(patterns=("feed",), content_type="application/rss+xml", line=8),
    )
    assert config.protect == ("_s3kit/", "uploads/")
    assert config.max_delete == 0.25
    assert config.grace_seconds == 12 * 3600
    assert config.redirects == {"/old/": "/new/"}
    assert config.error_document == "404.html"
    assert config.source == "s3kit-deploy.yaml"
    assert config.headers_for("index.html") == FileHeaders(HTML, "public, max-age=60", False)
    assert config.headers_for("assets/site.css") == FileHeaders(
        "text/css; charset=utf-8", DEFAULT_CACHE_CONTROL, True
    )
    raw = config.headers_for("assets/raw/data.bin", b"\x00")
    assert raw == FileHeaders("application/octet-stream", DEFAULT_CACHE_CONTROL, False)
    assert config.headers_for("drafts/post.md") is None
    feed = config.headers_for("feed")
    assert feed is not None and feed.content_type == "application/rss+xml"


def test_the_settings_may_sit_under_deploy() -> None:
    nested = parse("deploy:\n" + textwrap.indent(FULL, "  "))
    flat = parse(FULL)
    assert replace(nested, rules=()) == replace(flat, rules=())
    assert [replace(rule, line=0) for rule in nested.rules] == [
        replace(rule, line=0) for rule in flat.rules
    ]
    assert [rule.line for rule in nested.rules] == [3, 5, 7, 9]
    problem = only_problem("deploy:\n  grace: 1d\nrules: []\n")
    assert problem == (
        "s3kit-deploy.yaml:1: unknown key 'deploy' — put every deploy setting under deploy:, "
        "or none"
    )


def test_load_deploy_config(tmp_path: Path) -> None:
    path = tmp_path / "s3kit-deploy.yaml"
    path.write_text(FULL, encoding="utf-8")
    assert load_deploy_config(path) == parse(FULL)
    path.write_text("grace: soon\n", encoding="utf-8")
    with pytest.raises(DeployConfigError) as caught:
        load_deploy_config(path)
    assert caught.value.message.startswith(f"{path}:1: 'soon' is not a duration")
    with pytest.raises(UsageError, match="cannot read deploy config"):
        load_deploy_config(tmp_path / "missing.yaml")


def test_deploy_config_from_a_node_of_s3kit_yaml() -> None:
    root = yaml.compose(
        "aws:\n  region: eu-west-1\ndeploy:\n  grace: 1h\n  rules:\n    - match: x\n      y: 1\n",
        Loader=yaml.SafeLoader,
    )
    node = dict((k.value, v) for k, v in root.value)["deploy"]
    with pytest.raises(DeployConfigError) as caught:
        deploy_config_from_node(node, "s3kit.yaml")
    assert caught.value.problems == (
        "s3kit.yaml:7: unknown rule key 'y' — known: match, cache_control, content_type, gzip, "
        "brotli, ignore",
    )
    root = yaml.compose("deploy:\n  grace: 1h\n", Loader=yaml.SafeLoader)
    config = deploy_config_from_node(root.value[0][1], "s3kit.yaml")
    assert config.grace_seconds == 3600
    assert config.source == "s3kit.yaml"
    assert deploy_config_from_node(None, "s3kit.yaml") == DeployConfig()


def test_every_problem_is_reported_with_its_line() -> None:
    problems = problems_of(
        """\
        rules:
          - match: "*.html"
            cache-control: no-cache
          - match: []
          - match: "*.js"
            content_encoding: br
          - match: x
            ignore: true
            gzip: true
          - cache_control: no-cache
          - "*.css"
          - match: 5
            gzip: "yes"
        max_delete: "101%"
        grace: 7
        colour: blue
        rules: []
        """
    )
    lines = [problem.split(":")[1] for problem in problems]
    assert lines == ["3", "4", "6", "7", "10", "11", "12", "13", "14", "15", "16", "17"]
    assert (
        problems[0] == "s3kit-deploy.yaml:3: unknown rule key 'cache-control' — write cache_control"
    )
    assert problems[1] == (
        "s3kit-deploy.yaml:4: match is empty — write a pattern such as '*.html', "
        "or a list of patterns"
    )
    assert "a rule with ignore: true uploads nothing" in problems[3]
    assert "a rule needs match:" in problems[4]
    assert "each rule must be a mapping" in problems[5]
    assert "match patterns must be strings, not 5 — quote it: '5'" in problems[6]
    assert "gzip must be true or false, not 'yes'" in problems[7]
    assert problems[10] == (
        "s3kit-deploy.yaml:16: unknown key 'colour' — known: rules, protect, max_delete, grace, "
        "redirects, index_document, error_document, serve, keep"
    )
    assert "'rules' appears twice" in problems[11]
    assert all(" — " in problem for problem in problems)


@pytest.mark.parametrize(
    ("rule", "problem"),
    [
        ("match: ''", "match has an empty pattern"),
        ("match: ['*.js', '']", "match has an empty pattern"),
        ("match: '#notes'", "escape the '#' as '\\#notes'"),
        ("match: '/'", "matches nothing in .gitignore syntax"),
        ("match: ['!*.js']", "only '!' patterns"),
        ("match: {a: 1}", "must be a pattern or a list of patterns"),
        ("match: '*.js'\n    cache_control: 5", "cache_control must be a non-empty string"),
        ("match: '*.js'\n    cache_control: ''", "cache_control must be a non-empty string"),
        ("match: '*.js'\n    content_type: javascript", "is not a media type"),
        ("match: '*.js'\n    ignore: 1", "ignore must be true or false, not 1"),
        ("match: '*.js'\n    match: '*.css'", "'match' appears twice in a rule"),
    ],
)
def test_bad_rules(rule: str, problem: str) -> None:
    found = only_problem(f"rules:\n  - {rule}\n")
    assert found.startswith("s3kit-deploy.yaml:")
    assert problem in found


@pytest.mark.parametrize(
    "written", ["content_encoding: br", "content_encoding: brotli", "brotli: true"]
)
def test_brotli_other_than_a_sibling_is_refused_with_the_reason(written: str) -> None:
    problem = only_problem(f"serve: negotiating\nrules:\n  - match: '*.js'\n    {written}\n")
    assert problem.startswith("s3kit-deploy.yaml:4: ")
    assert "S3 serves the one stored encoding" in problem
    assert "write brotli: sibling" in problem


def test_other_encodings() -> None:
    assert "write gzip: true" in only_problem(
        "rules:\n  - match: '*.js'\n    content_encoding: gzip\n"
    )
    assert "not supported" in only_problem(
        "rules:\n  - match: '*.js'\n    content_encoding: zstd\n"
    )
    config = parse("rules:\n  - match: '*.js'\n    brotli: false\n")
    assert config.rules[0].gzip is None


def test_null_fields_are_unset() -> None:
    config = parse("rules:\n  - match: '*.js'\n    cache_control:\n    gzip: ~\n")
    assert config.rules[0] == Rule(patterns=("*.js",), line=2)
    assert parse("rules:\nprotect:\n") == DeployConfig()


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("rules: '*.js'", "s3kit-deploy.yaml:1: rules must be a list of rules"),
        ("- a\n- b\n", "s3kit-deploy.yaml:1: the deploy configuration must be a mapping"),
        ("rules: [\n", "s3kit-deploy.yaml:2: "),
        ("rules:\n  - match: *.js\n", "quote a pattern that starts with '*', e.g. '*.js'"),
        ("rules:\n  - match: !*.js\n", "quote a pattern that starts with '!'"),
        ("redirects: [/a]", "redirects must be a mapping"),
        ("redirects:\n  /a: /b\n  /a: /c\n", "s3kit-deploy.yaml:3: redirect '/a' appears twice"),
        ("protect: [5]", "protect patterns must be strings"),
        ("protect: ['!uploads/']", "protect has only '!' patterns"),
    ],
)
def test_bad_files(text: str, problem: str) -> None:
    assert problem in only_problem(text)
