"""The memory of a two-way sync: per pair (endpoint, bucket, prefix, local folder), what each
path looked like on both sides after the last successful run, in one sqlite file under the
user's state folder (`bisync/<hash>.sqlite`).

Saving replaces every record in one transaction, so a crash never leaves half a state: the
previous one stays, and the next run redoes what is safe. This module never reads a file or
an object it syncs.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Mapping
from contextlib import closing
from pathlib import Path

from s3kit._sync.bisync import Synced
from s3kit.errors import translate

SCHEMA = """
CREATE TABLE IF NOT EXISTS pair (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS synced (
    path TEXT PRIMARY KEY,
    local_size INTEGER NOT NULL,
    local_mtime_ns INTEGER NOT NULL,
    remote_size INTEGER NOT NULL,
    remote_etag TEXT NOT NULL
);
"""


def state_folder() -> Path:
    import platformdirs

    return Path(platformdirs.user_state_dir("s3kit")) / "bisync"


def pair_id(endpoint: str, bucket: str, prefix: str, local: Path) -> str:
    text = "\0".join((endpoint, bucket, prefix, str(local.absolute())))
    return hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()[:24]


class BisyncState:
    """Load and save the records of one pair; `folder` is injectable for tests."""

    def __init__(
        self, endpoint: str, bucket: str, prefix: str, local: Path, *, folder: Path | None = None
    ) -> None:
        self.pair = {"endpoint": endpoint, "bucket": bucket, "prefix": prefix,
                     "local": str(local.absolute())}  # fmt: skip
        self.path = (
            folder or state_folder()
        ) / f"{pair_id(endpoint, bucket, prefix, local)}.sqlite"

    def _connect(self) -> sqlite3.Connection:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            connection = sqlite3.connect(self.path)
            connection.executescript(SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise translate(OSError(str(exc)), path=str(self.path)) from exc
        return connection

    def exists(self) -> bool:
        """A state was saved once (even an empty one, after syncing two empty sides)."""
        if not self.path.is_file():
            return False
        with closing(self._connect()) as db:
            row = db.execute("SELECT value FROM pair WHERE name = 'saved'").fetchone()
        return row is not None

    def load(self) -> dict[str, Synced]:
        if not self.path.is_file():
            return {}
        with closing(self._connect()) as db:
            rows = db.execute(
                "SELECT path, local_size, local_mtime_ns, remote_size, remote_etag FROM synced"
            ).fetchall()
        return {row[0]: Synced(row[1], row[2], row[3], row[4]) for row in rows}

    def save(self, records: Mapping[str, Synced], *, when: str) -> None:
        with closing(self._connect()) as db, db:
            db.execute("DELETE FROM synced")
            db.executemany(
                "INSERT INTO synced VALUES (?, ?, ?, ?, ?)",
                [(p, r.local_size, r.local_mtime_ns, r.remote_size, r.remote_etag)
                 for p, r in records.items()],
            )  # fmt: skip
            db.executemany(
                "INSERT OR REPLACE INTO pair VALUES (?, ?)",
                [*self.pair.items(), ("saved", when)],
            )


__all__ = ["BisyncState", "pair_id", "state_folder"]
