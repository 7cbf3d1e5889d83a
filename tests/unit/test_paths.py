"""s3kit.transfer.paths: where each `cp`/`mv` source goes, and which pairs are refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from s3kit._uri import LocalPath, Location, S3Url, StdStream
from s3kit.errors import UsageError
from s3kit.transfer.paths import (
    base_name,
    check_pair,
    folder_prefix,
    recursive_destination,
    single_destination,
)


@pytest.mark.parametrize(
    ("key", "name"),
    [("a/b/c.txt", "c.txt"), ("c.txt", "c.txt"), ("dir/", "dir"), ("", "")],
)
def test_base_name(key: str, name: str) -> None:
    assert base_name(key) == name


# -- single_destination -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("destination", "expected"),
    [
        (S3Url("b"), S3Url("b", "report.pdf")),
        (S3Url("b", "docs/"), S3Url("b", "docs/report.pdf")),
        (S3Url("b", "docs/renamed.pdf"), S3Url("b", "docs/renamed.pdf")),
        (S3Url("b", "docs"), S3Url("b", "docs")),  # no '/': 'docs' is the new key
    ],
)
def test_single_destination_s3(destination: S3Url, expected: S3Url) -> None:
    assert single_destination("report.pdf", destination, dest_is_dir=False) == expected


def test_single_destination_local_file() -> None:
    destination = LocalPath(Path("out/renamed.pdf"))
    assert single_destination("report.pdf", destination, dest_is_dir=False) == destination


def test_single_destination_local_as_folder() -> None:
    destination = LocalPath(Path("out"), as_folder=True)
    result = single_destination("report.pdf", destination, dest_is_dir=False)
    assert result == LocalPath(Path("out/report.pdf"))


def test_single_destination_existing_local_folder() -> None:
    destination = LocalPath(Path("out"))
    result = single_destination("report.pdf", destination, dest_is_dir=True)
    assert result == LocalPath(Path("out/report.pdf"))


def test_single_destination_stdout() -> None:
    assert single_destination("report.pdf", StdStream(), dest_is_dir=False) == StdStream()


# -- recursive_destination --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("destination", "expected"),
    [
        (S3Url("b"), S3Url("b", "2024/jan/a.jpg")),
        (S3Url("b", "backup/"), S3Url("b", "backup/2024/jan/a.jpg")),
        (S3Url("b", "backup"), S3Url("b", "backup/2024/jan/a.jpg")),
        (LocalPath(Path("restore")), LocalPath(Path("restore") / "2024" / "jan" / "a.jpg")),
        (
            LocalPath(Path("restore"), as_folder=True),
            LocalPath(Path("restore") / "2024" / "jan" / "a.jpg"),
        ),
    ],
)
def test_recursive_destination(destination: Location, expected: Location) -> None:
    assert recursive_destination("2024/jan/a.jpg", destination) == expected


def test_recursive_destination_refuses_stdout() -> None:
    with pytest.raises(UsageError, match="--recursive cannot write to standard output"):
        recursive_destination("a.txt", StdStream())


# -- folder_prefix ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (S3Url("b", "site"), S3Url("b", "site/")),
        (S3Url("b", "site/"), S3Url("b", "site/")),
        (S3Url("b"), S3Url("b")),
        (S3Url("b", "a/b"), S3Url("b", "a/b/")),
    ],
)
def test_folder_prefix(url: S3Url, expected: S3Url) -> None:
    assert folder_prefix(url) == expected


# -- check_pair -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "destination"),
    [
        (LocalPath(Path("a")), LocalPath(Path("b"))),
        (StdStream(), LocalPath(Path("b"))),
        (LocalPath(Path("a")), StdStream()),
        (StdStream(), StdStream()),
    ],
)
def test_check_pair_needs_an_s3_side(source: Location, destination: Location) -> None:
    with pytest.raises(UsageError, match="one side of cp/mv must be an s3:// URL") as caught:
        check_pair(source, destination, recursive=False)
    assert caught.value.exit_code == 2


@pytest.mark.parametrize(
    ("source", "destination"),
    [(StdStream(), S3Url("b", "dir/")), (S3Url("b", "dir/"), StdStream())],
)
def test_check_pair_dash_with_recursive(source: Location, destination: Location) -> None:
    with pytest.raises(
        UsageError, match=r"'-' \(standard input/output\) cannot be used with --recursive"
    ):
        check_pair(source, destination, recursive=True)


@pytest.mark.parametrize("destination", [S3Url("b"), S3Url("b", "dir/")])
def test_check_pair_stdin_to_a_prefix(destination: S3Url) -> None:
    with pytest.raises(UsageError, match=r"needs a full key, e\.g\. s3://bucket/name\.txt"):
        check_pair(StdStream(), destination, recursive=False)


@pytest.mark.parametrize(
    ("source", "shown"),
    [(S3Url("b"), "s3://b"), (S3Url("b", "logs/"), "s3://b/logs/")],
)
def test_check_pair_s3_prefix_without_recursive(source: S3Url, shown: str) -> None:
    with pytest.raises(UsageError) as caught:
        check_pair(source, LocalPath(Path("out")), recursive=False)
    assert str(caught.value) == (
        f"{shown} is a bucket or prefix — add --recursive to copy everything in it"
    )


def test_check_pair_local_folder_without_recursive(tmp_path: Path) -> None:
    with pytest.raises(UsageError) as caught:
        check_pair(LocalPath(tmp_path), S3Url("b", "x/"), recursive=False)
    assert str(caught.value) == (
        f"{tmp_path} is a folder — add --recursive to copy everything in it"
    )


@pytest.mark.parametrize(
    ("source", "destination", "recursive"),
    [
        (S3Url("b", "k.txt"), LocalPath(Path("out")), False),
        (S3Url("b", "logs/"), LocalPath(Path("out")), True),
        (S3Url("b", "logs"), S3Url("c", "copy/"), True),
        (S3Url("b", "k.txt"), StdStream(), False),
        (StdStream(), S3Url("b", "k.txt"), False),
        (S3Url("b", "k"), S3Url("c", "k"), False),
    ],
)
def test_check_pair_accepts(source: Location, destination: Location, recursive: bool) -> None:
    assert check_pair(source, destination, recursive=recursive) is None


def test_check_pair_accepts_local_file_and_folder_when_recursive(tmp_path: Path) -> None:
    file = tmp_path / "f.txt"
    file.write_text("x")
    assert check_pair(LocalPath(file), S3Url("b"), recursive=False) is None
    assert check_pair(LocalPath(tmp_path), S3Url("b"), recursive=True) is None
    # a local path that does not exist yet is left for the copy itself to report
    assert check_pair(LocalPath(tmp_path / "missing"), S3Url("b"), recursive=False) is None
