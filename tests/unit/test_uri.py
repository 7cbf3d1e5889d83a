"""s3kit._uri: bucket-name and key rules, and parsing of the locations users type."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from s3kit._uri import (
    MAX_KEY_BYTES,
    LocalPath,
    S3Url,
    StdStream,
    is_s3_url,
    parse_location,
    parse_s3_url,
    validate_bucket_name,
    validate_key,
)
from s3kit.errors import InvalidBucketName, InvalidKey, UsageError

# -- bucket names ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "abc",
        "a" * 63,
        "my-bucket",
        "my.bucket.name",
        "b1x",
        "0bucket9",
        "a-b.c-d",
        "xn-bucket",  # only the full 'xn--' prefix is reserved
        "bucket-s3alia",
        "sthree",  # 'sthree-' with the hyphen is reserved, the bare word is not
        "amzn-s3-demo",
        "192.168.5",  # three parts is not an IPv4 address
        "my--bucket",  # adjacent hyphens are fine in the middle
    ],
)
def test_valid_bucket_names_are_returned_unchanged(name: str) -> None:
    assert validate_bucket_name(name) == name


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("ab", "it is 2 characters long"),
        ("", "it is 0 characters long"),
        ("a" * 64, "it is 64 characters long"),
        ("MyBucket", "it contains uppercase letters"),
        ("my_bucket", "characters other than a-z"),
        ("my bucket", "characters other than a-z"),
        ("bücket", "characters other than a-z"),
        ("-bucket", "starts/ends badly"),
        ("bucket-", "starts/ends badly"),
        (".bucket", "starts/ends badly"),
        ("bucket.", "starts/ends badly"),
        ("my..bucket", "two adjacent dots"),
        ("my.-bucket", "a dot next to a hyphen"),
        ("my-.bucket", "a dot next to a hyphen"),
        ("192.168.5.4", "formatted as an IP address"),
        ("10.0.0.1", "formatted as an IP address"),
        ("xn--bucket", "the prefix 'xn--' is reserved"),
        ("sthree-bucket", "the prefix 'sthree-' is reserved"),
        ("sthree-configurator", "the prefix 'sthree-' is reserved"),
        ("amzn-s3-demo-bucket", "the prefix 'amzn-s3-demo-' is reserved"),
        ("bucket-s3alias", "the suffix '-s3alias' is reserved"),
        ("bucket--ol-s3", "the suffix '--ol-s3' is reserved"),
        ("bucket.mrap", "the suffix '.mrap' is reserved"),
        ("bucket--x-s3", "the suffix '--x-s3' is reserved"),
        ("bucket--table-s3", "the suffix '--table-s3' is reserved"),
    ],
)
def test_invalid_bucket_names_say_why(name: str, problem: str) -> None:
    with pytest.raises(InvalidBucketName) as caught:
        validate_bucket_name(name)
    message = str(caught.value)
    assert f"invalid bucket name '{name}'" in message
    assert problem in message
    # every message restates the rule, so the user can fix the name without looking it up
    assert "3-63 lowercase letters" in message


def test_invalid_bucket_name_is_a_usage_error() -> None:
    with pytest.raises(UsageError) as caught:
        validate_bucket_name("UPPER")
    assert caught.value.exit_code == 2
    assert isinstance(caught.value, ValueError)


# -- keys -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key",
    ["a", "dir/file.txt", "dir/", " leading space", "ünïcödé/ключ", "a" * MAX_KEY_BYTES],
)
def test_valid_keys_are_returned_unchanged(key: str) -> None:
    assert validate_key(key) == key


def test_empty_key_is_refused_with_an_example() -> None:
    with pytest.raises(InvalidKey, match=r"object key is empty .*s3://bucket/path/file"):
        validate_key("")


def test_key_over_1024_bytes_is_refused() -> None:
    with pytest.raises(InvalidKey, match="object key is 1025 bytes long; S3 allows at most 1024"):
        validate_key("a" * 1025)


def test_key_length_counts_utf8_bytes_not_characters() -> None:
    # 'é' is two bytes in UTF-8: 512 of them are exactly 1024 bytes, 513 are too many,
    # although both are far below 1024 characters.
    assert validate_key("é" * 512) == "é" * 512
    with pytest.raises(InvalidKey, match="object key is 1026 bytes long"):
        validate_key("é" * 513)
    # a four-byte character (emoji) counts four
    assert validate_key("😀" * 256) == "😀" * 256
    with pytest.raises(InvalidKey, match="1028 bytes"):
        validate_key("😀" * 257)


def test_key_with_nul_is_refused() -> None:
    with pytest.raises(InvalidKey, match="NUL character"):
        validate_key("a\x00b")


# -- S3 URLs ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "bucket", "key"),
    [
        ("s3://bucket", "bucket", ""),
        ("s3://bucket/", "bucket", ""),
        ("s3://bucket/key.txt", "bucket", "key.txt"),
        ("s3://bucket/dir/", "bucket", "dir/"),
        ("s3://bucket/a/b/c.txt", "bucket", "a/b/c.txt"),
        ("S3://bucket/Key", "bucket", "Key"),
        ("s3://bucket//double", "bucket", "/double"),
    ],
)
def test_parse_s3_url(text: str, bucket: str, key: str) -> None:
    assert parse_s3_url(text) == S3Url(bucket, key)


def test_parse_s3_url_refuses_other_text() -> None:
    with pytest.raises(UsageError, match=r"'/tmp/x' is not an S3 URL — write it as s3://"):
        parse_s3_url("/tmp/x")


@pytest.mark.parametrize("text", ["s3://", "s3:///key"])
def test_parse_s3_url_without_bucket(text: str) -> None:
    with pytest.raises(UsageError, match="has no bucket name"):
        parse_s3_url(text)


def test_parse_s3_url_validates_bucket_and_key() -> None:
    with pytest.raises(InvalidBucketName, match="uppercase"):
        parse_s3_url("s3://Bucket/key")
    with pytest.raises(InvalidKey, match="1025 bytes"):
        parse_s3_url("s3://bucket/" + "k" * 1025)
    with pytest.raises(InvalidKey, match="NUL"):
        parse_s3_url("s3://bucket/a\x00")


@pytest.mark.parametrize(
    ("text", "expected"),
    [("s3://b", True), ("S3://b", True), ("s3:/b", False), ("http://b", False), ("b", False)],
)
def test_is_s3_url(text: str, expected: bool) -> None:
    assert is_s3_url(text) is expected


def test_s3url_str() -> None:
    assert str(S3Url("bucket")) == "s3://bucket"
    assert str(S3Url("bucket", "a/b.txt")) == "s3://bucket/a/b.txt"
    assert str(S3Url("bucket", "dir/")) == "s3://bucket/dir/"


@pytest.mark.parametrize(
    ("key", "expected"),
    [("", True), ("dir/", True), ("a/b/", True), ("file", False), ("dir/file", False)],
)
def test_s3url_is_prefix(key: str, expected: bool) -> None:
    assert S3Url("bucket", key).is_prefix is expected


@pytest.mark.parametrize(
    ("key", "relative", "joined"),
    [
        ("", "f.txt", "f.txt"),
        ("dir/", "f.txt", "dir/f.txt"),
        ("dir", "f.txt", "dir/f.txt"),  # a key used as a folder gains a '/'
        ("a/b/", "c/d.txt", "a/b/c/d.txt"),
    ],
)
def test_s3url_join(key: str, relative: str, joined: str) -> None:
    assert S3Url("bucket", key).join(relative) == S3Url("bucket", joined)


def test_s3url_is_frozen() -> None:
    url = S3Url("bucket", "k")
    with pytest.raises(AttributeError):
        url.key = "other"  # type: ignore[misc]


# -- locations --------------------------------------------------------------------------------


def test_parse_location_dash_is_std_stream() -> None:
    location = parse_location("-")
    assert isinstance(location, StdStream)
    assert str(location) == "-"


def test_parse_location_s3() -> None:
    assert parse_location("s3://bucket/k") == S3Url("bucket", "k")


@pytest.mark.parametrize(
    ("text", "as_folder"),
    [
        ("out", False),
        ("out/", True),
        ("./out/", True),
        ("/abs/path/file.txt", False),
        ("dir/sub/", True),
        ("--", False),
    ],
)
def test_parse_location_local(text: str, as_folder: bool) -> None:
    location = parse_location(text)
    assert location == LocalPath(Path(text), as_folder=as_folder)
    assert str(location) == str(Path(text))


def test_parse_location_local_uses_os_separator_for_folders() -> None:
    location = parse_location(f"out{os.sep}")
    assert isinstance(location, LocalPath)
    assert location.as_folder is True


def test_parse_location_expands_home(isolated_env: Path) -> None:
    location = parse_location("~/data/")
    assert location == LocalPath(isolated_env / "data", as_folder=True)


@pytest.mark.parametrize(
    "text", ["http://host/b/k", "https://bucket.s3.amazonaws.com/k", "gs://bucket/k", "file:///x"]
)
def test_parse_location_refuses_other_schemes(text: str) -> None:
    with pytest.raises(UsageError, match="only s3:// URLs and local paths are supported") as caught:
        parse_location(text)
    assert text in str(caught.value)
    assert caught.value.exit_code == 2


def test_default_bucket_fills_an_empty_bucket_name() -> None:
    with pytest.raises(UsageError, match="has no bucket name"):
        parse_s3_url("s3:///key")
    assert parse_s3_url("s3:///site/index.html", default_bucket="www") == S3Url(
        "www", "site/index.html"
    )
    assert parse_s3_url("s3://", default_bucket="www") == S3Url("www", "")
    assert parse_s3_url("s3://other/k", default_bucket="www") == S3Url("other", "k")
    assert parse_location("s3:///k", default_bucket="www") == S3Url("www", "k")


def test_the_command_lines_default_bucket_never_reaches_a_library_call() -> None:
    """The CLI keeps a connection's default bucket for what is typed on its command line;
    a library call made after it (same thread, same context) means what it says."""
    from s3kit.cli.state import cli_s3_url, default_bucket, set_default_bucket

    set_default_bucket("www")
    try:
        assert default_bucket() == "www"
        assert cli_s3_url("s3:///site/index.html") == S3Url("www", "site/index.html")
        with pytest.raises(UsageError, match="has no bucket name"):
            parse_s3_url("s3:///site/index.html")
        with pytest.raises(UsageError, match="has no bucket name"):
            parse_location("s3:///k")
        with pytest.raises(InvalidBucketName):
            set_default_bucket("Not_A_Bucket")
    finally:
        set_default_bucket(None)
    assert default_bucket() is None


@pytest.mark.parametrize(
    ("key", "folder"), [("", ""), ("site", "site/"), ("site/", "site/"), ("a/b", "a/b/")]
)
def test_a_location_as_a_folder(key: str, folder: str) -> None:
    assert S3Url("bucket", key).folder == folder
    assert S3Url("bucket", key).join("x").key == folder + "x"
