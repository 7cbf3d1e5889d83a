"""The site to deploy, read from a local folder: every file with its sha256 and headers."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from s3kit._sync.ignore import DEFAULT_EXCLUDES, IgnoreRules
from s3kit._uri import validate_key
from s3kit.deploy.content_types import SNIFF_BYTES
from s3kit.deploy.manifest import (
    STATE,
)
from s3kit.deploy.plan import SiteFile
from s3kit.deploy.rules import DeployConfig
from s3kit.errors import (
    LocalPathError,
    UsageError,
    translating,
)
from s3kit.storage.local import walk_folder

HEAD_BYTES = SNIFF_BYTES  # what the content-type sniffing of extensionless files looks at


# -- the site ----------------------------------------------------------------------------------


def scan_site(root: Path, config: DeployConfig) -> list[SiteFile]:
    """Every file under `root` the config does not ignore (nor the default excludes: .git/,
    node_modules/, ...), with its sha256 and headers. A local `_s3kit/` is refused: that name
    holds the deploy's own records in the bucket."""
    if not root.is_dir():
        raise LocalPathError(f"{root} is not a folder — deploy takes the folder of the built site")
    excludes = IgnoreRules.parse(DEFAULT_EXCLUDES)
    found: list[tuple[str, int]] = []

    def add(relative: str, stat: os.stat_result) -> None:
        if not excludes.ignores(relative):
            found.append((relative, stat.st_size))

    with translating(path=str(root)):
        complete = walk_folder(
            root, add, prune=lambda relative: excludes.ignores(relative, is_dir=True)
        )
    if not complete:
        raise LocalPathError(f"{root}: a folder could not be read — nothing was deployed")
    files = []
    for relative, _ in sorted(found):
        if relative == STATE.rstrip("/") or relative.startswith(STATE):
            raise UsageError(
                f"{root / relative}: {STATE} is where s3kit keeps the deploy's records in the"
                " bucket — rename that folder of the site"
            )
        validate_key(relative)
        path = root / relative  # once a file: a Path costs more than its read here
        digest, head, size = _digest(path)
        headers = config.headers_for(relative, head, size)
        if headers is not None:
            files.append(SiteFile(relative, digest, size, headers, path=path))
    return files


def _digest(path: Path) -> tuple[str, bytes, int]:
    digest = hashlib.sha256()
    size = 0
    head = b""
    # Unbuffered: each chunk is read once, into the hash, with no buffer between.
    with translating(path=str(path)), path.open("rb", buffering=0) as handle:
        while chunk := handle.read(1024 * 1024):
            if not head:
                head = chunk[:HEAD_BYTES]
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), head, size
