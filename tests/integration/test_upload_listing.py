"""The one listing of incomplete multipart uploads, on the signed path: paged, in key order,
keys as they were written — what `multipart list/abort`, `rb` and emptying a bucket read."""

from __future__ import annotations

from s3kit import S3Service
from s3kit._aio import run_sync
from s3kit.service.uploads import pending_uploads
from s3kit.transfer.multipart import Multipart
from tests.conftest import Backend

KEYS = ["a/one", "b two+three", "c/ü.bin"]


def test_every_upload_is_listed_across_pages(backend: Backend, bucket: str) -> None:
    session = backend.session()
    mp = Multipart(session.http(), bucket)
    ids = {key: run_sync(mp.create(key, {})) for key in KEYS}
    try:
        for page_size in (1, 2, 1000):
            listed = list(pending_uploads(session, bucket, page_size=page_size))
            assert sorted((u.key, u.upload_id) for u in listed) == sorted(ids.items())
        service = S3Service(session)
        assert [u.key for u in service.list_uploads(bucket, "b")] == ["b two+three"]
        assert service.bucket_contents_summary(bucket).uploads == 3
    finally:
        for key, upload_id in ids.items():
            run_sync(mp.abort(key, upload_id))
    assert list(pending_uploads(session, bucket)) == []
