"""s3kit._config: the order settings are resolved in, read from an env dict and temporary files."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from s3kit._config import (
    DEFAULT_REGION,
    AwsFiles,
    Credentials,
    SessionOptions,
    Settings,
    resolve_settings,
)
from s3kit.errors import ConfigError, CredentialsError, UsageError

ENV_KEYS = {"AWS_ACCESS_KEY_ID": "AKIAENV", "AWS_SECRET_ACCESS_KEY": "env-secret"}
S3KIT_KEYS = {"S3KIT_ACCESS_KEY_ID": "AKIAS3KIT", "S3KIT_SECRET_ACCESS_KEY": "s3kit-secret"}


def aws_files(tmp_path: Path, config: str = "", credentials: str = "") -> AwsFiles:
    """Write ~/.aws-style files under tmp_path; an empty text means the file does not exist."""
    folder = tmp_path / "aws"
    folder.mkdir(exist_ok=True)
    config_path, credentials_path = folder / "config", folder / "credentials"
    if config:
        config_path.write_text(textwrap.dedent(config), encoding="utf-8")
    if credentials:
        credentials_path.write_text(textwrap.dedent(credentials), encoding="utf-8")
    return AwsFiles(config_path, credentials_path)


def resolve(
    files: AwsFiles, env: dict[str, str] | None = None, *, on_ec2: bool = False, **options: object
) -> Settings:
    return resolve_settings(
        SessionOptions(**options),  # type: ignore[arg-type]
        env or {},
        files,
        on_ec2=on_ec2,
    )


@pytest.fixture
def files(tmp_path: Path) -> AwsFiles:
    """Both profile files: a default profile with keys, and named ones of each kind."""
    return aws_files(
        tmp_path,
        config="""
            [default]
            region = eu-west-1

            [profile dev]
            region = ap-south-1
            endpoint_url = http://dev.example:9000

            [profile assume]
            role_arn = arn:aws:iam::123456789012:role/admin
            source_profile = default

            [profile sso]
            sso_session = corp
            sso_account_id = 123456789012

            [profile process]
            credential_process = /usr/bin/get-creds

            [profile regiononly]
            region = sa-east-1

            [sso-session corp]
            sso_start_url = https://corp.awsapps.com/start
        """,
        credentials="""
            [default]
            aws_access_key_id = AKIADEFAULT
            aws_secret_access_key = default-secret

            [dev]
            aws_access_key_id = AKIADEV
            aws_secret_access_key = dev-secret
            aws_session_token = dev-token

            [half]
            aws_access_key_id = AKIAHALF
        """,
    )


# -- credentials order ------------------------------------------------------------------------


def test_explicit_arguments_beat_every_other_source(files: AwsFiles) -> None:
    settings = resolve(
        files,
        {**ENV_KEYS, **S3KIT_KEYS},
        access_key_id="AKIAARG",
        secret_access_key="arg-secret",
        session_token="arg-token",
    )
    assert settings.credentials == Credentials("AKIAARG", "arg-secret", "arg-token")
    assert settings.credentials_source == "arguments"


def test_s3kit_env_beats_aws_env_and_profile(files: AwsFiles) -> None:
    env = {**ENV_KEYS, **S3KIT_KEYS, "S3KIT_SESSION_TOKEN": "s3kit-token"}
    settings = resolve(files, env)
    assert settings.credentials == Credentials("AKIAS3KIT", "s3kit-secret", "s3kit-token")
    assert settings.credentials_source == "S3KIT_* environment variables"


def test_aws_env_beats_default_profile(files: AwsFiles) -> None:
    settings = resolve(files, {**ENV_KEYS, "AWS_SESSION_TOKEN": "env-token"})
    assert settings.credentials == Credentials("AKIAENV", "env-secret", "env-token")
    assert settings.credentials_source == "AWS_* environment variables"


def test_default_profile_used_when_nothing_else_given(files: AwsFiles) -> None:
    settings = resolve(files)
    assert settings.credentials == Credentials("AKIADEFAULT", "default-secret")
    assert settings.credentials_source == "profile"
    assert settings.profile == "default"
    assert settings.use_local is False


def test_explicit_profile_beats_aws_env_keys(files: AwsFiles) -> None:
    settings = resolve(files, dict(ENV_KEYS), profile="dev")
    assert settings.credentials == Credentials("AKIADEV", "dev-secret", "dev-token")
    assert settings.credentials_source == "profile"
    assert settings.profile == "dev"


def test_s3kit_profile_counts_as_explicit(files: AwsFiles) -> None:
    settings = resolve(files, {**ENV_KEYS, "S3KIT_PROFILE": "dev"})
    assert settings.credentials is not None
    assert settings.credentials.access_key_id == "AKIADEV"


def test_option_profile_beats_s3kit_profile_and_aws_profile(files: AwsFiles) -> None:
    env = {"S3KIT_PROFILE": "nosuch", "AWS_PROFILE": "nosuch-either"}
    settings = resolve(files, env, profile="dev")
    assert settings.profile == "dev"


def test_aws_profile_does_not_beat_aws_env_keys(files: AwsFiles) -> None:
    # AWS_PROFILE is not "explicit": like the AWS CLI, the key variables still win,
    # while the profile still supplies the region and endpoint.
    settings = resolve(files, {**ENV_KEYS, "AWS_PROFILE": "dev"})
    assert settings.credentials is not None
    assert settings.credentials.access_key_id == "AKIAENV"
    assert settings.profile == "dev"
    assert settings.region == "ap-south-1"
    assert settings.endpoint_url == "http://dev.example:9000"


def test_explicit_role_profile_is_not_replaced_by_aws_env_keys(files: AwsFiles) -> None:
    # `s3kit --profile assume` must assume the role, as `aws --profile assume` does, even when
    # AWS_ACCESS_KEY_ID happens to be set in the shell.
    settings = resolve(files, dict(ENV_KEYS), profile="assume")
    assert settings.credentials is None
    assert settings.needs_chain is True


def test_explicit_plain_profile_without_keys_falls_back_to_aws_env(files: AwsFiles) -> None:
    settings = resolve(files, dict(ENV_KEYS), profile="regiononly")
    assert settings.credentials is not None
    assert settings.credentials.access_key_id == "AKIAENV"
    assert settings.region == "sa-east-1"


@pytest.mark.parametrize(
    "env",
    [{"AWS_PROFILE": "missing"}, {"S3KIT_PROFILE": "missing"}],
    ids=["AWS_PROFILE", "S3KIT_PROFILE"],
)
def test_named_profile_that_does_not_exist(files: AwsFiles, env: dict[str, str]) -> None:
    with pytest.raises(CredentialsError) as caught:
        resolve(files, env)
    message = str(caught.value)
    assert "profile 'missing' is not in" in message
    assert str(files.config_path) in message
    assert "s3kit profiles" in message
    assert caught.value.exit_code == 1


def test_missing_explicit_profile_with_no_files_at_all(tmp_path: Path) -> None:
    with pytest.raises(CredentialsError, match="profile 'ghost'"):
        resolve(aws_files(tmp_path), profile="ghost")


@pytest.mark.parametrize(
    ("env", "missing"),
    [
        ({"AWS_ACCESS_KEY_ID": "AKIA"}, "secret access key"),
        ({"AWS_SECRET_ACCESS_KEY": "s"}, "access key id"),
        ({"S3KIT_ACCESS_KEY_ID": "AKIA"}, "secret access key"),
        ({"S3KIT_SECRET_ACCESS_KEY": "s"}, "access key id"),
    ],
)
def test_half_a_key_pair_in_env(tmp_path: Path, env: dict[str, str], missing: str) -> None:
    with pytest.raises(CredentialsError, match=f"without its {missing}"):
        resolve(aws_files(tmp_path), env)


def test_half_a_key_pair_in_arguments(tmp_path: Path) -> None:
    with pytest.raises(
        CredentialsError, match="the arguments give an access key without its secret access key"
    ):
        resolve(aws_files(tmp_path), access_key_id="AKIA")


def test_half_a_key_pair_in_profile(files: AwsFiles) -> None:
    with pytest.raises(CredentialsError, match="the profile give an access key without its secret"):
        resolve(files, profile="half")


def test_half_pair_error_does_not_hide_a_complete_earlier_source(tmp_path: Path) -> None:
    env = {**S3KIT_KEYS, "AWS_ACCESS_KEY_ID": "AKIAHALF"}
    settings = resolve(aws_files(tmp_path), env)
    assert settings.credentials is not None
    assert settings.credentials.access_key_id == "AKIAS3KIT"


def test_empty_session_token_becomes_none(tmp_path: Path) -> None:
    settings = resolve(aws_files(tmp_path), {**ENV_KEYS, "AWS_SESSION_TOKEN": ""})
    assert settings.credentials == Credentials("AKIAENV", "env-secret", None)


# -- botocore chain ---------------------------------------------------------------------------


@pytest.mark.parametrize("profile", ["assume", "sso", "process"])
def test_chain_profiles_need_botocore(files: AwsFiles, profile: str) -> None:
    settings = resolve(files, profile=profile)
    assert settings.needs_chain is True
    assert settings.credentials is None
    assert settings.use_local is False
    assert settings.credentials_source == f"profile '{profile}' (botocore provider chain)"


@pytest.mark.parametrize(
    "env",
    [
        {"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "/v2/credentials/x"},
        {"AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://169.254.170.2/creds"},
        {"AWS_WEB_IDENTITY_TOKEN_FILE": "/var/run/token"},
    ],
)
def test_container_and_web_identity_need_botocore(tmp_path: Path, env: dict[str, str]) -> None:
    settings = resolve(aws_files(tmp_path), env)
    assert settings.needs_chain is True
    assert settings.use_local is False
    assert settings.credentials_source == "profile 'default' (botocore provider chain)"


def test_on_ec2_needs_botocore(tmp_path: Path) -> None:
    settings = resolve(aws_files(tmp_path), on_ec2=True)
    assert settings.needs_chain is True
    assert settings.use_local is False
    assert settings.endpoint_url is None


def test_static_keys_mean_no_chain_even_on_ec2(tmp_path: Path) -> None:
    settings = resolve(aws_files(tmp_path), dict(ENV_KEYS), on_ec2=True)
    assert settings.needs_chain is False


# -- endpoint ---------------------------------------------------------------------------------

ENDPOINT_SOURCES = [
    ("option", None),
    ("S3KIT_ENDPOINT_URL", "http://s3kit.example:1"),
    ("AWS_ENDPOINT_URL_S3", "http://s3-specific.example:2"),
    ("AWS_ENDPOINT_URL", "http://generic.example:3"),
]


@pytest.mark.parametrize("first", range(len(ENDPOINT_SOURCES) + 1))
def test_endpoint_order(tmp_path: Path, first: int) -> None:
    """Drop the sources before `first`: the next one in order must win."""
    files = aws_files(
        tmp_path,
        config="""
            [default]
            endpoint_url = http://profile.example:4
        """,
    )
    env = {**ENV_KEYS}
    options: dict[str, object] = {}
    for name, value in ENDPOINT_SOURCES[first:]:
        if name == "option":
            options["endpoint_url"] = "http://option.example:0"
        else:
            assert value is not None
            env[name] = value
    expected = [
        "http://option.example:0",
        "http://s3kit.example:1",
        "http://s3-specific.example:2",
        "http://generic.example:3",
        "http://profile.example:4",
    ][first]
    assert resolve(files, env, **options).endpoint_url == expected


def test_endpoint_trailing_slash_is_removed(tmp_path: Path) -> None:
    settings = resolve(aws_files(tmp_path), dict(ENV_KEYS), endpoint_url="https://minio.lan:9000/")
    assert settings.endpoint_url == "https://minio.lan:9000"


@pytest.mark.parametrize(
    "url", ["ftp://host:21", "localhost:9000", "http://", "s3://bucket", "minio.lan"]
)
def test_invalid_endpoint_url(tmp_path: Path, url: str) -> None:
    with pytest.raises(UsageError) as caught:
        resolve(aws_files(tmp_path), dict(ENV_KEYS), endpoint_url=url)
    assert f"endpoint URL '{url}' is not valid" in str(caught.value)
    assert "http://host:port" in str(caught.value)
    assert caught.value.exit_code == 2


def test_endpoint_without_credentials(tmp_path: Path) -> None:
    with pytest.raises(CredentialsError) as caught:
        resolve(aws_files(tmp_path), {"S3KIT_ENDPOINT_URL": "http://minio.lan:9000"})
    message = str(caught.value)
    assert "no credentials found for http://minio.lan:9000" in message
    assert "AWS_ACCESS_KEY_ID" in message


def test_named_profile_without_credentials(files: AwsFiles) -> None:
    with pytest.raises(CredentialsError, match="no credentials found for Amazon S3"):
        resolve(files, profile="regiononly")


# -- region -----------------------------------------------------------------------------------

REGION_SOURCES = ["option", "S3KIT_REGION", "AWS_REGION", "AWS_DEFAULT_REGION", "profile"]


@pytest.mark.parametrize("first", range(len(REGION_SOURCES) + 1))
def test_region_order(tmp_path: Path, first: int) -> None:
    names = REGION_SOURCES[first:]
    files = aws_files(
        tmp_path,
        config="""
            [default]
            region = ca-central-1
        """
        if "profile" in names
        else "",
    )
    env = dict(ENV_KEYS)
    options: dict[str, object] = {}
    values = {
        "option": "us-west-2",
        "S3KIT_REGION": "eu-north-1",
        "AWS_REGION": "eu-central-1",
        "AWS_DEFAULT_REGION": "ap-northeast-1",
    }
    for name in names:
        if name == "option":
            options["region"] = values[name]
        elif name != "profile":
            env[name] = values[name]
    expected = [*values.values(), "ca-central-1", "us-east-1"][first]
    assert resolve(files, env, **options).region == expected


def test_default_region_is_us_east_1(tmp_path: Path) -> None:
    assert DEFAULT_REGION == "us-east-1"
    assert resolve(aws_files(tmp_path), dict(ENV_KEYS)).region == "us-east-1"


# -- the embedded local server ----------------------------------------------------------------


def test_nothing_configured_uses_local_server(tmp_path: Path) -> None:
    settings = resolve(aws_files(tmp_path))
    assert settings.use_local is True
    assert settings.endpoint_url is None
    assert settings.credentials is None
    assert settings.credentials_source == "local server"
    assert settings.needs_chain is False
    assert settings.addressing_style == "path"
    assert settings.profile is None


def test_use_local_false_is_respected_when_nothing_is_configured(tmp_path: Path) -> None:
    with pytest.raises(CredentialsError, match="no credentials found"):
        resolve(aws_files(tmp_path), use_local=False)


@pytest.mark.parametrize("value", ["1", "true", "TRUE", "yes", "on"])
def test_s3kit_local_overrides_configured_credentials(files: AwsFiles, value: str) -> None:
    env = {**ENV_KEYS, "S3KIT_LOCAL": value, "AWS_REGION": "eu-west-3"}
    settings = resolve(files, env, endpoint_url="http://ignored.example:1")
    assert settings.use_local is True
    assert settings.endpoint_url is None
    assert settings.credentials is None
    assert settings.credentials_source == "local server"
    assert settings.region == "us-east-1"


@pytest.mark.parametrize("value", ["0", "false", "no", ""])
def test_s3kit_local_false_values(files: AwsFiles, value: str) -> None:
    settings = resolve(files, {"S3KIT_LOCAL": value})
    assert settings.use_local is False
    assert settings.credentials_source == "profile"


def test_use_local_option_beats_s3kit_local(files: AwsFiles) -> None:
    assert resolve(files, {"S3KIT_LOCAL": "1"}, use_local=False).use_local is False


def test_local_dir_from_option_or_env(tmp_path: Path, isolated_env: Path) -> None:
    files = aws_files(tmp_path)
    assert resolve(files).local_dir is None
    assert resolve(files, {"S3KIT_LOCAL_DIR": "~/weed"}).local_dir == isolated_env / "weed"
    chosen = tmp_path / "chosen"
    assert resolve(files, {"S3KIT_LOCAL_DIR": "/elsewhere"}, local_dir=chosen).local_dir == chosen


# -- addressing style, retries, timeouts ------------------------------------------------------


def test_addressing_style_defaults(tmp_path: Path) -> None:
    files = aws_files(tmp_path)
    assert resolve(files, dict(ENV_KEYS)).addressing_style == "virtual"
    custom = resolve(files, dict(ENV_KEYS), endpoint_url="http://127.0.0.1:9000")
    assert custom.addressing_style == "path"


@pytest.mark.parametrize("style", ["path", "virtual", "auto"])
def test_addressing_style_explicit(tmp_path: Path, style: str) -> None:
    files = aws_files(tmp_path)
    endpoint = "http://127.0.0.1:9000"
    from_option = resolve(files, dict(ENV_KEYS), endpoint_url=endpoint, addressing_style=style)
    assert from_option.addressing_style == style
    from_env = resolve(files, {**ENV_KEYS, "S3KIT_ADDRESSING_STYLE": style})
    assert from_env.addressing_style == style


def test_addressing_style_option_beats_env(tmp_path: Path) -> None:
    env = {**ENV_KEYS, "S3KIT_ADDRESSING_STYLE": "virtual"}
    assert resolve(aws_files(tmp_path), env, addressing_style="path").addressing_style == "path"


def test_bad_addressing_style(tmp_path: Path) -> None:
    with pytest.raises(
        UsageError, match="addressing style must be path, virtual or auto, not 'dns'"
    ):
        resolve(aws_files(tmp_path), {**ENV_KEYS, "S3KIT_ADDRESSING_STYLE": "dns"})


def test_retry_and_timeout_defaults(tmp_path: Path) -> None:
    settings = resolve(aws_files(tmp_path), dict(ENV_KEYS))
    assert (settings.max_retries, settings.connect_timeout, settings.read_timeout) == (4, 10, 60)


def test_retries_from_env_and_option(tmp_path: Path) -> None:
    files = aws_files(tmp_path)
    assert resolve(files, {**ENV_KEYS, "S3KIT_MAX_RETRIES": "7"}).max_retries == 7
    # 0 is a real value, not "unset"
    assert resolve(files, {**ENV_KEYS, "S3KIT_MAX_RETRIES": "7"}, max_retries=0).max_retries == 0


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("lots", "max retries must be a number, not 'lots'"),
        ("-1", "max retries must be at least 0, not -1"),
    ],
)
def test_bad_max_retries(tmp_path: Path, raw: str, message: str) -> None:
    with pytest.raises(UsageError) as caught:
        resolve(aws_files(tmp_path), {**ENV_KEYS, "S3KIT_MAX_RETRIES": raw})
    assert str(caught.value) == message
    assert caught.value.exit_code == 2


def test_timeouts_from_env_and_option(tmp_path: Path) -> None:
    env = {**ENV_KEYS, "S3KIT_CONNECT_TIMEOUT": "2.5", "S3KIT_READ_TIMEOUT": "30"}
    settings = resolve(aws_files(tmp_path), env, read_timeout=5.0)
    assert settings.connect_timeout == 2.5
    assert settings.read_timeout == 5.0


@pytest.mark.parametrize(
    ("name", "raw", "message"),
    [
        ("S3KIT_CONNECT_TIMEOUT", "0", "connect timeout must be at least 0.1, not 0"),
        ("S3KIT_READ_TIMEOUT", "soon", "read timeout must be a number, not 'soon'"),
    ],
)
def test_bad_timeouts(tmp_path: Path, name: str, raw: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        resolve(aws_files(tmp_path), {**ENV_KEYS, name: raw})


# -- Settings, Credentials, AwsFiles ----------------------------------------------------------


def _settings(endpoint_url: str | None, region: str = "eu-west-1") -> Settings:
    return Settings(
        endpoint_url=endpoint_url,
        region=region,
        profile=None,
        credentials=None,
        credentials_source="",
        needs_chain=False,
        addressing_style="path",
        max_retries=4,
        connect_timeout=10,
        read_timeout=60,
        use_local=False,
        local_dir=None,
    )


@pytest.mark.parametrize(
    ("endpoint", "is_aws"),
    [
        (None, True),
        ("https://s3.eu-west-1.amazonaws.com", True),
        ("https://s3.cn-north-1.amazonaws.com.cn", True),
        ("https://bucket.s3.us-east-1.amazonaws.com:443", True),
        ("http://127.0.0.1:9000", False),
        ("https://minio.example.com", False),
        ("https://notamazonaws.com", False),
        ("https://amazonaws.com.evil.example", False),
    ],
)
def test_settings_is_aws(endpoint: str | None, is_aws: bool) -> None:
    assert _settings(endpoint).is_aws is is_aws


def test_settings_endpoint_label() -> None:
    assert _settings(None, "eu-west-1").endpoint_label == "Amazon S3 (eu-west-1)"
    assert _settings("http://127.0.0.1:9000").endpoint_label == "http://127.0.0.1:9000"


def test_credentials_repr_hides_secret_and_token() -> None:
    credentials = Credentials("AKIAVISIBLE", "very-secret-value", "session-token-value")
    shown = repr(credentials)
    assert "AKIAVISIBLE" in shown
    assert "very-secret-value" not in shown
    assert "session-token-value" not in shown


def test_session_options_repr_hides_secret_and_token() -> None:
    options = SessionOptions(
        access_key_id="AKIAVISIBLE", secret_access_key="very-secret", session_token="tok-value"
    )
    shown = repr(options)
    assert "AKIAVISIBLE" in shown
    assert "very-secret" not in shown
    assert "tok-value" not in shown


def test_settings_repr_hides_secret(files: AwsFiles) -> None:
    assert "default-secret" not in repr(resolve(files))


def test_profile_names(files: AwsFiles) -> None:
    # 'sso-session corp' is not a profile; 'half' only exists in the credentials file
    assert files.profile_names() == [
        "assume",
        "default",
        "dev",
        "half",
        "process",
        "regiononly",
        "sso",
    ]


def test_profile_names_without_files(tmp_path: Path) -> None:
    assert aws_files(tmp_path).profile_names() == []


def test_profile_merges_both_files_and_credentials_file_wins(tmp_path: Path) -> None:
    files = aws_files(
        tmp_path,
        config="""
            [profile both]
            region = us-west-1
            aws_access_key_id = AKIACONFIG
        """,
        credentials="""
            [both]
            aws_access_key_id = AKIACREDS
            aws_secret_access_key = creds-secret
        """,
    )
    assert files.profile("both") == {
        "region": "us-west-1",
        "aws_access_key_id": "AKIACREDS",
        "aws_secret_access_key": "creds-secret",
    }
    assert files.profile("absent") is None


def test_config_section_needs_profile_prefix(tmp_path: Path) -> None:
    # In ~/.aws/config a named profile is '[profile NAME]'; a bare '[NAME]' is not one.
    files = aws_files(
        tmp_path,
        config="""
            [bare]
            region = us-west-1
        """,
    )
    assert files.profile("bare") is None
    assert files.profile_names() == []


def test_malformed_profile_file_is_a_config_error(tmp_path: Path) -> None:
    files = aws_files(tmp_path, config="this is not an ini file\n")
    with pytest.raises(ConfigError, match=f"cannot parse {files.config_path} near line 1"):
        files.profile("default")


def test_aws_files_from_env(tmp_path: Path) -> None:
    env = {
        "AWS_CONFIG_FILE": str(tmp_path / "cfg"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "creds"),
    }
    assert AwsFiles.from_env(env) == AwsFiles(tmp_path / "cfg", tmp_path / "creds")
    home_only = AwsFiles.from_env({"HOME": str(tmp_path)})
    assert home_only == AwsFiles(tmp_path / ".aws" / "config", tmp_path / ".aws" / "credentials")


def test_resolve_reads_files_named_in_env_when_none_given(tmp_path: Path) -> None:
    credentials = tmp_path / "creds"
    credentials.write_text("[default]\naws_access_key_id = AKIAF\naws_secret_access_key = s\n")
    env = {
        "AWS_CONFIG_FILE": str(tmp_path / "none"),
        "AWS_SHARED_CREDENTIALS_FILE": str(credentials),
    }
    settings = resolve_settings(SessionOptions(), env)
    assert settings.credentials == Credentials("AKIAF", "s")


def test_fractional_max_retries_is_refused() -> None:
    with pytest.raises(UsageError, match="whole number"):
        resolve_settings(
            SessionOptions(access_key_id="k", secret_access_key="s"),
            {"S3KIT_MAX_RETRIES": "2.5"},
            AwsFiles(Path("/nonexistent/config"), Path("/nonexistent/credentials")),
        )
