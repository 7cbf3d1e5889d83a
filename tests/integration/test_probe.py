"""`s3kit probe` against both servers: a full matrix, core features supported, nothing left."""

from __future__ import annotations

import json

import pytest

from s3kit.errors import NotSupported
from s3kit.service import S3Service
from tests.conftest import Backend, CliInvoker, unique_bucket_name

CORE = ("create bucket", "put/get/head/delete object", "list objects v2", "multipart upload")


def test_probe_reports_every_feature_and_cleans_up(cli: CliInvoker, backend: Backend) -> None:
    result = cli("probe", "--json", env=backend.env())
    assert result.exit_code == 0, result.stderr
    rows = {row["feature"]: row for row in json.loads(result.stdout)}
    assert len(rows) >= 30
    assert {row["supported"] for row in rows.values()} <= {True, False, None}
    for feature in CORE:
        assert rows[feature]["supported"] is True, rows[feature]
    leftovers = [
        b.name
        for b in S3Service(backend.session()).list_buckets()
        if b.name.startswith("s3kit-probe")
    ]
    assert leftovers == []
    if backend.name == "moto":
        assert rows["public access block"]["supported"] is True
        assert rows["STS GetCallerIdentity"]["supported"] is True
    else:
        assert rows["website"]["supported"] is False
        assert "does not support website (put_bucket_website" in rows["website"]["detail"]


def test_probe_text_output(cli: CliInvoker, seaweed: Backend) -> None:
    result = cli("probe", env=seaweed.env())
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith(f"Probing {seaweed.endpoint}")
    assert "multipart upload" in result.stdout


def test_not_supported_errors_name_the_operation(seaweed: Backend) -> None:
    service = S3Service(seaweed.session())
    bucket = unique_bucket_name()
    service.create_bucket(bucket)
    try:
        with pytest.raises(NotSupported, match=r"put_bucket_website.*s3kit probe"):
            service.call(
                "put_bucket_website",
                bucket=bucket,
                Bucket=bucket,
                WebsiteConfiguration={"IndexDocument": {"Suffix": "index.html"}},
            )
    finally:
        service.delete_bucket(bucket)
