"""Helpers shared by the transfer tests (library and CLI): test data, small part sizes, and what
a transfer may leave behind — pending multipart uploads, journal entries, temporary files."""

from __future__ import annotations

import asyncio
import os
import random
from pathlib import Path

from s3kit._session import Session
from s3kit.storage.s3http import S3Http
from s3kit.transfer import TransferConfig
from s3kit.transfer.multipart import Multipart

MiB = 1024 * 1024
PART = 5 * MiB  # S3's smallest part: the multipart paths run with files of a few parts
BIG = 12 * MiB + 4321  # three parts: 5 MiB, 5 MiB, 2 MiB and a bit
OLD_MTIME = 1_600_000_000.25


def payload(size: int, seed: int = 7) -> bytes:
    return random.Random(seed).randbytes(size)


def write_file(path: Path, data: bytes, mtime: float | None = OLD_MTIME) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


def small_parts(journal_dir: Path, **changes: object) -> TransferConfig:
    """Multipart from 5 MiB in 5 MiB parts, one part at a time, the journal in `journal_dir`."""
    settings: dict[str, object] = {
        "multipart_threshold": PART,
        "multipart_chunksize": PART,
        "max_concurrent_parts": 1,
        "journal_dir": journal_dir,
    }
    settings.update(changes)
    return TransferConfig(**settings)  # type: ignore[arg-type]


def pending(session: Session, bucket: str, prefix: str = "") -> list[str]:
    """Upload ids of the incomplete multipart uploads under `prefix`."""
    http = S3Http(session)
    try:
        uploads = asyncio.run(Multipart(http, bucket).pending(prefix))
    finally:
        http.close()
    return [u.upload_id for u in uploads if u.key.startswith(prefix)]


def journal_files(folder: Path) -> list[Path]:
    return sorted(folder.iterdir()) if folder.is_dir() else []


def leftovers(folder: Path) -> list[str]:
    """Temporary files a download may have left next to its destination."""
    return sorted(p.name for p in folder.iterdir() if ".s3kit-" in p.name)
