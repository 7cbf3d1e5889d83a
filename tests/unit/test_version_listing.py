"""The ListObjectVersions answer parser (`s3kit.storage.s3._versions_page`), on canned pages:
keys decoded only where the server says it URL-encoded them, versions and delete markers in one
stream, newest first per key, and the markers that ask for the next page."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from s3kit.errors import S3KitError
from s3kit.storage.s3 import VersionEntry, _versions_page

_NS = 'xmlns="http://s3.amazonaws.com/doc/2006-03-01/"'


def _version(key: str, version: str, latest: bool, second: int, size: int = 3) -> str:
    return (
        f"<Version><Key>{key}</Key><VersionId>{version}</VersionId>"
        f"<IsLatest>{str(latest).lower()}</IsLatest>"
        f"<LastModified>2026-01-02T03:04:{second:02}.000Z</LastModified>"
        f'<ETag>"e{version}"</ETag><Size>{size}</Size><StorageClass>GLACIER</StorageClass>'
        "<Owner><ID>o</ID></Owner></Version>"
    )


def _marker(key: str, version: str, latest: bool, second: int) -> str:
    return (
        f"<DeleteMarker><Owner><ID>o</ID></Owner><Key>{key}</Key><VersionId>{version}</VersionId>"
        f"<IsLatest>{str(latest).lower()}</IsLatest>"
        f"<LastModified>2026-01-02T03:04:{second:02}Z</LastModified></DeleteMarker>"
    )


def _page(inner: str, *, truncated: bool = False, ns: str = _NS) -> bytes:
    flag = "true" if truncated else "false"
    head = f"<ListVersionsResult {ns}><IsTruncated>{flag}</IsTruncated>"
    return f"{head}{inner}</ListVersionsResult>".encode()


def test_records_carry_every_field_and_markers_carry_no_object_fields() -> None:
    entries, cursor = _versions_page(
        _page(_marker("k", "m1", True, 9) + _version("k", "v1", False, 5, size=7)), "b"
    )
    assert cursor is None
    assert entries == [
        VersionEntry(
            key="k",
            version_id="m1",
            is_latest=True,
            is_delete_marker=True,
            last_modified=datetime(2026, 1, 2, 3, 4, 9, tzinfo=UTC),
        ),
        VersionEntry(
            key="k",
            version_id="v1",
            is_latest=False,
            is_delete_marker=False,
            last_modified=datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
            size=7,
            etag='"ev1"',
            storage_class="GLACIER",
        ),
    ]


def test_url_encoded_keys_and_next_key_marker_are_decoded() -> None:
    """AWS encodes Key and NextKeyMarker under encoding-type=url, '+' for a space; the marker
    goes back decoded (the request path encodes it again)."""
    body = _page(
        _version("a+b%2Bc%20d", "1", True, 1)
        + _version("%C3%BC/%0Aline", "2", True, 1)
        + "<EncodingType>url</EncodingType><NextKeyMarker>%C3%BC/%0Aline</NextKeyMarker>"
        "<NextVersionIdMarker>2</NextVersionIdMarker>",
        truncated=True,
    )
    entries, cursor = _versions_page(body, "b")
    assert [e.key for e in entries] == ["a b+c d", "ü/\nline"]
    assert cursor == {"key-marker": "ü/\nline", "version-id-marker": "2"}


def test_keys_of_a_server_that_ignores_encoding_type_are_taken_literally() -> None:
    """SeaweedFS and moto send no EncodingType for versions: '+' and '%' are the key's own,
    and a newline comes as a character reference."""
    body = _page(
        _version("a+b%2B", "1", True, 1)
        + _version("x&amp;&lt;y&#xA;z", "2", True, 1)
        + "<NextKeyMarker>x&amp;&lt;y&#xA;z</NextKeyMarker>"
        "<NextVersionIdMarker>null</NextVersionIdMarker>",
        truncated=True,
        ns="",
    )
    entries, cursor = _versions_page(body, "b")
    assert [e.key for e in entries] == ["a+b%2B", "x&<y\nz"]
    assert cursor == {"key-marker": "x&<y\nz", "version-id-marker": "null"}


def test_markers_listed_apart_are_merged_newest_first_per_key() -> None:
    """moto writes every DeleteMarker after every Version; AWS and SeaweedFS interleave them."""
    body = _page(
        _version("a", "a1", False, 1)
        + _version("b", "b1", True, 1)
        + _version("a", "a2", False, 2)
        + _marker("a", "m", True, 3)
        + _marker("c", "c0", True, 1)
    )
    entries, _ = _versions_page(body, "b")
    assert [(e.key, e.version_id, e.is_delete_marker) for e in entries] == [
        ("a", "m", True),
        ("a", "a2", False),
        ("a", "a1", False),
        ("b", "b1", False),
        ("c", "c0", True),
    ]


def test_a_version_without_an_id_is_the_null_version() -> None:
    body = _page("<Version><Key>k</Key><IsLatest>true</IsLatest><Size>1</Size></Version>")
    (entry,) = _versions_page(body, "b")[0]
    assert (entry.version_id, entry.is_latest, entry.last_modified) == ("null", True, None)


def test_a_key_marker_alone_asks_for_the_keys_after_it() -> None:
    body = _page(_version("k", "1", True, 1) + "<NextKeyMarker>k</NextKeyMarker>", truncated=True)
    assert _versions_page(body, "b")[1] == {"key-marker": "k"}


def test_a_truncated_page_without_a_next_key_marker_is_an_error_not_the_end() -> None:
    with pytest.raises(S3KitError, match="truncated"):
        _versions_page(_page(_version("k", "1", True, 1), truncated=True), "b")
    with pytest.raises(S3KitError, match="not valid XML"):
        _versions_page(b"<ListVersionsResult><Version>", "b")


def test_as_dict_is_the_shape_the_cli_prints() -> None:
    (entry,) = _versions_page(_page(_version("k", "v", True, 5)), "b")[0]
    assert entry.as_dict() == {
        "key": "k",
        "version_id": "v",
        "is_latest": True,
        "delete_marker": False,
        "last_modified": "2026-01-02T03:04:05+00:00",
        "size": 3,
        "etag": '"ev"',
        "storage_class": "GLACIER",
    }
