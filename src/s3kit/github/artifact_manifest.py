"""The pure half of Actions artifacts in a bucket (`artifacts`): which run and attempt an
artifact belongs to (`ActionsRun`), the names GitHub allows, the keys
`{prefix}/{owner}/{repo}/{run_id}/{attempt}/{name}/`, the manifest that vouches for an
artifact's files (relative path, size, SHA-256), and a listing held against it before a byte is
pulled (`check_listing`). Nothing here reaches a server.

What it must never do: trust a manifest that names a path outside the artifact's folder, a
size or a digest that is not one, or a path twice.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from s3kit._uri import S3Url
from s3kit.errors import TransferError, UsageError
from s3kit.github.api import _NAME, _OWNER

MANIFEST = "manifest.json"
MANIFEST_FORMAT = "s3kit-artifact/1"
RUN_VARIABLES = ("GITHUB_REPOSITORY", "GITHUB_RUN_ID", "GITHUB_RUN_ATTEMPT")
_HEX64 = re.compile(r"[0-9a-f]{64}")
# What actions/upload-artifact refuses in a name, and '/' (a name is one key segment and, on
# pull, one folder).
_NAME_REFUSED = re.compile(r'["\:<>|*?\r\n\\/\x00-\x1f\x7f]')


# -- the run, names and keys --------------------------------------------------------------


def split_repository(slug: str) -> tuple[str, str]:
    """("owner", "repo") of "owner/repo", with GitHub's rules for both."""
    owner, _, name = slug.strip().partition("/")
    if not _OWNER.match(owner) or not _NAME.match(name) or name in (".", ".."):
        raise UsageError(f"{slug!r} is not a GitHub repository — use OWNER/REPO")
    return owner, name


def positive_number(value: str | int, what: str, option: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = 0
    if number < 1:
        raise UsageError(f"{what} {value!r} is not a positive number — give {option} N")
    return number


@dataclass(frozen=True, slots=True)
class ActionsRun:
    """One attempt of one workflow run of a repository."""

    owner: str
    repo: str
    run_id: int
    attempt: int

    @property
    def slug(self) -> str:
        return f"{self.owner}/{self.repo}"

    @classmethod
    def of(cls, repository: str, run_id: int | str, attempt: int | str) -> ActionsRun:
        owner, repo = split_repository(repository)
        return cls(owner, repo, positive_number(run_id, "run id", "--run-id"),
                   positive_number(attempt, "attempt", "--attempt"))  # fmt: skip

    @classmethod
    def from_env(
        cls,
        env: Mapping[str, str] | None = None,
        *,
        repository: str | None = None,
        run_id: int | None = None,
        attempt: int | None = None,
    ) -> ActionsRun:
        """The job's run, from what GitHub Actions sets (`env`, the environment when None);
        each of `repository`, `run_id` and `attempt` given wins over its variable. Outside
        Actions all three must be given."""
        source = os.environ if env is None else env
        given = dict(zip(RUN_VARIABLES, (repository, run_id, attempt), strict=True))
        values = {
            name: str(value) if value is not None else source.get(name, "").strip()
            for name, value in given.items()
        }
        missing = [name for name, value in values.items() if not value]
        if missing:
            raise UsageError(
                f"not inside a GitHub Actions job ({', '.join(missing)} not set) — outside one,"
                " give --repository OWNER/REPO, --run-id N and --attempt N"
            )
        return cls.of(*values.values())


def validate_artifact_name(name: str) -> str:
    """`name` if it can be an artifact's name: one key segment and one folder name."""
    if not name or name.strip() != name or name in (".", ".."):
        raise UsageError(f"artifact name {name!r}: give a name such as 'site' or 'coverage'")
    if _NAME_REFUSED.search(name):
        raise UsageError(
            f"artifact name {name!r} holds a character GitHub refuses in one"
            ' (" : < > | * ? \\ / or a control character)'
        )
    if len(name.encode()) > 255:
        raise UsageError(f"artifact name {name[:40]!r}...: at most 255 bytes")
    return name


def run_prefix(location: S3Url, owner: str, repo: str, run_id: int) -> str:
    """`{prefix}/{owner}/{repo}/{run_id}/`: the attempts of one run."""
    return f"{location.folder}{owner}/{repo}/{run_id}/"


def artifact_prefix(location: S3Url, run: ActionsRun, name: str) -> str:
    """`{prefix}/{owner}/{repo}/{run_id}/{attempt}/{name}/`: one artifact's keys."""
    base = run_prefix(location, run.owner, run.repo, run.run_id)
    return f"{base}{run.attempt}/{validate_artifact_name(name)}/"


def relative_path_problem(path: str) -> str | None:
    """Why `path` cannot be a file of an artifact (a key below its prefix and a path below
    the destination), or None."""
    from s3kit.storage.local import local_name_problem

    if path == MANIFEST:
        return f"{MANIFEST} at the top is where s3kit keeps the artifact's manifest"
    return local_name_problem(path)


# -- the manifest ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ManifestEntry:
    path: str  # relative, '/'-separated
    size: int
    sha256: str  # hex


@dataclass(frozen=True, slots=True, kw_only=True)
class ArtifactManifest:
    repository: str
    run_id: int
    attempt: int
    name: str
    created_at: str
    retention_days: int | None
    files: tuple[ManifestEntry, ...]

    def document(self) -> dict[str, Any]:
        return {
            "format": MANIFEST_FORMAT,
            "repository": self.repository,
            "run_id": self.run_id,
            "attempt": self.attempt,
            "name": self.name,
            "created_at": self.created_at,
            "retention_days": self.retention_days,
            "files": [{"path": f.path, "size": f.size, "sha256": f.sha256} for f in self.files],
        }

    @classmethod
    def parse(cls, raw: bytes, where: str) -> ArtifactManifest:
        """The manifest in `raw`, every entry checked (a path that would leave the folder, a
        size or digest that is not one, a path twice); TransferError saying what is wrong."""
        try:
            document = json.loads(raw)
            if not isinstance(document, dict) or document.get("format") != MANIFEST_FORMAT:
                raise ValueError(f"not an {MANIFEST_FORMAT} manifest")
            files = []
            seen: set[str] = set()
            for item in document["files"]:
                path, size, sha256 = str(item["path"]), item["size"], str(item["sha256"])
                problem = relative_path_problem(path)
                if problem is not None:
                    raise ValueError(f"file {path!r}: {problem}")
                if not isinstance(size, int) or isinstance(size, bool) or size < 0:
                    raise ValueError(f"file {path!r}: size {size!r}")
                if not _HEX64.fullmatch(sha256):
                    raise ValueError(f"file {path!r}: sha256 {sha256!r}")
                if path in seen:
                    raise ValueError(f"file {path!r} is listed twice")
                seen.add(path)
                files.append(ManifestEntry(path, size, sha256))
            retention = document.get("retention_days")
            return cls(
                repository=str(document["repository"]), run_id=int(document["run_id"]),
                attempt=int(document["attempt"]), name=str(document["name"]),
                created_at=str(document.get("created_at") or ""),
                retention_days=None if retention is None else int(retention),
                files=tuple(files),
            )  # fmt: skip
        except (ValueError, KeyError, TypeError) as exc:
            raise TransferError(
                f"{where} is not a manifest s3kit can trust ({exc}) — nothing pulled"
            ) from None


@dataclass(frozen=True, slots=True)
class ListingCheck:
    """A listing held against a manifest: what may be downloaded, and what refuses it."""

    unlisted: tuple[str, ...]  # objects the manifest does not name
    missing: tuple[str, ...]  # files the manifest names that are not there
    wrong_size: tuple[tuple[str, int, int], ...]  # (path, listed size, manifest size)

    @property
    def ok(self) -> bool:
        return not (self.unlisted or self.missing or self.wrong_size)

    def problems(self) -> list[tuple[str, str]]:
        """(relative path, what is wrong with it), in path order within each kind."""
        said = [(p, "not in the manifest") for p in self.unlisted]
        said += [(p, "in the manifest, not in the bucket") for p in self.missing]
        said += [(p, f"{got} bytes, the manifest says {want}") for p, got, want in self.wrong_size]
        return said


def check_listing(manifest: ArtifactManifest, listed: Mapping[str, int]) -> ListingCheck:
    """Hold the objects found below an artifact's prefix (relative path → size, the manifest
    itself left out) against its manifest."""
    wanted = {entry.path: entry.size for entry in manifest.files}
    return ListingCheck(
        unlisted=tuple(sorted(set(listed) - set(wanted))),
        missing=tuple(sorted(set(wanted) - set(listed))),
        wrong_size=tuple(
            (path, listed[path], size)
            for path, size in sorted(wanted.items())
            if path in listed and listed[path] != size
        ),
    )


__all__ = [
    "MANIFEST",
    "MANIFEST_FORMAT",
    "RUN_VARIABLES",
    "ActionsRun",
    "ArtifactManifest",
    "ListingCheck",
    "ManifestEntry",
    "artifact_prefix",
    "check_listing",
    "positive_number",
    "relative_path_problem",
    "run_prefix",
    "split_repository",
    "validate_artifact_name",
]
