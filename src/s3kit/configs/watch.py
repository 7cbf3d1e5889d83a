"""`configs watch`: keep a folder at an environment's HEAD release, and reload the tool.

One round (`watch_once`): read the HEAD pointer through the cache; if DEST already holds that
release, nothing happens. Otherwise every file comes through the cache (checked against its
sha256 and size), is written into a new folder beside DEST, and is validated there
(`s3kit.configs.validate.validate_bundle`: promtool, amtool, ...). A release that fails
validation is never put in place. One that passes replaces DEST in one atomic step — DEST is a
symbolic link, swapped by a rename, to a folder per release kept in `.NAME.s3kit/` beside it —
and the tool is reloaded; the reload is then verified (Prometheus and Alertmanager report
`*_config_last_reload_successful` on /metrics). When the reload fails, DEST is swung back to
the previous folder and the tool reloaded again, and the round says so. A release refused or
rolled back is remembered (`.NAME.s3kit/state.json`) and not tried again until HEAD moves.

The first round finding DEST a real folder (the tool's config before s3kit managed it) moves it
into `.NAME.s3kit/original` and links DEST to it, so a failed first release rolls back to it.
Nothing here deletes a user's file: only folders of releases this module wrote are pruned, and
`original` is kept.

`WatchHealth` follows the rounds for `--metrics-addr`: `/healthz` is healthy while the last
round reached the store (or the last that did is at most `max_stale` old), and `/metrics` adds
the rounds by status to the request metrics.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

from s3kit._atomic import TEMP_PREFIX, TEMP_SUFFIX, fsync_folder, temp_name, write_file
from s3kit.configs.cache import ConfigCache, Served, Transport, read_release, release_files
from s3kit.errors import NotSupported, ObjectNotFound, S3KitError, UsageError, translating

RoundStatus = Literal["unchanged", "updated", "refused", "rolled back", "failed"]
ROUND_STATUSES: tuple[RoundStatus, ...] = ("unchanged", "updated", "refused", "rolled back",
                                           "failed")  # fmt: skip
ORIGINAL = "original"
STATE = "state.json"
RELOAD_METRICS = {
    "prometheus": "prometheus_config_last_reload_successful",
    "alertmanager": "alertmanager_config_last_reload_successful",
}
_RELOAD_METRIC = re.compile(r"^(\w+_config_last_reload_successful)(?:\{[^}]*\})?\s+(\S+)", re.M)
_RELOAD_TIME = re.compile(
    r"^(\w+_config_last_reload_success_timestamp_seconds)(?:\{[^}]*\})?\s+(\S+)", re.M
)


# -- validation --------------------------------------------------------------------------------


class ValidationReport(Protocol):
    @property
    def ok(self) -> bool: ...

    @property
    def findings(self) -> Sequence[Any]: ...


Validator = Callable[[str, Path, Sequence[str]], ValidationReport]


def default_validator() -> Validator:
    """The store's own check of a bundle (`s3kit.configs.bundle.validate_bundle`: promtool,
    amtool, ... where installed, else s3kit's built-in checks)."""
    from s3kit.configs.bundle import validate_bundle

    def validate(tool: str, root: Path, files: Sequence[str]) -> ValidationReport:
        try:
            return validate_bundle(tool, root, files)
        except (ImportError, AttributeError) as exc:
            raise NotSupported(
                "this s3kit has no local config validation (s3kit.configs.validate): refusing"
                " to put releases in place unchecked"
            ) from exc

    return validate


# -- reloads -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ReloadResult:
    """`ok`: the tool took the new files; `verified`: its metrics said so (else only the reload
    request was answered)."""

    ok: bool
    detail: str
    verified: bool = False


def reload_metric(text: str, tool: str) -> tuple[str, float] | None:
    """(name, value) of the tool's `*_config_last_reload_successful` in a /metrics page: the
    tool's own name (prometheus_..., alertmanager_...) if present, else the only one."""
    found = {m.group(1): m.group(2) for m in _RELOAD_METRIC.finditer(text)}
    name = RELOAD_METRICS.get(tool)
    if name not in found:
        if len(found) != 1:
            return None
        name = next(iter(found))
    assert name is not None
    try:
        return name, float(found[name])
    except ValueError:
        return None


def reload_time(text: str) -> float | None:
    match = _RELOAD_TIME.search(text)
    try:
        return float(match.group(2)) if match else None
    except ValueError:
        return None


def _http(method: str, url: str, timeout: float) -> tuple[int, str]:
    """One plain request to the tool's own endpoint (no S3 credentials go there)."""
    import urllib.error
    import urllib.request

    if not url.lower().startswith(("http://", "https://")):
        return 0, f"{url} is not an http:// or https:// URL"
    data = b"" if method == "POST" else None
    request = urllib.request.Request(url, method=method, data=data)  # noqa: S310 - checked above
    # No proxy from the environment: the tool is reached where the user said it is.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=timeout) as answer:
            return int(answer.status), answer.read(1 << 20).decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read(4096).decode("utf-8", "replace")
    except OSError as exc:
        return 0, f"{type(exc).__name__}: {exc}"


def metrics_url_for(reload_url: str) -> str:
    """http://host:port/-/reload -> http://host:port/metrics (the same server's)."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(reload_url)
    path = parts.path.rsplit("/-/reload", 1)[0] if "/-/reload" in parts.path else ""
    return urlunsplit((parts.scheme, parts.netloc, f"{path}/metrics", "", ""))


@dataclass(frozen=True, slots=True)
class MetricsCheck:
    """A reload verified on the tool's /metrics page."""

    url: str
    tool: str
    timeout: float = 10.0

    def read(self) -> tuple[str, float, float | None] | None:
        """(metric name, its value, the last successful reload's time), None if not shown."""
        status, text = _http("GET", self.url, self.timeout)
        metric = reload_metric(text, self.tool) if status == 200 else None
        return None if metric is None else (*metric, reload_time(text))

    def verify(self) -> ReloadResult:
        """After a synchronous reload (an HTTP POST, a command that waits)."""
        shown = self.read()
        if shown is None:
            return ReloadResult(
                True, f"not verified: {self.url} shows no *_config_last_reload_successful"
            )
        name, value, _ = shown
        return ReloadResult(value == 1, f"{name} {value:g}", verified=True)

    def wait(self, before: tuple[str, float, float | None] | None, settle: float) -> ReloadResult:
        """After an asynchronous reload (a signal): a successful reload newer than `before`, or
        the metric falling from 1, within `settle` seconds."""
        deadline = time.monotonic() + settle
        while True:
            shown = self.read()
            if shown is None:
                return ReloadResult(
                    True, f"not verified: {self.url} shows no *_config_last_reload_successful"
                )
            name, value, at = shown
            newer = before is None or (at or 0) > (before[2] or 0)
            if value == 1 and newer:
                return ReloadResult(True, f"{name} 1", verified=True)
            if value != 1 and (before is None or before[1] == 1):
                return ReloadResult(False, f"{name} {value:g}", verified=True)
            if time.monotonic() >= deadline:
                return ReloadResult(
                    False, f"{name} {value:g}: no successful reload within {settle:g} s",
                    verified=True,
                )  # fmt: skip
            time.sleep(0.1)


class Reloader(Protocol):
    def reload(self) -> ReloadResult: ...


@dataclass(frozen=True, slots=True)
class HttpReloader:
    """POST the tool's reload endpoint (Prometheus and Alertmanager with
    --web.enable-lifecycle: /-/reload), then read its /metrics."""

    url: str
    tool: str
    metrics_url: str | None = None
    timeout: float = 30.0

    def reload(self) -> ReloadResult:
        status, text = _http("POST", self.url, self.timeout)
        if not 200 <= status < 300:
            answer = f"answered {status}" if status else "failed"
            return ReloadResult(False, f"POST {self.url} {answer}: {text.strip()[:300]}")
        check = MetricsCheck(self.metrics_url or metrics_url_for(self.url), self.tool)
        return check.verify()


@dataclass(frozen=True, slots=True)
class SignalReloader:
    """Send the tool a signal (SIGHUP: Prometheus, Alertmanager, most daemons); verified only
    with `metrics_url`, by waiting for its next successful reload."""

    pid: int
    tool: str
    signum: int = signal.SIGHUP
    metrics_url: str | None = None
    settle: float = 10.0

    def reload(self) -> ReloadResult:
        check = MetricsCheck(self.metrics_url, self.tool) if self.metrics_url else None
        before = check.read() if check else None
        try:
            os.kill(self.pid, self.signum)
        except OSError as exc:
            return ReloadResult(False, f"cannot signal process {self.pid}: {exc.strerror}")
        if check is None:
            name = signal.Signals(self.signum).name
            return ReloadResult(True, f"{name} sent to {self.pid} (not verified: no --metrics-url)")
        return check.wait(before, self.settle)


@dataclass(frozen=True, slots=True)
class ExecReloader:
    """Run a command (no shell; DEST and the release are in its environment); exit 0 is a
    successful reload, then verified on `metrics_url` if given."""

    command: Sequence[str]
    tool: str
    metrics_url: str | None = None
    timeout: float = 120.0
    env: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def parse(cls, text: str, tool: str, **options: Any) -> ExecReloader:
        try:
            command = shlex.split(text)
        except ValueError as exc:
            raise UsageError(f"--exec '{text}': {exc}") from None
        if not command:
            raise UsageError("--exec needs a command")
        return cls(command, tool, **options)

    def reload(self) -> ReloadResult:
        try:
            done = subprocess.run(
                list(self.command),
                env={**os.environ, **self.env},
                stdin=subprocess.DEVNULL,
                capture_output=True,
                timeout=self.timeout,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            return ReloadResult(False, f"{shlex.join(self.command)}: {exc}")
        if done.returncode != 0:
            said = (done.stderr or done.stdout).decode("utf-8", "replace").strip()
            tail = f": {said.splitlines()[-1][:300]}" if said else ""
            return ReloadResult(
                False, f"{shlex.join(self.command)} exited with {done.returncode}{tail}"
            )
        if self.metrics_url:
            return MetricsCheck(self.metrics_url, self.tool).verify()
        return ReloadResult(True, f"{shlex.join(self.command)} exited with 0")


# -- DEST ------------------------------------------------------------------------------------


class Destination:
    """DEST, a symbolic link to one release folder in `.NAME.s3kit/` beside it."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path).absolute()  # not resolved: DEST itself is a link
        if self.path.parent == self.path:
            raise UsageError(f"{path}: DEST cannot be a filesystem root")
        self.home = self.path.parent / f".{self.path.name}.s3kit"

    def current(self) -> str | None:
        """The release folder DEST links to, by name; None if DEST is not ours yet."""
        if not self.path.is_symlink():
            return None
        target = self.path.readlink()
        return target.name if target.parent.name == self.home.name else None

    def link_target(self) -> str | None:
        return str(self.path.readlink()) if self.path.is_symlink() else None

    def adopt(self) -> None:
        """A real folder at DEST becomes `original` (kept, never pruned), linked from DEST."""
        if self.path.is_symlink() or not self.path.exists():
            return
        if not self.path.is_dir():
            raise UsageError(f"{self.path} is a file: DEST must be a folder (or not exist)")
        with translating(path=str(self.path)):
            self.home.mkdir(parents=True, exist_ok=True)
            if (self.home / ORIGINAL).exists():
                raise UsageError(
                    f"{self.path} is a real folder and {self.home / ORIGINAL} already holds an"
                    " earlier one: move one of them away"
                )
            self.path.rename(self.home / ORIGINAL)
            self._link(f"{self.home.name}/{ORIGINAL}")

    def stage(self, release: Served, contents: Mapping[str, bytes]) -> Path:
        """Write a release into a hidden folder in `.NAME.s3kit/`; every file fsynced."""
        with translating(path=str(self.home)):
            self.home.mkdir(parents=True, exist_ok=True)
            staged = temp_name(self.home / release.name)
            staged.mkdir()
            try:
                for relative, data in contents.items():
                    write_file(staged / relative, data, fsync=True, mode=0o644)
            except BaseException:
                shutil.rmtree(staged, ignore_errors=True)
                raise
        return staged

    def install(self, staged: Path, release: Served) -> None:
        """Give the staged folder its release name, then swing DEST to it in one rename."""
        final = self.home / release.name
        with translating(path=str(final)):
            if final.exists():
                shutil.rmtree(final)
            staged.rename(final)
            fsync_folder(self.home)
            self._link(f"{self.home.name}/{release.name}")

    def restore(self, target: str | None) -> None:
        """Point DEST back at `target` (a link as read before the swap); None removes it."""
        with translating(path=str(self.path)):
            if target is None:
                self.path.unlink(missing_ok=True)
            else:
                self._link(target)

    def _link(self, target: str) -> None:
        link = temp_name(self.path)
        link.unlink(missing_ok=True)
        link.symlink_to(target)
        link.replace(self.path)
        fsync_folder(self.path.parent)

    def prune(self, keep: Sequence[str | None]) -> None:
        """Remove release folders this module wrote, but those in `keep` and `original`; and
        staging folders a killed round left."""
        names = {Path(k).name for k in keep if k}
        if not self.home.is_dir():
            return
        for entry in self.home.iterdir():
            ours = re.fullmatch(r"r\d+-[0-9a-f]{12}", entry.name) or (
                entry.name.startswith(TEMP_PREFIX) and entry.name.endswith(TEMP_SUFFIX)
            )
            if ours and entry.name not in names and entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)

    def remembered(self) -> dict[str, str]:
        try:
            state = json.loads((self.home / STATE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        failed = state.get("failed") if isinstance(state, dict) else None
        return {str(k): str(v) for k, v in failed.items()} if isinstance(failed, dict) else {}

    def remember(self, name: str, reason: str) -> None:
        failed = {**self.remembered(), name: reason}
        data = json.dumps({"failed": failed}, indent=2).encode()
        with translating(path=str(self.home / STATE)):
            self.home.mkdir(parents=True, exist_ok=True)
            write_file(self.home / STATE, data, fsync=True)


# -- one round ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class WatchRound:
    status: RoundStatus
    detail: str
    release: int | None = None
    stale: bool = False
    findings: tuple[str, ...] = ()
    reload: ReloadResult | None = None
    rollback: ReloadResult | None = None

    @property
    def ok(self) -> bool:
        return self.status in ("unchanged", "updated")

    def document(self) -> dict[str, Any]:
        def result(r: ReloadResult | None) -> dict[str, Any] | None:
            return None if r is None else {"ok": r.ok, "verified": r.verified, "detail": r.detail}

        return {
            "status": self.status,
            "detail": self.detail,
            "release": self.release,
            "stale": self.stale,
            "findings": list(self.findings),
            "reload": result(self.reload),
            "rollback": result(self.rollback),
        }


def watch_once(
    *,
    cache: ConfigCache,
    transport: Transport,
    tool: str,
    env: str,
    dest: Path,
    reloader: Reloader,
    validate: Validator | None = None,
    max_stale: float | None = None,
) -> WatchRound:
    """One round: bring DEST to `env`'s HEAD release of `tool` and reload it (see the module
    docstring). Store and cache failures end the round as "failed"; DEST is left as it was."""
    destination = Destination(dest)
    where = f"{tool} in {env}"
    try:
        release = read_release(cache, transport, tool, env, max_stale=max_stale)
    except ObjectNotFound:
        return WatchRound("failed", f"no release of {where} yet (no HEAD pointer)")
    except S3KitError as exc:
        return WatchRound("failed", exc.message)
    stale = release.pointer == "stale"
    note = (
        f" (store unreachable: pointer confirmed {release.pointer_age:.0f} s ago)" if stale else ""
    )
    if destination.current() == release.name:
        if release.pointer == "cache":
            note = f" (HEAD as read {release.pointer_age:.0f} s ago)"
        return WatchRound(
            "unchanged", f"release {release.number} of {where} is in place{note}",
            release.number, stale,
        )  # fmt: skip
    earlier = destination.remembered().get(release.name)
    if earlier is not None:
        return WatchRound(
            "refused", f"release {release.number} of {where} failed before ({earlier}); waiting"
            f" for a new release{note}", release.number, stale,
        )  # fmt: skip
    try:
        contents = release_files(cache, transport, release)
        check = validate if validate is not None else default_validator()
        destination.adopt()
        destination.prune([destination.link_target()])
        staged = destination.stage(release, contents)
    except S3KitError as exc:
        return WatchRound("failed", exc.message, release.number, stale)
    try:
        report = check(tool, staged, sorted(contents))
    except BaseException:
        shutil.rmtree(staged, ignore_errors=True)
        raise
    if not report.ok:
        shutil.rmtree(staged, ignore_errors=True)
        findings = tuple(str(f) for f in report.findings)
        destination.remember(release.name, "refused by validation")
        return WatchRound(
            "refused",
            f"release {release.number} of {where} fails validation: {dest} left as it was",
            release.number, stale, findings,
        )  # fmt: skip
    previous = destination.link_target()
    try:
        destination.install(staged, release)
    except S3KitError as exc:
        shutil.rmtree(staged, ignore_errors=True)
        return WatchRound("failed", exc.message, release.number, stale)
    reloaded = reloader.reload()
    if reloaded.ok:
        destination.prune([release.name, previous])
        return WatchRound(
            "updated", f"release {release.number} of {where} is in {dest}{note}",
            release.number, stale, reload=reloaded,
        )  # fmt: skip
    destination.restore(previous)
    destination.remember(release.name, f"reload failed: {reloaded.detail}")
    if previous is None:
        return WatchRound(
            "rolled back",
            f"release {release.number} of {where} failed to reload ({reloaded.detail}); {dest}"
            " had no earlier files, so it is removed and the tool keeps what it loaded before",
            release.number, stale, reload=reloaded,
        )  # fmt: skip
    again = reloader.reload()
    outcome = "reloaded" if again.ok else "the reload of the earlier files failed too"
    return WatchRound(
        "rolled back",
        f"release {release.number} of {where} failed to reload ({reloaded.detail}); {dest} is"
        f" back to {Path(previous).name} and {outcome} ({again.detail})",
        release.number, stale, reload=reloaded, rollback=again,
    )  # fmt: skip


class WatchHealth:
    """The watch loop as a probe sees it. Healthy once a round has ended and while the last one
    reached the store: every status but "failed" (a release refused or rolled back is the
    tool's problem, said in the rounds, not the loop's; a stale pointer served is healthy, as
    the cache only serves one within `max_stale`); after a failed round, while the last round
    that reached the store is at most `max_stale` seconds old. Thread-safe: the metrics server
    reads it while the loop records."""

    def __init__(
        self,
        *,
        max_stale: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
    ) -> None:
        self.max_stale = max_stale
        self._clock, self._wall = clock, wall
        self._lock = threading.Lock()
        self._rounds: dict[str, int] = {}
        self._last: WatchRound | None = None
        self._last_at: float | None = None
        self._good_at: float | None = None
        self._good_wall: float | None = None

    def record(self, result: WatchRound) -> None:
        """The round that just ended (`watch(on_round=...)`)."""
        with self._lock:
            now = self._clock()
            self._rounds[result.status] = self._rounds.get(result.status, 0) + 1
            self._last, self._last_at = result, now
            if result.status != "failed" and not result.stale:
                self._good_at, self._good_wall = now, self._wall()

    def status(self) -> tuple[bool, dict[str, Any]]:
        """(healthy, the /healthz document)."""
        from s3kit._observe import redact

        with self._lock:
            now = self._clock()
            last, good_at = self._last, self._good_at
            good_age = None if good_at is None else now - good_at
            if last is None:
                return False, {"status": "starting", "detail": "no round has ended yet"}
            healthy = last.status != "failed" or (
                self.max_stale is not None and good_age is not None and good_age <= self.max_stale
            )
            return healthy, {
                "status": "ok" if healthy else "failing",
                "last_round": last.status,
                "detail": redact(last.detail),
                "release": last.release,
                "stale": last.stale,
                "last_round_seconds_ago": round(now - (self._last_at or now), 3),
                "last_good_round_seconds_ago": None if good_age is None else round(good_age, 3),
                "max_stale_seconds": self.max_stale,
                "rounds": sum(self._rounds.values()),
            }

    def prometheus(self) -> str:
        """The watch's own lines of /metrics (text exposition format 0.0.4)."""
        healthy, _ = self.status()
        with self._lock:
            rounds, good = dict(self._rounds), self._good_wall
        out = [
            "# HELP s3kit_watch_rounds_total Rounds of configs watch ended, by status.",
            "# TYPE s3kit_watch_rounds_total counter",
            *(f's3kit_watch_rounds_total{{status="{name}"}} {rounds.get(name, 0)}'
              for name in ROUND_STATUSES),
            "# HELP s3kit_watch_healthy 1 while /healthz answers 200.",
            "# TYPE s3kit_watch_healthy gauge",
            f"s3kit_watch_healthy {int(healthy)}",
        ]  # fmt: skip
        if good is not None:
            out += [
                "# HELP s3kit_watch_last_good_round_timestamp_seconds When a round last reached"
                " the store (Unix time).",
                "# TYPE s3kit_watch_last_good_round_timestamp_seconds gauge",
                f"s3kit_watch_last_good_round_timestamp_seconds {good:.3f}",
            ]
        return "\n".join(out) + "\n"


def watch(
    round_: Callable[[], WatchRound],
    *,
    interval: float,
    stop: threading.Event | None = None,
    on_round: Callable[[WatchRound], None] | None = None,
) -> Iterator[WatchRound]:
    """Rounds every `interval` seconds until `stop` is set; each round is yielded (and given
    to `on_round`). A round's failure never ends the watch."""
    if interval <= 0:
        raise UsageError(f"--interval must be above 0, not {interval:g} s")
    stop = stop or threading.Event()
    while not stop.is_set():
        result = round_()
        if on_round is not None:
            with contextlib.suppress(Exception):
                on_round(result)
        yield result
        stop.wait(interval)


__all__ = [
    "RELOAD_METRICS",
    "Destination",
    "ExecReloader",
    "HttpReloader",
    "MetricsCheck",
    "ReloadResult",
    "Reloader",
    "RoundStatus",
    "SignalReloader",
    "ValidationReport",
    "Validator",
    "WatchHealth",
    "WatchRound",
    "default_validator",
    "metrics_url_for",
    "reload_metric",
    "reload_time",
    "watch",
    "watch_once",
]
