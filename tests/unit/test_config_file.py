"""s3kit.yaml: typed parsing, every problem with its line number, finding the file, and where
its aws section sits in the resolution order."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from s3kit._config import AwsFiles, SessionOptions, resolve_settings
from s3kit._config.connections import ConnectionStore, make_connection
from s3kit._config.file import (
    AwsConfig,
    ConfigFileError,
    S3KitConfig,
    find_config_file,
    parse_config,
)
from s3kit.errors import UsageError

KEYS = {"S3KIT_ACCESS_KEY_ID": "id", "S3KIT_SECRET_ACCESS_KEY": "secret"}

FULL = """\
aws:
  profile: work
  region: eu-west-1
  endpoint_url: http://127.0.0.1:8333/
  connection: minio
  addressing_style: path
sync:
  delete_removed: true
  verify_checksums: false
storage:
  default_storage_class: standard_ia
performance:
  parallel_uploads: 16
  multipart_threshold: 64MB
  multipart_chunksize: 8MiB
  max_bandwidth: 10MB
exclusions:
  - "*.tmp"
  - .git/*
"""


def problems_of(text: str) -> list[str]:
    with pytest.raises(ConfigFileError) as caught:
        parse_config(textwrap.dedent(text), source="s3kit.yaml")
    assert caught.value.exit_code == 2
    return list(caught.value.problems)


def test_a_full_file_becomes_typed_values() -> None:
    config = parse_config(FULL, source="s3kit.yaml")
    assert config.aws == AwsConfig(
        profile="work",
        region="eu-west-1",
        endpoint_url="http://127.0.0.1:8333",
        connection="minio",
        addressing_style="path",
    )
    assert config.sync.delete_removed is True
    assert config.sync.verify_checksums is False
    assert config.sync.follow_symlinks is None  # unset stays distinguishable from false
    assert config.storage.default_storage_class == "STANDARD_IA"
    assert config.performance.multipart_threshold == 64_000_000
    assert config.performance.multipart_chunksize == 8 * 1024 * 1024
    assert config.exclusions == ("*.tmp", ".git/*")
    assert config.transfer_overrides() == {
        "max_concurrent_files": 16,
        "multipart_threshold": 64_000_000,
        "multipart_chunksize": 8 * 1024 * 1024,
        "bandwidth": 10_000_000,
    }


@pytest.mark.parametrize("text", ["", "# only a comment\n", "aws:\nsync:\nexclusions:\n"])
def test_empty_file_or_sections_mean_defaults(text: str) -> None:
    config = parse_config(text)
    assert config.aws == AwsConfig()
    assert config.transfer_overrides() == {}
    assert config.exclusions == ()


def test_every_problem_is_reported_with_its_line() -> None:
    problems = problems_of(
        """\
        aws:
          region: eu-west-1
          regoin: typo
        performance:
          parallel_uploads: 0
          multipart_threshold: lots
          multipart_chunksize: 1MB
        sync:
          delete_removed: maybe
        colours: true
        exclusions: "*.tmp"
        """
    )
    assert problems == [
        "s3kit.yaml:3: unknown setting 'aws.regoin' — known: profile, region, endpoint_url,"
        " connection, addressing_style",
        "s3kit.yaml:5: performance.parallel_uploads must be a whole number from 1 to 1024, not 0",
        "s3kit.yaml:6: performance.multipart_threshold 'lots' is not a size — write it like"
        " 64MB or 8MiB",
        "s3kit.yaml:7: performance.multipart_chunksize must be at least 5MiB, not '1MB'",
        "s3kit.yaml:9: sync.delete_removed must be true or false, not 'maybe'",
        "s3kit.yaml:10: unknown section 'colours' — known: aws, sync, storage, performance,"
        " log, exclusions, deploy",
        "s3kit.yaml:11: exclusions must be a list of patterns, e.g. ['*.tmp', '.git/*']",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "aws:\n  secret_access_key: abc\n",
            "s3kit.yaml:2: unknown setting 'aws.secret_access_key'"
            " — s3kit.yaml never holds secrets; name an AWS profile instead",
        ),
        (
            "aws:\n  profile: AKIAIOSFODNN7EXAMPLE\n",
            "s3kit.yaml:2: aws.profile looks like a secret",
        ),
        (
            "aws:\n  endpoint_url: ftp://x\n",
            "s3kit.yaml:2: aws.endpoint_url 'ftp://x' is not a URL",
        ),
        ("aws:\n  connection: Prod\n", "s3kit.yaml:2: aws.connection connection name 'Prod'"),
        ("aws:\n  addressing_style: up\n", "s3kit.yaml:2: aws.addressing_style must be path"),
        (
            "storage:\n  default_storage_class: 'cold storage'\n",
            "s3kit.yaml:2: storage.default_storage_class 'cold storage' is not a storage class",
        ),
        ("aws:\n  region: a\n  region: b\n", "s3kit.yaml:3: aws.region appears twice"),
        ("aws: {}\naws: {}\n", "s3kit.yaml:2: section 'aws' appears twice"),
        ("aws: [1]\n", "s3kit.yaml:1: section 'aws' must be a mapping"),
        ("- aws\n", "s3kit.yaml:1: the file must be a mapping"),
        ("exclusions:\n  - ok\n  - ''\n  - [x]\n", "s3kit.yaml:3: each exclusion"),
        ("aws:\n  region: [unclosed\n", "s3kit.yaml:3: expected ',' or ']'"),
        ("performance:\n  max_bandwidth: true\n", "s3kit.yaml:2: performance.max_bandwidth must"),
    ],
)
def test_one_bad_value(text: str, expected: str) -> None:
    problems = problems_of(text)
    assert problems[0].startswith(expected), problems
    assert "AKIAIOSFODNN7EXAMPLE" not in " ".join(problems)


def test_a_problem_list_is_one_usage_error_with_all_lines() -> None:
    with pytest.raises(UsageError) as caught:
        parse_config("a: 1\nb: 2\n", source="f.yaml")
    assert str(caught.value).splitlines() == [
        f"f.yaml:1: unknown section 'a' — known: {KNOWN}",
        f"f.yaml:2: unknown section 'b' — known: {KNOWN}",
    ]


def test_find_config_file_order(tmp_path: Path) -> None:
    cwd, user = tmp_path / "project", tmp_path / "user"
    cwd.mkdir()
    user.mkdir()
    assert find_config_file(None, {}, cwd, user) is None
    (user / "s3kit.yaml").write_text("", encoding="utf-8")
    assert find_config_file(None, {}, cwd, user) == user / "s3kit.yaml"
    (cwd / "s3kit.yaml").write_text("", encoding="utf-8")
    assert find_config_file(None, {}, cwd, user) == cwd / "s3kit.yaml"
    named = tmp_path / "other.yaml"
    named.write_text("", encoding="utf-8")
    assert find_config_file(None, {"S3KIT_CONFIG": str(named)}, cwd, user) == named
    assert find_config_file(named, {"S3KIT_CONFIG": "/nowhere"}, cwd, user) == named
    with pytest.raises(UsageError, match="does not exist"):
        find_config_file(tmp_path / "missing.yaml", {}, cwd, user)


# -- resolution order ---------------------------------------------------------------------------


@pytest.fixture
def files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AwsFiles:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    folder = tmp_path / "aws"
    folder.mkdir()
    (folder / "config").write_text(
        "[default]\nregion = r-profile\nendpoint_url = http://127.0.0.1:9\n"
        "[profile work]\nregion = r-work\n"
        "aws_access_key_id = AKIDWORK\naws_secret_access_key = s\n",
        encoding="utf-8",
    )
    return AwsFiles(folder / "config", folder / "credentials")


def _write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "s3kit.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return str(path)


def test_file_aws_section_beats_the_profile_but_not_the_environment(
    tmp_path: Path, files: AwsFiles
) -> None:
    config = _write(tmp_path, "aws:\n  region: r-file\n  endpoint_url: http://127.0.0.1:5\n")
    env = {"S3KIT_CONFIG": config, **KEYS}
    settings = resolve_settings(SessionOptions(), env, files)
    assert (settings.region, settings.endpoint_url) == ("r-file", "http://127.0.0.1:5")
    env |= {"AWS_REGION": "r-env", "S3KIT_ENDPOINT_URL": "http://127.0.0.1:6"}
    settings = resolve_settings(SessionOptions(), env, files)
    assert (settings.region, settings.endpoint_url) == ("r-env", "http://127.0.0.1:6")
    settings = resolve_settings(SessionOptions(region="r-arg"), env, files)
    assert settings.region == "r-arg"


def test_file_profile_is_below_aws_profile(tmp_path: Path, files: AwsFiles) -> None:
    config = _write(tmp_path, "aws:\n  profile: work\n")
    settings = resolve_settings(SessionOptions(), {"S3KIT_CONFIG": config}, files)
    assert (settings.profile, settings.region) == ("work", "r-work")
    settings = resolve_settings(
        SessionOptions(), {"S3KIT_CONFIG": config, "AWS_PROFILE": "default", **KEYS}, files
    )
    assert settings.region == "r-profile"


def test_file_connection_sits_below_the_file_section_and_a_chosen_connection(
    tmp_path: Path, files: AwsFiles
) -> None:
    store = ConnectionStore()
    store.add(make_connection("filec", {"region": "r-filec", "endpoint_url": "http://127.0.0.1:7"}))
    store.add(make_connection("chosen", {"endpoint_url": "http://127.0.0.1:8"}))
    config = _write(tmp_path, "aws:\n  connection: filec\n  region: r-file\n")
    env = {"S3KIT_CONFIG": config, **KEYS}
    settings = resolve_settings(SessionOptions(), env, files)
    assert (settings.region, settings.endpoint_url) == ("r-file", "http://127.0.0.1:7")
    settings = resolve_settings(SessionOptions(), {**env, "S3KIT_CONNECTION": "chosen"}, files)
    assert (settings.region, settings.endpoint_url) == ("r-file", "http://127.0.0.1:8")


def test_default_config_is_empty() -> None:
    assert S3KitConfig().source is None
    assert S3KitConfig().transfer_overrides() == {}


KNOWN = "aws, sync, storage, performance, log, exclusions, deploy"


def test_a_deploy_section_holds_the_deploy_rules_with_their_lines() -> None:
    config = parse_config(
        "sync:\n  delete_removed: false\n"
        "deploy:\n  rules:\n    - match: '*.html'\n      gzip: true\n  grace: 1d\n",
        source="s3kit.yaml",
    )
    assert config.deploy is not None
    assert config.deploy.grace_seconds == 86400
    assert config.deploy.headers_for("index.html").gzip
    assert parse_config("sync:\n  delete_removed: false\n").deploy is None
    with pytest.raises(ConfigFileError, match=r"^s3kit.yaml:5: unknown rule key 'gzp'"):
        parse_config(
            "deploy:\n  rules:\n    - match: '*.html'\n\n      gzp: true\n", source="s3kit.yaml"
        )
