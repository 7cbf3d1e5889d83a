"""A token-bucket bandwidth limit shared by every transfer of one run (`--bwlimit 10MiB`).

The clock and the sleep are injected, so the limiter is tested without waiting.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable


class BandwidthLimiter:
    """Lets through at most `rate` bytes a second on average, bursts up to one second's worth."""

    def __init__(
        self,
        rate: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        self._clock = clock
        self._sleep = sleep
        self._tokens = float(rate)
        self._last = clock()
        self._lock = asyncio.Lock()

    def _refill(self) -> None:
        now = self._clock()
        self._tokens = min(float(self.rate), self._tokens + (now - self._last) * self.rate)
        self._last = now

    async def acquire(self, amount: int) -> None:
        """Wait until `amount` bytes may pass. Larger-than-burst amounts go in slices."""
        async with self._lock:
            remaining = amount
            while remaining > 0:
                self._refill()
                take = min(remaining, self.rate)
                if self._tokens >= take:
                    self._tokens -= take
                    remaining -= take
                    continue
                await self._sleep((take - self._tokens) / self.rate)
