"""Buckets: list, exists, create (with secure defaults), details, tags, delete, empty.

Bucket details and secure defaults call boto3 directly, one operation per setting, so that
each can fail on its own: a store that lacks one feature still answers for the others. Nothing
here prints; the CLI reports the `SecureStep`s and `BucketDetails` it gets back.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from s3kit._acls import BUCKET_CANNED_ACLS as BUCKET_CANNED_ACLS
from s3kit._aio import async_iter_twin, async_twin, run_sync
from s3kit._uri import validate_bucket_name
from s3kit.errors import (
    BucketAlreadyExists,
    BucketNotEmpty,
    BucketNotFound,
    NotSupported,
    PermissionDenied,
    S3KitError,
    UsageError,
    server_code,
)
from s3kit.service.base import ServiceBase
from s3kit.service.uploads import pending_uploads
from s3kit.storage.base import ObjectInfo


@dataclass(frozen=True, slots=True)
class BucketInfo:
    name: str
    created: datetime | None
    region: str | None = None


MAX_TAGS = 50
MAX_TAG_KEY = 128
MAX_TAG_VALUE = 256
ABORT_MULTIPART_DAYS = 7
SECURE_LIFECYCLE_RULE_ID = "s3kit-abort-incomplete-multipart-uploads"

SettingState = Literal["set", "none", "not supported", "error"]
StepState = Literal["applied", "skipped", "failed"]


@dataclass(frozen=True, slots=True)
class Setting:
    """One bucket setting as the backend answered: its document, or why there is none."""

    state: SettingState
    value: Any = None
    detail: str = ""

    def shown(self) -> Any:
        """The document when set, else 'none', 'not supported' or 'error: ...'."""
        if self.state == "set":
            return self.value
        if self.state == "error":
            return f"error: {self.detail}"
        return self.state


@dataclass(frozen=True, slots=True)
class BucketDetails:
    name: str
    settings: dict[str, Setting] = field(default_factory=dict)

    def document(self) -> dict[str, Any]:
        return {"bucket": self.name, **{k: v.shown() for k, v in self.settings.items()}}


@dataclass(frozen=True, slots=True)
class SecureStep:
    name: str
    state: StepState
    detail: str = ""


@dataclass(frozen=True, slots=True)
class ContentSummary:
    """What `delete --force` would remove. `objects` are current versions (or plain objects
    where the store has no versioning), `versions` the noncurrent ones."""

    objects: int = 0
    versions: int = 0
    delete_markers: int = 0
    uploads: int = 0

    @property
    def total(self) -> int:
        return self.objects + self.versions + self.delete_markers + self.uploads


# -- pure helpers --------------------------------------------------------------------------


def is_not_configured(exc: BaseException) -> bool:
    """True for the 404 answers meaning "this bucket has no such configuration"
    (NoSuchTagSet, NoSuchBucketPolicy, ServerSideEncryptionConfigurationNotFoundError, ...)."""
    code = server_code(exc)
    if not code or code == "NoSuchBucket":
        return False
    return code.startswith("NoSuch") or code.endswith(("NotFoundError", "NotFound"))


def parse_tags(pairs: Iterable[str]) -> dict[str, str]:
    """`["team=data", "env=prod"]` -> {"team": "data", "env": "prod"}; the value may be empty
    or contain '='. Rejects what S3 would reject, before any request."""
    tags: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise UsageError(f"tag '{pair}' is not KEY=VALUE, e.g. team=data")
        if key in tags:
            raise UsageError(f"tag '{key}' is given twice")
        if len(key) > MAX_TAG_KEY:
            raise UsageError(f"tag key '{key[:20]}...' is longer than {MAX_TAG_KEY} characters")
        if len(value) > MAX_TAG_VALUE:
            raise UsageError(f"tag '{key}' has a value longer than {MAX_TAG_VALUE} characters")
        if key.startswith("aws:"):
            raise UsageError(f"tag key '{key}' uses the reserved prefix 'aws:'")
        tags[key] = value
    check_tag_count(tags)
    return tags


def check_tag_count(tags: Mapping[str, str]) -> None:
    if len(tags) > MAX_TAGS:
        raise UsageError(f"{len(tags)} tags; a bucket can have at most {MAX_TAGS}")


def tag_set(tags: Mapping[str, str]) -> list[dict[str, str]]:
    return [{"Key": k, "Value": v} for k, v in tags.items()]


def secure_lifecycle_rule() -> dict[str, Any]:
    return {
        "ID": SECURE_LIFECYCLE_RULE_ID,
        "Status": "Enabled",
        "Filter": {"Prefix": ""},
        "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": ABORT_MULTIPART_DAYS},
    }


# The settings `bucket_info` reports: name -> (operation, what to keep of the answer).
_INFO_OPERATIONS: dict[str, tuple[str, Callable[[dict[str, Any]], Any]]] = {
    "versioning": ("get_bucket_versioning", lambda r: r.get("Status") or None),
    "encryption": (
        "get_bucket_encryption",
        lambda r: r.get("ServerSideEncryptionConfiguration", {}).get("Rules") or None,
    ),
    "tags": ("get_bucket_tagging", lambda r: {t["Key"]: t["Value"] for t in r["TagSet"]} or None),
    "policy_status": ("get_bucket_policy_status", lambda r: r.get("PolicyStatus") or None),
    "lifecycle": ("get_bucket_lifecycle_configuration", lambda r: r.get("Rules") or None),
    "website": (
        "get_bucket_website",
        lambda r: {k: v for k, v in r.items() if k != "ResponseMetadata"} or None,
    ),
    "public_access_block": (
        "get_public_access_block",
        lambda r: r.get("PublicAccessBlockConfiguration") or None,
    ),
    "object_lock": (
        "get_object_lock_configuration",
        lambda r: r.get("ObjectLockConfiguration") or None,
    ),
}


class BucketsMixin(ServiceBase):
    # -- buckets ---------------------------------------------------------------------------

    def list_buckets(self, *, with_region: bool = False) -> list[BucketInfo]:
        """Every bucket; `with_region` asks GetBucketLocation for those the listing does not
        name a region for (a bucket that refuses leaves `region` None)."""
        infos = list(self._listed_buckets())
        if not with_region:
            return infos

        def located(info: BucketInfo) -> BucketInfo:
            if info.region:
                return info
            try:
                region = self.bucket_region(info.name)
            except S3KitError:
                return info
            return BucketInfo(name=info.name, created=info.created, region=region)

        with ThreadPoolExecutor(max_workers=8) as pool:
            return list(pool.map(located, infos))

    def _listed_buckets(self) -> Iterator[BucketInfo]:
        """ListBuckets page by page on the signed path (no boto3 client to build: `s3kit ls`
        of the buckets starts as fast as a listing of objects)."""
        http = self.session.http()
        query: dict[str, str] = {}
        while True:
            root = http.request("GET", "", "", query=query, operation="ListBuckets").xml()
            for element in root.iter("Bucket"):
                created = element.findtext("CreationDate")
                yield BucketInfo(
                    name=element.findtext("Name") or "",
                    created=datetime.fromisoformat(created) if created else None,
                    region=element.findtext("BucketRegion") or None,
                )
            # Only an answer asked for pages (max-buckets) has a token; follow one if sent.
            token = root.findtext("ContinuationToken")
            if not token or token == query.get("continuation-token"):
                return
            query = {"continuation-token": token}

    def bucket_region(self, bucket: str) -> str:
        response = self.call("get_bucket_location", bucket=bucket, Bucket=bucket)
        # An empty LocationConstraint means us-east-1; "EU" is the legacy name of eu-west-1.
        location = response.get("LocationConstraint") or "us-east-1"
        return "eu-west-1" if location == "EU" else str(location)

    def bucket_exists(self, bucket: str) -> bool:
        validate_bucket_name(bucket)
        try:
            self.call("head_bucket", bucket=bucket, Bucket=bucket)
        except BucketNotFound:
            return False
        return True

    def create_bucket(
        self,
        bucket: str,
        *,
        region: str | None = None,
        acl: str | None = None,
        object_lock: bool = False,
    ) -> None:
        validate_bucket_name(bucket)
        if acl is not None and acl not in BUCKET_CANNED_ACLS:
            raise UsageError(
                f"unknown bucket ACL '{acl}' — choose one of {', '.join(BUCKET_CANNED_ACLS)}"
            )
        # In us-east-1 S3 answers CreateBucket on a bucket you already own with 200 OK (and
        # resets its ACL), so "already exists" must be asked first. A 403 here means someone
        # else's bucket: CreateBucket then fails with BucketAlreadyExists, as it should.
        with contextlib.suppress(PermissionDenied):
            if self.bucket_exists(bucket):
                raise BucketAlreadyExists(f"bucket '{bucket}' already exists and is yours")
        region = region or self.session.settings.region
        kwargs: dict[str, Any] = {"Bucket": bucket}
        if region and region != "us-east-1" and not self.session.settings.use_local:
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
        if acl is not None:
            kwargs["ACL"] = acl
        if object_lock:
            kwargs["ObjectLockEnabledForBucket"] = True
        self.call("create_bucket", bucket=bucket, **kwargs)

    def secure_bucket(
        self,
        bucket: str,
        *,
        tags: Mapping[str, str] | None = None,
        encryption: Mapping[str, Any] | None = None,
        lifecycle_rules: Iterable[Mapping[str, Any]] | None = None,
    ) -> list[SecureStep]:
        """Apply secure defaults, each step on its own: default encryption (SSE-S3, AES256),
        versioning, a public access block with all four settings on, a lifecycle rule that
        aborts multipart uploads left unfinished for 7 days, and `tags`. A step the store does
        not implement is skipped with its answer; any other failure is reported as failed and
        the remaining steps still run.

        `encryption` (a validated ``{"Rules": [...]}``, e.g. SSE-KMS) replaces the AES256
        document; `lifecycle_rules` is the whole lifecycle configuration to put instead of the
        abort rule alone (a caller keeping a bucket's own rules passes them here, so that
        they are never replaced even for a moment; empty: no lifecycle step)."""
        sse_s3 = {"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]}
        sse = dict(encryption) if encryption is not None else sse_s3
        algorithm = sse["Rules"][0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"]
        rules = [secure_lifecycle_rule()] if lifecycle_rules is None else list(lifecycle_rules)
        steps: list[tuple[str, str, dict[str, Any]]] = [
            (
                f"default encryption ({algorithm})",
                "put_bucket_encryption",
                {"ServerSideEncryptionConfiguration": sse},
            ),
            (
                "versioning",
                "put_bucket_versioning",
                {"VersioningConfiguration": {"Status": "Enabled"}},
            ),
            (
                "public access block",
                "put_public_access_block",
                {
                    "PublicAccessBlockConfiguration": {
                        "BlockPublicAcls": True,
                        "IgnorePublicAcls": True,
                        "BlockPublicPolicy": True,
                        "RestrictPublicBuckets": True,
                    }
                },
            ),
        ]
        if rules:
            name = (
                f"lifecycle: abort incomplete multipart uploads after {ABORT_MULTIPART_DAYS} days"
            )
            if lifecycle_rules is not None:
                name = f"lifecycle ({len(rules)} rule{'' if len(rules) == 1 else 's'})"
            lifecycle = {"LifecycleConfiguration": {"Rules": rules}}
            steps.append((name, "put_bucket_lifecycle_configuration", lifecycle))
        if tags:
            steps.append(("tags", "put_bucket_tagging", {"Tagging": {"TagSet": tag_set(tags)}}))
        results: list[SecureStep] = []
        for name, operation, kwargs in steps:
            try:
                self.call(operation, bucket=bucket, Bucket=bucket, **kwargs)
            except NotSupported as exc:
                results.append(SecureStep(name, "skipped", exc.message))
            except S3KitError as exc:
                results.append(SecureStep(name, "failed", exc.message))
            else:
                results.append(SecureStep(name, "applied"))
        return results

    def bucket_info(self, bucket: str) -> BucketDetails:
        """Region and every setting `bucket info` shows, each as the backend answers.
        Raises `BucketNotFound` for a missing bucket; settings fail one by one."""
        validate_bucket_name(bucket)
        self.call("head_bucket", bucket=bucket, Bucket=bucket)
        settings: dict[str, Setting] = {}
        try:
            settings["region"] = Setting("set", self.bucket_region(bucket))
        except NotSupported as exc:
            settings["region"] = Setting("not supported", detail=exc.message)
        except S3KitError as exc:
            settings["region"] = Setting("error", detail=exc.message)
        for name, (operation, pick) in _INFO_OPERATIONS.items():
            settings[name] = self._setting(bucket, operation, pick)
        return BucketDetails(bucket, settings)

    def _setting(
        self, bucket: str, operation: str, pick: Callable[[dict[str, Any]], Any]
    ) -> Setting:
        try:
            response = self.call(operation, bucket=bucket, Bucket=bucket)
        except NotSupported as exc:
            return Setting("not supported", detail=exc.message)
        except S3KitError as exc:
            if is_not_configured(exc):
                return Setting("none")
            return Setting("error", detail=exc.message)
        value = pick(response)
        return Setting("none") if value is None else Setting("set", value)

    # -- tags ------------------------------------------------------------------------------

    def get_bucket_tags(self, bucket: str) -> dict[str, str]:
        validate_bucket_name(bucket)
        try:
            response = self.call("get_bucket_tagging", bucket=bucket, Bucket=bucket)
        except S3KitError as exc:
            if is_not_configured(exc):
                return {}
            raise
        return {t["Key"]: t["Value"] for t in response.get("TagSet", [])}

    def set_bucket_tags(self, bucket: str, tags: Mapping[str, str]) -> dict[str, str]:
        """Replace every tag of `bucket` with `tags` (none: remove them all)."""
        validate_bucket_name(bucket)
        check_tag_count(tags)
        if not tags:
            self.call("delete_bucket_tagging", bucket=bucket, Bucket=bucket)
        else:
            self.call(
                "put_bucket_tagging",
                bucket=bucket,
                Bucket=bucket,
                Tagging={"TagSet": tag_set(tags)},
            )
        return dict(tags)

    def add_bucket_tags(self, bucket: str, tags: Mapping[str, str]) -> dict[str, str]:
        """Merge `tags` into the bucket's tags (a given key overwrites); returns the result.
        S3 has no partial update: this reads, merges and writes the whole set."""
        return self.set_bucket_tags(bucket, {**self.get_bucket_tags(bucket), **tags})

    def remove_bucket_tags(
        self, bucket: str, keys: Iterable[str]
    ) -> tuple[dict[str, str], list[str]]:
        """Delete `keys` from the bucket's tags. Returns the remaining tags and the keys that
        were not set."""
        current = self.get_bucket_tags(bucket)
        wanted = list(dict.fromkeys(keys))
        missing = [k for k in wanted if k not in current]
        remaining = {k: v for k, v in current.items() if k not in wanted}
        if len(remaining) != len(current):
            self.set_bucket_tags(bucket, remaining)
        return remaining, missing

    # -- contents --------------------------------------------------------------------------

    def bucket_contents_summary(self, bucket: str) -> ContentSummary:
        """Count what `empty_bucket` would delete, by kind."""
        validate_bucket_name(bucket)
        storage = self.session.storage(bucket)
        objects = versions = markers = 0
        try:
            for entry in storage.list_versions():
                if entry.is_delete_marker:
                    markers += 1
                elif entry.is_latest:
                    objects += 1
                else:
                    versions += 1
        except NotSupported:
            objects = sum(1 for entry in storage.list() if isinstance(entry, ObjectInfo))
        uploads = sum(1 for _ in self._iter_uploads(bucket))
        return ContentSummary(objects, versions, markers, uploads)

    def delete_bucket(self, bucket: str) -> None:
        """Delete an empty bucket. Raises `BucketNotEmpty` when it holds anything
        `empty_bucket` would delete: SeaweedFS deletes a versioned bucket that still has
        noncurrent versions and delete markers (AWS and moto refuse), and a pending multipart
        upload's parts are data too, so this asks before the server decides."""
        validate_bucket_name(bucket)
        held = self._first_content(bucket)
        if held:
            raise BucketNotEmpty(
                f"bucket '{bucket}' is not empty (it holds {held}) — delete them first, or"
                f" use `s3kit rb --force s3://{bucket}` to delete everything in it"
            )
        self.call("delete_bucket", bucket=bucket, Bucket=bucket)

    def _first_content(self, bucket: str) -> str:
        """What kind of thing keeps `bucket` from being empty ('' if nothing): one-key
        listings of versions (or objects, where versions are not supported) and uploads."""
        storage = self.session.storage(bucket)
        try:
            first = next(storage.list_versions(page_size=1), None)
        except NotSupported:
            if next(storage.list(page_size=1), None) is not None:
                return "objects"
        else:
            if first is not None and first.is_latest and not first.is_delete_marker:
                return "objects"
            if first is not None:
                return "object versions or delete markers"
        if next(self._iter_uploads(bucket, page_size=1), None) is not None:
            return "incomplete multipart uploads"
        return ""

    def _iter_uploads(self, bucket: str, *, page_size: int = 1000) -> Iterator[dict[str, Any]]:
        """Every pending multipart upload, as {"Key", "UploadId"} (the one signed listing,
        `service.uploads.pending_uploads`); none where the store lists none (NotImplemented)."""
        try:
            for upload in pending_uploads(self.session, bucket, page_size=page_size):
                yield {"Key": upload.key, "UploadId": upload.upload_id}
        except NotSupported:
            return

    def iter_bucket_contents(self, bucket: str) -> Iterator[dict[str, Any]]:
        """Everything that keeps a bucket from being deleted: object versions, delete markers
        and incomplete multipart uploads, each as {"Key", "VersionId"} or {"Key", "UploadId"}.
        Falls back to plain listing where versions are not supported."""
        storage = self.session.storage(bucket)
        try:
            # "null" is the version id of objects written before versioning was enabled;
            # deleting them without it would only add a delete marker.
            for version in storage.list_versions():
                yield {"Key": version.key, "VersionId": version.version_id}
        except NotSupported:
            for entry in storage.list():
                if isinstance(entry, ObjectInfo):
                    yield {"Key": entry.key}
        yield from self._iter_uploads(bucket)

    def empty_bucket(
        self, bucket: str, *, on_delete: Callable[[dict[str, Any]], None] | None = None
    ) -> int:
        """Delete every version, delete marker and incomplete upload. Returns how many."""
        count = 0
        batch: list[dict[str, Any]] = []

        def flush() -> None:
            if not batch:
                return
            storage = self.session.storage(bucket)
            report = run_sync(
                storage.delete_many_async([(i["Key"], i.get("VersionId")) for i in batch])
            )
            if report.failures:
                first = report.failures[0]
                raise S3KitError(
                    f"could not delete {len(report.failures)} object(s) from s3://{bucket}, e.g."
                    f" {first.key}: {first.code} {first.message}"
                )
            batch.clear()

        for item in self.iter_bucket_contents(bucket):
            if "UploadId" in item:
                self.call(
                    "abort_multipart_upload",
                    bucket=bucket,
                    key=item["Key"],
                    Bucket=bucket,
                    Key=item["Key"],
                    UploadId=item["UploadId"],
                )
            else:
                batch.append(item)
                if len(batch) == 1000:
                    flush()
            count += 1
            if on_delete is not None:
                on_delete(item)
        flush()
        return count

    # -- awaitable twins: the same calls on a worker thread (s3kit._aio.async_twin) ---------
    list_buckets_async = async_twin(list_buckets)
    bucket_region_async = async_twin(bucket_region)
    bucket_exists_async = async_twin(bucket_exists)
    create_bucket_async = async_twin(create_bucket)
    secure_bucket_async = async_twin(secure_bucket)
    bucket_info_async = async_twin(bucket_info)
    get_bucket_tags_async = async_twin(get_bucket_tags)
    set_bucket_tags_async = async_twin(set_bucket_tags)
    add_bucket_tags_async = async_twin(add_bucket_tags)
    remove_bucket_tags_async = async_twin(remove_bucket_tags)
    bucket_contents_summary_async = async_twin(bucket_contents_summary)
    delete_bucket_async = async_twin(delete_bucket)
    iter_bucket_contents_async = async_iter_twin(iter_bucket_contents)
    empty_bucket_async = async_twin(empty_bucket)
