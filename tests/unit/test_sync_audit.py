"""The audit records of `sync --log-file`, built from plain plans and events — no server."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from s3kit._sync.audit import AuditLog, AuditRecord, PlanRecorder, audit_record, planned_records
from s3kit._sync.plan import CompareOptions, Plan, entry, make_plan
from s3kit._sync.scan import LocalSide, S3Side
from s3kit.errors import S3KitError
from s3kit.transfer import TransferEvent, TransferItem

WHEN = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
SRC, DST = LocalSide(Path("/data")), S3Side("b", "p/")


def clock() -> datetime:
    return WHEN


def plan() -> Plan:
    return make_plan(
        [entry("new.txt", 3, 10.0), entry("same", 1, 5.0)],
        [entry("same", 1, 5.0), entry("old.txt", 7, 1.0)],
        "upload",
        CompareOptions(delete=True),
    )


def test_record_builder_fields() -> None:
    record = audit_record(
        "upload", source="/a", destination="s3://b/a", reason="new", result="done",
        size=3, clock=clock,
    )  # fmt: skip
    assert record == {
        "time": "2026-01-02T03:04:05.000+00:00", "action": "upload", "source": "/a",
        "destination": "s3://b/a", "reason": "new", "bytes": 3, "result": "done",
        "error": None,
    }  # fmt: skip
    assert "source" not in audit_record("delete", path="x", reason="r", result="planned")


def test_planned_records_follow_the_plan() -> None:
    records = planned_records(plan(), SRC, DST, clock=clock)
    assert [(r["action"], r["reason"], r["result"], r["bytes"]) for r in records] == [
        ("upload", "new", "planned", 3),
        ("delete", "not in source", "planned", 7),
    ]
    assert records[0]["destination"] == "s3://b/p/new.txt"
    assert records[1]["path"] == "s3://b/p/old.txt"


def test_recorder_turns_events_into_results() -> None:
    written: list[AuditRecord] = []
    recorder = PlanRecorder(plan(), SRC, DST, written.append, clock=clock)
    item = TransferItem(SRC.location("new.txt"), DST.location("new.txt"), 3)
    recorder(TransferEvent("queued", "upload", item))
    recorder(TransferEvent("failed", "upload", item, S3KitError("access denied")))
    recorder.finish("1 deletions skipped")
    assert [(r["action"], r["result"], r["error"]) for r in written] == [
        ("upload", "failed", "access denied"),
        ("delete", "failed", "1 deletions skipped"),
    ]


def test_log_appends_json_lines(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    for _ in range(2):
        with AuditLog(path) as log:
            log.write(audit_record("skip", path="x", reason="twin", result="done", clock=clock))
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [line["action"] for line in lines] == ["skip", "skip"]
