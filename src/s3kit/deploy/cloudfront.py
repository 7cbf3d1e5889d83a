"""The CloudFront invalidation a deploy makes once its manifest is live and its deletions done.

Pure first: `edge_stale_keys` says which site paths an edge may now hold a wrong copy of — files
whose content or headers changed, files deleted, redirects over a path that served something,
files new to the manifest over an object the bucket already had — except where that copy was
served `immutable` and the new one is too (a hashed asset: a change gives it a new name, and
old pages still open may load the old one from the edge). `url_paths` writes them as CloudFront
paths (URL-encoded as CloudFront requires, an index document also as its folder), and
`collapse` keeps them within the budget: CloudFront charges per path past 1,000 a month and
allows 3,000 paths, or 15 wildcard paths, in flight, so past the budget the deepest folders
are collapsed to `folder/*` until the batch fits, and `/*` when nothing less does.

Then the call (`Invalidator`, over a boto3 CloudFront client, sleep and clock injected): the
CallerReference is the deploy id, so a request sent again makes no second invalidation;
TooManyInvalidationsInProgress is retried with backoff, a bounded number of times; `wait`
polls until Completed, for a bounded time. A failure never undoes the deploy: its message says
the deploy is live and how to invalidate by hand.
"""

from __future__ import annotations

import re
import shlex
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from s3kit.deploy.manifest import Manifest
from s3kit.deploy.plan import DeployPlan
from s3kit.deploy.rules import DEFAULT_INDEX_DOCUMENT
from s3kit.errors import S3KitError, UsageError, translating

if TYPE_CHECKING:  # imported where lines are written: sync's audit module brings bisync's
    from s3kit._sync.audit import AuditRecord

DEFAULT_BUDGET = 15
MAX_PATHS = 3000  # CloudFront's limit on paths in flight (MAX_WILDCARDS for wildcard ones)
MAX_WILDCARDS = 15
TOO_MANY = "TooManyInvalidationsInProgress"

# What CloudFront wants left as it is: RFC 3986's unreserved characters and sub-delimiters,
# ':' and '@', less RFC 1738's unsafe '~' ("URL-encode non-ASCII and unsafe characters as
# defined in RFC 1738; do not URL-encode any other characters", CloudFront's guide). '?' and
# '#' would start a query or a fragment; '*' is a wildcard (see url_path).
_KEEP = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._!$&'()+,;=:@/")
_DISTRIBUTION_ID = re.compile(r"[A-Za-z0-9]{1,128}")


# -- which paths ----------------------------------------------------------------------------------


def is_immutable(cache_control: str | None) -> bool:
    return cache_control is not None and any(
        part.strip().lower() == "immutable" for part in cache_control.split(",")
    )


def edge_stale_keys(
    plan: DeployPlan,
    live: Manifest | None,
    *,
    stored: Mapping[str, int] | None,
    deleted: Iterable[str],
    edge_cache_control: Mapping[str, str | None] | None = None,
) -> list[str]:
    """The site paths whose copy at an edge may be out of date after `plan` was carried out
    against `live`. `stored` is what the bucket held before (site path → size; None: not
    listed), `deleted` the paths this deploy deleted, `edge_cache_control` the Cache-Control
    of deleted paths the live manifest has no record of (stale ones: read from the bucket
    before they were deleted; unknown counts as not immutable)."""
    before = live.files if live is not None else {}
    old_redirects = live.redirects if live is not None else {}
    served = set(before) | set(old_redirects) | set(stored or ())
    keys: set[str] = set()
    for upload in plan.uploads:
        key, file = upload.file.key, upload.file
        if upload.reason == "missing" or (upload.reason == "new" and key not in served):
            continue  # sent again as recorded, or never served: nothing wrong at an edge
        old = before.get(key)
        if is_immutable(old.cache_control if old else None) and is_immutable(
            file.headers.cache_control
        ):
            continue
        keys.add(key)
    keys.update(key for key in plan.redirects if key in served)
    known = edge_cache_control or {}
    for key in deleted:
        record = before.get(key)
        if not is_immutable(record.cache_control if record is not None else known.get(key)):
            keys.add(key)
    return sorted(keys)


def url_path(key: str, prefix: str = "") -> str:
    """The CloudFront path of a site path. A '*' can only end a CloudFront path, as a
    wildcard: a name with one is covered by the wildcard of what comes before it."""
    head, star, _ = key.partition("*")
    encoded = "".join(
        char if char in _KEEP else "".join(f"%{byte:02X}" for byte in char.encode("utf-8"))
        for char in head
    )
    return f"{prefix}/{encoded}{star}"


def url_paths(
    keys: Iterable[str], *, index_document: str = DEFAULT_INDEX_DOCUMENT, prefix: str = ""
) -> list[str]:
    """The CloudFront paths of site paths, sorted: an index document also as its folder
    (`docs/index.html` → `/docs/index.html` and `/docs/`), which is how it is asked for."""
    paths: set[str] = set()
    for key in keys:
        paths.add(url_path(key, prefix))
        folder, _, name = key.rpartition("/")
        if name == index_document:
            paths.add(url_path(folder + "/" if folder else "", prefix))
    return sorted(paths)


def _covers(wildcard: str, path: str) -> bool:
    return path != wildcard and path.startswith(wildcard[:-1])


def _folder(path: str) -> str:
    """The folder an entry sits in: `/a/b.css` and `/a/b*` → `/a/`; `/a/` and `/a/*` → `/a/`."""
    stem = path[:-1] if path.endswith("*") else path
    return stem[: stem.rfind("/") + 1]


def collapse(paths: Iterable[str], budget: int = DEFAULT_BUDGET) -> list[str]:
    """`paths` made to fit the budget, covering every one of them: past it, the deepest folder
    holding most of them becomes `folder/*`, and so on, until at most `budget` paths (and at
    most MAX_WILDCARDS wildcards) are left — `/*` when nothing less will do. Sorted."""
    entries = set(paths)
    wild = [p for p in entries if p.endswith("*")]
    entries = {p for p in entries if not any(_covers(w, p) for w in wild)}

    def over() -> tuple[bool, bool]:
        wildcards = sum(p.endswith("*") for p in entries)
        return len(entries) > budget, wildcards > MAX_WILDCARDS

    too_many, too_wild = over()
    while too_many or too_wild:
        counted: dict[str, tuple[int, int]] = {}
        for entry in entries:
            folder = _folder(entry)
            while True:
                total, wildcards = counted.get(folder, (0, 0))
                counted[folder] = (total + 1, wildcards + entry.endswith("*"))
                if folder == "/":
                    break
                folder = folder[: folder[:-1].rfind("/") + 1]
        # Past the budget any folder holding two entries helps; past the wildcard limit only
        # one holding two wildcards does. The deepest first: it invalidates least.
        which = 0 if too_many else 1
        candidates = [
            (-folder.count("/"), -count[which], folder)
            for folder, count in counted.items()
            if count[which] >= 2
        ]
        _, _, chosen = min(candidates)
        entries = {p for p in entries if not p.startswith(chosen)} | {chosen + "*"}
        too_many, too_wild = over()
    return sorted(entries)


# -- the options ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CloudFrontInvalidation:
    """What `deploy(..., cloudfront=...)` invalidates and how.

    `path_prefix` is put before each site path: empty (the default) where the distribution's
    origin path is the deploy's prefix — the bucket root for most sites — or e.g. `/www` where
    the distribution serves the bucket's root and the deploy went to `s3://bucket/www`.
    `budget` is the most paths one deploy's invalidation sends (past it, wildcards); `wait`
    polls until CloudFront says Completed, for at most `wait_timeout` seconds."""

    distribution_id: str
    budget: int = DEFAULT_BUDGET
    path_prefix: str = ""
    wait: bool = False
    wait_timeout: float = 1200.0

    def __post_init__(self) -> None:
        if not _DISTRIBUTION_ID.fullmatch(self.distribution_id or ""):
            raise UsageError(
                f"'{self.distribution_id}' is not a CloudFront distribution id (letters and"
                " digits, e.g. E2QWRUHAPOMQZL: `aws cloudfront list-distributions` lists them)"
            )
        if isinstance(self.budget, bool) or not isinstance(self.budget, int):
            raise UsageError(f"the invalidation budget must be a whole number, not {self.budget!r}")
        if not 1 <= self.budget <= MAX_PATHS:
            raise UsageError(
                f"the invalidation budget must be 1 to {MAX_PATHS} paths (CloudFront's limit in"
                f" flight), not {self.budget}"
            )
        prefix = self.path_prefix.strip("/")
        if any(char in prefix for char in "*?#"):
            raise UsageError(
                f"the CloudFront path prefix '{self.path_prefix}' must be a plain path, e.g. /www"
            )
        object.__setattr__(self, "path_prefix", "/" + prefix if prefix else "")
        if not self.wait_timeout > 0:
            raise UsageError(f"the wait timeout must be positive, not {self.wait_timeout}")

    def paths_for(self, keys: Iterable[str], index_document: str) -> list[str]:
        """The CloudFront paths of these site paths, before the budget."""
        return url_paths(keys, index_document=index_document, prefix=self.path_prefix)


@dataclass(slots=True)
class InvalidationResult:
    distribution_id: str
    paths: list[str]  # what was sent: within the budget
    wanted: list[str]  # every path the deploy made stale, which `paths` cover
    id: str | None = None
    status: str = "planned"  # then CloudFront's: InProgress, Completed

    def document(self) -> dict[str, Any]:
        return {
            "distribution": self.distribution_id,
            "id": self.id,
            "status": self.status,
            "paths": list(self.paths),
            "covers": len(self.wanted),
        }


# -- the calls --------------------------------------------------------------------------------


class Invalidator:
    """CreateInvalidation and GetInvalidation on `client` (a boto3 CloudFront client), with
    TooManyInvalidationsInProgress retried `attempts` times in all, waiting `backoff` seconds
    and twice as long each time after (at most `max_backoff`)."""

    def __init__(
        self,
        client: Any,
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        attempts: int = 6,
        backoff: float = 2.0,
        max_backoff: float = 60.0,
        poll: float = 15.0,
    ) -> None:
        self.client, self.sleep, self.clock = client, sleep, clock
        self.attempts, self.backoff, self.max_backoff, self.poll = (
            attempts,
            backoff,
            max_backoff,
            poll,
        )

    def create(self, distribution_id: str, paths: Sequence[str], reference: str) -> tuple[str, str]:
        """The new invalidation's id and status."""
        wait = self.backoff
        for attempt in range(1, self.attempts + 1):
            try:
                with translating(operation="CreateInvalidation"):
                    answer = self.client.create_invalidation(
                        DistributionId=distribution_id,
                        InvalidationBatch={
                            "Paths": {"Quantity": len(paths), "Items": list(paths)},
                            "CallerReference": reference,
                        },
                    )
            except S3KitError as exc:
                if exc.code == "NoSuchDistribution":
                    raise S3KitError(
                        f"CloudFront has no distribution {distribution_id} (NoSuchDistribution;"
                        " `aws cloudfront list-distributions` lists them)"
                    ).context_of(exc) from exc
                if exc.code != TOO_MANY:
                    raise
                if attempt == self.attempts:
                    raise S3KitError(
                        f"CloudFront still had too many invalidations in progress ({TOO_MANY})"
                        f" after {self.attempts} tries"
                    ).context_of(exc) from exc
                self.sleep(wait)
                wait = min(wait * 2, self.max_backoff)
                continue
            invalidation = answer["Invalidation"]
            return str(invalidation["Id"]), _status(invalidation.get("Status"))
        raise AssertionError("unreachable")  # pragma: no cover

    def wait(self, distribution_id: str, invalidation_id: str, timeout: float) -> str:
        """Poll until the invalidation is Completed; raises when `timeout` seconds pass first."""
        deadline = self.clock() + timeout
        while True:
            with translating(operation="GetInvalidation"):
                answer = self.client.get_invalidation(
                    DistributionId=distribution_id, Id=invalidation_id
                )
            status = _status(answer["Invalidation"].get("Status"))
            if status == "Completed":
                return status
            left = deadline - self.clock()
            if left <= 0:
                raise S3KitError(
                    f"invalidation {invalidation_id} was still in progress after {timeout:g}s"
                )
            self.sleep(min(self.poll, left))


def _status(value: object) -> str:
    text = str(value or "")
    return "Completed" if text.lower() == "completed" else text  # moto says COMPLETED


def invalidate(
    invalidator: Invalidator,
    options: CloudFrontInvalidation,
    wanted: Sequence[str],
    *,
    deploy_id: str,
) -> InvalidationResult:
    """Invalidate `wanted` (CloudFront paths, collapsed to the budget) for the deploy
    `deploy_id`, which is live; a failure raises an error that says so, and how to
    invalidate by hand (`result` of the error: what was to be sent)."""
    result = InvalidationResult(
        options.distribution_id, collapse(wanted, options.budget), sorted(wanted)
    )
    try:
        result.id, result.status = invalidator.create(
            options.distribution_id, result.paths, deploy_id
        )
        if options.wait and result.status != "Completed":
            result.status = invalidator.wait(
                options.distribution_id, result.id, options.wait_timeout
            )
    except S3KitError as exc:
        raise InvalidationFailed(result, deploy_id, exc) from exc
    return result


class InvalidationFailed(S3KitError):
    """The deploy is live; its CloudFront invalidation failed (or was not seen through)."""

    def __init__(self, result: InvalidationResult, deploy_id: str, error: S3KitError) -> None:
        paths = result.paths if len(result.paths) <= MAX_WILDCARDS else ["/*"]
        by_hand = (
            f"aws cloudfront create-invalidation --distribution-id {result.distribution_id}"
            f" --paths {' '.join(shlex.quote(p) for p in paths)}"
        )
        what = (
            f"waiting for invalidation {result.id}"
            if result.id is not None
            else f"the CloudFront invalidation of {len(result.paths)} path"
            f"{'' if len(result.paths) == 1 else 's'} on {result.distribution_id}"
        )
        tail = (
            "it goes on without s3kit"
            if result.id is not None
            else f"edges may serve the old files until they expire; run `{by_hand}`"
        )
        super().__init__(f"deploy {deploy_id} is live, but {what} failed: {error.message} — {tail}")
        self.result = result
        self.context_of(error)


def invalidation_records(
    result: InvalidationResult,
    *,
    error: S3KitError | None = None,
    planned: bool = False,
    clock: Callable[[], Any] | None = None,
) -> list[AuditRecord]:
    """One audit line per path sent: what a wildcard covers, which invalidation it was."""
    from s3kit._sync.audit import audit_record

    records = []
    where = f"distribution {result.distribution_id}" + (
        f", invalidation {result.id}" if result.id else ""
    )
    for path in result.paths:
        count = sum(
            1 for p in result.wanted if p == path or (path.endswith("*") and _covers(path, p))
        )
        why = f"covers {count} paths" if path.endswith("*") else "out of date at the edges"
        options: dict[str, Any] = {} if clock is None else {"clock": clock}
        records.append(
            audit_record(
                "invalidate",
                path=path,
                reason=f"{why} ({where})",
                result="planned" if planned else "failed" if error is not None else "done",
                error=error.message if error is not None else None,
                **options,
            )
        )
    return records


__all__ = [
    "DEFAULT_BUDGET",
    "MAX_PATHS",
    "MAX_WILDCARDS",
    "CloudFrontInvalidation",
    "InvalidationFailed",
    "InvalidationResult",
    "Invalidator",
    "collapse",
    "edge_stale_keys",
    "invalidate",
    "invalidation_records",
    "is_immutable",
    "url_path",
    "url_paths",
]
