"""Appending to an env's ledger: payloads first (locked objects in the WORM bucket), then the entries (one
transaction, signed in one batch), then the checkpoints they reached and any new signing key, both to the bucket.

A crash between the steps loses nothing: a payload without its entry is a locked orphan (the re-run with the same
ref stores it again and appends once); an entry is committed with its checkpoint row, and a checkpoint not yet in
the bucket is published by the next append (store.unpublished)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from infractl.adapters import worm
from infractl.adapters.ledger import chain, objects, signers, store
from infractl.errors import CloudError, UsageError
from infractl.services.evidence.access import PAYLOADS, Ledger


@dataclass(frozen=True)
class Record:
    """One piece of evidence to record: its payload (optional) goes to the bucket, its entry to the chain."""

    tenant: str
    kind: str
    actor: str
    attributes: dict[str, Any] = field(default_factory=dict)
    payload: bytes | None = None
    retention_class: str = "standard"
    ref: str = ""
    refers_to: str = ""
    legal_hold: bool = False


def payload_key(tenant: str, kind: str, sha256: str) -> str:
    return f"{PAYLOADS}{tenant}/{kind}/{sha256}.json"


def record(ledger: Ledger, conn: Any, records: Iterable[Record], *, now: datetime | None = None) -> store.Appended:
    now = now or datetime.now(UTC)
    entries = [_entry(ledger, r, now) for r in records]
    signer = ledger.signer()
    try:
        appended = store.append(conn, entries, signer, checkpoint_every=ledger.checkpoint_every)
    except store.InvalidEntry as exc:
        raise UsageError(str(exc)) from None
    except signers.SigningError as exc:
        raise CloudError(f"{exc}: nothing was appended", hint="is Vault reachable, and may the token sign?") from None
    publish(ledger, conn, {e.key_id for e in appended.entries} | {c.key_id for c in appended.checkpoints})
    return appended


def publish(ledger: Ledger, conn: Any, used_keys: set[str] | None = None) -> int:
    """Every checkpoint not yet in the bucket, and the signer's public keys when one used is not there yet (first
    use, a rotation): objects.publish, locked for the longest retention class. How many checkpoints."""
    until = max(ledger.retain_until(c) for c in ledger.classes)

    class Bucket:
        def put(self, key: str, data: bytes, content_type: str) -> str:
            return worm.put(
                ledger.s3, ledger.bucket, key, data, mode=ledger.mode, retain_until=until, content_type=content_type
            )

        def keys(self, prefix: str) -> list[str]:
            return worm.keys(ledger.s3, ledger.bucket, prefix)

    try:
        published, ledger.published_keys = objects.publish(
            conn, Bucket(), ledger.signer(), used_keys or set(), ledger.published_keys
        )
    except signers.SigningError as exc:
        raise CloudError(
            f"{exc}: checkpoints and keys not published yet", hint="the next append publishes them"
        ) from None
    return published


def _entry(ledger: Ledger, r: Record, now: datetime) -> Any:
    until = ledger.retain_until(r.retention_class, now)
    fields: dict[str, Any] = {}
    if r.payload is not None:
        sha = hashlib.sha256(r.payload).hexdigest()
        key = payload_key(r.tenant, r.kind, sha)
        version = worm.put(
            ledger.s3, ledger.bucket, key, r.payload, mode=ledger.mode, retain_until=until, legal_hold=r.legal_hold
        )
        fields = {"payload_sha256": sha, "object_key": key, "version_id": version}
    return chain.NewEntry(
        tenant=r.tenant,
        kind=r.kind,
        actor=r.actor,
        ref=r.ref,
        retention_class=r.retention_class,
        retain_until=chain.timestamp(until),
        refers_to=r.refers_to,
        attributes=r.attributes,
        **fields,
    )
