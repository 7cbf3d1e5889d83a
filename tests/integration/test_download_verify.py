"""Downloads of objects other tools wrote are verified against whatever checksum they carry, a
byte flipped in transit fails the copy with nothing written, and a download that cannot be
verified says so (`verified` in `cp --json`, a count in the summary). Also: an interrupted
download is resumed by a rerun from another working directory.

The objects are made with boto3 the way other tools make them: single PUTs with an additional
checksum (what the SDKs send), a multipart upload with CRC32 (what aws-cli does: a COMPOSITE
checksum, "<base64>-<parts>"), and a multipart upload with rclone's `md5chksum` metadata. The
flipped byte comes from the fault proxy (tests/integration/proxy.py) between s3kit and the server.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from botocore.config import Config

from s3kit._uri import LocalPath, S3Url
from s3kit.transfer import TransferManager
from s3kit.transfer.checksum import crc64
from tests.conftest import Backend, CliInvoker
from tests.integration.known_gaps import known_gap
from tests.integration.proxy import Fault, FaultProxy, FlipByte, Request
from tests.integration.test_cli_transfer import (
    RESUMABLE,
    _cli_env,
    _killed_after_parts,
    _resume_with_library,
)
from tests.integration.transfer_support import (
    PART,
    journal_files,
    leftovers,
    payload,
    small_parts,
    write_file,
)

MiB = 1024 * 1024
SMALL_PARTS = ("--part-size", "5MiB", "--multipart-threshold", "5MiB")

# What each backend keeps and reports back (HEAD/GET with x-amz-checksum-mode: ENABLED), as
# seen with moto 5.2 and SeaweedFS 4.48. Both store every additional checksum of a single PUT,
# and the COMPOSITE CRC32 of a multipart upload. Not listed: moto computes a composite CRC32C
# with the CRC32 function (its value is wrong), and its HEAD drops the composite's "-N" and
# x-amz-checksum-type (s3kit infers them from the multipart ETag).
SUPPORTED: dict[str, set[str]] = {
    "moto": {"CRC32", "CRC32C", "SHA1", "SHA256", "CRC64NVME", "COMPOSITE-CRC32"},
    "seaweedfs": {"CRC32", "CRC32C", "SHA1", "SHA256", "CRC64NVME", "COMPOSITE-CRC32"},
}
# The three download paths: in memory (< 8 MiB), one streamed GET (below the multipart
# threshold), parallel ranges (from the threshold up, 5 MiB here).
PATHS = {"memory": (), "streamed": (), "ranged": SMALL_PARTS}
SIZES = {"memory": 1000, "streamed": 9 * MiB + 7, "ranged": 11 * MiB + 3}


def raw_client(backend: Backend) -> Any:
    """A boto3 client that adds no checksum of its own (botocore >= 1.36 sends CRC32 by
    default), so each object carries exactly what the test asks for."""
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=backend.endpoint,
        aws_access_key_id=backend.access_key,
        aws_secret_access_key=backend.secret_key,
        region_name="us-east-1",
        config=Config(
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        ),
    )


def need(backend: Backend, feature: str) -> None:
    if feature not in SUPPORTED[backend.name]:
        pytest.skip(f"{backend.name} does not keep {feature} checksums (see SUPPORTED)")


def multipart(client: Any, bucket: str, key: str, parts: list[bytes], **create: Any) -> None:
    algorithm = create.get("ChecksumAlgorithm")
    upload = client.create_multipart_upload(Bucket=bucket, Key=key, **create)
    done = []
    for number, body in enumerate(parts, 1):
        extra = {"ChecksumAlgorithm": algorithm} if algorithm else {}
        answer = client.upload_part(
            Bucket=bucket, Key=key, UploadId=upload["UploadId"], PartNumber=number, Body=body,
            **extra,
        )  # fmt: skip
        part = {"PartNumber": number, "ETag": answer["ETag"]}
        if algorithm:
            part[f"Checksum{algorithm}"] = answer[f"Checksum{algorithm}"]
        done.append(part)
    client.complete_multipart_upload(
        Bucket=bucket, Key=key, UploadId=upload["UploadId"], MultipartUpload={"Parts": done}
    )


def composite_parts(size: int) -> list[int]:
    """Part sizes for a `size`-byte composite object: uneven, so that neither s3kit's 5 MiB
    ranges nor an even split would line up with them."""
    if size < PART:
        return [size]
    first = PART + 12345
    rest = size - first
    return [first, rest] if rest <= PART else [first, PART, rest - PART]


# -- a proxy that damages object bodies ---------------------------------------------------------


def _object_get(request: Request) -> bool:
    """A GET of an object's bytes: no query (not a listing, not GetObjectAttributes)."""
    return request.method == "GET" and not request.query


@dataclass
class Damaging:
    proxy: FaultProxy
    flip: Fault  # one byte of every object GET's body inverted

    @property
    def url(self) -> str:
        return self.proxy.url


@pytest.fixture
def flipping(backend: Backend) -> Iterator[Damaging]:
    with FaultProxy(backend.endpoint) as proxy:
        yield Damaging(proxy, proxy.add_fault(FlipByte("response"), match=_object_get, times=None))


def via(backend: Backend, proxy: Damaging) -> dict[str, str]:
    return {**backend.env(), "S3KIT_ENDPOINT_URL": proxy.url}


def fetch(
    cli: CliInvoker, env: dict[str, str], url: str, target: Path, *flags: str
) -> tuple[int, dict[str, Any], str]:
    result = cli("cp", url, str(target), "--json", *flags, env=env)
    report = json.loads(result.stdout) if result.stdout.strip() else {}
    return result.exit_code, report, result.stderr


def assert_verified_and_refused_when_damaged(
    cli: CliInvoker,
    backend: Backend,
    proxy: Damaging,
    url: str,
    data: bytes,
    tmp_path: Path,
    flags: tuple[str, ...],
    label: str,
    named: str,
) -> None:
    """Through `proxy`, the copy of `url` fails with a mismatch of the check `named`, leaving
    nothing behind; downloaded straight, it is verified with `label`."""
    out = tmp_path / "out"
    out.mkdir()
    # Through the proxy that flips a byte: refused, nothing at the destination.
    code, _, stderr = fetch(cli, via(backend, proxy), url, out / "bad.bin", *flags)
    assert proxy.flip.faulted >= 1
    assert code != 0, stderr
    assert f"does not match its {named}" in stderr, stderr
    assert not (out / "bad.bin").exists()
    assert leftovers(out) == []

    # The damage is real: without verification it gets written.
    code, _, stderr = fetch(
        cli, via(backend, proxy), url, out / "unchecked.bin", *flags, "--no-verify"
    )
    assert code == 0, stderr
    damaged = (out / "unchecked.bin").read_bytes()
    assert len(damaged) == len(data) and damaged != data

    # Straight from the server: copied, and verified with the check expected.
    code, report, stderr = fetch(cli, backend.env(), url, out / "good.bin", *flags)
    assert code == 0, stderr
    assert (out / "good.bin").read_bytes() == data
    assert [t["verified"] for t in report["results"]] == [label], report
    assert report["unverified"] == 0


# -- checksums of single PUTs -------------------------------------------------------------------


@pytest.mark.parametrize("path", list(PATHS))
@pytest.mark.parametrize("algorithm", ["CRC32", "CRC32C", "SHA1", "SHA256", "CRC64NVME"])
def test_additional_checksums_are_verified(
    cli: CliInvoker,
    backend: Backend,
    bucket: str,
    flipping: Damaging,
    tmp_path: Path,
    algorithm: str,
    path: str,
) -> None:
    need(backend, algorithm)
    data = payload(SIZES[path], seed=len(algorithm))
    raw_client(backend).put_object(
        Bucket=bucket, Key="obj.bin", Body=data, ChecksumAlgorithm=algorithm
    )
    # Single-part, so its ETag is an MD5 too; the object's own checksum comes with the GET
    # (checksum mode) and is the one checked, at every size.
    assert_verified_and_refused_when_damaged(
        cli, backend, flipping, f"s3://{bucket}/obj.bin", data, tmp_path, PATHS[path],
        algorithm.lower(), f"x-amz-checksum-{algorithm.lower()}",
    )  # fmt: skip


# -- aws-cli's multipart objects: COMPOSITE CRC32 -----------------------------------------------


@pytest.mark.parametrize("path", list(PATHS))
def test_composite_crc32_of_a_multipart_object_is_verified(
    cli: CliInvoker, backend: Backend, bucket: str, flipping: Damaging, tmp_path: Path, path: str
) -> None:
    need(backend, "COMPOSITE-CRC32")
    data = payload(SIZES[path] if path != "memory" else 3000, seed=41)
    sizes = composite_parts(len(data))
    bodies, start = [], 0
    for size in sizes:
        bodies.append(data[start : start + size])
        start += size
    client = raw_client(backend)
    multipart(client, bucket, "mp.bin", bodies, ChecksumAlgorithm="CRC32")
    etag = client.head_object(Bucket=bucket, Key="mp.bin")["ETag"]
    assert etag.strip('"').endswith(f"-{len(sizes)}")  # not an MD5: only the CRC32 can check it

    assert_verified_and_refused_when_damaged(
        cli, backend, flipping, f"s3://{bucket}/mp.bin", data, tmp_path, PATHS[path],
        "crc32-composite", "x-amz-checksum-crc32 (COMPOSITE)",
    )  # fmt: skip


# -- rclone's md5chksum -------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["streamed", "ranged"])
def test_rclone_md5chksum_metadata_is_verified(
    cli: CliInvoker, backend: Backend, bucket: str, flipping: Damaging, tmp_path: Path, path: str
) -> None:
    data = payload(SIZES[path], seed=43)
    md5 = base64.b64encode(hashlib.md5(data, usedforsecurity=False).digest()).decode()
    multipart(
        raw_client(backend), bucket, "rc.bin", [data[:PART], data[PART:]],
        Metadata={"md5chksum": md5},
    )  # fmt: skip

    assert_verified_and_refused_when_damaged(
        cli, backend, flipping, f"s3://{bucket}/rc.bin", data, tmp_path, PATHS[path],
        "md5chksum", "md5chksum metadata (rclone)",
    )  # fmt: skip


# -- nothing to verify against ------------------------------------------------------------------


@pytest.mark.parametrize("path", list(PATHS))
def test_a_multipart_etag_is_recomputed_from_the_parts(
    cli: CliInvoker, backend: Backend, bucket: str, flipping: Damaging, tmp_path: Path, path: str
) -> None:
    """A multipart object with no checksum at all (as aws-cli wrote them before 2025): its
    ETag is recomputed from the MD5s of its parts, their sizes asked of the store."""
    data = payload(SIZES[path] if path != "memory" else PART + 100, seed=43)
    multipart(raw_client(backend), bucket, "plain.bin", [data[:PART], data[PART:]])
    assert_verified_and_refused_when_damaged(
        cli, backend, flipping, f"s3://{bucket}/plain.bin", data, tmp_path, PATHS[path],
        "md5-composite", "multipart ETag",
    )  # fmt: skip


def test_a_download_that_cannot_be_verified_says_so(
    cli: CliInvoker, backend: Backend, bucket: str, tmp_path: Path
) -> None:
    """An SSE-C object's ETag is no MD5, and it carries no checksum: nothing to check."""
    gap = known_gap(backend, "SSE-C")
    if gap is not None:
        pytest.skip(gap)
    key = bytes(range(32))
    key_file = tmp_path / "sse-c.key"
    key_file.write_bytes(key)
    sse = {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": key}
    data = payload(PART + 100, seed=44)
    client = raw_client(backend)
    upload = client.create_multipart_upload(Bucket=bucket, Key="sealed/plain.bin", **sse)
    parts = []
    for number, body in enumerate([data[:PART], data[PART:]], 1):
        answer = client.upload_part(
            Bucket=bucket, Key="sealed/plain.bin", UploadId=upload["UploadId"],
            PartNumber=number, Body=body, **sse,
        )  # fmt: skip
        parts.append({"PartNumber": number, "ETag": answer["ETag"]})
    client.complete_multipart_upload(
        Bucket=bucket, Key="sealed/plain.bin", UploadId=upload["UploadId"],
        MultipartUpload={"Parts": parts},
    )  # fmt: skip
    out = tmp_path / "out"
    sealed = ("--sse-c-key-file", str(key_file))

    result = cli("cp", "-r", f"s3://{bucket}/sealed/", str(out), "--json", *sealed,
                 env=backend.env())  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert (out / "plain.bin").read_bytes() == data
    report = json.loads(result.stdout)
    assert [t["verified"] for t in report["results"]] == [""], report
    assert report["unverified"] == 1

    text = cli("cp", f"s3://{bucket}/sealed/plain.bin", str(out / "again.bin"), *sealed,
               env=backend.env())  # fmt: skip
    assert text.exit_code == 0, text.stderr
    assert "1 of 1 downloaded files could not be verified" in text.stderr, text.stderr


def test_crc64nvme_metadata_still_comes_first(
    cli: CliInvoker, backend: Backend, bucket: str, tmp_path: Path
) -> None:
    """An s3kit upload's own CRC64NVME is what its download checks (no extra request needed)."""
    data = payload(2000, seed=45)
    source = write_file(tmp_path / "mine.bin", data)
    assert cli("cp", str(source), f"s3://{bucket}/mine.bin", env=backend.env()).exit_code == 0
    code, report, stderr = fetch(cli, backend.env(), f"s3://{bucket}/mine.bin", tmp_path / "d")
    assert code == 0, stderr
    assert [t["verified"] for t in report["results"]] == ["crc64nvme"]
    assert crc64((tmp_path / "d").read_bytes()) == crc64(data)


# -- resuming from another working directory ----------------------------------------------------


def test_killed_download_resumes_from_another_working_directory(
    backend: Backend, bucket: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = payload(RESUMABLE, seed=46)
    TransferManager(backend.session(), config=small_parts(tmp_path / "up-journal")).run(
        LocalPath(write_file(tmp_path / "up" / "big.bin", data)), S3Url(bucket, "big.bin")
    )
    first, second = tmp_path / "first", tmp_path / "second"
    (first / "down").mkdir(parents=True)
    second.mkdir()
    journal = tmp_path / "state" / "s3kit" / "journal"
    monkeypatch.chdir(first)  # the killed process starts here, with a relative destination
    args = [f"s3://{bucket}/big.bin", "down/out.bin", *SMALL_PARTS, "--part-concurrency", "1",
            "--bwlimit", "4MiB"]  # fmt: skip

    entry = _killed_after_parts(args, _cli_env(backend, tmp_path / "state"), journal, "download", 2)

    assert Path(entry["temp_path"]).is_absolute(), entry["temp_path"]
    # The same file, named from elsewhere.
    monkeypatch.chdir(second)
    target = Path("../first/down/out.bin")
    progress = _resume_with_library(backend, journal, S3Url(bucket, "big.bin"), LocalPath(target))

    out = first / "down" / "out.bin"
    assert out.read_bytes() == data
    assert leftovers(first / "down") == []
    assert journal_files(journal) == []
    done = entry["parts"]
    assert progress[0].bytes == sum(part["size"] for part in done.values())  # resumed at once
    assert len(progress) == 1 + 4 - len(done)
