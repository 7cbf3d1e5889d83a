"""The config store cache's events counted into s3kit.metrics (`ConfigCache(on_count=...)`):
hits, misses, revalidations and stale copies as `--stats`, `--stats-json` and `/metrics` show
them. A fake store and a clock the test moves; no server."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

from s3kit.configs.cache import COUNTERS, ConfigCache, Fetched
from s3kit.errors import EndpointError
from s3kit.metrics import CACHE_EVENTS, Metrics

HEAD = "envs/prod/prometheus/HEAD.json"


class Store:
    scope = "fake://store/"

    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}
        self.down = False

    def get(self, key: str, *, if_none_match: str | None = None) -> Fetched | None:
        if self.down:
            raise EndpointError("cannot reach fake://store")
        body = self.objects[key]
        etag = hashlib.sha256(body).hexdigest()
        return None if if_none_match == etag else Fetched(body, etag)

    def keys(self, prefix: str) -> Iterator[str]:
        yield from sorted(k for k in self.objects if k.startswith(prefix))


def test_cache_events_reach_the_metrics(tmp_path: Path) -> None:
    now = [1000.0]
    metrics = Metrics()
    cache = ConfigCache(tmp_path, ttl=30, clock=lambda: now[0], on_count=metrics.count_cache)
    store = Store()
    store.objects[HEAD] = b"{}"
    blob = b"groups: []\n"
    store.objects[f"blobs/sha256/{hashlib.sha256(blob).hexdigest()}"] = blob
    cache.pointer(store, HEAD)  # a miss
    cache.pointer(store, HEAD)  # a hit
    now[0] += 31
    cache.pointer(store, HEAD)  # a 304: revalidated
    now[0] += 31
    store.down = True
    cache.pointer(store, HEAD, max_stale=60)  # served stale
    store.down = False
    cache.blob(store, _sha(blob))  # a miss
    store.down = True
    cache.blob(store, _sha(blob))  # a hit: no request

    snapshot = metrics.snapshot()
    assert dict(snapshot.cache) == {"misses": 2, "hits": 2, "revalidations": 1, "stale": 1}
    assert snapshot.document()["config_cache"] == {
        "hits": 2, "misses": 2, "revalidations": 1, "stale": 1, "dropped": 0, "evicted": 0
    }  # fmt: skip
    assert snapshot.table().splitlines()[-1] == (
        "config cache: hits 2, misses 2, revalidations 1, stale 1, dropped 0, evicted 0"
    )
    lines = snapshot.prometheus().splitlines()
    assert 's3kit_config_cache_events_total{event="revalidations"} 1' in lines
    assert "# TYPE s3kit_config_cache_events_total counter" in lines
    # The same counts the cache keeps in its index for `configs cache stats`.
    assert {k: v for k, v in cache.stats().counters.items() if v} == dict(snapshot.cache)


def test_no_cache_no_cache_lines() -> None:
    snapshot = Metrics().snapshot()
    assert snapshot.document()["config_cache"] is None
    assert "config cache" not in snapshot.table()
    assert "s3kit_config_cache" not in snapshot.prometheus()


def test_a_listener_that_raises_never_breaks_a_read(tmp_path: Path) -> None:
    def broken(event: str) -> None:
        raise RuntimeError(event)

    store = Store()
    store.objects[HEAD] = b"{}"
    cache = ConfigCache(tmp_path, on_count=broken)
    assert cache.pointer(store, HEAD).body == b"{}"
    assert cache.stats().counters["misses"] == 1


def test_the_metrics_name_the_caches_own_counters() -> None:
    assert CACHE_EVENTS == COUNTERS


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
