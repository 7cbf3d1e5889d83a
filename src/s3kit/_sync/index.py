"""A side of a sync held compactly: its entries in UTF-8 byte order, as a few flat arrays
instead of one `Entry` (a tuple, its float, int and ETag string) per file.

A one-way sync must hold one whole side: the other is compared against it, and no server
promises to list in the order a local walk can produce (SeaweedFS lists folder by folder,
'dir/x' before 'dir-2/x'). Held as `Entry` records a side costs ~300 bytes a file, which is
300 MiB for a million objects; here it is the key (a bytes object, shared with the listing)
and about 40 bytes beside it. An `Entry` is made again only for the key asked for, the same
as the one that went in (ETags that are not a plain MD5, and checksums, are kept as given).

`EntryIndex` is a read-only `Sequence[Entry]`, so the plan, its march and every caller that
read a list of entries read it unchanged; `find` looks a key up by bisection of the keys.
"""

from __future__ import annotations

import operator
from array import array
from bisect import bisect_left
from collections.abc import Iterable, Iterator, Sequence
from functools import partial
from itertools import islice
from typing import NamedTuple, overload


class Entry(NamedTuple):
    """One file or object, relative to the synced root. `raw` is the key as UTF-8 bytes (local
    names that are not UTF-8 keep their bytes through surrogateescape).

    A key ending in '/' is a folder marker. Its size is 0 for an empty folder; otherwise it
    holds something the sync does not see (an S3 marker object with bytes, a local folder with
    only excluded files) and is never deleted."""

    raw: bytes
    size: int
    mtime: float  # seconds since the epoch: a file's mtime, or an object's LastModified
    etag: str | None = None  # an object's ETag, or a local file's MD5 once computed
    crc: str | None = None  # s3kit-crc64nvme, once read or computed
    exact_mtime: bool = False  # mtime is a file's own time (local, or the `mtime` metadata)

    @property
    def key(self) -> str:
        return self.raw.decode("utf-8", "surrogateescape")

    @property
    def is_folder(self) -> bool:
        return self.raw.endswith(b"/")


# What the flags byte of an entry says.
_HEX = 1  # the ETag is 32 lowercase hex digits, kept as its 16 bytes
_QUOTED = 2  # ... between double quotes
_OTHER = 4  # the ETag, or a checksum, is kept as given (in `_extra`)
_EXACT = 8  # the mtime is the file's own (`Entry.exact_mtime`)
_NO_DIGEST = bytes(16)


class IndexBuilder:
    """Collects entries, in any order, into an `EntryIndex` (`add`, then `build` once)."""

    __slots__ = ("_digests", "_extra", "_flags", "_keys", "_mtimes", "_sizes")

    def __init__(self) -> None:
        self._keys: list[bytes] = []
        self._sizes, self._mtimes, self._flags = array("q"), array("d"), bytearray()
        self._digests = array("Q")  # two per entry: the MD5 of a plain ETag, or zeros
        self._extra: dict[int, tuple[str | None, str | None]] = {}

    def add(self, item: Entry) -> None:
        flag = _EXACT if item.exact_mtime else 0
        digest = _NO_DIGEST
        etag = item.etag
        if etag is not None and item.crc is None:
            digest, shape = _packed(etag)
            flag |= shape
        if flag & _HEX == 0 and (etag is not None or item.crc is not None):
            flag |= _OTHER
            self._extra[len(self._keys)] = (etag, item.crc)
        self._keys.append(item.raw)
        self._sizes.append(item.size)
        self._mtimes.append(item.mtime)
        self._flags.append(flag)
        self._digests.frombytes(digest)

    def build(self) -> EntryIndex:
        keys = self._keys
        if any(map(operator.ge, keys, islice(keys, 1, None))):
            self._sort()
        index = object.__new__(EntryIndex)
        index._keys, index._sizes, index._mtimes = self._keys, self._sizes, self._mtimes
        index._flags, index._digests, index._extra = self._flags, self._digests, self._extra
        self._keys, self._extra = [], {}  # the columns belong to the index now
        self._sizes, self._mtimes = array("q"), array("d")
        self._flags, self._digests = bytearray(), array("Q")
        return index

    def _sort(self) -> None:
        """The columns in key order. Each entry's place is found by bisecting the sorted keys
        and the columns are gathered at C speed (`map`): no Python int per entry is held, so
        sorting a million keys costs a few arrays beside the columns, not ~50 MiB."""
        keys = self._keys
        ordered = sorted(keys)
        if any(map(operator.eq, ordered, islice(ordered, 1, None))):
            del ordered
            self._sort_with_repeats()
            return
        places = array("L", map(partial(bisect_left, ordered), keys))
        self._keys = ordered
        del keys
        self._extra = {places[old]: kept for old, kept in self._extra.items()}
        order = array("L", bytes(places.itemsize * len(places)))
        for old, new in enumerate(places):
            order[new] = old
        del places
        self._gather(order)

    def _sort_with_repeats(self) -> None:
        """`_sort` where a key is listed twice: the first of a key is kept (the sort is
        stable)."""
        keys = self._keys
        order = sorted(range(len(keys)), key=keys.__getitem__)
        ordered = list(map(keys.__getitem__, order))
        kept = [i for n, i in enumerate(order) if n == 0 or ordered[n - 1] != ordered[n]]
        del order, ordered
        self._keys = list(map(keys.__getitem__, kept))
        del keys
        extra = self._extra
        self._extra = {new: extra[old] for new, old in enumerate(kept) if old in extra}
        self._gather(array("L", kept))

    def _gather(self, order: array[int]) -> None:
        """Every column but the keys rebuilt as `column[order[0]], column[order[1]], ...`."""
        self._sizes = array("q", map(self._sizes.__getitem__, order))
        self._mtimes = array("d", map(self._mtimes.__getitem__, order))
        self._flags = bytearray(map(self._flags.__getitem__, order))
        halves = self._digests[0::2], self._digests[1::2]
        self._digests = array("Q", bytes(16 * len(order)))
        for n, half in enumerate(halves):
            self._digests[n::2] = array("Q", map(half.__getitem__, order))


class EntryIndex(Sequence[Entry]):
    """Entries sorted in byte order of their keys, without repeats (the first of a key wins,
    as `sort_entries` keeps it). Made by `IndexBuilder`, or from any entries at once."""

    __slots__ = ("_digests", "_extra", "_flags", "_keys", "_mtimes", "_sizes")

    _keys: list[bytes]
    _sizes: array[int]
    _mtimes: array[float]
    _flags: bytearray
    _digests: array[int]
    _extra: dict[int, tuple[str | None, str | None]]

    def __init__(self, entries: Iterable[Entry] = ()) -> None:
        builder = IndexBuilder()
        for item in entries:
            builder.add(item)
        built = builder.build()
        self._keys, self._sizes, self._mtimes = built._keys, built._sizes, built._mtimes
        self._flags, self._digests, self._extra = built._flags, built._digests, built._extra

    def __len__(self) -> int:
        return len(self._keys)

    @overload
    def __getitem__(self, index: int) -> Entry: ...

    @overload
    def __getitem__(self, index: slice) -> list[Entry]: ...

    def __getitem__(self, index: int | slice) -> Entry | list[Entry]:
        if isinstance(index, slice):
            return [self._entry(i) for i in range(*index.indices(len(self._keys)))]
        if index < 0:
            index += len(self._keys)
        if not 0 <= index < len(self._keys):
            raise IndexError("entry index out of range")
        return self._entry(index)

    def __iter__(self) -> Iterator[Entry]:
        return (self._entry(i) for i in range(len(self._keys)))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Sequence):
            return NotImplemented
        return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))

    __hash__ = None  # type: ignore[assignment]  # equal to lists, which are not hashable

    def __repr__(self) -> str:
        return f"EntryIndex({len(self)} entries)"

    def find(self, raw: bytes) -> Entry | None:
        """The entry of key `raw`, or None."""
        at = bisect_left(self._keys, raw)
        if at < len(self._keys) and self._keys[at] == raw:
            return self._entry(at)
        return None

    def _entry(self, i: int) -> Entry:
        flag = self._flags[i]
        etag: str | None = None
        crc: str | None = None
        if flag & _HEX:
            etag = self._digests[2 * i : 2 * i + 2].tobytes().hex()
            if flag & _QUOTED:
                etag = f'"{etag}"'
        elif flag & _OTHER:
            etag, crc = self._extra[i]
        return Entry(self._keys[i], self._sizes[i], self._mtimes[i], etag, crc, bool(flag & _EXACT))


def _packed(etag: str) -> tuple[bytes, int]:
    """An ETag as 16 bytes and its shape flags, when it is a plain MD5 that comes back exactly
    (lowercase, quoted or not); else no digest and no flags."""
    quoted = len(etag) == 34 and etag[0] == etag[-1] == '"'
    digits = etag[1:-1] if quoted else etag
    if len(digits) == 32:
        try:
            digest = bytes.fromhex(digits)
        except ValueError:
            return _NO_DIGEST, 0
        if digest.hex() == digits:
            return digest, _HEX | (_QUOTED if quoted else 0)
    return _NO_DIGEST, 0


__all__ = ["Entry", "EntryIndex", "IndexBuilder"]
