"""The outbox relay loop: run inside the worker process next to the Temporal worker (docs/runtime.md#outbox)."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from controlplane.ports import EventSink, Outbox
from controlplane.readiness import describe

log = logging.getLogger(__name__)


class OutboxRelay:
    """Poll the outbox; publish what is there; sleep `interval` when it is empty (or failing, with backoff)."""

    def __init__(self, outbox: Outbox, sink: EventSink, *, interval: float = 0.5, batch: int = 100) -> None:
        self.outbox = outbox
        self.sink = sink
        self.interval = interval
        self.batch = batch

    async def drain(self) -> int:
        """Publish until the outbox is empty; the number of events published."""
        total = 0
        while True:
            n = await self.outbox.relay_once(self.sink, self.batch)
            total += n
            if n < self.batch:
                return total

    async def run(self, stop: asyncio.Event) -> None:
        delay = self.interval
        while not stop.is_set():
            try:
                n = await self.outbox.relay_once(self.sink, self.batch)
                delay = self.interval
            except Exception as exc:  # the database is away: keep trying, do not die
                log.warning("outbox relay: %s", describe(exc))
                n, delay = 0, min(delay * 2, 10.0)
            if n < self.batch:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), delay)
