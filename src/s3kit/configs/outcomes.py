"""What the configuration store's operations return, and the two decisions they make that
need no store: whether a release may be promoted, and what differs between two bundles. Pure.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from s3kit.configs.bundle import ReportLike, finding_document, text_of
from s3kit.configs.layout import Action, Head, Release, parse_iso
from s3kit.configs.secrets import SecretFinding, masked_diff

# -- outcomes ---------------------------------------------------------------------------------


@dataclass(slots=True)
class PushOutcome:
    """What a push did: `status` "pushed" (a new release is live) or "unchanged" (the
    environment already served these files; `release` is the live one)."""

    tool: str
    env: str
    status: Literal["pushed", "unchanged"]
    release: Release
    previous: int | None  # the release served before
    report: ReportLike | None = None  # None: pushed with validate=False
    secrets: list[SecretFinding] = field(default_factory=list)
    uploaded: int = 0  # blobs sent
    warnings: list[str] = field(default_factory=list)

    def document(self) -> dict[str, Any]:
        return {
            "tool": self.tool,
            "env": self.env,
            "status": self.status,
            "release": self.release.number,
            "previous": self.previous,
            "digest": self.release.digest,
            "files": len(self.release.files),
            "bytes": self.release.size,
            "uploaded": self.uploaded,
            "validator": self.report.validator if self.report is not None else None,
            "findings": [finding_document(f) for f in self.report.findings]
            if self.report is not None
            else [],
            "secrets": [{"file": s.file, "line": s.line, "key": s.key} for s in self.secrets],
            "warnings": list(self.warnings),
        }


@dataclass(slots=True)
class MoveOutcome:
    """A rollback, promotion or restore of one tool: "moved" (the pointer now names
    `release`), "unchanged" (it already served those files) or "planned" (a dry run that
    would move it to a new release of `release`'s files)."""

    tool: str
    env: str
    action: Action
    status: Literal["moved", "unchanged", "planned"]
    release: Release
    previous: int | None
    warnings: list[str] = field(default_factory=list)

    def document(self) -> dict[str, Any]:
        return {
            "tool": self.tool,
            "env": self.env,
            "action": self.action,
            "status": self.status,
            "release": self.release.number,
            "previous": self.previous,
            "digest": self.release.digest,
            "origin": dict(self.release.origin),
            "warnings": list(self.warnings),
        }


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    release: Release
    live: bool  # the environment serves it now
    served: bool  # the pointer named it at some time (a push that lost its swap never was)

    def document(self) -> dict[str, Any]:
        r = self.release
        return {
            "release": r.number,
            "created": r.created,
            "author": r.author,
            "message": r.message,
            "digest": r.digest,
            "files": len(r.files),
            "bytes": r.size,
            "parent": r.parent,
            "validator": r.validation.validator if r.validation else None,
            "git": dict(r.git) if r.git is not None else None,
            "origin": dict(r.origin),
            "live": self.live,
            "served": self.served,
        }


@dataclass(frozen=True, slots=True)
class FileDiff:
    path: str
    status: Literal["added", "removed", "changed"]
    text: str  # the unified diff, secrets masked ("Binary files ... differ" for bytes)


@dataclass(frozen=True, slots=True)
class BundleDiff:
    left: str  # what is compared: "prod@4", "(nothing)", a folder
    right: str
    files: tuple[FileDiff, ...]

    @property
    def same(self) -> bool:
        return not self.files


# -- decisions ---------------------------------------------------------------------------------


def promotion_refusal(
    chosen: Release,
    source_head: Head | None,
    *,
    protected: bool,
    now: datetime,
    min_age: timedelta,
    target: str,
) -> str | None:
    """Why `chosen` may not be promoted to `target` (None: it may). Pure. A protected target
    takes only files the source serves now; `min_age` counts from the move that made the
    source serve them."""
    serving = source_head is not None and source_head.move.digest == chosen.digest
    if protected and not serving:
        live = f"{chosen.env}@{source_head.release}" if source_head else "nothing"
        return (
            f"{target} is protected: it takes only what {chosen.env} serves, and {chosen.ref}"
            f" is not live there (it serves {live}) — promote the live release, or push"
            f" {chosen.ref}'s files to {chosen.env} first"
        )
    if min_age > timedelta(0):
        if not serving or source_head is None:
            return (
                f"{chosen.ref} is not live in {chosen.env}, so it has not been live for"
                f" {_duration(min_age)}"
            )
        since = parse_iso(source_head.move.when)
        if now - since < min_age:
            return (
                f"{chosen.ref} has been live in {chosen.env} for {_duration(now - since)},"
                f" less than the {_duration(min_age)} asked — promote it later"
            )
    return None


def diff_files(
    before: Mapping[str, bytes], after: Mapping[str, bytes], before_name: str, after_name: str
) -> tuple[FileDiff, ...]:
    """A FileDiff for each path whose bytes differ, in path order. Pure."""
    diffs = []
    for path in sorted(set(before) | set(after)):
        old, new = before.get(path), after.get(path)
        if old == new:
            continue
        status: Literal["added", "removed", "changed"] = (
            "added" if old is None else "removed" if new is None else "changed"
        )
        a, b = f"{before_name}/{path}", f"{after_name}/{path}"
        old_text = None if old is None else text_of(old)
        new_text = None if new is None else text_of(new)
        if (old is not None and old_text is None) or (new is not None and new_text is None):
            text = f"Binary files {a if old is not None else '/dev/null'} and" \
                   f" {b if new is not None else '/dev/null'} differ\n"  # fmt: skip
        else:
            text = masked_diff(old_text, new_text, a, b)
        diffs.append(FileDiff(path, status, text))
    return tuple(diffs)


def _duration(span: timedelta) -> str:
    seconds = int(span.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            whole, rest = divmod(seconds, size)
            return f"{whole}{unit}" + (_duration(timedelta(seconds=rest)) if rest else "")
    return f"{seconds}s"


__all__ = [
    "BundleDiff",
    "FileDiff",
    "HistoryEntry",
    "MoveOutcome",
    "PushOutcome",
    "diff_files",
    "promotion_refusal",
]
