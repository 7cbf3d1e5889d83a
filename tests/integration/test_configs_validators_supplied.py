"""The built-in Loki and Jaeger checks against the real programs, when one is supplied: no loki
or otelcol binary is installed here (Debian packages neither), so the corpus verdicts of
tests/data/configs are checked against the real tool only where the person running the tests
names one, in the variable s3kit itself reads:

    S3KIT_LOKI=/path/to/loki .venv/bin/pytest tests/integration/test_configs_validators_supplied.py
    S3KIT_OTELCOL=/path/to/otelcol-contrib .venv/bin/pytest ...  # Jaeger v2 is a collector build

Each case must get the corpus' verdict from the real program, and the built-in check must agree
with the real program (a `known_gap` case must still differ). Without the variable the test is
skipped, with that reason, before anything runs. The variables are read when this module is
collected: the tests' isolated environment clears S3KIT_* before each test.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from s3kit.configs.validate import validate_bundle
from s3kit.configs.validate.real import TOOL_PROGRAMS
from tests.unit.test_configs_validate import Case, corpus_cases, lay_out

SUPPLIED = {tool: os.environ.get(TOOL_PROGRAMS[tool].env, "") for tool in ("loki", "jaeger")}


def cases_of(tool: str) -> list[Case]:
    return [c for c in corpus_cases() if c.tool == tool]


def test_the_corpus_has_cases_for_each_supplied_tool() -> None:
    assert all(len(cases_of(tool)) >= 3 for tool in SUPPLIED)


def disagreements(tool: str, tmp_path: Path) -> list[str]:
    found = []
    for index, case in enumerate(cases_of(tool)):
        root, files = lay_out(case, tmp_path / str(index))
        actual = validate_bundle(tool, root, files, validator="real")
        builtin = validate_bundle(tool, root, files, validator="builtin")
        assert actual.validator != "builtin", actual.validator
        expected_builtin = (not actual.ok) if case.known_gap else actual.ok
        if actual.ok is not case.valid or builtin.ok is not expected_builtin:
            found.append(
                f"{case.id}: corpus says {case.valid}, {actual.validator} {actual.ok},"
                f" builtin {builtin.ok}"
                + "".join(f"\n    real: {f}" for f in actual.findings[:3])
                + "".join(f"\n    builtin: {f}" for f in builtin.findings[:3])
            )
    return found


@pytest.mark.parametrize(
    "tool",
    [
        pytest.param(
            tool,
            marks=pytest.mark.skipif(
                not SUPPLIED[tool],
                reason=f"{TOOL_PROGRAMS[tool].env} is not set: name the"
                f" {TOOL_PROGRAMS[tool].names[0]} binary in it to check the built-in {tool}"
                " checks against the real one",
            ),
        )
        for tool in sorted(SUPPLIED)
    ],
)
def test_builtin_verdict_is_the_supplied_tools(
    tool: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(TOOL_PROGRAMS[tool].env, SUPPLIED[tool])
    found = disagreements(tool, tmp_path)
    assert not found, f"{len(found)} of {len(cases_of(tool))}:\n" + "\n".join(found)
