"""S3Client: a small, blocking facade over one bucket, for scripts and AI agents.

Five verbs and their byte twins, and whole folders; each call blocks, and has an awaitable
twin (`upload_file_async`, ...) for code already in an event loop. Every failure is an
`S3KitError` with a message that says what to do. With `ensure_bucket=True` (the default) the
bucket is created the first time an operation finds it missing.

A folder call goes on past a file that fails and returns what became of each one
(`S3FileResult`); it raises only when nothing could start (no such folder, no such bucket).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

from s3kit._aio import async_twin, iter_sync
from s3kit._session import Session
from s3kit._uri import LocalPath, Location, S3Url, validate_key
from s3kit.errors import (
    BucketAlreadyExists,
    BucketNotFound,
    LocalPathError,
    ObjectNotFound,
    S3KitError,
)
from s3kit.storage.base import ObjectInfo
from s3kit.storage.s3 import S3Storage
from s3kit.transfer import ItemResult, TransferManager, TransferSummary
from s3kit.transfer.paths import base_name, single_destination

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class S3FileInfo:
    key: str
    size: int
    last_modified: datetime
    etag: str | None
    storage_class: str | None


@dataclass(frozen=True, slots=True)
class S3FileResult:
    """What became of one file of `upload_folder` / `download_folder`: `error` is None when it
    was copied. A problem with no single file (a folder that could not be read) has the folder
    as `path` and the prefix as `key`."""

    key: str
    path: str
    size: int  # bytes copied
    error: S3KitError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


class S3Client:
    """One bucket, simple calls. Extra keyword arguments configure the `Session`.

    >>> client = S3Client(bucket="reports")            # doctest: +SKIP
    >>> client.upload_file("summary.pdf")              # doctest: +SKIP
    'summary.pdf'
    """

    def __init__(
        self,
        bucket: str,
        *,
        ensure_bucket: bool = True,
        session: Session | None = None,
        **session_options: Any,
    ) -> None:
        self.session = session or Session(**session_options)
        self.storage = S3Storage(self.session, bucket)
        self.bucket = self.storage.bucket
        self.ensure_bucket = ensure_bucket
        self._bucket_checked = False

    def _with_bucket(self, operation: Callable[[], T]) -> T:
        """Run `operation`; if the bucket is missing and may be created, create it and retry."""
        try:
            return operation()
        except BucketNotFound:
            if not self.ensure_bucket or self._bucket_checked:
                raise
        self._create_bucket()
        return operation()

    def _create_bucket(self) -> None:
        from s3kit.service import S3Service

        self._bucket_checked = True
        with contextlib.suppress(BucketAlreadyExists):  # created meanwhile by someone else
            S3Service(self.session).create_bucket(self.bucket)

    # -- files -----------------------------------------------------------------------------

    def upload_file(self, local_path: str | os.PathLike[str], key: str | None = None) -> str:
        """Upload a local file; the key defaults to its file name. Returns the key.

        Large files go up in parallel parts, and every upload is verified (see
        `s3kit.transfer`); an interrupted upload of the same file resumes on the next call.
        """
        path = Path(local_path)
        if not path.is_file():
            raise LocalPathError(f"{path}: no such file")
        target = S3Url(self.bucket, validate_key(key or path.name))
        self._with_bucket(lambda: self._transfers().run(LocalPath(path), target))
        return target.key

    def download_file(self, key: str, local_path: str | os.PathLike[str]) -> str:
        """Download `key` to `local_path`; a path ending in '/' or an existing folder means
        into that folder, under the key's file name, as `s3kit cp` has it. Returns the path.

        The file appears whole or not at all: the bytes go to a temporary file that is checked
        against the object's checksum and renamed into place once complete.
        """
        text = os.fspath(local_path)
        folder = text.endswith(("/", os.sep))  # Path() drops the '/' that says so
        path = Path(text)
        destination = single_destination(
            base_name(validate_key(key)), LocalPath(path, as_folder=folder),
            dest_is_dir=path.is_dir(),
        )  # fmt: skip
        assert isinstance(destination, LocalPath)
        self._transfers().run(S3Url(self.bucket, key), destination)
        return str(destination.path)

    def upload_folder(
        self, local_dir: str | os.PathLike[str], prefix: str = ""
    ) -> list[S3FileResult]:
        """Upload every file under `local_dir` to `prefix` (a folder: 'site' means 'site/';
        '' the bucket's top), each under its path relative to `local_dir`, as
        `s3kit cp -r local_dir s3://bucket/prefix` does. Returns each file's result in the
        order they finished; raises LocalPathError if `local_dir` is not a folder."""
        target = S3Url(self.bucket, prefix)

        def upload() -> TransferSummary:
            summary = self._transfers().upload_folder(local_dir, target)
            failures = [error for _, error in summary.failures]
            if (
                not summary.files
                and failures
                and all(isinstance(e, BucketNotFound) for e in failures)
            ):
                raise failures[0]  # nothing went up: `_with_bucket` may create it and retry
            return summary

        return [_file_result(result) for result in self._with_bucket(upload).results]

    def download_folder(self, prefix: str, local_dir: str | os.PathLike[str]) -> list[S3FileResult]:
        """Download every object under `prefix` ('site' means 'site/'; '' the whole bucket)
        into `local_dir`, created if need be, each under its key relative to the prefix, as
        `s3kit cp -r s3://bucket/prefix local_dir` does: a key no local file may have is a
        failed result, never a file written elsewhere. Returns each file's result in the order
        they finished. A missing bucket downloads nothing with `ensure_bucket=True` (as
        `list_files` lists it empty) and raises BucketNotFound otherwise."""
        try:
            summary = self._transfers().download_folder(S3Url(self.bucket, prefix), local_dir)
        except BucketNotFound:
            if self.ensure_bucket:
                return []
            raise
        return [_file_result(result) for result in summary.results]

    def _transfers(self) -> TransferManager:
        return TransferManager(self.session)

    def upload_bytes(self, data: bytes, key: str, *, content_type: str | None = None) -> str:
        self._with_bucket(lambda: self.storage.put(key, data, content_type=content_type))
        return key

    def download_bytes(self, key: str) -> bytes:
        return self.storage.get(key)

    def list_files(self, prefix: str = "") -> list[S3FileInfo]:
        """Every object under `prefix` (recursively), in key order.

        A read never creates the bucket: with `ensure_bucket=True` a missing bucket lists as
        empty (it appears on the first upload); with `ensure_bucket=False` it raises.
        """
        try:
            return [_file_info(entry) for entry in _iter_objects(self.storage, prefix)]
        except BucketNotFound:
            if self.ensure_bucket:
                return []
            raise

    def file_exists(self, key: str) -> bool:
        try:
            return self.storage.exists(key)
        except BucketNotFound:
            return False

    def delete_file(self, key: str) -> bool:
        """Delete `key`. Returns False if there was nothing to delete."""
        try:
            if not self.storage.exists(key):
                return False
            self.storage.delete(key)
        except (BucketNotFound, ObjectNotFound):
            return False
        return True

    # -- awaitable twins: the same calls on a worker thread (s3kit._aio.async_twin) ---------
    upload_file_async = async_twin(upload_file)
    download_file_async = async_twin(download_file)
    upload_folder_async = async_twin(upload_folder)
    download_folder_async = async_twin(download_folder)
    upload_bytes_async = async_twin(upload_bytes)
    download_bytes_async = async_twin(download_bytes)
    list_files_async = async_twin(list_files)
    file_exists_async = async_twin(file_exists)
    delete_file_async = async_twin(delete_file)


def _file_result(result: ItemResult) -> S3FileResult:
    item = result.item
    remote, local = _sides(item.source, item.destination)
    return S3FileResult(
        key=remote.key if isinstance(remote, S3Url) else "",
        path=str(local),
        size=result.bytes if result.ok else 0,
        error=result.error,
    )


def _sides(source: Location, destination: Location) -> tuple[Location, Location]:
    """(the S3 side, the local side) of an upload or a download."""
    return (destination, source) if isinstance(destination, S3Url) else (source, destination)


def _iter_objects(storage: S3Storage, prefix: str) -> list[ObjectInfo]:
    return [
        entry for entry in iter_sync(storage.list_async(prefix)) if isinstance(entry, ObjectInfo)
    ]


def _file_info(info: ObjectInfo) -> S3FileInfo:
    return S3FileInfo(
        key=info.key,
        size=info.size,
        last_modified=info.last_modified,
        etag=info.etag,
        storage_class=info.storage_class,
    )
