"""The local-file rules without a server: `local_target` (which keys may be written where),
`walk_folder` as cp -r and sync both use it, LocalStorage over links, and the `mtime`
metadata format shared with rclone."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from s3kit._mtime import format_mtime, parse_mtime, seconds
from s3kit._session import Session
from s3kit._sync.scan import LocalSide, scan_local
from s3kit._uri import LocalPath, S3Url
from s3kit.errors import InvalidKey, LocalPathError
from s3kit.storage.local import (
    PATH_MAX,
    LocalStorage,
    local_name_problem,
    local_target,
    walk_folder,
)
from s3kit.transfer import TransferManager
from s3kit.transfer.paths import recursive_destination, single_destination

# -- local_target: names --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "why"),
    [
        ("", "it is empty"),
        ("../up.txt", "a '.' or '..' segment"),
        ("a/../b", "a '.' or '..' segment"),
        ("a/..", "a '.' or '..' segment"),
        ("./x", "a '.' or '..' segment"),
        ("/abs.txt", "it starts with '/'"),
        ("a//b", "an empty segment"),
        ("a/", "it ends with '/'"),
        ("nul\x00.txt", "a NUL byte"),
        ("n" * 256, "longer than 255 bytes"),
        ("d/" + "é" * 128, "longer than 255 bytes"),  # 256 bytes in UTF-8
    ],
)
def test_keys_no_file_can_have(tmp_path: Path, key: str, why: str) -> None:
    problem = local_name_problem(key)
    assert problem is not None and why in problem
    with pytest.raises(InvalidKey) as raised:
        local_target(tmp_path, key)
    shown = key.replace("\x00", "\\x00")
    assert str(raised.value) == f"skipped {shown}: cannot be a local file name ({problem})"


@pytest.mark.parametrize("key", ["a.txt", "a/b/c.txt", "n" * 255, "...", "a..b", ".hidden", "ü/ß"])
def test_keys_a_file_can_have(tmp_path: Path, key: str) -> None:
    assert local_name_problem(key) is None
    assert local_target(tmp_path, key) == tmp_path.joinpath(*key.split("/"))


def test_a_path_over_path_max_is_refused(tmp_path: Path) -> None:
    deep = "/".join(["d" * 200] * (PATH_MAX // 200 + 1))
    assert local_name_problem(deep) is None  # every name is fine, the whole is too long
    with pytest.raises(InvalidKey, match="the path would be longer than"):
        local_target(tmp_path, deep)


def test_folder_markers(tmp_path: Path) -> None:
    assert local_target(tmp_path, "a/b/", folder=True) == tmp_path / "a" / "b"
    with pytest.raises(InvalidKey, match=r"skipped bad//: cannot be a local folder name \(it has"):
        local_target(tmp_path, "bad//", folder=True)
    assert LocalSide(tmp_path).target("a/b/") == tmp_path / "a" / "b"
    assert LocalSide(tmp_path).target("a/b") == tmp_path / "a" / "b"


# -- local_target: symlinks ---------------------------------------------------------------------


@pytest.fixture
def linked(tmp_path: Path) -> Path:
    """root/{evil → outside, file.txt → outside/f, inner → real, real/, real/back → outside,
    dangling → outside/none, root-link → root itself}"""
    root, outside = tmp_path / "root", tmp_path / "outside"
    (root / "real").mkdir(parents=True)
    outside.mkdir()
    (outside / "f").write_bytes(b"f")
    (root / "evil").symlink_to(Path("..") / "outside")
    (root / "file.txt").symlink_to(outside / "f")
    (root / "inner").symlink_to("real")
    (root / "real" / "back").symlink_to(outside)
    (root / "dangling").symlink_to(outside / "none")
    (root / "again").symlink_to(root)
    return root


@pytest.mark.parametrize(
    "key",
    ["evil/x.txt", "evil/deeper/x.txt", "file.txt", "inner/back/x", "real/back/x", "dangling"],
)
def test_links_out_of_the_root_are_refused(linked: Path, key: str) -> None:
    with pytest.raises(LocalPathError, match=rf"^skipped {key}: .* is a symlink to .*, outside"):
        local_target(linked, key)


@pytest.mark.parametrize("key", ["inner/x.txt", "real/x.txt", "again/real/x", "new/x.txt"])
def test_links_that_stay_inside_are_fine(linked: Path, key: str) -> None:
    assert local_target(linked, key) == linked.joinpath(*key.split("/"))


def test_a_root_reached_through_a_link_is_its_target(linked: Path, tmp_path: Path) -> None:
    alias = tmp_path / "alias"
    alias.symlink_to(linked)
    assert local_target(alias, "inner/x.txt") == alias / "inner" / "x.txt"
    with pytest.raises(LocalPathError):
        local_target(alias, "evil/x.txt")


def test_destinations_of_copies_use_the_same_rule(linked: Path) -> None:
    with pytest.raises(LocalPathError):
        recursive_destination("evil/x.txt", LocalPath(linked))
    with pytest.raises(InvalidKey):
        recursive_destination("a//b", LocalPath(linked))
    assert recursive_destination("a//b", S3Url("bkt", "p/")) == S3Url("bkt", "p/a//b")
    with pytest.raises(LocalPathError):
        single_destination("file.txt", LocalPath(linked, as_folder=True), dest_is_dir=True)
    with pytest.raises(InvalidKey):
        single_destination("..", LocalPath(linked), dest_is_dir=True)


def test_local_storage_neither_lists_nor_writes_through_links_out(linked: Path) -> None:
    (linked / "self").symlink_to("self")  # ELOOP on stat
    (linked / "real" / "kept.txt").write_bytes(b"k")
    storage = LocalStorage(linked)
    assert [e.key for e in storage.list("")] == ["real/kept.txt"]
    with pytest.raises(LocalPathError):
        storage.put("evil/x.txt", b"x")
    with pytest.raises(LocalPathError):
        storage.delete("file.txt")
    assert (linked / "file.txt").is_symlink()
    assert not (linked.parent / "outside" / "x.txt").exists()


# -- one walk for cp -r and sync -------------------------------------------------------------


def tree_with_links(tmp_path: Path) -> Path:
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "a.txt").write_bytes(b"a")
    (src / "sub" / "b.txt").write_bytes(b"bb")
    (tmp_path / "secret.txt").write_bytes(b"s")
    (src / "alias.txt").symlink_to("a.txt")
    (src / "escape.txt").symlink_to(tmp_path / "secret.txt")
    (src / "sub" / "up").symlink_to("..")
    (src / "self").symlink_to("self")
    (src / ".s3kit-a.txt.1-2.part").write_bytes(b"in flight")
    return src


def test_walk_folder_skips_loops_and_links_out_with_a_warning(tmp_path: Path) -> None:
    src = tree_with_links(tmp_path)
    warnings: list[str] = []
    found: dict[str, int] = {}
    complete = walk_folder(
        src, lambda rel, info: found.setdefault(rel, info.st_size), follow_symlinks=True,
        warn=warnings.append,
    )  # fmt: skip
    assert complete is True
    assert found == {"a.txt": 1, "alias.txt": 1, "sub/b.txt": 2}
    assert sorted(w.rsplit("/", 1)[-1] for w in warnings) == [
        "escape.txt: the link leads outside the source folder",
        "self: Too many levels of symbolic links",
        "up: a symlink loop",
    ]
    plain: list[str] = []
    assert walk_folder(src, lambda rel, info: plain.append(rel), warn=warnings.append)
    assert sorted(plain) == ["a.txt", "sub/b.txt"]


def test_cp_recursive_plans_what_the_sync_walk_finds(tmp_path: Path) -> None:
    src = tree_with_links(tmp_path)
    session = Session(
        endpoint_url="http://127.0.0.1:9", access_key_id="k", secret_access_key="s", env={}
    )

    async def planned() -> dict[str, int | None]:
        items = TransferManager(session).plan_async(
            LocalPath(src), S3Url("bkt", "up/"), recursive=True
        )
        found = {}
        async for item in items:
            assert isinstance(item.destination, S3Url) and item.refused is None
            found[item.destination.key] = item.size
        return found

    synced = scan_local(src, follow_symlinks=True, warn=lambda _: None)
    assert asyncio.run(planned()) == {"up/" + e.key: e.size for e in synced.entries}


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads every folder")
def test_cp_recursive_reports_an_unreadable_folder(tmp_path: Path) -> None:
    src = tmp_path / "src"
    (src / "locked").mkdir(parents=True)
    (src / "a.txt").write_bytes(b"a")
    (src / "locked").chmod(0)
    session = Session(
        endpoint_url="http://127.0.0.1:9", access_key_id="k", secret_access_key="s", env={}
    )

    async def planned() -> list[str]:
        items = TransferManager(session).plan_async(LocalPath(src), S3Url("bkt"), recursive=True)
        return [str(item.refused) if item.refused else "ok" async for item in items]

    try:
        outcome = asyncio.run(planned())
    finally:
        (src / "locked").chmod(0o755)
    assert outcome[0] == "ok" and "could not be read" in outcome[1]


# -- the mtime metadata ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ns", "text"),
    [
        (1_700_000_000_123_456_789, "1700000000.123456789"),
        (1_700_000_000_000_000_000, "1700000000.000000000"),
        (1, "0.000000001"),
        (0, "0.000000000"),
        (-1, "-0.000000001"),
        (-1_500_000_000, "-1.500000000"),
    ],
)
def test_mtime_is_written_with_nine_decimals_and_read_back_exactly(ns: int, text: str) -> None:
    assert format_mtime(ns) == text
    assert parse_mtime(text) == ns


@pytest.mark.parametrize(
    ("text", "ns"),
    [
        ("1700000000.123", 1_700_000_000_123_000_000),  # what s3kit wrote before
        ("1700000000", 1_700_000_000_000_000_000),  # what rclone writes for whole seconds
        ("1700000000.", 1_700_000_000_000_000_000),
        (" 1700000000.5 ", 1_700_000_000_500_000_000),
        ("+1.25", 1_250_000_000),
        (".5", 500_000_000),
        ("1.1234567899", 1_123_456_789),  # past nanoseconds: dropped
    ],
)
def test_mtime_other_forms_are_read(text: str, ns: int) -> None:
    assert parse_mtime(text) == ns


@pytest.mark.parametrize("text", [None, "", " ", ".", "-", "abc", "1e9", "nan", "1.2.3", "1,5"])
def test_mtime_that_is_not_a_time_is_none(text: str | None) -> None:
    assert parse_mtime(text) is None


def test_mtime_seconds_keep_sync_comparisons_within_their_tolerance() -> None:
    ns = 1_700_000_000_123_456_789
    assert abs(seconds(ns) - 1_700_000_000.123456789) < 1e-6
    assert seconds(parse_mtime(format_mtime(ns)) or 0) == seconds(ns)


def test_local_storage_keeps_nanoseconds(tmp_path: Path) -> None:
    storage = LocalStorage(tmp_path)
    storage.put("a.txt", b"a", metadata={"mtime": "1700000000.123456789"})
    assert (tmp_path / "a.txt").stat().st_mtime_ns == 1_700_000_000_123_456_789
    assert storage.head("a.txt").metadata == {"mtime": "1700000000.123456789"}
