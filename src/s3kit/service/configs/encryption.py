"""Default encryption of new objects: SSE-S3 (AES256), SSE-KMS or DSSE-KMS.

This is the bucket's default; encrypting one request with a customer key (SSE-C) is
`s3kit._encryption`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal, get_args

from s3kit._aio import async_twin
from s3kit.service.configs.checks import need, rules_of, unwrap
from s3kit.service.configs.specs import ENCRYPTION, ConfigDocuments, Document

if TYPE_CHECKING:
    from mypy_boto3_s3.type_defs import ServerSideEncryptionConfigurationTypeDef

SseAlgorithm = Literal["AES256", "aws:kms", "aws:kms:dsse"]


def build_encryption(
    *,
    algorithm: SseAlgorithm = "AES256",
    kms_key_id: str | None = None,
    bucket_key: bool | None = None,
) -> Document:
    """Default encryption: SSE-S3 (AES256) or SSE-KMS (aws:kms, optionally with a key id and
    an S3 Bucket Key, which cuts KMS requests)."""
    default: Document = {"SSEAlgorithm": algorithm}
    if kms_key_id:
        default["KMSMasterKeyID"] = kms_key_id
    rule: Document = {"ApplyServerSideEncryptionByDefault": default}
    if bucket_key is not None:
        rule["BucketKeyEnabled"] = bucket_key
    return validate_encryption({"Rules": [rule]})


def validate_encryption(document: Any) -> Document:
    """Check a default-encryption configuration ``{"Rules": [...]}``."""
    config = unwrap(
        document, "ServerSideEncryptionConfiguration", "a default-encryption configuration"
    )
    for index, rule in enumerate(
        rules_of(config, "Rules", "a default-encryption configuration"), 1
    ):
        default = rule.get("ApplyServerSideEncryptionByDefault")
        need(
            isinstance(default, dict),
            f"encryption rule {index} needs ApplyServerSideEncryptionByDefault",
        )
        assert isinstance(default, dict)
        algorithm = default.get("SSEAlgorithm")
        need(
            algorithm in get_args(SseAlgorithm),
            f"encryption rule {index}: unknown algorithm {algorithm!r} — use AES256 (SSE-S3),"
            " aws:kms (SSE-KMS) or aws:kms:dsse",
        )
        need(
            not default.get("KMSMasterKeyID") or str(algorithm).startswith("aws:kms"),
            f"encryption rule {index}: a KMS key id needs the aws:kms algorithm",
        )
    return config


class DefaultEncryptionMixin(ConfigDocuments):
    def get_encryption(self, bucket: str) -> ServerSideEncryptionConfigurationTypeDef | None:
        return self._get_document(ENCRYPTION, bucket)

    def set_encryption(self, bucket: str, config: Any) -> None:
        self._put_document(ENCRYPTION, bucket, validate_encryption(config))

    def delete_encryption(self, bucket: str) -> None:
        self._delete_document(ENCRYPTION, bucket)

    # -- awaitable twins: the same calls on a worker thread (s3kit._aio.async_twin) ---------
    get_encryption_async = async_twin(get_encryption)
    set_encryption_async = async_twin(set_encryption)
    delete_encryption_async = async_twin(delete_encryption)
