"""Errors that name the real cause (issue 11 §4), at the CLI against the real servers.

A run of many files that meets an error every file would meet (no bucket, no credentials, no
permission to write) says it once and stops; a read that finds nothing says whether the bucket
or the key is missing; a wrong SSE-C key or a store without KMS is named as such; `ls`, `rm`,
`object delete-many`, `apply` and `multipart abort` behave as their counterparts do.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from s3kit.events import RequestEvent
from s3kit.service import S3Service
from s3kit.transfer import TransferManager
from tests.conftest import Backend, CliInvoker, unique_bucket_name
from tests.integration.cli_support import (
    assert_failed,
    assert_one_error_line,
    assert_usage_error,
    bucket_names,
    keys,
    put,
    tree,
)
from tests.integration.proxy import ErrorReply, FaultProxy, matching
from tests.integration.test_sync_interactive import Terminal

FILES = 40


def make_files(folder: Path, count: int = FILES) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        (folder / f"f{i:03}.txt").write_bytes(b"x" * (i + 1))
    return folder


# -- 1: an error every file shares is said once, and the run stops ---------------------------


@pytest.mark.parametrize("command", ["cp", "mv"])
def test_recursive_copy_into_a_missing_bucket_says_so_once(
    cli: CliInvoker, backend: Backend, tmp_path: Path, command: str
) -> None:
    source = make_files(tmp_path / "src")
    name = unique_bucket_name("gone")
    result = cli(
        command, "-r", str(source), f"s3://{name}/x/", "--no-progress", env=backend.env()
    )  # fmt: skip
    assert_failed(result)  # exit 1, exactly one error line
    assert f"bucket '{name}' does not exist" in result.stderr
    assert result.stdout == ""
    assert len(list(source.iterdir())) == FILES  # mv removed nothing
    assert name not in bucket_names(backend)


def test_recursive_copy_between_buckets_into_a_missing_one_says_so_once(
    cli: CliInvoker, backend: Backend, bucket: str
) -> None:
    """SeaweedFS answers a CopyObject into a missing bucket 500 InternalError, not
    NoSuchBucket; s3kit asks the bucket (one HEAD) before it calls that the copy's own
    failure, so the run still says the bucket is missing, once."""
    put(backend, bucket, {f"p/{i}": b"x" for i in range(12)})
    name = unique_bucket_name("gone")
    result = cli("cp", "-r", f"s3://{bucket}/p/", f"s3://{name}/", env=backend.env())
    assert_failed(result)
    assert f"bucket '{name}' does not exist" in result.stderr


def test_the_run_stops_queueing_at_a_shared_error(backend: Backend, tmp_path: Path) -> None:
    """Library: at most the files already under way are tried; the folder call raises the one
    error instead of listing it for every file."""
    from s3kit import BucketNotFound

    session = backend.session()
    puts: list[RequestEvent] = []
    session.events.subscribe(lambda event: puts.append(event))
    manager = TransferManager(session, concurrency=2)
    with pytest.raises(BucketNotFound):
        manager.upload_folder(make_files(tmp_path / "src"), f"s3://{unique_bucket_name('g')}/")
    tried = [e for e in puts if e.operation == "PutObject"]
    assert 1 <= len(tried) <= 2, tried


def test_wrong_credentials_are_said_once(cli: CliInvoker, seaweed: Backend, tmp_path: Path) -> None:
    """moto accepts any secret (known gap "signature check"): SeaweedFS checks it."""
    source = make_files(tmp_path / "src")
    env = {**seaweed.env(), "S3KIT_SECRET_ACCESS_KEY": "not-the-secret-0123456789"}
    result = cli("cp", "-r", str(source), "s3://any-bucket/x/", env=env)
    assert_failed(result)
    assert "rejected the credentials" in result.stderr


def test_no_permission_to_write_is_said_once(
    cli: CliInvoker, backend: Backend, bucket: str, tmp_path: Path
) -> None:
    source = make_files(tmp_path / "src")
    with FaultProxy(backend.endpoint) as proxy:
        denied = proxy.add_fault(
            ErrorReply("AccessDenied", "Access Denied", status=403),
            match=matching(method="PUT"),
            times=None,
        )
        env = backend.behind(proxy.url).env()
        result = cli("cp", "-r", str(source), f"s3://{bucket}/x/", "--concurrency", "4", env=env)
    assert_failed(result)
    assert "access denied" in result.stderr
    assert 1 <= denied.faulted <= 4  # what was under way, not every file
    assert keys(backend, bucket) == []


def test_sync_says_a_refused_write_once(
    cli: CliInvoker, backend: Backend, bucket: str, tmp_path: Path
) -> None:
    """sync reports each action as it ends: the refusal every upload shares is one of them,
    the uploads never started count as skipped."""
    source = make_files(tmp_path / "src")
    with FaultProxy(backend.endpoint) as proxy:
        proxy.add_fault(
            ErrorReply("AccessDenied", "Access Denied", status=403),
            match=matching(method="PUT"),
            times=None,
        )
        env = backend.behind(proxy.url).env()
        result = cli("sync", str(source), f"s3://{bucket}/x/", "--concurrency", "4", env=env)
    assert result.exit_code == 1
    assert result.stderr.count("access denied") == 1, result.stderr
    assert keys(backend, bucket) == []


def test_a_refused_download_does_not_stop_the_others(
    cli: CliInvoker, backend: Backend, bucket: str, tmp_path: Path
) -> None:
    """A 403 on one object's GET is that object's (its ACL, its KMS key): the rest go on."""
    put(backend, bucket, {"p/a.txt": b"a", "p/b.txt": b"b", "p/c.txt": b"c"})
    with FaultProxy(backend.endpoint) as proxy:
        proxy.add_fault(
            ErrorReply("AccessDenied", "Access Denied", status=403),
            match=matching(method="GET", path="/b.txt"),
            times=None,
        )
        env = backend.behind(proxy.url).env()
        result = cli("cp", "-r", f"s3://{bucket}/p/", str(tmp_path / "out"), env=env)
    assert result.exit_code == 1
    assert tree(tmp_path / "out") == {"a.txt": b"a", "c.txt": b"c"}
    assert "b.txt" in result.stderr


# -- 2: a missing bucket is not a missing key ------------------------------------------------


def test_download_from_a_missing_bucket_names_the_bucket(
    cli: CliInvoker, backend: Backend, tmp_path: Path
) -> None:
    name = unique_bucket_name("gone")
    os.chdir(tmp_path)
    result = cli("cp", f"s3://{name}/x", ".", env=backend.env())
    assert_failed(result)
    assert f"bucket '{name}' does not exist" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_download_of_a_missing_key_still_names_the_key(
    cli: CliInvoker, backend: Backend, bucket: str, tmp_path: Path
) -> None:
    os.chdir(tmp_path)
    result = cli("cp", f"s3://{bucket}/missing.txt", ".", env=backend.env())
    assert_failed(result)
    assert f"s3://{bucket}/missing.txt does not exist" in result.stderr
    assert "bucket" not in result.stderr.split("—")[0]


# -- 3: a wrong SSE-C key ----------------------------------------------------------------------


def test_a_wrong_sse_c_key_is_named(cli: CliInvoker, seaweed: Backend, tmp_path: Path) -> None:
    """SeaweedFS only: moto ignores SSE-C (known gap "SSE-C")."""
    name = unique_bucket_name("ssec")
    S3Service(seaweed.session()).create_bucket(name)
    right, wrong = tmp_path / "right.key", tmp_path / "wrong.key"
    right.write_bytes(b"r" * 32)
    wrong.write_bytes(b"w" * 32)
    (tmp_path / "f.txt").write_bytes(b"secret")
    env = seaweed.env()
    url = f"s3://{name}/f.txt"
    try:
        upload = cli("cp", str(tmp_path / "f.txt"), url, "--sse-c-key-file", str(right), env=env)
        assert upload.exit_code == 0, upload.stderr
        result = cli("cp", url, str(tmp_path / "out.txt"), "--sse-c-key-file", str(wrong), env=env)
        assert_failed(result)
        assert "the SSE-C key does not match the one the object was written with" in result.stderr
        assert "whoami" not in result.stderr
        keyless = cli("cp", url, str(tmp_path / "out.txt"), env=env)
        assert_failed(keyless)
        assert "SSE-C" in keyless.stderr and "--sse-c-key-file" in keyless.stderr
        assert not (tmp_path / "out.txt").exists()
    finally:
        S3Service(seaweed.session()).empty_bucket(name)
        S3Service(seaweed.session()).delete_bucket(name)


# -- 4: SSE-KMS where the store has no KMS -----------------------------------------------------


@pytest.mark.parametrize("size", [10, 6 * 1024 * 1024])
def test_sse_kms_on_a_store_without_kms_is_not_supported(
    cli: CliInvoker, seaweed: Backend, tmp_path: Path, size: int
) -> None:
    """SeaweedFS without a KMS answers a PutObject (and, for a multipart upload, the first
    UploadPart) with aws:kms 500 InternalError ("KMS is not configured" in its log)."""
    name = unique_bucket_name("kms")
    S3Service(seaweed.session()).create_bucket(name)
    (tmp_path / "f.bin").write_bytes(b"k" * size)
    try:
        result = cli(
            "cp", str(tmp_path / "f.bin"), f"s3://{name}/f.bin", "--sse", "aws:kms",
            "--multipart-threshold", "5MiB", "--part-size", "5MiB", env=seaweed.env(),
        )  # fmt: skip
        assert_failed(result)
        assert "does not support SSE-KMS" in result.stderr
        assert "retry later" not in result.stderr
        assert keys(seaweed, name) == []
    finally:
        S3Service(seaweed.session()).empty_bucket(name)
        S3Service(seaweed.session()).delete_bucket(name)


# -- 6: small ones -----------------------------------------------------------------------------


def test_a_local_file_with_a_tab_is_not_told_to_use_aws(
    cli: CliInvoker, backend: Backend, bucket: str, tmp_path: Path
) -> None:
    source = tmp_path / "a\tb.txt"
    source.write_bytes(b"x")
    result = cli("cp", str(source), f"s3://{bucket}/", env=backend.env())
    assert_usage_error(result)
    assert "control character" in result.stderr
    assert "rename the file" in result.stderr
    assert keys(backend, bucket) == []


def test_whoami_does_not_say_the_same_thing_twice(cli: CliInvoker, tmp_path: Path) -> None:
    from tests.servers.base import free_ports

    (port,) = free_ports(1)
    env = {
        "S3KIT_ENDPOINT_URL": f"http://127.0.0.1:{port}",
        "S3KIT_ACCESS_KEY_ID": "AKIAEXAMPLE",
        "S3KIT_SECRET_ACCESS_KEY": "secret-example-0123456789",
        "S3KIT_MAX_RETRIES": "0",
    }
    result = cli("whoami", env=env)
    assert_failed(result)
    assert result.stderr.count(f"cannot reach http://127.0.0.1:{port}") == 1, result.stderr
    assert "((" not in result.stderr and "))" not in result.stderr


def test_debug_help_says_what_it_does(cli: CliInvoker) -> None:
    result = cli("--help")
    assert result.exit_code == 0
    text = " ".join(result.stdout.split())
    assert "Log requests" not in text
    assert "tracebacks" in text


# -- 7: ls, rm, delete-many, apply -------------------------------------------------------------


def test_ls_of_a_prefix_that_matches_nothing_exits_1_silently(
    cli: CliInvoker, backend: Backend, bucket: str
) -> None:
    put(backend, bucket, {"docs/a.txt": b"a"})
    for args in (
        ("ls", f"s3://{bucket}/nothing-here/"),
        ("ls", f"s3://{bucket}/nothing"),
        ("ls", "--recursive", f"s3://{bucket}/nothing/"),
    ):
        result = cli(*args, env=backend.env())
        assert (result.exit_code, result.stdout, result.stderr) == (1, "", ""), args
    found = cli("ls", f"s3://{bucket}/docs/", env=backend.env())
    assert found.exit_code == 0 and "a.txt" in found.stdout


def test_ls_of_an_empty_bucket_exits_0(cli: CliInvoker, backend: Backend, bucket: str) -> None:
    """As `aws s3 ls`: only a prefix that matches nothing is a failure."""
    result = cli("ls", f"s3://{bucket}", env=backend.env())
    assert (result.exit_code, result.stdout) == (0, "")


def test_rm_and_delete_many_agree_on_a_missing_key(
    cli: CliInvoker, backend: Backend, bucket: str
) -> None:
    """S3 deletes idempotently (DeleteObjects reports an absent key as deleted), and so do
    `aws s3 rm` and `object delete-many`: `rm` too exits 0, and says the key was not there."""
    put(backend, bucket, {"keep.txt": b"k"})
    rm = cli("rm", f"s3://{bucket}/missing.txt", env=backend.env())
    assert rm.exit_code == 0, rm.stderr
    assert rm.stdout == ""
    assert "did not exist" in rm.stderr and "s3kit: error" not in rm.stderr
    many = cli("object", "delete-many", f"s3://{bucket}", "missing.txt", env=backend.env())
    assert many.exit_code == 0, many.stderr
    assert keys(backend, bucket) == ["keep.txt"]


def test_apply_twice_finds_nothing_left_to_do(
    cli: CliInvoker, backend: Backend, bucket: str, tmp_path: Path
) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "a.txt").write_bytes(b"a")
    (site / "b.txt").write_bytes(b"bb")
    put(backend, bucket, {"w/old.txt": b"old"})
    plan = tmp_path / "plan.json"
    env = backend.env()
    made = cli("sync", str(site), f"s3://{bucket}/w/", "--delete", "--plan-out", str(plan), env=env)
    assert made.exit_code == 0, made.stderr
    first = cli("apply", str(plan), "--yes", "--json", env=env)
    assert first.exit_code == 0, first.stderr
    assert json.loads(first.stdout)["transferred"] == 2
    assert json.loads(first.stdout)["deleted"] == 1
    second = cli("apply", str(plan), "--yes", "--json", env=env)
    assert second.exit_code == 0, second.stderr
    document = json.loads(second.stdout)
    assert (document["transferred"], document["deleted"], document["failures"]) == (0, 0, [])
    text = cli("apply", str(plan), "--yes", env=env)
    assert text.exit_code == 0, text.stderr
    assert "upload:" not in text.stdout and "delete:" not in text.stdout
    assert "already done" in text.stdout + text.stderr
    assert keys(backend, bucket) == ["w/a.txt", "w/b.txt"]


def test_apply_still_redoes_an_upload_whose_destination_changed(
    cli: CliInvoker, backend: Backend, bucket: str, tmp_path: Path
) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "a.txt").write_bytes(b"a")
    plan = tmp_path / "plan.json"
    env = backend.env()
    assert (
        cli("sync", str(site), f"s3://{bucket}/", "--plan-out", str(plan), env=env).exit_code == 0
    )
    assert cli("apply", str(plan), "--yes", env=env).exit_code == 0
    put(backend, bucket, {"a.txt": b"something else"})  # not what the plan uploaded
    again = cli("apply", str(plan), "--yes", env=env)
    assert again.exit_code == 0, again.stderr
    assert "upload:" in again.stdout
    assert backend.session().storage(bucket).get("a.txt") == b"a"


# -- 8: multipart abort asks before aborting everything ----------------------------------------


def _start_uploads(backend: Backend, bucket: str, *names: str) -> None:
    client = backend.session().client("s3")
    for name in names:
        client.create_multipart_upload(Bucket=bucket, Key=name)


def _uploads(backend: Backend, bucket: str) -> list[str]:
    return sorted(u.key for u in S3Service(backend.session()).list_uploads(bucket))


def test_multipart_abort_without_a_filter_needs_yes_off_a_terminal(
    cli: CliInvoker, backend: Backend, bucket: str
) -> None:
    _start_uploads(backend, bucket, "a.bin", "b.bin")
    refused = cli("multipart", "abort", f"s3://{bucket}", env=backend.env())
    assert_usage_error(refused)
    assert "--yes" in refused.stderr
    assert _uploads(backend, bucket) == ["a.bin", "b.bin"]
    dry = cli("multipart", "abort", f"s3://{bucket}", "--dryrun", env=backend.env())
    assert dry.exit_code == 0 and dry.stdout.count("(dryrun) abort:") == 2
    done = cli("multipart", "abort", f"s3://{bucket}", "--yes", env=backend.env())
    assert done.exit_code == 0, done.stderr
    assert done.stdout.count("abort:") == 2
    assert _uploads(backend, bucket) == []


@pytest.mark.parametrize(("answer", "left"), [("n", ["a.bin"]), ("y", [])])
def test_multipart_abort_without_a_filter_asks_on_a_terminal(
    backend: Backend, bucket: str, tmp_path: Path, answer: str, left: list[str]
) -> None:
    _start_uploads(backend, bucket, "a.bin")
    env = {**os.environ, **backend.env()}
    terminal = Terminal(["multipart", "abort", f"s3://{bucket}"], env, tmp_path)
    try:
        terminal.exchange("[y/N]", answer)
        code = terminal.finish()
    finally:
        terminal.close()
    assert code == (0 if answer == "y" else 1), terminal.text()
    assert _uploads(backend, bucket) == left


def test_multipart_abort_with_a_filter_does_not_ask(
    cli: CliInvoker, backend: Backend, bucket: str
) -> None:
    _start_uploads(backend, bucket, "a.bin")
    result = cli("multipart", "abort", f"s3://{bucket}", "--older-than", "0", env=backend.env())
    assert result.exit_code == 0, result.stderr
    assert _uploads(backend, bucket) == []


def test_cli_error_lines_stay_single(cli: CliInvoker) -> None:
    """A typo'd URL gets its hint in one line."""
    result = cli("ls", "s3:/docs/x")
    assert_usage_error(result)
    assert "did you mean s3://docs/x?" in result.stderr
    assert_one_error_line(result)
