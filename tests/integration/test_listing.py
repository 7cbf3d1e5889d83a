"""Exact S3 listings against both servers: every key comes back as S3 has it — a folder marker
'photos/' stays 'photos/' (an earlier listing turned it into a zero-byte object 'photos'), keys
with '+', '%', '&', '<', spaces, non-ASCII or control characters survive `encoding-type=url` —
and the commands that list and then act (ls, sync, cp -r, rm -r, rb --force) treat a marker
next to its folder's objects and a zero-byte object correctly. Keys are checked with boto3,
independently of s3kit's own listing. The last tests parse canned answers, with no server."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import pytest

from s3kit._session import Session
from s3kit.errors import BucketNotFound, S3KitError
from s3kit.storage.base import DeleteFailure, ObjectInfo, Prefix
from s3kit.storage.s3 import S3Storage, _listing_page
from tests.conftest import Backend, CliInvoker, CliResult
from tests.integration.test_sync_dirmarkers import local_tree, put_objects  # boto3 writes

# Keys both servers keep as they are (SeaweedFS folds '//', so 'x//y' is moto's alone).
ODD_KEYS = ["photos/", "photos/a.jpg", "empty.txt", "a b+c%d&e<f>.txt", "ünï/ç", "tab\there",
            "bell\x07"]  # fmt: skip
MARKED = {"p/photos/": b"", "p/photos/a.jpg": b"jpeg", "p/empty.txt": b"", "p/f.txt": b"f"}


def boto_objects(backend: Backend, bucket: str, prefix: str = "") -> dict[str, dict[str, Any]]:
    client = backend.session().client("s3")
    listed = client.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])
    return {o["Key"]: o for o in listed}


def odd_keys(backend: Backend) -> list[str]:
    return ODD_KEYS + (["x//y"] if backend.name == "moto" else [])


def utf8_order(keys: list[str]) -> list[str]:
    return sorted(keys, key=lambda key: key.encode("utf-8"))


# -- the listing -----------------------------------------------------------------------------


def test_every_key_comes_back_as_s3_has_it(backend: Backend, bucket: str) -> None:
    put_objects(backend, bucket, dict.fromkeys(odd_keys(backend), b""))
    expected = boto_objects(backend, bucket)
    assert sorted(expected) == sorted(odd_keys(backend))
    listed = [e for e in backend.session().storage(bucket).list() if isinstance(e, ObjectInfo)]
    assert sorted(e.key for e in listed) == sorted(expected)
    for entry in listed:
        truth = expected[entry.key]
        assert (entry.size, entry.etag, entry.last_modified) == (
            truth["Size"],
            truth["ETag"],
            truth["LastModified"],
        )
        assert entry.storage_class == truth.get("StorageClass", "STANDARD")


def test_pages_and_start_after_keep_keys_exact(backend: Backend, bucket: str) -> None:
    """SeaweedFS's continuation token is the last key, XML-escaped ('&', '<'): it must come back
    unescaped, or the next page starts in the wrong place."""
    put_objects(backend, bucket, dict.fromkeys(odd_keys(backend), b""))
    storage = backend.session().storage(bucket)
    whole = [e.key for e in storage.list()]
    for size in (1, 2, 3):
        assert [e.key for e in storage.list(page_size=size)] == whole
    put_objects(backend, bucket, {"s/k1": b"", "s/k1&<": b"", "s/k2": b""})
    after = [e.key for e in storage.list("s/", start_after="s/k1", page_size=1)]
    assert after == ["s/k1&<", "s/k2"]
    assert [e.key for e in storage.list("s/", start_after="s/k1&<")] == ["s/k2"]


def test_delimiter_gives_decoded_prefixes_in_key_order(backend: Backend, bucket: str) -> None:
    put_objects(backend, bucket, dict.fromkeys(odd_keys(backend), b""))
    entries = list(backend.session().storage(bucket).list(delimiter="/"))
    prefixes = ["photos/", "ünï/"] + (["x/"] if backend.name == "moto" else [])
    assert sorted(e.key for e in entries if isinstance(e, Prefix)) == sorted(prefixes)
    objects = ["empty.txt", "a b+c%d&e<f>.txt", "tab\there", "bell\x07"]
    assert sorted(e.key for e in entries if isinstance(e, ObjectInfo)) == sorted(objects)
    assert [e.key for e in entries] == utf8_order(prefixes + objects)
    inner = list(backend.session().storage(bucket).list("photos/", delimiter="/"))
    assert [(type(e), e.key) for e in inner] == [
        (ObjectInfo, "photos/"),
        (ObjectInfo, "photos/a.jpg"),
    ]


def _counting(session: Session, monkeypatch: pytest.MonkeyPatch) -> list[dict[str, str]]:
    """Record the query of every request the session's shared S3Http sends."""
    http = session.http()
    sent: list[dict[str, str]] = []
    request = http.request

    def counting(*args: Any, **kwargs: Any) -> Any:
        sent.append(dict(kwargs.get("query") or {}))
        return request(*args, **kwargs)

    monkeypatch.setattr(http, "request", counting)
    return sent


def test_pages_are_fetched_as_read_and_none_in_vain(
    backend: Backend, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first page is not read ahead (a reader that stops there, as a folder check does,
    costs one request); later ones are, and reading to the end costs one request a page."""
    put_objects(backend, bucket, {f"k{i}": b"" for i in range(5)})
    session = backend.session()
    storage = session.storage(bucket)
    sent = _counting(session, monkeypatch)

    async def first() -> str:
        listing = storage.list_async(page_size=1)
        try:
            return (await anext(listing)).key
        finally:
            await listing.aclose()

    assert asyncio.run(first()) == "k0"
    assert len(sent) == 1
    sent.clear()
    assert [e.key for e in storage.list(page_size=2)] == [f"k{i}" for i in range(5)]
    assert len(sent) == 3
    assert all(query["encoding-type"] == "url" for query in sent)


def test_listing_a_missing_bucket_is_bucket_not_found_in_one_request(
    backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = backend.session()
    sent = _counting(session, monkeypatch)
    with pytest.raises(BucketNotFound):
        list(session.storage("t-no-such-bucket-0123").list())
    assert len(sent) == 1


def test_delete_many_deletes_exactly_the_keys_given(backend: Backend, bucket: str) -> None:
    put_objects(backend, bucket, dict.fromkeys(odd_keys(backend), b""))
    storage = backend.session().storage(bucket)
    gone = ["photos/", "a b+c%d&e<f>.txt", "ünï/ç", "never-was/"]
    asyncio.run(storage.delete_many_async(gone))
    assert sorted(boto_objects(backend, bucket)) == sorted(set(odd_keys(backend)) - set(gone))


# -- commands that list, then act ------------------------------------------------------------


def run(cli: CliInvoker, backend: Backend, *args: str) -> CliResult:
    result = cli(*args, env=backend.env())
    assert result.exit_code == 0, (result.stdout, result.stderr)
    return result


def test_ls_recursive_shows_the_marker_and_the_empty_object(
    cli: CliInvoker, backend: Backend, bucket: str
) -> None:
    put_objects(backend, bucket, MARKED)
    listed = run(cli, backend, "ls", "-r", f"s3://{bucket}/p/").stdout
    names = {line.split()[-1]: line.split()[-2] for line in listed.splitlines()}
    assert names == {"p/photos/": "0", "p/photos/a.jpg": "4", "p/empty.txt": "0", "p/f.txt": "1"}
    inside = run(cli, backend, "ls", f"s3://{bucket}/p/photos/").stdout.splitlines()
    assert [line.split()[2:] for line in inside] == [["0"], ["4", "a.jpg"]]  # marker: no name


def test_sync_down_and_up_without_the_flag_leaves_markers_alone(
    cli: CliInvoker, backend: Backend, bucket: str, tmp_path: Path
) -> None:
    put_objects(backend, bucket, MARKED)
    url = f"s3://{bucket}/p"
    down = run(cli, backend, "sync", url, str(tmp_path), "--delete")
    assert local_tree(tmp_path) == ["empty.txt", "f.txt", "photos/", "photos/a.jpg"]
    assert (tmp_path / "empty.txt").read_bytes() == b""
    assert not re.findall(r"photos(?!/a\.jpg)", down.stdout + down.stderr), down.stdout
    again = run(cli, backend, "sync", url, str(tmp_path), "--delete", "--dryrun")
    assert again.stdout.strip() == "Total: nothing to do"
    up = run(cli, backend, "sync", str(tmp_path), url, "--delete", "--dryrun")
    assert up.stdout.strip() == "Total: nothing to do"
    # Without photos/a.jpg locally, only that object goes: the marker is not the sync's.
    (tmp_path / "photos" / "a.jpg").unlink()
    pruned = run(cli, backend, "sync", str(tmp_path), url, "--delete")
    assert "delete:" in pruned.stdout
    assert sorted(boto_objects(backend, bucket, "p/")) == ["p/empty.txt", "p/f.txt", "p/photos/"]


def test_cp_recursive_download_skips_the_marker(
    cli: CliInvoker, backend: Backend, bucket: str, tmp_path: Path
) -> None:
    put_objects(backend, bucket, MARKED)
    result = run(cli, backend, "cp", "-r", f"s3://{bucket}/p/", str(tmp_path))
    assert not re.findall(r"photos(?!/a\.jpg)", result.stdout + result.stderr), result.stdout
    assert local_tree(tmp_path) == ["empty.txt", "f.txt", "photos/", "photos/a.jpg"]
    assert (tmp_path / "photos" / "a.jpg").read_bytes() == b"jpeg"


def test_rm_recursive_removes_the_marker_too(
    cli: CliInvoker, backend: Backend, bucket: str
) -> None:
    put_objects(backend, bucket, {**MARKED, "p/a b+c%d&e<f>.txt": b"", "keep/x": b"x"})
    result = run(cli, backend, "rm", "-r", f"s3://{bucket}/p/photos/")
    assert f"delete: s3://{bucket}/p/photos/\n" in result.stdout
    assert sorted(boto_objects(backend, bucket, "p/")) == [
        "p/a b+c%d&e<f>.txt",
        "p/empty.txt",
        "p/f.txt",
    ]
    run(cli, backend, "rm", "-r", f"s3://{bucket}/p")
    assert sorted(boto_objects(backend, bucket)) == ["keep/x"]


def test_rb_force_empties_a_bucket_with_markers(
    cli: CliInvoker, backend: Backend, bucket: str
) -> None:
    put_objects(backend, bucket, MARKED)
    run(cli, backend, "rb", "--force", f"s3://{bucket}")
    names = [b["Name"] for b in backend.session().client("s3").list_buckets()["Buckets"]]
    assert bucket not in names


# -- answers parsed without a server ----------------------------------------------------------

_NS = 'xmlns="http://s3.amazonaws.com/doc/2006-03-01/"'


def _page(body: str) -> tuple[list[ObjectInfo | Prefix], str | None]:
    return _listing_page(body.encode(), "b")


def _contents(key: str) -> str:
    return (
        f"<Contents><Key>{key}</Key><LastModified>2026-01-02T03:04:05.000Z</LastModified>"
        '<ETag>"e"</ETag><Size>3</Size><StorageClass>GLACIER</StorageClass></Contents>'
    )


def test_url_encoded_keys_are_decoded_and_plain_ones_left_alone() -> None:
    encoded = _page(
        f"<ListBucketResult {_NS}><IsTruncated>false</IsTruncated>{_contents('a+b%2Bc%20d')}"
        "<CommonPrefixes><Prefix>%C3%BC/</Prefix></CommonPrefixes>"
        "<EncodingType>url</EncodingType></ListBucketResult>"
    )
    assert [e.key for e in encoded[0]] == ["a b+c d", "ü/"]
    assert encoded[1] is None
    (info,) = [e for e in encoded[0] if isinstance(e, ObjectInfo)]
    assert (info.size, info.etag, info.storage_class) == (3, '"e"', "GLACIER")
    assert info.last_modified.isoformat() == "2026-01-02T03:04:05+00:00"
    # A server that ignores encoding-type (no EncodingType, no namespace) is taken literally.
    plain = _page(
        "<ListBucketResult><IsTruncated>true</IsTruncated>"
        f"{_contents('a+b%2B')}<NextContinuationToken>t&amp;1</NextContinuationToken>"
        "</ListBucketResult>"
    )
    assert [e.key for e in plain[0]] == ["a+b%2B"]
    assert plain[1] == "t&1"


def test_a_truncated_page_without_a_token_is_an_error_not_the_end() -> None:
    with pytest.raises(S3KitError, match="no continuation token"):
        _page(f"<ListBucketResult {_NS}><IsTruncated>true</IsTruncated></ListBucketResult>")
    with pytest.raises(S3KitError, match="not valid XML"):
        _page("<ListBucketResult")


def test_the_keys_delete_objects_refused_are_read_from_its_answer() -> None:
    session = Session(
        endpoint_url="http://127.0.0.1:9", access_key_id="a", secret_access_key="s", env={}
    )
    storage: S3Storage = session.storage("bkt")
    assert storage._refused(f"<DeleteResult {_NS}></DeleteResult>".encode()) == []
    assert storage._refused(
        f"<DeleteResult {_NS}><Error><Key>k</Key><VersionId>v1</VersionId>"
        "<Code>AccessDenied</Code><Message>no</Message></Error></DeleteResult>".encode()
    ) == [DeleteFailure("k", "AccessDenied", "no", "v1")]
