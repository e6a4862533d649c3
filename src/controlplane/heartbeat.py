"""The process heartbeat: every api and worker process records, in `process_heartbeats` (revision 0002), which
schema revisions its code works with, so a contract migration can refuse to run while an older version still
needs the shape it removes (controlplane.migrations.runner.blockers).

One row per process: upserted at start and every CONTROLPLANE_HEARTBEAT_SECONDS, valid for 3 times that
(ttl_seconds), deleted on a graceful stop. A process killed without stopping leaves a row that expires by itself.
The table may be missing (a database still before revision 0002): logged once at debug, tried again every beat.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime

from psycopg_pool import AsyncConnectionPool

from controlplane import __version__

log = logging.getLogger(__name__)

# The oldest schema revision this code runs on. Raise it when the code stops working on an older shape (it then
# needs the expand revision that created the new one).
SCHEMA_MIN = "0003"  # runs.error_message
TTL_FACTOR = 3

_UPSERT = (
    "INSERT INTO process_heartbeats"
    " (process_id, role, app_version, schema_min, schema_head, host, pid, started_at, seen_at, ttl_seconds)"
    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, now(), %s)"
    " ON CONFLICT (process_id) DO UPDATE SET seen_at = now(), ttl_seconds = excluded.ttl_seconds"
)


@dataclass
class Heartbeat:
    pool: AsyncConnectionPool
    role: str  # api | worker
    interval: float
    schema_head: str
    schema_min: str = SCHEMA_MIN
    app_version: str = __version__
    host: str = field(default_factory=socket.gethostname)
    pid: int = field(default_factory=os.getpid)
    process_id: str = ""
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    _task: asyncio.Task | None = None
    _stop: asyncio.Event = field(default_factory=asyncio.Event)
    _logged: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.process_id = self.process_id or f"{self.role}-{self.host}-{self.pid}-{uuid.uuid4().hex[:8]}"

    @property
    def ttl_seconds(self) -> float:
        return self.interval * TTL_FACTOR

    async def beat(self) -> bool:
        """One upsert; False when it could not be written (table missing, database away: logged once each)."""
        import psycopg

        try:
            async with self.pool.connection(timeout=self.interval) as conn, conn.transaction():
                await conn.execute(
                    _UPSERT,
                    (
                        self.process_id,
                        self.role,
                        self.app_version,
                        self.schema_min,
                        self.schema_head,
                        self.host,
                        self.pid,
                        self.started_at,
                        self.ttl_seconds,
                    ),
                )
        except psycopg.errors.UndefinedTable:
            self._once("table", "heartbeat: no process_heartbeats table yet (schema before revision 0002)")
            return False
        except Exception as exc:
            self._once(type(exc).__name__, f"heartbeat: not written ({type(exc).__name__}); retrying")
            return False
        self._logged.clear()
        return True

    async def run(self) -> None:
        while not self._stop.is_set():
            await self.beat()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self.interval)

    def start(self) -> Heartbeat:
        self._task = asyncio.create_task(self.run(), name=f"heartbeat-{self.role}")
        return self

    async def stop(self) -> None:
        """End the loop and delete this process's row (best effort: an unreachable database lets it expire)."""
        self._stop.set()
        if self._task is not None:
            await self._task
            self._task = None
        try:
            async with self.pool.connection(timeout=2.0) as conn, conn.transaction():
                await conn.execute("DELETE FROM process_heartbeats WHERE process_id = %s", (self.process_id,))
        except Exception as exc:
            log.debug("heartbeat: row not deleted (%s); it expires after %gs", type(exc).__name__, self.ttl_seconds)

    def _once(self, kind: str, message: str) -> None:
        if kind not in self._logged:
            self._logged.add(kind)
            log.debug(message)


def start(pool: AsyncConnectionPool, role: str, interval: float) -> Heartbeat:
    """Start the heartbeat of this process (call from its event loop); `await hb.stop()` on a graceful stop."""
    from controlplane.migrations import runner

    head = runner.declared_head()  # the file names only: the api and the worker never load Alembic
    if head is None:
        raise RuntimeError(f"no migrations in {runner.DIRECTORY}: the package is incomplete")
    return Heartbeat(pool, role=role, interval=interval, schema_head=head).start()
