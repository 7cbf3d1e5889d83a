"""`s3kit configs` and ConfigStore against real servers (`backend`: SeaweedFS and moto): push,
pull round trip, an identical push is unchanged, history, rollback, promotion refused for what
the source does not serve or has not served long enough, diff with secrets masked, backup and
restore (prefix and .tar.gz), a batch with a failing item, and compare-and-swap under pushes
from several processes at once. A protected environment on rclone serve s3 (which ignores
conditional writes, see known_gaps) is refused before anything is written.

Each test works under a prefix of its own in one bucket per server (a new SeaweedFS bucket costs
most of a second). The validators are the other half of the feature: these tests give the
store a stand-in of the same contract (`Validate`), so what is checked here is what the store
does with a verdict."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from s3kit._session import Session
from s3kit.configs import (
    ConfigInvalid,
    ConfigStore,
    backup_apm_config,
    deploy_apm_configs,
    download_apm_config,
    restore_apm_config,
    upload_apm_config,
)
from s3kit.configs.bundle import MARKER
from s3kit.errors import ConflictError, NotSupported, UsageError
from s3kit.service import S3Service
from s3kit.storage.base import ObjectInfo
from tests.conftest import Backend, CliInvoker, CliResult, unique_bucket_name
from tests.integration.cli_support import assert_usage_error, tree
from tests.integration.known_gaps import known_gap

# -- a stand-in validator of the contract ------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    file: str
    line: int | None
    message: str
    severity: str = "error"
    validator: str = "stand-in 1.0"


@dataclass(frozen=True)
class Report:
    ok: bool
    validator: str
    findings: tuple[Finding, ...]


def stand_in(tool: str, root: Path, files: Sequence[str], *, validator: str = "auto") -> Report:
    """Refuses a line reading INVALID, warns about WARN, and checks that each `rule_files:`
    entry resolves relative to the config (as laid out under `root`)."""
    findings = []
    for name in files:
        for number, line in enumerate((root / name).read_text().splitlines(), 1):
            if "INVALID" in line:
                findings.append(Finding(name, number, "not a valid setting"))
            if "WARN" in line:
                findings.append(Finding(name, number, "deprecated", "warning"))
            if line.startswith("rule_files: "):
                rule = line.split(": ", 1)[1].strip()
                if not (root / name).parent.joinpath(rule).is_file():
                    findings.append(Finding(name, number, f"{rule}: no such rule file"))
    ok = not any(f.severity == "error" for f in findings)
    return Report(ok, "stand-in 1.0", tuple(findings))


@pytest.fixture
def stand_in_module(monkeypatch: pytest.MonkeyPatch) -> None:
    """For the CLI: `s3kit.configs.validate` is the stand-in while the test runs."""
    module = ModuleType("s3kit.configs.validate")
    module.validate_bundle = stand_in  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "s3kit.configs.validate", module)


# -- places --------------------------------------------------------------------------------------


@dataclass
class Place:
    backend: Backend
    session: Session
    bucket: str
    prefix: str

    @property
    def url(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"

    def store(self, **options: Any) -> ConfigStore:
        return ConfigStore(self.session, self.url, validators=stand_in, **options)

    def keys(self, under: str = "") -> list[str]:
        listed = self.session.storage(self.bucket).list(self.prefix + under)
        return sorted(e.key[len(self.prefix) :] for e in listed if isinstance(e, ObjectInfo))

    def put_settings(self, envs: list[str], protected: list[str]) -> None:
        body = json.dumps({"envs": envs, "protected": protected}).encode()
        self.session.storage(self.bucket).put(self.prefix + "store.json", body)

    def cli(self, cli: CliInvoker, *args: str) -> CliResult:
        env = {**self.backend.env(), "S3KIT_CONFIGS_STORE": self.url}
        return cli("configs", *args, env=env)


@pytest.fixture
def place(backend: Backend, shared_buckets: dict[str, tuple[Session, str]]) -> Place:
    if backend.name not in shared_buckets:
        session = backend.session()
        name = unique_bucket_name("cfg")
        S3Service(session).create_bucket(name)
        shared_buckets[backend.name] = (session, name)
    session, name = shared_buckets[backend.name]
    return Place(backend, session, name, f"c-{uuid.uuid4().hex[:8]}/")


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


PROMETHEUS = {
    "prometheus.yml": "global: {scrape_interval: 15s}\nrule_files: rules/disk.yml\n",
    "rules/disk.yml": "groups: [{name: disk, rules: []}]\n",
}


def ok(result: CliResult) -> CliResult:
    assert result.exit_code == 0, (result.stdout, result.stderr)
    return result


# -- push, pull, history, rollback ---------------------------------------------------------------


def test_push_pull_round_trip_and_an_identical_push_is_unchanged(
    place: Place, tmp_path: Path, cli: CliInvoker, stand_in_module: None
) -> None:
    source = write(tmp_path / "prometheus", PROMETHEUS | {"notes.yml": "WARN: old\n"})
    pushed = ok(place.cli(cli, "push", "prometheus", "staging", str(source), "-m", "first"))
    assert pushed.stdout.startswith("pushed prometheus staging@1 (3 files,")
    assert "stand-in 1.0" in pushed.stdout
    assert "notes.yml:1: warning: deprecated (stand-in 1.0)" in pushed.stderr
    keys = place.keys()
    assert sum(k.startswith("blobs/sha256/") for k in keys) == 3
    assert "releases/prometheus/staging/1.json" in keys
    assert "envs/staging/prometheus/HEAD.json" in keys
    assert len(place.keys("envs/staging/prometheus/log/")) == 1

    dest = tmp_path / "pulled"
    pulled = ok(place.cli(cli, "pull", "prometheus", "staging", str(dest)))
    assert pulled.stdout.startswith(f"pulled prometheus staging@1 into {dest} (3 files")
    got = tree(dest)
    assert json.loads(got.pop(MARKER))["release"] == 1
    assert got == tree(source)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["prometheus", "pulled"]

    again = ok(place.cli(cli, "push", "prometheus", "staging", str(dest), "--json"))
    assert json.loads(again.stdout)["status"] == "unchanged"  # the pulled folder: same files
    assert len(place.keys("releases/")) == 1
    forced = ok(place.cli(cli, "push", "prometheus", "staging", str(source), "--force"))
    assert forced.stdout.startswith("pushed prometheus staging@2 ")

    older = tmp_path / "older"
    ok(place.cli(cli, "pull", "prometheus", "staging", str(older), "--version", "1"))
    assert json.loads((older / MARKER).read_text())["release"] == 1

    history = json.loads(ok(place.cli(cli, "history", "prometheus", "staging", "--json")).stdout)
    assert [(h["release"], h["live"], h["parent"], h["message"]) for h in history] == [
        (1, False, None, "first"),
        (2, True, 1, ""),
    ]
    assert history[0]["digest"] == history[1]["digest"]
    assert history[0]["validator"] == "stand-in 1.0"


def test_an_invalid_bundle_is_refused_with_its_findings_and_nothing_is_written(
    place: Place, tmp_path: Path, cli: CliInvoker, stand_in_module: None
) -> None:
    source = write(tmp_path / "p", {"prometheus.yml": "rule_files: rules/missing.yml\n"})
    result = place.cli(cli, "push", "prometheus", "dev", str(source))
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert lines[0] == "prometheus.yml:1: rules/missing.yml: no such rule file (stand-in 1.0)"
    assert lines[-1].startswith("s3kit: error: the prometheus configuration is not valid")
    assert place.keys() == []
    checked = place.cli(cli, "validate", "prometheus", str(source))
    assert checked.exit_code == 1 and checked.stdout.startswith("prometheus.yml:1: rules/missing")
    fine = write(tmp_path / "fine", PROMETHEUS)
    assert ok(place.cli(cli, "validate", "prometheus", str(fine))).stdout == (
        "prometheus: valid (stand-in 1.0)\n"
    )


def test_rollback_moves_the_pointer_back_and_every_move_is_logged(
    place: Place, tmp_path: Path, cli: CliInvoker
) -> None:
    store = place.store(author="alice")
    for version in (1, 2, 3):
        store.push("loki", "prod", {"loki.yml": f"version: {version}\n"}, message=f"v{version}")
    back = ok(place.cli(cli, "rollback", "loki", "prod"))
    assert back.stdout.startswith("rolled back loki: prod serves prod@2 (was prod@3,")
    assert store.read("loki", "prod")[1] == {"loki.yml": b"version: 2\n"}
    moved = json.loads(ok(place.cli(cli, "rollback", "loki", "prod", "--to", "1", "--json")).stdout)
    assert (moved["status"], moved["release"], moved["previous"]) == ("moved", 1, 2)
    same = ok(place.cli(cli, "rollback", "loki", "prod", "--to", "1"))
    assert same.stdout == "loki prod unchanged: it serves prod@1\n"
    nothing = place.cli(cli, "rollback", "loki", "prod")  # release 1 has no parent
    assert_usage_error(nothing)
    assert "the first release of prod" in nothing.stderr
    log = store.log("loki", "prod")
    assert [(m.seq, m.action, m.from_release, m.to_release) for m in log] == [
        (1, "push", None, 1),
        (2, "push", 1, 2),
        (3, "push", 2, 3),
        (4, "rollback", 3, 2),
        (5, "rollback", 2, 1),
    ]
    assert log[0].who == "alice"
    # A push after a rollback builds on what is live, under the next free number.
    after = store.push("loki", "prod", {"loki.yml": "version: 4\n"})
    assert (after.release.number, after.release.parent) == (4, 1)
    history = store.history("loki", "prod")
    assert [h.release.number for h in history if h.live] == [4]


def test_a_log_record_lost_after_the_swap_is_written_by_the_next_move(place: Place) -> None:
    store = place.store()
    store.push("jaeger", "dev", {"jaeger.yml": "a: 1\n"})
    (first,) = place.keys("envs/dev/jaeger/log/")
    place.session.storage(place.bucket).delete(place.prefix + first)  # as if the writer died
    assert [m.seq for m in store.log("jaeger", "dev")] == [1]  # HEAD still records it
    store.push("jaeger", "dev", {"jaeger.yml": "a: 2\n"})
    assert len(place.keys("envs/dev/jaeger/log/")) == 2


# -- promotion and protected environments ---------------------------------------------------------


def test_promote_refuses_what_the_source_does_not_serve_or_has_not_served_long_enough(
    place: Place, tmp_path: Path, cli: CliInvoker
) -> None:
    place.put_settings(["staging", "prod"], ["prod"])
    store = place.store(conditional_writes=True)
    store.push("grafana", "staging", {"grafana.ini": "[server]\nhttp_port = 3000\n"})
    store.push("grafana", "staging", {"grafana.ini": "[server]\nhttp_port = 3001\n"})
    old = place.cli(cli, "promote", "grafana", "--from", "staging", "--to", "prod",
                    "--version", "1")  # fmt: skip
    assert old.exit_code == 2
    assert "prod is protected: it takes only what staging serves, and staging@1 is not live" in (
        old.stderr
    )
    young = place.cli(cli, "promote", "grafana", "--from", "staging", "--to", "prod",
                      "--min-age", "1h")  # fmt: skip
    assert young.exit_code == 2 and "less than the 1h asked — promote it later" in young.stderr
    assert place.keys("envs/prod/") == [] and place.keys("releases/grafana/prod/") == []

    later = place.store(clock=lambda: datetime.now(UTC) + timedelta(hours=2))
    promoted = later.promote("grafana", source="staging", target="prod", min_age=3600)
    assert (promoted.status, promoted.release.ref, promoted.previous) == ("moved", "prod@1", None)
    assert promoted.release.digest == store.release("grafana", "staging").digest
    assert dict(promoted.release.origin) == {"action": "promote", "env": "staging", "release": 2}
    assert later.read("grafana", "prod")[1] == {"grafana.ini": b"[server]\nhttp_port = 3001\n"}
    again = later.promote("grafana", source="staging", target="prod", min_age=3600)
    assert again.status == "unchanged"
    assert [m.action for m in store.log("grafana", "prod")] == ["promote"]


def test_a_protected_environment_takes_only_validated_bundles(place: Place) -> None:
    place.put_settings(["dev", "prod"], ["prod"])
    store = place.store(conditional_writes=True)
    with pytest.raises(UsageError, match="prod is protected: it takes only validated"):
        store.push("alertmanager", "prod", {"alertmanager.yml": "route: {}\n"}, validate=False)
    with pytest.raises(UsageError, match="has no environment 'qa' — it has dev, prod"):
        store.push("alertmanager", "qa", {"alertmanager.yml": "route: {}\n"})
    store.push("alertmanager", "dev", {"alertmanager.yml": "route: {}\n"}, validate=False)
    with pytest.raises(UsageError, match="dev@1 was pushed with --no-validate"):
        store.promote("alertmanager", source="dev", target="prod")
    with pytest.raises(ConfigInvalid, match=r"1 error, stand-in 1\.0"):
        store.push("alertmanager", "prod", {"alertmanager.yml": "INVALID\n"})
    assert place.keys("envs/prod/") == []


def test_a_store_without_conditional_writes_refuses_protected_environments(
    rclone: Backend,
) -> None:
    assert known_gap(rclone, "conditional writes") is not None
    session = rclone.session()
    name = unique_bucket_name("cfg")
    service = S3Service(session)
    service.create_bucket(name)
    place = Place(rclone, session, name, "s/")
    try:
        place.put_settings(["staging", "prod"], ["prod"])
        store = place.store()
        with pytest.raises(NotSupported, match=r"does not honour conditional writes .* 'prod'"):
            store.push("prometheus", "prod", PROMETHEUS)
        assert place.keys() == ["store.json"]  # nothing written, the scratch object removed
        assert store.push("prometheus", "staging", PROMETHEUS).status == "pushed"
    finally:
        service.empty_bucket(name)
        service.delete_bucket(name)


# -- diff ----------------------------------------------------------------------------------------


def test_diff_masks_secrets_between_releases_and_against_local_files(
    place: Place, tmp_path: Path, cli: CliInvoker
) -> None:
    store = place.store()
    first = {"alertmanager.yml": "global:\n  smtp_auth_password: hunter2\nroute: {receiver: a}\n"}
    pushed = store.push("alertmanager", "dev", first)
    assert [(s.file, s.line, s.key) for s in pushed.secrets] == [
        ("alertmanager.yml", 2, "smtp_auth_password")
    ]
    store.push("alertmanager", "dev", {"alertmanager.yml": first["alertmanager.yml"]
               .replace("hunter2", "rotated!").replace("receiver: a", "receiver: b")})  # fmt: skip
    between = ok(place.cli(cli, "diff", "alertmanager", "dev@1", "dev@2")).stdout
    assert between == (
        "--- dev@1/alertmanager.yml\n+++ dev@2/alertmanager.yml\n@@ -1,3 +1,3 @@\n global:\n"
        "-  smtp_auth_password: ***\n-route: {receiver: a}\n"
        "+  smtp_auth_password: ***\n+route: {receiver: b}\n"
    )
    assert ok(place.cli(cli, "diff", "alertmanager", "dev")).stdout == between  # vs its parent
    local = write(tmp_path / "am", {"alertmanager.yml": "route: {receiver: b}\n", "t.tmpl": "x\n"})
    against = ok(place.cli(cli, "diff", "alertmanager", "dev", str(local))).stdout
    assert "-  smtp_auth_password: ***\n" in against
    assert f"--- /dev/null\n+++ {local}/t.tmpl\n" in against
    for shown in (between, against):
        assert "hunter2" not in shown and "rotated!" not in shown
    same = ok(place.cli(cli, "diff", "alertmanager", "dev@2", "dev", "--exit-code"))
    assert same.stdout == "" and "no differences between dev@2 and dev@2" in same.stderr
    assert place.cli(cli, "diff", "alertmanager", "dev@1", "dev", "--exit-code").exit_code == 1


# -- backup, restore, batch -----------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["prefix", "archive"])
def test_backup_then_restore_round_trip(
    place: Place, tmp_path: Path, cli: CliInvoker, kind: str
) -> None:
    store = place.store()
    store.push("prometheus", "prod", PROMETHEUS)
    store.push("grafana", "prod", {"grafana.ini": "[server]\n", "dashboards/a.json": "{}\n"})
    saved = {tool: store.read(tool, "prod")[1] for tool in ("prometheus", "grafana")}
    dest = f"{place.url}backups/one/" if kind == "prefix" else str(tmp_path / "prod.tar.gz")
    backed = ok(place.cli(cli, "backup", "prod", dest))
    assert backed.stdout == f"backed up prod (grafana prod@1, prometheus prod@1) to {dest}\n"
    again = place.cli(cli, "backup", "prod", dest)
    assert again.exit_code == 2 and " exists" in again.stderr

    store.push("prometheus", "prod", {"prometheus.yml": "global: {}\n"})
    planned = ok(place.cli(cli, "restore", dest, "--dryrun")).stdout
    assert planned == (
        "grafana: unchanged (prod serves those files already)\n"
        "prometheus: would restore release 1 (serves prod@2 now)\n"
    )
    assert store.live("prometheus", "prod").release == 2  # type: ignore[union-attr]
    restored = ok(place.cli(cli, "restore", dest)).stdout
    assert restored.splitlines()[1] == "prometheus: restored as prod@3 (was prod@2)"
    assert {tool: store.read(tool, "prod")[1] for tool in saved} == saved
    release = store.release("prometheus", "prod")
    assert dict(release.origin)["action"] == "restore" and release.validation is not None
    elsewhere = store.restore(dest, env="dr")
    assert [i.status for i in elsewhere.items] == ["restored", "restored"]
    assert store.read("grafana", "dr")[1] == saved["grafana"]


def test_a_dry_run_restore_refuses_what_the_restore_would(place: Place, tmp_path: Path) -> None:
    """--dryrun says what a restore would do, refusals included, and writes nothing."""
    place.put_settings(["dev", "prod"], ["prod"])
    store = place.store(conditional_writes=True)
    store.push("alertmanager", "dev", {"alertmanager.yml": "route: {}\n"}, validate=False)
    dest = str(tmp_path / "dev.tar.gz")
    store.backup("dev", dest)
    before = place.keys()
    for env, refusal in (
        ("qa", "has no environment 'qa'"),
        ("prod", "prod is protected: it takes only validated"),
    ):
        with pytest.raises(UsageError, match=refusal):
            store.restore(dest, env=env)
        with pytest.raises(UsageError, match=refusal):
            store.restore(dest, env=env, dryrun=True)
    assert place.keys() == before


def test_a_batch_reports_each_item_and_fails_when_one_did(
    place: Place, tmp_path: Path, cli: CliInvoker, stand_in_module: None
) -> None:
    write(tmp_path / "plan", {"prom/prometheus.yml": "global: {}\n", "loki.yml": "a: 1\n",
                              "bad/jaeger.yml": "INVALID\n"})  # fmt: skip
    place.store().push("jaeger", "prod", {"jaeger.yml": "ok: 1\n"})
    plan = tmp_path / "plan" / "plan.yaml"
    plan.write_text(
        "concurrency: 2\n"
        "items:\n"
        "  - {action: push, tool: prometheus, env: dev, path: prom/}\n"
        "  - {action: push, tool: jaeger, env: dev, path: bad/}\n"
        "  - {action: push, tool: loki, env: dev, path: loki.yml, message: logs}\n"
        "  - {action: pull, tool: jaeger, env: prod, dest: out/jaeger}\n"
    )
    result = place.cli(cli, "batch", str(plan), "--json")
    assert result.exit_code == 1, result.stderr
    report = json.loads(result.stdout)
    assert (report["done"], report["failed"]) == (3, 1)
    assert [(r["action"], r["tool"], r["status"]) for r in report["results"]] == [
        ("push", "prometheus", "done"),
        ("push", "jaeger", "failed"),
        ("push", "loki", "done"),
        ("pull", "jaeger", "done"),
    ]
    assert "not valid" in report["results"][1]["error"]["message"]
    assert (tmp_path / "plan" / "out" / "jaeger" / "jaeger.yml").read_text() == "ok: 1\n"
    assert place.store().release("loki", "dev").message == "logs"
    assert place.keys("envs/dev/jaeger/") == []
    # In text, each item's line, then the failure as the error the exit code stands for.
    text = place.cli(cli, "batch", str(plan))
    assert text.exit_code == 1
    assert text.stdout.splitlines()[1].startswith("failed  push jaeger dev: ")
    assert text.stdout.splitlines()[2] == "done    push loki dev: dev@1 (unchanged)"
    assert text.stderr.splitlines()[-1] == "s3kit: error: 1 of 4 items failed (see above)"


# -- compare-and-swap under concurrent pushes ----------------------------------------------------

CHILD = """
import os, sys, time
ready, go = sys.argv[1], sys.argv[2]
from s3kit.cli.app import main  # imported before the start line: the race is the pushes'
open(ready, "w").close()
while not os.path.exists(go):
    time.sleep(0.002)
sys.argv = ["s3kit", *sys.argv[3:]]
main()
"""
PUSHERS = 5


def test_concurrent_pushes_each_get_a_release_and_only_winners_move_the_pointer(
    place: Place, tmp_path: Path
) -> None:
    store = place.store()
    store.push("prometheus", "prod", {"prometheus.yml": "round: 0\n"})  # so the swaps use If-Match
    env = {**os.environ, **place.backend.env(), "S3KIT_CONFIGS_STORE": place.url}
    go = tmp_path / "go"
    children = []
    for n in range(PUSHERS):
        folder = write(tmp_path / f"p{n}", {"prometheus.yml": f"pusher: {n}\n"})
        command = [
            *(sys.executable, "-c", CHILD, str(tmp_path / f"ready{n}"), str(go)),
            *("configs", "push", "prometheus", "prod", str(folder), "--no-validate", "-m", f"p{n}"),
        ]
        children.append(subprocess.Popen(command, env=env, stdout=subprocess.PIPE,
                                         stderr=subprocess.PIPE, text=True))  # fmt: skip
    deadline = time.monotonic() + 120  # a bound on the wait, not a measurement
    while not all((tmp_path / f"ready{n}").exists() for n in range(PUSHERS)):
        assert time.monotonic() < deadline, "the pushers did not start"
        assert all(c.poll() is None for c in children), [c.communicate() for c in children]
        time.sleep(0.01)
    go.touch()
    results = [(c.wait(timeout=120), *c.communicate()) for c in children]
    winners = [n for n, (code, _, _) in enumerate(results) if code == 0]
    losers = [n for n, (code, _, _) in enumerate(results) if code != 0]
    assert winners, results
    for n in losers:
        code, _, err = results[n]
        assert code == 1 and "while this push ran" in err and "recorded but not live" in err, err

    history = store.history("prometheus", "prod")
    assert [h.release.number for h in history] == list(range(1, PUSHERS + 2))  # none lost
    assert sorted(h.release.message for h in history[1:]) == [f"p{n}" for n in range(PUSHERS)]
    log = store.log("prometheus", "prod")
    assert len(place.keys("envs/prod/prometheus/log/")) == len(log) == 1 + len(winners)
    moved_to = [m.to_release for m in log[1:]]
    by_number = {h.release.number: h.release.message for h in history}
    assert sorted(by_number[n] for n in moved_to) == sorted(f"p{n}" for n in winners)
    for before, after in itertools.pairwise(log):  # one unbroken chain of moves
        assert after.from_release == before.to_release
    live = store.live("prometheus", "prod")
    assert live is not None and live.release == log[-1].to_release
    assert {h.release.number for h in history if h.served} == {1, *moved_to}


def test_a_conflict_is_said_and_the_push_is_recorded_not_live(place: Place) -> None:
    """One loser, made deterministic: the pointer moves between a push's read and its swap."""
    store = place.store()
    store.push("loki", "dev", {"loki.yml": "a: 0\n"})
    other = place.store()
    real = store._head

    async def read_then_move(tool: str, env: str) -> Any:
        read = await real(tool, env)
        if read[0] is not None and read[0].release == 1:
            await other.push_async("loki", "dev", {"loki.yml": "a: other\n"})
        return read

    store._head = read_then_move  # type: ignore[method-assign]
    lost = (
        r"dev moved to release 2 \(push by .*\) while this push ran: loki dev@3 is recorded but not"
    )
    with pytest.raises(ConflictError, match=lost):
        store.push("loki", "dev", {"loki.yml": "a: mine\n"})
    assert other.live("loki", "dev").release == 2  # type: ignore[union-attr]
    assert [h.served for h in other.history("loki", "dev")] == [True, True, False]


# -- the seed API ---------------------------------------------------------------------------------


def test_the_seed_api_uploads_downloads_promotes_backs_up_and_restores(
    place: Place, tmp_path: Path
) -> None:
    options: dict[str, Any] = {"session": place.session, "validators": stand_in}
    pushed = upload_apm_config(place.url, "loki", "dev", {"loki.yml": "a: 1\n"}, **options)
    assert pushed.status == "pushed"
    upload_apm_config(place.url, "jaeger", "dev", write(tmp_path / "j", {"j.yml": "b\n"}),
                      **options)  # fmt: skip
    assert download_apm_config(place.url, "loki", "dev", **options) == {"loki.yml": "a: 1\n"}
    out = tmp_path / "out"
    assert download_apm_config(place.url, "jaeger", "dev", dest=out, **options) == {"j.yml": "b\n"}
    assert (out / "j.yml").read_text() == "b\n"
    moved = deploy_apm_configs(place.url, "dev", "prod", **options)
    assert [(m.tool, m.status, m.release.ref) for m in moved] == [
        ("jaeger", "moved", "prod@1"),
        ("loki", "moved", "prod@1"),
    ]
    backup_apm_config(place.url, "prod", f"{place.url}bk/", **options)
    restored = restore_apm_config(place.url, f"{place.prefix}bk/", env="qa", **options)
    assert [(i.tool, i.status) for i in restored.items] == [
        ("jaeger", "restored"),
        ("loki", "restored"),
    ]
    assert download_apm_config(place.url, "loki", "qa", **options) == {"loki.yml": "a: 1\n"}
