"""One list of storage classes and one check of a class name, used by the library itself — a
script is refused what the CLI is refused, before any request is made."""

from __future__ import annotations

from typing import Any

import pytest

from s3kit._config.file import ConfigFileError, parse_config
from s3kit._session import Session
from s3kit._storage_classes import (
    ARCHIVE_CLASSES,
    REPLICA_STORAGE_CLASSES,
    STORAGE_CLASSES,
    TRANSITION_STORAGE_CLASSES,
    validate_storage_class,
)
from s3kit.cli.cp_mv import storage_class
from s3kit.errors import UsageError
from s3kit.service import S3Service
from s3kit.service.classes import DEFAULT_PRICES
from s3kit.service.configs import build_lifecycle_rule
from s3kit.transfer.context import WriteOptions
from tests.unit.fake_s3 import FakeS3

UNKNOWN = "unknown storage class 'STANDARDD' — use one of STANDARD, REDUCED_REDUNDANCY,"


def session_for(url: str) -> Session:
    return Session(endpoint_url=url, access_key_id="AKIDFAKE", secret_access_key="x", env={})


def test_a_class_name_is_checked_case_insensitively() -> None:
    assert validate_storage_class("standard_ia") == "STANDARD_IA"
    assert validate_storage_class("DEEP_ARCHIVE") == "DEEP_ARCHIVE"
    with pytest.raises(UsageError, match=UNKNOWN):
        validate_storage_class("STANDARDD")


def test_the_narrower_lists_are_parts_of_the_one_list() -> None:
    assert set(TRANSITION_STORAGE_CLASSES) < set(REPLICA_STORAGE_CLASSES) < set(STORAGE_CLASSES)
    assert set(ARCHIVE_CLASSES) < set(TRANSITION_STORAGE_CLASSES)


def test_every_class_has_a_list_price_but_the_hardware_ones() -> None:
    assert set(DEFAULT_PRICES) == set(STORAGE_CLASSES) - {"OUTPOSTS", "SNOW"}


def test_the_cli_option_uses_the_same_check() -> None:
    assert storage_class(None) is None
    assert storage_class("glacier_ir") == "GLACIER_IR"
    with pytest.raises(UsageError, match=UNKNOWN):
        storage_class("STANDARDD")


def test_write_options_refuse_an_unknown_class() -> None:
    assert WriteOptions(storage_class="onezone_ia").storage_class == "ONEZONE_IA"
    assert WriteOptions().storage_class is None
    with pytest.raises(UsageError, match=UNKNOWN):
        WriteOptions(storage_class="STANDARDD")


def test_set_storage_class_refuses_an_unknown_class_before_any_request() -> None:
    with FakeS3(200) as fake:
        service = S3Service(session_for(fake.url))
        with pytest.raises(UsageError, match=UNKNOWN):
            service.set_storage_class("bucket", "key", "STANDARDD")
        assert fake.requests == []


def test_lifecycle_transitions_take_only_transition_classes() -> None:
    rule: dict[str, Any] = build_lifecycle_rule(transitions=[(30, "GLACIER")])
    assert rule["Transitions"] == [{"Days": 30, "StorageClass": "GLACIER"}]
    with pytest.raises(UsageError, match="unknown storage class 'STANDARD'"):
        build_lifecycle_rule(transitions=[(30, "STANDARD")])


@pytest.mark.parametrize("name", ["STANDARDD", "COLD"])
def test_the_config_file_refuses_an_unknown_default_class(name: str) -> None:
    with pytest.raises(ConfigFileError) as caught:
        parse_config(f"storage:\n  default_storage_class: {name}\n")
    assert caught.value.problems == (
        f"s3kit.yaml:2: storage.default_storage_class '{name}' is not a storage class — use one"
        f" of {', '.join(STORAGE_CLASSES)}",
    )


def test_the_config_file_takes_a_known_class_in_any_case() -> None:
    config = parse_config("storage:\n  default_storage_class: glacier_ir\n")
    assert config.storage.default_storage_class == "GLACIER_IR"
