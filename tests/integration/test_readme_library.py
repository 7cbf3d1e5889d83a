"""The README's library tour is run exactly as printed, against SeaweedFS and moto, in a
process of its own that finds its endpoint as a user's script would (the environment), and
uses nothing but the public API."""

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
