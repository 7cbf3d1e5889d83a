"""Saved connections: TOML round trip, names, secret refusal, the store, and where a connection
sits in the resolution order."""

from __future__ import annotations

import textwrap
import tomllib
from pathlib import Path

import pytest

from s3kit._config import AwsFiles, SessionOptions, resolve_settings
from s3kit._config.connections import (
    Connection,
    ConnectionStore,
    config_dir,
    dumps,
    loads,
    looks_like_secret,
    make_connection,
    validate_name,
)
from s3kit.cli.connections import format_table, profile_kind
from s3kit.errors import ConfigError, CredentialsError, UsageError

KEYS = {"S3KIT_ACCESS_KEY_ID": "id", "S3KIT_SECRET_ACCESS_KEY": "secret"}


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ConnectionStore:
    """The default store, in a temporary user config dir."""
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    assert config_dir() == tmp_path / "xdg" / "s3kit"
    return ConnectionStore()


def test_toml_round_trip_keeps_every_field_and_awkward_characters() -> None:
    connections = {
        "prod": make_connection(
            "prod",
            {
                "endpoint_url": "https://s3.example.com:9000/",
                "region": 'eu "west" \\ 1',
                "profile": "prod-admin",
                "bucket": "data",
                "addressing_style": "virtual",
            },
        ),
        "a-1_b": Connection(name="a-1_b", region="us-east-1"),
    }
    text = dumps(connections)
    assert tomllib.loads(text)["connections"]["prod"]["region"] == 'eu "west" \\ 1'
    back = loads(text)
    assert back == connections
    assert back["prod"].endpoint_url == "https://s3.example.com:9000"  # trailing / dropped
    assert text.index("[connections.a-1_b]") < text.index("[connections.prod]")


def test_empty_file_means_no_connections() -> None:
    assert loads("") == {}
    assert dumps({}).strip().startswith("#")


@pytest.mark.parametrize("name", ["prod", "a", "0", "minio-1", "my_store"])
def test_valid_names(name: str) -> None:
    assert validate_name(name) == name


@pytest.mark.parametrize("name", ["", "Prod", "-x", "_x", "a b", "a.b", "ä", "x" * 65, "a/b"])
def test_invalid_names_are_refused(name: str) -> None:
    with pytest.raises(UsageError, match="not valid"):
        validate_name(name)


@pytest.mark.parametrize(
    "value",
    [
        "AKIAIOSFODNN7EXAMPLE",
        "x-ASIAIOSFODNN7EXAMPLE",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "https://user:pw@s3.example.com",
    ],
)
def test_values_that_look_like_keys_are_refused(value: str) -> None:
    assert looks_like_secret(value)
    field = "endpoint_url" if value.startswith("https") else "profile"
    with pytest.raises(UsageError, match="never store secrets") as caught:
        make_connection("x", {field: value})
    assert value not in str(caught.value)


@pytest.mark.parametrize(
    "value",
    ["http://127.0.0.1:8333", "eu-central-1", "production-account-admin", "a" * 50, "my-bucket"],
)
def test_ordinary_values_are_not_secrets(value: str) -> None:
    assert not looks_like_secret(value)


@pytest.mark.parametrize("key", ["aws_secret_access_key", "secret_access_key", "session_token"])
def test_a_credential_field_in_the_file_is_refused(key: str) -> None:
    with pytest.raises(ConfigError, match="never store secrets"):
        loads(f'[connections.x]\n{key} = "abc"\n')


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("[connections.x\n", "cannot parse"),
        ('[other]\na = "b"\n', "unknown table"),
        ('[connections.x]\nnickname = "b"\n', "unknown setting"),
        ('[connections.x]\naddressing_style = "sideways"\n', "path, virtual or auto"),
        ('[connections.x]\nendpoint_url = "ftp://host"\n', "not valid"),
        ('[connections.X]\nregion = "r"\n', "not valid"),
        ("[connections.x]\nregion = 3\n", "must be a string"),
    ],
)
def test_a_bad_file_is_one_config_error(text: str, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        loads(text)


def test_store_add_edit_remove(store: ConnectionStore) -> None:
    assert store.load() == {}
    store.add(make_connection("minio", {"endpoint_url": "http://127.0.0.1:9000"}))
    with pytest.raises(UsageError, match="already exists"):
        store.add(make_connection("minio", {"region": "x"}))
    updated = store.edit("minio", {"region": "eu-west-1", "profile": "dev", "bucket": None})
    assert updated == Connection(
        name="minio", endpoint_url="http://127.0.0.1:9000", region="eu-west-1", profile="dev"
    )
    assert store.edit("minio", {"profile": ""}).profile is None  # "" clears
    assert [c.name for c in store] == ["minio"]
    assert "profile" not in store.path.read_text(encoding="utf-8")
    store.remove("minio")
    assert store.load() == {}
    with pytest.raises(UsageError, match="does not exist"):
        store.remove("minio")
    assert not list(store.path.parent.glob(".connections-*"))  # no temp files left


def test_store_refuses_a_secret_on_edit_and_leaves_the_file_alone(store: ConnectionStore) -> None:
    store.add(make_connection("minio", {"region": "r"}))
    before = store.path.read_text(encoding="utf-8")
    with pytest.raises(UsageError, match="never store secrets"):
        store.edit("minio", {"profile": "AKIAIOSFODNN7EXAMPLE"})
    assert store.path.read_text(encoding="utf-8") == before


# -- resolution order ---------------------------------------------------------------------------


def _files(tmp_path: Path, config: str = "") -> AwsFiles:
    folder = tmp_path / "aws"
    folder.mkdir(exist_ok=True)
    if config:
        (folder / "config").write_text(textwrap.dedent(config), encoding="utf-8")
    return AwsFiles(folder / "config", folder / "credentials")


def test_connection_supplies_endpoint_region_style_below_explicit_args(
    store: ConnectionStore, tmp_path: Path
) -> None:
    store.add(
        make_connection(
            "c",
            {
                "endpoint_url": "http://127.0.0.1:1",
                "region": "eu-north-1",
                "addressing_style": "virtual",
            },
        )
    )
    env = {"S3KIT_CONNECTION": "c", **KEYS}
    files = _files(tmp_path)
    settings = resolve_settings(SessionOptions(), env, files)
    assert (settings.endpoint_url, settings.region, settings.addressing_style) == (
        "http://127.0.0.1:1",
        "eu-north-1",
        "virtual",
    )
    explicit = resolve_settings(
        SessionOptions(endpoint_url="http://127.0.0.1:2", region="ap-south-1"), env, files
    )
    assert (explicit.endpoint_url, explicit.region) == ("http://127.0.0.1:2", "ap-south-1")


def test_connection_beats_the_environment_and_the_profile(
    store: ConnectionStore, tmp_path: Path
) -> None:
    store.add(make_connection("c", {"endpoint_url": "http://127.0.0.1:1", "region": "r-conn"}))
    env = {
        "S3KIT_CONNECTION": "c",
        "S3KIT_ENDPOINT_URL": "http://127.0.0.1:3",
        "AWS_REGION": "r-env",
        **KEYS,
    }
    files = _files(tmp_path, "[default]\nregion = r-profile\n")
    settings = resolve_settings(SessionOptions(), env, files)
    assert (settings.endpoint_url, settings.region) == ("http://127.0.0.1:1", "r-conn")
    del env["S3KIT_CONNECTION"]
    settings = resolve_settings(SessionOptions(), env, files)
    assert (settings.endpoint_url, settings.region) == ("http://127.0.0.1:3", "r-env")


def test_connection_profile_is_used_like_an_explicit_profile(
    store: ConnectionStore, tmp_path: Path
) -> None:
    store.add(make_connection("c", {"profile": "work"}))
    files = _files(
        tmp_path,
        """
        [profile work]
        region = eu-west-3
        endpoint_url = http://127.0.0.1:4
        aws_access_key_id = AKIDWORK
        aws_secret_access_key = work-secret
        """,
    )
    env = {"S3KIT_CONNECTION": "c", "AWS_ACCESS_KEY_ID": "env", "AWS_SECRET_ACCESS_KEY": "env"}
    settings = resolve_settings(SessionOptions(), env, files)
    assert settings.profile == "work"
    assert settings.region == "eu-west-3"
    assert settings.endpoint_url == "http://127.0.0.1:4"
    assert settings.credentials is not None
    assert settings.credentials.access_key_id == "AKIDWORK"  # the named profile beats AWS_*
    store.edit("c", {"profile": "missing"})
    with pytest.raises(CredentialsError, match="'missing'"):
        resolve_settings(SessionOptions(), env, files)


def test_a_missing_connection_is_a_usage_error(store: ConnectionStore, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="connection 'nope' does not exist") as caught:
        resolve_settings(SessionOptions(), {"S3KIT_CONNECTION": "nope"}, _files(tmp_path))
    assert caught.value.exit_code == 2


# -- profiles and tables --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "kind"),
    [
        ({"aws_access_key_id": "a", "aws_secret_access_key": "b"}, "keys"),
        ({"role_arn": "arn:aws:iam::1:role/r", "source_profile": "x"}, "role"),
        ({"web_identity_token_file": "/t"}, "role"),
        ({"sso_session": "corp", "sso_account_id": "1"}, "sso"),
        ({"sso_start_url": "https://x"}, "sso"),
        ({"credential_process": "/bin/creds"}, "process"),
        ({"region": "us-east-1"}, "-"),
    ],
)
def test_profile_kind(values: dict[str, str], kind: str) -> None:
    assert profile_kind(values) == kind


def test_format_table_aligns_columns() -> None:
    text = format_table(("A", "LONGER"), [("xyz", "1"), ("q", "22")])
    assert text.splitlines() == ["A    LONGER", "xyz  1", "q    22"]
