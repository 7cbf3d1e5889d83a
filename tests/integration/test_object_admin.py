"""`s3kit object ...`, `s3kit cost` and `s3kit multipart ...` against the real servers.

Versioned tests enable versioning with boto3 first; Glacier restore runs on moto only (the
stand-in for AWS-only APIs); SSE-C rotation runs where SSE-C works, and elsewhere checks that
the gap listed in tests/integration/known_gaps.py is still there.
"""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path
from typing import Any

import pytest

from s3kit.service import S3Service
from tests.conftest import Backend, CliInvoker, unique_bucket_name
from tests.integration.cli_support import assert_failed, assert_usage_error, get, keys, put
from tests.integration.known_gaps import known_gap


def client(backend: Backend) -> Any:
    return backend.session().client("s3")


def run_ok(cli: CliInvoker, backend: Backend, *args: str) -> str:
    result = cli(*args, env=backend.env())
    assert result.exit_code == 0, (result.stdout, result.stderr)
    return result.stdout


@pytest.fixture
def versioned(backend: Backend, bucket: str) -> str:
    client(backend).put_bucket_versioning(
        Bucket=bucket, VersioningConfiguration={"Status": "Enabled"}
    )
    return bucket


# -- head and metadata -------------------------------------------------------------------------


def test_head_prints_all_metadata(cli: CliInvoker, backend: Backend, bucket: str) -> None:
    client(backend).put_object(
        Bucket=bucket, Key="a.txt", Body=b"hello", ContentType="text/plain", Metadata={"x": "1"}
    )
    info = json.loads(run_ok(cli, backend, "object", "head", f"s3://{bucket}/a.txt", "--json"))
    assert info["ContentLength"] == 5
    assert info["ContentType"] == "text/plain"
    assert info["Metadata"] == {"x": "1"}
    assert "ResponseMetadata" not in info
    assert "ContentLength: 5" in run_ok(cli, backend, "object", "head", f"s3://{bucket}/a.txt")


def test_head_of_missing_object_fails(cli: CliInvoker, backend: Backend, bucket: str) -> None:
    result = cli("object", "head", f"s3://{bucket}/missing.txt", env=backend.env())
    assert_failed(result)
    assert "does not exist" in result.stderr


def test_metadata_set_merges_and_keeps_content_headers(
    cli: CliInvoker, backend: Backend, bucket: str
) -> None:
    client(backend).put_object(
        Bucket=bucket,
        Key="m.txt",
        Body=b"body",
        ContentType="text/csv",
        Metadata={"a": "1", "b": "2"},
    )
    url = f"s3://{bucket}/m.txt"
    out = run_ok(
        cli, backend, "object", "metadata", "set", url,
        "--metadata", "b=3", "--metadata", "c=4", "--cache-control", "max-age=60", "--json",
    )  # fmt: skip
    assert json.loads(out)["Metadata"] == {"a": "1", "b": "3", "c": "4"}
    head = client(backend).head_object(Bucket=bucket, Key="m.txt")
    assert head["Metadata"] == {"a": "1", "b": "3", "c": "4"}
    assert head["ContentType"] == "text/csv"
    assert head["CacheControl"] == "max-age=60"
    assert get(backend, bucket, "m.txt") == b"body"

    run_ok(cli, backend, "object", "metadata", "set", url, "--metadata", "z=9", "--replace")
    head = client(backend).head_object(Bucket=bucket, Key="m.txt")
    assert head["Metadata"] == {"z": "9"}
    assert head["ContentType"] == "text/csv"
    assert head["CacheControl"] == "max-age=60"


def test_metadata_set_rejects_bad_pairs(cli: CliInvoker, moto: Backend) -> None:
    url = "s3://no-such-bucket/m.txt"
    env = moto.env()
    assert_usage_error(cli("object", "metadata", "set", url, "--metadata", "novalue", env=env))
    assert_usage_error(cli("object", "metadata", "set", url, env=env))


# -- tags --------------------------------------------------------------------------------------


def test_tags_set_get_delete(cli: CliInvoker, backend: Backend, bucket: str) -> None:
    put(backend, bucket, {"t.txt": b"x"})
    url = f"s3://{bucket}/t.txt"
    run_ok(cli, backend, "object", "tags", "set", url, "team=data", "env=prod")
    tags = json.loads(run_ok(cli, backend, "object", "tags", "get", url, "--json"))
    assert tags == {"team": "data", "env": "prod"}
    run_ok(cli, backend, "object", "tags", "delete", url)
    assert json.loads(run_ok(cli, backend, "object", "tags", "get", url, "--json")) == {}


def test_tags_set_rejects_too_many(cli: CliInvoker, moto: Backend) -> None:
    pairs = [f"k{i}=v" for i in range(11)]
    result = cli("object", "tags", "set", "s3://no-such-bucket/t.txt", *pairs, env=moto.env())
    assert_usage_error(result)


# -- copy, move, delete-many -------------------------------------------------------------------


def test_copy_within_and_between_buckets(
    cli: CliInvoker, backend: Backend, bucket: str, other_bucket: str
) -> None:
    put(backend, bucket, {"src/a.bin": b"A" * 1000})
    run_ok(cli, backend, "object", "copy", f"s3://{bucket}/src/a.bin", f"s3://{bucket}/b.bin")
    run_ok(cli, backend, "object", "copy", f"s3://{bucket}/src/a.bin", f"s3://{other_bucket}/in/")
    assert get(backend, bucket, "b.bin") == b"A" * 1000
    assert get(backend, other_bucket, "in/a.bin") == b"A" * 1000
    assert keys(backend, bucket) == ["b.bin", "src/a.bin"]


def test_move_deletes_the_source(
    cli: CliInvoker, backend: Backend, bucket: str, other_bucket: str
) -> None:
    put(backend, bucket, {"a.txt": b"moved"})
    out = run_ok(
        cli, backend, "object", "move", f"s3://{bucket}/a.txt", f"s3://{other_bucket}/z.txt"
    )
    assert out.startswith("move: ")
    assert keys(backend, bucket) == []
    assert get(backend, other_bucket, "z.txt") == b"moved"


def test_move_of_missing_object_fails(cli: CliInvoker, backend: Backend, bucket: str) -> None:
    result = cli("object", "move", f"s3://{bucket}/nope", f"s3://{bucket}/x", env=backend.env())
    assert_failed(result)


def test_delete_many_batches_keys_from_args_and_file(
    cli: CliInvoker, backend: Backend, bucket: str, tmp_path: Path
) -> None:
    put(backend, bucket, {"a": b"1", "b c": b"2", "keep": b"3"})
    # 1,000 keys that do not exist: S3 reports them deleted, and they force a second request.
    listing = tmp_path / "keys.txt"
    listing.write_text("b c\n\n" + "\n".join(f"gone/{i}" for i in range(1000)) + "\n")
    out = run_ok(
        cli, backend, "object", "delete-many", f"s3://{bucket}", "a", "--from-file", str(listing),
        "--json",
    )  # fmt: skip
    report = json.loads(out)
    assert (report["deleted"], report["failed"]) == (1002, 0)
    assert {(r["action"], r["status"], r["error"]) for r in report["results"]} == {
        ("delete", "done", None)
    }
    deleted = {r["source"] for r in report["results"]}
    assert {f"s3://{bucket}/{k}" for k in ("a", "b c", "gone/999")} <= deleted
    assert keys(backend, bucket) == ["keep"]


def test_delete_many_needs_keys(cli: CliInvoker, moto: Backend) -> None:
    assert_usage_error(cli("object", "delete-many", "s3://no-such-bucket", env=moto.env()))


# -- presigned POST ----------------------------------------------------------------------------


def _post_form(url: str, fields: dict[str, str], body: bytes, content_type: str) -> int:
    import urllib.error
    import urllib.request

    boundary = uuid.uuid4().hex
    parts = []
    for name, value in {**fields, "Content-Type": content_type}.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        )
    data = "".join(parts).encode()
    data += (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="f"\r\n'
        f"Content-Type: {content_type}\r\n\r\n"
    ).encode()
    data += body + f"\r\n--{boundary}--\r\n".encode()
    request = urllib.request.Request(  # noqa: S310 - loopback test server
        url, data=data, headers={"Content-Type": f"multipart/form-data; boundary={boundary}"}
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


def test_presign_post_uploads_within_the_conditions(
    cli: CliInvoker, backend: Backend, bucket: str
) -> None:
    out = run_ok(
        cli, backend, "object", "presign-post", f"s3://{bucket}/up/avatar.png",
        "--expires-in", "600", "--content-length-range", "1", "100",
        "--content-type-prefix", "image/",
    )  # fmt: skip
    form = json.loads(out)
    assert set(form) == {"url", "fields"}
    assert form["fields"]["key"] == "up/avatar.png"
    assert "policy" in form["fields"]
    status = _post_form(form["url"], form["fields"], b"PNGDATA", "image/png")
    assert status in (200, 201, 204), status
    assert get(backend, bucket, "up/avatar.png") == b"PNGDATA"


@pytest.mark.parametrize("seconds", ["0", str(7 * 24 * 3600 + 1)])
def test_presign_post_rejects_expiry_out_of_range(
    cli: CliInvoker, moto: Backend, seconds: str
) -> None:
    result = cli(
        "object", "presign-post", "s3://no-such-bucket/k", "--expires-in", seconds, env=moto.env()
    )
    assert_usage_error(result)
    assert "7 days" in result.stderr


# -- versions ----------------------------------------------------------------------------------


def test_versions_get_restore_undelete_delete(
    cli: CliInvoker, backend: Backend, versioned: str, tmp_path: Path
) -> None:
    s3 = client(backend)
    v1 = s3.put_object(Bucket=versioned, Key="doc.txt", Body=b"one")["VersionId"]
    v2 = s3.put_object(Bucket=versioned, Key="doc.txt", Body=b"two")["VersionId"]
    s3.delete_object(Bucket=versioned, Key="doc.txt")
    url = f"s3://{versioned}/doc.txt"

    listed = json.loads(run_ok(cli, backend, "object", "versions", url, "--json"))
    assert [(e["delete_marker"], e["is_latest"]) for e in listed] == [
        (True, True),
        (False, False),
        (False, False),
    ]
    assert [e["version_id"] for e in listed[1:]] == [v2, v1]
    text = run_ok(cli, backend, "object", "versions", url)
    assert "DELETE-MARKER" in text and v1 in text

    run_ok(cli, backend, "object", "undelete", url)
    assert get(backend, versioned, "doc.txt") == b"two"

    dest = tmp_path / "old.txt"
    run_ok(cli, backend, "object", "get", url, "--version-id", v1, str(dest))
    assert dest.read_bytes() == b"one"

    run_ok(cli, backend, "object", "restore-version", url, "--version-id", v1)
    assert get(backend, versioned, "doc.txt") == b"one"

    run_ok(cli, backend, "object", "delete-version", url, "--version-id", v1)
    remaining = json.loads(run_ok(cli, backend, "object", "versions", url, "--json"))
    assert v1 not in [e["version_id"] for e in remaining]
    assert len(remaining) == 2  # the restored copy and v2


def test_undelete_of_live_object_is_refused(
    cli: CliInvoker, backend: Backend, versioned: str
) -> None:
    put(backend, versioned, {"live.txt": b"x"})
    assert_usage_error(cli("object", "undelete", f"s3://{versioned}/live.txt", env=backend.env()))
    assert_failed(cli("object", "undelete", f"s3://{versioned}/never.txt", env=backend.env()))


def test_get_of_missing_version_fails(
    cli: CliInvoker, backend: Backend, versioned: str, tmp_path: Path
) -> None:
    put(backend, versioned, {"a.txt": b"x"})
    result = cli(
        "object", "get", f"s3://{versioned}/a.txt", "--version-id", "nosuchversion",
        str(tmp_path / "out"), env=backend.env(),
    )  # fmt: skip
    assert result.exit_code != 0
    assert not (tmp_path / "out").exists()
    assert [p for p in tmp_path.iterdir() if p.name.startswith(".s3kit-")] == []


@pytest.mark.parametrize("size", [100, 6 * 1024 * 1024 + 7], ids=["whole", "ranged"])
def test_an_old_version_is_downloaded_and_copied_as_that_version(
    backend: Backend, versioned: str, tmp_path: Path, size: int
) -> None:
    """`object get --version-id` is the verified transfer download (ranged when big, pinned
    to that version's ETag), and a server-side copy of a version copies that version."""
    from s3kit._uri import LocalPath, S3Url
    from s3kit.transfer import TransferConfig, TransferEvent, TransferManager

    old, new = os.urandom(size), os.urandom(size)
    s3 = client(backend)
    v1 = s3.put_object(Bucket=versioned, Key="big.bin", Body=old)["VersionId"]
    s3.put_object(Bucket=versioned, Key="big.bin", Body=new)
    events: list[TransferEvent] = []
    small = TransferConfig(
        multipart_threshold=5 * 1024 * 1024,
        multipart_chunksize=5 * 1024 * 1024,
        journal_dir=tmp_path / "journal",
    )
    manager = TransferManager(backend.session(), config=small, on_event=events.append)
    summary = manager.run(S3Url(versioned, "big.bin", v1), LocalPath(tmp_path / "old.bin"))
    assert summary.ok, summary.failures
    assert (tmp_path / "old.bin").read_bytes() == old
    assert [e.verified for e in events if e.kind == "done"] == ["md5"]  # v1's own ETag

    written = S3Service(backend.session()).download_version(
        versioned, "big.bin", v1, tmp_path / "again.bin"
    )
    assert written == size and (tmp_path / "again.bin").read_bytes() == old

    copied = manager.run(S3Url(versioned, "big.bin", v1), S3Url(versioned, "copy.bin"))
    assert copied.ok, copied.failures
    assert get(backend, versioned, "copy.bin") == old
    assert get(backend, versioned, "big.bin") == new


# -- storage classes, restore, cost ------------------------------------------------------------


def test_set_class_changes_the_storage_class(
    cli: CliInvoker, backend: Backend, bucket: str
) -> None:
    client(backend).put_object(Bucket=bucket, Key="c.bin", Body=b"cold", Metadata={"k": "v"})
    run_ok(cli, backend, "object", "set-class", f"s3://{bucket}/c.bin", "standard_ia")
    head = client(backend).head_object(Bucket=bucket, Key="c.bin")
    assert head.get("StorageClass") == "STANDARD_IA"
    assert head["Metadata"] == {"k": "v"}
    assert get(backend, bucket, "c.bin") == b"cold"


def test_set_class_rejects_unknown_class(cli: CliInvoker, moto: Backend) -> None:
    result = cli("object", "set-class", "s3://no-such-bucket/c.bin", "FROZEN", env=moto.env())
    assert_usage_error(result)
    assert "STANDARD_IA" in result.stderr


def test_restore_from_glacier(cli: CliInvoker, moto: Backend) -> None:
    name = unique_bucket_name()
    service = S3Service(moto.session())
    service.create_bucket(name)
    try:
        client(moto).put_object(Bucket=name, Key="old.tar", Body=b"x", StorageClass="GLACIER")
        url = f"s3://{name}/old.tar"
        status = json.loads(run_ok(cli, moto, "object", "restore-status", url, "--json"))
        assert status == {"storage_class": "GLACIER", "state": "archived", "expiry": None}
        out = run_ok(cli, moto, "object", "restore", url, "--days", "2", "--tier", "bulk")
        assert "restore of" in out and "Bulk" in out
        status = json.loads(run_ok(cli, moto, "object", "restore-status", url, "--json"))
        assert status["state"] in ("in-progress", "restored")
        if status["state"] == "restored":
            assert status["expiry"]
    finally:
        service.empty_bucket(name)
        service.delete_bucket(name)


@pytest.mark.parametrize(("days", "tier"), [("0", "Standard"), ("1", "Fast")])
def test_restore_rejects_bad_input(cli: CliInvoker, moto: Backend, days: str, tier: str) -> None:
    result = cli(
        "object", "restore", "s3://no-such-bucket/k", "--days", days, "--tier", tier,
        env=moto.env(),
    )  # fmt: skip
    assert_usage_error(result)


def test_restore_status_of_standard_object(cli: CliInvoker, backend: Backend, bucket: str) -> None:
    put(backend, bucket, {"s.txt": b"x"})
    out = run_ok(cli, backend, "object", "restore-status", f"s3://{bucket}/s.txt")
    assert "not-archived" in out


def test_cost_per_class_and_price_override(
    cli: CliInvoker, backend: Backend, bucket: str, tmp_path: Path
) -> None:
    s3 = client(backend)
    s3.put_object(Bucket=bucket, Key="p/a", Body=b"a" * 300)
    s3.put_object(Bucket=bucket, Key="p/b", Body=b"b" * 700)
    s3.put_object(Bucket=bucket, Key="q/c", Body=b"c" * 50)
    report = json.loads(run_ok(cli, backend, "cost", f"s3://{bucket}/p/", "--json"))
    assert report["classes"] == [
        {
            "storage_class": "STANDARD",
            "objects": 2,
            "bytes": 1000,
            "usd_per_gb_month": 0.023,
            "monthly_usd": pytest.approx(1000 / 1024**3 * 0.023),
        }
    ]
    assert report["total"]["objects"] == 2

    prices = tmp_path / "prices.yaml"
    prices.write_text("STANDARD: 1073741.824\n")  # 1000 bytes cost exactly 1 USD
    report = json.loads(
        run_ok(cli, backend, "cost", f"s3://{bucket}", "--prices", str(prices), "--json")
    )
    assert report["total"] == {"objects": 3, "bytes": 1050, "monthly_usd": pytest.approx(1.05)}
    text = run_ok(cli, backend, "cost", f"s3://{bucket}")
    assert text.splitlines()[0].startswith("CLASS") and "TOTAL" in text

    prices.write_text("STANDARD: cheap\n")
    assert_usage_error(cli("cost", f"s3://{bucket}", "--prices", str(prices), env=backend.env()))


def test_cost_counts_archive_classes(cli: CliInvoker, moto: Backend) -> None:
    name = unique_bucket_name()
    service = S3Service(moto.session())
    service.create_bucket(name)
    try:
        s3 = client(moto)
        s3.put_object(Bucket=name, Key="a", Body=b"a" * 10)
        s3.put_object(Bucket=name, Key="g", Body=b"g" * 20, StorageClass="DEEP_ARCHIVE")
        report = json.loads(run_ok(cli, moto, "cost", f"s3://{name}", "--json"))
        by_class = {c["storage_class"]: c for c in report["classes"]}
        assert by_class["DEEP_ARCHIVE"]["bytes"] == 20
        assert by_class["DEEP_ARCHIVE"]["usd_per_gb_month"] == 0.00099
        assert by_class["STANDARD"]["bytes"] == 10
    finally:
        service.empty_bucket(name)
        service.delete_bucket(name)


# -- SSE-C rotation ----------------------------------------------------------------------------


def test_rotate_sse_c_key(cli: CliInvoker, backend: Backend, bucket: str, tmp_path: Path) -> None:
    ignores_sse_c = known_gap(backend, "SSE-C")
    old, new = os.urandom(32), os.urandom(32)
    (tmp_path / "old.key").write_bytes(old)
    (tmp_path / "new.key").write_bytes(new)
    s3 = client(backend)
    s3.put_object(
        Bucket=bucket, Key="secret.bin", Body=b"s3cr3t", SSECustomerAlgorithm="AES256",
        SSECustomerKey=old, Metadata={"m": "1"},
    )  # fmt: skip
    wrong_key = {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": os.urandom(32)}
    if ignores_sse_c is not None:
        head = s3.head_object(Bucket=bucket, Key="secret.bin", **wrong_key)
        assert head["ResponseMetadata"]["HTTPStatusCode"] == 200
        pytest.skip(ignores_sse_c)
    with pytest.raises(Exception):  # noqa: B017 - any refusal will do
        s3.head_object(Bucket=bucket, Key="secret.bin", **wrong_key)
    run_ok(
        cli, backend, "object", "rotate-sse-c", f"s3://{bucket}/secret.bin",
        "--old-key-file", str(tmp_path / "old.key"), "--new-key-file", str(tmp_path / "new.key"),
    )  # fmt: skip
    body = s3.get_object(
        Bucket=bucket, Key="secret.bin", SSECustomerAlgorithm="AES256", SSECustomerKey=new
    )["Body"].read()
    assert body == b"s3cr3t"
    with pytest.raises(Exception):  # noqa: B017 - any refusal will do
        s3.get_object(
            Bucket=bucket, Key="secret.bin", SSECustomerAlgorithm="AES256", SSECustomerKey=old
        )


def test_rotate_sse_c_rejects_same_key(cli: CliInvoker, moto: Backend, tmp_path: Path) -> None:
    (tmp_path / "k").write_bytes(b"k" * 32)
    result = cli(
        "object", "rotate-sse-c", "s3://no-such-bucket/x", "--old-key-file", str(tmp_path / "k"),
        "--new-key-file", str(tmp_path / "k"), env=moto.env(),
    )  # fmt: skip
    assert_usage_error(result)


# -- multipart housekeeping --------------------------------------------------------------------


def test_multipart_list_and_abort(cli: CliInvoker, backend: Backend, bucket: str) -> None:
    s3 = client(backend)
    first = s3.create_multipart_upload(Bucket=bucket, Key="big/one.bin")["UploadId"]
    second = s3.create_multipart_upload(Bucket=bucket, Key="big/two.bin")["UploadId"]
    s3.create_multipart_upload(Bucket=bucket, Key="other/three.bin")

    listed = json.loads(run_ok(cli, backend, "multipart", "list", f"s3://{bucket}/big/", "--json"))
    assert sorted(u["upload_id"] for u in listed) == sorted([first, second])
    # moto reports every upload as initiated in 2010, so "older than a century" is the cut
    # that holds on both servers; the cutoff arithmetic itself is unit-tested.
    old = run_ok(cli, backend, "multipart", "list", f"s3://{bucket}", "--older-than", "36500")
    assert old == ""

    dry = run_ok(cli, backend, "multipart", "abort", f"s3://{bucket}/big/", "--dryrun")
    assert dry.count("(dryrun) abort:") == 2
    run_ok(
        cli, backend, "multipart", "abort", f"s3://{bucket}", "--key", "big/one.bin",
        "--upload-id", first,
    )  # fmt: skip
    left = json.loads(run_ok(cli, backend, "multipart", "list", f"s3://{bucket}", "--json"))
    assert sorted(u["key"] for u in left) == ["big/two.bin", "other/three.bin"]

    out = run_ok(cli, backend, "multipart", "abort", f"s3://{bucket}/big/", "--older-than", "0")
    assert "big/two.bin" in out
    left = json.loads(run_ok(cli, backend, "multipart", "list", f"s3://{bucket}", "--json"))
    assert [u["key"] for u in left] == ["other/three.bin"]


def test_multipart_abort_upload_id_needs_key(cli: CliInvoker, moto: Backend) -> None:
    result = cli("multipart", "abort", "s3://no-such-bucket", "--upload-id", "x", env=moto.env())
    assert_usage_error(result)


def test_restore_where_unsupported_fails_with_one_line(cli: CliInvoker, seaweed: Backend) -> None:
    name = unique_bucket_name()
    service = S3Service(seaweed.session())
    service.create_bucket(name)
    try:
        client(seaweed).put_object(Bucket=name, Key="g", Body=b"x", StorageClass="GLACIER")
        result = cli("object", "restore", f"s3://{name}/g", "--days", "1", env=seaweed.env())
        assert_failed(result)  # SeaweedFS answers RestoreObject with MethodNotAllowed
    finally:
        service.empty_bucket(name)
        service.delete_bucket(name)
