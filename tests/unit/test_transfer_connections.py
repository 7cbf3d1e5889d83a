"""A run's connections: as many kept alive as the files and parts it may have under way, so a
run of small files reuses them instead of opening and closing most of them again."""

from __future__ import annotations

import asyncio

from s3kit.transfer.context import TransferConfig, TransferContext, WriteOptions
from tests.unit.fake_s3 import FakeS3
from tests.unit.test_events import session_for


def test_every_file_under_way_keeps_its_connection_for_the_next() -> None:
    files = 16
    with FakeS3(200) as fake:
        config = TransferConfig(max_concurrent_files=files, max_concurrent_parts=2)
        ctx = TransferContext(session_for(fake.url), config, WriteOptions())

        async def rounds() -> None:
            for _ in range(3):  # as many GETs at once as the run has files under way
                await asyncio.gather(
                    *(
                        ctx.http.send_small_async("GET", "b", f"k{n}", limit=100)
                        for n in range(files)
                    )
                )

        try:
            asyncio.run(rounds())
        finally:
            ctx.close()
        assert len(fake.requests) == 3 * files
        # 2 parts + 4 kept (the pool's old size) would open 10 more in each later round.
        assert fake.connections == files
