"""Where the ledger's own objects live in the WORM bucket: the contract between the appenders (the runtime's
activities, infractl's `record`) and the verifier (`infractl evidence verify`).

    ledger/checkpoints/<seq, 20 digits>.json   a signed checkpoint (chain.checkpoint_document)
    ledger/keys/<key id, "/" -> "~">.pub      a signing key's raw Ed25519 public key, base64, one line
    ledger/payloads/...                        infractl's payloads (the runtime's stay under tenants/<t>/runs/)
"""

from __future__ import annotations

import base64
from typing import Any, Protocol

CHECKPOINTS = "ledger/checkpoints/"
KEYS = "ledger/keys/"
PAYLOADS = "ledger/payloads/"


def checkpoint_object(seq: int) -> str:
    return f"{CHECKPOINTS}{seq:020d}.json"


def key_object(key_id: str) -> str:
    return KEYS + key_id.replace("/", "~") + ".pub"


def key_id_of(object_key: str) -> str:
    """The key id a `ledger/keys/` object names (key_object's inverse)."""
    return object_key.removeprefix(KEYS).removesuffix(".pub").replace("~", "/")


def public_key_document(public_key: bytes) -> bytes:
    return base64.b64encode(public_key) + b"\n"


def read_public_key(document: bytes) -> bytes:
    return base64.b64decode(document.strip())


class Bucket(Protocol):
    """The WORM bucket as a publisher writes to it: each side locks what it puts as its evidence is locked."""

    def put(self, key: str, data: bytes, content_type: str) -> str:
        """PUT a locked object; its version id."""
        ...

    def keys(self, prefix: str) -> list[str]: ...


def publish(conn: Any, bucket: Bucket, signer: Any, used_keys: set[str], known_keys: set[str]) -> tuple[int, set[str]]:
    """Every checkpoint not yet in the bucket (recorded as published), then the public keys of the signer when a key
    id used is not there yet (its first signature, a rotation). Returns (checkpoints published, the key ids known
    to be in the bucket now: the caller keeps them, to skip the listing next time). The one publisher: the
    runtime's ledger adapter and infractl's `record` both call it."""
    from controlplane.ledger import chain, store

    pending = store.unpublished(conn)
    for c in pending:
        document = chain.checkpoint_document(c.seq, c.entry_hash, c.created_at, c.signature, c.key_id)
        key = checkpoint_object(c.seq)
        store.published(conn, c, key, bucket.put(key, document, "application/json"))
    wanted = {k for k in used_keys | {c.key_id for c in pending} if k}
    if not wanted - known_keys:
        return len(pending), known_keys
    present = {key_id_of(k) for k in bucket.keys(KEYS)}
    if wanted - present:
        for key_id, raw in signer.public_keys().items():
            if key_id not in present:
                bucket.put(key_object(key_id), public_key_document(raw), "text/plain")
                present.add(key_id)
    return len(pending), known_keys | (wanted & present)
