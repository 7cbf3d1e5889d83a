"""Pure parts of batch operations: manifests, glob prefixes, parameter checks."""

from __future__ import annotations

import pytest

from s3kit.errors import InvalidKey, UsageError
from s3kit.service.batch import BatchTarget, literal_prefix, parse_manifest


@pytest.mark.parametrize(
    ("glob", "prefix"),
    [("logs/2026/*.gz", "logs/2026/"), ("a?b", "a"), ("[ab]x", ""), ("plain/key", "plain/key")],
)
def test_literal_prefix(glob: str, prefix: str) -> None:
    assert literal_prefix(glob) == prefix


def test_csv_manifest_with_encoded_keys_and_versions() -> None:
    text = "bucket-a,dir/a%20b.txt\n\nbucket-a,c.txt,v1\n"
    assert list(parse_manifest(text)) == [
        BatchTarget("bucket-a", "dir/a b.txt"),
        BatchTarget("bucket-a", "c.txt", "v1"),
    ]


def test_json_lines_manifest_uses_default_bucket() -> None:
    text = '{"key": "x/1"}\n{"bucket": "other-b", "key": "y", "version_id": "v"}\n'
    assert list(parse_manifest(text, default_bucket="main-b")) == [
        BatchTarget("main-b", "x/1"),
        BatchTarget("other-b", "y", "v"),
    ]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("only-one-column\n", "line 1"),
        ('{"bucket": "b-ok"}\n', "line 1"),
        ('{"key": "k"}\n', "names no bucket"),
    ],
)
def test_bad_manifests_name_the_line(text: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        list(parse_manifest(text))


def test_manifest_keys_are_validated() -> None:
    with pytest.raises(InvalidKey):
        list(parse_manifest("bucket-a," + "k" * 1100 + "\n"))
