"""What a deploy recorded: every file's sha256 and header fingerprint, the redirects, the files
waiting to be deleted. Stored in the bucket beside the site, under `_s3kit/`:

    <prefix>_s3kit/current.json        the live deploy's manifest, whole (one GET per deploy
                                       replaces a HEAD per file; works on any store, since
                                       nothing relies on an ETag being an MD5)
    <prefix>_s3kit/deploys/<id>.json   every deploy's manifest, for `deploy history`/`rollback`
    <prefix>_s3kit/blobs/<sha>-<fp>    a server-side copy of each file as deployed (content and
                                       headers), which `rollback` copies back
    <prefix>_s3kit/lock                held while a deploy writes (created with If-None-Match)

A deploy id sorts by time: `20261201T181052.123456Z-1a2b3c`. Pure: documents in, records out; a
document that is not a manifest is an error naming its key, never a silent empty deploy.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from s3kit.errors import S3KitError

FORMAT = 1
STATE = "_s3kit/"
CURRENT = STATE + "current.json"
DEPLOYS = STATE + "deploys/"
BLOBS = STATE + "blobs/"
LOCK = STATE + "lock"


def new_deploy_id(now: datetime) -> str:
    return f"{now.astimezone(UTC):%Y%m%dT%H%M%S.%fZ}-{secrets.token_hex(3)}"


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def parse_iso(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@dataclass(frozen=True, slots=True)
class FileRecord:
    """One file as deployed: its content (`sha256`, local `size`), its headers (`headers` is
    their fingerprint; the three fields it covers follow) and the bytes stored (gzip'd or not)."""

    sha256: str
    size: int
    headers: str
    content_type: str
    cache_control: str
    gzip: bool
    stored_size: int
    # The object's version on a versioned bucket: what `rollback` copies back. None: the
    # bucket keeps no versions, and the deploy kept a copy under `blob` instead.
    version_id: str | None = None

    @property
    def blob(self) -> str:
        """The name of the copy `rollback` restores this file from (content and headers)."""
        return f"{BLOBS}{self.sha256}-{self.headers}"

    def same_as(self, other: FileRecord | None) -> bool:
        return other is not None and (self.sha256, self.headers) == (other.sha256, other.headers)

    def document(self) -> dict[str, Any]:
        return {
            "sha256": self.sha256,
            "size": self.size,
            "headers": self.headers,
            "content_type": self.content_type,
            "cache_control": self.cache_control,
            "gzip": self.gzip,
            "stored_size": self.stored_size,
            "version_id": self.version_id,
        }


@dataclass(frozen=True, slots=True)
class Manifest:
    id: str
    created: str  # ISO 8601, UTC
    files: dict[str, FileRecord] = field(default_factory=dict)  # site path → record
    redirects: dict[str, str] = field(default_factory=dict)  # site path → location
    # Site paths an earlier deploy wrote and the site no longer has, with when they left:
    # deleted by the first deploy after the grace period (old pages may still load them).
    stale: dict[str, str] = field(default_factory=dict)
    previous: str | None = None
    source: dict[str, str] = field(default_factory=dict)  # {"path": ..., "commit": ...}
    # Counts, and the id of the CloudFront invalidation the deploy made ("invalidation").
    summary: dict[str, int | str] = field(default_factory=dict)

    def document(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "id": self.id,
            "created": self.created,
            "previous": self.previous,
            "source": dict(self.source),
            "summary": dict(self.summary),
            "files": {key: record.document() for key, record in sorted(self.files.items())},
            "redirects": dict(sorted(self.redirects.items())),
            "stale": dict(sorted(self.stale.items())),
        }

    @classmethod
    def from_document(cls, document: Any, where: str) -> Manifest:
        """The manifest in `document` (parsed JSON) read from `where`; anything else raises."""
        try:
            if not isinstance(document, dict) or document.get("format") != FORMAT:
                raise ValueError(f"not a format-{FORMAT} deploy manifest")
            files = {
                str(key): FileRecord(
                    sha256=str(value["sha256"]),
                    size=int(value["size"]),
                    headers=str(value["headers"]),
                    content_type=str(value["content_type"]),
                    cache_control=str(value["cache_control"]),
                    gzip=bool(value["gzip"]),
                    stored_size=int(value["stored_size"]),
                    version_id=None
                    if value.get("version_id") is None
                    else str(value["version_id"]),
                )
                for key, value in dict(document["files"]).items()
            }
            return cls(
                id=str(document["id"]),
                created=str(document["created"]),
                files=files,
                redirects={str(k): str(v) for k, v in dict(document["redirects"]).items()},
                stale={str(k): str(v) for k, v in dict(document["stale"]).items()},
                previous=None if document.get("previous") is None else str(document["previous"]),
                source={str(k): str(v) for k, v in dict(document.get("source") or {}).items()},
                summary={
                    str(k): v if isinstance(v, str) else int(v)
                    for k, v in dict(document.get("summary") or {}).items()
                },
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise S3KitError(
                f"{where} is not a deploy manifest s3kit can read ({exc}) — it was changed by"
                " hand or by another tool; move it away to start the deploy history afresh"
            ) from exc
