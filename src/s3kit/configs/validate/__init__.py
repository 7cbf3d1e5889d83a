"""Validation of the configuration store's bundles: one call, `validate_bundle`, for the five
tools the store keeps configurations of (Prometheus, Alertmanager, Loki, Jaeger v2, Grafana).

`validator="real"` runs the tool's own checker (real.py), `"builtin"` the checks written here
to reach the same verdict (one module per tool), `"auto"` the real one when it is installed.
A report's `ok` is True when no finding is an error. Nothing here writes to the bundle.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from pathlib import Path, PurePosixPath
from typing import Literal

from s3kit.configs.validate.model import Finding, ValidationReport
from s3kit.errors import ConfigError, NotSupported, UsageError

__all__ = ["TOOLS", "Finding", "ValidationReport", "validate_bundle"]

TOOLS = ("prometheus", "alertmanager", "loki", "jaeger", "grafana")
_CHECKED_SUFFIXES = {
    "prometheus": (".yml", ".yaml"),
    "alertmanager": (".yml", ".yaml"),
    "loki": (".yml", ".yaml"),
    "jaeger": (".yml", ".yaml"),
    "grafana": (".yml", ".yaml", ".json"),
}


def validate_bundle(
    tool: str,
    root: Path,
    files: Sequence[str],
    *,
    validator: Literal["auto", "real", "builtin"] = "auto",
) -> ValidationReport:
    """Check the bundle laid out in `root` (its `files`, relative to it) as `tool` would.

    Raises UsageError for an unknown tool or validator or a file name outside the root,
    ConfigError when `validator="real"` and the tool's checker is not installed, NotSupported
    for `"real"` on a tool that has no checker of its own (Grafana)."""
    from s3kit.configs.validate import real

    if tool not in TOOLS:
        raise UsageError(f"unknown tool {tool!r}: use one of {', '.join(TOOLS)}")
    if validator not in ("auto", "real", "builtin"):
        raise UsageError(f"unknown validator {validator!r}: use auto, real or builtin")
    names = [_relative(name) for name in files]
    notes: list[Finding] = []
    if not any(name.endswith(_CHECKED_SUFFIXES[tool]) for name in names):
        notes.append(
            Finding(".", None, f"the bundle holds no {tool} configuration file", "warning")
        )
    if validator != "builtin":
        executable, why = real.find_program(tool)
        if executable is not None:
            report = real.run_program(tool, executable, root, names)
            return ValidationReport.of(report.validator, [*notes, *report.findings])
        if validator == "real":
            message = real.missing_message(tool, why)
            if tool not in real.TOOL_PROGRAMS:
                raise NotSupported(message)
            raise ConfigError(message)
        if why is not None:
            notes.append(Finding(".", None, f"{why}: used the built-in checks", "warning"))
    module = importlib.import_module(f"s3kit.configs.validate.{tool}")
    findings: list[Finding] = module.check(root, names)
    return ValidationReport.of("builtin", [*notes, *findings])


def _relative(name: str) -> str:
    path = PurePosixPath(name)
    if not name or path.is_absolute() or ".." in path.parts:
        raise UsageError(f"bundle file {name!r} must be a path inside the bundle's root")
    return path.as_posix()
