"""Parsing of the locations users type: `s3://bucket/key`, local paths and `-`.

Pure functions only — apart from the default bucket the CLI sets for `s3://` and `s3:///key`
from the active connection. Validation of bucket names and keys follows the AWS rules so that a
bad name fails here, with a message, before any request is made.
"""

from __future__ import annotations

import ipaddress
import os
import re
from dataclasses import dataclass
from pathlib import Path

from s3kit.errors import InvalidBucketName, InvalidKey, UsageError

MAX_KEY_BYTES = 1024
_BUCKET_CHARS = re.compile(r"^[a-z0-9][a-z0-9.-]*[a-z0-9]$")
_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")


def validate_bucket_name(name: str) -> str:
    """Return `name` if it follows the S3 general-purpose bucket naming rules, else raise."""
    problem = _bucket_name_problem(name)
    if problem:
        raise InvalidBucketName(
            f"invalid bucket name '{name}': {problem} (names use 3-63 lowercase letters,"
            " digits, dots and hyphens, and start and end with a letter or digit)"
        )
    return name


def _bucket_name_problem(name: str) -> str | None:
    if not 3 <= len(name) <= 63:
        return f"it is {len(name)} character{'' if len(name) == 1 else 's'} long"
    if name != name.lower():
        return "it contains uppercase letters"
    if not _BUCKET_CHARS.match(name):
        return "it contains characters other than a-z, 0-9, '.' and '-' or starts/ends badly"
    if ".." in name:
        return "it contains two adjacent dots"
    if ".-" in name or "-." in name:
        return "it has a dot next to a hyphen"
    try:
        ipaddress.IPv4Address(name)
        return "it is formatted as an IP address"
    except ValueError:
        pass
    for prefix in _RESERVED_PREFIXES:
        if name.startswith(prefix):
            return f"the prefix '{prefix}' is reserved"
    for suffix in _RESERVED_SUFFIXES:
        if name.endswith(suffix):
            return f"the suffix '{suffix}' is reserved"
    return None


def validate_key(key: str) -> str:
    """Return `key` if S3 accepts it as an object key, else raise `InvalidKey`."""
    if not key:
        raise InvalidKey("object key is empty — name the object, e.g. s3://bucket/path/file")
    size = len(key.encode("utf-8", "surrogatepass"))
    if size > MAX_KEY_BYTES:
        raise InvalidKey(f"object key is {size} bytes long; S3 allows at most {MAX_KEY_BYTES}")
    if "\x00" in key:
        raise InvalidKey("object key contains a NUL character")
    return key


@dataclass(frozen=True, slots=True)
class S3Url:
    """`s3://bucket/key`. `key` is '' for the bucket itself and ends with '/' for a prefix."""

    bucket: str
    key: str = ""
    # One version of the object (`object get --version-id`); None: the current one. Reads
    # of the location (GET, HEAD) ask for it; listings and writes ignore it.
    version_id: str | None = None

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.key}" if self.key else f"s3://{self.bucket}"

    @property
    def is_prefix(self) -> bool:
        return self.key == "" or self.key.endswith("/")

    @property
    def folder(self) -> str:
        """The key as a folder, what names go under: '' for the bucket, else ending in '/'."""
        return self.key if self.is_prefix else self.key + "/"

    def join(self, relative: str) -> S3Url:
        """The key `relative` under this location, treated as a folder."""
        return S3Url(self.bucket, self.folder + relative)


@dataclass(frozen=True, slots=True)
class LocalPath:
    """A local path; `as_folder` records a trailing '/' the user typed (Path drops it)."""

    path: Path
    as_folder: bool = False

    def __str__(self) -> str:
        return str(self.path)


@dataclass(frozen=True, slots=True)
class StdStream:
    """`-`: standard input as a source, standard output as a destination."""

    def __str__(self) -> str:
        return "-"


Location = S3Url | LocalPath | StdStream


def is_loopback(host: str) -> bool:
    """Whether `host` (a name or an address, as a URL has it) is this machine's loopback."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_s3_url(text: str) -> bool:
    return text.lower().startswith("s3://")


# `s3:/docs/x` and `s3:docs/x`: an S3 URL short of a slash (`s3:///key` is a URL, see below).
_ALMOST_S3_URL = re.compile(r"(?i)^s3:/?(?=[^/])")


def _typo_hint(text: str) -> str:
    """' — did you mean s3://docs/x?' for an S3 URL typed with one slash or none, else ''."""
    match = _ALMOST_S3_URL.match(text)
    return f" — did you mean s3://{text[match.end() :]}?" if match else ""


def parse_s3_url(text: str, *, default_bucket: str | None = None) -> S3Url:
    """Parse `s3://bucket[/key]`, validating the bucket name. With `default_bucket` (the CLI
    passes a saved connection's), `s3://` and `s3:///key` name that bucket; nothing else ever
    fills it in, so a library call means the same whatever ran before it."""
    if not is_s3_url(text):
        hint = _typo_hint(text) or " — write it as s3://bucket/key"
        raise UsageError(f"'{text}' is not an S3 URL{hint}")
    rest = text[5:]
    bucket, _, key = rest.partition("/")
    if not bucket:
        bucket = default_bucket or ""
    if not bucket:
        raise UsageError(
            f"'{text}' has no bucket name — write it as s3://bucket/key (s3:///key works with"
            " a connection that has a default bucket)"
        )
    validate_bucket_name(bucket)
    if key:
        validate_key(key)
    return S3Url(bucket, key)


def parse_location(text: str, *, default_bucket: str | None = None) -> Location:
    """Parse a command-line location: an S3 URL (`default_bucket` as for `parse_s3_url`), `-`,
    or a local path."""
    if text == "-":
        return StdStream()
    if is_s3_url(text):
        return parse_s3_url(text, default_bucket=default_bucket)
    if "://" in text:
        raise UsageError(f"'{text}': only s3:// URLs and local paths are supported")
    if hint := _typo_hint(text):
        # A local file named like that is still reachable as ./s3:...
        raise UsageError(f"'{text}' is not an S3 URL{hint} (a local path: write ./{text})")
    return LocalPath(Path(text).expanduser(), as_folder=text.endswith(("/", os.sep)))
