"""S3's canned ACLs, listed once: the bucket commands and the uploads (`WriteOptions.acl`,
sent as x-amz-acl) check a name against these before any request."""

from __future__ import annotations

BUCKET_CANNED_ACLS = ("private", "public-read", "public-read-write", "authenticated-read")
# An object also takes these (PutObject, CreateMultipartUpload, CopyObject, PutObjectAcl).
OBJECT_CANNED_ACLS = (
    *BUCKET_CANNED_ACLS,
    "aws-exec-read",
    "bucket-owner-read",
    "bucket-owner-full-control",
)

__all__ = ["BUCKET_CANNED_ACLS", "OBJECT_CANNED_ACLS"]
