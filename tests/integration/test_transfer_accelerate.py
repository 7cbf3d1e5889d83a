"""Transfer acceleration: transfers go through the accelerate endpoint, and fall back to the
normal endpoint where it fails. A second address stands in for s3-accelerate.amazonaws.com."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from s3kit._local_server import free_ports
from s3kit._uri import LocalPath, S3Url
from s3kit.storage.s3http import S3Http
from s3kit.transfer import TransferConfig, TransferManager
from tests.conftest import Backend


def _upload(backend: Backend, bucket: str, tmp_path: Path, endpoint: str) -> None:
    source = tmp_path / "data.bin"
    source.write_bytes(b"accelerated" * 1000)
    config = TransferConfig(
        accelerate=True, accelerate_endpoint=endpoint, journal_dir=tmp_path / "journal"
    )
    manager = TransferManager(backend.session(max_retries=0, connect_timeout=1), config=config)
    manager.run(LocalPath(source), S3Url(bucket, "data.bin"))
    assert backend.session().storage(bucket).get("data.bin") == source.read_bytes()


def test_transfers_use_the_accelerate_endpoint(
    seaweed: Backend, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from s3kit.service import S3Service
    from tests.conftest import unique_bucket_name

    bucket = unique_bucket_name()
    S3Service(seaweed.session()).create_bucket(bucket)
    with caplog.at_level(logging.WARNING, logger="s3kit"):
        _upload(seaweed, bucket, tmp_path, seaweed.endpoint)
    assert "acceleration failed" not in caplog.text


def test_failed_acceleration_falls_back_to_the_normal_endpoint(
    backend: Backend, bucket: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (dead_port,) = free_ports(1)
    with caplog.at_level(logging.WARNING, logger="s3kit"):
        _upload(backend, bucket, tmp_path, f"http://127.0.0.1:{dead_port}")
    assert "transfer acceleration failed" in caplog.text


def test_accelerate_endpoint_names_the_bucket_in_the_host(seaweed: Backend) -> None:
    session = seaweed.session(addressing_style="virtual")
    http = S3Http(session)
    origin, host, path = http.target("any-bucket", "dir/a b.txt")
    assert origin == seaweed.endpoint
    assert host == seaweed.endpoint.removeprefix("http://")
    assert path == "/dir/a%20b.txt"


def test_the_accelerate_endpoint_keeps_the_retry_settings(tmp_path: Path) -> None:
    # Its Session is built from the caller's settings: a budget set by the user (say 0, none)
    # must hold there too, not fall back to the default.
    from s3kit._session import Session

    session = Session(
        endpoint_url="http://127.0.0.1:9", access_key_id="AKIDFAKE",
        secret_access_key="fake-secret-value", env={}, max_retries=2, retry_budget=7,
    )  # fmt: skip
    config = TransferConfig(accelerate=True, accelerate_endpoint="http://127.0.0.1:9")
    fast = TransferManager(session, config=config)._accelerated_context("b").session
    assert (fast.settings.max_retries, fast.settings.retry_budget) == (2, 7)
