"""Where the ledger's own objects live in the WORM bucket: the contract between the appenders (the runtime's
activities, infractl's `record`) and the verifier (`infractl evidence verify`).

    ledger/checkpoints/<seq, 20 digits>.json   a signed checkpoint (chain.checkpoint_document)
    ledger/keys/<key id, "/" -> "~">.pub      a signing key's raw Ed25519 public key, base64, one line
    ledger/payloads/...                        infractl's payloads (the runtime's stay under tenants/<t>/runs/)
"""

from __future__ import annotations

import base64

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
