"""`s3kit configs init|posture|warm|cache stats|cache clear|watch`: the store's bucket and the
machines that read it.

The command functions of the `configs` group that are about operating a store rather than its
releases: `init` and `posture` (the bucket's settings: `s3kit.configs.init`, `.posture`), `warm`
and `cache stats|clear` (the local cache, `s3kit.configs.cache`), `watch` (keep a folder at an
environment's HEAD and reload the tool, `s3kit.configs.watch`). Each parses, calls one library
function, prints; the store is named by `--store` as for every command of the group. A command
that exits 1 says why on its last line (`s3kit: error: ...`), as every failing command does.
"""

from __future__ import annotations

import signal
import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from s3kit._units import human_size
from s3kit.cli import output
from s3kit.cli.configs import STORE_ENV, EnvArg, Store, ToolArg
from s3kit.cli.state import cli_s3_url, notice, state_of
from s3kit.errors import S3KitError, UsageError

if TYPE_CHECKING:
    from s3kit._metrics_http import MetricsServer
    from s3kit._uri import S3Url
    from s3kit.configs.posture import Posture
    from s3kit.configs.watch import Reloader, WatchHealth, WatchRound
    from s3kit.metrics import Metrics

NoProbe = Annotated[
    bool,
    typer.Option(
        "--no-probe",
        help="Do not test the public access block with a scratch object (read it back only).",
    ),
]


def _store_url(store: str | None) -> S3Url:
    if not store:
        raise UsageError(
            f"name the configuration store: --store s3://bucket[/prefix] (or set {STORE_ENV})"
        )
    return cli_s3_url(store)


def _names(values: list[str] | None) -> tuple[str, ...]:
    """`--protect prod --protect staging` and `--protect prod,staging` alike."""
    names = [n.strip() for v in values or [] for n in v.split(",")]
    return tuple(n for n in names if n)


def _duration(text: str | None, option: str) -> float | None:
    from s3kit.deploy.rules import parse_duration

    if text is None:
        return None
    try:
        return parse_duration(text)
    except UsageError as exc:
        raise UsageError(f"{option}: {exc.message}") from None


def _print_posture(posture: Posture) -> None:
    out = sys.stdout
    out.write(f"posture of {posture.store}:\n")
    for check in posture.checks:
        detail = f": {check.detail}" if check.detail else ""
        out.write(f"  {check.status:<20}  {check.name}{detail}\n")
    if posture.ok:
        out.write(f"all {len(posture.checks)} settings read back as asked\n")


def _not_as_asked(posture: Posture) -> S3KitError:
    """What exit 1 stands for, said as every failing command says it (`s3kit: error:`)."""
    bad = sum(1 for c in posture.checks if not c.ok)
    return S3KitError(f"{bad} of {len(posture.checks)} settings are not as asked")


# -- init, posture -------------------------------------------------------------------------------


def init(
    ctx: typer.Context,
    envs: Annotated[
        str,
        typer.Option(
            "--envs", metavar="ENV,...", help="The store's environments, e.g. dev,staging,prod."
        ),
    ],
    protect: Annotated[
        list[str] | None,
        typer.Option(
            "--protect",
            metavar="ENV,...",
            help="Environments whose pointers only releasers may write (a bucket policy Deny).",
        ),
    ] = None,
    releaser: Annotated[
        list[str] | None,
        typer.Option(
            "--releaser",
            metavar="ARN|NAME",
            help="Who may still write protected environments: an IAM ARN (wildcards allowed) or"
            " a user name; repeat for more.",
            show_default="principals tagged s3kit-release-ENV=true",
        ),
    ] = None,
    kms_key: Annotated[
        str | None,
        typer.Option(
            "--kms-key", metavar="ARN", help="Default encryption with this KMS key (SSE-KMS)."
        ),
    ] = None,
    tag: Annotated[
        list[str] | None,
        typer.Option("--tag", metavar="KEY=VALUE", help="A bucket tag; repeat for more."),
    ] = None,
    object_lock: Annotated[
        bool,
        typer.Option(
            "--object-lock", help="Create the bucket with Object Lock (only at creation)."
        ),
    ] = False,
    mfa_delete: Annotated[
        str | None,
        typer.Option(
            "--mfa-delete",
            metavar="'SERIAL CODE'",
            help="Enable MFA delete (root credentials; needs --no-lifecycle).",
        ),
    ] = None,
    no_lifecycle: Annotated[
        bool,
        typer.Option(
            "--no-lifecycle",
            help="No lifecycle rules: noncurrent versions are kept forever.",
        ),
    ] = False,
    noncurrent_days: Annotated[
        int,
        typer.Option(
            "--noncurrent-days", metavar="DAYS", min=1, help="Expire noncurrent versions after."
        ),
    ] = 90,
    no_probe: NoProbe = False,
    store: Store = None,
    json_out: output.Json = False,
) -> None:
    """Create or harden the store's bucket.

    Writes store.json and reads every setting back.
    Default encryption, versioning, public access block, a TLS-only policy (not over plain
    HTTP), write protection of --protect environments, lifecycle rules, tags. Exits 1 when a
    setting did not read back as asked.

    Example: s3kit configs init --envs dev,staging,prod --protect prod --store s3://ops-configs
    """
    from s3kit.configs.hardening import PostureSettings
    from s3kit.configs.init import init_store
    from s3kit.service.buckets import parse_tags

    url = _store_url(store)
    settings = PostureSettings(
        envs=_names([envs]),
        protected=_names(protect),
        releasers=tuple(releaser or ()),
        kms_key=kms_key,
        tags=parse_tags(tag or []),
        object_lock=object_lock,
        mfa_delete=mfa_delete is not None,
        lifecycle=not no_lifecycle,
        noncurrent_days=noncurrent_days,
    )
    report = init_store(state_of(ctx).session, url, settings, mfa=mfa_delete, probe=not no_probe)
    if json_out:
        output.emit(report.document())
    else:
        sys.stdout.write(f"init {report.posture.store}:\n")
        for step in report.steps:
            detail = f": {step.detail}" if step.detail else ""
            sys.stdout.write(f"  {step.state:<8} {step.name}{detail}\n")
        _print_posture(report.posture)
    failed = [s.name for s in report.steps if s.state == "failed"]
    if json_out and (failed or not report.posture.ok):
        raise typer.Exit(1)
    if failed:
        raise S3KitError(f"init could not set: {', '.join(failed)} (see above)")
    if not report.posture.ok:
        raise _not_as_asked(report.posture)


def posture(
    ctx: typer.Context,
    no_probe: NoProbe = False,
    store: Store = None,
    json_out: output.Json = False,
) -> None:
    """Read every setting of the store's bucket back.

    Each is ok, drift, not supported, or accepted but ignored. Exits 1 unless all are ok.

    Example: s3kit configs posture --store s3://ops-configs
    """
    from s3kit.configs.posture import check_posture

    report = check_posture(state_of(ctx).session, _store_url(store), probe=not no_probe)
    if json_out:
        output.emit(report.document())
    else:
        _print_posture(report)
    if not report.ok:
        raise typer.Exit(1) if json_out else _not_as_asked(report)


# -- the cache -------------------------------------------------------------------------------------


def warm(
    ctx: typer.Context,
    env: Annotated[
        str | None, typer.Option("--env", metavar="ENV", help="Only this environment.")
    ] = None,
    tool: Annotated[str | None, typer.Option("--tool", metavar="TOOL", help="Only this tool.")] = (
        None
    ),
    store: Store = None,
    json_out: output.Json = False,
) -> None:
    """Fetch the live releases into the local cache.

    Every HEAD pointer and the files it names, so that `watch` can start while the store is
    unreachable. Exits 1 if one could not be fetched.

    Example: s3kit configs warm --env prod --store s3://ops-configs
    """
    from s3kit.configs.cache import ConfigCache, S3Transport
    from s3kit.configs.cache import warm as warm_cache

    state = state_of(ctx)
    transport = S3Transport(state.session, _store_url(store))
    counted = state.metrics.count_cache if state.metrics is not None else None
    warmed = warm_cache(ConfigCache(on_count=counted), transport, env=env, tool=tool)
    if json_out:
        output.emit_listing(
            {"tool": w.tool, "env": w.env, "release": w.release, "files": w.files,
             "bytes": w.bytes, "error": output.error_text(w.error) if w.error else None}
            for w in warmed
        )  # fmt: skip
    else:
        for w in warmed:
            if w.error:
                sys.stderr.write(f"s3kit: error: {w.tool} in {w.env}: {w.error}\n")
            else:
                sys.stdout.write(
                    f"warmed {w.tool} in {w.env}: release {w.release}, {w.files} files"
                    f" ({human_size(w.bytes)})\n"
                )
        if not warmed:
            sys.stdout.write("no HEAD pointers to warm\n")
    if any(w.error for w in warmed):
        raise typer.Exit(1)


def cache_stats(json_out: output.Json = False) -> None:
    """Entries, size and counters of the local cache of config stores."""
    from s3kit.configs.cache import COUNTERS, ConfigCache

    stats = ConfigCache().stats()
    if json_out:
        output.emit(stats.document())
        return
    sys.stdout.write(
        f"{stats.folder}: {stats.entries} entries, {human_size(stats.bytes)} of"
        f" {human_size(stats.max_bytes)}\n"
    )
    sys.stdout.write(
        "  " + ", ".join(f"{name} {stats.counters.get(name, 0)}" for name in COUNTERS) + "\n"
    )


def cache_clear(json_out: output.Json = False) -> None:
    """Empty the local cache of config stores.

    Its counters are reset too.
    """
    from s3kit.configs.cache import ConfigCache

    cache = ConfigCache()
    entries, size = cache.clear()
    if json_out:
        output.emit({"folder": str(cache.folder), "removed": entries, "bytes": size})
        return
    sys.stdout.write(f"removed {entries} entries ({human_size(size)}) from {cache.folder}\n")


# -- watch -------------------------------------------------------------------------------------


def _reloader(
    tool: str,
    dest: Path,
    reload_url: str | None,
    pid: int | None,
    command: str | None,
    metrics_url: str | None,
) -> Reloader:
    from s3kit.configs.watch import ExecReloader, HttpReloader, SignalReloader

    given = [n for n, v in (("--reload-url", reload_url), ("--signal", pid), ("--exec", command))
             if v is not None]  # fmt: skip
    if len(given) != 1:
        raise UsageError(
            "say how to reload the tool: one of --reload-url URL, --signal PID or --exec CMD"
            + (f" (not {' and '.join(given)})" if given else "")
        )
    for name, url in (("--reload-url", reload_url), ("--metrics-url", metrics_url)):
        if url is not None and not url.lower().startswith(("http://", "https://")):
            raise UsageError(f"{name} takes an http:// or https:// URL, not '{url}'")
    if reload_url is not None:
        return HttpReloader(reload_url, tool, metrics_url)
    if pid is not None:
        return SignalReloader(pid, tool, metrics_url=metrics_url)
    assert command is not None
    return ExecReloader.parse(command, tool, metrics_url=metrics_url,
                              env={"S3KIT_CONFIGS_DEST": str(dest)})  # fmt: skip


def _print_round(result: WatchRound, *, json_out: bool, jsonl: bool) -> None:
    if json_out:
        (output.emit if not jsonl else lambda d: sys.stdout.write(output.line(d) + "\n"))(
            result.document()
        )
        sys.stdout.flush()
        return
    stream = sys.stdout if result.ok else sys.stderr
    for finding in result.findings:
        stream.write(f"  {finding}\n")
    prefix = "" if result.ok else "s3kit: error: "
    stream.write(f"{prefix}{result.status}: {result.detail}\n")
    stream.flush()


def watch(
    ctx: typer.Context,
    tool: ToolArg,
    env: EnvArg,
    dest: Annotated[
        Path,
        typer.Argument(
            metavar="DEST", help="The folder the tool reads (a link s3kit swaps in one step)."
        ),
    ],
    reload_url: Annotated[
        str | None,
        typer.Option(
            "--reload-url",
            metavar="URL",
            help="POST here to reload (Prometheus, Alertmanager: http://HOST:PORT/-/reload).",
        ),
    ] = None,
    pid: Annotated[
        int | None, typer.Option("--signal", metavar="PID", help="Send PID a SIGHUP to reload.")
    ] = None,
    command: Annotated[
        str | None,
        typer.Option("--exec", metavar="CMD", help="Run CMD to reload (no shell; exit 0 is ok)."),
    ] = None,
    metrics_url: Annotated[
        str | None,
        typer.Option(
            "--metrics-url",
            metavar="URL",
            help="Verify the reload on this /metrics page.",
            show_default="with --reload-url, the same server's /metrics",
        ),
    ] = None,
    interval: Annotated[
        str, typer.Option("--interval", metavar="DURATION", help="Time between rounds.")
    ] = "10s",
    max_stale: Annotated[
        str | None,
        typer.Option(
            "--max-stale",
            metavar="DURATION",
            help="When the store is unreachable, go on with a pointer at most this long past"
            " its TTL.",
            show_default="fail the round",
        ),
    ] = None,
    ttl: Annotated[
        str,
        typer.Option(
            "--ttl", metavar="DURATION", help="How long a HEAD read is trusted before asking again."
        ),
    ] = "30s",
    once: Annotated[bool, typer.Option("--once", help="One round, then exit (cron, tests).")] = (
        False
    ),
    metrics_addr: Annotated[
        str | None,
        typer.Option(
            "--metrics-addr",
            metavar="HOST:PORT",
            help="Serve /metrics (Prometheus text) and /healthz (200 or 503) here while"
            " watching, e.g. 127.0.0.1:9464; port 0 picks a free one.",
            show_default="not served",
        ),
    ] = None,
    store: Store = None,
    json_out: output.Json = False,
) -> None:
    """Keep DEST at ENV's HEAD release of TOOL, and reload the tool.

    Each round downloads through the cache (every file checked), validates, swaps DEST in one
    step, reloads the tool and verifies it; a failed reload puts the previous files back and
    reloads again.

    With --once: exit 0 when DEST is up to date, 1 when the round failed, was refused or
    rolled back.

    Example: s3kit configs watch prometheus prod /etc/prometheus/conf.d --reload-url
    http://127.0.0.1:9090/-/reload --store s3://ops-configs
    """
    from s3kit._metrics_http import parse_address
    from s3kit.configs.cache import ConfigCache, S3Transport
    from s3kit.configs.layout import check_env, check_tool
    from s3kit.configs.watch import WatchHealth, watch_once
    from s3kit.configs.watch import watch as watch_rounds

    check_tool(tool)
    check_env(env)
    address = parse_address(metrics_addr) if metrics_addr is not None else None
    if address is not None and once:
        raise UsageError(
            "--metrics-addr serves while the watch runs; with --once, write the figures with"
            " --metrics-file FILE instead"
        )
    url = _store_url(store)
    every = _duration(interval, "--interval")
    assert every is not None
    stale = _duration(max_stale, "--max-stale")
    trusted = _duration(ttl, "--ttl")
    assert trusted is not None
    reloader = _reloader(tool, dest, reload_url, pid, command, metrics_url)
    state = state_of(ctx)
    metrics = state.metrics
    if metrics is None and address is not None:
        from s3kit.metrics import Metrics

        metrics = Metrics()
        metrics.watch(state.session)
    transport = S3Transport(state.session, url)
    cache = ConfigCache(ttl=trusted, on_count=metrics.count_cache if metrics else None)

    def one_round() -> WatchRound:
        return watch_once(
            cache=cache, transport=transport, tool=tool, env=env, dest=dest,
            reloader=reloader, max_stale=stale,
        )  # fmt: skip

    if once:
        result = one_round()
        _print_round(result, json_out=json_out, jsonl=False)
        if not result.ok:
            raise typer.Exit(1)
        return
    stop = threading.Event()
    _stop_on_sigterm(stop)
    health = WatchHealth(max_stale=stale)
    server = None if address is None or metrics is None else _serve(address, metrics, health)
    try:
        for result in watch_rounds(one_round, interval=every, stop=stop, on_round=health.record):
            _print_round(result, json_out=json_out, jsonl=True)
    finally:
        if server is not None:
            server.close()


def _serve(address: tuple[str, int], metrics: Metrics, health: WatchHealth) -> MetricsServer:
    """/metrics and /healthz for the watch, said on stderr (with the port the system picked)."""
    from s3kit._metrics_http import MetricsServer

    server = MetricsServer(
        address, lambda: metrics.snapshot().prometheus() + health.prometheus(), health.status
    )
    notice(f"s3kit: serving /metrics and /healthz on {server.url}")
    if server.exposed:
        notice(
            f"s3kit: warning: {server.url} is reachable from other machines: its pages name"
            " buckets and request counts (bind 127.0.0.1 unless a firewall keeps others out)"
        )
    return server


def _stop_on_sigterm(stop: threading.Event) -> None:
    """SIGTERM (systemd, kubernetes) ends the watch after the round under way: a swap is
    never cut in half."""
    if threading.current_thread() is not threading.main_thread():
        return

    def handler(signum: int, frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, handler)


__all__ = ["cache_clear", "cache_stats", "init", "posture", "warm", "watch"]


def register(group: typer.Typer) -> None:
    """Add these commands to the `configs` group (cli/configs.py holds the store's own)."""
    for name in ("init", "posture", "warm", "watch"):
        group.command(name)(globals()[name])
    cache = typer.Typer(help="The local cache of config stores.", no_args_is_help=True)
    cache.command("stats")(cache_stats)
    cache.command("clear")(cache_clear)
    group.add_typer(cache, name="cache")
