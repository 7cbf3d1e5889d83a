"""Conditional multipart uploads without a server: what the condition allows, the headers it
sends on CompleteMultipartUpload, and the HEAD-first fallback for stores that refuse them."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import pytest

from s3kit._uri import S3Url
from s3kit.errors import ConflictError, NotSupported, ObjectNotFound
from s3kit.storage.base import ObjectInfo
from s3kit.transfer.checksum import crc64, crc_b64
from s3kit.transfer.journal import JournalEntry, JournalPart
from s3kit.transfer.upload import Precondition, _complete


@pytest.mark.parametrize(
    ("condition", "current", "allowed"),
    [
        (Precondition(None), None, True),  # create-only, nothing there
        (Precondition(None), '"abc"', False),  # create-only, someone created it
        (Precondition("abc"), '"abc"', True),  # quotes do not matter
        (Precondition('"abc-2"'), "abc-2", True),
        (Precondition("abc"), '"abd"', False),  # changed
        (Precondition("abc"), None, False),  # deleted meanwhile
    ],
)
def test_precondition_holds(condition: Precondition, current: str | None, allowed: bool) -> None:
    assert condition.holds(current) is allowed


def test_precondition_headers() -> None:
    assert Precondition(None).headers() == {"If-None-Match": "*"}
    assert Precondition("abc-2").headers() == {"If-Match": '"abc-2"'}
    assert Precondition('"AbC"').headers() == {"If-Match": '"AbC"'}  # the store's spelling


class FakeStorage:
    def __init__(self, etag: str | None) -> None:
        self.etag = etag
        self.heads = 0

    async def head_async(self, key: str) -> ObjectInfo:
        self.heads += 1
        if self.etag is None:
            raise ObjectNotFound(f"{key} does not exist")
        return ObjectInfo(key, 1, datetime.now(UTC), self.etag)


class FakeContext:
    def __init__(self, storage: FakeStorage) -> None:
        self.storage = storage

    def writer(self, bucket: str) -> FakeStorage:
        return self.storage


class FakeMultipart:
    """Completes, or refuses conditional headers as a store without support might (501)."""

    def __init__(self, *, refuses_conditions: bool = False, answer: str = '"assembled-1"') -> None:
        self.refuses_conditions = refuses_conditions
        self.answer = answer
        self.calls: list[Mapping[str, str] | None] = []

    async def complete(
        self,
        key: str,
        upload_id: str,
        etags: Sequence[tuple[int, str]],
        headers: Mapping[str, str] | None = None,
        part_checksums: Mapping[int, str] | None = None,
    ) -> str:
        self.calls.append(headers)
        self.part_checksums = part_checksums
        conditional = any(name.startswith("If-") for name in headers or {})
        if conditional and self.refuses_conditions:
            raise NotSupported("this endpoint does not support this operation")
        if self.answer == "NoSuchUpload":
            error = ObjectNotFound("the multipart upload no longer exists")
            error.code = "NoSuchUpload"
            raise error
        return self.answer


def complete(ctx: Any, mp: Any, condition: Precondition | None) -> str:
    """`_complete` with the fakes standing in for the TransferContext and Multipart."""
    entry = JournalEntry("upload", "e", "b", "k", "/f", 1, 0, 1, upload_id="u")
    entry.parts = {1: JournalPart(etag='"p1"', md5="", crc=0, size=1)}
    return asyncio.run(
        _complete(ctx, mp, S3Url("b", "k"), entry, condition, '"assembled-1"', check=True)
    )


def test_the_condition_goes_on_the_complete_after_a_head() -> None:
    storage, mp = FakeStorage('"old"'), FakeMultipart()
    assert complete(FakeContext(storage), mp, Precondition("old")) == '"assembled-1"'
    assert storage.heads == 1
    assert mp.calls == [{"If-Match": '"old"'}]


def test_a_changed_object_refuses_before_the_complete() -> None:
    storage, mp = FakeStorage('"someone-else"'), FakeMultipart()
    with pytest.raises(ConflictError, match="changed since it was read"):
        complete(FakeContext(storage), mp, Precondition("old"))
    assert mp.calls == []  # the caller aborts the upload


def test_a_store_refusing_the_headers_completes_after_the_head_alone() -> None:
    storage, mp = FakeStorage(None), FakeMultipart(refuses_conditions=True)
    assert complete(FakeContext(storage), mp, Precondition(None)) == '"assembled-1"'
    assert mp.calls == [{"If-None-Match": "*"}, {}]


def test_without_a_condition_nothing_changes() -> None:
    storage, mp = FakeStorage('"x"'), FakeMultipart()
    complete(FakeContext(storage), mp, None)
    assert (storage.heads, mp.calls) == (0, [{}])


def test_the_full_object_checksum_goes_with_the_complete_and_the_condition() -> None:
    """An upload created asking for S3's full-object CRC64NVME states the CRC of the whole,
    combined from the parts', and each part's, beside the condition (and without it)."""
    storage, mp = FakeStorage(None), FakeMultipart(refuses_conditions=True)
    first, second = b"a" * 3, b"b" * 5
    entry = JournalEntry("upload", "e", "b", "k", "/f", 8, 0, 3, upload_id="u", checksum=True)
    entry.parts = {
        2: JournalPart(etag='"p2"', md5="", crc=crc64(second), size=5),
        1: JournalPart(etag='"p1"', md5="", crc=crc64(first), size=3),
    }
    asyncio.run(_complete(FakeContext(storage), mp, S3Url("b", "k"), entry, Precondition(None),
                          '"assembled-1"', check=True))  # fmt: skip
    whole = {"x-amz-checksum-crc64nvme": crc_b64(crc64(first + second)),
             "x-amz-checksum-type": "FULL_OBJECT"}  # fmt: skip
    assert mp.calls == [{**whole, "If-None-Match": "*"}, whole]
    assert mp.part_checksums == {1: crc_b64(crc64(first)), 2: crc_b64(crc64(second))}


def test_an_empty_etag_from_the_complete_is_read_with_a_head() -> None:
    """Ceph RGW 16.2 answers `<ETag></ETag>`; its HEAD has the right one."""
    storage, mp = FakeStorage('"assembled-1"'), FakeMultipart(answer="")
    assert complete(FakeContext(storage), mp, None) == '"assembled-1"'
    assert storage.heads == 1


def test_a_complete_whose_answer_was_lost_is_recognised_by_the_parts_etag() -> None:
    storage, mp = FakeStorage('"assembled-1"'), FakeMultipart(answer="NoSuchUpload")
    assert complete(FakeContext(storage), mp, None) == '"assembled-1"'


def test_no_such_upload_with_another_object_there_stays_an_error() -> None:
    storage, mp = FakeStorage('"someone-else"'), FakeMultipart(answer="NoSuchUpload")
    with pytest.raises(ObjectNotFound):
        complete(FakeContext(storage), mp, None)


def test_an_etag_of_the_stores_own_making_is_kept_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    storage, mp = FakeStorage('"x"'), FakeMultipart(answer='"computed-otherwise"')
    assert complete(FakeContext(storage), mp, None) == '"computed-otherwise"'
    assert "not the" in caplog.text
