"""Running the tools' own checkers on a bundle: `promtool check config` / `check rules`,
`amtool check-config`, `loki -verify-config`, `otelcol validate` (Jaeger v2 is a collector
build); their output becomes findings, with the file and line where the tool names them.

Where the tool names no line but quotes a value, the finding's line is the one line of the file
holding that value (none when several do). A tool is looked up in its environment variable
(S3KIT_PROMTOOL, S3KIT_AMTOOL, S3KIT_LOKI, S3KIT_OTELCOL), then on PATH, then in
`<venv>/prometheus/usr/bin` (where `make test` unpacks Debian's packages). Every run is
time-limited and runs in the bundle's root; only file names go on the command line, never a
secret, and the tool's output is not echoed beyond the findings.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from s3kit._observe import redact
from s3kit.configs.validate.model import Finding, ValidationReport
from s3kit.errors import ConfigError

__all__ = [
    "DEFAULT_TIMEOUT",
    "TOOL_PROGRAMS",
    "Program",
    "find_program",
    "run_program",
    "tool_version",
]

DEFAULT_TIMEOUT = 30.0
_VERSION_TIMEOUT = 10.0


@dataclass(frozen=True, slots=True)
class Program:
    """How to find one tool's checker: its environment variable and the names it goes by."""

    env: str
    names: tuple[str, ...]


TOOL_PROGRAMS: dict[str, Program] = {
    "prometheus": Program("S3KIT_PROMTOOL", ("promtool",)),
    "alertmanager": Program("S3KIT_AMTOOL", ("amtool",)),
    "loki": Program("S3KIT_LOKI", ("loki",)),
    "jaeger": Program("S3KIT_OTELCOL", ("otelcol", "otelcol-contrib", "jaeger")),
}


def _bundled_bin() -> Path:
    return Path(sys.prefix) / "prometheus" / "usr" / "bin"


def find_program(
    tool: str, *, environ: Mapping[str, str] | None = None, bundled: Path | None = None
) -> tuple[Path | None, str | None]:
    """(the checker for `tool`, None), or (None, why not when a setting pointed nowhere).
    A tool without a checker (Grafana) gives (None, None)."""
    program = TOOL_PROGRAMS.get(tool)
    if program is None:
        return None, None
    env = os.environ if environ is None else environ
    explicit = env.get(program.env, "").strip()
    if explicit:
        path = Path(explicit).expanduser()
        if path.is_file() and os.access(path, os.X_OK):
            return path, None
        return None, f"{program.env}={explicit} is not an executable file"
    for name in program.names:
        found = shutil.which(name, path=env.get("PATH", os.defpath))
        if found is not None:
            return Path(found), None
    folder = _bundled_bin() if bundled is None else bundled
    for name in program.names:
        candidate = folder / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate, None
    return None, None


def missing_message(tool: str, why: str | None) -> str:
    program = TOOL_PROGRAMS.get(tool)
    if program is None:
        return (
            f"{tool} has no checker of its own to run: use the built-in checks (--validator"
            " builtin or auto)"
        )
    where = why or f"{' or '.join(program.names)} is not on PATH"
    return (
        f"cannot run the real {tool} checker: {where} — install it, set {program.env} to"
        " its path, or use the built-in checks (--validator builtin)"
    )


def _run(argv: Sequence[str], cwd: Path, timeout: float) -> tuple[int | None, str]:
    """(exit code, output), or (None, "") when the program outlived `timeout` seconds: then it
    and whatever it started are killed (it runs in a process group of its own)."""
    try:
        process = subprocess.Popen(
            list(argv),
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,  # one stream keeps the "Checking X" headers in order
            env={**os.environ, "LC_ALL": "C"},
            start_new_session=True,
        )
    except OSError as exc:
        raise ConfigError(f"cannot run {argv[0]}: {exc.strerror or exc}") from None
    with process:
        try:
            output, _ = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            return None, ""
    return process.returncode, output.decode("utf-8", "replace")


def tool_version(executable: Path) -> str:
    """The program's name and the version it reports, build tags dropped ("promtool 2.42.0").
    Asked once per program file: a checker runs for every bundle the store validates."""
    stat = executable.stat()
    return _tool_version(executable, stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=16)
def _tool_version(executable: Path, size: int, mtime_ns: int) -> str:
    name = executable.name
    flags = ("-version", "--version") if name == "loki" else ("--version", "version")
    for flag in flags:
        code, output = _run([str(executable), flag], Path.cwd(), _VERSION_TIMEOUT)
        m = re.search(r"version\s+v?(\d+\.\d+\.\d+)", output)
        if code == 0 and m is not None:
            return f"{name} {m.group(1)}"
    return f"{name} (version unknown)"


def run_program(
    tool: str,
    executable: Path,
    root: Path,
    files: Sequence[str],
    *,
    timeout: float = DEFAULT_TIMEOUT,
) -> ValidationReport:
    """Run `executable` (the checker of `tool`) on the bundle's files; its verdict as a report."""
    validator = tool_version(executable)
    runner = _RUNNERS[tool]
    findings = runner(_Runner(executable, root, validator, timeout), files)
    return ValidationReport.of(validator, findings)


def _masked(message: str) -> str:
    """The tool's message without the values it quotes from the file (yaml.v2 echoes a string
    it cannot store: `cannot unmarshal !!str `hunter2` into …`, and that may be a password)."""
    return redact(re.sub(r"(!!str )`[^`]*`", r"\1`…`", message))


class _Runner:
    def __init__(self, executable: Path, root: Path, validator: str, timeout: float) -> None:
        self.executable = executable
        self.root = root
        self.validator = validator
        self.timeout = timeout

    def finding(
        self, file: str, line: int | None, message: str, severity: str = "error"
    ) -> Finding:
        name = self.relative(file)
        return Finding(
            name,
            line if line and line > 0 else self.line_quoted(name, message),
            _masked(message.strip()),
            "warning" if severity == "warning" else "error",
            self.validator,
        )

    def line_quoted(self, name: str, message: str) -> int | None:
        """Where the tool names no line (promtool: `not a valid duration string: "1x"`), the
        one line of the file holding the value it quotes; None when none or several do."""
        quoted = re.search(r'"([^"\n]{1,200})"', message)
        if quoted is None or PurePosixPath(name).is_absolute() or name.startswith(".."):
            return None
        try:
            text = (self.root / name).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None
        token = re.compile(rf"(?<![\w.-]){re.escape(quoted.group(1))}(?![\w.-])")
        holding = [n for n, text_line in enumerate(text.splitlines(), 1) if token.search(text_line)]
        return holding[0] if len(holding) == 1 else None

    def relative(self, name: str) -> str:
        path = PurePosixPath(name.strip().strip("'\""))
        if path.is_absolute():
            try:
                return path.relative_to(self.root.resolve().as_posix()).as_posix()
            except ValueError:
                return path.as_posix()
        return os.path.normpath(path.as_posix()).replace(os.sep, "/")

    def run(self, args: Sequence[str]) -> tuple[int | None, str]:
        return _run([str(self.executable), *args], self.root, self.timeout)

    def timed_out(self, file: str) -> Finding:
        return self.finding(
            file, None, f"{self.executable.name} gave no answer within {self.timeout:g} s"
        )


_Check = Callable[[_Runner, Sequence[str]], list[Finding]]


# --- promtool ------------------------------------------------------------------------------

_FILE_LINE = re.compile(
    r"^(?P<file>[^\s:][^:]*?): (?P<line>\d+):(?P<col>\d+): (?:\d+:\d+: )?(?P<msg>.*)$"
)
_YAML_LINE = re.compile(r"^(?:(?P<file>[^\s:][^:]*?): )?yaml: line (?P<line>\d+): (?P<msg>.*)$")
_UNMARSHAL_LINE = re.compile(r"^line (?P<line>\d+): (?P<msg>.*)$")


def _promtool(runner: _Runner, files: Sequence[str]) -> list[Finding]:
    from s3kit.configs.validate.prometheus import YAML_SUFFIXES, classify, named_rule_files

    configs: list[str] = []
    rules: list[str] = []
    covered: set[str] = set()
    for name in files:
        if not name.endswith(YAML_SUFFIXES):
            continue
        try:
            text = (runner.root / name).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            text = ""
        kind = classify(text)
        if kind == "config":
            configs.append(name)
            covered |= named_rule_files(runner.root, name, text)
        elif kind == "rules":
            rules.append(name)
    findings: list[Finding] = []
    for command, names in (("config", configs), ("rules", [r for r in rules if r not in covered])):
        if not names:
            continue
        code, output = runner.run(["check", command, *names])
        if code is None:
            findings.append(runner.timed_out(names[0]))
            continue
        findings.extend(_parse_promtool(runner, output, names[0], failed=code != 0))
    return findings


def _parse_promtool(runner: _Runner, output: str, first: str, *, failed: bool) -> list[Finding]:
    severity = "error" if failed else "warning"
    findings: list[Finding] = []
    current = first
    lint: list[str] | None = None
    for raw in output.splitlines():
        line = raw.strip()
        if lint is not None:
            if line and not line.startswith(("Checking ", "SUCCESS", "FAILED")):
                lint.append(line)
                continue
            findings.append(runner.finding(current, None, " ".join(lint), "warning"))
            lint = None
        if not line or line.startswith("SUCCESS"):
            continue
        if line.startswith("Checking "):
            current = line.removeprefix("Checking ")
            continue
        line = line.removeprefix("FAILED:").strip()
        if not line or line.endswith("yaml: unmarshal errors:"):
            continue  # the errors follow, one a line
        if line.startswith("WARNING:"):
            findings.append(runner.finding(current, None, line.removeprefix("WARNING:"), "warning"))
            continue
        if line.startswith("lint error"):
            lint = [line.removeprefix("lint error").strip()]
            continue
        line = re.sub(r"^parsing YAML file [^:]+: ", "", line)
        for pattern in (_FILE_LINE, _YAML_LINE, _UNMARSHAL_LINE):
            m = pattern.match(line)
            if m is not None:
                named = m.groupdict().get("file") or current
                findings.append(
                    runner.finding(named, int(m.group("line")), m.group("msg"), severity)
                )
                break
        else:
            named = current
            prefix = re.match(r"^([^\s:]+\.(?:ya?ml|json|rules)): (.*)$", line)
            if prefix is not None:
                named, line = prefix.group(1), prefix.group(2)
            findings.append(runner.finding(named, None, line, severity))
    if lint is not None:
        findings.append(runner.finding(current, None, " ".join(lint), "warning"))
    if failed and not any(f.severity == "error" for f in findings):
        findings.append(runner.finding(first, None, "promtool reported a failure", "error"))
    return findings


# --- amtool --------------------------------------------------------------------------------


def _amtool(runner: _Runner, files: Sequence[str]) -> list[Finding]:
    names = [n for n in files if n.endswith((".yml", ".yaml"))]
    if not names:
        return []
    code, output = runner.run(["check-config", *names])
    if code is None:
        return [runner.timed_out(names[0])]
    findings: list[Finding] = []
    current = names[0]
    for raw in output.splitlines():
        line = raw.strip()
        header = re.match(r"^Checking '(.*?)'\s*(.*)$", line)
        if header is not None:
            current, line = header.group(1), header.group(2).strip()
        if not line.startswith("FAILED:") and not _UNMARSHAL_LINE.match(line):
            continue
        line = line.removeprefix("FAILED:").strip()
        if line.endswith("yaml: unmarshal errors:"):
            continue
        m = _UNMARSHAL_LINE.match(line) or _YAML_LINE.match(line)
        if m is not None:
            findings.append(runner.finding(current, int(m.group("line")), m.group("msg")))
        else:
            findings.append(runner.finding(current, None, line))
    if code != 0 and not findings:
        findings.append(runner.finding(names[0], None, "amtool reported a failure"))
    if code == 0:
        findings = [runner.finding(f.file, f.line, f.message, "warning") for f in findings]
    return findings


# --- loki, otelcol: one run per file, any error line is a finding ----------------------------


def _per_file(args: Sequence[str]) -> _Check:
    def run(runner: _Runner, files: Sequence[str]) -> list[Finding]:
        findings: list[Finding] = []
        for name in files:
            if not name.endswith((".yml", ".yaml")):
                continue
            code, output = runner.run([a.format(file=name) for a in args])
            if code is None:
                findings.append(runner.timed_out(name))
                continue
            if code == 0:
                continue
            lines = [
                line.strip()
                for line in output.splitlines()
                if re.search(r"error|invalid|fail", line, re.IGNORECASE)
            ]
            for line in lines or [f"{runner.executable.name} exited with status {code}"]:
                m = re.search(r"\bline (\d+)\b", line)
                findings.append(runner.finding(name, int(m.group(1)) if m else None, line))
        return findings

    return run


_RUNNERS: dict[str, _Check] = {
    "prometheus": _promtool,
    "alertmanager": _amtool,
    "loki": _per_file(["-verify-config", "-config.file={file}"]),
    "jaeger": _per_file(["validate", "--config={file}"]),
}
