"""Which paths take part in a sync: the default excludes, s3kit.yaml's exclusions, the
`.s3kitignore` at the source (a file in a folder, an object under a prefix), exclude files, then
the include/exclude rules in the order given."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path

from s3kit._session import Session
from s3kit._sync.ignore import DEFAULT_RULES, IgnoreRules
from s3kit._sync.sides import S3Side
from s3kit.errors import (
    ObjectNotFound,
    UsageError,
    translating,
)
from s3kit.transfer.filters import Filters

IGNORE_FILE = ".s3kitignore"
MAX_IGNORE_BYTES = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Selection:
    """Which relative paths take part: gitignore-style rules, then aws-style `--include` /
    `--exclude`, which win where one of them matches (so `--include '*.log'` brings back a
    default exclusion, except inside a folder the rules prune)."""

    ignore: IgnoreRules = field(default_factory=IgnoreRules)
    filters: Filters = field(default_factory=Filters)

    def prunes(self, folder: str) -> bool:
        return self.ignore.matches(folder, is_dir=True)

    def _decided(self, path: str) -> bool | None:
        """What the last matching `--include`/`--exclude` says, None when none matches."""
        decision: bool | None = None
        for kind, pattern in self.filters.rules:
            if fnmatchcase(path, pattern):
                decision = kind == "include"
        return decision

    def accepts(self, path: str, *, walked: bool = False) -> bool:
        """`walked`: the folders of `path` were already checked (a local walk)."""
        decision = self._decided(path)
        if decision is not None:
            return decision
        if walked:
            return not self.ignore.matches(path, is_dir=False)
        return not self.ignore.ignores(path)

    def accepts_folder(self, folder: str, *, walked: bool = False) -> bool:
        """Whether the marker of `folder` ('a/b/', as S3 names it) takes part: the filters see
        it with its '/', the ignore rules as a folder (`walked`: the walk did not prune it)."""
        decision = self._decided(folder)
        if decision is not None:
            return decision
        return walked or not self.ignore.ignores(folder.rstrip("/"), is_dir=True)


def build_selection(
    *,
    filters: Filters | None = None,
    default_excludes: bool = True,
    exclusions: Sequence[str] = (),
    exclude_from: Sequence[Path] = (),
    source_root: Path | None = None,
    source_ignore: str | None = None,
) -> Selection:
    """Default exclusions first, then the config file's `exclusions`, then `.s3kitignore` at
    the source root (`source_root` for a folder, or its text as `source_ignore` for a prefix),
    then each `--exclude-from` file: a later rule overrides an earlier one (`!*.log`
    re-includes)."""
    rules = DEFAULT_RULES if default_excludes else IgnoreRules()
    rules = rules + IgnoreRules.parse(exclusions)
    if source_ignore is not None:
        rules = rules + IgnoreRules.parse(source_ignore.splitlines())
    files = []
    if source_root is not None and (source_root / IGNORE_FILE).is_file():
        files.append(source_root / IGNORE_FILE)
    files.extend(exclude_from)
    for path in files:
        with translating(path=str(path)):
            text = Path(path).read_text(encoding="utf-8")
        rules = rules + IgnoreRules.parse(text.splitlines())
    return Selection(rules, filters or Filters())


async def read_ignore_file_async(session: Session, side: S3Side) -> str | None:
    """The `.s3kitignore` object at the root of an S3 source, or None when there is none."""
    key = side.prefix + IGNORE_FILE
    storage = session.storage(side.bucket)
    try:
        info = await storage.head_async(key)
        if info.size > MAX_IGNORE_BYTES:
            raise UsageError(
                f"s3://{side.bucket}/{key} is larger than {MAX_IGNORE_BYTES // 1024} KiB, too big"
                " for an ignore file — rename it, or keep the rules in a file for --exclude-from"
            )
        data = await storage.get_async(key, if_match=info.etag) if info.size else b""
    except ObjectNotFound:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise UsageError(f"s3://{side.bucket}/{key} is not UTF-8 text") from None


__all__ = ["IGNORE_FILE", "Selection", "build_selection", "read_ignore_file_async"]
