"""The worker's periodic check of the evidence ledger's hash chain: the evidence-integrity signal
(docs/runtime.md#evidence-chain-check).

Every CONTROLPLANE_EVIDENCE_VERIFY_INTERVAL_S seconds (0 = off) one round:

1. anchor: the last verified entry is read again; its recomputed hash must still be the one verified (a rewrite of
   the chain from some entry up to the head, hashes and links fixed up, shows here);
2. increment: every entry after it, in order, in batches: each entry's hash is recomputed from its stored columns
   (chain.Entry.body, the encoding the appenders hash) and compared with its `entry_hash`; its `prev_hash` must be
   the previous entry's hash (GENESIS for entry 1) and its seq the next number (a deleted entry leaves a gap); the
   chain must reach the head record (evidence_head) read before the entries (deleted last entries);
3. sweep: a window of SWEEP entries of the verified part is checked again the same way, moving on each round, so an
   edit of an older entry is found within (entries / SWEEP) rounds.

The hashing runs in a thread, batch by batch: the worker's event loop keeps serving its activities meanwhile.

A round that finds nothing counts `controlplane_evidence_verifications_total{outcome="ok"}` and sets the last-success
gauge; one that finds a break counts `broken`, logs the entry at ERROR, and moves the verified position back to just
before the break (to the start when the anchor itself changed), so every later round checks that entry again and
reports `broken` for as long as the chain stays broken.

This is the hash chain only: the entries' signatures and the signed checkpoints in the WORM bucket need the
published keys and are checked by `infractl evidence verify` (docs/evidence.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from controlplane.ledger import chain, store
from controlplane.metrics import WorkerMetrics
from controlplane.readiness import describe

log = logging.getLogger(__name__)

BATCH = 2000
SWEEP = 2000
_SEQ = store.COLUMNS.index("seq")


@dataclass(frozen=True)
class Break:
    seq: int
    reason: str


@dataclass
class RoundResult:
    checked: int  # entries hashed this round
    head: int  # the last verified seq after the round
    broken: Break | None = None


def check_rows(rows: Sequence[Sequence[Any]], prev_seq: int, prev_hash: str) -> tuple[list[str], Break | None]:
    """Check consecutive entries (SELECT_ENTRIES rows, by seq) that follow entry `prev_seq` whose hash is
    `prev_hash`. Returns the recomputed hashes up to the first break, and the break (None: all intact)."""
    hashes: list[str] = []
    for row in rows:
        entry = store.row_entry(row)
        expected = prev_seq + 1
        if entry.seq != expected:
            reason = f"entries {expected}..{entry.seq - 1} are missing" if entry.seq > expected else "out of order"
            return hashes, Break(expected, reason)
        computed = chain.digest(entry.body())
        if entry.prev_hash != prev_hash:
            return hashes, Break(entry.seq, f"prev_hash is not the hash of entry {prev_seq}")
        if computed != entry.entry_hash:
            return hashes, Break(entry.seq, "its stored hash is not the hash of its content (edited)")
        hashes.append(computed)
        prev_seq, prev_hash = entry.seq, computed
    return hashes, None


class ChainCheck:
    """The check's state (the verified position, the sweep cursor) between rounds, on the worker's pool."""

    def __init__(self, pool: Any, metrics: WorkerMetrics | None = None, *, batch: int = BATCH, sweep: int = SWEEP):
        self.pool = pool
        self.metrics = metrics
        self.batch = batch
        self.sweep = sweep
        self.verified_seq = 0
        self.verified_hash = chain.GENESIS
        self.sweep_from = 1

    async def round(self) -> RoundResult:
        """One check (anchor, increment, sweep); records its outcome in the metrics."""
        async with self.pool.connection() as conn:
            result = await self._round(conn)
        if result.broken is not None:
            log.error("evidence ledger: hash chain broken at entry %s: %s", result.broken.seq, result.broken.reason)
        if self.metrics is not None:
            self.metrics.evidence_checked(result.broken is None)
        return result

    async def _round(self, conn: Any) -> RoundResult:
        checked = 0
        if self.verified_seq:
            rows = await self._rows(conn, self.verified_seq, self.verified_seq)
            row_hash = chain.digest(store.row_entry(rows[0]).body()) if rows else None
            if row_hash != self.verified_hash:
                broken = Break(self.verified_seq, "the verified entry is gone or was rewritten")
                self._rewind(0, chain.GENESIS, sweep_from=1)  # where the rewrite starts is unknown: all again
                return RoundResult(1, 0, broken)
        # the head record, read before the entries: every entry up to it is committed when they are read
        head_seq, head_hash = await (await conn.execute("SELECT seq, entry_hash FROM evidence_head")).fetchone()
        while True:  # the increment, batch by batch, up to the head
            rows = await self._rows(conn, self.verified_seq + 1, self.verified_seq + self.batch)
            hashes, broken = await asyncio.to_thread(check_rows, rows, self.verified_seq, self.verified_hash)
            checked += len(hashes)
            if hashes:
                self.verified_seq, self.verified_hash = self.verified_seq + len(hashes), hashes[-1]
            if broken is not None:
                return RoundResult(checked, self.verified_seq, broken)
            if len(rows) < self.batch:
                break
        if self.verified_seq < head_seq or (self.verified_seq == head_seq and self.verified_hash != head_hash):
            reason = f"the head record says entry {head_seq}, the chain ends at entry {self.verified_seq}"
            if self.verified_seq == head_seq:
                reason = "the head record's hash is not the last entry's"
            return RoundResult(checked, self.verified_seq, Break(head_seq, reason))
        swept, broken = await self._sweep(conn)
        return RoundResult(checked + swept, self.verified_seq, broken)

    async def _sweep(self, conn: Any) -> tuple[int, Break | None]:
        if self.verified_seq == 0 or not self.sweep:
            return 0, None
        lo = self.sweep_from if self.sweep_from <= self.verified_seq else 1
        hi = min(lo + self.sweep - 1, self.verified_seq)
        rows = await self._rows(conn, max(lo - 1, 1), hi)
        prev_seq, prev_hash = 0, chain.GENESIS
        if lo > 1:  # the entry before the window gives the first link (its own content is checked in its window)
            if not rows or rows[0][_SEQ] != lo - 1:
                self._rewind(0, chain.GENESIS, sweep_from=1)
                return 0, Break(lo - 1, "the entry is missing")
            prev_seq, prev_hash = lo - 1, chain.digest(store.row_entry(rows[0]).body())
            rows = rows[1:]
        hashes, broken = await asyncio.to_thread(check_rows, rows, prev_seq, prev_hash)
        if broken is None and len(hashes) < hi - lo + 1:
            broken = Break(lo + len(hashes), "the entry is missing")
        if broken is not None:  # verify again from just before it: the next rounds' increments find it again
            self._rewind(broken.seq - 1, hashes[-1] if hashes else prev_hash, sweep_from=1)
            return len(hashes), broken
        self.sweep_from = hi + 1 if hi < self.verified_seq else 1
        return len(hashes), None

    def _rewind(self, seq: int, entry_hash: str, *, sweep_from: int | None = None) -> None:
        self.verified_seq, self.verified_hash = seq, entry_hash
        if sweep_from is not None:
            self.sweep_from = sweep_from

    async def _rows(self, conn: Any, lo: int, hi: int) -> list[Any]:
        cur = await conn.execute(store.SELECT_ENTRIES + " WHERE seq BETWEEN %s AND %s ORDER BY seq", (lo, hi))
        return list(await cur.fetchall())

    async def run(self, interval: float, stop: asyncio.Event) -> None:
        """A round now, then every `interval` seconds until `stop`. A database that does not answer is logged and
        counts nothing (the last-success gauge ages: the SLO sees it)."""
        while not stop.is_set():
            try:
                await self.round()
            except Exception as exc:
                log.warning("evidence chain check: %s", describe(exc))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), interval)
