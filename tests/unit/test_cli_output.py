"""The JSON schema's building blocks (s3kit.cli.output), without a server."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from s3kit.cli import output
from s3kit.errors import PermissionDenied, S3KitError, UsageError


class Out:
    def __init__(self, capsys: pytest.CaptureFixture[str]) -> None:
        self._capsys, self._seen = capsys, ""

    def getvalue(self) -> str:
        self._seen += self._capsys.readouterr().out
        return self._seen

    def clear(self) -> None:
        self.getvalue()
        self._seen = ""


@pytest.fixture
def stdout(capsys: pytest.CaptureFixture[str]) -> Out:
    return Out(capsys)


@pytest.mark.parametrize(
    "records",
    [[], [{"key": "a", "size": 1}], [{"key": "a"}, {"prefix": "p/", "nested": {"x": [1, 2]}}]],
)
def test_a_streamed_listing_is_what_one_document_would_be(
    stdout: Out, records: list[dict[str, object]]
) -> None:
    output.emit_listing(iter(records))
    assert stdout.getvalue() == json.dumps(records, indent=2) + "\n"


def test_jsonl_is_one_compact_object_a_line(stdout: Out) -> None:
    moment = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    output.emit_listing(iter([{"key": "a\nb", "at": moment}, {"key": "c"}]), jsonl=True)
    assert stdout.getvalue().splitlines() == [
        '{"key": "a\\nb", "at": "2026-01-02T03:04:05+00:00"}',
        '{"key": "c"}',
    ]


def test_nothing_is_null(stdout: Out) -> None:
    output.emit(None)
    assert stdout.getvalue() == "null\n"


def test_error_objects_never_hold_empty_strings() -> None:
    assert output.error_object(None) is None
    assert output.error_object(S3KitError("it broke")) == {"code": None, "message": "it broke"}
    denied = PermissionDenied("no", code="AccessDenied")
    assert output.error_object(denied) == {"code": "AccessDenied", "message": "no"}
    assert output.error_text("") is None
    assert output.error_text("", "SlowDown") == {"code": "SlowDown", "message": "SlowDown"}
    assert output.error_text("gone", "NoSuchKey") == {"code": "NoSuchKey", "message": "gone"}


def test_an_item_has_the_five_keys_first_and_extras_after() -> None:
    done = output.item("upload", Path("/tmp/a"), "s3://b/a", status="done", bytes=3)
    assert list(done) == ["action", "source", "destination", "status", "error", "bytes"]
    assert done["source"] == "/tmp/a" and done["error"] is None
    deleted = output.item("delete", "s3://b/a", status="done")
    assert deleted["destination"] is None


def test_a_summary_counts_its_failures() -> None:
    failure = output.item("upload", "a", "b", status="failed", error=output.error_text("x"))
    summary = output.transfer_summary(
        transferred=2, bytes=10, deleted=0, skipped=1, seconds=0.12345, failures=[failure]
    )
    assert summary == {
        "transferred": 2,
        "bytes": 10,
        "deleted": 0,
        "failed": 1,
        "skipped": 1,
        "seconds": 0.123,
        "failures": [failure],
    }


def test_json_and_jsonl_exclude_each_other() -> None:
    assert output.mode_of(json_out=False, jsonl=False) == "text"
    assert output.mode_of(json_out=True) == "json"
    assert output.mode_of(json_out=False, jsonl=True) == "jsonl"
    with pytest.raises(UsageError, match="--json or --jsonl"):
        output.mode_of(json_out=True, jsonl=True)


def test_a_report_prints_lines_at_once_or_one_document_at_the_end(stdout: Out) -> None:
    done = output.item("delete", "s3://b/k", status="done")
    lines = output.ItemReport("jsonl")
    lines.add(done)
    assert stdout.getvalue() == json.dumps(done) + "\n"
    lines.close(deleted=1)
    assert stdout.getvalue() == json.dumps(done) + "\n"  # no closing document

    stdout.clear()
    whole = output.ItemReport("json")
    whole.add(done)
    assert stdout.getvalue() == ""
    whole.close(deleted=whole.count("done"), failed=whole.count("failed"))
    assert json.loads(stdout.getvalue()) == {"deleted": 1, "failed": 0, "results": [done]}

    stdout.clear()
    text = output.ItemReport("text")
    text.add(done)
    text.close(deleted=1)
    assert stdout.getvalue() == ""
