"""The pure parts of object administration: price math, class and restore validation, tag and
metadata parsing, key lists, batching, version ordering and the older-than filter."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, cast

import pytest

from s3kit._session import Session
from s3kit.cli.cp_mv import parse_metadata, storage_class
from s3kit.errors import UsageError
from s3kit.service.classes import (
    DEFAULT_PRICES,
    GB,
    ClassUsage,
    estimate_cost,
    prices_from_document,
    restore_status_from_head,
    usage_from_sizes,
    validate_restore,
)
from s3kit.service.objects import (
    ObjectsMixin,
    merge_metadata,
    parse_key_lines,
    parse_pairs,
    replace_arguments,
    validate_content_length_range,
    validate_tags,
)
from s3kit.service.uploads import Upload, select_uploads

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)

# -- cost ---------------------------------------------------------------------------------------


def test_estimate_cost_per_class_and_total() -> None:
    usage = usage_from_sizes([(None, GB), ("STANDARD", GB), ("glacier", 10 * GB), ("SNOW", 5)])
    report = estimate_cost(usage, DEFAULT_PRICES)
    by_class = {line.storage_class: line for line in report.lines}
    assert [line.storage_class for line in report.lines] == ["GLACIER", "SNOW", "STANDARD"]
    assert by_class["STANDARD"].objects == 2
    assert by_class["STANDARD"].monthly_usd == pytest.approx(2 * 0.023)
    assert by_class["GLACIER"].monthly_usd == pytest.approx(10 * 0.0036)
    assert by_class["SNOW"].monthly_usd is None
    assert report.unpriced == ["SNOW"]
    assert report.objects == 4
    assert report.bytes == 12 * GB + 5
    assert report.monthly_usd == pytest.approx(0.046 + 0.036)


def test_estimate_cost_of_nothing_is_zero() -> None:
    report = estimate_cost({}, DEFAULT_PRICES)
    assert (report.lines, report.objects, report.bytes, report.monthly_usd) == ([], 0, 0, 0.0)
    assert report.as_dict()["total"] == {"objects": 0, "bytes": 0, "monthly_usd": 0.0}


def test_price_document_overrides_only_the_classes_it_names() -> None:
    prices = prices_from_document({"standard": 0.02, "SNOW": 1})
    assert prices["STANDARD"] == 0.02
    assert prices["SNOW"] == 1.0
    assert prices["GLACIER"] == DEFAULT_PRICES["GLACIER"]
    report = estimate_cost({"STANDARD": ClassUsage(1, GB // 2)}, prices)
    assert report.monthly_usd == pytest.approx(0.01)


@pytest.mark.parametrize(
    "document",
    [["STANDARD", 1], {"STANDARD": "cheap"}, {"STANDARD": -1}, {"STANDARD": True}, {"A B": 1}],
)
def test_bad_price_documents_are_usage_errors(document: object) -> None:
    with pytest.raises(UsageError):
        prices_from_document(document)


def test_builtin_prices_cover_the_priced_classes() -> None:
    assert set(DEFAULT_PRICES) >= {"STANDARD", "STANDARD_IA", "GLACIER", "DEEP_ARCHIVE"}
    assert all(price > 0 for price in DEFAULT_PRICES.values())
    assert DEFAULT_PRICES["DEEP_ARCHIVE"] < DEFAULT_PRICES["GLACIER"] < DEFAULT_PRICES["STANDARD"]


# -- storage classes and restore ----------------------------------------------------------------


def test_storage_class_names_are_validated_case_insensitively() -> None:
    assert storage_class("standard_ia") == "STANDARD_IA"
    assert storage_class("DEEP_ARCHIVE") == "DEEP_ARCHIVE"
    with pytest.raises(UsageError, match="unknown storage class 'FROZEN'"):
        storage_class("FROZEN")


def test_restore_input_is_validated() -> None:
    assert validate_restore(7, "bulk") == (7, "Bulk")
    assert validate_restore(1, "EXPEDITED") == (1, "Expedited")
    with pytest.raises(UsageError, match="--days"):
        validate_restore(0, "Standard")
    with pytest.raises(UsageError, match="--tier"):
        validate_restore(1, "Fast")


def test_restore_status_from_head_headers() -> None:
    assert restore_status_from_head({}).state == "not-archived"
    assert restore_status_from_head({"StorageClass": "GLACIER"}).state == "archived"
    ongoing = restore_status_from_head(
        {"StorageClass": "DEEP_ARCHIVE", "Restore": 'ongoing-request="true"'}
    )
    assert (ongoing.state, ongoing.expiry) == ("in-progress", None)
    done = restore_status_from_head(
        {
            "StorageClass": "GLACIER",
            "Restore": 'ongoing-request="false", expiry-date="Fri, 21 Dec 2012 00:00:00 GMT"',
        }
    )
    assert done.state == "restored"
    assert done.expiry == datetime(2012, 12, 21, tzinfo=UTC)
    assert done.as_dict()["expiry"] == "2012-12-21T00:00:00+00:00"


# -- metadata and tags --------------------------------------------------------------------------


def test_merge_metadata_merges_or_replaces_case_insensitively() -> None:
    current = {"Owner": "ana", "b": "2"}
    assert merge_metadata(current, {"owner": "bo", "c": "3"}, replace=False) == {
        "owner": "bo",
        "b": "2",
        "c": "3",
    }
    assert merge_metadata(current, {"c": "3"}, replace=True) == {"c": "3"}


def test_metadata_pairs_reuse_the_cp_parser() -> None:
    assert parse_metadata(["A=1", "b=x=y"]) == {"a": "1", "b": "x=y"}
    with pytest.raises(UsageError):
        parse_metadata(["novalue"])


def test_tag_pairs_and_limits() -> None:
    assert parse_pairs(["team=data", "empty=", "a=b=c"], what="tags") == {
        "team": "data",
        "empty": "",
        "a": "b=c",
    }
    with pytest.raises(UsageError, match="key=value"):
        parse_pairs(["=x"], what="tags")
    with pytest.raises(UsageError, match="at most 10"):
        validate_tags({f"k{i}": "v" for i in range(11)})
    with pytest.raises(UsageError, match="256"):
        validate_tags({"k": "v" * 257})


def test_replace_arguments_keep_what_replace_would_reset() -> None:
    head = {
        "ContentType": "text/csv",
        "CacheControl": "no-cache",
        "StorageClass": "STANDARD_IA",
        "ServerSideEncryption": "aws:kms",
        "SSEKMSKeyId": "arn:key",
        "ContentLength": 5,
        "ETag": '"x"',
    }
    assert replace_arguments(head) == {
        "ContentType": "text/csv",
        "CacheControl": "no-cache",
        "StorageClass": "STANDARD_IA",
        "ServerSideEncryption": "aws:kms",
        "SSEKMSKeyId": "arn:key",
    }


# -- key lists and batching ---------------------------------------------------------------------


def test_key_lines_keep_spaces_and_skip_blank_lines() -> None:
    assert parse_key_lines("a\r\n\n  b c \n   \nlast") == ["a", "  b c ", "last"]


class RecordingObjects(ObjectsMixin):
    """ObjectsMixin with `call` recorded and answered with nothing: checks that must come
    before any request."""

    def __init__(self) -> None:
        super().__init__(cast(Session, None))
        self.requests: list[dict[str, Any]] = []

    def call(self, operation: str, **kwargs: Any) -> Any:
        self.requests.append({"operation": operation, **kwargs})
        return {}


def test_presign_post_limits_are_checked_before_any_call() -> None:
    service = RecordingObjects()
    with pytest.raises(UsageError, match="7 days"):
        service.presign_post("bucket", "k", expires_in=7 * 24 * 3600 + 1)
    with pytest.raises(UsageError, match="MIN <= MAX"):
        service.presign_post("bucket", "k", content_length_range=(10, 1))
    assert service.requests == []
    assert validate_content_length_range(0, 10) == (0, 10)


# -- uploads ---------------------------------------------------------------------------------------


def _uploads() -> list[Upload]:
    return [
        Upload("old", "u1", NOW - timedelta(days=10)),
        Upload("new", "u2", NOW - timedelta(hours=1)),
        Upload("unknown", "u3", None),
    ]


def test_older_than_keeps_uploads_started_before_the_cutoff() -> None:
    assert [u.key for u in select_uploads(_uploads(), older_than_days=7, now=NOW)] == ["old"]
    assert [u.key for u in select_uploads(_uploads(), older_than_days=0.01, now=NOW)] == [
        "old",
        "new",
    ]
    assert len(select_uploads(_uploads(), now=NOW)) == 3


def test_upload_selection_by_key_and_id() -> None:
    assert [u.upload_id for u in select_uploads(_uploads(), key="new")] == ["u2"]
    assert select_uploads(_uploads(), key="old", upload_id="u2") == []
    with pytest.raises(UsageError, match="--key"):
        select_uploads(_uploads(), upload_id="u1")
    with pytest.raises(UsageError, match="--older-than"):
        select_uploads(_uploads(), older_than_days=-1)
