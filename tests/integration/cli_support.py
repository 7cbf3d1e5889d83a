"""Small helpers shared by the CLI integration tests: seeding a bucket, reading it back, and
the shape every error report must have."""

from __future__ import annotations

from pathlib import Path

from s3kit.storage.base import ObjectInfo
from tests.conftest import Backend, CliResult


def put(backend: Backend, bucket: str, objects: dict[str, bytes]) -> None:
    storage = backend.session().storage(bucket)
    for key, data in objects.items():
        storage.put(key, data)


def keys(backend: Backend, bucket: str, prefix: str = "") -> list[str]:
    storage = backend.session().storage(bucket)
    return sorted(e.key for e in storage.list(prefix) if isinstance(e, ObjectInfo))


def get(backend: Backend, bucket: str, key: str) -> bytes:
    return backend.session().storage(bucket).get(key)


def bucket_names(backend: Backend) -> set[str]:
    from s3kit.service import S3Service

    return {b.name for b in S3Service(backend.session()).list_buckets()}


def distinct_secret_env(backend: Backend) -> tuple[dict[str, str], str]:
    """The backend's environment with a secret that cannot be mistaken for other output
    (moto's is 'testing', like its access key; moto accepts any secret)."""
    if backend.name == "moto":
        secret = "motoSecretNeverShown0123456789"
        return {**backend.env(), "S3KIT_SECRET_ACCESS_KEY": secret}, secret
    return backend.env(), backend.secret_key


def tree(root: Path) -> dict[str, bytes]:
    """Every file under `root`, by '/'-separated relative path."""
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in root.rglob("*")
        if path.is_file()
    }


def assert_usage_error(result: CliResult) -> None:
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert_one_error_line(result)


def assert_failed(result: CliResult) -> None:
    assert result.exit_code == 1, (result.stdout, result.stderr)
    assert_one_error_line(result)


def assert_one_error_line(result: CliResult) -> None:
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("s3kit: error:"), result.stderr
    assert "Traceback" not in result.stderr
