"""Objects: upload, download, copy, delete one object; metadata, tagging, copy/move, batch
delete, presigned POST.

Metadata and tags go through boto3 (control plane); copies of whole objects go through the
transfer layer (`transfer.copy.copy_object`, `TransferManager`), which already knows when a
single CopyObject is not enough. Nothing here reads an object's bytes.

S3 cannot edit an object's metadata: the object is copied onto itself with
`MetadataDirective=REPLACE`, and everything a REPLACE copy would otherwise drop (content
headers, storage class, SSE settings) is carried over explicitly.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from s3kit._aio import async_twin, run_sync
from s3kit._limits import DELETE_BATCH as DELETE_BATCH
from s3kit._limits import MAX_COPY_OBJECT as MAX_COPY_OBJECT
from s3kit._limits import MAX_POST_UPLOAD, copy_in_parts
from s3kit._uri import S3Url, validate_bucket_name, validate_key
from s3kit.errors import TransferError, UsageError
from s3kit.service.base import ServiceBase
from s3kit.service.presign import validate_expiry
from s3kit.storage.base import DeleteFailure, DeleteReport

if TYPE_CHECKING:
    from s3kit._encryption import Encryption
    from s3kit._session import Session
    from s3kit.transfer import ItemResult, TransferSummary
    from s3kit.transfer.context import WriteOptions
    from s3kit.transfer.copy import Copied

MAX_TAGS = 10  # S3 allows ten tags per object

# Headers a REPLACE copy would reset unless they are sent again (HeadObject name → CopyObject).
_KEPT_ON_REPLACE = (
    "ContentType",
    "CacheControl",
    "ContentDisposition",
    "ContentEncoding",
    "ContentLanguage",
    "Expires",
    "WebsiteRedirectLocation",
)


# boto3's ExtraArgs names that `upload_object`/`copy_object` accept, and the WriteOptions field
# each one sets (ServerSideEncryption and SSEKMSKeyId together make its `encryption`).
_EXTRA_ARGS = {
    "ContentType": "content_type",
    "CacheControl": "cache_control",
    "ContentEncoding": "content_encoding",
    "StorageClass": "storage_class",
    "Metadata": "metadata",
    "ACL": "acl",
    "ServerSideEncryption": "",
    "SSEKMSKeyId": "",
}


# -- pure helpers -------------------------------------------------------------------------------


def write_options_from_extra_args(extra_args: Mapping[str, Any] | None) -> WriteOptions:
    """boto3-style `ExtraArgs` ({"ContentType": ..., "Metadata": {...}}) as the WriteOptions
    every upload and copy takes; a name s3kit does not apply is refused, not ignored."""
    from s3kit._encryption import encryption_from_options
    from s3kit.transfer.context import WriteOptions

    extra = dict(extra_args or {})
    unknown = sorted(set(extra) - set(_EXTRA_ARGS))
    if unknown:
        raise UsageError(
            f"extra_args {', '.join(unknown)} not supported — use {', '.join(_EXTRA_ARGS)}"
        )
    fields = {_EXTRA_ARGS[name]: value for name, value in extra.items() if _EXTRA_ARGS[name]}
    if "metadata" in fields:
        fields["metadata"] = {str(k): str(v) for k, v in dict(fields["metadata"]).items()}
    sse, kms_key = extra.get("ServerSideEncryption"), extra.get("SSEKMSKeyId")
    encryption = encryption_from_options(sse, kms_key_id=kms_key, env={})
    return WriteOptions(encryption=encryption, **fields)


def parse_pairs(pairs: Sequence[str], *, what: str) -> dict[str, str]:
    """`key=value` strings (tags) as a dict; a later pair wins over an earlier one."""
    result: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise UsageError(f"{what} takes key=value, not '{pair}'")
        result[name] = value
    return result


def validate_tags(tags: Mapping[str, str]) -> dict[str, str]:
    """S3's limits for object tags: ten tags, keys ≤128 and values ≤256 characters."""
    if len(tags) > MAX_TAGS:
        raise UsageError(f"S3 allows at most {MAX_TAGS} tags per object, not {len(tags)}")
    for name, value in tags.items():
        if not name or len(name) > 128:
            raise UsageError(f"tag key '{name}' must be 1 to 128 characters long")
        if len(value) > 256:
            raise UsageError(f"the value of tag '{name}' is longer than 256 characters")
    return dict(tags)


def merge_metadata(
    current: Mapping[str, str], changes: Mapping[str, str], *, replace: bool
) -> dict[str, str]:
    """The user metadata after `metadata set`: the changes over the current set, or the changes
    alone with `replace`. Names are case-insensitive in S3, so they are compared lowercased."""
    merged = {} if replace else {k.lower(): v for k, v in current.items()}
    merged.update({k.lower(): v for k, v in changes.items()})
    return merged


def parse_key_lines(text: str) -> list[str]:
    """Keys from a file, one a line. Only line ends are stripped (keys may hold spaces);
    blank lines are skipped."""
    keys = []
    for line in text.splitlines():
        key = line.rstrip("\r")
        if key.strip():
            keys.append(key)
    return keys


def validate_content_length_range(low: int, high: int) -> tuple[int, int]:
    if low < 0 or high < low:
        raise UsageError(f"--content-length-range needs 0 <= MIN <= MAX, not {low} {high}")
    if high > MAX_POST_UPLOAD:
        raise UsageError("--content-length-range MAX cannot exceed 5 GiB (the POST upload limit)")
    return low, high


def replace_arguments(head: Mapping[str, Any]) -> dict[str, Any]:
    """CopyObject arguments that keep what a REPLACE copy would otherwise reset."""
    kwargs: dict[str, Any] = {name: head[name] for name in _KEPT_ON_REPLACE if head.get(name)}
    if head.get("StorageClass"):
        kwargs["StorageClass"] = head["StorageClass"]
    sse = head.get("ServerSideEncryption")
    if sse:
        kwargs["ServerSideEncryption"] = sse
        if sse == "aws:kms" and head.get("SSEKMSKeyId"):
            kwargs["SSEKMSKeyId"] = head["SSEKMSKeyId"]
    return kwargs


# -- the mixin ----------------------------------------------------------------------------------


class ObjectsMixin(ServiceBase):
    def head_object(
        self,
        bucket: str,
        key: str,
        *,
        version_id: str | None = None,
        encryption: Encryption | None = None,
    ) -> dict[str, Any]:
        """Everything HeadObject says about one object (no ResponseMetadata)."""
        return head_object(self, bucket, key, version_id=version_id, encryption=encryption)

    def set_object_metadata(
        self,
        bucket: str,
        key: str,
        *,
        metadata: Mapping[str, str] | None = None,
        content_type: str | None = None,
        cache_control: str | None = None,
        replace: bool = False,
    ) -> dict[str, Any]:
        """Change user metadata and content headers in place; returns the new HeadObject.

        Everything not named is kept: user metadata is merged unless `replace`, and the
        content headers, storage class and SSE-S3/KMS settings are carried over.
        """
        head = self.head_object(bucket, key)
        new_metadata = merge_metadata(head.get("Metadata", {}), metadata or {}, replace=replace)
        kwargs = replace_arguments(head)
        if content_type is not None:
            kwargs["ContentType"] = content_type
        if cache_control is not None:
            kwargs["CacheControl"] = cache_control
        size = int(head.get("ContentLength", 0))
        if copy_in_parts(size):
            from s3kit.transfer.context import WriteOptions

            options = WriteOptions(
                content_type=kwargs.get("ContentType"),
                cache_control=kwargs.get("CacheControl"),
                storage_class=kwargs.get("StorageClass"),
                metadata=new_metadata,
            )
            server_copy(self.session, S3Url(bucket, key), S3Url(bucket, key), options=options)
            result = self.head_object(bucket, key)
            if result.get("Metadata", {}) != new_metadata:
                raise TransferError(
                    f"s3://{bucket}/{key} was copied but its metadata did not change: the"
                    " multipart copy path does not carry new metadata yet"
                )
            return result
        copy_in_place(self, bucket, key, head, metadata=new_metadata, changes=kwargs)
        return self.head_object(bucket, key)

    # -- tags --------------------------------------------------------------------------------

    def get_object_tags(
        self, bucket: str, key: str, *, version_id: str | None = None
    ) -> dict[str, str]:
        kwargs: dict[str, Any] = {"Bucket": bucket, "Key": validate_key(key)}
        if version_id:
            kwargs["VersionId"] = version_id
        response = self.call("get_object_tagging", bucket=bucket, key=key, **kwargs)
        return {t["Key"]: t["Value"] for t in response.get("TagSet", [])}

    def set_object_tags(
        self,
        bucket: str,
        key: str,
        tags: Mapping[str, str],
        *,
        version_id: str | None = None,
    ) -> None:
        """Replace the object's whole tag set with `tags` (S3 has no per-tag update)."""
        tag_set = [{"Key": k, "Value": v} for k, v in validate_tags(tags).items()]
        kwargs: dict[str, Any] = {"Bucket": bucket, "Key": validate_key(key)}
        if version_id:
            kwargs["VersionId"] = version_id
        self.call(
            "put_object_tagging", bucket=bucket, key=key, Tagging={"TagSet": tag_set}, **kwargs
        )

    def delete_object_tags(self, bucket: str, key: str, *, version_id: str | None = None) -> None:
        kwargs: dict[str, Any] = {"Bucket": bucket, "Key": validate_key(key)}
        if version_id:
            kwargs["VersionId"] = version_id
        self.call("delete_object_tagging", bucket=bucket, key=key, **kwargs)

    # -- one object: upload, download, copy, delete, exists -----------------------------------
    # Each is one item of the transfer layer (verified, atomic, multipart where it is big), or
    # one request; the folder and batch forms are TransferManager and `delete_keys`.

    def upload_object(
        self,
        bucket_name: str,
        key: str,
        file_path: str | os.PathLike[str],
        extra_args: Mapping[str, Any] | None = None,
    ) -> ItemResult:
        """Upload one file to `key` (`extra_args` as boto3's: ContentType, CacheControl,
        ContentEncoding, StorageClass, Metadata, ACL, ServerSideEncryption, SSEKMSKeyId).
        A failed upload leaves what was at `key` as it was."""
        from s3kit._uri import LocalPath
        from s3kit.transfer import TransferManager

        validate_bucket_name(bucket_name)
        validate_key(key)
        manager = TransferManager(self.session, options=write_options_from_extra_args(extra_args))
        summary = manager.run(LocalPath(Path(file_path)), S3Url(bucket_name, key))
        return summary.results[0]

    def download_object(
        self,
        bucket_name: str,
        key: str,
        file_path: str | os.PathLike[str],
        *,
        version_id: str | None = None,
    ) -> ItemResult:
        """Download one object (or one version of it) to `file_path` (a file, or a folder to
        put it in): verified against its checksums, written to a temporary file renamed into
        place, so a failure leaves nothing half-written."""
        return download_to_file(self, bucket_name, key, file_path, version_id=version_id)

    def copy_object(
        self,
        source_bucket: str,
        source_key: str,
        destination_bucket: str,
        destination_key: str,
        *,
        version_id: str | None = None,
        extra_args: Mapping[str, Any] | None = None,
    ) -> ItemResult:
        """Server-side copy of one object (or version): one CopyObject up to 5 GiB, a
        multipart copy above. The copy keeps the source's metadata and content headers;
        `extra_args` change what they name (a Metadata entry is added to the source's)."""
        from s3kit.transfer import TransferManager

        for bucket, key in ((source_bucket, source_key), (destination_bucket, destination_key)):
            validate_bucket_name(bucket)
            validate_key(key)
        options = None if extra_args is None else write_options_from_extra_args(extra_args)
        summary = TransferManager(self.session, options=options).run(
            S3Url(source_bucket, source_key, version_id or None),
            S3Url(destination_bucket, destination_key),
        )
        return summary.results[0]

    def delete_object(self, bucket_name: str, key: str) -> None:
        """Delete the current object at `key` (on a versioned bucket this adds a delete marker;
        `delete_version` removes one version for good). Deleting a key that is not there
        succeeds, as in S3."""
        validate_bucket_name(bucket_name)
        self.session.storage(bucket_name).delete(validate_key(key))

    def object_exists(self, bucket_name: str, key: str) -> bool:
        """Whether `key` has a current object (a missing bucket raises BucketNotFound)."""
        validate_bucket_name(bucket_name)
        return self.session.storage(bucket_name).exists(validate_key(key))

    # -- copy, move, delete ------------------------------------------------------------------

    def copy_or_move(
        self, source: S3Url, destination: S3Url, *, move: bool = False
    ) -> TransferSummary:
        """Server-side copy (multipart above 5 GiB) of one object, within or between buckets;
        with `move`, the source is deleted once the copy succeeded. A destination ending in
        '/' keeps the source's name."""
        from s3kit.transfer import TransferManager

        if source.is_prefix:
            raise UsageError(f"{source} is a bucket or prefix — name an object")
        return TransferManager(self.session).run(source, destination, move=move)

    def delete_keys(
        self, bucket: str, keys: Iterable[str], *, batch_size: int = DELETE_BATCH
    ) -> DeleteReport:
        """DeleteObjects in batches of up to 1,000 keys (`S3Storage.delete_many_async`, the
        one bulk delete); per-key failures are collected, not raised, so one locked or
        forbidden key does not stop the rest."""
        validate_bucket_name(bucket)
        if not 1 <= batch_size <= DELETE_BATCH:
            raise UsageError(f"batch size must be 1 to {DELETE_BATCH}")
        wanted = [validate_key(k) for k in keys]
        storage = self.session.storage(bucket)
        return run_sync(storage.delete_many_async(wanted, batch_size=batch_size))

    # -- presigned POST ----------------------------------------------------------------------

    def presign_post(
        self,
        bucket: str,
        key: str,
        *,
        expires_in: int = 3600,
        content_length_range: tuple[int, int] | None = None,
        content_type_prefix: str | None = None,
    ) -> dict[str, Any]:
        """A browser upload form: {"url", "fields"}. The uploader posts `fields` plus `file`
        (and a Content-Type field starting with `content_type_prefix` when one is given)."""
        validate_bucket_name(bucket)
        validate_key(key)
        validate_expiry(expires_in)
        conditions: list[Any] = []
        fields: dict[str, str] = {}
        if content_length_range is not None:
            low, high = validate_content_length_range(*content_length_range)
            conditions.append(["content-length-range", low, high])
        if content_type_prefix is not None:
            conditions.append(["starts-with", "$Content-Type", content_type_prefix])
            fields["Content-Type"] = content_type_prefix
        post: dict[str, Any] = self.call(
            "generate_presigned_post",
            bucket=bucket,
            key=key,
            Bucket=bucket,
            Key=key,
            Fields=fields or None,
            Conditions=conditions or None,
            ExpiresIn=expires_in,
        )
        return {"url": post["url"], "fields": dict(post["fields"])}

    # -- awaitable twins: the same calls on a worker thread (s3kit._aio.async_twin) ---------
    head_object_async = async_twin(head_object)
    set_object_metadata_async = async_twin(set_object_metadata)
    get_object_tags_async = async_twin(get_object_tags)
    set_object_tags_async = async_twin(set_object_tags)
    delete_object_tags_async = async_twin(delete_object_tags)
    upload_object_async = async_twin(upload_object)
    download_object_async = async_twin(download_object)
    copy_object_async = async_twin(copy_object)
    delete_object_async = async_twin(delete_object)
    object_exists_async = async_twin(object_exists)
    copy_or_move_async = async_twin(copy_or_move)
    delete_keys_async = async_twin(delete_keys)
    presign_post_async = async_twin(presign_post)


def head_object(
    service: ServiceBase,
    bucket: str,
    key: str,
    *,
    version_id: str | None = None,
    encryption: Encryption | None = None,
) -> dict[str, Any]:
    """HeadObject through `service.call`, shared by the mixins that copy objects in place."""
    validate_bucket_name(bucket)
    validate_key(key)
    kwargs: dict[str, Any] = {"Bucket": bucket, "Key": key}
    if version_id:
        kwargs["VersionId"] = version_id
    if encryption is not None:
        kwargs.update(sse_c_arguments(encryption, service.session.endpoint_url))
    response: dict[str, Any] = service.call("head_object", bucket=bucket, key=key, **kwargs)
    response.pop("ResponseMetadata", None)
    return response


def download_to_file(
    service: ServiceBase,
    bucket: str,
    key: str,
    file_path: str | os.PathLike[str],
    *,
    version_id: str | None = None,
) -> ItemResult:
    """One download through the transfer layer, shared by `download_object` and
    `download_version`."""
    from s3kit._uri import LocalPath
    from s3kit.transfer import TransferManager

    validate_bucket_name(bucket)
    validate_key(key)
    summary = TransferManager(service.session).run(
        S3Url(bucket, key, version_id or None), LocalPath(Path(file_path))
    )
    return summary.results[0]


def copy_in_place(
    service: ServiceBase,
    bucket: str,
    key: str,
    head: Mapping[str, Any],
    *,
    metadata: Mapping[str, str] | None = None,
    changes: Mapping[str, Any] | None = None,
) -> None:
    """Copy an object (up to 5 GiB) onto itself with `changes` (CopyObject arguments) applied
    and everything else kept. Always MetadataDirective=REPLACE: SeaweedFS refuses an in-place
    COPY even when the storage class changes ("This copy request is illegal..."), and REPLACE
    is accepted everywhere, provided the metadata is sent again. Pinned to the ETag read in
    `head`, so an object overwritten meanwhile is not clobbered."""
    kwargs = replace_arguments(head)
    kwargs.update(changes or {})
    if head.get("ETag"):
        kwargs["CopySourceIfMatch"] = head["ETag"]
    service.call(
        "copy_object",
        bucket=bucket,
        key=key,
        Bucket=bucket,
        Key=key,
        CopySource={"Bucket": bucket, "Key": key},
        MetadataDirective="REPLACE",
        Metadata=dict(head.get("Metadata", {}) if metadata is None else metadata),
        **kwargs,
    )


def server_copy(
    session: Session,
    source: S3Url,
    destination: S3Url,
    *,
    options: WriteOptions | None = None,
    read_encryption: Encryption | None = None,
) -> Copied:
    """One server-side copy through the transfer layer (a single CopyObject up to 5 GiB,
    UploadPartCopy above; `source` may name a version), with `options` applied to the new
    object. Returns its size and new version id."""
    from s3kit._aio import run_sync
    from s3kit.transfer.context import TransferConfig, TransferContext, WriteOptions
    from s3kit.transfer.copy import copy_object

    async def run() -> Copied:
        ctx = TransferContext(session, TransferConfig(), options or WriteOptions(), read_encryption)
        try:
            return await copy_object(ctx, source, destination, lambda _: None)
        finally:
            ctx.close()

    return run_sync(run())


def sse_c_arguments(encryption: Encryption, endpoint: str | None) -> dict[str, Any]:
    """boto3 arguments for reading an SSE-C object (boto3 adds the key's MD5 itself)."""
    if encryption.mode != "sse-c" or encryption.customer_key is None:
        return {}
    encryption.check_transport(endpoint)
    return {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": encryption.customer_key}


__all__ = [
    "DeleteFailure",
    "DeleteReport",
    "ObjectsMixin",
    "head_object",
    "merge_metadata",
    "parse_key_lines",
    "parse_pairs",
    "server_copy",
]
