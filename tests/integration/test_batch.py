"""`s3kit batch` against real servers: every action, globs, manifests, dry runs, reports."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import Backend, CliInvoker


def seed(backend: Backend, bucket: str, keys: list[str]) -> None:
    storage = backend.session().storage(bucket)
    for key in keys:
        storage.put(key, key.encode(), metadata={"origin": "seed"})


def keys(backend: Backend, bucket: str, prefix: str = "") -> list[str]:
    client = backend.session().client("s3")
    found = client.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])
    return sorted(item["Key"] for item in found)


def test_batch_delete_by_glob_with_dryrun_and_report(
    cli: CliInvoker, backend: Backend, bucket: str, tmp_path: Path
) -> None:
    seed(backend, bucket, ["logs/a.log", "logs/b.log", "logs/keep.txt", "other/c.log"])
    dry = cli("batch", "delete", f"s3://{bucket}", "--glob", "logs/*.log", "--dryrun",
              env=backend.env())  # fmt: skip
    assert dry.exit_code == 0, dry.stderr
    assert dry.stdout.count("(dryrun) delete:") == 2
    assert len(keys(backend, bucket)) == 4

    report = tmp_path / "report.jsonl"
    done = cli("batch", "delete", f"s3://{bucket}", "--glob", "logs/*.log", "--report",
               str(report), env=backend.env())  # fmt: skip
    assert done.exit_code == 0, done.stderr
    assert keys(backend, bucket) == ["logs/keep.txt", "other/c.log"]
    lines = [json.loads(line) for line in report.read_text().splitlines()]
    assert sorted(r["key"] for r in lines) == ["logs/a.log", "logs/b.log"]
    assert {r["status"] for r in lines} == {"done"}


def test_batch_tag_and_set_metadata_by_prefix(
    cli: CliInvoker, backend: Backend, bucket: str
) -> None:
    seed(backend, bucket, ["p/1", "p/2", "q/3"])
    tagged = cli("batch", "tag", f"s3://{bucket}/p/", "--tag", "team=ops", env=backend.env())
    assert tagged.exit_code == 0, tagged.stderr
    client = backend.session().client("s3")
    assert client.get_object_tagging(Bucket=bucket, Key="p/2")["TagSet"] == [
        {"Key": "team", "Value": "ops"}
    ]
    assert client.get_object_tagging(Bucket=bucket, Key="q/3")["TagSet"] == []

    meta = cli("batch", "set-metadata", f"s3://{bucket}/p/", "--metadata", "owner=me",
               "--json", env=backend.env())  # fmt: skip
    assert meta.exit_code == 0, meta.stderr
    assert json.loads(meta.stdout)["objects"] == 2
    head = client.head_object(Bucket=bucket, Key="p/1")
    assert head["Metadata"] == {"origin": "seed", "owner": "me"}
    assert client.get_object(Bucket=bucket, Key="p/1")["Body"].read() == b"p/1"


def test_batch_copy_from_manifest(
    cli: CliInvoker, backend: Backend, bucket: str, tmp_path: Path
) -> None:
    seed(backend, bucket, ["src/a b.txt", "src/b.txt", "src/skip.txt"])
    manifest = tmp_path / "manifest.csv"
    manifest.write_text(f"{bucket},src/a%20b.txt\n{bucket},src/b.txt\n")
    result = cli("batch", "copy", f"s3://{bucket}/src/", "--manifest", str(manifest), "--dest",
                 f"s3://{bucket}/dst/", env=backend.env())  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert keys(backend, bucket, "dst/") == ["dst/a b.txt", "dst/b.txt"]


def test_batch_set_storage_class_and_restore(cli: CliInvoker, moto: Backend) -> None:
    from s3kit.service import S3Service
    from tests.conftest import unique_bucket_name

    bucket = unique_bucket_name()
    S3Service(moto.session()).create_bucket(bucket)
    seed(moto, bucket, ["cold/1", "cold/2"])
    moved = cli("batch", "set-storage-class", f"s3://{bucket}/cold/", "--storage-class",
                "glacier", env=moto.env())  # fmt: skip
    assert moved.exit_code == 0, moved.stderr
    client = moto.session().client("s3")
    assert client.head_object(Bucket=bucket, Key="cold/1")["StorageClass"] == "GLACIER"
    restored = cli("batch", "restore", f"s3://{bucket}/cold/", "--days", "2", env=moto.env())
    assert restored.exit_code == 0, restored.stderr
    assert "ongoing-request" in client.head_object(Bucket=bucket, Key="cold/2").get("Restore", "")


def test_batch_reports_failures_and_exits_1(
    cli: CliInvoker, backend: Backend, bucket: str, tmp_path: Path
) -> None:
    manifest = tmp_path / "m.jsonl"
    manifest.write_text('{"key": "missing-object"}\n')
    result = cli("batch", "tag", f"s3://{bucket}", "--manifest", str(manifest), "--tag", "a=b",
                 env=backend.env())  # fmt: skip
    assert result.exit_code == 1
    assert "missing-object" in result.stderr

    as_json = cli("batch", "tag", f"s3://{bucket}", "--manifest", str(manifest), "--tag", "a=b",
                  "--json", env=backend.env())  # fmt: skip
    assert as_json.exit_code == 1
    assert "missing-object" in as_json.stderr  # the error line is on stderr under --json too
    report = json.loads(as_json.stdout)
    assert (report["objects"], report["failed"]) == (1, 1)
    (failed,) = report["results"]
    assert failed["status"] == "failed" and failed["error"]["message"]
    assert failed["error"]["code"], failed  # the server's code, e.g. NoSuchKey


@pytest.mark.parametrize(
    "args",
    [
        ["batch", "explode", "s3://bucket-x"],
        ["batch", "tag", "s3://bucket-x"],
        ["batch", "copy", "s3://bucket-x"],
        ["batch", "restore", "s3://bucket-x", "--days", "0"],
        ["batch", "set-storage-class", "s3://bucket-x", "--storage-class", "FAST"],
    ],
)
def test_batch_usage_errors(cli: CliInvoker, seaweed: Backend, args: list[str]) -> None:
    result = cli(*args, env=seaweed.env())
    assert result.exit_code == 2
    assert result.stderr.startswith("s3kit: error:")
    assert len(result.stderr.strip().splitlines()) == 1
