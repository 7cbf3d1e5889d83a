"""cp and mv: parse the transfer options, run the TransferManager, report."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import typer

from s3kit._acls import OBJECT_CANNED_ACLS
from s3kit._encryption import encryption_from_options
from s3kit._storage_classes import validate_storage_class
from s3kit._uri import StdStream
from s3kit.cli import output
from s3kit.cli.completion import complete_location
from s3kit.cli.progress import TransferProgress, notice, progress_wanted
from s3kit.cli.state import cli_location, raw_args, state_of
from s3kit.errors import S3KitError, UsageError
from s3kit.transfer import (
    TransferConfig,
    TransferEvent,
    TransferManager,
    TransferSummary,
    WriteOptions,
)
from s3kit.transfer.context import MAX_CONCURRENT_FILES, MAX_CONCURRENT_PARTS
from s3kit.transfer.filters import filters_from_args
from s3kit.transfer.parts import parse_size


def from_config(setting: str, builtin: object) -> str:
    """How a transfer option's default reads in --help when s3kit.yaml may set it."""
    return f"{setting} in s3kit.yaml, else {builtin}"


Recursive = Annotated[
    bool, typer.Option("--recursive", "-r", help="Copy everything under the folder or prefix.")
]
Dryrun = Annotated[bool, typer.Option("--dryrun", help="Show what would happen; change nothing.")]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="Print nothing but errors.")]
JsonOut = Annotated[
    bool,
    typer.Option(
        "--json",
        help="Print a JSON summary: transferred, bytes, deleted, failed, skipped, seconds,"
        " failures, unverified, results.",
    ),
]
Include = Annotated[
    list[str] | None,
    typer.Option(
        "--include",
        metavar="PATTERN",
        help="Glob of paths to include (aws s3 semantics, repeatable).",
    ),
]
Exclude = Annotated[
    list[str] | None,
    typer.Option(
        "--exclude",
        metavar="PATTERN",
        help="Glob of paths to exclude (repeatable; last match wins).",
    ),
]
Concurrency = Annotated[
    int,
    typer.Option(
        "--concurrency",
        min=1,
        max=MAX_CONCURRENT_FILES,
        metavar="N",
        help="Files transferred at once.",
    ),
]
# cp/mv: None means the config file's parallel_uploads, else 32.
FileConcurrency = Annotated[
    int | None,
    typer.Option(
        "--concurrency",
        min=1,
        max=MAX_CONCURRENT_FILES,
        metavar="N",
        help="Files transferred at once.",
        show_default=from_config("performance.parallel_uploads", 32),
    ),
]
PartConcurrency = Annotated[
    int,
    typer.Option(
        "--part-concurrency",
        metavar="N",
        min=1,
        max=MAX_CONCURRENT_PARTS,
        help="Parts of large files at once.",
    ),
]
PartSize = Annotated[
    str | None,
    typer.Option(
        "--part-size", metavar="SIZE", help="Multipart chunk size, e.g. 16MiB (min 5MiB)."
    ),
]
Threshold = Annotated[
    str | None,
    typer.Option(
        "--multipart-threshold",
        metavar="SIZE",
        help="Use multipart from this size up.",
        show_default=from_config("performance.multipart_threshold", "64MiB"),
    ),
]
BwLimit = Annotated[
    str | None,
    typer.Option(
        "--bwlimit",
        metavar="RATE",
        help="Bandwidth limit for all transfers, e.g. 10MiB.",
    ),
]
StorageClass = Annotated[
    str | None,
    typer.Option("--storage-class", metavar="CLASS", help="STANDARD, STANDARD_IA, GLACIER_IR, ..."),
]
Sse = Annotated[str | None, typer.Option("--sse", metavar="TYPE", help="AES256, aws:kms or sse-c.")]
SseKms = Annotated[
    str | None, typer.Option("--sse-kms-key-id", metavar="KEY_ID", help="KMS key for aws:kms.")
]
SseCKey = Annotated[
    Path | None,
    typer.Option(
        "--sse-c-key-file",
        metavar="FILE",
        help="File with the 32-byte SSE-C key (raw or base64); or set S3KIT_SSE_C_KEY.",
    ),
]
Metadata = Annotated[
    list[str] | None,
    typer.Option("--metadata", metavar="KEY=VALUE", help="User metadata (repeatable)."),
]
ContentType = Annotated[
    str | None,
    typer.Option(
        "--content-type",
        metavar="TYPE",
        help="Content-Type.",
        show_default="guessed from the name",
    ),
]
CacheControl = Annotated[
    str | None, typer.Option("--cache-control", metavar="VALUE", help="Cache-Control.")
]
ContentEncoding = Annotated[
    str | None,
    typer.Option("--content-encoding", metavar="ENCODING", help="Content-Encoding, e.g. gzip."),
]
Acl = Annotated[
    str | None,
    typer.Option(
        "--acl", metavar="ACL", help=f"Canned ACL for new objects: {'|'.join(OBJECT_CANNED_ACLS)}."
    ),
]
Resume = Annotated[
    bool,
    typer.Option(
        "--resume",
        help="Also continue interrupted uploads found on the server (each part re-checked).",
    ),
]
NoVerify = Annotated[bool, typer.Option("--no-verify", help="Skip checksum and ETag verification.")]
NoProgress = Annotated[bool, typer.Option("--no-progress", help="No progress bar.")]
Accelerate = Annotated[
    bool,
    typer.Option(
        "--accelerate",
        help="Use S3 Transfer Acceleration (falls back to the normal endpoint where it fails).",
    ),
]


@dataclass(frozen=True, slots=True, kw_only=True)
class CopyFlags:
    recursive: bool = False
    dryrun: bool = False
    quiet: bool = False
    json_out: bool = False
    concurrency: int | None = None  # None: the config file's, else 32
    part_concurrency: int = 8
    part_size: str | None = None
    threshold: str | None = None
    bwlimit: str | None = None
    storage_class: str | None = None
    sse: str | None = None
    sse_kms_key_id: str | None = None
    sse_c_key_file: Path | None = None
    metadata: Sequence[str] = field(default_factory=tuple)
    content_type: str | None = None
    cache_control: str | None = None
    content_encoding: str | None = None
    acl: str | None = None
    resume: bool = False
    verify: bool = True
    progress: bool = True
    accelerate: bool = False


def parse_metadata(pairs: Sequence[str]) -> dict[str, str]:
    metadata: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"--metadata takes key=value, not '{pair}'")
        if not (name + value).isascii():
            raise UsageError(f"--metadata '{pair}': S3 user metadata must be ASCII")
        metadata[name.strip().lower()] = value
    return metadata


def storage_class(value: str | None) -> str | None:
    return None if value is None else validate_storage_class(value)


def build_config(flags: CopyFlags, defaults: Mapping[str, int] | None = None) -> TransferConfig:
    """The TransferConfig for these flags: built-in defaults, then `defaults` (the config
    file's performance section), then what the command line says. TransferConfig refuses
    what is out of range."""
    settings: dict[str, Any] = {
        **(defaults or {}),
        "max_concurrent_parts": flags.part_concurrency,
        "verify": flags.verify,
        "resume": flags.resume,
        "accelerate": flags.accelerate,
    }
    if flags.concurrency is not None:
        settings["max_concurrent_files"] = flags.concurrency
    if flags.part_size:
        settings["multipart_chunksize"] = parse_size(flags.part_size)
    if flags.threshold:
        settings["multipart_threshold"] = parse_size(flags.threshold)
    if flags.bwlimit:
        settings["bandwidth"] = parse_size(flags.bwlimit)
    return TransferConfig(**settings)


def _report(
    flags: CopyFlags, silent: bool, bar: TransferProgress | None
) -> Callable[[TransferEvent], None]:
    reader_gone = False

    def write(line: str) -> None:
        nonlocal reader_gone
        if reader_gone:
            return
        try:
            sys.stdout.write(line + "\n")
        except BrokenPipeError:  # `s3kit cp ... | head`: stop reporting, keep copying
            reader_gone = True

    def on_event(event: TransferEvent) -> None:
        if bar is not None:
            bar(event)
        if notice(event, bar, quiet=flags.quiet):
            return
        if event.kind == "failed":
            if not flags.recursive:  # the single failure becomes the command's own error line
                return
            assert event.error is not None
            line = f"s3kit: error: {event.action} failed: {event.item.source}: {event.error}"
            if bar is not None:
                bar.console.print(line, markup=False, highlight=False)
            else:
                sys.stderr.write(line + "\n")
            return
        if silent or event.kind not in ("done", "planned"):
            return
        prefix = "(dryrun) " if flags.dryrun else ""
        line = f"{prefix}{event.action}: {event.item.source} to {event.item.destination}"
        if event.verified == "" and flags.verify:
            line += " (not verified)"
        if bar is not None:
            bar.console.print(line, markup=False, highlight=False, soft_wrap=True)
        else:
            write(line)

    return on_event


@contextlib.contextmanager
def maybe_progress_bar(enabled: bool) -> Iterator[TransferProgress | None]:
    if not enabled:
        yield None
        return
    with TransferProgress() as bar:
        yield bar


def write_options(flags: CopyFlags, default_storage_class: str | None = None) -> WriteOptions:
    """What new objects get (cp, mv and sync): the flags, and the config file's storage class
    where --storage-class is not given. An SSE-C key is also the key reads use."""
    return WriteOptions(
        content_type=flags.content_type,
        cache_control=flags.cache_control,
        content_encoding=flags.content_encoding,
        storage_class=storage_class(flags.storage_class or default_storage_class),
        metadata=parse_metadata(flags.metadata),
        encryption=encryption_from_options(
            flags.sse, kms_key_id=flags.sse_kms_key_id, customer_key_file=flags.sse_c_key_file
        ),
        acl=flags.acl,
    )


def run_copy(
    ctx: typer.Context, source: str, destination: str, flags: CopyFlags, *, move: bool
) -> None:
    state = state_of(ctx)
    src, dst = cli_location(source), cli_location(destination)
    if flags.json_out and isinstance(dst, StdStream):
        raise UsageError("--json cannot be used when the destination is '-' (standard output)")
    options = write_options(flags, state.config.storage.default_storage_class)
    config = build_config(flags, state.config.transfer_overrides())
    # With '-' as destination stdout carries the object's bytes: no report line may join them.
    silent = flags.quiet or flags.json_out or isinstance(dst, StdStream)
    show_bar = (
        flags.progress and not silent and not flags.dryrun and progress_wanted(disabled=False)
    )
    with maybe_progress_bar(show_bar) as bar:
        manager = TransferManager(
            state.session,
            config=config,
            options=options,
            filters=filters_from_args(raw_args()),
            on_event=_report(flags, silent, bar),
        )
        summary = manager.run(
            src, dst, recursive=flags.recursive, move=move, dryrun=flags.dryrun,
            keep_results=flags.json_out,  # one line per file is printed otherwise
        )  # fmt: skip
    if flags.json_out:
        output.emit(_json_summary(summary, move=move, dryrun=flags.dryrun))
    elif summary.unverified and flags.verify and not silent:
        sys.stderr.write(
            f"s3kit: warning: {summary.unverified} of {summary.downloads} downloaded files could"
            " not be verified: their objects carry no checksum to check them against (s3kit's"
            " CRC64NVME, x-amz-checksum-*, an MD5 ETag or rclone's md5chksum)\n"
        )
    if summary.failures:
        raise S3KitError(
            f"{len(summary.failures)} of {len(summary.failures) + summary.files} transfers"
            " failed (see the errors above)"
        )


def _json_summary(summary: TransferSummary, *, move: bool, dryrun: bool) -> dict[str, Any]:
    """The transfer summary (cli/output.py) with cp's extras: `unverified`, and `results`, an
    item per file copied (or planned, in a dry run) with its bytes and `verified` — the check
    a download passed, "" when the object offered none, null for anything but a download."""
    done = 0 if dryrun else summary.files
    failures = [
        output.item(r.action, r.item.source, r.item.destination, status="failed",
                    error=output.error_object(r.error))
        for r in summary.results
        if r.outcome == "failed"
    ]  # fmt: skip
    results = [
        output.item(r.action, r.item.source, r.item.destination, status=r.outcome,
                    bytes=r.bytes, verified=r.verified)
        for r in summary.results
        if r.outcome != "failed"
    ]  # fmt: skip
    return output.transfer_summary(
        transferred=done, bytes=0 if dryrun else summary.bytes, deleted=done if move else 0,
        skipped=0, seconds=summary.seconds, failures=failures, unverified=summary.unverified,
        results=results,
    )  # fmt: skip


def cp(
    ctx: typer.Context,
    source: Annotated[
        str,
        typer.Argument(
            help="Local path, s3://bucket/key, or - for stdin.", autocompletion=complete_location
        ),
    ],
    destination: Annotated[
        str,
        typer.Argument(
            help="Local path, s3://bucket/key, or - for stdout.", autocompletion=complete_location
        ),
    ],
    recursive: Recursive = False,
    dryrun: Dryrun = False,
    quiet: Quiet = False,
    json_out: JsonOut = False,
    include: Include = None,
    exclude: Exclude = None,
    concurrency: FileConcurrency = None,
    part_concurrency: PartConcurrency = 8,
    part_size: PartSize = None,
    multipart_threshold: Threshold = None,
    bwlimit: BwLimit = None,
    storage_class_: StorageClass = None,
    sse: Sse = None,
    sse_kms_key_id: SseKms = None,
    sse_c_key_file: SseCKey = None,
    metadata: Metadata = None,
    content_type: ContentType = None,
    cache_control: CacheControl = None,
    content_encoding: ContentEncoding = None,
    acl: Acl = None,
    resume: Resume = False,
    no_verify: NoVerify = False,
    no_progress: NoProgress = False,
    accelerate: Accelerate = False,
) -> None:
    """Copy files and objects: local→S3, S3→local, S3→S3.

    Examples: s3kit cp report.pdf s3://docs/ ; s3kit cp -r s3://docs/2026/ ./2026 ;
    echo hi | s3kit cp - s3://docs/hi.txt
    """
    del include, exclude  # read in command-line order from the raw arguments
    flags = CopyFlags(
        recursive=recursive, dryrun=dryrun, quiet=quiet, json_out=json_out,
        concurrency=concurrency, part_concurrency=part_concurrency, part_size=part_size,
        threshold=multipart_threshold, bwlimit=bwlimit, storage_class=storage_class_, sse=sse,
        sse_kms_key_id=sse_kms_key_id, sse_c_key_file=sse_c_key_file,
        metadata=tuple(metadata or ()), content_type=content_type, cache_control=cache_control,
        content_encoding=content_encoding, acl=acl, resume=resume, verify=not no_verify,
        progress=not no_progress, accelerate=accelerate,
    )  # fmt: skip
    run_copy(ctx, source, destination, flags, move=False)


def mv(
    ctx: typer.Context,
    source: Annotated[
        str, typer.Argument(help="Local path or s3://bucket/key.", autocompletion=complete_location)
    ],
    destination: Annotated[
        str, typer.Argument(help="Local path or s3://bucket/key.", autocompletion=complete_location)
    ],
    recursive: Recursive = False,
    dryrun: Dryrun = False,
    quiet: Quiet = False,
    json_out: JsonOut = False,
    include: Include = None,
    exclude: Exclude = None,
    concurrency: FileConcurrency = None,
    part_concurrency: PartConcurrency = 8,
    part_size: PartSize = None,
    multipart_threshold: Threshold = None,
    bwlimit: BwLimit = None,
    storage_class_: StorageClass = None,
    sse: Sse = None,
    sse_kms_key_id: SseKms = None,
    sse_c_key_file: SseCKey = None,
    metadata: Metadata = None,
    content_type: ContentType = None,
    cache_control: CacheControl = None,
    content_encoding: ContentEncoding = None,
    acl: Acl = None,
    resume: Resume = False,
    no_verify: NoVerify = False,
    no_progress: NoProgress = False,
    accelerate: Accelerate = False,
) -> None:
    """Move: copy, then delete each source once its copy succeeded.

    Example: s3kit mv s3://inbox/a.csv s3://archive/2026/
    """
    del include, exclude
    flags = CopyFlags(
        recursive=recursive, dryrun=dryrun, quiet=quiet, json_out=json_out,
        concurrency=concurrency, part_concurrency=part_concurrency, part_size=part_size,
        threshold=multipart_threshold, bwlimit=bwlimit, storage_class=storage_class_, sse=sse,
        sse_kms_key_id=sse_kms_key_id, sse_c_key_file=sse_c_key_file,
        metadata=tuple(metadata or ()), content_type=content_type, cache_control=cache_control,
        content_encoding=content_encoding, acl=acl, resume=resume, verify=not no_verify,
        progress=not no_progress, accelerate=accelerate,
    )  # fmt: skip
    run_copy(ctx, source, destination, flags, move=True)
