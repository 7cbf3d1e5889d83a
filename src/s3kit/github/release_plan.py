"""The pure half of the release mirror (`release`): where each asset goes, what to do with it,
and the records of what was done.

Keys come from a layout template (`Layout`, "{repo}/{tag}/{name}" by default) under the
destination prefix, beside s3kit's own records (`release.json` per tag, `latest.json` per
repository). `decide_asset` says what to do with an asset from what a HEAD of its key found:
skip it while it is still uploading (state "open"), upload it, call it already mirrored (same
size and SHA-256), a conflict (other bytes), or compare first (one side's SHA-256 is unknown).
`moves_latest` lets latest.json only move forward. Nothing here reaches a server.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Literal

from s3kit._uri import S3Url
from s3kit.errors import S3KitError, UsageError
from s3kit.github.api import ReleaseAsset

if TYPE_CHECKING:
    from s3kit.storage.base import ObjectInfo

DEFAULT_LAYOUT = "{repo}/{tag}/{name}"
PLACEHOLDERS = ("owner", "repo", "tag", "name")
SHA256_METADATA = "sha256"  # the object metadata (x-amz-meta-sha256) a mirrored asset carries
RELEASE_RECORD = "release.json"
LATEST_RECORD = "latest.json"
_HEX64 = re.compile(r"[0-9a-f]{64}")

Step = Literal["skip_open", "upload", "already", "conflict", "compare"]
Outcome = Literal["mirrored", "already", "skipped_open", "failed", "planned"]


# -- keys ---------------------------------------------------------------------------------


def validate_layout(template: str) -> str:
    """`template` if it is a layout s3kit can fill in: only the placeholders {owner}, {repo},
    {tag} and {name} (no conversions or format specs), {name} among them, and keys that S3 and
    every store address as written (no empty, '.' or '..' segment, no leading '/')."""
    from s3kit.storage.s3 import object_key

    allowed = ", ".join(f"{{{p}}}" for p in PLACEHOLDERS)
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        raise UsageError(
            f"--layout {template!r}: {exc} — placeholders are {allowed}; write a literal brace"
            " as {{ or }}"
        ) from None
    used: set[str] = set()
    for _literal, name, spec, conversion in parsed:
        if name is None:
            continue
        if name not in PLACEHOLDERS:
            shown = f"{{{name}}}" if name else "{}"
            raise UsageError(f"--layout {template!r}: unknown placeholder {shown} — use {allowed}")
        if spec or conversion:
            raise UsageError(
                f"--layout {template!r}: {{{name}}} takes no conversion or format — write"
                f" {{{name}}}"
            )
        used.add(name)
    if "name" not in used:
        raise UsageError(
            f"--layout {template!r} has no {{name}}: every asset of a release would go to the"
            " same key"
        )
    sample = template.format(owner="owner", repo="repo", tag="v1", name="asset.bin")
    try:
        object_key(sample)
    except UsageError as exc:
        raise UsageError(f"--layout {template!r} makes keys like {sample!r}: {exc}") from None
    return template


@dataclass(frozen=True, slots=True)
class Layout:
    """Where an asset goes below the destination prefix; validated when made."""

    template: str = DEFAULT_LAYOUT

    def __post_init__(self) -> None:
        validate_layout(self.template)

    def render(self, *, owner: str, repo: str, tag: str, name: str) -> str:
        return self.template.format(owner=owner, repo=repo, tag=tag, name=name)


def asset_key(destination: S3Url, layout: Layout, *, owner: str, repo: str, tag: str,
              name: str) -> str:  # fmt: skip
    """The key of one asset; InvalidKey when this tag or name makes one no store addresses
    as written (a tag '..', say)."""
    from s3kit.storage.s3 import object_key

    return object_key(
        destination.folder + layout.render(owner=owner, repo=repo, tag=tag, name=name)
    )


def release_record_key(destination: S3Url, repo: str, tag: str) -> str:
    from s3kit.storage.s3 import object_key

    return object_key(f"{destination.folder}{repo}/{tag}/{RELEASE_RECORD}")


def latest_record_key(destination: S3Url, repo: str) -> str:
    from s3kit.storage.s3 import object_key

    return object_key(f"{destination.folder}{repo}/{LATEST_RECORD}")


# -- decisions ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Existing:
    """What is at an asset's key: its size, and the SHA-256 (hex) its metadata records, None
    where it records none (an object another tool wrote, or a store that keeps no metadata)."""

    size: int
    sha256: str | None

    @classmethod
    def from_info(cls, info: ObjectInfo) -> Existing:
        recorded = (info.metadata.get(SHA256_METADATA) or "").strip().lower()
        return cls(info.size, recorded if _HEX64.fullmatch(recorded) else None)


def decide_asset(asset: ReleaseAsset, existing: Existing | None) -> Step:
    """What to do with `asset` given what is at its key (None: nothing)."""
    if asset.state != "uploaded":
        return "skip_open"
    if existing is None:
        return "upload"
    if existing.size != asset.size:
        return "conflict"
    if asset.sha256 is not None and existing.sha256 is not None:
        return "already" if asset.sha256 == existing.sha256 else "conflict"
    return "compare"


def compare_digests(asset_sha256: str, existing_sha256: str) -> Literal["already", "conflict"]:
    """The end of a "compare": both SHA-256s known at last."""
    return "already" if asset_sha256.lower() == existing_sha256.lower() else "conflict"


@dataclass(frozen=True, slots=True)
class LatestPointer:
    """What latest.json says, or would say: a release, and where it sorts in time."""

    tag: str
    published_at: str  # ISO 8601, "" when unknown
    release_id: int

    def order(self) -> tuple[str, int]:
        """Newer sorts later: by publication time, then by id (GitHub's ids only grow)."""
        return (self.published_at, self.release_id)


def moves_latest(current: LatestPointer | None, candidate: LatestPointer) -> bool:
    """Whether latest.json should name `candidate`: it only moves forward."""
    if current is None:
        return True
    return candidate.order() > current.order()


# -- results ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class AssetResult:
    """How one asset ended. `note` says why it was skipped or what a dry run would do."""

    tag: str
    name: str
    url: str  # the asset's download page on GitHub (no secrets)
    key: str | None  # None: no key could be made
    size: int
    sha256: str | None
    outcome: Outcome
    error: S3KitError | None = None
    conflict: bool = False
    note: str = ""

    @property
    def ok(self) -> bool:
        return self.outcome != "failed"


@dataclass(slots=True, kw_only=True)
class ReleaseResult:
    tag: str
    name: str | None
    release_id: int
    published_at: datetime | None
    prerelease: bool
    assets: list[AssetResult] = field(default_factory=list)
    record_key: str | None = None  # release.json, once written (under dryrun: where it would be)

    @property
    def ok(self) -> bool:
        return all(asset.ok for asset in self.assets)

    @property
    def complete(self) -> bool:
        """Every asset is in the bucket, or would be after a dry run (none failed, none
        skipped while uploading)."""
        return all(asset.outcome in ("mirrored", "already", "planned") for asset in self.assets)

    def pointer(self) -> LatestPointer:
        when = self.published_at.isoformat() if self.published_at else ""
        return LatestPointer(self.tag, when, self.release_id)


@dataclass(slots=True, kw_only=True)
class MirrorResult:
    repository: str
    destination: S3Url
    dryrun: bool
    releases: list[ReleaseResult] = field(default_factory=list)
    skipped_drafts: list[str] = field(default_factory=list)
    latest_key: str | None = None  # latest.json, when this run wrote it (or would)
    latest_tag: str | None = None
    latest_note: str = ""  # why latest.json was left as it was
    latest_error: S3KitError | None = None

    @property
    def assets(self) -> list[AssetResult]:
        return [asset for release in self.releases for asset in release.assets]

    def count(self, outcome: Outcome) -> int:
        return sum(1 for asset in self.assets if asset.outcome == outcome)

    @property
    def ok(self) -> bool:
        return all(release.ok for release in self.releases) and self.latest_error is None


def latest_candidate(releases: Iterable[ReleaseResult]) -> ReleaseResult | None:
    """The newest release of a run that latest.json may name: a full release (not a
    prerelease; drafts are never mirrored) whose every asset is in the bucket and whose
    release.json was written; None when there is none."""
    full = [r for r in releases if not r.prerelease and r.complete and r.record_key is not None]
    return max(full, key=lambda r: r.pointer().order()) if full else None


__all__ = [
    "DEFAULT_LAYOUT",
    "LATEST_RECORD",
    "PLACEHOLDERS",
    "RELEASE_RECORD",
    "SHA256_METADATA",
    "AssetResult",
    "Existing",
    "LatestPointer",
    "Layout",
    "MirrorResult",
    "Outcome",
    "ReleaseResult",
    "Step",
    "asset_key",
    "compare_digests",
    "decide_asset",
    "latest_candidate",
    "latest_record_key",
    "moves_latest",
    "release_record_key",
    "validate_layout",
]
