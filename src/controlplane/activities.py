"""The run workflow's activities. Each is idempotent (safe to run twice with the same input):

- record_run: INSERT the run ... ON CONFLICT DO NOTHING, and only when the row is new, its `run.recorded` outbox
  event, in the same transaction. A retry after the commit finds the row and writes nothing.
- store_evidence: the run's evidence into the ledger (controlplane.ledger, docs/runtime.md#evidence): PUT the
  canonical JSON document, locked (CONTROLPLANE_EVIDENCE_LOCK_MODE until now + _RETENTION_DAYS), with its SHA-256
  checked by S3, at a key derived from tenant and run id; then append ONE signed entry pinning that version, with the
  idempotency ref `run:<tenant>/<run id>`. A retry finds that entry and writes nothing; a retry after an upload
  whose entry was never appended uploads a new version (the orphan stays locked) and appends once.
- complete_run / fail_run: UPDATE ... WHERE status = 'running', and only when a row changed, the outbox event;
  the workflow-completion counter and the workflow duration (acceptance to final state) count transitions, not
  attempts (controlplane.metrics).

Errors are transient unless they come from the input: an unreachable database, object store or secrets backend is
retried (with backoff, for up to an hour), while an input the activity can never process (a string that is not
valid Unicode, a malformed id, a value PostgreSQL refuses) raises a non-retryable ApplicationError of type
PERMANENT_ERROR, and the workflow takes its failure path at once with that reason (docs/runtime.md#failures).
"""

from __future__ import annotations

import contextlib
import json
import logging
import uuid
from collections.abc import Awaitable, Callable, Iterator
from datetime import datetime

import psycopg
from opentelemetry import trace
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from temporalio import activity
from temporalio.exceptions import ApplicationError

from controlplane.ledger.chain import NewEntry, timestamp
from controlplane.metrics import WorkerMetrics
from controlplane.models import EventType, NewRun, OutboxEvent, Retention, RunStatus, StoredObject
from controlplane.ports import EvidenceLedger, IdGenerator, ObjectStore, RunStore
from controlplane.workflows import (
    COMPLETE_RUN,
    FAIL_RUN,
    PERMANENT_ERROR,
    RECORD_RUN,
    STORE_EVIDENCE,
    WORKFLOW_NAME,
    EvidenceRef,
    FinishRunInput,
    RecordRunInput,
    StoreEvidenceInput,
    evidence_key,
    ledger_ref,
)

log = logging.getLogger(__name__)

EVIDENCE_ENTRY_KIND = "run.evidence"  # the ledger entry of a run's evidence document
ACTOR = "controlplane-worker"
RETENTION_CLASS = "standard"

# Test seam: called after an activity's transaction committed, with the activity name and attempt number.
AfterCommit = Callable[[str, int], Awaitable[None] | None]


# What retrying cannot fix: the input itself is wrong. ValueError covers UnicodeEncodeError (a lone surrogate),
# malformed ids and timestamps; DataError and IntegrityError are values PostgreSQL refuses. Connection errors
# (psycopg.OperationalError), timeouts and DependencyError (object store, secrets backend) stay retryable.
PERMANENT = (ValueError, TypeError, RecursionError, psycopg.DataError, psycopg.IntegrityError)


@contextlib.contextmanager
def permanent_errors(name: str) -> Iterator[None]:
    """Turn an input error into a non-retryable ApplicationError naming the activity and the cause."""
    try:
        yield
    except PERMANENT as exc:
        reason = f"{name}: {type(exc).__name__}: {exc}"[:500]
        log.warning("activity %s failed permanently (not retried): %s", name, reason)
        raise ApplicationError(reason, type=PERMANENT_ERROR, non_retryable=True) from exc


def _traceparent() -> str | None:
    carrier: dict[str, str] = {}
    TraceContextTextMapPropagator().inject(carrier)
    return carrier.get("traceparent")


def _annotate(tenant: str, run_id: str) -> None:
    span = trace.get_current_span()
    span.set_attribute("controlplane.tenant", tenant)
    span.set_attribute("controlplane.run_id", run_id)


def evidence_document(inp: StoreEvidenceInput) -> bytes:
    """The stored evidence: canonical JSON (sorted keys, no spaces), so every attempt writes the same bytes."""
    document = {
        "run_id": inp.run_id,
        "tenant": inp.tenant,
        "kind": inp.kind,
        "requested_at": inp.requested_at,
        "evidence": inp.evidence,
    }
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


class RunActivities:
    def __init__(
        self,
        store: RunStore,
        objects: ObjectStore,
        ids: IdGenerator,
        ledger: EvidenceLedger,
        *,
        retention: Retention | None = None,
        after_commit: AfterCommit | None = None,
        metrics: WorkerMetrics | None = None,
    ) -> None:
        self.store = store
        self.objects = objects
        self.ids = ids
        self.ledger = ledger
        self.retention = retention or Retention()
        self.after_commit = after_commit
        self.metrics = metrics

    def all(self) -> list[Callable[..., object]]:
        return [self.record_run, self.store_evidence, self.complete_run, self.fail_run]

    async def _committed(self, name: str) -> None:
        if self.after_commit is not None:
            result = self.after_commit(name, _attempt())
            if result is not None:
                await result

    @activity.defn(name=RECORD_RUN)
    async def record_run(self, inp: RecordRunInput) -> bool:
        _annotate(inp.tenant, inp.run_id)
        with permanent_errors(RECORD_RUN):
            run_id = uuid.UUID(inp.run_id)
            event = OutboxEvent(
                id=self.ids.new(),
                event_type=EventType.RUN_RECORDED.value,
                tenant=inp.tenant,
                aggregate_id=run_id,
                payload={
                    "run_id": inp.run_id,
                    "tenant": inp.tenant,
                    "kind": inp.kind,
                    "requested_at": inp.requested_at,
                },
                traceparent=_traceparent(),
            )
            run = NewRun(run_id, inp.tenant, inp.kind, inp.workflow_id, datetime.fromisoformat(inp.requested_at))
            created = await self.store.record_run(run, event)
        if not created:
            log.info("run %s already recorded (attempt %s): nothing written", inp.run_id, _attempt())
        await self._committed(RECORD_RUN)
        return created

    @activity.defn(name=STORE_EVIDENCE)
    async def store_evidence(self, inp: StoreEvidenceInput) -> EvidenceRef:
        _annotate(inp.tenant, inp.run_id)
        with permanent_errors(STORE_EVIDENCE):
            document = evidence_document(inp)
        ref = ledger_ref(inp.tenant, inp.run_id)
        entry = await self.ledger.find(ref)  # a retry of an attempt that appended: nothing more to write
        if entry is None:
            lock = self.retention.lock()
            stored = await self.objects.put(  # DependencyError (the object store is away): retried
                evidence_key(inp.tenant, inp.run_id),
                document,
                content_type="application/json",
                metadata={"tenant": inp.tenant, "run-id": inp.run_id},
                lock=lock,
            )
            with permanent_errors(STORE_EVIDENCE):  # an entry the ledger cannot encode: never appendable
                new = NewEntry(
                    tenant=inp.tenant,
                    kind=EVIDENCE_ENTRY_KIND,
                    actor=ACTOR,
                    ref=ref,
                    payload_sha256=stored.sha256,
                    object_key=stored.key,
                    version_id=stored.version_id,
                    retention_class=RETENTION_CLASS,
                    retain_until=timestamp(lock.retain_until),
                    attributes={"run_id": inp.run_id, "run_kind": inp.kind},
                )
                entry = await self.ledger.append(new)  # Vault or the database away: DependencyError, retried
        else:
            log.info("run %s: evidence already in the ledger (entry %s): nothing written", inp.run_id, entry.seq)
        await self._committed(STORE_EVIDENCE)
        return EvidenceRef(
            self.ledger.bucket, entry.object_key, entry.payload_sha256, len(document), entry.version_id, entry.seq
        )

    @activity.defn(name=COMPLETE_RUN)
    async def complete_run(self, inp: FinishRunInput) -> bool:
        return await self._finish(inp, RunStatus.COMPLETED, EventType.RUN_COMPLETED, COMPLETE_RUN)

    @activity.defn(name=FAIL_RUN)
    async def fail_run(self, inp: FinishRunInput) -> bool:
        return await self._finish(inp, RunStatus.FAILED, EventType.RUN_FAILED, FAIL_RUN)

    async def _finish(self, inp: FinishRunInput, status: RunStatus, event_type: EventType, name: str) -> bool:
        _annotate(inp.tenant, inp.run_id)
        with permanent_errors(name):
            run_id = uuid.UUID(inp.run_id)
            payload: dict[str, object] = {"run_id": inp.run_id, "tenant": inp.tenant, "status": status.value}
            evidence = None
            if inp.evidence is not None:
                payload |= {"evidence_key": inp.evidence.key, "evidence_sha256": inp.evidence.sha256}
                evidence = StoredObject(inp.evidence.bucket, inp.evidence.key, inp.evidence.sha256, inp.evidence.size)
            if inp.error:
                payload["error"] = inp.error
            event = OutboxEvent(
                id=self.ids.new(),
                event_type=event_type.value,
                tenant=inp.tenant,
                aggregate_id=run_id,
                payload=payload,
                traceparent=_traceparent(),
            )
            elapsed = await self.store.finish_run(
                inp.tenant, run_id, status, event, evidence=evidence, error_message=inp.error
            )
        if elapsed is not None and self.metrics is not None:
            self.metrics.workflow_finished(WORKFLOW_NAME, status.value, elapsed)
        await self._committed(name)
        return elapsed is not None


def _attempt() -> int:
    try:
        return activity.info().attempt
    except RuntimeError:  # called outside an activity (unit tests)
        return 1
