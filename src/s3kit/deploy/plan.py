"""The deploy decision, pure: the site's files and the live manifest in, a phased plan out.

What changed is told by content and headers (sha256 and the header fingerprint the manifest
recorded), not by size and time nor by ETags (which are not MD5s on every store, nor for gzip'd
or encrypted objects), so a header-only change is applied and an unchanged file is never sent.
A file the manifest lists but the bucket no longer has (deleted by hand) is sent again.

The order keeps the live site whole while it changes: assets first (nothing references a new
asset yet), then pages and entry files (which now find every asset they name), then redirects.
Files that left the site are not deleted at once: old pages still open in browsers load old
hashed assets (ChunkLoadError otherwise). They are recorded as stale and deleted by the first
deploy after the grace period, or at once with `delete="now"`. Only what an earlier deploy wrote
is ever deleted — never an object s3kit did not put there — and never a protected path.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from s3kit._sync.plan import DeleteRefused
from s3kit.deploy.manifest import FileRecord, Manifest, iso, parse_iso
from s3kit.deploy.rules import DeployConfig, FileHeaders

Phase = Literal["assets", "pages"]
Reason = Literal["new", "changed", "headers", "missing"]
DeleteMode = Literal["deferred", "now"]

# Files a browser or crawler asks for by name, which name other files: written with the pages.
ENTRY_FILES = frozenset(
    {
        "sw.js",
        "service-worker.js",
        "manifest.json",
        "manifest.webmanifest",
        "site.webmanifest",
        "asset-manifest.json",
        "robots.txt",
        "sitemap.xml",
    }
)


class DeployDeleteRefused(DeleteRefused):
    """The deploy would remove more files than `max_delete` allows: nothing was written."""

    exit_code = 3


@dataclass(frozen=True, slots=True)
class SiteFile:
    """One file of the site to deploy: read from `path`, or (a rollback) copied back from
    what an earlier deploy kept of it, `restore`."""

    key: str  # the site path: '/'-separated, relative to the deploy's prefix
    sha256: str
    size: int
    headers: FileHeaders
    path: Path | None = None
    restore: FileRecord | None = None

    def record(self, stored_size: int, version_id: str | None) -> FileRecord:
        return FileRecord(
            sha256=self.sha256,
            size=self.size,
            headers=self.headers.fingerprint(),
            content_type=self.headers.content_type,
            cache_control=self.headers.cache_control,
            gzip=self.headers.gzip,
            stored_size=stored_size,
            version_id=version_id,
        )


@dataclass(frozen=True, slots=True)
class Upload:
    file: SiteFile
    phase: Phase
    reason: Reason


@dataclass(slots=True)
class DeployPlan:
    uploads: list[Upload] = field(default_factory=list)  # assets first, then pages
    redirects: dict[str, str] = field(default_factory=dict)  # to write: path → location
    unchanged: list[SiteFile] = field(default_factory=list)
    leaving: list[str] = field(default_factory=list)  # paths that left the site now
    deletions: list[str] = field(default_factory=list)  # deleted by this deploy
    stale: dict[str, str] = field(default_factory=dict)  # kept for now: path → since
    kept: list[str] = field(default_factory=list)  # left the site but protected
    base: str | None = None  # the live deploy this plan was made against

    @property
    def changes(self) -> bool:
        return bool(self.uploads or self.redirects or self.deletions or self.leaving)

    def in_order(self) -> list[Upload]:
        return [u for u in self.uploads if u.phase == "assets"] + [
            u for u in self.uploads if u.phase == "pages"
        ]

    def document(self) -> dict[str, Any]:
        """The plan as `--plan-out` writes it and `--json` prints it."""
        return {
            "base": self.base,
            "uploads": [
                {"path": u.file.key, "phase": u.phase, "reason": u.reason, "size": u.file.size}
                for u in self.in_order()
            ],
            "redirects": dict(sorted(self.redirects.items())),
            "unchanged": len(self.unchanged),
            "leaving": sorted(self.leaving),
            "deletions": sorted(self.deletions),
            "stale": dict(sorted(self.stale.items())),
            "protected": sorted(self.kept),
        }


def is_page(file: SiteFile) -> bool:
    name = file.key.rsplit("/", 1)[-1]
    return file.headers.content_type.startswith("text/html") or name in ENTRY_FILES


def make_plan(
    files: Iterable[SiteFile],
    live: Manifest | None,
    config: DeployConfig,
    *,
    now: datetime,
    delete: DeleteMode = "deferred",
    stored: Mapping[str, int] | None = None,
    max_delete: int | float | None = None,
    force: bool = False,
) -> DeployPlan:
    """The plan that makes the bucket serve `files` (and `config.redirects`). `stored` maps
    each site path the bucket holds to its size (None: not listed, trust the manifest).
    `max_delete` overrides the config's; `force` lifts it. Raises DeployDeleteRefused, before
    anything is written, when more files would leave the site than allowed."""
    previous = live.files if live is not None else {}
    plan = DeployPlan(base=live.id if live is not None else None)
    site: set[str] = set()
    for file in sorted(files, key=lambda f: f.key):
        site.add(file.key)
        before = previous.get(file.key)
        reason: Reason | None
        if before is None:
            reason = "new"
        elif before.sha256 != file.sha256:
            reason = "changed"
        elif before.headers != file.headers.fingerprint():
            reason = "headers"
        elif stored is not None and stored.get(file.key) != before.stored_size:
            reason = "missing"
        else:
            reason = None
        if reason is None:
            plan.unchanged.append(file)
        else:
            plan.uploads.append(Upload(file, "pages" if is_page(file) else "assets", reason))
    redirects = config.redirect_objects()
    old_redirects = live.redirects if live is not None else {}
    site.update(redirects)
    plan.redirects = {
        key: target
        for key, target in redirects.items()
        if old_redirects.get(key) != target or (stored is not None and key not in stored)
    }
    written_before = set(previous) | set(old_redirects)
    since = dict(live.stale) if live is not None else {}
    for key in sorted(written_before - site):
        if config.protects(key):
            plan.kept.append(key)
        else:
            plan.leaving.append(key)
            since.setdefault(key, iso(now))
    _check_deletions(plan, len(previous), config, max_delete, force, delete)
    grace = timedelta(seconds=config.grace_seconds)
    for key, left in sorted(since.items()):
        if key in site or config.protects(key):
            continue  # back on the site, or protected since it left
        if delete == "now" or parse_iso(left) + grace <= now:
            plan.deletions.append(key)
        else:
            plan.stale[key] = left
    return plan


def _check_deletions(
    plan: DeployPlan,
    deployed: int,
    config: DeployConfig,
    max_delete: int | float | None,
    force: bool,
    delete: DeleteMode,
) -> None:
    """The delete guard weighs what this deploy takes off the site (the decision the user
    makes now; stale files deleted later were weighed when they left)."""
    if max_delete is not None:
        config = replace(config, max_delete=max_delete)  # checked as the file's value is
    allowed = config.delete_limit(deployed)
    if force or allowed is None or len(plan.leaving) <= allowed:
        return
    limit = config.max_delete
    share = f" ({limit:.0%} of {deployed})" if isinstance(limit, float) else ""
    when = "now" if delete == "now" else "after the grace period"
    raise DeployDeleteRefused(
        f"this deploy takes {len(plan.leaving)} file{'' if len(plan.leaving) == 1 else 's'} off"
        f" the site (deleted {when}), more than max_delete allows ({allowed}{share}) — nothing"
        " was written; check the source folder, or pass --max-delete N or --force if that is"
        " intended"
    )
