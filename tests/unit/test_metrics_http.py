"""`/metrics` and `/healthz` (s3kit/_metrics_http.py) on a loopback port, and the watch loop's
health (`configs.watch.WatchHealth`) with a clock the test moves; the text it serves is checked
by promtool where `make test` unpacked it."""

from __future__ import annotations

import json
import socket
import subprocess
import urllib.error
import urllib.request
from typing import Any

import pytest

from s3kit._metrics_http import PROMETHEUS_TEXT, MetricsServer, parse_address
from s3kit._uri import is_loopback
from s3kit.configs.watch import WatchHealth, WatchRound
from s3kit.errors import S3KitError, UsageError
from s3kit.metrics import Metrics
from tests.servers.prometheus import PROMTOOL


def get(url: str, method: str = "GET") -> tuple[int, str, str]:
    request = urllib.request.Request(url, method=method)  # noqa: S310 - a loopback URL
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=10) as answer:
            return answer.status, answer.headers["Content-Type"], answer.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers["Content-Type"] or "", exc.read().decode()


@pytest.mark.parametrize(
    ("text", "address"),
    [
        ("127.0.0.1:9464", ("127.0.0.1", 9464)),
        (":0", ("127.0.0.1", 0)),
        ("9464", ("127.0.0.1", 9464)),
        ("[::1]:80", ("::1", 80)),
        ("0.0.0.0:9464", ("0.0.0.0", 9464)),  # noqa: S104 - parsed, not bound
    ],
)
def test_addresses(text: str, address: tuple[str, int]) -> None:
    assert parse_address(text) == address


@pytest.mark.parametrize("text", ["", "host:", "127.0.0.1:70000", "127.0.0.1:x", "a b:1"])
def test_bad_addresses_are_usage_errors(text: str) -> None:
    with pytest.raises(UsageError, match="--metrics-addr takes HOST:PORT"):
        parse_address(text)


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("127.0.0.2", True), ("::1", True), ("localhost", True),
     ("0.0.0.0", False), ("::", False), ("192.168.1.10", False), ("example.org", False)],  # noqa: S104
)  # fmt: skip
def test_what_counts_as_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_metrics_and_healthz_on_a_port_the_system_picked() -> None:
    state: dict[str, Any] = {"healthy": False}
    with MetricsServer(
        ("127.0.0.1", 0),
        lambda: "# TYPE x counter\nx 1\n",
        lambda: (state["healthy"], {"status": "ok" if state["healthy"] else "failing"}),
    ) as server:
        assert server.port != 0 and server.url == f"http://127.0.0.1:{server.port}"
        assert not server.exposed
        assert get(f"{server.url}/metrics") == (200, PROMETHEUS_TEXT, "# TYPE x counter\nx 1\n")
        status, kind, body = get(f"{server.url}/healthz")
        assert (status, kind, json.loads(body)) == (503, "application/json", {"status": "failing"})
        state["healthy"] = True
        assert get(f"{server.url}/healthz")[0] == 200
        assert get(f"{server.url}/")[0] == 404
        assert get(f"{server.url}/metrics", method="POST")[0] == 405
        assert get(f"{server.url}/metrics", method="HEAD") == (200, PROMETHEUS_TEXT, "")
        port = server.port
    with socket.socket() as probe:  # closed with the command: nothing listens any more
        assert probe.connect_ex(("127.0.0.1", port)) != 0


def test_a_render_that_fails_is_a_500_for_that_request_only() -> None:
    calls = iter([RuntimeError("boom"), None])

    def render() -> str:
        failure = next(calls)
        if failure is not None:
            raise failure
        return "x 1\n"

    with MetricsServer(("127.0.0.1", 0), render, lambda: (True, {})) as server:
        assert get(f"{server.url}/metrics")[0] == 500
        assert get(f"{server.url}/metrics")[0] == 200


def test_a_port_in_use_is_one_clear_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(S3KitError, match=f"cannot serve metrics on 127.0.0.1:{port}"):
            MetricsServer(("127.0.0.1", port), lambda: "", lambda: (True, {}))


# -- the watch loop's health ---------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_healthz_follows_the_rounds_and_max_stale() -> None:
    clock = Clock()
    health = WatchHealth(max_stale=60, clock=clock, wall=lambda: 1.7e9)
    assert health.status() == (False, {"status": "starting", "detail": "no round has ended yet"})
    health.record(WatchRound("updated", "release 1 of prometheus in prod is in /d", 1))
    healthy, document = health.status()
    assert healthy and document["status"] == "ok" and document["release"] == 1
    # The store goes away: healthy while the last round that reached it is within --max-stale.
    clock.now += 30
    health.record(WatchRound("failed", "cannot reach http://127.0.0.1:1"))
    assert health.status()[0]
    health.record(WatchRound("unchanged", "release 1 ... (store unreachable)", 1, stale=True))
    clock.now += 31
    assert health.status()[0]  # the cache served a stale pointer: it checks max-stale itself
    health.record(WatchRound("failed", "cannot reach http://127.0.0.1:1"))
    healthy, document = health.status()
    assert not healthy and document["last_round"] == "failed"
    assert document["last_good_round_seconds_ago"] == 61
    # A refused release is the tool's problem, not the loop's.
    health.record(WatchRound("refused", "release 2 fails validation", 2))
    assert health.status()[0]


def test_without_max_stale_one_failed_round_is_unhealthy() -> None:
    health = WatchHealth()
    health.record(WatchRound("updated", "ok", 1))
    health.record(WatchRound("failed", "no release of loki in prod yet (no HEAD pointer)"))
    assert not health.status()[0]


def test_the_healthz_detail_is_redacted() -> None:
    health = WatchHealth()
    health.record(WatchRound("failed", "GET http://k:s3cr3tv@h/x?X-Amz-Signature=abcdef failed"))
    detail = health.status()[1]["detail"]
    assert "s3cr3tv" not in detail and "abcdef" not in detail


@pytest.mark.skipif(not PROMTOOL.exists(), reason="promtool not unpacked (make test unpacks it)")
def test_the_served_text_is_what_promtool_accepts() -> None:
    from tests.unit.test_metrics import event

    metrics = Metrics()
    metrics.record(event())
    metrics.count_cache("hits")
    health = WatchHealth(wall=lambda: 1.7e9)
    health.record(WatchRound("rolled back", "release 2 failed to reload", 2))
    text = metrics.snapshot().prometheus() + health.prometheus()
    assert 's3kit_watch_rounds_total{status="rolled back"} 1' in text.splitlines()
    assert "s3kit_watch_healthy 1" in text.splitlines()
    check = subprocess.run(
        [str(PROMTOOL), "check", "metrics"], input=text, capture_output=True, text=True, timeout=60
    )
    assert check.returncode == 0, check.stdout + check.stderr
