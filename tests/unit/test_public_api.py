"""The public face of s3kit: `__all__`, and imports that must stay free of boto3."""

from __future__ import annotations

import importlib
import subprocess
import sys
import types

import pytest

import s3kit

PUBLIC_NAMES = {
    "Action",
    "BisyncOutcome",
    "BucketAlreadyExists",
    "BucketNotEmpty",
    "BucketNotFound",
    "CompareOptions",
    "ConfigError",
    "ConflictError",
    "CredentialsError",
    "DeleteRefused",
    "Encryption",
    "EndpointError",
    "InvalidBucketName",
    "InvalidKey",
    "ItemResult",
    "LocalPath",
    "LocalPathError",
    "LocalServer",
    "LocalServerError",
    "LocalStorage",
    "NotSupported",
    "ObjectInfo",
    "ObjectNotFound",
    "PermissionDenied",
    "Plan",
    "Prefix",
    "RequestEvent",
    "RetryPolicy",
    "S3Client",
    "S3FileInfo",
    "S3FileResult",
    "S3KitConfig",
    "S3KitError",
    "S3Service",
    "S3Storage",
    "S3Url",
    "Session",
    "Storage",
    "SyncOutcome",
    "SyncResult",
    "Throttled",
    "TransferConfig",
    "TransferError",
    "TransferEvent",
    "TransferManager",
    "TransferSummary",
    "UsageError",
    "WriteOptions",
    "__version__",
    "bisync",
    "bisync_async",
    "load_config",
    "parse_location",
    "sync",
    "sync_async",
}


def test_all_lists_exactly_the_public_names() -> None:
    assert len(s3kit.__all__) == len(set(s3kit.__all__)), "duplicates in __all__"
    assert set(s3kit.__all__) == PUBLIC_NAMES


def test_all_is_sorted() -> None:
    assert s3kit.__all__ == sorted(s3kit.__all__)


@pytest.mark.parametrize("name", sorted(PUBLIC_NAMES))
def test_each_public_name_is_importable(name: str) -> None:
    module = importlib.import_module("s3kit")
    assert getattr(module, name) is not None
    namespace: dict[str, object] = {}
    exec(f"from s3kit import {name}", namespace)  # noqa: S102 - fixed, known names
    assert namespace[name] is getattr(s3kit, name)


def test_no_other_public_names_leak_from_star_import() -> None:
    namespace: dict[str, object] = {}
    exec("from s3kit import *", namespace)  # noqa: S102
    exported = {name for name in namespace if name != "__builtins__"}
    assert exported == PUBLIC_NAMES


# Modules a user may import by name; every other module of s3kit is private (`_name`).
PUBLIC_MODULES = {
    "cli",
    "configs",
    "deploy",
    "errors",
    "events",
    "github",
    "health",
    "metrics",
    "service",
    "storage",
    "transfer",
    "website",
}


def test_no_public_name_is_left_out_of_all() -> None:
    """What httpx checks: once everything is loaded (each public name, and what a command
    loads), every attribute of the package without a leading underscore is either in
    `__all__` or a public module."""
    for name in PUBLIC_NAMES:
        getattr(s3kit, name)
    importlib.import_module("s3kit.cli.app")
    leaked = {
        name
        for name, value in vars(s3kit).items()
        if not name.startswith("_")
        and name not in PUBLIC_NAMES
        and not (isinstance(value, types.ModuleType) and name in PUBLIC_MODULES)
    }
    assert leaked == set()


def test_the_public_names_load_on_first_use() -> None:
    """`import s3kit` loads none of the library: a command pays only for what it uses."""
    result = subprocess.run(
        [sys.executable, "-c", "import sys, s3kit; print(sorted(m for m in sys.modules"
         " if m.startswith('s3kit')))"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['s3kit', 's3kit._lazy', 's3kit._version']"


def test_version_is_a_string() -> None:
    assert isinstance(s3kit.__version__, str)
    assert s3kit.__version__[0].isdigit()


def test_public_errors_share_one_base() -> None:
    public = [getattr(s3kit, name) for name in PUBLIC_NAMES]
    errors = [obj for obj in public if isinstance(obj, type) and issubclass(obj, BaseException)]
    assert len(errors) == 19  # DeleteRefused too
    for error in errors:
        assert issubclass(error, s3kit.S3KitError), error


_CHECK_NO_BOTO = """
import sys
{statement}
loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('boto3', 'botocore', 's3transfer'))
print(','.join(loaded))
"""


@pytest.mark.parametrize(
    "statement", ["import s3kit", "from s3kit.cli.app import app"], ids=["library", "cli"]
)
def test_import_does_not_load_boto3(statement: str) -> None:
    result = subprocess.run(
        [sys.executable, "-c", _CHECK_NO_BOTO.format(statement=statement)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "", f"{statement} loaded {result.stdout.strip()}"


def test_the_storage_layer_does_not_import_the_session() -> None:
    """Layers call down only: the Session builds the storage clients (lazily), and storage
    never imports the Session back (it is a type there, nothing more)."""
    code = (
        "import sys, s3kit.storage.s3, s3kit.storage.s3http, s3kit.storage.local;"
        " print('s3kit._session' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"
