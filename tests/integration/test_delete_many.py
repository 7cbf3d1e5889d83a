"""The one bulk delete (`S3Storage.delete_many_async`), used by rm -r, object delete-many,
batch delete, sync --delete and emptying a bucket: it reports key by key (and version by
version) and never stops at the first key the server refuses."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.conftest import Backend, CliInvoker
from tests.integration.cli_support import keys, put
from tests.integration.proxy import ErrorReply, FaultProxy, HeaderCase, matching

REFUSED = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<DeleteResult><Error><Key>{key}</Key>'
    "<Code>AccessDenied</Code><Message>Access Denied</Message></Error></DeleteResult>"
)


def test_per_key_results_and_every_batch_sent(backend: Backend, bucket: str) -> None:
    put(backend, bucket, {f"d/{i}": b"x" for i in range(5)})
    storage = backend.session().storage(bucket)
    report = asyncio.run(
        storage.delete_many_async(["d/0", "d/1", "d/2", "d/absent", "d/4"], batch_size=2)
    )
    assert report.ok and report.failures == []
    assert report.deleted == ["d/0", "d/1", "d/2", "d/absent", "d/4"]  # S3: absent is deleted
    assert keys(backend, bucket, "d/") == ["d/3"]


def test_at_most_1000_keys_a_request(backend: Backend, bucket: str) -> None:
    """2,001 keys (absent ones: S3 reports them deleted) go in three DeleteObjects requests."""
    with FaultProxy(backend.endpoint) as proxy:
        counted = proxy.add_fault(
            HeaderCase("lower"), match=matching(method="POST", query="delete"), times=None
        )
        storage = backend.behind(proxy.url).session().storage(bucket)
        report = asyncio.run(storage.delete_many_async([f"n/{i}" for i in range(2001)]))
    assert counted.matched == 3
    assert report.ok and len(report.deleted) == 2001


def test_a_refused_key_does_not_stop_the_rest(backend: Backend, bucket: str) -> None:
    """The first request's answer refuses one key; the second request still goes out."""
    put(backend, bucket, {f"r/{i}": b"x" for i in range(4)})
    with FaultProxy(backend.endpoint) as proxy:
        fault = proxy.add_fault(
            ErrorReply(document=REFUSED.format(key="r/1")),
            match=matching(method="POST", query="delete"),
        )
        storage = backend.behind(proxy.url).session().storage(bucket)
        report = asyncio.run(storage.delete_many_async(["r/0", "r/1", "r/2", "r/3"], batch_size=2))
    assert fault.faulted == 1
    assert [(f.key, f.code) for f in report.failures] == [("r/1", "AccessDenied")]
    assert report.deleted == ["r/0", "r/2", "r/3"]
    # The canned answer stood in for the first request: its keys are still there.
    assert keys(backend, bucket, "r/") == ["r/0", "r/1"]


def test_a_failed_request_fails_its_keys_and_the_next_goes_out(
    backend: Backend, bucket: str
) -> None:
    put(backend, bucket, {f"f/{i}": b"x" for i in range(4)})
    with FaultProxy(backend.endpoint) as proxy:
        proxy.add_fault(
            ErrorReply("AccessDenied", "Access Denied", status=403),
            match=matching(method="POST", query="delete"),
        )
        storage = backend.behind(proxy.url).session(max_retries=0).storage(bucket)
        report = asyncio.run(storage.delete_many_async(["f/0", "f/1", "f/2", "f/3"], batch_size=2))
    assert [(f.key, f.code) for f in report.failures] == [
        ("f/0", "AccessDenied"),
        ("f/1", "AccessDenied"),
    ]
    assert report.deleted == ["f/2", "f/3"]
    assert keys(backend, bucket, "f/") == ["f/0", "f/1"]


def test_versions_are_deleted_by_id(backend: Backend, bucket: str) -> None:
    client = backend.session().client("s3")
    client.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    first = client.put_object(Bucket=bucket, Key="v", Body=b"1")["VersionId"]
    second = client.put_object(Bucket=bucket, Key="v", Body=b"2")["VersionId"]
    storage = backend.session().storage(bucket)
    report = asyncio.run(storage.delete_many_async([("v", first)]))
    assert report.ok and report.deleted == ["v"]
    versions = client.list_object_versions(Bucket=bucket, Prefix="v").get("Versions", [])
    assert [v["VersionId"] for v in versions] == [second]


def test_rm_recursive_reports_every_refused_key_and_goes_on(
    cli: CliInvoker, backend: Backend, bucket: str
) -> None:
    """`rm -r` used to stop at the first refused key; now it names each, deletes the rest
    (the next batch of 1,000 too) and exits 1."""
    objects = {f"big/{i:04d}": b"x" for i in range(1001)}
    storage = backend.session().storage(bucket)
    with ThreadPoolExecutor(max_workers=8) as pool:  # a thousand PUTs: most of this test's time
        list(pool.map(lambda key: storage.put(key, objects[key]), objects))
    with FaultProxy(backend.endpoint) as proxy:
        proxy.add_fault(
            ErrorReply(document=REFUSED.format(key="big/0007")),
            match=matching(method="POST", query="delete"),
        )
        env = {**backend.env(), "S3KIT_ENDPOINT_URL": proxy.url}
        result = cli("rm", "-r", f"s3://{bucket}/big/", env=env)
    assert result.exit_code == 1, (result.stdout, result.stderr)
    assert f"delete failed: s3://{bucket}/big/0007: AccessDenied Access Denied" in result.stderr
    assert "1 object(s) under" in result.stderr
    assert f"delete: s3://{bucket}/big/0007" not in result.stdout
    assert f"delete: s3://{bucket}/big/1000" in result.stdout
    # The first batch was answered by the proxy; the second reached the server.
    assert keys(backend, bucket, "big/") == sorted(objects)[:1000]


@pytest.mark.parametrize("batch_size", [0, 1001])
def test_batch_size_is_checked(backend: Backend, bucket: str, batch_size: int) -> None:
    from s3kit.errors import UsageError

    storage = backend.session().storage(bucket)
    with pytest.raises(UsageError, match="batch size"):
        asyncio.run(storage.delete_many_async(["k"], batch_size=batch_size))
