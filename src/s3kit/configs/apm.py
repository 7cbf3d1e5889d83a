"""The seed API of the configuration store: one call per job, for scripts that want no object
(`upload_apm_config(bucket, tool, env, config)`). Each is a thin wrapper on `ConfigStore`, on
the Session given or a default one (resolved as the CLI resolves it: environment, profiles,
s3kit.yaml, else the embedded local server). `bucket` is a bucket name or `s3://bucket/prefix`;
`config` is a path (a folder or a file), several, or a mapping of relative path → text.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from s3kit.configs.bundle import ReportLike, Source, ValidatorChoice, validate_config
from s3kit.configs.store import ConfigStore

if TYPE_CHECKING:
    from s3kit._session import Session
    from s3kit.configs.archive import BackupOutcome, RestoreOutcome
    from s3kit.configs.init import InitReport
    from s3kit.configs.outcomes import MoveOutcome, PushOutcome


def _store(bucket: str, session: Session | None, options: dict[str, Any]) -> ConfigStore:
    if session is None:
        from s3kit._session import Session

        session = Session()
    return ConfigStore(session, bucket, **options)


PRODUCTION = ("prod", "production")  # protected by create_apm_bucket unless told otherwise


def create_apm_bucket(
    name: str,
    region: str | None = None,
    environment: str = "dev",
    tool: str | None = None,
    purpose: str = "apm-config",
    *,
    envs: Sequence[str] | None = None,
    protect: bool | None = None,
    releasers: Sequence[str] = (),
    kms_key: str | None = None,
    session: Session | None = None,
    probe: bool = True,
) -> InitReport:
    """Create or harden the bucket of a store for `environment` (`configs init`): the same
    settings, read back, with the tags environment, purpose and (given) tool. `envs`: the
    store's environments (default: `environment` alone); `protect` (default: for prod and
    production) makes `environment` protected. `region` is the bucket's, on a default
    Session in it; with `session`, the session's region is used and must be that one."""
    from s3kit._uri import parse_s3_url
    from s3kit.configs.hardening import PostureSettings
    from s3kit.configs.init import init_store
    from s3kit.configs.layout import check_env, check_tool
    from s3kit.errors import UsageError

    check_env(environment)
    if tool is not None:
        check_tool(tool)
    if session is None:
        from s3kit._session import Session

        session = Session(region=region)
    elif region is not None and region != session.settings.region:
        raise UsageError(
            f"region {region!r} is not the session's ({session.settings.region}): give a"
            " Session in that region, or no region"
        )
    names = tuple(envs) if envs is not None else (environment,)
    if environment not in names:
        raise UsageError(f"envs {', '.join(names)} leave out the environment {environment!r}")
    protected = environment in PRODUCTION if protect is None else protect
    tags = {"environment": environment, "purpose": purpose, **({"tool": tool} if tool else {})}
    settings = PostureSettings(
        envs=names,
        protected=(environment,) if protected else (),
        releasers=tuple(releasers),
        kms_key=kms_key,
        tags=tags,
    )
    url = parse_s3_url(name if name.startswith("s3://") else f"s3://{name}")
    return init_store(session, url, settings, probe=probe)


def upload_apm_config(
    bucket: str,
    tool: str,
    env: str,
    config: Source,
    *,
    message: str = "",
    validator: ValidatorChoice = "auto",
    validate: bool = True,
    force: bool = False,
    session: Session | None = None,
    **options: Any,
) -> PushOutcome:
    """Push `config` as the tool's next release for `env` (ConfigStore.push)."""
    return _store(bucket, session, options).push(
        tool, env, config, message=message, validator=validator, validate=validate, force=force
    )


def download_apm_config(
    bucket: str,
    tool: str,
    env: str,
    *,
    version: int | None = None,
    dest: str | os.PathLike[str] | None = None,
    session: Session | None = None,
    **options: Any,
) -> dict[str, str]:
    """The files `env` serves of the tool (or its release `version`), by relative path, as
    text (a file that is not UTF-8 is an error here; `ConfigStore.read` gives bytes). With
    `dest`, also written into that folder, as `configs pull` writes it."""
    store = _store(bucket, session, options)
    if dest is None:
        _, files = store.read(tool, env, version=version)
    else:
        release = store.pull(tool, env, dest, version=version)
        files = {f.path: (Path(dest) / f.path).read_bytes() for f in release.files}
    return {path: data.decode("utf-8") for path, data in files.items()}


def validate_apm_config(
    tool: str, config: Source, *, validator: ValidatorChoice = "auto"
) -> ReportLike:
    """Validate local files as a push would (nothing is sent anywhere)."""
    report, _ = validate_config(tool, config, validator=validator)
    return report


def backup_apm_config(
    bucket: str,
    env: str,
    dest: str | os.PathLike[str],
    *,
    session: Session | None = None,
    **options: Any,
) -> BackupOutcome:
    """Back up every tool `env` serves: under an s3:// prefix, or into a local .tar.gz."""
    return _store(bucket, session, options).backup(env, dest)


def restore_apm_config(
    bucket: str,
    backup_key: str,
    *,
    env: str | None = None,
    dryrun: bool = False,
    session: Session | None = None,
    **options: Any,
) -> RestoreOutcome:
    """Restore the backup under `backup_key` (a prefix in `bucket`, an s3:// URL, or a local
    .tar.gz) into the store at `bucket`."""
    store = _store(bucket, session, options)
    source = backup_key
    if not backup_key.startswith("s3://") and not backup_key.endswith((".tar.gz", ".tgz")):
        source = f"s3://{store.location.bucket}/{backup_key.lstrip('/')}"
    return store.restore(source, env=env, dryrun=dryrun)


def deploy_apm_configs(
    bucket: str,
    from_env: str,
    to_env: str,
    *,
    tools: Sequence[str] | None = None,
    min_age: timedelta | float = 0,
    session: Session | None = None,
    **options: Any,
) -> list[MoveOutcome]:
    """Promote every tool `from_env` serves (or `tools`) to `to_env`, one after another; the
    first refusal stops the rest (those before it stay promoted)."""
    store = _store(bucket, session, options)
    return [
        store.promote(tool, source=from_env, target=to_env, min_age=min_age)
        for tool in (tools if tools is not None else store.tools(from_env))
    ]


__all__ = [
    "backup_apm_config",
    "create_apm_bucket",
    "deploy_apm_configs",
    "download_apm_config",
    "restore_apm_config",
    "upload_apm_config",
    "validate_apm_config",
]
