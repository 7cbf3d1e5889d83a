"""The README's library tour is run exactly as printed, against SeaweedFS and moto, in a
process of its own that finds its endpoint as a user's script would (the environment), and
uses nothing but the public API. Every other Python block of the README runs too, as printed,
against SeaweedFS: in a folder holding the files it names, with the AWS profile it names
("prod") pointing at the server."""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import s3kit
from tests.conftest import Backend

README = Path(__file__).resolve().parents[2] / "README.md"
MARKER = "<!-- library-tour:"
BUCKET = "s3kit-tour"


def python_blocks() -> list[str]:
    """Every ```python block of the README, the tour first."""
    return re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)


def tour() -> str:
    text = README.read_text(encoding="utf-8")
    after = text.split(MARKER, 1)[1]
    found = re.search(r"```python\n(.*?)```", after, re.S)
    assert found is not None, "the README lost its library tour"
    return found.group(1)


def test_the_tour_uses_only_public_names() -> None:
    tree = ast.parse(tour())
    imported = {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for alias in node.names
    }
    assert imported <= {"s3kit", "Path"}, imported
    used = {
        node.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id == "s3kit"
    }
    assert used and used <= set(s3kit.__all__), used - set(s3kit.__all__)


@pytest.fixture
def tour_bucket(backend: Backend) -> Iterator[str]:
    yield BUCKET
    service = s3kit.S3Service(backend.session())
    storage = backend.session().storage(BUCKET)
    versions = [(v.key, v.version_id) for v in service.list_versions(BUCKET)]
    storage.delete_many(versions)
    service.delete_bucket(BUCKET)


def test_the_tour_runs_as_printed(backend: Backend, tour_bucket: str, tmp_path: Path) -> None:
    script = tmp_path / "tour.py"
    script.write_text(tour(), encoding="utf-8")
    result = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        env={**os.environ, **backend.env()},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "2 of 2 files uploaded"
    assert lines[1].endswith("sent, 1 deleted")
    listed = [line.split() for line in lines[2:-1]]
    index = [row for row in listed if row[0] == "site/index.html"]
    css = [row for row in listed if row[0] == "site/css/main.css"]
    assert [row[2] for row in index] == ["latest", "older"]  # both versions of the page
    assert css[0][2:] == ["latest", "delete", "marker"] and css[1][2] == "older"
    assert lines[-1] == "lifecycle: ['expire-tmp']"


# The buckets the other blocks make (fixed names, as a user's script has): removed after each.
_SNIPPET_BUCKETS = ("reports", "my-bucket", "reports-2026", "ops-configs")


def _remove_bucket(backend: Backend, bucket: str) -> None:
    service = s3kit.S3Service(backend.session())
    if not service.bucket_exists(bucket):
        return
    versions = [(v.key, v.version_id) for v in service.list_versions(bucket)]
    backend.session().storage(bucket).delete_many(versions)
    service.delete_bucket(bucket)


@pytest.fixture
def snippet_folder(seaweed: Backend, tmp_path: Path) -> Iterator[tuple[Path, dict[str, str]]]:
    """A working folder with the files the blocks name, the bucket the Storage block takes as
    there ("my-bucket"), and an environment whose AWS profile "prod" (and the default
    credentials) reach `seaweed`."""
    work = tmp_path / "work"
    (work / "site" / "css").mkdir(parents=True)
    (work / "site" / "index.html").write_text("<h1>hi</h1>")
    (work / "site" / "css" / "main.css").write_text("h1 {}")
    (work / "summary.pdf").write_bytes(b"%PDF-1.4 summary")
    (work / "q3.csv").write_text("quarter,total\n3,42\n")
    (work / "prometheus").mkdir()
    (work / "prometheus" / "prometheus.yml").write_text(
        "global:\n  scrape_interval: 15s\nscrape_configs:\n  - job_name: node\n"
        "    static_configs:\n      - targets: ['127.0.0.1:9100']\n"
    )
    aws = tmp_path / "aws"
    aws.mkdir()
    (aws / "config").write_text(
        f"[profile prod]\nendpoint_url = {seaweed.endpoint}\nregion = us-east-1\n"
    )
    (aws / "credentials").write_text(
        f"[prod]\naws_access_key_id = {seaweed.access_key}\n"
        f"aws_secret_access_key = {seaweed.secret_key}\n"
    )
    env = {
        **os.environ,
        **seaweed.env(),
        "AWS_CONFIG_FILE": str(aws / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(aws / "credentials"),
    }
    for name in ("my-bucket", "ops-configs"):
        s3kit.S3Service(seaweed.session()).create_bucket(name)
    yield work, env
    for bucket in _SNIPPET_BUCKETS:
        _remove_bucket(seaweed, bucket)


def test_the_readme_has_the_blocks_this_module_runs() -> None:
    blocks = python_blocks()
    assert blocks[0] == tour()
    assert len(blocks) >= 4, "a Python block of the README went missing"


@pytest.mark.parametrize("index", range(1, len(python_blocks())))
def test_every_other_python_block_runs_as_printed(
    index: int, snippet_folder: tuple[Path, dict[str, str]]
) -> None:
    work, env = snippet_folder
    block = python_blocks()[index]
    script = work.parent / "block.py"
    script.write_text(block, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, str(script)],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, f"README block {index}:\n{block}\n{result.stderr}"


def test_the_readme_workflows_are_the_example_files() -> None:
    """Each ```yaml block after `<!-- the file examples/workflows/X.yml -->` is that file as it
    is: the files are what the schema and zizmor tests check (tests/unit/test_github_action.py),
    so the README cannot show a workflow nobody checked."""
    text = README.read_text(encoding="utf-8")
    found = re.findall(
        r"<!-- the file (examples/workflows/[\w.-]+) -->\n```yaml\n(.*?)```", text, re.S
    )
    assert len(found) == 5
    root = README.parent
    for name, block in found:
        assert (root / name).read_text(encoding="utf-8") == block, name
