"""What `s3kit sync` takes from s3kit.yaml and from the source, end to end on both servers:
the sync section's defaults (and the flags that override them), the exclusions, the
performance and storage sections, a `.s3kitignore` object at the root of an S3 source, and the
time estimate that earlier runs make possible."""

from __future__ import annotations

import json
import time
from pathlib import Path

from s3kit._sync.scan import build_selection, scan_local
from tests.conftest import Backend, CliInvoker
from tests.integration.cli_support import keys, put
from tests.integration.test_sync import write


def _config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "s3kit.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_delete_removed_is_a_default_that_no_delete_overrides(
    cli: CliInvoker, backend: Backend, bucket: str, tmp_path: Path
) -> None:
    config = _config(tmp_path, "sync:\n  delete_removed: true\n")
    src = tmp_path / "src"
    write(src, {"keep.txt": b"k", "a.txt": b"a", "b.txt": b"b"})
    put(backend, bucket, {"p/old.txt": b"o"})
    url = f"s3://{bucket}/p"
    kept = cli("--config", str(config), "sync", str(src), url, "--no-delete", env=backend.env())
    assert kept.exit_code == 0, kept.stderr
    assert "p/old.txt" in keys(backend, bucket)
    done = cli("--config", str(config), "sync", str(src), url, env=backend.env())
    assert done.exit_code == 0, done.stderr
    assert keys(backend, bucket) == ["p/a.txt", "p/b.txt", "p/keep.txt"]


def test_config_size_only_and_exclusions(
    cli: CliInvoker, backend: Backend, bucket: str, tmp_path: Path
) -> None:
    config = _config(tmp_path, "sync:\n  size_only: true\nexclusions:\n  - 'drafts/'\n")
    src = tmp_path / "src"
    write(src, {"a.txt": b"one", "drafts/x.txt": b"x"}, mtime=time.time() - 1000)
    url = f"s3://{bucket}/p"
    first = cli("--config", str(config), "sync", str(src), url, env=backend.env())
    assert first.exit_code == 0, first.stderr
    assert keys(backend, bucket) == ["p/a.txt"]
    write(src, {"a.txt": b"two"})  # same size, newer: size_only says unchanged
    same = cli("--config", str(config), "sync", str(src), url, "--dryrun", env=backend.env())
    assert same.exit_code == 0, same.stderr
    assert "Would upload" not in same.stdout
    flagged = cli("--config", str(config), "sync", str(src), url, "--dryrun", "--no-size-only",
                  env=backend.env())  # fmt: skip
    assert flagged.stdout.splitlines()[0] == "Would upload: + a.txt (3 B)"


def test_storage_class_and_performance_defaults_reach_sync(
    cli: CliInvoker, moto: Backend, tmp_path: Path
) -> None:
    from s3kit.service import S3Service
    from tests.conftest import unique_bucket_name

    bucket = unique_bucket_name()
    S3Service(moto.session()).create_bucket(bucket)
    config = _config(
        tmp_path,
        "storage:\n  default_storage_class: STANDARD_IA\n"
        "performance:\n  multipart_threshold: 5MiB\n  multipart_chunksize: 5MiB\n",
    )
    src = tmp_path / "src"
    write(src, {"small.txt": b"s", "big.bin": b"b" * (6 * 1024 * 1024)})
    result = cli("--config", str(config), "sync", str(src), f"s3://{bucket}/", env=moto.env())
    assert result.exit_code == 0, result.stderr
    client = moto.session().client("s3")
    assert client.head_object(Bucket=bucket, Key="small.txt")["StorageClass"] == "STANDARD_IA"
    assert client.head_object(Bucket=bucket, Key="big.bin")["ETag"].endswith('-2"')


def test_ignore_file_at_the_root_of_an_s3_source(
    cli: CliInvoker, backend: Backend, bucket: str, tmp_path: Path
) -> None:
    put(backend, bucket, {
        "site/.s3kitignore": b"# build output\n*.map\n!keep.map\n",
        "site/app.js": b"js", "site/app.js.map": b"map", "site/keep.map": b"k",
    })  # fmt: skip
    dst = tmp_path / "dst"
    result = cli("sync", f"s3://{bucket}/site", str(dst), env=backend.env())
    assert result.exit_code == 0, result.stderr
    assert sorted(p.name for p in dst.iterdir()) == [".s3kitignore", "app.js", "keep.map"]
    copied = cli("sync", f"s3://{bucket}/site", f"s3://{bucket}/copy", env=backend.env())
    assert copied.exit_code == 0, copied.stderr
    assert "copy/app.js.map" not in keys(backend, bucket, "copy/")
    assert "copy/app.js" in keys(backend, bucket, "copy/")


def test_an_ignore_object_that_is_not_text_is_refused(
    cli: CliInvoker, backend: Backend, bucket: str, tmp_path: Path
) -> None:
    put(backend, bucket, {"site/.s3kitignore": b"\xff\xfe\x00bad", "site/a.txt": b"a"})
    dst = tmp_path / "dst"
    result = cli("sync", f"s3://{bucket}/site", str(dst), env=backend.env())
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [
        f"s3kit: error: s3://{bucket}/site/.s3kitignore is not UTF-8 text"
    ]
    assert not dst.exists()


def test_config_exclusions_come_before_the_source_ignore_file(tmp_path: Path) -> None:
    write(tmp_path, {".s3kitignore": b"!keep.bak\n", "keep.bak": b"k", "drop.bak": b"d"})
    selection = build_selection(exclusions=["*.bak"], source_root=tmp_path)
    names = [e.key for e in scan_local(tmp_path, selection).entries]
    assert names == [".s3kitignore", "keep.bak"]
    assert build_selection(exclusions=["*.bak"], source_ignore="!keep.bak\n").accepts("keep.bak")


def test_dryrun_estimates_the_time_after_a_first_run(
    cli: CliInvoker, backend: Backend, bucket: str, tmp_path: Path
) -> None:
    src = tmp_path / "src"
    write(src, {f"f{n}.txt": b"x" * 100 for n in range(20)})
    url = f"s3://{bucket}/p"
    before = cli("sync", str(src), url, "--dryrun", env=backend.env())
    assert before.exit_code == 0, before.stderr
    assert "Estimated time" not in before.stdout  # nothing measured yet
    assert cli("sync", str(src), url, env=backend.env()).exit_code == 0
    write(src, {f"g{n}.txt": b"y" * 100 for n in range(10)})
    after = cli("sync", str(src), url, "--dryrun", env=backend.env())
    assert after.exit_code == 0, after.stderr
    assert "Estimated time: " in after.stdout
    document = json.loads(
        cli("sync", str(src), url, "--dryrun", "--json", env=backend.env()).stdout
    )
    assert document["estimated_seconds"] is not None and document["estimated_seconds"] >= 0
