"""The per-invocation state of the CLI: global options, and the Session built from them."""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path

import typer

from s3kit._config.file import S3KitConfig
from s3kit._observe import RedactingFilter
from s3kit._session import Session
from s3kit.storage.s3 import S3Storage

# The command line as typed: click hands options over grouped by name, but --include and
# --exclude are applied in the order they were typed, as aws s3 does.
_RAW_ARGS: ContextVar[tuple[str, ...]] = ContextVar("s3kit_raw_args", default=())


def set_raw_args(args: Sequence[str]) -> None:
    _RAW_ARGS.set(tuple(args))


def raw_args() -> tuple[str, ...]:
    return _RAW_ARGS.get()


def notice(message: str) -> None:
    """Say something to the person at the terminal, on stderr, without touching stdout."""
    sys.stderr.write(message + "\n")
    sys.stderr.flush()


@dataclass(slots=True)
class CliState:
    profile: str | None = None
    endpoint_url: str | None = None
    region: str | None = None
    use_local: bool = False
    debug: bool = False
    verify_ssl: bool | None = None  # None: as the environment says (S3KIT_NO_VERIFY_SSL)
    ca_bundle: str | None = None
    connection: str | None = None
    config_path: Path | None = None
    # The validated s3kit.yaml (S3KitConfig() when there is none): cp, mv and sync read
    # their defaults from it.
    config: S3KitConfig = field(default_factory=S3KitConfig)
    log_filter: RedactingFilter | None = None
    _session: Session | None = field(default=None, repr=False)

    @property
    def session(self) -> Session:
        if self._session is None:
            self._session = Session(
                profile=self.profile,
                endpoint_url=self.endpoint_url,
                region=self.region,
                use_local=True if self.use_local else None,
                verify_ssl=self.verify_ssl,
                ca_bundle=self.ca_bundle,
                env=self.session_env(),
                notify=notice,
            )
        return self._session

    def session_env(self) -> dict[str, str] | None:
        """The environment the Session resolves from: --connection and the config file found
        here reach `resolve_settings` as S3KIT_CONNECTION and S3KIT_CONFIG, so they take the
        same place in the resolution order as for a library user who sets those variables."""
        if self.connection is None and self.config_path is None:
            return None
        env = dict(os.environ)
        if self.connection is not None:
            env["S3KIT_CONNECTION"] = self.connection
        if self.config_path is not None:
            env["S3KIT_CONFIG"] = str(self.config_path)
        return env

    def storage(self, bucket: str) -> S3Storage:
        return self.session.storage(bucket)

    def register_secrets(self) -> None:
        """Give the log redaction filter the literal secrets once they are known."""
        if self.log_filter is not None and self._session is not None:
            for secret in self._session.secrets():
                self.log_filter.add_secret(secret)


def state_of(ctx: typer.Context) -> CliState:
    root = ctx.find_root()
    if not isinstance(root.obj, CliState):
        root.obj = CliState()
    return root.obj
