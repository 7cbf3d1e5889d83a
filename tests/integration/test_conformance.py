"""Conformance: s3kit's data paths, over every server of the conformance set, at every size
around every threshold, straight and through a fault-injecting proxy.

For each server (`conformance_backend`: weed mini, weed server, moto, rclone serve s3, and Ceph
RGW with S3KIT_TEST_CEPH=1) and each size — 0, 1 B, 5 MiB±, 8 MiB±, the multipart threshold±
and ~100 MiB — s3kit uploads, downloads, copies server-side, syncs one way each way and two
ways, with verification on and off. Each result is checked by an oracle that is not s3kit: a
plain boto3 client straight to the server gives the ETag (quoted MD5 for a single PUT, MD5 of
the part MD5s with `-N` for a multipart upload, computed here from the file), the bytes are
compared by MD5, and no multipart upload may be left pending.

Through `FaultProxy` (tests/integration/proxy.py): every upload/download size passes with the
ETag header spelt `Etag`; a damaged request body fails the upload and leaves the previous
object as it was; a reset, a truncated body, a damaged response and S3's "200 OK with an
<Error> body" are retried or fail cleanly, never leaving a wrong object, a wrong file or a
pending upload behind.

Time: the data is generated once per session; one bucket per server; the ~100 MiB size only
uploads and downloads. Skips come only from `KNOWN_GAPS` below — what a server is known not to
do, measured before any test relies on it — never from a failure.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import random
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from s3kit._session import Session
from s3kit._uri import LocalPath, S3Url
from s3kit.errors import S3KitError
from s3kit.service import S3Service
from s3kit.storage.loopclient import ON_LOOP_LIMIT
from s3kit.transfer import TransferConfig, TransferManager
from s3kit.transfer.checksum import md5_hex, multipart_etag, single_etag
from s3kit.transfer.download import WRITE_ON_LOOP
from s3kit.transfer.parts import DEFAULT_THRESHOLD, MiB
from tests.conftest import Backend, CliInvoker, CliResult, unique_bucket_name
from tests.integration.proxy import (
    Action,
    ErrorReply,
    FaultProxy,
    FlipByte,
    HeaderCase,
    Reset,
    Truncate,
    matching,
)
from tests.integration.transfer_support import leftovers, pending

THRESHOLD = DEFAULT_THRESHOLD
CHUNK = TransferConfig().multipart_chunksize  # the part size of the library's and CLI's default
LARGE = "100MiB"
_T = f"{THRESHOLD // MiB}MiB"
_W = f"{WRITE_ON_LOOP // 1024}KiB"  # small downloads up to it are written from the event loop
_L = f"{ON_LOOP_LIMIT // MiB}MiB"  # GETs and PUTs up to it are sent from the event loop
SIZES: dict[str, int] = {
    "0B": 0,
    "1B": 1,
    _W: WRITE_ON_LOOP,
    f"{_W}+1": WRITE_ON_LOOP + 1,
    _L: ON_LOOP_LIMIT,
    f"{_L}+1": ON_LOOP_LIMIT + 1,
    "5MiB-1": 5 * MiB - 1,
    "5MiB": 5 * MiB,
    "8MiB-1": 8 * MiB - 1,
    "8MiB": 8 * MiB,
    "8MiB+1": 8 * MiB + 1,
    f"{_T}-1": THRESHOLD - 1,
    _T: THRESHOLD,
    f"{_T}+1": THRESHOLD + 1,
    LARGE: 100 * MiB + 12345,
}
MEDIUM = [name for name in SIZES if name != LARGE]  # copies and syncs: all but the largest
# Copies and syncs run every size with verification on, and these with it off too: the sizes
# whose paths differ (empty, one PUT, the 8 MiB in-memory limit, multipart) at the least bytes;
# `test_upload_then_download` runs every size both ways.
UNVERIFIED = ("0B", "5MiB", "8MiB+1", _T)
MEDIUM_CASES = pytest.mark.parametrize(
    ("size", "verify"),
    [pytest.param(name, True, id=f"{name}-verify") for name in MEDIUM]
    + [pytest.param(name, False, id=f"{name}-no-verify") for name in UNVERIFIED],
)

# What a server is known not to do, with the reason, measured with boto3 against the versions
# installed here (seaweedfs 4.48, moto 5.2, rclone 1.75) before any test relied on it; the
# entries are rechecked by `test_known_gaps_are_still_true`.
CONDITIONAL_WRITES = "conditional writes"
CONTENT_MD5 = "Content-MD5 check"
MULTIPART_ETAG = "multipart ETag"  # without it, a multipart object's ETag is its whole MD5
KNOWN_GAPS: dict[str, dict[str, str]] = {
    "rclone": {
        CONDITIONAL_WRITES: "rclone serve s3 ignores If-Match and If-None-Match on PutObject, "
        "which two-way sync relies on",
        MULTIPART_ETAG: "rclone serve s3 answers HEAD/GET of a multipart object with the MD5 "
        "of its content as ETag (its --etag-hash), not the MD5 of the part MD5s",
    },
    "moto": {
        CONTENT_MD5: "moto server stores a PutObject body that does not match its Content-MD5, "
        "so a damaged single PUT replaces the old object before any client can object",
    },
}


def require(backend: Backend, feature: str) -> None:
    reason = KNOWN_GAPS.get(backend.name, {}).get(feature)
    if reason is not None:
        pytest.skip(f"{backend.name}: {reason}")


# -- test data: once per session ------------------------------------------------------------------


@dataclass(frozen=True)
class Sample:
    name: str
    size: int
    path: Path
    md5: str
    part_md5s: tuple[str, ...]  # of CHUNK-sized parts

    @property
    def etag(self) -> str:
        """The ETag S3 gives this file uploaded with s3kit's default settings."""
        if self.size < THRESHOLD:
            return single_etag(self.md5)
        return multipart_etag(self.part_md5s)

    def etag_in_parts(self, part: int) -> str:
        return multipart_etag(md5_hex(block) for block in _blocks(self.path, part))


def _blocks(path: Path, size: int) -> Iterator[bytes]:
    with path.open("rb") as handle:
        while block := handle.read(size):
            yield block


def file_md5(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    for block in _blocks(path, MiB):
        digest.update(block)
    return digest.hexdigest()


@pytest.fixture(scope="session")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Sample]:
    """One file per size, of deterministic random bytes, with its MD5 and part MD5s."""
    folder = tmp_path_factory.mktemp("corpus")
    samples = {}
    for seed, (name, size) in enumerate(SIZES.items()):
        rng = random.Random(seed)
        path = folder / f"{name}.bin"
        whole = hashlib.md5(usedforsecurity=False)
        parts = []
        with path.open("wb") as handle:
            for offset in range(0, size, CHUNK):
                block = rng.randbytes(min(CHUNK, size - offset))
                handle.write(block)
                whole.update(block)
                parts.append(md5_hex(block))
        os.utime(path, (1_600_000_000, 1_600_000_000))
        samples[name] = Sample(name, size, path, whole.hexdigest(), tuple(parts))
    return samples


# -- the server under test, seen by an oracle that is not s3kit -----------------------------------


@dataclass
class Store:
    backend: Backend
    session: Session
    bucket: str
    s3: Any  # a plain boto3 client straight to the server

    def expected(self, etag: str, sample: Sample) -> str:
        """`etag`, an ETag S3 gives `sample`, as this server spells it (see KNOWN_GAPS)."""
        if "-" in etag and MULTIPART_ETAG in KNOWN_GAPS.get(self.backend.name, {}):
            return single_etag(sample.md5)
        return etag

    def etag(self, key: str) -> str | None:
        try:
            return str(self.s3.head_object(Bucket=self.bucket, Key=key)["ETag"])
        except ClientError as exc:
            if exc.response["Error"]["Code"] in ("404", "NoSuchKey", "NotFound"):
                return None
            raise

    def md5(self, key: str) -> str:
        body = self.s3.get_object(Bucket=self.bucket, Key=key)["Body"]
        digest = hashlib.md5(usedforsecurity=False)
        for block in iter(lambda: body.read(MiB), b""):
            digest.update(block)
        return digest.hexdigest()

    def get(self, key: str) -> bytes:
        return bytes(self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read())

    def put(self, key: str, data: bytes) -> None:
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=data)

    def put_file(self, key: str, sample: Sample) -> None:
        """Upload `sample` as s3kit would lay it out (one PUT, or CHUNK-sized parts)."""
        if sample.size < THRESHOLD:
            self.put(key, sample.path.read_bytes())
            return
        upload = self.s3.create_multipart_upload(Bucket=self.bucket, Key=key)["UploadId"]
        parts = []
        for number, block in enumerate(_blocks(sample.path, CHUNK), start=1):
            answer = self.s3.upload_part(
                Bucket=self.bucket, Key=key, UploadId=upload, PartNumber=number, Body=block
            )
            parts.append({"PartNumber": number, "ETag": answer["ETag"]})
        self.s3.complete_multipart_upload(
            Bucket=self.bucket, Key=key, UploadId=upload, MultipartUpload={"Parts": parts}
        )

    def server_copy(self, source: str, key: str) -> None:
        self.s3.copy_object(
            Bucket=self.bucket, Key=key, CopySource={"Bucket": self.bucket, "Key": source}
        )

    def pending(self, prefix: str) -> list[str]:
        return pending(self.session, self.bucket, prefix)

    def remove(self, prefix: str) -> None:
        """Everything under `prefix`, pending uploads included (never raises)."""
        with contextlib.suppress(Exception):
            listing = self.s3.list_objects_v2(Bucket=self.bucket, Prefix=prefix)
            for entry in listing.get("Contents", []):
                self.s3.delete_object(Bucket=self.bucket, Key=entry["Key"])
        with contextlib.suppress(Exception):
            uploads = self.s3.list_multipart_uploads(Bucket=self.bucket, Prefix=prefix)
            for upload in uploads.get("Uploads", []):
                self.s3.abort_multipart_upload(
                    Bucket=self.bucket, Key=upload["Key"], UploadId=upload["UploadId"]
                )

    def url(self, key: str) -> str:
        return f"s3://{self.bucket}/{key}"


def oracle(backend: Backend) -> Any:
    return boto3.client(
        "s3",
        endpoint_url=backend.endpoint,
        aws_access_key_id=backend.access_key,
        aws_secret_access_key=backend.secret_key,
        region_name="us-east-1",
        config=Config(
            s3={"addressing_style": "path"},
            signature_version="s3v4",
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
            retries={"max_attempts": 3, "mode": "standard"},
        ),
    )


@pytest.fixture(scope="module")
def store(conformance_backend: Backend, shared_buckets: dict[str, tuple[Session, str]]) -> Store:
    backend = conformance_backend
    if backend.name not in shared_buckets:
        session = backend.session()
        name = unique_bucket_name("cf")
        S3Service(session).create_bucket(name)
        shared_buckets[backend.name] = (session, name)
    session, name = shared_buckets[backend.name]
    store = Store(backend, session, name, oracle(backend))
    # rclone serve s3 answers ListMultipartUploads with NoSuchUpload until the bucket has seen
    # one multipart upload; this one makes `pending` work there from the first test on.
    upload = store.s3.create_multipart_upload(Bucket=name, Key="warm-up")["UploadId"]
    store.s3.abort_multipart_upload(Bucket=name, Key="warm-up", UploadId=upload)
    return store


@pytest.fixture
def prefix(store: Store) -> Iterator[str]:
    """A key prefix of this test's own, emptied afterwards (one bucket serves the module)."""
    name = f"{uuid.uuid4().hex[:12]}/"
    yield name
    store.remove(name)


@pytest.fixture(scope="module")
def seeded(store: Store, corpus: dict[str, Sample]) -> Iterator[dict[str, str]]:
    """Every sample but the largest, uploaded once by the oracle: sources for copies and
    remote sides of syncs. Key by sample name."""
    keys = {}
    for name in MEDIUM:
        keys[name] = f"seed/{name}.bin"
        store.put_file(keys[name], corpus[name])
    yield keys
    store.remove("seed/")


def ok(result: CliResult) -> CliResult:
    assert result.exit_code == 0, (result.stdout, result.stderr)
    return result


def link(sample: Sample, path: Path) -> Path:
    """`sample` at `path`, without copying its bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        path.hardlink_to(sample.path)
    except OSError:
        path.write_bytes(sample.path.read_bytes())
        os.utime(path, (1_600_000_000, 1_600_000_000))
    return path


def verify_flag(verify: bool) -> list[str]:
    return [] if verify else ["--no-verify"]


# -- upload and download --------------------------------------------------------------------------


# The library with verification on, and the CLI (`s3kit cp`, the same code underneath) with it off.
ROUTES = pytest.mark.parametrize(
    ("via", "verify"), [("library", True), ("cli", False)], ids=["library-verify", "cli-no-verify"]
)


@ROUTES
@pytest.mark.parametrize("size", SIZES)
def test_upload_then_download(
    store: Store,
    corpus: dict[str, Sample],
    prefix: str,
    size: str,
    via: str,
    verify: bool,
    cli: CliInvoker,
    tmp_path: Path,
) -> None:
    sample = corpus[size]
    key = f"{prefix}object.bin"
    out = tmp_path / "down" / "object.bin"
    out.parent.mkdir()
    flags = ["--no-progress", *verify_flag(verify)]
    manager = TransferManager(
        store.session, config=TransferConfig(verify=verify, journal_dir=tmp_path / "journal")
    )
    if via == "library":
        manager.run(LocalPath(sample.path), S3Url(store.bucket, key))
    else:
        ok(cli("cp", *flags, str(sample.path), store.url(key), env=store.backend.env()))

    assert store.etag(key) == store.expected(sample.etag, sample)
    assert store.pending(prefix) == []

    if via == "library":
        checks: list[str | None] = []
        TransferManager(
            store.session,
            config=TransferConfig(verify=verify, journal_dir=tmp_path / "journal"),
            on_event=lambda e: checks.append(e.verified) if e.kind == "done" else None,
        ).run(S3Url(store.bucket, key), LocalPath(out))
        # Whatever the store keeps (s3kit's CRC, S3's full-object CRC64NVME, an MD5 ETag, the
        # part size to recompute a multipart ETag), what s3kit wrote it can check.
        assert len(checks) == 1 and bool(checks[0]) == verify, checks
    else:
        ok(cli("cp", *flags, store.url(key), str(out), env=store.backend.env()))
    assert out.stat().st_size == sample.size
    assert file_md5(out) == sample.md5
    assert leftovers(out.parent) == []


# -- behind a proxy that spells response header names differently ---------------------------------


@pytest.fixture(scope="module")
def recased(store: Store) -> Iterator[tuple[FaultProxy, Session]]:
    """A proxy in front of the module's server that title-cases every response header name
    (`ETag` → `Etag`, as some gateways send it), and a Session through it."""
    with FaultProxy(store.backend.endpoint) as proxy:
        proxy.add_fault(HeaderCase("title"), times=None)
        yield proxy, store.backend.behind(proxy.url).session()


@pytest.mark.parametrize("size", SIZES)
def test_upload_download_with_etag_spelt_Etag(
    store: Store,
    corpus: dict[str, Sample],
    recased: tuple[FaultProxy, Session],
    prefix: str,
    size: str,
    tmp_path: Path,
) -> None:
    proxy, session = recased
    sample = corpus[size]
    key = f"{prefix}object.bin"
    out = tmp_path / "object.bin"
    manager = TransferManager(session, config=TransferConfig(journal_dir=tmp_path / "journal"))
    before = len(proxy.exchanges)

    manager.run(LocalPath(sample.path), S3Url(store.bucket, key))
    assert store.etag(key) == store.expected(sample.etag, sample)
    manager.run(S3Url(store.bucket, key), LocalPath(out))

    assert file_md5(out) == sample.md5
    assert store.pending(prefix) == []
    seen = proxy.exchanges[before:]
    assert seen and all(e.faults == ("HeaderCase",) for e in seen), seen


@pytest.mark.parametrize("style", ["lower", "upper"])
@pytest.mark.parametrize("size", ["1B", f"{_T}+1"])
def test_upload_download_with_header_names_recased(
    store: Store, corpus: dict[str, Sample], prefix: str, size: str, style: str, tmp_path: Path
) -> None:
    sample = corpus[size]
    key = f"{prefix}object.bin"
    out = tmp_path / "object.bin"
    with FaultProxy(store.backend.endpoint) as proxy:
        fault = proxy.add_fault(HeaderCase(style), times=None)  # type: ignore[arg-type]
        session = store.backend.behind(proxy.url).session()
        manager = TransferManager(session, config=TransferConfig(journal_dir=tmp_path / "j"))
        manager.run(LocalPath(sample.path), S3Url(store.bucket, key))
        manager.run(S3Url(store.bucket, key), LocalPath(out))
    assert fault.faulted > 0
    assert store.etag(key) == store.expected(sample.etag, sample)
    assert file_md5(out) == sample.md5
    assert store.pending(prefix) == []


# -- server-side copy -----------------------------------------------------------------------------


@MEDIUM_CASES
def test_server_side_copy(
    store: Store,
    corpus: dict[str, Sample],
    seeded: dict[str, str],
    prefix: str,
    size: str,
    verify: bool,
    cli: CliInvoker,
) -> None:
    sample = corpus[size]
    key = f"{prefix}copy.bin"
    source = store.url(seeded[size])

    ok(cli("cp", "--no-progress", *verify_flag(verify), source, store.url(key),
           env=store.backend.env()))  # fmt: skip

    # One CopyObject gives a new single-part ETag (the MD5), or keeps the source's; parts
    # copied one by one give the MD5 of their MD5s, in s3kit's part size.
    etag = store.etag(key)
    assert etag in {single_etag(sample.md5), store.expected(sample.etag, sample)}
    if etag != single_etag(sample.md5):  # else the server's own MD5 of the copy proves it
        assert store.md5(key) == sample.md5
    assert store.pending(prefix) == []


# -- one-way sync, both ways ----------------------------------------------------------------------


@MEDIUM_CASES
def test_sync_up_then_down(
    store: Store,
    corpus: dict[str, Sample],
    prefix: str,
    size: str,
    verify: bool,
    cli: CliInvoker,
    tmp_path: Path,
) -> None:
    sample = corpus[size]
    up, down = tmp_path / "up", tmp_path / "down"
    link(sample, up / "dir" / "data.bin")
    flags = ["--no-progress", *verify_flag(verify)]
    remote = store.url(f"{prefix}tree/")

    ok(cli("sync", *flags, str(up), remote, env=store.backend.env()))
    assert store.etag(f"{prefix}tree/dir/data.bin") == store.expected(sample.etag, sample)
    assert store.pending(prefix) == []

    ok(cli("sync", *flags, remote, str(down), env=store.backend.env()))
    got = down / "dir" / "data.bin"
    assert got.stat().st_size == sample.size
    assert file_md5(got) == sample.md5
    assert leftovers(got.parent) == []

    again = ok(cli("sync", *flags, "--json", str(up), remote, env=store.backend.env()))
    assert json.loads(again.stdout)["transferred"] == 0, again.stdout


# -- two-way sync ---------------------------------------------------------------------------------


@MEDIUM_CASES
def test_two_way_sync(
    store: Store,
    corpus: dict[str, Sample],
    seeded: dict[str, str],
    prefix: str,
    size: str,
    verify: bool,
    cli: CliInvoker,
    tmp_path: Path,
) -> None:
    require(store.backend, CONDITIONAL_WRITES)
    sample = corpus[size]
    local = tmp_path / "local"
    remote = f"{prefix}pre"
    flags = ["--no-progress", *verify_flag(verify)]

    def bisync(*more: str) -> CliResult:
        return ok(cli("sync", "--bidirectional", *flags, *more, str(local),
                      store.url(remote), env=store.backend.env()))  # fmt: skip

    # Both sides empty: the first run (--resync, which never deletes) only records them, so
    # the transfers below go the normal, conditional way (If-None-Match: a new key).
    local.mkdir()
    bisync("--resync")
    link(sample, local / "sub" / "here.bin")
    store.server_copy(seeded[size], f"{remote}/sub/there.bin")

    bisync()

    assert store.etag(f"{remote}/sub/here.bin") == store.expected(sample.etag, sample)
    got = local / "sub" / "there.bin"
    assert got.stat().st_size == sample.size
    assert file_md5(got) == sample.md5
    assert store.pending(prefix) == []
    assert leftovers(local / "sub") == []


def _has_conditional_writes(store: Store, prefix: str) -> bool:
    from s3kit.service.probe import CHECKS, ProbeContext  # the check `s3kit probe` runs

    (check,) = [c for name, c in CHECKS if name.startswith("conditional write")]
    try:
        check(ProbeContext(S3Service(store.session), store.bucket))
    except S3KitError:
        return False
    finally:
        store.remove("probe/")
    return True


def _has_content_md5_check(store: Store, prefix: str) -> bool:
    wrong = base64.b64encode(hashlib.md5(b"other bytes", usedforsecurity=False).digest())
    try:
        store.s3.put_object(
            Bucket=store.bucket, Key=f"{prefix}md5", Body=b"these bytes", ContentMD5=wrong.decode()
        )
    except ClientError:
        return True
    return False


def _has_multipart_etag(store: Store, prefix: str) -> bool:
    key = f"{prefix}multipart"
    upload = store.s3.create_multipart_upload(Bucket=store.bucket, Key=key)["UploadId"]
    part = store.s3.upload_part(
        Bucket=store.bucket, Key=key, UploadId=upload, PartNumber=1, Body=b"one small last part"
    )
    store.s3.complete_multipart_upload(
        Bucket=store.bucket, Key=key, UploadId=upload,
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]},
    )  # fmt: skip
    return store.etag(key) == multipart_etag([md5_hex(b"one small last part")])


@pytest.mark.parametrize(
    ("feature", "has"),
    [
        (CONDITIONAL_WRITES, _has_conditional_writes),
        (CONTENT_MD5, _has_content_md5_check),
        (MULTIPART_ETAG, _has_multipart_etag),
    ],
    ids=["conditional-writes", "content-md5", "multipart-etag"],
)
def test_known_gaps_are_still_true(
    store: Store, prefix: str, feature: str, has: Callable[[Store, str], bool]
) -> None:
    """KNOWN_GAPS is what the server does: a server upgrade that fills a gap shows here."""
    assert has(store, prefix) == (feature not in KNOWN_GAPS.get(store.backend.name, {}))


# -- faults ---------------------------------------------------------------------------------------

OLD = b"the previous object at this key, which a failed upload must leave as it was\n"
# Multipart from 5 MiB in 5 MiB parts: the 8 MiB+1 sample goes up in two parts.
SMALL_PARTS = {"multipart_threshold": 5 * MiB, "multipart_chunksize": 5 * MiB}
SHAPES = {
    "single": ("5MiB-1", {}),
    "multipart": ("8MiB+1", SMALL_PARTS),
}


@pytest.fixture
def proxy(store: Store) -> Iterator[FaultProxy]:
    with FaultProxy(store.backend.endpoint) as running:
        yield running


def through(proxy: FaultProxy, store: Store, **options: object) -> Session:
    # Few retries: a fault that keeps firing fails the transfer quickly.
    return store.backend.behind(proxy.url).session(**{"max_retries": 2, **options})


def manager(session: Session, tmp_path: Path, **config: object) -> TransferManager:
    settings: dict[str, Any] = {"journal_dir": tmp_path / "journal", **config}
    return TransferManager(session, config=TransferConfig(**settings))


@pytest.mark.parametrize("shape", SHAPES)
def test_damaged_upload_fails_and_keeps_the_old_object(
    store: Store,
    corpus: dict[str, Sample],
    proxy: FaultProxy,
    prefix: str,
    shape: str,
    tmp_path: Path,
) -> None:
    if shape == "single":
        require(store.backend, CONTENT_MD5)
    size, config = SHAPES[shape]
    sample = corpus[size]
    key = f"{prefix}object.bin"
    store.put(key, OLD)
    body = (
        matching(method="PUT", has_body=True)
        if shape == "single"
        else matching(method="PUT", query="partNumber", has_body=True)
    )
    fault = proxy.add_fault(FlipByte("request"), match=body, times=None)  # every retry too

    with pytest.raises(S3KitError):
        manager(through(proxy, store), tmp_path, **config).run(
            LocalPath(sample.path), S3Url(store.bucket, key)
        )

    assert fault.faulted >= 1
    assert store.get(key) == OLD
    assert store.pending(prefix) == []


RESETS = {
    "part-before-server": (Reset("request"), matching(method="PUT", query="partNumber"), 2),
    "part-after-server": (Reset("response"), matching(method="PUT", query="partNumber"), 1),
    "complete-after-server": (Reset("response"), matching(method="POST", query="uploadId"), 1),
}


@pytest.mark.parametrize("where", RESETS)
def test_reset_during_multipart_upload_is_retried_or_fails_cleanly(
    store: Store,
    corpus: dict[str, Sample],
    proxy: FaultProxy,
    prefix: str,
    where: str,
    tmp_path: Path,
) -> None:
    sample = corpus["8MiB+1"]
    key = f"{prefix}object.bin"
    store.put(key, OLD)
    action, match, nth = RESETS[where]
    fault = proxy.add_fault(action, match=match, nth=nth)

    try:
        manager(through(proxy, store, max_retries=4), tmp_path, **SMALL_PARTS).run(
            LocalPath(sample.path), S3Url(store.bucket, key)
        )
        failed = None
    except S3KitError as exc:
        failed = exc

    assert fault.faulted == 1
    assert store.pending(prefix) == [], failed
    etag = store.etag(key)
    new = store.expected(sample.etag_in_parts(5 * MiB), sample)
    if failed is None:
        assert etag == new
    else:
        # The server may have completed the upload before the client lost the answer.
        assert etag in {single_etag(md5_hex(OLD)), new}, failed


def test_200_error_on_complete_is_not_a_success(
    store: Store, corpus: dict[str, Sample], proxy: FaultProxy, prefix: str, tmp_path: Path
) -> None:
    """CompleteMultipartUpload may fail after S3 has sent `200 OK`: the error is in the body."""
    sample = corpus["8MiB+1"]
    key = f"{prefix}object.bin"
    store.put(key, OLD)
    fault = proxy.add_fault(
        ErrorReply("InternalError"), match=matching(method="POST", query="uploadId")
    )

    try:
        manager(through(proxy, store, max_retries=4), tmp_path, **SMALL_PARTS).run(
            LocalPath(sample.path), S3Url(store.bucket, key)
        )
        failed = None
    except S3KitError as exc:
        failed = exc

    assert fault.faulted == 1
    assert store.pending(prefix) == [], failed
    if failed is None:  # reported done: it must be, with the right bytes
        assert store.etag(key) == store.expected(sample.etag_in_parts(5 * MiB), sample)
    else:
        assert store.get(key) == OLD


def test_200_error_on_copy_is_not_a_success(
    store: Store, corpus: dict[str, Sample], proxy: FaultProxy, prefix: str, tmp_path: Path
) -> None:
    """CopyObject, too, reports a late failure as `200 OK` with an <Error> body."""
    source, key = f"{prefix}source.bin", f"{prefix}copy.bin"
    store.put(source, corpus["1B"].path.read_bytes() * 3)
    store.put(key, OLD)
    fault = proxy.add_fault(ErrorReply("InternalError"), match=matching(
        method="PUT", header="x-amz-copy-source"))  # fmt: skip

    try:
        manager(through(proxy, store, max_retries=4), tmp_path).run(
            S3Url(store.bucket, source), S3Url(store.bucket, key)
        )
        failed = None
    except S3KitError as exc:
        failed = exc

    assert fault.faulted == 1
    if failed is None:
        assert store.get(key) == store.get(source)
    else:
        assert store.get(key) == OLD


DOWNLOAD_FAULTS: dict[str, Action] = {
    "truncated": Truncate(),
    "damaged": FlipByte("response"),
}


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("fault_name", DOWNLOAD_FAULTS)
def test_failed_download_keeps_the_old_file(
    store: Store,
    corpus: dict[str, Sample],
    proxy: FaultProxy,
    prefix: str,
    shape: str,
    fault_name: str,
    tmp_path: Path,
) -> None:
    """Every GET of the object is cut short or damaged: the download fails, and the file it
    was to replace is untouched, with no temporary file left beside it."""
    size, config = SHAPES[shape]
    sample = corpus[size]
    key = f"{prefix}object.bin"
    manager(store.session, tmp_path, **config).run(LocalPath(sample.path), S3Url(store.bucket, key))
    target = tmp_path / "down" / "object.bin"
    target.parent.mkdir()
    target.write_bytes(OLD)
    fault = proxy.add_fault(DOWNLOAD_FAULTS[fault_name], match=matching(method="GET", path=key),
                            times=None)  # fmt: skip

    with pytest.raises(S3KitError):
        manager(through(proxy, store), tmp_path, **config).run(
            S3Url(store.bucket, key), LocalPath(target)
        )

    assert fault.faulted >= 1
    assert target.read_bytes() == OLD
    assert leftovers(target.parent) == []


@pytest.mark.parametrize("fault_name", DOWNLOAD_FAULTS)
def test_one_bad_response_is_retried(
    store: Store,
    corpus: dict[str, Sample],
    proxy: FaultProxy,
    prefix: str,
    fault_name: str,
    tmp_path: Path,
) -> None:
    """Only the first GET is cut short or damaged: a retry gets the right bytes, or the
    download fails leaving nothing."""
    sample = corpus["8MiB+1"]
    key = f"{prefix}object.bin"
    manager(store.session, tmp_path, **SMALL_PARTS).run(
        LocalPath(sample.path), S3Url(store.bucket, key)
    )
    target = tmp_path / "down" / "object.bin"
    target.parent.mkdir()
    fault = proxy.add_fault(DOWNLOAD_FAULTS[fault_name], match=matching(method="GET", path=key))

    try:
        manager(through(proxy, store, max_retries=4), tmp_path, **SMALL_PARTS).run(
            S3Url(store.bucket, key), LocalPath(target)
        )
    except S3KitError:
        assert not target.exists()
    else:
        assert file_md5(target) == sample.md5
    assert fault.faulted == 1
    assert leftovers(target.parent) == []
