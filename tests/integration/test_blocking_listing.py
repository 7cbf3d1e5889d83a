"""The blocking listing (`S3Storage.list`, `list_versions`) against both servers: the pages
`list_async` reads, from the same one page loop, without an event loop — `s3kit ls` imports no
asyncio — asking for the same requests, and failing where the async reader fails."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from s3kit.errors import S3KitError
from s3kit.storage.s3 import S3Storage
from tests.conftest import Backend

KEYS = ["a", "b/1", "b/2", "b/c/3", "d", "e%+ ü", "f"]


def _stored(backend: Backend, bucket: str) -> S3Storage:
    storage = backend.session().storage(bucket)
    for key in KEYS:
        storage.put(key, key.encode())
    return storage


def _sent(storage: S3Storage, monkeypatch: pytest.MonkeyPatch,
          fail_at: int | None = None) -> list[dict[str, str]]:  # fmt: skip
    """The query of every request the storage's S3Http sends (the `fail_at`-th fails)."""
    http = storage.session.http()
    sent: list[dict[str, str]] = []
    request = http.request

    def counting(*args: Any, **kwargs: Any) -> Any:
        sent.append(dict(kwargs.get("query") or {}))
        if len(sent) == fail_at:
            raise S3KitError("the page that fails")
        return request(*args, **kwargs)

    monkeypatch.setattr(http, "request", counting)
    return sent


def _no_event_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    def refused(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the blocking listing started an event loop")

    monkeypatch.setattr(asyncio, "new_event_loop", refused)
    monkeypatch.setattr(asyncio, "run", refused)


def _read_async(listing: Callable[[], AsyncIterator[Any]]) -> list[Any]:
    async def read() -> list[Any]:
        return [entry async for entry in listing()]

    return asyncio.run(read())


@pytest.mark.parametrize(
    "options",
    [{"page_size": 2}, {"page_size": 1, "delimiter": "/"}, {"prefix": "b/", "page_size": 2},
     {"start_after": "b/2", "page_size": 2}, {}],
    ids=repr,
)  # fmt: skip
def test_the_blocking_listing_is_the_async_one(
    backend: Backend, bucket: str, monkeypatch: pytest.MonkeyPatch, options: dict[str, Any]
) -> None:
    storage = _stored(backend, bucket)
    sent = _sent(storage, monkeypatch)
    from_loop = _read_async(lambda: storage.list_async(**options))
    asked_from_loop = list(sent)
    sent.clear()
    with monkeypatch.context() as patch:
        _no_event_loop(patch)
        blocking = list(storage.list(**options))
    assert blocking == from_loop
    assert len(blocking) > 1
    assert sent == asked_from_loop


def test_the_blocking_version_listing_is_the_async_one(
    backend: Backend, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    storage = _stored(backend, bucket)
    from_loop = _read_async(lambda: storage.list_versions_async(page_size=2))
    with monkeypatch.context() as patch:
        _no_event_loop(patch)
        blocking = list(storage.list_versions(page_size=2))
    assert blocking == from_loop
    assert sorted(entry.key for entry in blocking) == sorted(KEYS)


def test_a_reader_that_stops_at_the_first_entry_costs_one_request(
    backend: Backend, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    storage = _stored(backend, bucket)
    sent = _sent(storage, monkeypatch)
    listing = storage.list(page_size=1)
    assert next(listing).key == "a"
    listing.close()
    assert len(sent) == 1


def test_a_page_that_fails_fails_the_listing_where_it_is_read(
    backend: Backend, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The third request fails (for the blocking reader, the one read ahead on a thread): both
    readers get the two pages before it, then its error."""
    storage = _stored(backend, bucket)
    got: list[str] = []
    _sent(storage, monkeypatch, fail_at=3)
    with pytest.raises(S3KitError, match="the page that fails"):
        got.extend(entry.key for entry in storage.list(page_size=1))
    assert got == ["a", "b/1"]

    async def read() -> None:
        async for entry in storage.list_async(page_size=1):
            got.append(entry.key)

    got.clear()
    monkeypatch.undo()
    _sent(storage, monkeypatch, fail_at=3)
    with pytest.raises(S3KitError, match="the page that fails"):
        asyncio.run(read())
    assert got == ["a", "b/1"]
