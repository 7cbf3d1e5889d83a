"""`make bench-reliability`: the success rate of s3kit's operations, after its retries, through
a proxy that injects faults at random.

Starts its own SeaweedFS (`weed mini`, as `s3kit local start` runs it: loopback only,
telemetry off, every port free and explicit, its logs in its own folder) and, in front of it,
tests/integration/proxy.py's FaultProxy on 127.0.0.1, which answers about 1 % of requests
with one fault drawn at random from a seeded generator: 503 SlowDown, 500 InternalError, the
connection reset before the request reaches the server or after the server acted, or (for a
GET) the answer's body cut short. Then, through the s3kit library, `--ops` logical
operations or more: `--workers` workers each run cycles of put, get, head, list, delete and
head again on an object of their own, of a random size from 0 to 64 KiB, and a few large
files go up and down as multipart transfers (TransferManager).

Every result is checked, so a success means the operation did what it says: a put succeeds
only when the get after it returns the same bytes, a get when its bytes are the ones put, a
head when size and ETag (the MD5) are right, a list when it lists exactly the worker's one
object, a delete only when the head after it says the object is gone, a multipart upload or
download only when the file downloaded has the SHA-256 of the file uploaded.

The report: operations, failures, the success rate with its one-sided 95 % lower bound
(Clopper-Pearson; with no failure in n, 1 - 0.05 ** (1 / n): 29,956 operations without one
show 99.99 %), the retries spent by reason and the retry budget's refusals (s3kit.metrics),
the faults injected (the proxy's own count), the bytes verified, wall and CPU time. It prints
a table and writes bench/results/reliability-<date>.json.

    python bench/reliability.py [--ops 30000] [--rate 0.01] [--seed 1] [--workers 16]
                                [--multipart 4] [--multipart-mib 21] [--out FILE]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import math
import random
import resource
import shutil
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
BUCKET = "reliability"
MiB = 1024 * 1024
SMALL_MAX = 64 * 1024
CYCLE = ("put", "get", "head", "list", "delete", "head")  # the operations of one cycle

sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from tests.integration.proxy import S3_FAULTS as FAULTS  # noqa: E402
from tests.integration.proxy import FaultProxy, RandomFaults  # noqa: E402

from s3kit._local_server import LocalServer  # noqa: E402
from s3kit._session import Session  # noqa: E402
from s3kit._uri import LocalPath, S3Url  # noqa: E402
from s3kit.errors import ObjectNotFound, S3KitError  # noqa: E402
from s3kit.metrics import Metrics  # noqa: E402
from s3kit.service import S3Service  # noqa: E402
from s3kit.storage.base import ObjectInfo  # noqa: E402
from s3kit.storage.s3 import S3Storage  # noqa: E402
from s3kit.transfer import TransferConfig, TransferManager  # noqa: E402


@dataclass
class Tally:
    """Logical operations by name: how many, how many failed, the first failures' stories."""

    counts: dict[str, int] = field(default_factory=dict)
    failures: dict[str, int] = field(default_factory=dict)
    stories: list[str] = field(default_factory=list)
    bytes_verified: int = 0

    def done(self, name: str, ok: bool, story: str = "") -> None:
        self.counts[name] = self.counts.get(name, 0) + 1
        if not ok:
            self.failures[name] = self.failures.get(name, 0) + 1
            if len(self.stories) < 20:
                self.stories.append(f"{name}: {story}")

    @property
    def operations(self) -> int:
        return sum(self.counts.values())

    @property
    def failed(self) -> int:
        return sum(self.failures.values())


def lower_bound(n: int, failures: int, confidence: float = 0.95) -> float:
    """The one-sided lower confidence bound of a success rate seen as (n - failures) / n
    (Clopper-Pearson): the lowest rate under which so few failures still had a chance of
    1 - confidence. With no failure it is (1 - confidence) ** (1 / n)."""
    if n == 0:
        return 0.0
    alpha = 1 - confidence
    if failures == 0:
        return float(alpha ** (1 / n))

    def at_most(q: float) -> float:  # P(F <= failures) when each operation fails with q
        total = 0.0
        for i in range(failures + 1):
            log = (
                math.lgamma(n + 1) - math.lgamma(i + 1) - math.lgamma(n - i + 1)
                + i * math.log(q) + (n - i) * math.log1p(-q)
            )  # fmt: skip
            total += math.exp(log)
        return total

    low, high = failures / n, 1.0
    for _ in range(200):  # P(F <= failures) falls as q grows: find where it is alpha
        middle = (low + high) / 2
        low, high = (middle, high) if at_most(middle) > alpha else (low, middle)
    return 1 - high


def etag_of(info: ObjectInfo) -> str:
    return (info.etag or "").strip('"')


async def cycles(
    storage: S3Storage, worker: int, count: int, tally: Tally, rng: random.Random
) -> None:
    """`count` cycles of put, get, head, list, delete, head on one object of the worker's."""
    prefix = f"small/w{worker:03d}/"
    for index in range(count):
        key = f"{prefix}k{index:06d}"
        data = rng.randbytes(rng.randint(0, SMALL_MAX))
        digest = hashlib.md5(data, usedforsecurity=False).hexdigest()
        await one_cycle(storage, prefix, key, data, digest, tally)


async def one_cycle(
    storage: S3Storage, prefix: str, key: str, data: bytes, digest: str, tally: Tally
) -> None:
    async def attempt(name: str, call: Callable[[], Awaitable[Any]]) -> tuple[bool, Any]:
        try:
            return True, await call()
        except S3KitError as exc:
            tally.done(name, False, f"{key}: {type(exc).__name__}: {exc}")
            return False, exc

    put_ok, _ = await attempt("put", lambda: storage.put_async(key, data))
    if not put_ok:
        await storage.delete_async(key)  # best effort: the next cycle's list expects one key
        return
    ok, got = await attempt("get", lambda: storage.get_async(key))
    if ok:
        same = got == data
        tally.done("get", same, f"{key}: {len(got)} bytes back for {len(data)}")
        tally.done("put", same, f"{key}: a get returned other bytes")
        tally.bytes_verified += len(data) if same else 0
    else:
        tally.done("put", False, f"{key}: not verified (its get failed)")
    ok, info = await attempt("head", lambda: storage.head_async(key))
    if ok:
        right = info.size == len(data) and etag_of(info) == digest
        tally.done("head", right, f"{key}: head says {info.size} bytes, ETag {info.etag}")

    async def listed() -> list[str]:
        return [entry.key async for entry in storage.list_async(prefix)]

    ok, keys = await attempt("list", listed)
    if ok:
        tally.done("list", keys == [key], f"{prefix}: listed {keys[:3]}, expected [{key}]")
    ok, _ = await attempt("delete", lambda: storage.delete_async(key))
    try:
        await storage.head_async(key)
    except ObjectNotFound:
        tally.done("head", True)
        if ok:
            tally.done("delete", True)
    except S3KitError as exc:
        tally.done("head", False, f"{key}: after its delete: {type(exc).__name__}: {exc}")
        if ok:
            tally.done("delete", False, f"{key}: not verified (the head after it failed)")
    else:
        tally.done("head", True)  # it answered truly: the object is there
        if ok:
            tally.done("delete", False, f"{key}: still there after its delete")


async def small_operations(
    session: Session, workers: int, per_worker: int, tally: Tally, seed: int
) -> None:
    storage = session.storage(BUCKET)
    await asyncio.gather(
        *(
            cycles(storage, worker, per_worker, tally, random.Random(seed * 1000 + worker))
            for worker in range(workers)
        )
    )


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as source:
        while block := source.read(MiB):
            digest.update(block)
    return digest.hexdigest()


def multipart_round(
    session: Session, work: Path, index: int, mib: int, tally: Tally, seed: int
) -> None:
    """One large file up and down as multipart transfers (5 MiB parts), checked by SHA-256."""
    source = work / f"big-{index}.bin"
    rng = random.Random(seed + index)
    with source.open("wb") as out:
        for _ in range(mib):
            out.write(rng.randbytes(MiB))
    expected = sha256_of(source)
    config = TransferConfig(
        multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB, journal_dir=work / "journal"
    )
    manager = TransferManager(session, config=config)
    key = f"big/{index}.bin"
    target = work / f"back-{index}.bin"
    try:
        manager.run(LocalPath(source), S3Url(BUCKET, key))
    except S3KitError as exc:
        tally.done("multipart upload", False, f"{key}: {type(exc).__name__}: {exc}")
        return
    try:
        manager.run(S3Url(BUCKET, key), LocalPath(target))
    except S3KitError as exc:
        tally.done("multipart download", False, f"{key}: {type(exc).__name__}: {exc}")
        tally.done("multipart upload", False, f"{key}: not verified (its download failed)")
        return
    same = sha256_of(target) == expected
    tally.done("multipart download", same, f"{key}: the file downloaded differs")
    tally.done("multipart upload", same, f"{key}: the object differs from the file")
    tally.bytes_verified += source.stat().st_size if same else 0
    source.unlink()
    target.unlink()


def report(result: dict[str, Any]) -> str:
    rows = [("operation", "count", "failed")]
    for name, count in sorted(result["operations"].items()):
        rows.append((name, f"{count:,}", str(result["failures"].get(name, 0))))
    rows.append(("all", f"{result['total']:,}", str(result["failed"])))
    width = [max(len(row[i]) for row in rows) for i in range(3)]
    lines = [
        f"{row[0].ljust(width[0])}  {row[1].rjust(width[1])}  {row[2].rjust(width[2])}"
        for row in rows
    ]
    retries = ", ".join(f"{k} {v}" for k, v in sorted(result["retries"].items())) or "none"
    faults = ", ".join(f"{k} {v}" for k, v in sorted(result["faults_injected"].items()))
    lines += [
        "",
        f"success rate after retries  {result['success_rate']:.4%}"
        f" (one-sided 95 % lower bound {result['success_rate_lower_95']:.4%})",
        f"requests through the proxy  {result['proxy_requests']:,}",
        f"faults injected             {result['faults_total']:,} ({faults})",
        f"retries spent               {sum(result['retries'].values()):,} ({retries});"
        f" refused by the retry budget: {result['retry_budget_refusals']}",
        f"bytes verified              {result['bytes_verified']:,}",
        f"wall time                   {result['wall_seconds']:.1f} s"
        f" (client CPU {result['client_cpu_seconds']:.1f} s)",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ops", type=int, default=30_000, help="small operations, at least")
    parser.add_argument("--rate", type=float, default=0.01, help="faults per request")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=16)
    parser.add_argument("--multipart", type=int, default=4, help="large files up and down")
    parser.add_argument("--multipart-mib", type=int, default=21)
    parser.add_argument("--out", type=Path, default=None, help="the JSON result's path")
    args = parser.parse_args()
    per_worker = math.ceil(args.ops / len(CYCLE) / args.workers)

    # The server's data and logs stay in a folder of this run's own, removed after it.
    work = Path(tempfile.mkdtemp(dir=BENCH, prefix=".reliability-"))
    server = LocalServer(work / "server")
    state, _ = server.start()
    tally = Tally()
    metrics = Metrics()
    try:
        direct = Session(
            endpoint_url=state.endpoint,
            access_key_id=state.access_key_id,
            secret_access_key=state.secret_access_key,
            env={},
        )
        S3Service(direct).create_bucket(BUCKET)
        with FaultProxy(state.endpoint) as proxy:
            session = Session(
                endpoint_url=proxy.url,
                access_key_id=state.access_key_id,
                secret_access_key=state.secret_access_key,
                env={},
            )
            metrics.watch(session)
            chance: RandomFaults = proxy.add_random_faults(args.rate, seed=args.seed, faults=FAULTS)
            print(
                f"{per_worker * len(CYCLE) * args.workers:,} small operations by"
                f" {args.workers} workers, {args.multipart} x {args.multipart_mib} MiB multipart"
                f" up and down, {args.rate:.1%} of requests faulted (seed {args.seed})",
                flush=True,
            )
            started, cpu = time.monotonic(), resource.getrusage(resource.RUSAGE_SELF)
            for index in range(args.multipart):
                multipart_round(session, work, index, args.multipart_mib, tally, args.seed)
            asyncio.run(small_operations(session, args.workers, per_worker, tally, args.seed))
            wall = time.monotonic() - started
            after = resource.getrusage(resource.RUSAGE_SELF)
            requests = chance.considered
            injected = dict(chance.injected)
            session.http().close()
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)

    snapshot = metrics.snapshot()
    n, failed = tally.operations, tally.failed
    stamp = datetime.now(UTC).strftime("%Y-%m-%d-%H%M%S")
    result: dict[str, Any] = {
        "date": stamp,
        "command": " ".join(["python bench/reliability.py", *sys.argv[1:]]),
        "args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "total": n,
        "failed": failed,
        "success_rate": (n - failed) / n if n else 0.0,
        "success_rate_lower_95": lower_bound(n, failed),
        "operations": tally.counts,
        "failures": tally.failures,
        "first_failures": tally.stories,
        "proxy_requests": requests,
        "faults_total": sum(injected.values()),
        "faults_injected": injected,
        "retries": dict(snapshot.retries_by_reason),
        "retry_budget_refusals": snapshot.retry_budget_refusals,
        "requests_by_outcome": {
            op.operation: dict(op.outcomes) for op in snapshot.operations.values()
        },
        "bytes_verified": tally.bytes_verified,
        "wall_seconds": wall,
        "client_cpu_seconds": (after.ru_utime - cpu.ru_utime) + (after.ru_stime - cpu.ru_stime),
    }
    print()
    print(report(result))
    for story in tally.stories:
        print(f"  failed: {story}")
    out = args.out or BENCH / "results" / f"reliability-{stamp}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print(f"\nsaved {out}")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
