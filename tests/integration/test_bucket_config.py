"""`s3kit bucket <configuration> ...`: set → get → delete round trips on every backend.

Where a backend lacks a configuration (tests/integration/known_gaps.py, looked up before any
call), the test asserts the gap as observed — for SeaweedFS the command fails with one
NotSupported line ("... does not support ..."); for moto, which stands in for AWS, what it
answers where it accepts a request and then reads nothing back — and skips the rest with the
reason. Anywhere else any failure fails the test, and so does a gap that has closed.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from s3kit.service import S3Service
from tests.conftest import Backend, CliInvoker, CliResult, unique_bucket_name
from tests.integration.cli_support import assert_failed, assert_usage_error, bucket_names, put
from tests.integration.known_gaps import assert_not_supported, known_gap


class Bucket:
    """Runs `s3kit bucket <group> <command> s3://NAME ...` against one backend."""

    def __init__(self, cli: CliInvoker, backend: Backend, name: str) -> None:
        self.cli, self.backend, self.name = cli, backend, name

    def run(self, group: str, command: str, *args: str, target: str | None = None) -> CliResult:
        where = target if target is not None else f"s3://{self.name}"
        return self.cli("bucket", *group.split(), command, where, *args, env=self.backend.env())

    def ok(self, group: str, command: str, *args: str, target: str | None = None) -> CliResult:
        result = self.run(group, command, *args, target=target)
        assert result.exit_code == 0, (result.stdout, result.stderr)
        return result

    def needs(self, feature: str, group: str, command: str, *args: str) -> CliResult:
        """Runs a command that needs `feature`: where the backend is known to lack it, the
        command must fail with one NotSupported line and the rest of the test is skipped;
        elsewhere it must work."""
        gap = known_gap(self.backend, feature)
        result = self.run(group, command, *args)
        if gap is not None:
            assert_not_supported(result)
            pytest.skip(gap)
        assert result.exit_code == 0, (result.stdout, result.stderr)
        return result

    def get_json(self, group: str, *args: str, target: str | None = None) -> Any:
        return json.loads(self.ok(group, "get", *args, "--json", target=target).stdout)


@pytest.fixture
def b(cli: CliInvoker, backend: Backend, bucket: str) -> Bucket:
    return Bucket(cli, backend, bucket)


@pytest.fixture
def offline(cli: CliInvoker) -> Bucket:
    """For usage errors: its endpoint is a closed loopback port, so a command that sent
    anything would fail with exit 1 (unreachable) rather than 2."""
    return Bucket(cli, Backend("offline", "http://127.0.0.1:9", "key", "secret"), "offline")


# -- versioning --------------------------------------------------------------------------------


def test_versioning_enable_suspend(b: Bucket) -> None:
    assert b.ok("versioning", "get").stdout == f"s3://{b.name} has no versioning\n"
    assert b.ok("versioning", "enable").stdout == f"versioning of s3://{b.name}: Enabled\n"
    assert b.get_json("versioning")["Status"] == "Enabled"
    # Both servers take the MFA header without checking the code (AWS would check it).
    b.ok("versioning", "suspend", "--mfa", "arn:aws:iam::123456789012:mfa/root 123456")
    assert "Status: Suspended" in b.ok("versioning", "get").stdout


def test_versioning_mfa_usage_errors(offline: Bucket) -> None:
    result = offline.run("versioning", "enable", "--mfa-delete")
    assert_usage_error(result)
    assert "needs --mfa" in result.stderr
    result = offline.run("versioning", "suspend", "--mfa", "123456")
    assert_usage_error(result)
    assert "6-digit code" in result.stderr


# -- lifecycle ---------------------------------------------------------------------------------


def test_lifecycle_from_flags_round_trip(b: Bucket) -> None:
    assert b.ok("lifecycle", "get").stdout == f"s3://{b.name} has no lifecycle configuration\n"
    b.ok(
        "lifecycle", "set", "--id", "logs", "--prefix", "logs/", "--expire-days", "30",
        "--noncurrent-expire-days", "7", "--abort-multipart-days", "2",
    )  # fmt: skip
    (rule,) = b.get_json("lifecycle")["Rules"]
    assert rule["ID"] == "logs"
    assert rule["Status"] == "Enabled"
    assert rule["Filter"] == {"Prefix": "logs/"}
    assert rule["Expiration"] == {"Days": 30}
    assert rule["NoncurrentVersionExpiration"]["NoncurrentDays"] == 7
    assert rule["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 2}
    assert b.ok("lifecycle", "delete").stdout.startswith("deleted the lifecycle configuration")
    assert "has no lifecycle configuration" in b.ok("lifecycle", "get").stdout


def test_lifecycle_transitions(b: Bucket) -> None:
    args = ("--transition", "30:STANDARD_IA", "--transition", "90:glacier", "--expire-days", "400")
    b.needs("lifecycle transitions", "lifecycle", "set", *args)
    (rule,) = b.get_json("lifecycle")["Rules"]
    assert rule["Transitions"] == [
        {"Days": 30, "StorageClass": "STANDARD_IA"},
        {"Days": 90, "StorageClass": "GLACIER"},
    ]


def test_lifecycle_get_output_is_accepted_back(b: Bucket, tmp_path: Path) -> None:
    document = tmp_path / "lifecycle.yaml"
    document.write_text(
        "Rules:\n"
        "  - ID: tmp\n    Status: Enabled\n    Filter: {Prefix: tmp/}\n    Expiration: {Days: 1}\n"
        "  - ID: old\n    Status: Disabled\n    Filter: {}\n    Expiration: {Days: 90}\n"
    )
    b.ok("lifecycle", "set", "--file", str(document))
    document.write_text(b.ok("lifecycle", "get").stdout)
    b.ok("lifecycle", "set", "--file", str(document))
    rules = b.get_json("lifecycle")["Rules"]
    assert [(r["ID"], r["Status"]) for r in rules] == [("tmp", "Enabled"), ("old", "Disabled")]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--prefix", "logs/"), "nothing to set"),
        (("--expire-days", "0"), "above 0"),
        (("--transition", "30:GLACIERR"), "unknown storage class 'GLACIERR'"),
        (("--transition", "GLACIER"), "DAYS:CLASS"),
        (("--expire-days", "3", "--file", "x.yaml"), "not both"),
    ],
)
def test_lifecycle_usage_errors(offline: Bucket, args: tuple[str, ...], message: str) -> None:
    result = offline.run("lifecycle", "set", *args)
    assert_usage_error(result)
    assert message in result.stderr


def test_lifecycle_file_errors_name_the_line_and_rule(offline: Bucket, tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("Rules:\n  - ID: a\n    Status: [Enabled\n")
    result = offline.run("lifecycle", "set", "--file", str(broken))
    assert_usage_error(result)
    assert "broken.yaml at line" in result.stderr
    no_action = tmp_path / "no-action.json"
    no_action.write_text(json.dumps({"Rules": [{"ID": "x", "Status": "Enabled"}]}))
    result = offline.run("lifecycle", "set", "--file", str(no_action))
    assert_usage_error(result)
    assert "rule 1 (x) has no action" in result.stderr


def test_configuration_of_a_missing_bucket_fails(cli: CliInvoker, backend: Backend) -> None:
    missing = unique_bucket_name("missing")
    for group in ("lifecycle", "encryption"):
        result = cli("bucket", group, "get", f"s3://{missing}", env=backend.env())
        assert_failed(result)
        assert "does not exist" in result.stderr


# -- website, CORS, encryption -----------------------------------------------------------------


def test_website_round_trip(b: Bucket) -> None:
    result = b.needs(
        "website hosting", "website", "set", "--index", "index.html", "--error", "404.html"
    )
    assert "website endpoint: depends on the server at http://127.0.0.1:" in result.stdout
    printed = b.ok("website", "get").stdout
    assert "# website endpoint: depends on the server" in printed
    assert yaml.safe_load(printed) == {
        "IndexDocument": {"Suffix": "index.html"},
        "ErrorDocument": {"Key": "404.html"},
    }
    b.ok("website", "set", "--redirect-host", "example.com", "--redirect-protocol", "https")
    assert b.get_json("website") == {
        "RedirectAllRequestsTo": {"HostName": "example.com", "Protocol": "https"}
    }
    b.ok("website", "delete")
    assert b.ok("website", "get").stdout == f"s3://{b.name} has no website configuration\n"


def test_website_usage_errors(offline: Bucket) -> None:
    result = offline.run("website", "set", "--error", "404.html")
    assert_usage_error(result)
    assert "needs an index document" in result.stderr


def test_cors_round_trip(b: Bucket, tmp_path: Path) -> None:
    b.ok(
        "cors", "set", "--allowed-origin", "https://a.example", "--allowed-method", "GET",
        "--allowed-method", "put", "--allowed-header", "*", "--max-age", "300",
    )  # fmt: skip
    (rule,) = b.get_json("cors")["CORSRules"]
    assert rule["AllowedOrigins"] == ["https://a.example"]
    assert rule["AllowedMethods"] == ["GET", "PUT"]
    assert rule["AllowedHeaders"] == ["*"]
    assert rule["MaxAgeSeconds"] == 300
    two_rules = tmp_path / "cors.json"
    two_rules.write_text(
        json.dumps(
            {
                "CORSRules": [
                    {"AllowedOrigins": ["*"], "AllowedMethods": ["GET"]},
                    {"AllowedOrigins": ["https://b.example"], "AllowedMethods": ["POST"]},
                ]
            }
        )
    )
    b.ok("cors", "set", "--file", str(two_rules))
    rules = b.get_json("cors")["CORSRules"]
    assert [r["AllowedMethods"] for r in rules] == [["GET"], ["POST"]]
    b.ok("cors", "delete")
    assert b.ok("cors", "get").stdout == f"s3://{b.name} has no CORS configuration\n"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--allowed-method", "GET"), "no allowed origins"),
        (("--allowed-origin", "*"), "no allowed methods"),
        (("--allowed-origin", "*", "--allowed-method", "FETCH"), "unknown method 'FETCH'"),
    ],
)
def test_cors_usage_errors(offline: Bucket, args: tuple[str, ...], message: str) -> None:
    result = offline.run("cors", "set", *args)
    assert_usage_error(result)
    assert message in result.stderr


def test_encryption_round_trip(b: Bucket) -> None:
    b.ok("encryption", "set")  # SSE-S3 when nothing else is said
    (rule,) = b.get_json("encryption")["Rules"]
    assert rule["ApplyServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}
    b.ok("encryption", "set", "--kms-key-id", "alias/s3kit-test", "--bucket-key")
    (rule,) = b.get_json("encryption")["Rules"]
    assert rule["ApplyServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": "aws:kms",
        "KMSMasterKeyID": "alias/s3kit-test",
    }
    assert rule["BucketKeyEnabled"] is True
    b.ok("encryption", "delete")
    assert b.ok("encryption", "get").stdout == f"s3://{b.name} has no default encryption\n"
    b.ok("encryption", "delete")  # deleting nothing is fine


def test_encryption_usage_errors(offline: Bucket) -> None:
    result = offline.run("encryption", "set", "--sse", "AES256", "--kms-key-id", "alias/k")
    assert_usage_error(result)
    assert "needs the aws:kms algorithm" in result.stderr


# -- replication, notifications, acceleration --------------------------------------------------


def test_replication_round_trip(b: Bucket) -> None:
    assert "has no replication configuration" in b.ok("replication", "get").stdout
    b.ok("versioning", "enable")
    role = "arn:aws:iam::123456789012:role/replication"
    b.needs(
        "replication", "replication", "set", "--role", role,
        "--destination", "arn:aws:s3:::s3kit-copy", "--id", "all",
    )  # fmt: skip
    config = b.get_json("replication")
    assert config["Role"] == role
    (rule,) = config["Rules"]
    assert rule["ID"] == "all"
    assert rule["Destination"]["Bucket"] == "arn:aws:s3:::s3kit-copy"
    b.ok("replication", "delete")
    assert "has no replication configuration" in b.ok("replication", "get").stdout


def test_notifications_round_trip(b: Bucket) -> None:
    assert "has no event notifications" in b.ok("notifications", "get").stdout
    queue = "arn:aws:sqs:us-east-1:123456789012:uploads"
    b.needs(
        "event notifications", "notifications", "set", "--target", queue,
        "--event", "s3:ObjectCreated:Put", "--prefix", "in/", "--suffix", ".jpg", "--id", "jpgs",
    )  # fmt: skip
    (entry,) = b.get_json("notifications")["QueueConfigurations"]
    assert entry["QueueArn"] == queue
    assert entry["Events"] == ["s3:ObjectCreated:Put"]
    assert entry["Filter"]["Key"]["FilterRules"] == [
        {"Name": "prefix", "Value": "in/"},
        {"Name": "suffix", "Value": ".jpg"},
    ]
    b.ok("notifications", "delete")
    assert "has no event notifications" in b.ok("notifications", "get").stdout


def test_replication_and_notification_usage_errors(offline: Bucket) -> None:
    result = offline.run("replication", "set", "--destination", "arn:aws:s3:::copy")
    assert_usage_error(result)
    assert "--role" in result.stderr
    result = offline.run("notifications", "set", "--target", "arn:aws:s3:::bucket")
    assert_usage_error(result)
    assert "not an SNS topic, SQS queue or Lambda" in result.stderr


def test_acceleration_enable_suspend(b: Bucket) -> None:
    # never configured: null (moto); SeaweedFS answers Suspended
    assert b.get_json("acceleration") in (None, {"Status": "Suspended"})
    b.needs("transfer acceleration", "acceleration", "enable")
    assert b.get_json("acceleration") == {"Status": "Enabled"}
    b.ok("acceleration", "suspend")
    assert b.get_json("acceleration") == {"Status": "Suspended"}


# -- object lock -------------------------------------------------------------------------------


@pytest.fixture
def locked(cli: CliInvoker, backend: Backend) -> Iterator[Bucket]:
    """A bucket created with object lock enabled; afterwards its versions are removed with
    governance bypass (what cannot be removed is left for the server's end)."""
    name = unique_bucket_name("lock")
    client = backend.session().client("s3")
    client.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)
    yield Bucket(cli, backend, name)
    with contextlib.suppress(Exception):
        listing = client.list_object_versions(Bucket=name)
        for version in listing.get("Versions", []):
            client.delete_object(
                Bucket=name, Key=version["Key"], VersionId=version["VersionId"],
                BypassGovernanceRetention=True,
            )  # fmt: skip
        client.delete_bucket(Bucket=name)


def test_object_lock_configuration(locked: Bucket) -> None:
    assert locked.get_json("object-lock") == {"ObjectLockEnabled": "Enabled"}
    locked.ok("object-lock", "set", "--mode", "governance", "--days", "1")
    config = locked.get_json("object-lock")
    assert config["ObjectLockEnabled"] == "Enabled"
    retention = config["Rule"]["DefaultRetention"]
    assert (retention["Mode"], retention["Days"], retention.get("Years", 0)) == ("GOVERNANCE", 1, 0)


def test_object_retention_and_legal_hold(locked: Bucket) -> None:
    unreadable = known_gap(locked.backend, "object retention read back")
    put(locked.backend, locked.name, {"contract.pdf": b"signed"})
    target = f"s3://{locked.name}/contract.pdf"
    assert locked.ok("object-lock legal-hold", "get", target=target).stdout == "OFF\n"
    locked.ok("object-lock legal-hold", "set", "on", target=target)
    assert locked.ok("object-lock legal-hold", "get", target=target).stdout == "ON\n"
    locked.ok("object-lock legal-hold", "set", "OFF", target=target)
    result = locked.ok(
        "object-lock retention", "set", "--mode", "GOVERNANCE", "--until", "2099-01-31",
        target=target,
    )  # fmt: skip
    assert "retained (GOVERNANCE) until 2099-01-31" in result.stdout
    got = locked.run("object-lock retention", "get", "--json", target=target)
    if unreadable is not None:
        assert_failed(got)
        assert "(500" in got.stderr, got.stderr
        pytest.skip(unreadable)
    assert got.exit_code == 0, got.stderr
    retention = json.loads(got.stdout)
    assert retention["Mode"] == "GOVERNANCE"
    assert retention["RetainUntilDate"].startswith("2099-01-31")


def test_object_lock_usage_errors(offline: Bucket) -> None:
    result = offline.run("object-lock", "set", "--mode", "GOVERNANCE")
    assert_usage_error(result)
    assert "either days or years" in result.stderr
    target = "s3://offline/k"
    result = offline.run(
        "object-lock retention", "set", "--mode", "GOVERNANCE", "--until", "2001-01-01",
        target=target,
    )  # fmt: skip
    assert_usage_error(result)
    assert "in the past" in result.stderr
    result = offline.run("object-lock retention", "set", "--days", "3", target=target)
    assert_usage_error(result)
    assert "--mode" in result.stderr
    result = offline.run("object-lock retention", "get", target="s3://offline")
    assert_usage_error(result)
    assert "names no object" in result.stderr


# -- inventory, analytics, metrics, intelligent tiering ----------------------------------------

ID_FLAGS = {
    "inventory": ("--destination", "arn:aws:s3:::s3kit-reports", "--prefix", "data/"),
    "analytics": ("--prefix", "data/"),
    "metrics": ("--prefix", "data/"),
    "intelligent-tiering": ("--archive-days", "90"),
}


@pytest.mark.parametrize("kind", list(ID_FLAGS))
def test_id_configuration_round_trip(b: Bucket, kind: str) -> None:
    unreadable = known_gap(b.backend, f"{kind} configurations read back")
    undeletable = known_gap(b.backend, f"{kind} configurations deleted")
    put(b.backend, b.name, {"keep": b"a misrouted DELETE must not take the bucket with it"})
    assert b.ok(kind, "get", "c1").stdout == f"s3://{b.name} has no {kind} configuration 'c1'\n"
    b.needs(f"{kind} configurations", kind, "set", "--id", "c1", *ID_FLAGS[kind])
    got = b.ok(kind, "get", "c1", "--json").stdout
    if unreadable is not None:
        assert got == "null\n"
        pytest.skip(unreadable)
    assert json.loads(got)["Id"] == "c1"
    assert b.ok(kind, "list").stdout == "c1\n"
    deleted = b.run(kind, "delete", "c1")
    if undeletable is not None:
        assert_not_supported(deleted)
        assert "as if asked to delete the bucket" in deleted.stderr
        assert b.name in bucket_names(b.backend)
        pytest.skip(undeletable)
    assert deleted.exit_code == 0, deleted.stderr
    assert b.ok(kind, "list").stdout == ""


def test_inventory_from_a_file_with_the_id_on_the_command_line(b: Bucket, tmp_path: Path) -> None:
    document = tmp_path / "inventory.yaml"
    document.write_text(
        "Schedule: {Frequency: Weekly}\n"
        "Destination:\n  S3BucketDestination: {Bucket: 'arn:aws:s3:::reports', Format: CSV}\n"
    )
    b.needs("inventory configurations", "inventory", "set", "--file", str(document), "--id", "w")
    assert b.get_json("inventory", "w")["Schedule"] == {"Frequency": "Weekly"}


def test_id_configuration_usage_errors(offline: Bucket) -> None:
    result = offline.run("metrics", "set", "--prefix", "p/")
    assert_usage_error(result)
    assert "--id" in result.stderr
    result = offline.run("intelligent-tiering", "set", "--id", "t")
    assert_usage_error(result)
    assert "--archive-days" in result.stderr


def test_deleting_what_is_not_there_keeps_the_bucket(b: Bucket) -> None:
    """SeaweedFS and moto treat a DELETE with a sub-resource they lack as DeleteBucket; on an
    empty bucket that would delete it, so s3kit only deletes what a GET has found."""
    for group in ("website", "replication", "notifications", "lifecycle", "cors", "encryption"):
        assert b.ok(group, "delete").exit_code == 0
    for kind in ID_FLAGS:
        b.ok(kind, "delete", "nothing-here")
    assert b.name in bucket_names(b.backend)


# -- the library alone -------------------------------------------------------------------------


def test_library_round_trip(backend: Backend, bucket: str) -> None:
    service = S3Service(backend.session())
    assert service.get_cors(bucket) is None
    assert service.get_object_lock(bucket) is None
    assert service.get_versioning(bucket) == {}
    service.set_cors(bucket, {"CORSRules": [{"AllowedOrigins": ["*"], "AllowedMethods": ["HEAD"]}]})
    cors = service.get_cors(bucket)
    assert cors is not None
    assert cors["CORSRules"][0]["AllowedMethods"] == ["HEAD"]
    service.delete_cors(bucket)
    assert service.get_cors(bucket) is None
