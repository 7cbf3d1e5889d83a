"""s3kit's settings: what they are (`settings`), where they come from, in a fixed order
(`resolve`), the AWS shared files (`aws_files`), s3kit.yaml (`file`) and saved connections
(`connections`). The names most callers need are importable from here."""

from s3kit._config.aws_files import AwsFiles
from s3kit._config.resolve import detect_ec2, resolve_settings
from s3kit._config.settings import (
    DEFAULT_REGION,
    AddressingStyle,
    Credentials,
    SessionOptions,
    Settings,
)

__all__ = [
    "DEFAULT_REGION",
    "AddressingStyle",
    "AwsFiles",
    "Credentials",
    "SessionOptions",
    "Settings",
    "detect_ec2",
    "resolve_settings",
]
