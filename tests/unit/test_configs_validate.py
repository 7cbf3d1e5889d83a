"""The configuration store's validators (s3kit.configs.validate), built-in checks only: each
tool's bundle accepted, and each mutation refused with the file and line; the duration, regexp,
template, URL and matcher parsers; the report's invariants; the real-tool runner against a
stand-in program (the real promtool and amtool are in
tests/integration/test_configs_validators_oracle.py).

The corpus is tests/data/configs/: bundles (one folder each), single-file cases
(`<tool>/cases.yaml`) and mutations (`mutations.yaml`), each with the verdict the real tool
gives — all written for s3kit (the oracle test also reads the examples Debian's packages
ship, where they are unpacked; none is copied here). The helpers that lay a case out
(`corpus_cases`, `lay_out`) are shared with the oracle test.
"""

from __future__ import annotations

import os
import shutil
import stat
import textwrap
from collections.abc import Iterator
from dataclasses import FrozenInstanceError, dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from s3kit.configs.validate import TOOLS, Finding, ValidationReport, real, validate_bundle
from s3kit.configs.validate.alertmanager import parse_matchers
from s3kit.configs.validate.durations import (
    parse_base2_bytes,
    parse_go_duration,
    parse_prometheus_duration,
)
from s3kit.configs.validate.gosyntax import (
    GO_TEMPLATE_BUILTINS,
    regex_error,
    template_error,
    url_error,
)
from s3kit.configs.validate.prometheus_rules import PROMETHEUS_TEMPLATE_FUNCS, promql_error
from s3kit.errors import ConfigError, NotSupported, UsageError

CORPUS = Path(__file__).resolve().parents[1] / "data" / "configs"
MAIN_FILE = {"prometheus": "prometheus.yml", "alertmanager": "alertmanager.yml"}


# --- The corpus ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One corpus case: a bundle folder, optionally changed, and the real tool's verdict."""

    id: str
    tool: str
    base: str | None  # a bundle folder under CORPUS, or None for a single-file case
    valid: bool
    file: str = ""
    text: str | None = None  # a single-file case's content
    change: tuple[tuple[str, Any], ...] = ()
    known_gap: str = ""
    alone: bool = False  # check only `file` (the other files of the folder are its neighbours)


def corpus_cases() -> list[Case]:
    cases: list[Case] = []
    for tool_dir in sorted(p for p in CORPUS.iterdir() if p.is_dir() and p.name in TOOLS):
        for bundle in sorted(p for p in tool_dir.iterdir() if p.is_dir()):
            cases.append(
                Case(
                    f"{tool_dir.name}/{bundle.name}",
                    tool_dir.name,
                    f"{tool_dir.name}/{bundle.name}",
                    True,
                )
            )
        listed = tool_dir / "cases.yaml"
        if listed.is_file():
            for item in yaml.safe_load(listed.read_text(encoding="utf-8")):
                cases.append(
                    Case(
                        f"{tool_dir.name}:{item['id']}",
                        tool_dir.name,
                        None,
                        item["valid"],
                        file=item.get("file", MAIN_FILE[tool_dir.name]),
                        text=item["text"],
                        known_gap=item.get("known_gap", ""),
                    )
                )
    for item in yaml.safe_load((CORPUS / "mutations.yaml").read_text(encoding="utf-8")):
        change = tuple((k, item[k]) for k in ("replace", "append", "remove", "write") if k in item)
        cases.append(
            Case(
                f"mutation:{item['id']}",
                item["base"].split("/")[0],
                item["base"],
                item["valid"],
                file=item["file"],
                change=change,
            )
        )
    return cases


def lay_out(case: Case, where: Path) -> tuple[Path, list[str]]:
    """The case's bundle: (root, its files). An unchanged corpus folder is checked where it is
    (the validators only read); a changed or single-file one is laid out under `where`."""
    if case.base is not None and not case.change:
        root = CORPUS / case.base
        if case.alone:
            return root, [case.file]
        return root, sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
    root = where / "bundle"
    if case.base is not None:
        shutil.copytree(CORPUS / case.base, root)
    else:
        root.mkdir(parents=True)
        (root / case.file).write_text(case.text or "", encoding="utf-8")
    target = root / case.file
    for kind, value in case.change:
        if kind == "replace":
            old, new = value
            text = target.read_text(encoding="utf-8")
            assert old in text, f"{case.id}: {old!r} is not in {case.file}"
            target.write_text(text.replace(old, new, 1), encoding="utf-8")
        elif kind == "append":
            target.write_text(target.read_text(encoding="utf-8") + value, encoding="utf-8")
        elif kind == "remove":
            target.unlink()
        elif kind == "write":
            target.write_text(value, encoding="utf-8")
    files = sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())
    return root, files


CASES = corpus_cases()


def test_the_corpus_has_every_kind_of_case() -> None:
    tools = {case.tool for case in CASES}
    assert tools == set(TOOLS)
    assert sum(1 for c in CASES if c.valid) > 50 and sum(1 for c in CASES if not c.valid) > 50
    assert len({case.id for case in CASES}) == len(CASES)


@pytest.mark.parametrize("case", [c for c in CASES if not c.known_gap], ids=lambda c: c.id)
def test_builtin_verdict_matches_the_corpus(case: Case, tmp_path: Path) -> None:
    root, files = lay_out(case, tmp_path)
    report = validate_bundle(case.tool, root, files, validator="builtin")
    assert report.ok is case.valid, [str(f) for f in report.findings]
    assert report.validator == "builtin"
    if not case.valid:
        assert report.errors and all(f.file in files for f in report.errors)


# --- Prometheus ------------------------------------------------------------------------------


def bundle(tmp_path: Path, files: dict[str, str]) -> tuple[Path, list[str]]:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return tmp_path, sorted(files)


def errors_of(tool: str, tmp_path: Path, files: dict[str, str]) -> list[Finding]:
    root, names = bundle(tmp_path, files)
    return list(validate_bundle(tool, root, names, validator="builtin").errors)


PROM_OK = textwrap.dedent(
    """\
    global:
      scrape_interval: 1m30s
    rule_files: [rules/*.yml]
    scrape_configs:
      - job_name: node
        static_configs:
          - targets: ['localhost:9100']
    """
)
RULES_OK = textwrap.dedent(
    """\
    groups:
      - name: g
        rules:
          - alert: Down
            expr: up == 0
            for: 1h30m
    """
)


def test_prometheus_bundle_with_its_rules_passes(tmp_path: Path) -> None:
    assert (
        errors_of("prometheus", tmp_path, {"prometheus.yml": PROM_OK, "rules/a.yml": RULES_OK})
        == []
    )


@pytest.mark.parametrize(
    ("change", "message", "line"),
    [
        (("- job_name: node", "- honor_labels: true"), "job_name is empty", 5),
        (("scrape_configs:", "scrape_config:"), "field scrape_config not found", 4),
        (("  static_configs:", "  static_config:"), "field static_config not found", 6),
        (
            ("scrape_interval: 1m30s", "scrape_interval: 1.5m"),
            'not a valid duration string: "1.5m"',
            2,
        ),
        (("scrape_interval: 1m30s", "scrape_interval: 30s1m"), "not a valid duration string", 2),
        (("scrape_interval: 1m30s", "scrape_interval: 90"), 'not a valid duration string: "90"', 2),
    ],
)
def test_prometheus_config_mutations_name_the_line(
    tmp_path: Path, change: tuple[str, str], message: str, line: int
) -> None:
    text = PROM_OK.replace(*change)
    found = errors_of("prometheus", tmp_path, {"prometheus.yml": text, "rules/a.yml": RULES_OK})
    assert [(f.file, f.line) for f in found if message in f.message] == [("prometheus.yml", line)]


def test_prometheus_duplicate_job(tmp_path: Path) -> None:
    text = PROM_OK + "  - job_name: node\n"
    found = errors_of("prometheus", tmp_path, {"prometheus.yml": text, "rules/a.yml": RULES_OK})
    assert [f.message for f in found] == ['found multiple scrape configs with job name "node"']
    assert found[0].line == 8


def test_prometheus_missing_rule_file_and_folder_relative_paths(tmp_path: Path) -> None:
    config = "rule_files: [rules/a.yml]\n"
    found = errors_of("prometheus", tmp_path / "one", {"prometheus.yml": config})
    assert [f.message for f in found] == ['"rules/a.yml" does not point to an existing file']
    # Relative to the configuration's folder, as Prometheus resolves it.
    nested = {"prom/prometheus.yml": config, "prom/rules/a.yml": RULES_OK}
    assert errors_of("prometheus", tmp_path / "two", nested) == []
    beside_root = {"prom/prometheus.yml": config, "rules/a.yml": RULES_OK}
    assert errors_of("prometheus", tmp_path / "three", beside_root)


def test_prometheus_rule_file_mutations(tmp_path: Path) -> None:
    bad_promql = RULES_OK.replace("up == 0", "sum(up")
    found = errors_of("prometheus", tmp_path / "a", {"r.yml": bad_promql})
    assert (
        len(found) == 1
        and "could not parse expression: unclosed left parenthesis" in found[0].message
    )
    assert found[0].line == 5
    later_function = RULES_OK.replace("up == 0", "info(up)")
    assert (
        "unknown function"
        in errors_of("prometheus", tmp_path / "b", {"r.yml": later_function})[0].message
    )
    bad_for = RULES_OK.replace("1h30m", "90 minutes")
    assert errors_of("prometheus", tmp_path / "c", {"r.yml": bad_for})[0].line == 6
    template = RULES_OK + "        annotations: {summary: '{{ $labels.job '}\n"
    assert (
        "unclosed action" in errors_of("prometheus", tmp_path / "d", {"r.yml": template})[0].message
    )


def test_prometheus_rules_named_by_a_config_are_checked_once(tmp_path: Path) -> None:
    root, files = bundle(
        tmp_path, {"prometheus.yml": PROM_OK, "rules/a.yml": RULES_OK.replace("up == 0", "up ==")}
    )
    report = validate_bundle("prometheus", root, files, validator="builtin")
    assert [(f.file, f.line) for f in report.errors] == [("rules/a.yml", 5)]


def test_prometheus_duplicate_rules_are_a_warning(tmp_path: Path) -> None:
    twice = RULES_OK + "      - alert: Down\n        expr: up == 0\n"
    root, files = bundle(tmp_path, {"r.yml": twice})
    report = validate_bundle("prometheus", root, files, validator="builtin")
    assert report.ok and [f.severity for f in report.findings] == ["warning"]


def test_a_finding_never_repeats_a_url_it_refuses(tmp_path: Path) -> None:
    text = "scrape_configs:\n- job_name: j\n  proxy_url: 'http://user:s3cret@proxy:port'\n"
    found = errors_of("prometheus", tmp_path, {"prometheus.yml": text})
    assert found and all("s3cret" not in f.message for f in found)


def test_a_finding_never_repeats_a_misplaced_string(tmp_path: Path) -> None:
    text = "scrape_configs:\n- job_name: j\n  basic_auth: hunter2\n  honor_labels: maybe\n"
    found = errors_of("prometheus", tmp_path, {"prometheus.yml": text})
    assert [f.line for f in found] == [3, 4]
    assert all("hunter2" not in f.message and "maybe" not in f.message for f in found)


def test_prometheus_yaml_syntax_error_has_its_line(tmp_path: Path) -> None:
    found = errors_of("prometheus", tmp_path, {"prometheus.yml": "global:\n  a: [1,\n"})
    assert found[0].line == 3 and found[0].message.startswith("YAML syntax error")


# --- Alertmanager ----------------------------------------------------------------------------

AM_OK = textwrap.dedent(
    """\
    route:
      receiver: team
      group_by: ['...']
      routes:
        - matchers: ['severity=~"critical|page"', 'env!="dev"']
          receiver: pager
          group_wait: 1m30s
    receivers:
      - name: team
      - name: pager
        webhook_configs:
          - url: http://relay:8080/
    """
)


def test_alertmanager_bundle_passes(tmp_path: Path) -> None:
    assert errors_of("alertmanager", tmp_path, {"alertmanager.yml": AM_OK}) == []


@pytest.mark.parametrize(
    ("change", "message", "line"),
    [
        (("receiver: pager", "receiver: pagers"), 'undefined receiver "pagers" used in route', 6),
        (("- name: pager", "- name: team"), 'notification config name "team" is not unique', 10),
        (("group_wait: 1m30s", "group_wait: 1m 30s"), 'not a valid duration string: "1m 30s"', 7),
        (("'env!=\"dev\"'", "'env!==\"dev\"'"), "matcher value contains unescaped double quote", 5),
        (("  group_by:", "  group_bye:"), "field group_bye not found in type config.Route", 3),
        (("  receiver: team\n", ""), "root route must specify a default receiver", 2),
    ],
)
def test_alertmanager_mutations_name_the_line(
    tmp_path: Path, change: tuple[str, str], message: str, line: int
) -> None:
    text = AM_OK.replace(*change)
    found = errors_of("alertmanager", tmp_path, {"alertmanager.yml": text})
    assert [f.line for f in found if message in f.message] == [line], [str(f) for f in found]


def test_alertmanager_templates_resolve_against_the_config_folder(tmp_path: Path) -> None:
    config = AM_OK + "templates: ['templates/*.tmpl']\n"
    good = {
        "am/alertmanager.yml": config,
        "am/templates/a.tmpl": '{{ define "x" }}{{ .Status | toUpper }}{{ end }}',
    }
    assert errors_of("alertmanager", tmp_path / "good", good) == []
    bad = {**good, "am/templates/a.tmpl": '{{ define "x" }}\n{{ if .Alerts }}\n{{ end }}\n'}
    found = errors_of("alertmanager", tmp_path / "bad", bad)
    assert [(f.file, f.line) for f in found] == [("am/templates/a.tmpl", 4)]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('a="b"', None),
        ('{a="b", c=~"d|e", f!="g",}', None),
        ("a=b,c!~d.*", None),
        ('quote="She said: \\"Hi, ladies!\\""', None),
        ('a=="b"', "matcher value contains unescaped double quote"),
        ('1a="b"', "bad matcher format"),
        ('a=~"("', "error parsing regexp"),
        ('a="b', "matcher value contains unescaped double quote"),
    ],
)
def test_alertmanager_matchers(text: str, problem: str | None) -> None:
    found = parse_matchers(text)
    assert (found is None) if problem is None else (found is not None and problem in found)


# --- Loki, Jaeger, Grafana -------------------------------------------------------------------

LOKI_OK = textwrap.dedent(
    """\
    auth_enabled: false
    schema_config:
      configs:
        - from: 2024-01-01
          store: tsdb
          object_store: filesystem
          schema: v13
          index: {prefix: index_, period: 24h}
    limits_config:
      retention_period: 4w2d
      ruler_remote_write_timeout: 1.5m
    """
)


@pytest.mark.parametrize(
    ("change", "message", "line"),
    [
        (("limits_config:", "limit_config:"), "field limit_config not found", 9),
        (("2024-01-01", "2024-02-30"), "day or month out of range", 4),
        (("schema: v13", "schema: 13"), "invalid schema version", 7),
        (("4w2d", "2d4w"), 'not a valid duration string: "2d4w"', 10),
        (("1.5m", "1m30"), "missing unit in duration", 11),
        (
            ("period: 24h", "period: 7d"),
            "tsdb must always have periodic config for index set to 24h",
            8,
        ),
    ],
)
def test_loki_mutations(tmp_path: Path, change: tuple[str, str], message: str, line: int) -> None:
    assert errors_of("loki", tmp_path / "ok", {"loki.yaml": LOKI_OK}) == []
    found = errors_of("loki", tmp_path / "bad", {"loki.yaml": LOKI_OK.replace(*change)})
    assert [f.line for f in found if message in f.message] == [line], [str(f) for f in found]


OTEL_OK = textwrap.dedent(
    """\
    receivers:
      otlp: {protocols: {grpc: {}}}
    processors:
      batch: {timeout: 200ms}
    exporters:
      jaeger_storage_exporter: {trace_storage: memstore}
    service:
      pipelines:
        traces:
          receivers: [otlp]
          processors: [batch]
          exporters: [jaeger_storage_exporter]
    """
)


def test_jaeger_pipeline_naming_an_undeclared_exporter(tmp_path: Path) -> None:
    assert errors_of("jaeger", tmp_path / "ok", {"config.yaml": OTEL_OK}) == []
    text = OTEL_OK.replace("[jaeger_storage_exporter]", "[jaeger_storage_exporter, otlp/backup]")
    found = errors_of("jaeger", tmp_path / "bad", {"config.yaml": text})
    assert [(f.line, f.message) for f in found] == [
        (
            12,
            'pipeline "traces" references exporter "otlp/backup" which is not configured'
            " under exporters:",
        )
    ]


def test_jaeger_pipeline_names_and_durations(tmp_path: Path) -> None:
    spans = OTEL_OK.replace("    traces:", "    spans:")
    assert (
        "the type must be one of traces, metrics, logs"
        in errors_of("jaeger", tmp_path / "a", {"c.yaml": spans})[0].message
    )
    duration = OTEL_OK.replace("200ms", "200 ms")
    assert errors_of("jaeger", tmp_path / "b", {"c.yaml": duration})[0].line == 4


DATASOURCES = textwrap.dedent(
    """\
    apiVersion: 1
    datasources:
      - name: Prometheus
        type: prometheus
        url: http://prometheus:9090
        isDefault: true
    """
)


def test_grafana_two_default_datasources_across_files(tmp_path: Path) -> None:
    other = DATASOURCES.replace("Prometheus", "Loki").replace("prometheus", "loki")
    files = {"datasources/a.yaml": DATASOURCES, "datasources/b.yaml": other}
    found = errors_of("grafana", tmp_path, files)
    assert [(f.file, f.line) for f in found] == [("datasources/b.yaml", 6)]
    assert "only one datasource per organization can be marked as default" in found[0].message
    in_org_2 = other + "    orgId: 2\n"
    assert errors_of("grafana", tmp_path / "org", {**files, "datasources/b.yaml": in_org_2}) == []


@pytest.mark.parametrize(
    ("uid", "problem"),
    [
        ("node-overview_2", None),
        ("node overview", "may hold only letters, digits"),
        ("x" * 41, "at most 40"),
        ("x" * 40, None),
    ],
)
def test_grafana_dashboard_uid(tmp_path: Path, uid: str, problem: str | None) -> None:
    dashboard = f'{{\n  "title": "Nodes",\n  "uid": "{uid}"\n}}\n'
    found = errors_of("grafana", tmp_path, {"dashboards/nodes.json": dashboard})
    if problem is None:
        assert found == []
    else:
        assert [f.line for f in found if problem in f.message] == [3]


def test_grafana_uids_unique_across_dashboards(tmp_path: Path) -> None:
    dashboard = '{"title": "A", "uid": "same"}'
    found = errors_of("grafana", tmp_path, {"a.json": dashboard, "b.json": dashboard})
    assert [f.file for f in found] == ["b.json"] and "also used by a.json" in found[0].message


# --- Durations and Go's syntaxes -------------------------------------------------------------

S, M, H, D = 10**9, 60 * 10**9, 3600 * 10**9, 86400 * 10**9


@pytest.mark.parametrize(
    ("text", "ns"),
    [("0", 0), ("1m30s", 90 * S), ("1h", H), ("5m", 5 * M), ("1d12h", 36 * H), ("2w", 14 * D),
     ("1y", 365 * D), ("100ms", 10**8), ("1h30m15s10ms", H + 30 * M + 15 * S + 10**7)],
)  # fmt: skip
def test_prometheus_durations(text: str, ns: int) -> None:
    assert parse_prometheus_duration(text) == ns


@pytest.mark.parametrize("text", ["", "1.5h", "30m1h", "5", "-1m", "1h 30m", "1M", "300y", "1s1s"])
def test_prometheus_durations_refused(text: str) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_prometheus_duration(text)


@pytest.mark.parametrize(
    ("text", "ns"),
    [("0", 0), ("1.5h", 90 * M), ("300ms", 3 * 10**8), ("-1m", -M), ("+2s", 2 * S),
     ("1h30m", 90 * M), ("30m1h", 90 * M), ("10µs", 10**4), ("10us", 10**4), (".5s", S // 2)],
)  # fmt: skip
def test_go_durations(text: str, ns: int) -> None:
    assert parse_go_duration(text) == ns


@pytest.mark.parametrize("text", ["", "1d", "5", "1h 30m", "1.s.", ".s", "3000000h"])
def test_go_durations_refused(text: str) -> None:
    with pytest.raises(ValueError, match="time: "):
        parse_go_duration(text)


def test_base2_bytes() -> None:
    assert parse_base2_bytes("10MB") == parse_base2_bytes("10MiB") == 10 * 1024**2
    assert parse_base2_bytes("1.5KB") == 1536 and parse_base2_bytes("0") == 0
    for bad in ("10", "10 MB", "10kb", "10M"):
        with pytest.raises(ValueError, match="units"):
            parse_base2_bytes(bad)


@pytest.mark.parametrize(
    ("pattern", "problem"),
    [
        ("a)|(b", None),  # valid once wrapped in ^(?:…)$, as Prometheus wraps it
        ("(?i)foo|(?s:.)", None),
        (r"\d+\pL\p{Greek}[[:alpha:]]\Qa.b\E\z", None),
        ("^*", None),
        ("(?P<a>x)(?P<a>y)", None),
        ("(?=x)", "invalid or unsupported Perl syntax"),
        ("(?<n>x)", "invalid or unsupported Perl syntax"),
        (r"(a)\1", "invalid escape sequence"),
        (r"\Z", "invalid escape sequence"),
        ("a{1001}", "invalid repeat count"),
        ("a*+", "invalid nested repetition operator"),
        ("[[:foo:]]", "invalid character class range"),
        ("(a", "error parsing regexp"),
    ],
)
def test_go_regexp(pattern: str, problem: str | None) -> None:
    found = regex_error(pattern)
    assert (found is None) if problem is None else (found is not None and problem in found)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("{{ $labels.instance }} at {{ $value | humanize }}", None),
        ('{{/* note */}}{{- with $x := 1 -}}{{ $x }}{{ end }}{{ printf "%d" 1 }}', None),
        ("{{ range $i, $e := .Alerts }}{{ if gt $i 1 }}{{ break }}{{ end }}{{ end }}", None),
        ('{{ template "x" . }}{{ "}}" }}', None),
        ("{{ $labels.instance ", "unclosed action"),
        ("{{ humanise $value }}", 'function "humanise" not defined'),
        ("{{ $nope }}", "undefined variable"),
        ("{{ if .A }}", "unexpected EOF"),
        ("{{ end }}", "unexpected {{end}}"),
        ("{{ }}", "missing value for command"),
        ("{{ break }}", "outside {{range}}"),
        ("{{ range $i := .A }}{{ end }}{{ $i }}", "undefined variable"),
    ],
)
def test_go_template_parse(text: str, problem: str | None) -> None:
    found = template_error(text, PROMETHEUS_TEMPLATE_FUNCS, variables=("$labels", "$value"))
    assert (found is None) if problem is None else (found is not None and problem in found)
    assert template_error("{{ toUpper .Status }}", GO_TEMPLATE_BUILTINS) is not None


@pytest.mark.parametrize(
    ("url", "problem"),
    [("http://h:9090/x?y=1", None), ("https://[::1]:443/", None), ("/relative", None),
     ("http://h:port", "invalid port"), ("%zz", "invalid URL escape"), (":x", "missing protocol"),
     ("a:b/c", None), ("ab:c", None), ("http://h\n", "control character")],
)  # fmt: skip
def test_go_url_parse(url: str, problem: str | None) -> None:
    found = url_error(url)
    assert (found is None) if problem is None else (found is not None and problem in found)


@pytest.mark.parametrize(
    ("expr", "problem"),
    [("sum by (job) (rate(x[5m]))", None), ("holt_winters(x[5m], 0.5, 0.5)", None),
     ("x @ start()", None), ("rate(x)", "expected type"), ('{"a.b"}', "unexpected string"),
     ("limitk(2, x)", "unexpected aggregation"), ("sort_by_label(x, 'a')", "unknown function"),
     ('label_replace(x, "a", "$1", "b", "(.*)")', None)],
)  # fmt: skip
def test_promql_of_prometheus_2_42(expr: str, problem: str | None) -> None:
    found = promql_error(expr)
    assert (found is None) if problem is None else (found is not None and problem in found)


# --- The report and the contract -------------------------------------------------------------


def test_report_and_finding_invariants() -> None:
    error = Finding("a.yml", 3, "bad", "error", "builtin")
    warning = Finding("a.yml", None, "odd", "warning")
    assert ValidationReport.of("builtin", [warning]).ok
    assert not ValidationReport.of("builtin", [warning, error]).ok
    with pytest.raises(ValueError, match="ok must be True exactly"):
        ValidationReport(ok=True, validator="builtin", findings=(error,))
    with pytest.raises(ValueError, match="severity"):
        Finding("a.yml", 1, "x", "fatal")  # type: ignore[arg-type]
    with pytest.raises(FrozenInstanceError):
        error.line = 4  # type: ignore[misc]
    assert str(error) == "a.yml:3: error: bad"


def test_validate_bundle_refuses_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="unknown tool"):
        validate_bundle("nagios", tmp_path, [])
    with pytest.raises(UsageError, match="unknown validator"):
        validate_bundle("loki", tmp_path, [], validator="maybe")  # type: ignore[arg-type]
    for name in ("../x.yml", "/etc/x.yml"):
        with pytest.raises(UsageError, match="inside the bundle"):
            validate_bundle("loki", tmp_path, [name], validator="builtin")


def test_an_empty_bundle_is_a_warning(tmp_path: Path) -> None:
    report = validate_bundle("loki", tmp_path, ["README.md"], validator="builtin")
    assert report.ok and "holds no loki configuration file" in report.findings[0].message


def test_real_without_the_tool_says_how_to_fix_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("S3KIT_LOKI", str(tmp_path / "no-loki"))
    with pytest.raises(ConfigError, match=r"S3KIT_LOKI=.*not an executable file.*builtin"):
        validate_bundle("loki", tmp_path, ["loki.yaml"], validator="real")
    report = validate_bundle("loki", tmp_path, ["loki.yaml"], validator="auto")
    assert report.validator == "builtin"
    assert any("used the built-in checks" in f.message for f in report.findings)
    with pytest.raises(NotSupported, match="no checker of its own"):
        validate_bundle("grafana", tmp_path, [], validator="real")


def test_validator_real_without_the_tool_fails_in_one_line_and_never_falls_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from s3kit.cli.app import app

    (tmp_path / "loki.yaml").write_text("auth_enabled: false\n")
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))  # no loki anywhere
    args = ["configs", "validate", "loki", str(tmp_path), "--validator", "real"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code != 0
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "s3kit: error: cannot run the real loki checker: loki is not on PATH — install it,"
        " set S3KIT_LOKI to its path, or use the built-in checks (--validator builtin)"
    ]


def test_find_program_order(tmp_path: Path) -> None:
    on_path, bundled = tmp_path / "path", tmp_path / "bundled"
    for folder in (on_path, bundled):
        fake_program(folder / "amtool", "")
    explicit = fake_program(tmp_path / "mine", "")
    env = {"PATH": str(on_path), "S3KIT_AMTOOL": str(explicit)}
    assert real.find_program("alertmanager", environ=env, bundled=bundled) == (explicit, None)
    env.pop("S3KIT_AMTOOL")
    assert real.find_program("alertmanager", environ=env, bundled=bundled) == (
        on_path / "amtool",
        None,
    )
    env["PATH"] = str(tmp_path / "empty")
    assert real.find_program("alertmanager", environ=env, bundled=bundled) == (
        bundled / "amtool",
        None,
    )
    assert real.find_program("alertmanager", environ=env, bundled=tmp_path / "none") == (None, None)
    assert real.find_program("grafana", environ=env) == (None, None)


def fake_program(path: Path, body: str) -> Path:
    """A stand-in checker: a shell script answering --version, then running `body`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "#!/bin/sh\n"
        'if [ "$1" = "--version" ]; then\n'
        '  echo "promtool, version 2.42.0+ds (branch: x)"; exit 0\n'
        "fi\n" + body,
        encoding="utf-8",
    )
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


PROMTOOL_FAILURE = r"""cat <<'EOF'
Checking prometheus.yml
  FAILED: parsing YAML file prometheus.yml: yaml: unmarshal errors:
  line 4: field foo not found in type config.ScrapeConfig
  line 9: cannot unmarshal !!str `x` into bool

Checking rules/r.yml
  FAILED:
rules/r.yml: 5:11: group "g", rule 1, "r": could not parse expression: 1:6: unclosed (
  FAILED:
lint error 1 duplicate rule(s) found.
Metric: r
Might cause inconsistency while recording expressions
EOF
exit 1
"""


def test_promtool_output_becomes_findings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root, files = bundle(
        tmp_path / "b", {"prometheus.yml": "rule_files: [rules/r.yml]\n", "rules/r.yml": RULES_OK}
    )
    monkeypatch.setenv("S3KIT_PROMTOOL", str(fake_program(tmp_path / "promtool", PROMTOOL_FAILURE)))
    report = validate_bundle("prometheus", root, files)
    assert report.validator == "promtool 2.42.0" and not report.ok
    assert [(f.file, f.line, f.severity) for f in report.findings] == [
        ("prometheus.yml", 4, "error"),
        ("prometheus.yml", 9, "error"),
        ("rules/r.yml", 5, "error"),
        ("rules/r.yml", None, "warning"),
    ]
    assert report.findings[0].message == "field foo not found in type config.ScrapeConfig"
    assert all(f.validator == "promtool 2.42.0" for f in report.findings)


def test_amtool_output_becomes_findings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root, files = bundle(tmp_path / "b", {"alertmanager.yml": AM_OK})
    script = """cat <<'EOF'
Checking 'alertmanager.yml'  FAILED: yaml: unmarshal errors:
  line 3: field group_bye not found in type config.Route

amtool: error: failed to validate 1 file(s)
EOF
exit 1
"""
    monkeypatch.setenv("S3KIT_AMTOOL", str(fake_program(tmp_path / "amtool", script)))
    report = validate_bundle("alertmanager", root, files, validator="real")
    assert [(f.file, f.line, f.message) for f in report.findings] == [
        ("alertmanager.yml", 3, "field group_bye not found in type config.Route")
    ]


def test_a_finding_without_a_line_gets_the_one_line_holding_the_value_it_quotes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """promtool names no line for a bad duration; the only line holding "1x" is the one."""
    script = """cat <<'EOF'
Checking prometheus.yml
  FAILED: parsing YAML file prometheus.yml: not a valid duration string: "1x"
EOF
exit 1
"""
    monkeypatch.setenv("S3KIT_PROMTOOL", str(fake_program(tmp_path / "promtool", script)))
    text = "global:\n  scrape_interval: 15s\n  evaluation_interval: 1x\n"
    for body, line in ((text, 3), (text + "  scrape_timeout: 1x\n", None)):  # twice: unknown
        root, files = bundle(tmp_path / str(line), {"prometheus.yml": body})
        report = validate_bundle("prometheus", root, files, validator="real")
        assert [(f.file, f.line) for f in report.findings] == [("prometheus.yml", line)]
        assert report.findings[0].message == 'not a valid duration string: "1x"'


def test_a_tool_quoting_a_password_is_masked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    script = """cat <<'EOF'
Checking prometheus.yml
  FAILED: parsing YAML file prometheus.yml: yaml: unmarshal errors:
  line 3: cannot unmarshal !!str `hunter2` into config.BasicAuth
EOF
exit 1
"""
    root, files = bundle(tmp_path / "b", {"prometheus.yml": PROM_OK})
    monkeypatch.setenv("S3KIT_PROMTOOL", str(fake_program(tmp_path / "promtool", script)))
    report = validate_bundle("prometheus", root, files, validator="real")
    assert [f.message for f in report.findings] == [
        "cannot unmarshal !!str `…` into config.BasicAuth"
    ]


def test_collector_output_becomes_findings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen = tmp_path / "argv"
    script = f"""echo "$@" > {seen}
echo 'Error: invalid configuration: service::pipelines::traces: references exporter "otlp"'
exit 1
"""
    root, files = bundle(tmp_path / "b", {"config.yaml": OTEL_OK})
    monkeypatch.setenv("S3KIT_OTELCOL", str(fake_program(tmp_path / "otelcol", script)))
    report = validate_bundle("jaeger", root, files)
    assert report.validator == "otelcol 2.42.0" and not report.ok
    assert [(f.file, f.message) for f in report.findings] == [
        (
            "config.yaml",
            'Error: invalid configuration: service::pipelines::traces: references exporter "otlp"',
        )
    ]
    assert seen.read_text() == "validate --config=config.yaml\n"


def test_a_checker_that_hangs_is_stopped(tmp_path: Path) -> None:
    program = fake_program(tmp_path / "promtool", "sleep 30\n")
    root, files = bundle(tmp_path / "b", {"prometheus.yml": PROM_OK})
    report = real.run_program("prometheus", program, root, files, timeout=0.5)
    assert not report.ok and "gave no answer within 0.5 s" in report.findings[0].message


def test_the_checker_gets_file_names_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen = tmp_path / "argv"
    program = fake_program(tmp_path / "promtool", f'echo "$@" >> {seen}\n')
    root, files = bundle(
        tmp_path / "b", {"prometheus.yml": "scrape_configs: []\n", "r.yml": RULES_OK}
    )
    monkeypatch.setenv("S3KIT_PROMTOOL", str(program))
    assert validate_bundle("prometheus", root, files, validator="real").ok
    assert seen.read_text().splitlines() == ["check config prometheus.yml", "check rules r.yml"]


@pytest.fixture(autouse=True)
def _no_stray_checkers(
    monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[None]:
    """A tool on this machine's PATH must not decide a unit test."""
    empty = tmp_path_factory.mktemp("empty-path")
    monkeypatch.setenv("PATH", f"{empty}{os.pathsep}/usr/bin{os.pathsep}/bin")
    monkeypatch.setattr(real, "_bundled_bin", lambda: empty)
    yield
