"""`configs watch` against real Prometheus and Alertmanager servers (Debian's, unpacked into
.venv/prometheus by `make test`), reading releases written into a SeaweedFS bucket as the
store lays them out.

Both servers run on free 127.0.0.1 ports with --web.enable-lifecycle, reading DEST. Debian's
Alertmanager loads its default templates from /usr/share/prometheus/alertmanager, which is not
there outside a Debian install: it runs in a user and mount namespace (`unshare`) with the
unpacked /usr/share bound in its place, so nothing is written outside the test's folders.

Local validation is a stand-in running promtool and amtool from .venv/prometheus, so that
these tests check against the tools' own checkers whatever the PATH holds (the store's
`validate_bundle` looks for them there, and falls back to s3kit's built-in checks); one test
runs the store's own validator. What passes validation but fails the reload is real: a query
log file in a folder that does not exist, which promtool does not open and Prometheus does.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import shutil
import subprocess
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from s3kit._session import Session
from s3kit._uri import S3Url
from s3kit.configs.cache import ConfigCache, S3Transport, read_release
from s3kit.configs.layout import FileEntry, Head, LogRecord, Release, head_key, release_key
from s3kit.configs.watch import (
    ExecReloader,
    HttpReloader,
    Reloader,
    SignalReloader,
    WatchRound,
    reload_metric,
    watch_once,
)
from s3kit.errors import UsageError
from s3kit.events import RequestEvent
from s3kit.service import S3Service
from tests.conftest import Backend, unique_bucket_name
from tests.integration.proxy import FaultProxy, Reset
from tests.servers.base import LoopbackServer, ServerProcess, free_ports, http_answers
from tests.servers.prometheus import BIN, PROMTOOL

PROMETHEUS = BIN / "prometheus"
ALERTMANAGER = BIN / "prometheus-alertmanager"
AMTOOL = BIN / "amtool"
SHARE = BIN.parent / "share"


def _namespaces_work() -> bool:
    if shutil.which("unshare") is None:
        return False
    try:
        done = subprocess.run(
            ["unshare", "--user", "--map-root-user", "--mount", "true"],
            capture_output=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


# Decided before any test runs, from what is installed.
NO_PROMETHEUS = None if PROMETHEUS.is_file() and PROMTOOL.is_file() else (
    f"Prometheus is not unpacked in {BIN} (make test unpacks it)"
)  # fmt: skip
NO_ALERTMANAGER = (
    f"Alertmanager is not unpacked in {BIN} (make test unpacks it)"
    if not (ALERTMANAGER.is_file() and AMTOOL.is_file())
    else "unshare cannot make a user and mount namespace here (Debian's Alertmanager needs"
    " its templates at /usr/share/prometheus)"
    if not _namespaces_work()
    else None
)

GOOD_PROMETHEUS = {
    "prometheus.yml": b"global:\n  scrape_interval: 15s\nrule_files: [rules/*.yml]\n",
    "rules/up.yml": b"groups:\n- name: s3kit\n  rules:\n  - record: job:up:sum\n"
    b"    expr: sum(up)\n",
}
# promtool refuses it: a duration that is not one.
BAD_PROMETHEUS = {"prometheus.yml": b"global:\n  scrape_interval: banana\n"}
# promtool accepts it; Prometheus's reload fails opening the query log.
RELOAD_FAILS = {"prometheus.yml": b"global:\n  query_log_file: /nonexistent-s3kit/query.log\n"}
GOOD_ALERTMANAGER = {
    "alertmanager.yml": b"route:\n  receiver: team\nreceivers:\n- name: team\n",
}
BAD_ALERTMANAGER = {  # amtool: undefined receiver
    "alertmanager.yml": b"route:\n  receiver: nobody\nreceivers:\n- name: team\n",
}


# -- the servers -----------------------------------------------------------------------------------


class Prometheus(LoopbackServer):
    access_key = secret_key = ""
    start_timeout = 30.0

    def __init__(self, workdir: Path, config: Path) -> None:
        (port,) = free_ports(1)
        self.endpoint = f"http://127.0.0.1:{port}"
        self.process = ServerProcess(
            [str(PROMETHEUS), f"--config.file={config}", f"--web.listen-address=127.0.0.1:{port}",
             f"--storage.tsdb.path={workdir / 'data'}", "--web.enable-lifecycle"],
            workdir / "prometheus.log",
        )  # fmt: skip

    def ready(self) -> bool:
        return http_answers(f"{self.endpoint}/-/ready")


class Alertmanager(LoopbackServer):
    access_key = secret_key = ""
    start_timeout = 30.0

    def __init__(self, workdir: Path, config: Path) -> None:
        (port,) = free_ports(1)
        self.endpoint = f"http://127.0.0.1:{port}"
        # `unshare` execs the shell, which execs Alertmanager: one pid, stopped by SIGTERM.
        self.process = ServerProcess(
            ["unshare", "--user", "--map-root-user", "--mount", "sh", "-c",
             'mount --bind "$0" /usr/share && exec "$@"', str(SHARE), str(ALERTMANAGER),
             f"--config.file={config}", f"--storage.path={workdir / 'data'}",
             f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address="],
            workdir / "alertmanager.log",
        )  # fmt: skip

    def ready(self) -> bool:
        return http_answers(f"{self.endpoint}/-/ready")


@dataclass
class Served:
    server: LoopbackServer
    dest: Path

    @property
    def reload_url(self) -> str:
        return f"{self.server.endpoint}/-/reload"

    def metric(self, tool: str) -> float | None:
        import urllib.request

        with urllib.request.urlopen(f"{self.server.endpoint}/metrics", timeout=10) as answer:  # noqa: S310
            found = reload_metric(answer.read().decode(), tool)
        return None if found is None else found[1]


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    if NO_PROMETHEUS:
        pytest.skip(NO_PROMETHEUS)
    work = tmp_path_factory.mktemp("prometheus")
    dest = work / "conf"
    dest.mkdir()  # the tool's own folder before s3kit manages it
    (dest / "prometheus.yml").write_bytes(b"global:\n  scrape_interval: 30s\n")
    with Prometheus(work, dest / "prometheus.yml") as server:
        yield Served(server, dest)


@pytest.fixture(scope="module")
def alertmanager(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    if NO_ALERTMANAGER:
        pytest.skip(NO_ALERTMANAGER)
    work = tmp_path_factory.mktemp("alertmanager")
    dest = work / "conf"
    dest.mkdir()
    (dest / "alertmanager.yml").write_bytes(GOOD_ALERTMANAGER["alertmanager.yml"])
    with Alertmanager(work, dest / "alertmanager.yml") as server:
        yield Served(server, dest)


# -- the store ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def store(seaweed: Backend) -> Iterator[tuple[Session, S3Url]]:
    session = seaweed.session()
    name = unique_bucket_name("watch")
    service = S3Service(session)
    service.create_bucket(name)
    yield session, S3Url(name, "ops/")
    with contextlib.suppress(Exception):
        service.empty_bucket(name)
        service.delete_bucket(name)


def publish(session: Session, url: S3Url, tool: str, env: str, files: dict[str, bytes]) -> Release:
    """A release as the store writes one: blobs, manifest n+1, then HEAD naming its digest."""
    storage = session.storage(url.bucket)
    root = url.key
    head_at = root + head_key(env, tool)
    number = 1
    if storage.exists(head_at):
        number = json.loads(storage.get(head_at))["release"] + 1
    entries = tuple(FileEntry.of(path, data) for path, data in files.items())
    for entry, data in zip(entries, files.values(), strict=True):
        storage.put(f"{root}blobs/sha256/{entry.sha256}", data)
    when = "2026-12-01T12:00:00Z"
    release = Release(tool=tool, env=env, number=number, files=entries, created=when, author="t")
    body = release.body()
    storage.put(root + release_key(tool, env, number), body)
    move = LogRecord(
        seq=number, tool=tool, env=env, action="push", from_release=number - 1 or None,
        to_release=number, digest=release.digest, who="t", when=when,
    )  # fmt: skip
    storage.put(head_at, Head(number, hashlib.sha256(body).hexdigest(), move).body())
    return release


# -- the validator stand-in ------------------------------------------------------------------------


@dataclass(frozen=True)
class Report:
    ok: bool
    findings: Sequence[str] = field(default_factory=tuple)


def tools_check(tool: str, root: Path, files: Sequence[str]) -> Report:
    """promtool / amtool on the bundle's main file, as the store's validator runs them."""
    if tool == "prometheus":
        command = [str(PROMTOOL), "check", "config", str(root / "prometheus.yml")]
    else:
        command = [str(AMTOOL), "check-config", str(root / "alertmanager.yml")]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    said = (done.stdout + done.stderr).strip().splitlines()
    return Report(done.returncode == 0, () if done.returncode == 0 else tuple(said))


def round_for(
    store: tuple[Session, S3Url],
    cache: ConfigCache,
    tool: str,
    served: Served,
    reloader: Reloader | None = None,
) -> WatchRound:
    session, url = store
    return watch_once(
        cache=cache, transport=S3Transport(session, url), tool=tool, env="prod",
        dest=served.dest, reloader=reloader or HttpReloader(served.reload_url, tool),
        validate=tools_check,
    )  # fmt: skip


@pytest.fixture
def cache(tmp_path: Path) -> ConfigCache:
    return ConfigCache(tmp_path / "cache", ttl=0)


# -- Prometheus ---------------------------------------------------------------------------------


def test_prometheus_follows_head_refuses_invalid_and_rolls_back_a_failed_reload(
    store: tuple[Session, S3Url], prometheus: Served, cache: ConfigCache
) -> None:
    session, url = store
    dest = prometheus.dest
    home = dest.parent / ".conf.s3kit"

    # A good release: in place, reloaded, verified on /metrics.
    good = publish(session, url, "prometheus", "prod", GOOD_PROMETHEUS)
    first = round_for(store, cache, "prometheus", prometheus)
    assert first.status == "updated", first
    assert first.reload is not None and first.reload.verified
    assert first.reload.detail == "prometheus_config_last_reload_successful 1"
    assert (
        dest.is_symlink()
        and (dest / "rules" / "up.yml").read_bytes() == (GOOD_PROMETHEUS["rules/up.yml"])
    )
    assert (home / "original" / "prometheus.yml").is_file()  # the tool's own config, kept
    assert prometheus.metric("prometheus") == 1
    good_target = dest.readlink()

    # HEAD unchanged: nothing happens.
    assert round_for(store, cache, "prometheus", prometheus).status == "unchanged"

    # One promtool refuses never reaches DEST.
    publish(session, url, "prometheus", "prod", BAD_PROMETHEUS)
    refused = round_for(store, cache, "prometheus", prometheus)
    assert refused.status == "refused", refused
    assert any("scrape_interval" in f or "banana" in f for f in refused.findings), refused
    assert dest.readlink() == good_target
    assert (dest / "prometheus.yml").read_bytes() == GOOD_PROMETHEUS["prometheus.yml"]
    assert not [p for p in home.iterdir() if p.name.endswith(".part")]
    assert refused.reload is None

    # One promtool accepts and Prometheus does not: rolled back, reloaded again, said so.
    publish(session, url, "prometheus", "prod", RELOAD_FAILS)
    failed = round_for(store, cache, "prometheus", prometheus)
    assert failed.status == "rolled back", failed
    assert failed.reload is not None and not failed.reload.ok
    assert "answered 500" in failed.reload.detail
    assert failed.rollback is not None and failed.rollback.ok and failed.rollback.verified
    assert dest.readlink() == good_target
    assert prometheus.metric("prometheus") == 1
    assert f"back to r{good.number}-" in failed.detail

    # The failed release is not tried again on every round.
    again = round_for(store, cache, "prometheus", prometheus)
    assert again.status == "refused" and "failed before" in again.detail
    assert again.reload is None


def test_a_signal_reload_is_verified_on_metrics(
    store: tuple[Session, S3Url], prometheus: Served, cache: ConfigCache
) -> None:
    session, url = store
    publish(session, url, "prometheus", "prod", {
        **GOOD_PROMETHEUS, "prometheus.yml": b"global:\n  scrape_interval: 20s\n"})  # fmt: skip
    pid = prometheus.server.process.pid
    reloader = SignalReloader(
        pid, "prometheus", metrics_url=f"{prometheus.server.endpoint}/metrics"
    )
    result = round_for(store, cache, "prometheus", prometheus, reloader=reloader)
    assert result.status == "updated", result
    assert result.reload is not None and result.reload.verified, result.reload


# -- Alertmanager --------------------------------------------------------------------------------


def test_alertmanager_follows_head_and_refuses_what_amtool_refuses(
    store: tuple[Session, S3Url], alertmanager: Served, cache: ConfigCache
) -> None:
    session, url = store
    publish(session, url, "alertmanager", "prod", GOOD_ALERTMANAGER)
    first = round_for(store, cache, "alertmanager", alertmanager)
    assert first.status == "updated", first
    assert first.reload is not None
    assert first.reload.detail == "alertmanager_config_last_reload_successful 1"
    assert alertmanager.metric("alertmanager") == 1
    target = alertmanager.dest.readlink()

    publish(session, url, "alertmanager", "prod", BAD_ALERTMANAGER)
    refused = round_for(store, cache, "alertmanager", alertmanager)
    assert refused.status == "refused", refused
    assert any("undefined receiver" in f for f in refused.findings), refused.findings
    assert alertmanager.dest.readlink() == target


# -- a reload command, the cache, the command line ---------------------------------------------


def test_a_failing_reload_command_rolls_back_to_the_previous_files(
    store: tuple[Session, S3Url], cache: ConfigCache, tmp_path: Path
) -> None:
    session, url = store
    dest = tmp_path / "loki"
    # The "tool" reloads only files that say good: the second release does not.
    check = ExecReloader(["sh", "-c", 'grep -qx good "$S3KIT_CONFIGS_DEST/loki.yml"'], "loki",
                         env={"S3KIT_CONFIGS_DEST": str(dest)})  # fmt: skip
    transport = S3Transport(session, url)

    def once() -> WatchRound:
        return watch_once(cache=cache, transport=transport, tool="loki", env="prod", dest=dest,
                          reloader=check, validate=lambda *_: Report(True))  # fmt: skip

    publish(session, url, "loki", "prod", {"loki.yml": b"good\n"})
    assert once().status == "updated"
    publish(session, url, "loki", "prod", {"loki.yml": b"bad\n"})
    result = once()
    assert result.status == "rolled back", result
    assert result.reload is not None and "exited with 1" in result.reload.detail
    assert result.rollback is not None and result.rollback.ok
    assert (dest / "loki.yml").read_bytes() == b"good\n"


def test_a_stale_pointer_is_revalidated_with_a_304_seen_on_the_session_events(
    store: tuple[Session, S3Url], tmp_path: Path
) -> None:
    session, url = store
    publish(session, url, "jaeger", "prod", {"jaeger.yml": b"a: 1\n"})
    events: list[RequestEvent] = []
    unsubscribe = session.events.subscribe(events.append)
    try:
        cache = ConfigCache(tmp_path / "cache", ttl=0)  # every read revalidates
        transport = S3Transport(session, url)
        read_release(cache, transport, "jaeger", "prod")
        read_release(cache, transport, "jaeger", "prod")
    finally:
        unsubscribe()
    head = url.key + head_key("prod", "jaeger")
    pointer_gets = [(e.operation, e.status) for e in events if e.key == head]
    assert pointer_gets == [("GetObject", 200), ("GetObject", 304)]
    manifest_gets = [e for e in events if e.key and e.key.endswith("/1.json")]
    assert len(manifest_gets) == 1  # an immutable manifest is fetched once
    assert cache.stats().counters["revalidations"] == 1


def test_max_stale_keeps_a_watch_going_while_the_store_is_unreachable(
    seaweed: Backend, store: tuple[Session, S3Url], tmp_path: Path
) -> None:
    session, url = store
    publish(session, url, "grafana", "prod", {"grafana.ini": b"[server]\n"})
    with FaultProxy(seaweed.endpoint) as proxy:
        behind = seaweed.behind(proxy.url).session(max_retries=0)
        transport = S3Transport(behind, url)
        clock = [1000.0]
        cache = ConfigCache(tmp_path / "cache", ttl=30, clock=lambda: clock[0])
        dest = tmp_path / "grafana"
        ok = ExecReloader(["true"], "grafana")

        def once(max_stale: float | None) -> WatchRound:
            return watch_once(cache=cache, transport=transport, tool="grafana", env="prod",
                              dest=dest, reloader=ok, validate=lambda *_: Report(True),
                              max_stale=max_stale)  # fmt: skip

        assert once(None).status == "updated"
        proxy.add_fault(Reset("request"), times=None)
        clock[0] += 90
        down = once(None)
        assert down.status == "failed" and "cannot reach" in down.detail
        stale = once(120)
        assert (stale.status, stale.stale) == ("unchanged", True)
        assert "store unreachable" in stale.detail


def test_watch_once_on_the_command_line(
    store: tuple[Session, S3Url],
    seaweed: Backend,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from s3kit.cli import configs_ops
    from s3kit.cli.app import S3KitGroup

    session, url = store
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setattr("s3kit.configs.watch.default_validator", lambda: tools_check)
    publish(session, url, "prometheus", "dev", GOOD_PROMETHEUS)
    root = typer.Typer(cls=S3KitGroup, add_completion=False)
    group = typer.Typer()
    for name in ("watch", "warm", "cache_stats"):
        group.command(name.replace("_", "-"))(getattr(configs_ops, name))
    root.add_typer(group, name="configs")

    @root.callback()
    def main() -> None:
        """s3kit"""

    def run(*args: str) -> tuple[int, str, str]:
        env = {**seaweed.env(), "S3KIT_CONFIGS_STORE": str(url)}
        result = CliRunner().invoke(root, ["configs", *args], env=env, catch_exceptions=False)
        return result.exit_code, result.stdout, result.stderr

    code, out, _ = run("warm", "--env", "dev")
    assert code == 0 and "warmed prometheus in dev: release 1, 2 files" in out
    dest = tmp_path / "conf"
    code, out, err = run("watch", "prometheus", "dev", str(dest), "--exec", "true", "--once")
    assert code == 0, err
    assert out.startswith("updated: release 1 of prometheus in dev is in ")
    assert (dest / "prometheus.yml").read_bytes() == GOOD_PROMETHEUS["prometheus.yml"]
    code, out, _ = run("cache-stats", "--json")
    stats = json.loads(out)
    # warm fetched the pointer, the manifest and 2 blobs; the watch found all 4 in the cache.
    assert (stats["entries"], stats["misses"], stats["hits"]) == (4, 4, 4)
    code, _, err = run("watch", "nginx", "dev", str(dest), "--exec", "true", "--once")
    assert code == 2 and "unknown tool 'nginx'" in err
    code, _, err = run("watch", "prometheus", "dev", str(dest), "--exec", "true",
                       "--signal", "1", "--once")  # fmt: skip
    assert code == 2 and "one of --reload-url URL, --signal PID or --exec CMD" in err
    code, _, err = run("watch", "prometheus", "dev", str(dest), "--exec", "true", "--once",
                       "--metrics-addr", "127.0.0.1:0")  # fmt: skip
    assert code == 2 and "with --once, write the figures with --metrics-file" in err
    code, _, err = run("watch", "prometheus", "dev", str(dest), "--exec", "true",
                       "--metrics-addr", "nowhere")  # fmt: skip
    assert code == 2 and "--metrics-addr takes HOST:PORT" in err


STORE_VALIDATOR = None
with contextlib.suppress(ImportError, AttributeError):
    from s3kit.configs.validate import validate_bundle as STORE_VALIDATOR


@pytest.mark.skipif(STORE_VALIDATOR is None, reason="s3kit.configs.validate has no validate_bundle")
def test_the_stores_own_validator_refuses_what_promtool_refuses(
    store: tuple[Session, S3Url], cache: ConfigCache, tmp_path: Path
) -> None:
    session, url = store
    publish(session, url, "prometheus", "qa", BAD_PROMETHEUS)
    result = watch_once(
        cache=cache, transport=S3Transport(session, url), tool="prometheus", env="qa",
        dest=tmp_path / "conf", reloader=ExecReloader(["true"], "prometheus"),
    )  # fmt: skip
    assert result.status == "refused", result
    assert not (tmp_path / "conf").exists()


def test_a_first_release_that_fails_to_reload_leaves_no_dest(
    store: tuple[Session, S3Url], cache: ConfigCache, tmp_path: Path
) -> None:
    session, url = store
    publish(session, url, "loki", "staging", {"loki.yml": b"x: 1\n"})
    dest = tmp_path / "new"
    result = watch_once(
        cache=cache, transport=S3Transport(session, url), tool="loki", env="staging", dest=dest,
        reloader=ExecReloader(["false"], "loki"), validate=lambda *_: Report(True),
    )  # fmt: skip
    assert result.status == "rolled back" and result.rollback is None
    assert "had no earlier files" in result.detail
    assert not dest.exists() and not dest.is_symlink()


# -- pure: metrics, DEST's folder -----------------------------------------------------------------

METRICS = """# HELP prometheus_config_last_reload_successful Whether the last reload succeeded.
# TYPE prometheus_config_last_reload_successful gauge
prometheus_config_last_reload_successful 0
prometheus_config_last_reload_success_timestamp_seconds 1.7e+09
alertmanager_config_last_reload_successful{instance="a"} 1
"""


def test_the_reload_metric_is_the_tools_own() -> None:
    assert reload_metric(METRICS, "prometheus") == ("prometheus_config_last_reload_successful", 0)
    assert reload_metric(METRICS, "alertmanager") == (
        "alertmanager_config_last_reload_successful", 1)  # fmt: skip
    assert reload_metric(METRICS, "loki") is None  # two candidates: neither is assumed
    assert reload_metric("up 1\n", "prometheus") is None


def test_the_metrics_page_is_the_reload_endpoints_own() -> None:
    from s3kit.configs.watch import metrics_url_for

    assert metrics_url_for("http://127.0.0.1:9090/-/reload") == "http://127.0.0.1:9090/metrics"
    assert metrics_url_for("https://h/prom/-/reload") == "https://h/prom/metrics"


def test_dest_keeps_the_users_own_folder_and_prunes_only_its_releases(tmp_path: Path) -> None:
    from s3kit.configs.watch import Destination

    dest = tmp_path / "conf"
    dest.mkdir()
    (dest / "mine.yml").write_text("kept\n")
    destination = Destination(dest)
    destination.adopt()
    assert dest.is_symlink() and (dest / "mine.yml").read_text() == "kept\n"
    home = tmp_path / ".conf.s3kit"
    for name in ("r1-0123456789ab", "r2-0123456789ab", "notes", ".s3kit-r3.1-0.part"):
        (home / name).mkdir()
    destination.prune(["r2-0123456789ab"])
    assert sorted(p.name for p in home.iterdir()) == ["notes", "original", "r2-0123456789ab"]
    (tmp_path / "file").write_text("x")
    with pytest.raises(UsageError, match="is a file"):
        Destination(tmp_path / "file").adopt()


# -- /metrics and /healthz, scraped by the Prometheus the watch configures -----------------------


def _scrape(url: str) -> tuple[int, str]:
    import urllib.error
    import urllib.request

    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=10) as answer:
            return int(answer.status), answer.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()
    except OSError:
        return 0, ""


def test_a_running_watch_serves_metrics_and_healthz_that_prometheus_scrapes(
    store: tuple[Session, S3Url], seaweed: Backend, prometheus: Served, tmp_path: Path
) -> None:
    import os
    import re
    import signal
    import socket
    import sys

    from tests.servers.base import wait_until

    session, url = store
    log = tmp_path / "watch.log"
    env = {**os.environ, **seaweed.env(), "XDG_CACHE_HOME": str(tmp_path / "xdg"),
           "S3KIT_CONFIGS_STORE": f"s3://{url.bucket}/{url.key}"}  # fmt: skip
    command = [sys.executable, "-c", "from s3kit.cli.app import main; main()", "configs",
               "watch", "prometheus", "scrape", str(prometheus.dest), "--reload-url",
               prometheus.reload_url, "--interval", "0.2s", "--ttl", "0",
               "--metrics-addr", "127.0.0.1:0"]  # fmt: skip
    with log.open("wb") as out:
        watcher = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env,
                                   cwd=tmp_path, stdin=subprocess.DEVNULL)  # fmt: skip
    try:
        alive = lambda: watcher.poll() is None  # noqa: E731
        serving = re.compile(r"serving /metrics and /healthz on (http://127\.0\.0\.1:(\d+))")
        wait_until(lambda: serving.search(log.read_text()) is not None, 30, "the watch", alive)
        found = serving.search(log.read_text())
        assert found is not None
        base, port = found.group(1), int(found.group(2))

        # No release yet: every round fails, and /healthz says so.
        wait_until(lambda: _scrape(f"{base}/healthz")[1].find('"failing"') >= 0, 30,
                   "a failed round", alive)  # fmt: skip
        status, body = _scrape(f"{base}/healthz")
        assert status == 503 and json.loads(body)["last_round"] == "failed"

        # A release whose Prometheus scrapes the watch itself.
        scrape = (f"global:\n  scrape_interval: 1s\nscrape_configs:\n- job_name: s3kit\n"
                  f"  static_configs:\n  - targets: ['127.0.0.1:{port}']\n").encode()  # fmt: skip
        publish(session, url, "prometheus", "scrape", {"prometheus.yml": scrape})
        wait_until(lambda: _scrape(f"{base}/healthz")[0] == 200, 30, "a good round", alive)

        def up() -> bool:
            query = f"{prometheus.server.endpoint}/api/v1/query?query=up%7Bjob%3D%22s3kit%22%7D"
            status, body = _scrape(query)
            result = json.loads(body)["data"]["result"] if status == 200 else []
            return bool(result) and result[0]["value"][1] == "1"

        wait_until(up, 30, "Prometheus scraping the watch", alive)

        status, text = _scrape(f"{base}/metrics")
        assert status == 200
        lines = text.splitlines()
        assert 's3kit_watch_rounds_total{status="updated"} 1' in lines
        assert "s3kit_watch_healthy 1" in lines
        assert any(line.startswith("s3kit_config_cache_events_total{") for line in lines)
        assert any(line.startswith('s3kit_requests_total{operation="GetObject"') for line in lines)
        check = subprocess.run([str(PROMTOOL), "check", "metrics"], input=text,
                               capture_output=True, text=True, timeout=60)  # fmt: skip
        assert check.returncode == 0, check.stdout + check.stderr
    finally:
        watcher.send_signal(signal.SIGTERM)
        code = watcher.wait(timeout=60)
    assert code == 0, log.read_text()
    with socket.socket() as probe:  # the server went with the command
        assert probe.connect_ex(("127.0.0.1", port)) != 0
