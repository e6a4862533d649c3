"""The ports: what the API, the activities and the relay need from the outside world (docs/runtime.md#ports).

Adapters live in controlplane.adapters; tests use fakes that satisfy the same protocols.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Protocol, runtime_checkable

from controlplane.ledger.chain import Entry, NewEntry
from controlplane.models import KeyClaim, NewRun, ObjectLock, OutboxEvent, RunRecord, RunStatus, StoredObject


@runtime_checkable
class IdGenerator(Protocol):
    def new(self) -> uuid.UUID:
        """A new identifier; later calls in the same process return larger ids."""
        ...


@runtime_checkable
class RunStore(Protocol):
    """Run records. Every state change writes its outbox event in the SAME transaction (transactional outbox)."""

    async def record_run(self, run: NewRun, event: OutboxEvent) -> bool:
        """Insert the run and its event atomically; False (and nothing written) when the run already exists."""
        ...

    async def finish_run(
        self,
        tenant: str,
        run_id: uuid.UUID,
        status: RunStatus,
        event: OutboxEvent,
        *,
        evidence: StoredObject | None = None,
        error_message: str | None = None,
    ) -> float | None:
        """Move a run to completed/failed with its event atomically: the seconds from its acceptance (requested_at)
        to now; None (and nothing written) when it already was final."""
        ...

    async def get_run(self, tenant: str, run_id: uuid.UUID) -> RunRecord | None: ...

    async def ping(self) -> None:
        """Raise when the store cannot answer."""
        ...


@runtime_checkable
class IdempotencyKeys(Protocol):
    """Idempotency-Key records of POST /runs, unique per (tenant, key), each valid until its expiry."""

    async def claim(
        self,
        tenant: str,
        key: str,
        request_sha256: str,
        run_id: uuid.UUID,
        requested_at: datetime,
        ttl_seconds: float,
    ) -> KeyClaim:
        """Bind the key to this request and run id unless a live record holds it; the record that holds it now.

        Race-free: of any number of concurrent claims of one key, exactly one gets `created=True`."""
        ...

    async def mark_started(self, tenant: str, key: str) -> None:
        """Record that the key's workflow is started (replays then answer without asking the workflow engine)."""
        ...


@runtime_checkable
class EventSink(Protocol):
    """Where the relay publishes outbox events. Must be idempotent on event.id (the relay may offer an event again
    after a crash between publishing it and marking it published)."""

    async def publish(self, event: OutboxEvent) -> bool:
        """Deliver the event; True when delivered now, False when it had been delivered before."""
        ...


@runtime_checkable
class Outbox(Protocol):
    """The relay side of the outbox: claim unpublished events, hand them to a sink, mark them published."""

    async def relay_once(self, sink: EventSink, limit: int) -> int:
        """Publish up to `limit` events; the number published (including already-delivered duplicates)."""
        ...

    async def pending(self) -> int: ...


@runtime_checkable
class ObjectStore(Protocol):
    async def put(
        self,
        key: str,
        data: bytes,
        *,
        content_type: str,
        metadata: Mapping[str, str] | None = None,
        lock: ObjectLock | None = None,
    ) -> StoredObject:
        """Store data under key, its SHA-256 checked by the store; with `lock`, that version is retained so (a
        versioned bucket: writing the same key again adds a version, the locked one stays)."""
        ...

    async def get(self, key: str) -> bytes: ...

    async def ping(self) -> None: ...


@runtime_checkable
class EvidenceLedger(Protocol):
    """The evidence ledger (controlplane.ledger): append-only, hash-chained, signed entries."""

    @property
    def bucket(self) -> str:
        """The WORM bucket the entries' payloads are in."""
        ...

    async def find(self, ref: str) -> Entry | None:
        """The entry appended with this idempotency reference, if any."""
        ...

    async def append(self, entry: NewEntry) -> Entry:
        """Append (signed) and publish the checkpoints it reached; an entry with the same ref already there is
        returned instead (appended once)."""
        ...


@runtime_checkable
class SecretStore(Protocol):
    async def read(self, path: str) -> dict[str, str]:
        """The key/value pairs of a secret. Every value is registered for redaction before it is returned."""
        ...

    async def ping(self) -> None: ...


@runtime_checkable
class WorkflowStarter(Protocol):
    """The API's view of the workflow engine."""

    async def start_run(self, workflow_id: str, payload: object) -> bool:
        """Start the workflow; False (and nothing started) when a workflow with this id exists already."""
        ...

    async def describe(self, workflow_id: str) -> str | None:
        """The workflow's status name (RUNNING, COMPLETED, FAILED, ...) or None when there is no such workflow."""
        ...

    async def ping(self) -> None: ...
