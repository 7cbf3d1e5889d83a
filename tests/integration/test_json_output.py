"""Every command with `--json` prints one JSON document of the one schema (s3kit.cli.output,
README "JSON output"), checked against real servers.

The commands are found by walking the typer app's command tree, so a command that gains
`--json` (or `--jsonl`) and has no row in CASES fails `test_every_json_command_has_a_case`.
Each row is a minimal valid invocation and the shape its output must have: a listing (an array
of records with the documented keys), a transfer summary, a report of per-item results, a
document, or null (a configuration that is not set). Every output must also be in the one
style (two-space indentation; `--jsonl`: one compact object a line), hold no error `""` and no
string "none", and every `error` must be null or `{"code", "message"}`.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import pytest

from tests.conftest import Backend, CliInvoker, CliResult, unique_bucket_name
from tests.integration.cli_support import assert_failed, put
from tests.integration.known_gaps import known_gap

# "optional": a document, or null where the configuration is not set.
Shape = Literal["listing", "summary", "report", "document", "null", "optional"]

# The documented keys (README "JSON output"); a test of the contract, so written out here.
ITEM_KEYS = {"action", "source", "destination", "status", "error"}
SUMMARY_KEYS = {"transferred", "bytes", "deleted", "failed", "skipped", "seconds", "failures"}
OBJECT_KEYS = {"key", "size", "last_modified", "etag", "storage_class"}
VERSION_KEYS = {"key", "version_id", "is_latest", "delete_marker", "last_modified", "size"}
UPLOAD_KEYS = {"key", "upload_id", "initiated", "storage_class"}
PROBE_KEYS = {"feature", "supported", "detail", "error"}
CONNECTION_KEYS = {"name", "endpoint_url", "region", "profile", "bucket", "addressing_style"}


@dataclass(frozen=True)
class Case:
    """`args` (with {b} the test bucket, {lock} one with object lock, {tmp} a scratch folder),
    run after `setup` (commands that must succeed first, run again before each variant);
    `keys`: what every record (a listing) or the document must have; `gap`: a known_gaps
    feature — where the backend lacks it the command must fail with one error line and print
    nothing on stdout; `check`: more checks of the parsed output."""

    args: tuple[str, ...]
    shape: Shape
    keys: frozenset[str] = frozenset()
    setup: tuple[tuple[str, ...], ...] = ()
    gap: str | None = None
    jsonl: bool = False
    nonempty: bool = False
    check: Callable[[Any], list[str]] | None = None
    teardown: tuple[tuple[str, ...], ...] = ()
    once: bool = False  # needs no S3 server: run with one backend only


def case(
    *args: str,
    shape: Shape,
    keys: set[str] | None = None,
    setup: tuple[tuple[str, ...], ...] = (),
    gap: str | None = None,
    jsonl: bool = False,
    nonempty: bool = False,
    check: Callable[[Any], list[str]] | None = None,
    teardown: tuple[tuple[str, ...], ...] = (),
    once: bool = False,
) -> Case:
    keys_ = frozenset(keys or ())
    return Case(args, shape, keys_, setup, gap, jsonl, nonempty, check, teardown, once)


def _probe_rows(rows: Any) -> list[str]:
    """supported is true or false, or null with the error that kept the probe from telling."""
    return [
        f"supported is not true/false/null-with-error: {row!r}"
        for row in rows
        if row["supported"] not in (True, False, None)
        or (row["supported"] is None) != (row["error"] is not None)
    ] + ([] if {True, False} <= {r["supported"] for r in rows} else ["not both true and false"])


def _bucket_info(info: Any) -> list[str]:
    """A setting not configured is null; one the server would not tell is null too, with the
    reason in `errors`."""
    if not isinstance(info.get("errors"), dict):
        return [f"errors is not an object: {info.get('errors')!r}"]
    return [
        f"{name} has an error but a value: {info.get(name)!r}"
        for name in info["errors"]
        if info.get(name) is not None
    ]


def _id_config_cases(kind: str) -> dict[str, Case]:
    return {
        f"bucket {kind} list": case("bucket", kind, "list", "s3://{b}", shape="listing"),
        f"bucket {kind} get": case("bucket", kind, "get", "s3://{b}", "nosuch", shape="null"),
    }


UPLOAD_ONE = ("cp", "{tmp}/up/f.txt")
CASES: dict[str, Case] = {
    "ls": case("ls", "-r", "s3://{b}/", shape="listing", keys=OBJECT_KEYS, jsonl=True,
               nonempty=True),
    "cp": case(*UPLOAD_ONE, "s3://{b}/cp/f.txt", shape="summary"),
    "mv": case("mv", "s3://{b}/mv-src.txt", "s3://{b}/mv/", shape="summary",
               setup=((*UPLOAD_ONE, "s3://{b}/mv-src.txt"),)),
    "rm": case("rm", "-r", "s3://{b}/gone/", shape="report", jsonl=True,
               setup=((*UPLOAD_ONE, "s3://{b}/gone/f.txt"),)),
    "whoami": case("whoami", shape="document", keys={"endpoint", "access_key", "method"}),
    "probe": case("probe", shape="listing", keys=PROBE_KEYS, nonempty=True, check=_probe_rows),
    "batch": case("batch", "tag", "s3://{b}/dir/", "--tag", "k=v", shape="report",
                  keys={"action", "objects", "failed", "results"}, jsonl=True),
    "cost": case("cost", "s3://{b}", shape="document", keys={"classes", "total"}),
    "sync": case("sync", "{tmp}/up", "s3://{b}/sync/", shape="summary"),
    "apply": case("apply", "{tmp}/plan.json", shape="summary",
                  setup=(("sync", "{tmp}/up", "s3://{b}/applied/", "--plan-out",
                          "{tmp}/plan.json"),)),
    "profiles": case("profiles", shape="listing", once=True),
    "multipart list": case("multipart", "list", "s3://{b}", shape="listing", keys=UPLOAD_KEYS,
                           jsonl=True, nonempty=True),
    "multipart abort": case("multipart", "abort", "s3://{b}", "--dryrun", shape="report",
                            keys={"aborted", "results"}),
    "local status": case("local", "status", "--dir", "{tmp}/local", shape="document",
                         keys={"running", "endpoint", "pid", "data_dir", "size_bytes"},
                         once=True),
    "local env": case("local", "env", "--dir", "{tmp}/local-env", shape="document",
                      keys={"AWS_ENDPOINT_URL", "AWS_ACCESS_KEY_ID"}, once=True,
                      teardown=(("local", "stop", "--dir", "{tmp}/local-env"),)),
    "bucket list": case("bucket", "list", shape="listing", keys={"name", "created", "region"},
                        nonempty=True),
    "bucket info": case("bucket", "info", "s3://{b}", shape="document",
                        keys={"bucket", "region", "versioning", "errors"}, check=_bucket_info),
    "bucket tags get": case("bucket", "tags", "get", "s3://{b}", shape="document"),
    "bucket policy get": case("bucket", "policy", "get", "s3://{b}", shape="null"),
    "bucket acl get": case("bucket", "acl", "get", "s3://{b}", shape="document",
                           keys={"Owner", "Grants"}),
    "bucket object-acl get": case("bucket", "object-acl", "get", "s3://{b}/a.txt",
                                  shape="document", keys={"Owner", "Grants"}),
    "bucket public-access-block get": case("bucket", "public-access-block", "get", "s3://{b}",
                                           shape="null", gap="public access block"),
    "bucket public-access-block set": case("bucket", "public-access-block", "set", "s3://{b}",
                                           "--all", shape="document", gap="public access block",
                                           keys={"BlockPublicAcls"}),
    "bucket versioning get": case("bucket", "versioning", "get", "s3://{b}", shape="null"),
    "bucket lifecycle get": case("bucket", "lifecycle", "get", "s3://{b}", shape="null"),
    "bucket website get": case("bucket", "website", "get", "s3://{b}", shape="null"),
    "bucket cors get": case("bucket", "cors", "get", "s3://{b}", shape="null"),
    "bucket encryption get": case("bucket", "encryption", "get", "s3://{b}", shape="null"),
    "bucket replication get": case("bucket", "replication", "get", "s3://{b}", shape="null"),
    "bucket notifications get": case("bucket", "notifications", "get", "s3://{b}", shape="null"),
    # SeaweedFS answers "Suspended" for a bucket never configured; moto answers nothing.
    "bucket acceleration get": case("bucket", "acceleration", "get", "s3://{b}",
                                    shape="optional"),
    "bucket object-lock get": case("bucket", "object-lock", "get", "s3://{b}", shape="null"),
    "bucket object-lock retention get": case("bucket", "object-lock", "retention", "get",
                                             "s3://{lock}/a.txt", shape="null",
                                             gap="object retention read back"),
    **_id_config_cases("inventory"),
    **_id_config_cases("analytics"),
    **_id_config_cases("metrics"),
    **_id_config_cases("intelligent-tiering"),
    "object head": case("object", "head", "s3://{b}/a.txt", shape="document",
                        keys={"ContentLength", "ETag"}),
    "object delete-many": case("object", "delete-many", "s3://{b}", "del.txt", shape="report",
                               keys={"deleted", "failed", "results"},
                               setup=((*UPLOAD_ONE, "s3://{b}/del.txt"),)),
    "object versions": case("object", "versions", "s3://{b}/a.txt", shape="listing",
                            keys=VERSION_KEYS, jsonl=True, nonempty=True),
    "object restore-status": case("object", "restore-status", "s3://{b}/a.txt",
                                  shape="document", keys={"storage_class", "state", "expiry"}),
    "object metadata set": case("object", "metadata", "set", "s3://{b}/a.txt", "--metadata",
                                "k=v", shape="document", keys={"Metadata"}),
    "object tags get": case("object", "tags", "get", "s3://{b}/a.txt", shape="document"),
    "health": case("health", "s3://{b}", shape="document",
                   keys={"endpoint", "bucket", "verdict", "steps"}),
    "github artifacts push": case("github", "artifacts", "push", "{tmp}/up", "s3://{b}/art",
                                  "--repository", "o/r", "--run-id", "1", "--attempt", "1",
                                  "--name", "p", shape="document",
                                  teardown=(("rm", "-r", "s3://{b}/art/"),)),
    "github artifacts pull": case("github", "artifacts", "pull", "s3://{b}/art2", "--repository",
                                  "o/r", "--run-id", "1", "{tmp}/pulled", shape="document",
                                  setup=(("github", "artifacts", "push", "{tmp}/up",
                                          "s3://{b}/art2", "--repository", "o/r", "--run-id",
                                          "1", "--attempt", "1", "--name", "p"),),
                                  teardown=(("rm", "-r", "s3://{b}/art2/"),)),
    "configs validate": case("configs", "validate", "prometheus", "{tmp}/prom/prometheus.yml",
                             shape="document"),
    "configs push": case("configs", "push", "prometheus", "dev", "{tmp}/prom/prometheus.yml",
                         "--store", "s3://{b}/cfg", shape="document"),
    "configs pull": case("configs", "pull", "prometheus", "dev", "{tmp}/pulled-cfg", "--store",
                         "s3://{b}/cfg2", shape="document",
                         setup=(("configs", "push", "prometheus", "dev",
                                 "{tmp}/prom/prometheus.yml", "--store", "s3://{b}/cfg2"),)),
    "configs history": case("configs", "history", "prometheus", "dev", "--store",
                            "s3://{b}/cfg3", shape="listing", nonempty=True,
                            setup=(("configs", "push", "prometheus", "dev",
                                    "{tmp}/prom/prometheus.yml", "--store", "s3://{b}/cfg3"),)),
    "configs cache stats": case("configs", "cache", "stats", shape="document"),
    "configs cache clear": case("configs", "cache", "clear", shape="document"),
    "deploy run": case("deploy", "{tmp}/up", "s3://{b}/site", shape="document",
                       keys={"deploy_id", "uploaded", "deleted", "failures", "plan"}),
    "deploy history": case("deploy", "history", "s3://{b}/site", shape="listing",
                           keys={"id", "created", "live", "files", "source"}, nonempty=True,
                           setup=(("deploy", "{tmp}/up", "s3://{b}/site"),)),
    "deploy rollback": case("deploy", "rollback", "s3://{b}/rb", "--dryrun", shape="document",
                            keys={"deploy_id", "dryrun", "plan"},
                            setup=(("deploy", "{tmp}/up", "s3://{b}/rb"),
                                   ("deploy", "{tmp}/up2", "s3://{b}/rb"))),
    "connections list": case("connections", "list", shape="listing", keys=CONNECTION_KEYS,
                             nonempty=True, once=True,
                             setup=(("connections", "add", "c-list", "--endpoint-url",
                                     "http://127.0.0.1:9"),)),
    "connections show": case("connections", "show", "c-show", shape="document",
                             keys=CONNECTION_KEYS, once=True,
                             setup=(("connections", "add", "c-show", "--endpoint-url",
                                     "http://127.0.0.1:9"),)),
}  # fmt: skip


def _commands_with(option: str) -> set[str]:
    from typer.main import get_command

    from s3kit.cli.app import app

    def walk(command: Any, path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], Any]]:
        subcommands = getattr(command, "commands", None)
        if subcommands is None:
            yield path, command
            return
        for name, sub in subcommands.items():
            yield from walk(sub, (*path, name))

    return {
        " ".join(path)
        for path, command in walk(get_command(app), ())
        if any(option in getattr(param, "opts", ()) for param in command.params)
    }


# Commands whose --json is checked elsewhere, and why.
ELSEWHERE = {
    "website serve": "serves until Ctrl-C; test_website_serve.py reads its --json line",
    **{
        f"github {name}": "talks to GitHub: test_github_site.py / test_github_release.py read"
        " its --json against a GitHub stand-in"
        for name in ("deploy", "sync", "preview deploy", "preview remove", "preview prune",
                     "release mirror")
    },
    **{
        f"configs {name}": "needs a store set up first (releases, a backup, a plan file, a"
        " hardened bucket or a running tool): test_configs_store.py, test_configs_posture.py"
        " and test_configs_watch.py read its --json"
        for name in ("rollback", "promote", "backup", "restore", "batch", "init", "posture",
                     "warm", "watch")
    },
}  # fmt: skip


def test_every_json_command_has_a_case() -> None:
    assert _commands_with("--json") == set(CASES) | set(ELSEWHERE)
    assert _commands_with("--jsonl") == {name for name, c in CASES.items() if c.jsonl}


# -- the checks every output gets ------------------------------------------------------------


def _walk(value: Any) -> Iterator[tuple[str | None, Any]]:
    """Every (key, value) pair in a parsed document, at any depth (key None in lists)."""
    if isinstance(value, dict):
        for key, inner in value.items():
            yield key, inner
            yield from _walk(inner)
    elif isinstance(value, list):
        for inner in value:
            yield None, inner
            yield from _walk(inner)


def _problems_everywhere(document: Any) -> list[str]:
    problems = []
    for key, value in _walk(document):
        if value == "none":
            problems.append(f"the string 'none' at {key!r}")
        if key == "error" and value is not None:
            ok = (
                isinstance(value, dict)
                and set(value) == {"code", "message"}
                and isinstance(value["message"], str)
                and value["message"] != ""
                and (value["code"] is None or (isinstance(value["code"], str) and value["code"]))
            )
            if not ok:
                problems.append(f"error is not null or {{code, message}}: {value!r}")
    return problems


def _item_problems(items: Any, where: str) -> list[str]:
    if not isinstance(items, list):
        return [f"{where} is not a list: {items!r}"]
    problems = []
    for item in items:
        if not isinstance(item, dict) or not set(item) >= ITEM_KEYS:
            problems.append(f"{where}: not an item {sorted(ITEM_KEYS)}: {item!r}")
        elif (item["status"] == "failed") != (item["error"] is not None):
            problems.append(f"{where}: status and error disagree: {item!r}")
    return problems


def _shape_problems(shape: Shape, c: Case, document: Any) -> list[str]:
    if shape == "null":
        return [] if document is None else [f"not null: {document!r}"]
    if shape == "optional":
        return [] if document is None or isinstance(document, dict) else [f"{document!r}"]
    if shape == "listing":
        if not isinstance(document, list):
            return [f"not a list: {document!r}"]
        problems = [
            f"a record lacks {sorted(c.keys - set(r))}: {r!r}"
            for r in document
            if not isinstance(r, dict) or not set(r) >= c.keys
        ]
        if c.nonempty and not document:
            problems.append("an empty listing")
        return problems
    if not isinstance(document, dict):
        return [f"not an object: {document!r}"]
    problems = [f"lacks {sorted(c.keys - set(document))}"] if not c.keys <= set(document) else []
    if shape == "summary":
        if not set(document) >= SUMMARY_KEYS:
            problems.append(f"summary lacks {sorted(SUMMARY_KEYS - set(document))}")
            return problems
        problems += _item_problems(document["failures"], "failures")
        if document["failures"] != [] or document["failed"] != 0:
            problems.append(f"a failure where none was expected: {document['failures']!r}")
        if document["transferred"] < 1:
            problems.append("nothing transferred")
        if "results" in document:
            problems += _item_problems(document["results"], "results")
    if shape == "report":
        problems += _item_problems(document.get("results"), "results")
    return problems


def _check(c: Case, result: CliResult, *, jsonl: bool) -> list[str]:
    text = result.stdout
    if result.exit_code != 0:
        return [f"exit {result.exit_code}: {result.stderr.strip()}"]
    if not text.endswith("\n"):
        return [f"stdout does not end with a line end: {text!r}"]
    try:
        if jsonl:
            records = [json.loads(line) for line in text.splitlines()]
            style = "".join(json.dumps(r) + "\n" for r in records)
            document: Any = records
        else:
            document = json.loads(text)
            style = json.dumps(document, indent=2) + "\n"
    except json.JSONDecodeError as exc:
        return [f"not JSON ({exc}): {text[:300]!r}"]
    problems = [] if text == style else [f"not in the one style: {text[:300]!r}"]
    problems += _problems_everywhere(document)
    if jsonl:
        if c.shape == "report":  # the items themselves, one a line
            problems += _item_problems(document, "lines")
        else:
            problems += _shape_problems("listing", c, document)
    else:
        problems += _shape_problems(c.shape, c, document)
        if c.check is not None and not problems:
            problems += c.check(document)
    return problems


# -- the run ---------------------------------------------------------------------------------


def _seed(backend: Backend, bucket: str, tmp: Path) -> None:
    put(backend, bucket, {"a.txt": b"a", "dir/b.txt": b"bb", "dir/c.txt": b"ccc"})
    (tmp / "up").mkdir()
    (tmp / "up" / "f.txt").write_bytes(b"fff")
    (tmp / "prom").mkdir()  # a Prometheus configuration, for `configs`
    (tmp / "prom" / "prometheus.yml").write_text(
        "global:\n  scrape_interval: 15s\nscrape_configs:\n  - job_name: self\n"
        "    static_configs:\n      - targets: ['127.0.0.1:9090']\n"
    )
    (tmp / "up2").mkdir()  # a second site, for a second deploy
    (tmp / "up2" / "g.txt").write_bytes(b"ggg")
    backend.session().client("s3").create_multipart_upload(Bucket=bucket, Key="mp/big.bin")


@pytest.fixture
def locked(backend: Backend) -> Iterator[str]:
    """A bucket made with object lock, holding a.txt (with no retention)."""
    name = unique_bucket_name("lock")
    client = backend.session().client("s3")
    client.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)
    put(backend, name, {"a.txt": b"a"})
    yield name
    with contextlib.suppress(Exception):
        for version in client.list_object_versions(Bucket=name).get("Versions", []):
            client.delete_object(Bucket=name, Key=version["Key"], VersionId=version["VersionId"])
        client.delete_bucket(Bucket=name)


def test_every_json_command_prints_the_schema(
    cli: CliInvoker, backend: Backend, bucket: str, locked: str, tmp_path: Path
) -> None:
    _seed(backend, bucket, tmp_path)
    env = backend.env()
    places = {"{b}": bucket, "{lock}": locked, "{tmp}": str(tmp_path)}

    def expand(args: tuple[str, ...]) -> list[str]:
        expanded = []
        for arg in args:
            for placeholder, value in places.items():
                arg = arg.replace(placeholder, value)
            expanded.append(arg)
        return expanded

    failures: dict[str, list[str]] = {}
    for name, c in CASES.items():
        if c.once and backend.name != "moto":
            continue
        gap = known_gap(backend, c.gap) if c.gap else None
        for flag in ("--json", "--jsonl") if c.jsonl else ("--json",):
            for step in c.setup:
                done = cli(*expand(step), env=env)
                assert done.exit_code == 0, (name, step, done.stdout, done.stderr)
            try:
                result = cli(*expand(c.args), flag, env=env)
            finally:
                for step in c.teardown:
                    cli(*expand(step), env=env)
            if gap is not None:
                assert_failed(result)
                assert result.stdout == "", (name, result.stdout)
                continue
            problems = _check(c, result, jsonl=flag == "--jsonl")
            if problems:
                failures[f"{name} {flag}"] = problems
    assert failures == {}, json.dumps(failures, indent=2)


# -- details the table does not show -----------------------------------------------------------


def test_json_and_jsonl_together_is_a_usage_error(cli: CliInvoker, moto: Backend) -> None:
    result = cli("ls", "s3://no-such-bucket/", "--json", "--jsonl", env=moto.env())
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert result.stdout == ""
    assert "--json" in result.stderr and "--jsonl" in result.stderr


def test_ls_records_prefixes_and_buckets(cli: CliInvoker, backend: Backend, bucket: str) -> None:
    put(backend, bucket, {"dir/x.txt": b"x", "top.txt": b"t"})
    flat = json.loads(cli("ls", f"s3://{bucket}/", "--json", env=backend.env()).stdout)
    assert {"prefix": "dir/"} in flat
    lines = cli("ls", f"s3://{bucket}/", "--jsonl", env=backend.env()).stdout.splitlines()
    assert [json.loads(line) for line in lines] == flat
    buckets = cli("ls", "--jsonl", env=backend.env()).stdout.splitlines()
    assert bucket in [json.loads(line)["name"] for line in buckets]


def test_failures_are_items_with_error_objects(
    cli: CliInvoker, backend: Backend, bucket: str, tmp_path: Path
) -> None:
    """cp and sync report a failed transfer as the same item: action, source, destination,
    status failed, error {code, message}."""
    source = tmp_path / "src"
    source.mkdir()
    (source / "ok.txt").write_bytes(b"ok")
    target = tmp_path / "dst"
    target.mkdir()
    (target / "ok.txt").mkdir()  # a folder where the download's file must go
    put(backend, bucket, {"p/ok.txt": b"ok"})
    copied = cli("cp", "-r", f"s3://{bucket}/p/", str(target), "--json", env=backend.env())
    synced = cli("sync", f"s3://{bucket}/p/", str(target), "--json", env=backend.env())
    for result in (copied, synced):
        assert result.exit_code == 1, (result.stdout, result.stderr)
        summary = json.loads(result.stdout)
        assert set(summary) >= SUMMARY_KEYS
        (failure,) = summary["failures"]
        assert summary["failed"] == 1 and summary["transferred"] == 0
        assert failure["action"] == "download"
        assert failure["source"] == f"s3://{bucket}/p/ok.txt"
        assert failure["destination"].endswith("ok.txt")
        assert failure["status"] == "failed"
        assert set(failure["error"]) == {"code", "message"} and failure["error"]["message"]


def test_batch_report_file_is_items_with_null_errors(
    cli: CliInvoker, backend: Backend, bucket: str, tmp_path: Path
) -> None:
    put(backend, bucket, {"logs/a.log": b"a"})
    report = tmp_path / "report.jsonl"
    done = cli("batch", "tag", f"s3://{bucket}/logs/", "--tag", "k=v", "--report", str(report),
               env=backend.env())  # fmt: skip
    assert done.exit_code == 0, done.stderr
    (line,) = [json.loads(text) for text in report.read_text().splitlines()]
    assert line == {
        "action": "tag", "source": f"s3://{bucket}/logs/a.log", "destination": None,
        "status": "done", "error": None, "bucket": bucket, "key": "logs/a.log",
    }  # fmt: skip


def test_empty_configurations_are_null_and_text_unchanged(
    cli: CliInvoker, backend: Backend, bucket: str
) -> None:
    url, env = f"s3://{bucket}", backend.env()
    assert cli("bucket", "policy", "get", url, "--json", env=env).stdout == "null\n"
    assert cli("bucket", "policy", "get", url, env=env).stdout == "none\n"
    info = json.loads(cli("bucket", "info", url, "--json", env=env).stdout)
    assert info["versioning"] is None and info["tags"] is None
    assert "none" not in json.dumps(info)
    text = cli("bucket", "acceleration", "get", url, env=env)
    gap = known_gap(backend, "transfer acceleration")
    if gap is None:
        assert text.stdout == "Status: never configured\n", text.stderr


def test_two_way_sync_prints_the_transfer_summary(
    cli: CliInvoker, backend: Backend, bucket: str, tmp_path: Path
) -> None:
    (tmp_path / "a.txt").write_bytes(b"aaa")
    put(backend, bucket, {"two/b.txt": b"bb"})
    args = ("sync", "--bidirectional", "--resync", str(tmp_path), f"s3://{bucket}/two/")
    plan = cli(*args, "--dryrun", "--json", env=backend.env())
    assert plan.exit_code == 0, plan.stderr
    planned = json.loads(plan.stdout)
    assert planned["dryrun"] is True
    assert sorted((a["action"], a["path"]) for a in planned["actions"]) == [
        ("download", "b.txt"),
        ("upload", "a.txt"),
    ]
    done = cli(*args, "--json", env=backend.env())
    assert done.exit_code == 0, done.stderr
    summary = json.loads(done.stdout)
    assert done.stdout == json.dumps(summary, indent=2) + "\n"
    assert set(summary) >= SUMMARY_KEYS | {"uploaded", "downloaded", "deletions_skipped"}
    assert (summary["transferred"], summary["bytes"], summary["failed"]) == (2, 5, 0)
    assert (summary["uploaded"], summary["downloaded"], summary["deletions_skipped"]) == (
        1,
        1,
        None,
    )


def test_two_way_sync_failures_are_items(
    cli: CliInvoker, backend: Backend, bucket: str, tmp_path: Path
) -> None:
    (tmp_path / "x").write_bytes(b"a file where the remote has a folder")
    put(backend, bucket, {"two/x/y.txt": b"y"})
    result = cli("sync", "--bidirectional", "--resync", str(tmp_path), f"s3://{bucket}/two/",
                 "--json", env=backend.env())  # fmt: skip
    assert result.exit_code == 1, (result.stdout, result.stderr)
    summary = json.loads(result.stdout)
    failures = {f["source"]: f for f in summary["failures"]}
    failure = failures[f"s3://{bucket}/two/x/y.txt"]
    assert failure["action"] == "download" and failure["status"] == "failed"
    assert failure["destination"] == str(tmp_path / "x" / "y.txt")
    assert failure["error"]["message"]
    assert summary["failed"] == len(summary["failures"])
