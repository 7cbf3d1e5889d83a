"""The built-in checks against the real tools: on every corpus case the built-in verdict (valid
or not) must be promtool 2.42's or amtool 0.25's, the programs `make test` unpacks from
Debian's packages into .venv/prometheus (tests/servers/unpack-debs.sh).

The corpus: the example configurations those Debian packages ship (read where the packages put
them, so a new package's examples join in), and the bundles, single-file cases and mutations
of tests/data/configs, all written for s3kit. A `known_gap` case is one where the two differ
on purpose (Debian's promtool is built without some service discoveries): it must still
differ, so a tool that changes shows up here. Loki, Jaeger and Grafana have no checker in the
unpacked tree; their cases run in the unit tests against the verdicts written in the corpus.

Skipped, before anything runs, when the unpacked programs are not there.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from s3kit.configs.validate import validate_bundle
from tests.servers.prometheus import BIN, PROMTOOL
from tests.unit.test_configs_validate import MAIN_FILE, Case, corpus_cases, lay_out

AMTOOL = BIN / "amtool"
UNPACKED = BIN.parents[1]  # .venv/prometheus
pytestmark = pytest.mark.skipif(
    not (PROMTOOL.is_file() and AMTOOL.is_file()),
    reason=f"promtool and amtool are unpacked into {BIN} by `make test`",
)

# Where Debian's prometheus and prometheus-alertmanager packages put their examples.
DEBIAN_EXAMPLES = {
    "prometheus": [
        "etc/prometheus/prometheus.yml",
        "usr/share/doc/prometheus/examples/prometheus.yml",
    ],
    "alertmanager": [
        "etc/prometheus/alertmanager.yml",
        "usr/share/doc/prometheus-alertmanager/examples/simple.yml",
        "usr/share/doc/prometheus-alertmanager/examples/ha/alertmanager.yml",
    ],
}


def debian_cases() -> list[Case]:
    cases = []
    for tool, paths in DEBIAN_EXAMPLES.items():
        for path in paths:
            source = UNPACKED / path
            if source.is_file():  # what the unpacked packages hold, listed before any run
                text = source.read_text(encoding="utf-8")
                cases.append(
                    Case(f"debian:{path}", tool, None, True, file=MAIN_FILE[tool], text=text)
                )
    return cases


ORACLE_CASES = debian_cases() + [
    c for c in corpus_cases() if c.tool in ("prometheus", "alertmanager")
]


def source_of(case: Case) -> str:
    """The case's group: its tool and where it comes from (one test each, for speed: a
    process per case is the cost, a pytest test per case would double it)."""
    origin = case.id.split(":", 1)[0] if ":" in case.id else "bundles"
    return f"{case.tool}-{'cases' if origin == case.tool else origin}"


GROUPS: dict[str, list[Case]] = {}
for _case in ORACLE_CASES:
    GROUPS.setdefault(source_of(_case), []).append(_case)


@pytest.fixture(autouse=True)
def _the_unpacked_tools(monkeypatch: pytest.MonkeyPatch) -> None:
    """The checkers the corpus verdicts were taken from, whatever else is on PATH."""
    monkeypatch.setenv("S3KIT_PROMTOOL", str(PROMTOOL))
    monkeypatch.setenv("S3KIT_AMTOOL", str(AMTOOL))


def test_the_oracle_corpus_covers_both_tools() -> None:
    assert sorted(GROUPS) == [
        "alertmanager-bundles",
        "alertmanager-cases",
        "alertmanager-debian",
        "alertmanager-mutation",
        "prometheus-bundles",
        "prometheus-cases",
        "prometheus-debian",
        "prometheus-mutation",
    ]
    assert sum(len(g) for n, g in GROUPS.items() if n.endswith("debian")) == 5
    assert len(ORACLE_CASES) > 300


@pytest.mark.parametrize("group", sorted(GROUPS))
def test_builtin_verdict_is_the_real_tools(group: str, tmp_path: Path) -> None:
    disagreements = []
    for index, case in enumerate(GROUPS[group]):
        root, files = lay_out(case, tmp_path / str(index))
        actual = validate_bundle(case.tool, root, files, validator="real")
        builtin = validate_bundle(case.tool, root, files, validator="builtin")
        assert actual.validator in ("promtool 2.42.0", "amtool 0.25.0")
        expected_builtin = (not actual.ok) if case.known_gap else actual.ok
        if actual.ok is not case.valid or builtin.ok is not expected_builtin:
            gap = f" (known gap: {case.known_gap})" if case.known_gap else ""
            disagreements.append(
                f"{case.id}: corpus says {case.valid}, {actual.validator} {actual.ok},"
                f" builtin {builtin.ok}{gap}"
                + "".join(f"\n    real: {f}" for f in actual.findings[:3])
                + "".join(f"\n    builtin: {f}" for f in builtin.findings[:3])
            )
    assert not disagreements, f"{len(disagreements)} of {len(GROUPS[group])}:\n" + "\n".join(
        disagreements
    )
