"""FaultProxy itself (tests/integration/proxy.py), against SeaweedFS (`weed mini`): it passes
signed requests through untouched, each fault does exactly what it says to exactly the
requests it names, large bodies stream through in bounded memory, and stopping it leaves no
connection or thread behind."""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import threading
import tracemalloc
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from tests.conftest import Backend, unique_bucket_name
from tests.integration.proxy import (
    ErrorReply,
    FaultProxy,
    FlipByte,
    HeaderCase,
    Reset,
    Truncate,
    matching,
)
from tests.servers.base import free_ports

MiB = 1024 * 1024


def client(backend: Backend, endpoint: str) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=endpoint,
        aws_access_key_id=backend.access_key,
        aws_secret_access_key=backend.secret_key,
        region_name="us-east-1",
        config=Config(
            s3={"addressing_style": "path"},
            signature_version="s3v4",
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
            retries={"total_max_attempts": 1},  # a fault shows, not retried away
        ),
    )


@pytest.fixture(scope="module")
def bucket(seaweed: Backend) -> Iterator[str]:
    name = unique_bucket_name("px")
    direct = client(seaweed, seaweed.endpoint)
    direct.create_bucket(Bucket=name)
    yield name
    for entry in direct.list_objects_v2(Bucket=name).get("Contents", []):
        direct.delete_object(Bucket=name, Key=entry["Key"])
    direct.delete_bucket(Bucket=name)


@pytest.fixture
def proxy(seaweed: Backend) -> Iterator[FaultProxy]:
    with FaultProxy(seaweed.endpoint) as running:
        yield running


@pytest.fixture
def s3(seaweed: Backend, proxy: FaultProxy) -> Any:
    """boto3 through the proxy."""
    return client(seaweed, proxy.url)


@pytest.fixture
def direct(seaweed: Backend) -> Any:
    return client(seaweed, seaweed.endpoint)


def raw(
    url: str, method: str = "GET", body: Any = None, **headers: str
) -> http.client.HTTPResponse:
    """One request with http.client, which keeps header names as they came."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=30)
    connection.request(method, f"{parts.path}?{parts.query}", body=body, headers=headers)
    return connection.getresponse()


def presigned(s3: Any, method: str, bucket: str, key: str) -> str:
    operation = {"GET": "get_object", "PUT": "put_object"}[method]
    return str(s3.generate_presigned_url(operation, Params={"Bucket": bucket, "Key": key}))


def test_signed_requests_pass_through_and_are_recorded(
    s3: Any, direct: Any, proxy: FaultProxy, bucket: str
) -> None:
    s3.put_object(Bucket=bucket, Key="plain/a.txt", Body=b"through the proxy")
    assert s3.get_object(Bucket=bucket, Key="plain/a.txt")["Body"].read() == b"through the proxy"
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="plain/")["Contents"]] == [
        "plain/a.txt"
    ]
    assert (
        direct.get_object(Bucket=bucket, Key="plain/a.txt")["Body"].read() == b"through the proxy"
    )
    assert [(e.method, e.status, e.faults) for e in proxy.exchanges] == [
        ("PUT", 200, ()),
        ("GET", 200, ()),
        ("GET", 200, ()),
    ]


@pytest.mark.parametrize(
    ("style", "expected"),
    [
        ("title", "Etag"),
        ("lower", "etag"),
        ("upper", "ETAG"),
        ({"etag": "eTaG"}, "eTaG"),
    ],
)
def test_header_case(moto: Backend, style: Any, expected: str) -> None:
    """Against moto, which spells it `ETag` (Go servers such as SeaweedFS send `Etag`)."""
    direct = client(moto, moto.endpoint)
    bucket = unique_bucket_name("px")
    direct.create_bucket(Bucket=bucket)
    direct.put_object(Bucket=bucket, Key="case.txt", Body=b"x")
    straight = raw(presigned(direct, "GET", bucket, "case.txt")).getheaders()
    with FaultProxy(moto.endpoint) as proxy:
        fault = proxy.add_fault(HeaderCase(style), times=None)
        response = raw(presigned(client(moto, proxy.url), "GET", bucket, "case.txt"))
        names = [header for header, _ in response.getheaders()]
        assert response.read() == b"x"
    direct.delete_object(Bucket=bucket, Key="case.txt")
    direct.delete_bucket(Bucket=bucket)
    assert "ETag" in [header for header, _ in straight]
    assert expected in names and "ETag" not in names, names
    assert (fault.matched, fault.faulted) == (1, 1)


def test_reset_before_forwarding_hits_only_the_nth_match(
    s3: Any, direct: Any, proxy: FaultProxy, bucket: str
) -> None:
    fault = proxy.add_fault(Reset("request"), match=matching(method="PUT"), nth=2)

    s3.put_object(Bucket=bucket, Key="reset/1", Body=b"1")
    s3.head_object(Bucket=bucket, Key="reset/1")  # no PUT: does not count
    with pytest.raises(BotoCoreError):
        s3.put_object(Bucket=bucket, Key="reset/2", Body=b"2")
    s3.put_object(Bucket=bucket, Key="reset/3", Body=b"3")

    assert (fault.matched, fault.faulted) == (3, 1)
    listed = direct.list_objects_v2(Bucket=bucket, Prefix="reset/")["Contents"]
    assert [o["Key"] for o in listed] == ["reset/1", "reset/3"]  # the server never saw 2
    assert [e.status for e in proxy.exchanges if e.method == "PUT"] == [200, None, 200]


def test_reset_after_the_server_answered(
    s3: Any, direct: Any, proxy: FaultProxy, bucket: str
) -> None:
    proxy.add_fault(Reset("response"), match=matching(method="PUT"))

    with pytest.raises(BotoCoreError):
        s3.put_object(Bucket=bucket, Key="acted.txt", Body=b"done anyway")

    assert direct.get_object(Bucket=bucket, Key="acted.txt")["Body"].read() == b"done anyway"


def test_truncated_body_keeps_its_announced_length(
    s3: Any, direct: Any, proxy: FaultProxy, bucket: str
) -> None:
    direct.put_object(Bucket=bucket, Key="long.bin", Body=b"z" * MiB)
    fault = proxy.add_fault(Truncate(keep=1000), match=matching(method="GET"))

    response = raw(presigned(s3, "GET", bucket, "long.bin"))
    assert response.getheader("Content-Length") == str(MiB)
    with pytest.raises(http.client.IncompleteRead) as cut:
        response.read()

    assert len(cut.value.partial) == 1000
    assert fault.faulted == 1
    assert raw(presigned(s3, "GET", bucket, "long.bin")).read() == b"z" * MiB  # only once


def test_error_reply_is_not_forwarded(s3: Any, direct: Any, proxy: FaultProxy, bucket: str) -> None:
    fault = proxy.add_fault(ErrorReply("InternalError"), match=matching(method="PUT"))

    response = raw(presigned(s3, "PUT", bucket, "never.txt"), "PUT", b"lost")

    assert response.status == 200
    assert b"<Code>InternalError</Code>" in response.read()
    with pytest.raises(ClientError):
        direct.head_object(Bucket=bucket, Key="never.txt")
    assert fault.faulted == 1
    s3.put_object(Bucket=bucket, Key="never.txt", Body=b"kept")  # the connection still works
    assert direct.get_object(Bucket=bucket, Key="never.txt")["Body"].read() == b"kept"


@pytest.mark.parametrize(("offset", "where"), [(None, 50), (0, 0), (99, 99)])
def test_flip_request_byte(
    s3: Any, direct: Any, proxy: FaultProxy, bucket: str, offset: int | None, where: int
) -> None:
    """A presigned PUT carries no digest of its body, so the server stores what it got."""
    sent = bytes(range(100))
    fault = proxy.add_fault(FlipByte("request", offset), match=matching(method="PUT"))

    assert raw(presigned(s3, "PUT", bucket, "flip.bin"), "PUT", sent).status == 200

    stored = direct.get_object(Bucket=bucket, Key="flip.bin")["Body"].read()
    assert [i for i in range(100) if stored[i] != sent[i]] == [where]
    assert stored[where] == sent[where] ^ 0xFF
    assert fault.faulted == 1


def test_flip_response_byte(s3: Any, direct: Any, proxy: FaultProxy, bucket: str) -> None:
    stored = bytes(range(256)) * 8192  # 2 MiB: the flip lands in the second 1 MiB piece
    direct.put_object(Bucket=bucket, Key="flip-down.bin", Body=stored)
    proxy.add_fault(FlipByte("response", MiB + 7), match=matching(method="GET"))

    got = raw(presigned(s3, "GET", bucket, "flip-down.bin")).read()

    assert [i for i in range(len(stored)) if got[i] != stored[i]] == [MiB + 7]


def test_chunked_request_body_is_forwarded(
    s3: Any, direct: Any, proxy: FaultProxy, bucket: str
) -> None:
    pieces = [b"first piece,", b"second,", b"third"]
    arrived_chunked = proxy.add_fault(HeaderCase({}), match=matching(header="Transfer-Encoding"))

    # http.client sends an iterable body without a Content-Length chunk-encoded.
    response = raw(presigned(s3, "PUT", bucket, "chunked.txt"), "PUT", iter(pieces))

    assert response.status == 200, response.read()
    assert arrived_chunked.matched == 1
    assert direct.get_object(Bucket=bucket, Key="chunked.txt")["Body"].read() == b"".join(pieces)


def test_100_mib_streams_through_in_bounded_memory(
    s3: Any, direct: Any, proxy: FaultProxy, bucket: str
) -> None:
    size, piece = 100 * MiB, bytes(range(256)) * 4096  # 1 MiB
    sent = hashlib.md5(usedforsecurity=False)

    def body() -> Iterator[bytes]:
        for _ in range(size // len(piece)):
            sent.update(piece)
            yield piece

    tracemalloc.start()
    try:
        put = raw(presigned(s3, "PUT", bucket, "big.bin"), "PUT", body(),
                  **{"Content-Length": str(size)})  # fmt: skip
        assert put.status == 200, put.read()
        put.read()
        got = hashlib.md5(usedforsecurity=False)
        response = raw(presigned(s3, "GET", bucket, "big.bin"))
        while block := response.read(MiB):
            got.update(block)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert got.hexdigest() == sent.hexdigest()
    assert peak < 16 * MiB, f"{peak / MiB:.1f} MiB held while streaming 100 MiB"
    direct.delete_object(Bucket=bucket, Key="big.bin")


def test_fault_counts_and_bounds(s3: Any, proxy: FaultProxy, bucket: str) -> None:
    fault = proxy.add_fault(ErrorReply(), match=matching(method="GET", path="/bounded"), nth=2,
                            times=2)  # fmt: skip
    s3.put_object(Bucket=bucket, Key="bounded", Body=b"b")

    statuses = []
    for _ in range(5):
        response = raw(presigned(s3, "GET", bucket, "bounded"))
        statuses.append(response.read() == b"b")

    assert statuses == [True, False, False, True, True]
    assert (fault.matched, fault.faulted) == (5, 2)
    with pytest.raises(ValueError, match="count from 1"):
        proxy.add_fault(Reset(), nth=0)


def test_stop_closes_open_connections_and_threads(seaweed: Backend, bucket: str) -> None:
    before = set(threading.enumerate())
    proxy = FaultProxy(seaweed.endpoint).start()
    s3 = client(seaweed, proxy.url)
    s3.put_object(Bucket=bucket, Key="kept-alive.txt", Body=b"k")  # leaves a pooled connection
    parts = urlsplit(proxy.url)
    idle = http.client.HTTPConnection(parts.hostname or "", parts.port, timeout=30)
    idle.connect()

    proxy.stop()

    assert set(threading.enumerate()) <= before
    idle.sock.settimeout(5)
    # Closed by the proxy (FIN, or RST if it was still in the accept queue), not left hanging.
    with contextlib.suppress(ConnectionResetError):
        assert idle.sock.recv(1) == b""
    idle.close()
    with pytest.raises(BotoCoreError):
        s3.get_object(Bucket=bucket, Key="kept-alive.txt")


def test_a_dead_upstream_is_a_502_not_a_reset() -> None:
    (port,) = free_ports(1)  # nothing listens there
    with FaultProxy(f"http://127.0.0.1:{port}") as proxy:
        response = raw(f"{proxy.url}/bucket/key", "PUT", b"body")
        assert response.status == 502
        assert b"upstream server failed" in response.read()
        assert [(e.method, e.status) for e in proxy.exchanges] == [("PUT", 502)]
