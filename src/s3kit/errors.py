"""The s3kit error vocabulary and the one function that translates SDK and OS errors into it.

Every error a user can see is an `S3KitError` whose message says what went wrong and what to
do about it. Subclasses also inherit the matching builtin (`ObjectNotFound` is a
`FileNotFoundError`), so callers can catch either, and each carries the context of the call
that failed (S3 code, status, operation, bucket, key, request id). `translate`, applied by the
`with translating(...)` block every call site uses, is the only place that looks at botocore
or OS exceptions; it must never put a secret into a message, so every message passes
through `observe.redact`.
"""

from __future__ import annotations

import errno
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Literal

from s3kit._observe import redact


class S3KitError(Exception):
    """Base of every error s3kit raises on purpose. `exit_code` is what the CLI exits with.

    Where the error came from a remote call it carries that call's context: the S3 error
    `code` (botocore's convention for an answer without a body: its status, "404"), the HTTP
    `status`, the S3 `operation` ("GetObject"), `bucket` and `key`, and the server's
    `request_id` (x-amz-request-id) and `host_id` (x-amz-id-2), which its operators ask for.
    Unknown parts stay "" (code) or None."""

    exit_code: int = 1
    code: str = ""
    status: int | None = None
    operation: str | None = None
    bucket: str | None = None
    key: str | None = None
    request_id: str | None = None
    host_id: str | None = None

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        status: int | None = None,
        operation: str | None = None,
        bucket: str | None = None,
        key: str | None = None,
        request_id: str | None = None,
        host_id: str | None = None,
    ) -> None:
        super().__init__(redact(message))
        self.add_context(
            code=code,
            status=status,
            operation=operation,
            bucket=bucket,
            key=key,
            request_id=request_id,
            host_id=host_id,
        )

    def add_context(
        self,
        *,
        code: str | None = None,
        status: int | None = None,
        operation: str | None = None,
        bucket: str | None = None,
        key: str | None = None,
        request_id: str | None = None,
        host_id: str | None = None,
    ) -> S3KitError:
        """Fill in the parts of the context not known yet (what is known stays); returns self."""
        if code and not self.code:
            self.code = code
        given = {
            "status": status,
            "operation": operation,
            "bucket": bucket,
            "key": key,
            "request_id": request_id,
            "host_id": host_id,
        }
        for name, value in given.items():
            if value is not None and getattr(self, name) is None:
                setattr(self, name, value)
        return self

    def context_of(self, other: S3KitError) -> S3KitError:
        """Take what `other` knows of its call (for an error raised in place of `other`)."""
        return self.add_context(
            code=other.code,
            status=other.status,
            operation=other.operation,
            bucket=other.bucket,
            key=other.key,
            request_id=other.request_id,
            host_id=other.host_id,
        )

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else ""

    def __str__(self) -> str:
        return self.message


class UsageError(S3KitError, ValueError):
    """The input itself is wrong (a malformed URL, an out-of-range option): exit code 2."""

    exit_code = 2


class InvalidBucketName(UsageError):
    pass


class InvalidKey(UsageError):
    pass


class ConfigError(S3KitError):
    """The configuration (profile, config file, environment) cannot be used as it is."""


class CredentialsError(ConfigError, PermissionError):
    """No credentials, or credentials the server rejects."""


class BucketNotFound(S3KitError, FileNotFoundError):
    pass


class ObjectNotFound(S3KitError, FileNotFoundError):
    pass


class LocalPathError(S3KitError, OSError):
    """A local file or folder is missing, unreadable or unwritable."""


class PermissionDenied(S3KitError, PermissionError):
    pass


class BucketAlreadyExists(S3KitError, FileExistsError):
    pass


class BucketNotEmpty(S3KitError):
    pass


class ConflictError(S3KitError):
    """A conditional write lost: the object changed or appeared since it was read."""


class Throttled(S3KitError):
    pass


class EndpointError(S3KitError, ConnectionError):
    """The endpoint cannot be reached or answers with a server error."""


class TransferError(S3KitError):
    pass


class NotSupported(S3KitError, NotImplementedError):
    pass


class LocalServerError(S3KitError):
    """The embedded SeaweedFS server cannot be installed, started or stopped."""


class OutputClosed(S3KitError, BrokenPipeError):
    """The reader of s3kit's output went away (`s3kit cp s3://b/k - | head`). Not a failure to
    report: the CLI ends quietly, as Unix tools do."""


# -- translation -------------------------------------------------------------------------------


def _where(bucket: str | None, key: str | None) -> str:
    if bucket and key:
        return f"s3://{bucket}/{key}"
    if bucket:
        return f"s3://{bucket}"
    return "the endpoint"


# What a request asked of the server's encryption, which changes what some answers mean: an
# SSE-C key for the object itself ("sse-c") or for a copy's source ("sse-c-source"), or SSE-KMS.
EncryptionAsked = Literal["sse-c", "sse-c-source", "aws:kms"]

# Reads of one object: a 403 to one of these carrying an SSE-C key is the key, not the caller.
_READS = frozenset({"GetObject", "HeadObject", "GetObjectAttributes"})
_DENIED = frozenset({"AccessDenied", "AllAccessDisabled", "Forbidden", "403"})
_SSE_C_KEY_OPTION = "--sse-c-key-file FILE or S3KIT_SSE_C_KEY"


def from_code(
    code: str,
    status: int | None,
    server_message: str,
    *,
    bucket: str | None = None,
    key: str | None = None,
    endpoint: str | None = None,
    operation: str | None = None,
    request_id: str | None = None,
    host_id: str | None = None,
    encryption: EncryptionAsked | None = None,
) -> S3KitError:
    """Map an S3 error code (or bare HTTP status) to the s3kit error a user should see, which
    carries the call's context. `operation` and `encryption` (what the request asked of the
    server's encryption) say what some answers mean: S3 answers a read with the wrong SSE-C
    key 403, and a store without a KMS may answer an SSE-KMS write 500 or 501."""
    error = _encryption_error(code, status, server_message, bucket, key, endpoint, operation,
                              encryption)  # fmt: skip
    if error is None:
        error = _error_for(code, status, server_message, bucket, key, endpoint)
    return error.add_context(
        code=code,
        status=status,
        operation=operation,
        bucket=bucket or None,
        key=key or None,
        request_id=request_id,
        host_id=host_id,
    )


def _encryption_error(
    code: str,
    status: int | None,
    server_message: str,
    bucket: str | None,
    key: str | None,
    endpoint: str | None,
    operation: str | None,
    encryption: EncryptionAsked | None,
) -> S3KitError | None:
    """The error an answer means because of the encryption the request asked for (or did not
    ask for), or None where encryption has nothing to do with it."""
    where = _where(bucket, key)
    denied = code in _DENIED or status == 403
    if encryption == "sse-c-source" and denied:
        return PermissionDenied(
            "the copy source's SSE-C key does not match the one it was written with — give the"
            " key it was uploaded with"
        )
    if encryption == "sse-c" and denied and operation in _READS:
        return PermissionDenied(
            f"the SSE-C key does not match the one the object was written with ({where}) —"
            f" pass the key it was uploaded with: {_SSE_C_KEY_OPTION}"
        )
    if (
        encryption is None
        and operation in _READS
        and status == 400
        and code in ("", "400", "InvalidRequest", "InvalidArgument")
    ):
        # S3 refuses to read an SSE-C object without its key: 400 InvalidRequest, SeaweedFS 400
        # InvalidArgument, saying so. A HEAD's 400 has no body to say why (a malformed version
        # id is the other cause), so that one only points at the likely cause.
        if "encrypt" in server_message.lower():
            return PermissionDenied(
                f"{where} is encrypted with a customer key (SSE-C) and cannot be read without"
                f" it — pass it with {_SSE_C_KEY_OPTION}"
            )
        if not server_message:
            return S3KitError(
                f"the server refused to read {where} (400, without saying why) — an object"
                f" written with SSE-C is read only with its key: pass it with {_SSE_C_KEY_OPTION}"
            )
    if encryption == "aws:kms" and (
        status in (500, 501) or code in ("NotImplemented", "NotSupported", "InternalError")
    ):
        # SeaweedFS without a KMS answers 500 InternalError ("KMS is not configured" in its log).
        answered = " ".join(dict.fromkeys(part for part in (str(status or ""), code) if part))
        return NotSupported(
            f"{endpoint or 'this endpoint'} does not support SSE-KMS (--sse aws:kms): it answered"
            f" {answered} to a write asking for it — use --sse AES256 (SSE-S3) instead;"
            " `s3kit probe` lists the encryption this endpoint supports"
        )
    return None


# Codes that mean the credentials themselves were refused (InvalidClientTokenId and
# UnrecognizedClientException are STS's words for an access key it does not know).
_REJECTED_CREDENTIALS = frozenset(
    {
        "InvalidAccessKeyId",
        "SignatureDoesNotMatch",
        "ExpiredToken",
        "InvalidToken",
        "InvalidClientTokenId",
        "UnrecognizedClientException",
    }
)


def _error_for(
    code: str,
    status: int | None,
    server_message: str,
    bucket: str | None,
    key: str | None,
    endpoint: str | None,
) -> S3KitError:
    where = _where(bucket, key)
    detail = f" ({server_message})" if server_message else ""
    if code == "NoSuchBucket" or (code in ("", "NotFound", "404") and status == 404 and not key):
        name = bucket or "?"
        return BucketNotFound(
            f"bucket '{name}' does not exist — create it with `s3kit mb s3://{name}`"
        )
    if code in ("NoSuchKey", "NotFound", "404") or (not code and status == 404):
        return ObjectNotFound(f"{where} does not exist — check the key with `s3kit ls`")
    if code == "NoSuchUpload":
        return ObjectNotFound(
            f"the multipart upload to {where} no longer exists (completed or aborted);"
            " start the transfer again"
        )
    if code == "NoSuchVersion":
        return ObjectNotFound(f"that version of {where} does not exist{detail}")
    if code in _REJECTED_CREDENTIALS:
        return CredentialsError(
            f"the server rejected the credentials ({code}) — check the access key and secret"
            " with `s3kit whoami`, or choose another profile with --profile"
        )
    if code in _DENIED or status == 403:
        return PermissionDenied(
            f"access denied to {where}{detail} — the credentials in use lack permission;"
            " check them with `s3kit whoami`"
        )
    if code == "BucketAlreadyOwnedByYou":
        return BucketAlreadyExists(f"bucket '{bucket}' already exists and is yours")
    if code == "BucketAlreadyExists":
        return BucketAlreadyExists(
            f"bucket name '{bucket}' is taken by another account — choose another name"
        )
    if code == "BucketNotEmpty":
        return BucketNotEmpty(
            f"bucket '{bucket}' is not empty — delete its objects first, or use"
            f" `s3kit rb --force s3://{bucket}`"
        )
    if code == "InvalidBucketName":
        return InvalidBucketName(f"invalid bucket name '{bucket}'{detail}")
    if code in ("PreconditionFailed", "ConditionalRequestConflict") or status in (409, 412):
        return ConflictError(
            f"{where} changed or already exists, so the conditional write was refused{detail}"
        )
    if code in ("SlowDown", "Throttling", "ThrottlingException", "RequestLimitExceeded") or (
        status in (429, 503)
    ):
        return Throttled(
            f"the server is throttling requests to {where}{detail} — retry later or lower"
            " --concurrency; retries are set with S3KIT_MAX_RETRIES"
        )
    if code in ("NotImplemented", "NotSupported", "501") or status == 501:
        return NotSupported(
            f"{endpoint or 'this endpoint'} does not support this operation{detail}"
        )
    if code in ("BadDigest", "InvalidDigest"):
        return TransferError(
            f"the server refused the bytes sent to {where} as damaged on the way ({code});"
            " nothing was replaced there — copy it again"
        )
    if code == "AccessControlListNotSupported":  # Object Ownership: BucketOwnerEnforced
        return NotSupported(
            f"{where}: the bucket has ACLs disabled (Object Ownership is BucketOwnerEnforced),"
            " so it refuses any ACL — drop --acl and grant access with a bucket policy"
        )
    if code == "InvalidRange":
        return UsageError(f"the requested range is outside {where}{detail}")
    if status is not None and status >= 500:
        said = f": {server_message}" if server_message else ""
        return EndpointError(
            f"the server failed ({f'{status} {code}'.strip()}{said}) — retry later"
        )
    label = code or (str(status) if status else "error")
    return S3KitError(f"{where}: {label}{detail}")


def retry_budget_spent(error: S3KitError) -> S3KitError:
    """`error`, saying it was not retried because the Session's retry budget is spent
    (_retry.RetryBudget); returns it."""
    error.args = (
        f"{error.message} (not retried: this session's retry budget is spent — the endpoint"
        " failed too often; wait for it to recover, or raise S3KIT_RETRY_BUDGET)",
    )
    return error


def _translate_botocore(
    exc: Exception, bucket: str | None, key: str | None, endpoint: str | None
) -> S3KitError | None:
    """The s3kit error for a botocore one; said to be unretried where the retry budget
    refused it (session._Boto3Seam marks those)."""
    error = _translate_botocore_error(exc, bucket, key, endpoint)
    if error is None:
        return None
    response = getattr(exc, "response", None)
    quota = isinstance(response, dict) and (response.get("ResponseMetadata") or {}).get(
        "RetryQuotaReached"
    )
    if quota or getattr(exc, "s3kit_retry_budget_spent", False):
        return retry_budget_spent(error)
    return error


def _translate_botocore_error(
    exc: Exception, bucket: str | None, key: str | None, endpoint: str | None
) -> S3KitError | None:
    if "botocore" not in sys.modules:  # never import botocore just to inspect an error
        return None
    from botocore import exceptions as bce

    if isinstance(exc, bce.ClientError):
        response: dict[str, Any] = dict(exc.response)
        err: dict[str, Any] = dict(response.get("Error", {}))
        meta: dict[str, Any] = dict(response.get("ResponseMetadata", {}))
        code = str(err.get("Code", ""))
        status = meta.get("HTTPStatusCode")
        return from_code(
            code,
            int(status) if status else None,
            str(err.get("Message", "") or ""),
            bucket=bucket,
            key=key,
            endpoint=endpoint,
            operation=exc.operation_name or None,
            request_id=meta.get("RequestId") or None,
            host_id=meta.get("HostId") or None,
        )
    if isinstance(exc, bce.NoCredentialsError | bce.PartialCredentialsError):
        return CredentialsError(
            "no credentials found — set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or pass"
            " --profile NAME"
        )
    if isinstance(exc, bce.ProfileNotFound):
        return CredentialsError(f"{exc} — list the profiles in ~/.aws/config")
    if isinstance(exc, bce.EndpointConnectionError | bce.ConnectionError | bce.ReadTimeoutError):
        return _unreachable(endpoint)
    if isinstance(exc, bce.ParamValidationError):
        return UsageError(str(exc).replace("\n", " "))
    if isinstance(exc, bce.BotoCoreError):
        return S3KitError(str(exc))
    return None


def _unreachable(endpoint: str | None) -> EndpointError:
    return EndpointError(
        f"cannot reach {endpoint or 'the S3 endpoint'} — check --endpoint-url and that the"
        " server is running"
    )


def _translate_os(exc: OSError, path: str | None) -> S3KitError:
    where = path or exc.filename or "local path"
    if isinstance(exc, FileNotFoundError) or exc.errno == errno.ENOENT:
        return LocalPathError(f"{where}: no such file or folder")
    if isinstance(exc, PermissionError) or exc.errno in (errno.EACCES, errno.EPERM):
        return LocalPathError(f"{where}: permission denied")
    if isinstance(exc, IsADirectoryError):
        return LocalPathError(f"{where} is a folder — add --recursive to copy folders")
    if exc.errno == errno.ENOSPC:
        return LocalPathError(f"{where}: no space left on device")
    return LocalPathError(f"{where}: {exc.strerror or exc}")


# What a user calls the feature behind a control-plane operation, where the words of the
# operation's name do not say it (`feature_of`).
_FEATURE_NAMES = {
    "acl": "bucket ACLs",
    "accelerate": "transfer acceleration",
    "cors": "CORS",
    "encryption": "default encryption",
    "notification": "event notifications",
    "policy": "bucket policies",
    "tagging": "bucket tagging",
}


def feature_of(operation: str) -> str:
    """`put_public_access_block` -> "public access block", `put_bucket_website` -> "website",
    `put_object_lock_configuration` -> "object lock"."""
    name = operation
    for prefix in ("put_", "get_", "delete_"):
        name = name.removeprefix(prefix)
    name = name.removeprefix("bucket_").removesuffix("_configuration")
    return _FEATURE_NAMES.get(name, name.replace("_", " "))


def for_operation(error: S3KitError, operation: str, endpoint: str) -> S3KitError:
    """`error` as the answer to `operation` (a boto3 name) on `endpoint`.

    Only CreateBucket can mean "that bucket exists": a server without a bucket subresource
    (rclone serve s3 for ?publicAccessBlock and ?object-lock, ?website, ?tagging, ...) routes
    the PUT to CreateBucket and answers BucketAlreadyOwnedByYou or BucketAlreadyExists, which
    for any other operation on an existing bucket is the feature missing. Every NotSupported
    names the operation and where to look."""
    if isinstance(error, BucketAlreadyExists) and operation != "create_bucket":
        return NotSupported(
            f"{endpoint} does not support {feature_of(operation)} ({operation} was answered as"
            " if it asked to create the bucket) — `s3kit probe` lists what this endpoint"
            " supports"
        ).context_of(error)
    if isinstance(error, NotSupported) and "this operation" in error.message:
        return NotSupported(
            error.message.replace("this operation", operation)
            + " — `s3kit probe` lists what this endpoint supports"
        ).context_of(error)
    return error


def server_code(exc: BaseException) -> str:
    """The S3 error code behind an error ('' if none). `translate` results keep the SDK error
    as their cause; answers such as "no such configuration" differ only by this code."""
    seen: BaseException | None = exc
    while seen is not None:
        response = getattr(seen, "response", None)
        if isinstance(response, dict):
            return str((response.get("Error") or {}).get("Code", ""))
        seen = seen.__cause__
    return ""


def translate(
    exc: BaseException,
    *,
    operation: str | None = None,
    bucket: str | None = None,
    key: str | None = None,
    path: str | None = None,
    endpoint: str | None = None,
) -> S3KitError:
    """Turn any exception from botocore or the OS into an `S3KitError` (the signed-request
    path raises s3kit errors itself).

    `bucket`/`key` name the remote object involved, `path` the local one; they shape the
    message, and `operation` (the S3 name, "GetObject"), `bucket` and `key` become the error's
    context where the error does not know better (an s3kit error passed in keeps what it
    has and gains the rest). Prefer `with translating(...)`; otherwise chain the result:
    `raise translate(exc, ...) from exc`.
    """
    return _translate(exc, bucket, key, path, endpoint).add_context(
        operation=operation, bucket=bucket, key=key
    )


def _translate(
    exc: BaseException,
    bucket: str | None,
    key: str | None,
    path: str | None,
    endpoint: str | None,
) -> S3KitError:
    if isinstance(exc, S3KitError):
        return exc
    if isinstance(exc, Exception):
        mapped = _translate_botocore(exc, bucket, key, endpoint)
        if mapped is not None:
            return mapped
        if isinstance(exc, BrokenPipeError):
            # A ConnectionError by class, but the pipe we write to closed, not the endpoint:
            # sockets' EPIPE reaches us wrapped by botocore, never bare.
            return OutputClosed(f"{path or 'the output'} was closed by its reader")
        if isinstance(exc, ConnectionError):
            return _unreachable(endpoint)
        if isinstance(exc, OSError):
            return _translate_os(exc, path)
    return S3KitError(f"{type(exc).__name__}: {exc}")


@contextmanager
def translating(
    *,
    operation: str | None = None,
    bucket: str | None = None,
    key: str | None = None,
    path: str | None = None,
    endpoint: str | None = None,
    adjust: Callable[[S3KitError], S3KitError] | None = None,
) -> Iterator[None]:
    """Any error raised in the block leaves it as an `S3KitError` (see `translate`), chained
    to the original, with the call's context; `adjust` may then replace it (ServiceBase.call
    passes `for_operation`). Use it instead of a try/except at each call site:

        with translating(operation="GetBucketPolicy", bucket=bucket, endpoint=url):
            client.get_bucket_policy(Bucket=bucket)
    """
    try:
        yield
    except Exception as exc:
        error = translate(
            exc, operation=operation, bucket=bucket, key=key, path=path, endpoint=endpoint
        )
        if adjust is not None:
            error = adjust(error)
        if error is exc:
            raise
        raise error from exc
