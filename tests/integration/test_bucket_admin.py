"""`s3kit bucket list|info|exists|create|delete|tags|policy|acl|object-acl|public-access-block`
against every backend.

Where a backend lacks a feature the test checks that s3kit says so cleanly. A param is skipped
only for a gap listed in tests/integration/known_gaps.py, looked up before any call, and only
after asserting that the gap is still there.
"""

from __future__ import annotations

import contextlib
import json
import os
import pty
import select
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from s3kit.service import S3Service
from tests.conftest import Backend, CliInvoker, unique_bucket_name
from tests.integration.cli_support import (
    assert_failed,
    assert_usage_error,
    bucket_names,
    keys,
    put,
)
from tests.integration.known_gaps import assert_not_supported, known_gap

ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"
# Usage errors are found before any request: those tests run once, against a bucket that does
# not exist, so a request that slipped through would fail with exit 1 ("does not exist").
NEVER_CREATED = "s3://ba-never-created-bucket"


@pytest.fixture
def new_name(backend: Backend) -> Iterator[str]:
    """A bucket name nobody has taken yet; whatever a test creates under it is removed."""
    name = unique_bucket_name("ba")
    yield name
    service = S3Service(backend.session())
    with contextlib.suppress(Exception):
        service.empty_bucket(name)
        service.delete_bucket(name)


def _grants(acl: dict[str, object]) -> list[tuple[str, str]]:
    held = acl["Grants"]
    assert isinstance(held, list)
    return [
        (g["Permission"], g["Grantee"].get("URI") or g["Grantee"].get("ID") or "") for g in held
    ]


# -- list, exists, info ------------------------------------------------------------------------


def test_list_shows_buckets_with_creation_date_and_region(
    cli: CliInvoker, backend: Backend, bucket: str
) -> None:
    result = cli("bucket", "list", env=backend.env())
    assert result.exit_code == 0, result.stderr
    line = next(line for line in result.stdout.splitlines() if line.endswith(f" {bucket}"))
    date, _time, region, name = line.split()
    assert name == bucket and region == "us-east-1" and len(date) == 10

    listed = json.loads(cli("bucket", "list", "--json", env=backend.env()).stdout)
    (entry,) = [e for e in listed if e["name"] == bucket]
    assert entry["region"] == "us-east-1"
    assert entry["created"][:4].isdigit()


def test_exists_prints_yes_or_no_with_exit_code(
    cli: CliInvoker, backend: Backend, bucket: str, new_name: str
) -> None:
    found = cli("bucket", "exists", f"s3://{bucket}", env=backend.env())
    assert (found.exit_code, found.stdout, found.stderr) == (0, "yes\n", "")
    missing = cli("bucket", "exists", f"s3://{new_name}", env=backend.env())
    assert (missing.exit_code, missing.stdout, missing.stderr) == (1, "no\n", "")


def test_info_of_a_fresh_bucket(cli: CliInvoker, backend: Backend, bucket: str) -> None:
    result = cli("bucket", "info", f"s3://{bucket}", "--json", env=backend.env())
    assert result.exit_code == 0, result.stderr
    info = json.loads(result.stdout)
    assert info["bucket"] == bucket
    assert info["region"] == "us-east-1"
    for name in ("versioning", "encryption", "tags", "policy_status", "lifecycle", "website"):
        assert info[name] is None, (name, info)
    assert info["object_lock"] is None
    # not configured and not supported are both null; `errors` tells them apart
    assert info["public_access_block"] is None
    if backend.name == "seaweedfs":
        assert list(info["errors"]) == ["public_access_block"], info["errors"]
        assert info["errors"]["public_access_block"]["code"] == "NotSupported"
    else:
        assert info["errors"] == {}

    yaml_out = cli("bucket", "info", f"s3://{bucket}", env=backend.env())
    assert yaml_out.exit_code == 0, yaml_out.stderr
    assert f"bucket: {bucket}\n" in yaml_out.stdout
    assert "versioning: none\n" in yaml_out.stdout


def test_info_reports_what_is_configured(cli: CliInvoker, backend: Backend, bucket: str) -> None:
    client = backend.session().client("s3")
    client.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    client.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": [{"Key": "team", "Value": "x"}]})
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{bucket}/*",
            }
        ],
    }
    client.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
    info = json.loads(cli("bucket", "info", f"s3://{bucket}", "--json", env=backend.env()).stdout)
    assert info["versioning"] == "Enabled"
    assert info["tags"] == {"team": "x"}
    assert info["policy_status"] == {"IsPublic": True}


def test_info_of_a_missing_bucket_fails(cli: CliInvoker, backend: Backend, new_name: str) -> None:
    result = cli("bucket", "info", f"s3://{new_name}", env=backend.env())
    assert_failed(result)
    assert "does not exist" in result.stderr
    assert result.stdout == ""


# -- create ------------------------------------------------------------------------------------


def test_create_secure_applies_each_default_and_skips_what_is_unsupported(
    cli: CliInvoker, backend: Backend, new_name: str
) -> None:
    result = cli(
        "bucket", "create", f"s3://{new_name}", "--secure", "--tag", "team=data", env=backend.env()
    )
    assert result.exit_code == 0, (result.stdout, result.stderr)
    lines = result.stdout.splitlines()
    assert lines[0] == f"make_bucket: {new_name}"
    steps = {line.split(maxsplit=1)[1].split(":")[0]: line.split()[0] for line in lines[1:]}
    assert steps == {
        "default encryption (AES256)": "applied",
        "versioning": "applied",
        "public access block": "skipped" if backend.name == "seaweedfs" else "applied",
        "lifecycle": "applied",
        "tags": "applied",
    }, result.stdout
    if backend.name == "seaweedfs":
        skipped = next(line for line in lines if "public access block" in line)
        assert "does not support" in skipped and "not implemented" in skipped

    info = json.loads(cli("bucket", "info", f"s3://{new_name}", "--json", env=backend.env()).stdout)
    assert info["encryption"][0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert info["versioning"] == "Enabled"
    (rule,) = info["lifecycle"]
    assert rule["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 7}
    assert info["tags"] == {"team": "data"}
    if backend.name == "moto":
        assert info["public_access_block"] == dict.fromkeys(
            ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"),
            True,
        )


def test_create_with_acl_object_lock_and_tags(
    cli: CliInvoker, backend: Backend, new_name: str
) -> None:
    result = cli(
        "bucket",
        "create",
        f"s3://{new_name}",
        "--acl",
        "public-read",
        "--object-lock",
        "--tag",
        "env=test",
        env=backend.env(),
    )
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == [f"make_bucket: {new_name}", "  applied  tags: env=test"]
    acl = json.loads(
        cli("bucket", "acl", "get", f"s3://{new_name}", "--json", env=backend.env()).stdout
    )
    assert ("READ", ALL_USERS) in _grants(acl)
    info = json.loads(cli("bucket", "info", f"s3://{new_name}", "--json", env=backend.env()).stdout)
    assert info["object_lock"]["ObjectLockEnabled"] == "Enabled"
    assert info["tags"] == {"env": "test"}


def test_create_in_a_region(cli: CliInvoker, backend: Backend, new_name: str) -> None:
    no_regions = known_gap(backend, "bucket regions")
    result = cli("bucket", "create", f"s3://{new_name}", "--region", "eu-west-1", env=backend.env())
    assert result.exit_code == 0, result.stderr
    location = backend.session().client("s3").get_bucket_location(Bucket=new_name)
    if no_regions is not None:
        assert location.get("LocationConstraint") is None, location
        pytest.skip(no_regions)
    assert location["LocationConstraint"] == "eu-west-1"
    info = json.loads(cli("bucket", "info", f"s3://{new_name}", "--json", env=backend.env()).stdout)
    assert info["region"] == "eu-west-1"


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (["--secure", "--acl", "public-read"], "cannot be combined"),
        (["--acl", "public"], "unknown bucket ACL"),
        (["--tag", "novalue"], "not KEY=VALUE"),
    ],
)
def test_create_rejects_bad_options_before_creating(
    cli: CliInvoker, moto: Backend, args: list[str], problem: str
) -> None:
    result = cli("bucket", "create", NEVER_CREATED, *args, env=moto.env())
    assert_usage_error(result)
    assert problem in result.stderr
    assert NEVER_CREATED[5:] not in bucket_names(moto)


# -- delete ------------------------------------------------------------------------------------


def _fill(backend: Backend, bucket: str) -> None:
    """Two objects, an older version, a delete marker and an unfinished upload."""
    client = backend.session().client("s3")
    client.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    client.put_object(Bucket=bucket, Key="a.txt", Body=b"1")
    client.put_object(Bucket=bucket, Key="a.txt", Body=b"2")
    client.put_object(Bucket=bucket, Key="b.txt", Body=b"b")
    client.put_object(Bucket=bucket, Key="gone.txt", Body=b"g")
    client.delete_object(Bucket=bucket, Key="gone.txt")
    client.create_multipart_upload(Bucket=bucket, Key="big.bin")


def test_delete_force_without_terminal_or_yes_refuses_and_keeps_everything(
    cli: CliInvoker, backend: Backend, bucket: str
) -> None:
    put(backend, bucket, {"keep.txt": b"keep"})
    result = cli("bucket", "delete", f"s3://{bucket}", "--force", env=backend.env())
    assert_usage_error(result)
    assert "--yes" in result.stderr
    assert "1 object(s)" in result.stdout
    assert keys(backend, bucket) == ["keep.txt"]


def test_delete_force_yes_shows_counts_then_removes_everything(
    cli: CliInvoker, backend: Backend, new_name: str
) -> None:
    S3Service(backend.session()).create_bucket(new_name)
    _fill(backend, new_name)
    result = cli("bucket", "delete", f"s3://{new_name}", "--force", "--yes", env=backend.env())
    assert result.exit_code == 0, (result.stdout, result.stderr)
    lines = result.stdout.splitlines()
    assert lines[0] == (
        f"s3://{new_name} holds 2 object(s), 2 older version(s), 1 delete marker(s),"
        " 1 incomplete upload(s); all will be deleted."
    )
    assert lines[1:] == ["deleted 6 item(s)", f"remove_bucket: {new_name}"]
    assert new_name not in bucket_names(backend)


def test_delete_without_force_refuses_a_non_empty_bucket(
    cli: CliInvoker, backend: Backend, bucket: str
) -> None:
    put(backend, bucket, {"keep.txt": b"keep"})
    result = cli("bucket", "delete", f"s3://{bucket}", env=backend.env())
    assert_failed(result)
    assert "not empty" in result.stderr
    assert keys(backend, bucket) == ["keep.txt"]


def test_delete_an_empty_bucket(cli: CliInvoker, backend: Backend, new_name: str) -> None:
    S3Service(backend.session()).create_bucket(new_name)
    result = cli("bucket", "delete", f"s3://{new_name}", "--force", env=backend.env())
    assert result.exit_code == 0, result.stderr
    assert result.stdout == f"remove_bucket: {new_name}\n"
    assert new_name not in bucket_names(backend)


def _run_on_terminal(args: list[str], env: dict[str, str], answer: str) -> tuple[int, str]:
    """Run the real `s3kit` on a pseudo-terminal, answer its prompt, return (code, output)."""
    command = [str(Path(sys.executable).with_name("s3kit")), *args]
    primary, secondary = pty.openpty()
    process = subprocess.Popen(
        command,
        stdin=secondary,
        stdout=secondary,
        stderr=secondary,
        env={**os.environ, **env},
        start_new_session=True,
    )
    os.close(secondary)
    output = b""
    answered = False
    deadline = time.monotonic() + 30
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([primary], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(primary, 4096)
                except OSError:  # the child closed the terminal
                    break
                if not chunk:
                    break
                output += chunk
                if not answered and b"[y/N]" in output:
                    os.write(primary, answer.encode() + b"\n")
                    answered = True
            elif process.poll() is not None:
                break
        code = process.wait(timeout=10)
    finally:
        os.close(primary)
        if process.poll() is None:
            process.kill()
    assert answered, output
    return code, output.decode(errors="replace").replace("\r\n", "\n")


def test_delete_force_on_a_terminal_asks_first(
    backend: Backend, bucket: str, new_name: str
) -> None:
    put(backend, bucket, {"keep.txt": b"keep"})
    args = ["bucket", "delete", f"s3://{bucket}", "--force"]
    code, output = _run_on_terminal(args, backend.env(), "n")
    assert code == 1, output
    assert "1 object(s)" in output and "aborted" in output
    assert keys(backend, bucket) == ["keep.txt"]

    S3Service(backend.session()).create_bucket(new_name)
    put(backend, new_name, {"go.txt": b"go"})
    code, output = _run_on_terminal(
        ["bucket", "delete", f"s3://{new_name}", "--force"], backend.env(), "y"
    )
    assert code == 0, output
    assert f"remove_bucket: {new_name}" in output
    assert new_name not in bucket_names(backend)


# -- tags --------------------------------------------------------------------------------------


def test_tags_set_add_remove_get(cli: CliInvoker, backend: Backend, bucket: str) -> None:
    url, env = f"s3://{bucket}", backend.env()
    service = S3Service(backend.session())
    empty = cli("bucket", "tags", "get", url, "--json", env=env)
    assert (empty.exit_code, json.loads(empty.stdout)) == (0, {})

    result = cli("bucket", "tags", "set", url, "team=data", "env=prod", env=env)
    assert (result.exit_code, result.stdout) == (0, "tags: team=data, env=prod\n"), result.stderr
    result = cli("bucket", "tags", "add", url, "env=test", "owner=alice", env=env)
    assert result.exit_code == 0, result.stderr
    assert service.get_bucket_tags(bucket) == {"team": "data", "env": "test", "owner": "alice"}

    result = cli("bucket", "tags", "remove", url, "team", "nope", env=env)
    assert result.exit_code == 0, result.stderr
    assert result.stderr == "s3kit: tag 'nope' was not set\n"
    assert cli("bucket", "tags", "get", url, env=env).stdout == "env: test\nowner: alice\n"

    result = cli("bucket", "tags", "set", url, "only=one", env=env)
    assert service.get_bucket_tags(bucket) == {"only": "one"}
    result = cli("bucket", "tags", "remove", url, "only", env=env)
    assert result.stdout == "tags: (none)\n"
    assert service.get_bucket_tags(bucket) == {}


def test_tags_bad_pair_is_a_usage_error(cli: CliInvoker, moto: Backend) -> None:
    result = cli("bucket", "tags", "add", NEVER_CREATED, "a=1", "a=2", env=moto.env())
    assert_usage_error(result)
    assert "given twice" in result.stderr


# -- policy ------------------------------------------------------------------------------------


def _no_policy(backend: Backend, bucket: str) -> bool:
    return S3Service(backend.session()).get_bucket_policy(bucket) is None


def test_policy_set_from_file_get_and_delete(
    cli: CliInvoker, backend: Backend, bucket: str, tmp_path: Path
) -> None:
    url, env = f"s3://{bucket}", backend.env()
    assert cli("bucket", "policy", "get", url, env=env).stdout == "none\n"
    document = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ReadReports",
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{bucket}/reports/*",
            }
        ],
    }
    file = tmp_path / "policy.json"
    file.write_text(json.dumps(document, indent=2))
    result = cli("bucket", "policy", "set", url, str(file), env=env)
    assert result.exit_code == 0, result.stderr
    assert result.stdout == f"policy set on {url} (1 statement(s))\n"
    got = cli("bucket", "policy", "get", url, "--json", env=env)
    assert json.loads(got.stdout) == document

    result = cli("bucket", "policy", "delete", url, env=env)
    assert result.exit_code == 0, result.stderr
    assert cli("bucket", "policy", "get", url, env=env).stdout == "none\n"


def test_policy_canned_public_read(cli: CliInvoker, backend: Backend, bucket: str) -> None:
    url = f"s3://{bucket}"
    result = cli("bucket", "policy", "set", url, "--canned", "public-read", env=backend.env())
    assert result.exit_code == 0, result.stderr
    policy = json.loads(cli("bucket", "policy", "get", url, "--json", env=backend.env()).stdout)
    (statement,) = policy["Statement"]
    assert statement["Resource"] == f"arn:aws:s3:::{bucket}/*"
    assert statement["Action"] == "s3:GetObject"


def _assert_secure_transport_enforced(backend: Backend, bucket: str) -> None:
    """Over plain HTTP, a Deny on aws:SecureTransport=false applies: shown on GetObject of one
    prefix, so that the policy can still be deleted afterwards."""
    client = backend.session().client("s3")
    client.put_object(Bucket=bucket, Key="locked/x", Body=b"x")
    statement = {
        "Effect": "Deny", "Principal": "*", "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{bucket}/locked/*",
        "Condition": {"Bool": {"aws:SecureTransport": "false"}},
    }  # fmt: skip
    policy = {"Version": "2012-10-17", "Statement": [statement]}
    client.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
    try:
        with pytest.raises(client.exceptions.ClientError) as denied:
            client.get_object(Bucket=bucket, Key="locked/x")
        assert denied.value.response["Error"]["Code"] == "AccessDenied"
    finally:
        client.delete_bucket_policy(Bucket=bucket)


def test_policy_deny_insecure_transport_over_http_needs_yes(
    cli: CliInvoker, backend: Backend, bucket: str
) -> None:
    locks_out = known_gap(backend, "deny-insecure-transport over plain HTTP")
    url = f"s3://{bucket}"
    args = ["bucket", "policy", "set", url, "--canned", "deny-insecure-transport"]
    refused = cli(*args, env=backend.env())
    assert_usage_error(refused)
    assert "plain HTTP" in refused.stderr and "--yes" in refused.stderr
    assert _no_policy(backend, bucket)
    if locks_out is not None:
        _assert_secure_transport_enforced(backend, bucket)
        pytest.skip(locks_out)
    result = cli(*args, "--yes", env=backend.env())
    assert result.exit_code == 0, result.stderr
    policy = json.loads(cli("bucket", "policy", "get", url, "--json", env=backend.env()).stdout)
    assert policy["Statement"][0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_policy_invalid_json_is_one_line_naming_line_and_column(
    cli: CliInvoker, backend: Backend, bucket: str, tmp_path: Path
) -> None:
    file = tmp_path / "bad.json"
    file.write_text(
        '{\n  "Version": "2012-10-17",\n  "Statement": [\n    {"Effect": "Allow",}\n  ]\n}\n'
    )
    result = cli("bucket", "policy", "set", f"s3://{bucket}", str(file), env=backend.env())
    assert_usage_error(result)
    assert f"{file} is not valid JSON" in result.stderr
    assert "line 4, column" in result.stderr
    assert _no_policy(backend, bucket)


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (["--canned", "public-write"], "unknown canned policy 'public-write'"),
        ([], "give a policy FILE or --canned"),
        (["statement.json"], 'Effect must be "Allow" or "Deny"'),
        (["missing.json"], "cannot read"),
    ],
)
def test_policy_bad_input_is_a_usage_error(
    cli: CliInvoker,
    moto: Backend,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    problem: str,
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "statement.json").write_text(
        json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "allow", "Principal": "*", "Action": "s3:*", "Resource": "*"}
                ],
            }
        )
    )
    result = cli("bucket", "policy", "set", NEVER_CREATED, *args, env=moto.env())
    assert_usage_error(result)
    assert problem in result.stderr


# -- ACLs --------------------------------------------------------------------------------------


def test_bucket_acl_canned_set_and_get(cli: CliInvoker, backend: Backend, bucket: str) -> None:
    url, env = f"s3://{bucket}", backend.env()
    service = S3Service(backend.session())
    before = json.loads(cli("bucket", "acl", "get", url, "--json", env=env).stdout)
    owner = before["Owner"]["ID"]
    assert _grants(before) == [("FULL_CONTROL", owner)]

    result = cli("bucket", "acl", "set", url, "--acl", "public-read", env=env)
    assert (result.exit_code, result.stdout, result.stderr) == (0, f"acl set on {url}\n", "")
    assert ("READ", ALL_USERS) in _grants(service.get_bucket_acl(bucket))
    assert "URI: http://acs.amazonaws.com/groups/global/AllUsers" in (
        cli("bucket", "acl", "get", url, env=env).stdout
    )

    cli("bucket", "acl", "set", url, "--acl", "private", env=env)
    assert _grants(service.get_bucket_acl(bucket)) == [("FULL_CONTROL", owner)]


def test_bucket_acl_explicit_grants(cli: CliInvoker, backend: Backend, bucket: str) -> None:
    url, env = f"s3://{bucket}", backend.env()
    service = S3Service(backend.session())
    owner = service.get_bucket_acl(bucket)["Owner"]["ID"]
    result = cli(
        "bucket", "acl", "set", url,
        "--grant-read", "group=AllUsers",
        "--grant-read-acp", "id=reader-canonical-id",
        "--grant-full-control", f"id={owner}",
        env=env,
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    grants = _grants(service.get_bucket_acl(bucket))
    assert ("FULL_CONTROL", owner) in grants
    if backend.name == "seaweedfs":
        # SeaweedFS accepts grants to grantees that are not its own identities and drops
        # them: s3kit reads the ACL back and says so.
        assert grants == [("FULL_CONTROL", owner)]
        assert result.stderr == (
            f's3kit: warning: the server did not keep READ for uri="{ALL_USERS}",'
            ' READ_ACP for id="reader-canonical-id"\n'
        )
    else:
        assert result.stderr == ""
        assert ("READ", ALL_USERS) in grants
        assert ("READ_ACP", "reader-canonical-id") in grants


def test_every_grant_asked_for_is_kept_or_reported(
    cli: CliInvoker, backend: Backend, bucket: str
) -> None:
    """Several grantees for one permission: whatever the server keeps, nothing is lost
    silently (moto keeps only the first grantee of each header, SeaweedFS only its own ids)."""
    service = S3Service(backend.session())
    owner = service.get_bucket_acl(bucket)["Owner"]["ID"]
    asked = [("READ", "reader-one"), ("READ", "reader-two"), ("FULL_CONTROL", owner)]
    options = [
        x for p, who in asked for x in (f"--grant-{p.lower().replace('_', '-')}", f"id={who}")
    ]
    result = cli("bucket", "acl", "set", f"s3://{bucket}", *options, env=backend.env())
    assert result.exit_code == 0, result.stderr
    grants = _grants(service.get_bucket_acl(bucket))
    for permission, who in asked:
        reported = f'{permission} for id="{who}"' in result.stderr
        assert ((permission, who) in grants) != reported, (permission, who, grants, result.stderr)


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (["--acl", "public"], "unknown ACL 'public'"),
        (["--acl", "private", "--grant-read", "id=x"], "not both"),
        ([], "at least one --grant-*"),
        (["--grant-read", "someone"], "not id=CANONICAL_ID"),
    ],
)
def test_bucket_acl_bad_input(
    cli: CliInvoker, moto: Backend, args: list[str], problem: str
) -> None:
    result = cli("bucket", "acl", "set", NEVER_CREATED, *args, env=moto.env())
    assert_usage_error(result)
    assert problem in result.stderr


def test_object_acl_set_and_get(cli: CliInvoker, backend: Backend, bucket: str) -> None:
    put(backend, bucket, {"doc.txt": b"doc"})
    url, env = f"s3://{bucket}/doc.txt", backend.env()
    before = _grants(json.loads(cli("bucket", "object-acl", "get", url, "--json", env=env).stdout))
    assert [p for p, _ in before] == ["FULL_CONTROL"]

    result = cli("bucket", "object-acl", "set", url, "--acl", "public-read", env=env)
    assert (result.exit_code, result.stdout, result.stderr) == (0, f"acl set on {url}\n", "")
    after = _grants(json.loads(cli("bucket", "object-acl", "get", url, "--json", env=env).stdout))
    assert ("READ", ALL_USERS) in after

    result = cli("bucket", "object-acl", "set", url, "--acl", "bucket-owner-full-control", env=env)
    assert result.exit_code == 0, result.stderr


def test_object_acl_errors(cli: CliInvoker, backend: Backend, bucket: str) -> None:
    env = backend.env()
    not_object = cli("bucket", "object-acl", "get", f"s3://{bucket}", env=env)
    assert_usage_error(not_object)
    assert "does not name an object" in not_object.stderr
    missing = cli("bucket", "object-acl", "get", f"s3://{bucket}/missing.txt", env=env)
    assert_failed(missing)
    assert "does not exist" in missing.stderr


# -- public access block -----------------------------------------------------------------------


def test_public_access_block_set_get_delete(cli: CliInvoker, backend: Backend, bucket: str) -> None:
    lacks = known_gap(backend, "public access block")
    url, env = f"s3://{bucket}", backend.env()
    first = cli("bucket", "public-access-block", "get", url, env=env)
    if lacks is not None:
        assert_not_supported(first)
        pytest.skip(lacks)
    assert (first.exit_code, first.stdout) == (0, "none\n"), first.stderr

    result = cli("bucket", "public-access-block", "set", url, "--all", "--json", env=env)
    assert result.exit_code == 0, result.stderr
    every = dict.fromkeys(
        ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"), True
    )
    assert json.loads(result.stdout) == every

    result = cli("bucket", "public-access-block", "set", url, "--no-block-public-policy", env=env)
    assert result.exit_code == 0, result.stderr
    got = json.loads(cli("bucket", "public-access-block", "get", url, "--json", env=env).stdout)
    assert got == {**every, "BlockPublicPolicy": False}

    result = cli("bucket", "public-access-block", "delete", url, env=env)
    assert result.exit_code == 0, result.stderr
    assert cli("bucket", "public-access-block", "get", url, env=env).stdout == "none\n"


def test_public_access_block_unsupported_is_one_clear_line(
    cli: CliInvoker, seaweed: Backend, tmp_path: Path
) -> None:
    name = unique_bucket_name("ba")
    service = S3Service(seaweed.session())
    service.create_bucket(name)
    try:
        result = cli(
            "bucket", "public-access-block", "set", f"s3://{name}", "--all", env=seaweed.env()
        )
        assert_failed(result)
        assert "does not support" in result.stderr
    finally:
        service.delete_bucket(name)


@pytest.mark.parametrize(
    ("args", "problem"),
    [([], "at least one setting"), (["--all", "--no-ignore-public-acls"], "cannot be combined")],
)
def test_public_access_block_bad_flags(
    cli: CliInvoker, moto: Backend, args: list[str], problem: str
) -> None:
    result = cli("bucket", "public-access-block", "set", NEVER_CREATED, *args, env=moto.env())
    assert_usage_error(result)
    assert problem in result.stderr
