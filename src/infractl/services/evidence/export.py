"""`infractl evidence show|export`: entries for auditors, with the proof of one entry.

The proof of entry S is the chain segment from S to the first checkpoint at or after it (each entry with its
canonical body, so anyone can re-hash it: docs/evidence.md#encoding), that checkpoint as stored in the WORM bucket,
and the public keys. `check_proof` is what an auditor's script does: the bodies hash and chain to the
checkpoint's hash, the checkpoint's signature and the entry's signature verify. When no checkpoint covers S yet,
one is taken (and published) first."""

from __future__ import annotations

import base64
import json
from typing import Any

from infractl.adapters import worm
from infractl.adapters.ledger import chain, objects, signers, store
from infractl.errors import UsageError
from infractl.services.evidence.access import Ledger
from infractl.services.evidence.record import publish
from infractl.services.evidence.verify import public_keys

FORMAT = "infractl-evidence-proof/1"


def entry(ledger: Ledger, conn: Any, seq: int) -> chain.Entry:
    row = conn.execute(store.SELECT_ENTRIES + " WHERE seq = %s", (seq,)).fetchone()
    if row is None:
        raise UsageError(
            f"no entry {seq} in {ledger.env}'s ledger", hint=f"see the head: infractl evidence verify {ledger.env}"
        )
    return store.row_entry(row)


def show(ledger: Ledger, seq: int) -> dict[str, Any]:
    with ledger.connect() as conn:
        found = entry(ledger, conn, seq)
        related = conn.execute(store.SELECT_ENTRIES + " WHERE refers_to = %s ORDER BY seq", (str(seq),)).fetchall()
    out: dict[str, Any] = {"entry": found.to_dict(), "related": [store.row_entry(r).to_dict() for r in related]}
    if found.object_key:
        state = worm.head(ledger.s3, ledger.bucket, found.object_key, found.version_id)
        out["payload"] = {
            "bucket": ledger.bucket,
            "exists": state.exists,
            "sha256_matches": state.sha256 == found.payload_sha256 if state.exists else None,
            "lock_mode": state.mode,
            "retain_until": state.retain_until.isoformat() if state.retain_until else None,
            "legal_hold": state.legal_hold,
        }
    return out


def export(ledger: Ledger, seq: int) -> dict[str, Any]:
    with ledger.connect() as conn:
        entry(ledger, conn, seq)
        row = conn.execute("SELECT min(seq) FROM evidence_checkpoints WHERE seq >= %s", (seq,)).fetchone()
        if row[0] is None:
            store.checkpoint(conn, ledger.signer())
            row = conn.execute("SELECT min(seq) FROM evidence_checkpoints WHERE seq >= %s", (seq,)).fetchone()
        publish(ledger, conn)
        until = int(row[0])
        rows = conn.execute(store.SELECT_ENTRIES + " WHERE seq BETWEEN %s AND %s ORDER BY seq", (seq, until)).fetchall()
    segment = [store.row_entry(r) for r in rows]
    checkpoint = json.loads(worm.get(ledger.s3, ledger.bucket, objects.checkpoint_object(until)))
    keys = public_keys(ledger)
    return {
        "format": FORMAT,
        "env": ledger.env,
        "bucket": ledger.bucket,
        "entry": segment[0].to_dict() if segment else None,
        "proof": {
            "segment": [
                {"seq": e.seq, "body": e.body().decode(), "signature": e.signature, "key_id": e.key_id} for e in segment
            ],
            "checkpoint": checkpoint,
            "checkpoint_object": objects.checkpoint_object(until),
        },
        "keys": {k: base64.b64encode(v).decode() for k, v in keys.items()},
        "encoding": "entry_hash = sha256(body); body = the fields in order joined by TAB; the next body starts with it",
    }


def check_proof(doc: dict[str, Any]) -> list[str]:
    """Problems with an exported proof (empty: it holds), using nothing but the document."""
    problems: list[str] = []
    keys = {k: base64.b64decode(v) for k, v in doc["keys"].items()}
    segment = doc["proof"]["segment"]
    checkpoint = doc["proof"]["checkpoint"]
    prev = None
    for item in segment:
        body = item["body"].encode()
        if prev is not None and body[:64] != prev.encode():
            problems.append(f"entry {item['seq']}: does not chain to entry {item['seq'] - 1}")
        prev = chain.digest(body)
        if item["seq"] == segment[0]["seq"]:
            key = keys.get(item["key_id"])
            if key is None or not signers.verify(key, chain.entry_message(prev), item["signature"]):
                problems.append(f"entry {item['seq']}: its signature does not verify")
    if not segment or segment[-1]["seq"] != checkpoint["seq"] or prev != checkpoint["entry_hash"]:
        problems.append("the segment does not end at the checkpoint's entry and hash")
    key = keys.get(checkpoint["key_id"])
    message = chain.checkpoint_message(int(checkpoint["seq"]), checkpoint["entry_hash"])
    if key is None or not signers.verify(key, message, checkpoint["signature"]):
        problems.append("the checkpoint's signature does not verify")
    if doc.get("entry") and segment and chain.digest(segment[0]["body"].encode()) != doc["entry"]["entry_hash"]:
        problems.append("the entry is not the first body of the segment")
    return problems
