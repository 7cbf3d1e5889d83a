"""The one signed ListObjectVersions (`S3Storage.list_versions`) and what the service builds on
it — `object versions`, undelete, the bucket summary `rb --force` shows, the emptiness check of
`rb` and emptying a bucket — against both servers, and the plain-listing fallback on a server
without versions (rclone serve s3).

The truth each test compares against is what the writes answered (version ids, ETags), not
another listing. Keys are written with boto3, so that s3kit's own key checks do not decide
which keys a test can use. A server's known gap (tests/integration/known_gaps.py) is looked up
before the call, asserted as observed, and only then skipped."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from botocore.exceptions import ClientError

from s3kit.errors import BucketNotEmpty, NotSupported, S3KitError
from s3kit.service import S3Service
from s3kit.service.buckets import ContentSummary
from s3kit.service.versions import VersionEntry
from s3kit.storage.s3 import S3Storage
from tests.conftest import Backend, unique_bucket_name
from tests.integration.known_gaps import known_gap
from tests.integration.proxy import FaultProxy, HeaderCase, matching

# Keys both servers keep and list as they are: spaces, '+' and '%' (which a URL decoder would
# change), XML's own characters, non-ASCII, and a tab.
HOSTILE = ["a b", "ü/é", "p+q", "100%", "sp ace/+%2B", "amp&<>", "tab\there"]


@dataclass(frozen=True)
class Written:
    key: str
    version_id: str
    is_delete_marker: bool
    size: int = 0
    etag: str | None = None


def client(backend: Backend) -> Any:
    return backend.session().client("s3")


@pytest.fixture
def versioned(backend: Backend, bucket: str) -> Iterator[str]:
    client(backend).put_bucket_versioning(
        Bucket=bucket, VersioningConfiguration={"Status": "Enabled"}
    )
    yield bucket
    _purge(backend, bucket)


def _purge(backend: Backend, bucket: str) -> None:
    """Every version, by the ids the listing gives: `empty_bucket` refuses keys with control
    characters (its DeleteObjects body is XML), and the fixture's cleanup would leave them."""
    s3 = client(backend)
    for entry in backend.session().storage(bucket).list_versions():
        s3.delete_object(Bucket=bucket, Key=entry.key, VersionId=entry.version_id)


class History:
    """Writes through boto3, remembering what each one answered."""

    def __init__(self, backend: Backend, bucket: str) -> None:
        self.s3 = client(backend)
        self.bucket = bucket
        self.written: list[Written] = []

    def put(self, key: str, body: bytes) -> None:
        answer = self.s3.put_object(Bucket=self.bucket, Key=key, Body=body)
        self.written.append(Written(key, answer["VersionId"], False, len(body), answer["ETag"]))

    def delete(self, key: str) -> None:
        answer = self.s3.delete_object(Bucket=self.bucket, Key=key)
        assert answer.get("DeleteMarker"), answer
        self.written.append(Written(key, answer["VersionId"], True))

    def expected(self, prefix: str = "") -> list[tuple[Any, ...]]:
        """(key, version id, latest, marker, size, etag) in S3's order: keys in UTF-8 byte
        order, each key's versions newest first."""
        keys = sorted({w.key for w in self.written}, key=lambda k: k.encode("utf-8"))
        rows: list[tuple[Any, ...]] = []
        for key in keys:
            if not key.startswith(prefix):
                continue
            mine = [w for w in reversed(self.written) if w.key == key]
            rows += [
                (w.key, w.version_id, n == 0, w.is_delete_marker, w.size, w.etag)
                for n, w in enumerate(mine)
            ]
        return rows


def rows(entries: Iterator[VersionEntry] | list[VersionEntry]) -> list[tuple[Any, ...]]:
    return [(e.key, e.version_id, e.is_latest, e.is_delete_marker, e.size, e.etag) for e in entries]


def hostile_history(backend: Backend, bucket: str) -> History:
    """Each key with one to three versions, some hidden by a delete marker."""
    history = History(backend, bucket)
    for n, key in enumerate(HOSTILE):
        for size in range(1, 2 + n % 3):
            history.put(key, b"x" * size)
        if n % 2:
            history.delete(key)
    return history


# -- the listing ---------------------------------------------------------------------------------


def test_versions_and_markers_of_hostile_keys_come_back_exact(
    backend: Backend, versioned: str
) -> None:
    history = hostile_history(backend, versioned)
    entries = list(backend.session().storage(versioned).list_versions())
    assert rows(entries) == history.expected()
    assert {e.storage_class for e in entries if not e.is_delete_marker} == {"STANDARD"}
    assert all(e.last_modified is not None for e in entries)
    assert {(e.etag, e.size, e.storage_class) for e in entries if e.is_delete_marker} == {
        (None, 0, None)
    }


def test_pages_split_inside_a_key_and_resume_at_the_version_after(
    backend: Backend, versioned: str
) -> None:
    """Pages of 1, 2 and 3 end in the middle of a key's versions: the next page must start at
    the version after the last one listed (key-marker and version-id-marker), keys and markers
    given back exactly. Every request asks for its page size."""
    history = hostile_history(backend, versioned)
    whole = history.expected()
    assert len(whole) > 6
    with FaultProxy(backend.endpoint) as proxy:
        storage = backend.behind(proxy.url).session().storage(versioned)
        for size in (1, 2, 3):
            assert rows(storage.list_versions(page_size=size)) == whole, size
        listed = [
            parse_qs(urlsplit(e.target).query, keep_blank_values=True)
            for e in proxy.exchanges
            if "versions" in urlsplit(e.target).query
        ]
    assert len(listed) >= sum(-(-len(whole) // n) for n in (1, 2, 3))
    sizes = {query["max-keys"][0] for query in listed}
    assert sizes == {"1", "2", "3"}
    assert all(query["encoding-type"] == ["url"] for query in listed)
    follow_ups = [query for query in listed if "key-marker" in query]
    assert len(follow_ups) == len(listed) - 3  # all but the first page of each listing
    assert all(query["key-marker"][0] in HOSTILE for query in follow_ups)


def test_a_prefix_is_sent_exactly(backend: Backend, versioned: str) -> None:
    history = hostile_history(backend, versioned)
    storage = backend.session().storage(versioned)
    for prefix in ("sp ace/", "p+", "100%", "ü/", "amp&<"):
        assert rows(storage.list_versions(prefix)) == history.expected(prefix), prefix
        assert history.expected(prefix)


def _refused_on_write(s3: Any, storage: S3Storage, bucket: str, key: str) -> None:
    with pytest.raises(ClientError):
        s3.put_object(Bucket=bucket, Key=key, Body=b"k")


def _listed_as(shown: str | None) -> Callable[[Any, S3Storage, str, str], None]:
    """The key stored, then listed as `shown` (None: the answer is not XML)."""

    def check(s3: Any, storage: S3Storage, bucket: str, key: str) -> None:
        version = s3.put_object(Bucket=bucket, Key=key, Body=b"k")["VersionId"]
        try:
            if shown is None:
                with pytest.raises(S3KitError, match="not valid XML"):
                    list(storage.list_versions())
            else:
                assert [e.key for e in storage.list_versions()] == [shown]
        finally:
            s3.delete_object(Bucket=bucket, Key=key, VersionId=version)

    return check


NEWLINE = "newline in a key"
CARRIAGE_RETURN = "carriage return in a key of a version listing"
CONTROL = "control character in a key of a version listing"
# How each known gap of tests/integration/known_gaps.py shows (a new gap needs its entry here).
OBSERVED_GAPS: dict[tuple[str, str], Callable[[Any, S3Storage, str, str], None]] = {
    ("moto", NEWLINE): _refused_on_write,
    ("moto", CARRIAGE_RETURN): _listed_as("cr\nx"),
    ("moto", CONTROL): _listed_as(None),
    ("seaweedfs", CONTROL): _listed_as("bell\ufffd"),
}


@pytest.mark.parametrize(
    ("feature", "key"),
    [(NEWLINE, "line\nbreak"), (CARRIAGE_RETURN, "cr\rx"), (CONTROL, "bell\x07")],
)
def test_keys_with_line_ends_and_control_characters(
    backend: Backend, versioned: str, feature: str, key: str
) -> None:
    gap = known_gap(backend, feature)
    storage = backend.session().storage(versioned)
    s3 = client(backend)
    if gap is None:
        version = s3.put_object(Bucket=versioned, Key=key, Body=b"k")["VersionId"]
        assert [(e.key, e.version_id) for e in storage.list_versions()] == [(key, version)]
        return
    OBSERVED_GAPS[(backend.name, feature)](s3, storage, versioned, key)
    pytest.skip(f"{backend.name}: {gap}")


# -- the service on top of it --------------------------------------------------------------------


def test_list_versions_and_undelete_of_hostile_keys(backend: Backend, versioned: str) -> None:
    history = hostile_history(backend, versioned)
    service = S3Service(backend.session())
    assert rows(service.list_versions(versioned)) == history.expected()
    deleted = [k for n, k in enumerate(HOSTILE) if n % 2]
    for key in deleted:
        marker = history.expected(key)[0]
        assert marker[3], marker
        assert service.undelete(versioned, key) == marker[1]
    live = {e.key for e in service.list_versions(versioned) if e.is_latest}
    assert live == set(HOSTILE)


def test_summary_and_contents_count_every_version_marker_and_upload(
    backend: Backend, versioned: str
) -> None:
    history = hostile_history(backend, versioned)
    history.put("amp&<>", b"again")  # a delete marker that is no longer the latest
    history.delete("amp&<>")
    history.put("amp&<>", b"back")
    upload = history.s3.create_multipart_upload(Bucket=versioned, Key="up load+")["UploadId"]
    service = S3Service(backend.session())
    expected = history.expected()
    latest = [r for r in expected if r[2] and not r[3]]
    markers = [r for r in expected if r[3]]
    assert service.bucket_contents_summary(versioned) == ContentSummary(
        objects=len(latest),
        versions=len(expected) - len(latest) - len(markers),
        delete_markers=len(markers),
        uploads=1,
    )
    contents = list(service.iter_bucket_contents(versioned))
    assert sorted((c["Key"], c.get("VersionId", ""), c.get("UploadId", "")) for c in contents) == (
        sorted([(r[0], r[1], "") for r in expected] + [("up load+", "", upload)])
    )


def test_a_bucket_of_old_versions_is_not_empty_and_one_key_is_asked_for(
    backend: Backend, versioned: str
) -> None:
    """SeaweedFS would delete a bucket that holds only noncurrent versions and delete
    markers; `delete_bucket` asks first, with a one-key listing, not the whole history."""
    history = History(backend, versioned)
    for key in ("a b", "p+q"):
        history.put(key, b"1")
        history.delete(key)
    service = S3Service(backend.session())
    with FaultProxy(backend.endpoint) as proxy:
        counted = proxy.add_fault(
            HeaderCase("lower"), match=matching(method="GET", query="versions"), times=None
        )
        behind = S3Service(backend.behind(proxy.url).session())
        with pytest.raises(BucketNotEmpty, match="object versions or delete markers"):
            behind.delete_bucket(versioned)
        targets = [e.target for e in proxy.exchanges if "versions" in e.target]
    assert counted.matched == 1
    assert parse_qs(urlsplit(targets[0]).query)["max-keys"] == ["1"]
    history.put("a b", b"back")  # the first key listed is live again
    with pytest.raises(BucketNotEmpty, match=r"holds objects\)"):
        service.delete_bucket(versioned)


def test_emptying_a_versioned_bucket_removes_every_version_of_hostile_keys(
    backend: Backend,
) -> None:
    name = unique_bucket_name("vl")
    service = S3Service(backend.session())
    service.create_bucket(name)
    client(backend).put_bucket_versioning(
        Bucket=name, VersioningConfiguration={"Status": "Enabled"}
    )
    history = History(backend, name)
    for key in (k for k in HOSTILE if "\t" not in k):  # DeleteObjects' XML refuses a tab
        history.put(key, b"1")
        history.put(key, b"22")
        history.delete(key)
    removed: list[dict[str, Any]] = []
    assert service.empty_bucket(name, on_delete=removed.append) == len(history.written)
    assert sorted((r["Key"], r["VersionId"]) for r in removed) == sorted(
        (w.key, w.version_id) for w in history.written
    )
    assert list(backend.session().storage(name).list_versions()) == []
    service.delete_bucket(name)
    assert not service.bucket_exists(name)


def test_object_listings_of_the_service_keep_hostile_keys(backend: Backend, bucket: str) -> None:
    s3 = client(backend)
    for n, key in enumerate(HOSTILE):
        s3.put_object(Bucket=bucket, Key=key, Body=b"x" * (n + 1))
    s3.put_object(Bucket=bucket, Key="ia+1", Body=b"12345", StorageClass="STANDARD_IA")
    service = S3Service(backend.session())
    usage = service.storage_usage(bucket)
    assert {name: (u.objects, u.bytes) for name, u in usage.items()} == {
        "STANDARD": (len(HOSTILE), sum(range(1, len(HOSTILE) + 1))),
        "STANDARD_IA": (1, 5),
    }
    assert service.storage_usage(bucket, "sp ace/")["STANDARD"].objects == 1
    assert [t.key for t in service.select_keys(bucket, prefix="p+")] == ["p+q"]
    assert [t.key for t in service.select_keys(bucket, glob="*%*")] == ["100%", "sp ace/+%2B"]
    selected = sorted(t.key for t in service.select_keys(bucket))
    assert selected == sorted([*HOSTILE, "ia+1"])
    for key in [*HOSTILE, "ia+1"]:
        s3.delete_object(Bucket=bucket, Key=key)


# -- a server without versions -------------------------------------------------------------------


def test_without_versions_the_plain_listing_stands_in(rclone: Backend) -> None:
    """rclone serve s3 answers ListObjectVersions NotImplemented: `rb` and `rb --force` count
    and delete the objects a plain listing gives; `object versions` says what is missing."""
    service = S3Service(rclone.session())
    name = unique_bucket_name("rv")
    service.create_bucket(name)
    storage = rclone.session().storage(name)
    for key in ("a b", "p+q"):
        storage.put(key, b"x")
    with pytest.raises(NotSupported, match=r"list_object_versions .*`s3kit probe`"):
        list(service.list_versions(name))
    assert service.bucket_contents_summary(name) == ContentSummary(objects=2)
    with pytest.raises(BucketNotEmpty, match=r"holds objects\)"):
        service.delete_bucket(name)
    assert sorted(c["Key"] for c in service.iter_bucket_contents(name)) == ["a b", "p+q"]
    assert service.empty_bucket(name) == 2
    service.delete_bucket(name)
    assert not service.bucket_exists(name)


# -- one path ------------------------------------------------------------------------------------


def test_the_service_lists_without_boto3(seaweed: Backend) -> None:
    """Listing versions and objects (versions, undelete, cost, batch selection) takes the
    signed path, which never loads boto3: the CLI's `object versions` starts without it."""
    name = unique_bucket_name("nb")
    service = S3Service(seaweed.session())
    service.create_bucket(name)
    s3 = client(seaweed)
    s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    s3.put_object(Bucket=name, Key="k", Body=b"x")
    script = textwrap.dedent(
        """
        import os, sys
        import s3kit
        from s3kit.service import S3Service
        service = S3Service(s3kit.Session())
        name = sys.argv[1]
        assert [e.key for e in service.list_versions(name)] == ["k"]
        assert service.storage_usage(name)["STANDARD"].objects == 1
        assert [t.key for t in service.select_keys(name, glob="k*")] == ["k"]
        loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("boto3", "botocore"))
        print("LOADED", loaded, flush=True)
        os._exit(0)
        """
    )
    try:
        result = subprocess.run(
            [sys.executable, "-c", script, name],
            env={**os.environ, **seaweed.env()},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, result.stderr
        assert "LOADED []" in result.stdout, result.stdout
    finally:
        service.empty_bucket(name)
        service.delete_bucket(name)
