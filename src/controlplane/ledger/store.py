"""Appending to the ledger and taking checkpoints, on a psycopg (3) connection to the shared database.

One chain whatever the number of appenders: an append locks the single row of evidence_head (`FOR UPDATE`) for its
transaction, so the next appender waits, then chains after what the first committed. Entries are written with COPY
in one transaction with the head: a failed append leaves nothing behind. A non-empty `ref` is appended once (a
retried activity, a re-run command): the stored entry is returned instead.

A checkpoint is a signed (seq, entry_hash) of the head: taken in the same transaction whenever a seq reaches a
multiple of `checkpoint_every`, or on demand (`checkpoint`). The caller publishes each one to the WORM bucket and
records where (`published`); the verifier trusts the WORM copies, which nobody can delete or edit.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from controlplane.ledger.chain import (
    FIELDS,
    GENESIS,
    Entry,
    NewEntry,
    checkpoint_message,
    entry_message,
    seal,
    timestamp,
)
from controlplane.ledger.signers import Signer

CHECKPOINT_EVERY = 1000
COLUMNS = (*FIELDS, "entry_hash", "signature", "key_id")
SELECT_ENTRIES = "SELECT " + ", ".join(COLUMNS) + " FROM evidence_entries"


class InvalidEntry(ValueError):
    """An entry that cannot be encoded (a tab in a field, a bad kind or hash): nothing was appended."""


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    entry_hash: str
    created_at: str
    signature: str
    key_id: str
    object_key: str = ""
    version_id: str = ""


@dataclass(frozen=True)
class Appended:
    entries: list[Entry]  # in the order given: new ones, or the stored entry of a ref already there
    checkpoints: list[Checkpoint]  # taken by this append: publish them
    existing: int = 0  # how many were already there (by ref)


def row_entry(row: Sequence[Any]) -> Entry:
    """An Entry from a row of SELECT_ENTRIES (COLUMNS order)."""
    return Entry(**dict(zip(COLUMNS, row, strict=True)))


def append(
    conn: Any,
    items: Iterable[NewEntry],
    signer: Signer | None,
    *,
    checkpoint_every: int = CHECKPOINT_EVERY,
    created_at: str | None = None,
) -> Appended:
    items = list(items)
    for item in items:
        problems = item.problems()
        if problems:
            raise InvalidEntry(f"{item.kind} entry for {item.tenant}: {'; '.join(problems)}")
    with conn.transaction(), conn.cursor() as cur:
        seq, prev = cur.execute("SELECT seq, entry_hash FROM evidence_head FOR UPDATE").fetchone()
        refs = sorted({i.ref for i in items if i.ref})
        stored: dict[str, Entry] = {}
        if refs:
            cur.execute(SELECT_ENTRIES + " WHERE ref = ANY(%s)", (refs,))
            stored = {e.ref: e for e in map(row_entry, cur.fetchall())}
        now = created_at or timestamp()
        sealed: list[Entry] = []
        marks: list[tuple[int, str]] = []
        slots: list[Entry | int] = []  # per item: the stored entry, or the index of its new one in `sealed`
        batch: dict[str, int] = {}
        for item in items:
            if item.ref in stored:
                slots.append(stored[item.ref])
                continue
            if item.ref in batch:
                slots.append(batch[item.ref])
                continue
            seq += 1
            entry = seal(seq, prev, now, item)
            prev = entry.entry_hash
            slots.append(len(sealed))
            if item.ref:
                batch[item.ref] = len(sealed)
            sealed.append(entry)
            if checkpoint_every and seq % checkpoint_every == 0:
                marks.append((seq, prev))
        signatures = _sign(
            signer, [entry_message(e.entry_hash) for e in sealed] + [checkpoint_message(*m) for m in marks]
        )
        entries = [replace(e, signature=s, key_id=k) for e, (s, k) in zip(sealed, signatures, strict=False)]
        checkpoints = [
            Checkpoint(s, h, now, sig, key) for (s, h), (sig, key) in zip(marks, signatures[len(sealed) :], strict=True)
        ]
        if entries:
            with cur.copy("COPY evidence_entries (" + ", ".join(COLUMNS) + ") FROM STDIN") as copy:
                for e in entries:
                    copy.write_row([getattr(e, c) for c in COLUMNS])
            cur.execute("UPDATE evidence_head SET seq = %s, entry_hash = %s", (seq, prev))
        _insert_checkpoints(cur, checkpoints)
    ordered = [entries[slot] if isinstance(slot, int) else slot for slot in slots]
    return Appended(ordered, checkpoints, existing=len(items) - len(entries))


def checkpoint(conn: Any, signer: Signer | None) -> Checkpoint | None:
    """A checkpoint of the head now (None for an empty ledger); the stored one if the head has one already."""
    with conn.transaction(), conn.cursor() as cur:
        seq, head = cur.execute("SELECT seq, entry_hash FROM evidence_head FOR UPDATE").fetchone()
        if seq == 0:
            return None
        row = cur.execute(
            "SELECT seq, entry_hash, created_at, signature, key_id, object_key, version_id"
            " FROM evidence_checkpoints WHERE seq = %s",
            (seq,),
        ).fetchone()
        if row:
            return Checkpoint(*row)
        ((signature, key_id),) = _sign(signer, [checkpoint_message(seq, head)])
        made = Checkpoint(seq, head, timestamp(), signature, key_id)
        _insert_checkpoints(cur, [made])
        return made


def published(conn: Any, checkpoint: Checkpoint, object_key: str, version_id: str) -> None:
    conn.execute(
        "UPDATE evidence_checkpoints SET object_key = %s, version_id = %s WHERE seq = %s",
        (object_key, version_id, checkpoint.seq),
    )


def unpublished(conn: Any) -> list[Checkpoint]:
    rows = conn.execute(
        "SELECT seq, entry_hash, created_at, signature, key_id, object_key, version_id FROM evidence_checkpoints"
        " WHERE object_key = '' ORDER BY seq"
    ).fetchall()
    return [Checkpoint(*r) for r in rows]


def head(conn: Any) -> tuple[int, str]:
    seq, entry_hash = conn.execute("SELECT seq, entry_hash FROM evidence_head").fetchone()
    return int(seq), str(entry_hash)


def _sign(signer: Signer | None, messages: list[bytes]) -> list[tuple[str, str]]:
    if signer is None:
        return [("", "")] * len(messages)
    return signer.sign(messages) if messages else []


def _insert_checkpoints(cur: Any, checkpoints: list[Checkpoint]) -> None:
    for c in checkpoints:
        cur.execute(
            "INSERT INTO evidence_checkpoints (seq, entry_hash, created_at, signature, key_id)"
            " VALUES (%s, %s, %s, %s, %s)",
            (c.seq, c.entry_hash, c.created_at, c.signature, c.key_id),
        )


__all__ = ["GENESIS", "Appended", "Checkpoint", "InvalidEntry", "append", "checkpoint", "head", "published"]
