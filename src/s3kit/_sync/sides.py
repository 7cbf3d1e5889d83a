"""The two sides of a sync: a local folder (`LocalSide`) or an S3 prefix (`S3Side`), where each
key is read from and written to, and what a run would refuse to write there (`refusals`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from s3kit._sync.plan import (
    Plan,
)
from s3kit._uri import LocalPath, Location, S3Url
from s3kit.errors import (
    InvalidKey,
    LocalPathError,
    UsageError,
)
from s3kit.storage.local import local_target, shown_key
from s3kit.transfer.paths import folder_prefix

Warn = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class LocalSide:
    root: Path

    def __str__(self) -> str:
        return str(self.root)

    def location(self, key: str) -> LocalPath:
        """Where `key` is, to show or read; writes and deletes go through `target`."""
        return LocalPath(self.root.joinpath(*key.split("/")))

    def target(self, key: str) -> Path:
        """The path to write, rename or delete for `key` (a folder marker 'a/b/': the
        folder): `local_target`, which refuses a name no file can have and a path through a
        symlink that leads out of the root."""
        return local_target(self.root, key, folder=key.endswith("/"))


@dataclass(frozen=True, slots=True)
class S3Side:
    bucket: str
    prefix: str  # '' or ending with '/'

    def __str__(self) -> str:
        return str(S3Url(self.bucket, self.prefix))

    def location(self, key: str) -> S3Url:
        return S3Url(self.bucket, self.prefix + key)


def refusals(plan: Plan, destination: Side) -> list[tuple[str, str]]:
    """(key, why) for every action of `plan` the run will refuse at `destination`, without
    touching anything: a name no local file can have, a path through a symlink out of the
    folder, a key an S3 object cannot be written under. What a dry run shows as skipped."""
    found: list[tuple[str, str]] = []
    for action in plan.actions:
        try:
            if isinstance(destination, LocalSide):
                destination.target(action.key)
            elif action.kind == "copy" and not action.key.endswith("/"):
                from s3kit.storage.s3 import object_key

                object_key(destination.prefix + action.key)
        except (InvalidKey, LocalPathError) as exc:
            found.append(
                (action.key, exc.message.removeprefix(f"skipped {shown_key(action.key)}: "))
            )
    return found


Side = LocalSide | S3Side


def side_of(location: Location) -> Side:
    if isinstance(location, S3Url):
        prefix = folder_prefix(location)
        return S3Side(prefix.bucket, prefix.key)
    if isinstance(location, LocalPath):
        return LocalSide(Path(location.path).expanduser().absolute())
    raise UsageError("sync works between folders and S3 prefixes, not standard streams")


__all__ = ["LocalSide", "S3Side", "Side", "Warn", "refusals", "side_of"]
