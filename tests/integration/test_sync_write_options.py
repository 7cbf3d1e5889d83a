"""`s3kit sync` takes cp's object options: storage class, encryption, metadata, content headers
and a canned ACL land on every object a sync writes — single PUTs, multipart uploads and
server-side copies — on both servers; `cp --acl` sends the same header."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import pytest

from s3kit.service import S3Service
from tests.conftest import Backend, CliInvoker
from tests.integration.cli_support import assert_usage_error
from tests.integration.known_gaps import known_gap
from tests.integration.transfer_support import payload, write_file

ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"
SMALL_PARTS = ("--part-size", "5MiB", "--multipart-threshold", "5MiB")
BIG = 11 * 1024 * 1024  # three 5 MiB parts
SSE_C_KEY = bytes(range(65, 97))


def _head(backend: Backend, bucket: str, key: str) -> dict[str, Any]:
    response: dict[str, Any] = backend.session().client("s3").head_object(Bucket=bucket, Key=key)
    return response


def _public_read(backend: Backend, bucket: str, key: str) -> bool:
    acl = S3Service(backend.session()).get_object_acl(bucket, key)
    return any(
        g["Permission"] == "READ" and g["Grantee"].get("URI") == ALL_USERS for g in acl["Grants"]
    )


def _folder(tmp_path: Path) -> Path:
    """small.txt goes up in one PUT, big.bin in parts."""
    source = tmp_path / "src"
    write_file(source / "small.txt", b"small")
    write_file(source / "big.bin", payload(BIG))
    return source


def test_sync_sets_storage_class_metadata_and_content_headers(
    cli: CliInvoker, backend: Backend, bucket: str, tmp_path: Path
) -> None:
    result = cli(
        "sync", str(_folder(tmp_path)), f"s3://{bucket}/up", *SMALL_PARTS,
        "--storage-class", "STANDARD_IA", "--metadata", "owner=ann",
        "--content-type", "text/x-custom", "--cache-control", "max-age=60",
        "--content-encoding", "identity", env=backend.env(),
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    for key in ("up/small.txt", "up/big.bin"):
        head = _head(backend, bucket, key)
        assert head.get("StorageClass") == "STANDARD_IA", key
        assert head["Metadata"]["owner"] == "ann", key
        assert "mtime" in head["Metadata"], key  # what sync itself records stays
        assert head["ContentType"] == "text/x-custom", key
        assert head["CacheControl"] == "max-age=60", key
        assert head["ContentEncoding"] == "identity", key


def test_sync_with_no_object_options_keeps_the_config_files_storage_class(
    cli: CliInvoker, backend: Backend, bucket: str, tmp_path: Path
) -> None:
    config = tmp_path / "s3kit.yaml"
    config.write_text("storage:\n  default_storage_class: STANDARD_IA\n")
    source = tmp_path / "src"
    write_file(source / "a.txt", b"a")
    write_file(source / "b.txt", b"b")
    env = {**backend.env(), "S3KIT_CONFIG": str(config)}
    plain = cli("sync", str(source), f"s3://{bucket}/plain", env=env)
    # Only some object options: the config file's class still applies where none is given.
    some = cli("sync", str(source), f"s3://{bucket}/some", "--metadata", "k=v", env=env)
    chosen = cli("sync", str(source), f"s3://{bucket}/chosen", "--storage-class", "STANDARD",
                 env=env)  # fmt: skip
    for result in (plain, some, chosen):
        assert result.exit_code == 0, result.stderr
    assert _head(backend, bucket, "plain/a.txt").get("StorageClass") == "STANDARD_IA"
    assert _head(backend, bucket, "some/a.txt").get("StorageClass") == "STANDARD_IA"
    assert _head(backend, bucket, "some/a.txt")["Metadata"]["k"] == "v"
    assert _head(backend, bucket, "chosen/a.txt").get("StorageClass", "STANDARD") == "STANDARD"


def test_sync_sse_s3(cli: CliInvoker, backend: Backend, bucket: str, tmp_path: Path) -> None:
    result = cli("sync", str(_folder(tmp_path)), f"s3://{bucket}/enc", *SMALL_PARTS,
                 "--sse", "AES256", env=backend.env())  # fmt: skip
    assert result.exit_code == 0, result.stderr
    for key in ("enc/small.txt", "enc/big.bin"):
        assert _head(backend, bucket, key).get("ServerSideEncryption") == "AES256", key


def test_sync_acl_on_uploads_and_server_side_copies(
    cli: CliInvoker, backend: Backend, bucket: str, other_bucket: str, tmp_path: Path
) -> None:
    ignored = known_gap(backend, "canned ACL on upload")
    env = backend.env()
    private = cli("sync", str(_folder(tmp_path)), f"s3://{bucket}/private", *SMALL_PARTS,
                  env=env)  # fmt: skip
    public = cli("sync", str(_folder(tmp_path)), f"s3://{bucket}/public", *SMALL_PARTS,
                 "--acl", "public-read", env=env)  # fmt: skip
    copied = cli("sync", f"s3://{bucket}/private", f"s3://{other_bucket}/copied", *SMALL_PARTS,
                 "--acl", "public-read", env=env)  # fmt: skip
    for result in (private, public, copied):
        assert result.exit_code == 0, result.stderr
    # (Only the single PUT: moto answers GetObjectAcl with 500 for an object uploaded in parts
    # without an ACL.)
    assert not _public_read(backend, bucket, "private/small.txt")
    if ignored is not None:
        assert not _public_read(backend, bucket, "public/small.txt")
        pytest.skip(ignored)
    for name in ("small.txt", "big.bin"):
        assert _public_read(backend, bucket, f"public/{name}"), name
        assert _public_read(backend, other_bucket, f"copied/{name}"), name


@pytest.mark.parametrize("size", [5, BIG], ids=["single", "multipart"])
def test_cp_acl(cli: CliInvoker, backend: Backend, bucket: str, tmp_path: Path, size: int) -> None:
    ignored = known_gap(backend, "canned ACL on upload")
    source = write_file(tmp_path / "f.bin", payload(size))
    result = cli("cp", str(source), f"s3://{bucket}/f.bin", *SMALL_PARTS, "--acl", "public-read",
                 env=backend.env())  # fmt: skip
    assert result.exit_code == 0, result.stderr
    if ignored is not None:
        assert not _public_read(backend, bucket, "f.bin")
        pytest.skip(ignored)
    assert _public_read(backend, bucket, "f.bin")


def test_sync_sse_c_uploads_and_downloads_with_the_key(
    cli: CliInvoker, backend: Backend, bucket: str, tmp_path: Path
) -> None:
    """The key given to sync is the key its reads use too (downloads, server-side copies)."""
    key_file = tmp_path / "sse-c.key"
    key_file.write_bytes(SSE_C_KEY)
    source, back = _folder(tmp_path), tmp_path / "back"
    env, url = backend.env(), f"s3://{bucket}/sealed"
    up = cli("sync", str(source), url, *SMALL_PARTS, "--sse-c-key-file", str(key_file), env=env)
    down = cli("sync", url, str(back), *SMALL_PARTS, "--sse-c-key-file", str(key_file), env=env)
    again = cli("sync", url, str(back), "--sse-c-key-file", str(key_file), env=env)
    for result in (up, down, again):
        assert result.exit_code == 0, result.stderr
        for secret in (SSE_C_KEY.decode(), base64.b64encode(SSE_C_KEY).decode()):
            assert secret not in result.stdout + result.stderr
    assert (back / "big.bin").read_bytes() == payload(BIG)
    assert (back / "small.txt").read_bytes() == b"small"
    assert "Done: 0 transferred" in again.stdout
    if known_gap(backend, "SSE-C") is None:  # the objects really are sealed with that key
        refused = cli("cp", f"{url}/small.txt", str(tmp_path / "nokey.txt"), env=env)
        assert refused.exit_code == 1


# Usage errors are found before any request: against a bucket that does not exist, a request
# that slipped through would fail with exit 1 ("does not exist") instead of 2.
NEVER_CREATED = "s3://sw-never-created-bucket/x"


@pytest.mark.parametrize(
    ("options", "problem"),
    [
        (["--acl", "world-readable"], "unknown ACL 'world-readable'"),
        (["--storage-class", "FROZEN"], "unknown storage class 'FROZEN'"),
        (["--sse", "rot13"], "--sse must be AES256"),
        (["--metadata", "novalue"], "--metadata takes key=value"),
        (["--acl", "private", "--plan-out", "plan.json"], "--acl cannot be used with --plan-out"),
        (
            ["--storage-class", "STANDARD", "--bidirectional"],
            "--storage-class cannot be used with --bidirectional",
        ),
    ],
    ids=lambda value: " ".join(value) if isinstance(value, list) else "",
)
def test_bad_object_options_are_refused_before_any_request(
    cli: CliInvoker, moto: Backend, tmp_path: Path, options: list[str], problem: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    monkeypatch.chdir(tmp_path)
    write_file(tmp_path / "src" / "a.txt", b"a")
    result = cli("sync", str(tmp_path / "src"), NEVER_CREATED, *options, env=moto.env())
    assert_usage_error(result)
    assert problem in result.stderr
    assert not (tmp_path / "plan.json").exists()


def test_cp_refuses_an_unknown_acl(cli: CliInvoker, moto: Backend, tmp_path: Path) -> None:
    source = write_file(tmp_path / "a.txt", b"a")
    result = cli("cp", str(source), NEVER_CREATED, "--acl", "public", env=moto.env())
    assert_usage_error(result)
    assert "unknown ACL 'public'" in result.stderr
