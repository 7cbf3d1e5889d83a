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

A file's brotli sibling goes with it: sent when the file is, listed missing when it is, and
leaving the site (recorded stale, deleted) with it, but never counted apart by `max_delete`.

The plan also collects the deploy's own copies (`_s3kit/blobs/`, see `manifest.py`): a deploy
pushed out of the kept history (`DeployConfig.keep`) is retired, and once retired for the grace
period its record goes, with every blob that no kept or retired deploy uses — never one a file of
this plan names, so a rollback (whose files name their blobs) keeps what it copies from.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from s3kit._sync.plan import DeleteRefused
from s3kit.deploy.manifest import BLOBS, SIBLING, FileRecord, Manifest, iso, parse_iso
from s3kit.deploy.rules import DeployConfig, FileHeaders
from s3kit.errors import UsageError

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

    def record(
        self,
        stored_size: int,
        version_id: str | None,
        brotli_size: int | None = None,
        brotli_version_id: str | None = None,
    ) -> FileRecord:
        return FileRecord(
            sha256=self.sha256,
            size=self.size,
            headers=self.headers.fingerprint(),
            content_type=self.headers.content_type,
            cache_control=self.headers.cache_control,
            gzip=self.headers.gzip,
            stored_size=stored_size,
            version_id=version_id,
            brotli_size=brotli_size,
            brotli_version_id=brotli_version_id,
        )

    @property
    def blob_names(self) -> tuple[str, str]:
        """The blobs a deploy of this file would keep (named by content and headers)."""
        blob = f"{BLOBS}{self.sha256}-{self.headers.fingerprint()}"
        return blob, blob + SIBLING


@dataclass(frozen=True, slots=True)
class Upload:
    file: SiteFile
    phase: Phase
    reason: Reason


@dataclass(slots=True, repr=False)
class DeployPlan:
    uploads: list[Upload] = field(default_factory=list)  # assets first, then pages
    redirects: dict[str, str] = field(default_factory=dict)  # to write: path → location
    unchanged: list[SiteFile] = field(default_factory=list)
    leaving: list[str] = field(default_factory=list)  # paths that left the site now
    deletions: list[str] = field(default_factory=list)  # deleted by this deploy
    stale: dict[str, str] = field(default_factory=dict)  # kept for now: path → since
    kept: list[str] = field(default_factory=list)  # left the site but protected
    base: str | None = None  # the live deploy this plan was made against
    # The history after this deploy (None: the live manifest has none, nothing is collected):
    # the kept deploys before this one, the retired ones still in their grace period, the
    # ones whose record this deploy deletes, and the blobs it deletes (keys under the prefix).
    history: list[str] | None = None
    retired: dict[str, str] = field(default_factory=dict)
    dropped: list[str] = field(default_factory=list)
    blob_deletions: list[str] = field(default_factory=list)

    def __repr__(self) -> str:
        # Counts, not every file: asyncio.run formats its main task's result when it leaves
        # (Python 3.11), and a traceback may print it.
        return (
            f"DeployPlan(base={self.base!r}, {len(self.uploads)} uploads,"
            f" {len(self.unchanged)} unchanged, {len(self.redirects)} redirects,"
            f" {len(self.deletions)} deletions, {len(self.stale)} stale)"
        )

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
            "collect": {"deploys": list(self.dropped), "blobs": len(self.blob_deletions)},
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
    files = sorted(files, key=lambda f: f.key)
    keys = {file.key for file in files}
    old_siblings = {key + SIBLING for key, r in previous.items() if r.brotli_size is not None}
    for file in files:
        site.add(file.key)
        if file.headers.brotli:
            if file.key + SIBLING in keys:
                raise UsageError(
                    f"{file.key}{SIBLING} is a file of the site and the name of {file.key}'s"
                    " brotli sibling — rename it, or leave brotli off for that file"
                )
            site.add(file.key + SIBLING)
        before = previous.get(file.key)
        reason: Reason | None
        if before is None:
            reason = "new"
        elif before.sha256 != file.sha256:
            reason = "changed"
        elif before.headers != file.headers.fingerprint():
            reason = "headers"
        elif stored is not None and (
            stored.get(file.key) != before.stored_size
            or (
                before.brotli_size is not None
                and stored.get(file.key + SIBLING) != before.brotli_size
            )
        ):
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
    written_before = set(previous) | set(old_redirects) | old_siblings
    since = dict(live.stale) if live is not None else {}
    for key in sorted(written_before - site):
        if config.protects(key):
            plan.kept.append(key)
        else:
            plan.leaving.append(key)
            since.setdefault(key, iso(now))
    leaving_files = [key for key in plan.leaving if key not in old_siblings]
    _check_deletions(leaving_files, len(previous), config, max_delete, force, delete)
    grace = timedelta(seconds=config.grace_seconds)
    for key, left in sorted(since.items()):
        if key in site or config.protects(key):
            continue  # back on the site, or protected since it left
        if delete == "now" or parse_iso(left) + grace <= now:
            plan.deletions.append(key)
        else:
            plan.stale[key] = left
    _collect(plan, live, {name for file in files for name in file.blob_names}, config, now)
    return plan


def _collect(
    plan: DeployPlan, live: Manifest | None, named: set[str], config: DeployConfig, now: datetime
) -> None:
    """The history after this deploy, and what leaves it (see the module docstring)."""
    if live is None or live.history is None:
        return
    before = config.keep - 1  # the deploy being planned takes the last place
    history = list(live.history)
    retired = dict(live.retired)
    for deploy_id in history[: max(len(history) - before, 0)]:
        retired.setdefault(deploy_id, iso(now))
    plan.history = history[max(len(history) - before, 0) :]
    grace = timedelta(seconds=config.grace_seconds)
    due = {deploy_id for deploy_id, left in retired.items() if parse_iso(left) + grace <= now}
    plan.retired = {deploy_id: left for deploy_id, left in retired.items() if deploy_id not in due}
    plan.dropped = sorted(due)
    kept = set(plan.history) | set(plan.retired)
    plan.blob_deletions = sorted(
        blob for blob, user in live.referenced().items() if user not in kept and blob not in named
    )


def seed_history(live: Manifest, recorded: Iterable[Manifest]) -> Manifest:
    """`live` with the history fields a manifest from before them lacks, from every recorded
    deploy (`recorded`, any order): all of them kept for now, each blob they use with the
    newest one that uses it."""
    ordered = sorted({m.id: m for m in [*recorded, live]}.values(), key=lambda m: m.id)
    ordered = [m for m in ordered if m.id != live.id] + [live]
    used = {blob: m.id for m in ordered for r in m.files.values() for blob in r.blobs()}
    own = {blob for r in live.files.values() for blob in r.blobs()}
    return replace(
        live,
        history=[m.id for m in ordered],
        older_blobs={blob: user for blob, user in used.items() if blob not in own},
    )


def _check_deletions(
    leaving: list[str],
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
    if force or allowed is None or len(leaving) <= allowed:
        return
    limit = config.max_delete
    share = f" ({limit:.0%} of {deployed})" if isinstance(limit, float) else ""
    when = "now" if delete == "now" else "after the grace period"
    raise DeployDeleteRefused(
        f"this deploy takes {len(leaving)} file{'' if len(leaving) == 1 else 's'} off"
        f" the site (deleted {when}), more than max_delete allows ({allowed}{share}) — nothing"
        " was written; check the source folder, or pass --max-delete N or --force if that is"
        " intended"
    )
