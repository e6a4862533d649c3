"""Domain records shared by the ports, the API and the activities.

The workflow's own inputs/outputs are plain dataclasses in workflows.py (the Temporal sandbox imports that module).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

TENANT_PATTERN = r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$"
KIND_PATTERN = r"^[a-z][a-z0-9_.-]{0,62}$"


class RunStatus(StrEnum):
    PENDING = "pending"  # the workflow is started, the run is not recorded yet
    RUNNING = "running"  # recorded; evidence not stored yet
    COMPLETED = "completed"
    FAILED = "failed"


class EventType(StrEnum):
    RUN_RECORDED = "run.recorded"
    RUN_COMPLETED = "run.completed"
    RUN_FAILED = "run.failed"


@dataclass(frozen=True)
class OutboxEvent:
    """One event, written in the same transaction as the state change it announces."""

    id: uuid.UUID
    event_type: str
    tenant: str
    aggregate_id: uuid.UUID  # the run id
    payload: dict[str, Any]
    traceparent: str | None = None  # W3C trace context of the writer: the relay links its publish span to it
    created_at: datetime | None = None

    def body(self) -> str:
        return json.dumps(self.payload, sort_keys=True, separators=(",", ":"), default=str)


@dataclass(frozen=True)
class NewRun:
    id: uuid.UUID
    tenant: str
    kind: str
    workflow_id: str
    requested_at: datetime


@dataclass(frozen=True)
class RunRecord:
    id: uuid.UUID
    tenant: str
    kind: str
    status: RunStatus
    workflow_id: str
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None = None
    evidence_key: str | None = None
    evidence_sha256: str | None = None
    error_message: str | None = None  # runs.error_message (revision 0003); the API shows it as `error`


@dataclass(frozen=True)
class StoredObject:
    bucket: str
    key: str
    sha256: str
    size: int
    extra: dict[str, str] = field(default_factory=dict)
    version_id: str = ""  # the version written (a versioned bucket; every Object Lock bucket is one)


@dataclass(frozen=True)
class ObjectLock:
    """An object's retention: S3 refuses to delete or overwrite that version before `retain_until`."""

    mode: str  # COMPLIANCE | GOVERNANCE
    retain_until: datetime


@dataclass(frozen=True)
class Retention:
    """How long the runtime's evidence is locked (CONTROLPLANE_EVIDENCE_LOCK_MODE / _RETENTION_DAYS)."""

    mode: str = "COMPLIANCE"
    days: int = 1

    def lock(self, now: datetime | None = None) -> ObjectLock:
        """Until now + days, in whole seconds (what S3 keeps): the ledger entry names the object's exact date."""
        until = (now or datetime.now(UTC)) + timedelta(days=self.days)
        return ObjectLock(self.mode, until.astimezone(UTC).replace(microsecond=0))


@dataclass(frozen=True)
class KeyClaim:
    """The Idempotency-Key record that holds a key: the run it names and the request it was first used with."""

    run_id: uuid.UUID
    requested_at: datetime
    request_sha256: str
    created: bool  # True: this claim made the record (the first request); False: a replay
    started: bool  # the run's workflow was started


# ---------------------------------------------------------------- API bodies


class StartRunRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: str = Field("evidence", pattern=KIND_PATTERN, description="What the run produces; free-form, lower case.")
    evidence: dict[str, Any] = Field(
        default_factory=dict,
        description="The evidence payload, stored as JSON in the object store under a key derived from the run id.",
    )


class Links(BaseModel):
    self: str


class RunAccepted(BaseModel):
    run_id: uuid.UUID
    tenant: str
    workflow_id: str
    status: RunStatus
    links: Links


class RunView(BaseModel):
    run_id: uuid.UUID
    tenant: str
    kind: str | None = None
    status: RunStatus
    workflow_id: str
    created_at: datetime | None = None
    updated_at: datetime | None = None
    completed_at: datetime | None = None
    evidence_key: str | None = None
    evidence_sha256: str | None = None
    error: str | None = None
    source: str = Field(description="`database` (the recorded run) or `workflow` (not recorded yet)")


class CheckResult(BaseModel):
    status: str = Field(description="`ok` or `error`")
    latency_ms: float
    error: str | None = None


class Readiness(BaseModel):
    status: str = Field(description="`ready` when every dependency answered in time, else `unready`")
    checks: dict[str, CheckResult]


class Liveness(BaseModel):
    status: str = "ok"


class Problem(BaseModel):
    detail: str
