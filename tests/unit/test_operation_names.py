"""The S3 operation a signed request is, told from its method, key, query and headers, for the
requests the signed path sends when its caller names none."""

from __future__ import annotations

import pytest

from s3kit.storage.s3http import operation_name


@pytest.mark.parametrize(
    ("method", "key", "query", "headers", "name"),
    [
        ("GET", "k", {}, {}, "GetObject"),
        ("GET", "k", {"versionId": "v"}, {"Range": "bytes=0-1"}, "GetObject"),
        ("GET", "k", {"attributes": ""}, {}, "GetObjectAttributes"),
        ("GET", "k", {"partNumber": "2"}, {}, "GetObject"),
        ("GET", "k", {"uploadId": "u", "max-parts": "1000"}, {}, "ListParts"),
        ("GET", "", {"list-type": "2", "prefix": "p/"}, {}, "ListObjectsV2"),
        ("GET", "", {"uploads": "", "prefix": "p"}, {}, "ListMultipartUploads"),
        ("GET", "", {"versions": ""}, {}, "ListObjectVersions"),
        ("GET", "", {}, {}, "ListObjects"),
        ("HEAD", "k", {}, {}, "HeadObject"),
        ("HEAD", "", {}, {}, "HeadBucket"),
        ("PUT", "k", {}, {}, "PutObject"),
        ("PUT", "k", {}, {"X-Amz-Copy-Source": "/b/src"}, "CopyObject"),
        ("PUT", "k", {"partNumber": "1", "uploadId": "u"}, {}, "UploadPart"),
        (
            "PUT",
            "k",
            {"partNumber": "1", "uploadId": "u"},
            {"x-amz-copy-source": "/b/src"},
            "UploadPartCopy",
        ),
        ("PUT", "", {}, {}, "CreateBucket"),
        ("POST", "k", {"uploads": ""}, {}, "CreateMultipartUpload"),
        ("POST", "k", {"uploadId": "u"}, {}, "CompleteMultipartUpload"),
        ("POST", "", {"delete": ""}, {}, "DeleteObjects"),
        ("DELETE", "k", {}, {}, "DeleteObject"),
        ("DELETE", "k", {"uploadId": "u"}, {}, "AbortMultipartUpload"),
        ("DELETE", "", {}, {}, "DeleteBucket"),
        ("PATCH", "k", {}, {}, "PATCH"),
    ],
)
def test_operation_names(
    method: str, key: str, query: dict[str, str], headers: dict[str, str], name: str
) -> None:
    assert operation_name(method, key, query, headers) == name
