"""What s3kit writes, renames and deletes on the local side, against both servers: never through
a symlink that leads out of the destination folder (cp -r, sync, sync --delete, apply, two-way
sync), one walk of local folders for cp -r and sync (loops and links that leave the source are
skipped with a warning), keys no local file can have are skipped and reported, and
`S3Client.download_file` into a folder named with a trailing '/'."""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path

import pytest

from s3kit._client import S3Client
from tests.conftest import Backend, CliInvoker, CliResult
from tests.integration.cli_support import get, keys, put, tree

# -- downloads never go through a symlink that leaves the destination ---------------------------


def outside_link(tmp_path: Path) -> tuple[Path, Path]:
    """`dst/evil` → `../outside`: the destination folder and the folder outside it."""
    dst, outside = tmp_path / "dst", tmp_path / "outside"
    dst.mkdir()
    outside.mkdir()
    (dst / "evil").symlink_to(Path("..") / "outside")
    return dst, outside


def refused_through_link(result: CliResult, key: str = "evil/x.txt") -> None:
    assert result.exit_code != 0, (result.stdout, result.stderr)
    assert f"skipped {key}" in result.stderr and "symlink" in result.stderr, result.stderr


@pytest.mark.parametrize(
    "command",
    [
        ("cp", "-r"),
        ("sync",),  # streamed
        ("sync", "--delete"),  # plan first
        ("sync", "--follow-symlinks"),
    ],
)
def test_download_never_writes_through_a_link_out_of_the_destination(
    cli: CliInvoker, backend: Backend, bucket: str, tmp_path: Path, command: tuple[str, ...]
) -> None:
    put(backend, bucket, {"p/evil/x.txt": b"payload", "p/ok.txt": b"ok"})
    dst, outside = outside_link(tmp_path)
    result = cli(*command, f"s3://{bucket}/p/", str(dst), env=backend.env())
    refused_through_link(result)
    assert list(outside.iterdir()) == []
    assert (dst / "ok.txt").read_bytes() == b"ok"  # the others still transfer
    assert (dst / "evil").is_symlink()


def test_download_does_not_replace_a_file_link_out_of_the_destination(
    cli: CliInvoker, backend: Backend, bucket: str, tmp_path: Path
) -> None:
    put(backend, bucket, {"p/secret.txt": b"new"})
    dst, outside = outside_link(tmp_path)
    (outside / "secret.txt").write_bytes(b"mine")
    (dst / "secret.txt").symlink_to(outside / "secret.txt")
    refused_through_link(
        cli("cp", "-r", f"s3://{bucket}/p/", str(dst), env=backend.env()), "secret.txt"
    )
    assert (dst / "secret.txt").is_symlink()
    assert (outside / "secret.txt").read_bytes() == b"mine"


def test_apply_does_not_delete_through_a_link_made_after_the_plan(
    cli: CliInvoker, backend: Backend, bucket: str, tmp_path: Path
) -> None:
    """The plan deletes `gone/x.txt`; the folder is then moved out and linked back: applying
    the plan must not delete the file outside (nor the folder it is in)."""
    put(backend, bucket, {"p/keep.txt": b"k"})
    dst, outside = tmp_path / "dst", tmp_path / "outside"
    (dst / "gone").mkdir(parents=True)
    (dst / "gone" / "x.txt").write_bytes(b"precious")
    (dst / "keep.txt").write_bytes(b"k")
    plan = tmp_path / "plan.json"
    made = cli("sync", f"s3://{bucket}/p/", str(dst), "--delete", "--plan-out", str(plan),
               env=backend.env())  # fmt: skip
    assert made.exit_code == 0, made.stderr
    assert [a["key"] for a in json.loads(plan.read_text())["actions"]] == ["gone/x.txt"]
    (dst / "gone").rename(outside)
    (dst / "gone").symlink_to(outside)
    result = cli("apply", str(plan), "--yes", env=backend.env())
    refused_through_link(result, "gone/x.txt")
    assert (outside / "x.txt").read_bytes() == b"precious"


def test_two_way_resync_neither_writes_through_the_link_nor_deletes_remotely_later(
    cli: CliInvoker, backend: Backend, bucket: str, tmp_path: Path
) -> None:
    put(backend, bucket, {"pre/evil/x.txt": b"payload", "pre/ok.txt": b"ok"})
    local, outside = outside_link(tmp_path)
    url = f"s3://{bucket}/pre"
    first = cli("sync", "--bidirectional", "--resync", str(local), url, env=backend.env())
    assert first.exit_code != 0, first.stdout
    assert "skipped evil/x.txt" in first.stderr and "symlink" in first.stderr, first.stderr
    assert list(outside.iterdir()) == []
    assert (local / "ok.txt").read_bytes() == b"ok"
    again = cli("sync", "--bidirectional", str(local), url, env=backend.env())
    assert "skipped evil/x.txt" in again.stderr, again.stderr
    assert keys(backend, bucket, "pre/") == ["pre/evil/x.txt", "pre/ok.txt"]


def test_two_way_sync_does_not_see_a_folder_turned_into_an_outside_link_as_deleted(
    cli: CliInvoker, backend: Backend, bucket: str, tmp_path: Path
) -> None:
    local, outside = tmp_path / "local", tmp_path / "outside"
    (local / "photos").mkdir(parents=True)
    (local / "photos" / "a.jpg").write_bytes(b"a")
    (local / "top.txt").write_bytes(b"t")
    (local / "stay.txt").write_bytes(b"s")
    url = f"s3://{bucket}/pre"
    first = cli("sync", "--bidirectional", "--resync", str(local), url, env=backend.env())
    assert first.exit_code == 0, first.stderr
    (local / "photos").rename(outside)
    (local / "photos").symlink_to(outside)
    (local / "top.txt").unlink()  # a real local deletion still propagates
    result = cli("sync", "--bidirectional", str(local), url, env=backend.env())
    assert result.exit_code != 0, result.stdout
    assert "skipped photos/a.jpg" in result.stderr, result.stderr
    assert keys(backend, bucket, "pre/") == ["pre/photos/a.jpg", "pre/stay.txt"]
    assert (outside / "a.jpg").read_bytes() == b"a"


# -- one walk of local folders for cp -r and sync -----------------------------------------------


def source_with_links(tmp_path: Path) -> Path:
    """real files, a link inside the source, a link out of it, a folder loop, a link loop."""
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "a.txt").write_bytes(b"a")
    (src / "sub" / "b.txt").write_bytes(b"b")
    (tmp_path / "secret.txt").write_bytes(b"secret")
    (src / "alias.txt").symlink_to("a.txt")
    (src / "escape.txt").symlink_to(tmp_path / "secret.txt")
    (src / "sub" / "up").symlink_to("..")
    (src / "self").symlink_to("self")  # stat: ELOOP
    return src


@pytest.mark.parametrize("command", [("cp", "-r"), ("sync", "--follow-symlinks")])
def test_cp_and_sync_walk_a_folder_with_links_alike(
    cli: CliInvoker, backend: Backend, bucket: str, tmp_path: Path, command: tuple[str, ...]
) -> None:
    src = source_with_links(tmp_path)
    result = cli(*command, str(src), f"s3://{bucket}/up/", env=backend.env())
    assert result.exit_code == 0, (result.stdout, result.stderr)
    assert keys(backend, bucket, "up/") == ["up/a.txt", "up/alias.txt", "up/sub/b.txt"]
    assert "escape.txt: the link leads outside the source folder" in result.stderr
    assert "up: a symlink loop" in result.stderr
    assert "self: " in result.stderr  # too many levels of symbolic links
    assert "unexpected" not in result.stderr


# -- keys that cannot be local paths -----------------------------------------------------------

# Which servers store each key exactly as given (probed with boto3 put_object and a listing):
# SeaweedFS refuses '.', '..', NUL and names over its limit (InvalidRequest, KeyTooLongError)
# and folds '//' into '/', so its keys are always valid local paths.
ODD_KEYS = {
    "../up.txt": "a '.' or '..' segment",
    "a/../b.txt": "a '.' or '..' segment",
    "./dot.txt": "a '.' or '..' segment",
    "/abs.txt": "it starts with '/'",
    "a//b.txt": "an empty segment",
    "nul\x00.txt": "a NUL byte",
    "n" * 300: "longer than 255 bytes",
}
STORED_EXACTLY = {"seaweedfs": set(), "moto": set(ODD_KEYS)}


def odd_keys_for(backend: Backend, bucket: str) -> dict[str, str]:
    """The keys of ODD_KEYS `backend` stores exactly; the others are shown not to be (a store
    that starts keeping one fails here, and the table is to be updated)."""
    stored = {key: why for key, why in ODD_KEYS.items() if key in STORED_EXACTLY[backend.name]}
    client = backend.session().client("s3")
    for key in set(ODD_KEYS) - set(stored):
        with contextlib.suppress(Exception):
            client.put_object(Bucket=bucket, Key="gap/" + key, Body=b"odd")
    listed = {e.key for e in backend.session().storage(bucket).list("gap/")}
    assert not {"gap/" + key for key in set(ODD_KEYS) - set(stored)} & listed, listed
    if not stored:
        pytest.skip(f"{backend.name} does not store keys that cannot be local paths")
    return stored


def put_exact(backend: Backend, bucket: str, objects: dict[str, bytes]) -> None:
    client = backend.session().client("s3")
    for key, data in objects.items():
        client.put_object(Bucket=bucket, Key=key, Body=data)


@pytest.mark.parametrize("command", [("cp", "-r"), ("sync",), ("sync", "--delete")])
def test_keys_that_cannot_be_local_paths_are_skipped_and_reported(
    cli: CliInvoker, backend: Backend, bucket: str, tmp_path: Path, command: tuple[str, ...]
) -> None:
    odd = odd_keys_for(backend, bucket)
    put_exact(backend, bucket, {"p/" + key: b"odd" for key in odd} | {"p/ok/fine.txt": b"ok"})
    dst = tmp_path / "deep" / "dst"
    result = cli(*command, f"s3://{bucket}/p/", str(dst), env=backend.env())
    assert result.exit_code == 1, (result.stdout, result.stderr)
    assert tree(tmp_path) == {"deep/dst/ok/fine.txt": b"ok"}
    for key, why in odd.items():
        shown = key.replace("\x00", "\\x00")
        assert f"skipped {shown}: cannot be a local file name (" in result.stderr, key
        assert why in result.stderr
    assert "ValueError" not in result.stderr and "Could not parse" not in result.stderr


@pytest.mark.parametrize("flags", [(), ("--delete",), ("--json",)])
def test_sync_dryrun_lists_what_the_run_will_refuse(
    cli: CliInvoker, backend: Backend, bucket: str, tmp_path: Path, flags: tuple[str, ...]
) -> None:
    """A dry run shows the keys the real run skips (a link out of the folder, a name no file
    can have), and writes nothing; the real run then refuses exactly those."""
    odd = {k: why for k, why in ODD_KEYS.items() if k in STORED_EXACTLY[backend.name]}
    put_exact(
        backend, bucket, {"p/" + key: b"odd" for key in odd} | {"p/evil/x.txt": b"x", "p/ok": b"ok"}
    )
    dst, outside = outside_link(tmp_path)
    result = cli("sync", "--dryrun", *flags, f"s3://{bucket}/p/", str(dst), env=backend.env())
    assert result.exit_code == 0, (result.stdout, result.stderr)
    expected = {*odd, "evil/x.txt"}
    if "--json" in flags:
        refused = {r["key"]: r["reason"] for r in json.loads(result.stdout)["refused"]}
        assert set(refused) == expected, refused
        assert "symlink" in refused["evil/x.txt"]
        for key, why in odd.items():
            assert refused[key].startswith("cannot be a local file name (") and why in refused[key]
    else:
        said = [line for line in result.stdout.splitlines() if line.startswith("Would skip ")]
        assert len(said) == len(expected), said
        assert "Would skip evil/x.txt: " in result.stdout and "symlink" in result.stdout
        for key, why in odd.items():
            shown = key.replace("\x00", "\\x00")
            assert f"Would skip {shown}: cannot be a local file name (" in result.stdout, key
            assert why in result.stdout
    assert sorted(p.name for p in dst.iterdir()) == ["evil"] and list(outside.iterdir()) == []

    real = cli("sync", *[f for f in flags if f != "--json"], f"s3://{bucket}/p/", str(dst),
               env=backend.env())  # fmt: skip
    assert real.exit_code == 1
    for key in expected:
        assert f"skipped {key.replace(chr(0), chr(92) + 'x00')}: " in real.stderr, key
    assert (dst / "ok").read_bytes() == b"ok"


def test_two_way_sync_skips_and_reports_keys_that_cannot_be_local_paths(
    cli: CliInvoker, backend: Backend, bucket: str, tmp_path: Path
) -> None:
    odd = odd_keys_for(backend, bucket)
    put_exact(backend, bucket, {"pre/" + key: b"odd" for key in odd} | {"pre/ok.txt": b"ok"})
    local = tmp_path / "deep" / "local"
    local.mkdir(parents=True)
    url = f"s3://{bucket}/pre"
    result = cli("sync", "--bidirectional", "--resync", str(local), url, env=backend.env())
    assert result.exit_code == 1, (result.stdout, result.stderr)
    assert tree(tmp_path) == {"deep/local/ok.txt": b"ok"}
    assert "cannot be a local file name" in result.stderr
    assert len(keys(backend, bucket, "pre/")) == len(odd) + 1  # nothing remote was touched


# -- S3Client.download_file into a folder -------------------------------------------------------


@pytest.mark.parametrize("existing", [True, False])
def test_download_file_into_a_folder_named_with_a_slash(
    backend: Backend, bucket: str, tmp_path: Path, existing: bool
) -> None:
    put(backend, bucket, {"docs/report.txt": b"report"})
    folder = tmp_path / "dir"
    if existing:
        folder.mkdir()
    client = S3Client(bucket, session=backend.session())
    written = client.download_file("docs/report.txt", f"{folder}{os.sep}")
    assert written == str(folder / "report.txt")
    assert (folder / "report.txt").read_bytes() == b"report"
    assert client.download_file("docs/report.txt", folder) == str(folder / "report.txt")
    assert client.download_file("docs/report.txt", tmp_path / "named.txt") == str(
        tmp_path / "named.txt"
    )
    assert get(backend, bucket, "docs/report.txt") == (tmp_path / "named.txt").read_bytes()
