"""Batch operations: one action on every object a prefix, glob or manifest selects.

Walk, decide, act: `select_keys` streams the matching keys (a listing, filtered by the glob,
or the manifest's lines), and a thread pool applies the action to each, at most `concurrency`
at once. Every key gets a result — done, failed (with the server's message) or, under
`dryrun`, planned — and the results can be written to a JSON-lines report. Deletes go in
DeleteObjects requests of up to 1,000 keys.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from fnmatch import fnmatchcase
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast
from urllib.parse import unquote_plus

from s3kit._aio import async_iter_twin, async_twin, run_sync
from s3kit._uri import S3Url, validate_bucket_name, validate_key
from s3kit.errors import S3KitError, UsageError
from s3kit.service.base import ServiceBase
from s3kit.service.objects import server_copy
from s3kit.storage.base import ObjectInfo

if TYPE_CHECKING:
    from s3kit.service import S3Service

Action = Literal["copy", "delete", "tag", "set-metadata", "set-storage-class", "restore"]
ACTIONS: tuple[Action, ...] = (
    "copy",
    "delete",
    "tag",
    "set-metadata",
    "set-storage-class",
    "restore",
)
_WILDCARDS = "*?["


@dataclass(frozen=True, slots=True)
class BatchTarget:
    bucket: str
    key: str
    version_id: str | None = None


@dataclass(frozen=True, slots=True)
class BatchResult:
    bucket: str
    key: str
    action: str
    status: Literal["done", "failed", "planned"]
    error: str = ""
    code: str = ""  # the S3 error code of a failure, where the server gave one


def literal_prefix(glob: str) -> str:
    """The part of `glob` before its first wildcard: what can be listed server-side."""
    for index, char in enumerate(glob):
        if char in _WILDCARDS:
            return glob[:index]
    return glob


def parse_manifest(text: str, *, default_bucket: str | None = None) -> Iterator[BatchTarget]:
    """CSV lines `bucket,key[,version]` (S3 Batch Operations style, key URL-encoded) or JSON
    lines `{"bucket": ..., "key": ..., "version_id": ...}`; blank lines are skipped."""
    stripped = text.lstrip()
    if stripped.startswith("{"):
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                bucket = record.get("bucket") or default_bucket
                key = record["key"]
            except (ValueError, KeyError, TypeError, AttributeError):
                raise UsageError(
                    f"manifest line {number} is not a JSON object with a key"
                ) from None
            if not bucket:
                raise UsageError(f"manifest line {number} names no bucket")
            yield BatchTarget(
                validate_bucket_name(bucket), validate_key(key), record.get("version_id")
            )
        return
    for number, row in enumerate(csv.reader(io.StringIO(text)), 1):
        if not row or not any(cell.strip() for cell in row):
            continue
        if len(row) < 2:
            raise UsageError(f"manifest line {number}: expected bucket,key[,version_id]")
        version = row[2].strip() or None if len(row) > 2 else None
        yield BatchTarget(
            validate_bucket_name(row[0].strip()), validate_key(unquote_plus(row[1])), version
        )


class BatchMixin(ServiceBase):
    def select_keys(
        self,
        bucket: str,
        *,
        prefix: str = "",
        glob: str | None = None,
        manifest: Path | None = None,
    ) -> Iterator[BatchTarget]:
        """The objects a batch acts on, streamed."""
        if manifest is not None:
            try:
                text = manifest.read_text(encoding="utf-8")
            except OSError as exc:
                raise UsageError(f"cannot read manifest {manifest}: {exc.strerror}") from None
            yield from parse_manifest(text, default_bucket=bucket)
            return
        listing_prefix = literal_prefix(glob) if glob else prefix
        for entry in self.session.storage(bucket).list(listing_prefix):
            if isinstance(entry, ObjectInfo) and (glob is None or fnmatchcase(entry.key, glob)):
                yield BatchTarget(bucket, entry.key)

    def batch(
        self,
        action: Action,
        targets: Iterable[BatchTarget],
        *,
        params: Mapping[str, Any] | None = None,
        concurrency: int = 16,
        dryrun: bool = False,
        on_result: Callable[[BatchResult], None] | None = None,
    ) -> list[BatchResult]:
        """Apply `action` to every target. `params`: copy → destination_bucket,
        destination_prefix (replaces `source_prefix`); tag → tags; set-metadata → metadata;
        set-storage-class → storage_class; restore → days, tier."""
        if action not in ACTIONS:
            raise UsageError(f"unknown batch action '{action}' — use one of {', '.join(ACTIONS)}")
        params = dict(params or {})
        _check_params(action, params)
        results: list[BatchResult] = []

        def record(result: BatchResult) -> None:
            results.append(result)
            if on_result is not None:
                on_result(result)

        if dryrun:
            for target in targets:
                record(BatchResult(target.bucket, target.key, action, "planned"))
            return results
        if action == "delete":
            for chunk in _chunks(targets, 1000):
                for result in self._delete_chunk(chunk):
                    record(result)
            return results
        with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
            for chunk in _chunks(targets, max(1, concurrency) * 4):
                for result in pool.map(lambda t: self._apply(action, t, params), chunk):
                    record(result)
        return results

    def _apply(self, action: Action, target: BatchTarget, params: Mapping[str, Any]) -> BatchResult:
        try:
            # Each action is a method of another S3Service mixin; self is the whole service.
            _ACTIONS[action](cast("S3Service", self), target, params)
        except S3KitError as exc:
            return BatchResult(target.bucket, target.key, action, "failed", str(exc), exc.code)
        return BatchResult(target.bucket, target.key, action, "done")

    def _delete_chunk(self, chunk: list[BatchTarget]) -> list[BatchResult]:
        by_bucket: dict[str, list[BatchTarget]] = {}
        for target in chunk:
            by_bucket.setdefault(target.bucket, []).append(target)
        results: list[BatchResult] = []
        for bucket, targets in by_bucket.items():
            storage = self.session.storage(bucket)
            report = run_sync(storage.delete_many_async([(t.key, t.version_id) for t in targets]))
            failed = {(f.key, f.version_id): f for f in report.failures}
            for target in targets:
                failure = failed.get((target.key, target.version_id)) or failed.get(
                    (target.key, None)
                )
                if failure is not None:
                    message = f"{failure.code}: {failure.message}"
                    results.append(
                        BatchResult(bucket, target.key, "delete", "failed", message, failure.code)
                    )
                else:
                    results.append(BatchResult(bucket, target.key, "delete", "done"))
        return results

    # -- awaitable twins: the same calls on a worker thread (s3kit._aio.async_twin) ---------
    select_keys_async = async_iter_twin(select_keys)
    batch_async = async_twin(batch)


def write_report(path: Path, results: Iterable[BatchResult]) -> None:
    with path.open("w", encoding="utf-8") as out:
        for result in results:
            out.write(json.dumps(asdict(result)) + "\n")


def _chunks(items: Iterable[BatchTarget], size: int) -> Iterator[list[BatchTarget]]:
    chunk: list[BatchTarget] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _check_params(action: Action, params: Mapping[str, Any]) -> None:
    needed = {
        "copy": ("destination_bucket",),
        "tag": ("tags",),
        "set-metadata": ("metadata",),
        "set-storage-class": ("storage_class",),
    }.get(action, ())
    missing = [name for name in needed if not params.get(name)]
    if missing:
        raise UsageError(
            f"batch {action} needs {', '.join('--' + m.replace('_', '-') for m in missing)}"
        )
    if action == "restore" and int(params.get("days", 1)) < 1:
        raise UsageError("--days must be at least 1")


def _do_copy(service: S3Service, target: BatchTarget, params: Mapping[str, Any]) -> None:
    source_prefix = str(params.get("source_prefix", ""))
    relative = (
        target.key[len(source_prefix) :] if target.key.startswith(source_prefix) else target.key
    )
    destination = validate_key(str(params.get("destination_prefix", "")) + relative)
    bucket = validate_bucket_name(str(params["destination_bucket"]))
    # The one server-side copy (in parts above 5 GiB, a version when the target names one).
    server_copy(
        service.session,
        S3Url(target.bucket, target.key, target.version_id),
        S3Url(bucket, destination),
    )


def _do_tag(service: S3Service, target: BatchTarget, params: Mapping[str, Any]) -> None:
    service.set_object_tags(
        target.bucket, target.key, dict(params["tags"]), version_id=target.version_id
    )


def _do_set_metadata(service: S3Service, target: BatchTarget, params: Mapping[str, Any]) -> None:
    service.set_object_metadata(target.bucket, target.key, metadata=dict(params["metadata"]))


def _do_set_class(service: S3Service, target: BatchTarget, params: Mapping[str, Any]) -> None:
    service.set_storage_class(target.bucket, target.key, str(params["storage_class"]))


def _do_restore(service: S3Service, target: BatchTarget, params: Mapping[str, Any]) -> None:
    service.restore_object(
        target.bucket,
        target.key,
        days=int(params.get("days", 1)),
        tier=str(params.get("tier", "Standard")),
    )


_ACTIONS: dict[str, Callable[[S3Service, BatchTarget, Mapping[str, Any]], None]] = {
    "copy": _do_copy,
    "tag": _do_tag,
    "set-metadata": _do_set_metadata,
    "set-storage-class": _do_set_class,
    "restore": _do_restore,
}
