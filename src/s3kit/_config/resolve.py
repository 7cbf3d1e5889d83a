"""Where s3kit's settings come from, resolved once and in a fixed order (`resolve_settings`).

Order, first hit wins: explicit arguments → the saved connection named by `S3KIT_CONNECTION`
(the CLI's `--connection`) → `S3KIT_*` environment variables → the standard AWS environment
variables → the `aws` section of the config file named by `S3KIT_CONFIG` (the CLI also finds
`./s3kit.yaml` and the user config dir's) and the connection that section names → the
`~/.aws/config` and `~/.aws/credentials` profile → the embedded local server. A connection is a
named set of explicit options, so it sits just below them; the config file holds a project's
defaults, so the environment of one shell beats it. This module is pure apart from reading the
profile, connections and config files it is pointed at; it never imports boto3 and never starts
anything. Credentials that
only botocore can produce (assume-role, SSO, credential_process, container or instance
credentials) are marked `needs_chain`, and the Session asks botocore for them.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from s3kit._config.aws_files import AwsFiles
from s3kit._config.settings import (
    DEFAULT_REGION,
    AddressingStyle,
    Credentials,
    SessionOptions,
    Settings,
)
from s3kit.errors import CredentialsError, UsageError

# Profile keys that mean "only botocore's provider chain can produce these credentials".
_CHAIN_KEYS = (
    "role_arn",
    "credential_process",
    "sso_session",
    "sso_start_url",
    "web_identity_token_file",
    "credential_source",
)
_TRUE = ("1", "true", "yes", "on")


def _first(*values: str | None) -> str | None:
    for value in values:
        if value:
            return value
    return None


def _number(name: str, raw: str | None, default: float, *, minimum: float = 0) -> float:
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise UsageError(f"{name} must be a number, not '{raw}'") from None
    if value < minimum:
        raise UsageError(f"{name} must be at least {minimum:g}, not {raw}")
    return value


def _validate_endpoint(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(
            f"endpoint URL '{url}' is not valid — write it as http://host:port or https://host"
        )
    return url.rstrip("/")


@dataclass(frozen=True, slots=True, kw_only=True)
class _Layer:
    """Endpoint, region, profile and addressing style from a connection or the config file."""

    profile: str | None = None
    endpoint_url: str | None = None
    region: str | None = None
    addressing_style: str | None = None


_NO_LAYER = _Layer()


def _connection_layer(name: str | None) -> _Layer:
    if not name:
        return _NO_LAYER
    from s3kit._config.connections import ConnectionStore

    connection = ConnectionStore().get(name)
    return _Layer(
        profile=connection.profile,
        endpoint_url=connection.endpoint_url,
        region=connection.region,
        addressing_style=connection.addressing_style,
    )


def _file_layers(env: Mapping[str, str]) -> tuple[_Layer, _Layer]:
    """The config file's aws section, and the connection it names (below the section)."""
    path = env.get("S3KIT_CONFIG")
    if not path:
        return _NO_LAYER, _NO_LAYER
    from s3kit._config.file import find_config_file, load_config

    found = find_config_file(Path(path), env)
    aws = load_config(found).aws if found else None
    if aws is None:
        return _NO_LAYER, _NO_LAYER
    section = _Layer(
        profile=aws.profile,
        endpoint_url=aws.endpoint_url,
        region=aws.region,
        addressing_style=aws.addressing_style,
    )
    return section, _connection_layer(aws.connection)


def resolve_settings(
    options: SessionOptions,
    env: Mapping[str, str] | None = None,
    files: AwsFiles | None = None,
    *,
    on_ec2: bool = False,
    local_credentials: Callable[[str, Path | None], Credentials | None] | None = None,
) -> Settings:
    """Resolve the settings for one Session. Pure: reads only `env` and `files`, and asks
    `local_credentials(endpoint, local_dir)` for the embedded server's keys when an endpoint
    but no credentials are configured (the endpoint may be that server's own)."""
    env = os.environ if env is None else env
    files = files or AwsFiles.from_env(env)
    conn = _connection_layer(env.get("S3KIT_CONNECTION"))
    section, file_conn = _file_layers(env)

    explicit_profile = _first(options.profile, conn.profile, env.get("S3KIT_PROFILE"))
    named_profile = _first(
        explicit_profile, env.get("AWS_PROFILE"), section.profile, file_conn.profile
    )
    profile_name = named_profile or "default"
    profile = files.profile(profile_name)
    if named_profile and profile is None:
        raise CredentialsError(
            f"profile '{named_profile}' is not in {files.config_path} or"
            f" {files.credentials_path} — list the profiles with `s3kit profiles`,"
            " or create one with `aws configure --profile NAME`"
        )
    profile = profile or {}

    use_local = options.use_local
    if use_local is None:
        use_local = env.get("S3KIT_LOCAL", "").lower() in _TRUE
    local_dir_raw = _first(
        str(options.local_dir) if options.local_dir else None, env.get("S3KIT_LOCAL_DIR")
    )
    local_dir = Path(local_dir_raw).expanduser() if local_dir_raw else None

    endpoint = _first(
        options.endpoint_url,
        conn.endpoint_url,
        env.get("S3KIT_ENDPOINT_URL"),
        env.get("AWS_ENDPOINT_URL_S3"),
        env.get("AWS_ENDPOINT_URL"),
        section.endpoint_url,
        file_conn.endpoint_url,
        profile.get("endpoint_url"),
    )
    region = (
        _first(
            options.region,
            conn.region,
            env.get("S3KIT_REGION"),
            env.get("AWS_REGION"),
            env.get("AWS_DEFAULT_REGION"),
            section.region,
            file_conn.region,
            profile.get("region"),
        )
        or DEFAULT_REGION
    )

    credentials, source = _static_credentials(options, env, profile, explicit_profile)
    needs_chain = False
    if credentials is None and not use_local:
        chain_profile = any(key in profile for key in _CHAIN_KEYS)
        container = bool(
            env.get("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")
            or env.get("AWS_CONTAINER_CREDENTIALS_FULL_URI")
        )
        if chain_profile or container or on_ec2 or env.get("AWS_WEB_IDENTITY_TOKEN_FILE"):
            needs_chain = True
            source = f"profile '{profile_name}' (botocore provider chain)"
        elif endpoint and local_credentials and (found := local_credentials(endpoint, local_dir)):
            credentials, source = found, "local server (its endpoint was named)"
        elif endpoint is None and not named_profile and options.use_local is None:
            # Nothing is configured at all: the embedded server is the default, unless the
            # caller said use_local=False.
            use_local = True
        else:
            raise CredentialsError(
                f"no credentials found for {endpoint or 'Amazon S3'} — set"
                " AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, pass --profile NAME,"
                " or run `aws configure`"
            )

    if use_local:
        endpoint, credentials, source, region = None, None, "local server", DEFAULT_REGION
    elif endpoint:
        endpoint = _validate_endpoint(endpoint)

    style_raw = _first(
        options.addressing_style,
        conn.addressing_style,
        env.get("S3KIT_ADDRESSING_STYLE"),
        section.addressing_style,
        file_conn.addressing_style,
    )
    if style_raw not in (None, "path", "virtual", "auto"):
        raise UsageError(f"addressing style must be path, virtual or auto, not '{style_raw}'")
    if style_raw in ("path", "virtual", "auto"):
        style: AddressingStyle = style_raw  # type: ignore[assignment]
    else:
        style = "virtual" if endpoint is None and not use_local else "path"

    retries = _number(
        "max retries",
        _first(
            None if options.max_retries is None else str(options.max_retries),
            env.get("S3KIT_MAX_RETRIES"),
        ),
        4,
    )
    if retries != int(retries):
        raise UsageError(f"max retries must be a whole number, not {retries:g}")
    budget = _number(
        "retry budget",
        _first(
            None if options.retry_budget is None else str(options.retry_budget),
            env.get("S3KIT_RETRY_BUDGET"),
        ),
        500,
    )
    if budget != int(budget):
        raise UsageError(f"retry budget must be a whole number of tokens, not {budget:g}")
    return Settings(
        endpoint_url=endpoint,
        region=region,
        profile=profile_name if profile else None,
        credentials=credentials,
        credentials_source=source,
        needs_chain=needs_chain,
        addressing_style=style,
        max_retries=int(retries),
        connect_timeout=_number(
            "connect timeout",
            _first(
                None if options.connect_timeout is None else str(options.connect_timeout),
                env.get("S3KIT_CONNECT_TIMEOUT"),
            ),
            10,
            minimum=0.1,
        ),
        read_timeout=_number(
            "read timeout",
            _first(
                None if options.read_timeout is None else str(options.read_timeout),
                env.get("S3KIT_READ_TIMEOUT"),
            ),
            60,
            minimum=0.1,
        ),
        use_local=use_local,
        local_dir=local_dir,
        verify_ssl=_verify_ssl(options, env),
        ca_bundle=_ca_bundle(options, env, profile),
        retry_budget=int(budget),
    )


def _verify_ssl(options: SessionOptions, env: Mapping[str, str]) -> bool:
    if options.verify_ssl is not None:
        return options.verify_ssl
    return env.get("S3KIT_NO_VERIFY_SSL", "").lower() not in _TRUE


def _ca_bundle(
    options: SessionOptions, env: Mapping[str, str], profile: Mapping[str, str]
) -> str | None:
    """The CA bundle, as aws-cli finds it: the option, AWS_CA_BUNDLE, the profile's
    `ca_bundle`; it must be a readable file (every client would fail later, each its own way)."""
    raw = _first(
        options.ca_bundle,
        env.get("S3KIT_CA_BUNDLE"),
        env.get("AWS_CA_BUNDLE"),
        profile.get("ca_bundle"),
    )
    if not raw:
        return None
    path = Path(raw).expanduser()
    if not path.is_file():
        raise UsageError(f"CA bundle '{raw}' is not a file — give the path of a PEM file")
    return str(path)


def _static_credentials(
    options: SessionOptions,
    env: Mapping[str, str],
    profile: Mapping[str, str],
    explicit_profile: str | None,
) -> tuple[Credentials | None, str]:
    """Keys given as arguments, in the environment or in the profile, in that order."""
    candidates: list[tuple[str, str | None, str | None, str | None]] = [
        ("arguments", options.access_key_id, options.secret_access_key, options.session_token),
        (
            "S3KIT_* environment variables",
            env.get("S3KIT_ACCESS_KEY_ID"),
            env.get("S3KIT_SECRET_ACCESS_KEY"),
            env.get("S3KIT_SESSION_TOKEN"),
        ),
    ]
    profile_keys = (
        "profile",
        profile.get("aws_access_key_id"),
        profile.get("aws_secret_access_key"),
        profile.get("aws_session_token"),
    )
    aws_env = (
        "AWS_* environment variables",
        env.get("AWS_ACCESS_KEY_ID"),
        env.get("AWS_SECRET_ACCESS_KEY"),
        env.get("AWS_SESSION_TOKEN"),
    )
    # A profile named on the command line or in S3KIT_PROFILE beats the AWS_* keys, as
    # `aws --profile` does; otherwise the environment wins over the default profile. A named
    # profile that assumes a role or uses SSO must reach botocore's chain, not the AWS_* keys.
    if not explicit_profile:
        candidates += [aws_env, profile_keys]
    elif any(key in profile for key in _CHAIN_KEYS):
        candidates += [profile_keys]
    else:
        candidates += [profile_keys, aws_env]
    for source, key_id, secret, token in candidates:
        if key_id and secret:
            return Credentials(key_id, secret, token or None), source
        if key_id or secret:
            missing = "secret access key" if key_id else "access key id"
            raise CredentialsError(f"the {source} give an access key without its {missing}")
    return None, ""


def detect_ec2() -> bool:
    """Whether this machine looks like an EC2 instance, so asking IMDS for credentials is sane.

    Never asking IMDS elsewhere keeps s3kit from sending requests to 169.254.169.254 on laptops
    and CI machines, where they only add seconds of timeouts. S3KIT_IMDS=1 forces it on.
    """
    if os.environ.get("S3KIT_IMDS", "").lower() in _TRUE:
        return True
    for path, marker in (
        ("/sys/hypervisor/uuid", "ec2"),
        ("/sys/devices/virtual/dmi/id/board_asset_tag", "i-"),
        ("/sys/devices/virtual/dmi/id/sys_vendor", "amazon"),
    ):
        try:
            if Path(path).read_text(encoding="ascii", errors="ignore").lower().startswith(marker):
                return True
        except OSError:
            continue
    return False


__all__ = ["detect_ec2", "resolve_settings"]
