"""The config store cache without a server: a fake transport that records every request it is
asked, and a clock the test moves."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from s3kit.configs.cache import (
    ConfigCache,
    Fetched,
    plan_eviction,
    read_release,
    release_files,
    unreachable,
    warm,
)
from s3kit.configs.layout import FileEntry, Head, LogRecord, Release, head_key, release_key
from s3kit.errors import EndpointError, ObjectNotFound, S3KitError, Throttled, TransferError


class FakeStore:
    """A store as the cache sees it: objects with ETags, 304 for a matching If-None-Match,
    `down` to make every request fail as a dead endpoint does."""

    scope = "fake://store/"

    def __init__(self) -> None:
        self.objects: dict[str, bytes] = {}
        self.requests: list[tuple[str, str | None]] = []
        self.down = False

    def put(self, key: str, body: bytes) -> None:
        self.objects[key] = body

    def put_blob(self, body: bytes) -> str:
        sha = hashlib.sha256(body).hexdigest()
        self.objects[f"blobs/sha256/{sha}"] = body
        return sha

    def get(self, key: str, *, if_none_match: str | None = None) -> Fetched | None:
        self.requests.append((key, if_none_match))
        if self.down:
            raise EndpointError("cannot reach fake://store")
        if key not in self.objects:
            raise ObjectNotFound(f"no {key}", status=404)
        body = self.objects[key]
        etag = f'"{hashlib.md5(body).hexdigest()}"'  # an ETag, as S3 makes it
        if if_none_match == etag:
            return None
        return Fetched(body, etag)

    def keys(self, prefix: str) -> Iterator[str]:
        yield from sorted(k for k in self.objects if k.startswith(prefix))


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def store() -> FakeStore:
    return FakeStore()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def cache(tmp_path: Path, clock: Clock) -> ConfigCache:
    return ConfigCache(tmp_path / "cache", ttl=30, clock=clock)


HEAD = "envs/prod/prometheus/HEAD.json"


def test_a_pointer_is_served_from_the_cache_within_its_ttl(
    cache: ConfigCache, store: FakeStore, clock: Clock
) -> None:
    store.put(HEAD, b'{"release": 1}')
    first = cache.pointer(store, HEAD)
    clock.now += 30
    second = cache.pointer(store, HEAD)
    assert (first.source, second.source) == ("fetched", "cache")
    assert second.body == b'{"release": 1}' and second.age == 30
    assert store.requests == [(HEAD, None)]


def test_after_its_ttl_a_pointer_is_revalidated_and_a_304_keeps_the_copy(
    cache: ConfigCache, store: FakeStore, clock: Clock
) -> None:
    store.put(HEAD, b'{"release": 1}')
    cache.pointer(store, HEAD)
    body = b'{"release": 1}'
    etag = f'"{hashlib.md5(body).hexdigest()}"'
    clock.now += 31
    again = cache.pointer(store, HEAD)
    assert again.source == "revalidated" and again.body == b'{"release": 1}'
    assert store.requests == [(HEAD, None), (HEAD, etag)]
    # A 304 restarts the TTL: the next read within it asks nothing.
    clock.now += 29
    assert cache.pointer(store, HEAD).source == "cache"
    assert len(store.requests) == 2
    counters = cache.stats().counters
    assert (counters["misses"], counters["revalidations"], counters["hits"]) == (1, 1, 1)


def test_a_changed_pointer_is_fetched_again_after_its_ttl(
    cache: ConfigCache, store: FakeStore, clock: Clock
) -> None:
    store.put(HEAD, b'{"release": 1}')
    cache.pointer(store, HEAD)
    store.put(HEAD, b'{"release": 2}')
    clock.now += 31
    changed = cache.pointer(store, HEAD)
    assert (changed.source, changed.body) == ("fetched", b'{"release": 2}')


def test_refresh_asks_the_store_even_within_the_ttl(cache: ConfigCache, store: FakeStore) -> None:
    store.put(HEAD, b"{}")
    cache.pointer(store, HEAD)
    assert cache.pointer(store, HEAD, refresh=True).source == "revalidated"
    assert len(store.requests) == 2


def test_max_stale_serves_the_last_good_copy_when_the_store_is_unreachable(
    cache: ConfigCache, store: FakeStore, clock: Clock
) -> None:
    store.put(HEAD, b'{"release": 1}')
    cache.pointer(store, HEAD)
    store.down = True
    clock.now += 30 + 60
    with pytest.raises(EndpointError):
        cache.pointer(store, HEAD)  # no --max-stale: the failure is the answer
    stale = cache.pointer(store, HEAD, max_stale=60)
    assert (stale.source, stale.body, stale.age) == ("stale", b'{"release": 1}', 90)
    clock.now += 1
    with pytest.raises(S3KitError, match="more than 60 s past its TTL"):
        cache.pointer(store, HEAD, max_stale=60)
    assert cache.stats().counters["stale"] == 1


def test_max_stale_never_hides_a_definite_answer(
    cache: ConfigCache, store: FakeStore, clock: Clock
) -> None:
    store.put(HEAD, b"{}")
    cache.pointer(store, HEAD)
    del store.objects[HEAD]
    clock.now += 31
    with pytest.raises(ObjectNotFound):
        cache.pointer(store, HEAD, max_stale=3600)


def test_what_counts_as_unreachable() -> None:
    assert unreachable(EndpointError("no connection"))
    assert unreachable(Throttled("slow down", status=503))
    assert unreachable(S3KitError("internal", status=500))
    assert not unreachable(EndpointError("redirected", status=307))
    assert not unreachable(ObjectNotFound("gone", status=404))
    assert not unreachable(ValueError("not ours"))


def test_blobs_are_kept_and_checked_on_every_read(cache: ConfigCache, store: FakeStore) -> None:
    sha = store.put_blob(b"groups: []\n")
    assert cache.blob(store, sha).source == "fetched"
    store.down = True  # cached forever: the store is not asked again
    assert cache.blob(store, sha).body == b"groups: []\n"
    assert len(store.requests) == 1


def test_a_corrupted_blob_file_is_dropped_and_fetched_again(
    cache: ConfigCache, store: FakeStore
) -> None:
    sha = store.put_blob(b"route: {}\n")
    cache.blob(store, sha)
    (cache.folder / "blobs" / sha).write_bytes(b"route: {} # flipped bits\n")
    again = cache.blob(store, sha)
    assert (again.source, again.body) == ("fetched", b"route: {}\n")
    assert (cache.folder / "blobs" / sha).read_bytes() == b"route: {}\n"
    assert cache.stats().counters["dropped"] == 1


def test_a_blob_the_store_damaged_is_refused_and_not_cached(
    cache: ConfigCache, store: FakeStore
) -> None:
    sha = hashlib.sha256(b"the real content").hexdigest()
    store.put(f"blobs/sha256/{sha}", b"something else")
    with pytest.raises(TransferError, match="does not match its sha256"):
        cache.blob(store, sha)
    assert not (cache.folder / "blobs" / sha).exists()


def test_lru_eviction_keeps_the_cache_within_its_bound(
    tmp_path: Path, store: FakeStore, clock: Clock
) -> None:
    cache = ConfigCache(tmp_path / "cache", max_bytes=250, clock=clock)
    a, b, c = (store.put_blob(bytes([n]) * 100) for n in (1, 2, 3))
    for sha in (a, b):
        cache.blob(store, sha)
        clock.now += 1
    cache.blob(store, a)  # a used after b: b is the least recently used
    clock.now += 1
    cache.blob(store, c)
    kept = {p.name for p in (cache.folder / "blobs").iterdir()}
    assert kept == {a, c}
    stats = cache.stats()
    assert (stats.entries, stats.bytes, stats.counters["evicted"]) == (2, 200, 1)


def test_an_entry_larger_than_the_bound_stays_until_the_next_one(
    tmp_path: Path, store: FakeStore
) -> None:
    cache = ConfigCache(tmp_path / "cache", max_bytes=10)
    big = store.put_blob(b"x" * 50)
    assert cache.blob(store, big).body == b"x" * 50
    assert (cache.folder / "blobs" / big).exists()


def test_plan_eviction_is_least_recently_used_first() -> None:
    entries = {
        "a": {"size": 5, "used": 3},
        "b": {"size": 5, "used": 1},
        "c": {"size": 5, "used": 2},
    }
    assert plan_eviction(entries, 6) == ["b", "c"]
    assert plan_eviction(entries, 6, keep="b") == ["c", "a"]
    assert plan_eviction(entries, 0) == []


def test_counters_persist_across_processes_and_clear_resets_them(
    cache: ConfigCache, store: FakeStore, tmp_path: Path
) -> None:
    store.put(HEAD, b"{}")
    cache.pointer(store, HEAD)
    cache.pointer(store, HEAD)
    later = ConfigCache(cache.folder)
    stats = later.stats()
    assert (stats.entries, stats.counters["hits"], stats.counters["misses"]) == (1, 1, 1)
    assert later.clear() == (1, stats.bytes)
    assert later.stats().entries == 0 and later.stats().counters["hits"] == 0
    assert cache.pointer(store, HEAD).source == "fetched"


def test_an_unreadable_index_or_pointer_file_is_started_afresh(
    cache: ConfigCache, store: FakeStore
) -> None:
    store.put(HEAD, b"{}")
    cache.pointer(store, HEAD)
    (cache.folder / "index.json").write_text("{not json")
    (pointer,) = (cache.folder / "pointers").iterdir()
    pointer.write_text("[]")
    assert cache.pointer(store, HEAD).source == "fetched"
    assert json.loads((cache.folder / "index.json").read_text())["version"] == 1


def test_the_cache_holds_plain_files_only(cache: ConfigCache, store: FakeStore) -> None:
    store.put(HEAD, b'{"release": 1}')
    cache.pointer(store, HEAD)
    (pointer,) = (cache.folder / "pointers").iterdir()
    record = json.loads(pointer.read_text())
    assert set(record) == {"scope", "key", "etag", "checked", "body"}
    assert pointer.stat().st_mode & 0o077 == 0


# -- releases -------------------------------------------------------------------------------------

WHEN = "2026-01-01T00:00:00Z"


def _release(
    store: FakeStore,
    files: dict[str, bytes],
    number: int = 1,
    *,
    tool: str = "prometheus",
    env: str = "prod",
) -> Release:
    """A release as the store writes one: blobs, the manifest, then HEAD naming its digest."""
    entries = tuple(FileEntry.of(path, data) for path, data in files.items())
    for data in files.values():
        store.put_blob(data)
    release = Release(tool=tool, env=env, number=number, files=entries, created=WHEN, author="t")
    _publish(store, release.document(), tool=tool, env=env, number=number, digest=release.digest)
    return release


def _publish(
    store: FakeStore, manifest: dict[str, object], *, tool: str, env: str, number: int, digest: str
) -> None:
    body = (json.dumps(manifest, indent=1, sort_keys=True) + "\n").encode()
    store.put(release_key(tool, env, number), body)
    move = LogRecord(
        seq=number, tool=tool, env=env, action="push", from_release=None, to_release=number,
        digest=digest, who="t", when=WHEN,
    )  # fmt: skip
    store.put(head_key(env, tool), Head(number, hashlib.sha256(body).hexdigest(), move).body())


def test_a_release_and_its_files_come_through_the_cache(
    cache: ConfigCache, store: FakeStore
) -> None:
    release = _release(store, {"prometheus.yml": b"global: {}\n", "rules/a.yml": b"groups: []\n"})
    served = read_release(cache, store, "prometheus", "prod")
    assert served.release == release
    assert served.name == f"r1-{served.digest[:12]}"
    assert release_files(cache, store, served) == {
        "prometheus.yml": b"global: {}\n",
        "rules/a.yml": b"groups: []\n",
    }


def test_a_manifest_that_does_not_match_heads_digest_is_refused(
    cache: ConfigCache, store: FakeStore
) -> None:
    _release(store, {"prometheus.yml": b"global: {}\n"})
    key = release_key("prometheus", "prod", 1)
    store.put(key, store.objects[key].replace(b'"author": "t"', b'"author": "x"'))
    with pytest.raises(TransferError, match="does not match the digest its HEAD names"):
        read_release(cache, store, "prometheus", "prod")


def test_a_corrupted_cached_manifest_is_dropped_and_fetched_again(
    cache: ConfigCache, store: FakeStore
) -> None:
    _release(store, {"prometheus.yml": b"global: {}\n"})
    served = read_release(cache, store, "prometheus", "prod")
    (cache.folder / "manifests" / served.digest).write_bytes(b"{}")
    assert read_release(cache, store, "prometheus", "prod").release == served.release
    assert cache.stats().counters["dropped"] == 1


def test_warm_fetches_every_head_and_its_blobs_then_works_offline(
    cache: ConfigCache, store: FakeStore, clock: Clock
) -> None:
    _release(store, {"prometheus.yml": b"global: {}\n"})
    _release(store, {"alertmanager.yml": b"route: {}\n"}, tool="alertmanager", env="dev")
    del store.objects[release_key("alertmanager", "dev", 1)]
    warmed = warm(cache, store)
    assert [(w.tool, w.env, w.release, w.files) for w in warmed] == [
        ("alertmanager", "dev", None, 0),
        ("prometheus", "prod", 1, 1),
    ]
    assert warmed[0].error is not None and "releases/alertmanager/dev/1.json" in warmed[0].error
    store.down = True
    clock.now += 120
    served = read_release(cache, store, "prometheus", "prod", max_stale=300)
    assert served.pointer == "stale"
    assert release_files(cache, store, served) == {"prometheus.yml": b"global: {}\n"}


def test_warm_can_be_limited_to_one_env_and_tool(cache: ConfigCache, store: FakeStore) -> None:
    _release(store, {"prometheus.yml": b"global: {}\n"})
    _release(store, {"prometheus.yml": b"global: {}\n"}, env="dev")
    assert [w.env for w in warm(cache, store, env="prod")] == ["prod"]
    assert warm(cache, store, tool="alertmanager") == []


@pytest.mark.parametrize("path", ["/etc/passwd", "../x", "a/../b", "a//b", "./a", "a\\b"])
def test_a_release_naming_an_unsafe_path_is_refused(
    cache: ConfigCache, store: FakeStore, path: str
) -> None:
    release = Release(
        tool="prometheus", env="prod", number=1, files=(FileEntry.of("a.yml", b"x"),),
        created=WHEN, author="t",
    )  # fmt: skip
    manifest = release.document()
    manifest["files"] = [{"path": path, "sha256": store.put_blob(b"x"), "size": 1}]
    _publish(store, manifest, tool="prometheus", env="prod", number=1, digest=release.digest)
    with pytest.raises(S3KitError, match="not a release manifest s3kit can read"):
        read_release(cache, store, "prometheus", "prod")


def test_a_file_whose_size_disagrees_with_the_manifest_is_refused(
    cache: ConfigCache, store: FakeStore
) -> None:
    release = Release(
        tool="prometheus", env="prod", number=1, files=(FileEntry.of("a.yml", b"1234"),),
        created=WHEN, author="t",
    )  # fmt: skip
    store.put_blob(b"1234")
    manifest = release.document()
    manifest["files"] = [{**release.files[0].document(), "size": 5}]  # the digest omits sizes
    _publish(store, manifest, tool="prometheus", env="prod", number=1, digest=release.digest)
    served = read_release(cache, store, "prometheus", "prod")
    with pytest.raises(TransferError, match="4 bytes, the release says 5"):
        release_files(cache, store, served)
