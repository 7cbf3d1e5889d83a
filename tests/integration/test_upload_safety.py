"""Uploads that must never lose what was there: regression tests for the data-safety defects of
the upload path (single PUT, multipart, standard input), against SeaweedFS and moto.

- Sizes between obstore's 8 MiB part size and the 64 MiB multipart threshold used to go up
  in obstore's parts, fail the single-PUT check and delete the key.
- A body damaged on the way is refused by the server (Content-MD5), so the old object stays.
- An SSE-C key never goes over plain HTTP to another machine, on any path.
- A stream upload or a file upload killed after its multipart upload was created is never
  left pending by the next run.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from s3kit._encryption import Encryption
from s3kit._session import Session
from s3kit._uri import LocalPath, S3Url
from s3kit.errors import S3KitError, UsageError
from s3kit.transfer import TransferConfig, TransferManager, WriteOptions
from s3kit.transfer.parts import DEFAULT_THRESHOLD, MiB
from tests.conftest import Backend, CliInvoker, unique_bucket_name
from tests.integration.proxy import (
    ErrorReply,
    FaultProxy,
    FlipByte,
    HeaderCase,
    Reset,
    matching,
)
from tests.integration.transfer_support import payload, pending

S3KIT = str(Path(sys.executable).parent / "s3kit")
# Whether the store refuses a PutObject body that does not match its Content-MD5 (as S3 does),
# as `s3kit probe` reports it.
CHECKS_CONTENT_MD5 = {"seaweedfs": True, "moto": False}


@pytest.fixture
def bucket(backend: Backend, shared_buckets: dict[str, tuple[Session, str]]) -> str:
    if backend.name not in shared_buckets:
        session = backend.session()
        name = unique_bucket_name("up")
        session.client("s3").create_bucket(Bucket=name)
        shared_buckets[backend.name] = (session, name)
    return shared_buckets[backend.name][1]


def _key(name: str) -> str:
    return f"{name}-{os.urandom(4).hex()}"


def _etag(session: Session, bucket: str, key: str) -> str:
    return str(session.client("s3").head_object(Bucket=bucket, Key=key)["ETag"])


def _body(session: Session, bucket: str, key: str) -> bytes:
    return bytes(session.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read())


@pytest.mark.parametrize("size", [8 * MiB + 1, 9 * MiB, 20 * MiB, DEFAULT_THRESHOLD - 1])
def test_an_upload_between_8_mib_and_the_threshold_is_one_verified_put(
    backend: Backend, bucket: str, cli: CliInvoker, tmp_path: Path, size: int
) -> None:
    """Defect 1: these sizes failed on every server, and the object at the key was deleted."""
    key = _key("mid")
    session = backend.session()
    session.client("s3").put_object(Bucket=bucket, Key=key, Body=b"the previous object")
    data = payload(size, seed=size)
    source = tmp_path / "f.bin"
    source.write_bytes(data)
    result = cli("cp", str(source), f"s3://{bucket}/{key}", env=backend.env())
    assert result.exit_code == 0, result.stderr
    assert _etag(session, bucket, key) == f'"{hashlib.md5(data).hexdigest()}"'
    assert hashlib.md5(_body(session, bucket, key)).digest() == hashlib.md5(data).digest()


def test_a_put_whose_body_does_not_match_its_content_md5_is_refused_and_the_old_object_stays(
    backend: Backend, bucket: str
) -> None:
    """Defect 2: the server checks the body against Content-MD5 before it replaces anything
    (a wrong MD5 stands for a byte flipped on the way)."""
    key = _key("md5")
    session = backend.session()
    session.client("s3").put_object(Bucket=bucket, Key=key, Body=b"old bytes")
    storage = session.storage(bucket)
    with pytest.raises(S3KitError) as caught:
        asyncio.run(storage.put_async(key, b"new bytes", content_md5="0" * 32))
    if CHECKS_CONTENT_MD5[backend.name]:
        assert caught.value.code in ("BadDigest", "InvalidDigest"), str(caught.value)
        assert _body(session, bucket, key) == b"old bytes"
    else:  # the store took the body: the error says so, and the object is not deleted
        assert "did not check Content-MD5" in str(caught.value)
        assert _body(session, bucket, key) == b"new bytes"


def test_an_sse_c_key_never_goes_over_plain_http_to_another_machine_on_the_multipart_path(
    backend: Backend, bucket: str, tmp_path: Path
) -> None:
    """Defect 10: single PUT, GET and copy refused, the multipart path sent the key. The
    endpoint is this machine written as an IPv4-mapped IPv6 address, which the transport
    check does not count as loopback: before the fix the upload went through."""
    port = backend.endpoint.rsplit(":", 1)[1]
    endpoint = f"http://[::ffff:127.0.0.1]:{port}"
    session = Session(
        endpoint_url=endpoint,
        access_key_id=backend.access_key,
        secret_access_key=backend.secret_key,
        env={},
    )
    source = tmp_path / "big.bin"
    source.write_bytes(payload(6 * MiB))
    manager = TransferManager(
        session,
        config=TransferConfig(
            multipart_threshold=5 * MiB,
            multipart_chunksize=5 * MiB,
            journal_dir=tmp_path / "journal",
        ),
        options=WriteOptions(encryption=Encryption("sse-c", customer_key=b"k" * 32)),
    )
    key = _key("ssec")
    with pytest.raises(UsageError, match="SSE-C key over plain HTTP"):
        manager.run(LocalPath(source), S3Url(bucket, key))
    assert pending(backend.session(), bucket, key) == []


def _journal_entries(journal: Path) -> list[dict[str, object]]:
    entries = []
    for path in journal.glob("*.json"):
        try:
            entries.append(json.loads(path.read_text()))
        except (OSError, ValueError):
            continue
    return entries


def test_a_killed_stdin_upload_is_aborted_by_the_next_run_to_that_key(
    backend: Backend, bucket: str, tmp_path: Path
) -> None:
    """Defect 19: `cp - s3://…` killed mid-way left its multipart upload pending forever."""
    key = _key("stdin")
    state = tmp_path / "state"
    journal = state / "s3kit" / "journal"
    env = {**os.environ, **backend.env(), "XDG_STATE_HOME": str(state)}
    command = [S3KIT, "cp", "-", f"s3://{bucket}/{key}", "--no-progress", "--bwlimit", "4MiB"]
    first = subprocess.Popen(
        command, env=env, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    assert first.stdin is not None
    first.stdin.write(payload(9 * MiB))  # more than one part; the pipe stays open
    first.stdin.flush()
    deadline = time.monotonic() + 20
    while not _journal_entries(journal):
        assert first.poll() is None, first.stderr.read().decode() if first.stderr else ""
        assert time.monotonic() < deadline, "the stream upload was never journalled"
        time.sleep(0.05)
    first.send_signal(signal.SIGKILL)
    first.wait()
    session = backend.session()
    assert len(pending(session, bucket, key)) == 1

    rerun = subprocess.run(
        [S3KIT, "cp", "-", f"s3://{bucket}/{key}", "--no-progress"],
        env=env,
        input=b"small",
        capture_output=True,
        check=False,
    )
    assert rerun.returncode == 0, rerun.stderr.decode()
    assert pending(session, bucket, key) == []
    assert _body(session, bucket, key) == b"small"
    assert _journal_entries(journal) == []


def test_a_stdin_upload_of_several_parts_arrives_whole(
    backend: Backend, bucket: str, tmp_path: Path
) -> None:
    key = _key("stdin-big")
    data = payload(17 * MiB + 3)
    env = {**os.environ, **backend.env(), "XDG_STATE_HOME": str(tmp_path / "state")}
    done = subprocess.run(
        [S3KIT, "cp", "-", f"s3://{bucket}/{key}", "--no-progress"],
        env=env,
        input=data,
        capture_output=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr.decode()
    session = backend.session()
    assert hashlib.md5(_body(session, bucket, key)).digest() == hashlib.md5(data).digest()
    assert _etag(session, bucket, key).endswith('-3"')  # 8 + 8 + 1 MiB parts
    assert pending(session, bucket, key) == []


def test_an_upload_killed_before_its_first_part_is_journalled_is_continued(
    backend: Backend, bucket: str, tmp_path: Path
) -> None:
    """Defect 24: the upload is journalled as soon as it is created, so a run killed before
    any part finished is continued (same upload id) by the next, and nothing is left."""
    key = _key("early")
    data = payload(16 * MiB, seed=24)
    source = tmp_path / "big.bin"
    source.write_bytes(data)
    state = tmp_path / "state"
    journal = state / "s3kit" / "journal"
    env = {**os.environ, **backend.env(), "XDG_STATE_HOME": str(state)}
    command = [
        S3KIT, "cp", str(source), f"s3://{bucket}/{key}", "--no-progress",
        "--multipart-threshold", "5MiB", "--part-size", "5MiB", "--bwlimit", "1MiB",
    ]  # fmt: skip
    first = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 20
    while not (entries := _journal_entries(journal)):
        assert first.poll() is None, first.stderr.read().decode() if first.stderr else ""
        assert time.monotonic() < deadline, "the upload was never journalled"
        time.sleep(0.02)
    first.send_signal(signal.SIGKILL)
    first.wait()
    upload_id = entries[0]["upload_id"]
    session = backend.session()
    assert pending(session, bucket, key) == [upload_id]

    rerun = subprocess.run(
        command[:-2], env=env, capture_output=True, check=False
    )  # without the bandwidth limit
    assert rerun.returncode == 0, rerun.stderr.decode()
    assert pending(session, bucket, key) == []
    assert hashlib.md5(_body(session, bucket, key)).digest() == hashlib.md5(data).digest()
    assert _journal_entries(journal) == []


# -- behind a misbehaving proxy -----------------------------------------------------------------


@pytest.fixture
def proxy(backend: Backend) -> Iterator[FaultProxy]:
    with FaultProxy(backend.endpoint) as running:
        yield running


def _through(proxy: FaultProxy, backend: Backend) -> Session:
    return Session(
        endpoint_url=proxy.url,
        access_key_id=backend.access_key,
        secret_access_key=backend.secret_key,
        max_retries=2,
        env={},
    )


def _manager(session: Session, tmp_path: Path) -> TransferManager:
    return TransferManager(
        session,
        config=TransferConfig(
            multipart_threshold=5 * MiB,
            multipart_chunksize=5 * MiB,
            journal_dir=tmp_path / "journal",
        ),
    )


def _big_file(tmp_path: Path, size: int = 11 * MiB, seed: int = 4) -> tuple[Path, bytes]:
    data = payload(size, seed=seed)
    path = tmp_path / f"big-{seed}.bin"
    path.write_bytes(data)
    return path, data


COMPLETE = matching(method="POST", query="uploadId=")


@pytest.mark.parametrize("style", ["title", "lower", "upper"])
def test_a_multipart_upload_reads_header_names_in_any_case(
    backend: Backend, bucket: str, proxy: FaultProxy, tmp_path: Path, style: str
) -> None:
    """Defect 4: `Etag` (rclone serve s3, Go proxies) failed every multipart upload."""
    proxy.add_fault(HeaderCase(style), times=None)  # type: ignore[arg-type]
    source, data = _big_file(tmp_path)
    key = _key("case")
    _manager(_through(proxy, backend), tmp_path).run(LocalPath(source), S3Url(bucket, key))
    session = backend.session()
    assert _body(session, bucket, key) == data
    assert _etag(session, bucket, key).endswith('-3"')
    assert pending(session, bucket, key) == []


# What a CompleteMultipartUpload may meet on the way, and the upload still lands whole:
# - an <Error> in a 200 body (defect 7: it was one attempt, then an abort) is retried;
# - the server completed it but the connection broke before its answer: the retry meets
#   NoSuchUpload, and a HEAD showing the parts' ETag proves the object is there.
COMPLETE_FAULTS = {"200-with-error": ErrorReply("InternalError"), "answer-lost": Reset("response")}


@pytest.mark.parametrize("fault_name", list(COMPLETE_FAULTS))
def test_a_complete_that_meets_a_fault_still_lands_the_object(
    backend: Backend, bucket: str, proxy: FaultProxy, tmp_path: Path, fault_name: str
) -> None:
    fault = proxy.add_fault(COMPLETE_FAULTS[fault_name], match=COMPLETE)
    source, data = _big_file(tmp_path)
    key = _key(fault_name)
    _manager(_through(proxy, backend), tmp_path).run(LocalPath(source), S3Url(bucket, key))
    assert fault.faulted == 1
    assert _body(backend.session(), bucket, key) == data
    assert pending(backend.session(), bucket, key) == []


def test_a_copy_answered_200_with_an_error_is_retried(
    backend: Backend, bucket: str, proxy: FaultProxy, tmp_path: Path
) -> None:
    """Defect 7, CopyObject: retried like a 5xx."""
    session = backend.session()
    source = _key("copy-src")
    session.client("s3").put_object(Bucket=bucket, Key=source, Body=b"copied bytes")
    fault = proxy.add_fault(
        ErrorReply("InternalError"), match=matching(method="PUT", header="x-amz-copy-source")
    )
    target = _key("copy-dst")
    _manager(_through(proxy, backend), tmp_path).run(S3Url(bucket, source), S3Url(bucket, target))
    assert fault.faulted == 1
    assert _body(session, bucket, target) == b"copied bytes"


def test_a_409_conditional_request_conflict_on_complete_restarts_the_upload(
    backend: Backend, bucket: str, proxy: FaultProxy, tmp_path: Path
) -> None:
    """Defect 22: S3 documents that such an upload must be created and sent again."""
    fault = proxy.add_fault(
        ErrorReply("ConditionalRequestConflict", "A conflicting operation occurred", 409),
        match=COMPLETE,
    )
    source, data = _big_file(tmp_path)
    key = _key("conflict")
    _manager(_through(proxy, backend), tmp_path).run(LocalPath(source), S3Url(bucket, key))
    assert fault.faulted == 1
    creates = [e for e in proxy.exchanges if e.method == "POST" and "uploads" in e.target]
    assert len(creates) == 2
    assert _body(backend.session(), bucket, key) == data
    assert pending(backend.session(), bucket, key) == []


@pytest.mark.parametrize("size", [1024, 11 * MiB])
def test_a_body_damaged_on_the_way_never_replaces_the_old_object(
    backend: Backend, bucket: str, proxy: FaultProxy, tmp_path: Path, size: int
) -> None:
    """Defect 2, end to end: one byte of the upload flipped in transit. A store that checks
    Content-MD5 refuses the PUT (or the part); the old object is intact either way for parts,
    and for a single PUT on a store that does not check, the error says so."""
    key = _key("flip")
    session = backend.session()
    session.client("s3").put_object(Bucket=bucket, Key=key, Body=b"the old object")
    proxy.add_fault(FlipByte("request"), match=matching(method="PUT", has_body=True))
    source, _ = _big_file(tmp_path, size=size, seed=size)
    with pytest.raises(S3KitError) as caught:
        _manager(_through(proxy, backend), tmp_path).run(LocalPath(source), S3Url(bucket, key))
    multipart = size >= 5 * MiB
    if multipart or CHECKS_CONTENT_MD5[backend.name]:
        assert _body(session, bucket, key) == b"the old object"
    else:
        assert "did not check Content-MD5" in str(caught.value)
    assert pending(session, bucket, key) == []


def test_an_empty_etag_from_complete_is_read_back_with_a_head(
    backend: Backend, bucket: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Defect 5: Ceph RGW 16.2 answers CompleteMultipartUpload with `<ETag></ETag>` (its HEAD
    is right); the upload was then taken for damaged and its object removed. The store's
    answer is stood in for by emptying the ETag the real Complete returned."""
    from s3kit.transfer.multipart import Multipart

    real = Multipart.complete

    async def like_ceph(self: Multipart, *args: object, **kwargs: object) -> str:
        await real(self, *args, **kwargs)  # type: ignore[arg-type]
        return ""

    monkeypatch.setattr(Multipart, "complete", like_ceph)
    source, data = _big_file(tmp_path, seed=5)
    key = _key("ceph")
    summary = _manager(backend.session(), tmp_path).run(LocalPath(source), S3Url(bucket, key))
    assert summary.ok
    session = backend.session()
    assert _body(session, bucket, key) == data
    assert _etag(session, bucket, key).endswith('-3"')


def test_resume_on_a_fresh_rclone_bucket_finds_no_uploads(rclone: Backend, tmp_path: Path) -> None:
    """rclone serve s3 answers ListMultipartUploads with NoSuchUpload until a bucket has had a
    multipart upload; `--resume` looks for pending uploads first and failed on that."""
    session = rclone.session()
    name = unique_bucket_name("rc-resume")
    session.client("s3").create_bucket(Bucket=name)
    source, data = _big_file(tmp_path, size=6 * MiB, seed=6)
    manager = TransferManager(
        session,
        config=TransferConfig(
            multipart_threshold=5 * MiB,
            multipart_chunksize=5 * MiB,
            journal_dir=tmp_path / "journal",
            resume=True,
        ),
    )
    manager.run(LocalPath(source), S3Url(name, "big.bin"))
    assert _body(session, name, "big.bin") == data
