"""A one-way sync that transfers while it scans: the first upload starts after the destination
listing and the first source entries, not after the whole source was read.

The destination is listed first, completely, into an `EntryIndex` — sorted, about 100 bytes an
entry — that keys are looked up in (by UTF-8 bytes: whatever order a server lists in, 'dir/x',
'dir-2/x' and 'dir.x' are found). The source is then read as a stream — a local walk in a
worker thread, handing batches over a bounded queue, or an S3 listing page by page — and each
entry is compared with its counterpart at once by the same pure `compare` rule as
`make_plan`. What must move goes to the transfer layer straight away; a decision that needs a
closer look (the stored mtime of a download, `--checksum` digests) is looked at concurrently
and goes when settled.
Memory holds the destination's index and what is in flight, never the whole source: an
unchanged file is decided and dropped, and the plan keeps only what moves (a no-op sync of a
million files holds the index and nothing per file beside it).

This mode must never delete or make folders: the delete guard and the confirmation weigh the
whole plan, and whether a folder marker is wanted depends on what sorts after it. Deletions,
`--dir-markers`, dry runs and plan files take the plan-first path (`prepare_sync_async`).
The `Plan` is still built, action by action as they are decided, for the report and the log.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator

from s3kit._encryption import Encryption
from s3kit._session import Session
from s3kit._sync.execute import SyncExecutor, SyncResult
from s3kit._sync.index import EntryIndex
from s3kit._sync.plan import NEW, Action, CompareOptions, Direction, Entry, Plan, compare, revise
from s3kit._sync.scan import (
    LocalSide,
    ScanProgress,
    Selection,
    Side,
    Warn,
    closer_look_async,
    needs_closer_look,
    scan_async,
    stream_local_async,
    stream_s3_async,
)
from s3kit.errors import UsageError

# A look's outcome: the action settled (None: nothing to do), or what went wrong.
_Outcome = Action | None | Exception


class StreamingSync:
    """One streamed one-way sync between two sides. `actions()` lists the destination, then
    yields each transfer as soon as it is decided; `run_async` carries them out. Meanwhile
    `plan` fills up with what was decided and `progress` tells how far the source scan got."""

    def __init__(
        self,
        session: Session,
        source: Side,
        destination: Side,
        direction: Direction,
        *,
        options: CompareOptions | None = None,
        selection: Selection | None = None,
        follow_symlinks: bool = False,
        warn: Warn | None = None,
        looks: int = 32,
        page_size: int = 1000,
        batch_size: int = 500,
        queue_batches: int = 4,
        read_encryption: Encryption | None = None,
    ) -> None:
        """`looks`: closer looks (HEADs, digests) at once; `page_size`: keys per listing page
        of an S3 source; `batch_size`, `queue_batches`: how a local walk hands its entries over
        and how far it may run ahead; `read_encryption`: the SSE-C key HEADs need."""
        self.options = options or CompareOptions()
        if self.options.delete:
            raise UsageError("a streamed sync never deletes; plan first (prepare_sync_async)")
        self.session = session
        self.source, self.destination = source, destination
        self.selection = selection or Selection()
        self.plan = Plan(direction)
        self.progress = ScanProgress()
        self._follow, self._warn = follow_symlinks, warn
        self._looks, self._page_size = looks, page_size
        self._batch_size, self._queue_batches = batch_size, queue_batches
        self._destination_complete = True
        self._read_encryption = read_encryption

    @property
    def complete(self) -> bool:
        """Whether both sides were read completely (so far)."""
        return self.progress.complete and self._destination_complete

    async def run_async(self, executor: SyncExecutor) -> SyncResult:
        """Decide and transfer at once; what was decided is in `plan` afterwards. The stream is
        closed here, whatever happens (Ctrl-C included), so the walk stops with the run."""
        async with contextlib.aclosing(self.actions()) as actions:
            return await executor.run_actions_async(
                actions, self.plan.direction, self.source, self.destination
            )

    async def actions(self) -> AsyncGenerator[Action, None]:
        """Every transfer of the sync, as the source scan reaches it (each also added to
        `plan` before it is yielded). Closer looks are taken by `looks` workers beside the
        scan; when they all are busy and as many wait, the scan waits rather than queue more."""
        index = await self._index()
        width = max(1, self._looks)
        waiting: asyncio.Queue[Action] = asyncio.Queue(width)
        settled: asyncio.Queue[_Outcome] = asyncio.Queue()
        workers = [asyncio.create_task(self._looker(waiting, settled)) for _ in range(width)]
        outstanding = 0
        try:
            async with contextlib.aclosing(self._source_entries()) as entries:
                async for item in entries:
                    self.plan.source_count += 1
                    action = self._decide(item, index)
                    if action is not None and needs_closer_look(self.plan.direction, action.reason):
                        await waiting.put(action)
                        outstanding += 1
                    elif action is not None:
                        yield self._decided(action)
                    while not settled.empty():
                        outstanding -= 1
                        if (looked := self._settled(settled.get_nowait())) is not None:
                            yield looked
            while outstanding:
                outstanding -= 1
                if (looked := self._settled(await settled.get())) is not None:
                    yield looked
        finally:
            for worker in workers:
                worker.cancel()
            await asyncio.gather(*workers, return_exceptions=True)

    async def _index(self) -> EntryIndex:
        """The destination, sorted in byte order and held compactly: what each source entry is
        looked up in."""
        scanned = await scan_async(
            self.session, self.destination, self.selection, source=False,
            follow_symlinks=self._follow, warn=self._warn,
        )  # fmt: skip
        self._destination_complete = scanned.complete
        self.plan.destination_count = len(scanned.entries)
        assert isinstance(scanned.entries, EntryIndex)
        return scanned.entries

    def _source_entries(self) -> AsyncGenerator[Entry, None]:
        if isinstance(self.source, LocalSide):
            return stream_local_async(
                self.source.root, self.selection, follow_symlinks=self._follow, warn=self._warn,
                progress=self.progress, batch_size=self._batch_size,
                queue_batches=self._queue_batches,
            )  # fmt: skip
        return stream_s3_async(
            self.session, self.source, self.selection, warn=self._warn, progress=self.progress,
            page_size=self._page_size,
        )  # fmt: skip

    def _decide(self, item: Entry, index: EntryIndex) -> Action | None:
        """`make_plan`'s rule for one source file against its counterpart, if any."""
        direction = self.plan.direction
        counterpart = index.find(item.raw)
        if counterpart is None:
            return Action(direction, item.key, NEW, item, None)
        reason = compare(item, counterpart, direction, self.options)
        return None if reason is None else Action(direction, item.key, reason, item, counterpart)

    async def _looker(
        self, waiting: asyncio.Queue[Action], settled: asyncio.Queue[_Outcome]
    ) -> None:
        """One worker of the closer looks: runs until cancelled."""
        while True:
            action = await waiting.get()
            try:
                settled.put_nowait(await self._look(action))
            except Exception as exc:  # raised where the actions are consumed
                settled.put_nowait(exc)

    async def _look(self, action: Action) -> Action | None:
        """`action` settled as `refine_async` and `revise` would settle it in a plan."""
        assert action.source is not None and action.destination is not None
        fresh = await closer_look_async(
            self.session, action.source, action.destination, action.reason, self.source,
            self.destination, read_encryption=self._read_encryption,
        )  # fmt: skip
        one = Plan(self.plan.direction, [action])
        kept = revise(one, {action.source.raw: fresh}, self.options).actions
        return kept[0] if kept else None

    def _settled(self, outcome: _Outcome) -> Action | None:
        if isinstance(outcome, Exception):
            raise outcome
        return None if outcome is None else self._decided(outcome)

    def _decided(self, action: Action) -> Action:
        self.plan.actions.append(action)
        return action


__all__ = ["StreamingSync"]
