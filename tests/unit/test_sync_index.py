"""A side of a sync held compactly (`EntryIndex`): the same entries, in the same order, as the
sorted list it replaces, whatever their keys and ETags; and a no-op sync of 100,000 entries
that holds no per-file records beyond the index (memory bounded with tracemalloc)."""

from __future__ import annotations

import asyncio
import random
import tracemalloc
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

from s3kit._session import Session
from s3kit._sync.index import EntryIndex, IndexBuilder
from s3kit._sync.plan import CompareOptions, Entry, make_plan, sort_entries
from s3kit._sync.scan import LocalSide, S3Side, scan_s3_async
from s3kit._sync.stream import StreamingSync
from s3kit.storage.base import ObjectInfo

MD5 = "d41d8cd98f00b204e9800998ecf8427e"
TRACED = 5_000  # where every allocation is traced, which is slow


def raw(key: str) -> bytes:
    return key.encode("utf-8", "surrogateescape")


# Keys whose byte order differs from a folder-by-folder order, names no file can have, a name
# that is not UTF-8, control characters; ETags of every shape S3 and s3kit produce.
HOSTILE = [
    Entry(raw("dir/x"), 1, 1.0, f'"{MD5}"'),
    Entry(raw("dir-2/x"), 2, 2.0, MD5),
    Entry(raw("dir.x"), 3, 3.0, MD5.upper()),
    Entry(raw("a\nb"), 4, 4.0, f'"{MD5}-12"'),
    Entry(raw("caf\udce9"), 5, 5.5, None, None, True),
    Entry(raw("folder/"), 0, 6.0),
    Entry(raw(" lead/../x"), 7, 7.25, MD5, "a1b2c3d4e5f60718"),
    Entry(raw("ü/ß"), 8, -1.5, '"not hex at all, 34 characters.."'),
    Entry(raw("z"), 2**40, 1.7e9, f'"{MD5[:-1]}g"'),
    Entry(raw("dir/x"), 99, 99.0, None),  # a repeat: the first of a key wins
]


def test_the_index_is_the_sorted_list_whatever_the_order_entries_came_in() -> None:
    rng = random.Random(15)
    for _ in range(50):
        entries = HOSTILE[:]
        rng.shuffle(entries)
        index = EntryIndex(entries)
        assert list(index) == sort_entries(entries)
        assert index == sort_entries(entries)
        assert len(index) == len(HOSTILE) - 1
        for item in sort_entries(entries):
            assert index.find(item.raw) == item
        assert index.find(b"dir/") is None and index.find(b"zz") is None
    assert index[-1] == index[len(index) - 1] and index[1:3] == list(index)[1:3]


def test_a_builder_sorts_once_and_hands_its_columns_over() -> None:
    builder = IndexBuilder()
    for item in reversed(HOSTILE[:-1]):
        builder.add(item)
    built = builder.build()
    assert built == sort_entries(HOSTILE)
    assert builder.build() == []  # the columns went to the first index


def _synthetic(count: int) -> list[Entry]:
    return [
        Entry(raw(f"dir{i % 50:02d}/file{i:06d}.bin"), 1024, 1.7e9 + i, f'"{MD5}"')
        for i in range(count)
    ]


def test_an_index_holds_a_fraction_of_the_records_it_replaces() -> None:
    """The sorted list of records cost ~300 bytes an entry (tuple, key, int, float, ETag); the
    index keeps the key and about 40 bytes beside it."""
    tracemalloc.start()
    try:
        listed = _synthetic(TRACED)
        records, _ = tracemalloc.get_traced_memory()
        keys = [item.raw for item in listed]  # what the index shares with the listing
        index = EntryIndex(listed)
        del listed
        held, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(index) == TRACED and keys
    assert held < records / 2, (held, records)


def test_a_no_op_sync_keeps_nothing_per_file() -> None:
    """The destination is listed into an index; each source entry is decided and dropped: the
    plan and everything else the run keeps stay flat, however many files there are."""
    source = EntryIndex(_synthetic(TRACED))
    destination = EntryIndex(_synthetic(TRACED))
    offline = Session(
        endpoint_url="http://127.0.0.1:9", access_key_id="k", secret_access_key="s", env={}
    )
    sync = StreamingSync(offline, LocalSide(Path("/nowhere")), S3Side("b", "p/"), "upload")
    make_plan(source[:10], destination[:10], "upload")  # what the first run sets up, once
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        decided = sum(sync._decide(item, destination) is not None for item in source)
        planned = make_plan(source, destination, "upload", CompareOptions(delete=True))
        after, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert decided == 0 and planned.actions == []
    assert (planned.source_count, planned.destination_count) == (TRACED, TRACED)
    # A record kept per entry would be half a megabyte: the march holds one of each side at once
    # (what is counted here is the interpreter's free lists of tuples, at most ~100 KiB).
    assert after - before < 192 * 1024, after - before
    assert peak - before < 256 * 1024, peak - before


class _Listing:
    """A storage whose listing is `count` objects, made as they are read."""

    def __init__(self, count: int) -> None:
        self.count = count

    async def list_async(self, prefix: str, *, page_size: int) -> AsyncIterator[ObjectInfo]:
        when = datetime(2026, 1, 1, tzinfo=UTC)
        for i in range(self.count):
            yield ObjectInfo(f"{prefix}dir{i % 50:02d}/file{i:06d}.bin", 1024, when, f'"{MD5}"')


class _Session:
    def __init__(self, count: int) -> None:
        self.listing = _Listing(count)

    def storage(self, bucket: str) -> _Listing:
        return self.listing


def test_a_listing_is_held_as_an_index() -> None:
    """What a streamed sync holds of its destination: about 100 bytes an object, not 300."""
    session = _Session(TRACED)
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        scanned = asyncio.run(scan_s3_async(session, S3Side("b", "p/"), source=False))  # type: ignore[arg-type]
        held, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(scanned.entries) == TRACED
    assert scanned.entries[0] == Entry(raw("dir00/file000000.bin"), 1024, 1767225600.0, f'"{MD5}"')
    assert held - before < 128 * TRACED, (held - before) / TRACED
