"""s3kit's own content-type table and the sniffing of unknown names: the same answer on every
machine, whatever its mime.types says."""

from __future__ import annotations

import mimetypes

import pytest

from s3kit.deploy.content_types import (
    CONTENT_TYPES,
    OCTET_STREAM,
    SNIFF_BYTES,
    TEXT_TYPES,
    content_type_for,
    extension_of,
    needs_head,
    sniff,
)

HTML = "text/html; charset=utf-8"
TEXT = "text/plain; charset=utf-8"


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("index.html", HTML),
        ("old.htm", HTML),
        ("site.css", "text/css; charset=utf-8"),
        ("app.js", "text/javascript; charset=utf-8"),
        ("module.mjs", "text/javascript; charset=utf-8"),
        ("common.cjs", "text/javascript; charset=utf-8"),
        ("data.json", "application/json; charset=utf-8"),
        ("app.js.map", "application/json; charset=utf-8"),
        ("site.webmanifest", "application/manifest+json; charset=utf-8"),
        ("sitemap.xml", "application/xml; charset=utf-8"),
        ("feed.rss", "application/rss+xml; charset=utf-8"),
        ("feed.atom", "application/atom+xml; charset=utf-8"),
        ("logo.svg", "image/svg+xml; charset=utf-8"),
        ("robots.txt", TEXT),
        ("notes.md", "text/markdown; charset=utf-8"),
        ("table.csv", "text/csv; charset=utf-8"),
        ("app.wasm", "application/wasm"),
        ("a.png", "image/png"),
        ("a.jpg", "image/jpeg"),
        ("a.jpeg", "image/jpeg"),
        ("a.gif", "image/gif"),
        ("a.webp", "image/webp"),
        ("a.avif", "image/avif"),
        ("favicon.ico", "image/x-icon"),
        ("a.bmp", "image/bmp"),
        ("a.tiff", "image/tiff"),
        ("f.woff", "font/woff"),
        ("f.woff2", "font/woff2"),
        ("f.ttf", "font/ttf"),
        ("f.otf", "font/otf"),
        ("f.eot", "application/vnd.ms-fontobject"),
        ("s.mp3", "audio/mpeg"),
        ("v.mp4", "video/mp4"),
        ("v.webm", "video/webm"),
        ("s.ogg", "audio/ogg"),
        ("s.wav", "audio/wav"),
        ("s.m4a", "audio/mp4"),
        ("doc.pdf", "application/pdf"),
        ("a.zip", "application/zip"),
        ("a.tar.gz", "application/gzip"),
        ("a.tar", "application/x-tar"),
        ("c.yaml", "application/yaml; charset=utf-8"),
        ("c.yml", "application/yaml; charset=utf-8"),
        ("c.toml", "application/toml; charset=utf-8"),
        ("cal.ics", "text/calendar; charset=utf-8"),
        ("subs.vtt", "text/vtt; charset=utf-8"),
    ],
)
def test_the_table_answers_for_what_static_sites_ship(key: str, expected: str) -> None:
    assert content_type_for(key) == expected
    assert content_type_for("deep/folder/" + key) == expected


def test_extensions_are_case_insensitive() -> None:
    assert content_type_for("INDEX.HTML") == HTML
    assert content_type_for("Photo.JPG") == "image/jpeg"
    assert content_type_for("a/B.WebManifest") == "application/manifest+json; charset=utf-8"


def test_text_types_and_only_they_carry_a_charset() -> None:
    for extension, content_type in CONTENT_TYPES.items():
        base, _, params = content_type.partition(";")
        assert (params == " charset=utf-8") == (base in TEXT_TYPES), extension


def test_mimetypes_is_never_consulted(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*_: object, **__: object) -> None:
        raise AssertionError("mimetypes used")

    monkeypatch.setattr(mimetypes, "guess_type", refuse)
    monkeypatch.setattr(mimetypes, "guess_extension", refuse)
    monkeypatch.setattr(mimetypes, "types_map", {})
    assert content_type_for("a.css") == "text/css; charset=utf-8"
    assert content_type_for("LICENSE", b"MIT") == TEXT


@pytest.mark.parametrize(
    ("key", "extension"),
    [
        ("a.html", "html"),
        ("a.tar.GZ", "gz"),
        ("LICENSE", ""),
        (".htaccess", ""),  # a dot file has a name, not an extension
        ("trailing.", ""),
        ("v1.2/notes", ""),  # a dot in a folder name is not the file's extension
        ("a/.well-known/security.txt", "txt"),
    ],
)
def test_extension_of(key: str, extension: str) -> None:
    assert extension_of(key) == extension


@pytest.mark.parametrize(
    "head",
    [
        b"<!DOCTYPE html><html></html>",
        b"<!doctype html>\n",
        b"<html lang='en'>",
        b"<HTML>",
        b"\xef\xbb\xbf  \r\n\t<!DocType HTML>",  # BOM and whitespace first
        b"<html",  # a head that ends right after the tag name
        b"<html\n  class='x'>",
    ],
)
def test_extensionless_html_is_sniffed(head: bytes) -> None:
    assert content_type_for("about", head) == HTML
    assert needs_head("about")


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"<htmlfoo>", TEXT),  # not the html tag
        (b"<!doctype htm>", TEXT),
        (b"x <html>", TEXT),  # not at the start
        (b"plain words", TEXT),
        (b"", TEXT),  # an empty file is text
        ("caf\u00e9 \u2603".encode(), TEXT),
        (b"caf\xe9", OCTET_STREAM),  # Latin-1, not UTF-8
        (b"caf\xe9 au lait", OCTET_STREAM),
        (b"\xff\xfe<\x00h\x00", OCTET_STREAM),  # UTF-16
        (b"text\x00with nul", OCTET_STREAM),
        (b"\x89PNG\r\n\x1a\n", OCTET_STREAM),
        ("\u2603".encode()[:2], OCTET_STREAM),  # a whole file cannot end mid-character
    ],
)
def test_sniffing_near_misses(head: bytes, expected: str) -> None:
    assert sniff(head) == expected
    assert content_type_for("LICENSE", head) == expected


def test_a_character_cut_at_the_end_of_a_full_head_is_still_text() -> None:
    text = ("a" * (SNIFF_BYTES - 1) + "\u2603").encode()  # the snowman straddles the cut
    head = text[:SNIFF_BYTES]
    assert head.endswith(b"\xe2")
    assert sniff(head) == TEXT
    assert sniff(head[:-1] + b"\xff") == OCTET_STREAM  # invalid, not merely cut
    assert sniff(text[: SNIFF_BYTES - 1] + b"\x00") == OCTET_STREAM


def test_unknown_extensions_are_sniffed_and_known_ones_never() -> None:
    assert content_type_for("page.php", b"<!doctype html>") == HTML
    assert content_type_for("data.xyz", b"\x00\x01") == OCTET_STREAM
    assert content_type_for("notes.unknownext", b"hello") == TEXT
    assert content_type_for("image.png", b"<!doctype html>") == "image/png"
    assert not needs_head("image.png")
    assert needs_head("page.php")


def test_sniff_bytes_is_a_few_kib() -> None:
    assert 1024 <= SNIFF_BYTES <= 16 * 1024
