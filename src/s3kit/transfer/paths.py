"""Where each source goes: the pure rules that map `cp`/`mv` arguments to destinations.

They follow `aws s3 cp`: a destination ending in '/' (or an existing folder) receives the
source's file name; with --recursive every key or file keeps its path relative to the source.
A local destination inside a folder goes through `storage.local.local_target`, the one mapping
of keys to local paths: a key no file can have, or a path through a symlink that leads out of
the folder, raises there (and the copy reports the item as skipped).
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from s3kit._uri import LocalPath, Location, S3Url, StdStream
from s3kit.errors import UsageError
from s3kit.storage.local import local_target


def base_name(key: str) -> str:
    """The last segment of a key or path ('a/b/c.txt' → 'c.txt')."""
    return PurePosixPath(key).name if key else ""


def single_destination(source_name: str, destination: Location, *, dest_is_dir: bool) -> Location:
    """The destination of one object or file named `source_name`: into a local folder when
    the destination ends in '/' (`as_folder`) or is one (`dest_is_dir`)."""
    if isinstance(destination, S3Url):
        return destination.join(source_name) if destination.is_prefix else destination
    if isinstance(destination, LocalPath):
        if destination.as_folder or dest_is_dir:
            return LocalPath(local_target(destination.path, source_name))
        return destination
    return destination


def recursive_destination(relative: str, destination: Location) -> Location:
    """Where the entry at `relative` (a '/'-separated path under the source) goes; under a
    local folder, `local_target` refuses what may not be written there."""
    if isinstance(destination, S3Url):
        return destination.join(relative)
    if isinstance(destination, LocalPath):
        return LocalPath(local_target(destination.path, relative))
    raise UsageError("--recursive cannot write to standard output")


def folder_prefix(url: S3Url) -> S3Url:
    """`s3://b/site` used as a folder means the prefix `site/`, as in `aws s3 cp --recursive`."""
    return url if url.is_prefix else S3Url(url.bucket, url.key + "/")


def check_pair(source: Location, destination: Location, *, recursive: bool) -> None:
    """Reject the combinations `cp` cannot do, with a message saying what would work."""
    if not isinstance(source, S3Url) and not isinstance(destination, S3Url):
        raise UsageError("one side of cp/mv must be an s3:// URL; use your shell for local copies")
    if recursive and (isinstance(source, StdStream) or isinstance(destination, StdStream)):
        raise UsageError("'-' (standard input/output) cannot be used with --recursive")
    if isinstance(source, StdStream) and isinstance(destination, S3Url) and destination.is_prefix:
        raise UsageError("uploading standard input needs a full key, e.g. s3://bucket/name.txt")
    if isinstance(source, S3Url) and not recursive and source.is_prefix:
        raise UsageError(
            f"{source} is a bucket or prefix — add --recursive to copy everything in it"
        )
    if isinstance(source, LocalPath) and not recursive and Path(source.path).is_dir():
        raise UsageError(f"{source} is a folder — add --recursive to copy everything in it")
