"""The checks every configuration validator makes the same way: pure, raising `UsageError`
with the rule and field at fault before anything is sent."""

from __future__ import annotations

from typing import Any

from s3kit.errors import UsageError
from s3kit.service.configs.specs import Document


def positive_days(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise UsageError(f"{where} must be a whole number of days above 0, not {value!r}")
    return value


def need(condition: bool, message: str) -> None:
    if not condition:
        raise UsageError(message)


def unwrap(document: Any, wrapper: str, what: str) -> Document:
    """Accept both the bare document and the one wrapped as the API names it (what `aws s3api`
    prints, e.g. ``{"LifecycleConfiguration": {...}}``)."""
    if isinstance(document, dict) and set(document) == {wrapper}:
        document = document[wrapper]
    if not isinstance(document, dict):
        raise UsageError(f"{what} must be a mapping, not {type(document).__name__}")
    return dict(document)


def rules_of(document: Document, key: str, what: str) -> list[Document]:
    rules = document.get(key)
    need(isinstance(rules, list) and bool(rules), f"{what} needs a non-empty '{key}' list")
    assert isinstance(rules, list)
    for index, rule in enumerate(rules, 1):
        need(isinstance(rule, dict), f"{what}: {key}[{index}] must be a mapping")
    return rules


def rule_name(index: int, rule: Document) -> str:
    return f"rule {index}" + (f" ({rule['ID']})" if rule.get("ID") else "")
