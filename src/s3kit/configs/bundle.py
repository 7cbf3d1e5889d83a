"""The local side of the configuration store: a bundle's files read once (what is validated
is what is sent), validated where they will be laid out, checked for inline secrets, and a
pulled release written into a folder whole or not at all. No request to any store here.

Validation is `s3kit.configs.validate.validate_bundle`, called on the bundle written into a
temporary folder by its relative paths, exactly as a pull lays it out (so rule files and
dashboards referenced from a config resolve as they will on the server). Its contract is the
`Validate` protocol below; callers may pass another function of that shape.
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

from s3kit._atomic import fsync_folder, temp_name, write_file
from s3kit.configs.layout import FileEntry, bundle_digest, check_path, check_tool, sorted_files
from s3kit.configs.secrets import SecretFinding, find_secrets
from s3kit.errors import LocalPathError, S3KitError, UsageError, translating

ValidatorChoice = Literal["auto", "real", "builtin"]
# A bundle as the caller has it: a folder, a file, several of either (laid out relative to
# their common folder), or the files themselves (relative path → text or bytes).
Source = str | os.PathLike[str] | Sequence[str | os.PathLike[str]] | Mapping[str, str | bytes]

MARKER = ".s3kit-configs.json"  # what `pull` leaves in its folder: which release it holds
MAX_FILES = 5_000
MAX_BYTES = 64 * 1024 * 1024
_EXCLUDED = (".git/", "__pycache__/", "node_modules/", ".DS_Store", "Thumbs.db", "*.tmp", "*~")


# -- the validators' contract (s3kit.configs.validate) ---------------------------------------------


class FindingLike(Protocol):
    @property
    def file(self) -> str: ...
    @property
    def line(self) -> int | None: ...
    @property
    def message(self) -> str: ...
    @property
    def severity(self) -> str: ...
    @property
    def validator(self) -> str: ...


class ReportLike(Protocol):
    @property
    def ok(self) -> bool: ...
    @property
    def validator(self) -> str: ...
    @property
    def findings(self) -> Sequence[FindingLike]: ...


class Validate(Protocol):
    def __call__(
        self, tool: str, root: Path, files: Sequence[str], *, validator: ValidatorChoice = "auto"
    ) -> ReportLike: ...


def validate_bundle(
    tool: str, root: Path, files: Sequence[str], *, validator: ValidatorChoice = "auto"
) -> ReportLike:
    """`s3kit.configs.validate.validate_bundle`, imported when first needed (the validators
    may look for promtool, amtool, ... on the PATH: no command that does not validate pays)."""
    module = importlib.import_module("s3kit.configs.validate")
    report: ReportLike = module.validate_bundle(tool, root, files, validator=validator)
    return report


class ConfigInvalid(S3KitError, ValueError):
    """The bundle did not pass its validator: nothing was written. `report` says why."""

    def __init__(self, tool: str, report: ReportLike) -> None:
        errors = [f for f in report.findings if f.severity == "error"]
        first = errors[0] if errors else None
        where = (
            f"{first.file}:{first.line}" if first and first.line else first.file if first else ""
        )
        said = f" — first: {where}: {first.message}" if first else ""
        super().__init__(
            f"the {tool} configuration is not valid ({len(errors)} error"
            f"{'' if len(errors) == 1 else 's'}, {report.validator}){said}; nothing was pushed"
        )
        self.report = report


def finding_document(finding: FindingLike) -> dict[str, Any]:
    return {
        "file": finding.file,
        "line": finding.line,
        "message": finding.message,
        "severity": finding.severity,
        "validator": finding.validator,
    }


# -- local bundles ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Bundle:
    """The files of a bundle, read once: what is validated is what is sent. Made by `of`."""

    files: Mapping[str, bytes]
    entries: tuple[FileEntry, ...]
    root: Path | None = None  # the folder the paths are relative to (None: given as a mapping)

    @classmethod
    def of(cls, files: Mapping[str, bytes], root: Path | None = None) -> Bundle:
        """The bundle of these files; a path given twice, or as a file and a folder, raises."""
        if not files:
            raise UsageError("the bundle has no files")
        entries = sorted_files(FileEntry.of(path, data) for path, data in files.items())
        return cls(dict(files), entries, root)

    @property
    def digest(self) -> str:
        return bundle_digest(self.entries)


def read_bundle(source: Source) -> Bundle:
    """The files of `source` (see `Source`), at most MAX_FILES and MAX_BYTES. Folders are read
    whole but for .git/, __pycache__/, editor and temporary files and a pull's marker."""
    if isinstance(source, Mapping):
        return Bundle.of(
            {
                check_path(str(path)): text.encode("utf-8") if isinstance(text, str) else text
                for path, text in source.items()
            }
        )
    given = [source] if isinstance(source, str | os.PathLike) else list(source)
    if not given:
        raise UsageError("name the configuration's files or folder")
    paths = [Path(p).absolute() for p in given]
    for path in paths:
        if not path.exists():
            raise LocalPathError(f"{path}: no such file or folder")
    root = Path(os.path.commonpath([p if p.is_dir() else p.parent for p in paths]))
    found: dict[str, Path] = {}
    for path in paths:
        for file in _files_under(path) if path.is_dir() else [path]:
            relative = file.relative_to(root).as_posix()
            found.setdefault(check_path(relative), file)
            if len(found) > MAX_FILES:
                raise UsageError(
                    f"{root}: more than {MAX_FILES} files — is that the configuration's folder?"
                )
    if not found:
        raise UsageError(f"{root}: no files to push")
    files, total = {}, 0
    for relative, file in sorted(found.items()):
        with translating(path=str(file)):
            files[relative] = file.read_bytes()
        total += len(files[relative])
        if total > MAX_BYTES:
            raise UsageError(
                f"{root}: the files come to more than {MAX_BYTES // 2**20} MiB — is that the"
                " configuration's folder?"
            )
    return Bundle.of(files, root)


def _files_under(folder: Path) -> list[Path]:
    from s3kit._sync.ignore import IgnoreRules
    from s3kit.storage.local import walk_folder

    rules = IgnoreRules.parse(_EXCLUDED)
    found: list[Path] = []

    def add(relative: str, _: os.stat_result) -> None:
        if not rules.ignores(relative) and relative.rsplit("/", 1)[-1] != MARKER:
            found.append(folder / relative)

    with translating(path=str(folder)):
        complete = walk_folder(
            folder,
            add,
            follow_symlinks=True,  # mounted ConfigMaps are links into a hidden folder
            prune=lambda relative: (
                rules.ignores(relative, is_dir=True) or relative.rsplit("/", 1)[-1].startswith("..")
            ),
        )
    if not complete:
        raise LocalPathError(f"{folder}: a folder could not be read — nothing was pushed")
    return found


@contextlib.contextmanager
def laid_out(files: Mapping[str, bytes]) -> Iterator[Path]:
    """The files written under a temporary folder, by their relative paths (removed after)."""
    with tempfile.TemporaryDirectory(prefix="s3kit-configs-") as folder:
        root = Path(folder)
        for relative, data in files.items():
            target = root / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        yield root


def check_bundle(
    tool: str,
    bundle: Bundle,
    *,
    validator: ValidatorChoice = "auto",
    validators: Validate = validate_bundle,
) -> ReportLike:
    """Validate the bundle's bytes as they will be laid out by a pull."""
    check_tool(tool)
    if validator not in ("auto", "real", "builtin"):
        raise UsageError(f"the validator is auto, real or builtin, not '{validator}'")
    with laid_out(bundle.files) as root:
        return validators(tool, root, sorted(bundle.files), validator=validator)


def secrets_in(bundle: Bundle) -> list[SecretFinding]:
    found: list[SecretFinding] = []
    for path, data in sorted(bundle.files.items()):
        text = text_of(data)
        if text is not None:
            found += find_secrets(path, text)
    return found


def validate_config(
    tool: str,
    source: Source,
    *,
    validator: ValidatorChoice = "auto",
    validators: Validate = validate_bundle,
) -> tuple[ReportLike, list[SecretFinding]]:
    """Validate local files as a push would, without a store: the report and the inline
    secrets found."""
    bundle = read_bundle(source)
    return check_bundle(tool, bundle, validator=validator, validators=validators), secrets_in(
        bundle
    )


def text_of(data: bytes) -> str | None:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def default_author(root: Path | None = None) -> str:
    """Who is pushing: git's user.name (and email) where git has one, else $USER."""
    name, email = _git(root, "config", "user.name"), _git(root, "config", "user.email")
    if name:
        return f"{name} <{email}>" if email else name
    return os.environ.get("USER") or os.environ.get("USERNAME") or "unknown"


def git_info(root: Path | None) -> dict[str, Any] | None:
    """The commit checked out where the bundle's folder is in a git work tree, and whether the
    folder has changes not committed; None elsewhere."""
    if root is None or _git(root, "rev-parse", "--is-inside-work-tree") != "true":
        return None
    commit = _git(root, "rev-parse", "HEAD")
    if not commit:
        return None
    status = _git(root, "status", "--porcelain", "--", ".")
    return {"commit": commit, "dirty": bool(status)}


def _git(root: Path | None, *args: str) -> str | None:
    try:
        done = subprocess.run(
            ["git", *(["-C", str(root)] if root else []), *args],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def write_folder(
    dest: Path, files: Mapping[str, bytes], marker: Mapping[str, Any], *, force: bool = False
) -> None:
    """Write `files` into the folder `dest` whole or not at all: into a temporary folder beside
    it, renamed into place once every file is written, with `marker` (which release it holds)
    as MARKER. A `dest` there must be empty, or hold an earlier pull (or `force`: replaced)."""
    dest = dest.absolute()
    replacing = _replaceable(dest, force)
    with translating(path=str(dest)):
        dest.parent.mkdir(parents=True, exist_ok=True)
        staging = temp_name(dest)
        staging.mkdir()
    old = temp_name(dest, "old") if replacing else None
    try:
        with translating(path=str(staging)):
            for relative, data in files.items():
                write_file(staging / check_path(relative), data, fsync=True)
            body = json.dumps(dict(marker), indent=1, sort_keys=True) + "\n"
            write_file(staging / MARKER, body.encode("utf-8"), fsync=True)
        with translating(path=str(dest)):
            if old is not None:
                dest.rename(old)
            elif dest.exists():
                dest.rmdir()  # an empty folder
            staging.rename(dest)
            fsync_folder(dest.parent)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        if old is not None and old.exists() and not dest.exists():
            old.rename(dest)  # put back what was there
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _replaceable(dest: Path, force: bool) -> bool:
    """Whether a pull into `dest` replaces a folder there (True), makes it (False), or may not
    (raised): only an empty folder, an earlier pull's or, with `force`, any folder."""
    if not dest.exists():
        return False
    if not dest.is_dir():
        raise LocalPathError(f"{dest} is not a folder — pull writes a folder")
    with translating(path=str(dest)):
        entries = list(dest.iterdir())
    if not entries:
        return False
    if force or (dest / MARKER).is_file():
        return True
    raise UsageError(
        f"{dest} holds files a pull did not write — pull into a new or empty folder, or pass"
        " --force to replace it"
    )


__all__ = [
    "MARKER",
    "Bundle",
    "ConfigInvalid",
    "FindingLike",
    "ReportLike",
    "Source",
    "Validate",
    "ValidatorChoice",
    "check_bundle",
    "default_author",
    "finding_document",
    "git_info",
    "laid_out",
    "read_bundle",
    "secrets_in",
    "validate_bundle",
    "validate_config",
    "write_folder",
]
