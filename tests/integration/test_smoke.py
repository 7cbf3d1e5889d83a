from __future__ import annotations

from tests.conftest import Backend, CliInvoker


def test_put_get_roundtrip(backend: Backend, bucket: str) -> None:
    storage = backend.session().storage(bucket)
    storage.put("a/b.txt", b"hello", metadata={"mtime": "12"})
    assert storage.get("a/b.txt") == b"hello"
    info = storage.head("a/b.txt")
    assert info.size == 5
    assert info.metadata.get("mtime") == "12"


def test_cli_ls(cli: CliInvoker, backend: Backend, bucket: str) -> None:
    backend.session().storage(bucket).put("dir/x.txt", b"12345")
    result = cli("ls", f"s3://{bucket}/", env=backend.env())
    assert result.exit_code == 0, result.stderr
    assert "PRE dir/" in result.stdout
