"""The resume journal: what an interrupted transfer had finished, so a rerun sends only the rest.

One small JSON file per transfer in the user state folder, named by a hash of (endpoint,
bucket, key, local path, direction). It is written atomically as parts finish (an upload's or a
ranged download's at most once a second, and at once when it is interrupted:
`JournalPace`) and deleted when the transfer completes. It records only what a rerun
must check — never credentials or keys — and a rerun trusts nothing in it blindly: an upload's
parts are matched against the server's ListParts ETags, a download's against the object's ETag
and the size of its temporary file.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

from s3kit._atomic import write_file
from s3kit._observe import logger


def default_journal_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_state_dir("s3kit")) / "journal"


@dataclass(slots=True)
class JournalPart:
    etag: str
    md5: str
    crc: int
    size: int


@dataclass(slots=True)
class JournalEntry:
    kind: Literal["upload", "download", "stream"]  # stream: an upload from standard input
    endpoint: str
    bucket: str
    key: str
    local_path: str  # resolved, so the same file is one entry from whatever folder
    size: int
    mtime_ns: int  # of the local source (uploads), 0 for downloads
    part_size: int
    upload_id: str = ""  # uploads
    object_etag: str = ""  # downloads: the version being fetched
    # Downloads: absolute (a relative one named another file when rerun from another folder);
    # compared resolved.
    temp_path: str = ""
    parts: dict[int, JournalPart] = field(default_factory=dict)
    # Uploads: created asking for S3's full-object CRC64NVME, so every part carries its CRC.
    checksum: bool = False


class Journal:
    """Load, save and drop journal entries in one folder."""

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory or default_journal_dir()

    def _path(self, kind: str, endpoint: str, bucket: str, key: str, local_path: str) -> Path:
        ident = "\0".join([kind, endpoint, bucket, key, local_path]).encode("utf-8", "replace")
        return self.directory / f"{kind}-{hashlib.sha256(ident).hexdigest()[:32]}.json"

    def path_for(self, entry: JournalEntry) -> Path:
        return self._path(entry.kind, entry.endpoint, entry.bucket, entry.key, entry.local_path)

    def load(
        self, kind: str, endpoint: str, bucket: str, key: str, local_path: str
    ) -> JournalEntry | None:
        path = self._path(kind, endpoint, bucket, key, local_path)
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            parts = {int(n): JournalPart(**p) for n, p in raw.pop("parts", {}).items()}
            return JournalEntry(**raw, parts=parts)
        except FileNotFoundError:
            return None
        except (OSError, ValueError, TypeError) as exc:
            logger.warning("ignoring unreadable resume journal %s: %s", path, exc)
            with contextlib.suppress(OSError):
                path.unlink()
            return None

    def save(self, entry: JournalEntry) -> None:
        path = self.path_for(entry)
        try:
            self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            data = asdict(entry)
            data["parts"] = {str(n): p for n, p in data["parts"].items()}
            # Not fsynced: it is rewritten after every part, and an fsync each would slow
            # every transfer for the sake of a resume.
            write_file(path, json.dumps(data).encode("utf-8"), fsync=False)
        except OSError as exc:  # resuming is a convenience: never fail a transfer over it
            logger.warning("cannot write resume journal %s: %s", path, exc)

    def has_streams(self) -> bool:
        """Whether any stream upload is journalled: one look at the folder, so that the check
        every upload makes for a stream left behind costs nothing when there is none."""
        try:
            return any(self.directory.glob("stream-*.json"))
        except OSError:
            return False

    def drop(self, entry: JournalEntry) -> None:
        with contextlib.suppress(OSError):
            self.path_for(entry).unlink()


JOURNAL_EVERY = 1.0  # seconds between journal writes as a transfer's parts finish


class JournalPace:
    """Writes a transfer's journal as its parts finish, at most once every `every` seconds
    (`JOURNAL_EVERY`); `flush` writes what is left unwritten (on an interruption), `forget`
    drops it (the transfer failed, its journal dropped). Uploads and ranged downloads."""

    def __init__(
        self,
        journal: Journal,
        *,
        every: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.journal = journal
        self.every = JOURNAL_EVERY if every is None else every
        self._clock = clock
        self._last = clock()  # the entry was written as the upload was created
        self._unwritten: JournalEntry | None = None

    def part_done(self, entry: JournalEntry) -> None:
        now = self._clock()
        if now - self._last >= self.every:
            self.journal.save(entry)
            self._last, self._unwritten = now, None
        else:
            self._unwritten = entry

    def flush(self) -> None:
        if self._unwritten is not None:
            self.journal.save(self._unwritten)
            self._last, self._unwritten = self._clock(), None

    def forget(self) -> None:
        self._unwritten = None
