"""Retention and disposition, legal hold (docs/evidence.md#retention).

Disposition deletes the payload version of an entry whose retention has passed (S3 refuses it before) and appends
an `evidence.disposition` entry that names it (refers_to) with the object's key, version and hash: the chain keeps
every entry, so `verify` still passes and reports the entry as disposed. A payload under legal hold is never
disposed: named explicitly it is refused, in a sweep it is skipped and reported. A hold is set or released with an
`evidence.legal-hold` entry recording who and why."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from infractl.adapters import worm
from infractl.adapters.ledger import chain
from infractl.errors import RefusedError, UsageError
from infractl.services.evidence import actions
from infractl.services.evidence.access import Ledger
from infractl.services.evidence.record import Record, record


@dataclass
class Disposal:
    disposed: list[int] = field(default_factory=list)  # entries whose payload was deleted now
    held: list[int] = field(default_factory=list)  # expired, but under legal hold: kept
    refused: dict[int, str] = field(default_factory=dict)  # S3 refused (retention still running)
    pending: list[int] = field(default_factory=list)  # what a dry run would dispose of
    entries: list[int] = field(default_factory=list)  # the disposition entries appended


def _candidates(conn: Any, now: datetime, seqs: list[int] | None) -> list[tuple[Any, ...]]:
    sql = (
        "SELECT e.seq, e.tenant, e.object_key, e.version_id, e.payload_sha256, e.retain_until FROM evidence_entries e"
        " WHERE e.object_key <> '' AND NOT EXISTS (SELECT 1 FROM evidence_entries d"
        "   WHERE d.kind = %s AND d.refers_to = e.seq::text)"
    )
    params: list[Any] = [chain.DISPOSITION]
    if seqs:
        sql += " AND e.seq = ANY(%s)"
        params.append(seqs)
    rows = conn.execute(sql + " ORDER BY e.seq", params).fetchall()
    if seqs:
        missing = sorted(set(seqs) - {r[0] for r in rows})
        if missing:
            raise UsageError(
                f"entries {', '.join(map(str, missing))}: no payload to dispose of (none, or already disposed)",
                hint="see them with: infractl evidence show ENV SEQ",
            )
        early = [r[0] for r in rows if chain.parse_time(r[5]) > now]
        if early:
            raise RefusedError(
                f"entries {', '.join(map(str, early))}: their retention has not passed",
                hint="a payload is disposed of only after its retain-until (infractl evidence show ENV SEQ)",
            )
        return rows
    return [r for r in rows if r[5] and chain.parse_time(r[5]) <= now]


def dispose(
    ledger: Ledger, *, seqs: list[int] | None = None, dry_run: bool = False, now: datetime | None = None
) -> Disposal:
    now = now or datetime.now(UTC)
    out = Disposal()
    records: list[Record] = []
    with ledger.connect() as conn:
        for seq, tenant, key, version, sha, until in _candidates(conn, now, seqs):
            state = worm.head(ledger.s3, ledger.bucket, key, version)
            if state.legal_hold:
                if seqs:
                    raise RefusedError(
                        f"entry {seq}: its payload is under legal hold: it cannot be disposed of",
                        hint=f"whoever may release it: infractl evidence hold {ledger.env} {seq} --release",
                    )
                out.held.append(seq)
                continue
            if dry_run:
                out.pending.append(seq)
                continue
            if state.exists:
                try:
                    worm.delete_version(ledger.s3, ledger.bucket, key, version)
                except RefusedError as exc:
                    out.refused[seq] = str(exc)
                    continue
            out.disposed.append(seq)
            records.append(
                Record(
                    tenant=tenant,
                    kind=chain.DISPOSITION,
                    actor=actions.actor(os.environ),
                    refers_to=str(seq),
                    ref=f"disposition:{seq}",
                    attributes={
                        "object_key": key,
                        "version_id": version,
                        "payload_sha256": sha,
                        "retain_until": until,
                        "reason": "retention passed",
                    },
                )
            )
        if records:
            appended = record(ledger, conn, records, now=now)
            out.entries = [e.seq for e in appended.entries]
    return out


def hold(ledger: Ledger, seq: int, *, on: bool, reason: str) -> int:
    """Set (on) or release a legal hold on entry `seq`'s payload; the seq of the evidence.legal-hold entry."""
    if not reason.strip():
        raise UsageError("a legal hold needs a reason", hint="--reason 'case 2026-114: litigation hold'")
    with ledger.connect() as conn:
        row = conn.execute(
            "SELECT tenant, object_key, version_id FROM evidence_entries WHERE seq = %s", (seq,)
        ).fetchone()
        if row is None or not row[1]:
            raise UsageError(f"entry {seq}: no such entry with a payload in {ledger.env}")
        tenant, key, version = row
        state = worm.head(ledger.s3, ledger.bucket, key, version)
        if not state.exists:
            raise UsageError(f"entry {seq}: its payload is gone (disposed of): nothing to hold")
        worm.legal_hold(ledger.s3, ledger.bucket, key, version, on)
        appended = record(
            ledger,
            conn,
            [
                Record(
                    tenant=tenant,
                    kind=chain.LEGAL_HOLD,
                    actor=actions.actor(os.environ),
                    refers_to=str(seq),
                    attributes={
                        "status": "ON" if on else "OFF",
                        "reason": reason,
                        "object_key": key,
                        "version_id": version,
                    },
                )
            ],
        )
    return appended.entries[0].seq
