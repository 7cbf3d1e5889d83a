"""`s3kit deploy` against SeaweedFS and moto: headers read back by HEAD, only changes sent,
removed files deleted after the grace period, the delete guard, the lock, plans, history and
rollback (from versions on a versioned bucket, from the deploy's own copies otherwise)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Backend, CliInvoker
from tests.integration.cli_support import assert_failed, get, keys, put
from tests.integration.known_gaps import known_gap


def write_site(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


SITE = {
    "index.html": "<!doctype html><h1>v1</h1>",
    "about/index.html": "<!doctype html><h1>about</h1>",
    "assets/app.3f2a9c1b.js": "console.log(1)",
    "assets/logo.svg": "<svg xmlns='http://www.w3.org/2000/svg'/>",
    "LICENSE": "plain text, no extension",
}


def deploy(cli: CliInvoker, backend: Backend, *args: str) -> dict[str, Any]:
    result = cli("deploy", *args, "--json", env=backend.env())
    assert result.exit_code == 0, (result.stdout, result.stderr)
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def head(backend: Backend, bucket: str, key: str) -> dict[str, Any]:
    response: dict[str, Any] = backend.session().client("s3").head_object(Bucket=bucket, Key=key)
    return response


def site_keys(backend: Backend, bucket: str) -> list[str]:
    return [k for k in keys(backend, bucket) if not k.startswith("www/_s3kit/")]


def test_first_deploy_sets_headers_and_a_redeploy_sends_nothing(
    cli: CliInvoker, backend: Backend, bucket: str, tmp_path: Path
) -> None:
    root = write_site(tmp_path / "site", SITE)
    first = deploy(cli, backend, str(root), f"s3://{bucket}/www")
    assert first["uploaded"] == len(SITE) and first["deploy_id"]
    phases = [u["phase"] for u in first["plan"]["uploads"]]
    assert phases == sorted(phases)  # "assets" < "pages": every asset before any page
    assert head(backend, bucket, "www/index.html")["CacheControl"] == "no-cache"
    assert head(backend, bucket, "www/index.html")["ContentType"] == "text/html; charset=utf-8"
    app = head(backend, bucket, "www/assets/app.3f2a9c1b.js")
    assert app["CacheControl"] == "public, max-age=31536000, immutable"
    assert app["ContentType"].startswith("text/javascript")
    assert head(backend, bucket, "www/LICENSE")["ContentType"] == "text/plain; charset=utf-8"
    assert "www/_s3kit/current.json" in keys(backend, bucket)

    again = deploy(cli, backend, str(root), f"s3://{bucket}/www")
    assert (again["uploaded"], again["deploy_id"]) == (0, None)
    text = cli("deploy", str(root), f"s3://{bucket}/www", env=backend.env())
    assert "already serves this site" in text.stdout


def test_a_changed_file_and_a_header_only_change_are_all_that_is_sent(
    cli: CliInvoker, backend: Backend, bucket: str, tmp_path: Path
) -> None:
    root = write_site(tmp_path / "site", SITE)
    deploy(cli, backend, str(root), f"s3://{bucket}/www")
    (root / "index.html").write_text("<!doctype html><h1>v2</h1>")
    rules = tmp_path / "rules.yaml"
    rules.write_text('rules:\n  - match: "*.svg"\n    cache_control: "public, max-age=60"\n')
    result = deploy(cli, backend, str(root), f"s3://{bucket}/www", "--rules", str(rules))
    sent = {u["path"]: u["reason"] for u in result["plan"]["uploads"]}
    assert sent == {"index.html": "changed", "assets/logo.svg": "headers"}
    assert head(backend, bucket, "www/assets/logo.svg")["CacheControl"] == "public, max-age=60"
    assert get(backend, bucket, "www/index.html") == b"<!doctype html><h1>v2</h1>"


def test_removed_files_stay_until_the_grace_period_or_delete_now(
    cli: CliInvoker, backend: Backend, bucket: str, tmp_path: Path
) -> None:
    root = write_site(tmp_path / "site", SITE)
    deploy(cli, backend, str(root), f"s3://{bucket}/www")
    (root / "assets" / "app.3f2a9c1b.js").unlink()
    put(backend, bucket, {"www/not-deployed-by-s3kit.txt": b"keep me"})
    deferred = deploy(cli, backend, str(root), f"s3://{bucket}/www")
    assert deferred["plan"]["leaving"] == ["assets/app.3f2a9c1b.js"]
    assert deferred["deleted"] == 0
    assert "www/assets/app.3f2a9c1b.js" in keys(backend, bucket)  # old pages still load it

    now = deploy(cli, backend, str(root), f"s3://{bucket}/www", "--delete", "now")
    assert now["deleted"] == 1
    assert "www/assets/app.3f2a9c1b.js" not in keys(backend, bucket)
    assert "www/not-deployed-by-s3kit.txt" in keys(backend, bucket)  # never ours to delete


def test_the_delete_guard_refuses_before_anything_is_written(
    cli: CliInvoker, backend: Backend, bucket: str, tmp_path: Path
) -> None:
    root = write_site(tmp_path / "site", SITE)
    deploy(cli, backend, str(root), f"s3://{bucket}/www")
    before = {k: get(backend, bucket, k) for k in keys(backend, bucket)}
    empty = tmp_path / "empty"
    (empty / "index.html").parent.mkdir()
    (empty / "index.html").write_text("<!doctype html><h1>oops</h1>")
    result = cli("deploy", str(empty), f"s3://{bucket}/www", "--max-delete", "2", env=backend.env())
    assert result.exit_code == 3, result.stderr
    assert "nothing was written" in result.stderr and len(result.stderr.splitlines()) == 1
    assert {k: get(backend, bucket, k) for k in keys(backend, bucket)} == before


def test_a_dry_run_and_a_plan_write_nothing_and_the_plan_applies_once(
    cli: CliInvoker, backend: Backend, bucket: str, tmp_path: Path
) -> None:
    root = write_site(tmp_path / "site", SITE)
    dry = cli("deploy", str(root), f"s3://{bucket}/www", "--dryrun", env=backend.env())
    assert dry.exit_code == 0, dry.stderr
    assert "first deploy" in dry.stdout and "upload   assets" in dry.stdout
    plan = tmp_path / "plan.json"
    result = cli(
        "deploy", str(root), f"s3://{bucket}/www", "--plan-out", str(plan), env=backend.env()
    )
    assert result.exit_code == 0, result.stderr
    assert keys(backend, bucket) == []
    applied = deploy(cli, backend, "--apply", str(plan))
    assert applied["uploaded"] == len(SITE)
    stale = cli("deploy", "--apply", str(plan), env=backend.env())
    assert_failed(stale)
    assert "changed since the plan was made" in stale.stderr


def test_a_deploy_that_holds_the_lock_keeps_others_out(
    cli: CliInvoker, backend: Backend, bucket: str, tmp_path: Path
) -> None:
    root = write_site(tmp_path / "site", SITE)
    lock = json.dumps({"id": "20261201T000000Z-dead00", "started": "2026-12-01T00:00:00Z"})
    put(backend, bucket, {"www/_s3kit/lock": lock.encode()})
    result = cli("deploy", str(root), f"s3://{bucket}/www", env=backend.env())
    assert_failed(result)
    assert "another deploy (20261201T000000Z-dead00" in result.stderr
    assert "s3kit deploy unlock" in result.stderr
    assert site_keys(backend, bucket) == []
    unlocked = cli("deploy", "unlock", f"s3://{bucket}/www", env=backend.env())
    assert unlocked.exit_code == 0 and "removed the lock" in unlocked.stdout
    deploy(cli, backend, str(root), f"s3://{bucket}/www")
    assert "www/_s3kit/lock" not in keys(backend, bucket)  # released after the deploy


@pytest.mark.parametrize("versioned", [False, True], ids=["copies", "versions"])
def test_rollback_brings_back_content_and_headers(
    cli: CliInvoker, backend: Backend, bucket: str, tmp_path: Path, versioned: bool
) -> None:
    if versioned:
        backend.session().client("s3").put_bucket_versioning(
            Bucket=bucket, VersioningConfiguration={"Status": "Enabled"}
        )
    root = write_site(tmp_path / "site", SITE)
    first = deploy(cli, backend, str(root), f"s3://{bucket}/www")
    (root / "index.html").write_text("<!doctype html><h1>broken</h1>")
    (root / "assets" / "logo.svg").unlink()
    rules = tmp_path / "rules.yaml"
    rules.write_text('rules:\n  - match: "LICENSE"\n    cache_control: "max-age=1"\n')
    deploy(cli, backend, str(root), f"s3://{bucket}/www", "--rules", str(rules), "--delete", "now")
    assert "www/assets/logo.svg" not in keys(backend, bucket)

    back = deploy(cli, backend, "rollback", f"s3://{bucket}/www")
    assert back["deploy_id"]
    assert get(backend, bucket, "www/index.html") == SITE["index.html"].encode()
    assert get(backend, bucket, "www/assets/logo.svg") == SITE["assets/logo.svg"].encode()
    assert head(backend, bucket, "www/assets/logo.svg")["ContentType"].startswith("image/svg+xml")
    assert head(backend, bucket, "www/LICENSE")["CacheControl"] == "public, max-age=300"
    assert head(backend, bucket, "www/index.html")["CacheControl"] == "no-cache"
    history = cli("deploy", "history", f"s3://{bucket}/www", "--json", env=backend.env())
    records = json.loads(history.stdout)
    assert [r["live"] for r in records] == [False, False, True]
    assert records[-1]["source"] == {"rollback_of": first["deploy_id"]}
    blobs = [k for k in keys(backend, bucket) if k.startswith("www/_s3kit/blobs/")]
    assert bool(blobs) is not versioned  # versions where the bucket keeps them, copies otherwise


def test_gzip_rules_and_redirects(
    cli: CliInvoker, backend: Backend, bucket: str, tmp_path: Path
) -> None:
    root = write_site(tmp_path / "site", {"index.html": "<!doctype html>" + "x" * 5000})
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        'rules:\n  - match: "*.html"\n    gzip: true\nredirects:\n  "/old/": "/new/"\n'
    )
    result = deploy(cli, backend, str(root), f"s3://{bucket}", "--rules", str(rules))
    assert result["plan"]["redirects"] == {"old/index.html": "/new/"}
    page = head(backend, bucket, "index.html")
    assert page["ContentEncoding"] == "gzip"
    assert gzip.decompress(get(backend, bucket, "index.html")) == (root / "index.html").read_bytes()
    redirect = head(backend, bucket, "old/index.html")
    assert redirect["ContentLength"] == 0
    gap = known_gap(backend, "website redirect objects")
    if gap is not None:
        assert "WebsiteRedirectLocation" not in redirect
        pytest.skip(gap)
    assert redirect["WebsiteRedirectLocation"] == "/new/"


def test_the_library_call_deploys_history_and_rolls_back(
    backend: Backend, bucket: str, tmp_path: Path
) -> None:
    from s3kit.deploy import DeployConfig, deploy, history, rollback

    root = write_site(tmp_path / "site", {"index.html": "<!doctype html>one", "a.css": "a{}"})
    session = backend.session()
    first = deploy(session, root, f"s3://{bucket}/lib", config=DeployConfig())
    assert first.ok and first.uploaded == 2 and first.deploy_id
    (root / "index.html").write_text("<!doctype html>two")
    second = deploy(session, root, f"s3://{bucket}/lib")
    assert [u.file.key for u in second.plan.uploads] == ["index.html"]
    back = rollback(session, f"s3://{bucket}/lib")
    assert back.ok and get(backend, bucket, "lib/index.html") == b"<!doctype html>one"
    assert [m.source.get("rollback_of") for m in history(session, f"s3://{bucket}/lib")] == [
        None,
        None,
        first.deploy_id,
    ]


# -- the audit log, events, website ---------------------------------------------------------------


def log_lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_the_log_file_has_a_line_per_action_in_syncs_format(
    cli: CliInvoker, backend: Backend, bucket: str, tmp_path: Path
) -> None:
    root = write_site(tmp_path / "site", SITE)
    rules = tmp_path / "rules.yaml"
    rules.write_text('redirects:\n  "/old/": "/new/"\n')
    log = tmp_path / "deploy.log"
    www = f"s3://{bucket}/www"
    deploy(cli, backend, str(root), www, "--rules", str(rules), "--log-file", str(log))
    lines = log_lines(log)
    uploads = {r["destination"]: r for r in lines if r["action"] == "upload"}
    assert set(uploads) == {f"{www}/{key}" for key in SITE}
    page = uploads[f"{www}/index.html"]
    assert set(page) == {"time", "action", "source", "destination", "reason", "bytes", "result",
                         "error"}  # fmt: skip
    assert (page["source"], page["reason"], page["bytes"], page["result"], page["error"]) == (
        str(root / "index.html"), "new", len(SITE["index.html"]), "done", None
    )  # fmt: skip
    redirects = [r for r in lines if r["action"] == "redirect"]
    assert [(r["path"], r["destination"], r["result"]) for r in redirects] == [
        (f"{www}/old/index.html", "/new/", "done")
    ]

    (root / "assets" / "logo.svg").unlink()
    log.unlink()
    deploy(cli, backend, str(root), www, "--rules", str(rules), "--log-file", str(log))
    (kept,) = log_lines(log)  # nothing else changed
    assert (kept["action"], kept["path"], kept["result"]) == ("skip", f"{www}/assets/logo.svg",
                                                              "done")  # fmt: skip
    assert "grace period" in kept["reason"]

    log.unlink()
    dry = cli("deploy", str(root), www, "--rules", str(rules), "--delete", "now", "--dryrun",
              "--log-file", str(log), env=backend.env())  # fmt: skip
    assert dry.exit_code == 0, dry.stderr
    assert [(r["action"], r["result"]) for r in log_lines(log)] == [("delete", "planned")]
    log.unlink()
    deploy(cli, backend, str(root), www, "--rules", str(rules), "--delete", "now",
           "--log-file", str(log))  # fmt: skip
    (deleted,) = log_lines(log)
    assert (deleted["action"], deleted["path"], deleted["result"]) == (
        "delete", f"{www}/assets/logo.svg", "done"
    )  # fmt: skip


def test_the_library_reports_uploads_as_transfer_events_a_progress_bar_shows(
    backend: Backend, bucket: str, tmp_path: Path
) -> None:
    from io import StringIO

    from rich.console import Console

    from s3kit.cli.progress import TransferProgress
    from s3kit.deploy import deploy as deploy_site
    from s3kit.transfer import TransferEvent

    root = write_site(tmp_path / "site", SITE)
    events: list[TransferEvent] = []
    outcome = deploy_site(backend.session(), root, f"s3://{bucket}/ev", on_event=events.append)
    assert outcome.ok
    kinds = [e.kind for e in events]
    assert kinds.count("queued") == kinds.count("done") == len(SITE)
    (scanned,) = [e for e in events if e.kind == "scanned"]
    assert (scanned.files, scanned.bytes) == (len(SITE), sum(len(t) for t in SITE.values()))
    assert kinds.index("scanned") < kinds.index("done")
    assert {str(e.item.destination) for e in events if e.kind == "done"} == {
        f"s3://{bucket}/ev/{key}" for key in SITE
    }
    out = StringIO()
    with TransferProgress(Console(file=out, width=120)) as bar:
        for event in events:
            bar(event)
    assert f"{len(SITE)}/{len(SITE)} files" in out.getvalue()

    def broken(event: TransferEvent) -> None:
        raise RuntimeError("a display that breaks")

    (root / "index.html").write_text("<!doctype html>again")
    again = deploy_site(backend.session(), root, f"s3://{bucket}/ev", on_event=broken)
    assert again.ok and again.uploaded == 1  # a failing callback never breaks a deploy


def live_id(backend: Backend, bucket: str, prefix: str = "") -> str:
    manifest: dict[str, Any] = json.loads(get(backend, bucket, prefix + "_s3kit/current.json"))
    return str(manifest["id"])


def test_website_sets_the_index_and_error_documents_and_reads_them_back(
    cli: CliInvoker, backend: Backend, bucket: str, tmp_path: Path
) -> None:
    root = write_site(tmp_path / "site", {**SITE, "404.html": "<!doctype html>not here"})
    rules = tmp_path / "rules.yaml"
    rules.write_text("error_document: 404.html\n")
    gap = known_gap(backend, "website hosting")
    result = cli("deploy", str(root), f"s3://{bucket}", "--rules", str(rules), "--website",
                 env=backend.env())  # fmt: skip
    if gap is not None:
        assert_failed(result)
        said = f"deploy {live_id(backend, bucket)} is live, but the website configuration was not"
        assert said in result.stderr
        assert "does not support" in result.stderr
        assert get(backend, bucket, "index.html") == SITE["index.html"].encode()
        pytest.skip(gap)
    assert result.exit_code == 0, result.stderr
    assert (
        f"website of s3://{bucket}: index document index.html, error document 404.html"
        " — set and read back" in result.stdout
    )
    website = backend.session().client("s3").get_bucket_website(Bucket=bucket)
    assert website["IndexDocument"] == {"Suffix": "index.html"}
    assert website["ErrorDocument"] == {"Key": "404.html"}

    # a single-page app: the index document answers every missing path, with the limit said
    spa = cli("deploy", str(root), f"s3://{bucket}", "--spa", env=backend.env())
    assert spa.exit_code == 0, spa.stderr
    assert "already serves this site" in spa.stdout  # no file changed; the website did
    assert "status 404" in spa.stdout and "custom error response" in spa.stdout
    website = backend.session().client("s3").get_bucket_website(Bucket=bucket)
    assert website["ErrorDocument"] == {"Key": "index.html"}
    document = deploy(cli, backend, str(root), f"s3://{bucket}", "--spa")
    assert document["website"]["spa"] is True
    assert document["website"]["error_document"] == "index.html"


def test_a_website_the_deploy_cannot_set_is_refused_before_anything_is_written(
    cli: CliInvoker, backend: Backend, bucket: str, tmp_path: Path
) -> None:
    root = write_site(tmp_path / "site", SITE)
    under = cli("deploy", str(root), f"s3://{bucket}/www", "--website", env=backend.env())
    assert under.exit_code == 2 and "one website configuration per bucket" in under.stderr
    rules = tmp_path / "rules.yaml"
    rules.write_text("error_document: 404.html\n")
    missing = cli("deploy", str(root), f"s3://{bucket}", "--rules", str(rules), "--website",
                  env=backend.env())  # fmt: skip
    assert missing.exit_code == 2 and "404.html is not a file of the site" in missing.stderr
    both = cli("deploy", str(root), f"s3://{bucket}", "--rules", str(rules), "--spa",
               env=backend.env())  # fmt: skip
    assert both.exit_code == 2 and "keep one" in both.stderr
    for result in (under, missing, both):
        assert len(result.stderr.splitlines()) == 1 and "nothing was written" in result.stderr
    assert keys(backend, bucket) == []


def on_terminal(args: list[str], env: dict[str, str]) -> tuple[int, str]:
    """Run the real `s3kit` with a pseudo-terminal for stdout and stderr; (code, output)."""
    import os
    import pty
    import select
    import subprocess
    import sys
    import time

    primary, secondary = pty.openpty()
    process = subprocess.Popen(
        [str(Path(sys.executable).with_name("s3kit")), *args],
        stdin=subprocess.DEVNULL, stdout=secondary, stderr=secondary,
        env={**os.environ, **env}, start_new_session=True,
    )  # fmt: skip
    os.close(secondary)
    output = b""
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            ready, _, _ = select.select([primary], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(primary, 4096)
                except OSError:  # the child closed the terminal
                    break
                if not chunk:
                    break
                output += chunk
            elif process.poll() is not None:
                break
        code = process.wait(timeout=10)
    finally:
        os.close(primary)
        if process.poll() is None:
            process.kill()
    return code, output.decode(errors="replace")


def test_on_a_terminal_the_uploads_show_a_progress_line_but_not_with_json(
    backend: Backend, bucket: str, tmp_path: Path
) -> None:
    root = write_site(tmp_path / "site", SITE)
    code, output = on_terminal(["deploy", str(root), f"s3://{bucket}/tty"], backend.env())
    assert code == 0, output
    assert f"{len(SITE)}/{len(SITE)} files" in output and "deployed " in output
    (root / "index.html").write_text("<!doctype html>again")
    code, output = on_terminal(["deploy", str(root), f"s3://{bucket}/tty", "--json"], backend.env())
    assert code == 0, output
    assert " files" not in output and json.loads(output)["uploaded"] == 1
