"""Health checks: is the endpoint there, does it answer as S3, can this account use the bucket.

`check_health(session, bucket=None, deep=False)` runs the steps in order, timing each, and
stops at the first that leaves nothing to check further:

- connect: a TCP connection to the endpoint (and the TLS handshake for https);
- liveness: the server's own liveness endpoint where it offers one (SeaweedFS `/healthz`,
  MinIO `/minio/health/live`); a server with none is skipped, not failed, and one that answers
  a 5xx there (SeaweedFS's 503 while its volumes are unavailable) is degraded;
- identity: the credentials are accepted (`whoami`: STS where there is one, else ListBuckets);
- bucket: HeadBucket, when a bucket is named;
- with `deep`: a canary object written, read back, compared by checksum and deleted; a second
  conditional write of it (If-None-Match: *) that must be refused; and the clock skew against
  the server's Date header (SigV4 refuses requests more than 15 minutes off).

The verdict: `unhealthy` when a step the work needs fails (connect, identity, bucket, canary),
`degraded` when only something softer does (liveness, a conditional write ignored, a clock more
than a minute off), else `healthy` — the CLI's exit codes 2, 1 and 0, for container probes and
cron. The canary lives under `_s3kit-health/` and is removed whatever happens.
"""

from __future__ import annotations

import contextlib
import hashlib
import secrets
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from s3kit._aio import run_sync
from s3kit.errors import ConflictError, S3KitError

if TYPE_CHECKING:
    from s3kit._session import Session

StepStatus = Literal["ok", "degraded", "failed", "skipped"]
Verdict = Literal["healthy", "degraded", "unhealthy"]
EXIT_CODES: dict[Verdict, int] = {"healthy": 0, "degraded": 1, "unhealthy": 2}
SKEW_LIMIT = 60.0  # seconds off the server's clock before it is worth saying
CANARY_PREFIX = "_s3kit-health/"
TIMEOUT = 10.0
LIVENESS_PATHS = ("/healthz", "/minio/health/live")


@dataclass(frozen=True, slots=True)
class Step:
    name: str
    status: StepStatus
    seconds: float
    detail: str = ""


@dataclass(slots=True)
class HealthReport:
    endpoint: str
    bucket: str | None
    steps: list[Step] = field(default_factory=list)
    clock_skew: float | None = None  # seconds the local clock is ahead of the server's

    @property
    def verdict(self) -> Verdict:
        if any(s.status == "failed" and s.name in _VITAL for s in self.steps):
            return "unhealthy"
        if any(s.status in ("failed", "degraded") for s in self.steps):
            return "degraded"
        return "healthy"

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.verdict]

    def document(self) -> dict[str, Any]:
        return {
            "endpoint": self.endpoint,
            "bucket": self.bucket,
            "verdict": self.verdict,
            "clock_skew_seconds": self.clock_skew,
            "steps": [
                {"name": s.name, "status": s.status, "seconds": round(s.seconds, 6),
                 "detail": s.detail or None}
                for s in self.steps
            ],
        }  # fmt: skip


_VITAL = frozenset({"connect", "identity", "bucket", "canary"})


def check_health(
    session: Session,
    bucket: str | None = None,
    *,
    deep: bool = False,
    clock: Callable[[], float] = time.monotonic,
    wall: Callable[[], float] = time.time,
) -> HealthReport:
    """Run the checks (see the module docstring); never raises for what it checks. `clock`
    times the steps; `wall` is the local clock the server's Date is compared with."""
    endpoint = session.endpoint_url or f"https://s3.{session.settings.region}.amazonaws.com"
    report = HealthReport(endpoint=session.endpoint_label, bucket=bucket)

    def step(name: str, work: Callable[[], str | tuple[StepStatus, str]]) -> bool:
        started = clock()
        try:
            outcome = work()
        except Exception as exc:  # a check that fails is the finding, never a crash
            report.steps.append(Step(name, "failed", clock() - started, _message(exc)))
            return False
        status: StepStatus
        status, detail = ("ok", outcome) if isinstance(outcome, str) else outcome
        report.steps.append(Step(name, status, clock() - started, detail))
        return status != "failed"

    if not step("connect", lambda: _connect(endpoint)):
        return report
    step("liveness", lambda: _liveness(endpoint, session))
    if not step("identity", lambda: _identity(session)):
        return report
    if bucket is not None and not step("bucket", lambda: _bucket(session, bucket)):
        return report
    if deep and bucket is not None:
        key = f"{CANARY_PREFIX}{secrets.token_hex(8)}"
        try:
            if step("canary", lambda: _canary(session, bucket, key, report, wall)):
                step("conditional write", lambda: _conditional(session, bucket, key))
        finally:
            # A canary that could not be written is the canary step's finding already.
            with contextlib.suppress(S3KitError):
                session.storage(bucket).delete(key)
        skew = report.clock_skew
        step(
            "clock",
            lambda: (
                ("degraded", f"{skew:+.1f} s from the server's clock")
                if skew is not None and abs(skew) > SKEW_LIMIT
                else ("ok", "" if skew is None else f"{skew:+.1f} s")
            ),
        )
    elif deep:
        report.steps.append(Step("canary", "skipped", 0.0, "name a bucket to write a canary to"))
    return report


def _connect(endpoint: str) -> str:
    parts = urlsplit(endpoint)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    with socket.create_connection((host, port), timeout=TIMEOUT) as sock:
        if parts.scheme == "https":
            context = ssl.create_default_context()
            with context.wrap_socket(sock, server_hostname=host) as tls:
                return f"{host}:{port}, {tls.version()}"
    return f"{host}:{port}"


def _liveness(endpoint: str, session: Session) -> str | tuple[StepStatus, str]:
    """The server's own liveness answer, unsigned, as a load balancer would ask it."""
    import urllib3

    pool = urllib3.PoolManager(
        cert_reqs="CERT_REQUIRED" if session.settings.verify_ssl else "CERT_NONE",
        timeout=TIMEOUT,
        retries=False,
    )
    failing: list[str] = []
    for path in LIVENESS_PATHS:
        answer = pool.request("GET", endpoint.rstrip("/") + path, redirect=False)
        if answer.status == 200:
            return f"{path} answered 200"
        # A server without the endpoint takes the path for a bucket and answers 403 or 404; a
        # 5xx is the endpoint there and saying the server is not well.
        if answer.status >= 500:
            failing.append(f"{path} answered {answer.status}")
    if failing:
        return ("degraded", ", ".join(failing))
    return ("skipped", "the server offers no liveness endpoint s3kit knows")


def _identity(session: Session) -> str:
    from s3kit.service import S3Service

    identity = S3Service(session).whoami()
    who = identity.arn or identity.account or identity.access_key
    return f"{who} ({identity.method})"


def _bucket(session: Session, bucket: str) -> str:
    session.http().request("HEAD", bucket, "", operation="HeadBucket")  # says a missing one
    return f"s3://{bucket} reachable"


def _canary(
    session: Session, bucket: str, key: str, report: HealthReport, wall: Callable[[], float]
) -> str:
    body = secrets.token_bytes(1024)
    storage = session.storage(bucket)
    started = wall()
    storage.put(key, body, content_type="application/octet-stream", mode="create")
    response = run_sync(session.http().request_async("GET", bucket, key))
    finished = wall()
    if hashlib.sha256(response.body).digest() != hashlib.sha256(body).digest():
        raise S3KitError(f"s3://{bucket}/{key} came back with other bytes than were written")
    date = response.headers.get("Date")
    if date:
        server = parsedate_to_datetime(date).astimezone(UTC).timestamp()
        # The Date has whole seconds: compare it with the middle of the exchange.
        report.clock_skew = round((started + finished) / 2 - server, 1)
    return f"1 KiB written, read back and compared at s3://{bucket}/{key}"


def _conditional(session: Session, bucket: str, key: str) -> str | tuple[StepStatus, str]:
    try:
        session.storage(bucket).put(key, b"second", mode="create")
    except ConflictError:
        return "a second create of the canary was refused (If-None-Match honoured)"
    return ("degraded", "the store ignores If-None-Match: a second create overwrote the canary")


def _message(exc: Exception) -> str:
    return exc.message if isinstance(exc, S3KitError) else f"{type(exc).__name__}: {exc}"


__all__ = ["EXIT_CODES", "HealthReport", "Step", "check_health"]
