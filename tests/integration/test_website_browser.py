"""The demo site (examples/site), deployed with `s3kit deploy` and served by `s3kit website
serve`, rendered by a real browser (Debian's chromium, headless): the page, its stylesheet and
its image arrive as a browser asks for them, and the screenshot is not a blank page."""

from __future__ import annotations

import shutil
import struct
import subprocess
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from s3kit.deploy import deploy
from s3kit.service import S3Service
from s3kit.website import WebsiteServer
from tests.conftest import Backend, unique_bucket_name

SITE = Path(__file__).resolve().parents[2] / "examples" / "site"
CHROMIUM = shutil.which("chromium")


def png_pixels(data: bytes) -> tuple[int, int, bytes]:
    """Width, height and the decompressed scanlines of a PNG (enough to tell a blank page)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    at, idat, width, height = 8, b"", 0, 0
    while at < len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        kind, body = data[at + 4 : at + 8], data[at + 8 : at + 8 + length]
        if kind == b"IHDR":
            width, height = struct.unpack(">II", body[:8])
        elif kind == b"IDAT":
            idat += body
        at += 12 + length
    return width, height, zlib.decompress(idat)


@pytest.fixture
def served(seaweed: Backend) -> Iterator[str]:
    bucket = unique_bucket_name("www")
    service = S3Service(seaweed.session())
    service.create_bucket(bucket)
    outcome = deploy(seaweed.session(), SITE, f"s3://{bucket}")
    assert outcome.ok and outcome.uploaded >= 4
    requests: list[str] = []
    server = WebsiteServer.for_bucket(seaweed.session(), bucket, port=0, log=requests.append)
    with server.start():
        yield server.url
    service.empty_bucket(bucket)
    service.delete_bucket(bucket)
    assert any("css/style.css" in line for line in requests), requests  # the browser asked
    assert any("img/logo.png" in line for line in requests), requests


@pytest.mark.skipif(CHROMIUM is None, reason="no chromium (tests/servers/install-chromium.sh)")
def test_a_browser_renders_the_deployed_demo_site(served: str, tmp_path: Path) -> None:
    shot = tmp_path / "shot.png"
    assert CHROMIUM is not None
    subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
         f"--user-data-dir={tmp_path / 'profile'}", "--window-size=800,600",
         f"--screenshot={shot}", served],
        capture_output=True, timeout=120, check=True,
    )  # fmt: skip
    width, height, pixels = png_pixels(shot.read_bytes())
    assert (width, height) == (800, 600)
    # A blank page is one colour; the heading, the text and the logo make many.
    assert len(set(pixels)) > 20
