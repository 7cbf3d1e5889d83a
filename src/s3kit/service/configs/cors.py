"""Cross-origin resource sharing: which origins may use which methods and headers from a
browser."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from s3kit._aio import async_twin
from s3kit.service.configs.checks import need, rule_name, rules_of, unwrap
from s3kit.service.configs.specs import CORS, ConfigDocuments, Document

if TYPE_CHECKING:
    from mypy_boto3_s3.type_defs import CORSConfigurationTypeDef

CORS_METHODS = ("GET", "PUT", "POST", "DELETE", "HEAD")


def build_cors_rule(
    *,
    origins: Sequence[str],
    methods: Sequence[str],
    headers: Sequence[str] = (),
    expose_headers: Sequence[str] = (),
    max_age: int | None = None,
    rule_id: str | None = None,
) -> Document:
    """One CORS rule: which origins may use which methods (and headers)."""
    rule: Document = {
        "AllowedOrigins": list(origins),
        "AllowedMethods": [m.upper() for m in methods],
    }
    if rule_id:
        rule["ID"] = rule_id
    if headers:
        rule["AllowedHeaders"] = list(headers)
    if expose_headers:
        rule["ExposeHeaders"] = list(expose_headers)
    if max_age is not None:
        rule["MaxAgeSeconds"] = max_age
    validate_cors({"CORSRules": [rule]})
    return rule


def validate_cors(document: Any) -> Document:
    """Check a CORS configuration ``{"CORSRules": [...]}``."""
    config = unwrap(document, "CORSConfiguration", "a CORS configuration")
    rules = rules_of(config, "CORSRules", "a CORS configuration")
    need(len(rules) <= 100, f"a CORS configuration holds at most 100 rules, not {len(rules)}")
    for index, rule in enumerate(rules, 1):
        name = f"CORS {rule_name(index, rule)}"
        origins, methods = rule.get("AllowedOrigins"), rule.get("AllowedMethods")
        need(
            isinstance(origins, list) and bool(origins),
            f"{name} has no allowed origins — give at least one (e.g. https://example.com or *)",
        )
        need(
            isinstance(methods, list) and bool(methods),
            f"{name} has no allowed methods — give at least one of {', '.join(CORS_METHODS)}",
        )
        assert isinstance(methods, list)
        for method in methods:
            need(
                method in CORS_METHODS,
                f"{name}: unknown method {method!r} — use {', '.join(CORS_METHODS)}",
            )
        if "MaxAgeSeconds" in rule:
            age = rule["MaxAgeSeconds"]
            need(
                isinstance(age, int) and not isinstance(age, bool) and age >= 0,
                f"{name}: MaxAgeSeconds must be a whole number of seconds, 0 or more",
            )
    return config


class CorsMixin(ConfigDocuments):
    def get_cors(self, bucket: str) -> CORSConfigurationTypeDef | None:
        return self._get_document(CORS, bucket)

    def set_cors(self, bucket: str, config: Any) -> None:
        self._put_document(CORS, bucket, validate_cors(config))

    def delete_cors(self, bucket: str) -> None:
        self._delete_document(CORS, bucket)

    # -- awaitable twins: the same calls on a worker thread (s3kit._aio.async_twin) ---------
    get_cors_async = async_twin(get_cors)
    set_cors_async = async_twin(set_cors)
    delete_cors_async = async_twin(delete_cors)
