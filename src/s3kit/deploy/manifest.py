"""What a deploy recorded: every file's sha256 and header fingerprint, the redirects, the files
waiting to be deleted. Stored in the bucket beside the site, under `_s3kit/`:

    <prefix>_s3kit/current.json        the live deploy's manifest, whole (one GET per deploy
                                       replaces a HEAD per file; works on any store, since
                                       nothing relies on an ETag being an MD5)
    <prefix>_s3kit/deploys/<id>.json   every deploy's manifest, for `deploy history`/`rollback`
    <prefix>_s3kit/blobs/<sha>-<fp>    a server-side copy of each file as deployed (content and
                                       headers), which `rollback` copies back (and `.br` after
                                       it: the copy of the file's brotli sibling)
    <prefix>_s3kit/lock                held while a deploy writes (created with If-None-Match)

A file's brotli sibling (`KEY.br`, see `rules.py`) is part of its record (`brotli_size`), not a
file of its own: it is written, kept, rolled back and deleted with its file.

History is bounded (`DeployConfig.keep`): a manifest names the deploys the history keeps
(`history`, oldest first, itself last); one pushed out is `retired` with the time it left, and
the first deploy after the grace period deletes its record and the blobs no kept deploy uses.
Which blobs those are needs no reading of old manifests: `older_blobs` names every blob an
earlier deploy kept that this one does not use, with the newest deploy that uses it. A manifest
written before these fields existed has none of them (None): the deploy after it reads the
history once to start them.

A deploy id sorts by time: `20261201T181052.123456Z-1a2b3c`. Pure: documents in, records out; a
document that is not a manifest is an error naming its key, never a silent empty deploy.
"""

from __future__ import annotations

import json
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
SIBLING = ".br"  # a brotli sibling's name: its file's, and this


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


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
    # The brotli sibling KEY.br, when there is one: its size, and its version as above.
    brotli_size: int | None = None
    brotli_version_id: str | None = None

    @property
    def blob(self) -> str:
        """The name of the copy `rollback` restores this file from (content and headers)."""
        return f"{BLOBS}{self.sha256}-{self.headers}"

    @property
    def sibling_blob(self) -> str:
        return self.blob + SIBLING

    def blobs(self) -> tuple[str, ...]:
        """The copies this deploy kept of the file (none on a versioned bucket)."""
        if self.version_id is not None:
            return ()
        return (self.blob, self.sibling_blob) if self.brotli_size is not None else (self.blob,)

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
        } | (
            {"brotli_size": self.brotli_size, "brotli_version_id": self.brotli_version_id}
            if self.brotli_size is not None
            else {}
        )


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
    # The bounded history (see the module docstring); None in a manifest from before it.
    history: list[str] | None = None
    retired: dict[str, str] = field(default_factory=dict)  # deploy id → when it left
    older_blobs: dict[str, str] | None = None  # blob → the newest deploy using it

    def referenced(self) -> dict[str, str]:
        """Every blob a kept or retired deploy uses → the newest deploy that uses it."""
        used = dict(self.older_blobs or {})
        used.update((blob, self.id) for r in self.files.values() for blob in r.blobs())
        return used

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
        } | (
            {
                "history": list(self.history),
                "retired": dict(sorted(self.retired.items())),
                "older_blobs": dict(sorted((self.older_blobs or {}).items())),
            }
            if self.history is not None
            else {}
        )

    def encoded(self) -> bytes:
        """`document()` as stored: JSON, keys sorted, one line a file (or a blob, a redirect),
        so two deploys' manifests diff line by line. Written line by line with the C encoder:
        `json.dumps(indent=...)` runs Python's own, some 50 ms for a manifest of 2,000 files."""
        document = self.document()
        fields = []
        for name in sorted(document):
            value = document[name]
            if isinstance(value, dict) and value:
                rows = ",\n".join(
                    f"  {json.dumps(key)}: {json.dumps(entry, sort_keys=True)}"
                    for key, entry in sorted(value.items())
                )
                fields.append(f" {json.dumps(name)}: {{\n{rows}\n }}")
            else:
                fields.append(f" {json.dumps(name)}: {json.dumps(value, sort_keys=True)}")
        return ("{\n" + ",\n".join(fields) + "\n}\n").encode()

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
                    version_id=_text(value.get("version_id")),
                    brotli_size=None
                    if value.get("brotli_size") is None
                    else int(value["brotli_size"]),
                    brotli_version_id=_text(value.get("brotli_version_id")),
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
                history=None
                if document.get("history") is None
                else [str(name) for name in list(document["history"])],
                retired={str(k): str(v) for k, v in dict(document.get("retired") or {}).items()},
                older_blobs=None
                if document.get("older_blobs") is None
                else {str(k): str(v) for k, v in dict(document["older_blobs"]).items()},
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise S3KitError(
                f"{where} is not a deploy manifest s3kit can read ({exc}) — it was changed by"
                " hand or by another tool; move it away to start the deploy history afresh"
            ) from exc
