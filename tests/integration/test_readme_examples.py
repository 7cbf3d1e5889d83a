"""Every `s3kit` command the README shows is parsed by the real command tree, and every example
block that can run on a test server is run, line by line, with the output it shows compared.

The README writes command examples one way (`test_commands_are_written_one_way`): a ```console
block, each command a `$ ` line (continued by lines ending in `\\`), followed by the output it
prints, where any is shown. A block's id is the slug of the heading above it and its number
under that heading (`cp--copy-files-and-objects-2`). A ```yaml/json/csv block right after a
`<!-- readme-file: NAME -->` line (the marker convention of the library tour's test) is the
file NAME for every example of its section.

- Parsing: each `s3kit` call of a line (split on `|`, `&&`, `;`, inside `$(...)`, after `X=1`
  assignments, redirections left out) goes through `hoist_global_options` and `make_context`
  from the root down to the sub-command, as click does before invoking it, with resilient
  parsing off: an option, argument or sub-command that does not exist fails.
- Running: a block runs in a fresh home folder, which is also the working folder, after SETUP
  (what the prose tells the reader is already there: buckets, objects, files), with FILL_IN's
  ids (a version id the reader would look up) put into its commands. Loopback endpoints in
  commands and files (`http://127.0.0.1:9000`, `:8333`) are the test server's. A plain
  `s3kit ...` line (variables before it, `> FILE` after it allowed) runs in this process; a
  line with other shell syntax runs through bash, with `s3kit` on PATH; `export NAME=VALUE`
  sets the variable for the lines after it, as the reader's shell would. A line must exit 0
  unless its shown output has an `s3kit: error:` line. Shown output is compared line by line,
  in order, every line, after `normalize` (times, MD5 ETags, loopback ports, masked keys, run
  times, column padding) on both sides; `...` stands for anything within a line or, alone on
  a line, for any number of lines.
- Servers: each block runs once, on SeaweedFS, or on moto where it needs what SeaweedFS lacks
  (BACKENDS: SSE-KMS, website, replication, Glacier restore, ...). Running every block on both
  would double the time for nothing the other suites do not already check per server.
- NOT_RUN names the blocks that cannot run here (AWS-only services, a terminal, make) with the
  reason. Every other block is run, so a new example cannot be forgotten, and a table naming a
  block that no longer exists fails.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import typer.main

from s3kit._local_server import LocalServer
from s3kit.cli.app import app
from s3kit.cli.state import hoist_global_options
from s3kit.errors import S3KitError
from s3kit.service import S3Service
from tests.conftest import Backend, S3kitCliRunner

README = Path(__file__).resolve().parents[2] / "README.md"

# --- the README's examples -------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    command: str  # as typed, continuations joined, `$ ` removed
    shown: tuple[str, ...]  # the output printed under it, if any
    line: int  # where the `$` line is in README.md


@dataclass(frozen=True)
class Block:
    id: str
    section: str
    line: int
    steps: tuple[Step, ...]


FENCE = re.compile(r"^(\s*)```(\S*)\s*$")
FILE_MARKER = re.compile(r"^\s*<!-- readme-file: (\S+) -->\s*$")


@dataclass(frozen=True)
class Fenced:
    section: str  # slug of the heading above
    language: str
    line: int  # of the opening fence
    body: tuple[str, ...]
    file: str | None  # the name a `<!-- readme-file: NAME -->` line just above gives it


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to '-'."""
    text = heading.lstrip("#").strip().lower()
    text = "".join(c for c in text if c in " -_" or unicodedata.category(c)[0] in "LN")
    return text.replace(" ", "-")


def fenced_blocks(text: str) -> Iterator[Fenced]:
    heading = "top"
    lines = text.splitlines()
    at = 0
    while at < len(lines):
        line = lines[at]
        fence = FENCE.match(line)
        if fence is None:
            if line.startswith("#"):
                heading = slug(line)
            at += 1
            continue
        indent, language = fence.groups()
        end = at + 1
        while end < len(lines) and lines[end].strip() != "```":
            end += 1
        body = tuple(raw.removeprefix(indent) for raw in lines[at + 1 : end])
        marker = FILE_MARKER.match(lines[at - 1]) if at else None
        yield Fenced(heading, language, at + 1, body, marker.group(1) if marker else None)
        at = end + 1


def steps_of(body: tuple[str, ...], first_line: int) -> tuple[Step, ...]:
    steps: list[Step] = []
    at = 0
    while at < len(body):
        line = body[at]
        if not line.startswith("$ "):
            assert not line.strip(), f"README.md:{first_line + at + 1}: output before any `$` line"
            at += 1
            continue
        start = at
        command = line[2:]
        while command.endswith("\\"):
            at += 1
            command = command[:-1].rstrip() + " " + body[at].strip()
        at += 1
        shown: list[str] = []
        while at < len(body) and not body[at].startswith("$ "):
            shown.append(body[at])
            at += 1
        while shown and not shown[-1].strip():
            shown.pop()
        steps.append(Step(command, tuple(shown), first_line + start + 1))
    return tuple(steps)


def readme_blocks() -> tuple[dict[str, Block], dict[str, dict[str, str]]]:
    """The console blocks by id, and the files each section shows, by section and name."""
    blocks: dict[str, Block] = {}
    files: dict[str, dict[str, str]] = {}
    count: dict[str, int] = {}
    for fenced in fenced_blocks(README.read_text(encoding="utf-8")):
        if fenced.file is not None:
            files.setdefault(fenced.section, {})[fenced.file] = "\n".join(fenced.body) + "\n"
        if fenced.language != "console":
            continue
        count[fenced.section] = count.get(fenced.section, 0) + 1
        block_id = f"{fenced.section}-{count[fenced.section]}"
        blocks[block_id] = Block(
            block_id, fenced.section, fenced.line, steps_of(fenced.body, fenced.line)
        )
    return blocks, files


BLOCKS, FILES = readme_blocks()


# --- what runs where --------------------------------------------------------------------------

REPO = README.parent

# Blocks that are not run, and why; every other block is.
NOT_RUN: dict[str, str] = {
    "set-up-two-commands-1": "make: creates the venv and runs the whole suite",
    "aws-profiles-2": "checks reach AWS: Amazon S3 for `default`, STS for the role, SSO for `work`",
    "the-embedded-server-1": "starts a SeaweedFS of its own on the fixed port 8333, which the"
    " reader's `make run` server may hold; test_local_server*.py run these on free ports",
    "the-embedded-server-2": "needs aws-cli; test_local_server_tools.py checks that `local env`"
    " reaches the server from boto3",
    "buckets-3": "asks for confirmation on a terminal; test_bucket_admin.py answers it on a"
    " pseudo-terminal",
    "versioning-2": "MFA delete: root credentials and a real MFA device (no test server checks"
    " the code)",
    "inventory-analytics-metrics-intelligent-tiering-1": "AWS S3 only: SeaweedFS has none of"
    " these, moto stores no analytics, metrics or intelligent-tiering configuration and answers"
    " an inventory delete with DeleteBucket",
    "website-serve--try-a-deployed-site-locally-1": "serves until Ctrl-C;"
    " test_website_serve.py runs the command and reads its output",
    "github-deploy--sync--publish-a-site-from-a-github-repository-1": "talks to GitHub;"
    " test_github_site.py runs these commands against bare git repositories and a GitHub"
    " stand-in",
    "github-preview--a-site-per-pull-request-1": "talks to GitHub; test_github_site.py runs"
    " these commands against a GitHub stand-in",
    "github-release-mirror--keep-release-downloads-in-a-bucket-1": "talks to GitHub's API;"
    " test_github_release.py runs it against a GitHub stand-in",
    "watching-a-store-configs-watch-configs-warm-configs-cache-1": "needs a Prometheus serving"
    " /etc/prometheus/conf; test_configs_watch.py runs these rounds against a real Prometheus",
    "benchmarks-1": "a benchmark: installs aws-cli, s5cmd and rclone, runs for minutes",
    "benchmarks-2": "a benchmark: installs aws-cli, s5cmd, rclone and hugo, runs for minutes",
    "benchmarks-3": "a benchmark: starts SeaweedFS, writes 5,000 files and 1 GiB, runs for minutes",
    "benchmarks-4": "a benchmark: installs aws-cli, s5cmd and rclone, runs for minutes",
    "reliability-under-faults-1": "a benchmark: starts SeaweedFS and a fault proxy, runs"
    " 30,000 operations for minutes",
    "development-1": "make and pytest: the suite itself",
}

# Servers a block runs on, when not SeaweedFS alone: moto for what SeaweedFS lacks.
BACKENDS: dict[str, tuple[str, ...]] = {
    "cp--copy-files-and-objects-2": ("moto",),  # SSE-KMS
    "public-access-block-1": ("moto",),
    "lifecycle-1": ("moto",),  # transitions
    "static-website-1": ("moto",),
    "replication-1": ("moto",),
    "event-notifications-1": ("moto",),
    "transfer-acceleration-1": ("moto",),
    "default-encryption-1": ("moto",),  # SSE-KMS
    "storage-classes-glacier-restore-and-cost-1": ("moto",),  # Glacier restore
    "batch--one-action-on-many-objects-1": ("moto",),  # Glacier restore
}


@dataclass(frozen=True)
class File:
    """A file the prose says the reader has; `~/` is the home folder (the working folder too).
    {access_key} and {secret_key} in `text` are the test server's keys."""

    path: str
    text: str = ""
    size: int = 0  # instead of text: this many bytes

    def content(self, backend: Backend) -> str | bytes:
        if self.size:
            return bytes(i % 251 for i in range(self.size))
        keys = self.text.replace("{access_key}", backend.access_key)
        return keys.replace("{secret_key}", backend.secret_key)


Prepare = Callable[[Backend], None]


def unfinished_upload(bucket: str, key: str) -> Prepare:
    def start(backend: Backend) -> None:
        backend.session().client("s3").create_multipart_upload(Bucket=bucket, Key=key)

    return start


def older_version(bucket: str, key: str) -> Callable[[Backend], str]:
    def look_up(backend: Backend) -> str:
        versions = S3Service(backend.session()).list_versions(bucket, key)
        return next(v.version_id for v in versions if not v.is_latest and v.version_id)

    return look_up


def latest_version(bucket: str, key: str) -> Callable[[Backend], str]:
    def look_up(backend: Backend) -> str:
        versions = S3Service(backend.session()).list_versions(bucket, key)
        return next(v.version_id for v in versions if v.is_latest and v.version_id)

    return look_up


def upload_id(bucket: str) -> Callable[[Backend], str]:
    def look_up(backend: Backend) -> str:
        return next(iter(S3Service(backend.session()).list_uploads(bucket))).upload_id

    return look_up


def bucket_owner(bucket: str) -> Callable[[Backend], str]:
    def look_up(backend: Backend) -> str:
        acl = backend.session().client("s3").get_bucket_acl(Bucket=bucket)
        return str(acl["Owner"]["ID"])

    return look_up


def buckets(*names: str) -> Prepare:
    def make(backend: Backend) -> None:
        service = S3Service(backend.session())
        for name in names:
            service.create_bucket(name)

    return make


def objects(bucket: str, *keys: str, storage_class: str | None = None) -> Prepare:
    """Objects already in `bucket`, each holding its own key."""

    def put(backend: Backend) -> None:
        storage = backend.session().storage(bucket)
        for key in keys:
            storage.put(key, key.encode(), storage_class=storage_class)

    return put


KEYS = "aws_access_key_id = {access_key}\naws_secret_access_key = {secret_key}\n"
# The sample site `make run` uploads, as the README's listings show it.
SAMPLE_SITE = ("s3kit mb s3://demo", "s3kit cp -r {repo}/examples/site s3://demo/site/")
DEMO = (buckets("demo"),)
REPORT = File("report.pdf", "%PDF-1.4 the report\n")

ARTIFACT_FILES: tuple[str | File | Prepare, ...] = (
    buckets("ci-artifacts"),
    File("dist/index.html", "<h1>hello</h1>\n"),
    File("dist/assets/app.js", "console.log('hi')\n"),
    File("coverage.xml", "<coverage/>\n"),
)

# The configs examples build on one another on one store: each block starts from what the ones
# before it left (pushes, an edit, a rollback), replayed. git's user.name is the author shown.
CONFIGS = "configs--versioned-configuration-for-monitoring-tools"
CONFIGS_STORE: tuple[str | File | Prepare, ...] = (
    buckets("ops-configs"),
    "export S3KIT_CONFIGS_STORE=s3://ops-configs",
    File("~/.gitconfig", "[user]\n\tname = alice\n"),
)
PUSH_1 = "s3kit configs push prometheus staging prometheus/ -m 'node scrape job'"
PUSH_2 = (
    "sed -i 's/15s/30s/' prometheus/prometheus.yml",
    "s3kit configs push prometheus staging prometheus/ -m 'scrape every 30s'",
)
PUSH_ALERTMANAGER = "s3kit configs push alertmanager staging alertmanager/"
CONFIGS_STORY: dict[int, tuple[str | File | Prepare, ...]] = {
    2: CONFIGS_STORE,
    3: (*CONFIGS_STORE, PUSH_1),
    4: (*CONFIGS_STORE, PUSH_1, *PUSH_2),
    5: CONFIGS_STORE,
    6: (
        *CONFIGS_STORE,
        PUSH_ALERTMANAGER,
        "sed -i 's/hunter2/correct-horse/; s/ops/pager/g' alertmanager/alertmanager.yml",
    ),
    7: (*CONFIGS_STORE, PUSH_1, *PUSH_2),
    8: (*CONFIGS_STORE, PUSH_1, *PUSH_2, "s3kit configs rollback prometheus staging"),
    9: (*CONFIGS_STORE, PUSH_1, PUSH_ALERTMANAGER),
    10: (*CONFIGS_STORE, PUSH_ALERTMANAGER),
}

# What a block starts from, as the prose tells the reader: shell lines (`s3kit ...` ones run
# like the examples, with the test server's variables; {repo} is this repository), files, and
# server state (buckets, objects, an unfinished upload) made through the library.
SETUP: dict[str, tuple[str | File | Prepare, ...]] = {
    "github-artifacts-push--pull--build-outputs-by-run-1": ARTIFACT_FILES,
    "github-artifacts-push--pull--build-outputs-by-run-2": (
        *ARTIFACT_FILES,
        "s3kit github artifacts push dist coverage.xml s3://ci-artifacts --name site"
        " --repository octo/site --run-id 4242 --attempt 1",
    ),
    "github-artifacts-push--pull--build-outputs-by-run-3": (buckets("ci-artifacts"),),
    "logs-metrics-and-statistics-1": SAMPLE_SITE,
    "health--is-it-up-and-can-i-use-it-1": DEMO,
    "deploy--publish-a-static-site-1": (
        File("public/index.html", "<!doctype html><h1>hi</h1>\n"),
        File("public/about.html", "<h1>about</h1>"),
        File("public/css/site.3f2a9c1b.css", "h1 { color: teal }"),
    ),
    "saved-connections-1": (
        File("~/.aws/credentials", "[minio]\n" + KEYS),
        buckets("site"),
        File("index.html", "<h1>hello</h1>\n"),
        File("public/about.html", "<p>about</p>\n"),
    ),
    "aws-profiles-1": (
        File(
            "~/.aws/config",
            "[default]\nregion = us-east-1\n\n[profile dev]\nregion = eu-west-1\n"
            "endpoint_url = http://127.0.0.1:9000\n\n"
            "[profile prod]\nrole_arn = arn:aws:iam::123456789012:role/admin\n"
            "source_profile = default\n\n"
            "[profile work]\nsso_session = corp\nsso_account_id = 123456789012\n"
            "sso_role_name = ReadOnly\n\n"
            "[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\n"
            "sso_region = us-east-1\n",
        ),
        File("~/.aws/credentials", "[default]\n" + KEYS + "\n[dev]\n" + KEYS),
    ),
    "the-config-file-s3kityaml-1": (
        File("~/.aws/credentials", "[work]\n" + KEYS),
        # The TOML of "Saved connections".
        File(
            "~/.config/s3kit/connections.toml",
            '[connections.minio]\nendpoint_url = "http://127.0.0.1:9000"\nprofile = "minio"\n'
            'addressing_style = "path"\n',
        ),
    ),
    "the-config-file-s3kityaml-2": (
        File(
            "s3kit.yaml",
            "aws:\n  region: eu-west-1\n  colour: blue\nperformance:\n  multipart_chunksize: 1KB\n",
        ),
    ),
    "ls--list-buckets-or-objects-1": SAMPLE_SITE,
    "cp--copy-files-and-objects-1": (
        buckets("docs", "archive", "demo", "backups"),
        REPORT,
        File("site/index.html", "<h1>hello</h1>\n"),
        File("site/css/main.css", "h1 { color: teal }\n"),
        File("data/a.csv", "a,b\n1,2\n"),
    ),
    "cp--copy-files-and-objects-2": (
        buckets("archive", "isos", "media", "docs", "vault"),
        File("logs/app.log.gz", "gz"),
        File("logs/app.log", "log"),
        File("big.iso", size=1 << 20),
        File("photos/beach.jpg", size=3000),
        REPORT,
        File("secret.db", size=1000),
        File("key.bin", size=32),
    ),
    "mv--move-1": (
        buckets("inbox", "archive", "drop"),
        objects("inbox", "a.csv"),
        File("outbox/report.txt", "done\n"),
    ),
    "rm--delete-1": SAMPLE_SITE,
    "cat--print-an-object-1": SAMPLE_SITE,
    "presign--share-one-object-without-credentials-1": (
        buckets("uploads"),
        File("new.bin", "new\n"),
    ),
    "empty-folders---dir-markers-1": (
        buckets("media"),
        "mkdir -p photos/drafts",
        "s3kit sync ./photos s3://media/photos --dir-markers",
        "rmdir photos/drafts",
        File("photos/2025/beach.jpg", size=3 << 20),
        "mkdir photos/2026",
    ),
    "looking-before-leaping-1": (
        buckets("www"),
        File("site/old.html", size=1 << 20),
        "s3kit sync ./site s3://www/",  # the earlier sync, which the estimate comes from
        "rm site/old.html",
        File("site/index.html", size=4198),
        File("site/docs/report.pdf", size=2 << 20),
    ),
    "two-way-sync-s3kit-sync---bidirectional-1": (
        buckets("my-bucket"),
        File("notes/todo.md", "- write the README\n"),
    ),
    "buckets-2": ("s3kit bucket create s3://demo --secure --tag team=data",),
    "buckets-4": DEMO,
    "bucket-policy-1": DEMO,
    "bucket-policy-2": DEMO,
    "acls-1": (buckets("demo"), objects("demo", "report.pdf")),
    "public-access-block-1": DEMO,
    "versioning-1": DEMO,
    "lifecycle-1": DEMO,
    "static-website-1": DEMO,
    "cors-1": DEMO,
    "default-encryption-1": DEMO,
    "replication-1": DEMO,
    "event-notifications-1": DEMO,
    "transfer-acceleration-1": DEMO,
    "object-lock-2": (
        "s3kit bucket create s3://demo --object-lock",
        objects("demo", "contract.pdf"),
    ),
    "metadata-and-tags-1": (buckets("docs"), objects("docs", "report.pdf")),
    "copy-move-and-delete-many-1": (
        buckets("inbox", "archive", "logs"),
        objects("inbox", "a.csv"),
        objects("logs", "2024/app.log", "2024/web.log", "2025/app.log"),
        File("old-keys.txt", "2024/app.log\n2024/web.log\n"),
    ),
    "versions-1": (
        buckets("docs"),
        "s3kit bucket versioning enable s3://docs",
        File("report.pdf", "%PDF-1.4 first draft\n"),
        "s3kit cp report.pdf s3://docs/",
        File("report.pdf", "%PDF-1.4 the final report\n"),
        "s3kit cp report.pdf s3://docs/",
    ),
    "storage-classes-glacier-restore-and-cost-1": (
        buckets("docs", "archive", "logs"),
        objects("docs", "2019.tar"),
        objects("archive", "2019.tar", storage_class="GLACIER"),
        objects("logs", "2026/01.log.gz", "2026/02.log.gz"),
    ),
    "sse-c-key-rotation-1": (
        buckets("vault"),
        File("old.key", size=32),
        File("new.key", "n" * 32),
        File("db.dump", size=5000),
        "s3kit cp db.dump s3://vault/ --sse-c-key-file old.key",
    ),
    "incomplete-multipart-uploads-1": (buckets("media"), unfinished_upload("media", "big.iso")),
    "batch--one-action-on-many-objects-1": (
        buckets("logs", "archive", "site", "data"),
        objects("logs", "2025/app.log", "2025/web.log", "tmp/debug.log", "tmp/trace.log"),
        objects("archive", "2020/jan.tar", "2020/feb.tar"),
        objects("site", "index.html", "css/main.css"),
        objects("data", "2019/old.csv", "tmp/scratch file.txt", "keep.csv"),
    ),
    "json-output-1": SAMPLE_SITE,
    **{f"{CONFIGS}-{n}": story for n, story in CONFIGS_STORY.items()},
    "watching-a-store-configs-watch-configs-warm-configs-cache-2": (
        *(File(name, text) for name, text in FILES[CONFIGS].items()),
        *CONFIGS_STORE,
        PUSH_1,
    ),
    "exit-codes-and-errors-1": (File("notes.txt", "notes\n"),),
}

# Placeholders in a block's commands (an id the reader would look up), with how to look them
# up once SETUP has run; the value is put back as the placeholder in what is printed.
FILL_IN: dict[str, dict[str, Callable[[Backend], str]]] = {
    "acls-1": {"OWNER_ID": bucket_owner("demo")},
    "object-lock-2": {"VERSION": latest_version("demo", "contract.pdf")},
    "versions-1": {"3HL4kqtJ": older_version("docs", "report.pdf")},
    "incomplete-multipart-uploads-1": {"2~abc": upload_id("media")},
}

# Blocks that reach the server through the settings the README itself writes (a connection, a
# profile, s3kit.yaml), so they run without the S3KIT_* variables that name the test server.
OWN_SETTINGS = {"saved-connections-1", "aws-profiles-1", "the-config-file-s3kityaml-1"}

_FIXTURE_OF = {"seaweedfs": "seaweed", "moto": "moto"}


# --- shell lines -------------------------------------------------------------------------------

SUBSTITUTION = re.compile(r"\$\(([^()]*)\)")
CONTROL = {"|", "||", "&&", ";", "&"}
REDIRECT = {">", ">>", "<", ">&", "&>"}
ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")


def words_of(command: str) -> list[str]:
    lexer = shlex.shlex(command, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    return list(lexer)


def s3kit_calls(command: str) -> list[list[str]]:
    """The arguments of every `s3kit` the shell line runs, command substitutions included."""
    calls = [call for inner in SUBSTITUTION.findall(command) for call in s3kit_calls(inner)]
    segment: list[str] = []
    for word in [*words_of(SUBSTITUTION.sub("SUBSTITUTED", command)), ";"]:
        if word not in CONTROL:
            segment.append(word)
            continue
        kept: list[str] = []
        skip = False
        for item in segment:
            if skip:
                skip = False
            elif item in REDIRECT:
                skip = True
            else:
                kept.append(item)
        while kept and ASSIGNMENT.match(kept[0]):
            kept.pop(0)
        if kept and kept[0] == "s3kit":
            calls.append(kept[1:])
        segment = []
    return calls


@dataclass(frozen=True)
class Call:
    """A line that is one `s3kit` call: the variables set for it, its arguments, and the file
    its standard output goes to (`> FILE`), if any."""

    env: dict[str, str]
    args: list[str]
    stdout_to: str | None


def plain_call(command: str) -> Call | None:
    """The line as one `s3kit` call, or None where it needs a shell."""
    if SUBSTITUTION.search(command) or "`" in command:
        return None
    words = words_of(command)
    stdout_to = None
    if len(words) > 2 and words[-2] == ">":
        stdout_to, words = words[-1], words[:-2]
    if any(word in CONTROL or word in REDIRECT or "(" in word for word in words):
        return None
    env: dict[str, str] = {}
    while words and ASSIGNMENT.match(words[0]):
        name, _, value = words.pop(0).partition("=")
        env[name] = value
    if not words or words[0] != "s3kit":
        return None
    args = [str(Path(w).expanduser()) if w.startswith("~/") else w for w in words[1:]]
    return Call(env, args, stdout_to)


# --- parsing ------------------------------------------------------------------------------------


def parse(root: Any, args: list[str]) -> None:
    """Parse `s3kit ARGS` down to the sub-command as click does before invoking it; raises
    click's UsageError (NoSuchOption, BadParameter, ...) for what the command tree lacks."""
    ctx = root.make_context("s3kit", hoist_global_options(root, args), resilient_parsing=False)
    command = root
    while hasattr(command, "commands"):
        # typer's click keeps the sub-command's name apart from the rest of the words.
        words = [*ctx._protected_args, *ctx.args]
        if not words:
            break
        name, command, rest = command.resolve_command(ctx, words)
        assert command is not None
        ctx = command.make_context(name, rest, parent=ctx, resilient_parsing=False)


def test_every_command_parses() -> None:
    root = typer.main.get_command(app)
    failures: list[str] = []
    calls = 0
    for block in BLOCKS.values():
        for step in block.steps:
            for args in s3kit_calls(step.command):
                calls += 1
                try:
                    parse(root, args)
                except typer.Exit as exc:  # --version, --help: parsed, and done
                    if exc.exit_code != 0:
                        failures.append(f"README.md:{step.line}: {shlex.join(args)}: exit {exc}")
                except Exception as exc:
                    failures.append(f"README.md:{step.line}: s3kit {shlex.join(args)}: {exc}")
    assert calls > 100  # the README's examples were found at all
    assert not failures, "\n".join(failures)


def test_commands_are_written_one_way() -> None:
    """A command example outside a ```console block would be neither parsed nor run."""
    text = README.read_text(encoding="utf-8")
    for fenced in fenced_blocks(text):
        if fenced.language == "console":
            continue
        # A ```text block may hold a synopsis (`s3kit sync SOURCE DESTINATION`), never `$ `.
        starts = ("$ ",) if fenced.language == "text" else ("$ ", "s3kit ")
        commands = [line for line in fenced.body if line.lstrip().startswith(starts)]
        assert not commands, f"README.md:{fenced.line}: ```{fenced.language} with {commands}"


def test_the_tables_name_blocks_that_exist() -> None:
    for table in (NOT_RUN, BACKENDS, SETUP, FILL_IN, OWN_SETTINGS):
        assert set(table) <= set(BLOCKS), set(table) - set(BLOCKS)
    assert not set(NOT_RUN) & (set(BACKENDS) | set(SETUP) | set(FILL_IN) | OWN_SETTINGS)
    for reason in NOT_RUN.values():
        assert reason.strip()


def test_every_s3kit_line_is_found() -> None:
    """Each `$ ` line that names s3kit yields a call; a miss here means s3kit_calls needs to
    learn a shell form."""
    for block in BLOCKS.values():
        for step in block.steps:
            typed = " ".join(words_of(step.command))  # comments left out
            if re.search(r"(^|[\s|(&;=])s3kit(\s|$)", typed):
                assert s3kit_calls(step.command), f"README.md:{step.line}: {step.command}"


# --- comparing output ----------------------------------------------------------------------------

NORMALIZE = [
    (
        re.compile(r"\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?"),
        "<time>",
    ),
    (re.compile(r"\b[0-9a-f]{32}(-\d+)?\b"), "<md5>"),
    (re.compile(r"http://(127\.0\.0\.1|localhost):\d+"), "http://127.0.0.1:<port>"),
    (re.compile(r"\b\S{4}…\S{4}\b"), "<key>"),
    (re.compile(r"\b\d+\.\d+ s\b"), "<n> s"),
    (re.compile(r"\s+"), " "),
]


def normalize(line: str) -> str:
    for pattern, replacement in NORMALIZE:
        line = pattern.sub(replacement, line)
    return line.strip()


def shown_pattern(shown: tuple[str, ...]) -> re.Pattern[str]:
    parts: list[str] = []
    for line in shown:
        expected = normalize(line)
        if expected == "...":
            parts.append(r"(?:[^\n]*\n)*?")
        else:
            pieces = [re.escape(piece) for piece in expected.split("...")]
            parts.append("[^\n]*".join(pieces) + r"\n")
    return re.compile("".join(parts))


def matches(shown: tuple[str, ...], output: str) -> bool:
    lines = [normalize(line) for line in output.splitlines()]
    printed = "".join(line + "\n" for line in lines if line)
    return shown_pattern(tuple(s for s in shown if s.strip())).fullmatch(printed) is not None


def test_shell_lines_yield_their_s3kit_calls() -> None:
    line = 'X=1 s3kit ls s3://demo -r | head && curl -T f "$(s3kit presign s3://demo/k)" > out'
    assert s3kit_calls(line) == [["presign", "s3://demo/k"], ["ls", "s3://demo", "-r"]]
    assert s3kit_calls("tar cz data | s3kit cp - s3://demo/d.tgz  # stdin") == [
        ["cp", "-", "s3://demo/d.tgz"]
    ]
    assert plain_call("S3KIT_CONNECTION=minio s3kit get s3://demo > f.yaml") == Call(
        {"S3KIT_CONNECTION": "minio"}, ["get", "s3://demo"], "f.yaml"
    )
    assert plain_call("s3kit cat s3://demo/k | head") is None


def test_the_comparison_catches_a_wrong_order_or_a_missing_line() -> None:
    shown = ("2026-03-01 10:12:44        424 index.html", "owner: alice", "team: data")
    printed = "2031-12-31 23:59:59    424 index.html\nowner: alice\nteam: data\n"
    assert matches(shown, printed)  # times and column padding may differ
    assert not matches(shown, "2031-12-31 23:59:59 424 index.html\nteam: data\nowner: alice\n")
    assert not matches(shown, "2031-12-31 23:59:59 424 index.html\nowner: alice\n")
    assert not matches(shown, printed + "extra: line\n")
    assert not matches(shown, printed.replace("424", "425"))
    assert matches(("first", "...", "last"), "first\na\nb\nlast\n")
    assert matches(
        ("url: http://127.0.0.1:8333/k?sig=...",), "url: http://127.0.0.1:4711/k?sig=x\n"
    )


# --- running ------------------------------------------------------------------------------------

# `export NAME=VALUE`, a plain value: set for the rest of the block (and, in SETUP, for it all).
EXPORT = re.compile(r"export ([A-Za-z_][A-Za-z0-9_]*)=([\w:/.@-]+)")

# The endpoints the README gives for a local server: in commands and files, the test server's.
LOOPBACK_IN_README = re.compile(r"http://(127\.0\.0\.1|localhost):(9000|8333)\b")


@dataclass
class Outcome:
    code: int
    output: str


@dataclass
class Run:
    backend: Backend
    home: Path
    env: dict[str, str]
    fill_in: dict[str, str]
    others: list[list[str]]  # [name] of each bucket that was there before the block

    def line(self, command: str, env: dict[str, str] | None = None) -> Outcome:
        exported = EXPORT.fullmatch(command)
        if exported:  # for the lines after it, as in the reader's shell
            self.env[exported.group(1)] = exported.group(2)
            return Outcome(0, "")
        env = {**self.env, **(env or {})}
        command = LOOPBACK_IN_README.sub(self.backend.endpoint, command)
        for placeholder, value in self.fill_in.items():
            command = re.sub(rf"\b{re.escape(placeholder)}\b", value, command)
        plain = plain_call(command)
        if plain is None:
            path = os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]])
            done = subprocess.run(
                ["bash", "-c", command],
                cwd=self.home,
                env={**os.environ, **env, "PATH": path},
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                timeout=60,
                check=False,
            )
            return Outcome(done.returncode, done.stdout)
        with pytest.MonkeyPatch.context() as patch:
            for name, value in {**env, **plain.env}.items():
                patch.setenv(name, value)
            patch.chdir(self.home)
            result = S3kitCliRunner().invoke(app, plain.args, catch_exceptions=False)
        if plain.stdout_to is None:
            return Outcome(result.exit_code, result.output)
        (self.home / plain.stdout_to).write_bytes(result.stdout_bytes)
        return Outcome(result.exit_code, result.stderr)

    def write(self, path: str, content: str | bytes) -> None:
        target = self.home / path.removeprefix("~/")
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            content = LOOPBACK_IN_README.sub(self.backend.endpoint, content).encode()
        target.write_bytes(content)

    def printed(self, output: str) -> str:
        """What a reader would see: their home for ours, the placeholders for the values, and
        no line about the buckets other tests left on the shared server."""
        output = output.replace(str(self.home), "/home/me")
        for placeholder, value in self.fill_in.items():
            if len(value) >= 8:  # an id; a short value (SeaweedFS's owner `s3kit`) is a word
                output = output.replace(value, placeholder)
        lines = output.splitlines(keepends=True)
        return "".join(
            line
            for line in lines
            if line.split()[-1:] not in self.others
            and not _TEST_BUCKET.fullmatch(line.split()[-1] if line.split() else "")
        )


# Buckets of other tests (tests.conftest.unique_bucket_name): never a README name. One can
# appear after the block took its list of what was there: SeaweedFS makes a bucket's folder
# again for a request still in flight from a test that has already deleted it.
_TEST_BUCKET = re.compile(r"t-[0-9a-f]{16}")


def prepare(block: Block, run: Run) -> None:
    for name, text in FILES.get(block.section, {}).items():
        run.write(name, text)
    backend = run.backend
    for item in SETUP.get(block.id, ()):
        if isinstance(item, File):
            run.write(item.path, item.content(backend))
        elif isinstance(item, str):
            done = run.line(item.replace("{repo}", str(REPO)), backend.env())
            assert done.code == 0, f"setup of {block.id}: {item}: {done.output}"
        else:
            item(backend)
    run.fill_in = {name: look_up(backend) for name, look_up in FILL_IN.get(block.id, {}).items()}


def remove_buckets(backend: Backend, before: set[str]) -> None:
    """Remove the buckets the block made, with every version in them, locked ones too (the
    object-lock example leaves a GOVERNANCE retention behind)."""
    session = backend.session()
    service = S3Service(session)
    for name in {b.name for b in service.list_buckets()} - before:
        try:
            service.empty_bucket(name)
        except S3KitError:
            client = session.client("s3")
            for version in service.list_versions(name):
                client.delete_object(
                    Bucket=name,
                    Key=version.key,
                    VersionId=version.version_id,
                    BypassGovernanceRetention=True,
                )
        service.delete_bucket(name)


def run_cases() -> list[tuple[str, str]]:
    return [
        (block_id, backend)
        for block_id in BLOCKS
        if block_id not in NOT_RUN
        for backend in BACKENDS.get(block_id, ("seaweedfs",))
    ]


@pytest.mark.parametrize(("block_id", "server"), run_cases())
def test_the_example_runs_as_shown(
    block_id: str, server: str, request: pytest.FixtureRequest, isolated_env: Path
) -> None:
    backend: Backend = request.getfixturevalue(_FIXTURE_OF[server])
    block = BLOCKS[block_id]
    env = {"COLUMNS": "200"} | ({} if block_id in OWN_SETTINGS else backend.env())
    before = {b.name for b in S3Service(backend.session()).list_buckets()}
    run = Run(backend, isolated_env, env, {}, [[name] for name in before])
    try:
        prepare(block, run)
        for step in block.steps:
            done = run.line(step.command)
            printed = run.printed(done.output)
            where = f"README.md:{step.line}: $ {step.command}\n--- printed (exit {done.code}):\n"
            fails = any(line.startswith("s3kit: error:") for line in step.shown)
            assert (done.code != 0) == fails, where + printed
            if step.shown:
                assert matches(step.shown, printed), (
                    where + printed + "--- README shows:\n" + "\n".join(step.shown)
                )
    finally:
        remove_buckets(backend, before)
        # What the README configures must name the test server; should it name nothing, a
        # command would have started the embedded server in this home folder.
        embedded = LocalServer(isolated_env / ".local" / "share" / "s3kit" / "local")
        assert not (embedded.state_path.exists() and embedded.stop()), "started its own server"
