"""What every transfer of one run shares: settings, limits, the journal, the raw HTTP path."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from s3kit._acls import OBJECT_CANNED_ACLS
from s3kit._encryption import Encryption
from s3kit._storage_classes import validate_storage_class
from s3kit.errors import EndpointError, Throttled, UsageError
from s3kit.transfer.bandwidth import BandwidthLimiter
from s3kit.transfer.journal import Journal
from s3kit.transfer.parts import DEFAULT_THRESHOLD, MAX_PART, MIN_PART, GiB, KiB, MiB, TiB

if TYPE_CHECKING:
    from s3kit._session import Session
    from s3kit.storage.s3 import S3Storage
    from s3kit.storage.s3http import S3Http

# Objects below this size are read or written in one piece, in memory.
SMALL_OBJECT = 8 * MiB
ACCELERATE_ENDPOINT = "https://{bucket}.s3-accelerate.amazonaws.com"
# What `cp`, `mv`, `sync` and s3kit.yaml accept; TransferConfig refuses the rest.
MAX_CONCURRENT_FILES = 1024
MAX_CONCURRENT_PARTS = 256
_SIZE_UNITS = (
    ("TiB", TiB), ("TB", 1000**4), ("GiB", GiB), ("GB", 1000**3),
    ("MiB", MiB), ("MB", 1000**2), ("KiB", KiB), ("KB", 1000),
)  # fmt: skip


def size_text(size: int) -> str:
    """`size` as a user would write it for `parse_size`: 1048576 → '1MiB', 1000000 → '1MB',
    1572864 → '1.5MiB', 5242879 → '5242879 bytes' (never rounded: a limit message must not
    show a refused size as the limit itself)."""
    for name, unit in _SIZE_UNITS:
        if size >= unit and size * 100 % unit == 0:
            return f"{size / unit:g}{name}"
    return f"{size} bytes" if size >= 0 else str(size)


@dataclass(frozen=True, slots=True, kw_only=True)
class TransferConfig:
    """How transfers run. Defaults suit a laptop or a small VM talking to one endpoint."""

    multipart_threshold: int = DEFAULT_THRESHOLD
    multipart_chunksize: int = 8 * MiB
    max_concurrent_files: int = 32
    max_concurrent_parts: int = 8
    # Items a plan is read ahead of the copies (rclone's --max-backlog): what a walk has found
    # runs that far ahead of what is copied, a few MiB of records at most.
    max_backlog: int = 10_000
    verify: bool = True
    bandwidth: int | None = None  # bytes per second, all transfers together
    resume: bool = False  # also look for interrupted uploads the journal does not know
    fsync_small: bool = False  # large files are always fsynced before the rename
    journal_dir: Path | None = None
    # S3 Transfer Acceleration: send through the accelerate endpoint ({bucket} is filled in),
    # falling back to the normal endpoint for a bucket where it fails.
    accelerate: bool = False
    accelerate_endpoint: str = ACCELERATE_ENDPOINT

    def __post_init__(self) -> None:
        """Refuse what the CLI refuses, in its words (each field is one of its options), so a
        script cannot start a transfer S3 would reject part-way through."""
        chunk = self.multipart_chunksize
        if chunk < MIN_PART:
            raise UsageError(f"--part-size must be at least 5MiB, not {size_text(chunk)}")
        if chunk > MAX_PART:
            raise UsageError(f"--part-size must be at most 5GiB, not {size_text(chunk)}")
        # A threshold below 5 MiB is allowed and acts as 5 MiB (parts.use_multipart).
        if self.multipart_threshold < 0:
            raise UsageError(
                f"--multipart-threshold must be at least 0, not {self.multipart_threshold}"
            )
        for option, value, most in (
            ("--concurrency", self.max_concurrent_files, MAX_CONCURRENT_FILES),
            ("--part-concurrency", self.max_concurrent_parts, MAX_CONCURRENT_PARTS),
        ):
            if not 1 <= value <= most:
                raise UsageError(f"{option} must be from 1 to {most}, not {value}")
        if self.bandwidth is not None and self.bandwidth <= 0:
            raise UsageError("--bwlimit must be more than 0")
        if self.max_backlog < 1:
            raise UsageError(f"max_backlog must be at least 1, not {self.max_backlog}")


@dataclass(frozen=True, slots=True, kw_only=True)
class WriteOptions:
    """What uploads set on the objects they create."""

    content_type: str | None = None  # None: guessed from the file name
    cache_control: str | None = None
    content_encoding: str | None = None
    storage_class: str | None = None
    metadata: Mapping[str, str] = field(default_factory=dict)
    encryption: Encryption | None = None
    preserve_mtime: bool = True
    acl: str | None = None  # a canned ACL (x-amz-acl); None: the bucket's default

    def __post_init__(self) -> None:
        # Checked here, before any request: a typo would otherwise fail every upload.
        if self.storage_class is not None:
            object.__setattr__(self, "storage_class", validate_storage_class(self.storage_class))
        if self.acl is not None and self.acl not in OBJECT_CANNED_ACLS:
            raise UsageError(
                f"unknown ACL '{self.acl}' — choose one of {', '.join(OBJECT_CANNED_ACLS)}"
            )

    @property
    def read_encryption(self) -> Encryption | None:
        """What reading the objects these options write takes: an SSE-C key (SSE-S3 and KMS
        reads need nothing)."""
        key = self.encryption
        return key if key is not None and key.mode == "sse-c" else None

    def acl_headers(self) -> dict[str, str]:
        """The canned ACL as a request header: for every call that creates an object."""
        return {"x-amz-acl": self.acl} if self.acl else {}


def first_error(exc: BaseException) -> BaseException:
    """The first real error inside a TaskGroup's (possibly nested) ExceptionGroup."""
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return exc


def is_interruption(exc: BaseException) -> bool:
    """Failures that a rerun can get past (resume), as opposed to a refusal by the server."""
    return isinstance(exc, EndpointError | Throttled | asyncio.CancelledError | KeyboardInterrupt)


class TransferContext:
    def __init__(
        self,
        session: Session,
        config: TransferConfig,
        options: WriteOptions,
        read_encryption: Encryption | None = None,
    ) -> None:
        self.session = session
        self.config = config
        self.options = options
        self.read_encryption = read_encryption or options.read_encryption
        self.journal = Journal(config.journal_dir)
        self.limiter = BandwidthLimiter(config.bandwidth) if config.bandwidth else None
        self.part_slots = asyncio.Semaphore(max(1, config.max_concurrent_parts))
        # Buckets whose server answered a ranged GET with 200: whole GETs only, for this run.
        self.unranged_buckets: set[str] = set()
        # Buckets whose server refused S3's full-object checksum on a multipart upload.
        self.no_checksum_buckets: set[str] = set()
        self._http: S3Http | None = None
        self._stream_journal: bool | None = None
        self._storages: dict[tuple[str, Encryption | None], S3Storage] = {}
        self._buffers: list[bytearray] = []

    @property
    def endpoint_id(self) -> str:
        return self.session.endpoint_url or f"aws:{self.session.settings.region}"

    def has_stream_journal(self) -> bool:
        """Whether a stream upload was journalled when this run began (looked at once)."""
        if self._stream_journal is None:
            self._stream_journal = self.journal.has_streams()
        return self._stream_journal

    @property
    def http(self) -> S3Http:
        if self._http is None:
            from s3kit.storage.s3http import S3Http

            # The event loop keeps a connection for each file and part that may be under way at
            # once: kept as few as the threads, a run of small files closed and opened again
            # over half of its connections (1,068 connects for 2,000 8 KiB GETs at 32 files).
            config = self.config
            self._http = S3Http(
                self.session,
                pool_size=config.max_concurrent_parts + 4,
                loop_pool_size=config.max_concurrent_files + config.max_concurrent_parts + 4,
            )
        return self._http

    def writer(self, bucket: str) -> S3Storage:
        return self._storage(bucket, self.options.encryption)

    def reader(self, bucket: str) -> S3Storage:
        return self._storage(bucket, self.read_encryption)

    def _storage(self, bucket: str, encryption: Encryption | None) -> S3Storage:
        storage = self._storages.get((bucket, encryption))
        if storage is None:
            storage = self.session.storage(bucket, encryption=encryption)
            self._storages[(bucket, encryption)] = storage
        return storage

    @contextlib.asynccontextmanager
    async def part_buffer(self, size: int) -> AsyncIterator[bytearray]:
        """A part slot with a buffer of at least `size` bytes, reused from part to part:
        memory for parts stays at max_concurrent_parts buffers, whatever the file sizes
        (fresh 8 MiB allocations per part fragment glibc's heap and grow the RSS)."""
        async with self.part_slots:
            buffer = self._buffers.pop() if self._buffers else bytearray(size)
            if len(buffer) < size:
                buffer = bytearray(size)
            try:
                yield buffer
            finally:
                self._buffers.append(buffer)

    async def throttle(self, amount: int) -> None:
        if self.limiter is not None and amount > 0:
            await self.limiter.acquire(amount)

    def close(self) -> None:
        if self._http is not None:
            with contextlib.suppress(Exception):
                self._http.close()
