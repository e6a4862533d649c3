"""What `infractl evidence` reports (--json: these models as they are)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

# Why an entry fails verification (Finding.reason): stable names a script can match.
REASONS = {
    "edited": "its content does not match its hash",
    "broken-link": "it does not chain to the entry before it",
    "missing": "entries are missing before it (deleted)",
    "out-of-order": "it is out of place (reordered)",
    "bad-signature": "its signature does not verify (forged, or signed for other content)",
    "unsigned": "it has no signature",
    "unknown-key": "it is signed with a key the bucket does not hold",
    "hash-column": "its stored entry_hash is not the hash of its content",
    "checkpoint-mismatch": "it differs from the signed checkpoint at its position (rewritten)",
    "truncated": "the chain ends before a signed checkpoint (entries deleted at the tail)",
    "bad-checkpoint": "a checkpoint's signature does not verify",
    "head-mismatch": "the head record does not match the last entry",
    "payload-missing": "its payload version is not in the bucket",
    "payload-edited": "its payload's SHA-256 is not the one recorded",
    "payload-unlocked": "its payload is not locked until the recorded retain-until",
}


class Finding(BaseModel):
    seq: int | None = None
    reason: str
    detail: str = ""


class VerifyReport(BaseModel):
    env: str
    bucket: str
    from_seq: int = 1
    entries: int = 0  # checked
    head_seq: int = 0
    head_hash: str = ""
    chain_seconds: float = 0.0
    signatures_checked: int = 0
    keys: list[str] = Field(default_factory=list)
    checkpoints_checked: int = 0
    checkpoints_unpublished: int = 0
    payloads_checked: int = 0
    disposed: list[int] = Field(default_factory=list)  # entries whose payload was lawfully disposed of
    held: list[int] = Field(default_factory=list)  # entries whose payload is under legal hold
    findings: list[Finding] = Field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.findings

    @property
    def first(self) -> Finding | None:
        numbered = [f for f in self.findings if f.seq is not None]
        return min(numbered, key=lambda f: f.seq or 0) if numbered else (self.findings or [None])[0]

    def summary(self) -> dict[str, Any]:
        return {"ok": self.ok, "first": self.first.model_dump() if self.first else None}


class EntryView(BaseModel):
    """One entry as `show`/`export` give it, with what verify knows of its payload."""

    entry: dict[str, Any]
    payload: dict[str, Any] = Field(default_factory=dict)
