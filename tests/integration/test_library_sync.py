"""`s3kit.sync` / `sync_async`: the library's one call does what `s3kit sync` does — default
excludes, .s3kitignore, s3kit.yaml defaults, stream-or-plan, the delete guard, a confirmation
callback, the audit log and the throughput history — on SeaweedFS and moto."""

from __future__ import annotations

import asyncio
import json
import os
import time
from pathlib import Path

import pytest

import s3kit
from s3kit._config.file import S3KitConfig, SyncConfig
from s3kit._session import Session
from s3kit._sync.plan import Action, DeleteRefused, Plan
from s3kit._sync.throughput import history_file
from tests.conftest import Backend

NO_FILE = S3KitConfig()  # no s3kit.yaml: the built-in defaults


def _tree(root: Path, files: dict[str, bytes]) -> Path:
    """Files written an hour ago: S3's LastModified (whole seconds on some stores) is then
    clearly newer, and a re-sync has nothing to send."""
    past = time.time() - 3600
    for name, data in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        os.utime(path, (past, past))
    return root


def _keys(session: Session, bucket: str, prefix: str = "") -> list[str]:
    return sorted(
        info.key
        for info in session.storage(bucket).list(prefix)
        if isinstance(info, s3kit.ObjectInfo)
    )


def test_a_folder_upload_skips_what_the_cli_skips(
    backend: Backend, bucket: str, tmp_path: Path
) -> None:
    site = _tree(
        tmp_path / "site",
        {
            "index.html": b"<h1>hi</h1>",
            "debug.log": b"noise",
            ".s3kitignore": b"*.log\n",
            "node_modules/x/index.js": b"module",
            ".git/config": b"[core]",
            "css/main.css": b"h1 {}",
        },
    )
    session = backend.session()
    outcome = s3kit.sync(site, f"s3://{bucket}/www", session=session, settings=NO_FILE)
    assert outcome.ok and outcome.result is not None
    assert outcome.result.transferred == 3  # .s3kitignore itself travels, as with the CLI
    assert _keys(session, bucket) == ["www/.s3kitignore", "www/css/main.css", "www/index.html"]
    # A second run finds nothing to do.
    again = s3kit.sync(site, f"s3://{bucket}/www", session=session, settings=NO_FILE)
    assert again.result is not None and again.result.transferred == 0


def test_the_config_file_decides_what_the_caller_leaves_unset(
    backend: Backend, bucket: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    session = backend.session()
    session.storage(bucket).put("p/stale.txt", b"old")
    site = _tree(tmp_path / "site", {"new.txt": b"new"})
    # s3kit.yaml in the working folder, found as the CLI finds it.
    work = tmp_path / "work"
    work.mkdir()
    (work / "s3kit.yaml").write_text("sync:\n  delete_removed: true\n", encoding="utf-8")
    monkeypatch.chdir(work)
    outcome = s3kit.sync(site, f"s3://{bucket}/p", session=session)
    assert outcome.result is not None and outcome.result.deleted == 1
    assert _keys(session, bucket) == ["p/new.txt"]
    # The caller's own value wins over the file's.
    session.storage(bucket).put("p/stale.txt", b"old")
    kept = s3kit.sync(site, f"s3://{bucket}/p", session=session, delete=False)
    assert kept.result is not None and kept.result.deleted == 0
    assert _keys(session, bucket) == ["p/new.txt", "p/stale.txt"]


def test_deletions_wait_for_the_confirmation(backend: Backend, bucket: str, tmp_path: Path) -> None:
    session = backend.session()
    for name in ("a", "b"):
        session.storage(bucket).put(f"p/{name}", b"x")
    site = _tree(tmp_path / "site", {"a": b"x"})
    asked: list[Plan] = []

    def no(plan: Plan) -> bool:
        asked.append(plan)
        return False

    declined = s3kit.sync(
        site, f"s3://{bucket}/p", session=session, settings=NO_FILE, delete=True, confirm=no
    )
    assert declined.cancelled and declined.result is None and not declined.ok
    assert [a.key for a in asked[0].deletions] == ["b"]
    assert _keys(session, bucket) == ["p/a", "p/b"]  # nothing deleted

    done = s3kit.sync(
        site, f"s3://{bucket}/p", session=session, settings=NO_FILE, delete=True,
        confirm=lambda plan: True,
    )  # fmt: skip
    assert done.result is not None and done.result.deleted == 1
    assert _keys(session, bucket) == ["p/a"]


def test_the_delete_guard_refuses_to_empty_the_destination(
    backend: Backend, bucket: str, tmp_path: Path
) -> None:
    session = backend.session()
    storage = session.storage(bucket)
    for number in range(25):
        storage.put(f"p/{number:02}", b"x")
    site = _tree(tmp_path / "site", {"00": b"x"})
    with pytest.raises(DeleteRefused, match="more than 50%"):
        s3kit.sync(site, f"s3://{bucket}/p", session=session, settings=NO_FILE, delete=True)
    assert len(_keys(session, bucket)) == 25
    with pytest.raises(DeleteRefused, match="max-delete"):
        s3kit.sync(
            site, f"s3://{bucket}/p", session=session, settings=NO_FILE, delete=True,
            force=True, max_delete=3,
        )  # fmt: skip
    assert len(_keys(session, bucket)) == 25


def test_a_dry_run_plans_and_changes_nothing(backend: Backend, bucket: str, tmp_path: Path) -> None:
    session = backend.session()
    session.storage(bucket).put("p/gone", b"x")
    site = _tree(tmp_path / "site", {"new": b"abc"})
    plan_file = tmp_path / "plan.json"
    shown: list[s3kit.SyncOutcome] = []
    outcome = s3kit.sync(
        site, f"s3://{bucket}/p", session=session, settings=NO_FILE, delete=True,
        dryrun=True, plan_out=plan_file, on_plan=shown.append,
    )  # fmt: skip
    assert outcome.result is None and shown == [outcome]
    planned = {(a.kind, a.key) for a in outcome.plan.actions}
    assert planned == {("upload", "new"), ("delete", "gone")}
    assert _keys(session, bucket) == ["p/gone"]
    document = json.loads(plan_file.read_text(encoding="utf-8"))
    assert document == outcome.document()
    assert document["refused"] == [] and document["estimated_seconds"] is None


def test_the_audit_log_and_the_throughput_history_are_kept(
    backend: Backend, bucket: str, tmp_path: Path
) -> None:
    session = backend.session()
    site = _tree(tmp_path / "site", {"a.txt": b"a" * 100, "b.txt": b"b" * 50})
    log = tmp_path / "audit.jsonl"
    outcome = s3kit.sync(site, f"s3://{bucket}/p", session=session, settings=NO_FILE, log_file=log)
    assert outcome.result is not None and outcome.result.transferred == 2
    records = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    assert sorted((r["action"], r["result"], r["bytes"]) for r in records) == [
        ("upload", "done", 50),
        ("upload", "done", 100),
    ]
    history = json.loads(history_file().read_text(encoding="utf-8"))
    assert any(runs for runs in history.values())
    # A later dry run estimates from it.
    (site / "c.txt").write_bytes(b"c" * 10)
    planned = s3kit.sync(site, f"s3://{bucket}/p", session=session, settings=NO_FILE, dryrun=True)
    assert planned.estimated_seconds is not None


def test_failures_are_reported_per_action_not_raised(
    backend: Backend, bucket: str, tmp_path: Path
) -> None:
    session = backend.session()
    session.storage(bucket).put("p/ok.txt", b"fine")
    session.storage(bucket).put("p/bad.txt", b"x")
    # A folder with a file in it stands where bad.txt must go: that download cannot finish.
    target = _tree(tmp_path / "down", {"bad.txt/inside": b"mine"})
    ended: list[tuple[str, str | None]] = []

    def on_action(action: Action, error: s3kit.S3KitError | None) -> None:
        ended.append((action.key, None if error is None else error.message))

    outcome = s3kit.sync(
        f"s3://{bucket}/p", target, session=session, settings=NO_FILE, on_action=on_action
    )
    assert outcome.result is not None and not outcome.ok
    assert [path for path, _ in outcome.result.failures] == [f"s3://{bucket}/p/bad.txt"]
    assert ("ok.txt", None) in ended and any(k == "bad.txt" and e for k, e in ended)
    assert (target / "ok.txt").read_bytes() == b"fine"
    assert (target / "bad.txt" / "inside").read_bytes() == b"mine"  # nothing of it lost


def test_sync_async_runs_inside_the_callers_event_loop(
    backend: Backend, bucket: str, other_bucket: str, tmp_path: Path
) -> None:
    session = backend.session()
    site = _tree(tmp_path / "site", {"a": b"1", "sub/b": b"22"})

    async def both_ways() -> tuple[s3kit.SyncOutcome, s3kit.SyncOutcome, s3kit.SyncOutcome]:
        up = await s3kit.sync_async(site, f"s3://{bucket}/p", session=session, settings=NO_FILE)
        across = await s3kit.sync_async(
            f"s3://{bucket}/p", f"s3://{other_bucket}/q", session=session, settings=NO_FILE
        )
        down = await s3kit.sync_async(
            f"s3://{other_bucket}/q", tmp_path / "back", session=session, settings=NO_FILE
        )
        return up, across, down

    up, across, down = asyncio.run(both_ways())
    assert [o.result.transferred for o in (up, across, down) if o.result] == [2, 2, 2]
    assert (tmp_path / "back" / "sub" / "b").read_bytes() == b"22"


def test_the_library_sync_has_its_own_defaults_not_the_cli_state(
    backend: Backend, bucket: str, tmp_path: Path
) -> None:
    """Settings given explicitly: a config file in the working folder is not read."""
    session = backend.session()
    session.storage(bucket).put("p/stale", b"x")
    site = _tree(tmp_path / "site", {"new": b"n"})
    outcome = s3kit.sync(
        site, f"s3://{bucket}/p", session=session,
        settings=S3KitConfig(sync=SyncConfig(delete_removed=True)),
    )  # fmt: skip
    assert outcome.result is not None and outcome.result.deleted == 1


def test_two_way_sync_from_the_library(backend: Backend, bucket: str, tmp_path: Path) -> None:
    session = backend.session()
    local = _tree(tmp_path / "local", {"a.txt": b"a", "b.txt": b"b", "node_modules/x.js": b"x"})
    remote = f"s3://{bucket}/two"
    log = tmp_path / "audit.jsonl"
    first = s3kit.bisync(local, remote, session=session, settings=NO_FILE, resync=True)
    assert first.ok and _keys(session, bucket) == ["two/a.txt", "two/b.txt"]  # no node_modules
    session.storage(bucket).put("two/from-remote.txt", b"r")
    (local / "a.txt").unlink()
    second = s3kit.bisync(local, remote, session=session, settings=NO_FILE, log_file=log)
    assert second.ok, second
    assert (local / "from-remote.txt").read_bytes() == b"r"
    assert _keys(session, bucket) == ["two/b.txt", "two/from-remote.txt"]
    actions = sorted(json.loads(line)["action"] for line in log.read_text().splitlines())
    assert actions == ["delete", "download"]
    with pytest.raises(s3kit.UsageError, match="--conflict must be one of"):
        s3kit.bisync(local, remote, session=session, settings=NO_FILE, conflict="coinflip")
