"""The configuration store's pure core: keys, the bundle digest, release manifests, pointers and
log records read back, store.json, the promotion decision, diffs and secret masking, batch
plans, and the local side (bundles read, validated where they will be laid out, pulled folders
written whole)."""

from __future__ import annotations

import hashlib
import json
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from s3kit.configs.batch import parse_batch_plan
from s3kit.configs.bundle import (
    MARKER,
    Bundle,
    check_bundle,
    read_bundle,
    validate_config,
    write_folder,
)
from s3kit.configs.layout import (
    FileEntry,
    Head,
    LogRecord,
    Release,
    StoreSettings,
    Validation,
    bundle_digest,
    check_env,
    check_path,
    check_tool,
    head_key,
    log_seq,
    parse_ref,
    release_key,
    release_number,
)
from s3kit.configs.outcomes import diff_files, promotion_refusal
from s3kit.configs.secrets import find_secrets, mask_secrets, masked_diff
from s3kit.errors import S3KitError, UsageError

A = FileEntry.of("prometheus.yml", b"global: {}\n")
B = FileEntry.of("rules/disk.yml", b"groups: []\n")
NOW = datetime(2026, 12, 1, 18, 0, tzinfo=UTC)


def release(number: int = 1, files: tuple[FileEntry, ...] = (A, B), **fields: Any) -> Release:
    base: dict[str, Any] = {
        "tool": "prometheus",
        "env": "staging",
        "number": number,
        "files": files,
        "created": "2026-12-01T18:00:00Z",
        "author": "alice <alice@example.com>",
        "message": "alert on disk",
        "parent": None,
        "validation": Validation("promtool 2.42.0", 1),
        "git": {"commit": "0" * 40, "dirty": False},
    }
    return Release(**(base | fields))


def move(seq: int = 1, to: int = 1, when: str = "2026-12-01T18:00:00Z", **fields: Any) -> LogRecord:
    base: dict[str, Any] = {
        "seq": seq,
        "tool": "prometheus",
        "env": "staging",
        "action": "push",
        "from_release": None if seq == 1 else seq - 1,
        "to_release": to,
        "digest": release().digest,
        "who": "alice",
        "when": when,
        "id": "0123456789abcdef",
    }
    return LogRecord(**(base | fields))


# -- keys and names ---------------------------------------------------------------------------


def test_keys_follow_the_documented_layout() -> None:
    assert release_key("loki", "prod", 12) == "releases/loki/prod/12.json"
    assert head_key("prod", "loki") == "envs/prod/loki/HEAD.json"
    assert move(seq=42).key == "envs/staging/prometheus/log/00000042-20261201T180000Z.json"
    assert release_number("12.json") == 12
    assert [release_number(n) for n in ("0.json", "x.json", "12.json.bak", "012.json")] == [
        None
    ] * 4
    assert log_seq("00000042-20261201T180000Z.json") == 42


def test_log_names_sort_by_move_whatever_the_clock_says() -> None:
    later_but_earlier_clock = move(seq=10, when="2026-01-01T00:00:00Z")
    earlier = move(seq=9, when="2026-12-31T00:00:00Z")
    assert sorted([later_but_earlier_clock.name, earlier.name]) == [
        earlier.name,
        later_but_earlier_clock.name,
    ]


@pytest.mark.parametrize(
    "path", ["", "/etc/passwd", "../x", "a/../b", "a//b", "./a", "a/", "a\\b", "a\nb", "a\x00b"]
)
def test_a_bundle_path_that_could_leave_its_folder_is_refused(path: str) -> None:
    with pytest.raises(UsageError):
        check_path(path)


def test_names_of_tools_environments_and_releases() -> None:
    assert check_tool("grafana") == "grafana"
    with pytest.raises(UsageError, match="unknown tool 'graphite'"):
        check_tool("graphite")
    for bad in ("", "-prod", "a/b", "prod@1", "p" * 64, "pr od"):
        with pytest.raises(UsageError):
            check_env(bad)
    assert parse_ref("prod") == ("prod", None)
    assert parse_ref("prod@7") == ("prod", 7)
    for bad in ("prod@", "prod@0", "prod@x", "@3"):
        with pytest.raises(UsageError):
            parse_ref(bad)


# -- the bundle digest ------------------------------------------------------------------------


def test_the_digest_is_sha256sum_of_the_files_in_path_order(tmp_path: Path) -> None:
    lines = f"{A.sha256}  {A.path}\n{B.sha256}  {B.path}\n"
    assert bundle_digest([B, A]) == bundle_digest([A, B])
    assert bundle_digest([A, B]) == hashlib.sha256(lines.encode()).hexdigest()
    # What `sha256sum` prints for the files, sorted by path, hashes to the same digest.
    (tmp_path / "rules").mkdir()
    (tmp_path / "prometheus.yml").write_bytes(b"global: {}\n")
    (tmp_path / "rules" / "disk.yml").write_bytes(b"groups: []\n")
    printed = subprocess.run(
        ["sha256sum", "prometheus.yml", "rules/disk.yml"],
        cwd=tmp_path, capture_output=True, check=True,
    ).stdout  # fmt: skip
    assert hashlib.sha256(printed).hexdigest() == bundle_digest([A, B])


def test_the_digest_changes_with_a_path_or_a_byte() -> None:
    renamed = FileEntry(B.path.replace("disk", "disks"), B.sha256, B.size)
    changed = FileEntry.of(B.path, b"groups: [] \n")
    digests = {bundle_digest([A, B]), bundle_digest([A, renamed]), bundle_digest([A, changed])}
    assert len(digests) == 3


def test_a_bundle_naming_a_path_twice_or_as_file_and_folder_is_refused() -> None:
    with pytest.raises(UsageError, match="twice"):
        release(files=(A, A))
    with pytest.raises(UsageError, match="both a file rules"):
        Bundle.of({"rules": b"x", "rules/disk.yml": b"y"})


# -- records read back ------------------------------------------------------------------------


def test_a_release_reads_back_as_written_and_its_bytes_are_fixed() -> None:
    made = release(3, parent=2, origin={"action": "promote", "env": "dev", "release": 9})
    document = json.loads(made.body())
    assert document["digest"] == made.digest
    assert [f["path"] for f in document["files"]] == ["prometheus.yml", "rules/disk.yml"]
    again = Release.from_document(document, "s3://b/releases/prometheus/staging/3.json")
    assert again == made
    assert again.body() == made.body()


def test_a_release_whose_files_do_not_match_its_digest_is_refused_naming_the_key() -> None:
    document = release().document()
    document["files"][0]["sha256"] = "f" * 64
    with pytest.raises(S3KitError, match=r"s3://b/r/1\.json is not a release manifest"):
        Release.from_document(document, "s3://b/r/1.json")
    for broken in ({}, {"format": 2}, [], {**release().document(), "files": "x"}):
        with pytest.raises(S3KitError, match="not a release manifest"):
            Release.from_document(broken, "k")


def test_a_release_without_validation_is_recorded_as_not_validated() -> None:
    made = release(validation=None, git=None)
    document = json.loads(made.body())
    assert document["validation"] is None and document["git"] is None
    assert Release.from_document(document, "k").validation is None


def test_a_pointer_and_its_move_read_back_and_must_agree() -> None:
    record = move(seq=4, to=3, action="rollback", from_release=5)
    head = Head(3, "a" * 64, record)
    document = json.loads(head.body())
    assert document["release"] == 3 and document["seq"] == 4
    assert document["move"]["action"] == "rollback"
    assert Head.from_document(document, "k") == head
    assert LogRecord.from_document(json.loads(record.body()), "k") == record
    with pytest.raises(S3KitError, match="environment pointer"):
        Head.from_document({**document, "release": 5}, "k")  # the move led elsewhere
    with pytest.raises(S3KitError, match="log record"):
        LogRecord.from_document({**record.document(), "action": "merge"}, "k")


def test_store_settings_missing_keys_unknown_keys_and_envs() -> None:
    settings = StoreSettings.from_document(
        {"envs": ["dev", "staging", "prod"], "protected": ["prod"], "created": "x"}, "k"
    )
    assert settings.is_protected("prod") and not settings.is_protected("staging")
    assert settings.check("dev", "s3://b") == "dev"
    with pytest.raises(UsageError, match="has no environment 'qa' — it has dev, staging, prod"):
        settings.check("qa", "s3://b")
    anything = StoreSettings()
    assert anything.check("qa", "s3://b") == "qa" and not anything.is_protected("prod")
    for broken in ([], {"envs": "prod"}, {"protected": ["bad/name"]}):
        with pytest.raises(S3KitError, match="store settings file"):
            StoreSettings.from_document(broken, "k")


# -- promotion, diffs -------------------------------------------------------------------------


def head_of(made: Release, when: datetime) -> Head:
    when_text = when.isoformat().replace("+00:00", "Z")
    return Head(made.number, "a" * 64, move(to=made.number, when=when_text, digest=made.digest))


def test_a_protected_target_takes_only_what_the_source_serves_for_long_enough() -> None:
    live = release(2, files=(A,))
    old = release(1)
    head = head_of(live, NOW - timedelta(minutes=30))
    hour = timedelta(hours=1)
    kwargs: dict[str, Any] = {"now": NOW, "target": "prod"}
    refusal = promotion_refusal(old, head, protected=True, min_age=timedelta(0), **kwargs)
    assert refusal is not None and "staging@1 is not live there (it serves staging@2)" in refusal
    refusal = promotion_refusal(live, head, protected=True, min_age=hour, **kwargs)
    assert refusal is not None and "live in staging for 30m, less than the 1h" in refusal
    assert promotion_refusal(live, head, protected=True, min_age=timedelta(0), **kwargs) is None
    aged = head_of(live, NOW - timedelta(hours=2))
    assert promotion_refusal(live, aged, protected=True, min_age=hour, **kwargs) is None
    # An unprotected target takes any release, unless a minimum age is asked for.
    assert promotion_refusal(old, head, protected=False, min_age=timedelta(0), **kwargs) is None
    assert promotion_refusal(old, None, protected=False, min_age=hour, **kwargs) is not None


def test_a_diff_per_changed_file_with_binaries_named() -> None:
    before = {"a.yml": b"x: 1\n", "gone.yml": b"y\n", "logo.png": b"\x89PNG\x00\xff"}
    after = {"a.yml": b"x: 2\n", "new.yml": b"z\n", "logo.png": b"\x89PNG\x00\xfe"}
    diffs = {d.path: d for d in diff_files(before, after, "prod@1", "prod@2")}
    assert {p: d.status for p, d in diffs.items()} == {
        "a.yml": "changed", "gone.yml": "removed", "logo.png": "changed", "new.yml": "added",
    }  # fmt: skip
    assert diffs["a.yml"].text == (
        "--- prod@1/a.yml\n+++ prod@2/a.yml\n@@ -1 +1 @@\n-x: 1\n+x: 2\n"
    )
    assert diffs["gone.yml"].text.startswith("--- prod@1/gone.yml\n+++ /dev/null\n")
    assert diffs["logo.png"].text == "Binary files prod@1/logo.png and prod@2/logo.png differ\n"
    assert diff_files(before, before, "a", "b") == ()


# -- secrets ----------------------------------------------------------------------------------

CONFIG = """\
global:
  smtp_auth_password: hunter2   # comment
  smtp_auth_username: bob
receivers:
  - name: pager
    webhook_configs:
      - url: http://user:pw123@hooks.example.com/x
        http_config:
          authorization:
            type: Bearer
            credentials: "tok en"
          bearer_token_file: /etc/token
          basic_auth: {username: u, password: 'p4ss'}
api_key: ${API_KEY}
token: <secret>
client_secret: $__env{CLIENT_SECRET}
private_key: |
  -----BEGIN KEY-----
  c2VjcmV0
next: value
disable_token: true
"""
SECRETS = ["hunter2", "pw123", "tok en", "p4ss", "-----BEGIN KEY-----", "c2VjcmV0"]


def test_inline_secrets_are_found_by_key_and_line_and_references_are_not() -> None:
    found = [(f.line, f.key) for f in find_secrets("alertmanager.yml", CONFIG)]
    assert found == [
        (2, "smtp_auth_password"),
        (7, "password in a URL"),
        (11, "credentials"),
        (13, "password"),
        (18, "private_key"),
        (19, "private_key"),
    ]
    message = find_secrets("am.yml", CONFIG)[0].message
    assert message.startswith("am.yml:2: an inline secret (smtp_auth_password)")
    assert "hunter2" not in message


def test_masking_hides_every_value_and_keeps_every_line() -> None:
    masked = mask_secrets(CONFIG)
    assert masked.count("\n") == CONFIG.count("\n")
    for secret in SECRETS:
        assert secret not in masked
    assert "  smtp_auth_password: ***   # comment\n" in masked
    assert 'credentials: "***"' in masked and "password: '***'" in masked
    assert "http://user:***@hooks.example.com/x" in masked
    for kept in ("${API_KEY}", "<secret>", "$__env{CLIENT_SECRET}", "/etc/token", "next: value"):
        assert kept in masked


def test_ini_and_json_secrets_are_masked() -> None:
    ini = "[security]\nadmin_user = admin\nadmin_password = s3cr3t ; set at install\n"
    assert mask_secrets(ini) == (
        "[security]\nadmin_user = admin\nadmin_password = *** ; set at install\n"
    )
    dashboard = '{"secureJsonData":{"apiKey":"zz-top","basicAuthPassword":"pw"},"title":"t"}'
    assert mask_secrets(dashboard) == (
        '{"secureJsonData":{"apiKey":"***","basicAuthPassword":"***"},"title":"t"}'
    )


def test_a_rotated_secret_shows_as_a_changed_line_without_either_value() -> None:
    text = masked_diff("a: 1\npassword: old-one\n", "a: 1\npassword: new-one\n", "x", "y")
    assert "old-one" not in text and "new-one" not in text
    assert "-password: ***\n+password: ***\n" in text
    assert masked_diff("a\n", "a\n", "x", "y") == ""


# -- batch plans --------------------------------------------------------------------------------


def test_a_batch_plan_reads_paths_relative_to_its_folder(tmp_path: Path) -> None:
    plan = parse_batch_plan(
        {
            "concurrency": 2,
            "items": [
                {"action": "push", "tool": "loki", "env": "dev", "path": ["a", "b.yml"]},
                {"action": "pull", "tool": "loki", "env": "dev", "dest": "out", "version": 2},
            ],
        },
        tmp_path,
        "plan.yaml",
    )
    assert plan.concurrency == 2
    assert plan.items[0].paths == (tmp_path / "a", tmp_path / "b.yml")
    assert (plan.items[1].dest, plan.items[1].version) == (tmp_path / "out", 2)
    assert parse_batch_plan([{"action": "pull", "tool": "loki", "env": "d", "dest": "o"}],
                            tmp_path, "p").concurrency == 4  # fmt: skip


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        ({"items": []}, "no items"),
        ({"steps": []}, "a list of items"),
        ([{"action": "delete", "tool": "loki", "env": "d"}], "item 1: each item"),
        ([{"action": "push", "tool": "loki", "env": "d"}], "item 1: push loki d: name its"),
        ([{"action": "pull", "tool": "loki", "env": "d", "path": "x"}], "unknown key 'path'"),
        ([{"action": "push", "tool": "zabbix", "env": "d", "path": "x"}], "unknown tool"),
        ([{"action": "push", "tool": "loki", "env": "d", "path": "x", "force": "yes"}], "bool"),
    ],
)
def test_a_bad_batch_plan_is_refused_whole(document: Any, problem: str, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=problem):
        parse_batch_plan(document, tmp_path, "plan.yaml")


# -- the local side -------------------------------------------------------------------------------


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def test_files_and_folders_are_laid_out_relative_to_their_common_folder(tmp_path: Path) -> None:
    root = write(
        tmp_path / "conf",
        {
            "prometheus.yml": "rule_files: [rules/*.yml]\n",
            "rules/disk.yml": "groups: []\n",
            "rules/.git/HEAD": "ref\n",
            "rules/disk.yml~": "backup\n",
            MARKER: "{}",
            "other.txt": "not given\n",
        },
    )
    bundle = read_bundle([root / "prometheus.yml", root / "rules"])
    assert sorted(bundle.files) == ["prometheus.yml", "rules/disk.yml"]
    assert bundle.root == root
    assert sorted(read_bundle(root).files) == ["other.txt", "prometheus.yml", "rules/disk.yml"]
    assert sorted(read_bundle(root / "rules").files) == ["disk.yml"]
    assert read_bundle({"a.yml": "x"}).files == {"a.yml": b"x"}
    with pytest.raises(S3KitError, match="no such file"):
        read_bundle([tmp_path / "missing.yml"])


def test_the_validator_sees_the_bundle_laid_out_as_a_pull_writes_it(tmp_path: Path) -> None:
    seen: dict[str, Any] = {}

    def validate(tool: str, root: Path, files: Any, *, validator: str = "auto") -> Any:
        seen.update(tool=tool, files=list(files), validator=validator)
        seen["rule"] = (root / "rules" / "disk.yml").read_text()
        return _Report(True, "fake 1.0", ())

    root = write(tmp_path / "c", {"prometheus.yml": "x\n", "rules/disk.yml": "groups: []\n"})
    report, secrets = validate_config("prometheus", root, validator="builtin", validators=validate)
    assert report.ok and secrets == []
    assert seen == {
        "tool": "prometheus",
        "files": ["prometheus.yml", "rules/disk.yml"],
        "validator": "builtin",
        "rule": "groups: []\n",
    }
    with pytest.raises(UsageError, match="auto, real or builtin"):
        check_bundle("prometheus", read_bundle(root), validator="strict", validators=validate)  # type: ignore[arg-type]


class _Report:
    def __init__(self, ok: bool, validator: str, findings: Any) -> None:
        self.ok, self.validator, self.findings = ok, validator, findings


def test_a_pull_folder_is_written_whole_and_replaces_only_what_a_pull_wrote(
    tmp_path: Path,
) -> None:
    dest = tmp_path / "out"
    write_folder(dest, {"a.yml": b"1", "r/b.yml": b"2"}, {"release": 1})
    assert (dest / "r" / "b.yml").read_bytes() == b"2"
    assert json.loads((dest / MARKER).read_text()) == {"release": 1}
    write_folder(dest, {"c.yml": b"3"}, {"release": 2})  # an earlier pull's: replaced
    assert sorted(p.name for p in dest.iterdir()) == [MARKER, "c.yml"]
    mine = write(tmp_path / "mine", {"notes.txt": "keep me\n"})
    with pytest.raises(UsageError, match="holds files a pull did not write"):
        write_folder(mine, {"c.yml": b"3"}, {})
    assert (mine / "notes.txt").read_text() == "keep me\n"
    write_folder(mine, {"c.yml": b"3"}, {}, force=True)
    assert not (mine / "notes.txt").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine", "out"]  # no temporary left


def test_a_command_without_a_store_says_how_to_name_one(cli: Any) -> None:
    result = cli("configs", "history", "prometheus", "prod")
    assert result.exit_code == 2
    assert result.stderr == (
        "s3kit: error: name the configuration store: --store s3://bucket[/prefix] (or set"
        " S3KIT_CONFIGS_STORE)\n"
    )


def test_every_store_operation_has_its_awaitable_twin() -> None:
    import inspect

    from s3kit.configs import ConfigStore

    names = {n for n, _ in inspect.getmembers(ConfigStore, inspect.isfunction)}
    public = {n for n in names if not n.startswith("_") and n != "url"}
    blocking = {n for n in public if not n.endswith("_async")}
    assert len(blocking) > 10
    assert {n for n in blocking if f"{n}_async" not in names} == set()
    assert {n for n in public - blocking if n.removesuffix("_async") not in names} == set()


def test_a_release_records_the_commit_and_the_author_where_git_knows_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from s3kit.configs.bundle import default_author, git_info

    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "no-global-config"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("USER", "carol")
    repo = write(tmp_path / "repo", {"conf/prometheus.yml": "a: 1\n"})
    assert git_info(repo / "conf") is None  # not a work tree (yet)
    assert default_author(repo) == "carol"

    def git(*args: str) -> str:
        done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    git("init", "-q")
    git("config", "user.name", "Dana")
    git("config", "user.email", "dana@example.com")
    git("add", ".")
    git("commit", "-q", "-m", "first")
    assert git_info(repo / "conf") == {"commit": git("rev-parse", "HEAD"), "dirty": False}
    (repo / "conf" / "prometheus.yml").write_text("a: 2\n")
    assert git_info(repo / "conf") == {"commit": git("rev-parse", "HEAD"), "dirty": True}
    assert default_author(repo / "conf") == "Dana <dana@example.com>"
