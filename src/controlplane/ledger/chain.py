"""The canonical encoding of an evidence entry and its hash (pure).

An entry's body is its fields in FIELDS order, joined by TAB, UTF-8 encoded; `prev_hash` comes first, so the chain
link is the body's first 64 characters. No field may hold a TAB, LF or CR (checked on append; `attributes` is compact
JSON with sorted keys, whose escapes keep control characters out), and no field is NULL (absent = empty string), so
the encoding is unambiguous and PostgreSQL can rebuild it with `concat_ws(E'\\t', …)` (BODY_SQL): the verifier
hashes what the database holds, not what the appender meant to write.

    entry_hash = hex(sha256(body))       next entry's prev_hash = entry_hash       first prev_hash = GENESIS

Entry signatures sign `b"entry\\t" + entry_hash`; checkpoint signatures sign
`b"checkpoint\\t<seq>\\t<entry_hash>"` (domain-separated: one can never pass for the other).
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from typing import Any

GENESIS = "0" * 64
# The hashed fields, in encoding order (the columns of evidence_entries of the same names).
FIELDS = (
    "prev_hash",
    "seq",
    "created_at",
    "tenant",
    "kind",
    "actor",
    "ref",
    "payload_sha256",
    "object_key",
    "version_id",
    "retention_class",
    "retain_until",
    "refers_to",
    "attributes",
)
# The body as PostgreSQL rebuilds it from the stored columns (seq is a bigint: its text form is its decimal digits).
BODY_SQL = "concat_ws(E'\\t', " + ", ".join("seq::text" if f == "seq" else f for f in FIELDS) + ")"
_FORBIDDEN = re.compile(r"[\t\n\r]")
_HASH = re.compile(r"^[0-9a-f]{64}$")
TIME_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"

# The kinds infractl and the runtime write (others are allowed: lower-case words, dots and dashes).
DISPOSITION = "evidence.disposition"  # refers_to: the entry whose payload was deleted after its retention
LEGAL_HOLD = "evidence.legal-hold"  # refers_to: the entry whose payload was put under, or released from, a hold
KIND = re.compile(r"^[a-z][a-z0-9.-]{0,62}$")


def timestamp(moment: datetime | None = None) -> str:
    """UTC, microseconds, `Z`: the one text form of a time in an entry (it is hashed as written)."""
    return (moment or datetime.now(UTC)).astimezone(UTC).strftime(TIME_FORMAT)


def parse_time(text: str) -> datetime:
    return datetime.strptime(text, TIME_FORMAT).replace(tzinfo=UTC)


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


@dataclass(frozen=True)
class NewEntry:
    """What an appender gives: the ledger adds seq, prev_hash, created_at, the hash and the signature."""

    tenant: str
    kind: str
    actor: str
    ref: str = ""  # idempotency reference: an entry with the same non-empty ref is not appended twice
    payload_sha256: str = ""
    object_key: str = ""
    version_id: str = ""
    retention_class: str = ""
    retain_until: str = ""
    refers_to: str = ""
    attributes: dict[str, Any] = field(default_factory=dict)

    def problems(self) -> list[str]:
        found = []
        for name in _TEXT_FIELDS:
            if _FORBIDDEN.search(getattr(self, name)):
                found.append(f"{name} holds a tab or a line break")
        if not self.tenant:
            found.append("tenant is empty (use '-' for an entry about no tenant)")
        if not KIND.match(self.kind):
            found.append(f"kind {self.kind!r} is not lower-case words, dots and dashes")
        if self.payload_sha256 and not _HASH.match(self.payload_sha256):
            found.append("payload_sha256 is not 64 lower-case hex digits")
        if bool(self.object_key) != bool(self.payload_sha256):
            found.append("object_key and payload_sha256 go together")
        if self.retain_until:
            try:
                parse_time(self.retain_until)
            except ValueError:
                found.append(f"retain_until {self.retain_until!r} is not {TIME_FORMAT}")
        return found


_TEXT_FIELDS = tuple(f.name for f in fields(NewEntry) if f.name != "attributes")


@dataclass(frozen=True)
class Entry:
    """One stored entry (every column of evidence_entries)."""

    seq: int
    prev_hash: str
    created_at: str
    tenant: str
    kind: str
    actor: str
    ref: str
    payload_sha256: str
    object_key: str
    version_id: str
    retention_class: str
    retain_until: str
    refers_to: str
    attributes: str  # canonical JSON, as hashed
    entry_hash: str
    signature: str = ""
    key_id: str = ""

    def body(self) -> bytes:
        return encode({name: getattr(self, name) for name in FIELDS})

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["attributes"] = json.loads(self.attributes)
        return out


def encode(values: dict[str, Any]) -> bytes:
    """The body: FIELDS in order, TAB-joined (seq as decimal digits)."""
    return "\t".join(str(values[name]) for name in FIELDS).encode()


def digest(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def seal(seq: int, prev_hash: str, created_at: str, new: NewEntry) -> Entry:
    """The entry `new` becomes at `seq` after `prev_hash` (unsigned)."""
    values: dict[str, Any] = {name: getattr(new, name) for name in _TEXT_FIELDS}
    values["attributes"] = canonical_json(new.attributes)
    values.update(seq=seq, prev_hash=prev_hash, created_at=created_at)
    return Entry(**values, entry_hash=digest(encode(values)))  # type: ignore[arg-type]


def entry_message(entry_hash: str) -> bytes:
    return b"entry\t" + entry_hash.encode()


def checkpoint_message(seq: int, entry_hash: str) -> bytes:
    return f"checkpoint\t{seq}\t{entry_hash}".encode()


def checkpoint_document(seq: int, entry_hash: str, created_at: str, signature: str, key_id: str) -> bytes:
    """A checkpoint as written to the WORM bucket (canonical JSON)."""
    doc = {"seq": seq, "entry_hash": entry_hash, "created_at": created_at, "signature": signature, "key_id": key_id}
    return canonical_json(doc).encode()
