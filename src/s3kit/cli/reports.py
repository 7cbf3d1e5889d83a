"""What a run reports about its requests once it has ended: `--stats` (a table on stderr),
`--stats-json FILE`, `--metrics-file FILE` (Prometheus' text format, for node_exporter's
textfile collector: written atomically, so the collector never reads half a file) and
`--metrics-push URL` (a Pushgateway, job "s3kit")."""

from __future__ import annotations

import sys
from pathlib import Path

from s3kit._observe import redact
from s3kit.cli.state import current_state
from s3kit.errors import S3KitError, UsageError, translating

PUSH_TIMEOUT = 10.0


def report_run() -> bool:
    """Write the reports the current run asked for; False when one of them failed (said on
    stderr, one line each)."""
    state = current_state()
    if state is None or state.metrics is None:
        return True  # asked for none: the usual run, which must not pay for json
    import json

    reports, snapshot = state.reports, state.metrics.snapshot()
    ok = True
    if reports.table:
        sys.stderr.write(snapshot.table())
    for path, text in (
        (reports.json_file, json.dumps(snapshot.document(), indent=2) + "\n"),
        (reports.prometheus_file, snapshot.prometheus()),
    ):
        if path is not None:
            try:
                _write(path, text)
            except S3KitError as exc:
                sys.stderr.write(f"s3kit: error: {exc.message}\n")
                ok = False
    if reports.push_url:
        try:
            push(reports.push_url, snapshot.prometheus())
        except S3KitError as exc:
            sys.stderr.write(f"s3kit: error: {redact(exc.message)}\n")
            ok = False
    return ok


def _write(path: Path, text: str) -> None:
    from s3kit._atomic import write_atomic

    with translating(path=str(path)):
        write_atomic(path, text.encode(), None, fsync=False)


def push(url: str, text: str, *, job: str = "s3kit") -> None:
    """PUT `text` to a Pushgateway at `url` as job `job` (replacing that job's metrics)."""
    import urllib3

    if not url.startswith(("http://", "https://")):
        raise UsageError(f"--metrics-push takes the Pushgateway's http(s):// URL, not '{url}'")
    target = f"{url.rstrip('/')}/metrics/job/{job}"
    try:
        answer = urllib3.PoolManager().request(
            "PUT",
            target,
            body=text.encode(),
            headers={"Content-Type": "text/plain; version=0.0.4"},
            timeout=PUSH_TIMEOUT,
            retries=False,
        )
    except urllib3.exceptions.HTTPError as exc:
        raise S3KitError(f"cannot reach the Pushgateway at {url}: {exc}") from None
    if answer.status >= 300:
        raise S3KitError(
            f"the Pushgateway at {url} refused the metrics ({answer.status}):"
            f" {answer.data[:200].decode(errors='replace').strip()}"
        )
